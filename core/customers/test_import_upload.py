"""``POST /import/customers``: a CSV file as the request body, queued as a background import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from strawberry import relay

from core.catalog import SUPPORT_REPRESENTATIVE
from core.config import Settings
from tests.support import Api, running_app

PROGRESS = """
query($id: ID!) {
  customerImport(id: $id) { status imported created errorCount rowErrors { line field code } }
}"""
GOOD = "name,email,tags\nAcme,info@acme.example,vip\nBravo,bravo@example.com,\n"


async def upload(api: Api, body: bytes | str, **params: str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return await api.client.post(
        "/import/customers",
        content=content,
        params=params,
        headers={**api.headers, "Content-Type": "text/csv"},
    )


def refusal(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert len(errors) == 1, errors
    return errors[0]


async def test_an_uploaded_file_is_queued_and_imported(admin: Api) -> None:
    response = await upload(admin, "\ufeff" + GOOD)
    assert response.status_code == 202, response.text
    queued = response.json()["data"]["customerImport"]
    assert relay.from_base64(queued["id"])[0] == "CustomerImport"
    assert (queued["status"], queued["totalRows"], queued["dryRun"]) == ("QUEUED", 2, False)

    assert await admin.run_jobs() == 1
    done = (await admin.gql(PROGRESS, {"id": queued["id"]}))["data"]["customerImport"]
    assert done == {
        "status": "SUCCEEDED",
        "imported": True,
        "created": 2,
        "errorCount": 0,
        "rowErrors": [],
    }


async def test_a_dry_run_by_upload_reports_and_keeps_nothing(admin: Api) -> None:
    response = await upload(admin, GOOD + "Bad,not-an-email,\n", dryRun="true", matchOn="email")
    assert response.status_code == 202, response.text
    queued = response.json()["data"]["customerImport"]
    assert queued["dryRun"] is True
    await admin.run_jobs()
    done = (await admin.gql(PROGRESS, {"id": queued["id"]}))["data"]["customerImport"]
    assert (done["status"], done["imported"], done["errorCount"]) == ("SUCCEEDED", False, 1)
    assert done["rowErrors"] == [{"line": 4, "field": "email", "code": "INVALID"}]
    customers = await admin.gql("{ customers(first: 5) { totalCount } }")
    assert customers["data"]["customers"]["totalCount"] == 0


async def test_the_upload_needs_a_caller_who_may_write_customers(api: Api, admin: Api) -> None:
    anonymous = refusal(await upload(api, GOOD), 401)
    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    forbidden = refusal(await upload(support, GOOD), 403)
    assert forbidden["extensions"]["code"] == "FORBIDDEN"
    assert await admin.run_jobs() == 0


async def test_bad_options_and_files_are_refused_by_name(admin: Api) -> None:
    for params, field in [
        ({"matchOn": "EMAIL,SIZE"}, "matchOn"),
        ({"dryRun": "maybe"}, "dryRun"),
        ({"encoding": "latin-1"}, "encoding"),
    ]:
        error = refusal(await upload(admin, GOOD, **params), 400)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
        assert error["message"].startswith(f"{field}: ")

    latin1 = "name,email\nZoë,zoe@example.com\n".encode("latin-1")  # neither UTF-8 nor GB18030
    error = refusal(await upload(admin, latin1), 400)
    assert error["extensions"] == {"code": "INVALID", "field": "csv"}
    assert "is neither UTF-8 nor GB18030 text (byte 13 cannot be read as UTF-8" in error["message"]

    error = refusal(await upload(admin, "name,colour\nAcme,red\n"), 400)
    assert error["extensions"] == {"code": "INVALID", "field": "csv"}
    assert "unknown columns: colour" in error["message"]

    error = refusal(await upload(admin, "name\nAcme\n", matchOn="PHONE"), 400)
    assert error["extensions"] == {"code": "INVALID", "field": "matchOn"}
    assert await admin.run_jobs() == 0


async def test_a_fourth_running_import_is_a_conflict(admin: Api) -> None:
    for _ in range(3):
        assert (await upload(admin, GOOD)).status_code == 202
    error = refusal(await upload(admin, GOOD), 409)
    assert error["extensions"] == {"code": "CONFLICT", "field": "csv"}


async def test_a_file_over_the_limit_is_refused_before_it_is_read(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(max_import_bytes=2048)
    async with running_app(settings) as api:
        admin = await api.as_role("ADMINISTRATOR")
        big = "name\n" + "".join(f"Customer {n}\n" for n in range(300))
        error = refusal(await upload(admin, big), 413)
        assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert "larger than 2048 bytes" in error["message"]
        assert (await upload(admin, GOOD)).status_code == 202
