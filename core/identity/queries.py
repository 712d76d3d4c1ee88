"""Root query fields of identity, access and audit."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import or_, select

from core import audit as audit_log
from core.access import require, requires
from core.catalog import catalog_for
from core.context import Info
from core.errors import bad_argument
from core.i18n import _
from core.identity import models
from core.identity.inputs import (
    AuditEventFilter,
    AuditEventOrder,
    AuditEventOrderField,
    TeamOrder,
    TeamOrderField,
    UserFilter,
    UserOrder,
    UserOrderField,
)
from core.identity.types import ApiToken, AuditEvent, PermissionInfo, Role, Team, User
from core.ordering import ORDER_BY_HELP, ListOrder
from core.pagination import Connection, PageArgs
from core.types import in_range
from core.validation import MAX_SEARCH_LENGTH, argument_id, like_pattern, search_text

USER_ORDER = ListOrder(
    {
        UserOrderField.NAME: models.User.name,
        UserOrderField.EMAIL: models.User.email,
        UserOrderField.CREATED_AT: models.User.created_at,
        UserOrderField.LAST_LOGIN_AT: models.User.last_login_at,
    },
    models.User.id,
    default=[(UserOrderField.NAME, False)],
    nullable=[UserOrderField.LAST_LOGIN_AT],
)
"""User lists' orderings: by name unless ``orderBy`` says otherwise; users who never signed
in come after the others by LAST_LOGIN_AT."""

TEAM_ORDER = ListOrder(
    {TeamOrderField.NAME: models.Team.name_key, TeamOrderField.CREATED_AT: models.Team.created_at},
    models.Team.id,
    default=[(TeamOrderField.NAME, False)],
)
"""Team lists' orderings: by name (any case) unless ``orderBy`` says otherwise."""

AUDIT_EVENT_ORDER = ListOrder(
    {AuditEventOrderField.OCCURRED_AT: audit_log.AuditEvent.occurred_at},
    audit_log.AuditEvent.id,
    default=[(AuditEventOrderField.OCCURRED_AT, True)],
)
"""The audit trail's orderings: newest first unless ``orderBy`` says otherwise."""


@strawberry.type
class IdentityQuery:
    @strawberry.field(description="The signed-in user.", extensions=requires())
    async def viewer(self, info: Info) -> User | None:
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
        order_by: Annotated[
            list[UserOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User] | None:
        statement = select(models.User).where(info.context.visible("users:read"))
        if filter is not None:
            text = search_text(filter.search)
            if text:
                pattern = like_pattern(text)
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
        keys = USER_ORDER.keys(order_by)
        return await info.context.page(
            statement, keys=keys, args=PageArgs(first, after, last, before), to_node=User.from_model
        )

    @strawberry.field(description="Teams the caller may see.", extensions=requires("users:read"))
    async def teams(
        self,
        info: Info,
        order_by: Annotated[
            list[TeamOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Team] | None:
        statement = select(models.Team).where(info.context.visible("users:read", "teams"))
        keys = TEAM_ORDER.keys(order_by)
        return await info.context.page(
            statement, keys=keys, args=PageArgs(first, after, last, before), to_node=Team.from_model
        )

    @strawberry.field(description="Every role, built-in first.", extensions=requires())
    async def roles(self, info: Info) -> list[Role] | None:
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
    def permissions(self, info: Info) -> list[PermissionInfo] | None:
        catalog = catalog_for(info.context.pm)
        return [
            PermissionInfo(name=p.name, description=p.description, module=p.module)
            for p in sorted(catalog.permissions.values(), key=lambda p: p.name)
        ]

    @strawberry.field(description="The caller's API tokens.", extensions=requires())
    async def api_tokens(self, info: Info, include_revoked: bool = False) -> list[ApiToken] | None:
        caller = require(info.context)
        statement = select(models.ApiToken).where(models.ApiToken.user_id == caller.user_id)
        if not include_revoked:
            statement = statement.where(models.ApiToken.revoked_at.is_(None))
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement.order_by(models.ApiToken.id.desc()))).all()
        return [ApiToken.from_model(row) for row in rows]

    @strawberry.field(
        description="The audit trail, newest first unless orderBy says otherwise.",
        extensions=requires("audit:read"),
    )
    async def audit_events(
        self,
        info: Info,
        filter: AuditEventFilter | None = None,
        order_by: Annotated[
            list[AuditEventOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEvent] | None:
        event = audit_log.AuditEvent
        statement = select(event).where(info.context.visible("audit:read"))
        if filter is not None:
            if filter.action and len(filter.action) > MAX_SEARCH_LENGTH:
                raise bad_argument(
                    "filter.action",
                    _(
                        "must be at most {max} characters",
                        max=MAX_SEARCH_LENGTH,
                    ),
                )
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
            statement = statement.where(
                *in_range(event.occurred_at, filter.occurred, "filter.occurred")
            )
        keys = AUDIT_EVENT_ORDER.keys(order_by)
        return await info.context.page(
            statement,
            keys=keys,
            args=PageArgs(first, after, last, before),
            to_node=AuditEvent.from_model,
        )
