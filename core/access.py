"""The one place that decides access.

A :class:`Caller` carries the effective grants of whoever is calling (a user through an
access token, or an integration through an API token). :func:`visible` turns (caller,
permission) into a SQL condition with the resource's :class:`~core.extension.AccessPolicy`;
root lists, ``node``/``nodes``, mutations and every dataloader filter through it, so a nested
field never shows a record that its root list would hide. Fields that need a permission at
all use :func:`requires` (a Strawberry permission extension) and fail with
``extensions.code`` UNAUTHENTICATED (or TOKEN_EXPIRED, SESSION_ENDED) or FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, false, true
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from core.audit import Actor
from core.catalog import Catalog
from core.errors import ApiError, ApiErrorCode
from core.extension import Scope
from core.i18n import _

if TYPE_CHECKING:
    from core.context import RequestContext

NOT_AUTHENTICATED = _("authentication required: send Authorization: Bearer <token>")


@dataclass(frozen=True)
class Caller:
    """Who is calling, with the grants in force for this request."""

    user_id: int
    email: str
    team_id: int | None
    grants: Mapping[str, Scope] = field(default_factory=dict)
    session_id: str | None = None
    api_token_id: int | None = None
    time_zone: str | None = None
    """The user's own IANA time zone; ``None``: the deployment's (``CRM_TIME_ZONE``)."""
    locale: str | None = None
    """The user's own locale; ``None``: the deployment's (``CRM_LOCALE``)."""

    def scope(self, permission: str) -> Scope | None:
        return self.grants.get(permission)

    def can(self, permission: str, scope: Scope = Scope.OWN) -> bool:
        """Whether the caller holds ``permission`` reaching at least ``scope``."""
        held = self.grants.get(permission)
        return held is not None and held.covers(scope)

    @property
    def label(self) -> str:
        if self.api_token_id is not None:
            return f"user:{self.user_id}/token:{self.api_token_id}"
        return f"user:{self.user_id}"


class AuthenticationError(Exception):
    """The bearer token cannot be used; the message is for the client, and ``code`` tells
    its program what to do: TOKEN_EXPIRED (refresh the access token), SESSION_ENDED (log in
    again) or UNAUTHENTICATED (the token is not one this service accepts)."""

    def __init__(self, message: str, code: ApiErrorCode = ApiErrorCode.UNAUTHENTICATED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; raise if the header is malformed."""
    if header is None or not header.strip():
        return None
    scheme, _space, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(_("the Authorization header must be 'Bearer <token>'"))
    return token.strip()


def owner_ids(catalog: Catalog, caller: Caller, scope: Scope) -> Any:
    """The user ids whose records ``scope`` reaches: the caller, or the caller's team (the
    identity module says who is in a team; without one, TEAM reaches what OWN does)."""
    identity = catalog.identity
    if scope is Scope.TEAM and caller.team_id is not None and identity is not None:
        return identity.team_members(caller.team_id)
    return [caller.user_id]


def visible(
    caller: Caller | None, catalog: Catalog, permission: str, resource: str | None = None
) -> ColumnElement[bool]:
    """The SQL condition for the records of ``permission``'s resource the caller reaches.

    No grant: nothing. ALL: everything. OWN or TEAM: the rows the resource's access policy
    says are owned by the caller or their team (a caller without a team gets OWN). A
    resource without a policy is reachable only with ALL. ``resource`` names the policy
    when it is not the permission's own prefix (teams are read under ``users:read``).
    """
    scope = caller.scope(permission) if caller is not None else None
    if caller is None or scope is None:
        return false()
    if scope is Scope.ALL:
        return true()
    policy = catalog.policies.get(resource or permission.split(":", 1)[0])
    if policy is None:
        return false()
    return policy.owned_by(owner_ids(catalog, caller, scope))


def require(context: RequestContext, permission: str | None = None) -> Caller:
    """The caller, if authenticated and (when given) holding ``permission`` at any scope.

    Raises :class:`ApiError` UNAUTHENTICATED, TOKEN_EXPIRED or SESSION_ENDED (no usable
    token; the message says why) or FORBIDDEN (the permission is missing, named in the
    message).
    """
    caller = context.caller
    if caller is None:
        raise ApiError(
            context.auth_error or NOT_AUTHENTICATED,
            context.auth_code or ApiErrorCode.UNAUTHENTICATED,
        )
    if permission is not None and caller.scope(permission) is None:
        raise ApiError(
            _("permission {permission!r} is required", permission=permission),
            ApiErrorCode.FORBIDDEN,
            permission=permission,
        )
    return caller


def actor_of(context: RequestContext) -> Actor:
    """The audit actor of a request: its caller (if any), client address and request id."""
    caller = context.caller
    return Actor(
        user_id=caller.user_id if caller else None,
        label=(caller.email if caller else None),
        client_address=context.client_address,
        request_id=context.request_id,
        at=context.now(),
    )


class Requires(BasePermission):
    """A Strawberry permission: authenticated, and holding ``permission`` if one is given."""

    def __init__(self, permission: str | None = None) -> None:
        self.permission = permission

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        require(info.context, self.permission)
        return True


def requires(permission: str | None = None) -> list[FieldExtension]:
    """Field extensions for ``strawberry.field(extensions=requires("users:read"))``."""
    return [PermissionExtension(permissions=[Requires(permission)], use_directives=False)]
