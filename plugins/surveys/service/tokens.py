"""Survey link tokens: 256 random bits, URL-safe; only their SHA-256 is stored, so a copy of
the database does not hold working links."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 100
"""Longer text is not a token: refused before hashing."""


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(public_url: str, token: str) -> str:
    """The public page of ``token`` under the deployment's public URL."""
    return f"{public_url.rstrip('/')}/s/{token}"
