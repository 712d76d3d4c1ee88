"""GraphQL types of notifications."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from core.node import ModelNode
from core.notifications import models
from core.notifications.loaders import NotificationByIdLoader
from core.validation import global_id


@strawberry.type(description="A message in a user's inbox, in the user's language.")
class Notification(ModelNode[models.Notification]):
    by_id_loader = NotificationByIdLoader
    id: relay.NodeID[int]
    kind: str = strawberry.field(description="What it is about, e.g. task.reminder.")
    title: str
    body: str
    created_at: dt.datetime
    read_at: dt.datetime | None
    subject_type: strawberry.Private[str | None]
    subject_row: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, row: models.Notification) -> Notification:
        return cls(
            id=row.id,
            kind=row.kind,
            title=row.title,
            body=row.body,
            created_at=row.created_at,
            read_at=row.read_at,
            subject_type=row.subject_type,
            subject_row=row.subject_id,
        )

    @strawberry.field(description="Whether the user has read it.")
    def read(self) -> bool:
        return self.read_at is not None

    @strawberry.field(
        description="The global id of the record it is about (fetch it with `node(id:)`, "
        "which answers null when the reader may no longer see it); null when about none."
    )
    def subject_id(self) -> strawberry.ID | None:
        if self.subject_type is None:
            return None
        found = global_id(self.subject_type, self.subject_row)
        return strawberry.ID(found) if found is not None else None


@strawberry.type(description="A user's choice for one kind of notification.")
class NotificationPreference:
    kind: str
    description: str
    in_app: bool = strawberry.field(description="Shown in the inbox and pushed to open apps.")
    email: bool = strawberry.field(description="Also sent by email.")
