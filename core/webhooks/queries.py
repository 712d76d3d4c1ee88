"""Root query fields of webhooks: subscriptions, event types and the delivery log."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry import relay

from core.access import requires
from core.context import Info
from core.ordering import SortKey
from core.pagination import Connection, PageArgs
from core.validation import argument_id
from core.webhooks import models
from core.webhooks.declarations import MANAGE
from core.webhooks.events import event_types
from core.webhooks.types import WebhookDelivery, WebhookEventType, WebhookSubscription

SUBSCRIPTION_KEYS = [SortKey(models.WebhookSubscription.id)]
DELIVERY_KEYS = [SortKey(models.WebhookDelivery.id, descending=True)]


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="Webhook subscriptions, oldest first.", extensions=requires(MANAGE)
    )
    async def webhook_subscriptions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookSubscription] | None:
        statement = select(models.WebhookSubscription).where(
            info.context.visible(MANAGE, "webhooks")
        )
        return await info.context.page(
            statement,
            keys=SUBSCRIPTION_KEYS,
            args=PageArgs(first, after, last, before),
            to_node=WebhookSubscription.from_model,
        )

    @strawberry.field(description="One webhook subscription.", extensions=requires(MANAGE))
    async def webhook_subscription(
        self, info: Info, id: relay.GlobalID
    ) -> WebhookSubscription | None:
        return await WebhookSubscription.load(info, argument_id(id, "WebhookSubscription", "id"))

    @strawberry.field(
        description="The event types subscriptions may listen to, by name.",
        extensions=requires(MANAGE),
    )
    async def webhook_event_types(self, info: Info) -> list[WebhookEventType] | None:
        declared = event_types(info.context.pm)
        return [WebhookEventType(name=n, description=declared[n]) for n in sorted(declared)]

    @strawberry.field(
        description="A subscription's delivery log: every attempt, newest first.",
        extensions=requires(MANAGE),
    )
    async def webhook_deliveries(
        self,
        info: Info,
        subscription_id: relay.GlobalID,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[WebhookDelivery] | None:
        found = argument_id(subscription_id, "WebhookSubscription", "subscriptionId")
        statement = select(models.WebhookDelivery).where(
            models.WebhookDelivery.subscription_id == found,
            info.context.visible(MANAGE, "webhooks"),
        )
        return await info.context.page(
            statement,
            keys=DELIVERY_KEYS,
            args=PageArgs(first, after, last, before),
            to_node=WebhookDelivery.from_model,
        )
