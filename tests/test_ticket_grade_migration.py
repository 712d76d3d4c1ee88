"""Migration tickets_0006 gives the tickets there are the grade their customer has (the
grade whose SLA policy they follow), and a downgrade takes the grade policies away."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import sqlalchemy as sa

from core import migrate
from core.plugin_api import CRMPluginManager
from schema.testkit import Api
from schema.testkit_graphql import data


@pytest.fixture
def crm_plugins() -> Sequence[str]:
    return ("tickets",)


async def test_upgrade_gives_existing_tickets_their_customers_grade(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    for name, grade in (("Gold Co", "GOLD"), ("Plain Co", "STANDARD")):
        created = await admin.gql(
            """mutation($input: CreateCustomerInput!) {
              createCustomer(input: $input) { customer { id } } }""",
            {"input": {"name": name, "grade": grade}},
        )
        customer_id = data(created)["createCustomer"]["customer"]["id"]
        opened = await admin.gql(
            """mutation($input: OpenTicketInput!) {
              openTicket(input: $input) { errors { field } } }""",
            {"input": {"customerId": customer_id, "type": "FAULT", "subject": name}},
        )
        assert data(opened)["openTicket"]["errors"] == []

    await migrate.downgrade(admin.db, plugin_manager, "tickets_0005")
    async with admin.db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in sa.inspect(sync).get_columns("tickets")}
        )
    assert "ticket_grade_sla_policies" not in tables
    assert "sla_grade" not in columns

    await migrate.upgrade(admin.db, plugin_manager)
    async with admin.db.engine.connect() as connection:
        rows = (await connection.execute(sa.text("SELECT subject, sla_grade FROM tickets"))).all()
    assert sorted(tuple(row) for row in rows) == [("Gold Co", "GOLD"), ("Plain Co", "STANDARD")]
