"""Checks of a GraphQL request's text and variables before it runs, and the codes of
GraphQL's own request errors (:mod:`core.http` answers with them).

* The text is parsed once per distinct text (a cache); a text that does not parse is left
  to execution, which reports the syntax error.
* The operation to run is chosen as the GraphQL specification requires.
* A variable or string literal holding a lone surrogate or a control character such as NUL
  is refused, naming the variable (or the literal's line and column): such a string is not
  text a record may hold. A text's literals are checked once, with its parse.
"""

from __future__ import annotations

import functools
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    parse,
    visit,
)
from strawberry.exceptions import StrawberryInputCoercionError

from core.client_input import unstorable, unstorable_at
from core.errors import ApiErrorCode


@functools.lru_cache(maxsize=512)
def parsed(query: str) -> DocumentNode | None:
    try:
        return parse(query)
    except GraphQLError:
        return None  # execution reports the syntax error


@functools.lru_cache(maxsize=512)
def checked(query: str) -> DocumentNode | None:
    """:func:`parsed`, its string literals checked (:func:`check_literals`) once per text: a
    refused one raises, and is not kept."""
    document = parsed(query)
    if document is not None:
        check_literals(document)
    return document


def select_operation(query: str, operation_name: str | None) -> OperationType | None:
    """The type of the operation the request runs; ``None`` if the query does not parse.

    Raises :class:`RequestError` when the operation cannot be chosen, as the GraphQL
    specification requires (several operations and no name, an unknown name, none at all).
    """
    document = checked(query)
    if document is None:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) > 1:
            raise RequestError("Must provide operation name if query contains multiple operations.")
        if not operations:
            raise RequestError("Must provide an operation.")
        return operations[0].operation
    for operation in operations:
        if operation.name is not None and operation.name.value == operation_name:
            return operation.operation
    raise RequestError(f"Unknown operation named '{operation_name}'.")


class RequestError(Exception):
    """A well-formed request that cannot run: a GraphQL request error (no data)."""

    def __init__(
        self,
        message: str,
        code: ApiErrorCode = ApiErrorCode.GRAPHQL_VALIDATION_FAILED,
        **extensions: str,
    ) -> None:
        super().__init__(message)
        self.extensions = {"code": code.value, **extensions}


def check_variables(variables: dict[str, Any] | None) -> None:
    for name, value in (variables or {}).items():
        found = unstorable_at(value, name) or unstorable_at(name, name)
        if found is not None:
            where, why = found
            raise RequestError(
                f"Variable '${name}' holds {why} at '{where}': that is not text and cannot "
                "be stored",
                ApiErrorCode.BAD_USER_INPUT,
                variable=where,
            )


def check_literals(document: DocumentNode) -> None:
    """Refuse string literals in the query that are not storable text (see
    :func:`_unstorable`), naming where they are."""

    class Literals(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            why = unstorable(node.value)
            if why is not None:
                where = node.loc.source.get_location(node.loc.start) if node.loc else None
                at = f" at line {where.line}, column {where.column}" if where else ""
                raise RequestError(
                    f"The string literal{at} holds {why}: that is not text and cannot be stored",
                    ApiErrorCode.BAD_USER_INPUT,
                )

    visit(document, Literals())


def request_error_code(error: GraphQLError) -> ApiErrorCode | None:
    """The code of one of GraphQL's own errors about the request; ``None`` for an
    unexpected one (a bug), which is masked as "Internal error".

    * a syntax error (or a document past the token limit): GRAPHQL_PARSE_FAILED;
    * an error before execution, found in the document or the variables (an unknown field,
      a literal or a variable of the wrong type, a scalar's parser refusing a value):
      GRAPHQL_VALIDATION_FAILED;
    * an argument value that cannot be coerced once execution has started (a malformed
      global id): BAD_USER_INPUT.

    A field's error that is none of these (a resolver returning null for a non-null field)
    is the server's fault, not the request's.
    """
    original = error.original_error
    if isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        return ApiErrorCode.GRAPHQL_PARSE_FAILED
    if error.path is None:
        if original is None or isinstance(original, GraphQLError):
            return ApiErrorCode.GRAPHQL_VALIDATION_FAILED
        # A scalar's parser refuses a value by raising ValueError or TypeError; graphql-core
        # reports it located in the document. Anything else before execution is unexpected.
        if error.nodes and isinstance(original, ValueError | TypeError | ArithmeticError):
            return ApiErrorCode.GRAPHQL_VALIDATION_FAILED
        return None
    if isinstance(original, StrawberryInputCoercionError) or (
        isinstance(error, StrawberryInputCoercionError)
    ):
        return ApiErrorCode.BAD_USER_INPUT
    return None
