"""The identity module's permissions, the grants of the built-in roles, its access policies.

Declared through the same hooks plugins use (see :mod:`core.identity.hooks`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select

from core.audit import AuditEvent
from core.catalog import (
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from core.extension import AccessPolicy, Grant, Permission, Scope
from core.identity.models import Team, User

PERMISSIONS = (
    Permission("users:read", "See users and teams."),
    Permission("users:manage", "Create, change and deactivate users; teams; assign roles."),
    Permission("roles:manage", "Create, change and delete custom roles."),
    Permission("audit:read", "Read the audit trail."),
    Permission("settings:manage", "Change system settings such as custom field definitions."),
)

OWN, TEAM, ALL = Scope.OWN, Scope.TEAM, Scope.ALL

ROLE_GRANTS: dict[str, list[Grant]] = {
    SALES_REPRESENTATIVE: [
        Grant("users:read", TEAM),
    ],
    CUSTOMER_MANAGER: [
        Grant("users:read", TEAM),
    ],
    SUPPORT_REPRESENTATIVE: [
        Grant("users:read", TEAM),
    ],
    FINANCE: [
        Grant("users:read", OWN),
    ],
    SYSTEM_ADMINISTRATOR: [
        Grant("users:read", ALL),
        Grant("users:manage", ALL),
        Grant("roles:manage", ALL),
        Grant("audit:read", ALL),
        Grant("settings:manage", ALL),
    ],
}


def _users_owned_by(ids: Any) -> ColumnElement[bool]:
    # A user "owns" their own record; TEAM reaches the members of the caller's team.
    return User.id.in_(ids)


def _teams_owned_by(ids: Any) -> ColumnElement[bool]:
    return Team.id.in_(select(User.team_id).where(User.id.in_(ids)))


def _audit_owned_by(ids: Any) -> ColumnElement[bool]:
    return AuditEvent.actor_id.in_(ids)


POLICIES = (
    AccessPolicy("users", _users_owned_by),
    AccessPolicy("teams", _teams_owned_by),
    AccessPolicy("audit", _audit_owned_by),
)
