"""How ``/graphql`` reads a multipart upload: only for an authenticated caller (a 401
before any of the body is read otherwise), parsed as it streams in, and cut off with a 413
as soon as it passes the limit.

Each test runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from core.attachments.test_attachments import ATTACH, PDF, attached, download
from core.config import Settings
from core.customers.test_customers_api import create
from tests.support import Api, running_app

BOUNDARY = "crm-test-boundary"
CHUNK = 16 * 1024


def multipart_head(target_id: str, name: str = "big.txt") -> bytes:
    """A GraphQL multipart request up to the file's bytes (the file part left open)."""
    operations = {"query": ATTACH, "variables": {"input": {"targetId": target_id, "file": None}}}
    return (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="operations"\r\n\r\n'
        f"{json.dumps(operations)}\r\n"
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.input.file"]}\r\n'
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="0"; filename="{name}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()


class CountedBody:
    """A request body sent in chunks, counting how many the server asked for."""

    def __init__(self, head: bytes, file_size: int) -> None:
        self.head = head
        self.file_size = file_size
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        self.sent += 1
        yield self.head
        left = self.file_size
        while left > 0:
            self.sent += 1
            size = min(CHUNK, left)
            left -= size
            yield b"a" * size
        self.sent += 1
        yield f"\r\n--{BOUNDARY}--\r\n".encode()


def headers(api: Api, **extra: str) -> dict[str, str]:
    return {
        **api.headers,
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "GraphQL-Preflight": "1",
        **extra,
    }


async def post(api: Api, content: Any, **extra: str) -> Any:
    return await api.client.post("/graphql", content=content, headers=headers(api, **extra))


async def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(max_body_bytes=1024, attachment_max_bytes=2048)
    async with running_app(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        cases = {
            "no token": api.with_token(None),
            "a token that is not valid": api.with_token("not-a-token"),
            "an API token that does not exist": api.with_token("crma_" + "0" * 40),
        }
        for case, caller in cases.items():
            # Far over the limit: a server that read the body would answer 413
            body = CountedBody(multipart_head(acme["id"]), 1_000_000)
            response = await post(caller, body)
            assert response.status_code == 401, (case, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            error = response.json()["errors"][0]
            assert error["extensions"]["code"] == "UNAUTHENTICATED", case
            assert error["message"], case
            assert body.sent == 0, case  # not one chunk was asked for

            # A declared length over the limit: still 401, not 413
            whole = multipart_head(acme["id"]) + b"a" * 10_000 + f"\r\n--{BOUNDARY}--\r\n".encode()
            response = await post(caller, whole)
            assert response.status_code == 401, (case, response.text)

        # A session that has ended is named as such
        ended = await api.user("ended@example.com", ["ADMINISTRATOR"])
        logout = await ended.gql("mutation { logout { errors { message } } }")
        assert logout["data"]["logout"]["errors"] == [], logout
        response = await post(ended, CountedBody(multipart_head(acme["id"]), 10))
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "SESSION_ENDED"


async def test_the_preflight_header_is_checked_before_authentication(api: Api) -> None:
    body = CountedBody(multipart_head("Q3VzdG9tZXI6MQ=="), 10)
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 400
    assert "preflight" in response.json()["errors"][0]["message"]
    assert body.sent == 0


async def test_an_oversized_upload_is_cut_off_while_it_streams(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(max_body_bytes=1024, attachment_max_bytes=64 * 1024)
    async with running_app(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        body = CountedBody(multipart_head(acme["id"]), 10_000_000)
        response = await post(admin, body)
        assert response.status_code == 413, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        assert error["message"] == f"request body larger than {1024 + 64 * 1024} bytes"
        # Reading stopped soon after the limit, far before the 10 MB were sent
        assert body.sent < 10, body.sent

        # A declared length over the limit is refused as well
        whole = multipart_head(acme["id"]) + b"a" * 70_000 + f"\r\n--{BOUNDARY}--\r\n".encode()
        assert (await post(admin, whole)).status_code == 413

        # Within the limit, the same request works
        body = CountedBody(multipart_head(acme["id"]), 60_000)
        response = await post(admin, body)
        assert response.status_code == 200, response.text
        file = response.json()["data"]["attachFile"]["attachment"]
        assert file["size"] == 60_000


async def test_a_file_larger_than_the_memory_spool_round_trips(admin: Api) -> None:
    acme = await create(admin, name="Acme")
    data = PDF + b"0" * (3 * 1024 * 1024)  # spooled to disk while it streams in
    file = await attached(admin, acme["id"], "large.pdf", data)
    assert file["size"] == len(data)
    assert (await download(admin, file["downloadUrl"])).content == data


async def test_an_operations_field_over_the_json_limit_is_refused(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(max_body_bytes=1024, attachment_max_bytes=64 * 1024)
    async with running_app(settings) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        acme = await create(admin, name="Acme")
        operations = {
            "query": ATTACH + "#" + "x" * 2000,
            "variables": {"input": {"targetId": acme["id"], "file": None}},
        }
        response = await admin.client.post(
            "/graphql",
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("a.txt", b"hi", "text/plain")},
            headers={**admin.headers, "GraphQL-Preflight": "1"},
        )
        assert response.status_code == 400, response.text
        assert "maximum size" in response.json()["errors"][0]["message"]
