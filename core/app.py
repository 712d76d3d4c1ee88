"""The HTTP application: ``/graphql``, ``/healthz``, ``/readyz``, CORS and request logs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry import Schema

from core import i18n, migrate
from core.access import AuthenticationError, bearer_token
from core.catalog import catalog_for
from core.config import IPNetwork, Settings
from core.context import RequestContext
from core.db import Database, utcnow
from core.errors import ApiError, ApiErrorCode
from core.graphiql import ASSETS_PATH, GraphiQL
from core.host import CRMPluginManager, call_in_turn, check_declarations
from core.http import GraphQLEndpoint, busy_response, internal_error_response
from core.i18n import _
from core.persisted import PersistedQueries
from core.subscriptions import SubscriptionEndpoint
from core.worker import Worker

access_log = logging.getLogger("crm.access")
logger = logging.getLogger("crm.app")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestLogMiddleware:
    """Gives each request an id (``X-Request-ID``) and logs one line when it ends.

    The line has the request id, method, path, status, duration, caller and GraphQL
    operation name; never a body or variables, which may hold secrets.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        responded = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if not responded and _busy(error):
                # Before GraphQL ran (authentication's statement found no database connection
                # free): a 503 the client answers by trying again, not a bug.
                logger.warning("service busy", extra={"request_id": request_id})
                await busy_response(error)(scope, receive, send_with_id)
                return
            # A bug in a route (core's or a plugin's) outside GraphQL: logged with the request
            # id, and answered like GraphQL's unexpected errors, unless the response has begun
            # (then all that is left is to cut it off).
            logger.exception("unexpected error", extra={"request_id": request_id})
            if responded:
                raise
            await internal_error_response(request_id)(scope, receive, send_with_id)
        finally:
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "caller": state.get("caller"),
                    "operation": state.get("operation"),
                    "read_path": state.get("read_path"),
                },
            )


def _busy(error: Exception) -> TypeGuard[ApiError]:
    return isinstance(error, ApiError) and error.code is ApiErrorCode.SERVICE_BUSY


def _address(text: str) -> IPAddress | None:
    """An IP address from an ``X-Forwarded-For`` entry (a port or IPv6 brackets allowed)."""
    text = text.strip()
    if text.startswith("["):  # [2001:db8::1]:8080
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # 203.0.113.7:8080
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # An IPv4 peer on a dual-stack socket arrives as ::ffff:10.0.0.1: the same host.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str | None:
    """The client's address: the connection's peer, unless the peer is a trusted proxy.

    Then ``X-Forwarded-For`` (every such header, in order) is walked from the right,
    skipping the hops that are trusted proxies too; the first one that is not is the
    client. An entry that is not an address ends the walk at the last trusted hop, and a
    chain of trusted hops only gives its leftmost. An untrusted peer's header is ignored:
    anyone can send one.
    """
    if peer is None or not trusted:
        return peer

    def is_trusted(address: IPAddress) -> bool:
        return any(address in network for network in trusted)

    current = _address(peer)
    if current is None or not is_trusted(current):
        return peer
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not is_trusted(address):
            break
    return str(current)


def assemble_app(
    *,
    settings: Settings,
    pm: CRMPluginManager,
    db: Database,
    schema: Schema,
    clock: Callable[[], dt.datetime] = utcnow,
) -> Starlette:
    """Assemble the ASGI app around a built schema.

    :param clock: where requests read the time (tests pass a controllable one).
    """
    head_check = migrate.HeadCheck(pm)

    catalog = catalog_for(pm)  # built now: a bad declaration stops startup, not a request
    check_declarations(pm)
    trusted_proxies = settings.trusted_proxy_networks

    async def make_context(request: Request) -> RequestContext:
        context = RequestContext(
            settings=settings,
            db=db,
            pm=pm,
            request=request,
            request_id=request.state.request_id,
            client_address=client_address(
                request.client.host if request.client else None,
                request.headers.getlist("x-forwarded-for"),
                trusted_proxies,
            ),
            clock=clock,
        )
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is not None:
                if catalog.identity is None:
                    raise AuthenticationError(_("this deployment has no identity module"))
                context.caller = await catalog.identity.authenticate(
                    db, settings, catalog, token, context.now()
                )
                request.state.caller = context.caller.label
        except AuthenticationError as exc:
            context.auth_error = exc.message
            context.auth_code = exc.code
        # Accept-Language first, then the user's own language, then the deployment's.
        user_locale = context.caller.locale if context.caller is not None else None
        context.locale = i18n.negotiate(
            request.headers.get("accept-language"), user_locale, settings.locale
        )
        i18n.set_locale(context.locale)
        return context

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        try:
            async with db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            ready = await head_check.at_head(db)
        except Exception as exc:  # any failure to reach the database means not ready
            logger.warning("readiness check failed: %s", exc)
            return JSONResponse(
                {"status": "unavailable", "reason": "database unreachable"}, status_code=503
            )
        if not ready:
            return JSONResponse(
                {"status": "unavailable", "reason": "migrations pending: run `crm migrate`"},
                status_code=503,
            )
        return JSONResponse({"status": "ready"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await call_in_turn(pm.hook.crm_startup, settings=settings, db=db)
        stop = asyncio.Event()
        runner: asyncio.Task[None] | None = None
        if settings.worker_in_process:
            worker = Worker(db=db, settings=settings, pm=pm, clock=clock)
            runner = asyncio.create_task(worker.serve(stop), name="crm-worker")
        try:
            yield {}
        finally:
            stop.set()
            if runner is not None:
                runner.cancel()  # a job in progress is handed back for the next runner
                with contextlib.suppress(asyncio.CancelledError):
                    await runner
            await call_in_turn(pm.hook.crm_shutdown, reverse=True, settings=settings, db=db)
            await db.dispose()

    graphiql = GraphiQL(settings.graphiql_assets) if settings.graphiql_enabled else None
    endpoint = GraphQLEndpoint(
        schema=schema,
        settings=settings,
        make_context=make_context,
        graphiql=graphiql,
        persisted_queries=(
            PersistedQueries(db, trusted_only=settings.persisted_queries == "trusted")
            if settings.persisted_queries != "off"
            else None
        ),
    )
    middleware = [Middleware(RequestLogMiddleware)]
    if settings.cors_origin_list:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origin_list,
                allow_methods=["GET", "POST"],
                allow_headers=CORS_ALLOW_HEADERS,
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        )
    routes: list[BaseRoute] = [
        Route("/graphql", endpoint.handle, methods=["GET", "POST", "OPTIONS"]),
        WebSocketRoute(
            "/graphql",
            SubscriptionEndpoint(
                schema,
                settings=settings,
                db=db,
                pm=pm,
                catalog=catalog,
                clock=clock,
                allowed_origins=settings.cors_origin_list,
            ),
        ),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if graphiql is not None:
        routes.append(Route(ASSETS_PATH + "/{name}", graphiql.asset, methods=["GET"]))
    for contributed in pm.hook.crm_http_routes():
        routes.extend(contributed or ())
    app = Starlette(debug=False, routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.crm = AppState(
        settings=settings, db=db, pm=pm, schema=schema, make_context=make_context, clock=clock
    )
    return app


CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Request-ID",
    # Apollo Client's client awareness and CSRF-prevention headers.
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
    # The other header a multipart upload may carry against cross-site requests.
    "graphql-preflight",
]
"""Request headers a browser app on an allowed origin may send (``CRM_CORS_ORIGINS``)."""


@dataclass(frozen=True)
class AppState:
    """What route handlers of modules reach as ``request.app.state.crm``."""

    settings: Settings
    db: Database
    pm: CRMPluginManager
    schema: Schema
    make_context: Callable[[Request], Awaitable[RequestContext]]
    clock: Callable[[], dt.datetime] = utcnow
