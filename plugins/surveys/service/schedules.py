"""Relationship surveys on a schedule: writing schedules, and the hourly job that sends the
due ones.

:func:`run_due` claims each due schedule with a conditional UPDATE of its ``next_run_at``
(the value it read), so two workers running at the same moment send it once: the second
finds the row moved on and does nothing. ``next_run_at`` moves forward by whole periods
(one or three months) until it is past the job's time, so a schedule that missed runs sends
once, not once per missed period. Each matching customer's primary contact is invited
(subject SCHEDULE), under the same rules as every invitation (fatigue included).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
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


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """``moment`` ``months`` later, on the same day of the month (or the month's last)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def following_run(next_run_at: dt.datetime, frequency: str, now: dt.datetime) -> dt.datetime:
    """The first of ``next_run_at`` plus whole periods that is after ``now``."""
    step = MONTHS[frequency]
    periods = 1
    while (found := add_months(next_run_at, step * periods)) <= now:
        periods += 1
    return found


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
    session: AsyncSession, schedule_id: int, seen: dt.datetime, now: dt.datetime
) -> SurveySchedule | None:
    """The schedule, if this run moved its ``next_run_at`` on from ``seen``."""
    row = await session.get(SurveySchedule, schedule_id)
    if row is None:
        return None
    following = following_run(seen, row.frequency, now)
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


async def run_due(job: JobContext) -> Mapping[str, int]:
    """Send every schedule due at ``job.now``: one invitation per matching customer."""
    counts = {"invitations sent": 0, "invitations skipped": 0}
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
            schedule = await _claim(session, schedule_id, seen, job.now)
            if schedule is None:
                continue
            template = await session.get(SurveyTemplate, schedule.template_id)
            if template is None or not template.active:
                continue
            statement = select(Customer.id).where(
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
            customer_ids = (await session.scalars(statement.order_by(Customer.id))).all()
            for customer_id in customer_ids:
                made = await invitations.invite(
                    session,
                    job.pm,
                    template_id=template.id,
                    customer_id=customer_id,
                    contact_id=None,
                    subject_kind=invitations.SCHEDULE,
                    schedule_id=schedule.id,
                    now=job.now,
                    settings=job.settings,
                )
                key = (
                    "invitations sent" if made.status == invitations.SENT else "invitations skipped"
                )
                counts[key] += 1
    return counts
