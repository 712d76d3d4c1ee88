"""Authentication: log in, rotate refresh tokens, log out, and turn a bearer token into a
:class:`~core.access.Caller`.

Every login, success or failure, is audited in its own transaction (a failure is committed
too, with the throttle's count). Answers for an unknown email and a wrong password are the
same and take about the same time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from core import audit
from core.catalog import Catalog, merge_grants
from core.config import Settings
from core.db import Database
from core.errors import UserError, UserErrorCode, UserErrors
from core.extension import Scope
from core.i18n import _
from core.identity import passwords, throttle, tokens
from core.identity.models import AuthSession, RefreshToken, Role, RoleGrant, User
from core.identity.models import UserRole as UserRoleLink
from core.rows import column_rows

BAD_CREDENTIALS = _("the email or password is incorrect")
SESSION_ENDED = _("the session has ended; log in again")
API_TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Issued:
    """What a login or refresh hands out."""

    user: User
    access_token: str
    access_token_expires_at: dt.datetime
    refresh_token: str


async def role_grants(
    session: AsyncSession,
    catalog: Catalog,
    role_ids: Iterable[int] | None = None,
    *,
    user_id: int | None = None,
) -> dict[int, dict[str, Scope]]:
    """Effective grants per role: built-in defaults plus stored grants, declared ones only."""
    statement = select(*GRANT_COLUMNS).outerjoin(RoleGrant, RoleGrant.role_id == Role.id)
    if user_id is not None:
        statement = statement.join(UserRoleLink, UserRoleLink.role_id == Role.id).where(
            UserRoleLink.user_id == user_id
        )
    if role_ids is not None:
        statement = statement.where(Role.id.in_(list(role_ids)))
    return grants_of_rows(catalog, await column_rows(session, statement))


GRANT_COLUMNS = (
    Role.id.label("grant_role_id"),
    Role.key.label("grant_role_key"),
    RoleGrant.permission.label("grant_permission"),
    RoleGrant.scope.label("grant_scope"),
)
"""The columns :func:`grants_of_rows` reads: a role and one of its stored grants (``NULL``
when it has none), as selected from roles outer-joined to their grants."""


def grants_of_rows(catalog: Catalog, rows: Iterable[Any]) -> dict[int, dict[str, Scope]]:
    """Effective grants per role from rows of :data:`GRANT_COLUMNS` (a row without a role,
    as an outer join to a user without roles gives, adds nothing)."""
    grants: dict[int, dict[str, Scope]] = {}
    for row in rows:
        role_id = row.grant_role_id
        if role_id is None:
            continue
        held = grants.get(role_id)
        if held is None:
            held = grants[role_id] = catalog.default_grants(row.grant_role_key)
        permission = row.grant_permission
        if permission is not None and permission in catalog.permissions:
            held.update(merge_grants(held, {permission: Scope(row.grant_scope)}))
    return grants


async def user_grants(session: AsyncSession, catalog: Catalog, user_id: int) -> dict[str, Scope]:
    """A user's effective grants: the union of their roles', widest scope winning."""
    per_role = await role_grants(session, catalog, user_id=user_id)
    return merge_grants(*per_role.values())


def _actor(
    user: User | None,
    label: str,
    client_address: str | None,
    request_id: str | None,
    now: dt.datetime,
) -> audit.Actor:
    return audit.Actor(
        user_id=user.id if user else None,
        label=label,
        client_address=client_address,
        request_id=request_id,
        at=now,
    )


async def _open_session(
    session: AsyncSession,
    settings: Settings,
    user: User,
    client_address: str | None,
    now: dt.datetime,
) -> Issued:
    session_id = tokens.new_session_id()
    session.add(
        AuthSession(
            id=session_id,
            user_id=user.id,
            created_at=now,
            expires_at=now + dt.timedelta(days=settings.refresh_token_days),
            client_address=client_address,
        )
    )
    refresh_token = tokens.new_secret(tokens.REFRESH_PREFIX)
    session.add(
        RefreshToken(session_id=session_id, token_hash=tokens.digest(refresh_token), created_at=now)
    )
    return _issued(settings, user, session_id, refresh_token, now, jti=None)


def _issued(
    settings: Settings,
    user: User,
    session_id: str,
    refresh_token: str,
    issued_at: dt.datetime,
    *,
    jti: str | None,
) -> Issued:
    access, expires_at = tokens.issue_access_token(
        settings.secret_key,
        user.id,
        session_id,
        dt.timedelta(minutes=settings.access_token_minutes),
        issued_at,
        jti=jti,
    )
    return Issued(
        user=user,
        access_token=access,
        access_token_expires_at=expires_at,
        refresh_token=refresh_token,
    )


async def login(
    db: Database,
    settings: Settings,
    email: str,
    password: str,
    *,
    client_address: str | None,
    request_id: str | None,
    now: dt.datetime,
) -> Issued:
    """Check the credentials and open a session; raise :class:`UserErrors` otherwise.

    :param now: the time the request reads (its controllable clock).
    """
    email = email.strip().lower()
    errors = []
    if not email:
        errors.append(
            UserError(field="email", message=_("is required"), code=UserErrorCode.REQUIRED)
        )
    if not password:
        errors.append(
            UserError(field="password", message=_("is required"), code=UserErrorCode.REQUIRED)
        )
    if errors:
        raise UserErrors(errors)
    keys = throttle.Keys.of(email, client_address)
    limit = settings.password_hash_concurrency
    # Read, then check the password off the event loop with no transaction open: argon2
    # takes a fraction of a second of CPU, and nothing may wait on it.
    async with db.read() as session:
        locked = await throttle.locked_for(session, keys.all(), now)
        user = await session.scalar(select(User).where(User.email == email))
    verified = False
    new_hash: str | None = None
    if locked is None:
        verified = await passwords.verify_off_loop(
            user.password_hash if user else None, password, limit=limit
        )
        stored = user.password_hash if verified and user is not None and user.is_active else None
        if stored is not None and passwords.needs_rehash(stored):
            new_hash = await passwords.hash_off_loop(password, limit=limit)
    delay = 0.0
    failure: UserErrors
    async with db.transaction() as session:
        actor = _actor(user, email, client_address, request_id, now)
        current = None
        if locked is None and verified and user is not None:
            # Recheck in the write transaction: a lock reached by guesses running alongside
            # this one, or a password change or deactivation meanwhile, wins.
            locked = await throttle.locked_for(session, keys.all(), now)
            current = await session.scalar(select(User).where(User.id == user.id))
            if current is None or current.password_hash != user.password_hash:
                verified = False
        if locked is not None:
            audit.record(
                session,
                actor,
                "login.refused",
                "User",
                user.id if user else None,
                {"reason": "locked"},
            )
            failure = UserErrors.single(
                None,
                _("too many failed logins; try again in {minutes} minutes", minutes=locked)
                if locked > 1
                else _("too many failed logins; try again in 1 minute"),
                UserErrorCode.RATE_LIMITED,
            )
        elif not verified:
            delay = await throttle.count_failure(session, keys, settings, now)
            audit.record(
                session,
                actor,
                "login.failed",
                "User",
                user.id if user else None,
                {"reason": "bad credentials"},
            )
            failure = UserErrors.single(None, BAD_CREDENTIALS, UserErrorCode.INVALID)
        elif current is None or not current.is_active:
            audit.record(
                session,
                actor,
                "login.failed",
                "User",
                user.id if user else None,
                {"reason": "deactivated"},
            )
            failure = UserErrors.single(
                None, _("this account is deactivated"), UserErrorCode.BUSINESS_RULE
            )
        else:
            await throttle.clear(session, keys)
            if new_hash is not None:
                current.password_hash = new_hash
            return await finish_sign_in(session, settings, actor, current, client_address, now)
    if delay:
        await asyncio.sleep(delay)
    raise failure


async def finish_sign_in(
    session: AsyncSession,
    settings: Settings,
    actor: audit.Actor,
    user: User,
    client_address: str | None,
    now: dt.datetime,
) -> Issued:
    """The end of a successful sign-in, once ``user`` is known to be who they say and
    active: the last login time, a new session, the audit (``login.succeeded``)."""
    # Not an edit of the user: no version bump that would fail someone's pending edit.
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(user, "last_login_at", now)  # the payload shows it, no flush
    issued = await _open_session(session, settings, user, client_address, now)
    audit.record(session, actor, "login.succeeded", "User", user.id)
    return issued


INVALID_REFRESH = _("the refresh token is not valid; log in again")


async def refresh(
    db: Database,
    settings: Settings,
    refresh_token: str,
    *,
    client_address: str | None,
    request_id: str | None,
    now: dt.datetime,
) -> Issued:
    """Rotate a refresh token: it is used up, and its successor and a new access token are
    handed out.

    Presented again within ``CRM_REFRESH_GRACE_SECONDS`` of its rotation, while its successor
    is still unused, a token gets the same pair again (two tabs refreshing at once both keep
    the session). Any other second use is a reuse: the whole session is revoked.
    """
    presented = refresh_token.strip()
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(RefreshToken, AuthSession, User)
                .join(AuthSession, AuthSession.id == RefreshToken.session_id)
                .join(User, User.id == AuthSession.user_id)
                .where(RefreshToken.token_hash == tokens.digest(presented))
            )
        ).one_or_none()
        if row is None:
            raise UserErrors.single("refreshToken", INVALID_REFRESH, UserErrorCode.INVALID)
        token, auth_session, user = row
        actor = _actor(user, user.email, client_address, request_id, now)
        if auth_session.revoked_at is not None or auth_session.expires_at <= now:
            raise UserErrors.single("refreshToken", INVALID_REFRESH, UserErrorCode.INVALID)
        if not user.is_active:
            raise UserErrors.single(
                "refreshToken", _("this account is deactivated"), UserErrorCode.BUSINESS_RULE
            )
        # Conditional update: of two requests racing with one token, exactly one rotates it
        # (on PostgreSQL the other waits for the row and then finds it used; on SQLite
        # writers take turns). The successor is written in the same transaction, so whoever
        # finds the token used also finds its successor.
        claimed = await session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            successor = tokens.successor_token(settings.secret_key, presented)
            session.add(
                RefreshToken(
                    session_id=auth_session.id,
                    token_hash=tokens.digest(successor),
                    created_at=now,
                )
            )
            jti = tokens.successor_jti(settings.secret_key, presented)
            return _issued(settings, user, auth_session.id, successor, now, jti=jti)
        again = await _within_grace(
            session, settings, user, token.id, auth_session.id, presented, now
        )
        if again is not None:
            return again
        await session.execute(
            update(AuthSession)
            .where(AuthSession.id == auth_session.id)
            .values(revoked_at=now, revoked_reason="refresh token reused")
        )
        audit.record(
            session,
            actor,
            "session.revoked",
            "User",
            user.id,
            {"reason": "refresh token reused"},
        )
    raise UserErrors.single(
        "refreshToken",
        _("this refresh token was already used; its session is revoked, log in again"),
        UserErrorCode.INVALID,
    )


async def _within_grace(
    session: AsyncSession,
    settings: Settings,
    user: User,
    token_id: int,
    session_id: str,
    presented: str,
    now: dt.datetime,
) -> Issued | None:
    """The pair a used refresh token was rotated into, again, if it is presented within the
    grace period and that pair's refresh token is still the session's current one."""
    grace = dt.timedelta(seconds=settings.refresh_grace_seconds)
    if not grace:
        return None
    # Columns, not the entity: the identity map holds the row as it was read before the
    # conditional update, and a concurrent rotation has changed it since.
    rotated_at = await session.scalar(
        select(RefreshToken.used_at).where(RefreshToken.id == token_id)
    )
    if rotated_at is None or now - rotated_at >= grace:
        return None
    successor = tokens.successor_token(settings.secret_key, presented)
    current = await session.scalar(
        select(RefreshToken.id).where(
            RefreshToken.token_hash == tokens.digest(successor),
            RefreshToken.session_id == session_id,
            RefreshToken.used_at.is_(None),
        )
    )
    if current is None:
        return None
    jti = tokens.successor_jti(settings.secret_key, presented)
    return _issued(settings, user, session_id, successor, rotated_at, jti=jti)


async def revoke_session(
    session: AsyncSession, session_id: str, reason: str, now: dt.datetime
) -> bool:
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def session_of_refresh_token(session: AsyncSession, refresh_token: str) -> AuthSession | None:
    return await session.scalar(
        select(AuthSession)
        .join(RefreshToken, RefreshToken.session_id == AuthSession.id)
        .where(RefreshToken.token_hash == tokens.digest(refresh_token.strip()))
    )


async def revoke_user_sessions(
    session: AsyncSession, user_id: int, reason: str, now: dt.datetime
) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
