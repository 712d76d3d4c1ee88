"""GraphQL inputs of notifications."""

from __future__ import annotations

import strawberry
from strawberry import relay


@strawberry.input
class NotificationFilter:
    unread: bool | None = strawberry.field(
        default=None, description="true: only unread; false: only read; null: both."
    )


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="The notifications to mark read; null: all unread ones."
    )


@strawberry.input
class NotificationPreferenceInput:
    kind: str
    in_app: bool | None = strawberry.field(default=None, description="null: leave as it is.")
    email: bool | None = strawberry.field(default=None, description="null: leave as it is.")


@strawberry.input
class UpdateNotificationPreferencesInput:
    preferences: list[NotificationPreferenceInput]
