"""Shared fixtures: a real database per test (SQLite file; PostgreSQL when configured).

``CRM_TEST_POSTGRES_URL`` names a PostgreSQL server where the tests may create databases
(the database in the URL is only used to connect); each test that needs one creates
``crm_test_<random>`` and drops it afterwards. Without it, PostgreSQL cases are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from core.config import Settings, load_settings
from core.db import Database
from core.plugins import CRMPluginManager, build_plugin_manager
from tests import fixture_plugin

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL", "")
FIXTURE = {"fixture": fixture_plugin.plugin}
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
    ),
]


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """Create a fresh PostgreSQL database and drop it afterwards; yields its async URL."""
    server = make_url(POSTGRES_URL)
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str) -> Callable[..., Settings]:
    def make(plugins: Sequence[str] = ("fixture",), **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "plugins": ",".join(plugins),
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def plugin_manager(settings: Settings) -> CRMPluginManager:
    return build_plugin_manager(
        settings.enabled_plugins, load_entrypoints=False, extra_plugins=FIXTURE
    )


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    await database.dispose()


class StatementCounter:
    """Counts SQL statements sent through an engine while it is active."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2]))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


@pytest.fixture
def count_statements() -> Iterator[Callable[[Database], StatementCounter]]:
    attached: list[tuple[Any, StatementCounter]] = []

    def attach(database: Database) -> StatementCounter:
        counter = StatementCounter()
        event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
        attached.append((database.engine.sync_engine, counter))
        return counter

    yield attach
    for engine, counter in attached:
        event.remove(engine, "before_cursor_execute", counter)


class Api:
    """An HTTP client for the app plus a GraphQL helper."""

    def __init__(self, app: Starlette, client: httpx.AsyncClient, database: Database) -> None:
        self.app = app
        self.client = client
        self.db = database

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@asynccontextmanager
async def running_app(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Api]:
    """The real ASGI app (lifespan included) over an in-process HTTP client."""
    from core import app as core_app
    from core import migrate as migrations
    from schema.builder import build_schema

    pm = plugin_manager(settings)
    database = Database(settings.resolved_database_url)
    if migrate:
        await migrations.upgrade(database, pm)
    app = core_app.create_app(
        settings=settings, pm=pm, db=database, schema=build_schema(pm, settings)
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(app, client, database)


@pytest.fixture
def api_factory() -> Callable[..., Any]:
    return running_app


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with running_app(settings) as client:
        yield client


Gql = Callable[..., Awaitable[dict[str, Any]]]
