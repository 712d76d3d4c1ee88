"""Improvement actions: creating, changing, moving on and deleting them, every refusal, the
lists, and the trend of the dimension an action targets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import AuditEvent
from plugins.surveys.service import actions
from plugins.surveys.testing import Seed, customer
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import (
    data,
    error_code,
    gid,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)
from schema.testkit_tools import make_user

ACTION = """improvementAction { id title description status dueOn dimension terms version
  completedAt overdue owner { id name } responses { id } }"""


@pytest.fixture
async def manager(admin: Api) -> Api:
    return await admin.user("mia.manager@example.com", ["CUSTOMER_MANAGER"], lasting=True)


@pytest.fixture
async def owner(admin: Api) -> Api:
    return await admin.user("otto.owner@example.com", ["SUPPORT_REPRESENTATIVE"], lasting=True)


async def create(api: Api, **input: Any) -> dict[str, Any]:
    payload = await mutate_ok(api, "createImprovementAction", input, ACTION)
    action: dict[str, Any] = payload["improvementAction"]
    return action


async def test_create_change_and_finish(manager: Api, owner: Api, clock: FakeClock) -> None:
    seed = await Seed.of(manager)
    someone = await customer(manager, "Someone")
    response = await seed.add(
        someone,
        sent="2026-11-02T08:00",
        submitted="2026-11-02T09:00",
        ratings=(1, 1, 1, 1),
        comment="slow",
        low=True,
    )
    action = await create(
        manager,
        title="  Answer within an hour  ",
        description="Staff the morning shift.",
        ownerId=gid("User", owner.user_id),
        dueOn="2026-12-15",
        dimension="response_speed",
        terms=["slow", "太慢", "slow"],
        responseIds=[gid("SurveyResponse", response)],
    )
    assert action["title"] == "Answer within an hour"
    assert action["status"] == "OPEN"
    assert action["dimension"] == "RESPONSE_SPEED"
    assert action["terms"] == ["slow", "太慢"]
    assert action["version"] == 1
    assert action["owner"]["name"] == "Otto Owner"
    assert action["responses"] == [{"id": gid("SurveyResponse", response)}]
    assert action["overdue"] is False
    # The owner is told.
    inbox = data(await owner.gql("{ notifications { edges { node { kind title } } } }"))
    (notice,) = [e["node"] for e in inbox["notifications"]["edges"]]
    assert notice["kind"] == actions.ASSIGNED
    assert "Answer within an hour" in notice["title"]

    action_id = action["id"]
    changed = await mutate_ok(
        manager,
        "updateImprovementAction",
        {"id": action_id, "version": 1, "title": "Answer within 30 minutes", "responseIds": []},
        ACTION,
    )
    assert changed["improvementAction"]["title"] == "Answer within 30 minutes"
    assert changed["improvementAction"]["responses"] == []
    assert changed["improvementAction"]["version"] == 2

    step = "setImprovementActionStatus"
    moved = await mutate_ok(
        manager, step, {"id": action_id, "version": 2, "status": "IN_PROGRESS"}, ACTION
    )
    assert moved["improvementAction"]["status"] == "IN_PROGRESS"
    # Overdue once its due day has passed while it is not done.
    clock.set(dt.datetime(2026, 12, 16, 9, tzinfo=dt.UTC))
    found = data(
        await manager.gql(
            "query($id: ID!) { improvementAction(id: $id) { overdue } }", {"id": action_id}
        )
    )
    assert found["improvementAction"]["overdue"] is True
    done = await mutate_ok(manager, step, {"id": action_id, "version": 3, "status": "DONE"}, ACTION)
    assert done["improvementAction"]["status"] == "DONE"
    assert done["improvementAction"]["completedAt"] == "2026-12-16T09:00:00+00:00"
    assert done["improvementAction"]["overdue"] is False

    async with manager.db.read() as session:
        verbs = (
            await session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity_type == "ImprovementAction")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert verbs == [
        "surveys.action.created",
        "surveys.action.updated",
        "surveys.action.status_changed",
        "surveys.action.status_changed",
    ]

    deleted = await mutate_ok(
        manager, "deleteImprovementAction", {"id": action_id, "version": 4}, "deletedId"
    )
    assert deleted["deletedId"] == action_id
    found = data(
        await manager.gql(
            "query($id: ID!) { improvementAction(id: $id) { id } }", {"id": action_id}
        )
    )
    assert found["improvementAction"] is None


async def test_refusals(admin: Api, manager: Api, owner: Api) -> None:
    owner_id = gid("User", owner.user_id)
    # Without surveys:manage.
    body = await owner.gql(
        "mutation($input: CreateImprovementActionInput!) { createImprovementAction(input: "
        "$input) { errors { field } } }",
        {"input": {"title": "x", "ownerId": owner_id}},
    )
    assert error_code(body) == "FORBIDDEN"
    # Bad fields, all at once.
    inactive = await make_user(manager.db, manager.settings, "gone@example.com", active=False)
    errors = await mutate_refused(
        manager,
        "createImprovementAction",
        {
            "title": " ",
            "ownerId": gid("User", inactive),
            "dimension": "X" * 41,
            "terms": ["t"] * 21,
        },
        ACTION,
    )
    assert {e["field"] for e in errors} == {"title", "ownerId", "dimension", "terms"}
    errors = await mutate_refused(
        manager,
        "createImprovementAction",
        {"title": "x" * 201, "ownerId": gid("Customer", 1), "terms": ["y" * 101]},
        ACTION,
    )
    assert {e["field"] for e in errors} == {"title", "ownerId", "terms.0"}
    # A dimension is a key such as RESPONSE_SPEED (its trend would otherwise never fill).
    errors = await mutate_refused(
        manager,
        "createImprovementAction",
        {"title": "x", "ownerId": owner_id, "dimension": "response speed"},
        ACTION,
    )
    assert [(e["field"], e["code"]) for e in errors] == [("dimension", "INVALID")]
    # A response that does not exist (or that the caller may not see).
    argument = await not_found_argument(
        manager,
        "createImprovementAction",
        {"title": "x", "ownerId": owner_id, "responseIds": [gid("SurveyResponse", 999)]},
        ACTION,
    )
    assert argument == "input.responseIds.0"

    argument = await not_found_argument(
        manager,
        "createImprovementAction",
        {"title": "x", "ownerId": owner_id, "templateId": gid("SurveyTemplate", 999)},
        ACTION,
    )
    assert argument == "input.templateId"

    action = await create(manager, title="Be kinder", ownerId=owner_id, dimension="ATTITUDE")
    action_id = action["id"]
    # Bad changes, and responses that cannot be seen, are refused as on creation.
    errors = await mutate_refused(
        manager,
        "updateImprovementAction",
        {"id": action_id, "version": 1, "title": "", "description": "d" * 5001, "terms": [""]},
        ACTION,
    )
    assert {e["field"] for e in errors} == {"title", "description", "terms.0"}
    argument = await not_found_argument(
        manager,
        "updateImprovementAction",
        {"id": action_id, "version": 1, "responseIds": [gid("SurveyResponse", 999)]},
        ACTION,
    )
    assert argument == "input.responseIds.0"
    # Stale version: CONFLICT with the action as it is now.
    payload = (
        await admin.gql(
            "mutation($input: UpdateImprovementActionInput!) { updateImprovementAction("
            f"input: $input) {{ {ACTION} errors {{ field code }} }} }}",
            {"input": {"id": action_id, "version": 7, "title": "y"}},
        )
    )["data"]["updateImprovementAction"]
    assert payload["errors"] == [{"field": "version", "code": "CONFLICT"}]
    assert payload["improvementAction"]["title"] == "Be kinder"
    # The owner cannot be removed.
    errors = await mutate_refused(
        manager,
        "updateImprovementAction",
        {"id": action_id, "version": 1, "ownerId": None},
        ACTION,
    )
    assert [(e["field"], e["code"]) for e in errors] == [("ownerId", "REQUIRED")]
    # No such action.
    missing = gid("ImprovementAction", 999)
    for name, input in (
        ("updateImprovementAction", {"id": missing, "version": 1, "title": "z"}),
        ("setImprovementActionStatus", {"id": missing, "version": 1, "status": "DONE"}),
    ):
        assert await not_found_argument(manager, name, input, ACTION) == "input.id"
    assert (
        await not_found_argument(
            manager, "deleteImprovementAction", {"id": missing, "version": 1}, "deletedId"
        )
        == "input.id"
    )
    # Transitions: OPEN cannot become DONE; CANCELLED is final.
    step = "setImprovementActionStatus"
    errors = await mutate_refused(
        manager, step, {"id": action_id, "version": 1, "status": "DONE"}, ACTION
    )
    assert [(e["field"], e["code"]) for e in errors] == [("status", "INVALID_TRANSITION")]
    await mutate_ok(manager, step, {"id": action_id, "version": 1, "status": "CANCELLED"}, ACTION)
    for status in ("OPEN", "IN_PROGRESS", "DONE", "CANCELLED"):
        errors = await mutate_refused(
            manager, step, {"id": action_id, "version": 2, "status": status}, ACTION
        )
        assert errors[0]["code"] == "INVALID_TRANSITION"
    # A stale delete is refused.
    errors = await mutate_refused(
        manager, "deleteImprovementAction", {"id": action_id, "version": 1}, "deletedId"
    )
    assert errors[0]["code"] == "CONFLICT"
    # Reading needs surveys:read.
    finance = await admin.as_role("FINANCE")
    assert error_code(await finance.gql("{ improvementActions { totalCount } }")) == "FORBIDDEN"


async def test_lists(manager: Api, owner: Api, clock: FakeClock) -> None:
    owner_id = gid("User", owner.user_id)
    manager_id = gid("User", manager.user_id)
    late = await create(manager, title="Late", ownerId=owner_id, dueOn="2026-11-20")
    await create(manager, title="Later", ownerId=manager_id, dueOn="2026-12-20")
    done = await create(manager, title="Done", ownerId=owner_id, dueOn="2026-11-01")
    for version, status in ((1, "IN_PROGRESS"), (2, "DONE")):
        await mutate_ok(
            manager,
            "setImprovementActionStatus",
            {"id": done["id"], "version": version, "status": status},
            ACTION,
        )
    query = """query($filter: ImprovementActionFilter) {
      improvementActions(filter: $filter) { totalCount edges { node { title } } } }"""

    async def titles(**filter: Any) -> list[str]:
        found = data(await owner.gql(query, {"filter": filter}))["improvementActions"]
        return [edge["node"]["title"] for edge in found["edges"]]

    assert await titles() == ["Done", "Later", "Late"]
    assert await titles(overdue=True) == ["Late"]
    assert await titles(overdue=False) == ["Done", "Later"]
    assert await titles(ownerId=owner_id) == ["Done", "Late"]
    assert await titles(status=["OPEN"]) == ["Later", "Late"]
    assert late["overdue"] is True


async def test_trend(manager: Api, owner: Api, clock: FakeClock) -> None:
    seed = await Seed.of(manager)
    someone = await customer(manager, "Someone")
    # ATTITUDE is the third rating. August is before the trend's start (two months before
    # November, when the action is created).
    for moment, attitude in (
        ("2026-08-20T10:00", 1),
        ("2026-09-10T10:00", 2),
        ("2026-09-20T10:00", 3),
        ("2026-10-10T10:00", 4),
        ("2026-11-10T10:00", 5),
        ("2026-11-12T10:00", 4),
    ):
        await seed.add(someone, sent=moment, submitted=moment, ratings=(3, 3, attitude, 3))
    action = await create(
        manager, title="Be kinder", ownerId=gid("User", owner.user_id), dimension="ATTITUDE"
    )
    query = """query($id: ID!) { improvementAction(id: $id) {
      trend { month mean csat count } } }"""

    async def trend() -> list[dict[str, Any]]:
        found = data(await manager.gql(query, {"id": action["id"]}))["improvementAction"]
        result: list[dict[str, Any]] = found["trend"]
        return result

    # September: 2, 3 -> mean 2.5, none good; October: 4 -> 4.0, all good; November: 5, 4.
    assert await trend() == [
        {"month": "2026-09", "mean": 2.5, "csat": 0.0, "count": 2},
        {"month": "2026-10", "mean": 4.0, "csat": 1.0, "count": 1},
        {"month": "2026-11", "mean": 4.5, "csat": 1.0, "count": 2},
    ]
    # A month later, December's ratings sit beside them.
    clock.set(dt.datetime(2026, 12, 20, 9, tzinfo=dt.UTC))
    await seed.add(
        someone, sent="2026-12-05T10:00", submitted="2026-12-05T10:00", ratings=(3, 3, 3, 3)
    )
    assert (await trend())[-1] == {"month": "2026-12", "mean": 3.0, "csat": 0.0, "count": 1}
    assert len(await trend()) == 4
    # The owner (a support representative) sees only the responses they may see: none.
    found = data(await owner.gql(query, {"id": action["id"]}))["improvementAction"]["trend"]
    assert [month["count"] for month in found] == [0, 0, 0, 0]
