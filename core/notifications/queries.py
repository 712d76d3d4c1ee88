"""GraphQL queries of notifications: the caller's inbox and preferences."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry import relay

from core.access import Caller, require, requires
from core.context import Info
from core.errors import forbidden
from core.extension import Scope
from core.i18n import _, render
from core.notifications import service
from core.notifications.inputs import NotificationFilter
from core.notifications.models import Notification as NotificationRow
from core.notifications.models import NotificationPreference as PreferenceRow
from core.notifications.types import Notification, NotificationPreference
from core.ordering import SortKey
from core.pagination import Connection, PageArgs
from core.validation import argument_id

NEWEST_FIRST = [SortKey(NotificationRow.id, descending=True)]


def inbox_owner(info: Info, user_id: relay.GlobalID | None) -> int:
    """The user whose inbox the caller reads: their own, or, with ``notifications:manage``,
    the one ``userId`` names."""
    caller: Caller = require(info.context)
    wanted = argument_id(user_id, "User", "userId")
    if wanted is None or wanted == caller.user_id:
        return caller.user_id
    if not caller.can("notifications:manage", Scope.ALL):
        raise forbidden(
            _("reading another user's notifications needs notifications:manage"),
            permission="notifications:manage",
        )
    return wanted


@strawberry.type
class NotificationQuery:
    @strawberry.field(
        description="The caller's notifications, newest first (another user's with "
        "notifications:manage and `userId`).",
        extensions=requires(),
    )
    async def notifications(
        self,
        info: Info,
        filter: NotificationFilter | None = None,
        user_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Notification] | None:
        owner = inbox_owner(info, user_id)
        statement = select(NotificationRow).where(NotificationRow.user_id == owner)
        if filter is not None and filter.unread is not None:
            read_at = NotificationRow.read_at
            statement = statement.where(
                read_at.is_(None) if filter.unread else read_at.is_not(None)
            )
        return await info.context.page(
            statement,
            keys=NEWEST_FIRST,
            args=PageArgs(first, after, last, before),
            to_node=Notification.from_model,
        )

    @strawberry.field(description="How many of the caller's notifications are unread.")
    async def unread_notification_count(self, info: Info) -> int | None:
        caller = require(info.context)
        async with info.context.db.read() as session:
            return await service.unread_count(session, caller.user_id)

    @strawberry.field(
        description="Every kind of notification the enabled modules send, with the caller's "
        "choice of channels (the kind's default where they made none)."
    )
    async def notification_preferences(self, info: Info) -> list[NotificationPreference] | None:
        caller = require(info.context)
        async with info.context.db.read() as session:
            rows = (
                await session.scalars(
                    select(PreferenceRow).where(PreferenceRow.user_id == caller.user_id)
                )
            ).all()
        chosen = {(row.kind, row.channel): row.enabled for row in rows}
        return [
            NotificationPreference(
                kind=kind,
                description=render(declared.description, info.context.locale),
                in_app=chosen.get((kind, service.IN_APP), True),
                email=chosen.get((kind, service.EMAIL), declared.email),
            )
            for kind, declared in sorted(service.kinds_of(info.context.pm).items())
        ]
