"""Periodic work (the worker, ``crm jobs run``): dormant customers and birthday reminders.

Safe to run from cron as often as you like: each reminder task carries a ``dedupe_key``
(unique in the database), so a second run, or two runs at once on two machines, never
create a task twice; a customer marked DORMANT is no longer ACTIVE, so it is not picked again.

Calendar days (a birthday, "dormant since") are those of the deployment's time zone
(``CRM_TIME_ZONE``), not UTC's: in Shanghai a contact born on 5 December has their reminder
due at 09:00 Shanghai time on 5 December. A birthday on 29 February is kept on 28 February
in a common year (once: never again on 1 March).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.config import Settings
from core.customers.models import Contact, Customer, Task
from core.db import upsert_insert
from core.i18n import DEFAULT_LOCALE, LocaleName, _, render
from core.schedule import JobContext, PeriodicJob

JOBS_LABEL = "crm jobs"
BIRTHDAY_LEAD_DAYS = 7


def _insert_ignoring_duplicates(session: AsyncSession, rows: list[dict[str, Any]]) -> Any:
    insert = upsert_insert(session.get_bind().dialect.name)
    return insert(Task).values(rows).on_conflict_do_nothing(index_elements=[Task.dedupe_key])


async def mark_dormant(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """ACTIVE customers without an interaction for ``CRM_DORMANT_DAYS`` become DORMANT, and
    their owner gets a follow-up task."""
    cutoff = now - dt.timedelta(days=settings.dormant_days)
    quiet = select(Customer).where(
        Customer.stage == "ACTIVE",
        Customer.archived_at.is_(None),
        func.coalesce(Customer.last_interaction_at, Customer.created_at) < cutoff,
    )
    customers = list((await session.scalars(quiet.with_for_update())).all())
    for customer in customers:
        await session.execute(
            update(Customer)
            .where(Customer.id == customer.id, Customer.stage == "ACTIVE")
            .values(stage="DORMANT", updated_at=now, version=Customer.version + 1)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            audit.Actor(label=JOBS_LABEL, at=now),
            "customer.updated",
            "Customer",
            customer.id,
            {
                "stage": {"before": "ACTIVE", "after": "DORMANT"},
                "reason": f"no interaction for {settings.dormant_days} days",
            },
        )
        if customer.owner_id is not None:
            last = customer.last_interaction_at or customer.created_at
            since = last.astimezone(settings.zone).date().isoformat()
            await session.execute(
                _insert_ignoring_duplicates(
                    session,
                    [
                        {
                            "customer_id": customer.id,
                            "title": render(
                                _(
                                    "Re-engage {name} (dormant since {since})",
                                    name=customer.name,
                                    since=since,
                                ),
                                settings.locale,
                            ),
                            "due_at": now + dt.timedelta(days=3),
                            "assignee_id": customer.owner_id,
                            "dedupe_key": f"dormant:{customer.id}:{since}",
                            "created_at": now,
                            "updated_at": now,
                            "version": 1,
                        }
                    ],
                )
            )
    return len(customers)


def care_key(customer_id: int, quarter: str) -> str:
    """The dedupe key of the care task of key customer ``customer_id`` in ``quarter``
    (``2026-Q4``): one per customer and quarter (:mod:`core.customers.key_accounts`)."""
    return f"care:{customer_id}:{quarter}"


def days_by_month_day(first: dt.date, count: int) -> dict[str, dt.date]:
    """``MM-DD`` -> the day it falls on among the ``count`` days from ``first``: what a
    yearly date (a birthday, a founding date) of that month and day is remembered on.

    29 February falls on 28 February in a common year, so a date born on a leap day is
    remembered every year, once.
    """
    found: dict[str, dt.date] = {}
    for offset in range(count):
        day = first + dt.timedelta(days=offset)
        found[day.strftime("%m-%d")] = day
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            found["02-29"] = day
    return found


def _month_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Contact.birthday, "MM-DD")
    return func.strftime("%m-%d", Contact.birthday).cast(String)


async def birthday_reminders(
    session: AsyncSession,
    now: dt.datetime,
    zone: dt.tzinfo = dt.UTC,
    locale: LocaleName = DEFAULT_LOCALE,
) -> int:
    """A task for the owner a week before each contact's birthday (once per year), due at
    09:00 on the birthday; days and hour are those of ``zone`` (the deployment's), the title
    in ``locale`` (the deployment's language)."""
    today = now.astimezone(zone).date()
    by_month_day = days_by_month_day(today, BIRTHDAY_LEAD_DAYS + 1)
    rows = (
        await session.execute(
            select(Contact, Customer.owner_id)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(
                Contact.birthday.is_not(None),
                Contact.archived_at.is_(None),
                Customer.archived_at.is_(None),
                Customer.owner_id.is_not(None),
                _month_day(session).in_(list(by_month_day)),
            )
        )
    ).all()
    tasks = []
    for contact, owner_id in rows:
        assert contact.birthday is not None
        day = by_month_day[contact.birthday.strftime("%m-%d")]
        tasks.append(
            {
                "customer_id": contact.customer_id,
                "title": render(
                    _("Birthday of {name} on {day}", name=contact.name, day=day.isoformat()),
                    locale,
                ),
                "due_at": dt.datetime.combine(day, dt.time(9), tzinfo=zone).astimezone(dt.UTC),
                "assignee_id": owner_id,
                "dedupe_key": f"birthday:{contact.id}:{day.year}",
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        )
    created = 0
    for start in range(0, len(tasks), 500):
        result = await session.execute(
            _insert_ignoring_duplicates(session, tasks[start : start + 500])
        )
        created += max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]
    if created:
        audit.record(
            session,
            audit.Actor(label=JOBS_LABEL, at=now),
            "task.birthday_reminders",
            "Task",
            None,
            {"created": created},
        )
    return created


async def dormant_job(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        return {"customers marked dormant": await mark_dormant(session, job.settings, job.now)}


async def birthday_job(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        created = await birthday_reminders(session, job.now, job.settings.zone, job.settings.locale)
    return {"birthday reminders created": created}


PERIODIC_JOBS = (
    PeriodicJob("customers.dormant", dt.timedelta(hours=1), dormant_job),
    PeriodicJob("customers.birthdays", dt.timedelta(hours=1), birthday_job),
)
