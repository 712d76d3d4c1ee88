"""Survey templates over HTTP: the built-in ones, writing one, every refused input naming
its field, versions made when answered questions change, switching a template off, and who
may do what."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import FINANCE, SUPPORT_REPRESENTATIVE, AuditEvent
from plugins.surveys import models
from plugins.surveys.test_invitations import (
    add_response,
    create_contact,
    create_customer,
    invitations,
    send,
)
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, gid, mutate, mutate_ok, mutate_refused

TEMPLATE = """
template {
  id key purpose nameEn nameZh name active builtIn currentVersionNumber version
  currentVersion { number questions { key kind dimension required textEn textZh text
    choices { key textEn textZh } } }
  versions { number }
}"""
TEMPLATES = "query { surveyTemplates { key builtIn active currentVersion { questions { key } } } }"


def question(key: str = "speed", kind: str = "RATING", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "textEn": f"How was the {key}?",
        "textZh": f"{key} 如何？",
        "required": True,
    }
    if kind == "RATING":
        found["dimension"] = key.upper()
    if kind == "CHOICE":
        found["choices"] = [
            {"key": "phone", "textEn": "Phone", "textZh": "电话"},
            {"key": "mail", "textEn": "Mail", "textZh": "邮件"},
        ]
    return found | extra


def template_input(**extra: Any) -> dict[str, Any]:
    return {
        "key": "ONBOARDING",
        "purpose": "GENERAL",
        "nameEn": "Onboarding survey",
        "nameZh": "入门调查",
        "questions": [
            question("speed"),
            question("channel", "CHOICE"),
            question("happy", "YES_NO", dimension="SATISFIED"),
            question("score", "NPS"),
            question("notes", "TEXT", required=False),
        ],
    } | extra


async def create(admin: Api, **extra: Any) -> dict[str, Any]:
    payload = await mutate_ok(admin, "createSurveyTemplate", template_input(**extra), TEMPLATE)
    found: dict[str, Any] = payload["template"]
    return found


async def test_the_built_in_templates_are_there(admin: Api) -> None:
    found = {row["key"]: row for row in data(await admin.gql(TEMPLATES))["surveyTemplates"]}
    assert found["CSAT_SERVICE"]["builtIn"] is True
    assert [q["key"] for q in found["CSAT_SERVICE"]["currentVersion"]["questions"]] == [
        "response_speed",
        "resolution",
        "attitude",
        "professionalism",
        "satisfied",
        "comment",
    ]
    assert [q["key"] for q in found["NPS_RELATIONSHIP"]["currentVersion"]["questions"]] == [
        "recommend",
        "reason",
    ]


async def test_create_a_template(admin: Api) -> None:
    template = await create(admin, key="onboarding")
    assert template["key"] == "ONBOARDING"
    assert template["builtIn"] is False
    assert template["active"] is True
    assert template["currentVersionNumber"] == 1
    assert template["versions"] == [{"number": 1}]
    questions = template["currentVersion"]["questions"]
    assert [q["kind"] for q in questions] == ["RATING", "CHOICE", "YES_NO", "NPS", "TEXT"]
    assert questions[0]["dimension"] == "SPEED"
    assert questions[1]["choices"][1] == {"key": "mail", "textEn": "Mail", "textZh": "邮件"}
    assert questions[4]["required"] is False
    zh = await admin.gql(
        "query($id: ID!) { surveyTemplate(id: $id) { name } }",
        {"id": template["id"]},
        headers={"Accept-Language": "zh-CN"},
    )
    assert data(zh)["surveyTemplate"]["name"] == "入门调查"
    by_key = data(await admin.gql('query { surveyTemplate(key: "onboarding") { id } }'))
    assert by_key["surveyTemplate"]["id"] == template["id"]
    neither = await admin.gql("query { surveyTemplate { id } }")
    assert neither["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    node = await admin.gql(
        "query($id: ID!) { node(id: $id) { ... on SurveyTemplate { key } } }",
        {"id": template["id"]},
    )
    assert data(node) == {"node": {"key": "ONBOARDING"}}
    async with admin.db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEvent.action).where(AuditEvent.action.like("surveys.template.%"))
            )
        ).all()
    assert actions == ["surveys.template.created"]


def _many(count: int) -> list[dict[str, Any]]:
    return [question(f"q{i}", "TEXT") for i in range(count)]


def _choices(count: int) -> list[dict[str, Any]]:
    return [{"key": f"c{i}", "textEn": f"C{i}", "textZh": f"C{i}"} for i in range(count)]


REFUSALS = [
    ({"key": "X"}, "key", "INVALID"),
    ({"key": "1ABC"}, "key", "INVALID"),
    ({"key": "A" * 41}, "key", "INVALID"),
    ({"key": "CSAT_SERVICE"}, "key", "DUPLICATE"),
    ({"nameEn": " "}, "nameEn", "REQUIRED"),
    ({"nameZh": ""}, "nameZh", "REQUIRED"),
    ({"nameEn": "n" * 201}, "nameEn", "TOO_LONG"),
    ({"questions": []}, "questions", "OUT_OF_RANGE"),
    ({"questions": _many(51)}, "questions", "OUT_OF_RANGE"),
    ({"questions": [question("Bad Key", "TEXT")]}, "questions.0.key", "INVALID"),
    ({"questions": [question("a", "TEXT"), question("a", "TEXT")]}, "questions.1.key", "DUPLICATE"),
    ({"questions": [question("r", dimension=None)]}, "questions.0.dimension", "REQUIRED"),
    ({"questions": [question("r", dimension="bad dim")]}, "questions.0.dimension", "INVALID"),
    (
        {"questions": [question("t", "TEXT"), question("c", "CHOICE", choices=_choices(1))]},
        "questions.1.choices",
        "OUT_OF_RANGE",
    ),
    (
        {
            "questions": [
                question("t", "TEXT"),
                question("x", "TEXT"),
                question("c", "CHOICE", choices=_choices(21)),
            ]
        },
        "questions.2.choices",
        "OUT_OF_RANGE",
    ),
    (
        {"questions": [question("c", "CHOICE", choices=[*_choices(2), _choices(1)[0]])]},
        "questions.0.choices.2.key",
        "DUPLICATE",
    ),
    (
        {
            "questions": [
                question(
                    "c",
                    "CHOICE",
                    choices=[{"key": "ok", "textEn": "", "textZh": "z"}, *_choices(1)],
                )
            ]
        },
        "questions.0.choices.0.textEn",
        "REQUIRED",
    ),
    ({"questions": [question("t", "TEXT", choices=_choices(2))]}, "questions.0.choices", "INVALID"),
    ({"questions": [question("t", "TEXT", textEn="")]}, "questions.0.textEn", "REQUIRED"),
    ({"questions": [question("t", "TEXT", textZh="z" * 501)]}, "questions.0.textZh", "TOO_LONG"),
    (
        {
            "questions": [
                question("a", "YES_NO", dimension="SATISFIED"),
                question("b", "YES_NO", dimension="SATISFIED"),
            ]
        },
        "questions.1.dimension",
        "DUPLICATE",
    ),
    (
        {"questions": [question("overall", "RATING", dimension="SATISFIED")]},
        "questions.0.dimension",
        "INVALID",
    ),
    (
        {"questions": [question("t", "TEXT"), question("n", "NPS", dimension="satisfied")]},
        "questions.1.dimension",
        "INVALID",
    ),
]


@pytest.mark.parametrize(("change", "field", "code"), REFUSALS)
async def test_create_refuses_bad_input_naming_the_field(
    admin: Api, change: dict[str, Any], field: str, code: str
) -> None:
    errors = await mutate_refused(admin, "createSurveyTemplate", template_input(**change), TEMPLATE)
    assert (field, code) in [(e["field"], e["code"]) for e in errors], errors
    keys = [row["key"] for row in data(await admin.gql(TEMPLATES))["surveyTemplates"]]
    assert "ONBOARDING" not in keys


async def test_an_unknown_purpose_is_refused_by_the_schema(admin: Api) -> None:
    body = await admin.gql(
        "mutation($input: CreateSurveyTemplateInput!) { createSurveyTemplate(input: $input) "
        "{ errors { field } } }",
        {"input": template_input(purpose="SOMETHING")},
    )
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_editing_an_unanswered_template_edits_its_version_in_place(admin: Api) -> None:
    template = await create(admin)
    payload = await mutate_ok(
        admin,
        "updateSurveyTemplate",
        {
            "id": template["id"],
            "version": template["version"],
            "nameEn": "First days",
            "questions": [question("speed"), question("comment", "TEXT")],
        },
        TEMPLATE,
    )
    updated = payload["template"]
    assert updated["nameEn"] == "First days"
    assert updated["nameZh"] == "入门调查"
    assert updated["version"] == template["version"] + 1
    assert updated["currentVersionNumber"] == 1
    assert updated["versions"] == [{"number": 1}]
    assert [q["key"] for q in updated["currentVersion"]["questions"]] == ["speed", "comment"]


async def test_editing_an_answered_template_makes_a_new_version(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    (invitation,) = await send(admin, "CSAT_SERVICE", customerIds=[customer])
    response_id = await add_response(admin, db_id(invitation["id"]), comment="ok")
    current = data(await admin.gql('query { surveyTemplate(key: "CSAT_SERVICE") { id version } }'))[
        "surveyTemplate"
    ]
    payload = await mutate_ok(
        admin,
        "updateSurveyTemplate",
        {
            "id": current["id"],
            "version": current["version"],
            "questions": [question("speed"), question("comment", "TEXT", required=False)],
        },
        TEMPLATE,
    )
    updated = payload["template"]
    assert updated["builtIn"] is True
    assert updated["currentVersionNumber"] == 2
    assert updated["versions"] == [{"number": 2}, {"number": 1}]
    found = data(
        await admin.gql(
            "query($id: ID!) { surveyResponse(id: $id) { templateVersion { number } } }",
            {"id": gid("SurveyResponse", response_id)},
        )
    )
    assert found["surveyResponse"]["templateVersion"]["number"] == 1
    # A later invitation asks the new version; a further edit while none was sent with it
    # stays at 2 (a skipped invitation asked nobody).
    skipped = await create_customer(admin, "No contact")
    (held,) = await send(admin, "CSAT_SERVICE", customerIds=[skipped])
    assert (held["status"], held["templateVersion"]["number"]) == ("SKIPPED", 2)
    payload = await mutate_ok(
        admin,
        "updateSurveyTemplate",
        {"id": current["id"], "version": updated["version"], "questions": [question("speed")]},
        TEMPLATE,
    )
    assert payload["template"]["currentVersionNumber"] == 2
    assert [q["key"] for q in payload["template"]["currentVersion"]["questions"]] == ["speed"]


async def test_a_version_with_a_link_out_is_not_edited_under_it(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    (invitation,) = await send(admin, "NPS_RELATIONSHIP", customerIds=[customer])
    assert invitation["status"] == "SENT"
    current = data(
        await admin.gql('query { surveyTemplate(key: "NPS_RELATIONSHIP") { id version } }')
    )["surveyTemplate"]
    payload = await mutate_ok(
        admin,
        "updateSurveyTemplate",
        {"id": current["id"], "version": current["version"], "questions": [question("speed")]},
        TEMPLATE,
    )
    assert payload["template"]["currentVersionNumber"] == 2
    asked = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on SurveyInvitation { templateVersion "
            "{ number questions { key } } } } }",
            {"id": invitation["id"]},
        )
    )["node"]["templateVersion"]
    assert asked == {"number": 1, "questions": [{"key": "recommend"}, {"key": "reason"}]}


async def test_a_stale_version_is_a_conflict(admin: Api) -> None:
    template = await create(admin)
    await mutate_ok(
        admin, "updateSurveyTemplate", {"id": template["id"], "version": 1, "nameEn": "A"}, TEMPLATE
    )
    payload = await mutate(
        admin, "updateSurveyTemplate", {"id": template["id"], "version": 1, "nameEn": "B"}, TEMPLATE
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("version", "CONFLICT")]
    assert payload["template"]["nameEn"] == "A"


async def test_update_refuses_bad_input(admin: Api) -> None:
    template = await create(admin)
    errors = await mutate_refused(
        admin,
        "updateSurveyTemplate",
        {"id": template["id"], "version": 1, "nameZh": "", "questions": []},
        TEMPLATE,
    )
    assert {(e["field"], e["code"]) for e in errors} == {
        ("nameZh", "REQUIRED"),
        ("questions", "OUT_OF_RANGE"),
    }
    body = await admin.gql(
        "mutation($input: UpdateSurveyTemplateInput!) { updateSurveyTemplate(input: $input) "
        "{ errors { field } } }",
        {"input": {"id": gid("SurveyTemplate", 999), "version": 1}},
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert body["errors"][0]["extensions"]["argument"] == "input.id"


async def test_switching_a_template_off_and_on(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    template = await create(admin)
    off = await mutate_ok(
        admin,
        "setSurveyTemplateActive",
        {"id": template["id"], "version": 1, "active": False},
        TEMPLATE,
    )
    assert off["template"]["active"] is False
    errors = await mutate_refused(
        admin,
        "sendSurvey",
        {"templateId": template["id"], "customerIds": [customer]},
        "invitations { id }",
    )
    assert errors[0]["field"] == "templateId"
    again = await mutate_refused(
        admin,
        "setSurveyTemplateActive",
        {"id": template["id"], "version": 2, "active": False},
        TEMPLATE,
    )
    assert again[0]["code"] == "INVALID_TRANSITION"
    on = await mutate_ok(
        admin,
        "setSurveyTemplateActive",
        {"id": template["id"], "version": 2, "active": True},
        TEMPLATE,
    )
    assert on["template"]["active"] is True
    (sent,) = await send(admin, "ONBOARDING", customerIds=[customer])
    assert sent["status"] == "SENT"
    listed = data(await admin.gql("query { surveyTemplates(filter: {active: false}) { key } }"))[
        "surveyTemplates"
    ]
    assert listed == []


async def test_template_changes_need_surveys_manage_and_reading_needs_a_survey_grant(
    admin: Api,
) -> None:
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    body = await support.gql(
        "mutation($input: CreateSurveyTemplateInput!) { createSurveyTemplate(input: $input) "
        "{ errors { field } } }",
        {"input": template_input()},
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(data(await support.gql(TEMPLATES))["surveyTemplates"]) == 2
    finance = await admin.as_role(FINANCE)
    body = await finance.gql(TEMPLATES)
    assert body["data"] == {"surveyTemplates": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with admin.db.read() as session:
        assert (await session.scalars(select(models.SurveyTemplate))).all()
    assert await invitations(admin) == []


async def test_the_same_questions_again_make_no_new_version(admin: Api) -> None:
    customer = await create_customer(admin)
    await create_contact(admin, customer)
    (invitation,) = await send(admin, "NPS_RELATIONSHIP", customerIds=[customer])
    assert invitation["status"] == "SENT"
    body = await admin.gql(
        'query { surveyTemplate(key: "NPS_RELATIONSHIP") { id version currentVersion { '
        "questions { key kind dimension required textEn textZh choices { key textEn textZh } } "
        "} } }"
    )
    current = data(body)["surveyTemplate"]
    questions = [
        {k: v for k, v in q.items() if not (k == "choices" and not v)}
        for q in current["currentVersion"]["questions"]
    ]
    payload = await mutate_ok(
        admin,
        "updateSurveyTemplate",
        {
            "id": current["id"],
            "version": current["version"],
            "nameEn": "Would you recommend us?",
            "questions": questions,
        },
        TEMPLATE,
    )
    assert payload["template"]["currentVersionNumber"] == 1
    assert payload["template"]["versions"] == [{"number": 1}]
    assert payload["template"]["nameEn"] == "Would you recommend us?"
