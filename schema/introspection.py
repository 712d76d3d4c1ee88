"""Introspection (``__schema``, ``__type``) for signed-in callers only, unless
``CRM_INTROSPECTION`` allows anonymous callers too (its default follows GraphiQL).

The refusal is a validation rule, added per request by :class:`IntrospectionGuard` only
for an anonymous caller, so the validation cache keeps one entry per document and rule set
and ``__typename`` (not an introspection type) always works. ``crm export-schema`` prints
the schema object's SDL and never goes through here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule, get_named_type, is_introspection_type
from graphql.language.visitor import SKIP, VisitorAction
from strawberry.extensions import SchemaExtension

from core.config import Settings
from core.context import RequestContext
from core.errors import ApiErrorCode


class AnonymousIntrospectionRule(ValidationRule):
    """Refuses every field whose type is an introspection type (``__Schema``, ``__Type``)."""

    code = ApiErrorCode.UNAUTHENTICATED
    refusal = "introspection is not available to anonymous callers: sign in to query '{field}'"

    def enter_field(self, node: FieldNode, *_args: Any) -> VisitorAction:
        field_type = get_named_type(self.context.get_type())
        if field_type is not None and is_introspection_type(field_type):
            self.report_error(
                GraphQLError(
                    self.refusal.format(field=node.name.value),
                    node,
                    extensions={"code": self.code.value},
                )
            )
            return SKIP  # one error per introspection field, not one per field inside it
        return None


class ExpiredTokenIntrospectionRule(AnonymousIntrospectionRule):
    """The refusal for a caller whose access token has expired: the same code as any field."""

    code = ApiErrorCode.TOKEN_EXPIRED
    refusal = "the access token has expired; refresh it to query '{field}'"


class EndedSessionIntrospectionRule(AnonymousIntrospectionRule):
    """The refusal for a caller whose session has ended: the same code as any field."""

    code = ApiErrorCode.SESSION_ENDED
    refusal = "the session has ended; log in again to query '{field}'"


RULES: dict[ApiErrorCode | None, type[AnonymousIntrospectionRule]] = {
    ApiErrorCode.TOKEN_EXPIRED: ExpiredTokenIntrospectionRule,
    ApiErrorCode.SESSION_ENDED: EndedSessionIntrospectionRule,
}
"""One rule class per code (not one per request), so validation stays cached."""


class IntrospectionGuard(SchemaExtension):
    """Adds :class:`AnonymousIntrospectionRule` to the validation of an HTTP request that
    carries no valid token. In-process execution (no request context) is not limited."""

    def __init__(self, *, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if (
            not self.settings.anonymous_introspection
            and isinstance(context, RequestContext)
            and context.caller is None
        ):
            self.execution_context.validation_rules = (
                *self.execution_context.validation_rules,
                RULES.get(context.auth_code, AnonymousIntrospectionRule),
            )
        yield


def introspection_guard(settings: Settings) -> Callable[[], SchemaExtension] | None:
    """The guard's per-request factory, or ``None`` when anonymous callers may introspect."""
    if settings.anonymous_introspection:
        return None
    return lambda: IntrospectionGuard(settings=settings)
