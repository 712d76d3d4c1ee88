"""Root mutation fields of webhooks."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import requires
from core.context import Info
from core.errors import UserErrorCode
from core.i18n import _
from core.mutations import mutate
from core.validation import Check
from core.webhooks import models, service
from core.webhooks.declarations import MANAGE
from core.webhooks.inputs import (
    CreateWebhookSubscriptionInput,
    DeleteWebhookSubscriptionInput,
    RedeliverWebhookInput,
    RotateWebhookSecretInput,
    UpdateWebhookSubscriptionInput,
)
from core.webhooks.payloads import (
    CreateWebhookSubscriptionPayload,
    DeleteWebhookSubscriptionPayload,
    RedeliverWebhookPayload,
    RotateWebhookSecretPayload,
    UpdateWebhookSubscriptionPayload,
)

SUBSCRIPTION = "WebhookSubscription"


def _given(value: object) -> bool:
    return value is not strawberry.UNSET and value is not None


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Subscribe a URL to event types; the payload shows the signing secret once.",
        extensions=requires(MANAGE),
    )
    async def create_webhook_subscription(
        self, info: Info, input: CreateWebhookSubscriptionInput
    ) -> CreateWebhookSubscriptionPayload | None:
        async def work(session: AsyncSession) -> service.WithSecret:
            return await service.create_subscription(
                session,
                info.context,
                input.url,
                input.description,
                input.event_types,
                input.active,
            )

        return await mutate(info, work, CreateWebhookSubscriptionPayload.of)

    @strawberry.mutation(extensions=requires(MANAGE))
    async def update_webhook_subscription(
        self, info: Info, input: UpdateWebhookSubscriptionInput
    ) -> UpdateWebhookSubscriptionPayload | None:
        async def work(session: AsyncSession) -> models.WebhookSubscription:
            check = Check()
            subscription_id = check.node_id("id", input.id, SUBSCRIPTION)
            for name in ("url", "event_types", "active"):
                if getattr(input, name) is None:
                    field = "eventTypes" if name == "event_types" else name
                    check.fail(field, _("cannot be null"), UserErrorCode.REQUIRED)
            check.done()
            changes = service.SubscriptionChanges(
                url=input.url if _given(input.url) else None,
                description=(
                    (input.description or "") if input.description is not strawberry.UNSET else None
                ),
                event_types=input.event_types if _given(input.event_types) else None,
                active=input.active if _given(input.active) else None,
            )
            return await service.update_subscription(
                session, info.context, subscription_id, input.version, changes
            )

        return await mutate(info, work, UpdateWebhookSubscriptionPayload.of)

    @strawberry.mutation(
        description="Delete a subscription and its delivery log.", extensions=requires(MANAGE)
    )
    async def delete_webhook_subscription(
        self, info: Info, input: DeleteWebhookSubscriptionInput
    ) -> DeleteWebhookSubscriptionPayload | None:
        async def work(session: AsyncSession) -> int:
            check = Check()
            subscription_id = check.node_id("id", input.id, SUBSCRIPTION)
            check.done()
            return await service.delete_subscription(session, info.context, subscription_id)

        return await mutate(info, work, DeleteWebhookSubscriptionPayload.of)

    @strawberry.mutation(
        description="Give a subscription a new signing secret, shown once; the old one stops "
        "signing at once.",
        extensions=requires(MANAGE),
    )
    async def rotate_webhook_secret(
        self, info: Info, input: RotateWebhookSecretInput
    ) -> RotateWebhookSecretPayload | None:
        async def work(session: AsyncSession) -> service.WithSecret:
            check = Check()
            subscription_id = check.node_id("id", input.id, SUBSCRIPTION)
            check.done()
            return await service.rotate_secret(session, info.context, subscription_id)

        return await mutate(info, work, RotateWebhookSecretPayload.of)

    @strawberry.mutation(
        description="Post an event again to its subscription, with the same `webhook-id`.",
        extensions=requires(MANAGE),
    )
    async def redeliver_webhook(
        self, info: Info, input: RedeliverWebhookInput
    ) -> RedeliverWebhookPayload | None:
        async def work(session: AsyncSession) -> models.WebhookDelivery:
            check = Check()
            delivery_id = check.node_id("deliveryId", input.delivery_id, "WebhookDelivery")
            subscription_id = check.node_id("subscriptionId", input.subscription_id, SUBSCRIPTION)
            if input.delivery_id is None and (input.subscription_id is None or not input.event_id):
                check.fail(
                    "deliveryId",
                    _("give a deliveryId, or a subscriptionId and an eventId"),
                    UserErrorCode.REQUIRED,
                )
            check.done()
            return await service.redeliver(
                session,
                info.context,
                delivery_id=delivery_id,
                subscription_id=subscription_id,
                event_id=input.event_id,
            )

        return await mutate(info, work, RedeliverWebhookPayload.of)
