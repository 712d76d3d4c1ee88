"""Files on tickets (proof of resolution): attached, listed on the ticket, downloaded by
signed link and deleted, under the ticket's own permissions; erased with the customer.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from core.plugin_api import SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE, Settings
from plugins.tickets.test_lifecycle import create_customer, data, move_to, open_ticket
from schema.testkit import Api


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("tickets",)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
ATTACH = """
mutation($input: AttachFileInput!) {
  attachFile(input: $input) {
    attachment { id name contentType size downloadUrl } errors { field message code }
  }
}"""
TICKET_FILES = """
query($id: ID!) {
  ticket(id: $id) { attachments { id name contentType uploader { id } downloadUrl } }
}"""
DELETE = """
mutation($id: ID!) {
  deleteAttachment(input: {id: $id}) { deletedAttachmentId errors { field message code } }
}"""
ERASE = """
mutation($input: EraseCustomerInput!) {
  eraseCustomer(input: $input) { customer { erasedAt } errors { field message code } }
}"""


async def attach(api: Api, target_id: str, name: str, content: bytes) -> dict[str, Any]:
    operations = {"query": ATTACH, "variables": {"input": {"targetId": target_id, "file": None}}}
    response: httpx.Response = await api.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, content, "image/png")},
        headers={**api.headers, "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def download(api: Api, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await api.client.get(f"{parts.path}?{parts.query}")


def stored(settings: Settings) -> list[Path]:
    root = settings.data_dir / "attachments"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_proof_of_resolution_on_a_ticket(admin: Api, settings: Settings) -> None:
    customer = await create_customer(admin, "Acme")
    ticket = await open_ticket(admin, customer)

    body = await attach(admin, ticket["id"], "proof.png", PNG)
    file = data(body)["attachFile"]["attachment"]
    assert (file["name"], file["contentType"], file["size"]) == ("proof.png", "image/png", len(PNG))

    listed = data(await admin.gql(TICKET_FILES, {"id": ticket["id"]}))["ticket"]["attachments"]
    assert [f["name"] for f in listed] == ["proof.png"]
    assert listed[0]["uploader"] is not None
    response = await download(admin, listed[0]["downloadUrl"])
    assert (response.status_code, response.content) == (200, PNG)
    assert response.headers["x-content-type-options"] == "nosniff"

    payload = data(await admin.gql(DELETE, {"id": file["id"]}))["deleteAttachment"]
    assert payload["errors"] == []
    assert data(await admin.gql(TICKET_FILES, {"id": ticket["id"]}))["ticket"]["attachments"] == []
    assert stored(settings) == []


async def test_the_ticket_decides_who_may_attach(admin: Api) -> None:
    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE])
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    customer = await create_customer(admin, "Acme")
    ticket = await open_ticket(admin, customer)

    # A sales representative does not reach the ticket: it is not found
    body = await attach(rep, ticket["id"], "proof.png", PNG)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Support reads every ticket but changes only its own
    body = await attach(support, ticket["id"], "proof.png", PNG)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    file = data(await attach(admin, ticket["id"], "proof.png", PNG))["attachFile"]["attachment"]
    listed = data(await support.gql(TICKET_FILES, {"id": ticket["id"]}))["ticket"]["attachments"]
    assert (await download(support, listed[0]["downloadUrl"])).content == PNG
    body = await support.gql(DELETE, {"id": file["id"]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await rep.gql(DELETE, {"id": file["id"]})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_erasing_the_customer_removes_its_tickets_files(
    admin: Api, settings: Settings
) -> None:
    customer = await create_customer(admin, "Acme")
    ticket = await open_ticket(admin, customer)
    data(await attach(admin, ticket["id"], "proof.png", PNG))
    assert len(stored(settings)) == 1
    await move_to(admin, ticket, "CLOSED")  # open tickets stop an erasure

    version = data(
        await admin.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": customer})
    )["customer"]["version"]
    body = await admin.gql(ERASE, {"input": {"id": customer, "version": version, "reason": "GDPR"}})
    assert data(body)["eraseCustomer"]["errors"] == []
    assert len(stored(settings)) == 1  # the bytes go after the commit, by the purge job
    assert await admin.run_jobs() == 1
    assert stored(settings) == []
    # The erased customer's ticket takes no new files
    body = await attach(admin, ticket["id"], "later.png", PNG)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert stored(settings) == []
