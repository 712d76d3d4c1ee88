"""Sales follow-up over HTTP: a DORMANT customer revived by an interaction, the timeline's
filters and the root ``interactions`` list, and tasks with a type that are rescheduled,
reassigned, cancelled and filtered.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL. The organisation:
team North with two sales representatives (rep1, rep2) and a customer manager; team South
with one representative (rep3). A representative reaches their OWN customers, the manager
the TEAM's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from strawberry import relay

from core.audit import AuditEvent
from core.catalog import CUSTOMER_MANAGER, SALES_REPRESENTATIVE
from core.config import Settings
from core.customers import models
from tests.support import Api, FakeClock, StatementCounter, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id version } errors { field message code } }
}"""
LOG = """
mutation($input: LogInteractionInput!) {
  logInteraction(input: $input) {
    interaction { id customer { stage version } } errors { field message code }
  }
}"""
TASK_FIELDS = "id title type status done doneAt cancelledAt dueAt remindAt version " + (
    "assignee { id }"
)
CREATE_TASK = f"""
mutation($input: CreateTaskInput!) {{
  createTask(input: $input) {{ task {{ {TASK_FIELDS} }} errors {{ field message code }} }}
}}"""
COMPLETE = f"""
mutation($input: CompleteTaskInput!) {{
  completeTask(input: $input) {{ task {{ {TASK_FIELDS} }} errors {{ field message code }} }}
}}"""
RESCHEDULE = f"""
mutation($input: RescheduleTaskInput!) {{
  rescheduleTask(input: $input) {{ task {{ {TASK_FIELDS} }} errors {{ field message code }} }}
}}"""
REASSIGN = f"""
mutation($input: ReassignTaskInput!) {{
  reassignTask(input: $input) {{ task {{ {TASK_FIELDS} }} errors {{ field message code }} }}
}}"""
CANCEL = f"""
mutation($input: CancelTaskInput!) {{
  cancelTask(input: $input) {{ task {{ {TASK_FIELDS} }} errors {{ field message code }} }}
}}"""
CUSTOMER = """
query($id: ID!) {
  customer(id: $id) {
    stage version
    tasks(first: 10) { edges { node { title status doneAt } } }
    history(first: 10) {
      edges { node { action actor { id } changes { field before after } } }
    }
  }
}"""
TIMELINE = """
query($id: ID!, $filter: TimelineFilter, $first: Int) {
  customer(id: $id) {
    interactions(filter: $filter, first: $first) {
      totalCount edges { node { summary } }
    }
  }
}"""
INTERACTIONS = """
query($filter: InteractionFilter, $first: Int, $after: String, $last: Int, $before: String) {
  interactions(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { node { summary } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
TASKS = """
query($filter: TaskFilter) {
  tasks(filter: $filter, first: 50) { totalCount edges { node { title } } }
}"""
NOTIFICATIONS = "query { notifications(first: 10) { edges { node { kind title subjectId } } } }"


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def gid(type_name: str, value: int | None) -> str:
    return relay.to_base64(type_name, value or 0)


def ok(body: dict[str, Any], name: str) -> dict[str, Any]:
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


def refused(body: dict[str, Any], name: str) -> dict[str, str]:
    """``{field: code}`` of a payload's errors."""
    assert "errors" not in body, body
    return {e["field"]: e["code"] for e in body["data"][name]["errors"]}


def api_error(body: dict[str, Any]) -> tuple[str, str | None]:
    """``(extensions.code, extensions.argument)`` of a request refused with a GraphQL error."""
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("argument")


def summaries(body: dict[str, Any], *path: str) -> list[str]:
    assert "errors" not in body, body
    found: Any = body["data"]
    for step in path:
        found = found[step]
    return [edge["node"]["summary"] for edge in found["edges"]]


async def titles(api: Api, filter: dict[str, Any]) -> list[str]:
    body = await api.gql(TASKS, {"filter": filter})
    assert "errors" not in body, body
    return sorted(edge["node"]["title"] for edge in body["data"]["tasks"]["edges"])


async def inbox(api: Api) -> list[dict[str, Any]]:
    body = await api.gql(NOTIFICATIONS)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["notifications"]["edges"]]


@dataclass
class Org:
    api: Api
    clock: FakeClock
    rep1: Api
    rep2: Api
    rep3: Api
    manager: Api


@pytest.fixture
async def org(make_settings: Callable[..., Settings]) -> AsyncIterator[Org]:
    clock = FakeClock()
    async with running_app(make_settings(dormant_days=30), clock=clock) as api:
        yield Org(
            api=api,
            clock=clock,
            rep1=await api.user("rep1@example.com", [SALES_REPRESENTATIVE], team="North"),
            rep2=await api.user("rep2@example.com", [SALES_REPRESENTATIVE], team="North"),
            rep3=await api.user("rep3@example.com", [SALES_REPRESENTATIVE], team="South"),
            manager=await api.user("manager@example.com", [CUSTOMER_MANAGER], team="North"),
        )


async def customer_of(api: Api, name: str, stage: str = "ACTIVE") -> str:
    body = await api.gql(CREATE, {"input": {"name": name, "stage": stage}})
    customer_id: str = ok(body, "createCustomer")["customer"]["id"]
    return customer_id


async def log(
    api: Api, customer_id: str, summary: str, channel: str = "PHONE", **more: Any
) -> dict[str, Any]:
    body = await api.gql(
        LOG,
        {"input": {"customerId": customer_id, "channel": channel, "summary": summary, **more}},
    )
    return ok(body, "logInteraction")


async def new_task(api: Api, clock: FakeClock, title: str, **more: Any) -> dict[str, Any]:
    due = iso(clock() + dt.timedelta(days=2))
    body = await api.gql(CREATE_TASK, {"input": {"title": title, "dueAt": due, **more}})
    task: dict[str, Any] = ok(body, "createTask")["task"]
    return task


# ------------------------------------------------------------------- reviving a customer


async def test_an_interaction_revives_a_dormant_customer_and_completes_its_re_engage_task(
    org: Org,
) -> None:
    rep1 = await org.rep1.lasting()
    quiet = await customer_of(rep1, "Quiet")
    org.clock.advance(days=31)
    await rep1.run_due_jobs()
    before = (await rep1.gql(CUSTOMER, {"id": quiet}))["data"]["customer"]
    assert before["stage"] == "DORMANT"
    [reengage] = before["tasks"]["edges"]
    assert reengage["node"]["status"] == "OPEN"
    assert reengage["node"]["title"].startswith("Re-engage Quiet")

    logged = await log(rep1, quiet, "Called, they are back")
    assert logged["interaction"]["customer"]["stage"] == "ACTIVE"
    after = (await rep1.gql(CUSTOMER, {"id": quiet}))["data"]["customer"]
    assert after["stage"] == "ACTIVE"
    assert after["version"] == before["version"] + 1
    [done] = after["tasks"]["edges"]
    assert done["node"]["status"] == "DONE"
    assert done["node"]["doneAt"] == iso(org.clock())
    # The customer's history shows the revival as the author's change, beside the log.
    events = [edge["node"] for edge in after["history"]["edges"]]
    revival = next(e for e in events if e["action"] == "customer.updated")
    assert revival["actor"]["id"] == gid("User", rep1.user_id)
    changes = {c["field"]: (c["before"], c["after"]) for c in revival["changes"]}
    assert changes["stage"] == ("DORMANT", "ACTIVE")
    assert changes["reason"] == (None, "interaction logged")
    assert changes["interactionId"] == (None, logged["interaction"]["id"])
    assert "interaction.logged" in [e["action"] for e in events]
    async with org.api.db.read() as session:
        completed = (
            await session.scalars(select(AuditEvent).where(AuditEvent.action == "task.completed"))
        ).all()
    assert [(e.actor_id, e.changes["reason"]) for e in completed] == [
        (rep1.user_id, "customer revived")
    ]

    # Quiet again for 31 days: dormant again, with a new task; the old one stays done.
    org.clock.advance(days=31)
    await rep1.run_due_jobs()
    again = (await rep1.gql(CUSTOMER, {"id": quiet}))["data"]["customer"]
    assert again["stage"] == "DORMANT"
    assert sorted(e["node"]["status"] for e in again["tasks"]["edges"]) == ["DONE", "OPEN"]


async def test_only_a_recent_interaction_revives_and_other_stages_stay(org: Org) -> None:
    rep1 = await org.rep1.lasting()
    quiet = await customer_of(rep1, "Quiet")
    org.clock.advance(days=31)
    await rep1.run_due_jobs()
    # Logged late, about a call 31 days ago: the customer has been quiet since.
    old = await log(rep1, quiet, "Old call", occurredAt=iso(org.clock() - dt.timedelta(days=31)))
    assert old["interaction"]["customer"]["stage"] == "DORMANT"
    customer = (await rep1.gql(CUSTOMER, {"id": quiet}))["data"]["customer"]
    assert [e["node"]["status"] for e in customer["tasks"]["edges"]] == ["OPEN"]

    # A POTENTIAL customer stays POTENTIAL; only DORMANT is revived.
    lead = await customer_of(rep1, "Lead", stage="POTENTIAL")
    logged = await log(rep1, lead, "First call")
    assert logged["interaction"]["customer"]["stage"] == "POTENTIAL"


# ------------------------------------------------------------------------------ timeline


async def test_the_timeline_filters_by_channel_period_and_author(org: Org) -> None:
    rep1, manager = org.rep1, org.manager
    acme = await customer_of(rep1, "Acme")
    start = org.clock()
    await log(rep1, acme, "call 1", occurredAt=iso(start - dt.timedelta(days=3)))
    await log(rep1, acme, "mail 2", "EMAIL", occurredAt=iso(start - dt.timedelta(days=2)))
    await log(manager, acme, "visit 3", "VISIT", occurredAt=iso(start - dt.timedelta(days=1)))

    async def timeline(filter: dict[str, Any] | None, api: Api = rep1) -> list[str]:
        body = await api.gql(TIMELINE, {"id": acme, "filter": filter, "first": 10})
        found = summaries(body, "customer", "interactions")
        assert body["data"]["customer"]["interactions"]["totalCount"] == len(found)
        return found

    assert await timeline(None) == ["visit 3", "mail 2", "call 1"]
    assert await timeline({}) == ["visit 3", "mail 2", "call 1"]
    assert await timeline({"channel": ["PHONE", "VISIT"]}) == ["visit 3", "call 1"]
    period = {"from": iso(start - dt.timedelta(days=2)), "to": iso(start - dt.timedelta(days=1))}
    assert await timeline({"occurred": period}) == ["mail 2"]  # from inclusive, to exclusive
    assert await timeline({"authorId": gid("User", manager.user_id)}) == ["visit 3"]
    assert await timeline({"authorId": gid("User", rep1.user_id), "channel": ["EMAIL"]}) == [
        "mail 2"
    ]

    backwards = {"from": iso(start), "to": iso(start - dt.timedelta(days=1))}
    bad = await rep1.gql(TIMELINE, {"id": acme, "filter": {"occurred": backwards}})
    assert api_error(bad) == ("BAD_USER_INPUT", "filter.occurred.to")
    assert bad["data"]["customer"]["interactions"] is None  # the rest of the data survives
    unknown = await rep1.gql(TIMELINE, {"id": acme, "filter": {"authorId": gid("User", 9999)}})
    assert api_error(unknown) == ("BAD_USER_INPUT", "filter.authorId")
    wrong = await rep1.gql(TIMELINE, {"id": acme, "filter": {"authorId": acme}})
    assert api_error(wrong) == ("BAD_USER_INPUT", "filter.authorId")
    naive = await rep1.gql(
        TIMELINE, {"id": acme, "filter": {"occurred": {"from": "2026-11-01T00:00:00"}}}
    )
    assert api_error(naive)[0] == "GRAPHQL_VALIDATION_FAILED"  # a time needs its zone


async def test_filtered_timelines_cost_the_same_statements_for_any_number_of_customers(
    org: Org, count_statements: Callable[..., StatementCounter]
) -> None:
    rep1 = org.rep1
    for name in ("A", "B", "C"):
        customer = await customer_of(rep1, name)
        await log(rep1, customer, f"{name} call")
        await log(rep1, customer, f"{name} mail", "EMAIL")
    query = """query($first: Int!) { customers(first: $first) { edges { node { name
        interactions(filter: {channel: [EMAIL]}, first: 5) {
          totalCount edges { node { summary } } } } } } }"""
    counter = count_statements(org.api.db)
    counts = []
    for first in (2, 3):
        counter.reset()
        body = await rep1.gql(query, {"first": first})
        assert "errors" not in body, body
        counts.append(counter.count)
    edges = body["data"]["customers"]["edges"]
    found = {
        edge["node"]["name"]: [e["node"]["summary"] for e in edge["node"]["interactions"]["edges"]]
        for edge in edges
    }
    assert found == {"A": ["A mail"], "B": ["B mail"], "C": ["C mail"]}
    assert [edge["node"]["interactions"]["totalCount"] for edge in edges] == [1, 1, 1]
    assert counts[0] == counts[1]


# ---------------------------------------------------------------- the interactions list


async def test_the_interactions_list_is_scoped_filtered_and_paged_newest_first(org: Org) -> None:
    rep1, rep2, rep3, manager = org.rep1, org.rep2, org.rep3, org.manager
    alpha = await customer_of(rep1, "Alpha")
    bravo = await customer_of(rep2, "Bravo")
    charlie = await customer_of(rep3, "Charlie")
    start = org.clock()
    moments = iter(range(10, 0, -1))

    async def at(api: Api, customer: str, summary: str, channel: str = "PHONE") -> None:
        when = start - dt.timedelta(hours=next(moments))
        await log(api, customer, summary, channel, occurredAt=iso(when))

    await at(rep1, alpha, "alpha 1")
    await at(rep2, bravo, "bravo 1", "EMAIL")
    await at(rep3, charlie, "charlie 1")
    await at(manager, alpha, "alpha 2", "VISIT")
    await at(rep1, alpha, "alpha 3", "EMAIL")

    async def listed(api: Api, filter: dict[str, Any] | None = None) -> list[str]:
        body = await api.gql(INTERACTIONS, {"filter": filter, "first": 50})
        found = summaries(body, "interactions")
        assert body["data"]["interactions"]["totalCount"] == len(found)
        return found

    # A representative sees the interactions on their own customers, whoever logged them.
    assert await listed(rep1) == ["alpha 3", "alpha 2", "alpha 1"]
    assert await listed(rep3) == ["charlie 1"]
    # The manager the team's (North: rep1, rep2 and the manager's customers).
    assert await listed(manager) == ["alpha 3", "alpha 2", "bravo 1", "alpha 1"]
    assert await listed(manager, {"channel": ["EMAIL"]}) == ["alpha 3", "bravo 1"]
    assert await listed(manager, {"authorId": gid("User", manager.user_id)}) == ["alpha 2"]
    assert await listed(manager, {"customerId": bravo}) == ["bravo 1"]
    period = {"from": iso(start - dt.timedelta(hours=8)), "to": iso(start - dt.timedelta(hours=6))}
    assert await listed(manager, {"occurred": period}) == ["alpha 2"]  # to is exclusive
    north = await team_id(org, "North")
    assert await listed(manager, {"teamId": north}) == ["alpha 3", "alpha 2", "bravo 1", "alpha 1"]
    # Pages, forward and back, in the same order.
    paged = await manager.walk(INTERACTIONS, ["interactions"], "summary", page=1)
    assert paged == ["alpha 3", "alpha 2", "bravo 1", "alpha 1"]

    # Refusals name the argument; a customer out of reach reads as unknown.
    for filter, argument in (
        ({"customerId": charlie}, "filter.customerId"),
        ({"customerId": gid("Customer", 9999)}, "filter.customerId"),
        ({"customerId": gid("User", 1)}, "filter.customerId"),
        ({"authorId": gid("User", 9999)}, "filter.authorId"),
        ({"teamId": gid("Team", 9999)}, "filter.teamId"),
        ({"occurred": {"from": iso(start), "to": iso(start - dt.timedelta(days=1))}}, None),
    ):
        body = await manager.gql(INTERACTIONS, {"filter": filter, "first": 5})
        assert api_error(body) == ("BAD_USER_INPUT", argument or "filter.occurred.to"), filter
        assert body["data"] == {"interactions": None}
    too_many = await manager.gql(INTERACTIONS, {"first": 1000})
    assert api_error(too_many)[0] == "BAD_USER_INPUT"
    anonymous = await org.api.gql(INTERACTIONS, {"first": 5})
    assert api_error(anonymous)[0] == "UNAUTHENTICATED"


async def team_id(org: Org, name: str) -> str:
    from core.identity.models import Team

    async with org.api.db.read() as session:
        found = await session.scalar(select(Team.id).where(Team.name == name))
    return gid("Team", found)


# ---------------------------------------------------------------------------------- tasks


async def test_a_task_has_a_type_and_a_status(org: Org) -> None:
    rep1 = org.rep1
    plain = await new_task(rep1, org.clock, "Plain")
    assert (plain["type"], plain["status"], plain["done"]) == ("OTHER", "OPEN", False)
    call = await new_task(rep1, org.clock, "Call", type="CALL")
    assert call["type"] == "CALL"
    done = ok(await rep1.gql(COMPLETE, {"input": {"id": call["id"], "version": 1}}), "completeTask")
    assert (done["task"]["status"], done["task"]["done"]) == ("DONE", True)
    async with org.api.db.read() as session:
        event = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "task.created")
            .order_by(AuditEvent.id)
            .limit(1)
        )
    assert event is not None
    assert event.changes["type"] == {"before": None, "after": "OTHER"}


async def test_a_rescheduled_task_is_reminded_again_at_its_new_time(org: Org) -> None:
    rep1 = await org.rep1.lasting()
    clock = org.clock
    due = clock() + dt.timedelta(days=2)
    created = ok(
        await rep1.gql(
            CREATE_TASK,
            {
                "input": {
                    "title": "Send the offer",
                    "dueAt": iso(due),
                    "remindAt": iso(clock() + dt.timedelta(hours=1)),
                }
            },
        ),
        "createTask",
    )["task"]
    clock.advance(hours=1)
    await rep1.run_due_jobs()
    assert [n["title"] for n in await inbox(rep1)] == ["Reminder: Send the offer"]

    later = due + dt.timedelta(days=3)
    moved = ok(
        await rep1.gql(
            RESCHEDULE,
            {
                "input": {
                    "id": created["id"],
                    "version": created["version"],
                    "dueAt": iso(later),
                    "remindAt": iso(later - dt.timedelta(hours=2)),
                }
            },
        ),
        "rescheduleTask",
    )["task"]
    assert (moved["dueAt"], moved["remindAt"]) == (iso(later), iso(later - dt.timedelta(hours=2)))
    assert moved["version"] == created["version"] + 1
    async with org.api.db.read() as session:
        task = await session.scalar(select(models.Task))
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "task.rescheduled")
        )
    assert task is not None
    assert task.reminded_at is None
    assert event is not None
    assert event.actor_id == rep1.user_id
    assert event.changes["dueAt"] == {"before": due.isoformat(), "after": later.isoformat()}

    clock.current = later - dt.timedelta(hours=2)
    await rep1.run_due_jobs()
    assert [n["title"] for n in await inbox(rep1)] == ["Reminder: Send the offer"] * 2

    # Refused: a reminder after the due time, a time without a zone, a stale version.
    stale = {"id": created["id"], "version": created["version"], "dueAt": iso(later)}
    assert refused(await rep1.gql(RESCHEDULE, {"input": stale}), "rescheduleTask") == {
        "version": "CONFLICT"
    }
    current = {"id": created["id"], "version": moved["version"]}
    late = {**current, "dueAt": iso(later), "remindAt": iso(later + dt.timedelta(hours=1))}
    assert refused(await rep1.gql(RESCHEDULE, {"input": late}), "rescheduleTask") == {
        "remindAt": "OUT_OF_RANGE"
    }
    naive = {**current, "dueAt": "2026-12-24T10:00:00"}
    assert api_error(await rep1.gql(RESCHEDULE, {"input": naive}))[0] == (
        "GRAPHQL_VALIDATION_FAILED"
    )


async def test_who_may_reschedule_reassign_and_cancel_a_task(org: Org) -> None:
    rep1, rep2, rep3, manager = org.rep1, org.rep2, org.rep3, org.manager
    alpha = await customer_of(rep1, "Alpha")
    task = await new_task(rep1, org.clock, "Call Alpha", customerId=alpha)
    due = iso(org.clock() + dt.timedelta(days=5))
    ref = {"id": task["id"], "version": task["version"]}

    # Another representative (even in the team) and a stranger: not found, nothing changed.
    for other in (rep2, rep3):
        for mutation, name, extra in (
            (RESCHEDULE, "rescheduleTask", {"dueAt": due}),
            (REASSIGN, "reassignTask", {"assigneeId": gid("User", other.user_id)}),
            (CANCEL, "cancelTask", {}),
            (COMPLETE, "completeTask", {}),
        ):
            body = await other.gql(mutation, {"input": {**ref, **extra}})
            assert api_error(body) == ("NOT_FOUND", "input.id"), name
    # The manager reaches the team's customers: may reschedule rep1's task.
    moved = ok(await manager.gql(RESCHEDULE, {"input": {**ref, "dueAt": due}}), "rescheduleTask")[
        "task"
    ]
    assert moved["dueAt"] == due
    # And hand it to themself (a user in their reach who may see Alpha).
    handed = ok(
        await manager.gql(
            REASSIGN,
            {
                "input": {
                    "id": task["id"],
                    "version": moved["version"],
                    "assigneeId": gid("User", manager.user_id),
                }
            },
        ),
        "reassignTask",
    )["task"]
    assert handed["assignee"]["id"] == gid("User", manager.user_id)
    cancelled = ok(
        await manager.gql(
            CANCEL, {"input": {"id": task["id"], "version": handed["version"], "reason": "Lost"}}
        ),
        "cancelTask",
    )["task"]
    assert (cancelled["status"], cancelled["done"]) == ("CANCELLED", False)
    assert cancelled["cancelledAt"] == iso(org.clock())
    async with org.api.db.read() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "task.cancelled")
        )
    assert event is not None
    assert event.changes["reason"] == "Lost"

    # A cancelled task is changed no more: not completed, rescheduled, reassigned, cancelled.
    now_ref = {"id": task["id"], "version": cancelled["version"]}
    for mutation, name, extra in (
        (COMPLETE, "completeTask", {}),
        (RESCHEDULE, "rescheduleTask", {"dueAt": due}),
        (REASSIGN, "reassignTask", {"assigneeId": gid("User", manager.user_id)}),
        (CANCEL, "cancelTask", {}),
    ):
        body = await manager.gql(mutation, {"input": {**now_ref, **extra}})
        assert refused(body, name) == {"id": "INVALID_TRANSITION"}, name
    # Nor is a done one.
    soon = await new_task(rep1, org.clock, "Done soon")
    finished = ok(
        await rep1.gql(COMPLETE, {"input": {"id": soon["id"], "version": soon["version"]}}),
        "completeTask",
    )["task"]
    body = await rep1.gql(CANCEL, {"input": {"id": soon["id"], "version": finished["version"]}})
    assert refused(body, "cancelTask") == {"id": "INVALID_TRANSITION"}
    bad_id = await rep1.gql(CANCEL, {"input": {"id": alpha, "version": 1}})
    assert refused(bad_id, "cancelTask") == {"id": "INVALID"}


async def test_a_task_goes_only_to_someone_who_may_see_its_customer_and_they_are_told(
    org: Org,
) -> None:
    rep1, rep2, manager = org.rep1, org.rep2, org.manager
    alpha = await customer_of(rep1, "Alpha")
    task = await new_task(manager, org.clock, "Visit Alpha", customerId=alpha)
    ref = {"id": task["id"], "version": task["version"]}

    # rep2 is in the manager's team but may not see Alpha (rep1's).
    body = await manager.gql(REASSIGN, {"input": {**ref, "assigneeId": gid("User", rep2.user_id)}})
    assert refused(body, "reassignTask") == {"assigneeId": "BUSINESS_RULE"}
    # rep3 is out of the manager's reach; an unknown user and a wrong id too.
    for assignee, expected in (
        (gid("User", org.rep3.user_id), ("NOT_FOUND", "input.assigneeId")),
        (gid("User", 9999), ("NOT_FOUND", "input.assigneeId")),
    ):
        body = await manager.gql(REASSIGN, {"input": {**ref, "assigneeId": assignee}})
        assert api_error(body) == expected
    wrong = await manager.gql(REASSIGN, {"input": {**ref, "assigneeId": alpha}})
    assert refused(wrong, "reassignTask") == {"assigneeId": "INVALID"}

    handed = ok(
        await manager.gql(REASSIGN, {"input": {**ref, "assigneeId": gid("User", rep1.user_id)}}),
        "reassignTask",
    )["task"]
    assert handed["assignee"]["id"] == gid("User", rep1.user_id)
    told = await inbox(rep1)
    assert [(n["kind"], n["title"], n["subjectId"]) for n in told] == [
        ("task.assigned", "Task handed to you: Visit Alpha", task["id"])
    ]
    async with org.api.db.read() as session:
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "task.reassigned")
        )
    assert event is not None
    assert event.changes["assigneeId"] == {
        "before": gid("User", manager.user_id),
        "after": gid("User", rep1.user_id),
    }
    # rep1 (now the assignee, who cannot hand tasks to others: OWN) keeps it; nobody is
    # told of what they did themselves.
    kept = await rep1.gql(
        REASSIGN,
        {
            "input": {
                "id": task["id"],
                "version": handed["version"],
                "assigneeId": gid("User", manager.user_id),
            }
        },
    )
    assert api_error(kept) == ("NOT_FOUND", "input.assigneeId")
    assert await inbox(manager) == []


async def test_task_lists_filter_by_status_type_overdue_and_reminder_time(org: Org) -> None:
    rep1 = org.rep1
    clock = org.clock
    now = clock()
    hours = dt.timedelta(hours=1)
    lead = dt.timedelta(hours=rep1.settings.task_reminder_hours)

    async def task(title: str, due: dt.datetime, **more: Any) -> dict[str, Any]:
        body = await rep1.gql(CREATE_TASK, {"input": {"title": title, "dueAt": iso(due), **more}})
        created: dict[str, Any] = ok(body, "createTask")["task"]
        return created

    late = await task("late call", now - 2 * hours, type="CALL")
    await task("soon mail", now + 3 * hours, type="EMAIL", remindAt=iso(now + 2 * hours))
    await task("next week visit", now + 7 * 24 * hours, type="VISIT")
    done = await task("done late", now - 5 * hours)
    ok(await rep1.gql(COMPLETE, {"input": {"id": done["id"], "version": 1}}), "completeTask")
    gone = await task("cancelled late", now - 5 * hours)
    ok(await rep1.gql(CANCEL, {"input": {"id": gone["id"], "version": 1}}), "cancelTask")

    assert await titles(rep1, {"overdue": True}) == ["late call"]
    assert await titles(rep1, {"overdue": False}) == [
        "cancelled late",
        "done late",
        "next week visit",
        "soon mail",
    ]
    assert await titles(rep1, {"status": ["OPEN"]}) == ["late call", "next week visit", "soon mail"]
    assert await titles(rep1, {"status": ["CANCELLED", "DONE"]}) == ["cancelled late", "done late"]
    assert await titles(rep1, {"done": False}) == ["late call", "next week visit", "soon mail"]
    assert await titles(rep1, {"done": True}) == ["done late"]
    assert await titles(rep1, {"type": ["CALL", "VISIT"]}) == ["late call", "next week visit"]
    assert await titles(rep1, {"type": ["OTHER"], "status": ["DONE"]}) == ["done late"]
    # The reminder time: remindAt, else the default lead before dueAt.
    window = {"from": iso(now), "to": iso(now + 4 * hours)}
    assert await titles(rep1, {"remind": window}) == ["soon mail"]
    week = now + 7 * 24 * hours - lead
    around = {"from": iso(week - hours), "to": iso(week + hours)}
    assert await titles(rep1, {"remind": around, "status": ["OPEN"]}) == ["next week visit"]
    assert late["type"] == "CALL"

    for filter, argument in (
        ({"remind": {"from": iso(now), "to": iso(now - hours)}}, "filter.remind.to"),
        ({"due": {"from": iso(now), "to": iso(now - hours)}}, "filter.due.to"),
        ({"assigneeId": late["id"]}, "filter.assigneeId"),
    ):
        body = await rep1.gql(TASKS, {"filter": filter})
        assert api_error(body) == ("BAD_USER_INPUT", argument), filter
    unknown_type = await rep1.gql(TASKS, {"filter": {"type": ["MEETING"]}})
    assert unknown_type["errors"]  # refused by GraphQL validation, never a 500


async def test_a_task_without_a_customer_is_in_reach_of_its_assignees_manager_only(
    org: Org,
) -> None:
    rep1, rep2, rep3, manager = org.rep1, org.rep2, org.rep3, org.manager
    task = await new_task(rep1, org.clock, "Book the trade fair stand")
    ref = {"id": task["id"], "version": task["version"]}

    # Listed for the assignee and the team's manager; not for a colleague or another team.
    assert await titles(rep1, {}) == ["Book the trade fair stand"]
    assert await titles(manager, {"assigneeId": gid("User", rep1.user_id)}) == [
        "Book the trade fair stand"
    ]
    for other in (rep2, rep3):
        assert await titles(other, {}) == []
        body = await other.gql(CANCEL, {"input": ref})
        assert api_error(body) == ("NOT_FOUND", "input.id")

    # The manager hands it to another member of the team, who then sees it.
    handed = ok(
        await manager.gql(REASSIGN, {"input": {**ref, "assigneeId": gid("User", rep2.user_id)}}),
        "reassignTask",
    )["task"]
    assert handed["assignee"]["id"] == gid("User", rep2.user_id)
    assert await titles(rep2, {}) == ["Book the trade fair stand"]
    assert await titles(rep1, {}) == []
