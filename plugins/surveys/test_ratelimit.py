"""The rate limit of the public survey page and ``submitSurveyResponse``: a fixed window per
client address, counted in the database by one upsert per request (SQLite and PostgreSQL),
shared by the page and the mutation, and reset when the window ends.

Requests come through a trusted proxy (the test client's 127.0.0.1) that names the client in
``X-Forwarded-For``, so each test can speak for several addresses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import Settings
from plugins.surveys import models
from plugins.surveys.service import ratelimit
from plugins.surveys.test_answering import (
    SATISFIED,
    SUBMIT,
    customer_with_contact,
    make_invitation,
)
from schema.testkit import Api, FakeClock
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
