"""Bulk loading for demo and benchmark data sets: rows and counters, on both backends."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.customers.models import Customer
from core.customers.service import COUNTER
from core.db import bulk_insert, utcnow
from core.sequences import next_value, next_values
from tests.support import Api


async def test_bulk_insert_keeps_times_json_and_nulls(api: Api) -> None:
    now = utcnow().replace(microsecond=123456)
    rows = [
        {
            "id": 1000 + n,
            "number": f"B{n:06d}",
            "name": f"Bulk {n}",
            "kind": "COMPANY",
            "stage": "ACTIVE",
            "grade": "STANDARD",
            "industry": None,
            "custom_fields": {"employees": n, "segment": "SMB"} if n % 2 else {},
            "created_at": now - dt.timedelta(days=n),
            "updated_at": now,
            "version": 1,
        }
        for n in range(12_001)  # more than one chunk
    ]
    async with api.db.transaction() as session:
        assert await bulk_insert(session, Customer, iter(rows)) == len(rows)
    async with api.db.read() as session:
        stored = (
            await session.scalars(select(Customer).where(Customer.id.in_([1000, 1001, 13000])))
        ).all()
    by_id = {c.id: c for c in stored}
    assert by_id[1001].custom_fields == {"employees": 1, "segment": "SMB"}
    assert by_id[1000].custom_fields == {}
    assert by_id[1000].industry is None
    assert by_id[1001].created_at == now - dt.timedelta(days=1)
    assert by_id[13000].name == "Bulk 12000"


async def test_a_block_of_numbers_continues_the_counter(api: Api) -> None:
    async with api.db.transaction() as session:
        first = await next_value(session, COUNTER)
        block = await next_values(session, COUNTER, 5)
        after = await next_value(session, COUNTER)
        assert await next_values(session, COUNTER, 0) == []
    assert block == sorted(block)
    assert len(set(block)) == 5
    assert first < block[0]
    assert block[-1] < after
