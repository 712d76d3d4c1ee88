"""Hostile input to import and export (``core/customers/exchange.py``, ``export.py``).

Export: a filter the request cannot use is a 400 with a coded error and the request id,
decided before the first byte of the file (never a 200 whose stream then breaks off); a
failure while reading the first rows is a JSON 500 logged with the request id. Import: CSV
the reader cannot read is a ``UserError`` on ``csv`` naming the line, and nothing is kept.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry import relay

from core.client_input import MAX_JSON_DEPTH
from core.customers import exchange, export
from tests.support import Api

REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")
DIGITS = sys.get_int_max_str_digits() + 700  # 5,000 with the default limit
FORMATS = ["csv", "xlsx"]

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { code } }
}"""
IMPORT = """
mutation($csv: String!) {
  importCustomers(input: {csv: $csv}) {
    created updated imported
    rowErrors { line field message code }
    errors { field message code }
  }
}"""
COUNT = "{ customers(first: 1) { totalCount } }"


def unexpected(logs: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.exc_info or r.levelno >= logging.ERROR]


async def customer(api: Api, name: str) -> None:
    body = await api.gql(CREATE, {"input": {"name": name}})
    assert body["data"]["createCustomer"]["errors"] == [], body


async def customer_count(api: Api) -> int:
    body = await api.gql(COUNT)
    return int(body["data"]["customers"]["totalCount"])


# ----------------------------------------------------------------------------- export


def assert_refused_before_streaming(response: httpx.Response, argument: str) -> str:
    """A 400 JSON error naming ``argument`` with the request id, not a started download;
    the message, for further checks."""
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    assert "content-disposition" not in response.headers
    assert REQUEST_ID.match(response.headers["x-request-id"])
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"].startswith(argument), error
    message: str = error["message"]
    assert message.startswith(argument), error
    return message


HOSTILE_FILTERS = [
    pytest.param("filter", "[" * 5_000 + "]" * 5_000, "deeper than", id="nested-5000-deep"),
    pytest.param(
        "filter",
        '{"customFields": [{"key": "k", "equals": '
        + "[" * MAX_JSON_DEPTH
        + "]" * MAX_JSON_DEPTH
        + "}]}",
        "deeper than",
        id="nested-past-the-limit",
    ),
    pytest.param("filter", '{"search": ' + "7" * DIGITS + "}", "digits", id="5000-digits"),
    pytest.param("orderBy", "[" * 5_000 + "]" * 5_000, "deeper than", id="order-nested-5000-deep"),
    pytest.param("filter", '{"search": "' + "a" * 60_000 + '"}', "", id="search-of-60000"),
    pytest.param(
        "filter",
        '{"ownerId": "' + relay.to_base64("User", 2**64) + '"}',
        "",
        id="owner-id-of-2**64",
    ),
    pytest.param(
        "filter",
        '{"ownerId": "' + relay.to_base64("User", "9" * DIGITS) + '"}',
        "",
        id="owner-id-of-5000-digits",
    ),
]


@pytest.mark.parametrize(("parameter", "value", "words"), HOSTILE_FILTERS)
async def test_hostile_export_parameters_are_refused_before_the_file_starts(
    admin: Api, logs: pytest.LogCaptureFixture, parameter: str, value: str, words: str
) -> None:
    # Given a customer the search would have to compare with
    await customer(admin, "Acme aaaa")
    logs.clear()

    for fmt in FORMATS:
        response = await admin.client.get(
            f"/export/customers.{fmt}", headers=admin.headers, params={parameter: value}
        )

        message = assert_refused_before_streaming(response, parameter)
        assert words in message, fmt
    assert unexpected(logs) == []


async def test_a_filter_nested_to_the_limit_gets_past_the_json_reader(admin: Api) -> None:
    # The filter, its list and its item are three levels; the value may take the rest.
    depth = MAX_JSON_DEPTH - 3
    value = "[" * depth + "]" * depth
    defined = await admin.gql(
        'mutation { defineCustomField(input: {key: "k", label: "K", type: TEXT}) '
        "{ errors { code } } }"
    )
    assert defined["data"]["defineCustomField"]["errors"] == []

    within = await admin.client.get(
        "/export/customers.csv",
        headers=admin.headers,
        params={"filter": '{"customFields": [{"key": "k", "equals": ' + value + "}]}"},
    )

    # Past the JSON reader: refused by the filter's own check, not for its depth
    assert within.status_code == 400
    assert "must be text" in within.json()["errors"][0]["message"]


async def failing_rows(
    _context: Any, _statement: Any, *, rows: int = 0
) -> AsyncIterator[list[Any]]:
    yield list(exchange.COLUMNS)
    for n in range(rows):
        yield [f"C{n:06d}"] + [""] * (len(exchange.COLUMNS) - 1)
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("fmt", FORMATS)
async def test_a_failure_reading_the_first_rows_is_a_json_500_logged_with_the_request_id(
    admin: Api, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setattr(export, "export_rows", failing_rows)
    logs.clear()

    response = await admin.client.get(f"/export/customers.{fmt}", headers=admin.headers)

    # Then the client gets an error, not a 200 download that breaks off
    assert response.status_code == 500
    assert "content-disposition" not in response.headers
    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error == {
        "message": "Internal error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    }
    assert "database went away" not in response.text
    # And the traceback is logged beside the same request id
    [record] = unexpected(logs)
    assert record.name == "crm.export"
    assert vars(record)["request_id"] == request_id
    assert record.exc_info is not None
    assert "the database went away" in str(record.exc_info[1])


async def test_a_failure_after_the_first_chunk_is_logged_with_the_request_id(
    admin: Api, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given rows that fail after the first CSV chunk (500 rows) has gone out
    async def rows(context: Any, statement: Any) -> AsyncIterator[list[Any]]:
        async for row in failing_rows(context, statement, rows=600):
            yield row

    monkeypatch.setattr(export, "export_rows", rows)
    logs.clear()

    # Then the download breaks off (a complete-looking file would be worse)
    with pytest.raises(RuntimeError, match="database went away"):
        await admin.client.get(
            "/export/customers.csv", headers={**admin.headers, "X-Request-ID": "export-fails-1"}
        )

    # And the log says which request it was
    [record] = [r for r in unexpected(logs) if r.name == "crm.export"]
    assert vars(record)["request_id"] == "export-fails-1"


# ----------------------------------------------------------------------------- import


async def import_csv(api: Api, text: str) -> dict[str, Any]:
    body = await api.gql(IMPORT, {"csv": text})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["importCustomers"]
    return result


UNREADABLE_CSV = [
    pytest.param(
        "name,email\nAcme,acme@example.com\nBr\ravo,bravo@example.com\n",
        3,
        "carriage return",
        id="carriage-return-in-an-unquoted-value",
    ),
    pytest.param(
        "name,email\rAcme,acme@example.com\rBravo,bravo@example.com\r",
        1,
        "carriage return",
        id="carriage-returns-as-line-ends",
    ),
    pytest.param(
        "name,email\nAcme,acme@example.com\nBravo,bravo@example.com\rCharlie,c@example.com\n",
        3,
        "carriage return",
        id="one-carriage-return-line-end",
    ),
    pytest.param(
        "name,email\nAcme,acme@example.com\n" + "B" * 131_073 + ",bravo@example.com\n",
        3,
        "longer than 131072 characters",
        id="value-over-the-field-limit",
    ),
    pytest.param(
        'name,email\nAcme,acme@example.com\n"Bravo\n' + "B" * 131_073 + '",bravo@example.com\n',
        4,
        "longer than 131072 characters",
        id="quoted-multi-line-value-over-the-field-limit",
    ),
]


@pytest.mark.parametrize(("text", "line", "words"), UNREADABLE_CSV)
async def test_unreadable_csv_is_refused_naming_the_line_and_nothing_is_imported(
    admin: Api, logs: pytest.LogCaptureFixture, text: str, line: int, words: str
) -> None:
    logs.clear()

    result = await import_csv(admin, text)

    assert result["imported"] is False
    assert result["rowErrors"] == []
    [error] = result["errors"]
    assert (error["field"], error["code"]) == ("csv", "INVALID")
    assert error["message"].startswith(f"line {line}: "), error
    assert words in error["message"]
    assert await customer_count(admin) == 0  # not even the good line before it
    assert unexpected(logs) == []


async def test_carriage_returns_that_csv_allows_still_import(admin: Api) -> None:
    text = 'name,email\r\nAcme,acme@example.com\r\n"Bra\rvo",bravo@example.com\r\n'

    result = await import_csv(admin, text)

    assert (result["created"], result["imported"], result["errors"]) == (2, True, [])
    assert await customer_count(admin) == 2
