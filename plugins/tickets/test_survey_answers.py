"""The customer's answer to a resolved ticket's satisfaction survey (the surveys plugin's
``crm_survey_response_submitted``, which this plugin implements as an optional hook): a
satisfied customer closes the ticket, one who is not reopens it for a second round, with the
comment on the timeline and the assignee told; a ticket that moved on only gets the event.

The response is handed in as the hook hands it: an object read by its attributes (this
plugin does not import the surveys plugin; the whole loop through both plugins is tested in
``plugins/surveys/test_loop.py``). Runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``)
PostgreSQL.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, update

from core.plugin_api import (
    SUPPORT_REPRESENTATIVE,
    AuditEvent,
    RequestContext,
)
from plugins.tickets import models
from plugins.tickets import test_lifecycle as lifecycle
from plugins.tickets.service.surveys import ACTOR_LABEL, survey_answered
from plugins.tickets.test_lifecycle import (
    create_customer,
    data,
    db_id,
    get_ticket,
    gid,
    move_to,
    ok,
    open_ticket,
)
from schema.testkit import Api, FakeClock

settings, clock, api, admin = lifecycle.settings, lifecycle.clock, lifecycle.api, lifecycle.admin
NOTIFICATIONS = "{ notifications(first: 20) { edges { node { kind title body subjectId } } } }"


@pytest.fixture
async def agent(api: Api) -> Api:
    return await api.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)


async def resolved_ticket(admin: Api, agent: Api, status: str = "RESOLVED") -> dict[str, Any]:
    customer = await create_customer(admin, "Acme Ltd")
    ticket = await open_ticket(admin, customer)
    ticket = await ok(
        admin,
        "assignTicket",
        {
            "id": ticket["id"],
            "version": ticket["version"],
            "assigneeId": gid("User", agent.user_id),
        },
    )
    return await move_to(admin, ticket, status)


def response(ticket: dict[str, Any] | None, satisfied: bool | None, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "id": 41,
        "subject_kind": "TICKET",
        "subject_id": db_id(ticket["id"]) if ticket else 999_999,
        "satisfied": satisfied,
        "comment": "The printer works again.",
        "customer_id": 1,
        "contact_id": None,
        "handler_id": None,
        "nps": None,
        "low_scored": not satisfied,
    }
    values.update(extra)
    return SimpleNamespace(**values)


def public_context(api: Api, clock: FakeClock) -> RequestContext:
    """The context of the public page's request: no one signed in."""
    return RequestContext(
        settings=api.settings,
        db=api.db,
        pm=api.app.state.crm.pm,
        client_address="203.0.113.9",
        clock=clock,
    )


async def answer(api: Api, clock: FakeClock, answered: Any) -> Any:
    """Hand ``answered`` to the hook's implementation, as the public page's request would."""
    answered.submitted_at = clock()
    async with api.db.transaction() as session:
        return await survey_answered(session, answered, public_context(api, clock))


async def timeline(api: Api, ticket: dict[str, Any]) -> list[models.TicketEvent]:
    async with api.db.read() as session:
        return list(
            (
                await session.scalars(
                    select(models.TicketEvent)
                    .where(models.TicketEvent.ticket_id == db_id(ticket["id"]))
                    .order_by(models.TicketEvent.id)
                )
            ).all()
        )


async def told(agent: Api) -> list[dict[str, Any]]:
    edges = data(await agent.gql(NOTIFICATIONS))["notifications"]["edges"]
    return [edge["node"] for edge in edges if edge["node"]["kind"] == "ticket.survey_answered"]


async def test_a_satisfied_customer_closes_the_ticket(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    ticket = await resolved_ticket(admin, agent)
    clock.advance(hours=2)

    await answer(api, clock, response(ticket, True))

    now = await get_ticket(admin, ticket["id"])
    assert now["status"] == "CLOSED"
    assert now["closedAt"] is not None
    assert now["reopenCount"] == 0
    events = await timeline(api, ticket)
    confirmation = next(e for e in events if e.kind == "CONFIRMATION")
    assert confirmation.data == {"satisfied": True, "surveyResponseId": gid("SurveyResponse", 41)}
    assert (confirmation.note, confirmation.internal, confirmation.actor_id) == (
        "The printer works again.",
        False,
        None,
    )
    assert (events[-1].kind, events[-1].from_status, events[-1].to_status) == (
        "STATUS",
        "RESOLVED",
        "CLOSED",
    )
    async with api.db.read() as session:
        audited = await session.scalar(
            select(AuditEvent)
            .where(AuditEvent.action == "ticket.status_changed")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
    assert audited is not None
    assert (audited.actor_id, audited.actor_label, audited.client_address) == (
        None,
        ACTOR_LABEL,
        "203.0.113.9",
    )
    (notice,) = await told(agent)
    assert notice["title"].startswith(f"The customer is satisfied with ticket {ticket['number']}")
    assert notice["body"] == "The printer works again."
    assert notice["subjectId"] == ticket["id"]


async def test_an_unsatisfied_customer_reopens_the_ticket_for_a_second_round(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    ticket = await resolved_ticket(admin, agent)

    await answer(api, clock, response(ticket, False, comment="Still broken"))

    now = await get_ticket(admin, ticket["id"])
    assert (now["status"], now["reopenCount"], now["resolvedAt"]) == ("IN_PROGRESS", 1, None)
    events = await timeline(api, ticket)
    assert [(e.kind, e.note) for e in events[-2:]] == [
        ("CONFIRMATION", "Still broken"),
        ("STATUS", "Still broken"),
    ]
    assert events[-2].data["satisfied"] is False
    (notice,) = await told(agent)
    assert "not satisfied" in notice["title"]
    assert "reopened" in notice["title"]
    # Staff can still take the answer of the second round by phone.
    now = await move_to_resolved_again(admin, now)
    confirmed = await ok(admin, "confirmTicketResolution", {"id": now["id"], "satisfied": True})
    assert confirmed["status"] == "CLOSED"


async def move_to_resolved_again(admin: Api, ticket: dict[str, Any]) -> dict[str, Any]:
    return await ok(
        admin,
        "resolveTicket",
        {"id": ticket["id"], "version": ticket["version"], "resolution": "Replaced the drum"},
    )


async def test_a_ticket_that_moved_on_only_gets_the_event(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    ticket = await resolved_ticket(admin, agent, "CLOSED")

    await answer(api, clock, response(ticket, False))

    now = await get_ticket(admin, ticket["id"])
    assert (now["status"], now["reopenCount"]) == ("CLOSED", 0)
    events = await timeline(api, ticket)
    assert events[-1].kind == "CONFIRMATION"
    (notice,) = await told(agent)
    assert "not satisfied (the ticket is CLOSED)" in notice["title"]


@pytest.mark.parametrize(
    "answered",
    [
        response(None, True, subject_kind="SCHEDULE", subject_id=None),
        response(None, True, subject_kind="MANUAL"),
        response(None, True),  # a ticket that is gone
    ],
)
async def test_responses_about_no_ticket_change_nothing(
    api: Api, admin: Api, agent: Api, clock: FakeClock, answered: Any
) -> None:
    ticket = await resolved_ticket(admin, agent)
    before = await timeline(api, ticket)

    assert await answer(api, clock, answered) is None

    assert (await get_ticket(admin, ticket["id"]))["status"] == "RESOLVED"
    assert len(await timeline(api, ticket)) == len(before)
    assert await told(agent) == []


async def test_a_survey_without_the_overall_question_changes_nothing(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    ticket = await resolved_ticket(admin, agent)

    assert await answer(api, clock, response(ticket, None)) is None

    assert (await get_ticket(admin, ticket["id"]))["status"] == "RESOLVED"


async def test_the_ticket_is_read_afresh_under_the_lock(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    """A copy of the ticket the session read before the lock (here RESOLVED) is stale once
    staff closed it meanwhile: the answer must see CLOSED and only add the event."""
    ticket = await resolved_ticket(admin, agent)
    answered = response(ticket, False)
    answered.submitted_at = clock()

    async with api.db.transaction() as session:
        held = await session.get(models.Ticket, db_id(ticket["id"]))
        assert held is not None
        assert held.status == "RESOLVED"
        await session.execute(  # what a concurrent, committed close leaves in the row
            update(models.Ticket)
            .where(models.Ticket.id == held.id)
            .values(status="CLOSED")
            .execution_options(synchronize_session=False)
        )
        await survey_answered(session, answered, public_context(api, clock))

    now = await get_ticket(admin, ticket["id"])
    assert (now["status"], now["reopenCount"]) == ("CLOSED", 0)
    assert (await timeline(api, ticket))[-1].kind == "CONFIRMATION"


async def test_only_the_assignee_is_told(
    api: Api, admin: Api, agent: Api, clock: FakeClock
) -> None:
    other = await api.user("other@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
    ticket = await resolved_ticket(admin, agent)

    await answer(api, clock, response(ticket, True))

    assert len(await told(agent)) == 1
    assert await told(other) == []
    assert await told(admin) == []


async def test_tickets_loads_and_works_without_the_surveys_plugin(
    api: Api, admin: Api, agent: Api
) -> None:
    """The implementation is optional: with surveys disabled (as in this module) nothing
    declares the hook, the plugin still loads, and a ticket still resolves and closes."""
    pm = api.app.state.crm.pm
    assert "surveys" not in (api.settings.enabled_plugins or [])
    caller = pm.hook.crm_survey_response_submitted
    assert caller.spec is None  # declared by no one
    assert [impl.plugin_name for impl in caller.get_hookimpls()] == ["tickets"]
    closed = await resolved_ticket(admin, agent, "CLOSED")
    assert closed["status"] == "CLOSED"
