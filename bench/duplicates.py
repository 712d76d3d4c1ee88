"""Cost of the likely-duplicate check of a new customer's name, by database and size, beside
the equal-core lookup alone (what a check without similarity would cost), side by side.

    .venv/bin/python -m bench.duplicates [COUNT] [--postgres-url URL]

Seeds COUNT customers (half Latin, half Chinese names) into a fresh SQLite file, and into a
fresh PostgreSQL database ``crm_bench_duplicates`` when ``--postgres-url`` is given (dropped
afterwards), then times 200 lookups of new names: ``similar`` is
:func:`core.customers.service.duplicates.similar_name` (digits equal; cores equal or alike
by trigrams: pg_trgm through its index on PostgreSQL, the registered function scanning the
rows on SQLite), ``equal`` the B-tree lookup of an equal core.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

from bench.chinese_keys import names
from bench.dataset import plugin_manager
from core import migrate
from core.customers.match_keys import name_key
from core.customers.models import Customer
from core.customers.service.duplicates import similar_name
from core.db import Database, utcnow

DATABASE = "crm_bench_duplicates"
LOOKUPS = 200


async def seed(db: Database, count: int) -> list[str]:
    await migrate.upgrade(db, plugin_manager())
    seeded = names(count // 2, chinese=False) + names(count - count // 2, chinese=True)
    now = utcnow()
    async with db.engine.begin() as connection:
        for start in range(0, count, 1000):
            await connection.execute(
                insert(Customer),
                [
                    {
                        "number": f"B{index:07d}",
                        "name": name,
                        "kind": "COMPANY",
                        "stage": "POTENTIAL",
                        "grade": "STANDARD",
                        "custom_fields": {},
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for index, name in enumerate(seeded[start : start + 1000], start=start)
                ],
            )
        if db.engine.dialect.name == "postgresql":
            await connection.exec_driver_sql("ANALYZE customers")
    return seeded


async def lookups_ms(db: Database, probes: list[str]) -> dict[str, float]:
    postgresql = db.engine.dialect.name == "postgresql"
    figures: dict[str, float] = {}
    found: dict[str, int] = {}
    async with db.engine.connect() as connection:
        for label in ("equal", "similar"):
            started = time.perf_counter()
            hits = 0
            for probe in probes:
                key = name_key(probe)
                condition = (
                    similar_name(probe, postgresql=postgresql)
                    if label == "similar"
                    else (Customer.name_digits == key.digits) & (Customer.name_core == key.core)
                )
                hits += len(
                    (await connection.execute(select(Customer.id).where(condition).limit(10)))
                    .scalars()
                    .all()
                )
            figures[label] = (time.perf_counter() - started) * 1000 / len(probes)
            found[label] = hits
    print(f"  matches found: equal {found['equal']}, similar {found['similar']}")
    return figures


def probes(seeded: list[str]) -> list[str]:
    """New names: half misspelt seeded ones (a letter dropped), half unseen."""
    half = LOOKUPS // 2
    typos = [name[:3] + name[4:] for name in seeded[:: max(1, len(seeded) // half)][:half]]
    return typos + names(LOOKUPS - len(typos), chinese=False, seed=99)


async def run(count: int, postgres_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        targets = [("sqlite", f"sqlite+aiosqlite:///{Path(directory) / 'bench.sqlite3'}")]
        admin = None
        if postgres_url:
            admin_dsn = make_url(postgres_url).set(drivername="postgresql")
            admin = await asyncpg.connect(admin_dsn.render_as_string(hide_password=False))
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
            bench_url = make_url(postgres_url).set(
                drivername="postgresql+asyncpg", database=DATABASE
            )
            targets.append(("postgresql", bench_url.render_as_string(hide_password=False)))
        try:
            for backend, url in targets:
                db = Database(url)
                try:
                    seeded = await seed(db, count)
                    print(f"{backend}, {count} customers, {LOOKUPS} new names:")
                    figures = await lookups_ms(db, probes(seeded))
                    ratio = figures["similar"] / figures["equal"]
                    print(
                        f"  per lookup: equal core {figures['equal']:.2f} ms, similar "
                        f"{figures['similar']:.2f} ms ({ratio:.1f}x)"
                    )
                finally:
                    await db.dispose()
        finally:
            if admin is not None:
                await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
                await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, nargs="?", default=20000)
    parser.add_argument("--postgres-url")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.count, arguments.postgres_url))


if __name__ == "__main__":
    main()
