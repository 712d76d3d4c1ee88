"""Human-facing numbers (``C000123``, ``T000001``) assigned by the database.

On PostgreSQL each counter is a real sequence (``nextval``): no row lock, no contention,
unique across every app process. On SQLite, where one writer runs at a time anyway, it is
a row of ``number_sequences`` bumped with ``UPDATE ... RETURNING`` inside the caller's
transaction. Migrations create counters with :func:`create_counter`.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class NumberSequence(Base):
    __tablename__ = "number_sequences"
    __table_args__ = {"info": {"seeded": True}}

    name: Mapped[str] = mapped_column(sa.String(48), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


def _sequence_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad counter name {name!r}")
    return f"seq_{name}"


async def next_value(session: AsyncSession, name: str) -> int:
    """The next value of counter ``name`` (1, 2, 3 ...), never handed out twice."""
    if session.get_bind().dialect.name == "postgresql":
        statement = sa.text(f"SELECT nextval('{_sequence_name(name)}')")
        return int((await session.execute(statement)).scalar_one())
    result = await session.execute(
        sa.update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(value=NumberSequence.value + 1)
        .returning(NumberSequence.value)
    )
    return int(result.scalar_one())


async def next_values(session: AsyncSession, name: str, count: int) -> list[int]:
    """``count`` next values of counter ``name`` in one statement (for bulk loads)."""
    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        statement = sa.text(
            f"SELECT nextval('{_sequence_name(name)}') FROM generate_series(1, :count)"
        )
        values = (await session.execute(statement, {"count": count})).scalars()
        return sorted(int(v) for v in values)
    result = await session.execute(
        sa.update(NumberSequence)
        .where(NumberSequence.name == name)
        .values(value=NumberSequence.value + count)
        .returning(NumberSequence.value)
    )
    last = int(result.scalar_one())
    return list(range(last - count + 1, last + 1))


def format_number(prefix: str, value: int, width: int = 6) -> str:
    return f"{prefix}{value:0{width}d}"


def create_counter(name: str) -> None:
    """In a migration: create counter ``name`` on the current database."""
    from alembic import op

    sequence = _sequence_name(name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"CREATE SEQUENCE IF NOT EXISTS {sequence}"))
    op.execute(
        sa.text("INSERT INTO number_sequences (name, value) VALUES (:name, 0)").bindparams(
            name=name
        )
    )


def drop_counter(name: str) -> None:
    """In a migration's downgrade: remove counter ``name``."""
    from alembic import op

    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(f"DROP SEQUENCE IF EXISTS {_sequence_name(name)}"))
    op.execute(sa.text("DELETE FROM number_sequences WHERE name = :name").bindparams(name=name))
