"""Reading a CSV file for an import, for core's modules and plugins alike.

:func:`read_csv` checks the file as a whole (readable CSV, a header of known columns, at
most so many rows, no value that looks decoded with the wrong encoding) and hands back its
data rows with their line numbers, values stripped and the export's formula quote taken off
(:mod:`core.spreadsheet`). A row's own problems are :class:`RowError`s: an import reports
every bad row with its line, and keeps nothing if there is one (or on a dry run), as
``importCustomers`` does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import strawberry

from core.errors import ApiError, ApiErrorCode, UserError, UserErrorCode, UserErrors
from core.i18n import Text, _
from core.spreadsheet import unquote
from core.text_encoding import misreading

MAX_REPORTED_MISREADINGS = 10


@strawberry.type(description="A problem with one row of an import.")
class ImportRowError:
    line: int = strawberry.field(description="Line in the CSV (the header is line 1).")
    field: str | None
    message: str
    code: UserErrorCode


@dataclass(frozen=True)
class RowError:
    """A problem with line ``line`` of an imported file (``field`` names its column)."""

    line: int
    field: str | None
    message: str
    code: UserErrorCode

    def to_type(self) -> ImportRowError:
        from core.i18n import render

        return ImportRowError(
            line=self.line, field=self.field, message=render(self.message), code=self.code
        )


@dataclass(frozen=True)
class ParsedRow:
    """One data row of the file: its line and cleaned values, or why it cannot be read."""

    line: int
    values: dict[str, str | None]
    error: RowError | None = None


def row_errors(line: int, exc: UserErrors | ApiError) -> list[RowError]:
    """What refused line ``line`` of an import, as its row errors.

    A record the line names that the caller may not reach is a top-level NOT_FOUND in a
    mutation; in a file it is a fault of that line, reported with it as INVALID like every
    other value. Any other :class:`ApiError` is re-raised.
    """
    if isinstance(exc, UserErrors):
        return [RowError(line, e.field, e.message, e.code) for e in exc.errors]
    argument = exc.extensions.get("argument")
    if exc.code is not ApiErrorCode.NOT_FOUND or not isinstance(argument, str):
        raise exc
    field = argument.removeprefix("input.")
    message = (
        exc.message.params.get("message", exc.message)
        if isinstance(exc.message, Text)
        else exc.message.removeprefix(f"{argument}: ")
    )
    return [RowError(line, field, message, UserErrorCode.INVALID)]


def read_csv(
    text: str,
    *,
    columns: Collection[str],
    max_rows: int,
    too_many_rows: str,
    extra_column: Callable[[str], bool] | None = None,
    check_header: Callable[[list[str]], None] | None = None,
    check_text: bool = True,
) -> list[ParsedRow]:
    """The data rows of CSV ``text`` (header row first), checked as a file.

    :param columns: the column names the import knows (``extra_column`` may accept more,
        such as ``custom:<key>``).
    :param max_rows: the most data rows taken; more is refused with ``too_many_rows``.
    :param check_header: runs on the header after the column check (raise
        :class:`UserErrors` to refuse the file, e.g. for a column that must be present).
    :param check_text: unless false (a file checked already), refuse the file when a
        value looks mis-decoded.
    :raises UserErrors: on ``csv`` when the file as a whole is unusable.
    """
    text = text.lstrip("\ufeff")
    _check_csv(text)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    misread = _misread_values(1, {str(n): h for n, h in enumerate(header, 1)})
    if misread:
        raise UserErrors(misread[:MAX_REPORTED_MISREADINGS])
    if not header:
        raise UserErrors.single(
            "csv", _("the first line must be a header with column names"), UserErrorCode.INVALID
        )
    unknown = [h for h in header if h not in columns and not (extra_column and extra_column(h))]
    if unknown:
        known = ", ".join(sorted(columns))
        if extra_column is not None:
            known += ", custom:<key>"
        raise UserErrors.single(
            "csv",
            _(
                "unknown columns: {columns} (known: {known})",
                columns=", ".join(unknown),
                known=known,
            ),
            UserErrorCode.INVALID,
        )
    if check_header is not None:
        check_header(header)
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    for row in reader:
        line = reader.line_num  # the header is line 1; blank lines are skipped but counted
        if len(rows) >= max_rows:
            raise UserErrors.single("csv", too_many_rows, UserErrorCode.OUT_OF_RANGE)
        if None in row:
            message = _("has more values than the header has columns")
            rows.append(ParsedRow(line, {}, RowError(line, None, message, UserErrorCode.INVALID)))
            continue
        # An exported file reads back as it was: the quote the export put before a
        # formula character (core.spreadsheet) comes off again.
        cleaned = {k: (unquote(v.strip()) if isinstance(v, str) else v) for k, v in row.items()}
        if check_text and len(misread) < MAX_REPORTED_MISREADINGS:
            misread.extend(_misread_values(line, cleaned))
        rows.append(ParsedRow(line, cleaned))
    if misread:
        raise UserErrors(misread[:MAX_REPORTED_MISREADINGS])
    return rows


def _check_csv(text: str) -> None:
    """Refuse text the CSV reader cannot read, naming the line, before any row is imported
    (the reader's own ``csv.Error`` would otherwise reach the client as "Internal error")."""
    reader = csv.reader(io.StringIO(text))
    try:
        for _row in reader:
            pass
    except csv.Error as exc:
        if "new-line character" in str(exc):
            problem = _(
                "a carriage return (\\r) outside quotes; end lines with \\n or \\r\\n and "
                "put values that hold line breaks in double quotes"
            )
        elif "field limit" in str(exc):
            problem = _("a value is longer than {max} characters", max=csv.field_size_limit())
        else:
            problem = _("not valid CSV ({reason})", reason=str(exc))
        raise UserErrors.single(
            "csv",
            _("line {line}: {problem}", line=reader.line_num, problem=problem),
            UserErrorCode.INVALID,
        ) from None


def _misread_values(line: int, values: Mapping[str, str | None]) -> list[UserError]:
    """Values of line ``line`` that look decoded with the wrong encoding (a file refused
    whole: stored, they would be garbage, and the rest of the file is likely garbled too)."""
    found = []
    for column, value in values.items():
        reason = misreading(value) if isinstance(value, str) else None
        if reason is not None:
            found.append(
                UserError(
                    field="csv",
                    message=_(
                        "line {line}, column {column}: {reason}",
                        line=line,
                        column=column,
                        reason=reason,
                    ),
                    code=UserErrorCode.INVALID,
                )
            )
    return found
