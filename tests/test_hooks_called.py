"""Every hook of ``core/hookspecs.py`` called through a real plugin manager, effect checked.

Each test builds a fresh plugin manager with a tiny plugin (or the fixture plugin), lets the
host call the hook the way it does in production, and asserts what the hook changed: the
schema, the database, the command line or the app's lifespan.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest
import strawberry
import typer
from sqlalchemy import func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.relay import to_base64
from strawberry.types import ExecutionResult
from typer.testing import CliRunner

from core import TypeFields, hookimpl, migrate
from core import app as core_app
from core.config import Settings, load_settings
from core.context import RequestContext
from core.db import Database
from core.plugins import (
    CORE_PLUGIN_NAME,
    CRMPluginManager,
    PluginError,
    build_plugin_manager,
    call_async_hook,
)
from core.types import System
from schema import cli as cli_module
from schema.builder import CRMSchema, build_schema
from tests import fixture_plugin
from tests.fixture_plugin import hookspecs as fixture_hookspecs
from tests.fixture_plugin import models as fixture_models

FIXTURE_TABLES = {"fixture_widgets", "fixture_widget_notes"}


def manager(**plugins: object) -> CRMPluginManager:
    """A fresh plugin manager with core and exactly ``plugins`` enabled."""
    return build_plugin_manager(list(plugins), load_entrypoints=False, extra_plugins=plugins)


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    """Settings for tests that build schemas and never touch a database."""
    return load_settings(data_dir=tmp_path / "data")


async def run(schema: CRMSchema, query: str, context: Any = None) -> dict[str, Any]:
    result = await schema.execute(query, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


# --- Plugin host -------------------------------------------------------------------------


class HookspecRecorder:
    """Records each call of ``crm_add_hookspecs`` it receives."""

    def __init__(self) -> None:
        self.managers: list[pluggy.PluginManager] = []

    @hookimpl
    def crm_add_hookspecs(self, pm: pluggy.PluginManager) -> None:
        self.managers.append(pm)


class WidgetListener:
    """Listens to the fixture plugin's own hook; required, so it needs that plugin."""

    @hookimpl
    def crm_fixture_widget_created(self, session: AsyncSession, widget: Any) -> None:
        return None


def test_crm_add_hookspecs_is_called_once_per_plugin_and_adds_its_hooks() -> None:
    recorder = HookspecRecorder()

    pm = manager(fixture=fixture_plugin.plugin, recorder=recorder)

    # Historic: the recorder, registered after the call was made, still got it, once.
    assert recorder.managers == [pm]
    caller = pm.hook.crm_fixture_widget_created
    assert caller.spec is not None
    assert caller.spec.namespace is fixture_hookspecs
    assert caller.get_hookimpls()[0].plugin_name == "fixture"


def test_crm_add_hookspecs_lets_other_plugins_listen_only_when_the_declarer_is_enabled() -> None:
    pm = manager(fixture=fixture_plugin.plugin, listener=WidgetListener())

    assert [impl.plugin_name for impl in pm.hook.crm_fixture_widget_created.get_hookimpls()] == [
        "fixture",
        "listener",
    ]
    with pytest.raises(PluginError, match="crm_fixture_widget_created"):
        manager(listener=WidgetListener())


# --- Database ----------------------------------------------------------------------------


class TablelessPlugin:
    """A module without tables: answers ``None``."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl
    def crm_migrations(self) -> None:
        self.calls += 1


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_crm_migrations_branches_are_migrated(settings: Settings, db: Database) -> None:
    tableless = TablelessPlugin()
    pm = manager(fixture=fixture_plugin.plugin, tableless=tableless)

    declared = pm.hook.crm_migrations()

    assert tableless.calls == 1  # pluggy leaves its ``None`` out of the results
    assert sorted(m.branch for m in declared) == ["core", "fixture"]
    assert [m.branch for m in migrate.enabled_migrations(pm)] == ["core", "fixture"]
    await migrate.upgrade(db, pm)
    assert await table_names(db) >= FIXTURE_TABLES
    assert await migrate.at_head(db, pm)
    assert await migrate.current_heads(db) == {"fixture_0001"}


# --- GraphQL schema ----------------------------------------------------------------------


@strawberry.type
class GreetingQuery:
    @strawberry.field
    def greeting(self, name: str) -> str:
        return f"Hello, {name}!"


class GreetingPlugin:
    @hookimpl
    def crm_graphql_query(self) -> type[Any]:
        return GreetingQuery


async def test_crm_graphql_query_adds_root_query_fields(plain_settings: Settings) -> None:
    pm = manager(greeting=GreetingPlugin())

    assert GreetingQuery in pm.hook.crm_graphql_query()
    schema = build_schema(pm, plain_settings)
    assert await run(schema, '{ greeting(name: "Ada") }') == {"greeting": "Hello, Ada!"}
    assert "greeting" not in build_schema(manager(), plain_settings).as_str()


@strawberry.type
class ShoutMutation:
    @strawberry.mutation
    def shout(self, words: str) -> str:
        return words.upper()


class ShoutPlugin:
    @hookimpl
    def crm_graphql_mutation(self) -> type[Any]:
        return ShoutMutation


async def test_crm_graphql_mutation_adds_root_mutation_fields(plain_settings: Settings) -> None:
    pm = manager(shout=ShoutPlugin())

    assert pm.hook.crm_graphql_mutation() == [ShoutMutation]
    schema = build_schema(pm, plain_settings)
    assert await run(schema, 'mutation { shout(words: "hi") }') == {"shout": "HI"}
    assert "type Mutation" not in build_schema(manager(), plain_settings).as_str()


@strawberry.type
class CountdownSubscription:
    @strawberry.subscription
    async def countdown(self, start: int) -> AsyncGenerator[int, None]:
        for n in range(start, 0, -1):
            yield n


class CountdownPlugin:
    @hookimpl
    def crm_graphql_subscription(self) -> type[Any]:
        return CountdownSubscription


async def test_crm_graphql_subscription_adds_root_subscription_fields(
    plain_settings: Settings,
) -> None:
    pm = manager(countdown=CountdownPlugin())

    assert pm.hook.crm_graphql_subscription() == [CountdownSubscription]
    schema = build_schema(pm, plain_settings)
    assert "type Subscription {\n  countdown(start: Int!): Int!\n}" in schema.as_str()
    values: list[Any] = []
    async for result in await schema.subscribe("subscription { countdown(start: 3) }"):
        assert isinstance(result, ExecutionResult)
        assert result.errors is None, result.errors
        assert result.data is not None
        values.append(result.data["countdown"])
    assert values == [3, 2, 1]
    assert "Subscription" not in build_schema(manager(), plain_settings).as_str()


@strawberry.type
class Gadget(relay.Node):
    id: relay.NodeID[int]
    label: str

    @classmethod
    def resolve_nodes(  # type: ignore[override]
        cls, *, info: Any, node_ids: Iterable[str], required: bool = False
    ) -> list[Gadget | None]:
        return [cls(id=int(node_id), label=f"gadget {node_id}") for node_id in node_ids]


class GadgetPlugin:
    @hookimpl
    def crm_graphql_types(self) -> Sequence[type[Any]]:
        return [Gadget]


async def test_crm_graphql_types_adds_types_no_field_returns(plain_settings: Settings) -> None:
    pm = manager(gadget=GadgetPlugin())
    query = f'{{ node(id: "{to_base64("Gadget", 7)}") {{ ... on Gadget {{ label }} }} }}'

    assert pm.hook.crm_graphql_types() == [[Gadget]]
    schema = build_schema(pm, plain_settings)
    assert "type Gadget implements Node" in schema.as_str()
    assert await run(schema, query) == {"node": {"label": "gadget 7"}}
    without = build_schema(manager(), plain_settings)
    assert "Gadget" not in without.as_str()
    assert await run(without, query.replace(" ... on Gadget { label }", " id")) == {"node": None}


async def system_module_count(root: System) -> int:
    return len(root.modules)


class ModuleCountPlugin:
    @hookimpl
    def crm_graphql_type_fields(self) -> Sequence[TypeFields]:
        field = strawberry.field(resolver=system_module_count)
        return [TypeFields(target=System, fields={"module_count": field})]


async def test_crm_graphql_type_fields_adds_fields_to_a_core_type(
    plain_settings: Settings,
) -> None:
    pm = manager(counter=ModuleCountPlugin())

    (contribution,) = pm.hook.crm_graphql_type_fields()
    assert contribution[0].target is System
    schema = build_schema(pm, plain_settings)
    db = Database(plain_settings.resolved_database_url)
    try:
        context = RequestContext(settings=plain_settings, db=db, pm=pm)
        data = await run(schema, "{ system { moduleCount modules { name } } }", context)
    finally:
        await db.dispose()
    assert data == {
        "system": {
            "moduleCount": 2,
            "modules": [{"name": CORE_PLUGIN_NAME}, {"name": "counter"}],
        }
    }
    # Built without the plugin (even after it), System shows no trace of the field.
    assert "moduleCount" not in build_schema(manager(), plain_settings).as_str()


# --- Lifecycle ---------------------------------------------------------------------------


class LifecycleRecorder:
    """An async startup that uses the database and a plain shutdown, both recorded."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.seen: list[tuple[Settings, Database]] = []

    @hookimpl
    async def crm_startup(self, settings: Settings, db: Database) -> None:
        async with db.read() as session:
            assert await session.scalar(text("SELECT 1")) == 1
        self.seen.append((settings, db))
        self.events.append("startup")

    @hookimpl
    def crm_shutdown(self, settings: Settings, db: Database) -> None:
        self.seen.append((settings, db))
        self.events.append("shutdown")


async def test_crm_startup_and_crm_shutdown_run_in_the_app_lifespan(
    make_settings: Callable[..., Settings],
) -> None:
    recorder = LifecycleRecorder()
    settings = make_settings(plugins=("recorder",))
    pm = build_plugin_manager(
        settings.enabled_plugins, load_entrypoints=False, extra_plugins={"recorder": recorder}
    )
    db = Database(settings.resolved_database_url)
    app = core_app.create_app(settings=settings, pm=pm, db=db, schema=build_schema(pm, settings))

    assert recorder.events == []
    async with app.router.lifespan_context(app):
        assert recorder.events == ["startup"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/healthz")).status_code == 200
        assert recorder.events == ["startup"]

    assert recorder.events == ["startup", "shutdown"]
    assert all(seen == (settings, db) for seen in recorder.seen)


# --- Command line ------------------------------------------------------------------------


class GreeterCli:
    """A plugin that adds a ``greeter`` command group to ``crm``."""

    def __init__(self) -> None:
        self.clis: list[typer.Typer] = []
        self.group = typer.Typer(help="Greetings.", no_args_is_help=True)
        self.group.command("hello")(self.hello)

    @staticmethod
    def hello(name: str = "world") -> None:
        """Greet someone."""
        typer.echo(f"Hello, {name}!")

    @hookimpl
    def crm_cli_commands(self, cli: typer.Typer) -> None:
        self.clis.append(cli)
        cli.add_typer(self.group, name="greeter")


GREETER = GreeterCli()
"""The object the test entry point below names (``tests.test_hooks_called:GREETER``)."""


@pytest.fixture
def greeter_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GreeterCli]:
    """Install ``GREETER`` as the ``greeter`` plugin; keep ``crm``'s commands as they were."""
    site = tmp_path / "site"
    dist_info = site / "crm_greeter-0.3.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-greeter\nVersion: 0.3.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[crm.plugins]\ngreeter = {__name__}:GREETER\n")
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.setattr(
        cli_module.cli, "registered_commands", [*cli_module.cli.registered_commands]
    )
    monkeypatch.setattr(cli_module.cli, "registered_groups", [*cli_module.cli.registered_groups])
    GREETER.clis.clear()
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    yield GREETER
    sys.path.remove(str(site))
    importlib.invalidate_caches()
    GREETER.clis.clear()


def run_crm(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``crm`` (``schema.cli:main``) in-process; return its exit code."""
    monkeypatch.setattr(sys, "argv", ["crm", *args])
    with pytest.raises(SystemExit) as exited:
        cli_module.main()
    code = exited.value.code
    return code if isinstance(code, int) else 1


def test_crm_cli_commands_adds_commands_to_crm(
    greeter_installed: GreeterCli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "greeter")

    assert run_crm(monkeypatch, "greeter", "hello", "--name", "Ada") == 0

    assert capsys.readouterr().out == "Hello, Ada!\n"
    assert greeter_installed.clis == [cli_module.cli]
    result = CliRunner().invoke(cli_module.cli, ["greeter", "hello"])
    assert result.exit_code == 0, result.output
    assert result.output == "Hello, world!\n"
    listing = CliRunner().invoke(cli_module.cli, ["plugins"])
    assert "greeter\t0.3.0\tenabled" in listing.output


def test_crm_cli_commands_of_a_disabled_plugin_are_absent(
    greeter_installed: GreeterCli,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRM_PLUGINS", "")

    assert run_crm(monkeypatch, "greeter", "hello") == 2

    assert "No such command" in capsys.readouterr().err
    assert greeter_installed.clis == []


# --- Demo data ---------------------------------------------------------------------------


async def test_crm_demo_data_of_the_fixture_plugin_fills_its_tables(
    settings: Settings, db: Database
) -> None:
    pm = manager(fixture=fixture_plugin.plugin)
    await migrate.upgrade(db, pm)
    assert await migrate.tables_with_rows(db, pm) == []

    async with db.transaction() as session:
        await call_async_hook(pm.hook.crm_demo_data, session=session, size=4)

    async with db.read() as session:
        names = (await session.scalars(select(fixture_models.Widget.name))).all()
        notes = await session.scalar(select(func.count()).select_from(fixture_models.WidgetNote))
    assert sorted(names) == [f"Demo widget {n}" for n in range(1, 5)]
    assert notes == 0
    assert await migrate.tables_with_rows(db, pm) == ["fixture_widgets"]


async def test_crm_demo_data_is_undone_with_its_transaction(
    settings: Settings, db: Database
) -> None:
    pm = manager(fixture=fixture_plugin.plugin)
    await migrate.upgrade(db, pm)

    async def fill_then_fail() -> None:
        async with db.transaction() as session:
            await call_async_hook(pm.hook.crm_demo_data, session=session, size=3)
            raise RuntimeError("demo failed")

    with pytest.raises(RuntimeError, match="demo failed"):
        await fill_then_fail()

    assert await migrate.tables_with_rows(db, pm) == []
