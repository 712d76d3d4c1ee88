"""The tickets plugin's webhook events reach a real receiver, signed: a ticket opened, its
status changed, its assignee changed. Events carry ids and states, not the subject.

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from core.plugin_api import ADMINISTRATOR, CRMPluginManager, Settings
from plugins.tickets.test_lifecycle import (
    ERRORS,
    MONDAY,
    create_customer,
    data,
    gid,
    ok,
    open_ticket,
    step,
)
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_webhooks import WebhookReceiver, signature_valid

SUBSCRIBE = f"""
mutation($url: String!) {{
  createWebhookSubscription(input: {{
    url: $url, eventTypes: ["ticket.opened", "ticket.status_changed", "ticket.assigned"]
  }}) {{ secret {ERRORS} }}
}}"""


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets"), webhooks_allow_private=True)


@pytest.fixture
async def api(settings: Settings, plugin_manager: CRMPluginManager) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=FakeClock(MONDAY)) as client:
        yield client


async def test_ticket_events_are_posted(api: Api) -> None:
    admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
    agent = await api.user("agent@example.com", ["SUPPORT_REPRESENTATIVE"])
    types = data(await admin.gql("query { webhookEventTypes { name } }"))["webhookEventTypes"]
    assert {"ticket.opened", "ticket.status_changed", "ticket.assigned"} <= {
        t["name"] for t in types
    }
    async with WebhookReceiver() as receiver:
        payload = data(await admin.gql(SUBSCRIBE, {"url": receiver.url}))
        secret = payload["createWebhookSubscription"]["secret"]
        customer = await create_customer(admin, "Jane Doe")
        ticket = await open_ticket(admin, customer, "Jane's router at 7 Private Rd")
        ticket = await step(admin, "acknowledgeTicket", ticket)
        assigned = {"id": ticket["id"], "version": ticket["version"]}
        ticket = await ok(
            admin, "assignTicket", assigned | {"assigneeId": gid("User", agent.user_id)}
        )
        await api.deliver_outbox()  # the webhook posts, and the assignee's e-mail
    # posts of one batch go out at once: events may arrive in any order
    events = {r.json()["type"]: r.json() for r in receiver.requests}
    assert len(receiver.requests) == 3
    assert all(signature_valid(secret, r) for r in receiver.requests)
    assert set(events) == {"ticket.opened", "ticket.status_changed", "ticket.assigned"}
    assert {e["data"]["ticket"]["id"] for e in events.values()} == {ticket["id"]}
    assert events["ticket.opened"]["data"]["ticket"]["customerId"] == customer
    changed = events["ticket.status_changed"]["data"]
    assert (changed["fromStatus"], changed["toStatus"]) == ("NEW", "ACKNOWLEDGED")
    assigned_event = events["ticket.assigned"]["data"]
    assert assigned_event["ticket"]["assigneeId"] == gid("User", agent.user_id)
    assert assigned_event["previousAssigneeId"] is None
    assert assigned_event["kind"] == "ASSIGNED"
    assert "Private Rd" not in str(events)
