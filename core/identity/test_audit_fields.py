"""Who may see where an audit event came from: ``Customer.history`` shows what changed, when
and by whom to everyone who reads the customer, but ``actorLabel``, ``clientAddress`` and
``requestId`` only to callers whose ``audit:read`` reaches the event (null otherwise).

Each test runs against a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``)
PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from core.catalog import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from tests.support import Api

ERRORS = "errors { field message code }"
CREATE = f"""
mutation($input: CreateCustomerInput!) {{
  createCustomer(input: $input) {{ customer {{ id version }} {ERRORS} }}
}}"""
UPDATE = f"""
mutation($input: UpdateCustomerInput!) {{
  updateCustomer(input: $input) {{ customer {{ id version }} {ERRORS} }}
}}"""
CREATE_ROLE = f"""
mutation($input: CreateRoleInput!) {{ createRole(input: $input) {{ role {{ key }} {ERRORS} }} }}"""
HISTORY = """
query($id: ID!) {
  customer(id: $id) {
    history(first: 20) {
      edges { node {
        occurredAt action actorKind actor { name user { email } } actorLabel clientAddress requestId
        changes { field before after }
      } }
    }
  }
}"""
AUDIT_EVENTS = """
query($id: ID!) {
  auditEvents(first: 20, filter: {entityId: $id}) {
    edges { node { action actorLabel clientAddress requestId } }
  }
}"""
ORIGIN = ("actorLabel", "clientAddress", "requestId")


def payload(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][name]
    assert result["errors"] == [], result
    return result


async def history(api: Api, customer_id: str) -> list[dict[str, Any]]:
    body = await api.gql(HISTORY, {"id": customer_id})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["customer"]["history"]["edges"]]


async def test_history_hides_where_events_came_from_without_audit_read(admin: Api) -> None:
    manager = await admin.user("manager@example.com", [CUSTOMER_MANAGER], team="Blue")
    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE], team="Blue")
    finance = await admin.as_role(FINANCE)
    auditor = await admin.as_role(SYSTEM_ADMINISTRATOR)
    created = payload(
        await manager.gql(CREATE, {"input": {"name": "Acme", "stage": "NEW"}}), "createCustomer"
    )["customer"]
    payload(
        await manager.gql(
            UPDATE,
            {"input": {"id": created["id"], "version": created["version"], "stage": "ACTIVE"}},
        ),
        "updateCustomer",
    )

    for reader in (support, finance, manager):
        events = await history(reader, created["id"])
        assert [e["action"] for e in events] == ["customer.updated", "customer.created"]
        for event in events:
            assert {field: event[field] for field in ORIGIN} == dict.fromkeys(ORIGIN), reader.email
            assert event["occurredAt"] is not None
        assert [c["field"] for c in events[0]["changes"]] == ["stage"]
    # Who acted stays visible to whoever may see that user (support shares the team).
    assert [e["actor"] for e in await history(support, created["id"])] == [
        {"name": "Manager", "user": {"email": "manager@example.com"}}
    ] * 2
    # Finance may not see the manager as a user, but sees who acted by name.
    assert [(e["actorKind"], e["actor"]) for e in await history(finance, created["id"])] == [
        ("USER", {"name": "Manager", "user": None})
    ] * 2

    for reader in (auditor, admin):
        for event in await history(reader, created["id"]):
            assert event["actorLabel"] == "manager@example.com", reader.email
            assert event["clientAddress"], reader.email
            assert event["requestId"], reader.email
    # The trail itself still needs audit:read, and shows everything to its holders.
    body = await auditor.gql(AUDIT_EVENTS, {"id": created["id"]})
    listed = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    assert [e["actorLabel"] for e in listed] == ["manager@example.com"] * 2
    assert all(e["clientAddress"] and e["requestId"] for e in listed)
    refused = await support.gql(AUDIT_EVENTS, {"id": created["id"]})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_audit_read_own_reveals_the_origin_of_the_callers_own_events(admin: Api) -> None:
    payload(
        await admin.gql(
            CREATE_ROLE,
            {
                "input": {
                    "name": "Auditor",
                    "description": "Reads their own trail",
                    "grants": [{"permission": "audit:read", "scope": "OWN"}],
                }
            },
        ),
        "createRole",
    )
    seller = await admin.user("seller@example.com", [SALES_REPRESENTATIVE, "AUDITOR"])
    created = payload(
        await seller.gql(CREATE, {"input": {"name": "Acme", "stage": "NEW"}}), "createCustomer"
    )["customer"]
    payload(
        await admin.gql(
            UPDATE,
            {"input": {"id": created["id"], "version": created["version"], "stage": "ACTIVE"}},
        ),
        "updateCustomer",
    )

    updated, own = await history(seller, created["id"])
    assert updated["action"] == "customer.updated"
    assert {field: updated[field] for field in ORIGIN} == dict.fromkeys(ORIGIN)
    assert own["action"] == "customer.created"
    assert own["actorLabel"] == "seller@example.com"
    assert own["clientAddress"]
    assert own["requestId"]
