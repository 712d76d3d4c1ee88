"""Contacts and interactions as CSV and XLSX downloads (the rows of the ``contacts`` and
``interactions`` lists with their filter and order, of the customers the caller may
export), the customers export's custom field columns read back by the import, and a
customer's profile as a PDF (its text read back with pypdf), with the refused requests."""

from __future__ import annotations

import csv
import io
from typing import Any

from pypdf import PdfReader

from core.catalog import CUSTOMER_MANAGER, SALES_REPRESENTATIVE
from schema.testkit import Api
from schema.testkit_files import download, records
from schema.testkit_graphql import data, gid, mutate_ok


async def customer(api: Api, name: str, **values: Any) -> str:
    payload = await mutate_ok(
        api, "createCustomer", {"name": name, **values}, "customer { id number }"
    )
    found: str = payload["customer"]["id"]
    return found


async def contact(api: Api, customer_id: str, name: str, **values: Any) -> str:
    payload = await mutate_ok(
        api, "createContact", {"customerId": customer_id, "name": name, **values}, "contact { id }"
    )
    found: str = payload["contact"]["id"]
    return found


async def interaction(api: Api, customer_id: str, summary: str, **values: Any) -> None:
    await mutate_ok(
        api,
        "logInteraction",
        {"customerId": customer_id, "channel": "PHONE", "summary": summary, **values},
        "interaction { id }",
    )


async def test_contacts_export_follows_the_list_filter_and_scope(admin: Api) -> None:
    manager = await admin.as_role(CUSTOMER_MANAGER, team="north")
    ours = await customer(admin, "Acme", ownerId=gid("User", manager.user_id))
    theirs = await customer(admin, "华信软件")
    await contact(admin, ours, "Ann Lee", email="ann@acme.example", primary=True)
    await contact(admin, ours, "Bob Stone", title="CFO")
    await contact(admin, theirs, "王芳", phone="+8613800000000")

    status, rows = await download(admin, "/export/contacts.csv")
    assert status == 200
    assert sorted(r["name"] for r in records(rows)) == ["Ann Lee", "Bob Stone", "王芳"]
    assert rows[0][:3] == ["customer_number", "customer_name", "name"]
    assert rows[0][-1] == "created_at (UTC)"

    status, rows = await download(
        admin,
        "/export/contacts.xlsx",
        filter={"customerId": theirs},
        orderBy=[{"field": "NAME"}],
    )
    assert status == 200
    [found] = records(rows)
    assert (found["customer_name"], found["name"], found["phone"]) == (
        "华信软件",
        "王芳",
        "+8613800000000",
    )

    status, rows = await download(manager, "/export/contacts.csv", filter={"search": "ann"})
    assert status == 200
    assert [(r["name"], r["is_primary"]) for r in records(rows)] == [("Ann Lee", "true")]
    status, rows = await download(manager, "/export/contacts.csv")
    assert sorted(r["name"] for r in records(rows)) == ["Ann Lee", "Bob Stone"]


async def test_interactions_export_follows_the_list_filter_and_scope(admin: Api) -> None:
    manager = await admin.as_role(CUSTOMER_MANAGER, team="north")
    ours = await customer(admin, "Acme", ownerId=gid("User", manager.user_id))
    theirs = await customer(admin, "Beta")
    await interaction(admin, ours, "Called about the renewal", occurredAt="2026-11-02T09:00:00Z")
    await interaction(
        admin, ours, "=HYPERLINK(1)", channel="EMAIL", occurredAt="2026-11-03T09:00:00Z"
    )
    await interaction(admin, theirs, "讨论报价", occurredAt="2026-11-04T09:00:00Z")

    status, rows = await download(admin, "/export/interactions.csv")
    assert status == 200
    assert rows[0][2] == "occurred_at (UTC)"
    assert [r["summary"] for r in records(rows)] == [
        "讨论报价",
        "'=HYPERLINK(1)",
        "Called about the renewal",
    ]
    assert records(rows)[0]["author_email"] == admin.email

    status, rows = await download(
        admin,
        "/export/interactions.xlsx",
        filter={"channel": ["PHONE"], "occurred": {"from": "2026-11-01T00:00:00Z"}},
        orderBy=[{"field": "OCCURRED_AT", "direction": "ASC"}],
    )
    assert status == 200
    assert [r["summary"] for r in records(rows)] == ["Called about the renewal", "讨论报价"]

    status, rows = await download(manager, "/export/interactions.csv")
    assert [r["customer_name"] for r in records(rows)] == ["Acme", "Acme"]
    status, body = await download(
        manager, "/export/interactions.csv", filter={"customerId": theirs}
    )
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter.customerId"


async def test_refused_contact_and_interaction_exports(api: Api, admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    for name in ("contacts", "interactions"):
        status, body = await download(api, f"/export/{name}.csv")
        assert status == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        status, body = await download(rep, f"/export/{name}.xlsx")
        assert status == 403
        assert body["errors"][0]["extensions"]["permission"] == "customers:export"
        status, body = await download(
            admin, f"/export/{name}.csv", filter={"customerId": gid("User", 1)}
        )
        assert status == 400
        assert body["errors"][0]["extensions"]["argument"] == "filter.customerId"
        status, body = await download(admin, f"/export/{name}.csv", orderBy={"field": "SIZE"})
        assert status == 400
        assert body["errors"][0]["extensions"]["argument"] == "orderBy"
        status, body = await download(admin, f"/export/{name}.pdf")
        assert status == 404
    status, body = await download(admin, "/export/interactions.csv", filter={"channel": ["FAX"]})
    assert status == 400
    assert body["errors"][0]["extensions"]["argument"] == "filter"


async def test_customer_export_keeps_custom_fields_through_an_edit_and_import(
    admin: Api,
) -> None:
    for key, kind in (("employees", "NUMBER"), ("vip", "BOOLEAN"), ("region_code", "TEXT")):
        await mutate_ok(
            admin,
            "defineCustomField",
            {"key": key, "label": key.title(), "type": kind},
            "definition { key }",
        )
    await customer(
        admin,
        "Acme",
        email="info@acme.example",
        customFields={"employees": 120, "vip": True, "region_code": "华东"},
    )
    await customer(admin, "Beta", email="info@beta.example", customFields={"employees": 7})

    status, rows = await download(admin, "/export/customers.csv")
    assert status == 200
    header = rows[0]
    assert [c for c in header if c.startswith("custom:")] == [
        "custom:employees",
        "custom:region_code",
        "custom:vip",
    ]
    # Edit one value and drop the date-time columns the import does not take.
    kept = [i for i, c in enumerate(header) if " (" not in c]
    edited = [[row[i] for i in kept] for row in rows]
    acme = next(row for row in edited if "Acme" in row)
    acme[edited[0].index("custom:employees")] = "150"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(edited)
    imported = await admin.gql(
        """mutation($csv: String!) { importCustomers(input: {csv: $csv, matchOn: [NUMBER]})
        { created updated rowErrors { line field message } errors { field message } } }""",
        {"csv": buffer.getvalue()},
    )
    result = data(imported)["importCustomers"]
    assert (result["created"], result["updated"], result["rowErrors"], result["errors"]) == (
        0,
        2,
        [],
        [],
    )
    listed = data(
        await admin.gql("{ customers(first: 10) { edges { node { name customFields } } } }")
    )["customers"]["edges"]
    fields = {edge["node"]["name"]: edge["node"]["customFields"] for edge in listed}
    assert fields == {
        "Acme": {"employees": 150, "vip": True, "region_code": "华东"},
        "Beta": {"employees": 7},
    }


async def test_customer_profile_pdf(admin: Api) -> None:
    acme = await customer(
        admin, "华信软件", email="info@huaxin.example", tags=["key account"], stage="ACTIVE"
    )
    await contact(admin, acme, "王芳", email="wang@huaxin.example", primary=True)
    await interaction(admin, acme, "讨论报价 and pricing", occurredAt="2026-11-04T09:00:00Z")
    await mutate_ok(
        admin,
        "createTask",
        {"customerId": acme, "title": "Send the quote", "dueAt": "2030-01-01T09:00:00Z"},
        "task { id }",
    )
    response = await admin.client.get(f"/export/customers/{acme}.pdf", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    number = response.headers["content-disposition"].split('"')[1].removeprefix("customer-")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (
        "华信软件",
        "王芳",
        "讨论报价",
        "Send the quote",
        "key account",
        "Contacts",
        "Recent interactions",
        "Open tasks",
        number.removesuffix(".pdf"),
    ):
        assert expected in text, (expected, text)
    by_number = await admin.client.get(
        f"/export/customers/{number.removesuffix('.pdf')}.pdf", headers=admin.headers
    )
    assert by_number.status_code == 200


async def test_refused_customer_profiles(api: Api, admin: Api) -> None:
    acme = await customer(admin, "Acme")
    path = f"/export/customers/{acme}.pdf"
    response = await api.client.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    response = await rep.client.get(path, headers=rep.headers)  # another's customer
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    for wrong in (gid("User", 1), "C999999", "not an id"):
        response = await admin.client.get(f"/export/customers/{wrong}.pdf", headers=admin.headers)
        assert response.status_code == 404, wrong
    nobody = await admin.user("nobody@example.com", [])
    response = await nobody.client.get(path, headers=nobody.headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["permission"] == "customers:read"
