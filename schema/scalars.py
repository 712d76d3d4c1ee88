"""The custom scalars of the API: how each one is written on the wire.

Every custom scalar states its wire format, with an example, in its description, and names
its specification with ``@specifiedBy`` where one exists (Decimal has none: its
description is the whole rule). docs/api.md maps each to the types code generators use.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re

import strawberry
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

from core.zones import current_zone

RFC3339_DATE_TIME = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
LOCAL_DATE = "https://scalars.graphql.org/andimarek/local-date.html"
MULTIPART_REQUEST = "https://github.com/jaydenseric/graphql-multipart-request-spec"
ECMA_404 = (
    "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
)


def _parse_aware(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset; add one, such as Z or +01:00")
    try:
        # Stored and compared in UTC: a time that has no UTC equivalent (9999-12-31 at
        # -23:59 is in year 10000) is refused here, not by the database driver.
        parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range once converted to UTC") from None
    return parsed


def _serialize_date_time(value: dt.datetime) -> str:
    """The moment in the zone of the request (the caller's, else the deployment's)."""
    zone = value.tzinfo
    if zone is None:
        return value.isoformat()
    wanted = current_zone()
    # Read in UTC and written in UTC, as most are: already in the zone wanted.
    return (value if zone is wanted else value.astimezone(wanted)).isoformat()


AwareDateTime = strawberry.scalar(
    name="DateTime",
    description=(
        "A point in time: an RFC 3339 date-time string with a UTC offset. Sent as "
        '`"2026-11-23T09:30:00Z"` or `"2026-11-23T10:30:00+01:00"` (a time without an '
        "offset is refused); returned in the caller's time zone (their own, else the "
        "deployment's; UTC unless set) with its offset, and microseconds when there are "
        'any: `"2026-11-23T09:30:00+00:00"`, `"2026-11-23T17:30:00.250000+08:00"`.'
    ),
    specified_by_url=RFC3339_DATE_TIME,
    serialize=_serialize_date_time,
    parse_value=_parse_aware,
)
"""Date-times in the API always carry their offset: a naive one is refused as bad input."""

_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str) or not _FULL_DATE.match(value):
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-23")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date of the calendar") from None


LocalDate = strawberry.scalar(
    name="Date",
    description=(
        "A calendar date without a time or time zone: an RFC 3339 full-date string, "
        '`YYYY-MM-DD`, e.g. `"2026-11-23"`.'
    ),
    specified_by_url=LOCAL_DATE,
    serialize=lambda value: value.isoformat(),
    parse_value=_parse_date,
)

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
"""Plain ASCII digits: no exponent, sign other than a leading ``-``, space or separator."""


def serialize_decimal(value: decimal.Decimal | int | float) -> str:
    """``value`` as the Decimal scalar writes it: plain digits, never an exponent."""
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    text = format(number, "f")
    return "0" if text in ("-0", "") else text


def _parse_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a decimal number")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, float):
        number = decimal.Decimal(str(value))
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a decimal number")
        return number
    if not isinstance(value, str) or len(value) > 100 or not _DECIMAL.fullmatch(value):
        raise ValueError(
            f'{value!r} is not a decimal number; write it as a string such as "1234.5"'
        )
    return decimal.Decimal(value)


DecimalNumber = strawberry.scalar(
    name="Decimal",
    description=(
        "An exact decimal number as a JSON string: an optional `-`, digits, and optionally "
        "`.` and more digits; never an exponent, a `+` or a thousands separator, e.g. "
        '`"1234.5"`, `"-0.25"`, `"42"`. The scale is the value\'s own (no padding to a fixed '
        "number of places). As input a JSON number is also accepted and read from its "
        "decimal text."
    ),
    serialize=serialize_decimal,
    parse_value=_parse_decimal,
)

JsonValue = strawberry.scalar(
    name="JSON",
    description=(
        "Any JSON value (ECMA-404) sent as is, not as a string: an object, array, string, "
        'number, boolean or null, e.g. `{"employees": 250, "segment": "SMB"}`.'
    ),
    specified_by_url=ECMA_404,
    serialize=lambda value: value,
    parse_value=lambda value: value,
)

FileUpload = strawberry.scalar(
    name="Upload",
    description=(
        "A file, as input only: a file part of a GraphQL multipart request. The variable "
        "is `null` in `operations`, and `map` points a part at it: "
        '`{"0": ["variables.input.file"]}`. Any other value is refused, naming the field.'
    ),
    specified_by_url=MULTIPART_REQUEST,
    serialize=lambda value: None,
    parse_value=lambda value: value,
)


SCALAR_OVERRIDES: dict[object, ScalarWrapper | ScalarDefinition] = {
    dt.datetime: AwareDateTime,
    dt.date: LocalDate,
    decimal.Decimal: DecimalNumber,
    JSON: JsonValue,
    Upload: FileUpload,
}
"""The scalars the schema is built with, by the Python type that stands for each."""
