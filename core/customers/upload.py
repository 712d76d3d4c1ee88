"""``POST /import/customers``: a CSV file uploaded as it is, started as a background import.

The GraphQL mutation ``startCustomerImport`` takes the file as a string inside a JSON body
(capped by ``CRM_MAX_BODY_BYTES``); this route takes the file's bytes as the body
(``fetch(url, {method: "POST", body: file})``), up to ``CRM_MAX_IMPORT_BYTES``, with
``matchOn`` (comma-separated), ``dryRun`` and ``encoding`` as query parameters. The file is
read as UTF-8, UTF-16 (by its byte-order mark) or GB18030 (:mod:`core.text_encoding`):
found out by itself, or named by the ``encoding`` parameter or the Content-Type's
``charset`` (a file named UTF-16, UTF-16LE or UTF-16BE must start with its mark). It
answers ``202`` with the queued import, to poll with the ``customerImport`` query.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from strawberry import relay

from core.access import require
from core.context import RequestContext
from core.customers import importing
from core.customers.decoding import decode_file
from core.errors import ApiError, ApiErrorCode, UserErrorCode, UserErrors
from core.exports import refusal
from core.http import HTTP_ERROR_CODES, BadRequest, read_body
from core.i18n import _, render
from core.mutations import transact
from core.text_encoding import (
    ImportEncoding,
    TextEncodingError,
    import_encoding,
    names_utf_16,
    require_utf_16_mark,
)

MATCH_KEYS = ("EMAIL", "PHONE", "NUMBER")
STATUS_OF = {UserErrorCode.CONFLICT: 409}


def _errors(status: int, errors: list[dict[str, object]]) -> JSONResponse:
    return JSONResponse({"errors": errors}, status_code=status)


def _refused(field: str, message: str, code: str = ApiErrorCode.BAD_USER_INPUT) -> JSONResponse:
    return _errors(
        400,
        [
            {
                "message": render(_("{argument}: {message}", argument=field, message=message)),
                "extensions": {"code": code, "field": field},
            }
        ],
    )


def _encoding(request: Request) -> tuple[ImportEncoding, bool] | JSONResponse:
    """The encoding the ``encoding`` parameter or the Content-Type's charset names (AUTO if
    neither does; the two must agree), and whether one names UTF-16: read as AUTO reads it,
    the file must then start with a UTF-16 byte-order mark."""
    named = request.query_params.get("encoding")
    charset = None
    for part in request.headers.get("content-type", "").split(";")[1:]:
        key, _sep, value = part.partition("=")
        if key.strip().lower() == "charset":
            charset = value
    found = []
    utf_16 = False
    for in_header, name in ((False, named), (True, charset)):
        if name is None or not name.strip():
            continue
        utf_16 = utf_16 or names_utf_16(name)
        try:
            found.append(import_encoding(name))
        except TextEncodingError as exc:
            problem = exc.message
            if in_header:
                problem = _("the Content-Type charset {problem}", problem=problem)
            return _refused("encoding", problem)
    if len(set(found)) > 1:
        return _refused("encoding", _("names another encoding than the Content-Type's charset"))
    return (found[0] if found else ImportEncoding.AUTO), utf_16


def _options(request: Request) -> tuple[list[str], bool] | JSONResponse:
    raw = request.query_params.get("matchOn") or "EMAIL"
    match_on = [key.strip().upper() for key in raw.split(",") if key.strip()]
    bad = [key for key in match_on if key not in MATCH_KEYS]
    if bad or not match_on:
        return _refused(
            "matchOn", _("give a comma-separated list of {keys}", keys=", ".join(MATCH_KEYS))
        )
    dry = (request.query_params.get("dryRun") or "false").strip().lower()
    if dry not in ("true", "false", "1", "0"):
        return _refused("dryRun", _("must be true or false"))
    return match_on, dry in ("true", "1")


def _require_mark(body: bytes) -> None:
    try:
        require_utf_16_mark(body)
    except TextEncodingError as exc:
        raise UserErrors.single("csv", exc.message, UserErrorCode.INVALID) from None


async def upload_customer_import(request: Request) -> JSONResponse:
    state = request.app.state.crm
    context: RequestContext = await state.make_context(request)
    request.state.operation = "import customers"
    try:
        require(context, "customers:write")
    except ApiError as error:
        return refusal(error)
    options = _options(request)
    if isinstance(options, JSONResponse):
        return options
    match_on, dry_run = options
    named = _encoding(request)
    if isinstance(named, JSONResponse):
        return named
    encoding, utf_16 = named
    try:
        body = await read_body(request, state.settings.max_import_bytes)
    except BadRequest as error:
        code = HTTP_ERROR_CODES.get(error.status, "BAD_REQUEST")
        return _errors(error.status, [{"message": error.message, "extensions": {"code": code}}])
    try:
        if utf_16:
            _require_mark(body)
        text = decode_file(body, encoding, "csv")
        job = await transact(
            context.db,
            lambda session: importing.start_import(session, context, text, match_on, dry_run),
        )
    except ApiError as error:
        return refusal(error)
    except UserErrors as exc:
        status = max(STATUS_OF.get(e.code, 400) for e in exc.errors)
        return _errors(
            status,
            [
                {
                    "message": render(
                        _("{argument}: {message}", argument=e.field, message=e.message)
                        if e.field
                        else e.message
                    ),
                    "extensions": {"code": e.code.value, "field": e.field},
                }
                for e in exc.errors
            ],
        )
    found = {
        "id": relay.to_base64("CustomerImport", job.id),
        "status": job.status,
        "dryRun": dry_run,
        "totalRows": job.state.get("total", 0),
    }
    return JSONResponse({"data": {"customerImport": found}}, status_code=202)
