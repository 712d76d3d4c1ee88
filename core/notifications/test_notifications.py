"""The notification inbox (:mod:`core.notifications`): :func:`notify` writes in the caller's
transaction, each user reads their own inbox through GraphQL, marks it read and chooses
channels; the push reaches subscribers in the process after the commit (SQLite) or through
``LISTEN`` (PostgreSQL), never for a rollback.

A test plugin declares the kind ``test.ping``; the tests call ``notify`` on the app's
database. Every test runs on SQLite and, with ``CRM_TEST_POSTGRES_URL``, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, update
from strawberry import relay

from core.catalog import SALES_REPRESENTATIVE, SYSTEM_ADMINISTRATOR
from core.config import Settings
from core.hookspecs import hookimpl
from core.host import CRMPluginManager
from core.i18n import Text, _
from core.identity.models import Role, RoleGrant, User
from core.notifications import broker
from core.notifications.models import Notification
from core.notifications.service import NotificationKind, notify, purge_read
from schema.testkit import Api
from schema.testkit_tools import make_user

INBOX = """
query($first: Int, $after: String, $filter: NotificationFilter, $userId: ID) {
  notifications(first: $first, after: $after, filter: $filter, userId: $userId) {
    edges { node { id kind title body read readAt subjectId } }
    pageInfo { hasNextPage endCursor }
  }
}"""
UNREAD = "{ unreadNotificationCount }"
MARK = """
mutation($ids: [ID!]) {
  markNotificationsRead(input: {ids: $ids}) { marked unreadCount errors { field code } }
}"""
PREFERENCES = "{ notificationPreferences { kind description inApp email } }"
UPDATE_PREFERENCES = """
mutation($preferences: [NotificationPreferenceInput!]!) {
  updateNotificationPreferences(input: {preferences: $preferences}) {
    preferences { kind description inApp email }
    errors { field message code }
  }
}"""
LOCALE = """
mutation($locale: String) {
  updateMyPreferences(input: {locale: $locale}) { errors { field code } }
}"""


class Pinger:
    """A plugin declaring the notification kind ``test.ping``."""

    @hookimpl
    def crm_notification_kinds(self) -> Mapping[str, NotificationKind]:
        return {"test.ping": NotificationKind(_("Test pings"), email=False)}


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("pinger",)


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    return {"pinger": Pinger()}


@dataclass(frozen=True)
class Env:
    """What ``notify`` needs of its caller."""

    settings: Settings
    pm: CRMPluginManager


async def ping(
    api: Api,
    user_ids: Iterable[int | None],
    title: Text | str = "Ping",
    *,
    kind: str = "test.ping",
    dedupe_key: str | None = None,
    subject: tuple[str, int] | None = None,
    fail: bool = False,
) -> int:
    """Notify ``user_ids`` in a transaction of its own (rolled back by an error after it
    when ``fail``); how many were told."""
    async with api.db.transaction() as session:
        told = await notify(
            session,
            Env(api.settings, api.app.state.crm.pm),
            user_ids=user_ids,
            kind=kind,
            title=title,
            body="Body",
            subject=subject,
            now=dt.datetime.now(dt.UTC),
            dedupe_key=dedupe_key,
        )
        if fail:
            raise RuntimeError("the change failed")
        return told


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def inbox(api: Api, **variables: Any) -> list[dict[str, Any]]:
    found = data(await api.gql(INBOX, variables))["notifications"]
    return [edge["node"] for edge in found["edges"]]


def own_id(api: Api) -> int:
    assert api.user_id is not None
    return api.user_id


def user_gid(user_id: int) -> str:
    return relay.to_base64("User", user_id)


async def rows(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_each_user_reads_their_own_inbox_newest_first_in_pages(api: Api) -> None:
    ann = await api.user("ann@example.com")
    bob = await api.user("bob@example.com")
    for n in range(3):
        assert await ping(api, [own_id(ann)], f"Ann {n}") == 1
    assert await ping(api, [own_id(bob), None, own_id(bob)], "Bob 0") == 1
    assert [node["title"] for node in await inbox(ann)] == ["Ann 2", "Ann 1", "Ann 0"]
    assert [node["title"] for node in await inbox(bob)] == ["Bob 0"]
    node = (await inbox(bob))[0]
    assert node["kind"] == "test.ping"
    assert node["body"] == "Body"
    assert node["read"] is False
    assert node["readAt"] is None
    assert node["subjectId"] is None

    first = data(await ann.gql(INBOX, {"first": 2}))["notifications"]
    assert [edge["node"]["title"] for edge in first["edges"]] == ["Ann 2", "Ann 1"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = data(await ann.gql(INBOX, {"first": 2, "after": first["pageInfo"]["endCursor"]}))
    assert [edge["node"]["title"] for edge in rest["notifications"]["edges"]] == ["Ann 0"]
    assert rest["notifications"]["pageInfo"]["hasNextPage"] is False


async def test_marking_read_filters_and_counts(api: Api) -> None:
    ann = await api.user("ann@example.com")
    bob = await api.user("bob@example.com")
    await ping(api, [own_id(ann)], "One")
    await ping(api, [own_id(ann)], "Two")
    await ping(api, [own_id(ann)], "Three")
    await ping(api, [own_id(bob)], "Bob's")
    assert data(await ann.gql(UNREAD))["unreadNotificationCount"] == 3
    ids = {node["title"]: node["id"] for node in await inbox(ann)}
    [bobs] = [node["id"] for node in await inbox(bob)]

    marked = data(await ann.gql(MARK, {"ids": [ids["Two"], bobs]}))["markNotificationsRead"]
    assert marked == {"marked": 1, "unreadCount": 2, "errors": []}
    assert data(await bob.gql(UNREAD))["unreadNotificationCount"] == 1, "Bob's stays unread"
    unread = await inbox(ann, filter={"unread": True})
    assert [node["title"] for node in unread] == ["Three", "One"]
    read = await inbox(ann, filter={"unread": False})
    assert [(node["title"], node["read"]) for node in read] == [("Two", True)]
    assert read[0]["readAt"] is not None

    marked = data(await ann.gql(MARK, {"ids": None}))["markNotificationsRead"]
    assert marked == {"marked": 2, "unreadCount": 0, "errors": []}
    assert data(await ann.gql(UNREAD))["unreadNotificationCount"] == 0
    assert await inbox(ann, filter={"unread": True}) == []
    assert data(await bob.gql(UNREAD))["unreadNotificationCount"] == 1


async def test_a_title_is_rendered_in_each_users_language(api: Api) -> None:
    ann = await api.user("ann@example.com")
    wei = await api.user("wei@example.com")
    answer = data(await wei.gql(LOCALE, {"locale": "zh-CN"}))["updateMyPreferences"]
    assert answer["errors"] == []
    assert await ping(api, [own_id(ann), own_id(wei)], _("API token")) == 2
    assert [node["title"] for node in await inbox(ann)] == ["API token"]
    assert [node["title"] for node in await inbox(wei)] == ["API 令牌"]
    await ping(api, [own_id(wei)], "Plain words stay as written")
    assert (await inbox(wei))[0]["title"] == "Plain words stay as written"


async def test_a_dedupe_key_tells_each_user_once(api: Api) -> None:
    ann = await api.user("ann@example.com")
    bob = await api.user("bob@example.com")
    assert await ping(api, [own_id(ann)], "Reminder", dedupe_key="reminder:1") == 1
    assert await ping(api, [own_id(ann), own_id(bob)], "Reminder", dedupe_key="reminder:1") == 1
    assert await ping(api, [own_id(ann)], "Reminder", dedupe_key="reminder:2") == 1
    assert len(await inbox(ann)) == 2
    assert len(await inbox(bob)) == 1


async def test_deactivated_users_and_unknown_kinds(api: Api) -> None:
    ann = await api.user("ann@example.com")
    gone = await make_user(api.db, api.settings, "gone@example.com", active=False)
    assert await ping(api, [gone, own_id(ann)]) == 1
    assert await ping(api, [gone]) == 0
    assert await rows(api) == 1
    with pytest.raises(ValueError, match=r"unknown notification kind 'test\.nothing'"):
        await ping(api, [own_id(ann)], kind="test.nothing")
    assert await rows(api) == 1


async def test_another_users_inbox_needs_notifications_manage(api: Api) -> None:
    ann = await api.user("ann@example.com")
    await ping(api, [own_id(ann)], "For Ann", subject=("User", own_id(ann)))
    rep = await api.as_role(SALES_REPRESENTATIVE)
    body = await rep.gql(INBOX, {"userId": user_gid(own_id(ann))})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
    assert body["data"]["notifications"] is None
    assert await inbox(rep, userId=user_gid(own_id(rep))) == []

    operator = await api.as_role(SYSTEM_ADMINISTRATOR)
    [node] = await inbox(operator, userId=user_gid(own_id(ann)))
    assert node["title"] == "For Ann"
    assert node["subjectId"] == user_gid(own_id(ann))
    assert await inbox(operator) == []

    # Held at less than ALL scope, the permission reads no other inbox (not even a teammate's).
    async with api.db.transaction() as session:
        role = Role(key="INBOX_READER", name="Inbox reader", description="", builtin=False)
        session.add(role)
        await session.flush()
        session.add(RoleGrant(role_id=role.id, permission="notifications:manage", scope="TEAM"))
    teammate = await api.user("lead@example.com", ["INBOX_READER"], team="North")
    mate = await api.user("mate@example.com", team="North")
    await ping(api, [own_id(mate)], "For a teammate")
    body = await teammate.gql(INBOX, {"userId": user_gid(own_id(mate))})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_preferences_list_kinds_and_turn_the_inbox_off(api: Api) -> None:
    ann = await api.user("ann@example.com")
    bob = await api.user("bob@example.com")
    listed = data(await ann.gql(PREFERENCES))["notificationPreferences"]
    assert {"kind": "test.ping", "description": "Test pings", "inApp": True, "email": False} in (
        listed
    )
    kinds = [choice["kind"] for choice in listed]
    assert kinds == sorted(kinds)

    wrong = data(
        await ann.gql(
            UPDATE_PREFERENCES,
            {"preferences": [{"kind": "test.ping", "email": True}, {"kind": "test.nothing"}]},
        )
    )["updateNotificationPreferences"]
    assert wrong["preferences"] is None
    assert [(e["field"], e["code"]) for e in wrong["errors"]] == [("preferences.1.kind", "INVALID")]
    wrong = data(await ann.gql(UPDATE_PREFERENCES, {"preferences": [{"kind": "test.nothing"}]}))[
        "updateNotificationPreferences"
    ]
    assert [e["field"] for e in wrong["errors"]] == ["preferences.0.kind"]
    assert "test.nothing" in wrong["errors"][0]["message"]

    changed = data(
        await ann.gql(UPDATE_PREFERENCES, {"preferences": [{"kind": "test.ping", "inApp": False}]})
    )["updateNotificationPreferences"]
    assert changed["errors"] == []
    [mine] = [choice for choice in changed["preferences"] if choice["kind"] == "test.ping"]
    assert mine == {
        "kind": "test.ping",
        "description": "Test pings",
        "inApp": False,
        "email": False,
    }
    assert await ping(api, [own_id(ann), own_id(bob)]) == 2
    assert await inbox(ann) == []
    assert len(await inbox(bob)) == 1
    listed = data(await bob.gql(PREFERENCES))["notificationPreferences"]
    assert {"kind": "test.ping", "description": "Test pings", "inApp": True, "email": False} in (
        listed
    )


async def test_a_rolled_back_notification_leaves_nothing_and_is_never_pushed(api: Api) -> None:
    ann = await api.user("ann@example.com")
    user_id = own_id(ann)
    hub = broker.hub_of(api.db)
    try:
        async with hub.subscribe(user_id) as queue:
            with pytest.raises(RuntimeError, match="the change failed"):
                await ping(api, [user_id], "Never", fail=True)
            assert await rows(api) == 0
            assert queue.empty()

            await ping(api, [user_id], "Committed")
            [node] = await inbox(ann)
            pushed = await asyncio.wait_for(queue.get(), 5)
            assert relay.to_base64("Notification", pushed) == node["id"]
            assert queue.empty(), "the rolled-back notification was pushed"
    finally:
        await hub.close()
    assert await inbox(ann, filter={"unread": True}) == [node]


async def test_a_stored_zone_the_database_no_longer_knows_shows_the_deployments(api: Api) -> None:
    ann = await api.user("ann@example.com")
    async with api.db.transaction() as session:
        await session.execute(
            update(User).where(User.id == own_id(ann)).values(time_zone="Mars/Olympus_Mons")
        )
    due = dt.datetime(2026, 12, 5, 1, 30, tzinfo=dt.UTC)
    assert await ping(api, [own_id(ann)], _("Due {due}.", due=due)) == 1
    local = due.astimezone(api.settings.zone).strftime("%Y-%m-%d %H:%M")
    assert (await inbox(ann))[0]["title"] == f"Due {local}."


async def test_read_notifications_are_purged_after_the_retention_period(api: Api) -> None:
    ann = await api.user("ann@example.com")
    await ping(api, [own_id(ann)], "Old and read")
    await ping(api, [own_id(ann)], "Old and unread")
    async with api.db.transaction() as session:
        old = dt.datetime.now(dt.UTC) - dt.timedelta(days=api.settings.notification_retention_days)
        await session.execute(update(Notification).values(created_at=old - dt.timedelta(days=1)))
        await session.execute(
            update(Notification).where(Notification.title == "Old and read").values(read_at=old)
        )
    await ping(api, [own_id(ann)], "Recent and read")
    async with api.db.transaction() as session:
        await session.execute(
            update(Notification)
            .where(Notification.title == "Recent and read")
            .values(read_at=dt.datetime.now(dt.UTC))
        )
    async with api.db.transaction() as session:
        assert await purge_read(session, api.settings, dt.datetime.now(dt.UTC)) == 1
    assert [node["title"] for node in await inbox(ann)] == ["Recent and read", "Old and unread"]
