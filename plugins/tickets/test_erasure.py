"""Erasing a customer reaches the audit events of their tickets: the subject the customer
wrote is gone from ``ticket.opened``; who did what to the ticket, and when, stays.

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.plugin_api import ADMINISTRATOR, CRMPluginManager, Settings
from plugins.tickets.test_lifecycle import (
    ERRORS,
    MONDAY,
    create_customer,
    data,
    move_to,
    open_ticket,
)
from schema.testkit import Api, FakeClock, running_app

TRAIL = """
query($id: ID!) {
  auditEvents(first: 50, filter: {entityId: $id}) {
    edges { node { occurredAt action actorLabel changes { field before after } } }
  }
}"""
ERASE = f"""
mutation($id: ID!, $version: Int!) {{
  eraseCustomer(input: {{id: $id, version: $version, reason: "GDPR request 42"}}) {{
    customer {{ erasedAt }} {ERRORS}
  }}
}}"""
VERSION = "query($id: ID!) { customer(id: $id) { version } }"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets"))


@pytest.fixture
async def api(settings: Settings, plugin_manager: CRMPluginManager) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=FakeClock(MONDAY)) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)


async def trail(api: Api, record_id: str) -> list[dict[str, Any]]:
    edges = data(await api.gql(TRAIL, {"id": record_id}))["auditEvents"]["edges"]
    return [edge["node"] for edge in edges]


def outline(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["occurredAt"], e["action"], e["actorLabel"], [c["field"] for c in e["changes"]])
        for e in events
    ]


async def test_erasing_a_customer_scrubs_their_tickets_audit_events(admin: Api) -> None:
    erased = await create_customer(admin, "Jane Doe")
    kept = await create_customer(admin, "John Roe")
    ticket = await move_to(
        admin, await open_ticket(admin, erased, "Jane's router at 7 Private Rd"), "CLOSED"
    )
    other = await open_ticket(admin, kept, "John's modem")
    before = await trail(admin, ticket["id"])
    other_before = await trail(admin, other["id"])
    assert "private rd" in json.dumps(before).lower()
    version = data(await admin.gql(VERSION, {"id": erased}))["customer"]["version"]

    payload = data(await admin.gql(ERASE, {"id": erased, "version": version}))["eraseCustomer"]

    assert payload["errors"] == []
    after = await trail(admin, ticket["id"])
    assert outline(after) == outline(before)
    text = json.dumps(after).lower()
    assert "jane" not in text
    assert "private rd" not in text
    opened = {c["field"]: (c["before"], c["after"]) for c in after[-1]["changes"]}
    assert opened["subject"] == (None, "[erased]")
    assert opened["number"] == (None, ticket["number"])
    assert opened["priority"] == (None, "MEDIUM")
    assert [c["after"] for c in after[0]["changes"]] == ["CLOSED"]  # statuses are kept
    assert await trail(admin, other["id"]) == other_before
