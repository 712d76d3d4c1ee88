"""Survey responses as CSV and XLSX downloads: the list's rows with its filter and order, a
column per rated dimension, in the caller's scope and time zone."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.plugin_api import FINANCE, SUPPORT_REPRESENTATIVE, User
from plugins.surveys import models
from plugins.surveys.exports import header
from plugins.surveys.test_invitations import (
    add_response,
    create_contact,
    create_customer,
    resolved_ticket,
    send,
)
from plugins.surveys.testing import MONDAY
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, gid

RATINGS: list[dict[str, Any]] = [
    {"question_key": "attitude", "kind": "RATING", "dimension": "ATTITUDE", "score": 5},
    {"question_key": "resolution", "kind": "RATING", "dimension": "RESOLUTION", "score": 2},
    {"question_key": "satisfied", "kind": "YES_NO", "dimension": "SATISFIED", "yes": False},
    {"question_key": "comment", "kind": "TEXT", "text": "=cmd|' /C calc'!A0"},
]


async def download(api: Api, path: str, **params: Any) -> tuple[int, Any]:
    query = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in params.items()}
    response = await api.client.get(path, headers=api.headers, params=query)
    if response.status_code != 200:
        return response.status_code, response.json()
    if path.endswith(".xlsx"):
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        return 200, [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert response.headers["content-type"].startswith("text/csv")
    return 200, list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"), newline="")))


async def fixtures(admin: Api) -> dict[str, Any]:
    acme = await create_customer(admin, "Acme")
    await create_contact(admin, acme, "Dana Reyes", "dana@example.com")
    ticket = await resolved_ticket(admin, acme)
    body = data(
        await admin.gql(
            "query($id: ID!) { ticket(id: $id) { survey { id } } }", {"id": ticket["id"]}
        )
    )
    invitation = body["ticket"]["survey"]["id"]
    first = await add_response(
        admin,
        db_id(invitation),
        satisfied=False,
        comment="=cmd|' /C calc'!A0",
        answers=RATINGS,
        at=MONDAY + dt.timedelta(hours=1),
    )
    other = await create_customer(admin, "Other")
    await create_contact(admin, other, "Kim", "kim@example.com")
    (nps,) = await send(admin, customerIds=[other])
    second = await add_response(
        admin,
        db_id(nps["id"]),
        satisfied=None,
        nps=9,
        answers=[
            {"question_key": "recommend", "kind": "NPS", "dimension": "RECOMMEND", "score": 9}
        ],
        at=MONDAY + dt.timedelta(hours=2),
    )
    return {"acme": acme, "other": other, "ticket": ticket, "first": first, "second": second}


async def test_responses_export_as_csv_with_a_column_per_dimension(admin: Api) -> None:
    made = await fixtures(admin)
    status, rows = await download(admin, "/export/survey-responses.csv")
    assert status == 200
    assert rows[0] == header(["ATTITUDE", "RESOLUTION"], "UTC")
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["response_id"] for r in records] == [
        gid("SurveyResponse", made["second"]),
        gid("SurveyResponse", made["first"]),
    ]  # newest first, as the list
    ticket_row = records[1]
    assert ticket_row["customer_name"] == "Acme"
    assert ticket_row["contact_name"] == "Dana Reyes"
    assert ticket_row["contact_email"] == "dana@example.com"
    assert (ticket_row["template_key"], ticket_row["template_version"]) == ("CSAT_SERVICE", "1")
    assert (ticket_row["subject_kind"], ticket_row["subject_number"]) == (
        "TICKET",
        made["ticket"]["number"],
    )
    assert ticket_row["subject_type"] == "FAULT"
    async with admin.db.read() as session:
        handler_email = await session.scalar(
            select(User.email)
            .join(models.SurveyResponse, models.SurveyResponse.handler_id == User.id)
            .where(models.SurveyResponse.id == made["first"])
        )
    assert ticket_row["handler_email"] == (handler_email or "")
    assert (ticket_row["satisfied"], ticket_row["nps"]) == ("no", "")
    assert (ticket_row["score_ATTITUDE"], ticket_row["score_RESOLUTION"]) == ("5", "2")
    assert ticket_row["comment"] == "'=cmd|' /C calc'!A0"  # a formula stays text
    assert ticket_row["submitted_at (UTC)"].startswith("2026-11-23")
    nps_row = records[0]
    assert (nps_row["nps"], nps_row["satisfied"], nps_row["score_ATTITUDE"]) == ("9", "", "")
    assert nps_row["subject_kind"] == "MANUAL"


async def test_responses_export_follows_filter_and_order_as_xlsx(admin: Api) -> None:
    made = await fixtures(admin)
    status, rows = await download(
        admin,
        "/export/survey-responses.xlsx",
        filter={"customerId": made["other"]},
        orderBy={"field": "SUBMITTED_AT", "direction": "ASC"},
    )
    assert status == 200
    assert rows[0] == header([], "UTC")
    assert len(rows) == 2
    assert rows[1][0] == gid("SurveyResponse", made["second"])


async def test_responses_export_keeps_to_the_callers_scope(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_SURVEYS_FATIGUE_DAYS", "0")
    made = await fixtures(admin)
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    status, rows = await download(support, "/export/survey-responses.csv")
    assert status == 200
    assert len(rows) == 1  # the header only: support handled none of these
    handler = await admin.as_role(SUPPORT_REPRESENTATIVE, lasting=True)
    assert handler.user_id is not None
    handled = await resolved_ticket(admin, made["other"], assignee_id=handler.user_id)
    survey = data(
        await admin.gql(
            "query($id: ID!) { ticket(id: $id) { survey { id } } }", {"id": handled["id"]}
        )
    )["ticket"]["survey"]
    assert survey is not None, "the contact was asked within the fatigue days"
    theirs = await add_response(admin, db_id(survey["id"]), satisfied=True)
    status, rows = await download(handler, "/export/survey-responses.csv")
    assert status == 200
    assert [row[0] for row in rows[1:]] == [gid("SurveyResponse", theirs)]
    finance = await admin.as_role(FINANCE)
    status, body = await download(finance, "/export/survey-responses.csv")
    assert status == 403
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
