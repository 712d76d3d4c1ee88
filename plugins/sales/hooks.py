"""The sales plugin's hook implementations: everything it adds reaches core through here.

Wiring only: the declarations are in :mod:`.declarations`, the GraphQL fields in
:mod:`.queries`, :mod:`.mutations` and :mod:`.types`, the rules in :mod:`.service`, the demo
data in :mod:`.demo`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pluggy

from core.plugin_api import (
    AccessPolicy,
    CustomerNode,
    Grant,
    Migrations,
    Permission,
    TypeFields,
    hookimpl,
)
from plugins.sales import declarations, hookspecs, webhooks
from plugins.sales.mutations import SalesMutation
from plugins.sales.queries import SalesQuery
from plugins.sales.queries.opportunities import CUSTOMER_FIELDS


@hookimpl
def crm_add_hookspecs(pm: pluggy.PluginManager) -> None:
    pm.add_hookspecs(hookspecs)


@hookimpl
def crm_migrations() -> Migrations:
    return Migrations(
        branch="sales",
        directory=Path(__file__).parent / "migrations" / "versions",
        package="plugins.sales",
    )


@hookimpl
def crm_permissions() -> Sequence[Permission]:
    return declarations.PERMISSIONS


@hookimpl
def crm_role_grants() -> Mapping[str, Sequence[Grant]]:
    return declarations.ROLE_GRANTS


@hookimpl
def crm_access_policies() -> Sequence[AccessPolicy]:
    return declarations.POLICIES


@hookimpl
def crm_webhook_event_types() -> Mapping[str, str]:
    return webhooks.EVENT_TYPES


@hookimpl
def crm_graphql_query() -> type[Any]:
    return SalesQuery


@hookimpl
def crm_graphql_mutation() -> type[Any]:
    return SalesMutation


# --- pipeline ---


@hookimpl
def crm_graphql_type_fields() -> Sequence[TypeFields]:
    """Fields on core's types: Customer's are gathered in ``CUSTOMER_FIELDS`` (each
    aggregate adds its own there); other targets get their own entry in this list."""
    return [TypeFields(target=CustomerNode, fields=CUSTOMER_FIELDS)]
