"""GraphQL subscriptions over WebSocket at ``/graphql`` (the graphql-transport-ws protocol).

Strawberry's ASGI view speaks the protocol; this module gives it the service's request
context and authenticates the connection as HTTP requests are, with the access token, sent as
``{"authorization": "Bearer <token>"}`` in the ``connection_init`` payload (browsers cannot
set headers on a WebSocket). A connection without a valid token is closed with 4403 before
any subscription starts. Messages speak the payload's ``acceptLanguage``, else the user's
language, else the deployment's. Cross-origin handshakes are refused unless
``CRM_CORS_ORIGINS`` allows the origin.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from core import i18n
from core.access import AuthenticationError, bearer_token
from core.catalog import Catalog, catalog_for
from core.config import Settings
from core.context import RequestContext
from core.db import Database
from core.errors import ApiError
from core.host import CRMPluginManager
from core.i18n import _

CONNECTION_INIT_SECONDS = 10


class SubscriptionEndpoint(GraphQL[RequestContext, None]):
    """The WebSocket side of ``/graphql``: subscriptions only."""

    def __init__(
        self,
        schema: BaseSchema,
        *,
        settings: Settings,
        db: Database,
        pm: CRMPluginManager,
        catalog: Catalog,
        clock: Callable[[], dt.datetime],
        allowed_origins: Sequence[str],
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=dt.timedelta(seconds=CONNECTION_INIT_SECONDS),
        )
        self.settings = settings
        self.db = db
        self.pm = pm
        self.catalog = catalog
        self.clock = clock
        self.allowed_origins = set(allowed_origins)

    def _check_websocket_origin(self, request: Any) -> bool:
        origin = request.headers.get("origin")
        if origin is None:  # not a browser: nothing to protect against
            return True
        host = request.headers.get("host", "")
        same = origin.split("://", 1)[-1] == host
        return same or origin in self.allowed_origins

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> RequestContext:
        return RequestContext(
            settings=self.settings,
            db=self.db,
            pm=self.pm,
            request=None,
            request_id=uuid.uuid4().hex,
            client_address=request.client.host if request.client else None,
            clock=self.clock,
            connection_params={},
        )

    async def on_ws_connect(self, context: RequestContext) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        try:
            token = _token(context)
            if token is None or self.catalog.identity is None:
                raise ConnectionRejectionError({"message": "an access token is required"})
            context.caller = await self.catalog.identity.authenticate(
                self.db, self.settings, self.catalog, token, context.now()
            )
        except AuthenticationError as exc:
            raise ConnectionRejectionError(
                {"message": str(exc.message), "code": exc.code.value}
            ) from None
        language = params.get("acceptLanguage")
        context.locale = i18n.negotiate(
            language if isinstance(language, str) else None,
            context.caller.locale,
            self.settings.locale,
        )
        return {"userId": context.caller.user_id}


def _token(context: RequestContext) -> str | None:
    params = context.connection_params or {}
    header = params.get("authorization") or params.get("Authorization")
    if header is None and isinstance(params.get("token"), str):
        header = f"Bearer {params['token']}"
    return bearer_token(header if isinstance(header, str) else None)


async def check_signed_in(context: RequestContext) -> None:
    """Check that the connection's token still signs its caller in now, as it would an HTTP
    request: called before each push, so that a subscription ends with its session (logout,
    an expired access token, a deactivated user).

    :raises ApiError: UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_ENDED, with the reason.
    """
    catalog = catalog_for(context.pm)
    try:
        token = _token(context)
        if token is None or catalog.identity is None or context.caller is None:
            raise AuthenticationError(_("this connection is not signed in"))
        caller = await catalog.identity.authenticate(
            context.db, context.settings, catalog, token, context.now()
        )
        if caller.user_id != context.caller.user_id:
            raise AuthenticationError(_("this connection is not signed in"))
    except AuthenticationError as exc:
        raise ApiError(exc.message, exc.code) from None
