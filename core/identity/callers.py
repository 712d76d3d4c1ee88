"""Who is calling: a bearer token (a session's access token or an API token) made into a
:class:`~core.access.Caller` with the user's grants, and the callers of jobs and links that
act for a user without a token of theirs."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import AuthenticationError, Caller
from core.catalog import Catalog, merge_grants
from core.config import Settings
from core.db import Database
from core.errors import ApiErrorCode
from core.extension import Scope
from core.i18n import _
from core.identity import tokens
from core.identity.auth import (
    API_TOKEN_TOUCH_INTERVAL,
    GRANT_COLUMNS,
    SESSION_ENDED,
    grants_of_rows,
    user_grants,
)
from core.identity.models import ApiToken, AuthSession, Role, RoleGrant, User, UserRole
from core.prepared import Prepared, prepared_column_rows
from core.rows import ColumnRow


async def authenticate(
    db: Database, settings: Settings, catalog: Catalog, token: str, now: dt.datetime
) -> Caller:
    """The caller a bearer token stands for at ``now``; :class:`AuthenticationError` if none."""
    async with db.lookup() as session:
        if token.startswith(tokens.API_PREFIX):
            return await _api_token_caller(db, session, catalog, token, now)
        try:
            claims = tokens.read_access_token(settings.secret_key, token)
        except tokens.TokenError as exc:
            raise AuthenticationError(exc.args[0] if exc.args else str(exc)) from None
        # A genuine token: its session decides first (an ended one cannot be refreshed, so
        # the client is told to log in again rather than to try), then its own expiry.
        found = await prepared_column_rows(
            session,
            _SESSION_CALLER,
            {"user_id": claims.user_id, "session_id": claims.session_id},
        )
        if not found:
            raise AuthenticationError(SESSION_ENDED, ApiErrorCode.SESSION_ENDED)
        user = found[0]
        if user.revoked_at is not None or user.expires_at <= now:
            raise AuthenticationError(SESSION_ENDED, ApiErrorCode.SESSION_ENDED)
        if not user.is_active:
            raise AuthenticationError(_("this account is deactivated"), ApiErrorCode.SESSION_ENDED)
        if tokens.is_expired(claims, now):
            raise AuthenticationError(tokens.EXPIRED, ApiErrorCode.TOKEN_EXPIRED)
        grants = merge_grants(*grants_of_rows(catalog, found).values())
    return _caller(user, grants, session_id=claims.session_id)


_CALLER_COLUMNS = ("id", "email", "team_id", "time_zone", "locale", "is_active")
"""The user's columns :func:`_caller` reads."""

_SESSION_CALLER = Prepared(
    select(
        *(getattr(User, name) for name in _CALLER_COLUMNS),
        AuthSession.revoked_at,
        AuthSession.expires_at,
        *GRANT_COLUMNS,
    )
    .join(AuthSession, AuthSession.user_id == User.id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .outerjoin(Role, Role.id == UserRole.role_id)
    .outerjoin(RoleGrant, RoleGrant.role_id == Role.id)
    .where(User.id == bindparam("user_id"), AuthSession.id == bindparam("session_id"))
)
"""The caller of a session's access token, in one statement built and compiled once (it
runs before every request: core.prepared): the columns a caller is made of, the session's
state, and the user's roles with their grants (a row per grant; one row with no role for a
user without roles). Its values, ``user_id`` and ``session_id``, are bound when it runs."""


def _caller(
    user: User | ColumnRow,
    grants: dict[str, Scope],
    session_id: str | None = None,
    api_token_id: int | None = None,
) -> Caller:
    """The caller ``user`` is with ``grants``, signed in by a session or an API token."""
    return Caller(
        user_id=user.id,
        email=user.email,
        team_id=user.team_id,
        grants=grants,
        time_zone=user.time_zone,
        locale=user.locale,
        session_id=session_id,
        api_token_id=api_token_id,
    )


async def _api_token_caller(
    db: Database, session: AsyncSession, catalog: Catalog, token: str, now: dt.datetime
) -> Caller:
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == tokens.digest(token))
        )
    ).one_or_none()
    if row is None:
        raise AuthenticationError(_("the API token is not valid"))
    api_token, user = row
    if api_token.revoked_at is not None:
        raise AuthenticationError(_("the API token has been revoked"))
    if api_token.expires_at is not None and api_token.expires_at <= now:
        raise AuthenticationError(_("the API token has expired"))
    if not user.is_active:
        raise AuthenticationError(_("the API token's user is deactivated"))
    grants = _narrowed(await user_grants(session, catalog, user.id), api_token.permissions)
    if api_token.last_used_at is None or api_token.last_used_at < now - API_TOKEN_TOUCH_INTERVAL:
        async with db.transaction() as write:
            await write.execute(
                update(ApiToken).where(ApiToken.id == api_token.id).values(last_used_at=now)
            )
    return _caller(user, grants, api_token_id=api_token.id)


async def caller_for_sign_in(
    db: Database,
    catalog: Catalog,
    user_id: int,
    now: dt.datetime,
    *,
    session_id: str | None = None,
    api_token_id: int | None = None,
) -> Caller | None:
    """The caller a sign-in of ``user_id`` (a session or an API token, by id) stands for at
    ``now``, with the grants it has now; ``None`` once the session has ended, the token is
    revoked or expired, or the user is deactivated. For links signed for a sign-in
    (attachment downloads): they act with its grants, not more."""
    async with db.read() as session:
        permissions: list[str] | None = None
        if session_id is not None:
            user = await session.scalar(
                select(User)
                .join(AuthSession, AuthSession.user_id == User.id)
                .where(
                    User.id == user_id,
                    AuthSession.id == session_id,
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > now,
                )
            )
        elif api_token_id is not None:
            found = (
                await session.execute(
                    select(User, ApiToken.permissions)
                    .join(ApiToken, ApiToken.user_id == User.id)
                    .where(
                        User.id == user_id,
                        ApiToken.id == api_token_id,
                        ApiToken.revoked_at.is_(None),
                        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
                    )
                )
            ).one_or_none()
            user, permissions = found if found is not None else (None, None)
        else:
            return None
        if user is None or not user.is_active:
            return None
        grants = _narrowed(await user_grants(session, catalog, user.id), permissions)
    return _caller(user, grants, session_id=session_id, api_token_id=api_token_id)


def _narrowed(grants: dict[str, Scope], permissions: list[str] | None) -> dict[str, Scope]:
    """``grants`` within an API token's ``permissions`` (``None``: all of them)."""
    if permissions is None:
        return grants
    allowed = set(permissions)
    return {name: scope for name, scope in grants.items() if name in allowed}


async def caller_for_email(db: Database, catalog: Catalog, email: str) -> Caller:
    """The caller for an active user by email (command-line tools acting as that user)."""
    async with db.read() as session:
        user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.is_active:
            raise AuthenticationError(_("no active user has the email {email!r}", email=email))
        grants = await user_grants(session, catalog, user.id)
    return _caller(user, grants)
