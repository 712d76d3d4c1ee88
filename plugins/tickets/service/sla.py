"""SLA targets and the business calendar: reading them, and setting them
(``tickets:manage``)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    require,
    translator,
)
from plugins.tickets.calendar import (
    AlwaysOpen,
    BusinessCalendar,
    Calendar,
    Span,
    holiday_calendars,
)
from plugins.tickets.domain import DEFAULT_SLA, Clock, SlaTargets, due_that_matters
from plugins.tickets.models import BusinessHours, GradeSlaPolicy, SlaPolicy, Ticket

_ = translator(__name__)


async def sla_targets(session: AsyncSession) -> SlaTargets:
    targets = dict(DEFAULT_SLA)
    for row in (await session.scalars(select(SlaPolicy))).all():
        targets[row.priority] = (row.first_response_minutes, row.resolution_minutes)
    by_grade = {
        (row.grade, row.priority): (row.first_response_minutes, row.resolution_minutes)
        for row in (await session.scalars(select(GradeSlaPolicy))).all()
    }
    return SlaTargets(targets, by_grade)


def calendar_of(row: BusinessHours) -> BusinessCalendar:
    def spans(stored: Sequence[Sequence[str]]) -> tuple[Span, ...]:
        return tuple((dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for a, b in stored)

    return BusinessCalendar(
        time_zone=row.time_zone,
        weekdays=frozenset(row.weekdays),
        spans=spans(row.spans),
        weekday_spans=tuple(
            (int(day), spans(stored)) for day, stored in sorted(row.weekday_spans.items())
        ),
        holidays=frozenset(dt.date.fromisoformat(d) for d in row.holidays),
        working_days=frozenset(dt.date.fromisoformat(d) for d in row.working_days),
        holiday_calendar=row.holiday_calendar,
    )


async def calendar(session: AsyncSession) -> Calendar:
    row = await session.get(BusinessHours, 1)
    return AlwaysOpen() if row is None else calendar_of(row)


async def refresh_sla_due(session: AsyncSession, tickets: Iterable[Ticket]) -> None:
    """Set ``sla_due_at`` of tickets being changed (before their flush: reading the targets
    does not flush them, so a change stays one UPDATE and one new version)."""
    with session.no_autoflush:
        targets, cal = await sla_targets(session), await calendar(session)
    for ticket in tickets:
        ticket.sla_due_at = due_that_matters(
            Clock.of(ticket), ticket.status, targets.of(ticket.priority, ticket.sla_grade), cal
        )


async def refresh_open_sla_due(
    session: AsyncSession, priority: str | None = None, grade: str | None = None
) -> None:
    """Recompute ``sla_due_at`` of every open ticket (of ``priority`` and of customers of
    ``grade``, when given) after a change of the targets or the calendar. Written without the
    ORM, so that tickets keep their version (nobody changed them)."""
    targets, cal = await sla_targets(session), await calendar(session)
    statement = select(Ticket).where(Ticket.status.not_in(("RESOLVED", "CLOSED")))
    if priority is not None:
        statement = statement.where(Ticket.priority == priority)
    if grade is not None:
        statement = statement.where(Ticket.sla_grade == grade)
    rows = (await session.scalars(statement.execution_options(populate_existing=True))).all()
    changes = [
        {
            "ticket_id": row.id,
            "due": due_that_matters(
                Clock.of(row), row.status, targets.of(row.priority, row.sla_grade), cal
            ),
        }
        for row in rows
    ]
    if changes:
        await session.execute(
            update(Ticket.__table__)  # type: ignore[arg-type]
            .where(Ticket.__table__.c.id == bindparam("ticket_id"))
            .values(sla_due_at=bindparam("due")),
            changes,
        )
    for row in rows:  # what the session holds matches the rows
        session.expire(row, ["sla_due_at"])


async def set_sla_policy(
    session: AsyncSession,
    context: RequestContext,
    priority: str,
    first_response_minutes: int | None,
    resolution_minutes: int | None,
    grade: str | None = None,
    enabled: bool = True,
) -> SlaPolicy | GradeSlaPolicy | None:
    """Set the policy of ``priority`` (with ``grade``: the policy of that priority for the
    customers of that grade), or remove a grade's policy (``enabled`` false: its tickets
    follow the priority's again); open tickets it covers get their due times anew."""
    require(context, "tickets:manage")
    check = Check()
    if not enabled:
        if grade is None:
            check.fail(
                "enabled",
                _("the policy of a priority cannot be removed, only a grade's"),
                UserErrorCode.INVALID,
            )
        check.done()
        assert grade is not None
        await _remove_grade_policy(session, context, priority, grade)
        return None
    minutes: dict[str, int] = {}
    for field, value in (
        ("firstResponseMinutes", first_response_minutes),
        ("resolutionMinutes", resolution_minutes),
    ):
        if value is None:
            check.fail(field, _("is required"), UserErrorCode.REQUIRED)
        elif not 1 <= value <= 60 * 24 * 365:
            check.fail(field, _("must be between 1 minute and a year"), UserErrorCode.OUT_OF_RANGE)
        else:
            minutes[field] = value
    first, resolution = minutes.get("firstResponseMinutes"), minutes.get("resolutionMinutes")
    if first is not None and resolution is not None and first > resolution:
        check.fail(
            "firstResponseMinutes", _("must not exceed resolutionMinutes"), UserErrorCode.INVALID
        )
    check.done()
    assert first is not None
    assert resolution is not None
    row: SlaPolicy | GradeSlaPolicy | None
    if grade is None:
        row = await session.get(SlaPolicy, priority, with_for_update=True)
    else:
        row = await session.get(GradeSlaPolicy, (grade, priority), with_for_update=True)
    before = (await sla_targets(session)).of(priority, grade)
    if row is None:
        row = (
            SlaPolicy(priority=priority)
            if grade is None
            else GradeSlaPolicy(grade=grade, priority=priority)
        )
        session.add(row)
    row.first_response_minutes, row.resolution_minutes = first, resolution
    row.updated_at = context.now()
    await session.flush()
    await refresh_open_sla_due(session, priority, grade)
    audit.record(
        session,
        actor_of(context),
        "ticket_sla.updated",
        "SlaPolicy",
        _policy_key(priority, grade),
        audit.diff(
            {"firstResponseMinutes": before[0], "resolutionMinutes": before[1]},
            {"firstResponseMinutes": first, "resolutionMinutes": resolution},
        ),
    )
    return row


def _policy_key(priority: str, grade: str | None) -> str:
    """The audit trail's key of a policy: ``HIGH``, or ``GOLD/HIGH`` for a grade's."""
    return priority if grade is None else f"{grade}/{priority}"


async def _remove_grade_policy(
    session: AsyncSession, context: RequestContext, priority: str, grade: str
) -> None:
    row = await session.get(GradeSlaPolicy, (grade, priority), with_for_update=True)
    if row is None:
        return
    await session.delete(row)
    await session.flush()
    await refresh_open_sla_due(session, priority, grade)
    audit.record(
        session,
        actor_of(context),
        "ticket_sla.removed",
        "SlaPolicy",
        _policy_key(priority, grade),
    )


def _time(check: Check, field: str, value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat((value or "").strip())
    except ValueError:
        check.fail(field, _("must be a time of day such as 09:00"), UserErrorCode.INVALID)
        return None


def _spans(
    check: Check, field: str, given: Sequence[tuple[str | None, str | None]]
) -> list[list[str]]:
    """The spans as stored (``[["09:00", "12:00"], ...]``, in order); each bad one is
    refused naming ``<field>.<index>.start`` or ``.end``, overlapping ones naming the later
    one's start."""
    if not given:
        check.fail(field, _("give at least one span"), UserErrorCode.REQUIRED)
        return []
    spans: list[tuple[dt.time, dt.time, int]] = []
    for index, (start, end) in enumerate(given):
        opens = _time(check, f"{field}.{index}.start", start)
        closes = _time(check, f"{field}.{index}.end", end)
        if opens is not None and closes is not None:
            if opens >= closes:
                check.fail(f"{field}.{index}.end", _("must be after start"), UserErrorCode.INVALID)
            else:
                spans.append((opens, closes, index))
    spans.sort()
    for before, after in itertools.pairwise(spans):
        if after[0] < before[1]:
            check.fail(
                f"{field}.{after[2]}.start",
                _(
                    "overlaps the span {start}-{end}",
                    start=before[0].strftime("%H:%M"),
                    end=before[1].strftime("%H:%M"),
                ),
                UserErrorCode.INVALID,
            )
    return [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b, _ in spans]


async def set_business_hours(
    session: AsyncSession,
    context: RequestContext,
    enabled: bool,
    time_zone: str | None,
    weekdays: Sequence[int],
    start: str | None,
    end: str | None,
    spans: Sequence[tuple[str | None, str | None]] | None,
    weekday_spans: Sequence[tuple[int, Sequence[tuple[str | None, str | None]]]],
    holidays: Sequence[dt.date],
    working_days: Sequence[dt.date] = (),
    holiday_calendar: str | None = None,
) -> BusinessHours | None:
    """Set the calendar: ``spans`` (or one span, ``start`` to ``end``) on each of
    ``weekdays`` (1 = Monday), other spans on the days of ``weekday_spans``; the days off
    and working days of ``holiday_calendar`` (a country code of the ``holidays`` library),
    overridden by ``holidays`` and ``working_days``."""
    require(context, "tickets:manage")
    row = await session.get(BusinessHours, 1, with_for_update=True)
    actor = actor_of(context)
    if not enabled:
        if row is not None:
            await session.delete(row)
            await session.flush()
            await refresh_open_sla_due(session)
            audit.record(session, actor, "ticket_business_hours.cleared", "BusinessHours", 1)
        return None
    check = Check()
    # The zone as the zone database spells it (any case); none: the deployment's.
    zone = check.time_zone("timeZone", time_zone) or (
        context.settings.time_zone if not (time_zone or "").strip() else ""
    )
    days = sorted(set(weekdays))
    if not days or any(not 1 <= d <= 7 for d in days):
        check.fail(
            "weekdays",
            _("list days as 1 (Monday) to 7 (Sunday), at least one"),
            UserErrorCode.INVALID,
        )
    if spans is None:
        opens, closes = _time(check, "start", start), _time(check, "end", end)
        if opens is not None and closes is not None and opens >= closes:
            check.fail("end", _("must be after start"), UserErrorCode.INVALID)
        valid = opens is not None and closes is not None
        stored = [[f"{opens:%H:%M}", f"{closes:%H:%M}"]] if valid else []
    else:
        stored = _spans(check, "spans", spans)
    per_weekday: dict[str, list[list[str]]] = {}
    for index, (weekday, its_spans) in enumerate(weekday_spans):
        field = f"weekdaySpans.{index}"
        if weekday not in days:
            check.fail(f"{field}.weekday", _("must be one of weekdays"), UserErrorCode.INVALID)
        elif str(weekday - 1) in per_weekday:
            check.fail(f"{field}.weekday", _("is given twice"), UserErrorCode.INVALID)
        per_weekday[str(weekday - 1)] = _spans(check, f"{field}.spans", its_spans)
    named = (holiday_calendar or "").strip().upper() or None
    if named is not None and named not in holiday_calendars():
        check.fail(
            "holidayCalendar",
            _("is not a known holiday calendar: give a country code such as CN"),
            UserErrorCode.INVALID,
        )
    days_off = set(holidays)
    for index, day in enumerate(working_days):
        if day in days_off:
            check.fail(f"workingDays.{index}", _("is also one of holidays"), UserErrorCode.INVALID)
    check.done()
    if row is None:
        row = BusinessHours(id=1)
        session.add(row)
    row.time_zone = zone
    row.weekdays = [d - 1 for d in days]
    row.spans = stored
    row.weekday_spans = per_weekday
    row.holidays = sorted({d.isoformat() for d in holidays})
    row.working_days = sorted({d.isoformat() for d in working_days})
    row.holiday_calendar = named
    row.updated_at = context.now()
    try:
        calendar_of(row).add(context.now(), 60)
    except ValueError:  # every working day of the next ten years is a holiday
        raise UserErrors.single(
            "holidays",
            _("leaves no working time in the next ten years"),
            UserErrorCode.INVALID,
        ) from None
    await session.flush()
    await refresh_open_sla_due(session)
    audit.record(
        session,
        actor,
        "ticket_business_hours.set",
        "BusinessHours",
        1,
        {
            "timeZone": zone,
            "weekdays": days,
            "spans": row.spans,
            "weekdaySpans": {str(int(d) + 1): s for d, s in sorted(per_weekday.items())},
            "holidays": row.holidays,
            "workingDays": row.working_days,
            "holidayCalendar": named,
        },
    )
    return row
