"""The tickets list's search text is bounded: a longer one is refused naming
``filter.search``, instead of reaching the database as a pattern it may not take."""

from __future__ import annotations

import pytest

from core.plugin_api import MAX_SEARCH_LENGTH
from schema.testkit import Api

TICKETS = "query($s: String) { tickets(filter: {search: $s}) { totalCount } }"


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("tickets",)


async def test_search_longer_than_the_bound_is_refused(admin: Api) -> None:
    accepted = await admin.gql(TICKETS, {"s": "x" * MAX_SEARCH_LENGTH})
    assert accepted == {"data": {"tickets": {"totalCount": 0}}}

    refused = await admin.gql(TICKETS, {"s": "x" * 50_000})
    assert refused["data"] == {"tickets": None}
    (error,) = refused["errors"]
    assert error["message"] == f"filter.search: must be at most {MAX_SEARCH_LENGTH} characters"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.search"}
