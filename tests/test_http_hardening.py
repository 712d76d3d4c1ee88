"""Hostile request bodies at ``/graphql`` (``core/http.py``): JSON nested far too deep, a
number too long for ``int``. Each is refused with a coded 400 and the request id before
GraphQL runs, and nothing reaches the log as an unexpected error. A route outside GraphQL
that fails is a JSON 500 whose request id the log line with the traceback carries.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Sequence

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from core.client_input import MAX_JSON_DEPTH
from core.config import Settings
from core.hookspecs import hookimpl
from schema.testkit import running_app
from tests.support import Api

APPLICATION_JSON = "application/json"
VERSION = "{ system { version } }"
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
DIGITS = sys.get_int_max_str_digits() + 700  # 5,000 with the default limit


def nested(depth: int) -> str:
    """``depth`` arrays, one inside the other."""
    return "[" * depth + "]" * depth


def assert_refused(
    response: httpx.Response, logs: pytest.LogCaptureFixture, subject: str, words: str
) -> None:
    """A 400 with a code, a message naming ``subject`` and the request id; nothing logged as
    unexpected."""
    assert response.status_code == 400, response.text
    request_id = response.headers["x-request-id"]
    assert REQUEST_ID.match(request_id)
    [error] = response.json()["errors"]
    assert error["message"].startswith(subject), error
    assert words in error["message"], error
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "Internal error" not in response.text
    unexpected = [r for r in logs.records if r.exc_info or r.levelno >= logging.ERROR]
    assert unexpected == []
    [access] = [r for r in logs.records if r.name == "crm.access"]
    assert vars(access)["request_id"] == request_id
    assert vars(access)["status"] == 400


async def post_raw(api: Api, content: str) -> httpx.Response:
    return await api.client.post(
        "/graphql", content=content.encode(), headers={"Content-Type": APPLICATION_JSON}
    )


BODIES = [
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": {nested(100_000)}}}}}',
        "deeper than",
        id="nested-100000-deep",
    ),
    pytest.param(nested(100_000), "deeper than", id="bare-array-100000-deep"),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": {nested(MAX_JSON_DEPTH)}}}}}',
        "deeper than",
        id="nested-past-the-limit",
    ),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": {"7" * DIGITS}}}}}',
        "digits",
        id="integer-of-5000-digits",
    ),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": [1, -{"7" * DIGITS}]}}}}',
        "digits",
        id="negative-integer-of-5000-digits",
    ),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": [1, NaN]}}}}',
        "NaN is not a JSON number",
        id="nan",
    ),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": -Infinity}}}}',
        "-Infinity is not a JSON number",
        id="infinity",
    ),
    pytest.param(
        f'{{"query": "{VERSION}", "variables": {{"x": 1e999}}}}',
        "too large for a float",
        id="float-past-the-largest",
    ),
]


@pytest.mark.parametrize(("body", "words"), BODIES)
async def test_hostile_json_body_is_400_with_a_code_and_no_traceback(
    api: Api, logs: pytest.LogCaptureFixture, body: str, words: str
) -> None:
    logs.clear()

    response = await post_raw(api, body)

    assert_refused(response, logs, "the body", words)


async def test_body_nested_to_the_limit_is_accepted(api: Api) -> None:
    # The body is one level, variables a second: the arrays may take the rest.
    within = f'{{"query": "{VERSION}", "variables": {{"x": {nested(MAX_JSON_DEPTH - 2)}}}}}'
    beyond = f'{{"query": "{VERSION}", "variables": {{"x": {nested(MAX_JSON_DEPTH - 1)}}}}}'

    accepted = await post_raw(api, within)
    refused = await post_raw(api, beyond)

    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["data"]["system"]["version"]
    assert refused.status_code == 400
    assert f"deeper than {MAX_JSON_DEPTH} levels" in refused.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        pytest.param(f'{{"x": {nested(5_000)}}}', "deeper than", id="nested-5000-deep"),
        pytest.param(f'{{"x": {"7" * DIGITS}}}', "digits", id="integer-of-5000-digits"),
    ],
)
async def test_hostile_get_variables_are_400_with_a_code_and_no_traceback(
    api: Api, logs: pytest.LogCaptureFixture, variables: str, words: str
) -> None:
    logs.clear()

    response = await api.client.get("/graphql", params={"query": VERSION, "variables": variables})

    assert_refused(response, logs, "'variables'", words)


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "code"),
    [
        pytest.param({"query": VERSION}, "text/plain", "*/*", 415, "UNSUPPORTED_MEDIA_TYPE"),
        pytest.param({"query": VERSION}, APPLICATION_JSON, "text/html", 406, "NOT_ACCEPTABLE"),
        pytest.param({"qeury": VERSION}, APPLICATION_JSON, "*/*", 400, "BAD_REQUEST"),
    ],
)
async def test_http_level_errors_carry_a_code(
    api: Api, body: dict[str, str], content_type: str, accept: str, status: int, code: str
) -> None:
    response = await api.client.post(
        "/graphql",
        content=json.dumps(body).encode(),
        headers={"Content-Type": content_type, "Accept": accept},
    )

    assert response.status_code == status
    assert response.json()["errors"][0]["extensions"] == {"code": code}
    assert REQUEST_ID.match(response.headers["x-request-id"])


async def test_mutation_over_get_is_405_with_a_code(api: Api) -> None:
    response = await api.client.get("/graphql", params={"query": "mutation { __typename }"})

    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}


class BrokenRoutePlugin:
    """A plugin whose route has a bug: it raises before answering."""

    @hookimpl
    def crm_http_routes(self) -> Sequence[BaseRoute]:
        async def broken(request: Request) -> Response:
            raise RuntimeError("a bug in a plugin's route")

        return [Route("/broken", broken, methods=["GET"])]


async def test_a_route_that_raises_is_a_json_500_logged_with_the_request_id(
    make_settings: Callable[..., Settings], logs: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(plugins=("broken",))
    async with running_app(settings, extra_plugins={"broken": BrokenRoutePlugin()}) as api:
        response = await api.client.get("/broken", headers={"X-Request-ID": "a1b2c3d4e5f6"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "a1b2c3d4e5f6"
    assert response.json() == {
        "errors": [
            {
                "message": "Internal error",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "a1b2c3d4e5f6"},
            }
        ]
    }
    [failure] = [r for r in logs.records if r.exc_info]
    assert vars(failure)["request_id"] == "a1b2c3d4e5f6"
    assert "a bug in a plugin's route" in str(failure.exc_info[1] if failure.exc_info else "")
    [access] = [r for r in logs.records if r.name == "crm.access"]
    assert (vars(access)["request_id"], vars(access)["status"]) == ("a1b2c3d4e5f6", 500)
