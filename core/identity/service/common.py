"""Errors and checks the services of identity share."""

from __future__ import annotations

from collections.abc import Mapping

from core.errors import ApiError, ApiErrorCode, not_found
from core.extension import Scope
from core.i18n import _


def _forbidden(field: str | None, message: str) -> ApiError:
    """FORBIDDEN at the top level; ``field`` (of the mutation's input) names what asked for
    more than the caller holds, in ``extensions.argument``."""
    if field is None:
        return ApiError(message, ApiErrorCode.FORBIDDEN)
    argument = f"input.{field}"
    return ApiError(
        _("{argument}: {message}", argument=argument, message=message),
        ApiErrorCode.FORBIDDEN,
        argument=argument,
    )


RECORDS = {"user": _("user"), "team": _("team"), "role": _("role"), "API token": _("API token")}
"""The records ``_not_found`` names, as messages."""


def _not_found(field: str, what: str) -> ApiError:
    """NOT_FOUND at the top level for the id in the mutation's input at ``field``."""
    return not_found(
        f"input.{field}",
        _("no {what} with this id is visible to you", what=RECORDS.get(what, what)),
    )


def _uncovered(wanted: Mapping[str, Scope], held: Mapping[str, Scope]) -> list[str]:
    """Permissions in ``wanted`` that ``held`` does not reach as far."""
    return sorted(p for p, s in wanted.items() if p not in held or not held[p].covers(s))
