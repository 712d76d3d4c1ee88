"""Answering a survey through ``submitSurveyResponse`` (public, no login): every refused
link and answer, the figures stored, the single use of a link (also under two concurrent
submits on PostgreSQL), its expiry by the controllable clock, the plugin's hook and the
webhook event.

Each test runs on a fresh database on SQLite and (with ``CRM_TEST_POSTGRES_URL``) on
PostgreSQL. The helpers at the top are shared by the plugin's other answering tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.plugin_api import (
    AuditEvent,
    CRMPluginManager,
    RequestContext,
    Settings,
    UserErrorCode,
    UserErrors,
    hookimpl,
)
from plugins.surveys import models
from plugins.surveys.service import answering, tokens
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import data, gid
from schema.testkit_webhooks import WebhookReceiver

ERRORS = "errors { field message code }"
SUBMIT = f"""
mutation($input: SubmitSurveyResponseInput!) {{
  submitSurveyResponse(input: $input) {{ ok {ERRORS} }}
}}"""
SATISFIED: list[dict[str, Any]] = [
    {"questionKey": "response_speed", "score": 5},
    {"questionKey": "resolution", "score": 4},
    {"questionKey": "attitude", "score": 5},
    {"questionKey": "professionalism", "score": 4},
    {"questionKey": "satisfied", "yes": True},
    {"questionKey": "comment", "text": "  Quick and friendly.  "},
]
"""A complete CSAT_SERVICE answer from a satisfied customer."""


# --- helpers shared by the plugin's answering tests -------------------------------------------


async def customer_with_contact(
    admin: Api,
    name: str = "Acme Ltd",
    *,
    email: str | None = "dana@acme.example",
    locale: str | None = None,
) -> tuple[str, str]:
    """A customer and its primary contact (global ids), created through the API."""
    body = await admin.gql(
        f"""mutation($name: String!) {{
          createCustomer(input: {{name: $name}}) {{ customer {{ id }} {ERRORS} }}
        }}""",
        {"name": name},
    )
    customer: str = data(body)["createCustomer"]["customer"]["id"]
    contact_input: dict[str, Any] = {
        "customerId": customer,
        "name": "Dana Reyes",
        "primary": True,
        "email": email,
        "locale": locale,
    }
    body = await admin.gql(
        f"""mutation($input: CreateContactInput!) {{
          createContact(input: $input) {{ contact {{ id }} {ERRORS} }}
        }}""",
        {"input": contact_input},
    )
    payload = data(body)["createContact"]
    assert payload["errors"] == [], payload
    contact: str = payload["contact"]["id"]
    return customer, contact


def db_id(global_id: str) -> int:
    from strawberry import relay

    return int(relay.from_base64(global_id)[1])


async def make_invitation(
    api: Api,
    customer: str,
    contact: str | None,
    now: dt.datetime,
    *,
    template: str = "CSAT_SERVICE",
    subject_kind: str = "MANUAL",
    subject_id: int | None = None,
    subject_number: str | None = None,
    handler_id: int | None = None,
    days: int = 14,
    locale: str = "en",
) -> tuple[str, int]:
    """A SENT invitation (inserted as the invitation service would) and its link's token."""
    token, token_hash = tokens.new_token()
    async with api.db.transaction() as session:
        found = await session.scalar(
            select(models.SurveyTemplate).where(models.SurveyTemplate.key == template)
        )
        assert found is not None, template
        version = await session.scalar(
            select(models.SurveyTemplateVersion).where(
                models.SurveyTemplateVersion.template_id == found.id,
                models.SurveyTemplateVersion.number == found.current_version,
            )
        )
        assert version is not None
        invitation = models.SurveyInvitation(
            template_id=found.id,
            template_version_id=version.id,
            customer_id=db_id(customer),
            contact_id=db_id(contact) if contact else None,
            email="dana@acme.example",
            locale=locale,
            subject_kind=subject_kind,
            subject_id=subject_id,
            subject_number=subject_number,
            handler_id=handler_id,
            status="SENT",
            token_hash=token_hash,
            expires_at=now + dt.timedelta(days=days),
            sent_at=now,
            created_at=now,
        )
        session.add(invitation)
        await session.flush()
        return token, invitation.id


async def add_template(api: Api, key: str, questions: list[dict[str, Any]]) -> None:
    """A template of ``questions`` (their JSON form), version 1."""
    async with api.db.transaction() as session:
        template = models.SurveyTemplate(
            key=key,
            purpose="GENERAL",
            name_en=f"{key} survey",
            name_zh=f"{key} 调查",
            current_version=1,
            version=1,
        )
        session.add(template)
        await session.flush()
        session.add(
            models.SurveyTemplateVersion(template_id=template.id, number=1, questions=questions)
        )


def question(key: str, kind: str, required: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "kind": kind,
        "dimension": extra.pop("dimension", None),
        "required": required,
        "text_en": f"{key}?",
        "text_zh": f"{key}？",
        **extra,
    }


EVERY_KIND = [
    question("speed", "RATING", dimension="RESPONSE_SPEED"),
    question("recommend", "NPS", dimension="RECOMMEND"),
    question("ok", "YES_NO", dimension="SATISFIED"),
    question(
        "channel",
        "CHOICE",
        choices=[
            {"key": "PHONE", "text_en": "Phone", "text_zh": "电话"},
            {"key": "EMAIL", "text_en": "E-mail", "text_zh": "电子邮件"},
        ],
    ),
    question("better", "TEXT", required=False),
    question("worse", "TEXT", required=False),
]
"""A template asking every kind of question (added by :func:`add_template`)."""


async def submit(api: Api, token: str, answers: list[dict[str, Any]]) -> dict[str, Any]:
    payload: dict[str, Any] = data(
        await api.gql(SUBMIT, {"input": {"token": token, "answers": answers}})
    )["submitSurveyResponse"]
    return payload


async def refused(api: Api, token: str, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    payload = await submit(api, token, answers)
    assert payload["ok"] is False, payload
    assert payload["errors"], payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


async def responses(api: Api) -> list[models.SurveyResponse]:
    async with api.db.read() as session:
        return list(
            (
                await session.scalars(
                    select(models.SurveyResponse).order_by(models.SurveyResponse.id)
                )
            ).all()
        )


async def stored_answers(api: Api, response_id: int) -> dict[str, models.SurveyAnswer]:
    async with api.db.read() as session:
        rows = await session.scalars(
            select(models.SurveyAnswer).where(models.SurveyAnswer.response_id == response_id)
        )
        return {row.question_key: row for row in rows}


async def invitation_of(api: Api, invitation_id: int) -> models.SurveyInvitation:
    async with api.db.read() as session:
        found = await session.get(models.SurveyInvitation, invitation_id)
        assert found is not None
        return found


# --- fixtures ----------------------------------------------------------------------------------


class Listener:
    """A plugin listening to ``crm_survey_response_submitted``."""

    def __init__(self) -> None:
        self.heard: list[tuple[int, bool | None, str | None, bool]] = []
        self.refuse = False

    @hookimpl
    async def crm_survey_response_submitted(
        self, session: Any, response: models.SurveyResponse, context: RequestContext | None
    ) -> None:
        if self.refuse:
            raise UserErrors.single(None, "the listener refuses", UserErrorCode.BUSINESS_RULE)
        self.heard.append(
            (
                response.id,
                response.satisfied,
                response.comment,
                context is not None and context.caller is None,
            )
        )


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "tickets", "surveys"), webhooks_allow_private=True)


@pytest.fixture
def listener(plugin_manager: CRMPluginManager) -> Listener:
    heard = Listener()
    plugin_manager.register(heard, name="survey-listener")
    return heard


@pytest.fixture
async def customer(admin: Api) -> tuple[str, str]:
    return await customer_with_contact(admin)


# --- a response --------------------------------------------------------------------------------


async def test_a_satisfied_answer_is_stored_with_its_figures_without_login(
    api: Api, customer: tuple[str, str], clock: FakeClock, listener: Listener
) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())
    clock.advance(hours=3)

    payload = await submit(api, token, SATISFIED)  # ``api`` sends no token: anonymous

    assert payload == {"ok": True, "errors": []}
    (response,) = await responses(api)
    assert response.invitation_id == invitation_id
    assert response.customer_id == db_id(customer[0])
    assert response.contact_id == db_id(customer[1])
    assert response.subject_kind == "MANUAL"
    assert response.submitted_at == clock()
    assert (response.satisfied, response.nps, response.low_scored) == (True, None, False)
    assert response.comment == "Quick and friendly."
    answers = await stored_answers(api, response.id)
    assert {key: (a.kind, a.dimension, a.score) for key, a in answers.items() if a.score} == {
        "response_speed": ("RATING", "RESPONSE_SPEED", 5),
        "resolution": ("RATING", "RESOLUTION", 4),
        "attitude": ("RATING", "ATTITUDE", 5),
        "professionalism": ("RATING", "PROFESSIONALISM", 4),
    }
    assert (answers["satisfied"].yes, answers["comment"].text) == (True, "Quick and friendly.")
    invitation = await invitation_of(api, invitation_id)
    assert (invitation.status, invitation.answered_at) == ("ANSWERED", clock())
    assert listener.heard == [(response.id, True, "Quick and friendly.", True)]


async def test_the_answer_is_audited_as_the_respondent_without_the_token(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())

    assert (await submit(api, token, SATISFIED))["ok"] is True

    (response,) = await responses(api)
    async with api.db.read() as session:
        (event,) = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "survey_response.submitted")
            )
        ).all()
    assert (event.entity_type, event.entity_id) == ("SurveyResponse", str(response.id))
    assert (event.actor_id, event.actor_label) == (None, answering.RESPONDENT)
    assert event.client_address == "127.0.0.1"
    assert event.occurred_at == clock()
    assert event.changes == {
        "invitationId": gid("SurveyInvitation", invitation_id),
        "lowScored": False,
    }
    assert token not in str(event.changes)
    assert tokens.hash_token(token) not in str(event.changes)


async def test_the_payload_tells_nothing_about_the_customer(api: Api, admin: Api) -> None:
    body = await admin.gql('{ __type(name: "SubmitSurveyResponsePayload") { fields { name } } }')
    assert {field["name"] for field in data(body)["__type"]["fields"]} == {"ok", "errors"}


@pytest.mark.parametrize(
    ("answers", "figures"),
    [
        # A low rating marks the response low scored, though satisfied.
        ({"speed": 2, "recommend": 9, "ok": True}, (True, 9, True)),
        ({"speed": 3, "recommend": 9, "ok": True}, (True, 9, False)),
        # Not satisfied.
        ({"speed": 5, "recommend": 10, "ok": False}, (False, 10, True)),
        # A detractor (0-6); a passive (7) is not low.
        ({"speed": 5, "recommend": 6, "ok": True}, (True, 6, True)),
        ({"speed": 5, "recommend": 7, "ok": True}, (True, 7, False)),
    ],
)
async def test_low_scored_satisfied_and_nps_are_computed(
    api: Api,
    customer: tuple[str, str],
    clock: FakeClock,
    answers: dict[str, Any],
    figures: tuple[bool, int, bool],
) -> None:
    await add_template(api, "EVERY", EVERY_KIND)
    token, _id = await make_invitation(api, *customer, clock(), template="EVERY")

    payload = await submit(
        api,
        token,
        [
            {"questionKey": "speed", "score": answers["speed"]},
            {"questionKey": "recommend", "score": answers["recommend"]},
            {"questionKey": "ok", "yes": answers["ok"]},
            {"questionKey": "channel", "choice": "EMAIL"},
            {"questionKey": "better", "text": "Faster replies"},
            {"questionKey": "worse", "text": "Hold music"},
        ],
    )

    assert payload["errors"] == []
    (response,) = await responses(api)
    assert (response.satisfied, response.nps, response.low_scored) == figures
    assert response.comment == "Faster replies\n\nHold music"
    assert (await stored_answers(api, response.id))["channel"].choice == "EMAIL"


async def test_optional_questions_may_be_left_out_and_empty_text_is_no_answer(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    token, _id = await make_invitation(api, *customer, clock())
    answers = [a for a in SATISFIED if a["questionKey"] != "comment"]

    payload = await submit(api, token, [*answers, {"questionKey": "comment", "text": "   "}])

    assert payload["errors"] == []
    (response,) = await responses(api)
    assert response.comment is None
    assert "comment" not in await stored_answers(api, response.id)


# --- refused links -----------------------------------------------------------------------------


async def test_an_unknown_or_overlong_token_is_refused_naming_the_token(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    token, _id = await make_invitation(api, *customer, clock())

    for wrong in ("nothing-like-it", token[:-1], "", token + "x" * 200):
        errors = await refused(api, wrong, SATISFIED)
        assert errors == [
            {"field": "token", "message": "this survey link is not valid", "code": "INVALID"}
        ]
    assert await responses(api) == []


async def test_a_link_answers_once(api: Api, customer: tuple[str, str], clock: FakeClock) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())
    assert (await submit(api, token, SATISFIED))["ok"] is True
    clock.advance(days=1)

    errors = await refused(api, token, SATISFIED)

    assert errors == [
        {
            "field": "token",
            "message": "this survey was already answered on 2026-11-23",
            "code": "DUPLICATE",
        }
    ]
    assert len(await responses(api)) == 1
    assert (await invitation_of(api, invitation_id)).answered_at == clock() - dt.timedelta(days=1)


async def test_a_link_expires_by_the_clock(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    token, _id = await make_invitation(api, *customer, clock(), days=14)
    other, _other_id = await make_invitation(api, *customer, clock(), days=14)
    clock.advance(days=14, seconds=-1)
    assert (await submit(api, token, SATISFIED))["ok"] is True  # one second before
    clock.advance(seconds=1)

    errors = await refused(api, other, SATISFIED)  # at the moment it expires

    assert errors == [
        {"field": "token", "message": "this survey link expired on 2026-12-07", "code": "INVALID"}
    ]
    assert len(await responses(api)) == 1


async def test_a_skipped_invitation_has_no_working_link(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())
    async with api.db.transaction() as session:
        invitation = await session.get(models.SurveyInvitation, invitation_id)
        assert invitation is not None
        invitation.status, invitation.skip_reason = "SKIPPED", "FATIGUE"

    errors = await refused(api, token, SATISFIED)

    assert [e["field"] for e in errors] == ["token"]


async def test_a_link_cut_short_after_it_was_read_is_refused_as_expired(
    api: Api,
    customer: tuple[str, str],
    clock: FakeClock,
    listener: Listener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The link is read as open, then expires before the answers are stored (a new round of
    the ticket's survey cuts the old link short): the claim itself checks the expiry."""
    token, invitation_id = await make_invitation(api, *customer, clock())
    opened = answering.open_invitation

    async def open_then_cut_short(session: Any, *args: Any) -> Any:
        found = await opened(session, *args)
        await session.execute(
            update(models.SurveyInvitation)
            .where(models.SurveyInvitation.id == invitation_id)
            .values(expires_at=clock())
            .execution_options(synchronize_session=False)
        )
        return found

    monkeypatch.setattr(answering, "open_invitation", open_then_cut_short)

    errors = await refused(api, token, SATISFIED)

    assert errors == [
        {"field": "token", "message": "this survey link expired on 2026-11-23", "code": "INVALID"}
    ]
    assert await responses(api) == []
    assert listener.heard == []
    assert (await invitation_of(api, invitation_id)).status == "SENT"


# --- refused answers ---------------------------------------------------------------------------


def replaced(key: str, **answer: Any) -> list[dict[str, Any]]:
    """The satisfied answers with the one to ``key`` replaced."""
    return [{"questionKey": key, **answer} if a["questionKey"] == key else a for a in SATISFIED]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (replaced("attitude", score=0), [("answers.2.score", "OUT_OF_RANGE")]),
        (replaced("attitude", score=6), [("answers.2.score", "OUT_OF_RANGE")]),
        (replaced("satisfied", score=1), [("answers.4.score", "INVALID")]),
        (replaced("attitude", yes=True), [("answers.2.yes", "INVALID")]),
        (replaced("comment", text="x" * 5001), [("answers.5.text", "TOO_LONG")]),
        (
            [*SATISFIED, {"questionKey": "mood", "score": 3}],
            [("answers.6.questionKey", "INVALID")],
        ),
        (
            [*SATISFIED, {"questionKey": "attitude", "score": 3}],
            [("answers.6.questionKey", "DUPLICATE")],
        ),
        (
            [*SATISFIED, {"questionKey": " ", "score": 3}],
            [("answers.6.questionKey", "REQUIRED")],
        ),
        (
            [a for a in SATISFIED if a["questionKey"] not in ("resolution", "satisfied")],
            [("answers.resolution", "REQUIRED"), ("answers.satisfied", "REQUIRED")],
        ),
        (replaced("satisfied"), [("answers.satisfied", "REQUIRED")]),
        ([{"questionKey": "attitude", "score": 3}] * 101, [("answers", "TOO_LONG")]),
    ],
)
async def test_each_refused_answer_is_named(
    api: Api,
    customer: tuple[str, str],
    clock: FakeClock,
    answers: list[dict[str, Any]],
    expected: list[tuple[str, str]],
) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())

    errors = await refused(api, token, answers)

    assert [(e["field"], e["code"]) for e in errors] == expected
    assert await responses(api) == []
    assert (await invitation_of(api, invitation_id)).status == "SENT"
    assert (await submit(api, token, SATISFIED))["ok"] is True  # the link still works


async def test_nps_and_choice_answers_are_checked(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    await add_template(api, "EVERY", EVERY_KIND)
    token, _id = await make_invitation(api, *customer, clock(), template="EVERY")

    errors = await refused(
        api,
        token,
        [
            {"questionKey": "speed", "score": 4},
            {"questionKey": "recommend", "score": 11},
            {"questionKey": "ok", "yes": False},
            {"questionKey": "channel", "choice": "FAX"},
        ],
    )

    assert errors == [
        {"field": "answers.1.score", "message": "must be from 0 to 10", "code": "OUT_OF_RANGE"},
        {
            "field": "answers.3.choice",
            "message": "must be one of PHONE, EMAIL",
            "code": "INVALID",
        },
    ]
    errors = await refused(api, token, [{"questionKey": "recommend", "score": -1}])
    assert [(e["field"], e["code"]) for e in errors] == [
        ("answers.0.score", "OUT_OF_RANGE"),
        ("answers.speed", "REQUIRED"),
        ("answers.ok", "REQUIRED"),
        ("answers.channel", "REQUIRED"),
    ]


async def test_messages_follow_the_callers_language(
    api: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    body = await api.gql(
        SUBMIT,
        {"input": {"token": "unknown", "answers": SATISFIED}},
        headers={"Accept-Language": "zh-CN"},
    )
    (error,) = data(body)["submitSurveyResponse"]["errors"]
    assert error == {"field": "token", "message": "此调查链接无效", "code": "INVALID"}


# --- the hook and the webhook ------------------------------------------------------------------


async def test_a_listener_that_refuses_undoes_the_response(
    api: Api, customer: tuple[str, str], clock: FakeClock, listener: Listener
) -> None:
    token, invitation_id = await make_invitation(api, *customer, clock())
    listener.refuse = True

    errors = await refused(api, token, SATISFIED)

    assert errors == [{"field": None, "message": "the listener refuses", "code": "BUSINESS_RULE"}]
    assert await responses(api) == []
    assert (await invitation_of(api, invitation_id)).status == "SENT"


async def test_the_webhook_event_carries_scores_and_ids_not_the_comment(
    api: Api, admin: Api, customer: tuple[str, str], clock: FakeClock
) -> None:
    async with WebhookReceiver() as receiver:
        body = await admin.gql(
            f"""mutation($url: String!) {{
              createWebhookSubscription(input: {{
                url: $url, eventTypes: ["survey.response_submitted"]
              }}) {{ secret {ERRORS} }}
            }}""",
            {"url": receiver.url},
        )
        assert data(body)["createWebhookSubscription"]["errors"] == []
        token, invitation_id = await make_invitation(api, *customer, clock())
        assert (await submit(api, token, SATISFIED))["ok"] is True
        assert await api.deliver_outbox() >= 1
        (request,) = receiver.requests

    event = request.json()
    (response,) = await responses(api)
    assert event["type"] == "survey.response_submitted"
    assert event["data"]["id"] == gid("SurveyResponse", response.id)
    assert event["data"]["invitationId"] == gid("SurveyInvitation", invitation_id)
    assert event["data"]["customerId"] == customer[0]
    assert event["data"]["contactId"] == customer[1]
    assert (event["data"]["satisfied"], event["data"]["lowScored"]) == (True, False)
    assert event["data"]["hasComment"] is True
    assert {s["questionKey"]: s["score"] for s in event["data"]["scores"]} == {
        "response_speed": 5,
        "resolution": 4,
        "attitude": 5,
        "professionalism": 4,
    }
    assert "Quick" not in request.body.decode()
    assert token not in request.body.decode()
    assert "dana" not in request.body.decode().lower()


# --- two submits at once -----------------------------------------------------------------------


async def test_two_concurrent_submits_store_one_response(
    api: Api,
    customer: tuple[str, str],
    clock: FakeClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both read the link as unanswered before either writes; one wins, the other is told
    the survey was answered (PostgreSQL: SQLite's writers take turns in one process)."""
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("two concurrent writers need PostgreSQL")
    token, invitation_id = await make_invitation(api, *customer, clock())
    both_read = asyncio.Barrier(2)
    opened = answering.open_invitation

    async def open_then_wait(*args: Any) -> Any:
        found = await opened(*args)
        await both_read.wait()
        return found

    monkeypatch.setattr(answering, "open_invitation", open_then_wait)
    pm = api.app.state.crm.pm
    answers = [
        answering.Answer(a["questionKey"], a.get("score"), a.get("yes"), None, a.get("text"))
        for a in SATISFIED
    ]

    async def one() -> str:
        try:
            async with api.db.transaction() as session:
                await answering.submit(
                    session,
                    pm,
                    token=token,
                    answers=answers,
                    locale="en",
                    client_address=None,
                    now=clock(),
                    context=None,
                )
        except answering.LinkRefused as refused:
            return refused.state
        return "stored"

    async with asyncio.timeout(60):
        outcomes = await asyncio.gather(one(), one())

    assert sorted(outcomes) == ["answered", "stored"]
    async with api.db.read() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(models.SurveyResponse)
            .where(models.SurveyResponse.invitation_id == invitation_id)
        )
    assert count == 1
