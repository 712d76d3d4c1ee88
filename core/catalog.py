"""The permission catalogue and the built-in roles, gathered from core and the plugins.

Core's domains declare their permissions and built-in role grants through the same hooks as
every plugin. :func:`catalog_for` builds the catalogue once per plugin manager: which
permissions exist and who declared them, what each built-in role holds by default, how each
resource's records map to their owners, and the identity module that authenticates callers
and knows who is in a team.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import pluggy

from core.extension import AccessPolicy, Grant, Identity, Permission, Scope
from core.host import PluginError, contributions, module_label

ADMINISTRATOR = "ADMINISTRATOR"
SALES_REPRESENTATIVE = "SALES_REPRESENTATIVE"
CUSTOMER_MANAGER = "CUSTOMER_MANAGER"
SUPPORT_REPRESENTATIVE = "SUPPORT_REPRESENTATIVE"
FINANCE = "FINANCE"
SYSTEM_ADMINISTRATOR = "SYSTEM_ADMINISTRATOR"


@dataclass(frozen=True)
class BuiltinRole:
    key: str
    name: str
    description: str


BUILTIN_ROLES: tuple[BuiltinRole, ...] = (
    BuiltinRole(ADMINISTRATOR, "Administrator", "Everything, in every module, for all records."),
    BuiltinRole(
        SALES_REPRESENTATIVE,
        "Sales representative",
        "Reads and works on the customers they own and follows them up.",
    ),
    BuiltinRole(
        CUSTOMER_MANAGER,
        "Customer manager",
        "Reads, works on and exports the customers of their team; surveys and reports.",
    ),
    BuiltinRole(
        SUPPORT_REPRESENTATIVE,
        "Support representative",
        "Reads customers and contacts and works service tickets.",
    ),
    BuiltinRole(FINANCE, "Finance", "Reads customers, loyalty and billing data."),
    BuiltinRole(
        SYSTEM_ADMINISTRATOR,
        "System administrator",
        "Users, teams, roles, the audit trail and system settings; reads customers only.",
    ),
)
BUILTIN_ROLE_KEYS = frozenset(role.key for role in BUILTIN_ROLES)

PERMISSION_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")


class CatalogError(PluginError):
    """A module declared a malformed or duplicate permission, or a grant of an unknown one."""


@dataclass(frozen=True)
class DeclaredPermission:
    name: str
    description: str
    module: str


@dataclass
class Catalog:
    """Everything about permissions that the enabled modules declare."""

    permissions: dict[str, DeclaredPermission] = field(default_factory=dict)
    defaults: dict[str, dict[str, Scope]] = field(default_factory=dict)
    policies: dict[str, AccessPolicy] = field(default_factory=dict)
    identity: Identity | None = None

    def default_grants(self, role_key: str) -> dict[str, Scope]:
        """What a built-in role holds by code (nothing for a custom role)."""
        if role_key == ADMINISTRATOR:
            return dict.fromkeys(self.permissions, Scope.ALL)
        return dict(self.defaults.get(role_key, {}))


def _merge(grants: dict[str, Scope], permission: str, scope: Scope) -> None:
    current = grants.get(permission)
    if current is None or scope.covers(current):
        grants[permission] = scope


def merge_grants(*sources: Mapping[str, Scope]) -> dict[str, Scope]:
    """The union of grant maps, keeping the widest scope of each permission."""
    merged: dict[str, Scope] = {}
    for source in sources:
        for permission, scope in source.items():
            _merge(merged, permission, scope)
    return merged


def build_catalog(pm: pluggy.PluginManager) -> Catalog:
    catalog = Catalog(identity=pm.hook.crm_identity())
    for plugin, declared in contributions(pm, "crm_permissions"):
        module = module_label(pm, plugin)
        for permission in cast(Sequence[Permission], declared):
            if not isinstance(permission, Permission) or not PERMISSION_NAME.match(permission.name):
                raise CatalogError(
                    f"{plugin}: {permission!r} is not a Permission named resource:action"
                )
            existing = catalog.permissions.get(permission.name)
            if existing is not None:
                raise CatalogError(
                    f"permission {permission.name!r} is declared by both "
                    f"{existing.module!r} and {module!r}"
                )
            catalog.permissions[permission.name] = DeclaredPermission(
                permission.name, permission.description, module
            )
    for plugin, by_role in contributions(pm, "crm_role_grants"):
        for role_key, grants in cast(Mapping[str, Sequence[Grant]], by_role).items():
            if role_key not in BUILTIN_ROLE_KEYS or role_key == ADMINISTRATOR:
                raise CatalogError(
                    f"{plugin}: grants for {role_key!r}, which is not a built-in role "
                    "that takes grants"
                )
            role = catalog.defaults.setdefault(role_key, {})
            for grant in grants:
                if not isinstance(grant, Grant) or grant.permission not in catalog.permissions:
                    raise CatalogError(
                        f"{plugin}: {role_key} is granted {grant!r}, "
                        "which is not a declared permission"
                    )
                _merge(role, grant.permission, grant.scope)
    for plugin, policies in contributions(pm, "crm_access_policies"):
        for policy in cast(Sequence[AccessPolicy], policies):
            if policy.resource in catalog.policies:
                raise CatalogError(
                    f"{plugin}: resource {policy.resource!r} already has an access policy"
                )
            catalog.policies[policy.resource] = policy
    return catalog


_catalogs: weakref.WeakKeyDictionary[pluggy.PluginManager, Catalog] = weakref.WeakKeyDictionary()


def catalog_for(pm: pluggy.PluginManager) -> Catalog:
    """The catalogue of ``pm``'s modules, built on first use."""
    catalog = _catalogs.get(pm)
    if catalog is None:
        catalog = build_catalog(pm)
        _catalogs[pm] = catalog
    return catalog
