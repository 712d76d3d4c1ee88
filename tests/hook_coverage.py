"""A pytest plugin: every hook must be called by the test suite, not only named in it.

While the suite runs, each call of a hook that reaches at least one implementation is
recorded (pluggy routes every call, historic and subset calls included, through
``PluginManager._hookexec``). When the whole suite has run and passed, every hook that core,
its domains and the built-in plugins declare must have been called; one that was not fails
the run with its name. A partial run (paths, ``-k``, ``-m``, ``--lf``) skips the check.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from types import ModuleType

import pluggy
import pytest

from core import hookspecs
from core.customers import hookspecs as customer_hookspecs
from plugins.competitor import hookspecs as competitor_hookspecs
from plugins.loyalty import hookspecs as loyalty_hookspecs
from plugins.sales import hookspecs as sales_hookspecs
from plugins.surveys import hookspecs as survey_hookspecs
from plugins.tickets import hookspecs as ticket_hookspecs

DECLARING_MODULES = (
    hookspecs,
    customer_hookspecs,
    ticket_hookspecs,
    sales_hookspecs,
    survey_hookspecs,
    loyalty_hookspecs,
    competitor_hookspecs,
)

# Hooks allowed to go uncalled. Keep it empty; an entry needs a comment saying why the hook
# cannot be called by a test and where it is covered instead.
EXEMPT: frozenset[str] = frozenset()

CALLED: set[str] = set()
_original_hookexec = pluggy.PluginManager._hookexec


def _recording_hookexec(
    self: pluggy.PluginManager,
    hook_name: str,
    methods: Sequence[pluggy.HookImpl],
    kwargs: Mapping[str, object],
    firstresult: bool,
) -> object | list[object]:
    if methods:
        CALLED.add(hook_name)
    return _original_hookexec(self, hook_name, methods, kwargs, firstresult)


def declared_hooks(modules: tuple[ModuleType, ...] = DECLARING_MODULES) -> set[str]:
    """The names of the hook specifications ``modules`` declare."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name
        for module in modules
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if hasattr(function, marker) and function.__module__ == module.__name__
    }


def uncalled_hooks() -> list[str]:
    return sorted(declared_hooks() - CALLED - EXEMPT)


def _whole_suite(session: pytest.Session) -> bool:
    option = session.config.option
    narrowing = ("keyword", "markexpr", "lf", "deselect")  # "lf" exists with the cache plugin
    if any(getattr(option, name, None) for name in narrowing):
        return False
    testpaths = session.config.getini("testpaths")
    return bool(testpaths) and set(session.config.args) == set(testpaths)


def pytest_configure(config: pytest.Config) -> None:
    pluggy.PluginManager._hookexec = _recording_hookexec  # type: ignore[method-assign]


def pytest_unconfigure(config: pytest.Config) -> None:
    pluggy.PluginManager._hookexec = _original_hookexec  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if exitstatus != pytest.ExitCode.OK or not _whole_suite(session):
        return
    missing = uncalled_hooks()
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "hooks no test calls (a test must call each, not only name it): "
        if reporter is not None:
            reporter.write_line(message + ", ".join(missing), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
