"""Root query and mutation fields of identity, access and audit."""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core import audit as audit_log
from core.access import actor_of, require, requires
from core.catalog import catalog_for
from core.context import Info
from core.db import utcnow
from core.errors import UserErrorCode, UserErrors
from core.identity import auth, models, service
from core.identity.types import (
    ApiToken,
    AssignRolesInput,
    AssignRolesPayload,
    AuditEvent,
    AuditEventFilter,
    CreateApiTokenInput,
    CreateApiTokenPayload,
    CreateRoleInput,
    CreateRolePayload,
    CreateTeamInput,
    CreateTeamPayload,
    CreateUserInput,
    CreateUserPayload,
    DeactivateUserInput,
    DeactivateUserPayload,
    DeleteRoleInput,
    DeleteRolePayload,
    LoginInput,
    LoginPayload,
    LogoutInput,
    LogoutPayload,
    PermissionInfo,
    RefreshTokenInput,
    RefreshTokenPayload,
    RevokeApiTokenInput,
    RevokeApiTokenPayload,
    Role,
    SetUserPasswordInput,
    SetUserPasswordPayload,
    Team,
    UpdateRoleInput,
    UpdateRolePayload,
    UpdateTeamInput,
    UpdateTeamPayload,
    UpdateUserInput,
    UpdateUserPayload,
    User,
    UserFilter,
    UserOrder,
    UserOrderField,
)
from core.mutations import in_transaction
from core.pagination import Connection, OrderDirection, PageArgs, SortKey
from core.validation import Check, argument_id, like_pattern

N = TypeVar("N", bound=relay.Node)

USER_ORDER_COLUMNS: dict[UserOrderField, Any] = {
    UserOrderField.NAME: models.User.name,
    UserOrderField.EMAIL: models.User.email,
    UserOrderField.CREATED_AT: models.User.created_at,
}


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The signed-in user.", extensions=requires())
    async def viewer(self, info: Info) -> User:
        caller = require(info.context)
        async with info.context.db.read() as session:
            row = await session.get(models.User, caller.user_id)
        assert row is not None
        return User.from_model(row)

    @strawberry.field(description="Users the caller may see.", extensions=requires("users:read"))
    async def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        order_by: UserOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        statement = select(models.User).where(info.context.visible("users:read"))
        if filter is not None:
            if filter.search and filter.search.strip():
                pattern = like_pattern(filter.search.strip())
                statement = statement.where(
                    or_(
                        models.User.name.ilike(pattern, escape="\\"),
                        models.User.email.ilike(pattern, escape="\\"),
                    )
                )
            if filter.active is not None:
                statement = statement.where(models.User.is_active.is_(filter.active))
            team_id = argument_id(filter.team_id, "Team", "filter.teamId")
            if team_id is not None:
                statement = statement.where(models.User.team_id == team_id)
            role_id = argument_id(filter.role_id, "Role", "filter.roleId")
            if role_id is not None:
                statement = statement.where(
                    models.User.id.in_(
                        select(models.UserRole.user_id).where(models.UserRole.role_id == role_id)
                    )
                )
        order = order_by or UserOrder()
        descending = order.direction == OrderDirection.DESC
        keys = [SortKey(models.User.id, descending)]
        if order.field in USER_ORDER_COLUMNS:
            keys.insert(0, SortKey(USER_ORDER_COLUMNS[order.field], descending))
        elif order.field == UserOrderField.LAST_LOGIN_AT:
            keys.insert(0, SortKey(models.User.last_login_at, descending))
            statement = statement.where(models.User.last_login_at.is_not(None))
        return await info.context.page(
            statement, keys=keys, args=PageArgs(first, after, last, before), to_node=User.from_model
        )

    @strawberry.field(description="Teams the caller may see.", extensions=requires("users:read"))
    async def teams(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Team]:
        statement = select(models.Team).where(info.context.visible("users:read", "teams"))
        keys = [SortKey(models.Team.name_key), SortKey(models.Team.id)]
        return await info.context.page(
            statement, keys=keys, args=PageArgs(first, after, last, before), to_node=Team.from_model
        )

    @strawberry.field(description="Every role, built-in first.", extensions=requires())
    async def roles(self, info: Info) -> list[Role]:
        async with info.context.db.read() as session:
            rows = (
                await session.scalars(
                    select(models.Role).order_by(models.Role.builtin.desc(), models.Role.key)
                )
            ).all()
        return [Role.from_model(row) for row in rows]

    @strawberry.field(
        description="Every permission the enabled modules declare.", extensions=requires()
    )
    def permissions(self, info: Info) -> list[PermissionInfo]:
        catalog = catalog_for(info.context.pm)
        return [
            PermissionInfo(name=p.name, description=p.description, module=p.module)
            for p in sorted(catalog.permissions.values(), key=lambda p: p.name)
        ]

    @strawberry.field(description="The caller's API tokens.", extensions=requires())
    async def api_tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken]:
        caller = require(info.context)
        statement = select(models.ApiToken).where(models.ApiToken.user_id == caller.user_id)
        if not include_revoked:
            statement = statement.where(models.ApiToken.revoked_at.is_(None))
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement.order_by(models.ApiToken.id.desc()))).all()
        return [ApiToken.from_model(row) for row in rows]

    @strawberry.field(
        description="The audit trail, newest first.", extensions=requires("audit:read")
    )
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEvent]:
        event = audit_log.AuditEvent
        statement = select(event).where(info.context.visible("audit:read"))
        if filter is not None:
            if filter.action:
                if filter.action.endswith("."):
                    statement = statement.where(event.action.startswith(filter.action))
                else:
                    statement = statement.where(event.action == filter.action)
            if filter.entity_type:
                statement = statement.where(event.entity_type == filter.entity_type)
            if filter.entity_id is not None:
                statement = statement.where(
                    event.entity_type == filter.entity_id.type_name,
                    event.entity_id == filter.entity_id.node_id,
                )
            actor_id = argument_id(filter.actor_id, "User", "filter.actorId")
            if actor_id is not None:
                statement = statement.where(event.actor_id == actor_id)
            if filter.occurred_after is not None:
                statement = statement.where(event.occurred_at >= filter.occurred_after)
            if filter.occurred_before is not None:
                statement = statement.where(event.occurred_at < filter.occurred_before)
        keys = [SortKey(event.occurred_at, True), SortKey(event.id, True)]
        return await info.context.page(
            statement,
            keys=keys,
            args=PageArgs(first, after, last, before),
            to_node=AuditEvent.from_model,
        )


def _client(info: Info) -> dict[str, str | None]:
    return {"client_address": info.context.client_address, "request_id": info.context.request_id}


def _user_payload(cls: type[Any], row: models.User | None, errors: list[Any]) -> Any:
    return cls(user=User.from_model(row) if row else None, errors=errors)


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        ctx = info.context
        try:
            issued = await auth.login(
                ctx.db, ctx.settings, input.email, input.password, **_client(info)
            )
        except UserErrors as exc:
            return LoginPayload(errors=exc.errors)
        return LoginPayload(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            user=User.from_model(issued.user),
        )

    @strawberry.mutation(description="Trade a refresh token for new tokens (it is used up).")
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> RefreshTokenPayload:
        ctx = info.context
        try:
            issued = await auth.refresh(ctx.db, ctx.settings, input.refresh_token, **_client(info))
        except UserErrors as exc:
            return RefreshTokenPayload(errors=exc.errors)
        return RefreshTokenPayload(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            user=User.from_model(issued.user),
        )

    @strawberry.mutation(description="End a session: its refresh and access tokens stop working.")
    async def logout(self, info: Info, input: LogoutInput | None = None) -> LogoutPayload:
        ctx = info.context
        refresh_token = input.refresh_token if input else None

        async def work(session: AsyncSession) -> bool:
            session_id: str | None = None
            user_id: int | None = None
            if refresh_token:
                found = await auth.session_of_refresh_token(session, refresh_token)
                if found is None:
                    raise UserErrors.single(
                        "refreshToken", auth.INVALID_REFRESH, UserErrorCode.INVALID
                    )
                session_id, user_id = found.id, found.user_id
            elif ctx.caller is not None and ctx.caller.session_id is not None:
                session_id, user_id = ctx.caller.session_id, ctx.caller.user_id
            else:
                require(ctx)
                raise UserErrors.single(
                    "refreshToken",
                    "is required when not signed in with a session",
                    UserErrorCode.REQUIRED,
                )
            revoked = await auth.revoke_session(session, session_id, "logout", utcnow())
            if revoked:
                actor = actor_of(ctx)
                if actor.user_id is None:
                    actor = audit_log.Actor(
                        user_id=user_id,
                        client_address=actor.client_address,
                        request_id=actor.request_id,
                    )
                audit_log.record(session, actor, "session.logged_out", "User", user_id)
            return revoked

        revoked, errors = await in_transaction(info, work)
        return LogoutPayload(revoked=bool(revoked), errors=errors)

    @strawberry.mutation(extensions=requires())
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        async def work(session: AsyncSession) -> service.NewApiToken:
            return await service.create_api_token(
                session, info.context, input.name, input.expires_at, input.permissions
            )

        created, errors = await in_transaction(info, work)
        return CreateApiTokenPayload(
            api_token=ApiToken.from_model(created.token) if created else None,
            secret=created.secret if created else None,
            errors=errors,
        )

    @strawberry.mutation(extensions=requires())
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        async def work(session: AsyncSession) -> models.ApiToken:
            check = Check()
            token_id = check.node_id("id", input.id, "ApiToken")
            check.done()
            return await service.revoke_api_token(session, info.context, token_id)

        token, errors = await in_transaction(info, work)
        return RevokeApiTokenPayload(
            api_token=ApiToken.from_model(token) if token else None, errors=errors
        )

    @strawberry.mutation(extensions=requires("users:manage"))
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            new = service.NewUser(
                email=input.email,
                name=input.name,
                password=input.password,
                team_id=check.node_id("teamId", input.team_id, "Team"),
                role_ids=check.node_ids("roleIds", input.role_ids, "Role"),
                active=input.active,
            )
            return await service.create_user(session, info.context, new, check=check)

        row, errors = await in_transaction(info, work)
        return _user_payload(CreateUserPayload, row, errors)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("users:manage"))
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserPayload:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("id", input.id, "User")
            changes: dict[str, Any] = {}
            for name in ("email", "name", "active"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    changes[name] = value
            if input.team_id is not strawberry.UNSET:
                changes["team_id"] = check.node_id("teamId", input.team_id, "Team")
            check.done()
            return await service.update_user(session, info.context, user_id, input.version, changes)

        row, errors = await in_transaction(info, work)
        return _user_payload(UpdateUserPayload, row, errors)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("users:manage"))
    async def deactivate_user(
        self, info: Info, input: DeactivateUserInput
    ) -> DeactivateUserPayload:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("id", input.id, "User")
            check.done()
            return await service.deactivate_user(session, info.context, user_id, input.version)

        row, errors = await in_transaction(info, work)
        return _user_payload(DeactivateUserPayload, row, errors)  # type: ignore[no-any-return]

    @strawberry.mutation(
        description="Change your own password (with the current one), or, with users:manage, "
        "another user's. The user's other sessions end.",
        extensions=requires(),
    )
    async def set_user_password(
        self, info: Info, input: SetUserPasswordInput
    ) -> SetUserPasswordPayload:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("userId", input.user_id, "User")
            check.done()
            return await service.set_user_password(
                session, info.context, user_id, input.password, input.current_password
            )

        row, errors = await in_transaction(info, work)
        return _user_payload(SetUserPasswordPayload, row, errors)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("users:manage"))
    async def assign_roles(self, info: Info, input: AssignRolesInput) -> AssignRolesPayload:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("userId", input.user_id, "User")
            role_ids = check.node_ids("roleIds", input.role_ids, "Role")
            check.done()
            return await service.assign_roles(session, info.context, user_id, role_ids)

        row, errors = await in_transaction(info, work)
        return _user_payload(AssignRolesPayload, row, errors)  # type: ignore[no-any-return]

    @strawberry.mutation(extensions=requires("users:manage"))
    async def create_team(self, info: Info, input: CreateTeamInput) -> CreateTeamPayload:
        async def work(session: AsyncSession) -> models.Team:
            return await service.create_team(session, info.context, input.name)

        row, errors = await in_transaction(info, work)
        return CreateTeamPayload(team=Team.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def update_team(self, info: Info, input: UpdateTeamInput) -> UpdateTeamPayload:
        async def work(session: AsyncSession) -> models.Team:
            check = Check()
            team_id = check.node_id("id", input.id, "Team")
            check.done()
            return await service.update_team(
                session, info.context, team_id, input.version, input.name
            )

        row, errors = await in_transaction(info, work)
        return UpdateTeamPayload(team=Team.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def create_role(self, info: Info, input: CreateRoleInput) -> CreateRolePayload:
        async def work(session: AsyncSession) -> models.Role:
            grants = [service.GrantInput(g.permission, g.scope) for g in input.grants]
            return await service.create_role(
                session, info.context, input.name, input.key, input.description, grants
            )

        row, errors = await in_transaction(info, work)
        return CreateRolePayload(role=Role.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def update_role(self, info: Info, input: UpdateRoleInput) -> UpdateRolePayload:
        async def work(session: AsyncSession) -> models.Role:
            check = Check()
            role_id = check.node_id("id", input.id, "Role")
            check.done()
            changes: dict[str, Any] = {}
            if input.name is not strawberry.UNSET:
                changes["name"] = input.name
            if input.description is not strawberry.UNSET:
                changes["description"] = input.description
            if input.grants is not strawberry.UNSET:
                changes["grants"] = [
                    service.GrantInput(g.permission, g.scope) for g in input.grants or []
                ]
            return await service.update_role(session, info.context, role_id, input.version, changes)

        row, errors = await in_transaction(info, work)
        return UpdateRolePayload(role=Role.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def delete_role(self, info: Info, input: DeleteRoleInput) -> DeleteRolePayload:
        async def work(session: AsyncSession) -> int:
            check = Check()
            role_id = check.node_id("id", input.id, "Role")
            check.done()
            return await service.delete_role(session, info.context, role_id, input.version)

        affected, errors = await in_transaction(info, work)
        return DeleteRolePayload(
            deleted_role_id=input.id if not errors else None,
            affected_users=affected or 0,
            errors=errors,
        )
