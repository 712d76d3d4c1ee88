"""The HTTP layer (``core/http.py``, ``core/app.py``) against the GraphQL-over-HTTP spec.

Every test talks to the real ASGI app (lifespan included) through ``httpx``; the fixture
plugin provides ``createWidget`` (whose ``failListener`` raises an unexpected error),
``widgets`` and ``system { widgetCount }``. Widgets need a signed-in caller with the
plugin's permissions, so tests that must reach a resolver send the ``admin``'s token.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from core import db as db_module
from core.child_pages import ChildPage
from core.config import Settings
from core.host import CRMPluginManager
from core.loaders import Loader
from core.rows import Record
from schema.testkit import running_app
from tests.support import Api

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"

VERSION = "{ system { version } }"
WIDGET_COUNT = "{ system { widgetCount } }"
CREATE = """
mutation Create($name: String!, $fail: Boolean! = false) {
  createWidget(input: {name: $name, failListener: $fail}) {
    widget { id name }
    errors { field message code }
  }
}
"""
GENERATED_REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


# --- helpers -------------------------------------------------------------------------------


def media_type(response: httpx.Response) -> str:
    """The response's media type, without parameters such as ``charset``."""
    return response.headers["content-type"].split(";")[0].strip().lower()


async def post(
    api: Api,
    body: Any,
    *,
    accept: str = APPLICATION_JSON,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST ``body`` as JSON to ``/graphql`` with the given ``Accept``."""
    return await api.client.post(
        "/graphql", json=body, headers={"Accept": accept, **(headers or {})}
    )


async def post_raw(
    api: Api, content: bytes, *, content_type: str | None = APPLICATION_JSON
) -> httpx.Response:
    """POST raw bytes to ``/graphql``, optionally without any ``Content-Type``."""
    request = api.client.build_request("POST", "/graphql", content=content)
    if content_type is None:
        request.headers.pop("Content-Type", None)
    else:
        request.headers["Content-Type"] = content_type
    return await api.client.send(request)


async def widget_count(api: Api) -> int:
    """How many widgets exist, counted by an administrator (anonymous callers see none)."""
    assert api.token is not None, "count as a signed-in administrator"
    body = await api.gql(WIDGET_COUNT)
    assert "errors" not in body, body
    return int(body["data"]["system"]["widgetCount"])


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """A log record's attributes, including those passed with ``extra=``."""
    return vars(record)


def records_of(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


# --- 1. content negotiation ----------------------------------------------------------------


async def test_graphql_response_json_is_answered_in_that_media_type(api: Api) -> None:
    response = await post(api, {"query": VERSION}, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    body = response.json()
    assert "errors" not in body
    assert isinstance(body["data"]["system"]["version"], str)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (APPLICATION_JSON, APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/*", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {APPLICATION_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{APPLICATION_JSON}, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{APPLICATION_JSON};q=1, {GRAPHQL_RESPONSE_JSON};q=0.5", APPLICATION_JSON),
        (f"{APPLICATION_JSON};q=0.5, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),
        (f"text/html, {APPLICATION_JSON};q=0.9", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, {APPLICATION_JSON}", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8", GRAPHQL_RESPONSE_JSON),
    ],
)
async def test_accept_header_chooses_the_media_type_by_quality(
    api: Api, accept: str, expected: str
) -> None:
    response = await post(api, {"query": VERSION}, accept=accept)

    assert response.status_code == 200, response.text
    assert media_type(response) == expected
    assert "version" in response.json()["data"]["system"]


async def test_no_accept_header_means_application_json(api: Api) -> None:
    # Given a request with no Accept header at all (httpx adds "*/*" by default)
    request = api.client.build_request("POST", "/graphql", json={"query": VERSION})
    del request.headers["Accept"]

    # When it is sent
    response = await api.client.send(request)

    # Then the legacy media type is used
    assert response.status_code == 200
    assert media_type(response) == APPLICATION_JSON
    assert "version" in response.json()["data"]["system"]


@pytest.mark.parametrize(
    "accept", ["text/plain", "text/html", f"{GRAPHQL_RESPONSE_JSON};q=0, {APPLICATION_JSON};q=0"]
)
async def test_unacceptable_accept_is_406(api: Api, accept: str) -> None:
    response = await post(api, {"query": VERSION}, accept=accept)

    assert response.status_code == 406
    assert media_type(response) == APPLICATION_JSON
    body = response.json()
    assert "data" not in body
    assert "Accept" in body["errors"][0]["message"]


# --- 2. request errors (before execution) --------------------------------------------------

REQUEST_ERRORS = [
    pytest.param({"query": "{ system { version "}, "Syntax Error", id="parse-error"),
    pytest.param({"query": "{ system { nope } }"}, "Cannot query field 'nope'", id="unknown-field"),
    pytest.param(
        {"query": "query($n: Int) { widgets(first: $n) { totalCount } }", "variables": {"n": "x"}},
        "Variable '$n' has invalid value",
        id="variable-wrong-type",
    ),
    pytest.param(
        {"query": "query($n: Int!) { widgets(first: $n) { totalCount } }", "variables": {}},
        "Expected a value of non-null type 'Int!' to be provided",
        id="variable-missing",
    ),
    # Several operations and no operationName: a request error (GraphQL spec, GetOperation).
    pytest.param(
        {"query": "query A { system { version } } query B { system { modules { name } } }"},
        "Must provide operation name",
        id="several-operations-unnamed",
    ),
    pytest.param(
        {"query": "subscription { widgetTicks }"},
        "subscriptions are not served over HTTP",
        id="subscription-over-http",
    ),
    # An operationName naming no operation, or a document with no operation at all, is a
    # request error (GraphQL spec, GetOperation); it must not crash the endpoint.
    pytest.param(
        {"query": "query A { system { version } }", "operationName": "B"},
        "Unknown operation named 'B'",
        id="unknown-operation",
    ),
    pytest.param(
        {"query": "fragment F on Query { system { version } }"},
        "Must provide an operation",
        id="no-operation",
    ),
]


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS)
async def test_request_error_is_400_without_data_in_graphql_response_json(
    api: Api, body: dict[str, Any], message: str
) -> None:
    response = await post(api, body, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    payload = response.json()
    assert "data" not in payload
    assert message in payload["errors"][0]["message"]


@pytest.mark.parametrize(("body", "message"), REQUEST_ERRORS)
async def test_request_error_is_200_without_data_in_application_json(
    api: Api, body: dict[str, Any], message: str
) -> None:
    response = await post(api, body, accept=APPLICATION_JSON)

    assert response.status_code == 200
    assert media_type(response) == APPLICATION_JSON
    payload = response.json()
    assert "data" not in payload
    assert message in payload["errors"][0]["message"]


async def test_field_error_is_200_with_data_in_graphql_response_json(admin: Api) -> None:
    # Given a query that executes but whose resolver refuses an argument
    response = await post(
        admin,
        {"query": "{ widgets(first: -1) { totalCount } }"},
        accept=GRAPHQL_RESPONSE_JSON,
        headers=admin.headers,
    )

    # Then execution happened: 200 and a data entry (null here) beside the error
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    payload = response.json()
    assert "data" in payload
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert payload["errors"][0]["path"] == ["widgets"]


# --- 3. malformed requests -----------------------------------------------------------------

MALFORMED_BODIES = [
    pytest.param(b"{not json", id="not-json"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
    pytest.param(b'[{"query": "{ system { version } }"}]', id="json-list"),
    pytest.param(b'"{ system { version } }"', id="json-string"),
]


@pytest.mark.parametrize("content", MALFORMED_BODIES)
async def test_body_that_is_not_a_json_object_is_400(api: Api, content: bytes) -> None:
    response = await post_raw(api, content)

    assert response.status_code == 400
    assert media_type(response) == APPLICATION_JSON
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"][0]["message"]


MALFORMED_PARAMETERS = [
    pytest.param({}, "'query'", id="query-missing"),
    pytest.param({"qeury": VERSION}, "'query'", id="query-misspelt"),
    pytest.param({"query": ""}, "'query'", id="query-empty"),
    pytest.param({"query": "   "}, "'query'", id="query-blank"),
    pytest.param({"query": None}, "'query'", id="query-null"),
    pytest.param({"query": 0}, "'query'", id="query-number"),
    pytest.param({"query": False}, "'query'", id="query-boolean"),
    pytest.param({"query": {"obj": "ect"}}, "'query'", id="query-object"),
    pytest.param({"query": [VERSION]}, "'query'", id="query-array"),
    pytest.param({"query": VERSION, "variables": ["array"]}, "'variables'", id="variables-array"),
    pytest.param({"query": VERSION, "variables": 0}, "'variables'", id="variables-number"),
    pytest.param({"query": VERSION, "variables": False}, "'variables'", id="variables-boolean"),
    pytest.param({"query": VERSION, "variables": "string"}, "'variables'", id="variables-string"),
    pytest.param({"query": VERSION, "extensions": ["array"]}, "'extensions'", id="ext-array"),
    pytest.param({"query": VERSION, "extensions": 0}, "'extensions'", id="ext-number"),
    pytest.param({"query": VERSION, "extensions": "string"}, "'extensions'", id="ext-string"),
    pytest.param({"query": VERSION, "operationName": {"o": 1}}, "'operationName'", id="op-object"),
    pytest.param({"query": VERSION, "operationName": ["A"]}, "'operationName'", id="op-array"),
    pytest.param({"query": VERSION, "operationName": 1}, "'operationName'", id="op-number"),
    pytest.param({"query": VERSION, "operationName": 0}, "'operationName'", id="op-zero"),
    pytest.param({"query": VERSION, "operationName": False}, "'operationName'", id="op-false"),
]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON])
@pytest.mark.parametrize(("body", "names"), MALFORMED_PARAMETERS)
async def test_malformed_parameters_are_400(
    api: Api, body: dict[str, Any], names: str, accept: str
) -> None:
    response = await post(api, body, accept=accept)

    assert response.status_code == 400, response.text
    assert media_type(response) == accept
    payload = response.json()
    assert "data" not in payload
    assert names in payload["errors"][0]["message"]


@pytest.mark.parametrize("parameter", ["variables", "operationName", "extensions"])
async def test_null_optional_parameters_are_allowed(api: Api, parameter: str) -> None:
    response = await post(api, {"query": VERSION, parameter: None}, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_map_extensions_and_string_operation_name_are_allowed(api: Api) -> None:
    response = await post(
        api,
        {"query": "query Q { system { version } }", "operationName": "Q", "extensions": {"a": 1}},
        accept=GRAPHQL_RESPONSE_JSON,
    )

    assert response.status_code == 200
    assert "errors" not in response.json()


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/graphql",
        None,
    ],
)
async def test_body_that_is_not_application_json_is_415(api: Api, content_type: str | None) -> None:
    response = await post_raw(
        api, json.dumps({"query": VERSION}).encode(), content_type=content_type
    )

    assert response.status_code == 415
    assert media_type(response) == APPLICATION_JSON
    assert "application/json" in response.json()["errors"][0]["message"]


async def test_multipart_without_a_preflight_header_is_400(api: Api) -> None:
    # Multipart requests carry files (attachFile); a cross-site form could send one, so one of
    # the headers only a preflighted request can carry is required (core.multipart).
    response = await post_raw(
        api, json.dumps({"query": VERSION}).encode(), content_type="multipart/form-data; boundary=x"
    )

    assert response.status_code == 400
    assert "GraphQL-Preflight".lower() in response.json()["errors"][0]["message"]


async def test_application_json_with_charset_and_any_case_is_accepted(api: Api) -> None:
    response = await post_raw(
        api,
        json.dumps({"query": VERSION}).encode(),
        content_type="Application/JSON; charset=utf-8",
    )

    assert response.status_code == 200
    assert "version" in response.json()["data"]["system"]


@pytest.fixture
async def small_body_api(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> AsyncIterator[Api]:
    async with api_factory(make_settings(max_body_bytes=1024)) as api:
        yield api


def padded_body(size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes (the query padded with spaces)."""
    head = b'{"query": "{ system { version } }"'
    return head + b" " * (size - len(head) - 1) + b"}"


async def test_body_at_the_limit_is_accepted(small_body_api: Api) -> None:
    response = await post_raw(small_body_api, padded_body(1024))

    assert response.status_code == 200
    assert "version" in response.json()["data"]["system"]


async def test_body_over_the_limit_is_413(small_body_api: Api) -> None:
    response = await post_raw(small_body_api, padded_body(1025))

    assert response.status_code == 413
    assert media_type(response) == APPLICATION_JSON
    assert "1024" in response.json()["errors"][0]["message"]


async def test_streamed_body_over_the_limit_is_413(small_body_api: Api) -> None:
    # Given a chunked body that declares no Content-Length
    async def chunks() -> AsyncIterator[bytes]:
        body = padded_body(4096)
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    # When it is sent
    response = await small_body_api.client.post(
        "/graphql", content=chunks(), headers={"Content-Type": APPLICATION_JSON}
    )

    # Then it is still refused once it passes the limit
    assert response.status_code == 413
    assert "1024" in response.json()["errors"][0]["message"]


# --- 4. GET and other methods --------------------------------------------------------------


async def test_get_runs_a_query_with_json_variables(admin: Api) -> None:
    response = await admin.client.get(
        "/graphql",
        params={
            "query": "query Count($n: Int) { widgets(first: $n) { totalCount } }",
            "variables": json.dumps({"n": 1}),
            "operationName": "Count",
        },
        headers={"Accept": GRAPHQL_RESPONSE_JSON, **admin.headers},
    )

    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    assert response.json() == {"data": {"widgets": {"totalCount": 0}}}


async def test_get_with_variables_that_are_not_json_is_400(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "query($n: Int) { widgets(first: $n) { totalCount } }", "variables": "{"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 400
    assert "'variables'" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, APPLICATION_JSON])
async def test_mutation_over_get_is_405_and_changes_nothing(admin: Api, accept: str) -> None:
    # When a mutation is sent with GET, by a caller who may create widgets
    response = await admin.client.get(
        "/graphql",
        params={"query": CREATE, "variables": json.dumps({"name": "Sneaky"})},
        headers={"Accept": accept, **admin.headers},
    )

    # Then it is refused, pointing at POST, and nothing was created
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert media_type(response) == accept
    assert "GET" in response.json()["errors"][0]["message"]
    assert await widget_count(admin) == 0


async def test_get_selecting_a_mutation_by_operation_name_is_405(admin: Api) -> None:
    document = "query Read { system { widgetCount } }\n" + CREATE

    response = await admin.client.get(
        "/graphql",
        params={
            "query": document,
            "variables": json.dumps({"name": "Sneaky"}),
            "operationName": "Create",
        },
        headers=admin.headers,
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert await widget_count(admin) == 0


async def test_get_selecting_the_query_of_a_mixed_document_runs_it(admin: Api) -> None:
    await admin.gql(CREATE, {"name": "Existing"})
    document = "query Read { system { widgetCount } }\n" + CREATE

    response = await admin.client.get(
        "/graphql", params={"query": document, "operationName": "Read"}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"system": {"widgetCount": 1}}}


async def test_mutation_over_post_works(admin: Api) -> None:
    response = await post(
        admin, {"query": CREATE, "variables": {"name": "Fine"}}, headers=admin.headers
    )

    assert response.status_code == 200
    assert response.json()["data"]["createWidget"]["widget"]["name"] == "Fine"
    assert await widget_count(admin) == 1


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_405(api: Api, method: str) -> None:
    response = await api.client.request(
        method, "/graphql", json={"query": VERSION}, headers={"Accept": APPLICATION_JSON}
    )

    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert method not in allowed


# --- 5. masking and request ids ------------------------------------------------------------


async def test_unexpected_error_is_masked_and_logged_with_the_request_id(
    admin: Api, logs: pytest.LogCaptureFixture
) -> None:
    # When a mutation fails with an unexpected exception
    response = await post(
        admin,
        {"query": CREATE, "variables": {"name": "Doomed", "fail": True}},
        accept=GRAPHQL_RESPONSE_JSON,
        headers=admin.headers,
    )

    # Then the client sees a generic error carrying the request id of the response
    assert response.status_code == 200
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    request_id = response.headers["x-request-id"]
    payload = response.json()
    assert payload["data"] == {"createWidget": None}
    [error] = payload["errors"]
    assert error["message"] == "Internal error"
    assert error["path"] == ["createWidget"]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    assert "listener failure" not in response.text
    assert "RuntimeError" not in response.text

    # And the server log has the exception beside the same request id
    [record] = records_of(logs, "crm.graphql")
    assert record.levelno == logging.ERROR
    assert record_fields(record)["request_id"] == request_id
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "listener failure requested by the test" in str(record.exc_info[1])
    assert "createWidget" in record.getMessage()
    assert await widget_count(admin) == 0


async def test_every_response_has_a_generated_request_id(api: Api) -> None:
    first = await post(api, {"query": VERSION})
    second = await api.client.get("/healthz")

    for response in (first, second):
        assert GENERATED_REQUEST_ID.match(response.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("request_id", ["abcdef12", "req-2024.01_XYZ-0001", "a" * 64])
async def test_valid_incoming_request_id_is_echoed(admin: Api, request_id: str) -> None:
    response = await post(
        admin,
        {"query": CREATE, "variables": {"name": "Doomed", "fail": True}},
        headers={"X-Request-ID": request_id, **admin.headers},
    )

    assert response.headers["x-request-id"] == request_id
    assert response.json()["errors"][0]["extensions"]["requestId"] == request_id


@pytest.mark.parametrize("request_id", ["bad id!", "short", "a" * 65, "id\\with/slash", ""])
async def test_invalid_incoming_request_id_is_replaced(api: Api, request_id: str) -> None:
    response = await post(api, {"query": VERSION}, headers={"X-Request-ID": request_id})

    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed != request_id
    assert GENERATED_REQUEST_ID.match(echoed)
    assert len(response.headers.get_list("x-request-id")) == 1


# --- 6. field suggestions ------------------------------------------------------------------


async def test_field_suggestions_are_hidden_by_default(api: Api) -> None:
    response = await post(api, {"query": "{ systen { version } }"})

    message = response.json()["errors"][0]["message"]
    assert "Cannot query field 'systen'" in message
    assert "Did you mean" not in message
    assert "'system'" not in message


async def test_argument_suggestions_are_hidden_by_default(api: Api) -> None:
    response = await post(api, {"query": "{ widgets(frist: 1) { totalCount } }"})

    message = response.json()["errors"][0]["message"]
    assert "Unknown argument 'frist'" in message
    assert "Did you mean" not in message


async def test_field_suggestions_are_shown_in_debug(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(debug=True)) as api:
        response = await post(api, {"query": "{ systen { version } }"})

    message = response.json()["errors"][0]["message"]
    assert "Did you mean 'system'?" in message


# --- 7. limits -----------------------------------------------------------------------------


async def test_query_deeper_than_the_limit_is_refused(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(max_query_depth=3)) as api:
        shallow = await post(
            api, {"query": "{ system { modules { name } } }"}, accept=GRAPHQL_RESPONSE_JSON
        )
        deep = await post(
            api,
            {"query": "{ widgets { edges { node { notes { body } } } } }"},
            accept=GRAPHQL_RESPONSE_JSON,
        )

    assert shallow.status_code == 200
    assert "errors" not in shallow.json()
    assert deep.status_code == 400
    payload = deep.json()
    assert "data" not in payload
    assert "exceeds maximum operation depth of 3" in payload["errors"][0]["message"]


async def test_more_aliases_than_the_limit_are_refused(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(max_aliases=2)) as api:
        two = await post(
            api,
            {"query": "{ a: system { version } b: system { version } }"},
            accept=APPLICATION_JSON,
        )
        three = await post(
            api,
            {"query": "{ a: system { version } b: system { version } c: system { version } }"},
            accept=GRAPHQL_RESPONSE_JSON,
        )

    assert two.status_code == 200
    assert set(two.json()["data"]) == {"a", "b"}
    assert three.status_code == 400
    payload = three.json()
    assert "data" not in payload
    assert "3 aliases found. Allowed: 2" in payload["errors"][0]["message"]


async def test_more_tokens_than_the_limit_are_refused(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(max_tokens=10)) as api:
        small = await post(api, {"query": VERSION}, accept=GRAPHQL_RESPONSE_JSON)
        large = await post(
            api,
            {"query": "{ system { version modules { name version } } widgets { totalCount } }"},
            accept=GRAPHQL_RESPONSE_JSON,
        )

    assert small.status_code == 200
    assert "errors" not in small.json()
    assert large.status_code == 400
    payload = large.json()
    assert "data" not in payload
    assert "more than 10 tokens" in payload["errors"][0]["message"]


# --- 8. health and readiness ---------------------------------------------------------------


async def test_healthz(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200
    assert media_type(response) == APPLICATION_JSON
    assert response.json() == {"status": "ok"}


async def test_readyz_after_migrations(api: Api) -> None:
    response = await api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_after_migrations_of_core_alone(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(plugins=())) as api:
        response = await api.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_without_migrations_is_503(
    settings: Settings, api_factory: Callable[..., Any]
) -> None:
    async with api_factory(settings, migrate=False) as api:
        response = await api.client.get("/readyz")
        healthz = await api.client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "migrations" in body["reason"]
    assert healthz.status_code == 200


async def test_readyz_with_unreachable_database_is_503(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any], tmp_path: Path
) -> None:
    # Given a database "file" that is a directory, which SQLite cannot open
    directory = tmp_path / "not-a-database"
    directory.mkdir()
    unreachable = f"sqlite+aiosqlite:///{directory}"

    async with api_factory(make_settings(database_url=unreachable), migrate=False) as api:
        response = await api.client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unreachable"}


# --- 9. GraphiQL ---------------------------------------------------------------------------


async def test_graphiql_is_served_when_enabled(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> None:
    async with api_factory(make_settings(graphiql=True)) as api:
        page = await api.client.get("/graphql", headers={"Accept": "text/html"})
        query = await api.client.get(
            "/graphql", params={"query": VERSION}, headers={"Accept": APPLICATION_JSON}
        )

    assert page.status_code == 200
    assert media_type(page) == "text/html"
    assert "graphiql" in page.text.lower()
    assert query.status_code == 200
    assert "version" in query.json()["data"]["system"]


@pytest.mark.parametrize(
    ("accept", "status"),
    [("text/html", 406), (f"text/html,{APPLICATION_JSON};q=0.9,*/*;q=0.8", 400)],
)
async def test_graphiql_is_not_served_by_default(api: Api, accept: str, status: int) -> None:
    response = await api.client.get("/graphql", headers={"Accept": accept})

    assert response.status_code == status
    assert media_type(response) == APPLICATION_JSON
    assert "graphiql" not in response.text.lower()
    assert "errors" in response.json()


# --- 10. CORS ------------------------------------------------------------------------------

ALLOWED_ORIGIN = "https://app.example.com"


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }


@pytest.fixture
async def cors_api(
    make_settings: Callable[..., Settings], api_factory: Callable[..., Any]
) -> AsyncIterator[Api]:
    async with api_factory(make_settings(cors_origins=ALLOWED_ORIGIN)) as api:
        yield api


async def test_cors_preflight_from_an_allowed_origin(cors_api: Api) -> None:
    response = await cors_api.client.options("/graphql", headers=preflight_headers(ALLOWED_ORIGIN))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


async def test_cors_preflight_allows_the_authorization_header(cors_api: Api) -> None:
    headers = {
        **preflight_headers(ALLOWED_ORIGIN),
        "Access-Control-Request-Headers": "authorization, content-type",
    }

    response = await cors_api.client.options("/graphql", headers=headers)

    assert response.status_code == 200
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


async def test_cors_preflight_allows_the_headers_apollo_client_sends(cors_api: Api) -> None:
    sent = (
        "content-type, authorization, apollographql-client-name, "
        "apollographql-client-version, apollo-require-preflight, x-apollo-operation-name, "
        "x-request-id, graphql-preflight"
    )
    headers = {**preflight_headers(ALLOWED_ORIGIN), "Access-Control-Request-Headers": sent}

    response = await cors_api.client.options("/graphql", headers=headers)

    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {h.strip() for h in sent.split(",")} <= allowed

    unknown = {**preflight_headers(ALLOWED_ORIGIN), "Access-Control-Request-Headers": "x-evil"}
    refused = await cors_api.client.options("/graphql", headers=unknown)
    assert refused.status_code == 400


async def test_cors_preflight_from_another_origin_is_not_allowed(cors_api: Api) -> None:
    response = await cors_api.client.options(
        "/graphql", headers=preflight_headers("https://evil.example.com")
    )

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_cors_simple_request_exposes_the_request_id(cors_api: Api) -> None:
    allowed = await post(cors_api, {"query": VERSION}, headers={"Origin": ALLOWED_ORIGIN})
    other = await post(cors_api, {"query": VERSION}, headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "x-request-id" in allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


async def test_no_cors_headers_by_default(api: Api) -> None:
    preflight = await api.client.options("/graphql", headers=preflight_headers(ALLOWED_ORIGIN))
    simple = await post(api, {"query": VERSION}, headers={"Origin": ALLOWED_ORIGIN})

    assert preflight.status_code == 204
    assert preflight.headers["allow"] == "GET, POST, OPTIONS"
    assert simple.status_code == 200
    for response in (preflight, simple):
        assert not [name for name in response.headers if name.lower().startswith("access-control")]


# --- 11. access log ------------------------------------------------------------------------


async def test_access_log_has_one_record_per_request(
    api: Api, logs: pytest.LogCaptureFixture
) -> None:
    # Given a clean log
    logs.clear()

    # When one named operation is posted
    response = await post(
        api,
        {"query": "query Version { system { version } }", "operationName": "Version"},
        headers={"X-Request-ID": "access-log-test-1"},
    )

    # Then exactly one access record describes it
    assert response.status_code == 200
    [record] = records_of(logs, "crm.access")
    fields = record_fields(record)
    assert fields["request_id"] == "access-log-test-1"
    assert fields["method"] == "POST"
    assert fields["path"] == "/graphql"
    assert fields["status"] == 200
    assert fields["operation"] == "Version"
    assert isinstance(fields["duration_ms"], float | int)
    assert fields["duration_ms"] >= 0


async def test_access_log_names_the_signed_in_caller(
    admin: Api, logs: pytest.LogCaptureFixture
) -> None:
    logs.clear()

    signed_in = await post(admin, {"query": VERSION}, headers=admin.headers)
    anonymous = await post(admin, {"query": VERSION})

    assert signed_in.status_code == anonymous.status_code == 200
    callers = [record_fields(r)["caller"] for r in records_of(logs, "crm.access")]
    assert callers == [f"user:{admin.user_id}", None]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/healthz", None, 200),
        ("POST", "/graphql", {"query": ""}, 400),
        ("GET", "/graphql?query=mutation%7B__typename%7D", None, 405),
        ("PUT", "/graphql", None, 405),
    ],
)
async def test_access_log_records_the_status_of_every_request(
    api: Api,
    logs: pytest.LogCaptureFixture,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    logs.clear()

    response = await api.client.request(method, path, json=body)

    assert response.status_code == status
    [record] = records_of(logs, "crm.access")
    fields = record_fields(record)
    assert fields["status"] == status
    assert fields["method"] == method
    assert fields["path"] == path.split("?")[0]
    assert fields["request_id"] == response.headers["x-request-id"]
    assert fields["operation"] is None


async def test_variables_never_reach_the_logs(admin: Api, logs: pytest.LogCaptureFixture) -> None:
    # Given variables holding a secret, in a request that succeeds, one that fails, and a
    # login whose password is the secret
    secret = "sk_live_S3CR3T_do_not_log_4242"
    logs.clear()
    ok = await post(
        admin,
        {
            "query": "query Find($t: String!) { __type(name: $t) { name } }",
            "variables": {"t": secret},
            "operationName": "Find",
        },
        headers=admin.headers,  # introspection needs a signed-in caller
    )
    failed = await post(
        admin,
        {"query": CREATE, "variables": {"name": secret, "fail": True}, "operationName": "Create"},
        headers=admin.headers,
    )
    login = await post(
        admin,
        {
            "query": "mutation LogIn($p: String!) { login(input: {email: "
            '"admin@example.com", password: $p}) { accessToken errors { code } } }',
            "variables": {"p": secret},
            "operationName": "LogIn",
        },
    )
    assert ok.status_code == 200
    assert ok.json() == {"data": {"__type": None}}
    assert failed.json()["errors"][0]["message"] == "Internal error"
    assert login.json()["data"]["login"] == {"accessToken": None, "errors": [{"code": "INVALID"}]}

    # Then every request was logged, and the secret appears in no record
    assert [record_fields(r)["operation"] for r in records_of(logs, "crm.access")] == [
        "Find",
        "Create",
        "LogIn",
    ]
    assert records_of(logs, "crm.graphql")
    formatter = logging.Formatter()
    for record in logs.records:
        assert secret not in formatter.format(record)
        assert secret not in repr(record_fields(record))


# --- 12. the Authorization header ----------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic YWRtaW46cGFzc3dvcmQ=", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer", "the Authorization header must be 'Bearer <token>'"),
        ("Bearer not.a.jwt", "the access token is not valid"),
        ("Bearer crma_unknown", "the API token is not valid"),
    ],
)
async def test_a_bad_authorization_header_is_unauthenticated_where_it_matters(
    api: Api, header: str, message: str
) -> None:
    # When a request carries an unusable Authorization header
    response = await post(
        api,
        {"query": "{ system { version } viewer { email } }"},
        accept=GRAPHQL_RESPONSE_JSON,
        headers={"Authorization": header},
    )

    # Then execution still happens (200): public fields answer, protected ones say why not
    assert response.status_code == 200
    payload = response.json()
    assert payload["data"]["viewer"] is None  # refused alone: the public field still answers
    assert payload["data"]["system"]["version"]
    [error] = payload["errors"]
    assert error["path"] == ["viewer"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == message
    public = await post(api, {"query": VERSION}, headers={"Authorization": header})
    assert "errors" not in public.json()
    assert "version" in public.json()["data"]["system"]


async def test_the_bearer_scheme_is_case_insensitive(admin: Api) -> None:
    assert admin.token is not None
    response = await post(
        admin, {"query": "{ viewer { email } }"}, headers={"Authorization": f"bearer {admin.token}"}
    )

    assert response.json() == {"data": {"viewer": {"email": "admin@example.com"}}}


async def test_a_response_leaves_nothing_it_loaded_to_the_cycle_collector(admin: Api) -> None:
    # Given a customer with a contact, and a query reading them through loaders, sent once
    # (plans and caches made once are not the request's)
    created = await admin.gql(
        'mutation { createCustomer(input: {name: "Northwind"}) { customer { id } } }'
    )
    customer_id = created["data"]["createCustomer"]["customer"]["id"]
    added = await admin.gql(
        "mutation($input: CreateContactInput!) { createContact(input: $input) "
        "{ errors { code } } }",
        {"input": {"customerId": customer_id, "name": "Ada"}},
    )
    assert added["data"]["createContact"]["errors"] == []
    query = (
        "{ customers(first: 10) { edges { node { name owner { name } tags { name } "
        "contacts(first: 5) { edges { node { name } } } } } } }"
    )
    await admin.gql(query)
    gc.collect()

    # When it is sent again, with everything the collector frees kept for inspection
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        body = await admin.gql(query)
        gc.collect()
        left = {type(found) for found in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()

    # Then the request's loaders, the rows and pages they held and their futures were freed
    # when its response was made, not left in a cycle for the collector to find
    assert body["data"]["customers"]["edges"][0]["node"]["contacts"]["edges"] == [
        {"node": {"name": "Ada"}}
    ]
    held = (Loader, Record, ChildPage, asyncio.Future)
    assert [kind.__qualname__ for kind in left if issubclass(kind, held)] == []


async def test_a_request_finding_no_database_connection_free_is_503_service_busy(
    settings: Settings, plugin_manager: CRMPluginManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app with one database connection, which a request waits a moment for
    monkeypatch.setattr(db_module, "POOL_TIMEOUT_SECONDS", 0.05)
    one = settings.model_copy(update={"db_pool_size": 1})
    async with running_app(one, pm=plugin_manager) as api:
        admin = await api.user("admin@example.com", ["ADMINISTRATOR"])
        # When a signed-in request comes while that connection is in use
        async with api.db.engine.connect() as held:
            await held.execute(text("SELECT 1"))
            busy = await post(admin, {"query": VERSION}, headers=admin.headers)
        # Then it is told to try again in a moment, and once the connection is back it is served
        served = await admin.gql(VERSION)

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.json() == {
        "errors": [
            {
                "message": "the service is busy (no database connection was free within "
                "0.05 s); try again in a moment",
                "extensions": {"code": "SERVICE_BUSY"},
            }
        ]
    }
    assert served["data"]["system"]["version"]
