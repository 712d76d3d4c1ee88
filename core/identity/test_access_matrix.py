"""Who may call what: every built-in role against every core operation, and every way a
bearer token can be unusable.

The expected outcome of each (role, operation) pair is written out in :data:`EXPECTED`,
read off the grants in ``core/identity/declarations.py`` by hand, not computed from them:

* ``users``/``teams`` need ``users:read`` (every built-in role holds it at some scope);
* ``auditEvents`` needs ``audit:read``; user and team mutations need ``users:manage``;
  role mutations need ``roles:manage`` (ADMINISTRATOR and SYSTEM_ADMINISTRATOR only);
* ``viewer``, ``roles``, ``permissions``, ``apiTokens``, ``createApiToken``,
  ``revokeApiToken`` (one's own), ``setUserPassword`` for oneself and
  ``updateMyPreferences`` need only a login.

The support desk's operations (with the tickets plugin enabled by name) have a table of
their own, :data:`DESK_EXPECTED`, which adds NOT_FOUND: a ticket out of the caller's reach.

An ALLOWED call must succeed (no GraphQL error, an empty ``errors`` list, and for a
mutation a change in the database); a FORBIDDEN one must fail with ``extensions.code``
FORBIDDEN and leave every table exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import MetaData, select, text, update
from sqlalchemy.engine import Connection
from strawberry import relay
from strawberry.types.base import get_object_definition

from core.catalog import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    FINANCE,
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from core.db import Database, utcnow
from core.identity import models, tokens
from core.identity.mutations import IdentityMutation
from core.identity.queries import IdentityQuery
from schema.testkit_tools import make_user
from tests.support import DEFAULT_PASSWORD, LOGIN, Api

ALLOWED = "ALLOWED"
FORBIDDEN = "FORBIDDEN"
A, F = ALLOWED, FORBIDDEN

ROLES = (
    ADMINISTRATOR,
    SALES_REPRESENTATIVE,
    CUSTOMER_MANAGER,
    SUPPORT_REPRESENTATIVE,
    FINANCE,
    SYSTEM_ADMINISTRATOR,
)

# Columns follow ROLES:  ADMIN SALES  CM  SUPPORT FINANCE SYSADMIN
EXPECTED: dict[str, tuple[str, str, str, str, str, str]] = {
    "viewer":              (A,    A,    A,    A,    A,    A),
    "users":               (A,    A,    A,    A,    A,    A),
    "teams":               (A,    A,    A,    A,    A,    A),
    "roles":               (A,    A,    A,    A,    A,    A),
    "permissions":         (A,    A,    A,    A,    A,    A),
    "auditEvents":         (A,    F,    F,    F,    F,    A),
    "apiTokens":           (A,    A,    A,    A,    A,    A),
    "createApiToken":      (A,    A,    A,    A,    A,    A),
    "revokeApiToken":      (A,    A,    A,    A,    A,    A),
    "createUser":          (A,    F,    F,    F,    F,    A),
    "updateUser":          (A,    F,    F,    F,    F,    A),
    "setUserPassword":     (A,    F,    F,    F,    F,    A),
    "setUserPasswordSelf": (A,    A,    A,    A,    A,    A),
    "updateMyPreferences": (A,    A,    A,    A,    A,    A),
    "assignRoles":         (A,    F,    F,    F,    F,    A),
    "createTeam":          (A,    F,    F,    F,    F,    A),
    "updateTeam":          (A,    F,    F,    F,    F,    A),
    "createRole":          (A,    F,    F,    F,    F,    A),
    "updateRole":          (A,    F,    F,    F,    F,    A),
    "deleteRole":          (A,    F,    F,    F,    F,    A),
    "deactivateUser":      (A,    F,    F,    F,    F,    A),
}  # fmt: skip

# The permission a FORBIDDEN answer must name, for the operations that need one.
NEEDS = {
    "users": "users:read",
    "teams": "users:read",
    "auditEvents": "audit:read",
    "createUser": "users:manage",
    "updateUser": "users:manage",
    "setUserPassword": "users:manage",
    "assignRoles": "users:manage",
    "createTeam": "users:manage",
    "updateTeam": "users:manage",
    "deactivateUser": "users:manage",
    "createRole": "roles:manage",
    "updateRole": "roles:manage",
    "deleteRole": "roles:manage",
}

NEW_PASSWORD = "Quiet-Harbour-Gannet-73"
SELF_PASSWORD = "Copper-Meadow-Falcon-58"
MATRIX_ROLE_KEY = "MATRIX_ROLE"

PUBLIC_OPERATIONS = {"login", "refreshToken", "logout"}


# --- the world each test acts on ------------------------------------------------------------


@dataclass
class World:
    """Records the operations act on: the caller, another user, a team, a custom role and
    one of the caller's API tokens."""

    db: Database
    caller_id: int
    target_id: int
    team_id: int
    role_id: int
    finance_role_id: int
    api_token_id: int


def gid(type_name: str, value: int) -> str:
    return relay.to_base64(type_name, value)


async def version_of(db: Database, model: Any, row_id: int) -> int:
    async with db.read() as session:
        version = await session.scalar(select(model.version).where(model.id == row_id))
    assert version is not None
    return int(version)


async def insert_api_token(
    db: Database, user_id: int, *, expires_at: dt.datetime | None = None
) -> tuple[int, str]:
    """An API token straight in the database; returns its id and secret."""
    secret = tokens.new_secret(tokens.API_PREFIX)
    async with db.transaction() as session:
        row = models.ApiToken(
            user_id=user_id,
            name="matrix token",
            token_hash=tokens.digest(secret),
            prefix=secret[:9],
            permissions=None,
            expires_at=expires_at,
        )
        session.add(row)
        await session.flush()
        return row.id, secret


async def build_world(api: Api, caller_id: int) -> World:
    db = api.db
    target_id = await make_user(db, api.settings, "target@example.com", (), team="South")
    async with db.transaction() as session:
        role = models.Role(key=MATRIX_ROLE_KEY, name="Matrix role", description="", builtin=False)
        session.add(role)
        await session.flush()
        session.add(models.RoleGrant(role_id=role.id, permission="users:read", scope="OWN"))
        team_id = await session.scalar(select(models.Team.id).where(models.Team.name == "South"))
        finance_id = await session.scalar(select(models.Role.id).where(models.Role.key == FINANCE))
        role_id = role.id
    assert team_id is not None
    assert finance_id is not None
    token_id, _ = await insert_api_token(db, caller_id)
    return World(db, caller_id, target_id, team_id, role_id, finance_id, token_id)


_reflected: weakref.WeakKeyDictionary[Database, MetaData] = weakref.WeakKeyDictionary()


async def snapshot(db: Database) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (found by reflection, once per database), as sorted text."""

    def read(connection: Connection) -> dict[str, list[tuple[str, ...]]]:
        metadata = _reflected.get(db)
        if metadata is None:
            metadata = _reflected[db] = MetaData()
            metadata.reflect(bind=connection)
        return {
            name: sorted(
                tuple(repr(value) for value in row) for row in connection.execute(select(table))
            )
            for name, table in metadata.tables.items()
        }

    async with db.engine.connect() as connection:
        return await connection.run_sync(read)


# --- the operations -------------------------------------------------------------------------

Variables = Callable[[World], Awaitable[dict[str, Any]]]


async def no_variables(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Operation:
    name: str
    document: str
    variables: Variables = no_variables

    @property
    def is_mutation(self) -> bool:
        return self.document.lstrip().startswith("mutation")


async def _revoke_token(w: World) -> dict[str, Any]:
    return {"id": gid("ApiToken", w.api_token_id)}


async def _create_user(w: World) -> dict[str, Any]:
    return {"email": "created@example.com", "name": "Created User", "password": NEW_PASSWORD}


async def _update_user(w: World) -> dict[str, Any]:
    return {
        "id": gid("User", w.target_id),
        "version": await version_of(w.db, models.User, w.target_id),
    }


async def _set_password_other(w: World) -> dict[str, Any]:
    return {"id": gid("User", w.target_id), "password": NEW_PASSWORD}


async def _set_password_self(w: World) -> dict[str, Any]:
    return {"id": gid("User", w.caller_id), "password": SELF_PASSWORD, "current": DEFAULT_PASSWORD}


async def _assign_roles(w: World) -> dict[str, Any]:
    return {"id": gid("User", w.target_id), "roles": [gid("Role", w.finance_role_id)]}


async def _update_team(w: World) -> dict[str, Any]:
    return {"id": gid("Team", w.team_id), "version": await version_of(w.db, models.Team, w.team_id)}


async def _role(w: World) -> dict[str, Any]:
    return {"id": gid("Role", w.role_id), "version": await version_of(w.db, models.Role, w.role_id)}


ERRORS = "errors { field message code }"

# In this order: mutations of the target user come before deactivating it, the custom role
# is updated before it is deleted.
OPERATIONS: tuple[Operation, ...] = (
    Operation("viewer", "query { viewer { id email } }"),
    Operation("users", "query { users { totalCount edges { node { id } } } }"),
    Operation("teams", "query { teams { edges { node { id name } } } }"),
    Operation("roles", "query { roles { key } }"),
    Operation("permissions", "query { permissions { name } }"),
    Operation("auditEvents", "query { auditEvents { edges { node { id action } } } }"),
    Operation("apiTokens", "query { apiTokens { id name } }"),
    Operation(
        "createApiToken",
        f'mutation {{ createApiToken(input: {{name: "ci"}}) {{ secret {ERRORS} }} }}',
    ),
    Operation(
        "revokeApiToken",
        "mutation($id: ID!) { revokeApiToken(input: {id: $id}) "
        f"{{ apiToken {{ revokedAt }} {ERRORS} }} }}",
        _revoke_token,
    ),
    Operation(
        "createUser",
        "mutation($email: String!, $name: String!, $password: String!) { createUser(input: "
        "{email: $email, name: $name, password: $password}) "
        f"{{ user {{ id }} {ERRORS} }} }}",
        _create_user,
    ),
    Operation(
        "updateUser",
        "mutation($id: ID!, $version: Int!) { updateUser(input: "
        '{id: $id, version: $version, name: "Renamed Target"}) '
        f"{{ user {{ name }} {ERRORS} }} }}",
        _update_user,
    ),
    Operation(
        "setUserPassword",
        "mutation($id: ID!, $password: String!) { setUserPassword(input: "
        f"{{userId: $id, password: $password}}) {{ user {{ id }} {ERRORS} }} }}",
        _set_password_other,
    ),
    Operation(
        "setUserPasswordSelf",
        "mutation($id: ID!, $password: String!, $current: String!) { setUserPassword(input: "
        "{userId: $id, password: $password, currentPassword: $current}) "
        f"{{ user {{ id }} {ERRORS} }} }}",
        _set_password_self,
    ),
    Operation(
        "updateMyPreferences",
        'mutation { updateMyPreferences(input: {timeZone: "Asia/Shanghai", locale: "en"}) '
        f"{{ user {{ timeZone }} {ERRORS} }} }}",
    ),
    Operation(
        "assignRoles",
        "mutation($id: ID!, $roles: [ID!]!) { assignRoles(input: {userId: $id, roleIds: $roles})"
        f" {{ user {{ roles {{ key }} }} {ERRORS} }} }}",
        _assign_roles,
    ),
    Operation(
        "createTeam",
        f'mutation {{ createTeam(input: {{name: "Matrix Team"}}) {{ team {{ id }} {ERRORS} }} }}',
    ),
    Operation(
        "updateTeam",
        "mutation($id: ID!, $version: Int!) { updateTeam(input: "
        '{id: $id, version: $version, name: "South Renamed"}) '
        f"{{ team {{ name }} {ERRORS} }} }}",
        _update_team,
    ),
    Operation(
        "createRole",
        'mutation { createRole(input: {name: "Reader", grants: '
        '[{permission: "users:read", scope: OWN}]}) '
        f"{{ role {{ key }} {ERRORS} }} }}",
    ),
    Operation(
        "updateRole",
        "mutation($id: ID!, $version: Int!) { updateRole(input: "
        '{id: $id, version: $version, description: "changed"}) '
        f"{{ role {{ description }} {ERRORS} }} }}",
        _role,
    ),
    Operation(
        "deleteRole",
        "mutation($id: ID!, $version: Int!) { deleteRole(input: {id: $id, version: $version}) "
        f"{{ deletedRoleId {ERRORS} }} }}",
        _role,
    ),
    Operation(
        "deactivateUser",
        "mutation($id: ID!, $version: Int!) { deactivateUser(input: "
        f"{{id: $id, version: $version}}) {{ user {{ active }} {ERRORS} }} }}",
        _update_user,
    ),
)
BY_NAME = {operation.name: operation for operation in OPERATIONS}


def root_field(operation: Operation) -> str:
    """The root field an operation calls (``setUserPasswordSelf`` calls setUserPassword)."""
    return operation.name.removesuffix("Self")


def test_the_table_covers_every_core_operation() -> None:
    """Every protected root field of core is in the table, with one outcome per role."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(part.title() for part in rest)

    declared = {
        camel(field.python_name)
        for cls in (IdentityQuery, IdentityMutation)
        for field in get_object_definition(cls, strict=True).fields
    }
    assert declared - PUBLIC_OPERATIONS == {root_field(op) for op in OPERATIONS}
    assert set(EXPECTED) == set(BY_NAME)
    assert (
        {name for name, row in EXPECTED.items() if FORBIDDEN in row} <= set(NEEDS) <= set(EXPECTED)
    )
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())
    assert all(outcome in (ALLOWED, FORBIDDEN) for row in EXPECTED.values() for outcome in row)


# --- role x operation -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_role_against_every_operation(api: Api, role: str) -> None:
    caller = await api.user("caller@example.com", [role], team="North")
    assert caller.user_id is not None
    world = await build_world(api, caller.user_id)
    column = ROLES.index(role)
    for operation in OPERATIONS:
        expected = EXPECTED[operation.name][column]
        field = root_field(operation)
        variables = await operation.variables(world)
        before = await snapshot(api.db)
        body = await caller.gql(operation.document, variables)
        after = await snapshot(api.db)
        if expected == FORBIDDEN:
            errors = body.get("errors") or []
            assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"], (
                operation.name,
                body,
            )
            assert errors[0]["path"] == [field]
            assert errors[0]["extensions"]["permission"] == NEEDS[operation.name]
            assert errors[0]["message"] == f"permission '{NEEDS[operation.name]}' is required"
            assert body["data"] == {field: None}
            assert after == before, f"{role} {operation.name}: a refused call changed data"
        else:
            assert "errors" not in body, (operation.name, body)
            assert body["data"][field] is not None
            if operation.is_mutation:
                assert body["data"][field]["errors"] == [], (operation.name, body)
                assert after != before, f"{role} {operation.name}: nothing was changed"


# --- tokens that do not authenticate -------------------------------------------------------


async def test_every_protected_operation_needs_a_token(admin: Api) -> None:
    assert admin.user_id is not None
    world = await build_world(admin, admin.user_id)
    anonymous = admin.with_token(None)
    before = await snapshot(admin.db)
    for operation in OPERATIONS:
        body = await anonymous.gql(operation.document, await operation.variables(world))
        errors = body.get("errors") or []
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"], (
            operation.name,
            body,
        )
        assert "authentication required" in errors[0]["message"]
        assert body["data"] == {errors[0]["path"][0]: None}
    assert await snapshot(admin.db) == before


async def _logged_out(api: Api, user: Api) -> str:
    body = await user.gql("mutation { logout { revoked errors { code } } }")
    assert body["data"]["logout"] == {"revoked": True, "errors": []}
    assert user.token is not None
    return user.token


async def _session_id(db: Database, user_id: int) -> str:
    async with db.read() as session:
        found = await session.scalar(
            select(models.AuthSession.id).where(models.AuthSession.user_id == user_id)
        )
    assert found is not None
    return found


async def _expired_jwt(api: Api, user: Api) -> str:
    assert user.user_id is not None
    session_id = await _session_id(api.db, user.user_id)
    token, expires_at = tokens.issue_access_token(
        api.settings.secret_key,
        user.user_id,
        session_id,
        dt.timedelta(minutes=15),
        utcnow() - dt.timedelta(hours=1),
    )
    assert expires_at < utcnow()
    # The same token minted now is accepted: only its age is wrong.
    fresh, _ = tokens.issue_access_token(
        api.settings.secret_key, user.user_id, session_id, dt.timedelta(minutes=15), utcnow()
    )
    body = await api.with_token(fresh).gql("{ viewer { email } }")
    assert body["data"]["viewer"]["email"] == "holder@example.com", body
    return token


async def _foreign_jwt(api: Api, user: Api) -> str:
    assert user.user_id is not None
    session_id = await _session_id(api.db, user.user_id)
    token, _ = tokens.issue_access_token(
        "another-secret-key-that-is-long-enough-000",
        user.user_id,
        session_id,
        dt.timedelta(minutes=15),
        utcnow(),
    )
    return token


async def _deactivated(api: Api, user: Api) -> str:
    async with api.db.transaction() as session:
        await session.execute(
            update(models.User).where(models.User.id == user.user_id).values(is_active=False)
        )
    assert user.token is not None
    return user.token


async def _deactivated_by_admin(api: Api, user: Api) -> str:
    admin = await api.user("boss@example.com", [ADMINISTRATOR])
    assert user.user_id is not None
    body = await admin.gql(
        BY_NAME["deactivateUser"].document,
        {
            "id": gid("User", user.user_id),
            "version": await version_of(api.db, models.User, user.user_id),
        },
    )
    assert body["data"]["deactivateUser"]["errors"] == [], body
    assert user.token is not None
    return user.token


async def _revoked_api_token(api: Api, user: Api) -> str:
    assert user.user_id is not None
    token_id, secret = await insert_api_token(api.db, user.user_id)
    body = await user.gql(BY_NAME["revokeApiToken"].document, {"id": gid("ApiToken", token_id)})
    assert body["data"]["revokeApiToken"]["errors"] == [], body
    return secret


async def _expired_api_token(api: Api, user: Api) -> str:
    assert user.user_id is not None
    _, secret = await insert_api_token(
        api.db, user.user_id, expires_at=utcnow() - dt.timedelta(minutes=1)
    )
    return secret


async def _unknown_api_token(api: Api, user: Api) -> str:
    return tokens.new_secret(tokens.API_PREFIX)


async def _refresh_token(api: Api, user: Api) -> str:
    body = await api.gql(LOGIN, {"email": "holder@example.com", "password": DEFAULT_PASSWORD})
    token = body["data"]["login"]["refreshToken"]
    assert token
    return str(token)


async def _garbage(api: Api, user: Api) -> str:
    return "not-a-token-at-all"


BadToken = Callable[[Api, Api], Awaitable[str]]

# (how the token is made, the code a client acts on, what the message must say)
BAD_TOKENS: dict[str, tuple[BadToken, str, str]] = {
    "garbage": (_garbage, "UNAUTHENTICATED", "the access token is not valid"),
    "refresh token as bearer": (_refresh_token, "UNAUTHENTICATED", "the access token is not valid"),
    "signed with another key": (_foreign_jwt, "UNAUTHENTICATED", "the access token is not valid"),
    "expired access token": (_expired_jwt, "TOKEN_EXPIRED", "the access token has expired"),
    "logged out": (_logged_out, "SESSION_ENDED", "the session has ended"),
    "deactivated user": (_deactivated, "SESSION_ENDED", "this account is deactivated"),
    "deactivated by an administrator": (
        _deactivated_by_admin,
        "SESSION_ENDED",
        "the session has ended",
    ),
    "revoked API token": (_revoked_api_token, "UNAUTHENTICATED", "the API token has been revoked"),
    "expired API token": (_expired_api_token, "UNAUTHENTICATED", "the API token has expired"),
    "unknown API token": (_unknown_api_token, "UNAUTHENTICATED", "the API token is not valid"),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
async def test_unusable_token_is_refused_with_its_code_and_reason(api: Api, kind: str) -> None:
    make, code, reason = BAD_TOKENS[kind]
    holder = await api.user("holder@example.com", [ADMINISTRATOR])
    assert holder.user_id is not None
    world = await build_world(api, holder.user_id)
    # The holder's login works before the token is spoiled.
    body = await holder.gql("{ viewer { email } }")
    assert body["data"]["viewer"]["email"] == "holder@example.com"
    bad = api.with_token(await make(api, holder))
    before = await snapshot(api.db)
    for operation in OPERATIONS:
        body = await bad.gql(operation.document, await operation.variables(world))
        errors = body.get("errors") or []
        assert [e["extensions"]["code"] for e in errors] == [code], (
            kind,
            operation.name,
            body,
        )
        assert reason in errors[0]["message"], (kind, errors[0]["message"])
        assert body["data"] == {errors[0]["path"][0]: None}
    assert await snapshot(api.db) == before, f"{kind}: a refused call changed data"


async def test_malformed_authorization_header_is_unauthenticated(api: Api) -> None:
    body = await api.gql("{ viewer { id } }", headers={"Authorization": "Basic dXNlcjpwdw=="})
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in error["message"]


async def test_login_refresh_and_logout_need_no_token(api: Api) -> None:
    await make_user(api.db, api.settings, "public@example.com", [FINANCE])
    body = await api.gql(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
        "{ accessToken refreshToken errors { code } } }",
        {"e": "public@example.com", "p": DEFAULT_PASSWORD},
    )
    login = body["data"]["login"]
    assert login["errors"] == []
    assert login["accessToken"]
    body = await api.gql(
        "mutation($r: String!) { refreshToken(input: {refreshToken: $r}) "
        "{ refreshToken errors { code } } }",
        {"r": login["refreshToken"]},
    )
    refreshed = body["data"]["refreshToken"]
    assert refreshed["errors"] == []
    body = await api.gql(
        "mutation($r: String!) { logout(input: {refreshToken: $r}) { revoked errors { code } } }",
        {"r": refreshed["refreshToken"]},
    )
    assert body["data"]["logout"] == {"revoked": True, "errors": []}
    # The logged-out session's access token no longer works.
    body = await api.with_token(login["accessToken"]).gql("{ viewer { id } }")
    assert body["errors"][0]["extensions"]["code"] == "SESSION_ENDED"


# --- the support desk (tickets plugin) -------------------------------------------------------
#
# With the tickets plugin enabled (by name: core imports no plugin), each built-in role
# against the support desk's operations, read off the plugin's grants by hand: support
# holds tickets:read ALL, tickets:write OWN, tickets:assign TEAM and tickets:handle ALL; a
# customer manager tickets:read/write/assign TEAM; a sales representative tickets:read/write
# OWN; the system administrator tickets:read and tickets:manage ALL; finance nothing. OWN
# reaches the tickets assigned to the caller, opened by the caller or on customers the
# caller owns (TEAM: the team's); tickets:assign also reaches unassigned tickets the caller
# may read (the queue), and may hand a ticket to the team or to the support desk
# (tickets:handle). The caller is in team North; the tickets are on a customer owned by a
# user of team South. NOT_FOUND: a ticket out of the caller's reach, answered as one that
# does not exist, naming ``input.id``.

NOT_FOUND = "NOT_FOUND"
N = NOT_FOUND

# Columns follow ROLES:      ADMIN SALES  CM  SUPPORT FINANCE SYSADMIN
DESK_EXPECTED: dict[str, tuple[str, str, str, str, str, str]] = {
    "ticketAssignees":        (A,    F,    A,    A,    F,    F),
    "takeQueuedTicket":       (A,    F,    N,    A,    F,    F),
    "acknowledgeQueued":      (A,    N,    N,    N,    F,    F),
    "acknowledgeOwnOpened":   (A,    A,    A,    A,    F,    F),
    "handOwnOpenedToDesk":    (A,    F,    A,    A,    F,    F),
    "takeSomeoneElses":       (A,    F,    N,    N,    F,    F),
}  # fmt: skip

DESK_NEEDS = {
    "ticketAssignees": "tickets:assign",
    "takeQueuedTicket": "tickets:assign",
    "acknowledgeQueued": "tickets:write",
    "acknowledgeOwnOpened": "tickets:write",
    "handOwnOpenedToDesk": "tickets:assign",
    "takeSomeoneElses": "tickets:assign",
}


@dataclass
class DeskWorld:
    """The tickets the desk operations act on, by operation, and the users they name."""

    db: Database
    caller_id: int
    desk_id: int
    tickets: dict[str, int]


async def _ticket_version(db: Database, ticket_id: int) -> int:
    async with db.read() as session:
        version = await session.scalar(
            text("SELECT version FROM tickets WHERE id = :id"), {"id": ticket_id}
        )
    assert version is not None
    return int(version)


def _desk_document(mutation: str, extra: str = "") -> str:
    return (
        f"mutation($id: ID!, $version: Int!{extra}) {{ {mutation}(input: "
        f"{{id: $id, version: $version{', assigneeId: $to' if extra else ''}}}) "
        f"{{ ticket {{ id }} {ERRORS} }} }}"
    )


def _desk_variables(key: str, to: str | None) -> Callable[[DeskWorld], Awaitable[dict[str, Any]]]:
    async def variables(w: DeskWorld) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": gid("Ticket", w.tickets[key]),
            "version": await _ticket_version(w.db, w.tickets[key]),
        }
        if to is not None:
            found["to"] = gid("User", w.caller_id if to == "caller" else w.desk_id)
        return found

    return variables


DESK_OPERATIONS: dict[str, tuple[str, Callable[[DeskWorld], Awaitable[dict[str, Any]]] | None]] = {
    "ticketAssignees": ("query { ticketAssignees { id name } }", None),
    "takeQueuedTicket": (
        _desk_document("assignTicket", ", $to: ID"),
        _desk_variables("takeQueuedTicket", "caller"),
    ),
    "acknowledgeQueued": (
        _desk_document("acknowledgeTicket"),
        _desk_variables("acknowledgeQueued", None),
    ),
    "acknowledgeOwnOpened": (
        _desk_document("acknowledgeTicket"),
        _desk_variables("acknowledgeOwnOpened", None),
    ),
    "handOwnOpenedToDesk": (
        _desk_document("assignTicket", ", $to: ID"),
        _desk_variables("handOwnOpenedToDesk", "desk"),
    ),
    "takeSomeoneElses": (
        _desk_document("assignTicket", ", $to: ID"),
        _desk_variables("takeSomeoneElses", "caller"),
    ),
}


async def build_desk_world(api: Api, caller_id: int) -> DeskWorld:
    """A customer of team South, a support representative of another team (the desk), and
    one ticket per operation: queued (unassigned, opened by someone else), opened by the
    caller (the OPENED step written as the caller's), or worked by the customer's owner."""
    admin = await api.user("desk-admin@example.com", [ADMINISTRATOR])
    owner_id = await make_user(api.db, api.settings, "south@example.com", (), team="South")
    desk_id = await make_user(
        api.db, api.settings, "desk@example.com", [SUPPORT_REPRESENTATIVE], team="Desk"
    )
    body = await admin.gql(
        'mutation($owner: ID!) { createCustomer(input: {name: "Queue Co", ownerId: $owner})'
        f" {{ customer {{ id }} {ERRORS} }} }}",
        {"owner": gid("User", owner_id)},
    )
    customer = body["data"]["createCustomer"]["customer"]["id"]
    tickets: dict[str, int] = {}
    for key in DESK_OPERATIONS:
        if key == "ticketAssignees":
            continue
        body = await admin.gql(
            "mutation($c: ID!, $s: String!) { openTicket(input: "
            "{customerId: $c, type: FAULT, subject: $s}) "
            f"{{ ticket {{ id }} {ERRORS} }} }}",
            {"c": customer, "s": key},
        )
        ticket_id = int(relay.from_base64(body["data"]["openTicket"]["ticket"]["id"])[1])
        tickets[key] = ticket_id
        async with api.db.transaction() as session:
            if "OwnOpened" in key:
                await session.execute(
                    text(
                        "UPDATE ticket_events SET actor_id = :caller "
                        "WHERE ticket_id = :id AND kind = 'OPENED'"
                    ),
                    {"caller": caller_id, "id": ticket_id},
                )
            elif key == "takeSomeoneElses":
                await session.execute(
                    text("UPDATE tickets SET assignee_id = :owner WHERE id = :id"),
                    {"owner": owner_id, "id": ticket_id},
                )
    return DeskWorld(api.db, caller_id, desk_id, tickets)


def test_the_desk_table_covers_every_role() -> None:
    assert set(DESK_EXPECTED) == set(DESK_OPERATIONS) == set(DESK_NEEDS)
    assert all(len(row) == len(ROLES) for row in DESK_EXPECTED.values())
    assert all(o in (ALLOWED, FORBIDDEN, NOT_FOUND) for r in DESK_EXPECTED.values() for o in r)


@pytest.mark.parametrize("crm_plugins", [("fixture", "tickets")], ids=["tickets"])
@pytest.mark.parametrize("role", ROLES)
async def test_role_against_the_support_desk(api: Api, role: str) -> None:
    caller = await api.user("caller@example.com", [role], team="North")
    assert caller.user_id is not None
    world = await build_desk_world(api, caller.user_id)
    column = ROLES.index(role)
    for name, (document, make_variables) in DESK_OPERATIONS.items():
        expected = DESK_EXPECTED[name][column]
        field = document.split("{", 2)[1].split("(")[0].strip()
        variables = await make_variables(world) if make_variables is not None else {}
        before = await snapshot(api.db)
        body = await caller.gql(document, variables)
        after = await snapshot(api.db)
        if expected == ALLOWED:
            assert "errors" not in body, (name, body)
            assert body["data"][field] is not None, (name, body)
            if document.startswith("mutation"):
                assert body["data"][field]["errors"] == [], (name, body)
                assert after != before, f"{role} {name}: nothing was changed"
            continue
        errors = body.get("errors") or []
        assert [e["extensions"]["code"] for e in errors] == [expected], (role, name, body)
        if expected == FORBIDDEN:
            assert errors[0]["extensions"]["permission"] == DESK_NEEDS[name]
        else:
            assert errors[0]["extensions"]["argument"] == "input.id", (role, name, body)
        assert body["data"] == {field: None}
        assert after == before, f"{role} {name}: a refused call changed data"
