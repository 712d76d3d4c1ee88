"""The shape every mutation shares: one transaction, expected failures as ``UserError``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Info
from core.errors import UserError, UserErrors

T = TypeVar("T")


class Rollback(Exception):
    """Raised inside ``work`` to undo everything yet return ``value`` (dry runs)."""

    def __init__(self, value: object) -> None:
        super().__init__("rolled back on purpose")
        self.value = value


async def in_transaction(
    info: Info, work: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run ``work`` in one transaction; on :class:`UserErrors` roll back and return them.

    :class:`Rollback` undoes the transaction too, returning the value it carries.

    Event listeners that plugins attach run inside ``work``, so a listener's failure undoes
    the whole mutation.
    """
    try:
        async with info.context.db.transaction() as session:
            return await work(session), []
    except UserErrors as exc:
        return None, exc.errors
    except Rollback as rollback:
        return rollback.value, []  # type: ignore[return-value]
