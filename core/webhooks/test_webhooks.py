"""Outbound webhooks end to end: subscriptions over the API, events written with the change,
posts to a real HTTP receiver on 127.0.0.1 delivered by the outbox worker under the
controllable clock, signatures checked with the secret by the test's own HMAC.

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.config import Settings
from core.errors import UserErrorCode, UserErrors
from core.host import PluginError
from core.outbox import OutboxMessage, OutboxWorker
from core.schedule import Scheduler
from core.webhooks import addresses
from core.webhooks.events import UnknownEventType, emit_event
from schema.modules import build_plugin_manager
from schema.serving import CRM
from schema.testkit_webhooks import WebhookReceiver, signature_valid
from tests.support import FIXTURE, Api, FakeClock, HookSet, running_app

START = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
ERRORS = "errors { field message code }"
SUBSCRIPTION = "id url description eventTypes active consecutiveFailures disabledReason version"
CREATE = f"""
mutation($input: CreateWebhookSubscriptionInput!) {{
  createWebhookSubscription(input: $input) {{
    secret webhookSubscription {{ {SUBSCRIPTION} }} {ERRORS}
  }}
}}"""
UPDATE = f"""
mutation($input: UpdateWebhookSubscriptionInput!) {{
  updateWebhookSubscription(input: $input) {{ webhookSubscription {{ {SUBSCRIPTION} }} {ERRORS} }}
}}"""
ROTATE = f"""
mutation($id: ID!) {{
  rotateWebhookSecret(input: {{id: $id}}) {{ secret webhookSubscription {{ id }} {ERRORS} }}
}}"""
DELETE = f"""
mutation($id: ID!) {{
  deleteWebhookSubscription(input: {{id: $id}}) {{ deletedWebhookSubscriptionId {ERRORS} }}
}}"""
REDELIVER = f"""
mutation($input: RedeliverWebhookInput!) {{
  redeliverWebhook(input: $input) {{ delivery {{ id eventId }} {ERRORS} }}
}}"""
GET = f"query($id: ID!) {{ webhookSubscription(id: $id) {{ {SUBSCRIPTION} }} }}"
LIST = f"""
query {{ webhookSubscriptions(first: 10) {{ edges {{ node {{ {SUBSCRIPTION} }} }} }} }}"""
EVENT_TYPES = "query { webhookEventTypes { name description } }"
DELIVERIES = """
query($id: ID!) {
  webhookDeliveries(subscriptionId: $id, first: 50) {
    edges { node {
      id subscriptionId eventId eventType attempt attemptedAt statusCode error durationMs success
    } }
  }
}"""
CREATE_CUSTOMER = f"""
mutation($input: CreateCustomerInput!) {{
  createCustomer(input: $input) {{ customer {{ id number version }} {ERRORS} }}
}}"""
UPDATE_CUSTOMER = f"""
mutation($input: UpdateCustomerInput!) {{
  updateCustomer(input: $input) {{ customer {{ id version }} {ERRORS} }}
}}"""
AUDIT = """
query($id: ID!) {
  auditEvents(first: 20, filter: {entityId: $id}) { edges { node { action actorLabel } } }
}"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(webhooks_allow_private=True, webhooks_disable_after=3)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def api(settings: Settings, clock: FakeClock) -> AsyncIterator[Api]:
    async with running_app(settings, clock=clock) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", ["ADMINISTRATOR"], lasting=True)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as running:
        yield running


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]
    return found


async def deliver(api: Api) -> int:
    """Deliver every due outbox message, as a worker would, at the app's clock."""
    state = api.app.state.crm
    worker = OutboxWorker(db=api.db, settings=api.settings, pm=state.pm, clock=state.clock)
    return await worker.run_until_idle()


async def subscribe(
    api: Api, url: str, event_types: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    body = await api.gql(
        CREATE,
        {"input": {"url": url, "eventTypes": event_types or ["customer.created"], **extra}},
    )
    payload: dict[str, Any] = data(body)["createWebhookSubscription"]
    assert payload["errors"] == [], payload
    return payload


async def create_customer(api: Api, name: str = "Acme Ltd") -> dict[str, Any]:
    payload = data(await api.gql(CREATE_CUSTOMER, {"input": {"name": name}}))["createCustomer"]
    assert payload["errors"] == [], payload
    customer: dict[str, Any] = payload["customer"]
    return customer


async def deliveries(api: Api, subscription_id: str) -> list[dict[str, Any]]:
    edges = data(await api.gql(DELIVERIES, {"id": subscription_id}))["webhookDeliveries"]["edges"]
    return [edge["node"] for edge in edges]


async def outbox_count(api: Api) -> int:
    async with api.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


async def test_a_change_is_posted_signed_with_the_secret_shown_once(
    admin: Api, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    created = await subscribe(admin, receiver.url, ["customer.created", "customer.updated"])
    secret = created["secret"]
    subscription = created["webhookSubscription"]
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert subscription["active"] is True
    assert subscription["version"] == 1
    # the secret is never readable again
    body = await admin.gql(
        "query($id: ID!) { webhookSubscription(id: $id) { secret } }", {"id": subscription["id"]}
    )
    assert "Cannot query field 'secret'" in body["errors"][0]["message"]
    assert secret not in json.dumps(data(await admin.gql(LIST)))

    customer = await create_customer(admin, "Jane Doe")
    assert receiver.requests == []  # nothing is sent from inside the request
    assert await deliver(admin) == 1
    (request,) = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks"
    assert request.headers["content-type"] == "application/json"
    assert signature_valid(secret, request)
    assert request.headers["webhook-timestamp"] == str(int(clock().timestamp()))
    event = request.json()
    assert event["id"] == request.headers["webhook-id"]
    assert event["id"].startswith("msg_")
    assert event["type"] == "customer.created"
    assert event["timestamp"] == START.isoformat()
    assert event["data"]["customer"]["id"] == customer["id"]
    assert event["data"]["customer"]["number"] == customer["number"]
    assert "Jane" not in request.body.decode()  # no personal data in events

    (logged,) = await deliveries(admin, subscription["id"])
    assert logged["success"] is True
    assert logged["statusCode"] == 200
    assert logged["error"] is None
    assert (logged["eventId"], logged["eventType"], logged["attempt"]) == (
        event["id"],
        "customer.created",
        1,
    )
    assert logged["subscriptionId"] == subscription["id"]

    # an update is posted too; a tampered body or another secret does not verify
    update = {"id": customer["id"], "version": customer["version"], "stage": "ACTIVE"}
    assert (
        data(await admin.gql(UPDATE_CUSTOMER, {"input": update}))["updateCustomer"]["errors"] == []
    )
    await deliver(admin)
    second = receiver.requests[1]
    assert second.json()["type"] == "customer.updated"
    assert second.json()["data"]["changedFields"] == ["stage"]
    assert signature_valid(secret, second)
    second.body = second.body.replace(b"stage", b"stagf")
    assert not signature_valid(secret, second)

    rotated = data(await admin.gql(ROTATE, {"id": subscription["id"]}))["rotateWebhookSecret"]
    assert rotated["errors"] == []
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != secret
    await create_customer(admin, "Bob")
    await deliver(admin)
    third = receiver.requests[2]
    assert signature_valid(rotated["secret"], third)
    assert not signature_valid(secret, third)


async def test_only_subscribed_active_types_are_written(
    admin: Api, receiver: WebhookReceiver
) -> None:
    await subscribe(admin, receiver.url, ["customer.archived"])
    off = await subscribe(admin, receiver.url, ["customer.created"], active=False)
    await create_customer(admin)
    assert await outbox_count(admin) == 0
    sub = off["webhookSubscription"]
    turned_on = data(
        await admin.gql(
            UPDATE, {"input": {"id": sub["id"], "version": sub["version"], "active": True}}
        )
    )["updateWebhookSubscription"]
    assert turned_on["errors"] == []
    assert turned_on["webhookSubscription"]["active"] is True
    await create_customer(admin, "Second")
    assert await outbox_count(admin) == 1
    assert await deliver(admin) == 1
    assert [r.json()["type"] for r in receiver.requests] == ["customer.created"]


async def test_event_types_are_listed_and_checked(admin: Api, receiver: WebhookReceiver) -> None:
    names = [t["name"] for t in data(await admin.gql(EVENT_TYPES))["webhookEventTypes"]]
    assert {"customer.created", "customer.updated", "customer.archived", "customer.merged"} <= set(
        names
    )
    body = await admin.gql(
        CREATE, {"input": {"url": receiver.url, "eventTypes": ["customer.created", "nope.done"]}}
    )
    payload = data(body)["createWebhookSubscription"]
    assert payload["secret"] is None
    assert payload["webhookSubscription"] is None
    (error,) = payload["errors"]
    assert error["field"] == "eventTypes.1"
    assert error["code"] == "INVALID"
    assert "nope.done" in error["message"]
    empty = data(await admin.gql(CREATE, {"input": {"url": receiver.url, "eventTypes": []}}))
    assert [e["field"] for e in empty["createWebhookSubscription"]["errors"]] == ["eventTypes"]


REFUSED_URLS = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:192.168.0.1]/hook",
    "http://0.0.0.0/",
    "ftp://example.com/hook",
    "https://",
    "not a url",
    "https://user:password@example.com/hook",
    "http://example.com:99999/",
    "",
]


async def test_refused_urls_name_the_url_field(make_settings: Callable[..., Settings]) -> None:
    async with running_app(make_settings()) as api:  # private addresses not allowed
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        for url in REFUSED_URLS:
            body = await admin.gql(
                CREATE, {"input": {"url": url, "eventTypes": ["customer.created"]}}
            )
            errors = data(body)["createWebhookSubscription"]["errors"]
            assert [e["field"] for e in errors] == ["url"], (url, errors)
        # a public address is taken (checked without any lookup: it is a literal)
        public = {"url": "https://93.184.216.34/hook", "eventTypes": ["customer.created"]}
        created = data(await admin.gql(CREATE, {"input": public}))["createWebhookSubscription"]
        assert created["errors"] == []
        # and a change of URL is checked the same way
        subscription = created["webhookSubscription"]
        change = {"id": subscription["id"], "version": 1, "url": "http://localhost:8000/"}
        body = await admin.gql(UPDATE, {"input": change})
        errors = data(body)["updateWebhookSubscription"]["errors"]
        assert [e["field"] for e in errors] == ["url"]


async def test_a_failing_receiver_is_retried_with_backoff_then_disabled(
    admin: Api, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    receiver.status = 500
    created = await subscribe(admin, receiver.url)
    subscription = created["webhookSubscription"]
    await create_customer(admin)
    assert await deliver(admin) == 1
    assert len(receiver.requests) == 1
    assert await deliver(admin) == 0  # not due yet: backoff
    assert len(receiver.requests) == 1
    for _ in range(5):  # the backoff is at most hours apart; the third failure disables it
        clock.advance(hours=7)
        await deliver(admin)
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # the same event
    logged = await deliveries(admin, subscription["id"])
    assert [(d["attempt"], d["statusCode"], d["success"]) for d in logged] == [
        (3, 500, False),
        (2, 500, False),
        (1, 500, False),
    ]
    assert logged[0]["error"] == "HTTP 500"
    now = data(await admin.gql(GET, {"id": subscription["id"]}))["webhookSubscription"]
    assert now["active"] is False
    assert now["consecutiveFailures"] == 3
    assert "3 failed deliveries in a row" in now["disabledReason"]
    trail = data(await admin.gql(AUDIT, {"id": subscription["id"]}))["auditEvents"]["edges"]
    assert ("webhook_subscription.disabled", "webhooks") in [
        (e["node"]["action"], e["node"]["actorLabel"]) for e in trail
    ]
    # its creator is told (in the app, and by e-mail, which the deliveries above sent)
    told = await admin.gql("{ notifications(first: 1) { edges { node { kind title body } } } }")
    assert data(told)["notifications"]["edges"][0]["node"] == {
        "kind": "webhook.disabled",
        "title": f"The webhook to {receiver.url} was turned off",
        "body": "Reason: 3 failed deliveries in a row. Turn it on again once the receiver works.",
    }
    # disabled: nothing more is written or posted; turned on again, it starts afresh
    await create_customer(admin, "Later")
    assert await deliver(admin) == 0
    receiver.status = 204
    again = data(
        await admin.gql(
            UPDATE, {"input": {"id": now["id"], "version": now["version"], "active": True}}
        )
    )["updateWebhookSubscription"]["webhookSubscription"]
    assert (again["active"], again["consecutiveFailures"], again["disabledReason"]) == (
        True,
        0,
        None,
    )
    await create_customer(admin, "Back")
    assert await deliver(admin) == 1
    assert (await deliveries(admin, subscription["id"]))[0]["success"] is True


async def test_gone_disables_at_once(admin: Api, receiver: WebhookReceiver) -> None:
    receiver.status = 410
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    await create_customer(admin)
    await deliver(admin)
    now = data(await admin.gql(GET, {"id": subscription["id"]}))["webhookSubscription"]
    assert now["active"] is False
    assert "410" in now["disabledReason"]


async def test_redeliver_posts_the_same_event_again(admin: Api, receiver: WebhookReceiver) -> None:
    created = await subscribe(admin, receiver.url)
    subscription = created["webhookSubscription"]
    await create_customer(admin)
    await deliver(admin)
    (first,) = await deliveries(admin, subscription["id"])
    body = await admin.gql(REDELIVER, {"input": {"deliveryId": first["id"]}})
    assert data(body)["redeliverWebhook"]["errors"] == []
    body = await admin.gql(
        REDELIVER, {"input": {"subscriptionId": subscription["id"], "eventId": first["eventId"]}}
    )
    assert data(body)["redeliverWebhook"]["delivery"]["eventId"] == first["eventId"]
    assert await deliver(admin) == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first["eventId"]] * 3
    assert all(signature_valid(created["secret"], r) for r in receiver.requests)
    assert len({r.body for r in receiver.requests}) == 1
    assert len(await deliveries(admin, subscription["id"])) == 3

    unknown = await admin.gql(
        REDELIVER, {"input": {"subscriptionId": subscription["id"], "eventId": "msg_nothing"}}
    )
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    missing = await admin.gql(REDELIVER, {"input": {"eventId": "msg_nothing"}})
    assert [e["field"] for e in data(missing)["redeliverWebhook"]["errors"]] == ["deliveryId"]


async def test_a_rolled_back_change_writes_no_event(
    make_settings: Callable[..., Settings], clock: FakeClock, receiver: WebhookReceiver
) -> None:
    async def veto(session: Any, customer: Any, context: Any) -> None:
        # a listener after core's webhooks refuses the change: everything rolls back
        raise UserErrors.single("name", "refused by a listener", UserErrorCode.BUSINESS_RULE)

    settings = make_settings(plugins=("fixture", "veto"), webhooks_allow_private=True)
    plugins = {**FIXTURE, "veto": HookSet(crm_customer_created=veto)}
    async with running_app(settings, clock=clock, extra_plugins=plugins) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        await subscribe(admin, receiver.url)
        body = await admin.gql(CREATE_CUSTOMER, {"input": {"name": "Never"}})
        assert data(body)["createCustomer"]["errors"][0]["message"] == "refused by a listener"
        assert await outbox_count(admin) == 0
        assert await deliver(admin) == 0
    assert receiver.requests == []


async def test_deleting_drops_queued_events(admin: Api, receiver: WebhookReceiver) -> None:
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    await create_customer(admin)
    body = await admin.gql(DELETE, {"id": subscription["id"]})
    assert data(body)["deleteWebhookSubscription"] == {
        "deletedWebhookSubscriptionId": subscription["id"],
        "errors": [],
    }
    assert await deliver(admin) == 1
    assert receiver.requests == []
    assert data(await admin.gql(GET, {"id": subscription["id"]}))["webhookSubscription"] is None


async def test_a_stale_version_is_a_conflict(admin: Api, receiver: WebhookReceiver) -> None:
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    update = {"id": subscription["id"], "version": 1, "description": "CRM events"}
    first = data(await admin.gql(UPDATE, {"input": update}))["updateWebhookSubscription"]
    assert first["errors"] == []
    assert first["webhookSubscription"]["version"] == 2
    stale = data(await admin.gql(UPDATE, {"input": update}))["updateWebhookSubscription"]
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]
    assert stale["webhookSubscription"]["description"] == "CRM events"


@pytest.mark.parametrize(
    "role", ["SALES_REPRESENTATIVE", "CUSTOMER_MANAGER", "SUPPORT_REPRESENTATIVE", "FINANCE"]
)
async def test_only_administrators_manage_webhooks(
    api: Api, admin: Api, receiver: WebhookReceiver, role: str
) -> None:
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    caller = await api.as_role(role)
    for query, variables in [
        (CREATE, {"input": {"url": receiver.url, "eventTypes": ["customer.created"]}}),
        (ROTATE, {"id": subscription["id"]}),
        (DELETE, {"id": subscription["id"]}),
        (LIST, None),
        (EVENT_TYPES, None),
        (DELIVERIES, {"id": subscription["id"]}),
        (REDELIVER, {"input": {"subscriptionId": subscription["id"], "eventId": "msg_x"}}),
    ]:
        body = await caller.gql(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, body)
    assert (
        data(
            await caller.gql("query($id: ID!) { node(id: $id) { id } }", {"id": subscription["id"]})
        )["node"]
        is None
    )
    system_admin = await api.as_role("SYSTEM_ADMINISTRATOR")
    assert len(data(await system_admin.gql(LIST))["webhookSubscriptions"]["edges"]) == 1


async def test_emitting_an_undeclared_type_is_a_programming_error(admin: Api) -> None:
    async with admin.db.transaction() as session:
        with pytest.raises(UnknownEventType):
            await emit_event(session, "customer.exploded", {}, now=START)


async def test_a_post_connects_to_the_checked_address_without_proxies(
    admin: Api, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name that only the service's own lookup answers (with the receiver's address): a
    # second lookup by the HTTP client would fail, and so would a proxy from the environment.
    port = receiver.url.split(":")[2].split("/")[0]
    checked = [ipaddress.ip_address("127.0.0.1")]

    async def resolve(url: str) -> list[addresses.IPAddress]:
        assert "receiver.invalid" in url
        return checked

    monkeypatch.setattr(addresses, "resolve", resolve)
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    created = await subscribe(admin, f"http://receiver.invalid:{port}/hooks")
    await create_customer(admin)
    assert await deliver(admin) == 1
    (request,) = receiver.requests
    assert request.headers["host"] == f"receiver.invalid:{port}"
    assert request.path == "/hooks"
    assert signature_valid(created["secret"], request)
    (logged,) = await deliveries(admin, created["webhookSubscription"]["id"])
    assert logged["success"] is True


class SlowReceiver:
    """A receiver on 127.0.0.1 that never finishes its answer: ``trickle`` sends a header
    line every few hundredths of a second (each read on time, the whole answer never
    complete); otherwise it answers 500 with an endless body as fast as it can."""

    def __init__(self, *, trickle: bool) -> None:
        self.trickle = trickle
        self.url = ""
        self.served = 0

    async def __aenter__(self) -> SlowReceiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/hooks"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.served += 1
        try:
            async with asyncio.timeout(30):
                await reader.readuntil(b"\r\n\r\n")
                if self.trickle:
                    writer.write(b"HTTP/1.1 200 OK\r\n")
                    for n in range(10_000):
                        writer.write(f"x-wait-{n}: 1\r\n".encode())
                        await writer.drain()
                        await asyncio.sleep(0.02)  # the receiver's pace, not the test's wait
                else:
                    writer.write(b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"2000\r\n" + b"e" * 0x2000 + b"\r\n"
                    for _ in range(100_000):
                        writer.write(chunk)
                        await writer.drain()
        except (ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()


@pytest.mark.parametrize("trickle", [True, False])
async def test_a_post_is_bounded_in_time_and_in_what_it_reads(
    make_settings: Callable[..., Settings], clock: FakeClock, trickle: bool
) -> None:
    settings = make_settings(webhooks_allow_private=True, webhooks_timeout_seconds=0.5)
    async with SlowReceiver(trickle=trickle) as slow, running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        subscription = (await subscribe(admin, slow.url))["webhookSubscription"]
        await create_customer(admin)
        async with asyncio.timeout(10):  # unbounded, the post would never end
            assert await deliver(admin) == 1
        (logged,) = await deliveries(admin, subscription["id"])
        assert logged["success"] is False
        if trickle:
            assert logged["statusCode"] is None
            assert logged["error"] == "timed out: no complete answer within 0.5 seconds"
        else:
            assert logged["statusCode"] == 500
            assert logged["error"] == "HTTP 500: " + "e" * 1024
        async with api.db.read() as session:
            message = await session.scalar(select(OutboxMessage))
        assert message is not None
        assert message.status == "PENDING"  # retried later


async def test_failures_counted_do_not_make_an_edit_stale(
    admin: Api, receiver: WebhookReceiver
) -> None:
    receiver.status = 500
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    assert subscription["version"] == 1
    await create_customer(admin, "One")
    await create_customer(admin, "Two")
    assert await deliver(admin) == 2  # two failures; the third would turn it off
    now = data(await admin.gql(GET, {"id": subscription["id"]}))["webhookSubscription"]
    assert (now["consecutiveFailures"], now["active"], now["version"]) == (2, True, 1)
    edit = {"id": subscription["id"], "version": 1, "description": "ERP sync"}
    edited = data(await admin.gql(UPDATE, {"input": edit}))["updateWebhookSubscription"]
    assert edited["errors"] == []
    assert edited["webhookSubscription"]["description"] == "ERP sync"
    assert edited["webhookSubscription"]["consecutiveFailures"] == 2


async def test_turning_off_pauses_queued_events(
    admin: Api, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    await create_customer(admin)
    off = {"id": subscription["id"], "version": 1, "active": False}
    assert (
        data(await admin.gql(UPDATE, {"input": off}))["updateWebhookSubscription"]["errors"] == []
    )
    assert await deliver(admin) == 1
    assert receiver.requests == []
    assert await deliveries(admin, subscription["id"]) == []
    async with admin.db.read() as session:
        waiting = await session.scalar(select(OutboxMessage))
    assert waiting is not None
    assert (waiting.status, waiting.attempts) == ("PENDING", 1)
    on = {"id": subscription["id"], "version": 2, "active": True}
    assert data(await admin.gql(UPDATE, {"input": on}))["updateWebhookSubscription"]["errors"] == []
    clock.advance(hours=7)
    assert await deliver(admin) == 1
    (request,) = receiver.requests
    assert request.json()["type"] == "customer.created"
    (logged,) = await deliveries(admin, subscription["id"])
    assert (logged["success"], logged["attempt"]) == (True, 2)


async def test_an_event_paused_past_its_attempts_is_logged_for_redelivery(
    make_settings: Callable[..., Settings], clock: FakeClock, receiver: WebhookReceiver
) -> None:
    settings = make_settings(webhooks_allow_private=True, outbox_max_attempts=2)
    async with running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"], lasting=True)
        subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
        await create_customer(admin)
        off = {"id": subscription["id"], "version": 1, "active": False}
        await admin.gql(UPDATE, {"input": off})
        for _ in range(3):
            await deliver(admin)
            clock.advance(hours=7)
        assert receiver.requests == []
        (logged,) = await deliveries(admin, subscription["id"])
        assert (logged["success"], logged["statusCode"], logged["attempt"]) == (False, None, 2)
        assert logged["error"].startswith("not posted: the subscription was turned off")
        async with admin.db.read() as session:
            given_up = await session.scalar(select(OutboxMessage))
        assert given_up is not None
        assert given_up.status == "FAILED"
        on = {"id": subscription["id"], "version": 2, "active": True}
        await admin.gql(UPDATE, {"input": on})
        body = await admin.gql(REDELIVER, {"input": {"deliveryId": logged["id"]}})
        assert data(body)["redeliverWebhook"]["errors"] == []
        assert await deliver(admin) == 1
        (request,) = receiver.requests
        assert request.headers["webhook-id"] == logged["eventId"]


async def test_the_delivery_log_is_purged_after_the_retention(
    admin: Api, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    subscription = (await subscribe(admin, receiver.url))["webhookSubscription"]
    await create_customer(admin)
    await deliver(admin)
    state = admin.app.state.crm

    async def purge(days: int) -> Any:
        at = START + dt.timedelta(days=days)
        scheduler = Scheduler(db=admin.db, settings=admin.settings, pm=state.pm, clock=lambda: at)
        return (await scheduler.run_all())["webhooks.purge_log"]

    assert admin.settings.outbox_retention_days == 30
    assert await purge(29) == {"webhook delivery attempts purged": 0}
    assert len(await deliveries(admin, subscription["id"])) == 1
    assert await purge(31) == {"webhook delivery attempts purged": 1}
    assert await deliveries(admin, subscription["id"]) == []


class DeclaresCustomerCreated:
    @staticmethod
    def crm_webhook_event_types() -> dict[str, str]:
        return {"customer.created": "Mine too."}


def test_an_event_type_declared_twice_stops_startup() -> None:
    with pytest.raises(
        PluginError,
        match=r"the webhook event type 'customer\.created' is declared by two modules: "
        r"core\.webhooks and twice",
    ):
        build_plugin_manager(
            ["twice"], load_entrypoints=False, extra_plugins={"twice": DeclaresCustomerCreated()}
        )


TWICE_PLUGIN = """
class Plugin:
    @staticmethod
    def crm_webhook_event_types():
        return {"customer.created": "Mine too."}


plugin = Plugin()
"""


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_crm_serve_and_worker_stop_on_an_event_type_declared_twice(
    tmp_path: Path, command: list[str]
) -> None:
    site = tmp_path / "site"
    dist_info = site / "crm_twice-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: crm-twice\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[crm.plugins]\ntwice = crm_twice:plugin\n")
    (site / "crm_twice.py").write_text(TWICE_PLUGIN)
    path = os.pathsep.join(p for p in [str(site), os.environ.get("PYTHONPATH", "")] if p)
    env = {
        **os.environ,
        "CRM_DATA_DIR": str(tmp_path / "data"),
        "CRM_PLUGINS": "twice",
        "PYTHONPATH": path,
    }
    env.pop("CRM_DATABASE_URL", None)
    done = subprocess.run(
        [*CRM, *command], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2, done.stderr
    assert (
        "the webhook event type 'customer.created' is declared by two modules: "
        "core.webhooks and twice" in done.stderr
    )
