"""SLA targets and the business calendar: reading them, and setting them
(``tickets:manage``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    require,
    translator,
)
from plugins.tickets.calendar import AlwaysOpen, BusinessCalendar, Calendar
from plugins.tickets.domain import DEFAULT_SLA, Clock, due_that_matters
from plugins.tickets.models import BusinessHours, SlaPolicy, Ticket

_ = translator(__name__)


async def sla_targets(session: AsyncSession) -> dict[str, tuple[int, int]]:
    targets = dict(DEFAULT_SLA)
    for row in (await session.scalars(select(SlaPolicy))).all():
        targets[row.priority] = (row.first_response_minutes, row.resolution_minutes)
    return targets


async def calendar(session: AsyncSession) -> Calendar:
    row = await session.get(BusinessHours, 1)
    if row is None:
        return AlwaysOpen()
    return BusinessCalendar(
        time_zone=row.time_zone,
        weekdays=frozenset(row.weekdays),
        start=dt.time.fromisoformat(row.start_time),
        end=dt.time.fromisoformat(row.end_time),
        holidays=frozenset(dt.date.fromisoformat(d) for d in row.holidays),
    )


async def refresh_sla_due(session: AsyncSession, tickets: Iterable[Ticket]) -> None:
    """Set ``sla_due_at`` of tickets being changed (before their flush: reading the targets
    does not flush them, so a change stays one UPDATE and one new version)."""
    with session.no_autoflush:
        targets, cal = await sla_targets(session), await calendar(session)
    for ticket in tickets:
        ticket.sla_due_at = due_that_matters(
            Clock.of(ticket), ticket.status, targets[ticket.priority], cal
        )


async def refresh_open_sla_due(session: AsyncSession, priority: str | None = None) -> None:
    """Recompute ``sla_due_at`` of every open ticket (of ``priority``, when given) after a
    change of the targets or the calendar. Written without the ORM, so that tickets keep
    their version (nobody changed them)."""
    targets, cal = await sla_targets(session), await calendar(session)
    statement = select(Ticket).where(Ticket.status.not_in(("RESOLVED", "CLOSED")))
    if priority is not None:
        statement = statement.where(Ticket.priority == priority)
    rows = (await session.scalars(statement.execution_options(populate_existing=True))).all()
    changes = [
        {
            "ticket_id": row.id,
            "due": due_that_matters(Clock.of(row), row.status, targets[row.priority], cal),
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
    first_response_minutes: int,
    resolution_minutes: int,
) -> SlaPolicy:
    require(context, "tickets:manage")
    check = Check()
    for field, value in (
        ("firstResponseMinutes", first_response_minutes),
        ("resolutionMinutes", resolution_minutes),
    ):
        if not 1 <= value <= 60 * 24 * 365:
            check.fail(field, _("must be between 1 minute and a year"), UserErrorCode.OUT_OF_RANGE)
    if first_response_minutes > resolution_minutes:
        check.fail(
            "firstResponseMinutes", _("must not exceed resolutionMinutes"), UserErrorCode.INVALID
        )
    check.done()
    row = await session.get(SlaPolicy, priority, with_for_update=True)
    targets = await sla_targets(session)
    before = {
        "firstResponseMinutes": targets[priority][0],
        "resolutionMinutes": targets[priority][1],
    }
    if row is None:
        row = SlaPolicy(priority=priority)
        session.add(row)
    row.first_response_minutes, row.resolution_minutes = first_response_minutes, resolution_minutes
    row.updated_at = context.now()
    await session.flush()
    await refresh_open_sla_due(session, priority)
    audit.record(
        session,
        actor_of(context),
        "ticket_sla.updated",
        "SlaPolicy",
        priority,
        audit.diff(
            before,
            {
                "firstResponseMinutes": first_response_minutes,
                "resolutionMinutes": resolution_minutes,
            },
        ),
    )
    return row


async def set_business_hours(
    session: AsyncSession,
    context: RequestContext,
    enabled: bool,
    time_zone: str | None,
    weekdays: Sequence[int],
    start: str | None,
    end: str | None,
    holidays: Sequence[dt.date],
) -> BusinessHours | None:
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
    zone = (time_zone or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        check.fail(
            "timeZone", _("is not an IANA time zone such as Europe/Berlin"), UserErrorCode.INVALID
        )
    days = sorted(set(weekdays))
    if not days or any(not 1 <= d <= 7 for d in days):
        check.fail(
            "weekdays",
            _("list days as 1 (Monday) to 7 (Sunday), at least one"),
            UserErrorCode.INVALID,
        )
    times: list[dt.time] = []
    for field, value in (("start", start), ("end", end)):
        try:
            times.append(dt.time.fromisoformat((value or "").strip()))
        except ValueError:
            check.fail(field, _("must be a time of day such as 09:00"), UserErrorCode.INVALID)
    if len(times) == 2 and times[0] >= times[1]:
        check.fail("end", _("must be after start"), UserErrorCode.INVALID)
    check.done()
    if row is None:
        row = BusinessHours(id=1)
        session.add(row)
    row.time_zone = zone
    row.weekdays = [d - 1 for d in days]
    row.start_time, row.end_time = times[0].strftime("%H:%M"), times[1].strftime("%H:%M")
    row.holidays = sorted({d.isoformat() for d in holidays})
    row.updated_at = context.now()
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
            "start": row.start_time,
            "end": row.end_time,
            "holidays": row.holidays,
        },
    )
    return row
