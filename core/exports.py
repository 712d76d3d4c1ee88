"""Lists as CSV or XLSX downloads (``GET /export/<name>.csv`` or ``.xlsx``), for core's
modules and plugins alike.

A module describes its list with :class:`ListExport`: the permission it needs, the GraphQL
input types of its ``filter`` and ``orderBy`` (so the query parameters mean exactly what the
list's arguments mean), the statement of the rows the caller may export, and the rows
themselves (header first). :func:`export_route` serves it.

Export streams: rows are read in batches and written out as they come, so a 100,000-row
export never sits in memory (XLSX, a zip, is written by openpyxl's write-only mode to a
temporary file that spills to disk, then streamed). Everything that can be wrong with a
request is found before the first byte is sent.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError
from graphql.utilities import coerce_input_value, validate_input_value
from openpyxl import Workbook
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from strawberry.types.arguments import convert_argument

from core.access import require
from core.client_input import JsonInputError, load_json
from core.context import RequestContext
from core.errors import AUTHENTICATION_CODES, ApiError, ApiErrorCode, bad_argument
from core.http import internal_error_response, primed_stream
from core.i18n import _, render
from core.ordering import SortKey
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
"""Rows an export reads from the database at a time."""
SPOOL_BYTES = 8 * 1024 * 1024

logger = logging.getLogger("crm.export")


@dataclass(frozen=True)
class ListExport:
    """A list offered as a CSV/XLSX download at ``/export/<name>.csv`` and ``.xlsx``.

    :param name: the file's name and the route's (``orders`` serves ``/export/orders.csv``).
    :param permission: what the caller needs (the statement scopes the rows by it); ``None``
        when the statement checks the caller's access itself (a list that more than one
        permission opens).
    :param filter_input: the GraphQL input type of the list's ``filter`` and its Python class.
    :param order_input: the same for one ``orderBy`` entry, or ``None`` for a list without
        one (the ``orderBy`` parameter takes one entry or a list, as in the query).
    :param statement: ``async (context, filter or None, order entries) -> (statement, sort
        keys)``: the rows the caller may export, filtered, and the keys to order them by (a
        list's ``ListOrder.keys(order_entries)``, as the list orders its pages); raise
        :class:`ApiError` for a bad argument.
    :param rows: ``(context, statement) -> rows``: the header, then one list of cells per
        row. Read in batches of :data:`EXPORT_BATCH` (``stream_scalars`` with ``yield_per``)
        and give date-times in ``context.zone``.
    """

    name: str
    permission: str | None
    filter_input: tuple[str, type[Any]]
    order_input: tuple[str, type[Any]] | None
    statement: Callable[[RequestContext, Any, list[Any]], Awaitable[tuple[Any, Sequence[SortKey]]]]
    rows: Callable[[RequestContext, Any], AsyncIterator[list[Any]]]


def export_route(export: ListExport) -> Route:
    """The route serving ``export`` (hand it to ``crm_http_routes``)."""

    async def endpoint(request: Request) -> Response:
        return await _serve(request, export)

    return Route(f"/export/{export.name}.{{format:str}}", endpoint, methods=["GET"])


async def _serve(request: Request, export: ListExport) -> Response:
    state = request.app.state.crm
    fmt = request.path_params["format"]
    context: RequestContext = await state.make_context(request)  # sets the request's language
    if fmt not in ("csv", "xlsx"):
        message = _("exports come as {name}.csv or {name}.xlsx", name=export.name)
        return error_response(ApiError(message, ApiErrorCode.NOT_FOUND), 404)
    try:
        if export.permission is not None:
            require(context, export.permission)
        filter_name, filter_type = export.filter_input
        filter_value = coerce_input(
            state.schema, filter_name, filter_type, parse_json_param(request, "filter"), "filter"
        )
        order_value: list[Any] = []
        if export.order_input is not None:
            order_name, order_type = export.order_input
            order_json = parse_json_param(request, "orderBy")
            entries = order_json if isinstance(order_json, list) else [order_json]
            order_value = [
                coerce_input(
                    state.schema,
                    order_name,
                    order_type,
                    entry,
                    f"orderBy.{index}" if isinstance(order_json, list) else "orderBy",
                )
                for index, entry in enumerate(entries)
                if entry is not None
            ]
        encoding = _encoding(request)
        statement, keys = await export.statement(context, filter_value, order_value)
    except ApiError as error:
        return refusal(error)
    request.state.operation = f"export {export.name}.{fmt}"
    ordered = statement.order_by(*order_clauses(keys))
    return await export_response(
        request, context, export.name, fmt, export.rows(context, ordered), encoding
    )


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


async def xlsx_chunks(rows: AsyncIterator[list[Any]], title: str) -> AsyncIterator[bytes]:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
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
    context: RequestContext,
    name: str,
    fmt: str,
    rows: AsyncIterator[list[Any]],
    encoding: ExportEncoding = ExportEncoding.UTF_8_BOM,
) -> Response:
    """The streamed file ``<name>-<time>.<fmt>`` (the request's time in the caller's zone),
    or a JSON 500 (logged with the request id) if even its first chunk cannot be made."""
    stamp = context.now().astimezone(context.zone).strftime("%Y%m%d-%H%M%S")
    request_id = request.state.request_id
    codec = EXPORT_CODECS[encoding]
    chunks = csv_chunks(rows, codec) if fmt == "csv" else xlsx_chunks(rows, name.capitalize())
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
        headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.{fmt}"'},
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
