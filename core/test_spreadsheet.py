"""Spreadsheet cells stay data: text that would start a formula is quoted (OWASP CSV
injection), numbers stay numbers, and the import's unquote() undoes exactly the export's
quote."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from core.spreadsheet import FORMULA_STARTS, csv_cell, neutralise, unquote, xlsx_cell

TRICKY = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+2",
    "\r=1+2",
    "'=already quoted",
    "''+twice",
    "'plain",
    "'",
    "=",
    "-",
    "plain text",
    "",
    "+12125550100",
    "-5",
    "2.5",
    "+1e5",
    "-1-1",
    "+\u0661\u0662",  # Arabic-Indic digits are no plain ASCII number
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+vip", "'+vip"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("'=x", "''=x"),  # so that the import, dropping one quote, gives "'=x" back
        ("'plain", "'plain"),
        ("plain", "plain"),
        (" =x", " =x"),
        ("+12125550100", "+12125550100"),  # a plain signed number holds no formula
        ("-5", "-5"),
        ("-2.5", "-2.5"),
        ("+1e5", "'+1e5"),
        ("-\u0665", "'-\u0665"),
    ],
)
def test_text_that_would_start_a_formula_gets_a_quote(value: str, expected: str) -> None:
    assert neutralise(value) == expected
    assert csv_cell(value) == expected


@pytest.mark.parametrize("value", TRICKY)
def test_unquote_undoes_exactly_what_neutralise_did(value: str) -> None:
    assert unquote(neutralise(value)) == value
    quoted = neutralise(value)
    assert not quoted.startswith(FORMULA_STARTS) or quoted.lstrip("+-").replace(".", "").isdigit()


def test_unquote_drops_one_quote_only_before_a_formula_character() -> None:
    assert unquote("'=SUM(1)") == "=SUM(1)"
    assert unquote("''=SUM(1)") == "'=SUM(1)"
    assert unquote("'plain") == "'plain"
    assert unquote("'") == "'"
    assert unquote("=x") == "=x"


def test_values_that_are_not_text_stay_as_they_are() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    for number in (Decimal("-5.25"), -3, -1.5, 0):
        assert neutralise(number) == number
        assert csv_cell(number) == number
    assert csv_cell(None) == ""
    assert csv_cell(when) == "2026-01-02T03:04:05+00:00"
    assert csv_cell(dt.date(2026, 1, 2)) == "2026-01-02"


def test_xlsx_text_is_a_string_cell_and_numbers_stay_numbers() -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    values = ['=HYPERLINK("http://evil.example","x")', "#N/A", "a\x01b", Decimal("-5.25"), -3, when]
    sheet.append([xlsx_cell(sheet, value) for value in values])
    stream = io.BytesIO()
    workbook.save(stream)

    cells = next(load_workbook(io.BytesIO(stream.getvalue()))["Data"].iter_rows())
    assert [(cell.data_type, cell.value) for cell in cells] == [
        ("s", '\'=HYPERLINK("http://evil.example","x")'),
        ("s", "#N/A"),  # text, not Excel's error value
        ("s", "a\ufffdb"),  # a character XLSX cannot hold no longer aborts the export
        ("n", -5.25),
        ("n", -3),
        ("d", dt.datetime(2026, 1, 2, 3, 4, 5)),
    ]
