"""Relationship-survey schedules: writing them, every refused input, and the hourly job that
sends the due ones once (even with two workers at the same moment), moves them on by whole
periods and applies the invitation rules."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.plugin_api import FINANCE, SUPPORT_REPRESENTATIVE, AuditEvent, JobContext
from plugins.surveys import models
from plugins.surveys.service import invitations as invitation_service
from plugins.surveys.service import schedules
from plugins.surveys.test_invitations import (
    create_contact,
    create_customer,
    invitations,
    outbox_mails,
    template_id,
)
from plugins.surveys.testing import MONDAY
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import data, db_id, gid, mutate, mutate_ok, mutate_refused

SCHEDULE = """schedule { id name frequency stages grades kinds active nextRunAt lastRunAt
  version template { key } }"""
LIST = "query { surveySchedules { id name nextRunAt lastRunAt } }"


async def create(admin: Api, **extra: Any) -> dict[str, Any]:
    input = {
        "name": "Gold customers, quarterly",
        "templateId": gid("SurveyTemplate", await template_id(admin, "NPS_RELATIONSHIP")),
        "frequency": "QUARTERLY",
        "stages": ["ACTIVE"],
        "grades": ["gold"],
    } | extra
    payload = await mutate_ok(admin, "createSurveySchedule", input, SCHEDULE)
    found: dict[str, Any] = payload["schedule"]
    return found


def job(api: Api, now: dt.datetime) -> JobContext:
    state = api.app.state.crm
    return JobContext(db=api.db, settings=api.settings, pm=state.pm, now=now, clock=lambda: now)


async def customers(admin: Api) -> dict[str, str]:
    """Customers of every kind the filters tell apart, each with a primary contact."""
    made = {}
    for name, stage, grade, kind in (
        ("gold-active", "ACTIVE", "GOLD", "COMPANY"),
        ("gold-active-person", "ACTIVE", "GOLD", "PERSON"),
        ("silver-active", "ACTIVE", "SILVER", "COMPANY"),
        ("gold-dormant", "DORMANT", "GOLD", "COMPANY"),
    ):
        customer = await create_customer(admin, name, stage=stage, grade=grade, kind=kind)
        await create_contact(admin, customer, name, f"{name}@example.com")
        made[name] = customer
    return made


async def test_create_a_schedule(admin: Api, clock: FakeClock) -> None:
    schedule = await create(admin)
    assert schedule["grades"] == ["GOLD"]
    assert schedule["stages"] == ["ACTIVE"]
    assert schedule["kinds"] == []
    assert schedule["template"]["key"] == "NPS_RELATIONSHIP"
    assert dt.datetime.fromisoformat(schedule["nextRunAt"]) == clock()
    assert schedule["lastRunAt"] is None
    listed = data(await admin.gql(LIST))["surveySchedules"]
    assert [row["id"] for row in listed] == [schedule["id"]]


async def test_create_refuses_bad_input(admin: Api) -> None:
    template = gid("SurveyTemplate", await template_id(admin, "NPS_RELATIONSHIP"))
    base = {"name": "x", "templateId": template, "frequency": "MONTHLY"}
    for change, field, code in (
        ({"name": " "}, "name", "REQUIRED"),
        ({"name": "n" * 201}, "name", "TOO_LONG"),
        ({"stages": ["ACTIVE", "SLEEPING"]}, "stages.1", "INVALID"),
        ({"grades": ["PLATINUM"]}, "grades.0", "INVALID"),
        ({"kinds": ["ROBOT"]}, "kinds.0", "INVALID"),
        ({"templateId": gid("Customer", 1)}, "templateId", "INVALID"),
    ):
        errors = await mutate_refused(admin, "createSurveySchedule", base | change, SCHEDULE)
        assert (errors[0]["field"], errors[0]["code"]) == (field, code)
    async with admin.db.transaction() as session:
        row = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "NPS_RELATIONSHIP")
        )
        assert row is not None
        row.active = False
    errors = await mutate_refused(admin, "createSurveySchedule", base, SCHEDULE)
    assert (errors[0]["field"], errors[0]["code"]) == ("templateId", "BUSINESS_RULE")
    body = await admin.gql(
        "mutation($input: CreateSurveyScheduleInput!) { createSurveySchedule(input: $input) "
        "{ errors { field } } }",
        {"input": base | {"templateId": gid("SurveyTemplate", 999)}},
    )
    assert body["errors"][0]["extensions"]["argument"] == "input.templateId"
    assert data(await admin.gql(LIST))["surveySchedules"] == []


async def test_update_and_delete_a_schedule(admin: Api) -> None:
    schedule = await create(admin)
    later = (MONDAY + dt.timedelta(days=7)).isoformat()
    payload = await mutate_ok(
        admin,
        "updateSurveySchedule",
        {
            "id": schedule["id"],
            "version": schedule["version"],
            "name": "Renamed",
            "frequency": "MONTHLY",
            "grades": [],
            "kinds": ["PERSON"],
            "nextRunAt": later,
            "active": False,
        },
        SCHEDULE,
    )
    updated = payload["schedule"]
    assert (updated["name"], updated["frequency"], updated["active"]) == (
        "Renamed",
        "MONTHLY",
        False,
    )
    assert (updated["grades"], updated["kinds"]) == ([], ["PERSON"])
    assert dt.datetime.fromisoformat(updated["nextRunAt"]) == MONDAY + dt.timedelta(days=7)
    stale = await mutate(
        admin,
        "updateSurveySchedule",
        {"id": schedule["id"], "version": schedule["version"], "name": "Again"},
        SCHEDULE,
    )
    assert [(e["field"], e["code"]) for e in stale["errors"]] == [("version", "CONFLICT")]
    assert stale["schedule"]["name"] == "Renamed"
    refused = await mutate_refused(
        admin,
        "updateSurveySchedule",
        {"id": schedule["id"], "version": updated["version"], "stages": ["NOPE"]},
        SCHEDULE,
    )
    assert refused[0]["field"] == "stages.0"
    deleted = await mutate_ok(
        admin,
        "deleteSurveySchedule",
        {"id": schedule["id"], "version": updated["version"]},
        "deletedId",
    )
    assert deleted["deletedId"] == schedule["id"]
    assert data(await admin.gql(LIST))["surveySchedules"] == []


async def test_schedules_need_surveys_manage_to_change_and_a_survey_grant_to_read(
    admin: Api,
) -> None:
    await create(admin)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    body = await support.gql(
        "mutation($input: DeleteSurveyScheduleInput!) { deleteSurveySchedule(input: $input) "
        "{ errors { field } } }",
        {"input": {"id": gid("SurveySchedule", 1), "version": 1}},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(data(await support.gql(LIST))["surveySchedules"]) == 1
    finance = await admin.as_role(FINANCE)
    assert (await finance.gql(LIST))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_job_invites_the_matching_customers_primary_contacts(
    admin: Api, clock: FakeClock
) -> None:
    made = await customers(admin)
    no_contact = await create_customer(admin, "gold-no-contact", stage="ACTIVE", grade="GOLD")
    schedule = await create(admin, firstRunAt=(MONDAY + dt.timedelta(hours=1)).isoformat())
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 0,
        "survey invitations skipped": 0,
    }
    clock.advance(hours=1)
    counts = await admin.run_due_jobs()
    assert counts["surveys.schedules"] == {
        "survey invitations sent": 2,
        "survey invitations skipped": 1,
    }
    found = await invitations(admin)
    assert {row["customer"]["id"] for row in found} == {
        made["gold-active"],
        made["gold-active-person"],
        no_contact,
    }
    assert {row["subject"]["kind"] for row in found} == {"SCHEDULE"}
    assert {row["template"]["key"] for row in found} == {"NPS_RELATIONSHIP"}
    assert len(await outbox_mails(admin)) == 2
    (listed,) = data(await admin.gql(LIST))["surveySchedules"]
    assert listed["id"] == schedule["id"]
    assert dt.datetime.fromisoformat(listed["lastRunAt"]) == clock()
    assert dt.datetime.fromisoformat(listed["nextRunAt"]) == MONDAY + dt.timedelta(hours=1) + (
        dt.datetime(2027, 2, 23, tzinfo=dt.UTC) - dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    )


async def test_the_job_sends_once_with_two_workers_at_the_same_moment(
    admin: Api, clock: FakeClock
) -> None:
    await customers(admin)
    await create(admin, stages=[], grades=[], kinds=[])
    first, second = await asyncio.gather(
        schedules.run_due(job(admin, clock())), schedules.run_due(job(admin, clock()))
    )
    assert first["survey invitations sent"] + second["survey invitations sent"] == 4
    assert {first["survey invitations sent"], second["survey invitations sent"]} == {0, 4}
    again = await schedules.run_due(job(admin, clock()))
    assert again == {"survey invitations sent": 0, "survey invitations skipped": 0}
    assert len(await invitations(admin)) == 4
    assert len(await outbox_mails(admin)) == 4


async def test_a_late_run_moves_on_by_whole_periods_and_fatigue_applies(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SURVEYS_FATIGUE_DAYS", "10")
    made = await customers(admin)
    await create(admin, frequency="MONTHLY", grades=[], stages=["ACTIVE"], kinds=["COMPANY"])
    clock.advance(days=75)  # two and a half periods late (6 February): sends once
    counts = await schedules.run_due(job(admin, clock()))
    assert counts == {"survey invitations sent": 2, "survey invitations skipped": 0}
    (listed,) = data(await admin.gql(LIST))["surveySchedules"]
    assert dt.datetime.fromisoformat(listed["nextRunAt"]) == dt.datetime(
        2027, 2, 23, 9, tzinfo=dt.UTC
    )
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 0,
        "survey invitations skipped": 0,
    }
    # On 23 February the next round is due; a survey sent by hand three days before holds
    # back that customer (fatigue: 10 days), the other one is asked again.
    clock.set(dt.datetime(2027, 2, 20, 9, tzinfo=dt.UTC))
    await mutate_ok(
        admin,
        "sendSurvey",
        {
            "templateId": gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE")),
            "customerIds": [made["silver-active"]],
        },
        "invitations { id }",
    )
    clock.set(dt.datetime(2027, 2, 23, 9, tzinfo=dt.UTC))
    counts = await schedules.run_due(job(admin, clock()))
    assert counts == {"survey invitations sent": 1, "survey invitations skipped": 1}


async def test_an_inactive_schedule_or_template_sends_nothing(admin: Api, clock: FakeClock) -> None:
    await customers(admin)
    await create(admin, active=False)
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 0,
        "survey invitations skipped": 0,
    }
    await create(admin, name="Second")
    async with admin.db.transaction() as session:
        row = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "NPS_RELATIONSHIP")
        )
        assert row is not None
        row.active = False
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 0,
        "survey invitations skipped": 0,
    }
    assert await invitations(admin) == []


def test_following_run_keeps_the_day_or_the_months_last() -> None:
    start = dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)
    assert schedules.following_run(start, "MONTHLY", start) == dt.datetime(
        2027, 2, 28, 9, tzinfo=dt.UTC
    )
    assert schedules.following_run(start, "QUARTERLY", start) == dt.datetime(
        2027, 4, 30, 9, tzinfo=dt.UTC
    )
    assert schedules.following_run(start, "QUARTERLY", dt.datetime(2028, 1, 1, tzinfo=dt.UTC)) == (
        dt.datetime(2028, 1, 31, 9, tzinfo=dt.UTC)
    )


def test_a_run_on_a_months_last_day_stays_on_the_last_day() -> None:
    end_of_february = dt.datetime(2027, 2, 28, 9, tzinfo=dt.UTC)
    assert schedules.following_run(end_of_february, "MONTHLY", end_of_february) == dt.datetime(
        2027, 3, 31, 9, tzinfo=dt.UTC
    )
    assert schedules.following_run(end_of_february, "QUARTERLY", end_of_february) == dt.datetime(
        2027, 5, 31, 9, tzinfo=dt.UTC
    )
    mid_month = dt.datetime(2027, 2, 15, 9, tzinfo=dt.UTC)
    assert schedules.following_run(mid_month, "MONTHLY", mid_month) == dt.datetime(
        2027, 3, 15, 9, tzinfo=dt.UTC
    )
    # Far behind: whole periods are computed, and the first one after now is chosen.
    long_ago = dt.datetime(2001, 5, 10, 9, tzinfo=dt.UTC)
    now = dt.datetime(2027, 5, 10, 9, tzinfo=dt.UTC)
    assert schedules.following_run(long_ago, "QUARTERLY", now) == dt.datetime(
        2027, 8, 10, 9, tzinfo=dt.UTC
    )
    assert schedules.following_run(long_ago, "MONTHLY", now - dt.timedelta(seconds=1)) == now


def test_months_are_counted_on_the_deployments_calendar() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 09:00 in Berlin on 1 March (winter time, 08:00 UTC) stays 09:00 on 1 April (summer time).
    first = dt.datetime(2027, 3, 1, 8, tzinfo=dt.UTC)
    assert schedules.following_run(first, "MONTHLY", first, berlin) == dt.datetime(
        2027, 4, 1, 7, tzinfo=dt.UTC
    )
    # 02:00 on 31 January in Shanghai is 18:00 UTC on 30 January: a month later is 02:00 on
    # 28 February there (February's last day), not 28 February in UTC (1 March there).
    shanghai = ZoneInfo("Asia/Shanghai")
    january = dt.datetime(2027, 1, 30, 18, tzinfo=dt.UTC)
    assert schedules.following_run(january, "MONTHLY", january, shanghai) == dt.datetime(
        2027, 2, 27, 18, tzinfo=dt.UTC
    )


async def test_a_run_reads_customers_in_batches_and_is_audited(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules, "BATCH", 2)
    for n in range(5):
        customer = await create_customer(admin, f"Customer {n}")
        if n != 3:
            await create_contact(admin, customer, f"C{n}", f"c{n}@example.com")
    schedule = await create(admin, stages=[], grades=[], kinds=[])
    counts = await schedules.run_due(job(admin, clock()))
    assert counts == {"survey invitations sent": 4, "survey invitations skipped": 1}
    assert len({row["customer"]["id"] for row in await invitations(admin)}) == 5
    assert len(await outbox_mails(admin)) == 4
    async with admin.db.read() as session:
        (event,) = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "surveys.schedule.ran")
            )
        ).all()
    assert event.entity_id == str(db_id(schedule["id"]))
    assert (event.changes["sent"], event.changes["skipped"]) == (4, 1)
    assert event.occurred_at == clock()


async def test_a_failing_run_sends_nothing_and_is_retried_whole(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedules, "BATCH", 1)
    for n in range(3):
        customer = await create_customer(admin, f"Customer {n}")
        await create_contact(admin, customer, f"C{n}", f"c{n}@example.com")
    await create(admin, stages=[], grades=[], kinds=[])
    real = invitation_service.invite
    calls = 0

    async def failing(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the mail layer is down")
        return await real(*args, **kwargs)

    monkeypatch.setattr(invitation_service, "invite", failing)
    with pytest.raises(RuntimeError):
        await schedules.run_due(job(admin, clock()))
    assert await invitations(admin) == []
    assert await outbox_mails(admin) == []
    monkeypatch.setattr(invitation_service, "invite", real)
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 3,
        "survey invitations skipped": 0,
    }


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
async def test_a_run_outside_the_calendar_the_job_counts_on_is_refused(
    admin: Api, clock: FakeClock, moment: str
) -> None:
    base = {
        "name": "Odd",
        "templateId": gid("SurveyTemplate", await template_id(admin, "NPS_RELATIONSHIP")),
        "frequency": "MONTHLY",
        "firstRunAt": moment,
    }
    errors = await mutate_refused(admin, "createSurveySchedule", base, SCHEDULE)
    assert [(e["field"], e["code"]) for e in errors] == [("firstRunAt", "OUT_OF_RANGE")]
    schedule = await create(admin)
    change = {"id": schedule["id"], "version": schedule["version"], "nextRunAt": moment}
    errors = await mutate_refused(admin, "updateSurveySchedule", change, SCHEDULE)
    assert [(e["field"], e["code"]) for e in errors] == [("nextRunAt", "OUT_OF_RANGE")]
    assert await schedules.run_due(job(admin, clock())) == {
        "survey invitations sent": 0,
        "survey invitations skipped": 0,
    }
