"""The notifications module's wiring: the inbox's API and its permission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from core.catalog import SYSTEM_ADMINISTRATOR
from core.config import Settings
from core.db import Database
from core.extension import Grant, Permission, Scope
from core.hookspecs import hookimpl
from core.notifications import broker, service, types
from core.notifications.mutations import NotificationMutation
from core.notifications.queries import NotificationQuery
from core.notifications.subscriptions import NotificationSubscription
from core.schedule import JobContext, PeriodicJob

PERMISSIONS = (
    Permission("notifications:manage", "Read other users' notifications (support, audits)."),
)


async def _purge(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        purged = await service.purge_read(session, job.settings, job.now)
    return {"read notifications purged": purged}


@hookimpl
def crm_periodic_jobs() -> Sequence[PeriodicJob]:
    return [PeriodicJob("notifications.purge", dt.timedelta(hours=6), _purge)]


@hookimpl
async def crm_shutdown(settings: Settings, db: Database) -> None:
    await broker.close_hub(db)


@hookimpl
def crm_graphql_query() -> type[Any]:
    return NotificationQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return NotificationMutation


@hookimpl
def crm_graphql_subscription() -> type[Any]:
    return NotificationSubscription


@hookimpl
def crm_graphql_types() -> Sequence[type[Any]]:
    return [types.Notification, types.NotificationPreference]


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return {SYSTEM_ADMINISTRATOR: [Grant("notifications:manage", Scope.ALL)]}
