"""GraphQL mutations of notifications: mark read, choose channels."""

from __future__ import annotations

from typing import Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import require, requires
from core.context import Info
from core.errors import UserError
from core.mutations import mutate
from core.notifications import service
from core.notifications.inputs import (
    MarkNotificationsReadInput,
    UpdateNotificationPreferencesInput,
)
from core.notifications.queries import NotificationQuery
from core.notifications.types import NotificationPreference
from core.validation import Check


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int | None = strawberry.field(
        default=None, description="How many notifications changed from unread to read."
    )
    unread_count: int | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, result: tuple[int, int] | None, errors: list[UserError]) -> Self:
        if result is None:
            return cls(errors=errors)
        return cls(marked=result[0], unread_count=result[1], errors=errors)


@strawberry.type
class UpdateNotificationPreferencesPayload:
    preferences: list[NotificationPreference] | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(
        description="Mark the caller's notifications read (all unread ones without `ids`); "
        "ids of notifications that are not the caller's change nothing.",
        extensions=requires(),
    )
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload | None:
        caller = require(info.context)

        async def work(session: AsyncSession) -> tuple[int, int]:
            ids = None
            if input.ids is not None:
                check = Check()
                ids = check.node_ids("ids", input.ids, "Notification")
                check.done()
            marked = await service.mark_read(session, caller.user_id, ids, info.context.now())
            return marked, await service.unread_count(session, caller.user_id)

        return await mutate(info, work, MarkNotificationsReadPayload.of)

    @strawberry.mutation(
        description="Choose, per kind, whether the caller's notifications show in the app "
        "and whether they are also e-mailed.",
        extensions=requires(),
    )
    async def update_notification_preferences(
        self, info: Info, input: UpdateNotificationPreferencesInput
    ) -> UpdateNotificationPreferencesPayload | None:
        caller = require(info.context)

        async def work(session: AsyncSession) -> None:
            await service.set_preferences(
                session,
                info.context.pm,
                caller.user_id,
                [
                    {"kind": choice.kind, "in_app": choice.in_app, "email": choice.email}
                    for choice in input.preferences
                ],
            )

        def payload(_result: None, errors: list[UserError]) -> UpdateNotificationPreferencesPayload:
            return UpdateNotificationPreferencesPayload(errors=errors)

        result = await mutate(info, work, payload)
        if not result.errors:
            result.preferences = await NotificationQuery().notification_preferences(info)
        return result
