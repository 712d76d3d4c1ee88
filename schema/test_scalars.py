"""Every custom scalar of the built schema is described (its wire format, with an example)
and names its specification where one exists; docs/api.md maps each one to the types a
code generator needs. The scalars read and write what their descriptions say."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLScalarType, specified_scalar_types

from core.config import Settings, load_settings
from core.host import ENTRY_POINT_GROUP
from schema.builder import build_schema
from schema.modules import build_plugin_manager
from schema.scalars import ECMA_404, LOCAL_DATE, MULTIPART_REQUEST, RFC3339_DATE_TIME

API_GUIDE = Path(__file__).parent.parent / "docs" / "api.md"

SPECIFIED_BY = {
    "Date": LOCAL_DATE,
    "DateTime": RFC3339_DATE_TIME,
    "Decimal": None,  # no formal specification: the description is the whole rule
    "JSON": ECMA_404,
    "Upload": MULTIPART_REQUEST,
}


@pytest.fixture
def scalars(tmp_path: Path) -> dict[str, GraphQLScalarType]:
    settings: Settings = load_settings(data_dir=tmp_path)
    built_in = [
        ep.name
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
        if ep.dist is not None and ep.dist.name == "crm"
    ]
    schema = build_schema(build_plugin_manager(built_in), settings)
    return {
        name: kind
        for name, kind in schema._schema.type_map.items()
        if isinstance(kind, GraphQLScalarType) and name not in specified_scalar_types
    }


def test_every_custom_scalar_is_described_with_an_example(
    scalars: dict[str, GraphQLScalarType],
) -> None:
    undescribed = [
        name
        for name, scalar in scalars.items()
        if not scalar.description or not re.search(r"`[^`]+`", scalar.description)
    ]
    assert undescribed == [], f"custom scalars without a description and example: {undescribed}"


def test_custom_scalars_name_their_specification_where_one_exists(
    scalars: dict[str, GraphQLScalarType],
) -> None:
    assert {name: s.specified_by_url for name, s in scalars.items()} == SPECIFIED_BY


def _scalar_table() -> dict[str, list[str]]:
    """The rows of the table under docs/api.md's "Scalars" heading, by scalar name."""
    text = API_GUIDE.read_text()
    section = text.split("### Scalars", 1)[1].split("\n#", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_api_guide_maps_every_custom_scalar(scalars: dict[str, GraphQLScalarType]) -> None:
    table = _scalar_table()
    assert sorted(table) == sorted(scalars)
    for name, cells in table.items():
        assert all(cells[:4]), (name, cells)  # wire form, TypeScript, Python, specified by


def test_decimal_is_written_in_plain_digits(scalars: dict[str, GraphQLScalarType]) -> None:
    write = scalars["Decimal"].serialize
    assert write(decimal.Decimal("1E+3")) == "1000"
    assert write(decimal.Decimal("1234.50")) == "1234.50"
    assert write(decimal.Decimal("-0")) == "0"
    assert write(1e-07) == "0.0000001"
    assert write(9007199254740991) == "9007199254740991"


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("1234.5", "1234.5"),
        ("-0.25", "-0.25"),
        ("42", "42"),
        (12.25, "12.25"),
        (7, "7"),
        (1e20, "100000000000000000000"),
    ],
)
def test_decimal_reads_strings_and_json_numbers(
    scalars: dict[str, GraphQLScalarType], given: Any, read: str
) -> None:
    assert scalars["Decimal"].parse_value(given) == decimal.Decimal(read)


@pytest.mark.parametrize(
    "given",
    [
        "1e3",
        "+1",
        "1,5",
        "1.",
        ".5",
        "NaN",
        "",
        " 12 ",
        "12\n",
        "\u0663\u0664.\u0665",  # Arabic-Indic digits: digits, but not the scalar's
        "1" * 101,
        True,
        None,
        float("inf"),
    ],
)
def test_decimal_refuses_anything_else(scalars: dict[str, GraphQLScalarType], given: Any) -> None:
    with pytest.raises(ValueError, match="not a decimal number"):
        scalars["Decimal"].parse_value(given)


def test_date_is_a_full_date_only(scalars: dict[str, GraphQLScalarType]) -> None:
    date = scalars["Date"]
    assert date.serialize(dt.date(2026, 11, 23)) == "2026-11-23"
    assert date.parse_value("2026-11-23") == dt.date(2026, 11, 23)
    for given in ("20261123", "2026-W48-1", "2026-11-23T00:00:00", 20261123):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            date.parse_value(given)
    with pytest.raises(ValueError, match="not a date of the calendar"):
        date.parse_value("2026-02-29")


def test_date_time_is_written_in_utc(scalars: dict[str, GraphQLScalarType]) -> None:
    date_time = scalars["DateTime"]
    paris = dt.timezone(dt.timedelta(hours=1))
    assert date_time.serialize(dt.datetime(2026, 11, 23, 10, 30, tzinfo=paris)) == (
        "2026-11-23T09:30:00+00:00"
    )
    assert date_time.serialize(dt.datetime(2026, 11, 23, 9, 30, 0, 250000, tzinfo=dt.UTC)) == (
        "2026-11-23T09:30:00.250000+00:00"
    )
    read = date_time.parse_value("2026-11-23T10:30:00+01:00")
    assert read == dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="no UTC offset"):
        date_time.parse_value("2026-11-23T09:30:00")


def test_json_is_sent_as_is(scalars: dict[str, GraphQLScalarType]) -> None:
    value = {"employees": 250, "segment": "SMB", "tags": ["a"], "ok": None}
    assert scalars["JSON"].serialize(value) == value
    assert scalars["JSON"].parse_value(value) == value
