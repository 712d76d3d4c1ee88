"""GraphQL subscriptions of notifications: each new one, pushed to the user's open apps."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from sqlalchemy import select

from core.access import require
from core.context import Info
from core.notifications.broker import hub_of
from core.notifications.models import Notification as NotificationRow
from core.notifications.types import Notification
from core.subscriptions import check_signed_in
from core.zones import switch_zone


@strawberry.type
class NotificationSubscription:
    @strawberry.subscription(
        description="The caller's new notifications as they are written, from any app or "
        "worker process, over WebSocket (graphql-transport-ws; the access token goes in "
        "connection_init's payload as `authorization`). It ends with an error when the "
        "token no longer signs the caller in (logout, expiry): reconnect with a fresh one."
    )
    async def notification_received(self, info: Info) -> AsyncGenerator[Notification, None]:
        caller = require(info.context)
        switch_zone(info.context.zone)  # DateTime values in the subscriber's zone
        db = info.context.db
        async with hub_of(db).subscribe(caller.user_id) as queue:
            while True:
                notification_id = await queue.get()
                async with db.read() as session:
                    row = await session.scalar(
                        select(NotificationRow).where(
                            NotificationRow.id == notification_id,
                            NotificationRow.user_id == caller.user_id,
                        )
                    )
                if row is None:
                    continue
                await check_signed_in(info.context)
                yield Notification.from_model(row)
