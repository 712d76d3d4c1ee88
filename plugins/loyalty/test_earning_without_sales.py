"""With the sales plugin disabled, loyalty still earns through ``earnPoints`` (and the schema
has no order field for it to hook into)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.plugin_api import Settings
from plugins.loyalty.ledger_testing import create_customer, differences
from schema.testkit import Api
from schema.testkit_graphql import data, mutate_ok


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "loyalty"))


async def test_earn_points_works_without_the_sales_plugin(admin: Api) -> None:
    customer = await create_customer(admin, "Till")
    payload = await mutate_ok(
        admin,
        "earnPoints",
        {"customerId": customer, "amount": "58.80", "currency": "CNY", "idempotencyKey": "t-1"},
        "entry { points source } account { balance }",
    )
    assert payload["entry"] == {"points": 58, "source": "API"}
    body = await admin.gql(
        '{ __type(name: "Mutation") { fields { name } } }',
    )
    names = {field["name"] for field in data(body)["__type"]["fields"]}
    assert "earnPoints" in names
    assert "placeOrder" not in names
    assert await differences(admin) == []
