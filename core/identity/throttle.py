"""Login throttling kept in the database, so every app process sees the same counts.

Failures are counted per account (the email, known or not, so the answer never reveals
which emails exist) and per client address, within a window. Each failure slows the next
answer a little; reaching the limit locks the key for a while, and a locked key is refused
before any password is checked. A successful login clears the account's count, not the
address's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import Settings
from core.db import upsert_insert
from core.identity.models import LoginThrottle

MAX_DELAY_SECONDS = 5.0


@dataclass(frozen=True)
class Keys:
    account: str
    address: str | None

    @classmethod
    def of(cls, email: str, client_address: str | None) -> Keys:
        return cls(
            account=f"account:{email.strip().lower()}"[:300],
            address=f"address:{client_address}" if client_address else None,
        )

    def all(self) -> list[str]:
        return [self.account] + ([self.address] if self.address else [])


async def locked_for(session: AsyncSession, keys: Sequence[str], now: dt.datetime) -> int | None:
    """Minutes until the latest lock among ``keys`` ends, or ``None`` if none is locked."""
    until = await session.scalar(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc())
        .limit(1)
    )
    if until is None:
        return None
    return max(1, math.ceil((until - now).total_seconds() / 60))


async def _count_failure(
    session: AsyncSession, key: str, limit: int, settings: Settings, now: dt.datetime
) -> int:
    """Add one failure to ``key`` atomically; lock it when it reaches ``limit``."""
    window_start = now - dt.timedelta(minutes=settings.login_window_minutes)
    insert = upsert_insert(session.get_bind().dialect.name)
    upsert = (
        insert(LoginThrottle)
        .values(key=key, failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": LoginThrottle.failures + 1},
        )
        .returning(LoginThrottle.failures, LoginThrottle.window_started_at)
    )
    failures, started = (await session.execute(upsert)).one()
    if started < window_start:  # the old window is over: this failure starts a new one
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(failures=1, window_started_at=now, locked_until=None)
        )
        return 1
    if failures >= limit:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == key)
            .values(
                locked_until=now + dt.timedelta(minutes=settings.login_lock_minutes),
                failures=0,
                window_started_at=now,
            )
        )
    return int(failures)


async def count_failure(
    session: AsyncSession, keys: Keys, settings: Settings, now: dt.datetime
) -> float:
    """Record a failed login; return the seconds to wait before answering."""
    failures = await _count_failure(
        session, keys.account, settings.login_max_failures, settings, now
    )
    if keys.address:
        await _count_failure(
            session, keys.address, settings.login_address_max_failures, settings, now
        )
    return min(settings.login_slowdown_seconds * failures, MAX_DELAY_SECONDS)


async def clear(session: AsyncSession, keys: Keys) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.account))
