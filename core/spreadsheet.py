"""Cells that stay data when a spreadsheet program opens an export (CSV/formula injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read
by Excel, LibreOffice and Google Sheets as a formula: a customer named
``=HYPERLINK("http://evil.example","x")`` would become a live link (or a DDE command) on the
screen of whoever opens the export. Following OWASP's guidance on CSV injection, every export
writes such text with a leading single quote, which spreadsheet programs show as text.

Only text is touched: real numbers (an ``int`` or a ``Decimal``, even a negative one) stay
numbers, and text that is a plain signed number (``+12125550100``, ``-5``, ``2.5``) cannot
hold a formula and is written as it is. The import undoes the quote with :func:`unquote`, so
an export read back by the import is lossless: a value that itself starts with quotes before
a formula character gets one more on export, and loses exactly one on import.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The characters that make a spreadsheet program read a text cell as a formula."""

_FORMULA = re.compile(r"'*[=+\-@\t\r]")  # quotes are counted so that unquote() is exact
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def neutralise(value: Any) -> Any:
    """``value`` for a spreadsheet cell: text that would start a formula gets a leading
    ``'``; anything that is not text (numbers, dates, ``None``) comes back unchanged."""
    if not isinstance(value, str) or _PLAIN_NUMBER.fullmatch(value):
        return value
    if _FORMULA.match(value):
        return "'" + value
    return value


def unquote(value: str) -> str:
    """The value :func:`neutralise` was given: one leading ``'`` is dropped when the rest
    starts with (quotes and then) a formula character; any other text is left alone."""
    if value.startswith("'") and _FORMULA.match(value, 1):
        return value[1:]
    return value


def csv_cell(value: Any) -> Any:
    """A CSV cell: dates in ISO 8601 (a date-time with its offset, in the zone it was
    given in), ``None`` empty, text through :func:`neutralise`."""
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    return "" if value is None else neutralise(value)


def xlsx_cell(sheet: Any, value: Any) -> Any:
    """An XLSX cell for a write-only ``sheet``: text is always a string cell (data type
    ``s``), never a formula or an error value such as ``#N/A``, and goes through
    :func:`neutralise`; date-times are written as the local time of the zone they were
    given in, without it (XLSX has no zones: the column's header names it); numbers stay
    numbers."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if not isinstance(value, str):
        return value
    # Control characters XLSX cannot hold would otherwise abort the export half-way.
    cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value)))
    cell.data_type = "s"
    return cell
