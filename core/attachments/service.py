"""The attachments' rules: attach, list, sign download links, delete, erase, merge.

The record a file is attached to decides who may see and change it (:mod:`.targets`).
A file's bytes go to the store before its row is written; a failed transaction removes
them again. Deleting rows queues, in the same transaction, a job that removes their bytes
once it has committed (:mod:`.jobs`), so a rolled-back deletion keeps every file whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from core import audit
from core.access import actor_of, require
from core.attachments.content import ContentRefused, content_type_of
from core.attachments.jobs import enqueue_purge
from core.attachments.models import Attachment
from core.attachments.storage import AttachmentStore, new_key, store_for
from core.attachments.targets import AttachmentTarget
from core.context import RequestContext
from core.errors import ApiError, ApiErrorCode, UserErrorCode, not_found
from core.host import CRMPluginManager, PluginError
from core.i18n import _
from core.validation import Check

logger = logging.getLogger("crm.attachments")

LINK_LIFETIME = dt.timedelta(minutes=5)
MAX_NAME = 255
MAX_NOTE = 500


def targets(pm: CRMPluginManager) -> dict[str, AttachmentTarget]:
    """Every module's attachment targets, by GraphQL type name."""
    merged: dict[str, AttachmentTarget] = {}
    for answer in pm.hook.crm_attachment_targets():
        for name, target in answer.items():
            if name in merged:
                raise PluginError(f"two modules declare the attachment target {name!r}")
            merged[name] = target
    return merged


def store(context: RequestContext) -> AttachmentStore:
    return store_for(context.settings)


def target_not_found(field: str) -> ApiError:
    return not_found(field, _("no record with this id that you may see"))


async def attach(
    session: AsyncSession,
    context: RequestContext,
    target_type: str,
    target_id: int,
    upload: Any,
    note: str | None,
) -> Attachment:
    """Attach ``upload`` to a record the caller may change.

    :raises ApiError: NOT_FOUND (``input.targetId``) for a record the caller cannot see,
        FORBIDDEN for one they see but may not change.
    :raises UserErrors: on ``input.file`` (too large, a kind not allowed, a name that
        disagrees with the content) and ``input.note`` (too long).
    """
    caller = require(context)
    target = targets(context.pm).get(target_type)
    if target is None or await target.readable(session, context, target_id) is None:
        raise target_not_found("input.targetId")
    customer_id = await target.writable(session, context, target_id)
    if customer_id is None:
        raise ApiError(_("you may not change the files of this record"), ApiErrorCode.FORBIDDEN)
    check = Check()
    if not isinstance(upload, UploadFile):
        check.fail("file", _("must be an uploaded file"), UserErrorCode.INVALID)
        check.done()
    assert isinstance(upload, UploadFile)
    limit = context.settings.attachment_max_bytes
    data = await upload.read(limit + 1)
    name = (upload.filename or "").strip().replace("\\", "/").rsplit("/", 1)[-1]
    content_type = ""
    if len(data) > limit:
        check.fail(
            "file",
            _("the file is larger than {limit} bytes", limit=limit),
            UserErrorCode.OUT_OF_RANGE,
        )
    elif not data:
        check.fail("file", _("the file is empty"), UserErrorCode.REQUIRED)
    elif not name or len(name) > MAX_NAME or not name.isprintable():
        check.fail(
            "file",
            _("the file needs a name of 1 to 255 printable characters"),
            UserErrorCode.INVALID,
        )
    else:
        try:
            content_type = content_type_of(name, data)
        except ContentRefused as exc:
            check.fail("file", exc.args[0], UserErrorCode.INVALID)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        check.fail("note", _("at most {n} characters", n=MAX_NOTE), UserErrorCode.TOO_LONG)
    check.done()
    row = Attachment(
        target_type=target_type,
        target_id=target_id,
        customer_id=customer_id,
        name=name,
        content_type=content_type,
        size=len(data),
        storage_key=new_key(),
        note=note,
        uploader_id=caller.user_id,
        created_at=context.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "attachment.created",
        "attachment",
        row.id,
        {"target": f"{target_type}:{target_id}", "name": name, "size": len(data)},
    )
    try:
        await store(context).put(row.storage_key, data, content_type)
    except BaseException:
        # A partly written object goes too (at once: this transaction is still open).
        with contextlib.suppress(Exception):
            await store(context).delete(row.storage_key)
        raise
    return row


async def _delete_stored(context: RequestContext, keys: Sequence[str], then: str) -> list[str]:
    """Delete the stored bytes of ``keys`` now; the keys whose deletion failed (each logged,
    saying what happens ``then``)."""
    failed: list[str] = []
    for key in keys:
        try:
            await store(context).delete(key)
        except Exception:
            logger.warning(
                "could not remove the stored file %s; %s",
                key,
                then,
                exc_info=True,
                extra={"request_id": context.request_id},
            )
            failed.append(key)
    return failed


async def discard(context: RequestContext, keys: Sequence[str]) -> None:
    """Remove the stored bytes of rows whose transaction rolled back.

    Never raises: a store that fails is logged, and the removal is queued as a purge job
    in a transaction of its own, so the caller's own outcome (its error) stands.
    """
    failed = await _delete_stored(context, keys, "a purge job will retry")
    if failed:
        try:
            async with context.db.transaction() as session:
                await enqueue_purge(session, context, failed)
        except Exception:
            logger.exception(
                "could not queue the removal of the stored files %s",
                ", ".join(failed),
                extra={"request_id": context.request_id},
            )


async def remove_committed(context: RequestContext, keys: Sequence[str]) -> None:
    """Remove at once the bytes of rows whose deletion has committed (a purge job was
    queued with it). Never raises: a store that fails is logged and the job retries."""
    await _delete_stored(context, keys, "its purge job will retry")


async def readable_attachment(
    session: AsyncSession, context: RequestContext, attachment_id: int | None, field: str
) -> Attachment:
    """An attachment whose record the caller may read (NOT_FOUND at ``field`` otherwise)."""
    row = None
    if attachment_id is not None:
        row = await session.get(Attachment, attachment_id)
    target = targets(context.pm).get(row.target_type) if row is not None else None
    if row is None or target is None:
        raise not_found(field, _("no attachment with this id that you may see"))
    if await target.readable(session, context, row.target_id) is None:
        raise not_found(field, _("no attachment with this id that you may see"))
    return row


async def delete_attachment(
    session: AsyncSession, context: RequestContext, attachment_id: int | None
) -> Attachment:
    """Delete an attachment of a record the caller may change; its bytes go once this
    commits (a purge job is queued in the transaction; :func:`remove_committed`)."""
    require(context)
    row = await readable_attachment(session, context, attachment_id, "input.id")
    target = targets(context.pm)[row.target_type]
    if await target.writable(session, context, row.target_id) is None:
        raise ApiError(_("you may not change the files of this record"), ApiErrorCode.FORBIDDEN)
    await session.delete(row)
    await enqueue_purge(session, context, [row.storage_key])
    audit.record(
        session,
        actor_of(context),
        "attachment.deleted",
        "attachment",
        row.id,
        {"target": f"{row.target_type}:{row.target_id}", "name": row.name},
    )
    return row


async def erase_customer_files(
    session: AsyncSession, context: RequestContext, customer_id: int
) -> int:
    """Remove every file on a customer and on its records (interactions, tickets...).

    The rows go in ``session``'s transaction, with a purge job that removes their bytes
    after it commits: a rolled-back erasure leaves every file as it was. The keys to purge
    are those of the rows the one statement deleted, so a file attached meanwhile is either
    deleted and purged or neither.
    """
    keys = list(
        await session.scalars(
            delete(Attachment)
            .where(Attachment.customer_id == customer_id)
            .returning(Attachment.storage_key)
        )
    )
    await enqueue_purge(session, context, keys)
    return len(keys)


async def move_customer_files(
    session: AsyncSession, source_id: int, target_id: int, dry_run: bool
) -> Mapping[str, int]:
    """A merge: the files of ``source``'s records now belong to ``target``."""
    if dry_run:
        count = len(
            list(
                await session.scalars(
                    select(Attachment.id).where(Attachment.customer_id == source_id)
                )
            )
        )
    else:
        result: Any = await session.execute(
            update(Attachment)
            .where(Attachment.customer_id == source_id)
            .values(customer_id=target_id)
        )
        count = result.rowcount or 0
    # The customer's own files follow the customer they merge into.
    if not dry_run:
        await session.execute(
            update(Attachment)
            .where(Attachment.target_type == "Customer", Attachment.target_id == source_id)
            .values(target_id=target_id)
        )
    return {"attachments": count}


# -------------------------------------------------------------------------
# Signed download links
# -------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkHolder:
    """Whom a download link was made for: a user, and the sign-in (a session or an API
    token) of the request that asked for it, whose grants decide at download time."""

    user_id: int
    session_id: str | None = None
    api_token_id: int | None = None

    @property
    def credential(self) -> str:
        """``s<session id>`` or ``t<API token id>``, as signed into the link."""
        if self.session_id is not None:
            return f"s{self.session_id}"
        return f"t{self.api_token_id}"


def signature(secret: str, attachment_id: int, holder: LinkHolder, expires: int) -> str:
    message = f"attachment:{attachment_id}:{holder.user_id}:{holder.credential}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def download_url(context: RequestContext, attachment_id: int) -> str | None:
    """A link for the caller to download the file, valid for :data:`LINK_LIFETIME` and
    while the session or API token the caller signed in with stays valid; ``None`` for a
    caller without either (no request of theirs to tie it to)."""
    caller = context.caller
    if caller is None or (caller.session_id is None and caller.api_token_id is None):
        return None
    holder = LinkHolder(caller.user_id, caller.session_id, caller.api_token_id)
    expires = int((context.now() + LINK_LIFETIME).timestamp())
    fields: dict[str, str | int] = {"user": holder.user_id}
    if holder.session_id is not None:
        fields["session"] = holder.session_id
    else:
        fields["token"] = str(holder.api_token_id)
    fields["expires"] = expires
    fields["signature"] = signature(context.settings.secret_key, attachment_id, holder, expires)
    return f"{context.settings.public_url}/attachments/{attachment_id}?{urlencode(fields)}"


def verify_link(
    secret: str, attachment_id: int, params: Mapping[str, str], now: dt.datetime
) -> LinkHolder | None:
    """Whom a download link was made for, when it is genuine and unexpired."""
    user, expires, given = (
        params.get("user", ""),
        params.get("expires", ""),
        params.get("signature", ""),
    )
    session, token = params.get("session"), params.get("token")
    if not (_digits(user) and _digits(expires) and given.isascii()):
        return None
    if session is not None and token is None and _session_id(session):
        holder = LinkHolder(int(user), session_id=session)
    elif token is not None and session is None and _digits(token):
        holder = LinkHolder(int(user), api_token_id=int(token))
    else:
        return None
    expected = signature(secret, attachment_id, holder, int(expires))
    if not hmac.compare_digest(expected.encode(), given.encode()):
        return None
    if int(expires) <= now.timestamp():
        return None
    return holder


def _session_id(text: str) -> bool:
    """Whether ``text`` may be a session id (short, ASCII letters and digits)."""
    return text.isascii() and text.isalnum() and len(text) <= 64


def _digits(text: str) -> bool:
    """Whether ``text`` is a short run of ASCII digits (``"²".isdigit()`` is true too)."""
    return text.isascii() and text.isdigit() and len(text) <= 18
