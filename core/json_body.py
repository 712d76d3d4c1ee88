"""JSON response bodies, written by orjson.

orjson writes the same bytes as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``
for what a GraphQL response holds (strings, numbers, booleans, null, lists and objects with
string keys), several times faster. What it cannot write (an integer past 64 bits, held in a
``JSON`` scalar's value) falls back to the standard library, so such a value still answers.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(payload: Any) -> bytes:
    """``payload`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(payload)
    except orjson.JSONEncodeError:
        return json.dumps(
            payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


class JSONBody(JSONResponse):
    """A JSON response written by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
