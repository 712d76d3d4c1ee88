"""The test kit's tools that need no app: a fresh PostgreSQL database, a clock a test moves,
and a statement counter (:mod:`schema.testkit` exports them with its fixtures)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("CRM_TEST_POSTGRES_URL", "")
"""The PostgreSQL server where tests may create databases (``CRM_TEST_POSTGRES_URL``)."""


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """Create a fresh PostgreSQL database and drop it afterwards; yields its async URL."""
    server = make_url(POSTGRES_URL)
    name = f"crm_test_{uuid.uuid4().hex[:12]}"
    admin_dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.set(drivername="postgresql+asyncpg", database=name).render_as_string(
            hide_password=False
        )
    finally:
        admin = await asyncpg.connect(admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class FakeClock:
    """A clock a test moves by hand: ``clock.advance(hours=2)``."""

    def __init__(self, now: dt.datetime | None = None) -> None:
        self.current = now or dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> dt.datetime:
        self.current += dt.timedelta(**delta)
        return self.current

    def set(self, moment: dt.datetime) -> None:
        self.current = moment


class StatementCounter:
    """Counts SQL statements sent through an engine while it is attached."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2]))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()
