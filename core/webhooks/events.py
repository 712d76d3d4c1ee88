"""Webhook event types and :func:`emit_event`, which writes an event to the outbox.

Core declares the customer events; modules add theirs through ``crm_webhook_event_types``.
An event's ``data`` holds global ids and plain JSON values: identifiers, numbers, states and
the names of changed fields, never personal data such as names, e-mail addresses, phone
numbers or free text. A receiver that needs more reads the record through the API with a
token of its own, whose permissions decide what it sees.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.host import declared
from core.outbox import enqueue_message
from core.validation import global_id
from core.webhooks.models import WebhookSubscription

if TYPE_CHECKING:
    import pluggy

    from core.customers.models import Customer

CHANNEL = "webhook"
"""The outbox channel of webhook posts."""

CORE_EVENT_TYPES: Mapping[str, str] = {
    "customer.created": "A customer was created.",
    "customer.updated": "A customer's fields changed (the names of the changed fields).",
    "customer.archived": "A customer was archived.",
    "customer.merged": "A customer was merged into another and archived.",
}


class UnknownEventType(LookupError):
    """An event type no enabled module declares: a programming error, not a user's."""


_types: weakref.WeakKeyDictionary[pluggy.PluginManager, dict[str, str]] = (
    weakref.WeakKeyDictionary()
)
_managers: weakref.WeakSet[pluggy.PluginManager] = weakref.WeakSet()


def remember(pm: pluggy.PluginManager) -> None:
    """Note a plugin manager this module is registered with (``crm_add_hookspecs``), so that
    :func:`emit_event`, which has none at hand, knows the event types its modules declare."""
    _managers.add(pm)


def event_types(pm: pluggy.PluginManager) -> dict[str, str]:
    """Every event type the modules of ``pm`` declare, with its description, by name.

    The composition root asks once when it builds ``pm``, so a type two modules declare
    stops ``crm serve``, ``crm worker`` and every other command at startup.

    :raises PluginError: two modules declare the same type (both named in the message).
    """
    found = _types.get(pm)
    if found is None:
        found = {
            name: str(description)
            for name, description in declared(
                pm, "crm_webhook_event_types", "the webhook event type"
            ).items()
        }
        _types[pm] = found
    return found


def known(event_type: str) -> bool:
    """Whether an enabled module of some plugin manager of this process declares the type."""
    return any(event_type in event_types(pm) for pm in list(_managers))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not a plain JSON value for a webhook event")


def new_event_id() -> str:
    """A fresh event id, sent as ``webhook-id``: ``msg_`` and 32 random hex digits."""
    return f"msg_{uuid.uuid4().hex}"


async def emit_event(
    session: AsyncSession, event_type: str, data: Mapping[str, Any], *, now: dt.datetime
) -> None:
    """Write the event to the outbox for every active subscription to ``event_type``, in the
    caller's transaction: it is posted once that commits, and never if it rolls back.

    :param data: global ids and plain JSON values (datetimes become ISO 8601 text); nothing
        a subscriber's administrator should not see.
    :raises UnknownEventType: no enabled module declares ``event_type``.
    """
    if not known(event_type):
        raise UnknownEventType(f"no enabled module declares the webhook event type {event_type!r}")
    rows = (
        await session.execute(
            select(WebhookSubscription.id, WebhookSubscription.event_types).where(
                WebhookSubscription.active.is_(True)
            )
        )
    ).all()
    listening = [row.id for row in rows if event_type in (row.event_types or [])]
    if not listening:
        return
    payload = json.loads(
        json.dumps(
            {
                "id": new_event_id(),
                "type": event_type,
                "timestamp": now.isoformat(),
                "data": dict(data),
            },
            default=_plain,
        )
    )
    for subscription_id in sorted(listening):
        await enqueue_message(
            session,
            channel=CHANNEL,
            kind=event_type,
            recipient=str(subscription_id),
            payload=payload,
            now=now,
        )


def customer_data(customer: Customer) -> dict[str, Any]:
    """What a customer event tells of the customer: no names, addresses or contact details."""
    return {
        "id": global_id("Customer", customer.id),
        "number": customer.number,
        "kind": customer.kind,
        "stage": customer.stage,
        "ownerId": global_id("User", customer.owner_id),
    }
