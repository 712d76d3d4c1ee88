"""The fuzz run counts what it says: server errors are 5xx answers and masked unexpected
exceptions, errors without a code are counted, tracebacks are found in the server's log, and
a short run over every root field of the served demo finds none of them. Nothing is timed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from bench.fuzz import Tally, administrator_token, demo_server, fuzz, tracebacks


def answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_server_errors_are_5xx_and_masked_exceptions_only() -> None:
    tally = Tally()
    refused = {"errors": [{"message": "bad id", "extensions": {"code": "BAD_USER_INPUT"}}]}
    masked = {
        "errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]
    }

    tally.add("customers", "{ a }", answer(200, {"data": {"customers": None}}))
    tally.add("customers", "{ b }", answer(200, refused))
    tally.add("customer", "{ c }", answer(200, masked))
    tally.add("node", "{ d }", answer(502, "bad gateway"))
    tally.add("node", "{ e }", answer(400, refused))
    tally.add("nodes", "{ f }", answer(200, {"errors": [{"message": "Syntax Error"}]}))

    assert tally.cases == 6
    assert tally.without_errors == 1
    assert tally.statuses == {200: 4, 502: 1, 400: 1}
    assert tally.codes == {"BAD_USER_INPUT": 2, "INTERNAL_SERVER_ERROR": 1, "(none)": 1}
    assert [f.splitlines()[0] for f in tally.server_errors] == [
        "customer: HTTP 200",
        "node: HTTP 502",
    ]
    assert [f.splitlines()[0] for f in tally.uncoded] == ["nodes: {'message': 'Syntax Error'}"]


def test_tracebacks_are_found_in_json_and_plain_log_lines(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    lines = [
        json.dumps({"level": "info", "message": "request", "status": 200}),
        json.dumps({"level": "error", "exc_info": "Traceback (most recent call last):\n  ..."}),
        "Traceback (most recent call last):",
        "plain line",
    ]
    log.write_text("\n".join(lines))

    assert tracebacks(log) == [lines[1], lines[2]]


def test_a_short_run_over_every_root_field_finds_no_server_error(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with demo_server(None, log) as base:
        tally = fuzz(base, administrator_token(base), cases=1, random_seed=3)

    assert len(tally.by_operation) > 60  # every root query and mutation was sent
    assert tally.server_errors == []
    assert tally.uncoded == []
    assert tracebacks(log) == []
