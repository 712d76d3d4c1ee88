"""The shape every mutation shares: one transaction, expected failures as ``UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Info
from core.errors import UserError, UserErrors

T = TypeVar("T")


async def in_transaction(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run ``work`` in one transaction; on :class:`UserErrors` roll back and return them.

    Event listeners that plugins attach run inside ``work``, so a listener's failure undoes
    the whole mutation.
    """
    try:
        async with info.context.db.transaction() as session:
            return await work(session), []
    except UserErrors as exc:
        return None, exc.errors
