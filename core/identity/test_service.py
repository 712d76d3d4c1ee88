"""The rules of users, teams and roles, through the API: validation that names fields,
optimistic concurrency, no privilege escalation, the last administrator, custom and
extended roles, password changes, and the audit trail every change leaves."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from strawberry import relay

from core.audit import AuditEvent
from core.catalog import (
    ADMINISTRATOR,
    FINANCE,
    SALES_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from core.db import Database
from core.identity import models
from schema.testkit_tools import make_user
from tests.support import DEFAULT_PASSWORD, Api

STRONG = "Harbour-Thistle-Comet-27"
ERRORS = "errors { field message code }"
USER_FIELDS = "id email name active version team { name } roles { key }"
USER = f"user {{ {USER_FIELDS} }}"
ROLE = "role { id key name description builtin version grants { permission scope builtin } }"
AUDIT = """
query($entity: ID) {
  auditEvents(filter: {entityId: $entity}, first: 100) {
    edges { node { action entityId actorLabel clientAddress
                   changes { field before after secret } } }
  }
}
"""
AUDIT_EVENTS = "{ auditEvents { edges { node { actorLabel } } } }"


def gid(type_name: str, value: int) -> str:
    return relay.to_base64(type_name, value)


async def mutate(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    """Call mutation ``name`` with ``input``; return its payload (no GraphQL error allowed)."""
    input_type = name[0].upper() + name[1:] + "Input"
    body = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}",
        {"input": input},
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][name]
    return payload


async def refusal(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    """Call mutation ``name``, which must be refused at the top level (FORBIDDEN, NOT_FOUND):
    its field null, one GraphQL error; return the response."""
    input_type = name[0].upper() + name[1:] + "Input"
    body: dict[str, Any] = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}",
        {"input": input},
    )
    assert body["data"] == {name: None}, body
    assert len(body["errors"]) == 1, body
    return body


def top_level(body: dict[str, Any]) -> tuple[str, str | None]:
    """``(extensions.code, extensions.argument)`` of a refusal at the top level."""
    extensions = body["errors"][0]["extensions"]
    return extensions["code"], extensions.get("argument")


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["errors"]]


async def roles(api: Api) -> dict[str, dict[str, Any]]:
    """Every role by key: id, version, builtin."""
    body = await api.gql("{ roles { id key version builtin } }")
    return {role["key"]: role for role in body["data"]["roles"]}


async def user(api: Api, user_id: int) -> dict[str, Any]:
    body = await api.gql(
        f"query($id: ID!) {{ node(id: $id) {{ ... on User {{ {USER_FIELDS} }} }} }}",
        {"id": gid("User", user_id)},
    )
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["node"]
    return found


async def events(admin: Api, entity: str) -> list[dict[str, Any]]:
    """Audit events of one record, oldest first, with changes as {field: (before, after)}."""
    body = await admin.gql(AUDIT, {"entity": entity})
    assert "errors" not in body, body
    found = []
    for edge in reversed(body["data"]["auditEvents"]["edges"]):
        node = edge["node"]
        node["changes"] = {
            c["field"]: "<secret>" if c["secret"] else (c["before"], c["after"])
            for c in node["changes"]
        }
        found.append(node)
    return found


async def count(db: Database, model: Any) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def refused(body: dict[str, Any], code: str) -> str:
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code, body
    return str(error["message"])


# --- createUser -------------------------------------------------------------------------------


CREATE_USER_CASES: list[tuple[dict[str, Any], list[tuple[str | None, str]]]] = [
    ({"email": "not-an-email"}, [("email", "INVALID")]),
    ({"email": "  "}, [("email", "REQUIRED")]),
    ({"email": "ADMIN@Example.COM"}, [("email", "DUPLICATE")]),  # the admin's, other case
    ({"password": "password123"}, [("password", "INVALID")]),
    ({"password": "Short-1"}, [("password", "TOO_SHORT")]),
    ({"password": "Kimberly-Nordstrom-1", "name": "Kimberly Nordstrom"}, [("password", "INVALID")]),
    ({"name": "   "}, [("name", "REQUIRED")]),
    ({"name": "x" * 201}, [("name", "TOO_LONG")]),
    (
        {"email": "admin@example.com", "name": "", "password": "qwerty"},
        [("email", "DUPLICATE"), ("name", "REQUIRED"), ("password", "TOO_SHORT")],
    ),
]


async def test_create_user_validation_names_every_bad_field(admin: Api) -> None:
    users_before = await count(admin.db, models.User)
    for overrides, expected in CREATE_USER_CASES:
        input = {"email": "kim@example.com", "name": "Kim Lee", "password": STRONG, **overrides}
        payload = await mutate(admin, "createUser", input, "user { id }")
        assert payload["user"] is None
        assert sorted(codes(payload), key=str) == sorted(expected, key=str), (overrides, payload)
        assert all(error["message"] for error in payload["errors"])
    assert await count(admin.db, models.User) == users_before

    team = await mutate(admin, "createTeam", {"name": "North"}, "team { id }")
    finance = (await roles(admin))[FINANCE]["id"]
    payload = await mutate(
        admin,
        "createUser",
        {
            "email": " Kim@Example.com ",
            "name": " Kim Lee ",
            "password": STRONG,
            "teamId": team["team"]["id"],
            "roleIds": [finance],
        },
        USER,
    )
    assert payload["errors"] == []
    created = payload["user"]
    assert (created["email"], created["name"], created["active"]) == (
        "kim@example.com",
        "Kim Lee",
        True,
    )
    assert created["team"] == {"name": "North"}
    assert created["roles"] == [{"key": FINANCE}]
    assert (await admin.login("kim@example.com", STRONG)).token

    # The address is taken now, in any case.
    again = await mutate(
        admin,
        "createUser",
        {"email": "KIM@example.com", "name": "Kim Two", "password": STRONG},
        "user { id }",
    )
    assert codes(again) == [("email", "DUPLICATE")]


# --- updateUser -------------------------------------------------------------------------------


async def test_update_user_with_a_stale_version_is_a_conflict(admin: Api) -> None:
    target = await make_user(admin.db, admin.settings, "lee@example.com", [FINANCE])
    current = await user(admin, target)
    first = await mutate(
        admin,
        "updateUser",
        {"id": current["id"], "version": current["version"], "name": "Lee First"},
        USER,
    )
    assert first["errors"] == []
    assert first["user"]["version"] == current["version"] + 1

    stale = await mutate(
        admin,
        "updateUser",
        {
            "id": current["id"],
            "version": current["version"],
            "name": "Lee Second",
            "email": "other@example.com",
        },
        USER,
    )
    assert codes(stale) == [("version", "CONFLICT")]
    # The payload holds the user as they now are, to merge and retry from.
    assert (stale["user"]["name"], stale["user"]["version"]) == (
        "Lee First",
        current["version"] + 1,
    )
    assert f"now at version {current['version'] + 1}" in stale["errors"][0]["message"]

    after = await user(admin, target)
    assert (after["name"], after["email"], after["version"]) == (
        "Lee First",
        "lee@example.com",
        current["version"] + 1,
    )
    updates = [e for e in await events(admin, current["id"]) if e["action"] == "user.updated"]
    assert [e["changes"] for e in updates] == [{"name": ("Lee", "Lee First")}]


async def test_a_login_does_not_make_a_pending_edit_conflict(admin: Api) -> None:
    target = await make_user(admin.db, admin.settings, "una@example.com", [FINANCE])
    current = await user(admin, target)
    await admin.login("una@example.com")
    payload = await mutate(
        admin,
        "updateUser",
        {"id": current["id"], "version": current["version"], "name": "Una Renamed"},
        USER,
    )
    assert payload["errors"] == []


async def test_update_user_refuses_a_taken_email(admin: Api) -> None:
    target = await make_user(admin.db, admin.settings, "max@example.com", [FINANCE])
    current = await user(admin, target)
    payload = await mutate(
        admin,
        "updateUser",
        {"id": current["id"], "version": current["version"], "email": "Admin@example.com"},
        USER,
    )
    assert codes(payload) == [("email", "DUPLICATE")]
    assert (await user(admin, target))["email"] == "max@example.com"


# --- privilege escalation ---------------------------------------------------------------------


async def test_system_administrator_cannot_hand_out_more_than_it_holds(api: Api) -> None:
    sysadmin = await api.user("sys@example.com", [SYSTEM_ADMINISTRATOR])
    await make_user(api.db, api.settings, "admin1@example.com", [ADMINISTRATOR])
    admin2 = await make_user(api.db, api.settings, "admin2@example.com", [ADMINISTRATOR])
    target = await make_user(api.db, api.settings, "nat@example.com", [FINANCE])
    by_key = await roles(sysadmin)
    roles_before = await count(api.db, models.Role)

    created = await refusal(
        sysadmin,
        "createUser",
        {
            "email": "new@example.com",
            "name": "New",
            "password": STRONG,
            "roleIds": [by_key[ADMINISTRATOR]["id"]],
        },
        "user { id }",
    )
    assert top_level(created) == ("FORBIDDEN", "input.roleIds")
    assert "ADMINISTRATOR" in created["errors"][0]["message"]
    assert "customers:write" in created["errors"][0]["message"]

    for key in (ADMINISTRATOR, SALES_REPRESENTATIVE):
        assigned = await refusal(
            sysadmin,
            "assignRoles",
            {"userId": gid("User", target), "roleIds": [by_key[key]["id"]]},
            USER,
        )
        assert top_level(assigned) == ("FORBIDDEN", "input.roleIds"), key
        assert key in assigned["errors"][0]["message"]
    # Nor take away a role it could not hand out.
    taken = await refusal(
        sysadmin,
        "assignRoles",
        {"userId": gid("User", admin2), "roleIds": [by_key[SYSTEM_ADMINISTRATOR]["id"]]},
        USER,
    )
    # Taking a role from someone who holds more than you is managing them: refused on userId.
    assert top_level(taken) == ("FORBIDDEN", "input.userId")

    role = await refusal(
        sysadmin,
        "createRole",
        {"name": "Writer", "grants": [{"permission": "customers:write", "scope": "OWN"}]},
        ROLE,
    )
    assert top_level(role) == ("FORBIDDEN", "input.grants")
    assert "customers:write" in role["errors"][0]["message"]
    # A wider scope than held is escalation too: users:read ALL is held, audit:read ALL too,
    # but widgets:read is not held at all.
    role = await refusal(
        sysadmin,
        "createRole",
        {"name": "Watcher", "grants": [{"permission": "widgets:read", "scope": "OWN"}]},
        ROLE,
    )
    assert top_level(role) == ("FORBIDDEN", "input.grants")

    extended = await refusal(
        sysadmin,
        "updateRole",
        {
            "id": by_key[FINANCE]["id"],
            "version": by_key[FINANCE]["version"],
            "grants": [{"permission": "customers:write", "scope": "ALL"}],
        },
        ROLE,
    )
    assert top_level(extended) == ("FORBIDDEN", "input.grants")
    assert await count(api.db, models.Role) == roles_before

    # Nothing changed hands.
    assert [r["key"] for r in (await user(sysadmin, target))["roles"]] == [FINANCE]
    assert [r["key"] for r in (await user(sysadmin, admin2))["roles"]] == [ADMINISTRATOR]
    assert await count(api.db, models.User) == 4
    finance = await sysadmin.gql(
        "query($id: ID!) { node(id: $id) { ... on Role { grants { permission } } } }",
        {"id": by_key[FINANCE]["id"]},
    )
    assert "customers:write" not in {g["permission"] for g in finance["data"]["node"]["grants"]}

    # What it does hold, it may hand out.
    fine = await mutate(
        sysadmin,
        "assignRoles",
        {
            "userId": gid("User", target),
            "roleIds": [by_key[FINANCE]["id"], by_key[SYSTEM_ADMINISTRATOR]["id"]],
        },
        USER,
    )
    assert fine["errors"] == []
    role = await mutate(
        sysadmin,
        "createRole",
        {"name": "Reader", "grants": [{"permission": "customers:read", "scope": "TEAM"}]},
        ROLE,
    )
    assert role["errors"] == []


async def test_system_administrator_cannot_take_over_an_administrator(api: Api) -> None:
    sysadmin = await api.user("sys@example.com", [SYSTEM_ADMINISTRATOR])
    admin_id = await make_user(api.db, api.settings, "boss@example.com", [ADMINISTRATOR])
    payload = await refusal(
        sysadmin,
        "setUserPassword",
        {"userId": gid("User", admin_id), "password": STRONG},
        "user { id }",
    )
    assert top_level(payload) == ("FORBIDDEN", "input.userId")
    # And so the administrator's account is not theirs to use.
    body = await api.with_token(None).gql(
        'mutation { login(input: {email: "boss@example.com", password: "' + STRONG + '"}) '
        "{ accessToken } }"
    )
    assert body["data"]["login"]["accessToken"] is None


# --- the last administrator and oneself -------------------------------------------------------


async def test_the_last_active_administrator_is_kept(api: Api) -> None:
    admin = await api.user("admin@example.com", [ADMINISTRATOR])
    sysadmin = await api.user("sys@example.com", [SYSTEM_ADMINISTRATOR])
    # An inactive administrator does not count.
    await make_user(api.db, api.settings, "old@example.com", [ADMINISTRATOR], active=False)
    assert admin.user_id is not None
    by_key = await roles(admin)

    current = await user(sysadmin, admin.user_id)
    payload = await refusal(
        sysadmin,
        "deactivateUser",
        {"id": current["id"], "version": current["version"]},
        USER,
    )
    # A system administrator may not manage an administrator at all (they hold less).
    assert top_level(payload) == ("FORBIDDEN", "input.id")
    payload = await refusal(
        sysadmin,
        "updateUser",
        {"id": current["id"], "version": current["version"], "active": False},
        USER,
    )
    assert top_level(payload) == ("FORBIDDEN", "input.id")
    payload = await mutate(
        admin,
        "assignRoles",
        {"userId": current["id"], "roleIds": [by_key[SYSTEM_ADMINISTRATOR]["id"]]},
        USER,
    )
    assert codes(payload) == [("roleIds", "BUSINESS_RULE")]
    assert "last active administrator" in payload["errors"][0]["message"]

    after = await user(admin, admin.user_id)
    assert after["active"] is True
    assert [r["key"] for r in after["roles"]] == [ADMINISTRATOR]
    assert after["version"] == current["version"]
    assert (await admin.gql("{ viewer { email } }"))["data"]["viewer"]

    # With a second active administrator, the first may step down.
    second = await make_user(api.db, api.settings, "second@example.com", [ADMINISTRATOR])
    assert second
    payload = await mutate(
        admin,
        "assignRoles",
        {"userId": current["id"], "roleIds": [by_key[SYSTEM_ADMINISTRATOR]["id"]]},
        USER,
    )
    assert payload["errors"] == []
    assert [r["key"] for r in payload["user"]["roles"]] == [SYSTEM_ADMINISTRATOR]


async def test_nobody_can_deactivate_themselves(api: Api) -> None:
    admin = await api.user("admin@example.com", [ADMINISTRATOR])
    await make_user(api.db, api.settings, "admin2@example.com", [ADMINISTRATOR])
    sysadmin = await api.user("sys@example.com", [SYSTEM_ADMINISTRATOR])
    for caller in (admin, sysadmin):
        assert caller.user_id is not None
        me = await user(caller, caller.user_id)
        for name, input in (
            ("deactivateUser", {"id": me["id"], "version": me["version"]}),
            ("updateUser", {"id": me["id"], "version": me["version"], "active": False}),
        ):
            payload = await mutate(caller, name, input, "user { id }")
            assert [e["code"] for e in payload["errors"]] == ["BUSINESS_RULE"], (name, payload)
            assert payload["errors"][0]["message"] == "you cannot deactivate yourself"
        assert (await user(caller, caller.user_id))["active"] is True
        assert (await caller.gql("{ viewer { email } }"))["data"]["viewer"]


async def test_deactivate_user_refusals_name_one_of_its_input_fields(api: Api) -> None:
    admin = await api.user("admin@example.com", [ADMINISTRATOR])
    assert admin.user_id is not None
    me = await user(admin, admin.user_id)
    payload = await mutate(
        admin, "deactivateUser", {"id": me["id"], "version": me["version"]}, "user { id }"
    )
    assert codes(payload) == [("id", "BUSINESS_RULE")]


async def test_deactivating_a_user_ends_their_sessions(admin: Api) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    assert rep.user_id is not None
    current = await user(admin, rep.user_id)
    payload = await mutate(
        admin, "deactivateUser", {"id": current["id"], "version": current["version"]}, USER
    )
    assert payload["errors"] == []
    assert payload["user"]["active"] is False
    assert "session has ended" in refused(await rep.gql("{ viewer { id } }"), "SESSION_ENDED")
    login = await admin.with_token(None).gql(
        'mutation { login(input: {email: "rep@example.com", password: "'
        + DEFAULT_PASSWORD
        + '"}) { accessToken errors { code } } }'
    )
    assert login["data"]["login"] == {"accessToken": None, "errors": [{"code": "BUSINESS_RULE"}]}


# --- roles ------------------------------------------------------------------------------------


async def test_a_built_in_role_cannot_be_deleted(admin: Api) -> None:
    by_key = await roles(admin)
    for key in (FINANCE, ADMINISTRATOR):
        payload = await mutate(
            admin,
            "deleteRole",
            {"id": by_key[key]["id"], "version": by_key[key]["version"]},
            "deletedRoleId affectedUsers",
        )
        assert codes(payload) == [("id", "BUSINESS_RULE")]
        assert payload["deletedRoleId"] is None
    assert set(await roles(admin)) == set(by_key)


async def test_custom_role_lifecycle_changes_its_holders_at_once(admin: Api) -> None:
    holder = await admin.user("hol@example.com", [FINANCE])
    assert holder.user_id is not None
    assert "audit:read" in refused(await holder.gql(AUDIT_EVENTS), "FORBIDDEN")

    created = await mutate(
        admin,
        "createRole",
        {
            "name": "Auditor",
            "description": "Reads the trail",
            "grants": [{"permission": "audit:read", "scope": "OWN"}],
        },
        ROLE,
    )
    assert created["errors"] == []
    role = created["role"]
    assert (role["key"], role["name"], role["builtin"]) == ("AUDITOR", "Auditor", False)
    assert role["grants"] == [{"permission": "audit:read", "scope": "OWN", "builtin": False}]

    by_key = await roles(admin)
    assigned = await mutate(
        admin,
        "assignRoles",
        {"userId": gid("User", holder.user_id), "roleIds": [by_key[FINANCE]["id"], role["id"]]},
        USER,
    )
    assert assigned["errors"] == []
    # The same access token now reaches the audit trail, within the OWN scope.
    body = await holder.gql(AUDIT_EVENTS)
    labels = {edge["node"]["actorLabel"] for edge in body["data"]["auditEvents"]["edges"]}
    assert labels == {"hol@example.com"}

    updated = await mutate(
        admin,
        "updateRole",
        {
            "id": role["id"],
            "version": role["version"],
            "name": "Auditor of all",
            "grants": [{"permission": "audit:read", "scope": "ALL"}],
        },
        ROLE,
    )
    assert updated["errors"] == []
    assert updated["role"]["name"] == "Auditor of all"
    assert updated["role"]["grants"] == [
        {"permission": "audit:read", "scope": "ALL", "builtin": False}
    ]
    body = await holder.gql(AUDIT_EVENTS)
    labels = {edge["node"]["actorLabel"] for edge in body["data"]["auditEvents"]["edges"]}
    assert {"hol@example.com", "admin@example.com"} <= labels

    stale = await mutate(
        admin,
        "updateRole",
        {"id": role["id"], "version": role["version"], "description": "late"},
        ROLE,
    )
    assert codes(stale) == [("version", "CONFLICT")]
    assert stale["role"] == updated["role"]  # as it now is, for the client to merge

    stale_delete = await mutate(
        admin,
        "deleteRole",
        {"id": role["id"], "version": role["version"]},
        "deletedRoleId affectedUsers role { id version description }",
    )
    assert codes(stale_delete) == [("version", "CONFLICT")]
    assert stale_delete["deletedRoleId"] is None
    assert stale_delete["role"] == {
        "id": role["id"],
        "version": updated["role"]["version"],
        "description": updated["role"]["description"],
    }

    deleted = await mutate(
        admin,
        "deleteRole",
        {"id": role["id"], "version": updated["role"]["version"]},
        "deletedRoleId affectedUsers",
    )
    assert deleted == {"deletedRoleId": role["id"], "affectedUsers": 1, "errors": []}
    assert "audit:read" in refused(await holder.gql(AUDIT_EVENTS), "FORBIDDEN")
    assert [r["key"] for r in (await user(admin, holder.user_id))["roles"]] == [FINANCE]
    assert "AUDITOR" not in await roles(admin)

    trail = await events(admin, role["id"])
    assert [e["action"] for e in trail] == ["role.created", "role.updated", "role.deleted"]
    assert trail[0]["changes"] == {
        "key": (None, "AUDITOR"),
        "name": (None, "Auditor"),
        "description": (None, "Reads the trail"),
        "grants": (None, {"audit:read": "OWN"}),
    }
    assert trail[1]["changes"] == {
        "name": ("Auditor", "Auditor of all"),
        "grants": ({"audit:read": "OWN"}, {"audit:read": "ALL"}),
    }
    assert trail[2]["changes"] == {
        "key": ("AUDITOR", None),
        "name": ("Auditor of all", None),
        "grants": ({"audit:read": "ALL"}, None),
        "holders": ([gid("User", holder.user_id)], None),
    }
    assert all(e["actorLabel"] == "admin@example.com" for e in trail)
    (roles_assigned,) = [
        e
        for e in await events(admin, assigned["user"]["id"])
        if e["action"] == "user.roles_assigned"
    ]
    assert roles_assigned["changes"] == {"roles": ([FINANCE], ["AUDITOR", FINANCE])}


async def test_a_built_in_role_can_be_extended(admin: Api) -> None:
    finance = await admin.user("fin@example.com", [FINANCE])
    by_key = await roles(admin)
    role_id, version = by_key[FINANCE]["id"], by_key[FINANCE]["version"]
    assert "audit:read" in refused(await finance.gql(AUDIT_EVENTS), "FORBIDDEN")

    renamed = await mutate(
        admin, "updateRole", {"id": role_id, "version": version, "name": "Money"}, ROLE
    )
    assert codes(renamed) == [("name", "BUSINESS_RULE")]

    extended = await mutate(
        admin,
        "updateRole",
        {
            "id": role_id,
            "version": version,
            "grants": [
                {"permission": "audit:read", "scope": "ALL"},
                {"permission": "users:read", "scope": "TEAM"},
            ],
        },
        ROLE,
    )
    assert extended["errors"] == []
    grants = {g["permission"]: (g["scope"], g["builtin"]) for g in extended["role"]["grants"]}
    assert grants == {
        "customers:read": ("ALL", True),
        "users:read": ("TEAM", False),  # widened beyond the built-in OWN
        "audit:read": ("ALL", False),
    }
    assert extended["role"]["name"] == "Finance"
    body = await finance.gql(AUDIT_EVENTS)
    assert body["data"]["auditEvents"]["edges"]

    # The stored additions are the whole of them: an empty list takes them back.
    reverted = await mutate(
        admin,
        "updateRole",
        {"id": role_id, "version": extended["role"]["version"], "grants": []},
        ROLE,
    )
    assert {g["permission"]: g["builtin"] for g in reverted["role"]["grants"]} == {
        "customers:read": True,
        "users:read": True,
    }
    assert "audit:read" in refused(await finance.gql(AUDIT_EVENTS), "FORBIDDEN")


# --- passwords --------------------------------------------------------------------------------


SET_PASSWORD = "user { id }"


async def test_changing_ones_own_password(api: Api) -> None:
    rep = await api.user("pat@example.com", [SALES_REPRESENTATIVE])
    other_session = await api.login("pat@example.com")
    assert rep.user_id is not None
    me = gid("User", rep.user_id)

    for current, new, expected in (
        (None, STRONG, [("currentPassword", "INVALID")]),
        ("Not-The-Password-1", STRONG, [("currentPassword", "INVALID")]),
        (DEFAULT_PASSWORD, "password", [("password", "TOO_SHORT")]),
        (DEFAULT_PASSWORD, "pat@example.com-2026", [("password", "INVALID")]),
    ):
        payload = await mutate(
            rep,
            "setUserPassword",
            {"userId": me, "password": new, "currentPassword": current},
            SET_PASSWORD,
        )
        assert codes(payload) == expected, (current, new)
    assert (await other_session.gql("{ viewer { id } }"))["data"]["viewer"]

    payload = await mutate(
        rep,
        "setUserPassword",
        {"userId": me, "password": STRONG, "currentPassword": DEFAULT_PASSWORD},
        SET_PASSWORD,
    )
    assert payload["errors"] == []
    # The other session ends; the one that made the change goes on.
    assert "session has ended" in refused(
        await other_session.gql("{ viewer { id } }"), "SESSION_ENDED"
    )
    assert (await rep.gql("{ viewer { id } }"))["data"]["viewer"] == {"id": me}
    assert (await api.login("pat@example.com", STRONG)).token
    body = await api.gql(
        'mutation { login(input: {email: "pat@example.com", password: "'
        + DEFAULT_PASSWORD
        + '"}) { errors { code } } }'
    )
    assert body["data"]["login"]["errors"] == [{"code": "INVALID"}]


async def test_an_administrator_sets_a_password_and_ends_every_session(admin: Api) -> None:
    rep = await admin.user("quin@example.com", [SALES_REPRESENTATIVE])
    assert rep.user_id is not None
    payload = await mutate(
        admin,
        "setUserPassword",
        {"userId": gid("User", rep.user_id), "password": "weak"},
        SET_PASSWORD,
    )
    assert codes(payload) == [("password", "TOO_SHORT")]
    assert (await rep.gql("{ viewer { id } }"))["data"]["viewer"]

    payload = await mutate(
        admin,
        "setUserPassword",
        {"userId": gid("User", rep.user_id), "password": STRONG},
        SET_PASSWORD,
    )
    assert payload["errors"] == []
    assert "session has ended" in refused(await rep.gql("{ viewer { id } }"), "SESSION_ENDED")
    assert (await admin.login("quin@example.com", STRONG)).token
    # The administrator's own session is untouched.
    assert (await admin.gql("{ viewer { email } }"))["data"]["viewer"]


# --- the audit trail --------------------------------------------------------------------------


async def test_every_change_is_audited_with_before_and_after_and_no_password(
    admin: Api,
) -> None:
    by_key = await roles(admin)
    north = (await mutate(admin, "createTeam", {"name": "North"}, "team { id version }"))["team"]
    renamed = await mutate(
        admin,
        "updateTeam",
        {"id": north["id"], "version": north["version"], "name": "North East"},
        "team { id version name }",
    )
    assert renamed["errors"] == []
    duplicate = await mutate(admin, "createTeam", {"name": " north  EAST "}, "team { id }")
    assert codes(duplicate) == [("name", "DUPLICATE")]

    created = await mutate(
        admin,
        "createUser",
        {
            "email": "ray@example.com",
            "name": "Ray",
            "password": STRONG,
            "teamId": north["id"],
            "roleIds": [by_key[FINANCE]["id"]],
        },
        USER,
    )
    assert created["errors"] == []
    ray = created["user"]
    updated = await mutate(
        admin,
        "updateUser",
        {"id": ray["id"], "version": ray["version"], "name": "Ray Q", "teamId": None},
        USER,
    )
    assert updated["errors"] == []
    assigned = await mutate(
        admin,
        "assignRoles",
        {"userId": ray["id"], "roleIds": [by_key[SALES_REPRESENTATIVE]["id"]]},
        USER,
    )
    assert assigned["errors"] == []
    password = await mutate(
        admin,
        "setUserPassword",
        {"userId": ray["id"], "password": "Another-Strong-Phrase-55"},
        "user { version }",
    )
    assert password["errors"] == []
    deactivated = await mutate(
        admin,
        "deactivateUser",
        {"id": ray["id"], "version": password["user"]["version"]},
        USER,
    )
    assert deactivated["errors"] == []

    trail = await events(admin, ray["id"])
    assert [e["action"] for e in trail] == [
        "user.created",
        "user.updated",
        "user.roles_assigned",
        "user.password_set",
        "user.updated",
    ]
    assert trail[0]["changes"] == {
        "email": (None, "ray@example.com"),
        "name": (None, "Ray"),
        "active": (None, True),
        "teamId": (None, north["id"]),
        "roles": (None, [FINANCE]),
        "password": "<secret>",
    }
    assert trail[1]["changes"] == {"name": ("Ray", "Ray Q"), "teamId": (north["id"], None)}
    assert trail[2]["changes"] == {"roles": ([FINANCE], [SALES_REPRESENTATIVE])}
    assert trail[3]["changes"] == {"password": "<secret>"}
    assert trail[4]["changes"] == {"active": (True, False)}
    assert all(e["actorLabel"] == "admin@example.com" for e in trail)
    assert all(e["clientAddress"] == "127.0.0.1" for e in trail)

    team_trail = await events(admin, north["id"])
    assert [(e["action"], e["changes"]) for e in team_trail] == [
        ("team.created", {"name": (None, "North")}),
        ("team.updated", {"name": ("North", "North East")}),
    ]

    # No password, in any form, anywhere in the trail.
    async with admin.db.read() as session:
        stored = (await session.scalars(select(AuditEvent.changes))).all()
    text = json.dumps(stored) + json.dumps(trail)
    for secret in (STRONG, "Another-Strong-Phrase-55", DEFAULT_PASSWORD):
        assert secret not in text
    async with admin.db.read() as session:
        hashes = (await session.scalars(select(models.User.password_hash))).all()
    assert all(h and h not in text for h in hashes)
