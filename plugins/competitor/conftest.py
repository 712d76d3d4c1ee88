"""Fixtures of the competitor plugin's tests: an app with the plugin (and the sales plugin,
whose closed opportunities become encounters) enabled, on a fresh database per test (SQLite,
and PostgreSQL with ``CRM_TEST_POSTGRES_URL``), and a :class:`FakeClock` the app reads its
time from. A test module that needs the plugin alone overrides ``settings``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from core.plugin_api import ADMINISTRATOR, CRMPluginManager, Settings
from plugins.competitor.testing import MONDAY
from schema.testkit import Api, FakeClock, running_app


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "competitor"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
async def api(
    settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=clock) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
