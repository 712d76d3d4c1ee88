"""Relationship-survey schedules: writing them, every refused input, and the hourly job that
sends the due ones once (even with two workers at the same moment), moves them on by whole
periods and applies the invitation rules."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import FINANCE, SUPPORT_REPRESENTATIVE, JobContext
from plugins.surveys import models
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
from schema.testkit_graphql import data, gid, mutate, mutate_ok, mutate_refused

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
        "invitations sent": 0,
        "invitations skipped": 0,
    }
    clock.advance(hours=1)
    counts = await admin.run_due_jobs()
    assert counts["surveys.schedules"] == {"invitations sent": 2, "invitations skipped": 1}
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
    assert first["invitations sent"] + second["invitations sent"] == 4
    assert {first["invitations sent"], second["invitations sent"]} == {0, 4}
    again = await schedules.run_due(job(admin, clock()))
    assert again == {"invitations sent": 0, "invitations skipped": 0}
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
    assert counts == {"invitations sent": 2, "invitations skipped": 0}
    (listed,) = data(await admin.gql(LIST))["surveySchedules"]
    assert dt.datetime.fromisoformat(listed["nextRunAt"]) == dt.datetime(
        2027, 2, 23, 9, tzinfo=dt.UTC
    )
    assert await schedules.run_due(job(admin, clock())) == {
        "invitations sent": 0,
        "invitations skipped": 0,
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
    assert counts == {"invitations sent": 1, "invitations skipped": 1}


async def test_an_inactive_schedule_or_template_sends_nothing(admin: Api, clock: FakeClock) -> None:
    await customers(admin)
    await create(admin, active=False)
    assert await schedules.run_due(job(admin, clock())) == {
        "invitations sent": 0,
        "invitations skipped": 0,
    }
    await create(admin, name="Second")
    async with admin.db.transaction() as session:
        row = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "NPS_RELATIONSHIP")
        )
        assert row is not None
        row.active = False
    assert await schedules.run_due(job(admin, clock())) == {
        "invitations sent": 0,
        "invitations skipped": 0,
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
