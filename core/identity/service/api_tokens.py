"""API tokens: created from a login session, revoked by their user or a manager."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.errors import UserErrorCode
from core.i18n import _
from core.identity import tokens
from core.identity.models import ApiToken, User
from core.identity.service.common import _forbidden, _not_found
from core.validation import Check, global_id

API_TOKEN_NAME_MAX = 100


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str


async def create_api_token(
    session: AsyncSession,
    context: RequestContext,
    name: str | None,
    expires_at: dt.datetime | None,
    permissions: Sequence[str] | None,
) -> NewApiToken:
    caller = require(context)
    if caller.api_token_id is not None:
        raise _forbidden(
            None, _("API tokens are created from a login session, not with another API token")
        )
    check = Check()
    cleaned = check.text("name", name, max_length=API_TOKEN_NAME_MAX)
    now = context.now()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            check.fail("expiresAt", _("must carry a time zone"), UserErrorCode.INVALID)
        elif expires_at <= now:
            check.fail("expiresAt", _("must be in the future"), UserErrorCode.OUT_OF_RANGE)
    narrowed: list[str] | None = None
    if permissions is not None:
        narrowed = []
        for index, permission in enumerate(permissions):
            if permission not in caller.grants:
                raise _forbidden(
                    f"permissions.{index}",
                    _("you do not hold {permission!r}", permission=permission),
                )
            if permission not in narrowed:
                narrowed.append(permission)
    check.done()
    assert cleaned is not None
    secret = tokens.new_secret(tokens.API_PREFIX)
    token = ApiToken(
        user_id=caller.user_id,
        name=cleaned,
        token_hash=tokens.digest(secret),
        prefix=secret[: len(tokens.API_PREFIX) + 4],
        permissions=sorted(narrowed) if narrowed is not None else None,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "api_token.created",
        "ApiToken",
        token.id,
        audit.created(
            {
                "name": token.name,
                "userId": global_id("User", caller.user_id),
                "expiresAt": expires_at,
                "permissions": token.permissions,
            }
        ),
    )
    return NewApiToken(token=token, secret=secret)


async def revoke_api_token(
    session: AsyncSession, context: RequestContext, token_id: int | None
) -> ApiToken:
    """Revoke one's own token, or, with ``users:manage``, a managed user's."""
    caller = require(context)
    token = (
        await session.get(ApiToken, token_id, with_for_update=True)
        if token_id is not None
        else None
    )
    if token is not None and token.user_id != caller.user_id:
        owner = await session.scalar(
            select(User.id).where(User.id == token.user_id, context.visible("users:manage"))
        )
        if owner is None:
            token = None
    if token is None:
        raise _not_found("id", "API token")
    if token.revoked_at is None:
        token.revoked_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "api_token.revoked",
            "ApiToken",
            token.id,
            audit.diff({"revokedAt": None}, {"revokedAt": token.revoked_at}),
        )
    return token
