"""Changes to webhook subscriptions: checked, versioned, audited.

Each function runs in the caller's transaction (``mutate``), needs ``webhooks:manage`` at ALL
scope, raises :class:`~core.errors.UserErrors` for bad input and writes its audit event in
the same transaction. A subscription's secret is returned by :func:`create_subscription` and
:func:`rotate_secret` only, and never written to the audit trail.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.errors import ApiError, UserErrorCode, UserErrors, forbidden, not_found
from core.extension import Scope
from core.i18n import _
from core.outbox import enqueue_message
from core.validation import Check, global_id, require_version
from core.webhooks.addresses import checked_url
from core.webhooks.declarations import MANAGE
from core.webhooks.events import CHANNEL, event_types
from core.webhooks.models import WebhookDelivery, WebhookSubscription

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
MAX_EVENT_TYPES = 100


def new_secret() -> str:
    """``whsec_`` and the base64 of 32 random bytes, as Standard Webhooks secrets are."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


@dataclass(frozen=True)
class WithSecret:
    """A subscription and its secret, shown this once."""

    subscription: WebhookSubscription
    secret: str


@dataclass(frozen=True)
class SubscriptionChanges:
    """What an update changes; ``None``: left as it is."""

    url: str | None = None
    description: str | None = None
    event_types: Sequence[str] | None = None
    active: bool | None = None


def _manager(context: RequestContext) -> None:
    caller = require(context, MANAGE)
    if not caller.can(MANAGE, Scope.ALL):
        raise forbidden(_("webhooks need webhooks:manage for all records"), permission=MANAGE)


def _not_found(field: str, what: str) -> ApiError:
    return not_found(f"input.{field}", _("no {what} with this id", what=what))


def _event_types(check: Check, context: RequestContext, values: Sequence[str]) -> list[str]:
    declared = event_types(context.pm)
    cleaned: list[str] = []
    if not values:
        check.fail("eventTypes", _("name at least one event type"), UserErrorCode.REQUIRED)
    if len(values) > MAX_EVENT_TYPES:
        check.fail(
            "eventTypes",
            _("must name at most {max} event types", max=MAX_EVENT_TYPES),
            UserErrorCode.TOO_LONG,
        )
        return []
    for index, value in enumerate(values):
        name = value.strip()
        if name not in declared:
            check.fail(
                f"eventTypes.{index}",
                _(
                    "{value!r} is not a known event type (see webhookEventTypes)",
                    value=value[:100],
                ),
                UserErrorCode.INVALID,
            )
        elif name not in cleaned:
            cleaned.append(name)
    return cleaned


def _snapshot(row: WebhookSubscription) -> dict[str, Any]:
    return {
        "url": row.url,
        "description": row.description,
        "eventTypes": list(row.event_types),
        "active": row.active,
    }


async def _subscription(
    session: AsyncSession, subscription_id: int | None, field: str = "id"
) -> WebhookSubscription:
    row = (
        await session.get(WebhookSubscription, subscription_id, with_for_update=True)
        if subscription_id is not None
        else None
    )
    if row is None:
        raise _not_found(field, _("webhook subscription"))
    return row


async def create_subscription(
    session: AsyncSession,
    context: RequestContext,
    url: str | None,
    description: str | None,
    event_type_names: Sequence[str],
    active: bool,
) -> WithSecret:
    _manager(context)
    check = Check()
    cleaned_url = await checked_url(
        check, "url", url, allow_private=context.settings.webhooks_allow_private
    )
    cleaned_description = check.text("description", description, max_length=500, required=False)
    names = _event_types(check, context, event_type_names)
    check.done()
    assert cleaned_url is not None
    now = context.now()
    secret = new_secret()
    row = WebhookSubscription(
        url=cleaned_url,
        description=cleaned_description or "",
        event_types=names,
        active=active,
        secret=secret,
        consecutive_failures=0,
        created_by=context.caller.user_id if context.caller else None,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "webhook_subscription.created",
        "WebhookSubscription",
        row.id,
        audit.created(_snapshot(row)),
    )
    return WithSecret(row, secret)


async def update_subscription(
    session: AsyncSession,
    context: RequestContext,
    subscription_id: int | None,
    version: int,
    changes: SubscriptionChanges,
) -> WebhookSubscription:
    """Change a subscription; turning it on again clears its failures and disabled reason."""
    _manager(context)
    row = await _subscription(session, subscription_id)
    require_version(row, version)
    check = Check()
    before = _snapshot(row)
    url = row.url
    if changes.url is not None and changes.url != row.url:
        url = (
            await checked_url(
                check, "url", changes.url, allow_private=context.settings.webhooks_allow_private
            )
            or row.url
        )
    description = row.description
    if changes.description is not None:
        description = (
            check.text("description", changes.description, max_length=500, required=False) or ""
        )
    names = list(row.event_types)
    if changes.event_types is not None:
        names = _event_types(check, context, changes.event_types)
    check.done()
    row.url, row.description, row.event_types = url, description, names
    if changes.active is not None and changes.active != row.active:
        row.active = changes.active
        if changes.active:
            row.consecutive_failures, row.disabled_reason, row.disabled_at = 0, None, None
    after = _snapshot(row)
    if after != before:
        row.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "webhook_subscription.updated",
            "WebhookSubscription",
            row.id,
            audit.diff(before, after),
        )
    return row


async def delete_subscription(
    session: AsyncSession, context: RequestContext, subscription_id: int | None
) -> int:
    """Delete a subscription and its delivery log; messages still queued for it are dropped
    when their turn comes. Returns the deleted id."""
    _manager(context)
    row = await _subscription(session, subscription_id)
    deleted = row.id
    before = _snapshot(row)
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "webhook_subscription.deleted",
        "WebhookSubscription",
        deleted,
        audit.diff(before, {}),
    )
    return deleted


async def rotate_secret(
    session: AsyncSession, context: RequestContext, subscription_id: int | None
) -> WithSecret:
    """Give a subscription a new secret (the old one stops signing at once)."""
    _manager(context)
    row = await _subscription(session, subscription_id)
    secret = new_secret()
    row.secret = secret
    row.updated_at = context.now()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "webhook_subscription.secret_rotated",
        "WebhookSubscription",
        row.id,
        {"secret": True},  # kept as {"changed": true}: a secret's values never are
    )
    return WithSecret(row, secret)


async def redeliver(
    session: AsyncSession,
    context: RequestContext,
    *,
    delivery_id: int | None = None,
    subscription_id: int | None = None,
    event_id: str | None = None,
) -> WebhookDelivery:
    """Queue an event that was posted (or tried) before again for its subscription, with the
    same ``webhook-id``: by the id of one of its attempts, or by subscription and event id.
    Returns the latest attempt logged for it."""
    _manager(context)
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(1)
    if delivery_id is not None:
        found = await session.scalar(statement.where(WebhookDelivery.id == delivery_id))
        if found is None:
            raise _not_found("deliveryId", _("webhook delivery"))
    else:
        await _subscription(session, subscription_id, "subscriptionId")
        found = await session.scalar(
            statement.where(
                WebhookDelivery.subscription_id == subscription_id,
                WebhookDelivery.event_id == (event_id or "").strip(),
            )
        )
        if found is None:
            raise _not_found("eventId", _("event delivered to this subscription"))
    field = "deliveryId" if delivery_id is not None else "subscriptionId"
    subscription = await _subscription(session, found.subscription_id, field)
    if not subscription.active:
        raise UserErrors.single(
            field,
            _("the subscription is turned off; turn it on before redelivering"),
            UserErrorCode.BUSINESS_RULE,
        )
    await enqueue_message(
        session,
        channel=CHANNEL,
        kind=found.event_type,
        recipient=str(subscription.id),
        payload=found.payload,
        now=context.now(),
    )
    audit.record(
        session,
        actor_of(context),
        "webhook_subscription.redelivered",
        "WebhookSubscription",
        subscription.id,
        {"eventId": found.event_id, "deliveryId": global_id("WebhookDelivery", found.id)},
    )
    return found
