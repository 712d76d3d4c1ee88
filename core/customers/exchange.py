"""Import customers from CSV, and the file format import and export share.

The synchronous import (``importCustomers``, at most ``CRM_IMPORT_SYNC_MAX_ROWS`` rows) goes
row by row through the same service functions as the API (same checks, same scope, same
audit), each row in a savepoint so one bad row is reported with its line number without
spoiling the others' checks. If any row fails, or on a dry run, nothing is kept. Larger
files run as a background job (:mod:`core.customers.importing`). The export
(:mod:`core.customers.export`) writes the same columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.context import RequestContext
from core.customers import service
from core.customers.inputs import (
    AddressInput,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    CustomerStage,
)
from core.customers.models import Customer
from core.errors import ApiError, ApiErrorCode, UserError, UserErrorCode, UserErrors
from core.i18n import Text, _
from core.identity.models import User
from core.spreadsheet import unquote
from core.text_encoding import misreading
from core.validation import Check

COLUMNS = [
    "number",
    "name",
    "kind",
    "industry",
    "stage",
    "grade",
    "source",
    "phone",
    "email",
    "website",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "owner_email",
    "tags",
    "created_at",
    "last_interaction_at",
]
IMPORT_COLUMNS = set(COLUMNS) - {"created_at", "last_interaction_at"}
TIME_COLUMNS = ("created_at", "last_interaction_at")
"""Exported date-times: local times of the caller's zone, which their header names."""


def export_header(zone_name: str) -> list[str]:
    """The export's header row: :data:`COLUMNS`, the date-time ones naming ``zone_name``
    (``created_at (Asia/Shanghai)``)."""
    return [f"{c} ({zone_name})" if c in TIME_COLUMNS else c for c in COLUMNS]


ENUMS: dict[str, Any] = {
    "kind": CustomerKind,
    "stage": CustomerStage,
    "grade": CustomerGrade,
    "source": CustomerSource,
}
# Address columns of the file (and of the customers table) -> parts of ``AddressInput``.
ADDRESS_PARTS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "city": "city",
    "region": "region",
    "postal_code": "postal_code",
    "country": "country",
}
MAX_IMPORT_ROWS = 50_000
MAX_REPORTED_MISREADINGS = 10


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    message: str
    code: UserErrorCode


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def imported(self) -> bool:
        return not self.dry_run and not self.errors


def _row_values(row: Mapping[str, str | None], check: Check) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in ("name", "industry", "phone", "email", "website"):
        if key in row:
            raw[key] = row[key] or None
    for key, enum_type in ENUMS.items():
        value = (row.get(key) or "").strip().upper()
        if value:
            try:
                raw[key] = enum_type(value)
            except ValueError:
                allowed = ", ".join(member.value for member in enum_type)
                check.fail(
                    key, _("must be one of {allowed}", allowed=allowed), UserErrorCode.INVALID
                )
    if any(key in row for key in ADDRESS_PARTS):
        # A part the file has no column for stays as it is (UNSET); an empty cell clears it.
        raw["address"] = AddressInput(
            **{
                part: (row.get(column) or None) if column in row else UNSET
                for column, part in ADDRESS_PARTS.items()
            }
        )
    custom = {
        key.removeprefix("custom:"): (value or None)
        for key, value in row.items()
        if key.startswith("custom:")
    }
    if custom:
        raw["custom_fields"] = custom
    return raw


async def _match(
    session: AsyncSession,
    context: RequestContext,
    match_on: Sequence[str],
    row: Mapping[str, str | None],
) -> Customer | None:
    """The existing customer the row names by the first match key it has a value for."""
    for key in match_on:
        found = await _match_one(session, context, key, row)
        if found is not None:
            return found
    return None


def match_key(
    context: RequestContext, match_on: str, row: Mapping[str, str | None]
) -> tuple[Any, str] | None:
    """The column and the normalised value that ``row`` is matched on by ``match_on``
    (``EMAIL``, ``PHONE`` or ``NUMBER``), or ``None`` if the row has no such value."""
    value = (row.get(match_on.lower()) or "").strip()
    if not value:
        return None
    check = Check()
    if match_on == "EMAIL":
        return Customer.email, check.email("email", value) or value
    if match_on == "PHONE":
        return Customer.phone, (
            check.phone("phone", value, region=context.settings.default_region) or value
        )
    return Customer.number, value.upper()


async def _match_one(
    session: AsyncSession, context: RequestContext, match_on: str, row: Mapping[str, str | None]
) -> Customer | None:
    key = match_key(context, match_on, row)
    if key is None:
        return None
    column, value = key
    return await session.scalar(
        select(Customer).where(
            column == value,
            Customer.archived_at.is_(None),
            context.visible("customers:read", "customers"),
        )
    )


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


@dataclass(frozen=True)
class ParsedRow:
    """One data row of the file: its line and cleaned values, or why it cannot be read."""

    line: int
    values: dict[str, str | None]
    error: RowError | None = None


def parse(
    text: str, match_on: Sequence[str], max_rows: int = MAX_IMPORT_ROWS, *, check_text: bool = True
) -> list[ParsedRow]:
    """The rows of CSV ``text`` (header row first), checked as a file: readable CSV, known
    columns, a column for each match key, at most ``max_rows`` rows, and (unless
    ``check_text`` is false: a file checked already) no value that looks mis-decoded.

    :raises UserErrors: on ``csv`` or ``matchOn`` when the file as a whole is unusable.
    """
    text = text.lstrip("\ufeff")
    _check_csv(text)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    misread = _misread_values(1, {str(n): h for n, h in enumerate(header, 1)})
    if misread:
        raise UserErrors(misread[:MAX_REPORTED_MISREADINGS])
    unknown = [h for h in header if h not in IMPORT_COLUMNS and not h.startswith("custom:")]
    if not header:
        raise UserErrors.single(
            "csv", _("the first line must be a header with column names"), UserErrorCode.INVALID
        )
    if unknown:
        raise UserErrors.single(
            "csv",
            _(
                "unknown columns: {columns} (known: {known}, custom:<key>)",
                columns=", ".join(unknown),
                known=", ".join(sorted(IMPORT_COLUMNS)),
            ),
            UserErrorCode.INVALID,
        )
    missing = [key.lower() for key in match_on if key.lower() not in header]
    if missing:
        raise UserErrors.single(
            "matchOn",
            _("the CSV has no {columns} column to match on", columns=", ".join(missing)),
            UserErrorCode.INVALID,
        )
    reader.fieldnames = header
    rows: list[ParsedRow] = []
    for row in reader:
        line = reader.line_num  # the header is line 1; blank lines are skipped but counted
        if len(rows) >= max_rows:
            raise UserErrors.single("csv", too_many_rows(max_rows), UserErrorCode.OUT_OF_RANGE)
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


def too_many_rows(max_rows: int) -> str:
    if max_rows >= MAX_IMPORT_ROWS:
        return _("has more than {max} rows; split it into several imports", max=MAX_IMPORT_ROWS)
    return _(
        "has more than {max} rows, the most importCustomers takes in one request "
        "(CRM_IMPORT_SYNC_MAX_ROWS); start a background import (startCustomerImport) instead",
        max=max_rows,
    )


async def import_customers(
    session: AsyncSession,
    context: RequestContext,
    text: str,
    match_on: Sequence[str],
    dry_run: bool,
) -> ImportResult:
    """Create or update customers from CSV ``text`` in the caller's transaction, at most
    ``CRM_IMPORT_SYNC_MAX_ROWS`` rows (larger files go through the background job of
    :mod:`core.customers.importing`)."""
    result = ImportResult(dry_run=dry_run)
    for row in parse(text, match_on, context.settings.import_sync_max_rows):
        if row.error is not None:
            result.errors.append(row.error)
            continue
        try:
            async with session.begin_nested():
                await import_row(session, context, row.values, match_on, result)
        except (UserErrors, ApiError) as exc:
            result.errors.extend(row_errors(row.line, exc))
    return result


def row_errors(line: int, exc: UserErrors | ApiError) -> list[RowError]:
    """What refused line ``line`` of an import, as its row errors.

    A record the line names that the caller may not reach (an owner out of scope) is a
    top-level NOT_FOUND in a mutation; in a file it is a fault of that line, reported with it
    as INVALID like every other value. Any other :class:`ApiError` is re-raised.
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


async def import_row(
    session: AsyncSession,
    context: RequestContext,
    row: dict[str, str | None],
    match_on: Sequence[str],
    result: ImportResult,
) -> None:
    check = Check()
    raw = _row_values(row, check)
    owner_id = None
    owner_email = row.get("owner_email")
    if owner_email:
        owner_id = await session.scalar(select(User.id).where(User.email == owner_email.lower()))
        if owner_id is None:
            check.fail("owner_email", _("no user has this email"), UserErrorCode.INVALID)
    tags = [t.strip() for t in (row.get("tags") or "").split(";") if t.strip()]
    existing = await _match(session, context, match_on, row)
    if existing is None:
        # One check for the row and the service: every problem of the line at once.
        await service.create_customer(session, context, raw, owner_id, tags, check)
        result.created += 1
        return
    check.done()
    if owner_id is not None:
        raw["owner_id"] = owner_id
    await service.update_customer(session, context, existing.id, existing.version, raw)
    if tags:
        await service.tag_customers(session, context, [existing.id], tags)
    result.updated += 1
