"""Changes to users, teams, roles and API tokens: checked, scoped, audited.

Each function runs inside the caller's transaction (``mutate``), raises
:class:`~core.errors.UserErrors` for anything the client got wrong, and writes its audit
event in the same transaction. Two rules guard against privilege escalation: a caller can
only hand out roles (and build roles) whose grants they hold themselves, and the last active
administrator cannot be deactivated or lose the role.

One module per aggregate (:mod:`.users`, :mod:`.teams`, :mod:`.roles`, :mod:`.api_tokens`);
the names are re-exported here, so callers write ``service.add_user(...)``.
"""

from __future__ import annotations

from core.identity.service.api_tokens import (
    API_TOKEN_NAME_MAX,
    NewApiToken,
    create_api_token,
    revoke_api_token,
)
from core.identity.service.holders import users_with_permission
from core.identity.service.preferences import update_my_preferences
from core.identity.service.roles import (
    ROLE_KEY,
    GrantInput,
    create_role,
    delete_role,
    roles_by_key,
    update_role,
)
from core.identity.service.teams import create_team, team_named, update_team
from core.identity.service.user_changes import USER_FIELDS
from core.identity.service.users import (
    NewUser,
    PreparedPassword,
    add_user,
    assign_roles,
    create_user,
    deactivate_user,
    hash_ahead,
    managed_user,
    prepare_password_change,
    role_keys,
    set_user_password,
    update_user,
)

__all__ = [
    "API_TOKEN_NAME_MAX",
    "ROLE_KEY",
    "USER_FIELDS",
    "GrantInput",
    "NewApiToken",
    "NewUser",
    "PreparedPassword",
    "add_user",
    "assign_roles",
    "create_api_token",
    "create_role",
    "create_team",
    "create_user",
    "deactivate_user",
    "delete_role",
    "hash_ahead",
    "managed_user",
    "prepare_password_change",
    "revoke_api_token",
    "role_keys",
    "roles_by_key",
    "set_user_password",
    "team_named",
    "update_my_preferences",
    "update_role",
    "update_team",
    "update_user",
    "users_with_permission",
]
