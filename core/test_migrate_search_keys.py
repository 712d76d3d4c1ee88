"""Migration core_0008 fills the search and sort keys of the rows there are, and its frozen
key functions agree with :mod:`core.text_keys` (a change of the keys needs a revision that
fills them again)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from core import migrate
from core.config import Settings
from core.db import Database, UTCDateTime, utcnow
from core.migrations.versions import core_0008_search_keys as frozen
from core.text_keys import search_key, sort_key
from tests.support import manager_for

NAMES = [
    "ＡＢＣ１２３贸易有限公司",
    "北京远航科技有限公司",
    "ÜBERSEE  GmbH",
    "张伟",
    "重庆",
    "Zeta",
]

customers = sa.table(
    "customers",
    sa.column("id", sa.Integer()),
    sa.column("number", sa.String()),
    sa.column("name", sa.String()),
    sa.column("email", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("stage", sa.String()),
    sa.column("grade", sa.String()),
    sa.column("custom_fields", sa.JSON()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("version", sa.Integer()),
)
contacts = sa.table(
    "contacts",
    sa.column("customer_id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("is_primary", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("version", sa.Integer()),
)
tags = sa.table(
    "tags",
    sa.column("name", sa.String()),
    sa.column("name_key", sa.String()),
    sa.column("created_at", UTCDateTime()),
)


def test_the_frozen_key_functions_are_the_live_ones() -> None:
    for name in [*NAMES, "", "a\u3000b\x1fc", "Ǆ ß ﬁ", "阿里巴巴的", "绿地 Group", "abc北京 x重庆"]:
        assert frozen._search_key(name, "C000001", "x@y.example") == search_key(
            name, "C000001", "x@y.example"
        )
        assert frozen._sort_key(name) == sort_key(name)


async def test_upgrade_fills_the_keys_of_existing_rows(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    pm = manager_for(make_settings(plugins=()))
    await migrate.upgrade(db, pm)
    await migrate.downgrade(db, pm, "core_0007")
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now, "version": 1}
    async with db.engine.begin() as connection:
        for index, name in enumerate(NAMES, start=1):
            await connection.execute(
                customers.insert().values(
                    id=index,
                    number=f"C{index:06d}",
                    name=name,
                    email=f"Mail{index}@example.com" if index % 2 else None,
                    kind="COMPANY",
                    stage="POTENTIAL",
                    grade="STANDARD",
                    custom_fields={},
                    **stamps,
                )
            )
            await connection.execute(
                contacts.insert().values(customer_id=index, name=name, is_primary=False, **stamps)
            )
            await connection.execute(
                tags.insert().values(name=name, name_key=f"t{index}", created_at=now)
            )

    await migrate.upgrade(db, pm)

    async with db.engine.connect() as connection:
        stored = (
            await connection.execute(
                sa.text("SELECT name, number, email, search_key, name_sort FROM customers")
            )
        ).all()
        assert len(stored) == len(NAMES)
        for name, number, email, key, sort in stored:
            assert key == search_key(name, number, email)
            assert sort == sort_key(name)
        for table in ("contacts", "tags"):
            rows = (await connection.execute(sa.text(f"SELECT name, name_sort FROM {table}"))).all()
            assert {(name, sort) for name, sort in rows} == {(n, sort_key(n)) for n in NAMES}
        contact_keys = (
            await connection.execute(sa.text("SELECT name, search_key FROM contacts"))
        ).all()
        assert {(n, k) for n, k in contact_keys} == {(n, search_key(n)) for n in NAMES}
