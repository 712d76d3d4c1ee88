"""What a client sends, checked before anything uses it: JSON (request bodies, GET
parameters, the export's filter) and text (every string a request carries).

Both turn input built to break the parser or the database into an error the caller is told
about: :func:`load_json` raises :class:`JsonInputError`, :func:`unstorable` says why a
string is not text a record may hold.
"""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

MAX_JSON_DEPTH = 64
"""How deeply arrays and objects may nest in JSON a client sends (a request body, GET
parameters, the export's ``filter``): far more than any input of the API needs, and few
enough that nothing recursing over the value later can exhaust the stack."""


class JsonInputError(ValueError):
    """JSON from a client that cannot be used; ``reason`` completes a sentence naming it
    (\"'variables' \" + reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels in ``value`` (walked
    without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _not_a_number(name: str) -> Any:
    raise JsonInputError(f"is not valid JSON ({name} is not a JSON number)")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JsonInputError(f"has a number too large for a float ({text[:20]})")
    return number


def load_json(data: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON a client sent, refusing what would otherwise crash the request.

    Besides malformed text, ``json.loads`` raises ``RecursionError`` on deep nesting and
    ``ValueError`` on an integer of more than ``sys.get_int_max_str_digits()`` digits; those,
    nesting deeper than ``max_depth``, the ``NaN`` and ``Infinity`` that Python (not JSON)
    accepts and floats too large to be finite all become a :class:`JsonInputError`.
    """
    too_deep = f"nests arrays and objects deeper than {max_depth} levels"
    try:
        value = json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
    except JsonInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"is not valid JSON ({exc.msg})") from None
    except UnicodeDecodeError:
        raise JsonInputError("is not valid JSON (not UTF-8 text)") from None
    except RecursionError:
        raise JsonInputError(too_deep) from None
    except ValueError:  # int() refuses the digits of a number this long
        raise JsonInputError(
            f"has a number longer than {sys.get_int_max_str_digits()} digits"
        ) from None
    if isinstance(value, dict | list) and _deeper_than(value, max_depth):
        raise JsonInputError(too_deep)
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def unstorable(text: str) -> str | None:
    """Why ``text`` is not text a record may hold, or ``None`` when it is.

    A lone surrogate cannot be encoded at all; a control character other than tab, line
    feed and carriage return (NUL above all: PostgreSQL refuses it, SQLite cuts strings at
    it in places) has no business in a CRM's text and breaks the files it is exported to.
    """
    if _CONTROL.search(text):
        return "a control character (such as NUL)"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "a lone surrogate (an unpaired \\uD800-\\uDFFF escape)"
    return None


def unstorable_at(value: Any, path: str) -> tuple[str, str] | None:
    """The path of the first string in ``value`` (decoded JSON) that is not storable text,
    and why."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            why = unstorable(item)
            if why is not None:
                return where, why
        elif isinstance(item, dict):
            for key, child in item.items():
                why = unstorable(key)
                if why is not None:
                    return where, why
                stack.append((child, f"{where}.{key}"))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{index}") for index, child in enumerate(item))
    return None
