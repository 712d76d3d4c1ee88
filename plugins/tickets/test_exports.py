"""The tickets as CSV and XLSX downloads (the rows of ``tickets`` with its filter and order,
those the caller may read), the refused requests, and the open tickets the plugin adds to a
customer's profile PDF (``crm_customer_profile_sections``)."""

from __future__ import annotations

import io

from pypdf import PdfReader

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.test_lifecycle import create_customer, move_to, open_ticket
from schema.testkit import Api, FakeClock
from schema.testkit_files import download, records
from schema.testkit_graphql import gid

# The lifecycle tests' fixtures: the app on a clock set to a Monday, an admin, a customer.
settings, clock, api = lifecycle.settings, lifecycle.clock, lifecycle.api
admin, customer = lifecycle.admin, lifecycle.customer


async def test_tickets_export_with_the_list_filter_order_and_scope(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    owned = await create_customer(admin, "华信软件", owner_id=rep.user_id)
    urgent = await open_ticket(admin, customer, "Server down", priority="URGENT")
    clock.advance(minutes=1)
    low = await open_ticket(admin, owned, "打印机坏了", priority="LOW")
    clock.advance(minutes=1)
    await move_to(admin, await open_ticket(admin, customer, "Old question"), "CLOSED")

    status, rows = await download(admin, "/export/tickets.csv")
    assert status == 200
    assert rows[0][-4:] == [
        "created_at (UTC)",
        "sla_due_at (UTC)",
        "resolved_at (UTC)",
        "closed_at (UTC)",
    ]
    assert [r["subject"] for r in records(rows)] == ["Old question", "打印机坏了", "Server down"]

    status, rows = await download(
        admin,
        "/export/tickets.xlsx",
        filter={"status": ["NEW"]},
        orderBy=[{"field": "PRIORITY", "direction": "DESC"}],
    )
    assert status == 200
    found = records(rows)
    assert [r["number"] for r in found] == [urgent["number"], low["number"]]
    assert (found[1]["customer_name"], found[1]["priority"]) == ("华信软件", "LOW")

    status, rows = await download(rep, "/export/tickets.csv")
    assert status == 200
    assert [r["number"] for r in records(rows)] == [low["number"]]

    status, rows = await download(admin, "/export/tickets.csv", filter={"slaState": ["BREACHED"]})
    assert status == 200
    assert records(rows) == []


async def test_refused_ticket_exports(api: Api, admin: Api) -> None:
    status, body = await download(api, "/export/tickets.csv")
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finance = await admin.as_role(FINANCE)
    status, body = await download(finance, "/export/tickets.xlsx")
    assert status == 403
    assert body["errors"][0]["extensions"]["permission"] == "tickets:read"
    status, body = await download(admin, "/export/tickets.csv", filter={"status": ["LOST"]})
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter"
    status, body = await download(
        admin, "/export/tickets.csv", filter={"assigneeId": gid("Customer", 1)}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter.assigneeId"
    status, body = await download(admin, "/export/tickets.csv", orderBy={"field": "SIZE"})
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "orderBy"
    status, body = await download(admin, "/export/tickets.pdf")
    assert status == 404


async def test_a_customer_profile_lists_its_open_tickets(admin: Api, customer: str) -> None:
    await open_ticket(admin, customer, "服务器宕机", priority="URGENT")
    await move_to(admin, await open_ticket(admin, customer, "Long solved"), "CLOSED")
    response = await admin.client.get(f"/export/customers/{customer}.pdf", headers=admin.headers)
    assert response.status_code == 200, response.text
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Open tickets" in text
    assert "服务器宕机" in text
    assert "Long solved" not in text

    finance = await admin.as_role(FINANCE)  # reads every customer, no ticket
    response = await finance.client.get(
        f"/export/customers/{customer}.pdf", headers=finance.headers
    )
    assert response.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Acme Ltd" in text
    assert "Open tickets" not in text
