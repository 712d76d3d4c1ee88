"""What an audited change of a user compares: the fields, and the record of the change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of
from core.context import RequestContext
from core.identity.models import User
from core.validation import global_id, snapshot

USER_FIELDS: dict[str, str | Callable[[Any], Any]] = {
    "email": "email",
    "name": "name",
    "active": "is_active",
    "teamId": lambda user: global_id("Team", user.team_id),
    "locale": "locale",
    "timeZone": "time_zone",
}


async def record_user_change(
    session: AsyncSession, context: RequestContext, user: User, before: dict[str, Any]
) -> None:
    """Stamp and audit (``user.updated``) what changed of ``user`` since ``before`` (its
    :data:`USER_FIELDS` snapshot); nothing when nothing did."""
    diff = audit.diff(before, snapshot(user, USER_FIELDS))
    if diff:
        user.updated_at = context.now()
        await session.flush()
        audit.record(session, actor_of(context), "user.updated", "User", user.id, diff)
