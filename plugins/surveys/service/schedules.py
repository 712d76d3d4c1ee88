"""Relationship surveys on a schedule: writing schedules, and the hourly job that sends the
due ones.

:func:`run_due` claims each due schedule with a conditional UPDATE of its ``next_run_at``
(the value it read), so two workers running at the same moment send it once: the second
finds the row moved on and does nothing. The claim and the invitations of one run commit
together, so a run that fails is retried whole by the next job, never half sent. The
matching customers are read in keyset batches of :data:`BATCH` ids, and the rows of each
batch leave the session once written, so a large customer base never sits in memory.

``next_run_at`` moves forward by whole periods (one or three months) until it is past the
job's time, so a schedule that missed runs sends once, not once per missed period. Months
are counted on the deployment's calendar (``CRM_TIME_ZONE``): a run at 09:00 on the 1st
stays at 09:00 on the 1st across daylight saving changes; a day the month lacks becomes the
month's last; and a run on a month's last day stays on the last day of later months (31
January, 28 February, 31 March). Each matching customer's primary contact is invited
(subject SCHEDULE), under the same rules as every invitation (fatigue included); each run
is audited (``surveys.schedule.ran``) with its counts.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    Customer,
    JobContext,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    not_found,
    require,
    require_version,
    translator,
)
from plugins.surveys import declarations
from plugins.surveys.models import SurveySchedule, SurveyTemplate
from plugins.surveys.service import invitations

_ = translator(__name__)

STAGES = ("POTENTIAL", "NEW", "ACTIVE", "DORMANT", "CHURNED")
GRADES = ("GOLD", "SILVER", "STANDARD")
KINDS = ("COMPANY", "PERSON")
MONTHS = {"MONTHLY": 1, "QUARTERLY": 3}
NAME_LENGTH = 200
BATCH = 500
"""Customers a run reads (and invites) at a time."""
SENT_KEY, SKIPPED_KEY = "survey invitations sent", "survey invitations skipped"
JOBS_LABEL = "crm jobs"


def _month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


def add_months(moment: dt.datetime, months: int, *, keep_month_end: bool = False) -> dt.datetime:
    """``moment`` ``months`` later on its own calendar (its ``tzinfo``), on the same day of
    the month, or the month's last when it has fewer days; with ``keep_month_end``, on the
    month's last day."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    day = last if keep_month_end else min(moment.day, last)
    return moment.replace(year=year, month=month, day=day)


def following_run(
    next_run_at: dt.datetime, frequency: str, now: dt.datetime, zone: dt.tzinfo = dt.UTC
) -> dt.datetime:
    """The first of ``next_run_at`` plus whole periods that is after ``now``, counted in
    months of ``zone``'s calendar (a run on a month's last day stays on months' last
    days); in UTC."""
    step = MONTHS[frequency]
    local = next_run_at.astimezone(zone).replace(tzinfo=None)
    at_end = _month_end(local.date())
    reference = now.astimezone(zone).replace(tzinfo=None)
    # Whole periods already past, then one more: computed, not counted one by one.
    elapsed = (reference.year - local.year) * 12 + reference.month - local.month
    periods = max(1, elapsed // step)
    while True:
        wall = add_months(local, step * periods, keep_month_end=at_end)
        found = _utc(wall, zone)
        if found > now:
            return found
        periods += 1


def _utc(wall: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """The wall-clock time ``wall`` of ``zone`` in UTC (a time skipped by a daylight saving
    change is read as the offset before it)."""
    return wall.replace(tzinfo=zone).astimezone(dt.UTC)


EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
"""The span a run may be set in: months are counted on the calendar, which ends in 9999."""


def _run_at(check: Check, field: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and not EARLIEST <= value < LATEST:
        check.fail(
            field,
            _("must be from {earliest} to before {latest}", earliest="2000", latest="2100"),
            UserErrorCode.OUT_OF_RANGE,
        )
        return None
    return value


def _values(
    check: Check, field: str, given: list[str] | None, allowed: tuple[str, ...]
) -> list[str]:
    cleaned: list[str] = []
    for index, value in enumerate(given or []):
        upper = value.strip().upper()
        if upper not in allowed:
            check.fail(
                f"{field}.{index}",
                _("must be one of {values}", values=", ".join(allowed)),
                UserErrorCode.INVALID,
            )
        elif upper not in cleaned:
            cleaned.append(upper)
    return cleaned


async def _template(
    session: AsyncSession, check: Check, template_id: int | None
) -> SurveyTemplate | None:
    template = await session.get(SurveyTemplate, template_id) if template_id else None
    if template is None:
        raise not_found("input.templateId", _("no survey template with this id"))
    if not template.active:
        check.fail("templateId", _("the template is not active"), UserErrorCode.BUSINESS_RULE)
    return template


def snapshot(row: SurveySchedule) -> dict[str, Any]:
    return {
        "name": row.name,
        "templateId": row.template_id,
        "frequency": row.frequency,
        "stages": list(row.stages or []),
        "grades": list(row.grades or []),
        "kinds": list(row.kinds or []),
        "active": row.active,
        "nextRunAt": row.next_run_at,
    }


def _record(
    session: AsyncSession,
    context: RequestContext,
    verb: str,
    row: SurveySchedule,
    before: dict[str, Any] | None,
) -> None:
    after = snapshot(row)
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(
        session, actor_of(context), f"surveys.schedule.{verb}", "SurveySchedule", row.id, changes
    )


async def create(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    *,
    name: str,
    template_id: int | None,
    frequency: str,
    stages: list[str],
    grades: list[str],
    kinds: list[str],
    first_run_at: dt.datetime | None,
    active: bool,
) -> SurveySchedule:
    caller = require(context, declarations.MANAGE)
    cleaned = check.text("name", name, max_length=NAME_LENGTH)
    template = await _template(session, check, template_id)
    row_stages = _values(check, "stages", stages, STAGES)
    row_grades = _values(check, "grades", grades, GRADES)
    row_kinds = _values(check, "kinds", kinds, KINDS)
    first_run_at = _run_at(check, "firstRunAt", first_run_at)
    check.done()
    assert cleaned is not None
    assert template is not None
    now = context.now()
    row = SurveySchedule(
        name=cleaned,
        template_id=template.id,
        frequency=frequency,
        stages=row_stages,
        grades=row_grades,
        kinds=row_kinds,
        active=active,
        next_run_at=first_run_at or now,
        created_by_id=caller.user_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    _record(session, context, "created", row, None)
    return row


async def _writable(
    session: AsyncSession, context: RequestContext, schedule_id: int | None
) -> SurveySchedule:
    require(context, declarations.MANAGE)
    row = None
    if schedule_id is not None:
        row = await session.scalar(
            select(SurveySchedule).where(SurveySchedule.id == schedule_id).with_for_update()
        )
    if row is None:
        raise not_found("input.id", _("no survey schedule with this id"))
    return row


async def update_schedule(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    schedule_id: int | None,
    version: int,
    changes: dict[str, Any],
) -> SurveySchedule:
    row = await _writable(session, context, schedule_id)
    require_version(row, version)
    before = snapshot(row)
    if "name" in changes:
        cleaned = check.text("name", changes["name"], max_length=NAME_LENGTH)
        if cleaned is not None:
            row.name = cleaned
    if "template_id" in changes:
        template = await _template(session, check, changes["template_id"])
        if template is not None:
            row.template_id = template.id
    for field, allowed in (("stages", STAGES), ("grades", GRADES), ("kinds", KINDS)):
        if field in changes:
            setattr(row, field, _values(check, field, changes[field], allowed))
    if changes.get("next_run_at") is not None:
        changes["next_run_at"] = _run_at(check, "nextRunAt", changes["next_run_at"])
    for field in ("frequency", "next_run_at", "active"):
        if changes.get(field) is not None:
            setattr(row, field, changes[field])
    check.done()
    row.updated_at = context.now()
    row.version += 1
    await session.flush()
    _record(session, context, "updated", row, before)
    return row


async def delete(
    session: AsyncSession, context: RequestContext, schedule_id: int | None, version: int
) -> int:
    row = await _writable(session, context, schedule_id)
    require_version(row, version)
    _record(session, context, "deleted", row, snapshot(row))
    await session.delete(row)
    await session.flush()
    return row.id


# --- the job --------------------------------------------------------------------------------


async def _claim(
    session: AsyncSession, schedule_id: int, seen: dt.datetime, now: dt.datetime, zone: dt.tzinfo
) -> SurveySchedule | None:
    """The schedule, if this run moved its ``next_run_at`` on from ``seen``."""
    row = await session.get(SurveySchedule, schedule_id)
    if row is None:
        return None
    following = following_run(seen, row.frequency, now, zone)
    claimed = await session.execute(
        update(SurveySchedule)
        .where(
            SurveySchedule.id == schedule_id,
            SurveySchedule.next_run_at == seen,
            SurveySchedule.active.is_(True),
        )
        .values(next_run_at=following, last_run_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    await session.refresh(row)
    return row


def _customers(schedule: SurveySchedule, after: int) -> Select[Any]:
    """The next batch of the ids of the customers ``schedule`` asks, after id ``after``."""
    statement = select(Customer.id).where(
        Customer.id > after,
        Customer.archived_at.is_(None),
        Customer.erased_at.is_(None),
        Customer.merged_into_id.is_(None),
    )
    if schedule.stages:
        statement = statement.where(Customer.stage.in_(schedule.stages))
    if schedule.grades:
        statement = statement.where(Customer.grade.in_(schedule.grades))
    if schedule.kinds:
        statement = statement.where(Customer.kind.in_(schedule.kinds))
    return statement.order_by(Customer.id).limit(BATCH)


async def _send(
    session: AsyncSession, job: JobContext, schedule: SurveySchedule, template_id: int
) -> dict[str, int]:
    counts = {SENT_KEY: 0, SKIPPED_KEY: 0}
    schedule_id = schedule.id
    after = 0
    while batch := (await session.scalars(_customers(schedule, after))).all():
        for customer_id in batch:
            made = await invitations.invite(
                session,
                job.pm,
                template_id=template_id,
                customer_id=customer_id,
                contact_id=None,
                subject_kind=invitations.SCHEDULE,
                schedule_id=schedule_id,
                now=job.now,
                settings=job.settings,
            )
            counts[SENT_KEY if made.status == invitations.SENT else SKIPPED_KEY] += 1
        after = batch[-1]
        # Written: let the batch's rows go, so memory stays bounded by the batch.
        await session.flush()
        session.expunge_all()
        found = await session.get(SurveySchedule, schedule_id)
        assert found is not None
        schedule = found
    return counts


async def run_due(job: JobContext) -> Mapping[str, int]:
    """Send every schedule due at ``job.now``: one invitation per matching customer."""
    counts = {SENT_KEY: 0, SKIPPED_KEY: 0}
    zone = job.settings.zone
    async with job.db.read() as session:
        due = (
            await session.execute(
                select(SurveySchedule.id, SurveySchedule.next_run_at)
                .where(SurveySchedule.active.is_(True), SurveySchedule.next_run_at <= job.now)
                .order_by(SurveySchedule.next_run_at, SurveySchedule.id)
            )
        ).all()
    for schedule_id, seen in due:
        async with job.db.transaction() as session:
            schedule = await _claim(session, schedule_id, seen, job.now, zone)
            if schedule is None:
                continue
            template = await session.get(SurveyTemplate, schedule.template_id)
            ran = {SENT_KEY: 0, SKIPPED_KEY: 0}
            if template is not None and template.active:
                ran = await _send(session, job, schedule, template.id)
            for key, value in ran.items():
                counts[key] += value
            audit.record(
                session,
                audit.Actor(label=JOBS_LABEL, at=job.now),
                "surveys.schedule.ran",
                "SurveySchedule",
                schedule_id,
                {
                    "due": seen,
                    "sent": ran[SENT_KEY],
                    "skipped": ran[SKIPPED_KEY],
                    "templateActive": template is not None and template.active,
                },
            )
    return counts
