"""The whole loop through HTTP: a ticket is resolved through the tickets plugin's mutations,
the survey's e-mail reaches a real SMTP server started by the test, the link in that e-mail
is answered on the public page, and the ticket closes (satisfied) or reopens for a second
round (not satisfied), with the comment on its timeline and its assignee told. With the
tickets plugin disabled a survey sent by hand is answered and nothing else happens.

Runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from core.plugin_api import ADMINISTRATOR, SUPPORT_REPRESENTATIVE, Settings
from plugins.surveys import models
from plugins.surveys.test_answering import ERRORS, customer_with_contact, responses
from schema.testkit import Api, FakeClock, running_app
from schema.testkit_graphql import data, gid
from schema.testkit_mail import Inbox, running_smtp_server

PUBLIC_URL = "https://crm.example.com"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/s/([A-Za-z0-9_-]+)")
CONTACT_EMAIL = "dana@acme.example"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TICKET = """
query($id: ID!) {
  ticket(id: $id) {
    status reopenCount version
    events(includeInternal: false) { kind fromStatus toStatus note }
  }
}"""
NOTIFICATIONS = "{ notifications(first: 20) { edges { node { kind title body subjectId } } } }"


def answers(satisfied: bool, comment: str) -> dict[str, str]:
    rating = "5" if satisfied else "2"
    return {
        "q.response_speed": rating,
        "q.resolution": rating,
        "q.attitude": "4",
        "q.professionalism": "4",
        "q.satisfied": "yes" if satisfied else "no",
        "q.comment": comment,
    }


def mail_settings(make_settings: Callable[..., Settings], port: int, *plugins: str) -> Settings:
    return make_settings(
        plugins=plugins,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        mail_from="CRM <crm@example.com>",
        public_url=PUBLIC_URL,
    )


def survey_mail(server: Inbox) -> EmailMessage:
    """The one message sent to the contact."""
    (message,) = [m for m in server.messages() if m["To"] and CONTACT_EMAIL in m["To"]]
    return message


def link_token(message: EmailMessage) -> str:
    text = message.get_body(("plain",))
    assert text is not None
    found = LINK.search(text.get_content())
    assert found is not None, text.get_content()
    return found.group(1)


async def call(api: Api, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
    input_type = name[0].upper() + name[1:] + "Input"
    body = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} {ERRORS} }} }}",
        {"input": input},
    )
    payload: dict[str, Any] = data(body)[name]
    assert payload["errors"] == [], payload
    return payload


async def step(api: Api, name: str, ticket: dict[str, Any], **extra: Any) -> dict[str, Any]:
    payload = await call(
        api,
        name,
        {"id": ticket["id"], "version": ticket["version"], **extra},
        "ticket { id status version }",
    )
    found: dict[str, Any] = payload["ticket"]
    return found


async def resolved_ticket(admin: Api, agent: Api, customer: str, contact: str) -> dict[str, Any]:
    """A ticket of ``contact`` opened, assigned to ``agent`` and resolved by them, all through
    the tickets plugin's mutations."""
    opened = await call(
        admin,
        "openTicket",
        {
            "customerId": customer,
            "contactId": contact,
            "type": "FAULT",
            "subject": "Printer prints blank pages",
            "priority": "MEDIUM",
        },
        "ticket { id status version }",
    )
    ticket = await step(
        admin, "assignTicket", opened["ticket"], assigneeId=gid("User", agent.user_id)
    )
    ticket = await step(agent, "acknowledgeTicket", ticket)
    ticket = await step(agent, "startTicketWork", ticket)
    ticket = await step(agent, "resolveTicket", ticket, resolution="Replaced the toner")
    assert ticket["status"] == "RESOLVED"
    return ticket


async def survey_notices(agent: Api) -> list[dict[str, Any]]:
    edges = data(await agent.gql(NOTIFICATIONS))["notifications"]["edges"]
    return [e["node"] for e in edges if e["node"]["kind"] == "ticket.survey_answered"]


@pytest.mark.parametrize("satisfied", [True, False])
async def test_a_resolved_tickets_survey_answered_from_the_mail_closes_or_reopens_it(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any], satisfied: bool
) -> None:
    clock = FakeClock()
    comment = "Works now, thanks" if satisfied else "Still prints blank pages"
    with running_smtp_server() as (server, port):
        settings = mail_settings(make_settings, port, "fixture", "tickets", "surveys")
        async with running_app(settings, clock=clock, extra_plugins=crm_extra_plugins) as api:
            admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
            agent = await api.user("agent@example.com", [SUPPORT_REPRESENTATIVE], lasting=True)
            customer, contact = await customer_with_contact(admin, email=CONTACT_EMAIL)
            ticket = await resolved_ticket(admin, agent, customer, contact)
            await api.deliver_outbox()
            token = link_token(survey_mail(server))
            clock.advance(hours=5)

            form = await api.client.get(f"/s/{token}")
            sent = await api.client.post(
                f"/s/{token}", content=urlencode(answers(satisfied, comment)), headers=FORM
            )
            after = data(await admin.gql(TICKET, {"id": ticket["id"]}))["ticket"]
            notices = await survey_notices(agent)
            (response,) = await responses(api)
            again = await api.client.get(f"/s/{token}")

    assert form.status_code == 200
    assert "Are you satisfied with the resolution?" in form.text
    assert sent.status_code == 303
    assert again.status_code == 409
    assert (response.subject_kind, response.satisfied) == ("TICKET", satisfied)
    assert response.subject_id is not None
    assert gid("Ticket", response.subject_id) == ticket["id"]
    assert response.handler_id == agent.user_id
    assert response.comment == comment
    confirmation = [e for e in after["events"] if e["kind"] == "CONFIRMATION"]
    assert confirmation == [
        {"kind": "CONFIRMATION", "fromStatus": None, "toStatus": None, "note": comment}
    ]
    (notice,) = notices
    assert notice["subjectId"] == ticket["id"]
    assert notice["body"] == comment
    if satisfied:
        assert (after["status"], after["reopenCount"]) == ("CLOSED", 0)
        assert after["events"][-1]["toStatus"] == "CLOSED"
    else:
        assert (after["status"], after["reopenCount"]) == ("IN_PROGRESS", 1)
        assert after["events"][-1] == {
            "kind": "STATUS",
            "fromStatus": "RESOLVED",
            "toStatus": "IN_PROGRESS",
            "note": comment,
        }
        assert "not satisfied" in notice["title"]


async def test_without_the_tickets_plugin_a_survey_sent_by_hand_is_answered(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    clock = FakeClock()
    with running_smtp_server() as (server, port):
        settings = mail_settings(make_settings, port, "fixture", "surveys")
        async with running_app(settings, clock=clock, extra_plugins=crm_extra_plugins) as api:
            admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
            customer, _contact = await customer_with_contact(admin, email=CONTACT_EMAIL)
            async with api.db.read() as session:
                template_id = await session.scalar(
                    select(models.SurveyTemplate.id).where(
                        models.SurveyTemplate.key == "CSAT_SERVICE"
                    )
                )
            await call(
                admin,
                "sendSurvey",
                {"templateId": gid("SurveyTemplate", template_id), "customerIds": [customer]},
                "invitations { id status }",
            )
            await api.deliver_outbox()
            token = link_token(survey_mail(server))

            sent = await api.client.post(
                f"/s/{token}", content=urlencode(answers(False, "Slow")), headers=FORM
            )
            (response,) = await responses(api)
            schema = data(await admin.gql('{ __type(name: "Ticket") { name } }'))

    assert sent.status_code == 303
    assert (response.subject_kind, response.satisfied, response.comment) == (
        "MANUAL",
        False,
        "Slow",
    )
    assert schema == {"__type": None}  # no trace of tickets
