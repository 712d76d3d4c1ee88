"""GraphQL payloads of webhooks' mutations."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay

from core.errors import UserError
from core.webhooks import models
from core.webhooks.service import WithSecret
from core.webhooks.types import WebhookDelivery, WebhookSubscription

SECRET_HELP = (
    "The signing secret (`whsec_...`); shown only this once. Receivers verify each post's "
    "`webhook-signature` with it."
)


@strawberry.type
class WebhookSecretPayload:
    webhook_subscription: WebhookSubscription | None
    secret: str | None = strawberry.field(description=SECRET_HELP)
    errors: list[UserError]

    @classmethod
    def of(cls, result: WithSecret | None, errors: list[UserError]) -> Self:
        if result is None:
            return cls(webhook_subscription=None, secret=None, errors=errors)
        return cls(
            webhook_subscription=WebhookSubscription.from_model(result.subscription),
            secret=result.secret,
            errors=errors,
        )


@strawberry.type
class CreateWebhookSubscriptionPayload(WebhookSecretPayload):
    pass


@strawberry.type
class RotateWebhookSecretPayload(WebhookSecretPayload):
    pass


@strawberry.type
class UpdateWebhookSubscriptionPayload:
    webhook_subscription: WebhookSubscription | None
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.WebhookSubscription | None, errors: list[UserError]) -> Self:
        return cls(
            webhook_subscription=WebhookSubscription.from_model(row) if row else None,
            errors=errors,
        )


@strawberry.type
class DeleteWebhookSubscriptionPayload:
    deleted_webhook_subscription_id: relay.GlobalID | None
    errors: list[UserError]

    @classmethod
    def of(cls, deleted: int | None, errors: list[UserError]) -> Self:
        return cls(
            deleted_webhook_subscription_id=(
                relay.GlobalID("WebhookSubscription", str(deleted)) if deleted else None
            ),
            errors=errors,
        )


@strawberry.type
class RedeliverWebhookPayload:
    delivery: WebhookDelivery | None = strawberry.field(
        description="The latest attempt logged for the event; the new post is queued."
    )
    errors: list[UserError]

    @classmethod
    def of(cls, row: models.WebhookDelivery | None, errors: list[UserError]) -> Self:
        return cls(delivery=WebhookDelivery.from_model(row) if row else None, errors=errors)
