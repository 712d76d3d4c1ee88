"""Import customers from CSV, and the file format import and export share.

The synchronous import (``importCustomers``, at most ``CRM_IMPORT_SYNC_MAX_ROWS`` rows) goes
row by row through the same service functions as the API (same checks, same scope, same
audit), each row in a savepoint so one bad row is reported with its line number without
spoiling the others' checks. If any row fails, or on a dry run, nothing is kept. Larger
files run as a background job (:mod:`core.customers.importing`). The export
(:mod:`core.customers.export`) writes the same columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.context import RequestContext
from core.csv_import import ParsedRow, RowError, read_csv, row_errors
from core.customers import service
from core.customers.inputs import (
    AddressInput,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    CustomerStage,
)
from core.customers.models import Customer, CustomFieldDefinition
from core.errors import ApiError, UserErrorCode, UserErrors
from core.i18n import _
from core.identity.models import User
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


def export_header(zone_name: str, custom_keys: Sequence[str] = ()) -> list[str]:
    """The export's header row: :data:`COLUMNS`, a ``custom:<key>`` column per custom field
    (``custom_keys``) before the date-time ones, which name ``zone_name`` (``created_at
    (Asia/Shanghai)``)."""
    plain = [c for c in COLUMNS if c not in TIME_COLUMNS]
    custom = [f"{CUSTOM_PREFIX}{key}" for key in custom_keys]
    return [*plain, *custom, *(f"{c} ({zone_name})" for c in TIME_COLUMNS)]


CUSTOM_PREFIX = "custom:"
"""The header of a custom field's column: ``custom:<key>``, in the export and the import."""
TRUE_TEXT = {"true", "yes", "1"}
FALSE_TEXT = {"false", "no", "0"}


def custom_cell(value: Any) -> Any:
    """A custom field's value in an exported cell, as the import reads it back: ``true`` or
    ``false``, a number or a date as written, text as it is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str):
        return value
    return str(value)


async def read_custom_text(session: AsyncSession, raw: dict[str, Any]) -> None:
    """Turn the text of a row's BOOLEAN custom fields (``true``/``false``, ``yes``/``no``,
    ``1``/``0``) into booleans in ``raw``, so that an exported file reads back; other text
    is left for the custom field's check to refuse."""
    values = raw.get("custom_fields")
    if not values:
        return
    d = CustomFieldDefinition
    booleans = set(
        (
            await session.scalars(select(d.key).where(d.entity == "CUSTOMER", d.type == "BOOLEAN"))
        ).all()
    )
    for key, value in values.items():
        text = value.strip().lower() if isinstance(value, str) else None
        if key in booleans and text in TRUE_TEXT | FALSE_TEXT:
            values[key] = text in TRUE_TEXT


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
        key.removeprefix(CUSTOM_PREFIX): (value or None)
        for key, value in row.items()
        if key.startswith(CUSTOM_PREFIX)
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


def parse(
    text: str, match_on: Sequence[str], max_rows: int = MAX_IMPORT_ROWS, *, check_text: bool = True
) -> list[ParsedRow]:
    """The rows of CSV ``text`` (header row first), checked as a file: readable CSV, known
    columns, a column for each match key, at most ``max_rows`` rows, and (unless
    ``check_text`` is false: a file checked already) no value that looks mis-decoded.

    :raises UserErrors: on ``csv`` or ``matchOn`` when the file as a whole is unusable.
    """

    def check_header(header: list[str]) -> None:
        missing = [key.lower() for key in match_on if key.lower() not in header]
        if missing:
            raise UserErrors.single(
                "matchOn",
                _("the CSV has no {columns} column to match on", columns=", ".join(missing)),
                UserErrorCode.INVALID,
            )

    return read_csv(
        text,
        columns=IMPORT_COLUMNS,
        max_rows=max_rows,
        too_many_rows=too_many_rows(max_rows),
        extra_column=lambda name: name.startswith("custom:"),
        check_header=check_header,
        check_text=check_text,
    )


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


async def import_row(
    session: AsyncSession,
    context: RequestContext,
    row: dict[str, str | None],
    match_on: Sequence[str],
    result: ImportResult,
) -> None:
    check = Check()
    raw = _row_values(row, check)
    await read_custom_text(session, raw)
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
