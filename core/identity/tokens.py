"""Tokens: signed access tokens (PyJWT, HS256), opaque refresh and API tokens.

Access tokens are short-lived JWTs naming the user and the login session, so revoking the
session (logout, a reused refresh token, a password change) ends them at once. Refresh and
API tokens are secrets with a recognisable prefix; only their SHA-256 is stored (they
carry 256 bits of entropy, so a fast hash is enough and lookups stay indexable).

A login's first refresh token is random; each rotation's is derived from the token it
replaces (:func:`successor_token`, an HMAC under the secret key), and so is the new access
token's ``jti``. Presented again within the grace period, the replaced token yields the same
pair once more without any secret being stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import jwt

from core.i18n import _

ALGORITHM = "HS256"
ISSUER = "crm"
REFRESH_PREFIX = "crmr_"
API_PREFIX = "crma_"


class TokenError(Exception):
    """The token cannot be used; the message says why, for the client."""


EXPIRED = _("the access token has expired; refresh it")


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: str
    expires_at: dt.datetime


def issue_access_token(
    secret: str,
    user_id: int,
    session_id: str,
    lifetime: dt.timedelta,
    now: dt.datetime,
    *,
    jti: str | None = None,
) -> tuple[str, dt.datetime]:
    """A signed access token and its expiry. The same arguments with the same ``jti`` give
    the same token (HS256 signatures are deterministic)."""
    expires_at = now + lifetime
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "typ": "access",
        "jti": jti or secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires_at


def read_access_token(secret: str, token: str) -> AccessClaims:
    """The claims of a genuine access token, whether or not it has expired: the caller
    checks ``expires_at`` against the app's clock (not the wall clock, which the JWT library
    would use), after checking the session, so that an ended session says so first."""
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
        raise TokenError(_("the access token is not valid")) from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise TokenError(_("the access token is not valid"))
    if not isinstance(claims["exp"], int):
        raise TokenError(_("the access token is not valid"))
    return AccessClaims(
        user_id=int(claims["sub"]),
        session_id=str(claims["sid"]),
        expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC),
    )


def is_expired(claims: AccessClaims, now: dt.datetime) -> bool:
    return claims.expires_at <= now


def _mac(secret: str, purpose: str, token: str) -> bytes:
    message = f"{purpose}\x00{token}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def successor_token(secret: str, predecessor: str) -> str:
    """The refresh token that replaces ``predecessor`` (the same one every time)."""
    mac = _mac(secret, "refresh-successor", predecessor)
    return REFRESH_PREFIX + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def successor_jti(secret: str, predecessor: str) -> str:
    """The ``jti`` of the access token issued when ``predecessor`` is rotated."""
    return _mac(secret, "access-jti", predecessor).hex()[:16]


def new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_id() -> str:
    return secrets.token_hex(16)
