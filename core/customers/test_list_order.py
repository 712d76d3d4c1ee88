"""``orderBy: [XOrder!]`` on the lists: every sort field both ways, paged forward
(first/after) and backward (last/before) to the same records, ties and NULLs, several
entries, and the refused orderings and cursors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import insert
from strawberry import relay

from core.customers import models
from schema.testkit import Api
from schema.testkit_tools import make_user

NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
STAGES = ["POTENTIAL", "NEW", "ACTIVE", "DORMANT", "CHURNED"]
GRADES = ["STANDARD", "SILVER", "GOLD"]

CUSTOMERS = """
query($orderBy: [CustomerOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  customers(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { number } }
  }
}"""
TASKS = """
query($orderBy: [TaskOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  tasks(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { title } }
  }
}"""
CONTACTS = """
query($orderBy: [ContactOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  contacts(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { name } }
  }
}"""
NESTED = """
query($orderBy: [ContactOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  customers(orderBy: {field: NUMBER}, first: 3) { edges { node { number
    contacts(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { name } }
    } } } }
}"""
AUDIT = """
query($orderBy: [AuditEventOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  auditEvents(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id } }
  }
}"""


async def load(admin: Api) -> dict[str, int]:
    """Seven customers (two without an owner, ties on stage and grade), contacts of the
    first, tasks (some done), owned by Ann and Bob."""
    assert admin.user_id is not None
    ann = await make_user(admin.db, admin.settings, "ann@example.com", name="Ann")
    bob = await make_user(admin.db, admin.settings, "bob@example.com", name="Bob")
    owners = [bob, None, ann, bob, None, ann, ann]
    async with admin.db.transaction() as session:
        await session.execute(
            insert(models.Customer),
            [
                {
                    "id": n + 1,
                    "number": f"C{n + 1:06d}",
                    "name": f"Customer {6 - n}",
                    "kind": "COMPANY",
                    "stage": STAGES[n % 5],
                    "grade": GRADES[n % 3],
                    "owner_id": owner,
                    "custom_fields": {},
                    "created_at": NOW + dt.timedelta(minutes=n),
                    "updated_at": NOW,
                    "version": 1,
                }
                for n, owner in enumerate(owners)
            ],
        )
        await session.execute(
            insert(models.Contact),
            [
                {
                    "customer_id": 1 + n % 2,
                    "name": f"Contact {n % 3}",
                    "is_primary": False,
                    "created_at": NOW + dt.timedelta(minutes=n),
                    "updated_at": NOW,
                    "version": 1,
                }
                for n in range(6)
            ],
        )
        await session.execute(
            insert(models.Interaction),
            [
                {
                    "customer_id": 1,
                    "channel": "PHONE",
                    "summary": f"Call {n}",
                    "occurred_at": NOW - dt.timedelta(days=n % 3),
                    "created_at": NOW + dt.timedelta(minutes=n),
                }
                for n in range(5)
            ],
        )
        await session.execute(
            insert(models.Task),
            [
                {
                    "customer_id": 1,
                    "title": f"Task {n}",
                    "due_at": NOW + dt.timedelta(days=n % 3),
                    "assignee_id": admin.user_id,
                    "done_at": NOW + dt.timedelta(hours=n) if n % 2 else None,
                    "created_at": NOW + dt.timedelta(minutes=n),
                    "updated_at": NOW,
                    "version": 1,
                }
                for n in range(5)
            ],
        )
    return {"ann": ann, "bob": bob}


def _number(n: int) -> str:
    return f"C{n + 1:06d}"


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_customers_sort_by_stage_grade_owner_number_both_ways(
    admin: Api, direction: str
) -> None:
    await load(admin)
    owners = ["Bob", None, "Ann", "Bob", None, "Ann", "Ann"]
    descending = direction == "DESC"

    def expected(key: Any) -> list[str]:
        return [_number(n) for n in sorted(range(7), key=key, reverse=descending)]

    stage = await admin.walk(
        CUSTOMERS,
        ["customers"],
        "number",
        {"orderBy": {"field": "STAGE", "direction": direction}},
    )
    assert stage == expected(lambda n: (STAGES.index(STAGES[n % 5]), n))
    grade = await admin.walk(
        CUSTOMERS,
        ["customers"],
        "number",
        {"orderBy": [{"field": "GRADE", "direction": direction}]},
    )
    assert grade == expected(lambda n: (GRADES.index(GRADES[n % 3]), n))
    number = await admin.walk(
        CUSTOMERS,
        ["customers"],
        "number",
        {"orderBy": [{"field": "NUMBER", "direction": direction}]},
    )
    assert number == expected(lambda n: n)
    # Without an owner: last ascending, first descending (NULL after every name).
    owner = await admin.walk(
        CUSTOMERS,
        ["customers"],
        "number",
        {"orderBy": [{"field": "OWNER", "direction": direction}]},
    )
    assert owner == expected(lambda n: (owners[n] is None, owners[n] or "", n))
    if descending:
        assert owner[:2] == [_number(4), _number(1)]
    else:
        assert owner[-2:] == [_number(1), _number(4)]


async def test_several_entries_sort_in_turn(admin: Api) -> None:
    await load(admin)
    owners = ["Bob", None, "Ann", "Bob", None, "Ann", "Ann"]
    order = [{"field": "OWNER", "direction": "DESC"}, {"field": "NAME"}]
    found = await admin.walk(CUSTOMERS, ["customers"], "number", {"orderBy": order})
    # Owner descending (no owner first, then Bob, then Ann), then name ascending (the name
    # runs against n).
    rank = {None: 0, "Bob": 1, "Ann": 2}
    by_owner = sorted(range(7), key=lambda n: (rank[owners[n]], -n))
    assert found == [_number(n) for n in by_owner]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tasks_and_contacts_sort_both_ways(admin: Api, direction: str) -> None:
    await load(admin)
    descending = direction == "DESC"
    due = await admin.walk(
        TASKS, ["tasks"], "title", {"orderBy": [{"field": "DUE_AT", "direction": direction}]}
    )
    assert due == [
        f"Task {n}" for n in sorted(range(5), key=lambda n: (n % 3, n), reverse=descending)
    ]
    done = await admin.walk(
        TASKS,
        ["tasks"],
        "title",
        {"orderBy": [{"field": "DONE_AT", "direction": direction}]},
    )
    # Open tasks (NULL) last ascending, first descending; Task 1 was done before Task 3.
    assert done == (
        ["Task 4", "Task 2", "Task 0", "Task 3", "Task 1"]
        if descending
        else ["Task 1", "Task 3", "Task 0", "Task 2", "Task 4"]
    )
    created = await admin.walk(
        CONTACTS,
        ["contacts"],
        "name",
        {"orderBy": [{"field": "CREATED_AT", "direction": direction}]},
    )
    assert created == [f"Contact {n % 3}" for n in sorted(range(6), reverse=descending)]


async def test_nested_connections_take_order_by_and_page_backward(admin: Api) -> None:
    await load(admin)
    for direction in ("ASC", "DESC"):
        order = [
            {"field": "NAME", "direction": direction},
            {"field": "CREATED_AT", "direction": direction},
        ]
        found = await admin.walk(
            NESTED, ["customers", "edges", 0, "node", "contacts"], "name", {"orderBy": order}
        )
        # Customer 1 has the contacts 0, 2, 4: names Contact 0, 2, 1.
        expected = ["Contact 0", "Contact 1", "Contact 2"]
        assert found == (expected[::-1] if direction == "DESC" else expected)


async def test_audit_events_sort_by_occurred_at(admin: Api) -> None:
    await load(admin)
    newest = await admin.walk(AUDIT, ["auditEvents"], "id", {})
    oldest = await admin.walk(
        AUDIT,
        ["auditEvents"],
        "id",
        {"orderBy": [{"field": "OCCURRED_AT", "direction": "ASC"}]},
    )
    assert len(newest) >= 2
    assert oldest == newest[::-1]


async def test_audit_events_filter_by_when_they_occurred(admin: Api) -> None:
    await load(admin)
    query = """
    query($filter: AuditEventFilter) {
      auditEvents(filter: $filter, orderBy: [{field: OCCURRED_AT}], first: 100) {
        edges { node { id occurredAt } }
      }
    }"""

    async def ids(occurred: dict[str, str] | None) -> list[str]:
        body = await admin.gql(query, {"filter": {"occurred": occurred}})
        assert "errors" not in body, body
        return [edge["node"]["id"] for edge in body["data"]["auditEvents"]["edges"]]

    body = await admin.gql(query, {"filter": None})
    events = [edge["node"] for edge in body["data"]["auditEvents"]["edges"]]
    moments = sorted({dt.datetime.fromisoformat(event["occurredAt"]) for event in events})
    assert len(moments) >= 2, events
    middle = moments[len(moments) // 2]
    cut = middle.isoformat()
    before = [e["id"] for e in events if dt.datetime.fromisoformat(e["occurredAt"]) < middle]
    since = [e["id"] for e in events if dt.datetime.fromisoformat(e["occurredAt"]) >= middle]
    assert before
    assert since
    assert await ids({"from": cut}) == since  # from is inclusive
    assert await ids({"to": cut}) == before  # to is exclusive
    assert await ids({"from": cut, "to": cut}) == []
    assert await ids(None) == before + since
    refused = await admin.gql(
        query, {"filter": {"occurred": {"from": cut, "to": moments[0].isoformat()}}}
    )
    (error,) = refused["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.occurred.to"}


async def test_refused_orderings_name_order_by(admin: Api) -> None:
    def refused(body: dict[str, Any]) -> tuple[str, str]:
        (error,) = body["errors"]
        return error["extensions"]["code"], error["extensions"]["argument"]

    twice = [{"field": "NAME"}, {"field": "NAME", "direction": "DESC"}]
    body = await admin.gql(CUSTOMERS, {"orderBy": twice})
    assert refused(body) == ("BAD_USER_INPUT", "orderBy.1.field")
    assert "NAME" in body["errors"][0]["message"]
    many = [{"field": f} for f in ("NAME", "NUMBER", "STAGE", "GRADE")]
    assert refused(await admin.gql(CUSTOMERS, {"orderBy": many})) == ("BAD_USER_INPUT", "orderBy")


async def test_cursor_of_another_order_is_refused(admin: Api) -> None:
    await load(admin)
    first = await admin.gql(CUSTOMERS, {"first": 2})
    assert "errors" not in first, first
    cursor = first["data"]["customers"]["pageInfo"]["endCursor"]
    for variables, argument in (
        ({"orderBy": [{"field": "STAGE"}], "first": 2, "after": cursor}, "after"),
        (
            {"orderBy": [{"field": "NAME", "direction": "DESC"}], "last": 2, "before": cursor},
            "before",
        ),
    ):
        body = await admin.gql(CUSTOMERS, variables)
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["argument"] == argument
        assert "another orderBy" in error["message"]
    same = await admin.gql(CUSTOMERS, {"orderBy": [{"field": "NAME"}], "first": 2, "after": cursor})
    assert "errors" not in same


async def test_date_time_range_is_one_input_with_checked_bounds(admin: Api) -> None:
    await load(admin)
    query = """
    query($created: DateTimeRange) { customers(filter: {created: $created}) { totalCount } }"""
    window = {"from": NOW.isoformat(), "to": (NOW + dt.timedelta(minutes=2)).isoformat()}
    body = await admin.gql(query, {"created": window})
    assert body["data"]["customers"]["totalCount"] == 2  # from inclusive, to exclusive
    upside_down = {"from": window["to"], "to": window["from"]}
    body = await admin.gql(query, {"created": upside_down})
    (error,) = body["errors"]
    assert error["extensions"]["argument"] == "filter.created.to"
    tasks = "query($due: DateTimeRange) { tasks(filter: {due: $due}) { totalCount } }"
    body = await admin.gql(tasks, {"due": upside_down})
    assert body["errors"][0]["extensions"]["argument"] == "filter.due.to"
    assert relay.to_base64("Customer", 1)  # ids stay global ids


TIMELINE = """
query($orderBy: [InteractionOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  customers(orderBy: {field: NUMBER}, first: 2) { edges { node {
    interactions(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { summary } }
    }
    tasks(orderBy: {field: DONE_AT}, last: 2) { edges { node { title } } } } } }
}"""


async def test_nested_timeline_and_tasks_take_order_by(admin: Api) -> None:
    await load(admin)
    path: list[str | int] = ["customers", "edges", 0, "node", "interactions"]
    newest = await admin.walk(TIMELINE, path, "summary", {})
    assert newest == [f"Call {n}" for n in sorted(range(5), key=lambda n: (n % 3, -n))]
    oldest = await admin.walk(TIMELINE, path, "summary", {"orderBy": [{"field": "OCCURRED_AT"}]})
    assert oldest == newest[::-1]
    created = await admin.walk(
        TIMELINE,
        path,
        "summary",
        {"orderBy": [{"field": "CREATED_AT", "direction": "DESC"}]},
    )
    assert created == [f"Call {n}" for n in range(4, -1, -1)]
    body = await admin.gql(TIMELINE, {"first": 1})
    tasks = body["data"]["customers"]["edges"][0]["node"]["tasks"]["edges"]
    assert [edge["node"]["title"] for edge in tasks] == ["Task 2", "Task 4"]  # open ones last


async def test_export_takes_a_list_of_order_entries(admin: Api) -> None:
    await load(admin)
    order = '[{"field": "OWNER", "direction": "DESC"}, {"field": "NUMBER", "direction": "DESC"}]'
    response = await admin.client.get(
        "/export/customers.csv", headers=admin.headers, params={"orderBy": order}
    )
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()[1:]
    numbers = [line.split(",")[0].lstrip("\ufeff") for line in lines]
    # No owner first (descending), then Bob, then Ann; numbers descending within each.
    assert numbers == [_number(n) for n in (4, 1, 3, 0, 6, 5, 2)]
    twice = '[{"field": "NAME"}, {"field": "NAME"}]'
    response = await admin.client.get(
        "/export/customers.csv", headers=admin.headers, params={"orderBy": twice}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["argument"] == "orderBy.1.field"


TEAMS = """
query($orderBy: [TeamOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  teams(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { name } }
  }
}"""
CREATE_TEAM = """
mutation($name: String!) { createTeam(input: {name: $name}) { errors { field } } }"""


async def test_teams_sort_by_name_any_case_or_creation(admin: Api) -> None:
    for name in ("north", "East", "south", "West"):
        body = await admin.gql(CREATE_TEAM, {"name": name})
        assert body["data"]["createTeam"]["errors"] == []
    by_name = await admin.walk(TEAMS, ["teams"], "name", {})
    assert by_name == ["East", "north", "south", "West"]
    newest = await admin.walk(
        TEAMS, ["teams"], "name", {"orderBy": {"field": "CREATED_AT", "direction": "DESC"}}
    )
    assert newest == ["West", "south", "East", "north"]


async def test_users_by_last_login_keep_those_who_never_signed_in_last(admin: Api) -> None:
    for name in ("Never One", "Never Two"):
        await make_user(
            admin.db, admin.settings, f"{name.split()[1].lower()}@example.com", name=name
        )
    signed_in = [await admin.user(f"signed{n}@example.com") for n in range(2)]
    query = """
    query($orderBy: [UserOrder!], $first: Int, $after: String, $last: Int, $before: String) {
      users(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { node { email lastLoginAt } }
      }
    }"""
    ascending = await admin.walk(
        query, ["users"], "email", {"orderBy": [{"field": "LAST_LOGIN_AT"}]}
    )
    descending = await admin.walk(
        query, ["users"], "email", {"orderBy": [{"field": "LAST_LOGIN_AT", "direction": "DESC"}]}
    )
    everyone = await admin.walk(query, ["users"], "email", {})
    assert sorted(ascending) == sorted(everyone)  # nobody is left out
    never = {"one@example.com", "two@example.com"}
    assert set(ascending[-2:]) == never  # after every value ascending...
    assert set(descending[:2]) == never  # ...and before them descending
    logged = [api.email for api in signed_in]
    assert ascending.index(logged[0]) < ascending.index(logged[1])
