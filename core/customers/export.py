"""Export customers as CSV or XLSX (``GET /export``), in the columns of the import.

Export streams: rows are read in batches (``yield_per``) and written out as they come, so a
100,000-row export never sits in memory (XLSX, a zip, is written by openpyxl's write-only
mode to a temporary file that spills to disk, then streamed). Everything that can be wrong
with a request is found before the first byte is sent.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import logging
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from graphql.utilities import coerce_input_value, validate_input_value
from openpyxl import Workbook
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.types.arguments import convert_argument

from core.access import require
from core.client_input import JsonInputError, load_json
from core.context import RequestContext
from core.customers.exchange import export_header
from core.customers.models import CustomerTag, Tag
from core.errors import AUTHENTICATION_CODES, ApiError, ApiErrorCode, bad_argument
from core.http import internal_error_response, primed_stream
from core.i18n import _, render
from core.identity.models import User
from core.pagination import order_clauses
from core.spreadsheet import csv_cell, xlsx_cell
from core.text_encoding import (
    EXPORT_CODECS,
    ExportCodec,
    ExportEncoding,
    TextEncodingError,
    export_encoding,
)

EXPORT_BATCH = 1000
SPOOL_BYTES = 8 * 1024 * 1024

logger = logging.getLogger("crm.export")


async def export_rows(context: RequestContext, statement: Any) -> AsyncIterator[list[Any]]:
    """The export's rows (header first), read in batches; date-times in the caller's zone."""
    owner_emails: dict[int, str] = {}
    zone = context.zone
    yield export_header(zone.key)
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
                        .order_by(Tag.name_sort, Tag.id)
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
                    c.created_at.astimezone(zone),
                    c.last_interaction_at and c.last_interaction_at.astimezone(zone),
                ]


async def csv_chunks(
    rows: AsyncIterator[list[Any]], codec: ExportCodec = EXPORT_CODECS[ExportEncoding.UTF_8_BOM]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(codec.bom)  # with the BOM, spreadsheet programs read UTF-8 correctly
    count = 0
    async for row in rows:
        writer.writerow([csv_cell(v) for v in row])
        count += 1
        if count % 500 == 0:
            yield buffer.getvalue().encode(codec.codec)  # GB18030 encodes all of Unicode
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode(codec.codec)


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


async def export_response(
    request: Request,
    fmt: str,
    rows: AsyncIterator[list[Any]],
    encoding: ExportEncoding = ExportEncoding.UTF_8_BOM,
) -> Response:
    """The streamed file, or a JSON 500 (logged with the request id) if even its first
    chunk cannot be made."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    request_id = request.state.request_id
    codec = EXPORT_CODECS[encoding]
    chunks = csv_chunks(rows, codec) if fmt == "csv" else xlsx_chunks(rows)
    try:
        body = await primed_stream(chunks, request_id, logger)
    except Exception:
        logger.exception("export failed before streaming", extra={"request_id": request_id})
        return internal_error_response(request_id)
    media_type = (
        f"text/csv; charset={codec.charset}"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.{fmt}"'},
    )


STATUS_OF_CODE = {
    ApiErrorCode.FORBIDDEN: 403,
    ApiErrorCode.NOT_FOUND: 404,
    ApiErrorCode.SERVICE_BUSY: 503,
}
"""The HTTP status of a refused route by its code (400 for the rest, 401 without a token)."""


def refusal(error: ApiError) -> JSONResponse:
    """An :class:`ApiError` as a route's JSON answer: 401 (no usable token, whatever the
    code says to do about it), 403, 404, 503, or 400 for the rest."""
    status = 401 if error.code in AUTHENTICATION_CODES else STATUS_OF_CODE.get(error.code, 400)
    return error_response(error, status)


def error_response(error: ApiError, status: int) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": render(error.message), "extensions": error.extensions}]},
        status_code=status,
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
            _("{argument}: {reason}", argument=argument, reason=str(exc)),
            ApiErrorCode.BAD_USER_INPUT,
            argument=argument,
        ) from None


async def export_customers(request: Request) -> Response:
    """``GET /export/customers.csv`` or ``.xlsx``: the ``customers`` list, scoped by
    ``customers:export``, filtered by ``filter`` and ordered by ``orderBy`` (JSON, as in
    the query: a list of entries, or one entry)."""
    from core.customers.inputs import CustomerFilter, CustomerOrder
    from core.customers.queries import customer_field_types, customer_statement, order_keys

    state = request.app.state.crm
    fmt = request.path_params["format"]
    context: RequestContext = await state.make_context(request)  # sets the request's language
    if fmt not in ("csv", "xlsx"):
        return error_response(
            ApiError(_("exports come as customers.csv or customers.xlsx"), ApiErrorCode.NOT_FOUND),
            404,
        )
    try:
        require(context, "customers:export")
        filter_value = coerce_input(
            state.schema,
            "CustomerFilter",
            CustomerFilter,
            parse_json_param(request, "filter"),
            "filter",
        )
        order_json = parse_json_param(request, "orderBy")
        entries = order_json if isinstance(order_json, list) else [order_json]
        entries = [entry for entry in entries if entry is not None]
        order_value = [
            coerce_input(
                state.schema,
                "CustomerOrder",
                CustomerOrder,
                entry,
                f"orderBy.{index}" if isinstance(order_json, list) else "orderBy",
            )
            for index, entry in enumerate(entries)
        ]
        keys = order_keys(order_value)
        encoding = _encoding(request)
        field_types = (
            await customer_field_types(context)
            if filter_value is not None and filter_value.custom_fields
            else None
        )
        statement = customer_statement(context, filter_value, "customers:export", field_types)
    except ApiError as error:
        return refusal(error)
    ordered = statement.order_by(*order_clauses(keys))
    request.state.operation = f"export customers.{fmt}"
    return await export_response(request, fmt, export_rows(context, ordered), encoding)


def _encoding(request: Request) -> ExportEncoding:
    """The CSV's encoding, by the ``encoding`` parameter: UTF_8_BOM (the default), UTF_8 or
    GB18030 (the XLSX, a zip of XML, is always UTF-8 inside)."""
    raw = request.query_params.get("encoding")
    if raw is None or not raw.strip():
        return ExportEncoding.UTF_8_BOM
    try:
        return export_encoding(raw)
    except TextEncodingError as exc:
        raise bad_argument("encoding", exc.message) from None
