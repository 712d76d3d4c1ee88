"""This repository's test setup: the installed test kit (:mod:`schema.testkit`) with the
fixture plugin enabled, plus helpers the cross-module tests share.

``CRM_TEST_POSTGRES_URL`` names a PostgreSQL server where the tests may create databases
(the database in the URL is only used to connect); each test that needs one creates
``crm_test_<random>`` and drops it afterwards. Without it, PostgreSQL cases are skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from core.config import Settings
from core.host import CRMPluginManager
from schema.modules import build_plugin_manager
from schema.testkit import (
    BACKENDS,
    DEFAULT_PASSWORD,
    LOGIN,
    POSTGRES_URL,
    Api,
    FakeClock,
    StatementCounter,
    postgres_database,
)
from schema.testkit import running_app as kit_running_app
from tests import fixture_plugin

FIXTURE = {"fixture": fixture_plugin.plugin}

__all__ = [
    "BACKENDS",
    "DEFAULT_PASSWORD",
    "FIXTURE",
    "LOGIN",
    "POSTGRES_URL",
    "Api",
    "FakeClock",
    "Gql",
    "HookSet",
    "StatementCounter",
    "manager_for",
    "postgres_database",
    "running_app",
]


class HookSet:
    """A plugin made of the hook functions given by name (``HookSet(crm_startup=fn)``);
    hashable by identity, as the plugin host requires of every plugin."""

    def __init__(self, **hooks: object) -> None:
        for name, function in hooks.items():
            setattr(self, name, function)


@pytest.fixture
def crm_plugins() -> tuple[str, ...] | None:
    """This repository's tests enable the fixture plugin (tickets only where asked)."""
    return ("fixture",)


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    return FIXTURE


@pytest.fixture
def logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """Capture the service's INFO logs, even if ``configure_logging`` stopped propagation."""
    monkeypatch.setattr(logging.getLogger("crm"), "propagate", True)
    caplog.set_level(logging.INFO, logger="crm")
    return caplog


def running_app(settings: Settings, **options: Any) -> AbstractAsyncContextManager[Api]:
    """:func:`schema.testkit.running_app` with the fixture plugin installed."""
    options.setdefault("extra_plugins", FIXTURE)
    return kit_running_app(settings, **options)


@pytest.fixture
def api_factory() -> Callable[..., Any]:
    return running_app


def manager_for(settings: Settings) -> CRMPluginManager:
    """The plugin manager of what ``settings`` enables, the fixture plugin installed."""
    return build_plugin_manager(settings.enabled_plugins, extra_plugins=FIXTURE)


Gql = Callable[..., Awaitable[dict[str, Any]]]
