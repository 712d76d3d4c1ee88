"""The battlecard as a PDF: ``GET /competitors/{id}/battlecard.pdf`` (``id``: the
competitor's global id), laid out by :mod:`plugins.competitor.pdf_layout`.

Authenticated as the CSV exports are: a bearer token, then ``competitors:read``. A request
without a usable token is answered 401, one without the permission 403, an id that names no
competitor (or is not a competitor's id at all) 404, each as a JSON ``errors`` list with a
code, never a trace. The figures are the caller's: only the encounters they may read count.
The file is named after the competitor (``battlecard-zenith-systems.pdf``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from strawberry import relay

from core.plugin_api import (
    ApiError,
    RequestContext,
    argument_id,
    not_found,
    refusal,
    require,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.pdf_layout import render_pdf
from plugins.competitor.service import battlecard as service
from plugins.competitor.service.battlecard import Battlecard

_ = translator(__name__)
logger = logging.getLogger("crm.competitor.pdf")


def slug(name: str) -> str:
    """The name for a file name: letters and digits, lower case, runs of the rest as one
    hyphen (``Zenith Systems`` -> ``zenith-systems``, ``华信软件`` stays)."""
    normal = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"[\W_]+", "-", normal).strip("-")


def _disposition(card: Battlecard) -> str:
    """``attachment`` with an ASCII file name (the competitor's id when its name has no
    ASCII letters) and the full one encoded as RFC 6266 says."""
    full = slug(card.name) or str(card.competitor_id)
    ascii_slug = re.sub(r"-+", "-", full.encode("ascii", "ignore").decode()).strip("-")
    plain = f"battlecard-{ascii_slug or card.competitor_id}.pdf"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(f'battlecard-{full}.pdf')}"


def _competitor_id(raw: str) -> int:
    """The database id of the path's global id; anything else names no competitor."""
    try:
        found = argument_id(relay.GlobalID.from_id(raw), "Competitor", "id")
    except (ApiError, ValueError, TypeError):
        found = None
    if found is None:
        raise not_found("id", _("no competitor has this id"))
    return found


async def _card(context: RequestContext, raw_id: str) -> Battlecard:
    require(context, declarations.READ)
    competitor_id = _competitor_id(raw_id)
    async with context.db.read() as session:
        card = await service.battlecard(session, context, competitor_id)
    if card is None:
        raise not_found("id", _("no competitor has this id"))
    return card


async def battlecard_pdf(request: Request) -> Response:
    context: RequestContext = await request.app.state.crm.make_context(request)
    request.state.operation = "competitor battlecard.pdf"
    try:
        card = await _card(context, request.path_params["id"])
    except ApiError as error:
        return refusal(error)
    try:
        body = await asyncio.to_thread(render_pdf, card, context.zone, context.locale)
    except Exception:
        request_id = context.request_id
        logger.exception("battlecard failed", extra={"request_id": request_id})
        failure = {
            "message": "Internal error",
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
        }
        return JSONResponse({"errors": [failure]}, status_code=500)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": _disposition(card), "Cache-Control": "no-store"},
    )


ROUTE = Route("/competitors/{id}/battlecard.pdf", battlecard_pdf, methods=["GET"])
"""What ``crm_http_routes`` returns beside the exports."""
