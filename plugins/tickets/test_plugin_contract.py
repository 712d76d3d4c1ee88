"""The tickets plugin as a plugin: what it does to core through hooks (auto-close in
``crm jobs run``, merging, the archive/erase veto, demo data), the hooks it announces to
other plugins, the schema with the plugin off, and the statement count of nested lists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    AuditEvent,
    ConfigError,
    CRMPluginManager,
    Customer,
    Database,
    RequestContext,
    Settings,
    call_in_turn,
    hookimpl,
    utcnow,
)
from plugins.tickets import hooks as ticket_hooks
from plugins.tickets import models
from plugins.tickets.test_lifecycle import (
    ERRORS,
    MONDAY,
    create_customer,
    data,
    db_id,
    events,
    get_ticket,
    gid,
    move_to,
    ok,
    open_ticket,
    step,
)
from schema.testkit import (
    DEFAULT_PASSWORD,
    Api,
    FakeClock,
    StatementCounter,
    run_periodic_jobs,
    running_app,
)
from schema.testkit_tools import CommandLine, make_user

ADMIN = "admin@example.com"


class Listener:
    """A plugin that listens to every hook the tickets plugin announces."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    async def crm_ticket_opened(
        self, session: AsyncSession, ticket: models.Ticket, context: RequestContext | None
    ) -> None:
        if ticket.subject == "explode":
            raise RuntimeError("listener refuses")
        assignee = ticket.assignee_id
        self.calls.append(("opened", ticket.number, ticket.status, assignee, context is not None))
        # Written with the change's session: commits (or rolls back) with the ticket.
        session.add(
            models.TicketEvent(
                ticket_id=ticket.id,
                kind="NOTE",
                note="listener saw it",
                internal=True,
                data={},
                created_at=ticket.created_at,
            )
        )

    @hookimpl
    def crm_ticket_status_changed(
        self,
        ticket: models.Ticket,
        from_status: str,
        to_status: str,
        context: RequestContext | None,
    ) -> None:
        assert ticket.status == to_status
        self.calls.append(("status", ticket.number, from_status, to_status, context is not None))

    @hookimpl
    def crm_ticket_resolved(self, ticket: models.Ticket, context: RequestContext | None) -> None:
        self.calls.append(("resolved", ticket.number, ticket.resolution, context is not None))

    @hookimpl
    def crm_ticket_closed(self, ticket: models.Ticket, context: RequestContext | None) -> None:
        self.calls.append(("closed", ticket.number, ticket.closed_at, context is not None))

    @hookimpl
    def crm_ticket_reopened(self, ticket: models.Ticket, context: RequestContext | None) -> None:
        self.calls.append(("reopened", ticket.number, ticket.reopen_count, context is not None))


async def load_demo_data(
    pm: CRMPluginManager, session: AsyncSession, settings: Settings, size: int, *modules: str
) -> None:
    """The ``crm_demo_data`` of the named modules alone (``core.customers``), in module order;
    ``crm demo`` runs every enabled module's."""
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in modules]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=size, settings=settings)


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("fixture", "tickets", "listener")


@pytest.fixture
def crm_extra_plugins(
    crm_extra_plugins: Mapping[str, Any], listener: Listener
) -> Mapping[str, Any]:
    """The repository's (the fixture plugin) and the listener."""
    return {**crm_extra_plugins, "listener": listener}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def pm(plugin_manager: CRMPluginManager) -> CRMPluginManager:
    """The kit's plugin manager: core, the fixture plugin, tickets and the listener."""
    return plugin_manager


@pytest.fixture
async def api(
    settings: Settings, clock: FakeClock, plugin_manager: CRMPluginManager
) -> AsyncIterator[Api]:
    async with running_app(settings, clock=clock, pm=plugin_manager) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user(ADMIN, ["ADMINISTRATOR"])


@pytest.fixture
async def customer(admin: Api) -> str:
    return await create_customer(admin, "Acme Ltd")


# --- hooks the plugin announces ----------------------------------------------------------------


async def test_the_plugin_announces_every_step(
    admin: Api, customer: str, clock: FakeClock, listener: Listener
) -> None:
    admin = await admin.lasting()  # its requests outlive the clock moves below
    agent = await admin.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    body = await admin.gql(
        f"""mutation($u: ID!) {{
          setRoutingRule(input: {{type: FAULT, strategy: ROUND_ROBIN, userIds: [$u]}}) {{
            {ERRORS}
          }}
        }}""",
        {"u": gid("User", agent.user_id)},
    )
    assert data(body)["setRoutingRule"]["errors"] == []

    ticket = await open_ticket(admin, customer)
    ticket = await move_to(admin, ticket, "RESOLVED")
    ticket = await ok(admin, "confirmTicketResolution", {"id": ticket["id"], "satisfied": False})
    ticket = await step(admin, "resolveTicket", ticket, resolution="Second try")
    clock.advance(hours=1)
    ticket = await ok(admin, "confirmTicketResolution", {"id": ticket["id"], "satisfied": True})

    closed_at = MONDAY + dt.timedelta(hours=1)
    assert listener.calls == [
        ("opened", "T000001", "NEW", agent.user_id, True),
        ("status", "T000001", "NEW", "ACKNOWLEDGED", True),
        ("status", "T000001", "ACKNOWLEDGED", "IN_PROGRESS", True),
        ("status", "T000001", "IN_PROGRESS", "RESOLVED", True),
        ("resolved", "T000001", "Fixed it", True),
        ("status", "T000001", "RESOLVED", "IN_PROGRESS", True),
        ("reopened", "T000001", 1, True),
        ("status", "T000001", "IN_PROGRESS", "RESOLVED", True),
        ("resolved", "T000001", "Second try", True),
        ("status", "T000001", "RESOLVED", "CLOSED", True),
        ("closed", "T000001", closed_at, True),
    ]
    assert [(e["kind"], e["note"]) for e in await events(admin, ticket["id"])][:2] == [
        ("OPENED", None),
        ("NOTE", "listener saw it"),
    ]

    # A refused change announces nothing.
    listener.calls.clear()
    body = await admin.gql(
        """mutation($id: ID!, $v: Int!) {
          reopenTicket(input: {id: $id, version: $v}) { errors { code } }
        }""",
        {"id": ticket["id"], "v": ticket["version"]},
    )
    assert data(body)["reopenTicket"]["errors"] == [{"code": "INVALID_TRANSITION"}]
    assert listener.calls == []


async def test_a_failing_listener_undoes_the_change(
    admin: Api, customer: str, listener: Listener
) -> None:
    body = await admin.gql(
        f"""mutation($c: ID!) {{
          openTicket(input: {{customerId: $c, type: FAULT, subject: "explode"}}) {{
            ticket {{ id }} {ERRORS}
          }}
        }}""",
        {"c": customer},
    )

    assert body["errors"][0]["message"] == "Internal error"
    async with admin.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(models.Ticket)) == 0
        assert await session.scalar(select(func.count()).select_from(models.TicketEvent)) == 0
        assert (
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "ticket.opened")
            )
            == 0
        )
    assert listener.calls == []
    ticket = await open_ticket(admin, customer, "fine")
    assert ticket["status"] == "NEW"


# --- auto-close in crm jobs run ----------------------------------------------------------------


async def run_jobs(api: Api, pm: CRMPluginManager, now: dt.datetime) -> dict[str, int]:
    """Every module's periodic jobs, as ``crm jobs run`` calls them, at ``now``."""
    results = await run_periodic_jobs(api.db, api.settings, pm, now)
    merged: dict[str, int] = {}
    for result in results.values():
        merged.update(result)
    return merged


async def statuses(api: Api) -> dict[str, str]:
    async with api.db.read() as session:
        rows = await session.execute(select(models.Ticket.subject, models.Ticket.status))
        return {row.subject: row.status for row in rows}


async def test_auto_close_resolved_tickets_after_seven_days(
    admin: Api,
    customer: str,
    clock: FakeClock,
    pm: CRMPluginManager,
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_TICKETS_AUTOCLOSE_DAYS", raising=False)
    admin = await admin.lasting()  # its requests outlive the clock moves below
    old = await move_to(admin, await open_ticket(admin, customer, "old"), "RESOLVED")
    await move_to(admin, await open_ticket(admin, customer, "working"), "IN_PROGRESS")
    await move_to(admin, await open_ticket(admin, customer, "waiting"), "WAITING")
    clock.advance(days=2)
    young = await move_to(admin, await open_ticket(admin, customer, "young"), "RESOLVED")
    listener.calls.clear()

    # Exactly seven days is not older than seven days.
    assert (await run_jobs(admin, pm, MONDAY + dt.timedelta(days=7)))["tickets auto-closed"] == 0
    assert listener.calls == []

    now = MONDAY + dt.timedelta(days=7, seconds=1)
    assert (await run_jobs(admin, pm, now))["tickets auto-closed"] == 1
    assert await statuses(admin) == {
        "old": "CLOSED",
        "working": "IN_PROGRESS",
        "waiting": "WAITING",
        "young": "RESOLVED",
    }
    assert listener.calls == [
        ("status", old["number"], "RESOLVED", "CLOSED", False),
        ("closed", old["number"], now, False),
    ]
    closed = data(
        await admin.gql(
            "query($id: ID!) { ticket(id: $id) { status closedAt version } }", {"id": old["id"]}
        )
    )["ticket"]
    assert closed["status"] == "CLOSED"
    assert dt.datetime.fromisoformat(closed["closedAt"]) == now
    assert closed["version"] == old["version"] + 1
    last = (await events(admin, old["id"], internal=False))[-1]
    assert last["kind"] == "STATUS"
    assert (last["fromStatus"], last["toStatus"]) == ("RESOLVED", "CLOSED")
    assert last["note"] == "closed automatically: no confirmation within 7 days"
    assert last["actor"] is None
    async with admin.db.read() as session:
        audit = (
            await session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "ticket.status_changed",
                    AuditEvent.entity_id == str(db_id(old["id"])),
                    AuditEvent.actor_label == "crm jobs",
                )
            )
        ).all()
    assert len(audit) == 1
    assert audit[0].actor_id is None

    # Idempotent: a second run (or another machine) closes nothing more.
    listener.calls.clear()
    timeline = await events(admin, old["id"])
    assert (await run_jobs(admin, pm, now))["tickets auto-closed"] == 0
    assert listener.calls == []
    assert await events(admin, old["id"]) == timeline

    # Two days later the younger one is due as well.
    later = MONDAY + dt.timedelta(days=9, seconds=1)
    assert (await run_jobs(admin, pm, later))["tickets auto-closed"] == 1
    assert (await statuses(admin))["young"] == "CLOSED"
    assert listener.calls[-1] == ("closed", young["number"], later, False)


async def test_auto_close_days_come_from_the_environment(
    admin: Api,
    customer: str,
    pm: CRMPluginManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await move_to(admin, await open_ticket(admin, customer, "resolved"), "RESOLVED")
    monkeypatch.setenv("CRM_TICKETS_AUTOCLOSE_DAYS", "2")

    assert (await run_jobs(admin, pm, MONDAY + dt.timedelta(days=1, hours=23)))[
        "tickets auto-closed"
    ] == 0
    assert (await run_jobs(admin, pm, MONDAY + dt.timedelta(days=2, seconds=1)))[
        "tickets auto-closed"
    ] == 1

    monkeypatch.setenv("CRM_TICKETS_AUTOCLOSE_DAYS", "0")
    with pytest.raises(ConfigError, match="CRM_TICKETS_AUTOCLOSE_DAYS"):
        await run_jobs(admin, pm, MONDAY)


@pytest.mark.parametrize("crm_plugins", [("tickets",)], ids=["tickets-only"])
async def test_crm_jobs_run_auto_closes(
    crm_cli: CommandLine,
    db: Database,
    settings: Settings,
    pm: CRMPluginManager,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRM_TICKETS_AUTOCLOSE_DAYS", "3")
    result = await crm_cli("migrate")
    assert result.exit_code == 0, result.output
    result = await crm_cli(
        "createuser",
        "--email",
        ADMIN,
        "--name",
        "Admin",
        "--password",
        DEFAULT_PASSWORD,
        "--admin",
    )
    assert result.exit_code == 0, result.output
    now = utcnow()

    async with db.transaction() as session:
        await load_demo_data(pm, session, settings, 1, "core.customers")
        customer_id = await session.scalar(select(Customer.id))
        await session.execute(
            insert(models.Ticket),
            [
                {
                    "number": f"T{n:06d}",
                    "customer_id": customer_id,
                    "type": "FAULT",
                    "subject": subject,
                    "description": "",
                    "priority": "MEDIUM",
                    "status": status,
                    "reopen_count": 0,
                    "first_responded_at": now - dt.timedelta(days=days + 1),
                    "resolved_at": now - dt.timedelta(days=days),
                    "paused_seconds": 0.0,
                    "created_at": now - dt.timedelta(days=days + 2),
                    "updated_at": now - dt.timedelta(days=days),
                    "version": 1,
                }
                for n, (subject, status, days) in enumerate(
                    [("stale", "RESOLVED", 4), ("fresh", "RESOLVED", 2), ("closed", "CLOSED", 9)],
                    start=1,
                )
            ],
        )

    async def state() -> dict[str, tuple[str, int]]:
        async with db.read() as session:
            rows = await session.execute(
                select(models.Ticket.subject, models.Ticket.status, models.Ticket.version)
            )
            return {subject: (status, version) for subject, status, version in rows}

    first = await crm_cli("jobs", "run")
    assert first.exit_code == 0, first.output
    assert "tickets auto-closed: 1" in first.output
    after = await state()
    assert after == {
        "stale": ("CLOSED", 2),
        "fresh": ("RESOLVED", 1),
        "closed": ("CLOSED", 1),
    }
    second = await crm_cli("jobs", "run")
    assert second.exit_code == 0, second.output
    assert "tickets auto-closed: 0" in second.output
    assert await state() == after


# --- customers: merge, archive, erase ----------------------------------------------------------


MERGE = f"""
mutation($source: ID!, $target: ID!, $dryRun: Boolean!) {{
  mergeCustomers(input: {{sourceId: $source, targetId: $target, dryRun: $dryRun}}) {{
    moved {{ kind count }} dryRun {ERRORS}
  }}
}}"""
CUSTOMER = """
query($id: ID!) {
  customer(id: $id) {
    number archivedAt erasedAt version openTicketCount
    tickets { totalCount edges { node { subject } } }
  }
}"""


async def customer_view(api: Api, customer_id: str) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(CUSTOMER, {"id": customer_id}))["customer"]
    return found


async def test_merge_moves_the_tickets(admin: Api) -> None:
    source = await create_customer(admin, "Source GmbH")
    target = await create_customer(admin, "Target GmbH")
    await open_ticket(admin, source, "open on source")
    await move_to(admin, await open_ticket(admin, source, "closed on source"), "CLOSED")
    await move_to(admin, await open_ticket(admin, source, "resolved on source"), "RESOLVED")
    await open_ticket(admin, target, "on target")
    variables = {"source": source, "target": target}

    dry = data(await admin.gql(MERGE, variables | {"dryRun": True}))["mergeCustomers"]
    assert dry["errors"] == []
    assert dry["dryRun"] is True
    assert {"kind": "tickets", "count": 3} in dry["moved"]
    assert (await customer_view(admin, source))["tickets"]["totalCount"] == 3
    assert (await customer_view(admin, target))["tickets"]["totalCount"] == 1

    merged = data(await admin.gql(MERGE, variables | {"dryRun": False}))["mergeCustomers"]
    assert merged["errors"] == []
    assert {"kind": "tickets", "count": 3} in merged["moved"]
    after = await customer_view(admin, target)
    assert after["tickets"]["totalCount"] == 4
    assert {edge["node"]["subject"] for edge in after["tickets"]["edges"]} == {
        "open on source",
        "closed on source",
        "resolved on source",
        "on target",
    }
    assert after["openTicketCount"] == 2
    async with admin.db.read() as session:
        left = await session.scalar(
            select(func.count())
            .select_from(models.Ticket)
            .where(models.Ticket.customer_id == db_id(source))
        )
    assert left == 0


ARCHIVE = f"""
mutation($id: ID!, $version: Int!) {{
  archiveCustomer(input: {{id: $id, version: $version}}) {{ customer {{ archivedAt }} {ERRORS} }}
}}"""
ERASE = f"""
mutation($id: ID!, $version: Int!) {{
  eraseCustomer(input: {{id: $id, version: $version, reason: "GDPR request 42"}}) {{
    customer {{ erasedAt }} {ERRORS}
  }}
}}"""


async def test_archive_and_erase_wait_for_open_tickets(admin: Api) -> None:
    archived = await create_customer(admin, "To Archive")
    erased = await create_customer(admin, "To Erase")
    open_one = await open_ticket(admin, archived, "one")
    open_two = await move_to(admin, await open_ticket(admin, archived, "two"), "WAITING")
    await move_to(admin, await open_ticket(admin, archived, "done"), "CLOSED")
    only = await move_to(admin, await open_ticket(admin, erased, "only"), "IN_PROGRESS")
    before = await customer_view(admin, archived)
    number = before["number"]

    payload = data(await admin.gql(ARCHIVE, {"id": archived, "version": before["version"]}))[
        "archiveCustomer"
    ]
    assert payload == {
        "customer": None,
        "errors": [
            {
                "field": "id",
                "message": f"customer {number} has 2 open tickets; resolve or close them "
                "before it can be archived",
                "code": "BUSINESS_RULE",
            }
        ],
    }
    assert await customer_view(admin, archived) == before
    erase_before = await customer_view(admin, erased)
    payload = data(await admin.gql(ERASE, {"id": erased, "version": erase_before["version"]}))[
        "eraseCustomer"
    ]
    assert payload["customer"] is None
    assert payload["errors"] == [
        {
            "field": "id",
            "message": f"customer {erase_before['number']} has 1 open ticket; resolve or close "
            "it before it can be erased",
            "code": "BUSINESS_RULE",
        }
    ]
    assert await customer_view(admin, erased) == erase_before

    # A resolved ticket is no longer open; once none is, both go through.
    await move_to(admin, open_one, "RESOLVED")
    payload = data(await admin.gql(ARCHIVE, {"id": archived, "version": before["version"]}))[
        "archiveCustomer"
    ]
    assert "has 1 open ticket;" in payload["errors"][0]["message"]
    await step(admin, "resolveTicket", open_two)
    payload = data(await admin.gql(ARCHIVE, {"id": archived, "version": before["version"]}))[
        "archiveCustomer"
    ]
    assert payload["errors"] == []
    assert payload["customer"]["archivedAt"] is not None

    only = await step(admin, "resolveTicket", only)
    await step(admin, "closeTicket", only)
    payload = data(await admin.gql(ERASE, {"id": erased, "version": erase_before["version"]}))[
        "eraseCustomer"
    ]
    assert payload["errors"] == []
    assert payload["customer"]["erasedAt"] is not None


async def test_erasing_a_customer_blanks_their_tickets(admin: Api) -> None:
    erased = await create_customer(admin, "Jane Doe")
    kept = await create_customer(admin, "John Roe")
    ticket = await open_ticket(admin, erased, "Jane's router", description="Call 555-0100")
    await ok(
        admin, "addTicketNote", {"id": ticket["id"], "note": "Jane says hi", "internal": False}
    )
    ticket = await move_to(admin, await get_ticket(admin, ticket["id"]), "IN_PROGRESS")
    ticket = await step(admin, "resolveTicket", ticket, resolution="Reset Jane's router")
    ticket = await step(admin, "closeTicket", ticket, note="Bye Jane")
    other = await open_ticket(admin, kept, "John's modem", description="John's flat")
    version = (await customer_view(admin, erased))["version"]

    payload = data(await admin.gql(ERASE, {"id": erased, "version": version}))["eraseCustomer"]

    assert payload["errors"] == []
    after = await get_ticket(admin, ticket["id"])
    assert (after["subject"], after["description"], after["resolution"]) == (
        "[erased]",
        "",
        "[erased]",
    )
    assert after["version"] == ticket["version"] + 1
    assert after["number"] == ticket["number"]
    assert after["status"] == "CLOSED"
    notes = [e["note"] for e in await events(admin, ticket["id"]) if e["note"] is not None]
    assert notes == ["[erased]"] * 3  # the listener's, the reply and the closing note
    untouched = await get_ticket(admin, other["id"])
    assert (untouched["subject"], untouched["description"]) == ("John's modem", "John's flat")


# --- the plugin switched off -------------------------------------------------------------------


INTROSPECT = """{
  ticket: __type(name: "Ticket") { name }
  customer: __type(name: "Customer") { fields { name } }
  user: __type(name: "User") { fields { name } }
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  permissions { name module }
  system { modules { name } }
}"""


async def schema_facts(api: Api) -> dict[str, Any]:
    body = data(await api.gql(INTROSPECT))
    return {
        "ticket": body["ticket"],
        "customer": {f["name"] for f in body["customer"]["fields"]},
        "user": {f["name"] for f in body["user"]["fields"]},
        "query": {f["name"] for f in body["query"]["fields"]},
        "mutation": {f["name"] for f in body["mutation"]["fields"]},
        "permissions": {p["name"]: p["module"] for p in body["permissions"]},
        "modules": [m["name"] for m in body["system"]["modules"]],
    }


TICKET_QUERIES = {"tickets", "ticket", "ticketStats", "ticketAssignees"}
TICKET_MUTATIONS = {
    "openTicket",
    "acknowledgeTicket",
    "addTicketNote",
    "startTicketWork",
    "waitOnCustomer",
    "assignTicket",
    "transferTicket",
    "escalateTicket",
    "resolveTicket",
    "confirmTicketResolution",
    "reopenTicket",
    "closeTicket",
    "setSlaPolicy",
    "setBusinessHours",
    "setRoutingRule",
}
TICKET_PERMISSIONS = {
    "tickets:read",
    "tickets:write",
    "tickets:assign",
    "tickets:manage",
    "tickets:handle",
}


async def test_enabled_plugin_adds_its_schema_and_permissions(admin: Api) -> None:
    facts = await schema_facts(admin)

    assert facts["ticket"] == {"name": "Ticket"}
    assert {"tickets", "openTicketCount"} <= facts["customer"]
    assert "assignedTickets" in facts["user"]
    assert facts["query"] >= TICKET_QUERIES
    assert facts["mutation"] >= TICKET_MUTATIONS
    assert {
        p: m for p, m in facts["permissions"].items() if p.startswith("tickets:")
    } == dict.fromkeys(TICKET_PERMISSIONS, "tickets")
    assert "tickets" in facts["modules"]


async def test_disabled_plugin_leaves_no_trace(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture",))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user(ADMIN, ["ADMINISTRATOR"])
        facts = await schema_facts(admin)

        assert facts["ticket"] is None
        assert not {"tickets", "openTicketCount"} & facts["customer"]
        assert "assignedTickets" not in facts["user"]
        assert not TICKET_QUERIES & facts["query"]
        assert not TICKET_MUTATIONS & facts["mutation"]
        assert not any(name.startswith("tickets:") for name in facts["permissions"])
        assert "tickets" not in facts["modules"]
        body = await admin.gql("{ tickets { totalCount } }")
        assert "Cannot query field 'tickets'" in body["errors"][0]["message"]
        async with admin.db.read() as session:
            tables = await session.run_sync(
                lambda sync: set(inspect(sync.connection()).get_table_names())
            )
        assert not {t for t in tables if t.startswith("ticket")}
        assert "customers" in tables
        # Nothing vetoes archiving.
        customer = await create_customer(admin, "Free To Go")
        payload = data(await admin.gql(ARCHIVE, {"id": customer, "version": 1}))["archiveCustomer"]
        assert payload["errors"] == []


# --- demo data ---------------------------------------------------------------------------------


async def test_demo_data_makes_consistent_tickets(admin: Api, pm: CRMPluginManager) -> None:
    async with admin.db.transaction() as session:
        await call_in_turn(pm.hook.crm_demo_data, session=session, size=40, settings=admin.settings)
    now = utcnow()
    async with admin.db.read() as session:
        rows = (await session.scalars(select(models.Ticket).order_by(models.Ticket.id))).all()

    assert len(rows) == 20
    assert [r.number for r in rows] == [f"T{n:06d}" for n in range(1, 21)]
    assert len({r.status for r in rows}) > 3
    for row in rows:
        assert row.created_at <= now
        assert (row.first_responded_at is None) == (row.status == "NEW")
        assert (row.resolved_at is not None) == (row.status in ("RESOLVED", "CLOSED"))
        assert (row.closed_at is not None) == (row.status == "CLOSED")
        assert (row.waiting_since is not None) == (row.status == "WAITING")
        for moment in (row.first_responded_at, row.resolved_at, row.closed_at, row.waiting_since):
            assert moment is None or row.created_at <= moment <= now, (row.number, moment)
    # The counter continues after the demo's tickets.
    customer = await create_customer(admin, "After The Demo")
    assert (await open_ticket(admin, customer))["number"] == "T000021"


async def test_demo_tickets_never_happen_in_the_future(admin: Api, pm: CRMPluginManager) -> None:
    """At larger sizes too: every time of a demo ticket lies between its opening and now."""
    await make_user(admin.db, admin.settings, "agent@example.com", [SUPPORT_REPRESENTATIVE])
    async with admin.db.transaction() as session:
        await load_demo_data(pm, session, admin.settings, 1000, "core.customers")
        await ticket_hooks.crm_demo_data(session, 1000, admin.settings)
    now = utcnow()
    async with admin.db.read() as session:
        rows = (await session.scalars(select(models.Ticket))).all()

    assert len(rows) == 500
    late = [
        (row.number, name, moment)
        for row in rows
        for name, moment in (
            ("first_responded_at", row.first_responded_at),
            ("resolved_at", row.resolved_at),
            ("closed_at", row.closed_at),
            ("waiting_since", row.waiting_since),
        )
        if moment is not None and not row.created_at <= moment <= now
    ]
    assert late == []


# --- statement count of nested lists -----------------------------------------------------------


NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        owner { name }
        tags { name }
        contacts(first: 5) { edges { node { name } } }
        interactions(first: 3) { edges { node { summary } } }
        tickets(first: 5) { edges { node { assignee { name } sla { state } } } }
      }
    }
  }
}"""
SIZE = 120


async def seed_customers_with_tickets(api: Api, pm: CRMPluginManager) -> None:
    """``SIZE`` demo customers (owned by three sales reps), three tickets each."""
    for n in (1, 2, 3):
        await make_user(api.db, api.settings, f"rep{n}@example.com", [SALES_REPRESENTATIVE])
    agents = [
        await make_user(api.db, api.settings, f"agent{n}@example.com", [SUPPORT_REPRESENTATIVE])
        for n in (1, 2)
    ]
    now = utcnow()
    cycle = ["NEW", "IN_PROGRESS", "WAITING", "RESOLVED"]
    async with api.db.transaction() as session:
        await load_demo_data(pm, session, api.settings, SIZE, "core.customers")
        customer_ids = list((await session.scalars(select(Customer.id))).all())
        await session.execute(
            insert(models.Ticket),
            [
                {
                    "number": f"T{n * 3 + k + 1:06d}",
                    "customer_id": customer_id,
                    "type": "FAULT",
                    "subject": f"Ticket {k} of {customer_id}",
                    "description": "",
                    "priority": ["URGENT", "HIGH", "MEDIUM"][k],
                    "status": cycle[(n + k) % 4],
                    "assignee_id": agents[(n + k) % 2],
                    "reopen_count": 0,
                    "first_responded_at": now if cycle[(n + k) % 4] != "NEW" else None,
                    "resolved_at": now if cycle[(n + k) % 4] == "RESOLVED" else None,
                    "waiting_since": now if cycle[(n + k) % 4] == "WAITING" else None,
                    "paused_seconds": 0.0,
                    "created_at": now - dt.timedelta(hours=k),
                    "updated_at": now,
                    "version": 1,
                }
                for n, customer_id in enumerate(customer_ids)
                for k in range(3)
            ],
        )


async def nested_statements(
    api: Api, counter: StatementCounter, first: int
) -> tuple[int, list[dict[str, Any]]]:
    counter.reset()
    edges: list[dict[str, Any]] = data(await api.gql(NESTED, {"first": first}))["customers"][
        "edges"
    ]
    assert len(edges) == first
    return counter.count, edges


async def test_nested_tickets_cost_the_same_for_5_and_100_customers(
    admin: Api,
    pm: CRMPluginManager,
    count_statements: Callable[[Database], StatementCounter],
) -> None:
    await seed_customers_with_tickets(admin, pm)
    counter = count_statements(admin.db)

    small, small_edges = await nested_statements(admin, counter, 5)
    large, large_edges = await nested_statements(admin, counter, 100)

    assert small == large, counter.statements
    for edge in large_edges:
        tickets = edge["node"]["tickets"]["edges"]
        assert len(tickets) == 3
        assert {t["node"]["assignee"]["name"] for t in tickets} <= {"Agent1", "Agent2"}
        assert all(t["node"]["sla"]["state"] for t in tickets)
    states = {t["node"]["sla"]["state"] for e in large_edges for t in e["node"]["tickets"]["edges"]}
    assert len(states) >= 2
    assert small_edges[0] == large_edges[0]

    # A sales representative (OWN scope) pays for the scope once, not per customer.
    rep = await admin.login("rep1@example.com")
    rep_small, _ = await nested_statements(rep, counter, 5)
    rep_large, rep_edges = await nested_statements(rep, counter, SIZE // 3)
    assert rep_small == rep_large, counter.statements
    assert all(len(e["node"]["tickets"]["edges"]) == 3 for e in rep_edges)
