"""Attachments over HTTP: files on customers and interactions, uploaded as GraphQL multipart
requests, listed, downloaded by signed link and deleted; what is refused; erasure; and the
S3-compatible store against a local moto server.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from core.attachments.storage import S3Store, store_for
from core.audit import AuditEvent
from core.catalog import SALES_REPRESENTATIVE, SUPPORT_REPRESENTATIVE
from core.config import Settings
from core.customers.test_customers_api import ERASE, MERGE, create, log, ok, update
from tests.support import Api, FakeClock, running_app

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 60

ATTACH = """
mutation($input: AttachFileInput!) {
  attachFile(input: $input) {
    attachment { id name contentType size note uploader { id } downloadUrl }
    errors { field message code }
  }
}"""
DELETE = """
mutation($id: ID!) {
  deleteAttachment(input: {id: $id}) { deletedAttachmentId errors { field message code } }
}"""
CUSTOMER_FILES = """
query($id: ID!) {
  customer(id: $id) {
    attachments { id name contentType size createdAt uploader { id } downloadUrl }
    interactions(first: 5) { edges { node { attachments { name downloadUrl } } } }
  }
}"""


async def attach(
    api: Api,
    target_id: str,
    name: str,
    data: bytes,
    *,
    note: str | None = None,
    preflight: bool = True,
) -> httpx.Response:
    """``attachFile`` as a GraphQL multipart request."""
    operations = {"query": ATTACH, "variables": {"input": {"targetId": target_id, "file": None}}}
    if note is not None:
        operations["variables"]["input"]["note"] = note  # type: ignore[index]
    headers = {**api.headers, **({"GraphQL-Preflight": "1"} if preflight else {})}
    return await api.client.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (name, data, "application/octet-stream")},
        headers=headers,
    )


async def attached(api: Api, target_id: str, name: str, data: bytes, **kw: Any) -> dict[str, Any]:
    response = await attach(api, target_id, name, data, **kw)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = ok(response.json(), "attachFile")["attachment"]
    return result


async def refused_file(api: Api, target_id: str, name: str, data: bytes) -> dict[str, str]:
    response = await attach(api, target_id, name, data)
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["attachFile"]
    assert payload["attachment"] is None
    return {error["field"]: error["code"] for error in payload["errors"]}


def top_code(body: dict[str, Any]) -> str:
    assert body["data"]["attachFile"] is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def download(api: Api, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await api.client.get(f"{parts.path}?{parts.query}")


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_files_on_customers_and_interactions(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    meeting = await log(admin, acme["id"], "Kick-off meeting")

    # Given a PDF on the customer and a CSV on its interaction
    pdf = await attached(admin, acme["id"], "qualification.pdf", PDF, note="Signed")
    assert pdf["contentType"] == "application/pdf"
    assert (pdf["name"], pdf["size"], pdf["note"]) == ("qualification.pdf", len(PDF), "Signed")
    csv = "name,amount\nÜber,3\n".encode()
    notes = await attached(admin, meeting["id"], "notes.csv", csv)
    assert notes["contentType"] == "text/csv; charset=utf-8"
    assert len(stored_files(settings)) == 2

    # Then both are listed on their records, with the uploader
    body = await admin.gql(CUSTOMER_FILES, {"id": acme["id"]})
    assert "errors" not in body, body
    files = body["data"]["customer"]["attachments"]
    assert [f["name"] for f in files] == ["qualification.pdf"]
    assert files[0]["uploader"] is not None
    timeline = body["data"]["customer"]["interactions"]["edges"]
    assert [f["name"] for f in timeline[0]["node"]["attachments"]] == ["notes.csv"]

    # And download through their signed links
    response = await download(admin, files[0]["downloadUrl"])
    assert response.status_code == 200, response.text
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    response = await download(admin, timeline[0]["node"]["attachments"][0]["downloadUrl"])
    assert response.content == csv

    # When one is deleted, its row and its bytes are gone
    body = await admin.gql(DELETE, {"id": pdf["id"]})
    assert ok(body, "deleteAttachment")["deletedAttachmentId"] == pdf["id"]
    body = await admin.gql(CUSTOMER_FILES, {"id": acme["id"]})
    assert body["data"]["customer"]["attachments"] == []
    assert len(stored_files(settings)) == 1
    assert (await download(admin, pdf["downloadUrl"])).status_code == 404

    # And every change is audited
    async with admin.db.read() as session:
        actions = list(
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.entity_type == "attachment")
            )
        )
    assert sorted(actions) == ["attachment.created", "attachment.created", "attachment.deleted"]


async def test_refused_files_name_the_file(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(attachment_max_bytes=1024)
    async with running_app(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        assert await refused_file(admin, acme["id"], "big.txt", b"a" * 1025) == {
            "file": "OUT_OF_RANGE"
        }
        assert await refused_file(admin, acme["id"], "tool.exe", EXE) == {"file": "INVALID"}
        assert await refused_file(admin, acme["id"], "photo.pdf", PNG) == {"file": "INVALID"}
        assert await refused_file(admin, acme["id"], "notes.txt", PDF) == {"file": "INVALID"}
        assert await refused_file(admin, acme["id"], "data.txt", b"\xff\xfe\x00\xd8") == {
            "file": "INVALID"
        }
        assert await refused_file(admin, acme["id"], "script.html", b"<script>") == {
            "file": "INVALID"
        }
        assert await refused_file(admin, acme["id"], "empty.txt", b"") == {"file": "REQUIRED"}
        assert stored_files(settings) == []
        # Exactly at the limit is fine; a PNG named .png too
        await attached(admin, acme["id"], "fits.txt", b"a" * 1024)
        await attached(admin, acme["id"], "photo.PNG", PNG)

        # Without a header a cross-site form cannot send, no multipart request is read
        response = await attach(admin, acme["id"], "a.txt", b"hi", preflight=False)
        assert response.status_code == 400
        assert "preflight" in response.json()["errors"][0]["message"]


async def test_targets_and_permissions(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    other = await admin.user("other@example.com", [SALES_REPRESENTATIVE])
    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE])
    mine = await create(rep, name="Rep's customer")

    # An unknown record, a record of a type that takes no files, or one out of reach
    response = await attach(rep, "Q3VzdG9tZXI6OTk5OTk=", "a.txt", b"hi")  # Customer:99999
    assert top_code(response.json()) == "NOT_FOUND"
    assert response.json()["errors"][0]["extensions"]["argument"] == "input.targetId"
    user_node = (await rep.gql("{ viewer { id } }"))["data"]["viewer"]["id"]
    assert top_code((await attach(rep, user_node, "a.txt", b"hi")).json()) == "NOT_FOUND"
    assert top_code((await attach(other, mine["id"], "a.txt", b"hi")).json()) == "NOT_FOUND"
    # Support reads every customer but may not change their files
    assert top_code((await attach(support, mine["id"], "a.txt", b"hi")).json()) == "FORBIDDEN"

    file = await attached(rep, mine["id"], "a.txt", b"hi")
    body = await support.gql(DELETE, {"id": file["id"]})
    assert body["data"]["deleteAttachment"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await other.gql(DELETE, {"id": file["id"]})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Support may download it (it may read the customer)
    listed = await support.gql(CUSTOMER_FILES, {"id": mine["id"]})
    url = listed["data"]["customer"]["attachments"][0]["downloadUrl"]
    assert (await download(support, url)).content == b"hi"
    # Unauthenticated: no upload at all (refused before the body is read)
    anonymous = admin.with_token(None)
    response = await attach(anonymous, mine["id"], "a.txt", b"hi")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_signed_links_expire_are_tamper_proof_and_recheck_access(
    settings: Settings,
) -> None:
    clock = FakeClock()
    async with running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"], lasting=True)
        rep = await api.user("rep@example.com", [SALES_REPRESENTATIVE], lasting=True)
        mine = await create(rep, name="Rep's customer")
        file = await attached(rep, mine["id"], "a.txt", b"hello")
        url = file["downloadUrl"]
        assert (await download(rep, url)).status_code == 200

        # Tampered: another attachment, another user, a later expiry, a wrong signature
        parts = urlsplit(url)
        query = dict(pair.split("=") for pair in parts.query.split("&"))
        for key, value in (("user", "1"), ("expires", str(int(query["expires"]) + 60))):
            forged = "&".join(f"{k}={value if k == key else v}" for k, v in query.items())
            assert (await api.client.get(f"{parts.path}?{forged}")).status_code == 403
        assert (await api.client.get(f"{parts.path}?user=1")).status_code == 403
        assert (await api.client.get(f"/attachments/999?{parts.query}")).status_code == 403
        assert (await api.client.get(f"/attachments/x?{parts.query}")).status_code == 404
        # Digits that are not ASCII, and a signature that is not ASCII: refused, no 500
        assert (await api.client.get(f"/attachments/²?{parts.query}")).status_code == 404
        for key, value in (("user", "²"), ("expires", "²"), ("signature", "é")):
            forged = "&".join(f"{k}={value if k == key else v}" for k, v in query.items())
            assert (await api.client.get(f"{parts.path}?{forged}")).status_code == 403, key

        # Expired: five minutes on
        clock.advance(minutes=5, seconds=1)
        response = await download(rep, url)
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        # Access lost between the link and the download: 404
        fresh = (await rep.gql(CUSTOMER_FILES, {"id": mine["id"]}))["data"]["customer"]
        url = fresh["attachments"][0]["downloadUrl"]
        assert (await download(rep, url)).status_code == 200
        customer = (
            await admin.gql(
                "query($id: ID!) { customer(id: $id) { id version } }", {"id": mine["id"]}
            )
        )["data"]["customer"]
        await update(
            admin, customer, ownerId=(await admin.gql("{ viewer { id } }"))["data"]["viewer"]["id"]
        )
        response = await download(rep, url)
        assert response.status_code == 404
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_erasure_removes_the_customers_files(admin: Api, settings: Settings) -> None:
    acme = await create(admin, name="Acme")
    other = await create(admin, name="Other")
    meeting = await log(admin, acme["id"], "Meeting")
    await attached(admin, acme["id"], "a.pdf", PDF)
    await attached(admin, meeting["id"], "b.txt", b"notes")
    kept = await attached(admin, other["id"], "c.txt", b"kept")
    assert len(stored_files(settings)) == 3

    customer = (
        await admin.gql("query($id: ID!) { customer(id: $id) { version } }", {"id": acme["id"]})
    )["data"]["customer"]
    body = await admin.gql(
        ERASE, {"id": acme["id"], "version": customer["version"], "reason": "GDPR"}
    )
    ok(body, "eraseCustomer")
    assert len(stored_files(settings)) == 3  # the bytes go once the erasure has committed
    assert await admin.run_jobs() == 1
    assert len(stored_files(settings)) == 1
    assert (await download(admin, kept["downloadUrl"])).content == b"kept"


async def test_malformed_multipart_requests_are_400s(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    operations = json.dumps(
        {"query": ATTACH, "variables": {"input": {"targetId": acme["id"], "file": None}}}
    )
    listed = json.dumps(
        {
            "query": ATTACH,
            "variables": {
                "input": {"targetId": acme["id"], "file": None},
                "files": [None],
                "nested": [{"file": None}],
            },
        }
    )
    cases: list[tuple[dict[str, str], str]] = [
        ({"map": "{}"}, "'operations'"),
        ({"operations": operations}, "'map'"),
        ({"operations": "[]", "map": "{}"}, "batches"),
        ({"operations": "{", "map": "{}"}, "'operations'"),
        ({"operations": operations, "map": '{"9": ["variables.input.file"]}'}, "not sent"),
        ({"operations": operations, "map": '{"0": ["variables.input.name"]}'}, "null"),
        ({"operations": operations, "map": '{"0": ["query"]}'}, "variables."),
        ({"operations": operations, "map": '{"0": "variables.input.file"}'}, "list"),
        ({"operations": operations, "map": '{"0": ["variables.input.²"]}'}, "null"),
        # A list index in digits that are not ASCII ("²".isdigit() is true)
        ({"operations": listed, "map": '{"0": ["variables.files.²"]}'}, "null"),
        ({"operations": listed, "map": '{"0": ["variables.nested.².file"]}'}, "variable"),
    ]
    for fields, said in cases:
        response = await admin.client.post(
            "/graphql",
            data=fields,
            files={"0": ("a.txt", b"hi", "text/plain")},
            headers={**admin.headers, "GraphQL-Preflight": "1"},
        )
        assert response.status_code == 400, (fields, response.text)
        error = response.json()["errors"][0]
        assert said in error["message"], (said, error)
        assert error["extensions"]["code"] == "BAD_REQUEST"

    # A value that is no file, sent as JSON, is refused on the field
    body = await admin.gql(ATTACH, {"input": {"targetId": acme["id"], "file": "a.txt"}})
    assert body["data"]["attachFile"]["errors"][0]["field"] == "file"


async def test_without_the_tickets_plugin_tickets_take_no_files(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(plugins=())) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        response = await attach(admin, "VGlja2V0OjE=", "a.txt", b"hi")  # Ticket:1
        assert top_code(response.json()) == "NOT_FOUND"


async def test_files_follow_a_merge(admin: Api) -> None:
    old = await create(admin, name="Acme (old)")
    kept = await create(admin, name="Acme")
    file = await attached(admin, old["id"], "a.txt", b"from the duplicate")
    body = await admin.gql(MERGE, {"source": old["id"], "target": kept["id"], "dryRun": False})
    assert {"kind": "attachments", "count": 1} in ok(body, "mergeCustomers")["moved"]
    listed = (await admin.gql(CUSTOMER_FILES, {"id": kept["id"]}))["data"]["customer"]
    assert [f["id"] for f in listed["attachments"]] == [file["id"]]


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


async def test_s3_store_round_trip(
    make_settings: Callable[..., Settings], moto_endpoint: str
) -> None:
    settings = make_settings(
        attachment_store="s3",
        s3_endpoint_url=moto_endpoint,
        s3_bucket="crm-files",
        s3_access_key="test",
        s3_secret_key="test",
    )
    store = store_for(settings)
    assert isinstance(store, S3Store)
    store.client.create_bucket(Bucket="crm-files")

    async with running_app(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        file = await attached(admin, acme["id"], "q.pdf", PDF)
        objects = store.client.list_objects_v2(Bucket="crm-files").get("Contents", [])
        assert len(objects) == 1
        response = await download(admin, file["downloadUrl"])
        assert (response.status_code, response.content) == (200, PDF)
        ok(await admin.gql(DELETE, {"id": file["id"]}), "deleteAttachment")
        assert store.client.list_objects_v2(Bucket="crm-files").get("KeyCount") == 0
        with pytest.raises(FileNotFoundError):
            await store.get(objects[0]["Key"])
    assert stored_files(settings) == []
