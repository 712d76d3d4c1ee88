"""``/graphql`` over HTTP, following the GraphQL-over-HTTP specification.

* POST with ``Content-Type: application/json``; GET for queries only (a mutation over GET
  is answered 405 with ``Allow: POST``).
* Responds in ``application/graphql-response+json`` when the client accepts it (then a
  request that fails before execution, such as a parse or validation error, is a 400), and
  in ``application/json`` otherwise (always 200 for a well-formed request).
* Malformed requests (bad JSON, no query, wrong parameter types) are 400; an unsupported
  body type 415; an unacceptable ``Accept`` 406; an oversized body 413.
* Errors the API raises on purpose keep their message and ``extensions.code``; anything
  unexpected becomes "Internal error" with the request id, and the log line that carries
  the traceback carries the same id.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from strawberry import Schema
from strawberry.http.ides import get_graphql_ide_html

from core.config import Settings
from core.context import RequestContext
from core.errors import ApiError

logger = logging.getLogger("crm.graphql")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_SUGGESTION = re.compile(r" ?Did you mean .*\?$")


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
    body = json.dumps({"errors": [{"message": message}]})
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _json_param(value: Any, name: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise BadRequest(400, f"'{name}' is not valid JSON") from None
    if not isinstance(value, dict):
        raise BadRequest(400, f"'{name}' must be a JSON object")
    return value


async def _read_params(request: Request, max_body: int) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != APPLICATION_JSON:
        raise BadRequest(415, "POST bodies must be application/json")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise BadRequest(413, f"request body larger than {max_body} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_body:
            raise BadRequest(413, f"request body larger than {max_body} bytes")
    try:
        params = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest(400, "the body is not valid JSON") from None
    if not isinstance(params, dict):
        raise BadRequest(400, "the body must be a JSON object")
    return params


@functools.lru_cache(maxsize=512)
def _parse(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None  # execution reports the syntax error


def _select_operation(query: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation the request runs; ``None`` if the query does not parse.

    Raises :class:`RequestError` when the operation cannot be chosen, as the GraphQL
    specification requires (several operations and no name, an unknown name, none at all).
    """
    document = _parse(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) > 1:
            raise RequestError("Must provide operation name if query contains multiple operations.")
        if not operations:
            raise RequestError("Must provide an operation.")
        return operations[0].operation
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation.operation
    raise RequestError(f"Unknown operation named '{operation_name}'.")


class RequestError(Exception):
    """A well-formed request that cannot run: a GraphQL request error (no data)."""


class GraphQLEndpoint:
    """The Starlette endpoint for ``/graphql``."""

    def __init__(
        self,
        *,
        schema: Schema,
        settings: Settings,
        make_context: Callable[[Request], Awaitable[RequestContext]],
    ) -> None:
        self.schema = schema
        self.settings = settings
        self.make_context = make_context
        self.graphiql_html = get_graphql_ide_html() if settings.graphiql_enabled else None

    async def handle(self, request: Request) -> Response:
        if (
            request.method == "GET"
            and self.graphiql_html is not None
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
        ):
            return HTMLResponse(self.graphiql_html)

        media_type = _accepted_media_type(request.headers.get("accept"))
        if media_type is None:
            return _error_response(
                406,
                f"Accept must allow {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}",
                APPLICATION_JSON,
            )
        try:
            params = await _read_params(request, self.settings.max_body_bytes)
            query = params.get("query")
            if not isinstance(query, str) or not query.strip():
                raise BadRequest(400, "'query' must be a non-empty string")
            operation_name = params.get("operationName")
            if operation_name is not None and not isinstance(operation_name, str):
                raise BadRequest(400, "'operationName' must be a string")
            operation_name = operation_name or None
            variables = _json_param(params.get("variables"), "variables")
            _json_param(params.get("extensions"), "extensions")
            operation = _select_operation(query, operation_name)
            if request.method == "GET" and operation not in (OperationType.QUERY, None):
                raise BadRequest(405, "only queries may be sent with GET", {"Allow": "POST"})
            if operation is OperationType.SUBSCRIPTION and self.schema.subscription:
                # Without a Subscription type, validation explains that there is none.
                raise RequestError("subscriptions are not served over HTTP")
        except BadRequest as exc:
            return _error_response(exc.status, exc.message, media_type, **exc.headers)
        except RequestError as exc:
            status = 400 if media_type == GRAPHQL_RESPONSE_JSON else 200
            return _error_response(status, str(exc), media_type)

        context = await self.make_context(request)
        request.state.operation = operation_name
        result = await self.schema.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
        )
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
            payload["errors"] = [self._format_error(error, context) for error in result.errors]
        if request_failed:
            if media_type == GRAPHQL_RESPONSE_JSON:
                status = 400
        else:
            payload["data"] = result.data
        if result.extensions:
            payload["extensions"] = result.extensions
        return JSONResponse(payload, status_code=status, media_type=media_type)

    def _format_error(self, error: GraphQLError, context: RequestContext) -> dict[str, Any]:
        original = error.original_error
        formatted: dict[str, Any] = dict(error.formatted)
        if original is None or isinstance(original, GraphQLError):
            if not self.settings.debug:
                formatted["message"] = _SUGGESTION.sub("", formatted["message"])
            return formatted
        if isinstance(original, ApiError):
            formatted["message"] = original.message
            formatted["extensions"] = dict(original.extensions)
            return formatted
        logger.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or []) or "request",
            exc_info=(type(original), original, original.__traceback__),
            extra={"request_id": context.request_id},
        )
        formatted["message"] = "Internal error"
        formatted["extensions"] = {
            "code": "INTERNAL_SERVER_ERROR",
            "requestId": context.request_id,
        }
        return formatted
