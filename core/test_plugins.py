"""The plugin host: discovery by entry point, selection, and the hook name check."""

from __future__ import annotations

import gc
import importlib
import sys
import textwrap
import warnings
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from core import hookimpl
from core.extension import Permission
from core.host import PluginError, contributions, enabled_plugin_names
from schema.modules import build_plugin_manager
from tests.support import HookSet


@pytest.fixture
def installed_distribution(tmp_path: Path) -> Iterator[str]:
    """Install a real (if tiny) distribution with a ``crm.plugins`` entry point."""
    package = tmp_path / "crm_sample_plugin"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            """
            from core import hookimpl

            @hookimpl
            def crm_graphql_types():
                return []
            """
        )
    )
    dist_info = tmp_path / "crm_sample_plugin-1.2.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: crm-sample-plugin\nVersion: 1.2.3\n"
    )
    (dist_info / "entry_points.txt").write_text("[crm.plugins]\nsample = crm_sample_plugin\n")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    yield "sample"
    sys.path.remove(str(tmp_path))
    sys.modules.pop("crm_sample_plugin", None)
    importlib.invalidate_caches()


def test_entry_point_plugins_load_and_are_enabled_by_default(installed_distribution: str) -> None:
    pm = build_plugin_manager()

    assert installed_distribution in enabled_plugin_names(pm)
    assert pm.installed[installed_distribution].version == "1.2.3"


def test_allow_list_selects_and_empty_means_core_only(installed_distribution: str) -> None:
    assert enabled_plugin_names(build_plugin_manager([])) == []
    assert enabled_plugin_names(build_plugin_manager([installed_distribution])) == [
        installed_distribution
    ]
    assert enabled_plugin_names(build_plugin_manager(load_entrypoints=False)) == []


def test_unknown_plugin_names_the_installed_ones(installed_distribution: str) -> None:
    with pytest.raises(PluginError) as raised:
        build_plugin_manager(["nosuch"])

    assert "nosuch" in str(raised.value)
    installed = str(raised.value).split("(installed: ", 1)[1].rstrip(")").split(", ")
    assert installed_distribution in installed
    assert installed == sorted(installed)


def _plugin(**functions: object) -> HookSet:
    return HookSet(**functions)


def test_misspelt_hook_fails_startup() -> None:
    def crm_statrup(settings: object, db: object) -> None:
        return None

    with pytest.raises(PluginError, match="crm_statrup"):
        build_plugin_manager(
            ["typo"],
            load_entrypoints=False,
            extra_plugins={"typo": _plugin(crm_statrup=crm_statrup)},
        )


def test_misspelt_marked_hook_fails_startup() -> None:
    @hookimpl
    def crm_graphql_qurey() -> None:
        return None

    with pytest.raises(PluginError, match="crm_graphql_qurey"):
        build_plugin_manager(
            ["typo"],
            load_entrypoints=False,
            extra_plugins={"typo": _plugin(crm_graphql_qurey=crm_graphql_qurey)},
        )


def test_optional_hook_of_an_absent_plugin_is_allowed() -> None:
    @hookimpl(optionalhook=True)
    def crm_tickets_ticket_opened() -> None:
        return None

    pm = build_plugin_manager(
        ["listener"],
        load_entrypoints=False,
        extra_plugins={"listener": _plugin(crm_tickets_ticket_opened=crm_tickets_ticket_opened)},
    )

    assert enabled_plugin_names(pm) == ["listener"]


def test_wrong_hook_arguments_fail_startup() -> None:
    def crm_startup(settings: object, db: object, extra: object) -> None:
        return None

    with pytest.raises(PluginError, match="crm_startup"):
        build_plugin_manager(
            ["bad"], load_entrypoints=False, extra_plugins={"bad": _plugin(crm_startup=crm_startup)}
        )


def test_a_wrapper_of_an_awaited_hook_fails_startup() -> None:
    @hookimpl(wrapper=True)
    def crm_startup(settings: object, db: object) -> Generator[None, object, object]:
        return (yield)

    with pytest.raises(PluginError, match="crm_startup is awaited, so it cannot take a wrapper"):
        build_plugin_manager(
            ["wrap"],
            load_entrypoints=False,
            extra_plugins={"wrap": _plugin(crm_startup=crm_startup)},
        )


def test_a_wrapper_of_a_declaration_hook_wraps_its_own_modules_answer() -> None:
    @hookimpl(wrapper=True)
    def crm_permissions() -> Generator[None, list[list[Permission]], list[list[Permission]]]:
        declared = yield  # one answer per implementation of this module: none here
        return [*declared, [Permission("wrapped:read", "Added by the wrapper.")]]

    plugin = _plugin(crm_permissions=crm_permissions)
    pm = build_plugin_manager(["wrap"], load_entrypoints=False, extra_plugins={"wrap": plugin})

    assert contributions(pm, "crm_permissions")[-1] == (
        "wrap",
        [Permission("wrapped:read", "Added by the wrapper.")],
    )


def test_an_unhashable_plugin_fails_startup() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    with pytest.raises(PluginError, match="'odd' must be hashable"):
        build_plugin_manager(["odd"], load_entrypoints=False, extra_plugins={"odd": Unhashable()})


async def test_a_failing_async_hook_stops_the_rest_and_closes_them() -> None:
    from core.host import call_in_turn

    ran: list[str] = []

    async def failing(settings: object, db: object) -> None:
        raise RuntimeError("startup failed")

    async def later(settings: object, db: object) -> None:
        ran.append("later")

    pm = build_plugin_manager(
        ["a", "b"],
        load_entrypoints=False,
        extra_plugins={"a": _plugin(crm_startup=failing), "b": _plugin(crm_startup=later)},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a coroutine left unawaited would warn
        with pytest.raises(RuntimeError, match="startup failed"):
            await call_in_turn(pm.hook.crm_startup, settings=None, db=None)
        gc.collect()

    assert ran == []


def test_each_build_is_independent() -> None:
    first = build_plugin_manager(
        ["a"], load_entrypoints=False, extra_plugins={"a": _plugin(), "b": _plugin()}
    )
    second = build_plugin_manager(
        ["b"], load_entrypoints=False, extra_plugins={"a": _plugin(), "b": _plugin()}
    )

    assert enabled_plugin_names(first) == ["a"]
    assert enabled_plugin_names(second) == ["b"]


async def test_async_hooks_run_one_after_another_core_first_and_reverse_on_shutdown(
    tmp_path: Path,
) -> None:
    import asyncio

    from core.db import Database
    from core.host import call_in_turn

    events: list[str] = []

    def plugin_named(name: str) -> HookSet:
        async def crm_startup(settings: object, db: object) -> None:
            events.append(f"{name} start")
            await asyncio.sleep(0)
            events.append(f"{name} started")

        async def crm_shutdown(settings: object, db: object) -> None:
            events.append(f"{name} stop")

        return _plugin(crm_startup=crm_startup, crm_shutdown=crm_shutdown)

    pm = build_plugin_manager(
        ["a", "b"],
        load_entrypoints=False,
        extra_plugins={"a": plugin_named("a"), "b": plugin_named("b")},
    )
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'crm.sqlite3'}")  # core's hooks get one
    try:
        await call_in_turn(pm.hook.crm_startup, settings=None, db=db)
        await call_in_turn(pm.hook.crm_shutdown, reverse=True, settings=None, db=db)
    finally:
        await db.dispose()

    assert events == ["a start", "a started", "b start", "b started", "b stop", "a stop"]
