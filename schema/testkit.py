"""The test kit: a pytest plugin installed with the package (entry point ``pytest11``).

A plugin author's tests get, with nothing copied: the real app in process over an HTTP
client (``api``), users in each built-in role signed in through the API (``api.as_role``),
a real database per test (SQLite file; PostgreSQL too when ``CRM_TEST_POSTGRES_URL`` names a
server where tests may create databases), a statement counter, the controllable clock, and
migrations up and down. Which plugins are enabled is a fixture the author overrides::

    # conftest.py of a plugin package
    import pytest

    @pytest.fixture
    def crm_plugins() -> tuple[str, ...]:
        return ("warranty",)

Migrations run once per session for each set of enabled modules: ``migrate_up`` (so
``migrated_db``, ``api`` and ``running_app``) makes a test's untouched database a copy of
that migrated template, with the same tables and rows as migrating it would give. A
database that already holds tables, or that is migrated through ``core.migrate`` or
``crm migrate``, is migrated step by step (:mod:`schema.testkit_templates`).

Turn the kit off with ``-p no:crm``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette
from strawberry import relay

from core import app as core_app
from core import migrate as migrations
from core.background import JobRunner
from core.catalog import BUILTIN_ROLE_KEYS
from core.config import Settings, load_settings
from core.db import Database, utcnow
from core.host import CRMPluginManager
from core.outbox import OutboxWorker
from core.schedule import Scheduler
from schema import testkit_templates
from schema.builder import build_schema, non_null_root_fields
from schema.modules import build_plugin_manager
from schema.testkit_tools import DEFAULT_PASSWORD as DEFAULT_PASSWORD
from schema.testkit_tools import POSTGRES_URL as POSTGRES_URL
from schema.testkit_tools import CommandLine as CommandLine
from schema.testkit_tools import FakeClock as FakeClock
from schema.testkit_tools import StatementCounter as StatementCounter
from schema.testkit_tools import _schema_for, sign_in_without_password
from schema.testkit_tools import assert_catalog_complete as assert_catalog_complete
from schema.testkit_tools import make_user as make_user
from schema.testkit_tools import model_drift as model_drift
from schema.testkit_tools import postgres_database as postgres_database
from schema.testkit_tools import run_periodic_jobs as run_periodic_jobs

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="CRM_TEST_POSTGRES_URL not set"),
    ),
]
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken accessTokenExpiresAt
    user { id email }
    errors { field message code }
  }
}
"""

_CREATE_API_TOKEN = """
mutation($name: String!) {
  createApiToken(input: {name: $name}) { secret errors { field message code } }
}
"""


class Api:
    """An HTTP client for the app plus a GraphQL helper, optionally signed in."""

    def __init__(
        self,
        app: Starlette,
        client: httpx.AsyncClient,
        database: Database,
        settings: Settings,
        token: str | None = None,
        user_id: int | None = None,
        email: str | None = None,
    ) -> None:
        self.app = app
        self.client = client
        self.db = database
        self.settings = settings
        self.token = token
        self.user_id = user_id
        self.email = email

    def with_token(
        self, token: str | None, user_id: int | None = None, email: str | None = None
    ) -> Api:
        """The same app and client, sending ``Authorization: Bearer <token>``."""
        return Api(self.app, self.client, self.db, self.settings, token, user_id, email)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def run_jobs(self, limit: int = 100) -> int:
        """Run the queued background jobs now, as the app's runner would (the kit's
        settings keep that runner off, so a test decides when jobs run); how many ran."""
        state = self.app.state.crm
        runner = JobRunner(db=self.db, settings=self.settings, pm=state.pm, clock=state.clock)
        return await runner.run_until_idle(limit)

    async def deliver_outbox(self) -> int:
        """Deliver every outbox message due now (emails, webhook calls), as the app's worker
        would; how many were tried."""
        state = self.app.state.crm
        worker = OutboxWorker(db=self.db, settings=self.settings, pm=state.pm, clock=state.clock)
        return await worker.run_until_idle()

    async def run_due_jobs(self) -> dict[str, Mapping[str, int]]:
        """Run the periodic jobs due at the app's clock, as the worker's scheduler would."""
        state = self.app.state.crm
        scheduler = Scheduler(db=self.db, settings=self.settings, pm=state.pm, clock=state.clock)
        return await scheduler.run_due()

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """POST a GraphQL document; the parsed response body (HTTP 200 asserted)."""
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={**self.headers, **(headers or {})},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def walk(
        self,
        query: str,
        path: Sequence[str | int],
        leaf: str,
        variables: dict[str, Any] | None = None,
        *,
        page: int = 2,
        max_pages: int = 500,
    ) -> list[Any]:
        """Every record of a connection, ``page`` at a time forward (``first``/``after``),
        asserting that paging backward from the end (``last``/``before``) gives the same
        records in the same order; returns each node's ``leaf`` field.

        ``query`` declares ``$first``, ``$after``, ``$last`` and ``$before`` and passes them
        to the connection found at ``path`` below ``data``. At most ``max_pages`` pages each
        way: a cursor that never ends the list fails the test instead of looping."""
        forward: list[Any] = []
        after: str | None = None
        for _ in range(max_pages):
            found = await self._connection(
                query, path, {**(variables or {}), "first": page, "after": after}
            )
            forward += [edge["node"][leaf] for edge in found["edges"]]
            if not found["pageInfo"]["hasNextPage"]:
                break
            after = found["pageInfo"]["endCursor"]
        else:
            raise AssertionError(f"more than {max_pages} pages forward")
        backward: list[Any] = []
        before: str | None = None
        for _ in range(max_pages):
            found = await self._connection(
                query, path, {**(variables or {}), "last": page, "before": before}
            )
            backward = [edge["node"][leaf] for edge in found["edges"]] + backward
            if not found["pageInfo"]["hasPreviousPage"]:
                break
            before = found["pageInfo"]["startCursor"]
        else:
            raise AssertionError(f"more than {max_pages} pages backward")
        assert backward == forward, (forward, backward)
        return forward

    async def _connection(
        self, query: str, path: Sequence[str | int], variables: dict[str, Any]
    ) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body
        found: Any = body["data"]
        for step in path:
            found = found[step]
        return dict(found)

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> Api:
        """Sign in through the API; the returned client carries the access token."""
        body = await self.with_token(None).gql(LOGIN, {"email": email, "password": password})
        payload = body["data"]["login"]
        assert payload["errors"] == [], payload
        user_id = int(relay.from_base64(payload["user"]["id"])[1])
        return self.with_token(payload["accessToken"], user_id, payload["user"]["email"])

    async def user(
        self,
        email: str,
        roles: Sequence[str] = (),
        *,
        team: str | None = None,
        lasting: bool = False,
    ) -> Api:
        """Create a user with ``roles`` and sign them in.

        :param lasting: sign requests with an API token that never expires instead of a
            session's access token, for tests that move the app's clock (sessions and access
            tokens expire by the app's clock, as they do in production).
        """
        user_id = await make_user(self.db, self.settings, email, roles, team=team)
        issued = await sign_in_without_password(
            self.db, self.settings, user_id, now=self.app.state.crm.clock()
        )
        signed_in = self.with_token(issued.access_token, user_id, issued.user.email)
        return await signed_in.lasting() if lasting else signed_in

    async def lasting(self) -> Api:
        """The same user, signing requests with a new API token that never expires."""
        body = await self.gql(_CREATE_API_TOKEN, {"name": "test kit"})
        payload = body["data"]["createApiToken"]
        assert payload["errors"] == [], payload
        return self.with_token(payload["secret"], self.user_id, self.email)

    async def as_role(self, role: str, *, team: str | None = None, lasting: bool = False) -> Api:
        """A new user holding one built-in role (``SALES_REPRESENTATIVE``), signed in."""
        if role not in BUILTIN_ROLE_KEYS:
            raise ValueError(f"{role!r} is not a built-in role: {sorted(BUILTIN_ROLE_KEYS)}")
        email = f"{role.lower()}.{uuid.uuid4().hex[:8]}@example.com"
        return await self.user(email, [role], team=team, lasting=lasting)


@asynccontextmanager
async def running_app(
    settings: Settings,
    *,
    migrate: bool = True,
    pm: CRMPluginManager | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    extra_plugins: Mapping[str, Any] | None = None,
) -> AsyncIterator[Api]:
    """The real ASGI app (lifespan included) over an in-process HTTP client.

    :param pm: the plugin manager to serve; by default the plugins ``settings`` enables.
    :param clock: the time the app reads (a :class:`FakeClock`).
    :param extra_plugins: plugins handed in by name, beside the installed ones.
    """
    pm = pm or build_plugin_manager(settings.enabled_plugins, extra_plugins=extra_plugins)
    database = Database.from_settings(settings)
    if migrate:
        await migrate_up(database, pm)
    app = core_app.assemble_app(
        settings=settings,
        pm=pm,
        db=database,
        schema=_schema_for(pm, settings),
        clock=clock or utcnow,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Api(app, client, database, settings)


def non_null_roots(pm: CRMPluginManager, settings: Settings) -> list[str]:
    """The query and mutation root fields of ``pm``'s schema declared non-null, as
    ``Type.field``: ``[]`` when the modules follow the nullability policy."""
    return non_null_root_fields(build_schema(pm, settings))


async def migrate_up(db: Database, pm: CRMPluginManager) -> None:
    """Bring core and every plugin ``pm`` enables to their migration heads; a database no
    one has touched becomes a copy of the session's template instead (same result)."""
    templates = testkit_templates.active()
    if templates is None or not await templates.copy_into(db, pm):
        await migrations.upgrade(db, pm)


async def migrate_down(db: Database, pm: CRMPluginManager, target: str = "base") -> None:
    """Undo migrations down to ``target`` (an Alembic revision; ``base``: every table)."""
    await migrations.downgrade(db, pm, target)


async def tables_with_rows(db: Database, pm: CRMPluginManager) -> list[str]:
    """The tables of core and the enabled plugins that hold rows."""
    return await migrations.tables_with_rows(db, pm)


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def crm_plugins() -> tuple[str, ...] | None:
    """The plugins to enable: ``None`` for every installed one. Override it in a conftest."""
    return None


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    """Plugins handed in by name beside the installed ones (test-only plugins)."""
    return {}


@pytest.fixture(scope="session", autouse=True)
def crm_templates(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[testkit_templates.Templates]:
    """The session's migrated template databases (:mod:`schema.testkit_templates`)."""
    with testkit_templates.session_templates(tmp_path_factory.mktemp("crm-templates")) as made:
        yield made


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database per test: a SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}"
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture
def make_settings(
    tmp_path: Path, database_url: str, crm_plugins: tuple[str, ...] | None
) -> Callable[..., Settings]:
    """Settings for the test's database; ``make(plugins=(...), **overrides)``."""

    def make(plugins: Sequence[str] | None = crm_plugins, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "login_slowdown_seconds": 0,
            # Tests run background jobs when they choose (``Api.run_jobs``), not on a timer.
            "worker_in_process": False,
        }
        if plugins is not None:
            values["plugins"] = ",".join(plugins)
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def plugin_manager(settings: Settings, crm_extra_plugins: Mapping[str, Any]) -> CRMPluginManager:
    """The plugin manager of the enabled plugins."""
    return build_plugin_manager(settings.enabled_plugins, extra_plugins=crm_extra_plugins)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_settings(settings)
    yield database
    await database.dispose()


@pytest.fixture
async def migrated_db(db: Database, plugin_manager: CRMPluginManager) -> Database:
    """The test's database with core and every enabled plugin migrated to head."""
    await migrate_up(db, plugin_manager)
    return db


@pytest.fixture
def count_statements() -> Iterator[Callable[[Database], StatementCounter]]:
    """``counter = count_statements(db)`` counts the statements ``db`` sends from then on."""
    attached: list[tuple[Any, StatementCounter]] = []

    def attach(database: Database) -> StatementCounter:
        counter = StatementCounter()
        event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
        attached.append((database.engine.sync_engine, counter))
        return counter

    yield attach
    for engine, counter in attached:
        event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def clock() -> FakeClock:
    """The controllable clock; pass it to ``running_app(..., clock=clock)``."""
    return FakeClock()


@pytest.fixture
def api_factory() -> Callable[..., Any]:
    return running_app


@pytest.fixture
async def api(settings: Settings, plugin_manager: CRMPluginManager) -> AsyncIterator[Api]:
    """The app (migrated, on the wall clock) with no one signed in."""
    async with running_app(settings, pm=plugin_manager) as client:
        yield client


@pytest.fixture
def crm_cli(
    settings: Settings, plugin_manager: CRMPluginManager, monkeypatch: pytest.MonkeyPatch
) -> CommandLine:
    """Run ``crm`` commands against the test's database with the test's plugins enabled."""
    monkeypatch.setenv("CRM_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CRM_DATA_DIR", str(settings.data_dir))
    if settings.plugins is None:
        monkeypatch.delenv("CRM_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("CRM_PLUGINS", settings.plugins)
    return CommandLine(settings, plugin_manager)


@pytest.fixture
async def admin(api: Api) -> Api:
    """The app, signed in as an ADMINISTRATOR."""
    return await api.user("admin@example.com", ["ADMINISTRATOR"])
