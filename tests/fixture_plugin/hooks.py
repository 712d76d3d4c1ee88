from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from pathlib import Path
from typing import Any

import pluggy
import strawberry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import Migrations, TypeFields, hookimpl
from core.context import Info
from core.errors import UserErrorCode, UserErrors
from core.mutations import in_transaction
from core.pagination import Connection, PageArgs, SortKey, paginate
from core.plugins import call_async_hook
from core.types import System
from tests.fixture_plugin import hookspecs, loaders, models
from tests.fixture_plugin.types import CreateWidgetInput, CreateWidgetPayload, Widget

LISTENER_NOTE = "created"


@strawberry.type
class FixtureQuery:
    @strawberry.field
    async def widgets(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Widget]:
        ctx = info.context
        async with ctx.db.read() as session:
            return await paginate(
                session,
                select(models.Widget),
                keys=[SortKey(models.Widget.name), SortKey(models.Widget.id)],
                args=PageArgs(first=first, after=after, last=last, before=before),
                max_page_size=ctx.settings.max_page_size,
                to_node=Widget.from_model,
                count_session=ctx.db.read,
            )


@strawberry.type
class FixtureSubscription:
    @strawberry.subscription
    async def widget_ticks(self, count: int = 3) -> AsyncGenerator[int, None]:
        for tick in range(count):
            yield tick


@strawberry.type
class FixtureMutation:
    @strawberry.mutation
    async def create_widget(self, info: Info, input: CreateWidgetInput) -> CreateWidgetPayload:
        name = input.name.strip()

        async def work(session: AsyncSession) -> models.Widget:
            if not name:
                raise UserErrors.single("name", "is required", UserErrorCode.REQUIRED)
            if len(name) > 100:
                raise UserErrors.single("name", "at most 100 characters", UserErrorCode.TOO_LONG)
            widget = models.Widget(name=name)
            session.add(widget)
            await session.flush()
            await call_async_hook(
                info.context.pm.hook.crm_fixture_widget_created, session=session, widget=widget
            )
            if input.fail_listener:
                raise RuntimeError("listener failure requested by the test")
            return widget

        widget, errors = await in_transaction(info, work)
        return CreateWidgetPayload(
            widget=Widget.from_model(widget) if widget else None, errors=errors
        )


async def system_widget_count(root: System, info: Info) -> int:
    async with info.context.db.read() as session:
        return await loaders.widget_count(session)


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
        )
    ]


@hookimpl
def crm_fixture_widget_created(session: AsyncSession, widget: models.Widget) -> None:
    session.add(models.WidgetNote(widget_id=widget.id, body=LISTENER_NOTE))


@hookimpl
async def crm_demo_data(session: AsyncSession, size: int) -> None:
    session.add_all(models.Widget(name=f"Demo widget {n}") for n in range(1, size + 1))
    await session.flush()
