"""``orderBy: [TicketOrder!]`` on the ticket lists (root and nested): priority by severity,
updated time, paging forward and backward to the same tickets, and the ``opened`` range."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.plugin_api import ADMINISTRATOR, CRMPluginManager, Settings
from plugins.tickets.test_lifecycle import MONDAY, create_customer, open_ticket
from schema.testkit import Api, FakeClock, running_app

PRIORITIES = ["LOW", "URGENT", "MEDIUM", "URGENT", "HIGH", "LOW"]
SEVERITY = ["LOW", "MEDIUM", "HIGH", "URGENT"]

TICKETS = """
query($orderBy: [TicketOrder!], $first: Int, $after: String, $last: Int, $before: String) {
  tickets(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { number } }
  }
}"""
NESTED = """
query($id: ID!, $orderBy: [TicketOrder!], $first: Int, $after: String, $last: Int,
      $before: String) {
  customer(id: $id) {
    tickets(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { node { number } }
    }
  }
}"""


def _connection(body: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
    assert "errors" not in body, body
    found: Any = body["data"]
    for step in path:
        found = found[step]
    return dict(found)


async def walk(
    api: Api, query: str, path: list[str | int], leaf: str, variables: dict[str, Any]
) -> list[Any]:
    """Every record of a list, two at a time forward; checks that paging backward from the
    end gives the same records in the same order."""
    forward: list[Any] = []
    after = None
    while True:
        page = _connection(await api.gql(query, {**variables, "first": 2, "after": after}), path)
        forward += [edge["node"][leaf] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backward: list[Any] = []
    before = None
    while True:
        page = _connection(await api.gql(query, {**variables, "last": 2, "before": before}), path)
        backward = [edge["node"][leaf] for edge in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == forward
    return forward


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY)


@pytest.fixture
async def api(
    settings: Settings, plugin_manager: CRMPluginManager, clock: FakeClock
) -> AsyncIterator[Api]:
    async with running_app(settings, pm=plugin_manager, clock=clock) as client:
        yield client


@pytest.fixture
async def admin(api: Api) -> Api:
    return await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)


@pytest.fixture
async def customer(admin: Api) -> str:
    return await create_customer(admin, "Acme Ltd")


async def open_tickets(admin: Api, customer: str, clock: FakeClock) -> list[str]:
    numbers = []
    for priority in PRIORITIES:
        ticket = await open_ticket(admin, customer, priority=priority)
        numbers.append(ticket["number"])
        clock.advance(minutes=1)
    return numbers


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tickets_sort_by_priority_in_severity_order(
    admin: Api, customer: str, clock: FakeClock, direction: str
) -> None:
    numbers = await open_tickets(admin, customer, clock)
    descending = direction == "DESC"
    order = [{"field": "PRIORITY", "direction": direction}]
    # Ties (two URGENT, two LOW) by id, in the direction of the first entry.
    expected = [
        numbers[n]
        for n in sorted(
            range(6), key=lambda n: (SEVERITY.index(PRIORITIES[n]), n), reverse=descending
        )
    ]
    assert await walk(admin, TICKETS, ["tickets"], "number", {"orderBy": order}) == expected
    nested = await walk(
        admin, NESTED, ["customer", "tickets"], "number", {"id": customer, "orderBy": order}
    )
    assert nested == expected
    if descending:
        assert [PRIORITIES[numbers.index(n)] for n in expected[:2]] == ["URGENT", "URGENT"]


async def test_tickets_by_priority_then_newest(admin: Api, customer: str, clock: FakeClock) -> None:
    numbers = await open_tickets(admin, customer, clock)
    order = [
        {"field": "PRIORITY", "direction": "DESC"},
        {"field": "CREATED_AT", "direction": "DESC"},
    ]
    found = await walk(admin, TICKETS, ["tickets"], "number", {"orderBy": order})
    assert found == [numbers[n] for n in (3, 1, 4, 2, 5, 0)]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tickets_sort_by_updated_at(
    admin: Api, customer: str, clock: FakeClock, direction: str
) -> None:
    numbers = await open_tickets(admin, customer, clock)
    order = [{"field": "UPDATED_AT", "direction": direction}]
    found = await walk(admin, TICKETS, ["tickets"], "number", {"orderBy": order})
    assert found == (numbers[::-1] if direction == "DESC" else numbers)
    default = await walk(admin, TICKETS, ["tickets"], "number", {})
    assert default == numbers[::-1]  # newest first


async def test_opened_takes_the_date_time_range(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    start = clock()
    await open_tickets(admin, customer, clock)
    query = "query($opened: DateTimeRange) { tickets(filter: {opened: $opened}) { totalCount } }"
    window: dict[str, Any] = {"from": start.isoformat(), "to": clock().isoformat()}
    body = await admin.gql(query, {"opened": window})
    assert body["data"]["tickets"]["totalCount"] == 6
    body = await admin.gql(query, {"opened": {"from": window["to"], "to": window["from"]}})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == "filter.opened.to"
