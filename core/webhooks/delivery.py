"""Posting webhook events: the outbox deliverer of channel ``webhook``.

Each post carries the Standard Webhooks headers: ``webhook-id`` (the event's id, the same on
every attempt and redelivery, so a receiver can drop repeats), ``webhook-timestamp`` (the
attempt's time, seconds since the epoch) and ``webhook-signature`` (``v1,`` and the base64 of
the HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the subscription's secret,
base64-decoded after ``whsec_``). A 2xx answer is a delivery; anything else, a timeout or a
refused address is a failed attempt, retried by the outbox with backoff. 410 Gone disables the
subscription at once, and so does a run of ``CRM_WEBHOOKS_DISABLE_AFTER`` failed attempts.
Every attempt is logged in ``webhook_deliveries``, in a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from core import audit
from core.i18n import Text, _
from core.identity.service.holders import users_with_permission
from core.notifications.service import Environment, NotificationKind, notify
from core.outbox import Delivery, DeliveryFailed
from core.webhooks.addresses import AddressRefused, check_reachable
from core.webhooks.models import WebhookDelivery, WebhookSubscription

USER_AGENT = "crm-webhooks/1"
GONE = 410
MAX_ERROR_LENGTH = 2000


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes posted (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(secret: str, event_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


@dataclass(frozen=True)
class Attempt:
    """What one post came to."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _post(delivery: Delivery, subscription: WebhookSubscription, at: dt.datetime) -> Attempt:
    event_id = str(delivery.payload.get("id", ""))
    body = body_of(delivery.payload)
    started = time.perf_counter()

    def done(status: int | None, error: str | None) -> Attempt:
        elapsed = int((time.perf_counter() - started) * 1000)
        return Attempt(status, error[:MAX_ERROR_LENGTH] if error else None, elapsed)

    try:
        await check_reachable(
            subscription.url, allow_private=delivery.settings.webhooks_allow_private
        )
    except AddressRefused as exc:
        return done(None, f"refused: {exc}")
    try:
        async with httpx.AsyncClient(
            timeout=delivery.settings.webhooks_timeout_seconds, follow_redirects=False
        ) as client:
            response = await client.post(
                subscription.url,
                content=body,
                headers=signed_headers(subscription.secret, event_id, at, body),
            )
    except httpx.TimeoutException:
        return done(None, "timed out")
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if 200 <= response.status_code < 300:
        return done(response.status_code, None)
    return done(response.status_code, f"HTTP {response.status_code}")


DISABLED = "webhook.disabled"
KINDS: Mapping[str, NotificationKind] = {
    DISABLED: NotificationKind(_("A webhook subscription was turned off by its failures"), True)
}


async def subscription_disabled(
    session: AsyncSession,
    env: Environment,
    subscription: WebhookSubscription,
    reason: Text,
    now: dt.datetime,
) -> None:
    """A subscription was just disabled by its failures, in the transaction that disabled it:
    the audit trail records it (``webhook_subscription.disabled``, the actor being the
    system) and its creator is told (those who manage webhooks when its creator is gone)."""
    told = [subscription.created_by] if subscription.created_by is not None else []
    if not told:
        told = await users_with_permission(session, env.pm, "webhooks:manage")
    await notify(
        session,
        env,
        user_ids=told,
        kind=DISABLED,
        title=_("The webhook to {url} was turned off", url=subscription.url),
        body=_("Reason: {reason}. Turn it on again once the receiver works.", reason=reason),
        subject=("WebhookSubscription", subscription.id),
        now=now,
    )
    audit.record(
        session,
        audit.Actor(label="webhooks", at=now),
        "webhook_subscription.disabled",
        "WebhookSubscription",
        subscription.id,
        {
            "active": {"before": True, "after": False},
            "disabledReason": {"before": None, "after": reason},
        },
    )


async def _log(delivery: Delivery, at: dt.datetime, attempt: Attempt) -> Text | None:
    """Log the attempt and count it against the subscription; the reason it was disabled
    by this attempt, if it was."""
    disabled: Text | None = None
    async with delivery.db.transaction() as session:
        subscription = await session.get(
            WebhookSubscription, int(delivery.recipient or 0), with_for_update=True
        )
        if subscription is None:  # deleted while the post was on its way
            return None
        session.add(
            WebhookDelivery(
                subscription_id=subscription.id,
                event_id=str(delivery.payload.get("id", ""))[:64],
                event_type=delivery.kind,
                attempt=delivery.attempts,
                attempted_at=at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_ms=attempt.duration_ms,
                success=attempt.success,
                payload=delivery.payload,
            )
        )
        if attempt.success:
            subscription.consecutive_failures = 0
        else:
            subscription.consecutive_failures += 1
            limit = delivery.settings.webhooks_disable_after
            if attempt.status_code == GONE:
                disabled = _("the receiver answered 410 Gone")
            elif subscription.consecutive_failures >= limit:
                disabled = _(
                    "{count} failed deliveries in a row", count=subscription.consecutive_failures
                )
            if disabled is not None and subscription.active:
                subscription.active = False
                subscription.disabled_reason = disabled
                subscription.disabled_at = at
                await session.flush()
                await subscription_disabled(session, delivery, subscription, disabled, at)
    return disabled


async def deliver(delivery: Delivery) -> None:
    """The outbox deliverer of channel ``webhook``: post one event to one subscription."""
    async with delivery.db.read() as session:
        subscription = await session.get(WebhookSubscription, int(delivery.recipient or 0))
        if subscription is not None:
            session.expunge(subscription)
    if subscription is None:
        raise DeliveryFailed("the webhook subscription was deleted", permanent=True)
    if not subscription.active:
        raise DeliveryFailed("the webhook subscription is turned off", permanent=True)
    at = delivery.clock()
    attempt = await _post(delivery, subscription, at)
    disabled = await _log(delivery, at, attempt)
    if not attempt.success:
        reason = attempt.error or "failed"
        if disabled is not None:
            raise DeliveryFailed(f"{reason}; subscription disabled: {disabled}", permanent=True)
        raise DeliveryFailed(reason)
