"""``GET /attachments/<id>?user=&session=|token=&expires=&signature=``: a file, by a
signed link.

The link (``Attachment.downloadUrl``) is signed for one user and the sign-in of the request
that asked for it (their session, or the API token), and expires after five minutes. At
download time that sign-in is checked again: once the session has ended or the API token
has been revoked or has expired, or the user is deactivated, the link no longer works
(403). Access to the record the file is on is then checked with that sign-in's current
grants (an API token's narrowed to its permissions), so a link made before it lost access
no longer works either (404).
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.attachments import service
from core.catalog import catalog_for
from core.context import RequestContext
from core.errors import ApiError, ApiErrorCode
from core.exports import refusal
from core.i18n import _
from core.identity.callers import caller_for_sign_in


def _gone() -> Response:
    return refusal(ApiError(_("no attachment here that you may download"), ApiErrorCode.NOT_FOUND))


async def download(request: Request) -> Response:
    context: RequestContext = await request.app.state.crm.make_context(request)
    request.state.operation = "attachment download"
    raw_id = request.path_params["attachment_id"]
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return _gone()
    attachment_id = int(raw_id)
    holder = service.verify_link(
        context.settings.secret_key, attachment_id, request.query_params, context.now()
    )
    if holder is not None:
        context.caller = await caller_for_sign_in(
            context.db,
            catalog_for(context.pm),
            holder.user_id,
            context.now(),
            session_id=holder.session_id,
            api_token_id=holder.api_token_id,
        )
    if holder is None or context.caller is None:
        return refusal(
            ApiError(
                _("the download link is not valid or has expired: ask for a new one"),
                ApiErrorCode.FORBIDDEN,
            )
        )
    try:
        async with context.db.read() as session:
            row = await service.readable_attachment(session, context, attachment_id, "id")
        data = await service.store(context).get(row.storage_key)
    except (ApiError, FileNotFoundError):
        return _gone()
    return Response(
        data,
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.name, safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


ROUTE = Route("/attachments/{attachment_id}", download, methods=["GET"])
