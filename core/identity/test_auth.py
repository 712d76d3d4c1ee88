"""Authentication through the API: login, refresh-token rotation, logout, API tokens,
login throttling, and secrets that must never be stored or logged in plain text."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, func, select
from sqlalchemy.engine import Connection
from strawberry import relay

from core.audit import AuditEvent
from core.catalog import FINANCE, SALES_REPRESENTATIVE
from core.config import Settings
from core.db import Database, utcnow
from core.identity import models
from schema.testkit_tools import StatementCounter, make_user
from tests.support import DEFAULT_PASSWORD, LOGIN, Api, FakeClock, running_app

AppFactory = Callable[[Settings], AbstractAsyncContextManager[Api]]
SettingsFactory = Callable[..., Settings]

WRONG_PASSWORD = "Wrong-Guess-Pelican-19"
BAD_CREDENTIALS = {
    "field": None,
    "message": "the email or password is incorrect",
    "code": "INVALID",
}

REFRESH = """
mutation($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    accessToken refreshToken accessTokenExpiresAt
    user { email }
    errors { field message code }
  }
}
"""
LOGOUT = """
mutation($token: String) {
  logout(input: {refreshToken: $token}) { revoked errors { field message code } }
}
"""
CREATE_TOKEN = """
mutation($name: String!, $expiresAt: DateTime, $permissions: [String!]) {
  createApiToken(input: {name: $name, expiresAt: $expiresAt, permissions: $permissions}) {
    secret
    apiToken { id name prefix permissions expiresAt revokedAt }
    errors { field message code }
  }
}
"""
REVOKE_TOKEN = """
mutation($id: ID!) {
  revokeApiToken(input: {id: $id}) { apiToken { id revokedAt } errors { field message code } }
}
"""
AUDIT = """
query($action: String, $entity: ID) {
  auditEvents(filter: {action: $action, entityId: $entity}, first: 100) {
    edges { node { action entityId actorLabel clientAddress actor { user { email } }
                   changes { field before after secret } } }
  }
}
"""
VIEWER = "{ viewer { email lastLoginAt } }"


def gid(type_name: str, value: int) -> str:
    return relay.to_base64(type_name, value)


async def login(api: Api, email: str, password: str = DEFAULT_PASSWORD) -> dict[str, Any]:
    body = await api.with_token(None).gql(LOGIN, {"email": email, "password": password})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def refresh(api: Api, token: str) -> dict[str, Any]:
    body = await api.with_token(None).gql(REFRESH, {"token": token})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["refreshToken"]
    return payload


async def create_token(api: Api, name: str = "ci", **variables: Any) -> dict[str, Any]:
    body = await api.gql(CREATE_TOKEN, {"name": name, **variables})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createApiToken"]
    return payload


async def audit_events(
    admin: Api, action: str | None = None, entity: str | None = None
) -> list[dict[str, Any]]:
    body = await admin.gql(AUDIT, {"action": action, "entity": entity})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]


def auth_error(body: dict[str, Any], code: str = "UNAUTHENTICATED") -> str:
    """The message of a request refused for want of a usable token, with ``code``."""
    (error,) = body["errors"]
    assert error["extensions"] == {"code": code}, body
    return str(error["message"])


async def count(db: Database, model: Any) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- login ------------------------------------------------------------------------------------


async def test_login_issues_tokens_sets_last_login_and_audits_the_address(admin: Api) -> None:
    user_id = await make_user(admin.db, admin.settings, "ada@example.com", [FINANCE])
    async with admin.db.read() as session:
        user = await session.get(models.User, user_id)
        assert user is not None
        assert user.last_login_at is None

    before = utcnow()
    payload = await login(admin, "  Ada@Example.COM ")  # addresses are matched normalised

    assert payload["errors"] == []
    assert payload["user"] == {"id": gid("User", user_id), "email": "ada@example.com"}
    assert payload["refreshToken"].startswith("crmr_")
    assert payload["accessToken"].count(".") == 2  # a JWT
    expires = dt.datetime.fromisoformat(payload["accessTokenExpiresAt"])
    lifetime = dt.timedelta(minutes=admin.settings.access_token_minutes)
    assert before + lifetime - dt.timedelta(seconds=5) <= expires
    assert expires <= utcnow() + lifetime

    body = await admin.with_token(payload["accessToken"]).gql(VIEWER)
    viewer = body["data"]["viewer"]
    assert viewer["email"] == "ada@example.com"
    assert viewer["lastLoginAt"] is not None
    assert dt.datetime.fromisoformat(viewer["lastLoginAt"]) >= before - dt.timedelta(seconds=1)

    (event,) = await audit_events(admin, "login.succeeded", gid("User", user_id))
    assert event["clientAddress"] == "127.0.0.1"
    assert event["actorLabel"] == "ada@example.com"
    assert event["actor"] == {"user": {"email": "ada@example.com"}}


AT = """query($action: String) {
  auditEvents(filter: {action: $action}) { edges { node { occurredAt } } }
}"""


async def test_sessions_their_expiry_and_their_audit_follow_the_apps_clock(
    settings: Settings,
) -> None:
    clock = FakeClock(dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC))  # years from the wall clock
    lifetime = dt.timedelta(minutes=settings.access_token_minutes)
    async with running_app(settings, clock=clock) as api:
        await make_user(api.db, settings, "ada@example.com", ["ADMINISTRATOR"])
        payload = await login(api, "ada@example.com")
        signed_in = api.with_token(payload["accessToken"])
        viewer = (await signed_in.gql(VIEWER))["data"]["viewer"]
        logged = (await signed_in.gql(AT, {"action": "login.succeeded"}))["data"]
        clock.advance(minutes=settings.access_token_minutes - 1)
        still_valid = await signed_in.gql(VIEWER)
        clock.advance(minutes=1)
        expired = await signed_in.gql(VIEWER)
        refreshed = await refresh(api, payload["refreshToken"])

    def when(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text)

    logged_in_at = dt.datetime(2031, 5, 6, 7, 8, tzinfo=dt.UTC)
    assert when(payload["accessTokenExpiresAt"]) == logged_in_at + lifetime
    assert when(viewer["lastLoginAt"]) == logged_in_at
    assert [when(e["node"]["occurredAt"]) for e in logged["auditEvents"]["edges"]] == [logged_in_at]
    assert still_valid["data"]["viewer"]["email"] == "ada@example.com"
    assert "expired" in auth_error(expired, "TOKEN_EXPIRED")
    assert refreshed["errors"] == []
    assert when(refreshed["accessTokenExpiresAt"]) == clock() + lifetime


async def test_wrong_password_and_unknown_email_get_the_same_answer(admin: Api) -> None:
    user_id = await make_user(admin.db, admin.settings, "ben@example.com", [FINANCE])

    wrong = await login(admin, "ben@example.com", WRONG_PASSWORD)
    unknown = await login(admin, "nobody@example.com", WRONG_PASSWORD)

    assert wrong == unknown
    assert wrong["errors"] == [BAD_CREDENTIALS]
    assert wrong["accessToken"] is None
    assert wrong["refreshToken"] is None
    assert wrong["user"] is None

    failed = await audit_events(admin, "login.failed")
    assert {(e["actorLabel"], e["entityId"]) for e in failed} == {
        ("ben@example.com", gid("User", user_id)),
        ("nobody@example.com", None),
    }
    async with admin.db.read() as session:
        user = await session.get(models.User, user_id)
        assert user is not None
        assert user.last_login_at is None


async def test_deactivated_user_cannot_log_in(api: Api) -> None:
    await make_user(api.db, api.settings, "gone@example.com", [FINANCE], active=False)

    right = await login(api, "gone@example.com")
    assert right["accessToken"] is None
    assert right["refreshToken"] is None
    assert right["errors"] == [
        {"field": None, "message": "this account is deactivated", "code": "BUSINESS_RULE"}
    ]
    # With a wrong password it learns nothing more than for an unknown address.
    assert (await login(api, "gone@example.com", WRONG_PASSWORD))["errors"] == [BAD_CREDENTIALS]
    assert await count(api.db, models.AuthSession) == 0


async def test_a_requests_caller_is_read_in_one_statement(
    api: Api, count_statements: Callable[..., StatementCounter]
) -> None:
    # Given users with two roles and with none
    await make_user(api.db, api.settings, "two@example.com", [FINANCE, SALES_REPRESENTATIVE])
    await make_user(api.db, api.settings, "none@example.com")
    two = await api.login("two@example.com")
    none = await api.login("none@example.com")
    counter = count_statements(api.db)

    # When each sends a request that reads nothing
    for caller in (two, none):
        assert await caller.gql("{ __typename }") == {"data": {"__typename": "Query"}}

    # Then the user, the session and the grants came in one statement each time
    assert counter.count == 2, counter.statements
    # and the grants are both roles' for the one, and none for the other
    assert "errors" not in await two.gql("{ customers(first: 1) { totalCount } }")
    refused = await none.gql("{ customers(first: 1) { totalCount } }")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await none.gql("{ viewer { email } }"))["data"] == {
        "viewer": {"email": "none@example.com"}
    }


async def test_login_requires_email_and_password(api: Api) -> None:
    payload = await login(api, "  ", "")
    assert payload["errors"] == [
        {"field": "email", "message": "is required", "code": "REQUIRED"},
        {"field": "password", "message": "is required", "code": "REQUIRED"},
    ]


# --- refresh and logout -----------------------------------------------------------------------


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(admin: Api) -> None:
    await make_user(admin.db, admin.settings, "cy@example.com", [FINANCE])
    first = await login(admin, "cy@example.com")
    other_session = await login(admin, "cy@example.com")

    second = await refresh(admin, first["refreshToken"])
    assert second["errors"] == []
    assert second["user"] == {"email": "cy@example.com"}
    assert second["refreshToken"] != first["refreshToken"]
    body = await admin.with_token(second["accessToken"]).gql(VIEWER)
    assert body["data"]["viewer"]["email"] == "cy@example.com"

    third = await refresh(admin, second["refreshToken"])
    assert third["errors"] == []

    # The first token again: refused, and the whole session with it.
    reused = await refresh(admin, first["refreshToken"])
    assert reused["accessToken"] is None
    assert reused["refreshToken"] is None
    (error,) = reused["errors"]
    assert error["field"] == "refreshToken"
    assert error["code"] == "INVALID"
    assert "already used" in error["message"]

    newest = await refresh(admin, third["refreshToken"])
    assert newest["accessToken"] is None
    assert [e["code"] for e in newest["errors"]] == ["INVALID"]
    for payload in (first, second, third):
        body = await admin.with_token(payload["accessToken"]).gql(VIEWER)
        assert "session has ended" in auth_error(body, "SESSION_ENDED")

    # Another login of the same user is another family and still works.
    body = await admin.with_token(other_session["accessToken"]).gql(VIEWER)
    assert body["data"]["viewer"]["email"] == "cy@example.com"
    assert (await refresh(admin, other_session["refreshToken"]))["errors"] == []

    revoked = await audit_events(admin, "session.revoked")
    assert [e["changes"] for e in revoked] == [
        [{"field": "reason", "before": None, "after": "refresh token reused", "secret": False}]
    ]


async def test_refresh_refuses_an_unknown_token(api: Api) -> None:
    payload = await refresh(api, "crmr_not-a-real-token")
    assert payload["errors"] == [
        {
            "field": "refreshToken",
            "message": "the refresh token is not valid; log in again",
            "code": "INVALID",
        }
    ]


async def test_logout_ends_the_session(admin: Api) -> None:
    await make_user(admin.db, admin.settings, "dee@example.com", [FINANCE])
    payload = await login(admin, "dee@example.com")
    signed_in = admin.with_token(payload["accessToken"])

    body = await signed_in.gql(LOGOUT, {"token": None})
    assert body["data"]["logout"] == {"revoked": True, "errors": []}

    assert "session has ended" in auth_error(await signed_in.gql(VIEWER), "SESSION_ENDED")
    after = await refresh(admin, payload["refreshToken"])
    assert [e["code"] for e in after["errors"]] == ["INVALID"]
    # Logging out again changes nothing.
    body = await admin.with_token(None).gql(LOGOUT, {"token": payload["refreshToken"]})
    assert body["data"]["logout"] == {"revoked": False, "errors": []}
    assert len(await audit_events(admin, "session.logged_out")) == 1


async def test_logout_without_a_session_is_refused(api: Api) -> None:
    body = await api.gql(LOGOUT, {"token": None})
    assert auth_error(body).startswith("authentication required")
    body = await api.gql(LOGOUT, {"token": "crmr_unknown"})
    assert body["data"]["logout"]["revoked"] is False
    assert [e["field"] for e in body["data"]["logout"]["errors"]] == ["refreshToken"]


# --- API tokens -------------------------------------------------------------------------------


async def test_api_token_secret_is_shown_once_and_only_its_hash_is_kept(admin: Api) -> None:
    created = await create_token(admin, "integration")
    assert created["errors"] == []
    secret = created["secret"]
    token = created["apiToken"]
    assert secret.startswith("crma_")
    assert secret.startswith(token["prefix"])
    assert len(secret) > len(token["prefix"]) + 30
    assert token["permissions"] is None

    # Not retrievable afterwards: the list and node have no secret, the type has no field.
    body = await admin.gql("{ apiTokens { id name prefix } }")
    assert body["data"]["apiTokens"] == [
        {"id": token["id"], "name": "integration", "prefix": token["prefix"]}
    ]
    body = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on ApiToken { name prefix } } }",
        {"id": token["id"]},
    )
    assert body["data"]["node"] == {"name": "integration", "prefix": token["prefix"]}
    body = await admin.gql('{ __type(name: "ApiToken") { fields { name } } }')
    fields = {field["name"] for field in body["data"]["__type"]["fields"]}
    assert "prefix" in fields
    assert not fields & {"secret", "token", "tokenHash", "hash"}
    body = await admin.gql("{ apiTokens { secret } }")
    assert body["errors"]

    async with admin.db.read() as session:
        (row,) = (await session.scalars(select(models.ApiToken))).all()
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in vars(row).values())

    # The secret works as a bearer token.
    body = await admin.with_token(secret).gql("{ viewer { email } }")
    assert body["data"]["viewer"]["email"] == "admin@example.com"


async def test_narrowed_api_token_holds_only_its_permissions(admin: Api) -> None:
    created = await create_token(admin, "reader", permissions=["users:read"])
    assert created["errors"] == []
    assert created["apiToken"]["permissions"] == ["users:read"]
    narrowed = admin.with_token(created["secret"])

    body = await narrowed.gql("{ users { edges { node { email } } } }")
    assert body["data"]["users"]["edges"] == [{"node": {"email": "admin@example.com"}}]
    body = await narrowed.gql("{ auditEvents { edges { node { id } } } }")
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "audit:read" in error["message"]
    # The user is an administrator: the same request with their login succeeds.
    body = await admin.gql("{ auditEvents { edges { node { id } } } }")
    assert body["data"]["auditEvents"]["edges"]


async def test_api_token_cannot_be_narrowed_to_a_permission_not_held(api: Api) -> None:
    finance = await api.user("fin@example.com", [FINANCE])
    body = await finance.gql(
        CREATE_TOKEN, {"name": "ci", "permissions": ["users:read", "audit:read"]}
    )
    assert body["data"] == {"createApiToken": None}
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == [
        (
            "input.permissions.1: you do not hold 'audit:read'",
            {"code": "FORBIDDEN", "argument": "input.permissions.1"},
        )
    ]
    assert await count(api.db, models.ApiToken) == 0


async def test_an_api_token_cannot_create_another(admin: Api) -> None:
    created = await create_token(admin)
    through_token = admin.with_token(created["secret"])

    again = await through_token.gql(CREATE_TOKEN, {"name": "second"})
    assert again["data"] == {"createApiToken": None}
    assert [e["extensions"] for e in again["errors"]] == [{"code": "FORBIDDEN"}]
    assert await count(admin.db, models.ApiToken) == 1


async def test_revoked_api_token_stops_working(admin: Api) -> None:
    created = await create_token(admin)
    token_id = created["apiToken"]["id"]
    through_token = admin.with_token(created["secret"])
    assert (await through_token.gql("{ viewer { email } }"))["data"]["viewer"]

    # Someone else cannot even see it to revoke it.
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    body = await rep.gql(REVOKE_TOKEN, {"id": token_id})
    assert body["data"] == {"revokeApiToken": None}
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "NOT_FOUND", "argument": "input.id"}
    ]
    assert (await through_token.gql("{ viewer { email } }"))["data"]["viewer"]

    body = await admin.gql(REVOKE_TOKEN, {"id": token_id})
    payload = body["data"]["revokeApiToken"]
    assert payload["errors"] == []
    assert payload["apiToken"]["revokedAt"] is not None

    assert auth_error(await through_token.gql("{ viewer { email } }")) == (
        "the API token has been revoked"
    )
    assert (await admin.gql("{ apiTokens { id } }"))["data"]["apiTokens"] == []
    body = await admin.gql("{ apiTokens(includeRevoked: true) { id revokedAt } }")
    assert [t["id"] for t in body["data"]["apiTokens"]] == [token_id]
    (event,) = await audit_events(admin, "api_token.revoked")
    assert event["entityId"] == token_id


async def test_api_token_expiry_must_be_in_the_future(admin: Api) -> None:
    past = (utcnow() - dt.timedelta(days=1)).isoformat()
    refused = await create_token(admin, expiresAt=past)
    assert refused["secret"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("expiresAt", "OUT_OF_RANGE")]
    assert await count(admin.db, models.ApiToken) == 0

    future = utcnow() + dt.timedelta(days=30)
    accepted = await create_token(admin, expiresAt=future.isoformat())
    assert accepted["errors"] == []
    expires = dt.datetime.fromisoformat(accepted["apiToken"]["expiresAt"])
    assert abs(expires - future) < dt.timedelta(seconds=1)


# --- throttling -------------------------------------------------------------------------------


@asynccontextmanager
async def from_address(api: Api, address: str) -> AsyncIterator[Api]:
    """The same app reached from another client address."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Api(api.app, client, api.db, api.settings)


def throttled_settings(make_settings: SettingsFactory, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "login_max_failures": 3,
        "login_lock_minutes": 15,
        "login_slowdown_seconds": 0,
    }
    values.update(overrides)
    return make_settings(**values)


def rate_limited(payload: dict[str, Any]) -> bool:
    errors = payload["errors"]
    if [e["code"] for e in errors] != ["RATE_LIMITED"]:
        return False
    assert errors[0]["field"] is None
    assert "try again in 15 minutes" in errors[0]["message"]
    assert payload["accessToken"] is None
    return True


async def test_repeated_failures_lock_the_account(
    api_factory: AppFactory, make_settings: SettingsFactory
) -> None:
    async with api_factory(throttled_settings(make_settings)) as api:
        await make_user(api.db, api.settings, "eve@example.com", [FINANCE])
        await make_user(api.db, api.settings, "fay@example.com", [FINANCE])

        for _ in range(3):
            assert (await login(api, "eve@example.com", WRONG_PASSWORD))["errors"] == [
                BAD_CREDENTIALS
            ]
        # Locked: even the right password is refused, from any address.
        assert rate_limited(await login(api, "eve@example.com"))
        async with from_address(api, "10.9.8.7") as elsewhere:
            assert rate_limited(await login(elsewhere, "eve@example.com"))
        # The lock is the account's: another account logs in from the same address.
        assert (await login(api, "fay@example.com"))["errors"] == []

        async with api.db.read() as session:
            eve = await session.scalar(
                select(models.User).where(models.User.email == "eve@example.com")
            )
            assert eve is not None
            assert eve.last_login_at is None
            sessions = await session.scalar(
                select(func.count()).where(models.AuthSession.user_id == eve.id)
            )
            actions = (
                await session.scalars(
                    select(AuditEvent.action).where(AuditEvent.entity_id == str(eve.id))
                )
            ).all()
        assert sessions == 0
        assert sorted(actions) == ["login.failed"] * 3 + ["login.refused"] * 2 + ["user.created"]


async def test_repeated_failures_from_one_address_lock_the_address(
    api_factory: AppFactory, make_settings: SettingsFactory
) -> None:
    settings = throttled_settings(
        make_settings, login_max_failures=100, login_address_max_failures=3
    )
    async with api_factory(settings) as api:
        await make_user(api.db, api.settings, "gus@example.com", [FINANCE])
        for email in ("one@example.com", "two@example.com", "three@example.com"):
            assert (await login(api, email, WRONG_PASSWORD))["errors"] == [BAD_CREDENTIALS]

        assert rate_limited(await login(api, "gus@example.com"))
        async with from_address(api, "10.9.8.7") as elsewhere:
            assert (await login(elsewhere, "gus@example.com"))["errors"] == []


async def test_an_unknown_email_is_locked_like_a_known_one(
    api_factory: AppFactory, make_settings: SettingsFactory
) -> None:
    async with api_factory(throttled_settings(make_settings)) as api:
        await make_user(api.db, api.settings, "hal@example.com", [FINANCE])
        answers: dict[str, list[list[dict[str, Any]]]] = {}
        for email in ("hal@example.com", "ghost@example.com"):
            answers[email] = []
            for _ in range(4):
                answers[email].append((await login(api, email, WRONG_PASSWORD))["errors"])
        assert answers["hal@example.com"] == answers["ghost@example.com"]
        assert answers["ghost@example.com"][:3] == [[BAD_CREDENTIALS]] * 3
        assert [e["code"] for e in answers["ghost@example.com"][3]] == ["RATE_LIMITED"]


async def test_a_success_clears_the_account_count(
    api_factory: AppFactory, make_settings: SettingsFactory
) -> None:
    async with api_factory(throttled_settings(make_settings)) as api:
        await make_user(api.db, api.settings, "ivy@example.com", [FINANCE])
        for _ in range(2):
            for _ in range(2):
                assert (await login(api, "ivy@example.com", WRONG_PASSWORD))["errors"] == [
                    BAD_CREDENTIALS
                ]
            assert (await login(api, "ivy@example.com"))["errors"] == []
        # Four failures in all, never three in a row: no lock.
        assert (await login(api, "ivy@example.com", WRONG_PASSWORD))["errors"] == [BAD_CREDENTIALS]
        assert (await login(api, "ivy@example.com"))["errors"] == []


# --- secrets nowhere --------------------------------------------------------------------------


async def dump_tables(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the test database, found by reflection."""

    def read(connection: Connection) -> dict[str, list[dict[str, Any]]]:
        metadata = MetaData()
        metadata.reflect(bind=connection)
        return {
            name: [dict(row._mapping) for row in connection.execute(select(table))]
            for name, table in metadata.tables.items()
        }

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


def texts_of(value: Any) -> Iterator[str]:
    """Every piece of text in a value: strings, keys and values of JSON, bytes decoded."""
    if isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from texts_of(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from texts_of(item)
    elif value is not None:
        yield str(value)


@pytest.fixture
def debug_logs(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    """Every log record at DEBUG, even if ``configure_logging`` stopped ``crm`` propagating."""
    monkeypatch.setattr(logging.getLogger("crm"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="crm")
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # statements and their parameters
    return caplog


async def test_no_secret_is_stored_or_logged(
    admin: Api, debug_logs: pytest.LogCaptureFixture
) -> None:
    own_new = "Velvet-Orchard-Heron-31"
    admin_set = "Granite-Willow-Osprey-64"
    created_password = "Amber-Tundra-Lynx-88"
    secrets: dict[str, str] = {
        "default password": DEFAULT_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "own new password": own_new,
        "password set by admin": admin_set,
        "created user's password": created_password,
    }

    user_id = await make_user(admin.db, admin.settings, "jo@example.com", [FINANCE])
    assert (await login(admin, "jo@example.com", WRONG_PASSWORD))["errors"]
    first = await login(admin, "jo@example.com")
    second = await login(admin, "jo@example.com")
    rotated = await refresh(admin, first["refreshToken"])
    assert rotated["errors"] == []
    for name, payload in (("first", first), ("second", second), ("rotated", rotated)):
        secrets[f"{name} access token"] = payload["accessToken"]
        secrets[f"{name} access token signature"] = payload["accessToken"].rsplit(".", 1)[1]
        secrets[f"{name} refresh token"] = payload["refreshToken"]
    secrets["admin access token"] = admin.token or ""

    created = await create_token(admin, "ci")
    assert created["errors"] == []
    secret = created["secret"]
    secrets["API token"] = secret
    secrets["API token after its prefix"] = secret[len(created["apiToken"]["prefix"]) :]
    body = await admin.with_token(secret).gql("{ viewer { email } }")
    assert body["data"]["viewer"]["email"] == "admin@example.com"

    jo = admin.with_token(rotated["accessToken"])
    body = await jo.gql(
        "mutation($id: ID!, $p: String!, $c: String) { setUserPassword(input: "
        "{userId: $id, password: $p, currentPassword: $c}) { errors { code } } }",
        {"id": gid("User", user_id), "p": own_new, "c": DEFAULT_PASSWORD},
    )
    assert body["data"]["setUserPassword"]["errors"] == []
    body = await admin.gql(
        "mutation($id: ID!, $p: String!) { setUserPassword(input: "
        "{userId: $id, password: $p}) { errors { code } } }",
        {"id": gid("User", user_id), "p": admin_set},
    )
    assert body["data"]["setUserPassword"]["errors"] == []
    body = await admin.gql(
        "mutation($p: String!) { createUser(input: "
        '{email: "kim@example.com", name: "Kim", password: $p}) { errors { code } } }',
        {"p": created_password},
    )
    assert body["data"]["createUser"]["errors"] == []
    assert (await login(admin, "kim@example.com", created_password))["errors"] == []
    assert (await login(admin, "jo@example.com", admin_set))["errors"] == []

    # Stored: no table, row or column holds any secret.
    tables = await dump_tables(admin.db)
    assert tables["refresh_tokens"]
    assert tables["api_tokens"]
    assert any(
        row["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
        for row in tables["api_tokens"]
    )
    for table, rows in tables.items():
        for row in rows:
            for column, value in row.items():
                for text in texts_of(value):
                    for what, plain in secrets.items():
                        assert plain not in text, f"{what} found in {table}.{column}"

    # The audit trail as the API shows it records that passwords changed, never the values.
    events = await audit_events(admin)
    changed = [e for e in events if e["action"] == "user.password_set"]
    assert len(changed) == 2
    assert all(
        e["changes"] == [{"field": "password", "before": None, "after": None, "secret": True}]
        for e in changed
    )
    serialised = json.dumps(events)
    for what, plain in secrets.items():
        assert plain not in serialised, f"{what} found in the audit trail"

    # Logged: nothing, at any level, in the message or the structured fields.
    records = debug_logs.records
    assert any(record.name == "crm.access" for record in records)
    assert any(record.name.startswith("sqlalchemy.engine") for record in records)
    log_text = debug_logs.text + "\n".join(
        str(value) for record in records for value in vars(record).values()
    )
    for what, plain in secrets.items():
        assert plain not in log_text, f"{what} found in the logs"
