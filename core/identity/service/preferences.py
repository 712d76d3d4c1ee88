"""A user's preferences: the locale and time zone they read the service in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.access import require
from core.context import RequestContext
from core.identity.models import User
from core.identity.service.common import _not_found
from core.identity.service.user_changes import USER_FIELDS, record_user_change
from core.validation import Check, snapshot


def set_preferences(check: Check, user: User, changes: Mapping[str, Any]) -> None:
    """Set the ``locale`` and ``time_zone`` given in ``changes`` (null: the deployment's);
    a refused one goes to ``check`` and leaves the user as they were."""
    if "locale" in changes:
        locale = check.locale("locale", changes["locale"])
        if not check.has_error("locale"):
            user.locale = locale
    if "time_zone" in changes:
        time_zone = check.time_zone("timeZone", changes["time_zone"])
        if not check.has_error("timeZone"):
            user.time_zone = time_zone


async def update_my_preferences(
    session: AsyncSession, context: RequestContext, changes: Mapping[str, Any]
) -> User:
    """The signed-in user's own locale and time zone (keys ``locale``, ``time_zone``; only
    those given), audited as ``user.updated``. No permission beyond signing in."""
    caller = require(context)
    user = await session.get(User, caller.user_id, with_for_update=True)
    if user is None:
        raise _not_found("id", "user")
    check = Check()
    before = snapshot(user, USER_FIELDS)
    set_preferences(check, user, changes)
    check.done()
    await record_user_change(session, context, user, before)
    return user
