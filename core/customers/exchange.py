"""Import customers from CSV, and the file format import and export share.

Import goes row by row through the same service functions as the API (same checks, same
scope, same audit), each row in a savepoint so one bad row is reported with its line number
without spoiling the others' checks. If any row fails, or on a dry run, nothing is kept.
The export (:mod:`core.customers.export`) writes the same columns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
from core.errors import UserErrorCode, UserErrors
from core.identity.models import User
from core.spreadsheet import unquote
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
                check.fail(key, f"must be one of {allowed}", UserErrorCode.INVALID)
    if any(key in row for key in ADDRESS_PARTS):
        raw["address"] = AddressInput(
            line1=row.get("address_line1") or None,
            line2=row.get("address_line2") or None,
            city=row.get("city") or None,
            region=row.get("region") or None,
            postal_code=row.get("postal_code") or None,
            country=row.get("country") or None,
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


async def _match_one(
    session: AsyncSession, context: RequestContext, match_on: str, row: Mapping[str, str | None]
) -> Customer | None:
    value = (row.get(match_on.lower()) or "").strip()
    if not value:
        return None
    check = Check()
    column: Any
    if match_on == "EMAIL":
        value = check.email("email", value) or value
        column = Customer.email
    elif match_on == "PHONE":
        value = check.phone("phone", value, region=context.settings.default_region) or value
        column = Customer.phone
    else:
        value = value.upper()
        column = Customer.number
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
            problem = (
                "a carriage return (\\r) outside quotes; end lines with \\n or \\r\\n and "
                "put values that hold line breaks in double quotes"
            )
        elif "field limit" in str(exc):
            problem = f"a value is longer than {csv.field_size_limit()} characters"
        else:
            problem = f"not valid CSV ({exc})"
        raise UserErrors.single(
            "csv", f"line {reader.line_num}: {problem}", UserErrorCode.INVALID
        ) from None


async def import_customers(
    session: AsyncSession,
    context: RequestContext,
    text: str,
    match_on: Sequence[str],
    dry_run: bool,
    progress: Any = None,
) -> ImportResult:
    """Create or update customers from CSV ``text`` (header row first)."""
    result = ImportResult(dry_run=dry_run)
    _check_csv(text.lstrip("\ufeff"))
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in IMPORT_COLUMNS and not h.startswith("custom:")]
    if not header:
        raise UserErrors.single(
            "csv", "the first line must be a header with column names", UserErrorCode.INVALID
        )
    if unknown:
        raise UserErrors.single(
            "csv",
            f"unknown columns: {', '.join(unknown)} "
            f"(known: {', '.join(sorted(IMPORT_COLUMNS))}, custom:<key>)",
            UserErrorCode.INVALID,
        )
    missing = [key.lower() for key in match_on if key.lower() not in header]
    if missing:
        raise UserErrors.single(
            "matchOn",
            f"the CSV has no {', '.join(missing)} column to match on",
            UserErrorCode.INVALID,
        )
    reader.fieldnames = header
    for index, row in enumerate(reader):
        line = reader.line_num  # the header is line 1; blank lines are skipped but counted
        if index >= MAX_IMPORT_ROWS:
            result.errors.append(
                RowError(
                    line,
                    None,
                    f"at most {MAX_IMPORT_ROWS} rows per import",
                    UserErrorCode.OUT_OF_RANGE,
                )
            )
            break
        if None in row:
            result.errors.append(
                RowError(
                    line, None, "has more values than the header has columns", UserErrorCode.INVALID
                )
            )
            continue
        # An exported file reads back as it was: the quote the export put before a
        # formula character (core.spreadsheet) comes off again.
        cleaned = {k: (unquote(v.strip()) if isinstance(v, str) else v) for k, v in row.items()}
        try:
            async with session.begin_nested():
                await _import_row(session, context, cleaned, match_on, result)
        except UserErrors as exc:
            result.errors.extend(RowError(line, e.field, e.message, e.code) for e in exc.errors)
        if progress is not None:
            progress(1)
    return result


async def _import_row(
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
            check.fail("owner_email", "no user has this email", UserErrorCode.NOT_FOUND)
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
    address = raw.get("address")
    if address is not None:
        # The address is replaced as a whole: keep the parts the file has no column for.
        for column, part in ADDRESS_PARTS.items():
            if column not in row:
                setattr(address, part, getattr(existing, column))
    await service.update_customer(session, context, existing.id, existing.version, raw)
    if tags:
        await service.tag_customers(session, context, [existing.id], tags)
    result.updated += 1
