"""The webhooks module's permission and the built-in role that holds it.

Subscriptions are the deployment's, not any user's: there is no access policy, so only a
grant at ALL scope reaches them (the administrators' roles).
"""

from __future__ import annotations

from core.catalog import SYSTEM_ADMINISTRATOR
from core.extension import Grant, Permission, Scope

MANAGE = "webhooks:manage"

PERMISSIONS = (
    Permission(
        MANAGE,
        "Create, change and delete webhook subscriptions; read their delivery log; redeliver.",
    ),
)

ROLE_GRANTS: dict[str, list[Grant]] = {SYSTEM_ADMINISTRATOR: [Grant(MANAGE, Scope.ALL)]}
