"""The shape every mutation shares: one transaction, expected failures as ``UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Info
from core.db import Database
from core.errors import Conflict, UserError, UserErrors
from core.loaders import ByIdLoader

T = TypeVar("T")
P = TypeVar("P")


class _Discarded(Exception):
    """Raised inside the transaction to roll back a result ``keep`` refused."""


async def transact(
    db: Database,
    work: Callable[[AsyncSession], Awaitable[T]],
    *,
    keep: Callable[[T], bool] | None = None,
) -> T:
    """Run ``work`` in one transaction and return its result.

    :param keep: asked with the result before the commit; when it answers no (a dry run, an
        import with errors), everything ``work`` wrote is rolled back and the result is
        still returned. An exception from ``work`` (:class:`UserErrors` included) rolls
        back and propagates.
    """
    kept: list[T] = []
    try:
        async with db.transaction() as session:
            result = await work(session)
            if keep is None or keep(result):
                return result
            kept.append(result)
            raise _Discarded
    except _Discarded:
        return kept[0]


async def mutate(
    info: Info,
    work: Callable[[AsyncSession], Awaitable[T]],
    payload: Callable[[T | None, list[UserError]], P],
    *,
    keep: Callable[[T], bool] | None = None,
    conflict: Callable[[Any, list[UserError]], P] | None = None,
) -> P:
    """Run a mutation's ``work`` in one transaction (:func:`transact`) and build its payload.

    ``payload`` is called once: with the result and no errors, or, when ``work`` raised
    :class:`UserErrors` (and everything it wrote was rolled back), with ``None`` and those
    errors. Payload types give themselves a classmethod ``of(result, errors)`` for this, so a
    resolver reads ``return await mutate(info, work, CreateWidgetPayload.of)``.

    A stale version (:func:`core.validation.require_version` raised :class:`Conflict`) is
    answered with the record as it is now, read again after the rollback, and the CONFLICT
    error: ``payload(current, errors)``, so ``work`` must return that record's type, as
    every update does. A mutation whose result is something else (a count, say) passes
    ``conflict``, called instead with the current record and the errors.

    Event listeners that plugins attach run inside ``work``, so a listener's failure undoes
    the whole mutation. Top-level errors (:class:`~core.errors.ApiError`: FORBIDDEN,
    NOT_FOUND...) raised by ``work`` roll back as well and propagate to the client.
    """
    try:
        result = await transact(info.context.db, work, keep=keep)
    except Conflict as exc:
        current = await reread(info, exc.row)
        if conflict is not None:
            return conflict(current, exc.errors)
        return payload(current, exc.errors)
    except UserErrors as exc:
        return payload(None, exc.errors)
    return payload(result, [])


async def reread(info: Info, row: Any) -> Any:
    """``row`` (a mapped row from a rolled-back transaction, whose loaded values are gone) as
    the database now holds it, through its type's scoped by-id loader: ``None`` if it no
    longer exists or has meanwhile left the caller's reach (a concurrent transfer, say). A
    model without a :class:`~core.loaders.ByIdLoader` is read by its key alone."""
    state = inspect(row)
    model, key = state.mapper.class_, state.identity
    if key is None:
        return None
    loader = _by_id_loader(model)
    async with info.context.db.read() as session:
        if loader is None or len(key) != 1:
            return await session.get(model, key)
        # A loader of its own, not the request's: that one may hold the row as it was.
        (current,) = await loader(info.context).load_batch(session, [key[0]])
        return current


def _by_id_loader(model: type[Any]) -> type[ByIdLoader[Any]] | None:
    """The by-id loader whose ``entity`` is ``model`` (the most derived one)."""
    found: type[ByIdLoader[Any]] | None = None
    pending: list[type[ByIdLoader[Any]]] = list(ByIdLoader.__subclasses__())
    while pending:
        candidate = pending.pop()
        pending.extend(candidate.__subclasses__())
        if getattr(candidate, "entity", None) is model and (
            found is None or issubclass(candidate, found)
        ):
            found = candidate
    return found
