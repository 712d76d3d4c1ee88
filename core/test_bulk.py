"""Bulk loading for demo and benchmark data sets: rows and counters, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

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


def _customer(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": 50_000 + n,
        "number": f"D{n:06d}",
        "name": f"Defaulted {n}",
        "kind": "PERSON",
        "stage": "NEW",
        "grade": "STANDARD",
        "version": 1,
    }
    row.update(values)
    return row


async def test_bulk_insert_fills_python_defaults_like_insert(api: Api) -> None:
    async with api.db.transaction() as session:
        await bulk_insert(session, Customer, [_customer(1), _customer(2, custom_fields=None)])
    async with api.db.read() as session:
        rows = (
            await session.scalars(
                select(Customer).where(Customer.id >= 50_000).order_by(Customer.id)
            )
        ).all()
    assert [r.custom_fields for r in rows] == [{}, None]
    assert all(r.created_at.tzinfo is not None and r.updated_at for r in rows)


async def test_bulk_insert_belongs_to_the_callers_transaction(api: Api) -> None:
    class Abandon(Exception):
        pass

    async def load_then_fail() -> None:
        async with api.db.transaction() as session:
            await bulk_insert(session, Customer, [_customer(n) for n in range(3)])
            raise Abandon

    with pytest.raises(Abandon):
        await load_then_fail()
    async with api.db.read() as session:
        assert await session.scalar(select(Customer.id).where(Customer.id >= 50_000)) is None


async def test_bulk_insert_refuses_naive_times(api: Api) -> None:
    naive = dt.datetime(2026, 1, 1, 12, 0)
    with pytest.raises((ValueError, StatementError)):
        async with api.db.transaction() as session:
            await bulk_insert(session, Customer, [_customer(1, created_at=naive)])
