"""One transaction per change: kept, rolled back on request, or undone by an error."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database, utcnow
from core.errors import UserErrorCode, UserErrors
from core.identity.models import Team
from core.mutations import transact


async def _teams(db: Database) -> list[str]:
    async with db.read() as session:
        return list((await session.scalars(select(Team.name).order_by(Team.name))).all())


def _adding(name: str, *, fail: bool = False) -> Callable[[AsyncSession], Awaitable[int]]:
    async def work(session: AsyncSession) -> int:
        now = utcnow()
        session.add(Team(name=name, name_key=name.lower(), created_at=now, updated_at=now))
        await session.flush()
        if fail:
            raise UserErrors.single("name", "refused", UserErrorCode.INVALID)
        count = await session.scalar(select(func.count()).select_from(Team))
        return int(count or 0)

    return work


async def test_a_kept_result_commits_and_a_refused_one_rolls_back(migrated_db: Database) -> None:
    kept = await transact(migrated_db, _adding("North"), keep=lambda count: count > 0)
    dry = await transact(migrated_db, _adding("South"), keep=lambda _: False)

    assert (kept, dry) == (1, 2)  # the dry run saw its own row, then undid it
    assert await _teams(migrated_db) == ["North"]


async def test_an_error_rolls_back_and_propagates(migrated_db: Database) -> None:
    with pytest.raises(UserErrors):
        await transact(migrated_db, _adding("West", fail=True))

    assert await _teams(migrated_db) == []
