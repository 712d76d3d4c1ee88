"""SLA clocks: default targets, the state at every boundary (to the second, with a fake
clock), SLA policies, business hours with time zones and holidays, pauses while WAITING, and
the business-time arithmetic of :mod:`plugins.tickets.calendar` on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.plugin_api import (
    SALES_REPRESENTATIVE,
    SUPPORT_REPRESENTATIVE,
    SYSTEM_ADMINISTRATOR,
)
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.calendar import AlwaysOpen, BusinessCalendar
from plugins.tickets.domain import DEFAULT_SLA
from plugins.tickets.test_lifecycle import (
    ERRORS,
    GET,
    MONDAY,
    data,
    error_code,
    move_to,
    ok,
    open_ticket,
    step,
    when,
)
from schema.testkit import Api, FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SECOND = dt.timedelta(seconds=1)


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in Berlin, as the UTC moment the app works with."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(dt.UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


# The lifecycle tests' fixtures: the app on a clock set to a Monday, an admin, a customer.
settings, clock, api = lifecycle.settings, lifecycle.clock, lifecycle.api
admin, customer = lifecycle.admin, lifecycle.customer


async def sla(api: Api, ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket's SLA as the API computes it now."""
    found: dict[str, Any] = data(await api.gql(GET, {"id": ticket["id"]}))["ticket"]["sla"]
    return found


async def state(api: Api, ticket: dict[str, Any]) -> str:
    value: str = (await sla(api, ticket))["state"]
    return value


async def dues(api: Api, ticket: dict[str, Any]) -> tuple[dt.datetime | None, ...]:
    found = await sla(api, ticket)
    return when(found["firstResponseDueAt"]), when(found["resolutionDueAt"])


async def states_at(
    api: Api, clock: FakeClock, ticket: dict[str, Any], moments: list[dt.datetime]
) -> list[str]:
    found = []
    for moment in moments:
        clock.set(moment.astimezone(dt.UTC))
        found.append(await state(api, ticket))
    return found


SET_POLICY = f"""
mutation($input: SetSlaPolicyInput!) {{
  setSlaPolicy(input: $input) {{
    policy {{ priority firstResponseMinutes resolutionMinutes }} {ERRORS}
  }}
}}"""
SET_HOURS = f"""
mutation($input: SetBusinessHoursInput!) {{
  setBusinessHours(input: $input) {{
    businessHours {{ timeZone weekdays start end holidays }} {ERRORS}
  }}
}}"""


async def set_hours(api: Api, **input: Any) -> dict[str, Any]:
    payload: dict[str, Any] = data(await api.gql(SET_HOURS, {"input": {"enabled": True} | input}))[
        "setBusinessHours"
    ]
    return payload


# --- targets and states ------------------------------------------------------------------------


async def test_default_targets_per_priority(admin: Api, customer: str) -> None:
    expected = {
        "URGENT": (30, 4 * 60),
        "HIGH": (120, 24 * 60),
        "MEDIUM": (120, 72 * 60),
        "LOW": (120, 120 * 60),
    }
    assert expected == DEFAULT_SLA
    for priority, (first, resolution) in expected.items():
        ticket = await open_ticket(admin, customer, priority=priority)
        assert await dues(admin, ticket) == (
            MONDAY + dt.timedelta(minutes=first),
            MONDAY + dt.timedelta(minutes=resolution),
        ), priority
        assert ticket["sla"]["state"] == "ON_TRACK"


@pytest.mark.parametrize(("priority", "minutes"), [("URGENT", 30), ("MEDIUM", 120)])
async def test_first_response_at_risk_then_breached_to_the_second(
    admin: Api, customer: str, clock: FakeClock, priority: str, minutes: int
) -> None:
    ticket = await open_ticket(admin, customer, priority=priority)
    due = MONDAY + dt.timedelta(minutes=minutes)
    at_risk_from = due - dt.timedelta(minutes=minutes) * 0.2  # a fifth of the target left

    assert await states_at(
        admin,
        clock,
        ticket,
        [at_risk_from - SECOND, at_risk_from, at_risk_from + SECOND, due - SECOND, due],
    ) == ["ON_TRACK", "ON_TRACK", "AT_RISK", "AT_RISK", "AT_RISK"]
    assert await states_at(admin, clock, ticket, [due + SECOND, due + dt.timedelta(days=9)]) == [
        "BREACHED",
        "BREACHED",
    ]
    # An answer after the due time does not undo the breach.
    ticket = await step(admin, "acknowledgeTicket", ticket)
    assert ticket["sla"]["state"] == "BREACHED"
    assert when(ticket["sla"]["firstRespondedAt"]) == due + dt.timedelta(days=9)


async def test_resolution_at_risk_then_breached_to_the_second(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    ticket = await open_ticket(admin, customer, priority="URGENT")
    clock.advance(minutes=10)
    ticket = await move_to(admin, ticket, "IN_PROGRESS")
    assert ticket["sla"]["state"] == "ON_TRACK"  # the first response was met
    due = MONDAY + dt.timedelta(hours=4)
    at_risk_from = due - dt.timedelta(minutes=48)

    assert await states_at(
        admin,
        clock,
        ticket,
        [at_risk_from, at_risk_from + SECOND, due - SECOND, due, due + SECOND],
    ) == ["ON_TRACK", "AT_RISK", "AT_RISK", "AT_RISK", "BREACHED"]

    ticket = await step(admin, "resolveTicket", ticket)
    assert ticket["sla"]["state"] == "BREACHED"
    ticket = await step(admin, "closeTicket", ticket)
    assert ticket["sla"]["state"] == "BREACHED"


async def test_met_when_answered_and_resolved_in_time(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    just_in_time = await open_ticket(admin, customer, "On the second", priority="URGENT")
    late = await open_ticket(admin, customer, "A second late", priority="URGENT")
    clock.set(MONDAY + dt.timedelta(minutes=30))  # exactly the first-response due time
    just_in_time = await move_to(admin, just_in_time, "IN_PROGRESS")
    late = await move_to(admin, late, "IN_PROGRESS")
    assert just_in_time["sla"]["state"] == "ON_TRACK"

    clock.set(MONDAY + dt.timedelta(hours=4))
    just_in_time = await step(admin, "resolveTicket", just_in_time)
    clock.advance(seconds=1)
    late = await step(admin, "resolveTicket", late)

    assert just_in_time["sla"]["state"] == "MET"
    assert late["sla"]["state"] == "BREACHED"
    clock.advance(days=30)
    assert await state(admin, just_in_time) == "MET"
    assert await state(admin, late) == "BREACHED"


async def test_a_customer_visible_note_is_a_first_response(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    ticket = await open_ticket(admin, customer, priority="URGENT")
    clock.advance(minutes=5)
    await ok(admin, "addTicketNote", {"id": ticket["id"], "note": "internal musing"})
    assert (await sla(admin, ticket))["firstRespondedAt"] is None
    clock.advance(minutes=5)
    await ok(
        admin, "addTicketNote", {"id": ticket["id"], "note": "We are on it", "internal": False}
    )
    clock.advance(minutes=5)
    await ok(
        admin, "addTicketNote", {"id": ticket["id"], "note": "Second reply", "internal": False}
    )

    found = await sla(admin, ticket)
    assert when(found["firstRespondedAt"]) == MONDAY + dt.timedelta(minutes=10)
    clock.set(MONDAY + dt.timedelta(hours=1))  # past the 30 minutes: no longer matters
    assert await state(admin, ticket) == "ON_TRACK"


async def test_sla_policy_changes_targets_and_needs_tickets_manage(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    medium = await open_ticket(admin, customer, priority="MEDIUM")
    low = await open_ticket(admin, customer, priority="LOW")

    payload = data(
        await admin.gql(
            SET_POLICY,
            {"input": {"priority": "MEDIUM", "firstResponseMinutes": 10, "resolutionMinutes": 60}},
        )
    )["setSlaPolicy"]

    assert payload == {
        "policy": {"priority": "MEDIUM", "firstResponseMinutes": 10, "resolutionMinutes": 60},
        "errors": [],
    }
    # Due times are computed, so open tickets follow the new policy at once.
    assert await dues(admin, medium) == (
        MONDAY + dt.timedelta(minutes=10),
        MONDAY + dt.timedelta(minutes=60),
    )
    assert await dues(admin, low) == (
        MONDAY + dt.timedelta(hours=2),
        MONDAY + dt.timedelta(hours=120),
    )
    clock.advance(minutes=9)
    assert await state(admin, medium) == "AT_RISK"
    clock.advance(minutes=1, seconds=1)
    assert await state(admin, medium) == "BREACHED"
    later = await open_ticket(admin, customer, priority="MEDIUM")
    assert await dues(admin, later) == (
        clock.current + dt.timedelta(minutes=10),
        clock.current + dt.timedelta(minutes=60),
    )

    # Setting it again replaces it.
    again = data(
        await admin.gql(
            SET_POLICY,
            {"input": {"priority": "MEDIUM", "firstResponseMinutes": 20, "resolutionMinutes": 90}},
        )
    )["setSlaPolicy"]
    assert again["errors"] == []
    assert await dues(admin, medium) == (
        MONDAY + dt.timedelta(minutes=20),
        MONDAY + dt.timedelta(minutes=90),
    )

    for input, expected in [
        (
            {"firstResponseMinutes": 0, "resolutionMinutes": 60},
            [("firstResponseMinutes", "OUT_OF_RANGE")],
        ),
        (
            {"firstResponseMinutes": 60, "resolutionMinutes": 60 * 24 * 365 + 1},
            [("resolutionMinutes", "OUT_OF_RANGE")],
        ),
        (
            {"firstResponseMinutes": 61, "resolutionMinutes": 60},
            [("firstResponseMinutes", "INVALID")],
        ),
    ]:
        payload = data(await admin.gql(SET_POLICY, {"input": {"priority": "MEDIUM"} | input}))[
            "setSlaPolicy"
        ]
        assert payload["policy"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, input

    manage = {"input": {"priority": "LOW", "firstResponseMinutes": 5, "resolutionMinutes": 50}}
    for role in (SUPPORT_REPRESENTATIVE, SALES_REPRESENTATIVE):
        caller = await admin.user(f"{role.lower()}@example.com", [role], lasting=True)
        assert error_code(await caller.gql(SET_POLICY, manage)) == "FORBIDDEN"
    assert await dues(admin, low) == (
        MONDAY + dt.timedelta(hours=2),
        MONDAY + dt.timedelta(hours=120),
    )
    sysadmin = await admin.user("sys@example.com", [SYSTEM_ADMINISTRATOR], lasting=True)
    assert data(await sysadmin.gql(SET_POLICY, manage))["setSlaPolicy"]["errors"] == []
    assert await dues(admin, low) == (
        MONDAY + dt.timedelta(minutes=5),
        MONDAY + dt.timedelta(minutes=50),
    )


# --- business hours ------------------------------------------------------------------------------


async def test_business_hours_push_due_times_over_the_weekend(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    payload = await set_hours(admin, timeZone="Europe/Berlin", weekdays=[5, 1, 2, 3, 4, 4])
    assert payload == {
        "businessHours": {
            "timeZone": "Europe/Berlin",
            "weekdays": [1, 2, 3, 4, 5],
            "start": "09:00",
            "end": "17:00",
            "holidays": [],
        },
        "errors": [],
    }
    friday = berlin(2026, 11, 27, 16, 30)
    clock.set(friday.astimezone(dt.UTC))
    ticket = await open_ticket(admin, customer, priority="HIGH")  # 2 h to answer, 24 h to solve

    # Half an hour on Friday, then Monday from 9:00; 24 h = 3 working days of 8 h.
    assert await dues(admin, ticket) == (
        berlin(2026, 11, 30, 10, 30),
        berlin(2026, 12, 2, 16, 30),
    )
    assert when(ticket["sla"]["firstResponseDueAt"]) == utc(2026, 11, 30, 9, 30)
    # Over the weekend the clock stands still: 90 of 120 minutes are left all along.
    monday_at_risk = berlin(2026, 11, 30, 10, 6)  # 24 minutes (a fifth) left
    assert await states_at(
        admin,
        clock,
        ticket,
        [
            berlin(2026, 11, 28, 12, 0),
            berlin(2026, 11, 30, 8, 59),
            monday_at_risk,
            monday_at_risk + SECOND,
            berlin(2026, 11, 30, 10, 30),
            berlin(2026, 11, 30, 10, 30) + SECOND,
        ],
    ) == ["ON_TRACK", "ON_TRACK", "ON_TRACK", "AT_RISK", "AT_RISK", "BREACHED"]

    # A holiday on Monday moves everything a working day on.
    payload = await set_hours(admin, timeZone="Europe/Berlin", holidays=["2026-11-30"])
    assert payload["businessHours"]["holidays"] == ["2026-11-30"]
    assert await dues(admin, ticket) == (
        berlin(2026, 12, 1, 10, 30),
        berlin(2026, 12, 3, 16, 30),
    )

    # The calendar's time zone decides: 16:30 in New York is 21:30 UTC.
    await set_hours(admin, timeZone="America/New_York")
    clock.set(dt.datetime(2026, 11, 27, 16, 30, tzinfo=NEW_YORK).astimezone(dt.UTC))
    in_new_york = await open_ticket(admin, customer, priority="HIGH")
    assert await dues(admin, in_new_york) == (
        dt.datetime(2026, 11, 30, 10, 30, tzinfo=NEW_YORK),
        dt.datetime(2026, 12, 2, 16, 30, tzinfo=NEW_YORK),
    )
    assert when(in_new_york["createdAt"]) == utc(2026, 11, 27, 21, 30)

    # Without a calendar every hour counts again.
    cleared = data(await admin.gql(SET_HOURS, {"input": {"enabled": False}}))["setBusinessHours"]
    assert cleared == {"businessHours": None, "errors": []}
    assert await dues(admin, ticket) == (
        friday + dt.timedelta(hours=2),
        friday + dt.timedelta(hours=24),
    )


async def test_business_hours_across_the_dst_change(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    await set_hours(admin, timeZone="Europe/Berlin", start="08:00", end="16:00")
    clock.set(berlin(2026, 10, 23, 15, 0))  # Friday, CEST (UTC+2); clocks go back on Sunday
    ticket = await open_ticket(admin, customer, priority="HIGH")

    first, resolution = await dues(admin, ticket)
    assert first == berlin(2026, 10, 26, 9, 0)
    assert first == utc(2026, 10, 26, 8, 0)  # CET (UTC+1) by then
    assert resolution == berlin(2026, 10, 28, 15, 0)


async def test_business_hours_take_the_deployment_zone_and_any_case(admin: Api) -> None:
    # The deployment of these tests keeps the default zone, UTC.
    for given in (None, " "):
        payload = await set_hours(admin, timeZone=given)
        assert payload["errors"] == []
        assert payload["businessHours"]["timeZone"] == "UTC"
    payload = await set_hours(admin, timeZone="asia/shanghai")
    assert payload["businessHours"]["timeZone"] == "Asia/Shanghai"


async def test_business_hours_without_working_time_are_refused(admin: Api) -> None:
    # Mondays only, and every Monday from 2020 to 2045 a holiday: no SLA could end.
    first = dt.date(2020, 1, 6)  # a Monday
    mondays = [(first + dt.timedelta(weeks=n)).isoformat() for n in range(52 * 26)]
    payload = await set_hours(admin, timeZone="UTC", weekdays=[1], holidays=mondays)
    assert payload["businessHours"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("holidays", "INVALID")]


async def test_business_hours_refusals(admin: Api) -> None:
    cases: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
        ({"timeZone": "Mars/Olympus"}, [("timeZone", "INVALID")]),
        ({"timeZone": "Europe"}, [("timeZone", "INVALID")]),  # a folder of the zone database
        ({"timeZone": "UTC", "weekdays": [0, 8]}, [("weekdays", "INVALID")]),
        ({"timeZone": "UTC", "weekdays": []}, [("weekdays", "INVALID")]),
        ({"timeZone": "UTC", "start": "25:00"}, [("start", "INVALID")]),
        ({"timeZone": "UTC", "start": "18:00", "end": "09:00"}, [("end", "INVALID")]),
        ({"timeZone": "UTC", "start": "09:00", "end": "09:00"}, [("end", "INVALID")]),
        (
            {"timeZone": "Nowhere", "weekdays": [9], "end": "soon"},
            [("timeZone", "INVALID"), ("weekdays", "INVALID"), ("end", "INVALID")],
        ),
    ]
    for input, expected in cases:
        payload = await set_hours(admin, **input)
        assert payload["businessHours"] is None
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected, input
    support = await admin.user("support@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    body = await support.gql(SET_HOURS, {"input": {"enabled": True, "timeZone": "UTC"}})
    assert error_code(body) == "FORBIDDEN"


# --- WAITING pauses the clock ------------------------------------------------------------------


async def test_waiting_pauses_the_clock(admin: Api, customer: str, clock: FakeClock) -> None:
    ticket = await open_ticket(admin, customer, priority="MEDIUM")
    clock.advance(minutes=10)
    ticket = await move_to(admin, ticket, "IN_PROGRESS")
    clock.set(MONDAY + dt.timedelta(hours=1))
    ticket = await step(admin, "waitOnCustomer", ticket)

    # Still waiting: the due times move with every second spent waiting.
    clock.set(MONDAY + dt.timedelta(hours=5))
    assert await dues(admin, ticket) == (
        MONDAY + dt.timedelta(hours=2 + 4),
        MONDAY + dt.timedelta(hours=72 + 4),
    )
    clock.set(MONDAY + dt.timedelta(hours=6))
    assert (await dues(admin, ticket))[1] == MONDAY + dt.timedelta(hours=72 + 5)
    ticket = await step(admin, "startTicketWork", ticket)

    # Back at work: the pause is banked (5 h) and the due times stand still.
    clock.set(MONDAY + dt.timedelta(hours=8))
    assert (await dues(admin, ticket))[1] == MONDAY + dt.timedelta(hours=77)
    ticket = await step(admin, "waitOnCustomer", ticket)
    clock.set(MONDAY + dt.timedelta(hours=9, minutes=30))
    ticket = await step(admin, "resolveTicket", ticket)  # WAITING -> RESOLVED ends the pause
    clock.set(MONDAY + dt.timedelta(hours=20))
    assert (await dues(admin, ticket))[1] == MONDAY + dt.timedelta(hours=78, minutes=30)
    assert await state(admin, ticket) == "MET"


async def test_a_waiting_ticket_does_not_breach(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    ticket = await open_ticket(admin, customer, priority="URGENT")
    clock.advance(minutes=5)
    ticket = await move_to(admin, ticket, "IN_PROGRESS")
    clock.set(MONDAY + dt.timedelta(hours=1))
    ticket = await step(admin, "waitOnCustomer", ticket)

    clock.set(MONDAY + dt.timedelta(hours=10))  # 6 h past the unpaused 4 h target
    assert await state(admin, ticket) == "ON_TRACK"  # 3 of 4 hours left
    assert (await dues(admin, ticket))[1] == MONDAY + dt.timedelta(hours=13)
    ticket = await step(admin, "startTicketWork", ticket)
    clock.set(MONDAY + dt.timedelta(hours=12, minutes=12))
    assert await state(admin, ticket) == "ON_TRACK"
    clock.advance(seconds=1)
    assert await state(admin, ticket) == "AT_RISK"
    clock.set(MONDAY + dt.timedelta(hours=13) + SECOND)
    assert await state(admin, ticket) == "BREACHED"


async def test_waiting_counts_only_business_time(
    admin: Api, customer: str, clock: FakeClock
) -> None:
    await set_hours(admin, timeZone="Europe/Berlin")
    clock.set(berlin(2026, 11, 26, 9, 0))  # Thursday
    ticket = await open_ticket(admin, customer, priority="HIGH")
    ticket = await move_to(admin, ticket, "IN_PROGRESS")
    assert (await dues(admin, ticket))[1] == berlin(2026, 11, 30, 17, 0)  # Thu, Fri, Mon

    clock.set(berlin(2026, 11, 27, 16, 0))  # Friday: waits from one hour before closing
    ticket = await step(admin, "waitOnCustomer", ticket)
    clock.set(berlin(2026, 11, 28, 12, 0))  # Saturday: one business hour paused so far
    assert (await dues(admin, ticket))[1] == berlin(2026, 12, 1, 10, 0)
    clock.set(berlin(2026, 11, 30, 10, 0))  # Monday: one more hour
    ticket = await step(admin, "startTicketWork", ticket)
    assert (await dues(admin, ticket))[1] == berlin(2026, 12, 1, 11, 0)
    clock.set(berlin(2026, 12, 1, 10, 0))
    assert (await dues(admin, ticket))[1] == berlin(2026, 12, 1, 11, 0)


# --- the calendar on its own ---------------------------------------------------------------------


OFFICE = BusinessCalendar(time_zone="Europe/Berlin")


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (berlin(2026, 11, 30, 10, 0), 2, berlin(2026, 11, 30, 12, 0)),  # within a day
        (berlin(2026, 11, 30, 9, 0), 8, berlin(2026, 11, 30, 17, 0)),  # a whole day
        (berlin(2026, 11, 30, 7, 0), 1, berlin(2026, 11, 30, 10, 0)),  # before opening
        (berlin(2026, 11, 30, 18, 0), 1, berlin(2026, 12, 1, 10, 0)),  # after closing
        (berlin(2026, 11, 27, 16, 0), 2, berlin(2026, 11, 30, 10, 0)),  # over the weekend
        (berlin(2026, 11, 28, 12, 0), 1, berlin(2026, 11, 30, 10, 0)),  # from a Saturday
        (berlin(2026, 11, 30, 9, 0), 40, berlin(2026, 12, 4, 17, 0)),  # a working week
        (berlin(2026, 11, 30, 9, 0), 41, berlin(2026, 12, 7, 10, 0)),  # and into the next
        (berlin(2026, 11, 28, 12, 0), 0, berlin(2026, 11, 30, 9, 0)),  # nothing: next opening
    ],
)
def test_calendar_add(start: dt.datetime, hours: float, expected: dt.datetime) -> None:
    result = OFFICE.add(start, hours * 3600)

    assert result == expected
    assert result.tzinfo is dt.UTC
    local = OFFICE.add(start.astimezone(BERLIN), hours * 3600)  # any time zone in, UTC out
    assert (local, local.tzinfo) == (expected, dt.UTC)
    assert OFFICE.between(start, result) == hours * 3600


def test_calendar_between() -> None:
    friday, monday = berlin(2026, 11, 27, 16, 0), berlin(2026, 11, 30, 10, 0)

    assert OFFICE.between(friday, monday) == 2 * 3600
    assert OFFICE.between(monday, friday) == 0
    assert OFFICE.between(friday, friday) == 0
    assert OFFICE.between(berlin(2026, 11, 28, 8, 0), berlin(2026, 11, 29, 20, 0)) == 0
    assert OFFICE.between(berlin(2026, 11, 30, 6, 0), berlin(2026, 11, 30, 20, 0)) == 8 * 3600
    assert OFFICE.between(berlin(2026, 11, 30, 12, 0), berlin(2026, 12, 7, 12, 0)) == 40 * 3600


def test_calendar_skips_holidays() -> None:
    holidays = BusinessCalendar(
        time_zone="Europe/Berlin",
        holidays=frozenset({dt.date(2026, 11, 30), dt.date(2026, 11, 28)}),  # Monday, Saturday
    )
    friday = berlin(2026, 11, 27, 16, 0)

    assert holidays.add(friday, 2 * 3600) == berlin(2026, 12, 1, 10, 0)
    assert holidays.between(friday, berlin(2026, 12, 1, 10, 0)) == 2 * 3600
    assert holidays.between(berlin(2026, 11, 30, 9, 0), berlin(2026, 11, 30, 17, 0)) == 0


def test_calendar_time_zone_and_custom_week() -> None:
    new_york = BusinessCalendar(time_zone="America/New_York")
    friday_evening = utc(2026, 11, 27, 21, 30)  # 16:30 in New York

    assert new_york.add(friday_evening, 2 * 3600) == utc(2026, 11, 30, 15, 30)
    # Late Friday in New York is already Saturday in UTC; the local day counts.
    assert new_york.between(utc(2026, 11, 28, 2, 0), utc(2026, 11, 30, 15, 0)) == 3600

    weekend_shop = BusinessCalendar(
        time_zone="UTC", weekdays=frozenset({5, 6}), spans=((dt.time(10), dt.time(14)),)
    )
    assert weekend_shop.add(utc(2026, 11, 27, 9, 0), 5 * 3600) == utc(2026, 11, 29, 11, 0)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Autumn: Sunday 25 October 2026, CEST (UTC+2) -> CET (UTC+1).
        (utc(2026, 10, 23, 14, 0), utc(2026, 10, 26, 9, 0)),
        # Spring: Sunday 29 March 2026, CET (UTC+1) -> CEST (UTC+2).
        (utc(2026, 3, 27, 15, 0), utc(2026, 3, 30, 8, 0)),
    ],
)
def test_calendar_across_dst(start: dt.datetime, expected: dt.datetime) -> None:
    # Friday 16:00 local plus two hours is Monday 10:00 local, whatever the offset.
    assert OFFICE.add(start, 2 * 3600) == expected
    assert expected.astimezone(BERLIN).time() == dt.time(10)
    assert OFFICE.between(start, expected) == 2 * 3600


def test_calendar_on_the_night_of_the_dst_change() -> None:
    nights = BusinessCalendar(
        time_zone="Europe/Berlin",
        weekdays=frozenset(range(7)),
        spans=((dt.time(1), dt.time(4)),),
    )
    # 01:00 to 04:00 local lasts two hours in spring (02:00-03:00 does not exist)...
    assert nights.between(utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0)) == 2 * 3600
    assert nights.add(utc(2026, 3, 29, 0, 0), 2.5 * 3600) == utc(2026, 3, 29, 23, 30)
    # ...and four in autumn (02:00-03:00 happens twice).
    assert nights.between(utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0)) == 4 * 3600
    assert nights.add(utc(2026, 10, 24, 23, 0), 4 * 3600) == utc(2026, 10, 25, 3, 0)


def test_calendar_add_and_between_agree_everywhere() -> None:
    """``between(start, add(start, s)) == s`` for starts all over a week with a DST change."""
    calendars = [
        OFFICE,
        BusinessCalendar(time_zone="America/New_York", holidays=frozenset({dt.date(2026, 10, 26)})),
    ]
    start = utc(2026, 10, 22, 0, 0)
    for calendar in calendars:
        for step_number in range(0, 7 * 24 * 60, 47):
            moment = start + dt.timedelta(minutes=step_number)
            for seconds in (1, 1800, 7200, 8 * 3600, 30 * 3600):
                due = calendar.add(moment, seconds)
                assert due >= moment
                assert calendar.between(moment, due) == seconds, (calendar, moment, seconds)


def test_calendar_without_working_time_refuses() -> None:
    never = BusinessCalendar(weekdays=frozenset())

    with pytest.raises(ValueError, match="no working time"):
        never.add(utc(2026, 11, 30, 9, 0), 60)
    assert never.between(utc(2026, 11, 30, 9, 0), utc(2026, 12, 30, 9, 0)) == 0


def test_always_open() -> None:
    always = AlwaysOpen()
    saturday = utc(2026, 11, 28, 23, 0)

    assert always.add(saturday, 7200) == utc(2026, 11, 29, 1, 0)
    assert always.between(saturday, utc(2026, 11, 29, 1, 0)) == 7200
    assert always.between(utc(2026, 11, 29, 1, 0), saturday) == 0
