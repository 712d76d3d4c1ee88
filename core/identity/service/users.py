"""Users: created, changed, deactivated, their passwords and roles.

Two rules guard against privilege escalation: a caller can only hand out roles whose grants
they hold themselves, and the last active administrator cannot be deactivated or lose the role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from core.i18n import _
from core.identity import auth, passwords
from core.identity.models import AuthSession, Role, Team, User, UserRole
from core.identity.service.common import _forbidden, _not_found, _uncovered
from core.identity.service.preferences import set_preferences
from core.identity.service.user_changes import USER_FIELDS, record_user_change
from core.validation import Check, require_version, snapshot


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
                _(
                    "{email} holds permissions you do not ({grants}); only someone who holds "
                    "them may manage this user",
                    email=user.email,
                    grants=", ".join(beyond),
                ),
            )
    return user


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
                _(
                    "role {key} grants what you do not hold yourself: {grants}",
                    key=role.key,
                    grants=", ".join(beyond),
                ),
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
            _("this is the last active administrator; make someone else administrator first"),
            UserErrorCode.BUSINESS_RULE,
        )


async def _team_exists(
    session: AsyncSession, check: Check, team_id: int | None, field: str
) -> None:
    if team_id is not None and await session.get(Team, team_id) is None:
        raise _not_found(field, "team")


async def _email_free(
    session: AsyncSession, check: Check, email: str | None, user_id: int | None = None
) -> None:
    if email is None:
        return
    statement = select(User.id).where(User.email == email)
    if user_id is not None:
        statement = statement.where(User.id != user_id)
    if await session.scalar(statement) is not None:
        check.fail("email", _("another user has this email address"), UserErrorCode.DUPLICATE)


def _password_ok(
    check: Check,
    settings: Settings,
    password: str,
    email: str,
    name: str,
    field: str = "password",
) -> bool:
    """Whether ``password`` meets the policy; if not, the reason goes to ``check``."""
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
        return False
    return True


def worth_hashing(settings: Settings, password: str) -> bool:
    """Whether hashing ``password`` ahead could pay off: not when its length alone fails."""
    return settings.password_min_length <= len(password) <= passwords.MAX_LENGTH


async def hash_ahead(settings: Settings, password: str) -> str | None:
    """The hash of ``password``, made off the event loop, for a caller to compute before
    it opens the transaction that stores it; ``None`` when the policy refuses it anyway."""
    if not worth_hashing(settings, password):
        return None
    return await passwords.hash_off_loop(password, limit=settings.password_hash_concurrency)


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
    password_hash: str | None = None
    """The hash of ``password`` made ahead (:func:`hash_ahead`), outside the transaction;
    when missing, :func:`add_user` hashes (off the event loop) inside it."""


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
    password_ok = _password_ok(check, settings, new.password, email or "", name or "")
    check.done()
    assert email is not None
    assert name is not None
    assert password_ok
    password_hash = new.password_hash or await passwords.hash_off_loop(
        new.password, limit=settings.password_hash_concurrency
    )
    now = actor.at or utcnow()
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
        raise _forbidden(None, _("creating users needs users:manage for all users"))
    check = check or Check()
    roles: list[Role] = []
    if new.role_ids:
        roles = await _check_no_escalation(session, context, caller, new.role_ids, "roleIds")
    return await add_user(session, context.settings, actor_of(context), new, roles, check)


async def update_user(
    session: AsyncSession,
    context: RequestContext,
    user_id: int | None,
    version: int,
    changes: Mapping[str, Any],
    *,
    active_field: str = "active",
) -> User:
    """Apply ``changes`` (keys: email, name, team_id, active, locale, time_zone; only those
    given).

    :param active_field: the input field named when deactivation is refused.
    """
    require(context, "users:manage")
    user = await managed_user(session, context, user_id)
    require_version(user, version)
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
    set_preferences(check, user, changes)
    check.done()
    if (
        "active" in changes
        and changes["active"] is not None
        and changes["active"] != user.is_active
    ):
        if not changes["active"]:
            await _deactivate_checks(session, context, user, active_field)
        user.is_active = bool(changes["active"])
    await record_user_change(session, context, user, before)
    return user


async def _deactivate_checks(
    session: AsyncSession, context: RequestContext, user: User, field: str
) -> None:
    caller = require(context)
    if user.id == caller.user_id:
        raise UserErrors.single(
            field, _("you cannot deactivate yourself"), UserErrorCode.BUSINESS_RULE
        )
    await _keep_an_admin(session, user, field)
    await auth.revoke_user_sessions(session, user.id, "user deactivated", context.now())


async def deactivate_user(
    session: AsyncSession, context: RequestContext, user_id: int | None, version: int
) -> User:
    return await update_user(
        session, context, user_id, version, {"active": False}, active_field="id"
    )


@dataclass(frozen=True)
class PreparedPassword:
    """A password change's argon2 work, done before its transaction
    (:func:`prepare_password_change`)."""

    new_hash: str | None
    checked_hash: str | None = None
    """The stored hash the current password was checked against (one's own change)."""


async def prepare_password_change(
    context: RequestContext, user_id: int | None, password: str, current_password: str | None
) -> PreparedPassword:
    """Check the current password and hash the new one, off the event loop, with no
    transaction open; :func:`set_user_password` then stores the result."""
    caller = require(context)
    limit = context.settings.password_hash_concurrency
    checked: str | None = None
    if user_id == caller.user_id:
        async with context.db.read() as session:
            checked = await session.scalar(select(User.password_hash).where(User.id == user_id))
        if not await passwords.verify_off_loop(checked, current_password or "", limit=limit):
            raise _wrong_current_password()
    else:
        require(context, "users:manage")
    return PreparedPassword(await hash_ahead(context.settings, password), checked)


def _wrong_current_password() -> UserErrors:
    return UserErrors.single(
        "currentPassword", _("is not your current password"), UserErrorCode.INVALID
    )


async def set_user_password(
    session: AsyncSession,
    context: RequestContext,
    user_id: int | None,
    password: str,
    current_password: str | None,
    prepared: PreparedPassword | None = None,
) -> User:
    """Change a password: one's own with the current one, anyone's with ``users:manage``.

    Every session of the user ends, except the caller's own when they change their own.

    :param prepared: the checking and hashing done ahead, outside the transaction
        (:func:`prepare_password_change`); without it, they run here (off the event loop).
    """
    caller = require(context)
    limit = context.settings.password_hash_concurrency
    if user_id == caller.user_id:
        user = await session.get(User, caller.user_id, with_for_update=True)
        assert user is not None
        if prepared is not None and prepared.checked_hash is not None:
            # Checked ahead; it still counts only if the password was not changed meanwhile.
            current_ok = prepared.checked_hash == user.password_hash
        else:
            current_ok = await passwords.verify_off_loop(
                user.password_hash, current_password or "", limit=limit
            )
        if not current_ok:
            raise _wrong_current_password()
    else:
        require(context, "users:manage")
        user = await managed_user(session, context, user_id, "userId")
    check = Check()
    _password_ok(check, context.settings, password, user.email, user.name)
    check.done()
    hashed = prepared.new_hash if prepared is not None else None
    user.password_hash = hashed or await passwords.hash_off_loop(password, limit=limit)
    user.updated_at = context.now()
    now = context.now()
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
        user.updated_at = context.now()
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
