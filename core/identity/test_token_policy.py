"""The token policy a client acts on: TOKEN_EXPIRED (refresh), SESSION_ENDED (log in again)
and UNAUTHENTICATED (no usable token), the same on every way in; and the refresh grace
period, in which a just-rotated refresh token gets the same new pair again."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from core.catalog import ADMINISTRATOR
from core.config import ConfigError, Settings, load_settings
from core.identity import models
from schema.testkit_tools import make_user
from tests.support import DEFAULT_PASSWORD, LOGIN, Api, FakeClock, running_app

SettingsFactory = Callable[..., Settings]

REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    accessToken refreshToken accessTokenExpiresAt errors { field message code }
  }
}
"""
LOGOUT = "mutation { logout { revoked errors { code } } }"
VIEWER = "query Viewer { viewer { email } }"
INTROSPECT = "{ __schema { queryType { name } } }"
EMAIL = "ada@example.com"


async def sign_in(api: Api) -> dict[str, Any]:
    await make_user(api.db, api.settings, EMAIL, [ADMINISTRATOR])
    body = await api.with_token(None).gql(LOGIN, {"email": EMAIL, "password": DEFAULT_PASSWORD})
    payload: dict[str, Any] = body["data"]["login"]
    assert payload["errors"] == [], body
    return payload


async def refresh(api: Api, token: str) -> dict[str, Any]:
    body = await api.with_token(None).gql(REFRESH, {"token": token})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["refreshToken"]
    return payload


def pair(payload: dict[str, Any]) -> tuple[str, str, str]:
    assert payload["errors"] == [], payload
    return payload["accessToken"], payload["refreshToken"], payload["accessTokenExpiresAt"]


async def viewer(api: Api, access_token: str) -> dict[str, Any]:
    return await api.with_token(access_token).gql(VIEWER)


def code_of(body: dict[str, Any]) -> str:
    (error,) = body["errors"]
    return str(error["extensions"]["code"])


async def refusals(api: Api, access_token: str) -> dict[str, tuple[int, str, str]]:
    """(status, code, message) of every way in, with ``access_token``."""
    headers = {"Authorization": f"Bearer {access_token}"}
    digest = hashlib.sha256(VIEWER.encode()).hexdigest()
    query = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}})
    answers: dict[str, httpx.Response] = {
        "graphql POST": await api.client.post("/graphql", json={"query": VIEWER}, headers=headers),
        "graphql GET": await api.client.get("/graphql", params={"query": VIEWER}, headers=headers),
        "persisted query GET": await api.client.get(
            "/graphql", params={"query": VIEWER, "extensions": query}, headers=headers
        ),
        "introspection": await api.client.post(
            "/graphql", json={"query": INTROSPECT}, headers=headers
        ),
        "export": await api.client.get("/export/customers.csv", headers=headers),
        "upload": await api.client.post(
            "/import/customers",
            content=b"name,email\nAcme,info@acme.example\n",
            headers={**headers, "Content-Type": "text/csv"},
        ),
    }
    found = {}
    for way, response in answers.items():
        (error,) = response.json()["errors"]
        found[way] = (response.status_code, error["extensions"]["code"], error["message"])
    return found


def statuses(code: str) -> dict[str, tuple[int, str]]:
    graphql = dict.fromkeys(("graphql POST", "graphql GET", "persisted query GET"), (200, code))
    return {**graphql, "introspection": (200, code), "export": (401, code), "upload": (401, code)}


# --- the codes --------------------------------------------------------------------------------


async def test_each_way_in_gives_the_same_code_for_each_kind_of_token(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        fresh = await refusals(api, "not-a-token")
        clock.advance(minutes=settings.access_token_minutes)
        expired = await refusals(api, signed_in["accessToken"])
        renewed = pair(await refresh(api, signed_in["refreshToken"]))
        working = await viewer(api, renewed[0])
        assert (await api.with_token(renewed[0]).gql(LOGOUT))["data"]["logout"]["revoked"]
        ended = await refusals(api, renewed[0])
        # Expired and ended at once: the session decides, since a refresh could not help.
        expired_and_ended = await refusals(api, signed_in["accessToken"])
        anonymous = await api.gql(VIEWER)

    assert {way: answer[:2] for way, answer in fresh.items()} == statuses("UNAUTHENTICATED")
    assert {way: answer[:2] for way, answer in expired.items()} == statuses("TOKEN_EXPIRED")
    assert {way: answer[:2] for way, answer in ended.items()} == statuses("SESSION_ENDED")
    assert {way: a[:2] for way, a in expired_and_ended.items()} == statuses("SESSION_ENDED")
    assert expired["graphql POST"][2] == "the access token has expired; refresh it"
    assert ended["graphql POST"][2] == "the session has ended; log in again"
    assert fresh["graphql POST"][2] == "the access token is not valid"
    assert "refresh it" in expired["introspection"][2]
    assert "log in again" in ended["introspection"][2]
    assert working["data"]["viewer"]["email"] == EMAIL
    assert code_of(anonymous) == "UNAUTHENTICATED"


async def test_a_token_is_good_until_its_last_second(settings: Settings, clock: FakeClock) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        clock.advance(minutes=settings.access_token_minutes, seconds=-1)
        last = await viewer(api, signed_in["accessToken"])
        clock.advance(seconds=1)
        after = await viewer(api, signed_in["accessToken"])

    assert last["data"]["viewer"]["email"] == EMAIL
    assert code_of(after) == "TOKEN_EXPIRED"
    assert after["errors"][0]["extensions"] == {"code": "TOKEN_EXPIRED"}


# --- the refresh grace period -----------------------------------------------------------------


async def revoked_sessions(api: Api) -> list[str | None]:
    async with api.db.read() as session:
        reasons = await session.scalars(
            select(models.AuthSession.revoked_reason).where(
                models.AuthSession.revoked_at.is_not(None)
            )
        )
        return list(reasons)


async def test_a_token_presented_again_within_the_grace_gets_the_same_pair(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        first = pair(await refresh(api, signed_in["refreshToken"]))
        clock.advance(seconds=settings.refresh_grace_seconds - 1)
        again = pair(await refresh(api, signed_in["refreshToken"]))
        works = await viewer(api, again[0])
        later = pair(await refresh(api, again[1]))
        still = await viewer(api, later[0])
        async with api.db.read() as session:
            hashes = list(await session.scalars(select(models.RefreshToken.token_hash)))
        revoked = await revoked_sessions(api)

    assert again == first
    assert first[1] != signed_in["refreshToken"]
    assert dt.datetime.fromisoformat(first[2]) == (
        FakeClock()() + dt.timedelta(minutes=settings.access_token_minutes)
    )
    assert works["data"]["viewer"]["email"] == EMAIL
    assert still["data"]["viewer"]["email"] == EMAIL
    assert revoked == []
    # Only digests are stored: neither the tokens nor the pair handed out twice.
    assert len(hashes) == 3
    assert all(len(value) == 64 and not value.startswith("crmr_") for value in hashes)
    assert hashlib.sha256(first[1].encode()).hexdigest() in hashes


async def test_after_the_grace_a_second_use_revokes_the_family(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        first = pair(await refresh(api, signed_in["refreshToken"]))
        clock.advance(seconds=settings.refresh_grace_seconds)
        again = await refresh(api, signed_in["refreshToken"])
        ended = await viewer(api, first[0])
        newest = await refresh(api, first[1])
        revoked = await revoked_sessions(api)

    assert again["accessToken"] is None
    assert again["refreshToken"] is None
    assert again["errors"] == [
        {
            "field": "refreshToken",
            "message": "this refresh token was already used; its session is revoked, log in again",
            "code": "INVALID",
        }
    ]
    assert code_of(ended) == "SESSION_ENDED"
    assert [e["code"] for e in newest["errors"]] == ["INVALID"]
    assert revoked == ["refresh token reused"]


async def test_only_the_current_tokens_predecessor_gets_the_grace(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        second = pair(await refresh(api, signed_in["refreshToken"]))
        third = pair(await refresh(api, second[1]))
        clock.advance(seconds=1)
        # The second token is the current one's predecessor: the same pair again.
        second_again = pair(await refresh(api, second[1]))
        # The first is older: a reuse, whatever the time.
        first_again = await refresh(api, signed_in["refreshToken"])
        ended = await viewer(api, third[0])
        revoked = await revoked_sessions(api)

    assert second_again == third
    assert [e["code"] for e in first_again["errors"]] == ["INVALID"]
    assert "already used" in first_again["errors"][0]["message"]
    assert code_of(ended) == "SESSION_ENDED"
    assert revoked == ["refresh token reused"]


async def test_a_predecessor_whose_successor_was_used_revokes_even_within_the_grace(
    settings: Settings, clock: FakeClock
) -> None:
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        second = pair(await refresh(api, signed_in["refreshToken"]))
        pair(await refresh(api, second[1]))
        again = await refresh(api, signed_in["refreshToken"])
        revoked = await revoked_sessions(api)

    assert [e["code"] for e in again["errors"]] == ["INVALID"]
    assert revoked == ["refresh token reused"]


async def test_two_concurrent_refreshes_get_the_same_pair_and_keep_the_session(
    api: Api,
) -> None:
    signed_in = await sign_in(api)
    results = await asyncio.gather(*(refresh(api, signed_in["refreshToken"]) for _ in range(4)))
    pairs = {pair(result) for result in results}
    (only,) = pairs
    works = await viewer(api, only[0])
    next_pair = pair(await refresh(api, only[1]))

    assert works["data"]["viewer"]["email"] == EMAIL
    assert (await viewer(api, next_pair[0]))["data"]["viewer"]["email"] == EMAIL
    assert await revoked_sessions(api) == []


async def test_a_grace_of_zero_keeps_every_second_use_a_reuse(
    make_settings: SettingsFactory, clock: FakeClock
) -> None:
    settings = make_settings(refresh_grace_seconds=0)
    async with running_app(settings, clock=clock) as api:
        signed_in = await sign_in(api)
        first = pair(await refresh(api, signed_in["refreshToken"]))
        again = await refresh(api, signed_in["refreshToken"])
        ended = await viewer(api, first[0])
        revoked = await revoked_sessions(api)

    assert [e["code"] for e in again["errors"]] == ["INVALID"]
    assert code_of(ended) == "SESSION_ENDED"
    assert revoked == ["refresh token reused"]


# --- the setting ------------------------------------------------------------------------------


def test_the_grace_defaults_to_thirty_seconds(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).refresh_grace_seconds == 30


@pytest.mark.parametrize("value", ["-1", "61", "soon"])
def test_the_grace_setting_refuses_a_bad_value_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CRM_REFRESH_GRACE_SECONDS", value)
    with pytest.raises(ConfigError) as raised:
        load_settings(data_dir=tmp_path)
    assert f"CRM_REFRESH_GRACE_SECONDS={value!r}" in str(raised.value)


def test_the_grace_setting_takes_zero(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_REFRESH_GRACE_SECONDS", "0")
    assert load_settings(data_dir=tmp_path).refresh_grace_seconds == 0
