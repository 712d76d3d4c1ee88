"""Tokens: signed access tokens (PyJWT, HS256), opaque refresh and API tokens.

Access tokens are short-lived JWTs naming the user and the login session, so revoking the
session (logout, a reused refresh token, a password change) ends them at once. Refresh and
API tokens are random secrets with a recognisable prefix; only their SHA-256 is stored
(they carry 256 bits of entropy, so a fast hash is enough and lookups stay indexable).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ISSUER = "crm"
REFRESH_PREFIX = "crmr_"
API_PREFIX = "crma_"


class TokenError(Exception):
    """The token cannot be used; the message says why, for the client."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: dt.datetime


def issue_access_token(
    secret: str, user_id: int, session_id: str, lifetime: dt.timedelta, now: dt.datetime
) -> tuple[str, dt.datetime]:
    expires_at = now + lifetime
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "typ": "access",
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def read_access_token(secret: str, token: str, now: dt.datetime) -> AccessClaims:
    """The claims of a valid access token at ``now`` (the app's clock, not the wall clock's:
    its lifetime is checked here rather than by the JWT library)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "sub", "sid", "iss"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.InvalidTokenError:
        raise TokenError("the access token is not valid") from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise TokenError("the access token is not valid")
    if not isinstance(claims["exp"], int) or claims["exp"] <= now.timestamp():
        raise TokenError("the access token has expired; refresh it or log in again")
    return AccessClaims(
        user_id=int(claims["sub"]),
        session_id=str(claims["sid"]),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
    )


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_hex(16)
