"""Errors and checks the services of identity share."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import UserErrorCode, UserErrors
from core.extension import Scope


def _forbidden(field: str | None, message: str) -> UserErrors:
    return UserErrors.single(field, message, UserErrorCode.FORBIDDEN)


def _not_found(field: str, what: str) -> UserErrors:
    return UserErrors.single(
        field, f"no {what} with this id is visible to you", UserErrorCode.NOT_FOUND
    )


def _uncovered(wanted: Mapping[str, Scope], held: Mapping[str, Scope]) -> list[str]:
    """Permissions in ``wanted`` that ``held`` does not reach as far."""
    return sorted(p for p, s in wanted.items() if p not in held or not held[p].covers(s))
