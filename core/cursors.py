"""Cursors of keyset pagination: a row's sort key values, with a fingerprint of the ordering
they belong to, as an opaque URL-safe string.

A cursor handed back (``after``, ``before``) is checked before it reaches a statement: it
must be one this list gave out, of the same ordering, with values that fit the ordering's
columns; anything else is a BAD_USER_INPUT error naming the argument.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import functools
import hashlib
import json
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.types import TypeDecorator

from core.client_input import load_json
from core.errors import bad_argument
from core.i18n import _
from core.ordering import SortKey


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"n": str(value)}
    if isinstance(value, uuid.UUID):
        return {"u": str(value)}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        decoders: dict[str, Callable[[str], Any]] = {
            "t": dt.datetime.fromisoformat,
            "d": dt.date.fromisoformat,
            "n": decimal.Decimal,
            "u": uuid.UUID,
        }
        if tag in decoders and isinstance(raw, str):
            return decoders[tag](raw)
        raise ValueError("unknown cursor value")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("unknown cursor value")


def ordering_tag(keys: Sequence[SortKey]) -> str:
    """A short fingerprint of an ordering, kept in its cursors: a cursor of one ordering
    handed to another (name values compared with times) is refused, not run."""
    return _ordering_tag(tuple(keys))


@functools.lru_cache(maxsize=256)
def _ordering_tag(keys: tuple[SortKey, ...]) -> str:
    # Orderings are few and fixed (declared on loaders and lists): computed once each.
    text = "|".join(f"{key.column}:{key.descending}:{key.nullable}" for key in keys)
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def encode_cursor(values: Sequence[Any], tag: str = "") -> str:
    raw = json.dumps([tag, *(_encode_value(v) for v in values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


MAX_CURSOR_LENGTH = 2048
"""The longest cursor accepted; those the lists give out are a few dozen characters."""

_BIGINT = 2**63


def _python_type(key: SortKey) -> type[Any] | None:
    column_type = key.column.type
    if isinstance(column_type, TypeDecorator):  # UTCDateTime: its stored type tells
        column_type = column_type.impl_instance
    try:
        python_type: type[Any] = column_type.python_type
    except NotImplementedError:
        return None
    return None if python_type is object else python_type


def _fits(key: SortKey, value: Any) -> bool:
    """``value`` (decoded from a cursor) can be compared with ``key``'s column: of the
    column's type and within what the database stores, so a forged cursor is refused here
    instead of failing in the database driver."""
    if value is None:
        return True
    expected = _python_type(key)
    if expected is None:
        return not isinstance(value, float) or math.isfinite(value)
    if isinstance(value, bool) or expected is bool:
        return isinstance(value, bool) and expected is bool
    if expected is int:
        return isinstance(value, int) and -_BIGINT <= value < _BIGINT
    if expected is float:
        return isinstance(value, int | float) and math.isfinite(value)
    if expected is decimal.Decimal:
        return isinstance(value, decimal.Decimal) and value.is_finite()
    if expected is str:
        if not isinstance(value, str):
            return False
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate; no stored text holds one
            return False
        return True
    if expected is dt.datetime:
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            return False
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            return False
        return True
    if expected is dt.date:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    return isinstance(value, expected)


def decode_cursor(
    cursor: str,
    *,
    argument: str,
    width: int,
    tag: str = "",
    keys: Sequence[SortKey] | None = None,
) -> list[Any]:
    """The sort key values a cursor holds; anything but a cursor of this ordering (with
    values that fit ``keys``' columns, when given) is a BAD_USER_INPUT error naming
    ``argument``."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        values = load_json(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) < 2:
            raise ValueError("wrong shape")
        if values[0] != tag:
            if isinstance(values[0], str) and len(values[0]) == len(tag):
                raise bad_argument(
                    argument,
                    _(
                        "was given out under another orderBy: ask for the first page of this "
                        "order again"
                    ),
                )
            raise ValueError("wrong ordering")
        if len(values) != width + 1:
            raise ValueError("wrong shape")
        decoded = [_decode_value(v) for v in values[1:]]
        if keys is not None and not all(
            _fits(key, value) for key, value in zip(keys, decoded, strict=True)
        ):
            raise ValueError("a value of the wrong type")
        return decoded
    except (ValueError, TypeError, decimal.InvalidOperation, binascii.Error):
        # JsonInputError (too deep, NaN, unreadable text) is a ValueError too
        raise bad_argument(argument, _("is not a cursor this list gave out")) from None
