"""A birthday or founding date on 29 February is remembered every year: on 28 February in a
common year, on 29 February in a leap year, and once a year either way (never again on
1 March). The jobs run day by day on the app's clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from core.catalog import SALES_REPRESENTATIVE
from core.config import Settings
from core.customers.jobs import days_by_month_day
from core.customers.models import Task
from tests.support import Api, FakeClock, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number } errors { field code } }
}"""
CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id birthday } errors { field code } }
}"""


def test_29_february_falls_on_28_february_in_a_common_year_only() -> None:
    common = days_by_month_day(dt.date(2027, 2, 25), 8)
    assert common["02-28"] == common["02-29"] == dt.date(2027, 2, 28)
    assert common["03-01"] == dt.date(2027, 3, 1)
    leap = days_by_month_day(dt.date(2028, 2, 25), 8)
    assert leap["02-28"] == dt.date(2028, 2, 28)
    assert leap["02-29"] == dt.date(2028, 2, 29)
    # A week that ends before 28 February, or starts after it, has no 29 February.
    assert "02-29" not in days_by_month_day(dt.date(2027, 2, 1), 8)
    assert "02-29" not in days_by_month_day(dt.date(2027, 3, 1), 8)


async def leap_day_customer(api: Api) -> None:
    """A customer founded on 29 February 2000 whose contact was born on 29 February 1988."""
    body = await api.gql(
        CREATE,
        {"input": {"name": "Leap Works", "foundedOn": "2000-02-29", "allowDuplicates": True}},
    )
    assert body["data"]["createCustomer"]["errors"] == [], body
    customer_id = body["data"]["createCustomer"]["customer"]["id"]
    contact = await api.gql(
        CREATE_CONTACT,
        {"input": {"customerId": customer_id, "name": "Leap Li", "birthday": "1988-02-29"}},
    )
    assert contact["data"]["createContact"]["errors"] == [], contact
    assert contact["data"]["createContact"]["contact"]["birthday"] == "1988-02-29"


async def reminders(api: Api) -> list[tuple[str, str, dt.datetime]]:
    """(dedupe key prefix and year, title, due) of the birthday and anniversary tasks."""
    async with api.db.read() as session:
        rows = await session.execute(
            select(Task.dedupe_key, Task.title, Task.due_at)
            .where(Task.dedupe_key.like("birthday:%") | Task.dedupe_key.like("anniversary:%"))
            .order_by(Task.due_at, Task.dedupe_key)
        )
        return [
            (f"{(key or '').split(':')[0]}:{(key or '').split(':')[2]}", title, due)
            for key, title, due in rows
        ]


async def run_daily(api: Api, clock: FakeClock, first: dt.date, last: dt.date) -> None:
    """Run the due periodic jobs at 10:00 UTC each day from ``first`` to ``last``."""
    day = first
    while day <= last:
        clock.set(dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC))
        await api.run_due_jobs()
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("year", "day", "years"),
    [(2027, dt.date(2027, 2, 28), 27), (2028, dt.date(2028, 2, 29), 28)],
    ids=["common-year", "leap-year"],
)
async def test_a_leap_day_is_remembered_once_every_year(
    make_settings: Callable[..., Settings], year: int, day: dt.date, years: int
) -> None:
    clock = FakeClock(dt.datetime(year, 2, 1, 10, 0, tzinfo=dt.UTC))
    async with running_app(make_settings(plugins=()), clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        await leap_day_customer(rep)
        await run_daily(rep, clock, dt.date(year, 2, 1), dt.date(year, 3, 8))
        due = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
        assert await reminders(rep) == [
            (f"anniversary:{year}", f"Anniversary of Leap Works on {day}: {years} years", due),
            (f"birthday:{year}", f"Birthday of Leap Li on {day}", due),
        ]


async def test_a_leap_day_is_remembered_in_the_years_between(
    make_settings: Callable[..., Settings],
) -> None:
    """Through a common year into a leap year: one reminder of each a year, no more."""
    clock = FakeClock(dt.datetime(2027, 2, 20, 10, 0, tzinfo=dt.UTC))
    async with running_app(make_settings(plugins=()), clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE, lasting=True)
        await leap_day_customer(rep)
        await run_daily(rep, clock, dt.date(2027, 2, 20), dt.date(2027, 3, 3))
        await run_daily(rep, clock, dt.date(2028, 2, 20), dt.date(2028, 3, 3))
        found: list[Any] = [(key, due.date()) for key, _title, due in await reminders(rep)]
        assert found == [
            ("anniversary:2027", dt.date(2027, 2, 28)),
            ("birthday:2027", dt.date(2027, 2, 28)),
            ("anniversary:2028", dt.date(2028, 2, 29)),
            ("birthday:2028", dt.date(2028, 2, 29)),
        ]
