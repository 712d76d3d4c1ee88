"""Business hours of a Chinese office: a lunch break, the public holiday calendar ``CN``
(from the ``holidays`` library) with its make-up working days, spans per weekday, explicit
holidays and working days overriding the calendar; through :class:`BusinessCalendar` and
through the API (SQLite, and PostgreSQL with ``CRM_TEST_POSTGRES_URL``).

The calendar of 2026 as the State Council announced it (and the library gives it): National
Day is 1-7 October off (Thursday 1 to Wednesday 7; Sunday 4 is a weekend day anyway), with
Sunday 20 September and Saturday 10 October worked instead; Mid-Autumn is Friday 25
September.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from core.plugin_api import CRMPluginManager
from plugins.tickets import models
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.calendar import BusinessCalendar, named_days
from plugins.tickets.test_lifecycle import ERRORS, data, open_ticket
from plugins.tickets.test_sla import dues
from schema.testkit import Api, FakeClock, migrate_down, migrate_up

SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8 all year
LUNCH_BREAK = ((dt.time(9), dt.time(12)), (dt.time(13, 30), dt.time(18)))  # 7.5 hours a day
OFFICE = BusinessCalendar(time_zone="Asia/Shanghai", spans=LUNCH_BREAK, holiday_calendar="CN")
HOUR = 3600

settings, clock, api = lifecycle.settings, lifecycle.clock, lifecycle.api
admin, customer = lifecycle.admin, lifecycle.customer


def shanghai(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time of 2026 in Shanghai, as the UTC moment the app works with."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


# Opened Wednesday 30 September 2026 at 16:00, the eve of the National Day week.
OPENED = shanghai(9, 30, 16)
# First response, 2 business hours: 16:00-18:00 that day, due at 18:00.
FIRST_DUE = shanghai(9, 30, 18)
# Resolution, 24 business hours: 2 on Wednesday 30 (16:00-18:00); 1-7 October off; 7.5 on
# Thursday 8 and 7.5 on Friday 9 (17 so far); the make-up Saturday 10 works the normal spans:
# 3 from 09:00 to 12:00 (20), then 4 from 13:30, due at 17:30.
RESOLUTION_DUE = shanghai(10, 10, 17, 30)


def test_the_library_knows_chinas_2026_calendar() -> None:
    days_off, workdays = named_days("CN", 2026)
    assert {dt.date(2026, 10, day) for day in (1, 2, 3, 5, 6, 7)} <= days_off
    assert dt.date(2026, 9, 25) in days_off  # Mid-Autumn
    assert {dt.date(2026, 9, 20), dt.date(2026, 10, 10)} <= workdays
    assert dt.date(2026, 10, 8) not in days_off


def test_lunch_break_holiday_week_and_make_up_saturday() -> None:
    assert OFFICE.add(OPENED, 2 * HOUR) == FIRST_DUE
    assert OFFICE.add(OPENED, 24 * HOUR) == RESOLUTION_DUE
    assert OFFICE.between(OPENED, RESOLUTION_DUE) == 24 * HOUR
    # The lunch break does not count: 11:00-14:00 is 1 hour before it and 30 minutes after.
    assert OFFICE.between(shanghai(9, 30, 11), shanghai(9, 30, 14)) == 1.5 * HOUR
    assert OFFICE.add(shanghai(9, 30, 11), 1.5 * HOUR) == shanghai(9, 30, 14)
    # Work ending at the lunch break ends at 12:00; a moment in the break starts at 13:30.
    assert OFFICE.add(shanghai(9, 30, 9), 3 * HOUR) == shanghai(9, 30, 12)
    assert OFFICE.add(shanghai(9, 30, 12, 30), HOUR) == shanghai(9, 30, 14, 30)
    # Sunday 20 September is worked; Friday 25 (Mid-Autumn) and Sunday 27 are not.
    assert OFFICE.between(shanghai(9, 20, 0), shanghai(9, 21, 0)) == 7.5 * HOUR
    assert OFFICE.between(shanghai(9, 25, 0), shanghai(9, 26, 0)) == 0
    assert OFFICE.between(shanghai(9, 27, 0), shanghai(9, 28, 0)) == 0


def test_own_days_override_the_named_calendar() -> None:
    # Wednesday 7 October worked after all: 2 on the 30th, 7.5 on the 7th, 7.5 on the 8th
    # (17), 3 on the morning of the 9th (20), 4 from 13:30: Friday 9 at 17:30.
    working = BusinessCalendar(
        time_zone="Asia/Shanghai",
        spans=LUNCH_BREAK,
        holiday_calendar="CN",
        working_days=frozenset({dt.date(2026, 10, 7)}),
    )
    assert working.add(OPENED, 24 * HOUR) == shanghai(10, 9, 17, 30)
    # The make-up Saturday taken off: 17 hours by Friday 9, Saturday 10 and Sunday 11 off,
    # then 3 + 4 on Monday 12: 17:30.
    resting = BusinessCalendar(
        time_zone="Asia/Shanghai",
        spans=LUNCH_BREAK,
        holiday_calendar="CN",
        holidays=frozenset({dt.date(2026, 10, 10)}),
    )
    assert resting.add(OPENED, 24 * HOUR) == shanghai(10, 12, 17, 30)


def test_spans_per_weekday() -> None:
    # Fridays end at noon; a make-up Saturday still works the normal spans.
    short_friday = BusinessCalendar(
        time_zone="Asia/Shanghai",
        spans=LUNCH_BREAK,
        weekday_spans=((4, ((dt.time(9), dt.time(12)),)),),
        holiday_calendar="CN",
    )
    # Thursday 8 October 17:00 plus 5 hours: 1 on Thursday, 3 on Friday morning, then 1 on
    # Saturday 10 from 09:00.
    assert short_friday.add(shanghai(10, 8, 17), 5 * HOUR) == shanghai(10, 10, 10)
    assert short_friday.between(shanghai(10, 9, 0), shanghai(10, 10, 0)) == 3 * HOUR


SET_HOURS = f"""
mutation($input: SetBusinessHoursInput!) {{
  setBusinessHours(input: $input) {{
    businessHours {{
      timeZone weekdays start end spans {{ start end }}
      weekdaySpans {{ weekday spans {{ start end }} }} holidays workingDays holidayCalendar
    }} {ERRORS}
  }}
}}"""
CHINA_OFFICE = {
    "enabled": True,
    "timeZone": "Asia/Shanghai",
    "spans": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
    "holidayCalendar": "cn",
}


async def set_hours(api: Api, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = data(await api.gql(SET_HOURS, {"input": CHINA_OFFICE | input}))[
        "setBusinessHours"
    ]
    return payload


async def test_sla_due_times_of_a_chinese_office(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    payload = await set_hours(admin)
    assert payload["errors"] == []
    assert payload["businessHours"] == {
        "timeZone": "Asia/Shanghai",
        "weekdays": [1, 2, 3, 4, 5],
        "start": "09:00",
        "end": "18:00",
        "spans": [{"start": "09:00", "end": "12:00"}, {"start": "13:30", "end": "18:00"}],
        "weekdaySpans": [],
        "holidays": [],
        "workingDays": [],
        "holidayCalendar": "CN",
    }
    clock.set(OPENED)
    ticket = await open_ticket(admin, customer, priority="HIGH")  # 2 h first response, 24 h
    assert await dues(admin, ticket) == (FIRST_DUE, RESOLUTION_DUE)

    # Own days beside the named calendar move the open ticket's due time (see
    # test_own_days_override_the_named_calendar for the arithmetic).
    payload = await set_hours(admin, workingDays=["2026-10-07"])
    assert payload["businessHours"]["workingDays"] == ["2026-10-07"]
    assert await dues(admin, ticket) == (FIRST_DUE, shanghai(10, 9, 17, 30))
    payload = await set_hours(admin, holidays=["2026-10-10"])
    assert await dues(admin, ticket) == (FIRST_DUE, shanghai(10, 12, 17, 30))

    # Fridays to noon: 2 on the 30th, 7.5 on the 8th, 3 on Friday 9 (12.5), then 7.5 on the
    # make-up Saturday (20) and 4 on Monday 12 from 09:00 (3 before the break, 1 after it):
    # 14:30.
    payload = await set_hours(
        admin,
        weekdaySpans=[{"weekday": 5, "spans": [{"start": "09:00", "end": "12:00"}]}],
    )
    assert payload["businessHours"]["weekdaySpans"] == [
        {"weekday": 5, "spans": [{"start": "09:00", "end": "12:00"}]}
    ]
    assert await dues(admin, ticket) == (FIRST_DUE, shanghai(10, 12, 14, 30))


@pytest.mark.parametrize(
    ("input", "expected"),
    [
        (
            {"spans": [{"start": "12:00", "end": "09:00"}]},
            [("spans.0.end", "INVALID")],
        ),
        (
            {"spans": [{"start": "09:00", "end": "12:30"}, {"start": "12:00", "end": "18:00"}]},
            [("spans.1.start", "INVALID")],
        ),
        (
            {"spans": [{"start": "13:00", "end": "18:00"}, {"start": "09:00", "end": "13:01"}]},
            [("spans.0.start", "INVALID")],
        ),
        ({"spans": [{"start": "9h", "end": "12:00"}]}, [("spans.0.start", "INVALID")]),
        ({"spans": []}, [("spans", "REQUIRED")]),
        ({"holidayCalendar": "Mainland"}, [("holidayCalendar", "INVALID")]),
        (
            {"holidays": ["2026-10-10"], "workingDays": ["2026-10-09", "2026-10-10"]},
            [("workingDays.1", "INVALID")],
        ),
        (
            {"weekdaySpans": [{"weekday": 6, "spans": [{"start": "09:00", "end": "12:00"}]}]},
            [("weekdaySpans.0.weekday", "INVALID")],
        ),
        (
            {
                "weekdaySpans": [
                    {"weekday": 5, "spans": [{"start": "09:00", "end": "12:00"}]},
                    {"weekday": 5, "spans": [{"start": "14:00", "end": "13:00"}]},
                ]
            },
            [("weekdaySpans.1.weekday", "INVALID"), ("weekdaySpans.1.spans.0.end", "INVALID")],
        ),
        ({"weekdaySpans": [{"weekday": 1, "spans": []}]}, [("weekdaySpans.0.spans", "REQUIRED")]),
    ],
)
async def test_refused_business_hours_name_the_field(
    admin: Api, input: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    payload = await set_hours(admin, **input)
    assert payload["businessHours"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == expected


async def test_the_migration_turns_start_and_end_into_one_span(
    admin: Api, customer: str, clock: FakeClock, plugin_manager: CRMPluginManager
) -> None:
    payload = await set_hours(
        admin,
        weekdaySpans=[{"weekday": 5, "spans": [{"start": "09:00", "end": "12:00"}]}],
        workingDays=["2026-10-07"],
    )
    assert payload["errors"] == []
    clock.set(shanghai(9, 30, 11))
    ticket = await open_ticket(admin, customer, priority="HIGH")
    # 2 business hours from 11:00: 1 before the lunch break, 1 from 13:30.
    assert (await dues(admin, ticket))[0] == shanghai(9, 30, 14, 30)
    # Down to one span a day (09:00 to 18:00, the lunch break now working time), down past
    # tickets_0002 (which drops the stored due times), and up again: tickets_0002 computes the
    # due times with that one span, tickets_0003 keeps it as the only span.
    await migrate_down(admin.db, plugin_manager, "tickets_0002")
    async with admin.db.read() as session:
        row = (
            await session.execute(
                text("SELECT start_time, end_time FROM ticket_business_hours WHERE id = 1")
            )
        ).one()
    assert tuple(row) == ("09:00", "18:00")
    await migrate_down(admin.db, plugin_manager, "tickets_0001")
    await migrate_up(admin.db, plugin_manager)
    async with admin.db.read() as session:
        hours = await session.get(models.BusinessHours, 1)
        assert hours is not None
        assert (hours.spans, hours.weekday_spans, hours.working_days) == (
            [["09:00", "18:00"]],
            {},
            [],
        )
        assert hours.holiday_calendar is None
        stored = await session.scalar(
            select(models.Ticket.sla_due_at).where(models.Ticket.number == ticket["number"])
        )
    assert stored == shanghai(9, 30, 13)  # 11:00 plus 2 hours without the lunch break
