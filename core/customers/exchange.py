"""Import customers from CSV; export them as CSV or XLSX.

Import goes row by row through the same service functions as the API (same checks, same
scope, same audit), each row in a savepoint so one bad row is reported with its line number
without spoiling the others' checks. If any row fails, or on a dry run, nothing is kept.

Export streams: rows are read in batches (``yield_per``) and written out as they come, so a
100,000-row export never sits in memory (XLSX, a zip, is written by openpyxl's write-only
mode to a temporary file that spills to disk, then streamed).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import logging
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from graphql.utilities import coerce_input_value, validate_input_value
from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.types.arguments import convert_argument

from core.access import require
from core.context import RequestContext
from core.customers import service
from core.customers.inputs import (
    AddressInput,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    CustomerStage,
)
from core.customers.models import Customer, CustomerTag, Tag
from core.errors import ApiError, ApiErrorCode, UserErrorCode, UserErrors, bad_argument
from core.http import JsonInputError, internal_error_response, load_json, primed_stream
from core.identity.models import User
from core.spreadsheet import csv_cell, unquote, xlsx_cell
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
EXPORT_BATCH = 1000
SPOOL_BYTES = 8 * 1024 * 1024

logger = logging.getLogger("crm.export")


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


# ----------------------------------------------------------------------------- export


async def export_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The export's rows (header first), read in batches."""
    owner_emails: dict[int, str] = {}
    yield list(COLUMNS)
    async with context.db.read() as session:
        result = await session.stream_scalars(statement.execution_options(yield_per=EXPORT_BATCH))
        async for batch in result.partitions(EXPORT_BATCH):
            ids = [c.id for c in batch]
            tags: dict[int, list[str]] = {}
            async with context.db.read() as lookup:
                for customer_id, name in (
                    await lookup.execute(
                        select(CustomerTag.customer_id, Tag.name)
                        .join(Tag, Tag.id == CustomerTag.tag_id)
                        .where(CustomerTag.customer_id.in_(ids))
                        .order_by(Tag.name_key)
                    )
                ).all():
                    tags.setdefault(customer_id, []).append(name)
                missing = {
                    c.owner_id for c in batch if c.owner_id and c.owner_id not in owner_emails
                }
                if missing:
                    for user_id, email in (
                        await lookup.execute(
                            select(User.id, User.email).where(User.id.in_(missing))
                        )
                    ).all():
                        owner_emails[user_id] = email
            for c in batch:
                yield [
                    c.number,
                    c.name,
                    c.kind,
                    c.industry,
                    c.stage,
                    c.grade,
                    c.source,
                    c.phone,
                    c.email,
                    c.website,
                    c.address_line1,
                    c.address_line2,
                    c.city,
                    c.region,
                    c.postal_code,
                    c.country,
                    owner_emails.get(c.owner_id or 0, ""),
                    ";".join(tags.get(c.id, [])),
                    c.created_at,
                    c.last_interaction_at,
                ]


async def csv_chunks(rows: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # spreadsheet programs then read UTF-8 correctly
    count = 0
    async for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_chunks(rows: AsyncIterator[list[Any]]) -> AsyncIterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    try:
        async for row in rows:
            sheet.append([xlsx_cell(sheet, v) for v in row])
    except BaseException:
        # Finish the sheet's half-written temporary file now: left open, it fails later,
        # when the garbage collector closes it.
        with contextlib.suppress(Exception):
            sheet.close()
        raise
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        workbook.save(spool)
        spool.seek(0)
        for chunk in iter(lambda: spool.read(64 * 1024), b""):
            yield chunk


def parse_json_param(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return load_json(raw)
    except JsonInputError as exc:
        raise bad_argument(name, exc.reason) from None


async def export_response(request: Request, fmt: str, rows: AsyncIterator[list[Any]]) -> Response:
    """The streamed file, or a JSON 500 (logged with the request id) if even its first
    chunk cannot be made."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    request_id = request.state.request_id
    chunks = csv_chunks(rows) if fmt == "csv" else xlsx_chunks(rows)
    try:
        body = await primed_stream(chunks, request_id, logger)
    except Exception:
        logger.exception("export failed before streaming", extra={"request_id": request_id})
        return internal_error_response(request_id)
    media_type = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.{fmt}"'},
    )


def error_response(error: ApiError, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": error.message, "extensions": error.extensions}]}, status_code=status
    )


def coerce_input(schema: Any, type_name: str, python_type: Any, value: Any, argument: str) -> Any:
    """Turn a JSON value into the GraphQL input ``type_name`` exactly as a query would."""
    if value is None:
        return None
    problems: list[str] = []

    def on_error(error: GraphQLError, path: Any) -> None:
        where = ".".join(str(p) for p in (path or []))
        problems.append(f"{argument}{'.' + where if where else ''}: {error.message}")

    graphql_type = schema._schema.get_type(type_name)
    validate_input_value(value, graphql_type, on_error, hide_suggestions=True)
    coerced = coerce_input_value(value, graphql_type) if not problems else None
    if problems:
        raise ApiError("; ".join(problems), ApiErrorCode.BAD_USER_INPUT, argument=argument)
    try:
        return convert_argument(
            coerced,
            python_type,
            scalar_registry=schema.schema_converter.scalar_registry,
            config=schema.config,
        )
    except ValueError as exc:  # a scalar that parses late, such as a malformed global id
        raise ApiError(
            f"{argument}: {exc}", ApiErrorCode.BAD_USER_INPUT, argument=argument
        ) from None


async def export_customers(request: Request) -> Response:
    """``GET /export/customers.csv`` or ``.xlsx``: the ``customers`` list, scoped by
    ``customers:export``, filtered by ``filter`` and ordered by ``orderBy`` (JSON, as in
    the query)."""
    from core.customers.inputs import CustomerFilter, CustomerOrder
    from core.customers.queries import customer_field_types, customer_statement, order_keys

    state = request.app.state.crm
    fmt = request.path_params["format"]
    if fmt not in ("csv", "xlsx"):
        return error_response(
            ApiError("exports come as customers.csv or customers.xlsx", ApiErrorCode.NOT_FOUND), 404
        )
    context: RequestContext = await state.make_context(request)
    try:
        require(context, "customers:export")
        filter_value = coerce_input(
            state.schema,
            "CustomerFilter",
            CustomerFilter,
            parse_json_param(request, "filter"),
            "filter",
        )
        order_value = coerce_input(
            state.schema,
            "CustomerOrder",
            CustomerOrder,
            parse_json_param(request, "orderBy"),
            "orderBy",
        )
        field_types = (
            await customer_field_types(context)
            if filter_value is not None and filter_value.custom_fields
            else None
        )
        statement = customer_statement(context, filter_value, "customers:export", field_types)
    except ApiError as error:
        status = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}.get(error.code.value, 400)
        return error_response(error, status)
    keys = order_keys(order_value)
    ordered = statement.order_by(
        *[k.column.desc() if k.descending else k.column.asc() for k in keys]
    )
    request.state.operation = f"export customers.{fmt}"
    return await export_response(request, fmt, export_rows(context, ordered))
