"""Errors the API reports on purpose.

Two kinds, as the API conventions say:

* :class:`ApiError` GraphQL errors with ``extensions.code`` for failures of the request
  itself, in queries and mutations alike: UNAUTHENTICATED, TOKEN_EXPIRED, SESSION_ENDED,
  FORBIDDEN (a permission missing or not reaching far enough), NOT_FOUND (a record named by
  id, as an argument or inside a mutation's input, that does not exist or is outside the
  caller's reach; ``argument`` names where, such as ``input.assigneeId``), BAD_USER_INPUT (a
  bad argument to a query).
  GraphQL's own request errors get a code too (:mod:`core.request_checks`): GRAPHQL_PARSE_FAILED,
  GRAPHQL_VALIDATION_FAILED, and BAD_USER_INPUT for a value that cannot be coerced.
* :class:`UserError` items in a mutation payload's ``errors`` list, for the expected
  business outcomes of a mutation only (a value refused, a duplicate, a conflict, a
  transition or business rule). Services raise :class:`UserErrors`; the mutation helper
  rolls the transaction back and returns them. A stale version raises :class:`Conflict`,
  whose payload carries the record as it now is.

Every other exception is unexpected and is masked as "Internal error" with a request id.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import strawberry

from core.i18n import _, render


@strawberry.enum(
    description="Why a mutation refused its input: an expected business outcome. A missing "
    "permission or a record that cannot be found is a top-level error (`extensions.code` "
    "FORBIDDEN or NOT_FOUND) instead."
)
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    TOO_SHORT = "TOO_SHORT"
    OUT_OF_RANGE = "OUT_OF_RANGE"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    BUSINESS_RULE = "BUSINESS_RULE"
    RATE_LIMITED = "RATE_LIMITED"


@strawberry.type(description="An expected failure of a mutation, tied to an input field.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault, in camelCase with dots for nesting "
        "(`email`, `address.city`), or null when no single field is at fault."
    )
    message: strawberry.Private[str]
    """The message as written (a :class:`~core.i18n.Text` for a translated one)."""

    @strawberry.field(name="message", description="What is wrong, in the request's language.")
    def rendered_message(self) -> str:
        return render(self.message)

    code: UserErrorCode


class UserErrors(Exception):
    """Raised by services for expected failures; carries one or more :class:`UserError`."""

    def __init__(self, errors: Iterable[UserError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))

    @classmethod
    def single(cls, field: str | None, message: str, code: UserErrorCode) -> UserErrors:
        return cls([UserError(field=field, message=message, code=code)])


class Conflict(UserErrors):
    """A change made against a stale version (code CONFLICT). ``row`` is the record the
    caller tried to change; the mutation helper reads it again after the rollback and hands
    it to the payload with the error, so the client can merge and retry at once."""

    def __init__(self, row: Any, field: str, message: str) -> None:
        super().__init__([UserError(field=field, message=message, code=UserErrorCode.CONFLICT)])
        self.row = row


class ApiErrorCode(enum.StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    SESSION_ENDED = "SESSION_ENDED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    SERVICE_BUSY = "SERVICE_BUSY"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


AUTHENTICATION_CODES = frozenset(
    {ApiErrorCode.UNAUTHENTICATED, ApiErrorCode.TOKEN_EXPIRED, ApiErrorCode.SESSION_ENDED}
)
"""The codes of a request without a usable token: TOKEN_EXPIRED (refresh the access token),
SESSION_ENDED (log in again), UNAUTHENTICATED (no token, or one that is not valid)."""


class ApiError(Exception):
    """A GraphQL error the client should see, with ``extensions.code`` (never masked)."""

    def __init__(
        self, message: str, code: ApiErrorCode, *, argument: str | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions: dict[str, Any] = {"code": code.value, **extra}
        if argument is not None:
            self.extensions["argument"] = argument


def bad_argument(argument: str, message: str) -> ApiError:
    """An :class:`ApiError` for a bad query argument, naming it."""
    return ApiError(
        _("{argument}: {message}", argument=argument, message=message),
        ApiErrorCode.BAD_USER_INPUT,
        argument=argument,
    )


def not_found(argument: str, message: str) -> ApiError:
    """A NOT_FOUND :class:`ApiError` for a record named by id that does not exist or is
    outside the caller's reach; ``argument`` is where the id was given (``id``,
    ``input.customerIds.1``)."""
    return ApiError(
        _("{argument}: {message}", argument=argument, message=message),
        ApiErrorCode.NOT_FOUND,
        argument=argument,
    )


def forbidden(message: str, *, permission: str | None = None) -> ApiError:
    """A FORBIDDEN :class:`ApiError`: the caller lacks a permission, or holds it at a scope
    that does not reach far enough (named in ``extensions.permission`` when known)."""
    if permission is None:
        return ApiError(message, ApiErrorCode.FORBIDDEN)
    return ApiError(message, ApiErrorCode.FORBIDDEN, permission=permission)
