"""``crm loyalty verify``: re-folds every account's ledger and reports each difference."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update

from core.plugin_api import Settings
from plugins.loyalty.ledger_testing import create_customer
from plugins.loyalty.models import Account, Lot
from schema.testkit import Api
from schema.testkit_graphql import db_id, mutate_ok
from schema.testkit_tools import CommandLine


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # Installed plugins only: the command builds its plugin manager from CRM_PLUGINS.
    return make_settings(plugins=("sales", "loyalty"))


async def earn(api: Api, customer: str, points: int) -> None:
    await mutate_ok(api, "earnPoints", {"customerId": customer, "points": points}, "entry { id }")


async def test_verify_finds_no_difference_in_a_ledger_kept_by_the_service(
    admin: Api, crm_cli: CommandLine
) -> None:
    empty = await crm_cli("loyalty", "verify")
    assert (empty.exit_code, empty.stdout) == (0, "no differences\n"), empty.stderr
    customer = await create_customer(admin, "Member")
    await earn(admin, customer, 100)
    await mutate_ok(
        admin,
        "adjustPoints",
        {"customerId": customer, "points": -30, "reason": "spent"},
        "entry { id }",
    )
    result = await crm_cli("loyalty", "verify")
    assert (result.exit_code, result.stdout) == (0, "no differences\n")


async def test_verify_reports_each_difference_and_fails(admin: Api, crm_cli: CommandLine) -> None:
    customer = await create_customer(admin, "Member")
    await earn(admin, customer, 100)
    async with admin.db.transaction() as session:
        await session.execute(
            update(Account)
            .where(Account.customer_id == db_id(customer))
            .values(balance=90, lifetime_earned=5)
        )
        await session.execute(update(Lot).values(remaining=90))
    result = await crm_cli("loyalty", "verify")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3, lines
    assert lines[0].endswith("balance is 90, the ledger gives 100")
    assert lines[1].endswith("lifetime_earned is 5, the ledger gives 100")
    assert "lot " in lines[2]
    assert lines[2].endswith("is 90, the ledger gives 100")
    assert "3 differences" in result.stderr
