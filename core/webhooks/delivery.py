"""Posting webhook events: the outbox deliverer of channel ``webhook``.

Each post carries the Standard Webhooks headers: ``webhook-id`` (the event's id, the same on
every attempt and redelivery, so a receiver can drop repeats), ``webhook-timestamp`` (the
attempt's time, seconds since the epoch) and ``webhook-signature`` (``v1,`` and the base64 of
the HMAC-SHA256 of ``"{id}.{timestamp}.{body}"`` keyed with the subscription's secret,
base64-decoded after ``whsec_``). A 2xx answer is a delivery; anything else, a timeout or a
refused address is a failed attempt, retried by the outbox with backoff. 410 Gone disables the
subscription at once, and so does a run of ``CRM_WEBHOOKS_DISABLE_AFTER`` failed attempts.
Every attempt is logged in ``webhook_deliveries``, in a transaction of its own (and deleted
after ``CRM_OUTBOX_RETENTION_DAYS`` by the periodic job ``webhooks.purge_log``).

A post connects to an address the check before it approved (never to a second lookup's
answer), without proxies or redirects, and is bounded as a whole by
``CRM_WEBHOOKS_TIMEOUT_SECONDS``. Events of a subscription that is turned off wait, retried
with the outbox's backoff, until it is on again or their attempts run out (then they are
logged as not posted, for ``redeliverWebhook``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx
from sqlalchemy import Table, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from standardwebhooks.webhooks import Webhook

from core import audit
from core.i18n import Text, _
from core.identity.service.holders import users_with_permission
from core.notifications.service import Environment, NotificationKind, notify
from core.outbox import Delivery, DeliveryFailed
from core.schedule import JobContext
from core.webhooks.addresses import AddressRefused, IPAddress, check_reachable
from core.webhooks.models import WebhookDelivery, WebhookSubscription

USER_AGENT = "crm-webhooks/1"
GONE = 410
MAX_ERROR_LENGTH = 2000
SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
"""The table itself: a Core ``UPDATE`` of it leaves ``version`` as it is."""
MAX_ANSWER_BYTES = 1024
"""How much of a failed post's answer is read, for the log's error text."""


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes posted (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(secret: str, event_id: str, at: dt.datetime, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",
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


def pinned(url: str, address: IPAddress) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The request's URL, extra headers and extensions that reach ``url``'s host at the
    checked ``address`` without a second lookup: the address as the URL's host (bracketed
    if IPv6), the original host in ``Host`` and, for https, as the TLS server name
    (``sni_hostname``: SNI and the certificate's hostname check use the name)."""
    original = httpx.URL(url)
    try:
        ipaddress.ip_address(original.host)
    except ValueError:
        pass
    else:  # an address literal: connected to as it is
        return original, {}, {}
    target = original.copy_with(host=str(address))
    extensions: dict[str, Any] = {}
    if original.scheme == "https":
        extensions["sni_hostname"] = original.raw_host.decode("ascii")
    return target, {"host": original.netloc.decode("ascii")}, extensions


def _described(exc: Exception | None) -> str:
    if exc is None:
        return "no address to connect to"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _start_of(response: httpx.Response) -> str:
    """At most :data:`MAX_ANSWER_BYTES` of the answer's body, as text for the log."""
    read = bytearray()
    async for chunk in response.aiter_raw():
        read += chunk
        if len(read) >= MAX_ANSWER_BYTES:
            break
    return " ".join(bytes(read[:MAX_ANSWER_BYTES]).decode("utf-8", "replace").split())


async def _exchange(
    delivery: Delivery, subscription: WebhookSubscription, headers: dict[str, str], body: bytes
) -> tuple[int | None, str | None]:
    """Post to each checked address of the subscription's host in turn until one takes the
    connection; the answer's status and, for a failure, the error to log."""
    settings = delivery.settings
    try:
        addresses = await check_reachable(
            subscription.url, allow_private=settings.webhooks_allow_private
        )
    except AddressRefused as exc:
        return None, f"refused: {exc}"
    failure: Exception | None = None
    async with httpx.AsyncClient(
        timeout=settings.webhooks_timeout_seconds, follow_redirects=False, trust_env=False
    ) as client:
        for address in dict.fromkeys(addresses):
            url, host, extensions = pinned(subscription.url, address)
            try:
                async with client.stream(
                    "POST", url, content=body, headers={**headers, **host}, extensions=extensions
                ) as response:
                    status = response.status_code
                    if 200 <= status < 300:
                        return status, None
                    answer = await _start_of(response)
                    return status, f"HTTP {status}: {answer}" if answer else f"HTTP {status}"
            except httpx.ConnectError as exc:  # this address does not answer: the next one
                failure = exc
            except httpx.TimeoutException:
                return None, "timed out"
            except httpx.HTTPError as exc:
                return None, _described(exc)
    return None, _described(failure)


async def _post(delivery: Delivery, subscription: WebhookSubscription, at: dt.datetime) -> Attempt:
    """One post, lookup to answer, bounded as a whole by ``CRM_WEBHOOKS_TIMEOUT_SECONDS`` (a
    receiver that trickles its answer byte by byte is cut off too)."""
    event_id = str(delivery.payload.get("id", ""))
    body = body_of(delivery.payload)
    headers = signed_headers(subscription.secret, event_id, at, body)
    limit = delivery.settings.webhooks_timeout_seconds
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            status, error = await _exchange(delivery, subscription, headers, body)
    except TimeoutError:
        status, error = None, f"timed out: no complete answer within {limit:g} seconds"
    elapsed = int((time.perf_counter() - started) * 1000)
    return Attempt(status, error[:MAX_ERROR_LENGTH] if error else None, elapsed)


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


async def _log(
    delivery: Delivery, at: dt.datetime, attempt: Attempt, *, counted: bool = True
) -> Text | None:
    """Log the attempt and (``counted``) count it against the subscription; the reason it
    was disabled by this attempt, if it was.

    The failure count is kept with a plain ``UPDATE`` that leaves the subscription's
    ``version`` alone, so an administrator editing a failing subscription is not refused
    as stale; turning it off is a change of its own, which does move ``version``."""
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
        if not counted:
            return None
        failures = 0 if attempt.success else subscription.consecutive_failures + 1
        if failures != subscription.consecutive_failures:
            await session.execute(
                update(SUBSCRIPTIONS)
                .where(SUBSCRIPTIONS.c.id == subscription.id)
                .values(consecutive_failures=failures)
            )
            set_committed_value(subscription, "consecutive_failures", failures)
        if attempt.success:
            return None
        if attempt.status_code == GONE:
            disabled = _("the receiver answered 410 Gone")
        elif failures >= delivery.settings.webhooks_disable_after:
            disabled = _("{count} failed deliveries in a row", count=failures)
        if disabled is not None and subscription.active:
            subscription.active = False
            subscription.disabled_reason = disabled
            subscription.disabled_at = at
            await session.flush()
            await subscription_disabled(session, delivery, subscription, disabled, at)
    return disabled


async def _paused(delivery: Delivery) -> None:
    """An event of a subscription that is turned off waits (a retryable failure, with the
    outbox's backoff) to be posted once it is on again; when its attempts run out first, it
    is logged as not posted, so that ``redeliverWebhook`` finds it."""
    if delivery.attempts < delivery.settings.outbox_max_attempts:
        raise DeliveryFailed("the webhook subscription is turned off: the event waits")
    error = "not posted: the subscription was turned off until the event's attempts ran out"
    await _log(delivery, delivery.clock(), Attempt(None, error, 0), counted=False)
    raise DeliveryFailed(error, permanent=True)


async def deliver(delivery: Delivery) -> None:
    """The outbox deliverer of channel ``webhook``: post one event to one subscription."""
    async with delivery.db.read() as session:
        subscription = await session.get(WebhookSubscription, int(delivery.recipient or 0))
        if subscription is not None:
            session.expunge(subscription)
    if subscription is None:
        raise DeliveryFailed("the webhook subscription was deleted", permanent=True)
    if not subscription.active:
        await _paused(delivery)
        return
    at = delivery.clock()
    attempt = await _post(delivery, subscription, at)
    disabled = await _log(delivery, at, attempt)
    if not attempt.success:
        reason = attempt.error or "failed"
        if disabled is not None:  # the event waits, like the others queued for it
            raise DeliveryFailed(f"{reason}; subscription disabled: {disabled}")
        raise DeliveryFailed(reason)


async def purge_log(job: JobContext) -> Mapping[str, int]:
    """The periodic job ``webhooks.purge_log``: delete logged attempts (each with the event's
    payload) older than ``CRM_OUTBOX_RETENTION_DAYS``."""
    cutoff = job.now - dt.timedelta(days=job.settings.outbox_retention_days)
    async with job.db.transaction() as session:
        result = await session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.attempted_at < cutoff)
        )
    purged = max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]
    return {"webhook delivery attempts purged": purged}
