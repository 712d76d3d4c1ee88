"""``/graphql`` over HTTP, following the GraphQL-over-HTTP specification.

* POST with ``Content-Type: application/json`` (or ``multipart/form-data`` with files for
  ``Upload`` variables, :mod:`core.multipart`); GET for queries only (a mutation over GET
  is answered 405 with ``Allow: POST``).
* Responds in ``application/graphql-response+json`` when the client accepts it (then a
  request that fails before execution, such as a parse or validation error, is a 400), and
  in ``application/json`` otherwise (always 200 for a well-formed request).
* A multipart request is answered 401 (with ``WWW-Authenticate: Bearer``) without a usable
  bearer token, before any of its body is read; its parts are parsed as they stream in.
* Malformed requests (bad JSON, no query, wrong parameter types) are 400; an unsupported
  body type 415; an unacceptable ``Accept`` 406; an oversized body 413. Each carries
  ``extensions.code`` (:data:`HTTP_ERROR_CODES`). JSON from the client (the body, the
  ``variables`` and ``extensions`` of a GET) is read by
  :func:`core.client_input.load_json`, which turns every way it can fail (too deep, a number
  too long for ``int``, ``NaN``) into such a 400.
* Errors the API raises on purpose keep their message and ``extensions.code``; GraphQL's
  own request errors get one too (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, and
  BAD_USER_INPUT for an argument value that cannot be coerced, such as a string that is no
  global id, named in ``extensions.argument``); anything unexpected
  becomes "Internal error" with the request id, and the log line that carries the
  traceback carries the same id.
* Automatic persisted queries (:mod:`core.persisted`): a request may name its document by
  ``extensions.persistedQuery.sha256Hash`` instead of sending it (also over GET).
* A variable or string literal holding a lone surrogate (``"\\ud800"`` in the JSON) or a
  control character such as NUL is refused before execution, naming the variable (or the
  literal's line and column): such a string is not text a record may hold. These checks,
  and the codes of GraphQL's own request errors, are :mod:`core.request_checks`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from graphql import (
    GraphQLError,
    OperationType,
)
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from strawberry import Schema

from core import persisted
from core.client_input import JsonInputError, load_json
from core.config import Settings
from core.context import RequestContext
from core.errors import ApiError, ApiErrorCode
from core.graphiql import GraphiQL
from core.i18n import render
from core.input_paths import bad_id_argument
from core.json_body import JSONBody, dumps
from core.multipart import MULTIPART_FORM_DATA, MultipartError, caller_context, read_multipart
from core.request_checks import (
    RequestError,
    check_variables,
    parsed,
    request_error_code,
    select_operation,
)
from core.zones import use_zone

logger = logging.getLogger("crm.graphql")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_SUGGESTION = re.compile(r" ?Did you mean .*\?$")

HTTP_ERROR_CODES = {
    400: "BAD_REQUEST",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
"""``extensions.code`` of a request refused before GraphQL runs, by HTTP status."""


def busy_response(error: ApiError) -> JSONBody:
    """The 503 of a request the service was too busy for before GraphQL ran (no database
    connection came free in time): SERVICE_BUSY, which the client answers by trying again."""
    body = {"errors": [{"message": render(error.message), "extensions": dict(error.extensions)}]}
    return JSONBody(body, status_code=503, headers={"Retry-After": "1"})


def internal_error_response(request_id: str) -> JSONBody:
    """The JSON 500 of a request outside GraphQL that failed unexpectedly (log the
    traceback with the same ``request_id``)."""
    error = {
        "message": "Internal error",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
    }
    return JSONBody({"errors": [error]}, status_code=500)


async def primed_stream(
    chunks: AsyncIterator[bytes], request_id: str, log: logging.Logger
) -> AsyncIterator[bytes]:
    """``chunks`` with the first one already made, to hand to a ``StreamingResponse``.

    Whatever making the first chunk raises is raised here, while the response can still be
    an error, rather than after a 200 has gone out; a later failure, which can only cut the
    stream off, is logged to ``log`` with the request id first.
    """
    first = await anext(chunks, b"")

    async def rest() -> AsyncIterator[bytes]:
        yield first
        try:
            async for chunk in chunks:
                yield chunk
        except Exception:
            log.exception("failed while streaming", extra={"request_id": request_id})
            raise

    return rest()


class BadRequest(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _accepted_media_type(accept: str | None) -> str | None:
    """Pick the response media type from an Accept header, by the client's q-values."""
    if not accept:
        return APPLICATION_JSON
    candidates: list[tuple[float, int, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *options = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    quality = float(option[2:])
                except ValueError:
                    quality = 0.0
        media = media.lower()
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            candidates.append((quality, 1, -position, GRAPHQL_RESPONSE_JSON))
        elif media in (APPLICATION_JSON, "application/*", "*/*"):
            candidates.append((quality, 0, -position, APPLICATION_JSON))
    # Higher q wins; on a tie the official GraphQL media type, then the earlier entry.
    return max(candidates)[3] if candidates else None


def _error_response(status: int, message: str, media_type: str, **headers: str) -> Response:
    error: dict[str, Any] = {"message": message}
    if status in HTTP_ERROR_CODES:
        error["extensions"] = {"code": HTTP_ERROR_CODES[status]}
    body = dumps({"errors": [error]})
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _json_param(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = load_json(value)
        except JsonInputError as exc:
            raise BadRequest(400, f"'{name}' {exc.reason}") from None
    if not isinstance(value, dict):
        raise BadRequest(400, f"'{name}' must be a JSON object")
    return value


async def read_body(request: Request, max_body: int) -> bytes:
    """The request body, refused with a 413 :class:`BadRequest` as soon as it is larger
    than ``max_body`` bytes (by its declared length, or while it streams in)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise BadRequest(413, f"request body larger than {max_body} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise BadRequest(413, f"request body larger than {max_body} bytes")
    return bytes(body)


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_params(request: Request, max_body: int, max_upload: int) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    content_type = _content_type(request)
    if content_type == MULTIPART_FORM_DATA:  # files for Upload variables (core.multipart)
        return await read_multipart(request, max_body=max_body + max_upload, max_field=max_body)
    if content_type != APPLICATION_JSON:
        raise BadRequest(415, "POST bodies must be application/json or multipart/form-data")
    body = await read_body(request, max_body)
    try:
        params = load_json(body)
    except JsonInputError as exc:
        raise BadRequest(400, f"the body {exc.reason}") from None
    if not isinstance(params, dict):
        raise BadRequest(400, "the body must be a JSON object")
    return params


class GraphQLEndpoint:
    """The Starlette endpoint for ``/graphql``."""

    def __init__(
        self,
        *,
        schema: Schema,
        settings: Settings,
        make_context: Callable[[Request], Awaitable[RequestContext]],
        persisted_queries: persisted.PersistedQueries | None = None,
        graphiql: GraphiQL | None = None,
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.make_context = make_context
        self.persisted = persisted_queries
        self.graphiql = graphiql

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        finally:
            await request.close()  # a multipart request's files (spooled to disk) go

    async def _handle(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            # A preflight the CORS middleware did not answer (no CRM_CORS_ORIGINS, so no
            # origin is allowed): say which methods exist, allow no origin.
            return Response(status_code=204, headers={"Allow": "GET, POST, OPTIONS"})
        if (
            request.method == "GET"
            and self.graphiql is not None
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return self.graphiql.page()

        media_type = _accepted_media_type(request.headers.get("accept"))
        if media_type is None:
            return _error_response(
                406,
                f"Accept must allow {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}",
                APPLICATION_JSON,
            )
        context: RequestContext | None = None
        try:
            if request.method == "POST" and _content_type(request) == MULTIPART_FORM_DATA:
                # Files are read for a caller only: who calls is settled before the body.
                found = await caller_context(request, self.make_context, media_type)
                if isinstance(found, Response):
                    return found
                context = found
            params = await _read_params(
                request, self.settings.max_body_bytes, self.settings.attachment_max_bytes
            )
            query = params.get("query")
            extensions = _json_param(params.get("extensions"), "extensions")
            try:
                persisted_hash = persisted.requested_hash(extensions)
            except persisted.PersistedQueryError as exc:
                raise BadRequest(400, str(exc)) from None
            register = False
            trusted_only = self.persisted is not None and self.persisted.trusted_only
            if trusted_only and persisted_hash is None:
                raise BadRequest(400, persisted.REQUIRED)
            if persisted_hash is not None:
                if self.persisted is None:
                    body = {"errors": [persisted.NOT_SUPPORTED]}
                    return JSONBody(body, status_code=200, media_type=media_type)
                if query is None or query == "":
                    query = await self.persisted.get(persisted_hash)
                    if query is None:  # the client sends the query with the hash next
                        body = {"errors": [persisted.NOT_FOUND]}
                        return JSONBody(body, status_code=200, media_type=media_type)
                elif isinstance(query, str):
                    try:
                        persisted.check_hash(query, persisted_hash)
                    except persisted.PersistedQueryError as exc:
                        raise BadRequest(400, str(exc)) from None
                    if trusted_only and await self.persisted.get(persisted_hash) is None:
                        raise BadRequest(400, persisted.NOT_REGISTERED)
                    register = True
            if not isinstance(query, str) or not query.strip():
                raise BadRequest(400, "'query' must be a non-empty string")
            operation_name = params.get("operationName")
            if operation_name is not None and not isinstance(operation_name, str):
                raise BadRequest(400, "'operationName' must be a string")
            operation_name = operation_name or None
            variables = _json_param(params.get("variables"), "variables")
            check_variables(variables)
            operation = select_operation(query, operation_name)
            if request.method == "GET" and operation not in (OperationType.QUERY, None):
                raise BadRequest(405, "only queries may be sent with GET", {"Allow": "POST"})
            if operation is OperationType.SUBSCRIPTION and self.schema.subscription:
                # Without a Subscription type, validation explains that there is none.
                raise RequestError("subscriptions are not served over HTTP")
        except BadRequest as exc:
            return _error_response(exc.status, exc.message, media_type, **exc.headers)
        except MultipartError as exc:
            return _error_response(exc.status, exc.message, media_type)
        except RequestError as exc:
            status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
            body = {"errors": [{"message": str(exc), "extensions": exc.extensions}]}
            return JSONBody(body, status_code=status, media_type=media_type)

        if context is None:
            context = await self.make_context(request)
        request.state.operation = operation_name
        with use_zone(context.zone):  # DateTime values are written in the caller's zone
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
            )
        request.state.read_path = context.read_path
        payload: dict[str, Any] = {}
        status = 200
        # A request error (parse, validation, variable coercion) stops before execution:
        # no data entry at all, and a 400 for clients that speak the official media type.
        request_failed = (
            bool(result.errors)
            and result.data is None
            and all(error.path is None for error in result.errors or [])
        )
        if result.errors:
            payload["errors"] = [
                self._format_error(error, context, variables, query) for error in result.errors
            ]
        if request_failed:
            if media_type == GRAPHQL_RESPONSE_JSON:
                status = 400
        else:
            payload["data"] = result.data
        if result.extensions:
            payload["extensions"] = result.extensions
        if register and not request_failed and self.persisted is not None:
            assert persisted_hash is not None
            try:
                await self.persisted.put(persisted_hash, query, context.now())
            except Exception:  # the answer stands; the client sends the query again next time
                logger.exception(
                    "could not store a persisted query", extra={"request_id": context.request_id}
                )
        # The request's loaders, the result and the payload (thousands of objects for a
        # large response) are dropped once the response is sent, not before: freeing them
        # takes a fraction of a millisecond the client need not wait for.
        return JSONBody(
            payload,
            status_code=status,
            media_type=media_type,
            background=BackgroundTask(_drop, context, result, payload),
        )

    def _format_error(
        self,
        error: GraphQLError,
        context: RequestContext,
        variables: dict[str, Any] | None,
        query: str,
    ) -> dict[str, Any]:
        original = error.original_error
        formatted: dict[str, Any] = dict(error.formatted)
        if isinstance(original, ApiError):
            formatted["message"] = render(original.message, context.locale)
            formatted["extensions"] = dict(original.extensions)
            return formatted
        code = request_error_code(error)
        if code is not None:
            if not self.settings.debug:
                formatted["message"] = _SUGGESTION.sub("", formatted["message"])
            formatted["extensions"] = {"code": code.value, **formatted.get("extensions", {})}
            argument = (
                bad_id_argument(error, variables, self.schema._schema, parsed(query))
                if code is ApiErrorCode.BAD_USER_INPUT
                else None
            )
            if argument is not None:
                formatted["message"] = f"{argument}: {formatted['message']}"
                formatted["extensions"]["argument"] = argument
            return formatted
        failed = original or error
        logger.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []) or "request",
            exc_info=(type(failed), failed, failed.__traceback__),
            extra={"request_id": context.request_id},
        )
        formatted["message"] = "Internal error"
        formatted["extensions"] = {
            "code": ApiErrorCode.INTERNAL_SERVER_ERROR.value,
            "requestId": context.request_id,
        }
        return formatted


async def _drop(context: RequestContext, *_held: Any) -> None:
    """Drop the request's loaders (and, with this call, what ``_held`` keeps alive); a
    coroutine, so that Starlette runs it on the event loop, not in a thread."""
    context.release()
