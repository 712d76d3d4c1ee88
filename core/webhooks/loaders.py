"""Dataloaders of webhooks; only callers holding ``webhooks:manage`` at ALL scope see rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from core.loaders import ByIdLoader
from core.webhooks.declarations import MANAGE
from core.webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionByIdLoader(ByIdLoader[WebhookSubscription]):
    entity = WebhookSubscription

    def statement(self) -> Select[Any]:
        return select(WebhookSubscription).where(self.context.visible(MANAGE, "webhooks"))


class WebhookDeliveryByIdLoader(ByIdLoader[WebhookDelivery]):
    entity = WebhookDelivery

    def statement(self) -> Select[Any]:
        return select(WebhookDelivery).where(self.context.visible(MANAGE, "webhooks"))
