"""The webhooks module's wiring: subscriptions, the ``webhook`` outbox channel, the delivery
log's clean-up (``webhooks.purge_log``), and the customer events it emits inside each
change's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pluggy
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.customers.models import Customer
from core.extension import Grant, Permission
from core.hookspecs import hookimpl
from core.notifications.service import NotificationKind
from core.outbox import Deliverer
from core.schedule import PeriodicJob
from core.webhooks import declarations, delivery, events, types
from core.webhooks.mutations import WebhookMutation
from core.webhooks.queries import WebhookQuery


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    events.remember(pm)


@hookimpl
def crm_graphql_query() -> type[Any]:
    return WebhookQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return WebhookMutation


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [types.WebhookSubscription, types.WebhookDelivery]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return declarations.PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return declarations.ROLE_GRANTS


@hookimpl
def crm_webhook_event_types() -> Mapping[str, str]:
    return events.CORE_EVENT_TYPES


@hookimpl
def crm_notification_kinds() -> Mapping[str, NotificationKind]:
    return delivery.KINDS


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [PeriodicJob("webhooks.purge_log", dt.timedelta(hours=6), delivery.purge_log)]


@hookimpl
def crm_outbox_channels() -> Mapping[str, Deliverer]:
    return {events.CHANNEL: delivery.deliver}


@hookimpl
async def crm_customer_created(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> None:
    await events.emit_event(
        session,
        "customer.created",
        {"customer": events.customer_data(customer)},
        now=context.now(),
    )


@hookimpl
async def crm_customer_updated(
    session: AsyncSession, customer: Customer, changes: Mapping[str, Any], context: RequestContext
) -> None:
    await events.emit_event(
        session,
        "customer.updated",
        {"customer": events.customer_data(customer), "changedFields": sorted(changes)},
        now=context.now(),
    )


@hookimpl
async def crm_customer_archived(
    session: AsyncSession, customer: Customer, context: RequestContext
) -> None:
    await events.emit_event(
        session,
        "customer.archived",
        {"customer": events.customer_data(customer)},
        now=context.now(),
    )


@hookimpl
async def crm_customer_merged(
    session: AsyncSession, source: Customer, target: Customer, context: RequestContext
) -> None:
    await events.emit_event(
        session,
        "customer.merged",
        {"source": events.customer_data(source), "target": events.customer_data(target)},
        now=context.now(),
    )
