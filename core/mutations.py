"""The shape every mutation shares: one transaction, expected failures as ``UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Info
from core.db import Database
from core.errors import UserError, UserErrors

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
) -> P:
    """Run a mutation's ``work`` in one transaction (:func:`transact`) and build its payload.

    ``payload`` is called once: with the result and no errors, or, when ``work`` raised
    :class:`UserErrors` (and everything it wrote was rolled back), with ``None`` and those
    errors. Payload types give themselves a classmethod ``of(result, errors)`` for this, so a
    resolver reads ``return await mutate(info, work, CreateWidgetPayload.of)``.

    Event listeners that plugins attach run inside ``work``, so a listener's failure undoes
    the whole mutation.
    """
    try:
        result = await transact(info.context.db, work, keep=keep)
    except UserErrors as exc:
        return payload(None, exc.errors)
    return payload(result, [])
