"""Response bodies: orjson's bytes, and the standard library's for what orjson refuses."""

from __future__ import annotations

import json

from core.json_body import JSONBody, dumps


def test_bodies_are_compact_utf8_json() -> None:
    payload = {"data": {"name": "深圳 Trading", "n": 3, "ok": True, "none": None, "x": 1.5}}
    expected = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    assert dumps(payload) == expected
    assert JSONBody(payload).body == expected


def test_an_integer_past_64_bits_is_written_by_the_standard_library() -> None:
    payload = {"data": {"customFields": {"big": 2**70}}}
    assert dumps(payload) == b'{"data":{"customFields":{"big":1180591620717411303424}}}'
