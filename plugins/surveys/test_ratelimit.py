"""The rate limit of the public survey page and ``submitSurveyResponse``: a fixed window per
client address, counted in the database by one upsert per request (SQLite and PostgreSQL),
shared by the page and the mutation, and reset when the window ends.

Requests come through a trusted proxy (the test client's 127.0.0.1) that names the client in
``X-Forwarded-For``, so each test can speak for several addresses.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import CRMPluginManager, Database, JobContext, Settings
from plugins.surveys import models
from plugins.surveys.service import ratelimit
from plugins.surveys.test_answering import (
    SATISFIED,
    SUBMIT,
    customer_with_contact,
    make_invitation,
)
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_graphql import data

LIMIT = 3


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets", "surveys"), trusted_proxies="127.0.0.1/32")


@pytest.fixture(autouse=True)
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_SURVEYS_RATE_LIMIT", str(LIMIT))
    monkeypatch.setenv("CRM_SURVEYS_RATE_WINDOW_MINUTES", "10")


def source(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def mutation(api: Api, address: str, token: str = "no-such-link") -> dict[str, Any]:
    body = await api.gql(
        SUBMIT, {"input": {"token": token, "answers": SATISFIED}}, headers=source(address)
    )
    payload: dict[str, Any] = data(body)["submitSurveyResponse"]
    return payload


async def rows(api: Api) -> list[tuple[str, dt.datetime, int]]:
    async with api.db.read() as session:
        found = await session.execute(
            select(
                models.SurveyRateLimit.key,
                models.SurveyRateLimit.window_start,
                models.SurveyRateLimit.count,
            ).order_by(models.SurveyRateLimit.key)
        )
        return [(key, start, count) for key, start, count in found]


def test_windows_are_aligned_and_fixed() -> None:
    moment = dt.datetime(2026, 11, 23, 9, 17, 42, tzinfo=dt.UTC)
    assert ratelimit.window_start(moment, 10) == dt.datetime(2026, 11, 23, 9, 10, tzinfo=dt.UTC)
    assert ratelimit.window_start(moment, 60) == dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
    assert ratelimit.key_of(None) == "address:unknown"
    assert len(ratelimit.key_of("x" * 300)) == ratelimit.MAX_KEY


async def test_the_counter_refuses_past_the_limit_until_the_window_ends(
    api: Api, clock: FakeClock
) -> None:
    verdicts = []
    for _ in range(LIMIT + 1):
        async with api.db.transaction() as session:
            verdicts.append(
                await ratelimit.hit(session, "203.0.113.9", clock(), limit=LIMIT, window_minutes=10)
            )
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.count for v in verdicts] == [1, 2, 3, 4]
    assert verdicts[-1].retry_after == 600  # the clock stands at 09:00, a window's start
    clock.advance(minutes=10)

    async with api.db.transaction() as session:
        again = await ratelimit.hit(session, "203.0.113.9", clock(), limit=LIMIT, window_minutes=10)

    assert (again.allowed, again.count) == (True, 1)
    # The old window was overwritten: one row per address.
    assert await rows(api) == [("address:203.0.113.9", clock(), 1)]


async def test_the_mutation_is_refused_past_the_limit_per_address(
    api: Api, clock: FakeClock
) -> None:
    for _ in range(LIMIT):
        payload = await mutation(api, "203.0.113.9")
        assert payload["ok"] is False  # an unknown link

    limited = await mutation(api, "203.0.113.9")
    other = await mutation(api, "198.51.100.4")

    assert limited["ok"] is False
    assert limited["errors"] == [
        {
            "field": None,
            "message": "too many survey requests from your address; try again in 600 seconds",
            "code": "RATE_LIMITED",
        }
    ]
    assert [e["code"] for e in other["errors"]] == ["INVALID"]
    clock.advance(minutes=10)
    assert [e["code"] for e in (await mutation(api, "203.0.113.9"))["errors"]] == ["INVALID"]


async def test_a_limited_address_cannot_answer_even_a_good_link(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    customer, contact = await customer_with_contact(admin)
    token, _id = await make_invitation(api, customer, contact, clock())
    for _ in range(LIMIT):
        await mutation(api, "203.0.113.9")

    payload = await mutation(api, "203.0.113.9", token)

    assert [e["code"] for e in payload["errors"]] == ["RATE_LIMITED"]
    assert (await mutation(api, "198.51.100.4", token))["ok"] is True


async def test_the_page_and_the_mutation_share_the_count(api: Api, clock: FakeClock) -> None:
    for _ in range(LIMIT - 1):
        page = await api.client.get("/s/no-such-link", headers=source("203.0.113.9"))
        assert page.status_code == 404
    await mutation(api, "203.0.113.9")

    page = await api.client.get("/s/no-such-link", headers=source("203.0.113.9"))
    limited = await mutation(api, "203.0.113.9")

    assert page.status_code == 429
    assert page.headers["retry-after"] == "600"
    assert "Too many requests" in page.text
    assert "try again in 10 minutes" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert [e["code"] for e in limited["errors"]] == ["RATE_LIMITED"]
    assert await rows(api) == [("address:203.0.113.9", clock(), LIMIT + 2)]


async def test_a_lagging_process_counts_in_the_current_window(api: Api, clock: FakeClock) -> None:
    """A process whose clock lags a window behind must not restart the count."""
    ahead = clock() + dt.timedelta(minutes=10)  # window 09:10
    behind = ahead - dt.timedelta(seconds=1)  # 09:09:59, still window 09:00
    async with api.db.transaction() as session:
        first = await ratelimit.hit(session, "203.0.113.9", ahead, limit=LIMIT, window_minutes=10)
    async with api.db.transaction() as session:
        lagging = await ratelimit.hit(
            session, "203.0.113.9", behind, limit=LIMIT, window_minutes=10
        )

    assert (first.count, lagging.count) == (1, 2)
    assert lagging.retry_after == 601  # until 09:20, the window the row counts in
    assert await rows(api) == [("address:203.0.113.9", ahead, 2)]


def test_an_ipv6_client_is_counted_by_its_64_network() -> None:
    assert ratelimit.key_of("2001:db8:1:2::1") == ratelimit.key_of("2001:db8:1:2:ffff::9")
    assert ratelimit.key_of("2001:db8:1:2::1") == "address:2001:db8:1:2::/64"
    assert ratelimit.key_of("2001:db8:1:3::1") != ratelimit.key_of("2001:db8:1:2::1")
    assert ratelimit.key_of("::ffff:203.0.113.9") == ratelimit.key_of("203.0.113.9")
    assert ratelimit.key_of("203.0.113.9") != ratelimit.key_of("203.0.113.10")
    assert ratelimit.key_of("") == ratelimit.key_of(None) == "address:unknown"


async def test_addresses_of_one_ipv6_network_share_the_limit(api: Api, clock: FakeClock) -> None:
    for host in range(1, LIMIT + 1):
        await mutation(api, f"2001:db8:1:2::{host}")

    limited = await mutation(api, "2001:db8:1:2::ffff")
    neighbour = await mutation(api, "2001:db8:1:3::1")

    assert [e["code"] for e in limited["errors"]] == ["RATE_LIMITED"]
    assert [e["code"] for e in neighbour["errors"]] == ["INVALID"]


async def test_two_processes_share_one_count(
    api: Api, settings: Settings, clock: FakeClock
) -> None:
    """Two app processes (two engines on the database) counting at once: every request is
    counted exactly once."""
    other = Database(settings.resolved_database_url)
    try:

        async def hits(db: Database) -> list[int]:
            counts = []
            for _ in range(5):
                async with db.transaction() as session:
                    verdict = await ratelimit.hit(
                        session, "203.0.113.9", clock(), limit=100, window_minutes=10
                    )
                counts.append(verdict.count)
            return counts

        async with asyncio.timeout(60):
            mine, theirs = await asyncio.gather(hits(api.db), hits(other))
    finally:
        await other.dispose()

    assert sorted(mine + theirs) == list(range(1, 11))
    assert await rows(api) == [("address:203.0.113.9", clock(), 10)]


async def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    """Without CRM_TRUSTED_PROXIES anyone could name any address: the peer is counted."""
    direct = make_settings(plugins=("fixture", "tickets", "surveys"))
    async with running_app(direct, pm=plugin_manager, clock=clock) as app:
        for address in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            await mutation(app, address)

        limited = await mutation(app, "203.0.113.4")

        assert [e["code"] for e in limited["errors"]] == ["RATE_LIMITED"]
        assert [key for key, _start, _count in await rows(app)] == ["address:127.0.0.1"]


async def test_rows_of_ended_windows_are_purged(
    api: Api, settings: Settings, clock: FakeClock
) -> None:
    for address, at in (
        ("203.0.113.1", clock()),  # window 09:00
        ("203.0.113.2", clock() + dt.timedelta(minutes=10)),  # window 09:10
        ("203.0.113.3", clock() + dt.timedelta(minutes=19)),  # window 09:10
    ):
        async with api.db.transaction() as session:
            await ratelimit.hit(session, address, at, limit=LIMIT, window_minutes=10)
    moment = clock() + dt.timedelta(minutes=15)
    job = JobContext(
        db=api.db, settings=settings, pm=api.app.state.crm.pm, now=moment, clock=lambda: moment
    )

    assert await ratelimit.purge(job) == {"survey rate limit windows purged": 1}

    assert [key for key, _start, _count in await rows(api)] == [
        "address:203.0.113.2",
        "address:203.0.113.3",
    ]
