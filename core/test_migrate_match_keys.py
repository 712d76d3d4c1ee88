"""Migration core_0015 fills what likely duplicates compare for the customers there are, and
its frozen key functions agree with :mod:`core.customers.match_keys`."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from core import migrate
from core.config import Settings
from core.customers.match_keys import email_host, name_key, website_host
from core.db import Database, UTCDateTime, utcnow
from core.migrations.versions import core_0015_match_keys as frozen
from tests.support import manager_for

CUSTOMERS = [
    ("Lake-Brook GmbH", "Anna@LakeBrook.DE", "https://www.lakebrook.de/en"),
    ("湖溪科技有限公司", None, "huxi.cn"),
    ("Customer 12", "x@gmail.com", None),
    ("\uff13\uff2d Company", None, "http://[::1"),
    ("GmbH", "no-at-sign", ""),
]

customers = sa.table(
    "customers",
    sa.column("id", sa.Integer()),
    sa.column("number", sa.String()),
    sa.column("name", sa.String()),
    sa.column("email", sa.String()),
    sa.column("website", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("stage", sa.String()),
    sa.column("grade", sa.String()),
    sa.column("custom_fields", sa.JSON()),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("version", sa.Integer()),
)


def live_keys(name: str, email: str | None, website: str | None) -> tuple[object, ...]:
    key = name_key(name)
    return (key.core, key.digits, email_host(email), website_host(website))


def test_the_frozen_key_functions_are_the_live_ones() -> None:
    for name, email, website in [*CUSTOMERS, ("", None, None), ("a_b 1-2 Ltd.", "@", "www.")]:
        frozen_keys = frozen._keys(name, email, website)
        assert tuple(frozen_keys.values()) == live_keys(name, email, website)


async def test_upgrade_fills_the_keys_of_existing_customers(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    pm = manager_for(make_settings(plugins=()))
    await migrate.upgrade(db, pm)
    await migrate.downgrade(db, pm, "core_0014")
    now = utcnow()
    async with db.engine.begin() as connection:
        for index, (name, email, website) in enumerate(CUSTOMERS, start=1):
            await connection.execute(
                customers.insert().values(
                    id=index,
                    number=f"C{index:06d}",
                    name=name,
                    email=email,
                    website=website,
                    kind="COMPANY",
                    stage="POTENTIAL",
                    grade="STANDARD",
                    custom_fields={},
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )

    await migrate.upgrade(db, pm)

    async with db.engine.connect() as connection:
        stored = (
            await connection.execute(
                sa.text(
                    "SELECT name, email, website, name_core, name_digits, email_domain, "
                    "website_domain FROM customers ORDER BY id"
                )
            )
        ).all()
    assert [tuple(row[3:]) for row in stored] == [live_keys(*c) for c in CUSTOMERS]
    assert tuple(stored[0][3:]) == ("lakebrook", "", "lakebrook.de", "lakebrook.de")
