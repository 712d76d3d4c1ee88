"""GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec):
files sent with a mutation, as values of ``Upload`` variables.

A ``multipart/form-data`` POST carries an ``operations`` field (the usual JSON request),
a ``map`` field (which file goes to which variable path, ``{"0": ["variables.input.file"]}``)
and the files. Only a single operation is accepted (no batches).

Against cross-site request forgery, a browser must not be able to send one as a "simple"
request: the request has to carry one of :data:`PREFLIGHT_HEADERS` (as Apollo and
Strawberry ask), which a cross-origin page cannot set without a CORS preflight
(:func:`check_preflight`, before any of the body is read). Files are read for a caller
only: who calls is settled before the body too, and a request without a usable bearer token
is answered 401 unread (:func:`caller_context`).

The body is parsed as it streams in (python-multipart, through Starlette's parser): fields
are held in memory up to a limit, files are spooled to temporary files (on disk past
1 MiB), and the request is refused with a 413 as soon as more than the limit has arrived,
without the rest being read.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.access import NOT_AUTHENTICATED
from core.client_input import JsonInputError, load_json
from core.context import RequestContext
from core.errors import ApiErrorCode
from core.i18n import render

MULTIPART_FORM_DATA = "multipart/form-data"
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name", "graphql-preflight")
MAX_FILES = 10


class MultipartError(Exception):
    """A multipart request that cannot be read: an HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_preflight(request: Request) -> None:
    """Refuse (400) a multipart request without one of :data:`PREFLIGHT_HEADERS`."""
    if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
        raise MultipartError(
            400,
            "multipart requests must carry one of the headers "
            + ", ".join(PREFLIGHT_HEADERS)
            + " (protection against cross-site requests)",
        )


async def caller_context(
    request: Request, make_context: Callable[[Request], Awaitable[RequestContext]], media_type: str
) -> RequestContext | Response:
    """The context of a multipart request's caller, settled before any of its body is read;
    without a usable bearer token, the 401 that answers it (in ``media_type``).

    :raises MultipartError: without one of :data:`PREFLIGHT_HEADERS` (400).
    """
    check_preflight(request)
    context = await make_context(request)
    if context.caller is None:
        return unauthenticated(context, media_type)
    return context


def unauthenticated(context: RequestContext, media_type: str) -> Response:
    """The 401 of a multipart request without a usable bearer token, answered before any of
    its body is read: why (no token, expired, revoked...) and its code."""
    code = context.auth_code or ApiErrorCode.UNAUTHENTICATED
    message = render(context.auth_error or NOT_AUTHENTICATED, context.locale)
    error = {"message": message, "extensions": {"code": code.value}}
    return JSONResponse(
        {"errors": [error]},
        status_code=401,
        media_type=media_type,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _too_large(max_body: int) -> MultipartError:
    return MultipartError(413, f"request body larger than {max_body} bytes")


async def _limited(request: Request, max_body: int) -> AsyncGenerator[bytes, None]:
    """The request body's chunks as they arrive, stopping with a 413 past ``max_body``."""
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_body:
            raise _too_large(max_body)
        yield chunk


async def read_multipart(request: Request, *, max_body: int, max_field: int) -> dict[str, Any]:
    """The request's parameters (``query``, ``variables``...) with each file put in place,
    parsed while the body streams in.

    The files stay open on ``request`` until ``request.close()``.

    :param max_body: the most bytes the whole body may hold (413 past it, by its declared
        length or as soon as more has arrived).
    :param max_field: the most bytes a field that is not a file (``operations``) may hold.
    """
    check_preflight(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise _too_large(max_body)
    parser = MultiPartParser(
        request.headers,
        _limited(request, max_body),
        max_files=MAX_FILES,
        max_fields=MAX_FILES + 2,
        max_part_size=max_field,
    )
    try:
        form = await parser.parse()  # on any failure, the files it opened are closed
    except MultiPartException as exc:
        raise MultipartError(400, f"the multipart body cannot be read: {exc.message}") from None
    except (ValueError, KeyError) as exc:  # a header python-multipart cannot make sense of
        raise MultipartError(400, f"the multipart body cannot be read: {exc}") from None
    request._form = form  # closed (temporary files removed) by ``request.close()``
    operations = _json_field(form.get("operations"), "operations")
    if not isinstance(operations, dict):
        raise MultipartError(400, "'operations' must be a JSON object (batches are not served)")
    files_map = _json_field(form.get("map"), "map")
    if not isinstance(files_map, dict):
        raise MultipartError(400, "'map' must be a JSON object")
    for key, paths in files_map.items():
        upload = form.get(key)
        if not isinstance(upload, UploadFile):
            raise MultipartError(400, f"'map' names the file {key!r}, which was not sent")
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise MultipartError(400, f"'map.{key}' must be a list of variable paths")
        for path in paths:
            _put(operations, path, upload)
    return operations


def _json_field(value: Any, name: str) -> Any:
    if not isinstance(value, str):
        raise MultipartError(400, f"the multipart field '{name}' is missing")
    try:
        return load_json(value)
    except JsonInputError as exc:
        raise MultipartError(400, f"'{name}' {exc.reason}") from None


def _put(operations: dict[str, Any], path: str, upload: UploadFile) -> None:
    """Set the value at ``path`` (``variables.input.file``, ``variables.files.0``), which
    must be there already as ``null``."""
    parts = path.split(".")
    if len(parts) < 2 or parts[0] != "variables":
        raise MultipartError(400, f"'map' path {path!r} must start with 'variables.'")
    holder: Any = operations
    for part in parts[:-1]:
        holder = _step(holder, part, path)
    last = parts[-1]
    if isinstance(holder, dict) and holder.get(last, ...) is None:
        holder[last] = upload
    elif isinstance(holder, list) and _index(last) and int(last) < len(holder):
        if holder[int(last)] is not None:
            raise MultipartError(400, f"'map' path {path!r} must lead to a null")
        holder[int(last)] = upload
    else:
        raise MultipartError(400, f"'map' path {path!r} does not lead to a null variable")


def _step(holder: Any, part: str, path: str) -> Any:
    if isinstance(holder, dict) and isinstance(holder.get(part), dict | list):
        return holder[part]
    if isinstance(holder, list) and _index(part) and int(part) < len(holder):
        return holder[int(part)]
    raise MultipartError(400, f"'map' path {path!r} does not lead to a variable")


def _index(part: str) -> bool:
    """Whether a path part is a list index: ASCII digits (``"²".isdigit()`` is true too)."""
    return part.isascii() and part.isdigit() and len(part) <= 9
