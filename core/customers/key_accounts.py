"""Periodic care of key customers and company anniversaries.

- Key customers (``CRM_KEY_ACCOUNT_GRADES``, ``CRM_KEY_ACCOUNT_TAGS``: a customer of one of
  the grades or with one of the tags) get a care task every calendar quarter, of the type
  ``CRM_KEY_ACCOUNT_TASK_TYPE`` (VISIT or CALL), due two weeks after the job first sees the
  quarter (at the latest on its last day), at 09:00.
- A customer with a founding date (``foundedOn``) gets a task a week before each
  anniversary, due at 09:00 on the day, as contacts' birthdays do (:mod:`jobs`): one
  founded on 29 February is remembered on 28 February in a common year.

Each task goes to the customer's owner; a customer without one goes to the first (lowest
id) active user who may change every customer (``customers:write`` at ALL scope), so that
an orphaned key customer is still cared for. Each task carries a ``dedupe_key`` (one per
customer and quarter, or customer and year), so runs may repeat or overlap. Calendar days
and quarters are those of the deployment's time zone; the job's ``now`` decides them.

Each job reads its customers ``FOR SHARE SKIP LOCKED`` in the transaction that inserts the
tasks, so a task never lands beside a merge (:mod:`core.customers.service.merge`): a
customer being merged or edited right now is skipped and cared for by the next run, and a
merge of a customer the job holds waits until the job commits, then sees and settles the
job's task. On SQLite, where writers take turns, the lock clause is left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, String, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.config import Settings
from core.customers.jobs import (
    BIRTHDAY_LEAD_DAYS,
    JOBS_LABEL,
    _insert_ignoring_duplicates,
    care_key,
    days_by_month_day,
)
from core.customers.models import Customer, CustomerTag, Tag
from core.customers.service.tags import _tag_key
from core.host import CRMPluginManager
from core.i18n import _, render
from core.identity.models import User
from core.identity.service.holders import users_with_permission
from core.schedule import JobContext, PeriodicJob

CARE_LEAD_DAYS = 14
DUE_HOUR = dt.time(9)


def quarter_of(day: dt.date) -> tuple[int, dt.date]:
    """The quarter (1-4) of ``day`` and the quarter's last day."""
    quarter = (day.month - 1) // 3 + 1
    first_of_next = dt.date(day.year + quarter // 4, quarter % 4 * 3 + 1, 1)
    return quarter, first_of_next - dt.timedelta(days=1)


def key_account_condition(settings: Settings) -> ColumnElement[bool] | None:
    """Which customers are key customers: of a grade or with a tag the settings name;
    ``None`` when the settings name neither."""
    grades = settings.names(settings.key_account_grades)
    keys = [_tag_key(name) for name in settings.names(settings.key_account_tags)]
    conditions: list[ColumnElement[bool]] = []
    if grades:
        conditions.append(Customer.grade.in_(grades))
    if keys:
        tagged = (
            select(CustomerTag.customer_id)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.name_key.in_(keys))
        )
        conditions.append(Customer.id.in_(tagged))
    return or_(*conditions) if conditions else None


class _Assignees:
    """The owner while active, else (once looked up) the first user who manages every
    customer: a deactivated owner's key customers are cared for too."""

    def __init__(self, session: AsyncSession, pm: CRMPluginManager) -> None:
        self.session = session
        self.pm = pm
        self.fallback: list[int] | None = None
        self.active: dict[int, bool] = {}

    async def of(self, owner_id: int | None) -> int | None:
        if owner_id is not None and owner_id not in self.active:
            found = await self.session.scalar(
                select(User.id).where(User.id == owner_id, User.is_active.is_(True))
            )
            self.active[owner_id] = found is not None
        if owner_id is not None and self.active[owner_id]:
            return owner_id
        if self.fallback is None:
            self.fallback = await users_with_permission(self.session, self.pm, "customers:write")
        return self.fallback[0] if self.fallback else None


def _task(
    customer_id: int, title: str, due: dt.datetime, assignee: int, kind: str, key: str, now: Any
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "title": title,
        "type": kind,
        "due_at": due,
        "assignee_id": assignee,
        "dedupe_key": key,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


async def _insert(
    session: AsyncSession, tasks: list[dict[str, Any]], action: str, now: dt.datetime
) -> int:
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
            action,
            "Task",
            None,
            {"created": created},
        )
    return created


async def key_account_care(
    session: AsyncSession, settings: Settings, pm: CRMPluginManager, now: dt.datetime
) -> int:
    """A care task this quarter for each key customer that has none yet; how many.

    A customer locked by another transaction (a merge, an edit) is left for the next run."""
    condition = key_account_condition(settings)
    if condition is None:
        return 0
    zone = settings.zone
    today = now.astimezone(zone).date()
    quarter, last_day = quarter_of(today)
    due_day = min(today + dt.timedelta(days=CARE_LEAD_DAYS), last_day)
    due = dt.datetime.combine(due_day, DUE_HOUR, tzinfo=zone).astimezone(dt.UTC)
    label = f"{today.year}-Q{quarter}"
    rows = await session.execute(
        select(Customer.id, Customer.name, Customer.owner_id)
        .where(condition, Customer.archived_at.is_(None), Customer.erased_at.is_(None))
        .order_by(Customer.id)
        .with_for_update(read=True, skip_locked=True)
    )
    assignees = _Assignees(session, pm)
    kind = settings.key_account_task_type
    tasks = []
    for customer_id, name, owner_id in rows:
        assignee = await assignees.of(owner_id)
        if assignee is None:
            continue
        title = _("Quarterly care of {name} ({quarter})", name=name, quarter=label)
        key = care_key(customer_id, label)
        tasks.append(
            _task(customer_id, render(title, settings.locale), due, assignee, kind, key, now)
        )
    return await _insert(session, tasks, "task.key_account_care", now)


def anniversary_key(customer_id: int, year: int | str) -> str:
    """The dedupe key of the anniversary task of ``customer_id`` in ``year``: one per
    customer and year (``""`` for the year gives the prefix of them all)."""
    return f"anniversary:{customer_id}:{year}"


def _founding_month_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Customer.founded_on, "MM-DD")
    return func.strftime("%m-%d", Customer.founded_on).cast(String)


async def anniversary_reminders(
    session: AsyncSession, settings: Settings, pm: CRMPluginManager, now: dt.datetime
) -> int:
    """A task a week before each customer's founding anniversary (once a year); how many.

    The first anniversary is the founding date's first return: nothing for a customer
    founded this year. A customer locked by another transaction (a merge, an edit) is left
    for the next run."""
    zone = settings.zone
    today = now.astimezone(zone).date()
    by_month_day = days_by_month_day(today, BIRTHDAY_LEAD_DAYS + 1)
    rows = await session.execute(
        select(Customer.id, Customer.name, Customer.owner_id, Customer.founded_on)
        .where(
            Customer.founded_on.is_not(None),
            Customer.archived_at.is_(None),
            Customer.erased_at.is_(None),
            _founding_month_day(session).in_(list(by_month_day)),
        )
        .order_by(Customer.id)
        .with_for_update(read=True, skip_locked=True)
    )
    assignees = _Assignees(session, pm)
    tasks = []
    for customer_id, name, owner_id, founded_on in rows:
        assert founded_on is not None
        day = by_month_day[founded_on.strftime("%m-%d")]
        years = day.year - founded_on.year
        assignee = await assignees.of(owner_id)
        if years < 1 or assignee is None:
            continue
        title = _(
            "Anniversary of {name} on {day}: {years} years",
            name=name,
            day=day.isoformat(),
            years=years,
        )
        due = dt.datetime.combine(day, DUE_HOUR, tzinfo=zone).astimezone(dt.UTC)
        key = anniversary_key(customer_id, day.year)
        tasks.append(
            _task(customer_id, render(title, settings.locale), due, assignee, "CALL", key, now)
        )
    return await _insert(session, tasks, "task.anniversary_reminders", now)


async def care_job(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        created = await key_account_care(session, job.settings, job.pm, job.now)
    return {"key account care tasks created": created}


async def anniversary_job(job: JobContext) -> Mapping[str, int]:
    async with job.db.transaction() as session:
        created = await anniversary_reminders(session, job.settings, job.pm, job.now)
    return {"anniversary reminders created": created}


PERIODIC_JOBS = (
    PeriodicJob("customers.key_account_care", dt.timedelta(hours=1), care_job),
    PeriodicJob("customers.anniversaries", dt.timedelta(hours=1), anniversary_job),
)
