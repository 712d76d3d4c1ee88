"""SLA targets and the business calendar: reading them, and setting them
(``tickets:manage``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    UserErrorCode,
    actor_of,
    audit,
    require,
)
from plugins.tickets.calendar import AlwaysOpen, BusinessCalendar, Calendar
from plugins.tickets.domain import DEFAULT_SLA
from plugins.tickets.models import BusinessHours, SlaPolicy


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
            check.fail(field, "must be between 1 minute and a year", UserErrorCode.OUT_OF_RANGE)
    if first_response_minutes > resolution_minutes:
        check.fail(
            "firstResponseMinutes", "must not exceed resolutionMinutes", UserErrorCode.INVALID
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
            audit.record(session, actor, "ticket_business_hours.cleared", "BusinessHours", 1)
        return None
    check = Check()
    zone = (time_zone or "").strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        check.fail(
            "timeZone", "is not an IANA time zone such as Europe/Berlin", UserErrorCode.INVALID
        )
    days = sorted(set(weekdays))
    if not days or any(not 1 <= d <= 7 for d in days):
        check.fail(
            "weekdays", "list days as 1 (Monday) to 7 (Sunday), at least one", UserErrorCode.INVALID
        )
    times: list[dt.time] = []
    for field, value in (("start", start), ("end", end)):
        try:
            times.append(dt.time.fromisoformat((value or "").strip()))
        except ValueError:
            check.fail(field, "must be a time of day such as 09:00", UserErrorCode.INVALID)
    if len(times) == 2 and times[0] >= times[1]:
        check.fail("end", "must be after start", UserErrorCode.INVALID)
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
