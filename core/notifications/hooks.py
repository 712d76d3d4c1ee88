"""The notifications module's wiring: the inbox's API and its permission."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.catalog import SYSTEM_ADMINISTRATOR
from core.extension import Grant, Permission, Scope
from core.hookspecs import hookimpl
from core.notifications import types
from core.notifications.mutations import NotificationMutation
from core.notifications.queries import NotificationQuery
from core.notifications.subscriptions import NotificationSubscription

PERMISSIONS = (
    Permission("notifications:manage", "Read other users' notifications (support, audits)."),
)


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
