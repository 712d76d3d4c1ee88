"""The test kit's readers of the files the app serves: a list export downloaded as CSV or
XLSX, read back into rows of cells, and those rows as records by column."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import load_workbook

from schema.testkit import Api


def csv_rows(text: str) -> list[list[str]]:
    """The rows of a CSV file's text (its byte order mark, if any, dropped)."""
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))


def xlsx_rows(content: bytes) -> list[list[Any]]:
    """The cell values of an XLSX file's active sheet, row by row."""
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def records(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The rows after the first as dicts keyed by the first row's headers, each header cut
    before a parenthesised note (``"amount (CNY)"``: ``"amount"``)."""
    header = [cell.split(" (")[0] for cell in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def download(api: Api, path: str, **params: Any) -> tuple[int, Any]:
    """GET an export at ``path`` as ``api``'s caller: ``(200, rows)`` (read as XLSX when
    ``path`` ends in ``.xlsx``, else as CSV), or the status and the JSON body of a refusal.
    Each of ``params`` is a query parameter: a string as it is, any other value as JSON."""
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    response = await api.client.get(path, headers=api.headers, params=query)
    if response.status_code != 200:
        return response.status_code, response.json()
    if path.endswith(".xlsx"):
        return 200, xlsx_rows(response.content)
    return 200, csv_rows(response.text)
