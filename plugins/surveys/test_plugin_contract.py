"""The surveys plugin as a plugin: what it adds when enabled and leaves no trace of when not,
the cost of its nested fields on a page of customers, and its demo data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ADMINISTRATOR,
    SUPPORT_REPRESENTATIVE,
    CRMPluginManager,
    Customer,
    Database,
    Settings,
    call_in_turn,
)
from plugins.surveys import demo, models
from plugins.surveys.questions import questions_of
from schema.testkit import Api, StatementCounter, running_app
from schema.testkit_graphql import data
from schema.testkit_tools import make_user

INTROSPECT = """{
  response: __type(name: "SurveyResponse") { name }
  customer: __type(name: "Customer") { fields { name } }
  ticket: __type(name: "Ticket") { fields { name } }
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
  permissions { name module }
  system { modules { name } }
}"""
SURVEY_QUERIES = {
    "surveyTemplates",
    "surveyTemplate",
    "surveyInvitations",
    "surveyResponses",
    "surveyResponse",
    "surveySchedules",
    "surveyStats",
    "frequentNegativeFeedback",
    "improvementActions",
    "improvementAction",
}
SURVEY_MUTATIONS = {
    "createSurveyTemplate",
    "updateSurveyTemplate",
    "setSurveyTemplateActive",
    "sendSurvey",
    "createSurveySchedule",
    "updateSurveySchedule",
    "deleteSurveySchedule",
    "submitSurveyResponse",
    "createImprovementAction",
    "updateImprovementAction",
    "setImprovementActionStatus",
    "deleteImprovementAction",
}
CUSTOMER_FIELDS = {"satisfaction", "surveyResponses"}
PERMISSIONS = {"surveys:read", "surveys:manage"}


async def schema_facts(api: Api) -> dict[str, Any]:
    body = data(await api.gql(INTROSPECT))
    return {
        "response": body["response"],
        "customer": {f["name"] for f in body["customer"]["fields"]},
        "ticket": {f["name"] for f in body["ticket"]["fields"]} if body["ticket"] else None,
        "query": {f["name"] for f in body["query"]["fields"]},
        "mutation": {f["name"] for f in body["mutation"]["fields"]},
        "permissions": {p["name"]: p["module"] for p in body["permissions"]},
        "modules": [m["name"] for m in body["system"]["modules"]],
    }


async def test_enabled_plugin_adds_its_schema_permissions_and_routes(admin: Api) -> None:
    facts = await schema_facts(admin)

    assert facts["response"] == {"name": "SurveyResponse"}
    assert facts["customer"] >= CUSTOMER_FIELDS
    assert "survey" in facts["ticket"]
    assert facts["query"] >= SURVEY_QUERIES
    assert facts["mutation"] >= SURVEY_MUTATIONS
    assert {p: m for p, m in facts["permissions"].items() if p.startswith("surveys:")} == (
        dict.fromkeys(PERMISSIONS, "surveys")
    )
    assert "surveys" in facts["modules"]
    export = await admin.client.get("/export/survey-responses.csv", headers=admin.headers)
    assert export.status_code == 200
    page = await admin.client.get("/s/unknown-token")
    assert page.status_code == 404


async def test_without_the_tickets_plugin_there_is_no_ticket_field(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "surveys"))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR])
        facts = await schema_facts(admin)

        assert facts["ticket"] is None
        assert facts["query"] >= SURVEY_QUERIES
        assert facts["customer"] >= CUSTOMER_FIELDS


async def test_disabled_plugin_leaves_no_trace(
    make_settings: Callable[..., Settings], crm_extra_plugins: Mapping[str, Any]
) -> None:
    settings = make_settings(plugins=("fixture", "tickets"))
    async with running_app(settings, extra_plugins=crm_extra_plugins) as api:
        admin = await api.user("admin@example.com", [ADMINISTRATOR])
        facts = await schema_facts(admin)

        assert facts["response"] is None
        assert not CUSTOMER_FIELDS & facts["customer"]
        assert "survey" not in facts["ticket"]
        assert not SURVEY_QUERIES & facts["query"]
        assert not SURVEY_MUTATIONS & facts["mutation"]
        assert not any(name.startswith("surveys:") for name in facts["permissions"])
        assert "surveys" not in facts["modules"]
        page = await admin.client.get("/s/some-token")
        assert page.status_code == 404
        assert "survey" not in page.text.lower()
        export = await admin.client.get("/export/survey-responses.csv", headers=admin.headers)
        assert export.status_code == 404
        async with admin.db.read() as session:
            tables = await session.run_sync(
                lambda sync: set(inspect(sync.connection()).get_table_names())
            )
        assert not {t for t in tables if t.startswith("survey")}
        assert "tickets" in tables


# --- a page of customers with their satisfaction ---------------------------------------------

NESTED = """
query($first: Int!) {
  customers(first: $first) {
    edges {
      node {
        number
        satisfaction { csat nps responses lastResponseAt }
        surveyResponses(first: 3) {
          edges { node { submittedAt satisfied nps handler { name } answers { dimension score } } }
        }
      }
    }
  }
}"""


async def load_demo_data(
    pm: CRMPluginManager, session: AsyncSession, settings: Settings, size: int
) -> None:
    """Core's demo customers and users (``size`` customers), then the plugin's surveys."""
    keep = {"core.customers", "core.identity"}
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in keep]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=size, settings=settings)
    await demo.load(session, size, settings)


async def nested(api: Api, counter: StatementCounter, first: int) -> tuple[int, list[Any]]:
    counter.reset()
    edges: list[Any] = data(await api.gql(NESTED, {"first": first}))["customers"]["edges"]
    assert len(edges) == first
    return counter.count, edges


async def test_nested_survey_fields_cost_the_same_for_5_and_100_customers(
    admin: Api,
    plugin_manager: CRMPluginManager,
    count_statements: Callable[[Database], StatementCounter],
) -> None:
    for n in (1, 2, 3):
        await make_user(admin.db, admin.settings, f"agent{n}@example.com", [SUPPORT_REPRESENTATIVE])
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 120)
    counter = count_statements(admin.db)
    await nested(admin, counter, 1)  # the token's first use is recorded once, not counted

    small, _ = await nested(admin, counter, 5)
    large, edges = await nested(admin, counter, 100)

    assert small == large, counter.statements
    nodes = [edge["node"] for edge in edges]
    answered = [n for n in nodes if n["satisfaction"]["responses"]]
    assert len(answered) > 50
    assert sum(len(n["surveyResponses"]["edges"]) for n in nodes) > 50
    handlers = {
        r["node"]["handler"]["name"]
        for n in nodes
        for r in n["surveyResponses"]["edges"]
        if r["node"]["handler"]
    }
    assert len(handlers) >= 2

    # A support representative (OWN scope: the responses it handled) pays for the scope once,
    # not per customer; both pages hold responses it may see.
    agent = await admin.login("agent1@example.com")
    await nested(agent, counter, 1)
    agent_small, small_edges = await nested(agent, counter, 30)
    agent_large, _ = await nested(agent, counter, 100)
    assert any(edge["node"]["surveyResponses"]["edges"] for edge in small_edges)
    assert agent_small == agent_large, counter.statements


# --- demo data ---------------------------------------------------------------------------------


async def test_demo_data_is_consistent_and_meaningful(
    admin: Api, plugin_manager: CRMPluginManager
) -> None:
    for n in (1, 2, 3):
        await make_user(admin.db, admin.settings, f"agent{n}@example.com", [SUPPORT_REPRESENTATIVE])
    async with admin.db.transaction() as session:
        await load_demo_data(plugin_manager, session, admin.settings, 60)
    now = dt.datetime.now(dt.UTC)

    async with admin.db.read() as session:
        invitations = (await session.scalars(select(models.SurveyInvitation))).all()
        responses = (await session.scalars(select(models.SurveyResponse))).all()
        answers = (await session.scalars(select(models.SurveyAnswer))).all()
        versions = (await session.scalars(select(models.SurveyTemplateVersion))).all()
        kinds = dict((await session.execute(select(Customer.id, Customer.kind))).all())

    by_invitation = {r.invitation_id: r for r in responses}
    for invitation in invitations:
        if invitation.status == "SKIPPED":
            assert invitation.skip_reason is not None
            assert invitation.token_hash is None
            continue
        assert invitation.token_hash is not None
        assert invitation.sent_at is not None
        assert invitation.sent_at <= now
        response = by_invitation.get(invitation.id)
        assert (response is not None) == (invitation.status == "ANSWERED")
        if response is not None:
            assert invitation.sent_at <= response.submitted_at <= now
            assert response.customer_id == invitation.customer_id
            assert response.handler_id == invitation.handler_id
    questions = {v.id: {q.key: q for q in questions_of(v.questions)} for v in versions}
    answers_of: dict[int, list[models.SurveyAnswer]] = {}
    for answer in answers:
        answers_of.setdefault(answer.response_id, []).append(answer)
    for response in responses:
        asked = questions[response.template_version_id]
        given = answers_of[response.id]
        assert {a.question_key for a in given} == set(asked)
        scores = [a.score for a in given if a.kind == "RATING"]
        assert all(score is not None and 1 <= score <= 5 for score in scores)
        low = (
            response.satisfied is False
            or any(score is not None and score <= 2 for score in scores)
            or (response.nps is not None and response.nps <= 6)
        )
        assert response.low_scored == low
    # Spread over months, handlers, customer kinds and both languages; some skipped.
    months = {(r.submitted_at.year, r.submitted_at.month) for r in responses}
    assert len(months) >= 4
    assert len({r.handler_id for r in responses if r.handler_id}) >= 2
    assert len({kinds[r.customer_id] for r in responses}) >= 2
    assert {r.locale for r in responses} == {"en", "zh-CN"}
    assert any(r.low_scored and r.comment for r in responses)
    assert any(i.status == "SENT" for i in invitations)
