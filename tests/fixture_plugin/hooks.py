from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy
import strawberry
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import AccessPolicy, Grant, Migrations, Permission, Scope, TypeFields, hookimpl
from core.access import require, requires
from core.catalog import CUSTOMER_MANAGER, SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from core.context import Info
from core.errors import UserError, UserErrorCode, UserErrors
from core.host import call_in_turn
from core.identity.types import User
from core.mutations import mutate
from core.ordering import SortKey
from core.pagination import Connection, PageArgs
from core.types import System
from tests.fixture_plugin import hookspecs, loaders, models
from tests.fixture_plugin.types import CreateWidgetInput, CreateWidgetPayload, Widget

LISTENER_NOTE = "created"


@strawberry.type
class FixtureQuery:
    @strawberry.field(extensions=requires("widgets:read"))
    async def widgets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Widget] | None:
        ctx = info.context
        return await ctx.page(
            select(models.Widget).where(ctx.visible("widgets:read")),
            keys=[SortKey(models.Widget.name), SortKey(models.Widget.id)],
            args=PageArgs(first=first, after=after, last=last, before=before),
            to_node=Widget.from_model,
        )


@strawberry.type
class FixtureSubscription:
    @strawberry.subscription
    async def widget_ticks(self, count: int = 3) -> AsyncGenerator[int, None]:
        for tick in range(count):
            yield tick


@strawberry.type
class FixtureMutation:
    @strawberry.mutation(extensions=requires("widgets:write"))
    async def create_widget(
        self, info: Info, input: CreateWidgetInput
    ) -> CreateWidgetPayload | None:
        name = input.name.strip()
        caller = require(info.context)

        async def work(session: AsyncSession) -> models.Widget:
            if not name:
                raise UserErrors.single("name", "is required", UserErrorCode.REQUIRED)
            if len(name) > 100:
                raise UserErrors.single("name", "at most 100 characters", UserErrorCode.TOO_LONG)
            widget = models.Widget(name=name, owner_id=caller.user_id)
            session.add(widget)
            await session.flush()
            await call_in_turn(
                info.context.pm.hook.crm_fixture_widget_created, session=session, widget=widget
            )
            if input.fail_listener:
                raise RuntimeError("listener failure requested by the test")
            return widget

        return await mutate(info, work, _widget_payload)


def _widget_payload(row: models.Widget | None, errors: list[UserError]) -> CreateWidgetPayload:
    return CreateWidgetPayload(widget=Widget.from_model(row) if row else None, errors=errors)


async def system_widget_count(root: System, info: Info) -> int:
    async with info.context.db.read() as session:
        return await loaders.widget_count(session, info.context.visible("widgets:read"))


async def user_widgets(root: User, info: Info) -> list[Widget]:
    rows = await info.context.loader(loaders.WidgetsByOwnerLoader).load(root.id)
    return [Widget.from_model(row) for row in rows]


def _widgets_owned_by(ids: Any) -> ColumnElement[bool]:
    return models.Widget.owner_id.in_(ids)


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="fixture",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="tests.fixture_plugin",
    )


@hookimpl
def crm_graphql_query() -> type[Any]:
    return FixtureQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return FixtureMutation


@hookimpl
def crm_graphql_subscription() -> type[Any]:
    return FixtureSubscription


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [Widget]


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    return [
        TypeFields(
            target=System,
            fields={"widget_count": strawberry.field(resolver=system_widget_count)},
        ),
        TypeFields(
            target=User,
            fields={"widgets": strawberry.field(resolver=user_widgets)},
        ),
    ]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return [
        Permission("widgets:read", "See widgets."),
        Permission("widgets:write", "Create widgets."),
    ]


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return {
        SALES_REPRESENTATIVE: [Grant("widgets:read", Scope.OWN), Grant("widgets:write")],
        CUSTOMER_MANAGER: [Grant("widgets:read", Scope.TEAM)],
        SUPPORT_REPRESENTATIVE: [Grant("widgets:read", Scope.ALL)],
    }


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    return [AccessPolicy("widgets", _widgets_owned_by)]


@hookimpl
def crm_fixture_widget_created(session: AsyncSession, widget: models.Widget) -> None:
    session.add(models.WidgetNote(widget_id=widget.id, body=LISTENER_NOTE))


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int) -> None:
    session.add_all(models.Widget(name=f"Demo widget {n}") for n in range(1, size + 1))
    await session.flush()
