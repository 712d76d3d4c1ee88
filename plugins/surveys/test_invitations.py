"""Invitations over HTTP: a resolved ticket's survey, sendSurvey and every rule and refusal
of the invite service (contact, e-mail, handler, fatigue, inactive template), the mail read
back from a real SMTP server, the lists and their access, Ticket.survey.

The helpers at the top are shared by the plugin's other test modules of this part.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from core.plugin_api import (
    ADMINISTRATOR,
    CUSTOMER_MANAGER,
    SUPPORT_REPRESENTATIVE,
    AuditEvent,
    Contact,
    CRMPluginManager,
    Database,
    MailError,
    Settings,
)
from plugins.surveys import models
from plugins.surveys.service import tokens
from plugins.surveys.testing import MONDAY
from schema.testkit import Api, FakeClock, StatementCounter, running_app
from schema.testkit_graphql import (
    data,
    db_id,
    gid,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)
from schema.testkit_mail import running_smtp_server

INVITATION = """
id status skipReason email locale sentAt expiresAt answeredAt
subject { kind id number type }
contact { id name } customer { id name } handler { id name }
template { key } templateVersion { number }
response { id satisfied }
"""
SEND = f"invitations {{ {INVITATION} }}"
INVITATIONS = f"""
query($filter: SurveyInvitationFilter) {{
  surveyInvitations(filter: $filter, first: 100) {{
    totalCount edges {{ node {{ {INVITATION} }} }}
  }}
}}"""
RESPONSES = """
query($filter: SurveyResponseFilter) {
  surveyResponses(filter: $filter, first: 100) {
    totalCount edges { node { id satisfied nps comment lowScored
      answers { questionKey kind dimension score yes text questionText question { textEn } }
      customer { id } handler { id } templateVersion { number } subject { kind number } } }
  }
}"""


# --- helpers shared by this part's test modules ---------------------------------------------


async def create_customer(
    api: Api, name: str = "Acme Ltd", *, owner_id: int | None = None, **extra: Any
) -> str:
    input: dict[str, Any] = {"name": name, "allowDuplicates": True, **extra}
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def create_contact(
    api: Api,
    customer_id: str,
    name: str = "Dana Reyes",
    email: str | None = "dana@example.com",
    *,
    primary: bool = True,
    **extra: Any,
) -> str:
    input: dict[str, Any] = {"customerId": customer_id, "name": name, "primary": primary}
    if email is not None:
        input["email"] = email
    payload = await mutate_ok(api, "createContact", input | extra, "contact { id }")
    contact_id: str = payload["contact"]["id"]
    return contact_id


async def ticket_step(api: Api, name: str, ticket: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": ticket["id"], "version": ticket["version"], **extra}
    if name == "resolveTicket":
        body.setdefault("resolution", "Fixed it")
    payload = await mutate_ok(api, name, body, "ticket { id number version status }")
    found: dict[str, Any] = payload["ticket"]
    return found


async def open_ticket(
    api: Api, customer_id: str, subject: str = "Printer is on fire", **extra: Any
) -> dict[str, Any]:
    payload = await mutate_ok(
        api,
        "openTicket",
        {"customerId": customer_id, "type": "FAULT", "subject": subject} | extra,
        "ticket { id number version status }",
    )
    ticket: dict[str, Any] = payload["ticket"]
    return ticket


async def resolved_ticket(
    api: Api, customer_id: str, *, assignee_id: int | None = None, **extra: Any
) -> dict[str, Any]:
    """A ticket opened, (assigned,) worked on and resolved by ``api``."""
    ticket = await open_ticket(api, customer_id, **extra)
    if assignee_id is not None:
        ticket = await ticket_step(api, "assignTicket", ticket, assigneeId=gid("User", assignee_id))
    for name in ("acknowledgeTicket", "startTicketWork", "resolveTicket"):
        ticket = await ticket_step(api, name, ticket)
    return ticket


async def invitations(api: Api, **filter: Any) -> list[dict[str, Any]]:
    body = data(await api.gql(INVITATIONS, {"filter": filter or None}))
    return [edge["node"] for edge in body["surveyInvitations"]["edges"]]


async def template_id(api: Api, key: str) -> int:
    async with api.db.read() as session:
        found = await session.scalar(
            select(models.SurveyTemplate.id).where(models.SurveyTemplate.key == key)
        )
    assert found is not None
    return found


async def send(api: Api, key: str = "NPS_RELATIONSHIP", **ids: Any) -> list[dict[str, Any]]:
    input = {"templateId": gid("SurveyTemplate", await template_id(api, key)), **ids}
    payload = await mutate_ok(api, "sendSurvey", input, SEND)
    found: list[dict[str, Any]] = payload["invitations"]
    return found


async def add_response(
    api: Api,
    invitation_id: int,
    *,
    satisfied: bool | None = True,
    nps: int | None = None,
    comment: str | None = None,
    at: dt.datetime = MONDAY,
    answers: list[dict[str, Any]] | None = None,
) -> int:
    """A response to the invitation, written straight to the database (answering is the
    public page's part); the invitation becomes ANSWERED."""
    async with api.db.transaction() as session:
        invitation = await session.get(models.SurveyInvitation, invitation_id)
        assert invitation is not None
        invitation.status = "ANSWERED"
        invitation.answered_at = at
        response = models.SurveyResponse(
            invitation_id=invitation.id,
            template_id=invitation.template_id,
            template_version_id=invitation.template_version_id,
            customer_id=invitation.customer_id,
            contact_id=invitation.contact_id,
            subject_kind=invitation.subject_kind,
            subject_id=invitation.subject_id,
            subject_type=invitation.subject_type,
            handler_id=invitation.handler_id,
            locale=invitation.locale,
            submitted_at=at,
            satisfied=satisfied,
            nps=nps,
            comment=comment,
            low_scored=satisfied is False or (nps is not None and nps <= 6),
        )
        session.add(response)
        await session.flush()
        for answer in answers or []:
            session.add(models.SurveyAnswer(response_id=response.id, **answer))
        if comment is not None and not answers:
            session.add(
                models.SurveyAnswer(
                    response_id=response.id, question_key="comment", kind="TEXT", text=comment
                )
            )
        return response.id


async def outbox_mails(api: Api) -> list[dict[str, Any]]:
    """The survey mails written to the outbox: their recipients and payloads."""
    async with api.db.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT recipient, payload FROM outbox_messages "
                    "WHERE kind = 'surveys.invitation' ORDER BY id"
                )
            )
        ).all()
    return [
        {"to": row[0], **(row[1] if isinstance(row[1], dict) else json.loads(row[1]))}
        for row in rows
    ]


# --- a resolved ticket's survey ---------------------------------------------------------------


async def test_a_resolved_ticket_invites_its_contact_once(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer, "Primary Person", "primary@example.com")
    contact = await create_contact(admin, customer, "Ticket Person", "t@example.com", primary=False)
    ticket = await resolved_ticket(admin, customer, contactId=contact)

    (invitation,) = await invitations(admin)
    assert invitation["status"] == "SENT"
    assert invitation["skipReason"] is None
    assert invitation["contact"]["id"] == contact
    assert invitation["email"] == "t@example.com"
    assert invitation["template"]["key"] == "CSAT_SERVICE"
    assert invitation["templateVersion"]["number"] == 1
    assert invitation["subject"] == {
        "kind": "TICKET",
        "id": ticket["id"],
        "number": ticket["number"],
        "type": "FAULT",
    }
    assert dt.datetime.fromisoformat(invitation["sentAt"]) == clock()
    assert dt.datetime.fromisoformat(invitation["expiresAt"]) == clock() + dt.timedelta(days=14)
    (mail,) = await outbox_mails(admin)
    assert mail["to"] == "Ticket Person <t@example.com>"
    assert ticket["number"] in mail["subject"]


async def test_without_a_ticket_contact_the_primary_contact_is_asked(admin: Api) -> None:
    customer = await create_customer(admin)
    primary = await create_contact(admin, customer, "Primary Person", "primary@example.com")
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert invitation["contact"]["id"] == primary
    assert invitation["status"] == "SENT"


async def test_the_mail_reaches_a_real_smtp_server_with_a_working_link(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    with running_smtp_server() as (server, port):
        settings = make_settings(
            plugins=("fixture", "tickets", "surveys"),
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            mail_from="CRM <crm@example.com>",
            public_url="https://crm.example.com/",
        )
        async with running_app(settings, pm=plugin_manager, clock=clock) as api:
            admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
            customer = await create_customer(admin)
            await create_contact(admin, customer, "Dana Reyes", "dana@example.com")
            ticket = await resolved_ticket(admin, customer, subject="Printer is on fire")
            assert await admin.deliver_outbox() == 1
            assert await admin.deliver_outbox() == 0  # sent once
            async with api.db.read() as session:
                stored = (await session.scalars(select(models.SurveyInvitation))).one()
        message = server.only()
    assert message["To"] == "Dana Reyes <dana@example.com>"
    assert ticket["number"] in message["Subject"]
    text_part = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert text_part is not None
    assert html_part is not None
    body = text_part.get_content()
    assert "Hello Dana Reyes" in body
    assert "Printer is on fire" in body
    links = re.findall(r"https://crm\.example\.com/s/([A-Za-z0-9_-]+)", body)
    assert len(links) == 1
    (token,) = links
    assert stored.token_hash == tokens.hash_token(token)
    assert token not in (stored.token_hash or "")
    assert f'href="https://crm.example.com/s/{token}"' in html_part.get_content()
    assert "valid until" in body


async def test_html_mail_escapes_the_ticket_subject(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer, "Dana <b>Reyes</b>", "dana@example.com")
    await resolved_ticket(admin, customer, subject="<script>alert(1)</script>")
    (mail,) = await outbox_mails(admin)
    assert "<script>" not in mail["html"]
    assert "&lt;script&gt;" in mail["html"]
    assert "<script>alert(1)</script>" in mail["text"]


async def test_a_customer_without_contact_is_skipped_with_no_contact(admin: Api) -> None:
    customer = await create_customer(admin)
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert invitation["status"] == "SKIPPED"
    assert invitation["skipReason"] == "NO_CONTACT"
    assert invitation["contact"] is None
    assert invitation["sentAt"] is None
    assert await outbox_mails(admin) == []
    async with admin.db.read() as session:
        stored = (await session.scalars(select(models.SurveyInvitation))).one()
    assert stored.token_hash is None


async def test_an_archived_primary_contact_is_no_contact(admin: Api) -> None:
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    async with admin.db.transaction() as session:
        row = await session.get(Contact, db_id(contact))
        assert row is not None
        row.archived_at = MONDAY
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert invitation["skipReason"] == "NO_CONTACT"


async def test_a_contact_without_email_is_skipped_with_no_email(admin: Api) -> None:
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer, email=None)
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert (invitation["status"], invitation["skipReason"]) == ("SKIPPED", "NO_EMAIL")
    assert invitation["contact"]["id"] == contact
    assert await outbox_mails(admin) == []


async def test_the_handler_is_never_the_respondent(admin: Api) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE, lasting=True)
    assert support.email is not None
    assert support.user_id is not None
    customer = await create_customer(admin)
    await create_contact(admin, customer, "Support Self", support.email.upper())
    await resolved_ticket(admin, customer, assignee_id=support.user_id)
    (invitation,) = await invitations(admin)
    assert (invitation["status"], invitation["skipReason"]) == (
        "SKIPPED",
        "RESPONDENT_IS_HANDLER",
    )
    assert invitation["handler"]["id"] == gid("User", support.user_id)
    assert await outbox_mails(admin) == []


async def test_fatigue_holds_back_a_second_survey_within_the_days(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SURVEYS_FATIGUE_DAYS", "30")
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    (first,) = await send(admin, customerIds=[customer])
    assert first["status"] == "SENT"

    clock.advance(days=29, hours=23)
    await resolved_ticket(admin, customer)
    held = (await invitations(admin, subjectKind="TICKET"))[0]
    assert (held["status"], held["skipReason"]) == ("SKIPPED", "FATIGUE")

    clock.advance(hours=1, seconds=1)  # 30 days after the first was sent
    (again,) = await send(admin, contactIds=[contact])
    assert again["status"] == "SENT"
    assert len(await outbox_mails(admin)) == 2


async def test_a_skipped_invitation_does_not_count_for_fatigue(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    async with admin.db.transaction() as session:
        template = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "NPS_RELATIONSHIP")
        )
        assert template is not None
        template.active = False
    await resolved_ticket(admin, customer)  # CSAT, active: sent
    monkeypatch.setenv("CRM_SURVEYS_FATIGUE_DAYS", "0")
    (unlimited,) = await send(admin, "CSAT_SERVICE", contactIds=[contact])
    assert unlimited["status"] == "SENT"
    monkeypatch.setenv("CRM_SURVEYS_FATIGUE_DAYS", "30")
    (held,) = await send(admin, "CSAT_SERVICE", contactIds=[contact])
    assert held["skipReason"] == "FATIGUE"
    (held_again,) = await send(admin, "CSAT_SERVICE", contactIds=[contact])
    assert held_again["skipReason"] == "FATIGUE"


async def test_a_reopened_ticket_resolved_again_is_asked_again_with_one_live_link(
    admin: Api, clock: FakeClock
) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    ticket = await resolved_ticket(admin, customer)
    clock.advance(days=2)
    ticket = await ticket_step(admin, "reopenTicket", ticket, note="Still burning")
    ticket = await ticket_step(admin, "resolveTicket", ticket)
    second, first = await invitations(admin)
    assert first["status"] == second["status"] == "SENT"
    assert first["subject"]["id"] == second["subject"]["id"] == ticket["id"]
    assert dt.datetime.fromisoformat(second["sentAt"]) == clock()
    # The first round's link stopped working when the second went out.
    assert dt.datetime.fromisoformat(first["expiresAt"]) == clock()
    assert dt.datetime.fromisoformat(second["expiresAt"]) == clock() + dt.timedelta(days=14)
    mails = await outbox_mails(admin)
    assert len(mails) == 2  # one mail per round


@pytest.mark.parametrize("second_round", ["skipped", "not sent"])
async def test_a_ticket_resolved_again_ends_the_first_link_even_without_a_second(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, second_round: str
) -> None:
    """An answer to the first round must not close or reopen the ticket resolved again, also
    when the second round is skipped (no address now) or not sent at all (turned off)."""
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    ticket = await resolved_ticket(admin, customer)
    clock.advance(days=1)
    ticket = await ticket_step(admin, "reopenTicket", ticket, note="Not fixed")
    if second_round == "skipped":
        async with admin.db.transaction() as session:
            row = await session.get(Contact, db_id(contact))
            assert row is not None
            row.email = None
    else:
        monkeypatch.setenv("CRM_SURVEYS_ON_RESOLVED", "false")
    await ticket_step(admin, "resolveTicket", ticket)

    found = await invitations(admin)
    first = found[-1]
    assert dt.datetime.fromisoformat(first["expiresAt"]) == clock()
    assert len(found) == (2 if second_round == "skipped" else 1)


async def test_the_link_expires_after_the_configured_days(
    admin: Api, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SURVEYS_LINK_DAYS", "3")
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert dt.datetime.fromisoformat(invitation["expiresAt"]) == clock() + dt.timedelta(days=3)


async def test_nothing_is_sent_when_on_resolved_is_off(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SURVEYS_ON_RESOLVED", "false")
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    await resolved_ticket(admin, customer)
    assert await invitations(admin) == []


async def test_nothing_is_sent_when_the_ticket_template_is_inactive_or_unknown(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    async with admin.db.transaction() as session:
        template = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "CSAT_SERVICE")
        )
        assert template is not None
        template.active = False
    await resolved_ticket(admin, customer)
    monkeypatch.setenv("CRM_SURVEYS_TICKET_TEMPLATE", "NO_SUCH_TEMPLATE")
    await resolved_ticket(admin, customer, subject="Another")
    assert await invitations(admin) == []


async def test_the_contact_locale_picks_the_mail_language(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer, locale="zh-CN", timeZone="Asia/Shanghai")
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert invitation["locale"] == "zh-CN"
    (mail,) = await outbox_mails(admin)
    assert mail["locale"] == "zh-CN"
    assert '<html lang="zh-CN">' in mail["html"]
    assert "您好" in mail["text"]
    assert "我们对" in mail["subject"]
    assert "CST" in mail["text"] or "+08" in mail["text"] or "China" in mail["text"]


async def test_without_a_contact_locale_the_deployment_language_is_used(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    await resolved_ticket(admin, customer)
    (invitation,) = await invitations(admin)
    assert invitation["locale"] == admin.settings.locale


# --- sendSurvey -------------------------------------------------------------------------------


async def limited_sender(admin: Api) -> Api:
    """A user who may send surveys but reads only the customers they own."""
    await mutate_ok(
        admin,
        "createRole",
        {
            "name": "Survey sender",
            "key": "SURVEY_SENDER",
            "grants": [
                {"permission": "surveys:manage", "scope": "ALL"},
                {"permission": "surveys:read", "scope": "OWN"},
                {"permission": "customers:read", "scope": "OWN"},
            ],
        },
        "role { id }",
    )
    return await admin.user("sender@example.com", ["SURVEY_SENDER"], lasting=True)


async def test_send_survey_to_customers_asks_their_primary_contacts(admin: Api) -> None:
    with_contact = await create_customer(admin, "With Contact")
    contact = await create_contact(admin, with_contact)
    without = await create_customer(admin, "Without Contact")
    sent, skipped = await send(admin, customerIds=[with_contact, without])
    assert (sent["status"], sent["contact"]["id"]) == ("SENT", contact)
    assert sent["subject"] == {"kind": "MANUAL", "id": None, "number": None, "type": None}
    assert sent["template"]["key"] == "NPS_RELATIONSHIP"
    assert (skipped["status"], skipped["skipReason"]) == ("SKIPPED", "NO_CONTACT")
    assert skipped["customer"]["id"] == without
    (mail,) = await outbox_mails(admin)
    assert mail["to"] == "Dana Reyes <dana@example.com>"
    async with admin.db.read() as session:
        events = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "surveys.survey.sent")
            )
        ).all()
    assert len(events) == 1


async def test_send_survey_to_contacts_asks_those_contacts(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer, "Primary", "p@example.com")
    other = await create_contact(admin, customer, "Other", "o@example.com", primary=False)
    (invitation,) = await send(admin, contactIds=[other])
    assert invitation["contact"]["id"] == other
    assert invitation["email"] == "o@example.com"


@pytest.mark.parametrize(
    ("ids", "field", "code"),
    [
        ({}, "customerIds", "REQUIRED"),
        ({"customerIds": []}, "customerIds", "REQUIRED"),
        ({"contactIds": []}, "contactIds", "REQUIRED"),
        ({"customerIds": ["C"], "contactIds": ["K"]}, "customerIds", "INVALID"),
        ({"customerIds": ["C"] * 501}, "customerIds", "OUT_OF_RANGE"),
        ({"customerIds": ["WRONG"]}, "customerIds.0", "INVALID"),
    ],
)
async def test_send_survey_refuses_bad_recipients(
    admin: Api, ids: dict[str, Any], field: str, code: str
) -> None:
    customer = await create_customer(admin)
    wrong = gid("Contact", 1)
    given = {key: [customer if v == "C" else wrong for v in value] for key, value in ids.items()}
    input = {"templateId": gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE"))}
    errors = await mutate_refused(admin, "sendSurvey", input | given, SEND)
    assert (errors[0]["field"], errors[0]["code"]) == (field, code)
    assert await invitations(admin) == []


async def test_send_survey_refuses_an_archived_customer(admin: Api) -> None:
    kept = await create_customer(admin, "Kept Ltd")
    await create_contact(admin, kept)
    gone = await create_customer(admin, "Gone Ltd")
    await create_contact(admin, gone, "Gone Person", "gone@example.com")
    archive = (
        "mutation($id: ID!) { archiveCustomer(input: {id: $id, version: 1}) { errors { field } } }"
    )
    assert data(await admin.gql(archive, {"id": gone}))["archiveCustomer"]["errors"] == []
    input = {
        "templateId": gid("SurveyTemplate", await template_id(admin, "NPS_RELATIONSHIP")),
        "customerIds": [kept, gone],
    }

    errors = await mutate_refused(admin, "sendSurvey", input, SEND)

    assert [(e["field"], e["code"]) for e in errors] == [("customerIds.1", "BUSINESS_RULE")]
    assert "archived" in errors[0]["message"]
    assert await invitations(admin) == []


async def test_send_survey_refuses_an_inactive_template(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    async with admin.db.transaction() as session:
        template = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == "NPS_RELATIONSHIP")
        )
        assert template is not None
        template.active = False
    input = {
        "templateId": gid("SurveyTemplate", await template_id(admin, "NPS_RELATIONSHIP")),
        "customerIds": [customer],
    }
    errors = await mutate_refused(admin, "sendSurvey", input, SEND)
    assert (errors[0]["field"], errors[0]["code"]) == ("templateId", "BUSINESS_RULE")
    assert await invitations(admin) == []


async def test_send_survey_names_ids_not_found(admin: Api) -> None:
    customer = await create_customer(admin)
    archived = await create_contact(admin, customer, "Gone", "gone@example.com", primary=False)
    async with admin.db.transaction() as session:
        row = await session.get(Contact, db_id(archived))
        assert row is not None
        row.archived_at = MONDAY
    template = gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE"))
    selection = "invitations { id }"
    assert (
        await not_found_argument(
            admin,
            "sendSurvey",
            {"templateId": gid("SurveyTemplate", 999), "customerIds": [customer]},
            selection,
        )
        == "input.templateId"
    )
    assert (
        await not_found_argument(
            admin,
            "sendSurvey",
            {"templateId": template, "customerIds": [customer, gid("Customer", 999)]},
            selection,
        )
        == "input.customerIds.1"
    )
    assert (
        await not_found_argument(
            admin,
            "sendSurvey",
            {"templateId": template, "contactIds": [gid("Contact", 999)]},
            selection,
        )
        == "input.contactIds.0"
    )
    assert (
        await not_found_argument(
            admin, "sendSurvey", {"templateId": template, "contactIds": [archived]}, selection
        )
        == "input.contactIds.0"
    )


async def test_send_survey_to_a_customer_hidden_from_the_caller_is_not_found(
    admin: Api,
) -> None:
    sender = await limited_sender(admin)
    assert sender.user_id is not None
    own = await create_customer(admin, "Own", owner_id=sender.user_id)
    await create_contact(admin, own, "Own Contact", "own@example.com")
    hidden = await create_customer(admin, "Hidden")
    hidden_contact = await create_contact(admin, hidden, "Hidden Contact", "h@example.com")
    template = gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE"))
    selection = "invitations { id }"
    assert (
        await not_found_argument(
            sender, "sendSurvey", {"templateId": template, "customerIds": [own, hidden]}, selection
        )
        == "input.customerIds.1"
    )
    assert (
        await not_found_argument(
            sender,
            "sendSurvey",
            {"templateId": template, "contactIds": [hidden_contact]},
            selection,
        )
        == "input.contactIds.0"
    )
    assert await invitations(admin) == []
    (sent,) = await send(sender, "CSAT_SERVICE", customerIds=[own])
    assert sent["status"] == "SENT"


async def test_send_survey_needs_surveys_manage(admin: Api) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    customer = await create_customer(admin)
    body = await support.gql(
        "mutation($input: SendSurveyInput!) { sendSurvey(input: $input) { errors { field } } }",
        {
            "input": {
                "templateId": gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE")),
                "customerIds": [customer],
            }
        },
    )
    assert body["data"] == {"sendSurvey": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# --- lists, access, Ticket.survey, Customer.surveyResponses -----------------------------------


async def test_support_sees_the_surveys_of_tickets_it_handled_and_customers_it_owns(
    admin: Api,
) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE, lasting=True)
    manager = await admin.as_role(CUSTOMER_MANAGER, lasting=True)
    assert support.user_id is not None
    handled = await create_customer(admin, "Handled")
    await create_contact(admin, handled, "H", "h@example.com")
    owned = await create_customer(admin, "Owned", owner_id=support.user_id)
    await create_contact(admin, owned, "O", "o@example.com")
    other = await create_customer(admin, "Other")
    await create_contact(admin, other, "X", "x@example.com")
    await resolved_ticket(admin, handled, assignee_id=support.user_id)
    await resolved_ticket(admin, owned)
    await resolved_ticket(admin, other)
    everything = await invitations(manager)
    assert len(everything) == 3
    for row in everything:
        await add_response(admin, db_id(row["id"]), comment="fine")

    seen = {row["customer"]["id"] for row in await invitations(support)}
    assert seen == {handled, owned}
    body = data(await support.gql(RESPONSES))
    assert body["surveyResponses"]["totalCount"] == 2
    assert len(data(await manager.gql(RESPONSES))["surveyResponses"]["edges"]) == 3

    hidden = next(row for row in await invitations(admin) if row["customer"]["id"] == other)
    node = data(await support.gql("query($id: ID!) { node(id: $id) { id } }", {"id": hidden["id"]}))
    assert node == {"node": None}
    response_id = hidden["response"]["id"]
    found = data(
        await support.gql("query($id: ID!) { surveyResponse(id: $id) { id } }", {"id": response_id})
    )
    assert found == {"surveyResponse": None}
    found = data(
        await manager.gql("query($id: ID!) { surveyResponse(id: $id) { id } }", {"id": response_id})
    )
    assert found == {"surveyResponse": {"id": response_id}}


async def test_the_lists_need_surveys_read(admin: Api) -> None:
    finance = await admin.as_role("FINANCE")
    body = await finance.gql(INVITATIONS)
    assert body["data"] == {"surveyInvitations": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_lists_filter_by_template_status_customer_and_period(
    admin: Api, clock: FakeClock
) -> None:
    first = await create_customer(admin, "First")
    await create_contact(admin, first, "F", "f@example.com")
    second = await create_customer(admin, "Second")
    await send(admin, "CSAT_SERVICE", customerIds=[first, second])
    clock.advance(days=40)
    (later,) = await send(admin, "NPS_RELATIONSHIP", customerIds=[first])
    csat = gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE"))
    assert len(await invitations(admin, templateId=csat)) == 2
    assert [row["status"] for row in await invitations(admin, status=["SKIPPED"])] == ["SKIPPED"]
    assert len(await invitations(admin, customerId=first)) == 2
    window = {"from": (MONDAY + dt.timedelta(days=1)).isoformat()}
    assert [row["id"] for row in await invitations(admin, sent=window)] == [later["id"]]
    await add_response(admin, db_id(later["id"]), satisfied=None, nps=3, at=clock())
    body = data(await admin.gql(RESPONSES, {"filter": {"submitted": window}}))
    assert body["surveyResponses"]["totalCount"] == 1
    body = data(await admin.gql(RESPONSES, {"filter": {"templateId": csat}}))
    assert body["surveyResponses"]["totalCount"] == 0
    body = data(await admin.gql(RESPONSES, {"filter": {"lowScored": True, "customerId": first}}))
    assert body["surveyResponses"]["totalCount"] == 1
    bad = await admin.gql(INVITATIONS, {"filter": {"templateId": first}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_ticket_survey_shows_the_latest_invitation_and_its_response(admin: Api) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE, lasting=True)
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    ticket = await resolved_ticket(admin, customer)
    query = """query($id: ID!) { ticket(id: $id) { survey { status subject { number }
      response { satisfied answers { questionKey text questionText question { textEn } } } } } }"""
    found = data(await admin.gql(query, {"id": ticket["id"]}))["ticket"]["survey"]
    assert found["status"] == "SENT"
    assert found["subject"]["number"] == ticket["number"]
    assert found["response"] is None
    (invitation,) = await invitations(admin)
    await add_response(admin, db_id(invitation["id"]), satisfied=False, comment="Too slow")
    found = data(await admin.gql(query, {"id": ticket["id"]}))["ticket"]["survey"]
    assert found["response"]["satisfied"] is False
    (answer,) = found["response"]["answers"]
    assert (answer["questionKey"], answer["text"]) == ("comment", "Too slow")
    assert answer["questionText"] == answer["question"]["textEn"]
    assert answer["questionText"]
    # Support reads every ticket, but the survey only of the tickets it handled.
    seen = data(await support.gql(query, {"id": ticket["id"]}))
    assert seen == {"ticket": {"survey": None}}
    assert support.user_id is not None
    handled = await resolved_ticket(admin, customer, assignee_id=support.user_id)
    seen = data(await support.gql(query, {"id": handled["id"]}))
    assert seen["ticket"]["survey"]["subject"]["number"] == handled["number"]


async def test_ticket_survey_without_surveys_read_is_refused_not_none(admin: Api) -> None:
    await mutate_ok(
        admin,
        "createRole",
        {
            "name": "Ticket reader",
            "key": "TICKET_READER",
            "grants": [
                {"permission": "tickets:read", "scope": "ALL"},
                {"permission": "customers:read", "scope": "ALL"},
            ],
        },
        "role { id }",
    )
    reader = await admin.user("reader@example.com", ["TICKET_READER"])
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    ticket = await resolved_ticket(admin, customer)
    body = await reader.gql(
        "query($id: ID!) { ticket(id: $id) { number survey { status } } }", {"id": ticket["id"]}
    )
    assert body["data"] == {"ticket": {"number": ticket["number"], "survey": None}}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["ticket", "survey"]


async def test_customer_survey_responses(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    (invitation,) = await send(admin, customerIds=[customer])
    await add_response(admin, db_id(invitation["id"]), satisfied=None, nps=10)
    query = """query($id: ID!) { customer(id: $id) { surveyResponses(first: 10) {
      totalCount edges { node { nps invitation { id } } } } } }"""
    found = data(await admin.gql(query, {"id": customer}))["customer"]["surveyResponses"]
    assert found["totalCount"] == 1
    assert found["edges"][0]["node"] == {"nps": 10, "invitation": {"id": invitation["id"]}}
    finance = await admin.as_role("FINANCE")
    body = await finance.gql(query, {"id": customer})
    assert body["data"] == {"customer": {"surveyResponses": None}}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["customer", "surveyResponses"]


async def test_send_survey_asks_a_repeated_id_once(admin: Api) -> None:
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    (only,) = await send(admin, customerIds=[customer, customer])
    assert only["status"] == "SENT"
    (held,) = await send(admin, "CSAT_SERVICE", contactIds=[contact, contact])
    assert held["skipReason"] == "FATIGUE"
    assert len(await invitations(admin)) == 2


async def test_an_invitation_shows_when_its_link_has_expired(admin: Api, clock: FakeClock) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    (invitation,) = await send(admin, customerIds=[customer])
    query = "query($id: ID!) { node(id: $id) { ... on SurveyInvitation { expired } } }"
    clock.advance(days=14, seconds=-1)
    assert data(await admin.gql(query, {"id": invitation["id"]}))["node"] == {"expired": False}
    clock.advance(seconds=1)
    assert data(await admin.gql(query, {"id": invitation["id"]}))["node"] == {"expired": True}


NESTED = f"""
query($first: Int) {{
  surveyInvitations(first: $first) {{ edges {{ node {{
    {INVITATION} createdBy {{ name }} expired
    response {{ answers {{ questionKey question {{ textEn }} }} customer {{ name }}
      contact {{ name }} template {{ key }} templateVersion {{ number }} subject {{ number }} }}
  }} }} }}
}}"""


async def test_nested_invitations_cost_the_same_for_2_and_6_rows(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE, lasting=True)
    for n in range(6):
        customer = await create_customer(admin, f"Customer {n}")
        await create_contact(admin, customer, f"Contact {n}", f"c{n}@example.com")
        await resolved_ticket(admin, customer, assignee_id=support.user_id)
    for row in await invitations(admin):
        await add_response(
            admin,
            db_id(row["id"]),
            comment="fine",
            answers=[
                {"question_key": "attitude", "kind": "RATING", "dimension": "ATTITUDE", "score": 4},
                {"question_key": "comment", "kind": "TEXT", "text": "fine"},
            ],
        )
    counter = count_statements(admin.db)

    async def cost(first: int) -> int:
        counter.reset()
        edges = data(await admin.gql(NESTED, {"first": first}))["surveyInvitations"]["edges"]
        assert len(edges) == first
        for edge in edges:
            response = edge["node"]["response"]
            assert [a["question"]["textEn"] is not None for a in response["answers"]] == [
                True,
                True,
            ]
            assert edge["node"]["handler"]["id"] == gid("User", support.user_id)
        return counter.count

    assert await cost(2) == await cost(6), counter.statements


async def test_without_the_tickets_plugin_surveys_are_sent_by_hand(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    settings = make_settings(plugins=("surveys",))
    async with running_app(settings, clock=clock) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        customer = await create_customer(admin)
        await create_contact(admin, customer)
        (invitation,) = await send(admin, customerIds=[customer])
        assert invitation["status"] == "SENT"
        body = await admin.gql('{ __type(name: "Ticket") { name } }')
        assert data(body) == {"__type": None}
        assert len(await outbox_mails(admin)) == 1


async def test_the_lists_page_both_ways_in_their_order(admin: Api, clock: FakeClock) -> None:
    made = []
    for n in range(5):
        customer = await create_customer(admin, f"Customer {n}")
        await create_contact(admin, customer, f"C{n}", f"c{n}@example.com")
        (row,) = await send(admin, customerIds=[customer])
        await add_response(admin, db_id(row["id"]), satisfied=None, nps=n, at=clock())
        made.append(row["id"])
        clock.advance(hours=1)
    query = """query($first: Int, $after: String, $last: Int, $before: String) {
      surveyInvitations(first: $first, after: $after, last: $last, before: $before,
        orderBy: [{field: SENT_AT, direction: ASC}]) {
        edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }"""
    assert await admin.walk(query, ["surveyInvitations"], "id") == made
    responses = """query($first: Int, $after: String, $last: Int, $before: String) {
      surveyResponses(first: $first, after: $after, last: $last, before: $before) {
        edges { node { nps } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }"""
    assert await admin.walk(responses, ["surveyResponses"], "nps") == [4, 3, 2, 1, 0]


async def test_the_link_keeps_the_path_of_the_public_url(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    settings = make_settings(
        plugins=("fixture", "tickets", "surveys"), public_url="https://example.com/crm/"
    )
    async with running_app(settings, pm=plugin_manager, clock=clock) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        customer = await create_customer(admin)
        await create_contact(admin, customer)
        await send(admin, customerIds=[customer])
        (mail,) = await outbox_mails(admin)
        async with api.db.read() as session:
            stored = (await session.scalars(select(models.SurveyInvitation))).one()
    (token,) = re.findall(r"https://example\.com/crm/s/([A-Za-z0-9_-]+)", mail["text"])
    assert stored.token_hash == tokens.hash_token(token)
    assert f'href="https://example.com/crm/s/{token}"' in mail["html"]
    assert "//s/" not in mail["text"]


async def test_the_fields_on_customer_and_ticket_are_described(
    make_settings: Callable[..., Settings], plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    settings = make_settings(plugins=("fixture", "tickets", "surveys"), introspection=True)
    query = """query($name: String!) { __type(name: $name) { fields { name description } } }"""
    async with running_app(settings, pm=plugin_manager, clock=clock) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR], lasting=True)
        described = {}
        for type_name, field in (("Customer", "surveyResponses"), ("Ticket", "survey")):
            fields = data(await admin.gql(query, {"name": type_name}))["__type"]["fields"]
            described[field] = next(f["description"] for f in fields if f["name"] == field)
    assert "surveys:read" in described["surveyResponses"]
    assert "latest" in described["survey"]
    assert "surveys:read" in described["survey"]


async def test_an_address_the_mail_layer_refuses_is_no_email(admin: Api) -> None:
    customer = await create_customer(admin)
    contact = await create_contact(admin, customer)
    async with admin.db.transaction() as session:  # as an old import might have left it
        row = await session.get(Contact, db_id(contact))
        assert row is not None
        row.email = "dana at example dot com"
    (invitation,) = await send(admin, customerIds=[customer])
    assert (invitation["status"], invitation["skipReason"]) == ("SKIPPED", "NO_EMAIL")
    assert invitation["email"] is None
    assert await outbox_mails(admin) == []
    async with admin.db.read() as session:
        stored = (await session.scalars(select(models.SurveyInvitation))).one()
    assert (stored.token_hash, stored.sent_at) == (None, None)


async def test_a_broken_mail_template_is_not_passed_off_as_a_missing_address(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from plugins.surveys.service import invitations as service

    customer = await create_customer(admin)
    await create_contact(admin, customer)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise MailError("mail template 'surveys/invitation': 'url' is undefined")

    monkeypatch.setattr(service, "send_email", broken)
    body = await admin.gql(
        "mutation($input: SendSurveyInput!) { sendSurvey(input: $input) "
        "{ invitations { skipReason } errors { field } } }",
        {
            "input": {
                "templateId": gid("SurveyTemplate", await template_id(admin, "CSAT_SERVICE")),
                "customerIds": [customer],
            }
        },
    )
    assert body["data"] == {"sendSurvey": None}
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await invitations(admin) == []  # nothing recorded as NO_EMAIL


async def test_the_token_is_in_the_mail_only_never_in_the_audit_or_the_log(
    admin: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="crm")  # the application's logs (not the SQL driver's)
    caplog.set_level("INFO")
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    await resolved_ticket(admin, customer)
    await send(admin, "NPS_RELATIONSHIP", customerIds=[customer], contactIds=None)
    mails = await outbox_mails(admin)
    found = [re.findall(r"/s/([A-Za-z0-9_-]{20,})", mail["text"]) for mail in mails]
    links = [token for tokens_ in found for token in tokens_]
    assert len(links) == 1  # the second survey was held back (fatigue)
    (token,) = links
    async with admin.db.read() as session:
        audit_rows = (await session.execute(text("SELECT changes FROM audit_events"))).all()
        stored = (await session.scalars(select(models.SurveyInvitation.token_hash))).all()
    audit_text = json.dumps([str(row[0]) for row in audit_rows])
    assert token not in audit_text
    assert all(hashed not in audit_text for hashed in stored if hashed)
    assert token not in caplog.text
    assert token not in json.dumps(stored)
