"""Changes to users, teams, roles and API tokens: checked, scoped, audited.

Each function runs inside the caller's transaction (``in_transaction``), raises
:class:`~core.errors.UserErrors` for anything the client got wrong, and writes its audit
event in the same transaction. Two rules guard against privilege escalation: a caller can
only hand out roles (and build roles) whose grants they hold themselves, and the last active
administrator cannot be deactivated or lose the role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Caller, actor_of, require
from core.catalog import ADMINISTRATOR, catalog_for
from core.config import Settings
from core.context import RequestContext
from core.db import utcnow
from core.errors import UserErrorCode, UserErrors
from core.extension import Scope
from core.identity import auth, passwords, tokens
from core.identity.models import ApiToken, AuthSession, Role, RoleGrant, Team, User, UserRole
from core.validation import Check, global_id, require_version, snapshot

USER_FIELDS: dict[str, str | Callable[[Any], Any]] = {
    "email": "email",
    "name": "name",
    "active": "is_active",
    "teamId": lambda user: global_id("Team", user.team_id),
}
ROLE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
API_TOKEN_NAME_MAX = 100


def _forbidden(field: str | None, message: str) -> UserErrors:
    return UserErrors.single(field, message, UserErrorCode.FORBIDDEN)


def _not_found(field: str, what: str) -> UserErrors:
    return UserErrors.single(
        field, f"no {what} with this id is visible to you", UserErrorCode.NOT_FOUND
    )


async def managed_user(
    session: AsyncSession, context: RequestContext, user_id: int | None, field: str = "id"
) -> User:
    """A user the caller may manage (``users:manage`` in scope), locked for the update."""
    if user_id is None:
        raise _not_found(field, "user")
    user = await session.scalar(
        select(User).where(User.id == user_id, context.visible("users:manage")).with_for_update()
    )
    if user is None:
        raise _not_found(field, "user")
    caller = require(context)
    if user.id != caller.user_id:
        # Managing someone who may do more than you (reset their password, change their
        # email, their roles) would hand you their rights: refused.
        beyond = _uncovered(
            await auth.user_grants(session, catalog_for(context.pm), user.id), caller.grants
        )
        if beyond:
            raise _forbidden(
                field,
                f"{user.email} holds permissions you do not ({', '.join(beyond)}); "
                "only someone who holds them may manage this user",
            )
    return user


def _uncovered(wanted: Mapping[str, Scope], held: Mapping[str, Scope]) -> list[str]:
    """Permissions in ``wanted`` that ``held`` does not reach as far."""
    return sorted(p for p, s in wanted.items() if p not in held or not held[p].covers(s))


async def _check_no_escalation(
    session: AsyncSession,
    context: RequestContext,
    caller: Caller,
    role_ids: Sequence[int],
    field: str,
) -> list[Role]:
    roles = list((await session.scalars(select(Role).where(Role.id.in_(role_ids)))).all())
    if len(roles) != len(set(role_ids)):
        raise _not_found(field, "role")
    grants = await auth.role_grants(session, catalog_for(context.pm), [r.id for r in roles])
    for role in roles:
        beyond = _uncovered(grants.get(role.id, {}), caller.grants)
        if beyond:
            raise _forbidden(
                field,
                f"role {role.key} grants what you do not hold yourself: {', '.join(beyond)}",
            )
    return roles


async def _active_admins(session: AsyncSession, excluding: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(UserRole)
            .join(Role, Role.id == UserRole.role_id)
            .join(User, User.id == UserRole.user_id)
            .where(Role.key == ADMINISTRATOR, User.is_active.is_(True), User.id != excluding)
        )
        or 0
    )


async def _is_admin(session: AsyncSession, user_id: int) -> bool:
    found = await session.scalar(
        select(UserRole.user_id)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id == user_id, Role.key == ADMINISTRATOR)
    )
    return found is not None


async def _keep_an_admin(session: AsyncSession, user: User, field: str) -> None:
    if (
        user.is_active
        and await _is_admin(session, user.id)
        and not await _active_admins(session, excluding=user.id)
    ):
        raise UserErrors.single(
            field,
            "this is the last active administrator; make someone else administrator first",
            UserErrorCode.BUSINESS_RULE,
        )


async def _team_exists(
    session: AsyncSession, check: Check, team_id: int | None, field: str
) -> None:
    if team_id is not None and await session.get(Team, team_id) is None:
        check.fail(field, "no team with this id exists", UserErrorCode.NOT_FOUND)


async def _email_free(
    session: AsyncSession, check: Check, email: str | None, user_id: int | None = None
) -> None:
    if email is None:
        return
    statement = select(User.id).where(User.email == email)
    if user_id is not None:
        statement = statement.where(User.id != user_id)
    if await session.scalar(statement) is not None:
        check.fail("email", "another user has this email address", UserErrorCode.DUPLICATE)


def _password(
    check: Check,
    settings: Settings,
    password: str,
    email: str,
    name: str,
    field: str = "password",
) -> str | None:
    problem = passwords.password_problem(
        password,
        min_length=settings.password_min_length,
        personal=passwords.personal_words(email, name),
    )
    if problem is not None:
        code = (
            UserErrorCode.TOO_SHORT
            if problem.startswith("must be at least")
            else UserErrorCode.INVALID
        )
        check.fail(field, problem, code)
        return None
    return passwords.hash_password(password)


async def _set_roles(session: AsyncSession, user: User, roles: Sequence[Role]) -> list[str]:
    await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
    return sorted(role.key for role in roles)


async def role_keys(session: AsyncSession, user_id: int) -> list[str]:
    return sorted(
        (
            await session.scalars(
                select(Role.key)
                .join(UserRole, UserRole.role_id == Role.id)
                .where(UserRole.user_id == user_id)
            )
        ).all()
    )


@dataclass
class NewUser:
    email: str
    name: str
    password: str
    team_id: int | None = None
    role_ids: Sequence[int] = ()
    active: bool = True


async def add_user(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    new: NewUser,
    roles: Sequence[Role],
    check: Check | None = None,
) -> User:
    """Check and insert a user with ``roles``, audited as done by ``actor``.

    The API (:func:`create_user`), ``crm createuser`` and ``crm demo`` all create users here.
    """
    check = check or Check()
    email = check.email("email", new.email)
    name = check.text("name", new.name, max_length=200)
    await _email_free(session, check, email)
    await _team_exists(session, check, new.team_id, "teamId")
    password_hash = _password(check, settings, new.password, email or "", name or "")
    check.done()
    assert email is not None
    assert name is not None
    now = utcnow()
    user = User(
        email=email,
        name=name,
        password_hash=password_hash,
        is_active=new.active,
        team_id=new.team_id,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    await session.flush()
    keys = await _set_roles(session, user, roles)
    audit.record(
        session,
        actor,
        "user.created",
        "User",
        user.id,
        audit.created({**snapshot(user, USER_FIELDS), "roles": keys, "password": "set"}),
    )
    return user


async def create_user(
    session: AsyncSession, context: RequestContext, new: NewUser, *, check: Check | None = None
) -> User:
    caller = require(context, "users:manage")
    if not caller.can("users:manage", Scope.ALL):
        raise _forbidden(None, "creating users needs users:manage for all users")
    check = check or Check()
    roles: list[Role] = []
    if new.role_ids:
        roles = await _check_no_escalation(session, context, caller, new.role_ids, "roleIds")
    return await add_user(session, context.settings, actor_of(context), new, roles, check)


async def roles_by_key(
    session: AsyncSession, keys: Sequence[str], field: str = "roles"
) -> list[Role]:
    """Roles named by key; an unknown key is a :class:`UserErrors` listing the known ones."""
    wanted = list(dict.fromkeys(k.strip().upper() for k in keys))
    rows = list((await session.scalars(select(Role).where(Role.key.in_(wanted)))).all())
    missing = sorted(set(wanted) - {r.key for r in rows})
    if missing:
        known = ", ".join((await session.scalars(select(Role.key).order_by(Role.key))).all())
        raise UserErrors.single(
            field, f"unknown role {', '.join(missing)} (roles: {known})", UserErrorCode.NOT_FOUND
        )
    return rows


async def team_named(session: AsyncSession, name: str, actor: audit.Actor) -> Team:
    """The team of this name, created (and audited) if there is none."""
    team = await session.scalar(select(Team).where(Team.name_key == _team_key(name)))
    return team if team is not None else await _insert_team(session, actor, name.strip())


async def update_user(
    session: AsyncSession,
    context: RequestContext,
    user_id: int | None,
    version: int,
    changes: Mapping[str, Any],
    *,
    active_field: str = "active",
) -> User:
    """Apply ``changes`` (keys: email, name, team_id, active; only those given).

    :param active_field: the input field named when deactivation is refused.
    """
    require(context, "users:manage")
    user = await managed_user(session, context, user_id)
    require_version(user.version, version)
    check = Check()
    before = snapshot(user, USER_FIELDS)
    if "email" in changes:
        email = check.email("email", changes["email"])
        await _email_free(session, check, email, user.id)
        if email is not None:
            user.email = email
    if "name" in changes:
        name = check.text("name", changes["name"], max_length=200)
        if name is not None:
            user.name = name
    if "team_id" in changes:
        await _team_exists(session, check, changes["team_id"], "teamId")
        user.team_id = changes["team_id"]
    check.done()
    if (
        "active" in changes
        and changes["active"] is not None
        and changes["active"] != user.is_active
    ):
        if not changes["active"]:
            await _deactivate_checks(session, context, user, active_field)
        user.is_active = bool(changes["active"])
    after = snapshot(user, USER_FIELDS)
    diff = audit.diff(before, after)
    if diff:
        user.updated_at = utcnow()
        await session.flush()
        audit.record(session, actor_of(context), "user.updated", "User", user.id, diff)
    return user


async def _deactivate_checks(
    session: AsyncSession, context: RequestContext, user: User, field: str
) -> None:
    caller = require(context)
    if user.id == caller.user_id:
        raise UserErrors.single(
            field, "you cannot deactivate yourself", UserErrorCode.BUSINESS_RULE
        )
    await _keep_an_admin(session, user, field)
    await auth.revoke_user_sessions(session, user.id, "user deactivated", utcnow())


async def deactivate_user(
    session: AsyncSession, context: RequestContext, user_id: int | None, version: int
) -> User:
    return await update_user(
        session, context, user_id, version, {"active": False}, active_field="id"
    )


async def set_user_password(
    session: AsyncSession,
    context: RequestContext,
    user_id: int | None,
    password: str,
    current_password: str | None,
) -> User:
    """Change a password: one's own with the current one, anyone's with ``users:manage``.

    Every session of the user ends, except the caller's own when they change their own.
    """
    caller = require(context)
    if user_id == caller.user_id:
        user = await session.get(User, caller.user_id, with_for_update=True)
        assert user is not None
        if not passwords.verify_password(user.password_hash, current_password or ""):
            raise UserErrors.single(
                "currentPassword", "is not your current password", UserErrorCode.INVALID
            )
    else:
        require(context, "users:manage")
        user = await managed_user(session, context, user_id, "userId")
    check = Check()
    hashed = _password(check, context.settings, password, user.email, user.name)
    check.done()
    user.password_hash = hashed
    user.updated_at = utcnow()
    now = utcnow()
    sessions = select(AuthSession.id).where(
        AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None)
    )
    if caller.session_id is not None and user.id == caller.user_id:
        sessions = sessions.where(AuthSession.id != caller.session_id)
    for session_id in (await session.scalars(sessions)).all():
        await auth.revoke_session(session, session_id, "password changed", now)
    await session.flush()
    audit.record(
        session, actor_of(context), "user.password_set", "User", user.id, {"password": "changed"}
    )
    return user


async def assign_roles(
    session: AsyncSession, context: RequestContext, user_id: int | None, role_ids: Sequence[int]
) -> User:
    caller = require(context, "users:manage")
    user = await managed_user(session, context, user_id, "userId")
    roles = await _check_no_escalation(session, context, caller, role_ids, "roleIds")
    before = await role_keys(session, user.id)
    if ADMINISTRATOR in before and ADMINISTRATOR not in {r.key for r in roles}:
        await _keep_an_admin(session, user, "roleIds")
    # Taking a role away is also limited to roles the caller could hand out.
    removed_ids = [
        r.id
        for r in (
            await session.scalars(select(Role).join(UserRole).where(UserRole.user_id == user.id))
        ).all()
        if r.id not in {x.id for x in roles}
    ]
    if removed_ids:
        await _check_no_escalation(session, context, caller, removed_ids, "roleIds")
    after = await _set_roles(session, user, roles)
    if before != after:
        user.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "user.roles_assigned",
            "User",
            user.id,
            audit.diff({"roles": before}, {"roles": after}),
        )
    return user


def _team_key(name: str) -> str:
    return " ".join(name.split()).lower()


async def create_team(session: AsyncSession, context: RequestContext, name: str | None) -> Team:
    caller = require(context, "users:manage")
    if not caller.can("users:manage", Scope.ALL):
        raise _forbidden(None, "creating teams needs users:manage for all users")
    check = Check()
    cleaned = check.text("name", name, max_length=100)
    if cleaned is not None and await session.scalar(
        select(Team.id).where(Team.name_key == _team_key(cleaned))
    ):
        check.fail("name", "a team with this name exists", UserErrorCode.DUPLICATE)
    check.done()
    assert cleaned is not None
    return await _insert_team(session, actor_of(context), cleaned)


async def _insert_team(session: AsyncSession, actor: audit.Actor, name: str) -> Team:
    now = utcnow()
    team = Team(name=name, name_key=_team_key(name), created_at=now, updated_at=now)
    session.add(team)
    await session.flush()
    audit.record(session, actor, "team.created", "Team", team.id, audit.created({"name": name}))
    return team


async def update_team(
    session: AsyncSession,
    context: RequestContext,
    team_id: int | None,
    version: int,
    name: str | None,
) -> Team:
    require(context, "users:manage")
    team = None
    if team_id is not None:
        team = await session.scalar(
            select(Team)
            .where(Team.id == team_id, context.visible("users:manage", "teams"))
            .with_for_update()
        )
    if team is None:
        raise _not_found("id", "team")
    require_version(team.version, version)
    check = Check()
    cleaned = check.text("name", name, max_length=100)
    if cleaned is not None and await session.scalar(
        select(Team.id).where(Team.name_key == _team_key(cleaned), Team.id != team.id)
    ):
        check.fail("name", "a team with this name exists", UserErrorCode.DUPLICATE)
    check.done()
    assert cleaned is not None
    if cleaned != team.name:
        before = team.name
        team.name, team.name_key, team.updated_at = cleaned, _team_key(cleaned), utcnow()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "team.updated",
            "Team",
            team.id,
            audit.diff({"name": before}, {"name": cleaned}),
        )
    return team


@dataclass(frozen=True)
class GrantInput:
    permission: str
    scope: Scope


def _grant_map(
    check: Check, context: RequestContext, grants: Sequence[GrantInput]
) -> dict[str, Scope]:
    catalog = catalog_for(context.pm)
    result: dict[str, Scope] = {}
    for index, grant in enumerate(grants):
        if grant.permission not in catalog.permissions:
            check.fail(
                f"grants.{index}.permission",
                f"{grant.permission!r} is not a permission",
                UserErrorCode.INVALID,
            )
        elif grant.permission in result:
            check.fail(
                f"grants.{index}.permission",
                f"{grant.permission} is granted twice",
                UserErrorCode.DUPLICATE,
            )
        else:
            result[grant.permission] = grant.scope
    return result


def _role_key_from(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")[:64]


async def _store_grants(session: AsyncSession, role: Role, grants: Mapping[str, Scope]) -> None:
    await session.execute(delete(RoleGrant).where(RoleGrant.role_id == role.id))
    session.add_all(
        RoleGrant(role_id=role.id, permission=p, scope=s.value) for p, s in grants.items()
    )


def _grants_doc(grants: Mapping[str, Scope]) -> dict[str, str]:
    return {p: s.value for p, s in sorted(grants.items())}


async def create_role(
    session: AsyncSession,
    context: RequestContext,
    name: str | None,
    key: str | None,
    description: str | None,
    grants: Sequence[GrantInput],
) -> Role:
    caller = require(context, "roles:manage")
    check = Check()
    cleaned_name = check.text("name", name, max_length=100)
    cleaned_key = (key or "").strip() or (_role_key_from(cleaned_name) if cleaned_name else "")
    if cleaned_name is not None and not ROLE_KEY.match(cleaned_key):
        check.fail(
            "key",
            "must be 2-64 characters of A-Z, 0-9 and _, starting with a letter",
            UserErrorCode.INVALID,
        )
    elif cleaned_name is not None and await session.scalar(
        select(Role.id).where(Role.key == cleaned_key)
    ):
        check.fail("key", f"a role with key {cleaned_key} exists", UserErrorCode.DUPLICATE)
    cleaned_description = (
        check.text("description", description, max_length=500, required=False) or ""
    )
    grant_map = _grant_map(check, context, grants)
    check.done()
    assert cleaned_name is not None
    beyond = _uncovered(grant_map, caller.grants)
    if beyond:
        raise _forbidden("grants", f"you cannot grant what you do not hold: {', '.join(beyond)}")
    now = utcnow()
    role = Role(
        key=cleaned_key,
        name=cleaned_name,
        description=cleaned_description,
        builtin=False,
        created_at=now,
        updated_at=now,
    )
    session.add(role)
    await session.flush()
    await _store_grants(session, role, grant_map)
    audit.record(
        session,
        actor_of(context),
        "role.created",
        "Role",
        role.id,
        audit.created(
            {
                "key": role.key,
                "name": role.name,
                "description": role.description,
                "grants": _grants_doc(grant_map),
            }
        ),
    )
    return role


async def _managed_role(
    session: AsyncSession, context: RequestContext, caller: Caller, role_id: int | None
) -> Role:
    """A role the caller may change: one that grants nothing beyond the caller's own."""
    role = await session.get(Role, role_id, with_for_update=True) if role_id is not None else None
    if role is None:
        raise _not_found("id", "role")
    grants = await auth.role_grants(session, catalog_for(context.pm), [role.id])
    beyond = _uncovered(grants.get(role.id, {}), caller.grants)
    if beyond:
        raise _forbidden(
            "id", f"role {role.key} grants what you do not hold yourself: {', '.join(beyond)}"
        )
    return role


async def _stored_grants(session: AsyncSession, role_id: int) -> dict[str, Scope]:
    rows = (
        await session.execute(
            select(RoleGrant.permission, RoleGrant.scope).where(RoleGrant.role_id == role_id)
        )
    ).all()
    return {p: Scope(s) for p, s in rows}


async def update_role(
    session: AsyncSession,
    context: RequestContext,
    role_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Role:
    """Change a role. A built-in role keeps its name and its grants from code; its stored
    grants (``grants``) are additions to them."""
    caller = require(context, "roles:manage")
    role = await _managed_role(session, context, caller, role_id)
    require_version(role.version, version)
    check = Check()
    before = {
        "name": role.name,
        "description": role.description,
        "grants": _grants_doc(await _stored_grants(session, role.id)),
    }
    if "name" in changes:
        if role.builtin:
            check.fail("name", "a built-in role keeps its name", UserErrorCode.BUSINESS_RULE)
        else:
            cleaned = check.text("name", changes["name"], max_length=100)
            if cleaned is not None:
                role.name = cleaned
    if "description" in changes:
        role.description = (
            check.text("description", changes["description"], max_length=500, required=False) or ""
        )
    grant_map: dict[str, Scope] | None = None
    if "grants" in changes:
        grant_map = _grant_map(check, context, changes["grants"])
    check.done()
    if grant_map is not None:
        beyond = _uncovered(grant_map, caller.grants)
        if beyond:
            raise _forbidden(
                "grants", f"you cannot grant what you do not hold: {', '.join(beyond)}"
            )
        await _store_grants(session, role, grant_map)
    after = {
        "name": role.name,
        "description": role.description,
        "grants": _grants_doc(grant_map) if grant_map is not None else before["grants"],
    }
    diff = audit.diff(before, after)
    if diff:
        role.updated_at = utcnow()
        await session.flush()
        audit.record(session, actor_of(context), "role.updated", "Role", role.id, diff)
    return role


async def delete_role(
    session: AsyncSession, context: RequestContext, role_id: int | None, version: int
) -> int:
    """Delete a custom role; its holders lose it. Returns how many users held it."""
    caller = require(context, "roles:manage")
    role = await _managed_role(session, context, caller, role_id)
    require_version(role.version, version)
    if role.builtin:
        raise UserErrors.single(
            "id",
            f"{role.key} is a built-in role and cannot be deleted",
            UserErrorCode.BUSINESS_RULE,
        )
    holders = list(
        (await session.scalars(select(UserRole.user_id).where(UserRole.role_id == role.id))).all()
    )
    grants = _grants_doc(await _stored_grants(session, role.id))
    await session.delete(role)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "role.deleted",
        "Role",
        role.id,
        audit.diff(
            {
                "key": role.key,
                "name": role.name,
                "grants": grants,
                "holders": [global_id("User", h) for h in holders],
            },
            {},
        ),
    )
    return len(holders)


@dataclass(frozen=True)
class NewApiToken:
    token: ApiToken
    secret: str


async def create_api_token(
    session: AsyncSession,
    context: RequestContext,
    name: str | None,
    expires_at: dt.datetime | None,
    permissions: Sequence[str] | None,
) -> NewApiToken:
    caller = require(context)
    if caller.api_token_id is not None:
        raise _forbidden(
            None, "API tokens are created from a login session, not with another API token"
        )
    check = Check()
    cleaned = check.text("name", name, max_length=API_TOKEN_NAME_MAX)
    now = utcnow()
    if expires_at is not None:
        if expires_at.tzinfo is None:
            check.fail("expiresAt", "must carry a time zone", UserErrorCode.INVALID)
        elif expires_at <= now:
            check.fail("expiresAt", "must be in the future", UserErrorCode.OUT_OF_RANGE)
    narrowed: list[str] | None = None
    if permissions is not None:
        narrowed = []
        for index, permission in enumerate(permissions):
            if permission not in caller.grants:
                check.fail(
                    f"permissions.{index}",
                    f"you do not hold {permission!r}",
                    UserErrorCode.FORBIDDEN,
                )
            elif permission not in narrowed:
                narrowed.append(permission)
    check.done()
    assert cleaned is not None
    secret = tokens.new_secret(tokens.API_PREFIX)
    token = ApiToken(
        user_id=caller.user_id,
        name=cleaned,
        token_hash=tokens.digest(secret),
        prefix=secret[: len(tokens.API_PREFIX) + 4],
        permissions=sorted(narrowed) if narrowed is not None else None,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "api_token.created",
        "ApiToken",
        token.id,
        audit.created(
            {
                "name": token.name,
                "userId": global_id("User", caller.user_id),
                "expiresAt": expires_at,
                "permissions": token.permissions,
            }
        ),
    )
    return NewApiToken(token=token, secret=secret)


async def revoke_api_token(
    session: AsyncSession, context: RequestContext, token_id: int | None
) -> ApiToken:
    """Revoke one's own token, or, with ``users:manage``, a managed user's."""
    caller = require(context)
    token = (
        await session.get(ApiToken, token_id, with_for_update=True)
        if token_id is not None
        else None
    )
    if token is not None and token.user_id != caller.user_id:
        owner = await session.scalar(
            select(User.id).where(User.id == token.user_id, context.visible("users:manage"))
        )
        if owner is None:
            token = None
    if token is None:
        raise _not_found("id", "API token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "api_token.revoked",
            "ApiToken",
            token.id,
            audit.diff({"revokedAt": None}, {"revokedAt": token.revoked_at}),
        )
    return token
