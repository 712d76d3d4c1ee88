"""Telling users what happened: the inbox, email per preference, and the push to open apps.

:func:`notify` is the one way in, for core and plugins alike (``core.plugin_api.notify``). It
writes in the caller's transaction: the inbox rows, the emails' outbox rows and the push to
subscribers all commit with the change that caused them, or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import upsert_insert
from core.errors import UserErrorCode
from core.host import declared
from core.i18n import Text, _, render
from core.identity.models import User
from core.mail import send_email
from core.notifications import broker
from core.notifications.models import Notification, NotificationPreference
from core.validation import Check, global_id
from core.zones import own_zone

if TYPE_CHECKING:
    from core.config import Settings
    from core.host import CRMPluginManager

IN_APP = "IN_APP"
EMAIL = "EMAIL"
CHANNELS = (IN_APP, EMAIL)
MAX_TITLE = 300


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification a module sends (``crm_notification_kinds``).

    :param description: what it is about, shown beside the user's preference.
    :param email: whether it is also e-mailed to users who have not chosen (in-app is on
        unless the user turns it off).
    """

    description: Text | str
    email: bool = False


class Environment(Protocol):
    """What :func:`notify` needs of its caller: a request's context or a periodic job's."""

    @property
    def settings(self) -> Settings: ...

    @property
    def pm(self) -> CRMPluginManager: ...


def kinds_of(pm: CRMPluginManager) -> dict[str, NotificationKind]:
    """Every module's notification kinds; a kind declared twice stops startup."""
    cached: dict[str, NotificationKind] | None = getattr(pm, "_notification_kinds", None)
    if cached is not None:
        return cached
    found: dict[str, NotificationKind] = declared(
        pm, "crm_notification_kinds", "the notification kind"
    )
    pm._notification_kinds = found  # type: ignore[attr-defined]
    return found


async def preferences_of(
    session: AsyncSession, user_ids: Sequence[int], kind: str
) -> dict[tuple[int, str], bool]:
    rows = await session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id.in_(user_ids), NotificationPreference.kind == kind)
    )
    return {(user_id, channel): enabled for user_id, channel, enabled in rows}


def _insert(session: AsyncSession) -> Any:
    return upsert_insert(session.get_bind().dialect.name)


async def notify(
    session: AsyncSession,
    env: Environment,
    *,
    user_ids: Iterable[int | None],
    kind: str,
    title: Text | str,
    body: Text | str = "",
    subject: tuple[str, int] | None = None,
    now: dt.datetime,
    dedupe_key: str | None = None,
) -> int:
    """Tell users something, in the caller's transaction, each in their own language.

    Each active user among ``user_ids`` (``None`` and repeats are skipped) gets an inbox row
    and, where their preference (or the kind's default) says so, an email; apps subscribed to
    ``notificationReceived`` get it once the transaction commits.

    :param kind: a kind some module declared (``crm_notification_kinds``).
    :param title: a ``Text`` (``_("...")``) is rendered in each user's language.
    :param subject: the record it is about, as (GraphQL type name, id).
    :param dedupe_key: a user gets a notification with this key once, however often asked
        (a reminder decided by two workers at once).
    :return: how many users were told.
    """
    declared = kinds_of(env.pm).get(kind)
    if declared is None:
        raise ValueError(
            f"unknown notification kind {kind!r}: declare it in crm_notification_kinds"
        )
    ids = sorted({user_id for user_id in user_ids if user_id is not None})
    if not ids:
        return 0
    users = list(
        (await session.scalars(select(User).where(User.id.in_(ids), User.is_active))).all()
    )
    chosen = await preferences_of(session, [user.id for user in users], kind)
    told = 0
    for user in users:
        locale = user.locale or env.settings.locale
        user_zone = own_zone(user.time_zone, env.settings.zone)
        rendered_title = render(in_zone(title, user_zone), locale)[:MAX_TITLE]
        rendered_body = render(in_zone(body, user_zone), locale)
        if chosen.get((user.id, IN_APP), True):
            inserted = await session.scalar(
                _insert(session)(Notification)
                .values(
                    user_id=user.id,
                    kind=kind,
                    title=rendered_title,
                    body=rendered_body,
                    subject_type=subject[0] if subject else None,
                    subject_id=subject[1] if subject else None,
                    dedupe_key=dedupe_key,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
                .returning(Notification.id)
            )
            if inserted is None:
                continue  # told already
            await broker.announce(session, user.id, inserted)
        if chosen.get((user.id, EMAIL), declared.email):
            link = None
            if subject is not None and env.settings.record_url:
                link = env.settings.record_url.format(
                    type=subject[0], id=global_id(subject[0], subject[1])
                )
            await send_email(
                session,
                env.pm,
                to=user.email,
                template="notification",
                values={"title": rendered_title, "body": rendered_body, "url": link},
                locale=locale,
                zone=user_zone,
                now=now,
                kind=kind,
                dedupe_key=f"notification:{user.id}:{dedupe_key}" if dedupe_key else None,
            )
        told += 1
    return told


def in_zone(text: Text | str, where: dt.tzinfo) -> Text | str:
    """``text`` with its date-time parameters written as local times of ``where``
    (``2026-12-05 09:00``), as its reader's clock shows them."""
    if not isinstance(text, Text):
        return text
    params = {
        name: (
            value.astimezone(where).strftime("%Y-%m-%d %H:%M")
            if isinstance(value, dt.datetime)
            else in_zone(value, where)
            if isinstance(value, Text)
            else value
        )
        for name, value in text.params.items()
    }
    return Text(text.template, params, text.package)


async def mark_read(
    session: AsyncSession, user_id: int, ids: Sequence[int] | None, now: dt.datetime
) -> int:
    """Mark the user's notifications ``ids`` (all unread ones when ``None``) read; how many
    changed. Ids of other users' notifications change nothing."""
    statement = update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(ids))
    result = await session.execute(statement.values(read_at=now))
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


async def purge_read(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """Delete read notifications older than ``CRM_NOTIFICATION_RETENTION_DAYS``; how many."""
    cutoff = now - dt.timedelta(days=settings.notification_retention_days)
    result = await session.execute(
        delete(Notification).where(
            Notification.read_at.is_not(None), Notification.created_at < cutoff
        )
    )
    return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


async def unread_count(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


async def set_preferences(
    session: AsyncSession,
    pm: CRMPluginManager,
    user_id: int,
    choices: Sequence[Mapping[str, Any]],
) -> None:
    """Record the user's choices: each ``{"kind", "inApp"?, "email"?}`` (``None``: leave)."""
    known = kinds_of(pm)
    check = Check()
    for index, choice in enumerate(choices):
        if choice["kind"] not in known:
            check.fail(
                f"preferences.{index}.kind",
                _("unknown notification kind {kind}", kind=choice["kind"]),
                UserErrorCode.INVALID,
            )
    check.done()
    for choice in choices:
        for channel, key in ((IN_APP, "in_app"), (EMAIL, "email")):
            enabled = choice.get(key)
            if enabled is None:
                continue
            await session.execute(
                _insert(session)(NotificationPreference)
                .values(user_id=user_id, kind=choice["kind"], channel=channel, enabled=enabled)
                .on_conflict_do_update(
                    index_elements=["user_id", "kind", "channel"], set_={"enabled": enabled}
                )
            )
