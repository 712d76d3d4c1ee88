"""GraphQL node and object types of webhooks."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay

from core.node import ModelNode
from core.webhooks import loaders, models


@strawberry.type(description="A webhook event type a subscription may listen to.")
class WebhookEventType:
    name: str = strawberry.field(description="`<record>.<what happened>`, e.g. `ticket.opened`.")
    description: str


@strawberry.type(
    description="Where to post which events. Its secret is shown once, when it is created or "
    "rotated, and cannot be read afterwards."
)
class WebhookSubscription(ModelNode[models.WebhookSubscription]):
    by_id_loader = loaders.WebhookSubscriptionByIdLoader
    id: relay.NodeID[int]
    url: str
    description: str
    event_types: list[str]
    active: bool = strawberry.field(description="Whether events are posted to it.")
    consecutive_failures: int = strawberry.field(
        description="Failed posts since the last delivered one."
    )
    disabled_reason: str | None = strawberry.field(
        description="Why it was turned off by its failures; null when it was not."
    )
    disabled_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, row: models.WebhookSubscription) -> WebhookSubscription:
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            event_types=list(row.event_types),
            active=row.active,
            consecutive_failures=row.consecutive_failures,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="One attempt to post one event to a subscription.")
class WebhookDelivery(ModelNode[models.WebhookDelivery]):
    by_id_loader = loaders.WebhookDeliveryByIdLoader
    id: relay.NodeID[int]
    subscription_id: relay.GlobalID
    event_id: str = strawberry.field(description="The event's `webhook-id` (`msg_...`).")
    event_type: str
    attempt: int = strawberry.field(description="1 for the first try of a (re)delivery.")
    attempted_at: dt.datetime
    status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when no answer came."
    )
    error: str | None
    duration_ms: int
    success: bool = strawberry.field(description="Answered with a 2xx status.")

    @classmethod
    def from_model(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        return cls(
            id=row.id,
            subscription_id=relay.GlobalID("WebhookSubscription", str(row.subscription_id)),
            event_id=row.event_id,
            event_type=row.event_type,
            attempt=row.attempt,
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            error=row.error,
            duration_ms=row.duration_ms,
            success=row.success,
        )
