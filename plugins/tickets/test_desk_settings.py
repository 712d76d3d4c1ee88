"""The support desk's settings and figures over HTTP: SLA policies, business hours and
routing rules read back; no rule, no handler; the demo's Support team and routing rules;
SLA policies per customer grade (shown on the ticket, due times kept as they change,
refused inputs); the typed fields of ticket events and of ``ticketStats`` groups, grouped by
the customer's grade or stage too.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on PostgreSQL. The surveys
plugin is not enabled here, so ``satisfaction`` is null; its figures are tested with it, in
``plugins/surveys/test_ticket_satisfaction.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from core.plugin_api import (
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
    CRMPluginManager,
    Team,
    User,
    call_in_turn,
)
from core.plugin_api import Customer as CustomerRow
from plugins.tickets import demo, models
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.domain import DEFAULT_SLA
from plugins.tickets.test_lifecycle import (
    ERRORS,
    MONDAY,
    data,
    db_id,
    error_code,
    gid,
    ok,
    open_ticket,
    step,
    when,
)
from schema.testkit import Api, FakeClock
from schema.testkit_tools import make_user

settings, clock, api, admin = lifecycle.settings, lifecycle.clock, lifecycle.api, lifecycle.admin

SETTINGS = """
{
  ticketSlaPolicies { priority grade firstResponseMinutes resolutionMinutes }
  ticketBusinessHours { timeZone weekdays start end holidays }
  ticketRoutingRules { type strategy team { id name } users { id name } }
}"""
SET_POLICY = f"""
mutation($input: SetSlaPolicyInput!) {{
  setSlaPolicy(input: $input) {{
    policy {{ priority grade firstResponseMinutes resolutionMinutes }} {ERRORS}
  }}
}}"""
SET_RULE = f"""
mutation($input: SetRoutingRuleInput!) {{
  setRoutingRule(input: $input) {{
    rule {{ type strategy team {{ name }} users {{ name }} }} {ERRORS}
  }}
}}"""
SLA = """
query($id: ID!) { ticket(id: $id) { sla {
  firstResponseDueAt resolutionDueAt
  policy { priority grade firstResponseMinutes resolutionMinutes }
} } }"""
EVENTS = """
query($id: ID!) { ticket(id: $id) { events { kind satisfied fromPriority toPriority } } }"""
STATS = """
query($groupBy: [TicketGroupBy!]) { ticketStats(groupBy: $groupBy) {
  key total type priority month customerGrade customerStage assignee { id name }
  satisfaction { responses }
} }"""


async def customer(api: Api, name: str, **fields: Any) -> str:
    body = await api.gql(
        f"""mutation($input: CreateCustomerInput!) {{
          createCustomer(input: $input) {{ customer {{ id }} {ERRORS} }}
        }}""",
        {"input": {"name": name, **fields}},
    )
    payload = data(body)["createCustomer"]
    assert payload["errors"] == [], payload
    found: str = payload["customer"]["id"]
    return found


async def set_policy(api: Api, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = data(await api.gql(SET_POLICY, {"input": input}))["setSlaPolicy"]
    return payload


async def refused(api: Api, **input: Any) -> list[tuple[str, str]]:
    payload = await set_policy(api, **input)
    assert payload["policy"] is None, payload
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def sla(api: Api, ticket: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(SLA, {"id": ticket["id"]}))["ticket"]["sla"]
    return found


async def stored_due(api: Api, ticket: dict[str, Any]) -> dt.datetime | None:
    async with api.db.read() as session:
        return await session.scalar(
            select(models.Ticket.sla_due_at).where(models.Ticket.id == db_id(ticket["id"]))
        )


def policy(priority: str, grade: str | None, first: int, resolution: int) -> dict[str, Any]:
    return {
        "priority": priority,
        "grade": grade,
        "firstResponseMinutes": first,
        "resolutionMinutes": resolution,
    }


# --- settings read back ------------------------------------------------------------------------


async def test_settings_read_back_as_they_were_set(admin: Api) -> None:
    support = await admin.user("desk@example.com", [SUPPORT_REPRESENTATIVE], team="Support")
    mate = await make_user(
        admin.db, admin.settings, "mate@example.com", [SUPPORT_REPRESENTATIVE], team="Support"
    )
    # Nothing set: the default policies, no calendar (every hour counts), no rules.
    found = data(await support.gql(SETTINGS))
    assert found["ticketSlaPolicies"] == [
        policy(p, None, *DEFAULT_SLA[p]) for p in ("URGENT", "HIGH", "MEDIUM", "LOW")
    ]
    assert found["ticketBusinessHours"] is None
    assert found["ticketRoutingRules"] == []

    assert (
        await set_policy(admin, priority="HIGH", firstResponseMinutes=60, resolutionMinutes=600)
    )["errors"] == []
    for grade, first in (("SILVER", 45), ("GOLD", 15)):
        payload = await set_policy(
            admin, priority="HIGH", grade=grade, firstResponseMinutes=first, resolutionMinutes=300
        )
        assert payload == {"policy": policy("HIGH", grade, first, 300), "errors": []}
    hours = {"enabled": True, "timeZone": "Europe/Berlin", "weekdays": [1, 2, 3, 4, 5]}
    hours |= {"start": "08:00", "end": "16:00", "holidays": ["2026-12-24"]}
    set_hours = "mutation($input: SetBusinessHoursInput!) { setBusinessHours(input: $input) "
    body = await admin.gql(set_hours + f"{{ {ERRORS} }} }}", {"input": hours})
    assert data(body)["setBusinessHours"]["errors"] == []
    async with admin.db.read() as session:
        team_id = await session.scalar(select(Team.id).where(Team.name == "Support"))
    by_team = {"type": "FAULT", "strategy": "ROUND_ROBIN", "teamId": gid("Team", team_id)}
    rule = data(await admin.gql(SET_RULE, {"input": by_team}))["setRoutingRule"]
    assert rule == {
        "rule": {
            "type": "FAULT",
            "strategy": "ROUND_ROBIN",
            "team": {"name": "Support"},
            "users": [],
        },
        "errors": [],
    }
    by_users = {
        "type": "COMPLAINT",
        "strategy": "LEAST_OPEN",
        "userIds": [gid("User", mate), gid("User", support.user_id)],
    }
    assert data(await admin.gql(SET_RULE, {"input": by_users}))["setRoutingRule"]["errors"] == []

    found = data(await support.gql(SETTINGS))
    assert found["ticketSlaPolicies"] == [
        policy("URGENT", None, *DEFAULT_SLA["URGENT"]),
        policy("HIGH", None, 60, 600),
        policy("MEDIUM", None, *DEFAULT_SLA["MEDIUM"]),
        policy("LOW", None, *DEFAULT_SLA["LOW"]),
        policy("HIGH", "GOLD", 15, 300),
        policy("HIGH", "SILVER", 45, 300),
    ]
    assert found["ticketBusinessHours"] == {
        "timeZone": "Europe/Berlin",
        "weekdays": [1, 2, 3, 4, 5],
        "start": "08:00",
        "end": "16:00",
        "holidays": ["2026-12-24"],
    }
    # In the order of TicketType; a team and users shown by name.
    assert found["ticketRoutingRules"] == [
        {
            "type": "FAULT",
            "strategy": "ROUND_ROBIN",
            "team": {"id": gid("Team", team_id), "name": "Support"},
            "users": [],
        },
        {
            "type": "COMPLAINT",
            "strategy": "LEAST_OPEN",
            "team": None,
            "users": [
                {"id": gid("User", mate), "name": "Mate"},
                {"id": gid("User", support.user_id), "name": "Desk"},
            ],
        },
    ]


async def test_reading_the_settings_needs_tickets_read(admin: Api) -> None:
    finance = await admin.as_role(FINANCE)
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    for query in ("{ ticketSlaPolicies { priority } }", "{ ticketBusinessHours { timeZone } }"):
        assert error_code(await finance.gql(query)) == "FORBIDDEN", query
    assert error_code(await finance.gql("{ ticketRoutingRules { type } }")) == "FORBIDDEN"
    for reader in (sysadmin, rep):  # tickets:read at any scope reads them
        assert len(data(await reader.gql(SETTINGS))["ticketSlaPolicies"]) == 4


# --- routing -----------------------------------------------------------------------------------


async def test_without_a_rule_a_new_ticket_waits_unassigned(admin: Api) -> None:
    acme = await customer(admin, "Acme Ltd")
    ticket = await open_ticket(admin, acme, type="SUGGESTION")
    assert ticket["assignee"] is None
    queue = data(
        await admin.gql("{ tickets(filter: {unassigned: true}) { edges { node { id } } } }")
    )["tickets"]["edges"]
    assert [edge["node"]["id"] for edge in queue] == [ticket["id"]]


async def test_the_demo_routes_new_tickets_to_its_support_team(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    async with admin.db.transaction() as session:
        await call_in_turn(
            plugin_manager.hook.crm_demo_data, session=session, size=10, settings=admin.settings
        )
    async with admin.db.read() as session:
        team = await session.scalar(select(Team).where(Team.name == demo.SUPPORT_TEAM))
        assert team is not None
        members = (
            await session.scalars(
                select(User.email).where(User.team_id == team.id).order_by(User.id)
            )
        ).all()
    assert members == ["support@demo.example", "helpdesk@demo.example"]
    rules = data(await admin.gql(SETTINGS))["ticketRoutingRules"]
    assert [(r["type"], r["strategy"], r["team"]["name"]) for r in rules] == [
        ("CONSULTATION", "ROUND_ROBIN", "Support"),
        ("FAULT", "ROUND_ROBIN", "Support"),
        ("COMPLAINT", "LEAST_OPEN", "Support"),
        ("SUGGESTION", "ROUND_ROBIN", "Support"),
        ("OTHER", "ROUND_ROBIN", "Support"),
    ]
    # The second support representative signs in with the demo password.
    login = await admin.gql(
        """mutation { login(input: {email: "helpdesk@demo.example",
           password: "Demo-Lantern-Walrus-2026"}) { accessToken } }"""
    )
    assert data(login)["login"]["accessToken"]
    # New tickets of a type go to the team's members in turn.
    acme = await customer(admin, "Acme After The Demo")
    handlers = [
        (await open_ticket(admin, acme, f"Fault {n}", type="FAULT"))["assignee"]["user"]["email"]
        for n in range(3)
    ]
    assert handlers[0] != handlers[1]
    assert handlers[2] == handlers[0]
    assert set(handlers) == {"support@demo.example", "helpdesk@demo.example"}


# --- SLA policies per customer grade -----------------------------------------------------------


async def test_a_grade_policy_sets_the_targets_of_its_customers_tickets(
    admin: Api, clock: FakeClock
) -> None:
    gold = await customer(admin, "Gold Co", grade="GOLD")
    plain = await customer(admin, "Plain Co")
    payload = await set_policy(
        admin, priority="HIGH", grade="GOLD", firstResponseMinutes=30, resolutionMinutes=480
    )
    assert payload["errors"] == []
    vip = await open_ticket(admin, gold, "VIP", priority="HIGH")
    other = await open_ticket(admin, plain, "Plain", priority="HIGH")
    # Another priority of a gold customer: the priority's own policy.
    low = await open_ticket(admin, gold, "VIP, low", priority="LOW")

    found = await sla(admin, vip)
    assert found["policy"] == policy("HIGH", "GOLD", 30, 480)
    assert when(found["firstResponseDueAt"]) == MONDAY + dt.timedelta(minutes=30)
    assert when(found["resolutionDueAt"]) == MONDAY + dt.timedelta(hours=8)
    assert await stored_due(admin, vip) == MONDAY + dt.timedelta(minutes=30)
    assert (await sla(admin, other))["policy"] == policy("HIGH", None, *DEFAULT_SLA["HIGH"])
    assert await stored_due(admin, other) == MONDAY + dt.timedelta(minutes=120)
    assert (await sla(admin, low))["policy"] == policy("LOW", None, *DEFAULT_SLA["LOW"])

    # A change of the grade's policy moves the due times of its open tickets, no others.
    payload = await set_policy(
        admin, priority="HIGH", grade="GOLD", firstResponseMinutes=45, resolutionMinutes=480
    )
    assert payload["errors"] == []
    assert await stored_due(admin, vip) == MONDAY + dt.timedelta(minutes=45)
    assert await stored_due(admin, other) == MONDAY + dt.timedelta(minutes=120)
    # The ticket itself did not change: its version stays.
    ticket = await step(admin, "acknowledgeTicket", vip)
    assert (ticket["status"], ticket["version"]) == ("ACKNOWLEDGED", 2)
    assert await stored_due(admin, vip) == MONDAY + dt.timedelta(hours=8)

    # The grade the customer had when the ticket was opened counts.
    async with admin.db.transaction() as session:
        await session.execute(
            update(CustomerRow).where(CustomerRow.id == db_id(gold)).values(grade="STANDARD")
        )
    assert (await sla(admin, vip))["policy"]["grade"] == "GOLD"
    later = await open_ticket(admin, gold, "No longer VIP", priority="HIGH")
    assert (await sla(admin, later))["policy"]["grade"] is None

    # Removed, its tickets follow the priority's policy again.
    payload = await set_policy(admin, priority="HIGH", grade="GOLD", enabled=False)
    assert payload == {"policy": None, "errors": []}
    assert (await sla(admin, vip))["policy"] == policy("HIGH", None, *DEFAULT_SLA["HIGH"])
    assert await stored_due(admin, vip) == MONDAY + dt.timedelta(hours=24)
    # Removing one that is not there changes nothing.
    again = await set_policy(admin, priority="HIGH", grade="GOLD", enabled=False)
    assert again == {"policy": None, "errors": []}
    assert len(data(await admin.gql(SETTINGS))["ticketSlaPolicies"]) == 4


async def test_bad_sla_policy_inputs_are_refused_naming_the_field(admin: Api) -> None:
    for grade in (None, "GOLD"):
        assert await refused(admin, priority="HIGH", grade=grade, resolutionMinutes=60) == [
            ("firstResponseMinutes", "REQUIRED")
        ]
        assert await refused(admin, priority="HIGH", grade=grade, firstResponseMinutes=60) == [
            ("resolutionMinutes", "REQUIRED")
        ]
        assert await refused(
            admin, priority="HIGH", grade=grade, firstResponseMinutes=0, resolutionMinutes=60
        ) == [("firstResponseMinutes", "OUT_OF_RANGE")]
        assert await refused(
            admin,
            priority="HIGH",
            grade=grade,
            firstResponseMinutes=60,
            resolutionMinutes=60 * 24 * 366,
        ) == [("resolutionMinutes", "OUT_OF_RANGE")]
        assert await refused(
            admin, priority="HIGH", grade=grade, firstResponseMinutes=90, resolutionMinutes=60
        ) == [("firstResponseMinutes", "INVALID")]
    # A priority's own policy cannot be removed.
    assert await refused(admin, priority="HIGH", enabled=False) == [("enabled", "INVALID")]
    # An unknown grade is not a CustomerGrade: the document is refused as a whole.
    body = await admin.gql(
        SET_POLICY,
        {"input": {"priority": "HIGH", "grade": "PLATINUM", "firstResponseMinutes": 1}},
    )
    assert error_code(body) == "GRAPHQL_VALIDATION_FAILED"
    # Setting policies needs tickets:manage.
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    grade_policy = {"priority": "HIGH", "grade": "GOLD", "firstResponseMinutes": 1}
    assert error_code(await support.gql(SET_POLICY, {"input": grade_policy})) == "FORBIDDEN"
    assert len(data(await admin.gql(SETTINGS))["ticketSlaPolicies"]) == 4


# --- the timeline's typed fields ---------------------------------------------------------------


async def test_escalations_and_confirmations_show_their_values(admin: Api) -> None:
    acme = await customer(admin, "Acme Ltd")
    ticket = await open_ticket(admin, acme, priority="MEDIUM")
    ticket = await ok(
        admin,
        "escalateTicket",
        {"id": ticket["id"], "version": ticket["version"], "priority": "URGENT", "reason": "Down"},
    )
    for name in ("acknowledgeTicket", "startTicketWork", "resolveTicket"):
        ticket = await step(admin, name, ticket)
    ticket = await ok(admin, "confirmTicketResolution", {"id": ticket["id"], "satisfied": False})
    ticket = await step(admin, "resolveTicket", ticket)
    await ok(admin, "confirmTicketResolution", {"id": ticket["id"], "satisfied": True})

    found = data(await admin.gql(EVENTS, {"id": ticket["id"]}))["ticket"]["events"]
    typed = [e for e in found if e["kind"] in ("ESCALATED", "CONFIRMATION")]
    assert typed == [
        {"kind": "ESCALATED", "satisfied": None, "fromPriority": "MEDIUM", "toPriority": "URGENT"},
        {"kind": "CONFIRMATION", "satisfied": False, "fromPriority": None, "toPriority": None},
        {"kind": "CONFIRMATION", "satisfied": True, "fromPriority": None, "toPriority": None},
    ]
    others = [e for e in found if e["kind"] not in ("ESCALATED", "CONFIRMATION")]
    assert others
    assert all(e["satisfied"] is e["fromPriority"] is e["toPriority"] is None for e in others)


# --- ticketStats' typed groups -----------------------------------------------------------------


async def test_stats_groups_carry_typed_values(admin: Api, clock: FakeClock) -> None:
    ann = await make_user(admin.db, admin.settings, "ann@example.com", [SUPPORT_REPRESENTATIVE])
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    gold = await customer(admin, "Gold Co", grade="GOLD", stage="ACTIVE")
    theirs = await customer(admin, "Silver Co", grade="SILVER", stage="NEW")
    first = await open_ticket(admin, gold, "One", type="FAULT", priority="HIGH")
    await ok(
        admin, "assignTicket", {"id": first["id"], "version": 1, "assigneeId": gid("User", ann)}
    )
    await open_ticket(admin, gold, "Two", type="COMPLAINT", priority="LOW")
    # The rep works a ticket of a customer it may not read.
    hidden = await open_ticket(admin, theirs, "Three", type="FAULT", priority="LOW")
    await ok(
        admin,
        "assignTicket",
        {"id": hidden["id"], "version": 1, "assigneeId": gid("User", rep.user_id)},
    )

    async def groups(api: Api, *group_by: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = data(await api.gql(STATS, {"groupBy": list(group_by)}))[
            "ticketStats"
        ]
        return found

    none = {
        "type": None,
        "priority": None,
        "month": None,
        "customerGrade": None,
        "customerStage": None,
        "assignee": None,
        "satisfaction": None,  # the surveys plugin is not enabled
    }
    by_assignee = await groups(admin, "ASSIGNEE")
    assert {tuple(g["key"]): (g["total"], g["assignee"]) for g in by_assignee} == {
        (gid("User", ann),): (1, {"id": gid("User", ann), "name": "Ann"}),
        (gid("User", rep.user_id),): (1, {"id": gid("User", rep.user_id), "name": "Rep"}),
        ("unassigned",): (1, None),
    }
    by_type_and_priority = await groups(admin, "TYPE", "PRIORITY", "MONTH")
    assert by_type_and_priority == [
        none
        | {"key": ["COMPLAINT", "LOW", "2026-11"], "total": 1, "type": "COMPLAINT"}
        | {"priority": "LOW", "month": "2026-11"},
        none
        | {"key": ["FAULT", "HIGH", "2026-11"], "total": 1, "type": "FAULT"}
        | {"priority": "HIGH", "month": "2026-11"},
        none
        | {"key": ["FAULT", "LOW", "2026-11"], "total": 1, "type": "FAULT"}
        | {"priority": "LOW", "month": "2026-11"},
    ]
    by_customer = await groups(admin, "CUSTOMER_GRADE", "CUSTOMER_STAGE")
    assert by_customer == [
        none
        | {"key": ["GOLD", "ACTIVE"], "total": 2, "customerGrade": "GOLD"}
        | {"customerStage": "ACTIVE"},
        none
        | {"key": ["SILVER", "NEW"], "total": 1, "customerGrade": "SILVER"}
        | {"customerStage": "NEW"},
    ]
    # The grade now, not when the ticket was opened.
    async with admin.db.transaction() as session:
        await session.execute(
            update(CustomerRow).where(CustomerRow.id == db_id(gold)).values(grade="SILVER")
        )
    assert [(g["key"], g["total"]) for g in await groups(admin, "CUSTOMER_GRADE")] == [
        (["SILVER"], 3)
    ]
    # The rep sees its one ticket, but not its customer: grouped as hidden, no grade.
    assert await groups(rep, "CUSTOMER_GRADE") == [none | {"key": ["hidden"], "total": 1}]
