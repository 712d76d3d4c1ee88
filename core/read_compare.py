"""The compare mode (``CRM_READ_PATH=compare``): every query document served by both paths.

The compiled path answers first, then the reference executor; when the document was planned,
the two responses must be the same: the same data, byte for byte once serialised (key order
included), and the same errors (message, path, locations, extensions and the original
exception's type), in any order, since the specification leaves their order open. A
difference is logged, kept in :data:`DISAGREEMENTS` (the test suite fails on any) and answered
as an INTERNAL_SERVER_ERROR naming the first difference, so no test passes over it.
"""

from __future__ import annotations

import contextvars
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult

from core.errors import ApiError, ApiErrorCode
from core.json_body import dumps
from core.read_path import COMPILED, NOT_A_QUERY, REFERENCE, forced_path

logger = logging.getLogger("crm.graphql")

DISAGREEMENTS: list[str] = []
"""What the compiled and the reference path answered differently, in this process."""
_replaying: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "crm_replaying_on_the_reference", default=False
)
COMPARED: Counter[str] = Counter()
"""Query documents compared, and those the plan refused, by the reason (in this process)."""


async def both(
    run: Callable[[Any], Awaitable[ExecutionResult]], context: Any, query: str | None
) -> ExecutionResult:
    """Run ``run`` on the compiled path and, if the document was planned there (a query the
    plan serves: never a mutation), again on the reference path, and compare.

    The two runs share the request's loaders: rows the compiled run loaded answer the
    reference run too, so a record that changes in between (an import's progress) is the
    same in both answers. A root list read again may still have changed under a concurrent
    write: a pair that differs is run once more, and only a second difference counts.
    """
    difference: str | None = None
    compiled: ExecutionResult | None = None
    for _attempt in range(2):
        compiled = await _on(COMPILED, run, context)
        if getattr(context, "read_path", None) != COMPILED:
            reason = getattr(context, "read_path_reason", None)
            if reason is not None and reason != NOT_A_QUERY:
                COMPARED[f"refused: {reason}"] += 1
            return compiled
        replaying = _replaying.set(True)
        try:
            reference = await _on(REFERENCE, run, context)
        finally:
            _replaying.reset(replaying)
        context.read_path = COMPILED
        difference = differences(reference, compiled)
        if difference is None:
            COMPARED["compared"] += 1
            return compiled
    COMPARED["compared"] += 1
    report = f"{difference}\nquery: {query}"
    DISAGREEMENTS.append(report)
    logger.error("the compiled and reference read paths disagree: %s", report)
    error = ApiError(
        f"the compiled and reference read paths disagree: {difference}",
        ApiErrorCode.INTERNAL_SERVER_ERROR,
    )
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])


async def _on(
    path: str, run: Callable[[Any], Awaitable[ExecutionResult]], context: Any
) -> ExecutionResult:
    token = forced_path.set(path)
    try:
        return await run(context)
    finally:
        forced_path.reset(token)


def replaying() -> bool:
    """Whether this task runs a request's second, reference run (a test counting a
    request's SQL statements leaves that run's out: they are the check's)."""
    return _replaying.get()


def differences(reference: Any, compiled: Any) -> str | None:
    """The first difference between two execution results, or ``None``."""
    if not isinstance(reference, ExecutionResult) or not isinstance(compiled, ExecutionResult):
        return f"results of different kinds: {type(reference)} and {type(compiled)}"
    if dumps(reference.data) != dumps(compiled.data):
        return (
            f"data differ:\nreference {_short(reference.data)}\ncompiled  {_short(compiled.data)}"
        )
    expected = sorted(_error(error) for error in reference.errors or [])
    found = sorted(_error(error) for error in compiled.errors or [])
    if expected != found:
        return f"errors differ:\nreference {expected}\ncompiled  {found}"
    return None


def _error(error: GraphQLError) -> str:
    original = error.original_error
    return dumps(
        {
            **error.formatted,
            "original": type(original).__name__ if original is not None else None,
            "original_message": str(original) if original is not None else None,
        }
    ).decode()


def _short(data: Any, limit: int = 2000) -> str:
    text = dumps(data).decode()
    return text if len(text) <= limit else text[:limit] + "..."
