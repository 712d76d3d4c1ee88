"""GraphQL inputs of webhooks."""

from __future__ import annotations

import strawberry
from strawberry import relay

EVENT_TYPES_HELP = "Event types to post (see `webhookEventTypes`), e.g. `customer.created`."


@strawberry.input
class CreateWebhookSubscriptionInput:
    url: str = strawberry.field(
        description="An http:// or https:// URL whose host resolves to public addresses."
    )
    event_types: list[str] = strawberry.field(description=EVENT_TYPES_HELP)
    description: str | None = None
    active: bool = True


@strawberry.input
class UpdateWebhookSubscriptionInput:
    id: relay.GlobalID
    version: int
    url: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    event_types: list[str] | None = strawberry.field(
        default=strawberry.UNSET, description=EVENT_TYPES_HELP
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Turn posting on or off; turning it on clears the failures that disabled it.",
    )


@strawberry.input
class DeleteWebhookSubscriptionInput:
    id: relay.GlobalID


@strawberry.input
class RotateWebhookSecretInput:
    id: relay.GlobalID


@strawberry.input(
    description="What to post again: one logged attempt (`deliveryId`), or an event "
    "(`eventId`, the `webhook-id` it was posted with) of a subscription (`subscriptionId`)."
)
class RedeliverWebhookInput:
    delivery_id: relay.GlobalID | None = None
    subscription_id: relay.GlobalID | None = None
    event_id: str | None = None
