"""``GET /attachments/<id>?user=&expires=&signature=``: a file, by a signed link.

The link (``Attachment.downloadUrl``) is signed for one user and expires after five
minutes; the user's access to the record the file is on is checked again now, with their
current grants, so a link made before they lost access no longer works (404).
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
from core.identity.callers import caller_for_user


def _gone() -> Response:
    return refusal(ApiError(_("no attachment here that you may download"), ApiErrorCode.NOT_FOUND))


async def download(request: Request) -> Response:
    context: RequestContext = await request.app.state.crm.make_context(request)
    request.state.operation = "attachment download"
    raw_id = request.path_params["attachment_id"]
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return _gone()
    attachment_id = int(raw_id)
    user_id = service.verify_link(
        context.settings.secret_key, attachment_id, request.query_params, context.now()
    )
    if user_id is None:
        return refusal(
            ApiError(
                _("the download link is not valid or has expired: ask for a new one"),
                ApiErrorCode.FORBIDDEN,
            )
        )
    context.caller = await caller_for_user(context.db, catalog_for(context.pm), user_id)
    if context.caller is None:
        return _gone()
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
