"""Root mutation fields of identity and access, and their small helpers."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit as audit_log
from core.access import actor_of, require, requires
from core.context import Info
from core.errors import UserErrorCode, UserErrors
from core.i18n import _
from core.identity import auth, models, service
from core.identity.inputs import (
    AssignRolesInput,
    CreateApiTokenInput,
    CreateRoleInput,
    CreateTeamInput,
    CreateUserInput,
    DeactivateUserInput,
    DeleteRoleInput,
    LoginInput,
    LogoutInput,
    RefreshTokenInput,
    RevokeApiTokenInput,
    SetUserPasswordInput,
    UpdateMyPreferencesInput,
    UpdateRoleInput,
    UpdateTeamInput,
    UpdateUserInput,
)
from core.identity.payloads import (
    AssignRolesPayload,
    CreateApiTokenPayload,
    CreateRolePayload,
    CreateTeamPayload,
    CreateUserPayload,
    DeactivateUserPayload,
    DeleteRolePayload,
    LoginPayload,
    LogoutPayload,
    RefreshTokenPayload,
    RevokeApiTokenPayload,
    SetUserPasswordPayload,
    UpdateMyPreferencesPayload,
    UpdateRolePayload,
    UpdateTeamPayload,
    UpdateUserPayload,
)
from core.mutations import mutate
from core.validation import Check
from core.zones import switch_zone, zone, zone_name


def _answer_in_zone_of(info: Info, time_zone: str | None) -> None:
    """Write the rest of this answer in the zone of the user it is about (signing in, or
    changing their zone): their own, else the deployment's."""
    name = zone_name(time_zone)
    switch_zone(zone(name) if name else info.context.settings.zone)


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(description="Sign in with email and password.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload | None:
        ctx = info.context
        try:
            issued = await auth.login(
                ctx.db,
                ctx.settings,
                input.email,
                input.password,
                client_address=ctx.client_address,
                request_id=ctx.request_id,
                now=ctx.now(),
            )
        except UserErrors as exc:
            return LoginPayload.of(None, exc.errors)
        _answer_in_zone_of(info, issued.user.time_zone)
        return LoginPayload.of(issued, [])

    @strawberry.mutation(description="Trade a refresh token for new tokens (it is used up).")
    async def refresh_token(
        self, info: Info, input: RefreshTokenInput
    ) -> RefreshTokenPayload | None:
        ctx = info.context
        try:
            issued = await auth.refresh(
                ctx.db,
                ctx.settings,
                input.refresh_token,
                client_address=ctx.client_address,
                request_id=ctx.request_id,
                now=ctx.now(),
            )
        except UserErrors as exc:
            return RefreshTokenPayload.of(None, exc.errors)
        _answer_in_zone_of(info, issued.user.time_zone)
        return RefreshTokenPayload.of(issued, [])

    @strawberry.mutation(description="End a session: its refresh and access tokens stop working.")
    async def logout(self, info: Info, input: LogoutInput | None = None) -> LogoutPayload | None:
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
                    _("is required when not signed in with a session"),
                    UserErrorCode.REQUIRED,
                )
            revoked = await auth.revoke_session(session, session_id, "logout", info.context.now())
            if revoked:
                actor = actor_of(ctx)
                if actor.user_id is None:
                    actor = audit_log.Actor(
                        user_id=user_id,
                        client_address=actor.client_address,
                        request_id=actor.request_id,
                        at=actor.at,
                    )
                audit_log.record(session, actor, "session.logged_out", "User", user_id)
            return revoked

        return await mutate(info, work, LogoutPayload.of)

    @strawberry.mutation(extensions=requires())
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload | None:
        async def work(session: AsyncSession) -> service.NewApiToken:
            return await service.create_api_token(
                session, info.context, input.name, input.expires_at, input.permissions
            )

        return await mutate(info, work, CreateApiTokenPayload.of)

    @strawberry.mutation(extensions=requires())
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload | None:
        async def work(session: AsyncSession) -> models.ApiToken:
            check = Check()
            token_id = check.node_id("id", input.id, "ApiToken")
            check.done()
            return await service.revoke_api_token(session, info.context, token_id)

        return await mutate(info, work, RevokeApiTokenPayload.of)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def create_user(self, info: Info, input: CreateUserInput) -> CreateUserPayload | None:
        # Hashed before the transaction opens (and off the event loop).
        password_hash = await service.hash_ahead(info.context.settings, input.password)

        async def work(session: AsyncSession) -> models.User:
            check = Check()
            new = service.NewUser(
                email=input.email,
                name=input.name,
                password=input.password,
                password_hash=password_hash,
                team_id=check.node_id("teamId", input.team_id, "Team"),
                role_ids=check.node_ids("roleIds", input.role_ids, "Role"),
                active=input.active,
            )
            return await service.create_user(session, info.context, new, check=check)

        return await mutate(info, work, CreateUserPayload.of)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def update_user(self, info: Info, input: UpdateUserInput) -> UpdateUserPayload | None:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("id", input.id, "User")
            changes: dict[str, Any] = {}
            for name in ("email", "name", "active", "locale", "time_zone"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    changes[name] = value
            if input.team_id is not strawberry.UNSET:
                changes["team_id"] = check.node_id("teamId", input.team_id, "Team")
            check.done()
            return await service.update_user(session, info.context, user_id, input.version, changes)

        return await mutate(info, work, UpdateUserPayload.of)

    @strawberry.mutation(
        description="Set your own locale and time zone (null: the deployment's). Date-times "
        "are written in your time zone from this answer on.",
        extensions=requires(),
    )
    async def update_my_preferences(
        self, info: Info, input: UpdateMyPreferencesInput
    ) -> UpdateMyPreferencesPayload | None:
        async def work(session: AsyncSession) -> models.User:
            changes: dict[str, Any] = {}
            for name in ("locale", "time_zone"):
                value = getattr(input, name)
                if value is not strawberry.UNSET:
                    changes[name] = value
            return await service.update_my_preferences(session, info.context, changes)

        payload = await mutate(info, work, UpdateMyPreferencesPayload.of)
        if payload is not None and payload.user is not None:
            _answer_in_zone_of(info, payload.user.time_zone)
        return payload

    @strawberry.mutation(extensions=requires("users:manage"))
    async def deactivate_user(
        self, info: Info, input: DeactivateUserInput
    ) -> DeactivateUserPayload | None:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("id", input.id, "User")
            check.done()
            return await service.deactivate_user(session, info.context, user_id, input.version)

        return await mutate(info, work, DeactivateUserPayload.of)

    @strawberry.mutation(
        description="Change your own password (with the current one), or, with users:manage, "
        "another user's. The user's other sessions end.",
        extensions=requires(),
    )
    async def set_user_password(
        self, info: Info, input: SetUserPasswordInput
    ) -> SetUserPasswordPayload | None:
        check = Check()
        user_id = check.node_id("userId", input.user_id, "User")
        try:
            check.done()
            # argon2's work (checking the current password, hashing the new one) runs
            # before the transaction opens, off the event loop.
            prepared = await service.prepare_password_change(
                info.context, user_id, input.password, input.current_password
            )
        except UserErrors as exc:
            return SetUserPasswordPayload.of(None, exc.errors)

        async def work(session: AsyncSession) -> models.User:
            return await service.set_user_password(
                session, info.context, user_id, input.password, input.current_password, prepared
            )

        return await mutate(info, work, SetUserPasswordPayload.of)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def assign_roles(self, info: Info, input: AssignRolesInput) -> AssignRolesPayload | None:
        async def work(session: AsyncSession) -> models.User:
            check = Check()
            user_id = check.node_id("userId", input.user_id, "User")
            role_ids = check.node_ids("roleIds", input.role_ids, "Role")
            check.done()
            return await service.assign_roles(session, info.context, user_id, role_ids)

        return await mutate(info, work, AssignRolesPayload.of)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def create_team(self, info: Info, input: CreateTeamInput) -> CreateTeamPayload | None:
        async def work(session: AsyncSession) -> models.Team:
            return await service.create_team(session, info.context, input.name)

        return await mutate(info, work, CreateTeamPayload.of)

    @strawberry.mutation(extensions=requires("users:manage"))
    async def update_team(self, info: Info, input: UpdateTeamInput) -> UpdateTeamPayload | None:
        async def work(session: AsyncSession) -> models.Team:
            check = Check()
            team_id = check.node_id("id", input.id, "Team")
            check.done()
            return await service.update_team(
                session, info.context, team_id, input.version, input.name
            )

        return await mutate(info, work, UpdateTeamPayload.of)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def create_role(self, info: Info, input: CreateRoleInput) -> CreateRolePayload | None:
        async def work(session: AsyncSession) -> models.Role:
            grants = [service.GrantInput(g.permission, g.scope) for g in input.grants]
            return await service.create_role(
                session, info.context, input.name, input.key, input.description, grants
            )

        return await mutate(info, work, CreateRolePayload.of)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def update_role(self, info: Info, input: UpdateRoleInput) -> UpdateRolePayload | None:
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

        return await mutate(info, work, UpdateRolePayload.of)

    @strawberry.mutation(extensions=requires("roles:manage"))
    async def delete_role(self, info: Info, input: DeleteRoleInput) -> DeleteRolePayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            role_id = check.node_id("id", input.id, "Role")
            check.done()
            return await service.delete_role(session, info.context, role_id, input.version)

        return await mutate(
            info,
            work,
            lambda affected, errors: DeleteRolePayload.of(affected, errors, role_id=input.id),
            conflict=lambda current, errors: DeleteRolePayload.of(
                None, errors, role_id=input.id, current=current
            ),
        )
