"""Erasure reaches the audit trail: after ``eraseCustomer`` no earlier event of the customer,
its contacts or its tasks still holds the personal values, for any reader; who changed which
field, and when, stays.

Each test runs against a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``)
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.catalog import FINANCE, SUPPORT_REPRESENTATIVE, SYSTEM_ADMINISTRATOR
from core.config import Settings
from core.context import RequestContext
from core.customers.models import Customer
from core.customers.test_customers_api import (
    COMPLETE_TASK,
    CREATE_TASK,
    DEFINE,
    ERASE,
    MERGE,
    UPDATE_CONTACT,
    add_contact,
    create,
    log,
    ok,
    update,
)
from core.errors import UserErrorCode, UserErrors
from core.hookspecs import hookimpl
from schema.testkit import running_app
from tests.support import Api

HISTORY = """
query($id: ID!) {
  customer(id: $id) {
    history(first: 100) {
      edges { node {
        occurredAt action actorLabel actor { user { email } } changes { field before after secret }
      } }
    }
  }
}"""
TRAIL = """
query($id: ID!) {
  auditEvents(first: 100, filter: {entityId: $id}) {
    edges { node { occurredAt action actorLabel changes { field before after } } }
  }
}"""
PERSONAL = (
    "jane",
    "jack",
    "personal",
    "2125550111",
    "2125550122",
    "2125550133",
    "2125550144",
    "jane.old@example.com",
    "jane.new@example.com",
    "jack@example.com",
    "1980-05-06",
    "hometown",
    "private rd",
    "de123456789",
    "call her at home",
)


async def history(api: Api, customer_id: str) -> list[dict[str, Any]]:
    body = await api.gql(HISTORY, {"id": customer_id})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["customer"]["history"]["edges"]]


async def trail(api: Api, record_id: str) -> list[dict[str, Any]]:
    body = await api.gql(TRAIL, {"id": record_id})
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]


def outline(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What must survive an erasure: when, what action, by whom, which fields changed."""
    return [
        (
            e["occurredAt"],
            e["action"],
            e["actorLabel"],
            e.get("actor"),
            [c["field"] for c in e["changes"]],
        )
        for e in events
    ]


def leaked(events: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(events).lower()
    return [value for value in PERSONAL if value in text]


def values(event: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {c["field"]: (c["before"], c["after"]) for c in event["changes"]}


async def test_erasure_scrubs_personal_values_from_the_whole_audit_trail(admin: Api) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    finance = await admin.as_role(FINANCE)
    auditor = await admin.as_role(SYSTEM_ADMINISTRATOR)
    ok(
        await admin.gql(DEFINE, {"input": {"key": "vat_id", "label": "VAT id", "type": "TEXT"}}),
        "defineCustomField",
    )
    jane = await create(
        admin,
        name="Jane Personal",
        kind="PERSON",
        stage="NEW",
        phone="+12125550111",
        email="jane.old@example.com",
        address={"line1": "7 Private Rd", "city": "Hometown"},
        customFields={"vat_id": "DE123456789"},
    )
    jane = await update(
        admin,
        jane,
        name="Jane Personal-Smith",
        email="jane.new@example.com",
        phone="+12125550122",
        stage="ACTIVE",
    )
    jane = await update(admin, jane, phone="+12125550133")
    contact = await add_contact(
        admin, jane["id"], "Jack Personal", email="jack@example.com", birthday="1980-05-06"
    )
    ok(
        await admin.gql(
            UPDATE_CONTACT,
            {
                "input": {
                    "id": contact["id"],
                    "version": contact["version"],
                    "phone": "+12125550144",
                }
            },
        ),
        "updateContact",
    )
    due = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    task = ok(
        await admin.gql(
            CREATE_TASK,
            {"input": {"customerId": jane["id"], "title": "Call her at home", "dueAt": due}},
        ),
        "createTask",
    )["task"]
    ok(
        await admin.gql(COMPLETE_TASK, {"id": task["id"], "version": task["version"]}),
        "completeTask",
    )
    await log(admin, jane["id"], "Jane phoned")
    before = await history(admin, jane["id"])
    contact_before = await trail(admin, contact["id"])
    task_before = await trail(admin, task["id"])
    # The old trail holds the personal values.
    assert leaked(before)
    assert leaked(contact_before)
    assert leaked(task_before)

    erased = ok(
        await admin.gql(ERASE, {"id": jane["id"], "version": jane["version"], "reason": "GDPR"}),
        "eraseCustomer",
    )["customer"]
    assert erased["erasedAt"] is not None

    after = await history(admin, jane["id"])
    assert after[0]["action"] == "customer.erased"
    # Every earlier event is still there: same time, action, actor and changed fields.
    assert outline(after[1:]) == outline(before)
    for reader in (admin, support, finance, auditor):
        events = await history(reader, jane["id"])
        assert [e["action"] for e in events] == [e["action"] for e in after], reader.email
        assert leaked(events) == [], reader.email
    updated = values(after[-2])  # the first update
    assert updated["name"] == ("[erased]", "[erased]")
    assert updated["email"] == ("[erased]", "[erased]")
    assert updated["stage"] == ("NEW", "ACTIVE")  # not personal: kept
    created = values(after[-1])
    assert created["name"] == (None, "[erased]")
    assert created["customFields"] == (None, "[erased]")
    assert created["kind"] == (None, "PERSON")
    assert created["number"] == (None, jane["number"])

    # The events of its contacts and tasks, which only audit:read reaches, are scrubbed too.
    contact_after = await trail(admin, contact["id"])
    assert outline(contact_after) == outline(contact_before)
    assert leaked(contact_after) == []
    assert values(contact_after[0])["phone"] == (None, "[erased]")
    assert values(contact_after[1])["customerId"] == (None, jane["id"])
    task_after = await trail(admin, task["id"])
    assert outline(task_after) == outline(task_before)
    assert leaked(task_after) == []
    task_created = values(task_after[-1])
    assert task_created["title"] == (None, "[erased]")
    assert task_created["dueAt"] == values(task_before[-1])["dueAt"]


async def test_erasure_leaves_other_customers_trails_alone(admin: Api) -> None:
    jane = await create(admin, name="Jane Personal", email="jane.old@example.com")
    john = await create(admin, name="John Kept", email="john@example.com")
    john_before = await history(admin, john["id"])

    ok(
        await admin.gql(ERASE, {"id": jane["id"], "version": jane["version"], "reason": "GDPR"}),
        "eraseCustomer",
    )

    assert await history(admin, john["id"]) == john_before
    assert values(john_before[0])["name"] == (None, "John Kept")


GET_ANY = """
query($id: ID!) {
  node(id: $id) { ... on Customer { name email phone erasedAt } }
}"""


GET_VERSION = "query($id: ID!) { node(id: $id) { id ... on Customer { version } } }"


async def test_erasure_reaches_the_customers_merged_into_it(admin: Api) -> None:
    # Given a duplicate record of Jane merged into the kept one, itself merged into another
    old = await create(admin, name="Jane Personal", email="jane.old@example.com")
    older = await create(admin, name="Jane P.", phone="+12125550111")
    jane = await create(admin, name="Jane Kept", email="jane.new@example.com")
    john = await create(admin, name="John Kept", email="john@example.com")
    for source, target in ((older, old), (old, jane)):
        variables = {"source": source["id"], "target": target["id"], "dryRun": False}
        ok(await admin.gql(MERGE, variables), "mergeCustomers")
    jane = (await admin.gql(GET_VERSION, {"id": jane["id"]}))["data"]["node"]

    # When Jane is erased
    erase = {"id": jane["id"], "version": jane["version"], "reason": "GDPR"}
    ok(await admin.gql(ERASE, erase), "eraseCustomer")

    # Then the merged records are erased too, rows and trails, and each erasure is recorded
    for merged in (old, older):
        row = (await admin.gql(GET_ANY, {"id": merged["id"]}))["data"]["node"]
        assert (row["email"], row["phone"]) == (None, None)
        assert row["erasedAt"] is not None
        assert row["name"].startswith("Erased customer ")
        events = await history(admin, merged["id"])
        assert events[0]["action"] == "customer.erased"
        text = json.dumps(events).lower()
        assert not [value for value in PERSONAL if value in text]
    # And a customer that was never merged into Jane keeps everything
    assert (await admin.gql(GET_ANY, {"id": john["id"]}))["data"]["node"]["email"] == (
        "john@example.com"
    )


class LegalHold:
    """A plugin that refuses to let a customer on legal hold be erased."""

    @hookimpl
    def crm_customer_before_archive(
        self, session: AsyncSession, customer: Customer, erasing: bool, context: RequestContext
    ) -> None:
        if erasing and customer.name == "Held Duplicate":
            raise UserErrors.single("id", "on legal hold", UserErrorCode.BUSINESS_RULE)


async def test_a_veto_on_a_merged_customer_stops_the_whole_erasure(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(plugins=("hold",))
    async with running_app(settings, extra_plugins={"hold": LegalHold()}) as app:
        admin = await app.user("admin@example.com", ["ADMINISTRATOR"])
        held = await create(admin, name="Held Duplicate", email="jane.old@example.com")
        jane = await create(admin, name="Jane Kept", email="jane.new@example.com")
        variables = {"source": held["id"], "target": jane["id"], "dryRun": False}
        ok(await admin.gql(MERGE, variables), "mergeCustomers")
        jane = (await admin.gql(GET_VERSION, {"id": jane["id"]}))["data"]["node"]

        erase = {"id": jane["id"], "version": jane["version"], "reason": "GDPR"}
        refused = (await admin.gql(ERASE, erase))["data"]["eraseCustomer"]

        assert refused["errors"] == [
            {"field": "id", "message": "on legal hold", "code": "BUSINESS_RULE"}
        ]
        for kept, email in ((held, "jane.old@example.com"), (jane, "jane.new@example.com")):
            row = (await admin.gql(GET_ANY, {"id": kept["id"]}))["data"]["node"]
            assert (row["email"], row["erasedAt"]) == (email, None)
