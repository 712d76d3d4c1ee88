"""The public answer page under odd requests: other HTTP methods, bodies that are not the
form (not UTF-8, a field twice, control characters), tokens with odd characters, markup in a
template's texts, the language a browser asks for with odd q-values, and the token kept out
of the access log.

Runs on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from core.plugin_api import UserError, UserErrorCode, UserErrors
from plugins.surveys import models
from plugins.surveys.page import render
from plugins.surveys.service import answering
from plugins.surveys.test_answering import (
    customer_with_contact,
    make_invitation,
    question,
    responses,
)
from plugins.surveys.test_page import FORM, GOOD, parsed
from schema.testkit import Api, FakeClock


@pytest.fixture
async def link(api: Api, admin: Api, clock: FakeClock) -> tuple[str, int]:
    return await make_invitation(api, *await customer_with_contact(admin), clock())


# --- methods -----------------------------------------------------------------------------------


async def test_head_is_answered_like_get_and_other_methods_are_405(
    api: Api, link: tuple[str, int]
) -> None:
    token, _id = link

    head = await api.client.head(f"/s/{token}")
    put = await api.client.put(f"/s/{token}", content=urlencode(GOOD), headers=FORM)
    delete = await api.client.delete(f"/s/{token}")
    posted_thanks = await api.client.post(f"/s/{token}/thanks", content="", headers=FORM)

    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["referrer-policy"] == "no-referrer"
    assert (put.status_code, put.headers["allow"]) == (405, "GET, HEAD, POST")
    assert delete.status_code == 405
    assert put.headers["referrer-policy"] == "no-referrer"
    assert (posted_thanks.status_code, posted_thanks.headers["allow"]) == (405, "GET, HEAD")
    assert await responses(api) == []


async def test_the_token_stays_out_of_the_access_log(
    api: Api, link: tuple[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    token, _id = link
    with caplog.at_level(logging.INFO, logger="crm.access"):
        await api.client.get(f"/s/{token}?lang=en")
        await api.client.put(f"/s/{token}")
        sent = await api.client.post(f"/s/{token}", content=urlencode(GOOD), headers=FORM)
        await api.client.get(sent.headers["location"])

    logged = [record for record in caplog.records if record.name == "crm.access"]
    assert [(r.__dict__["method"], r.__dict__["path"], r.__dict__["status"]) for r in logged] == [
        ("GET", "/s/{token}", 200),
        ("PUT", "/s/{token}", 405),
        ("POST", "/s/{token}", 303),
        ("GET", "/s/{token}/thanks", 200),
    ]
    assert all(token not in str(record.__dict__) for record in caplog.records)


# --- bodies ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        urlencode(GOOD).encode() + b"&q.extra=%FF%FE",  # percent-encoded bytes, not UTF-8
        urlencode({**GOOD, "q.comment": "x"}).encode() + b"&q.comment2=\xff",  # raw bytes
        urlencode(GOOD).encode() + b"&q.satisfied=no",  # a question answered twice
    ],
    ids=["percent-encoded", "raw", "repeated"],
)
async def test_a_body_that_is_not_the_form_is_refused_whole(
    api: Api, link: tuple[str, int], body: bytes
) -> None:
    token, _id = link

    page = await api.client.post(f"/s/{token}", content=body, headers=FORM)

    assert page.status_code == 400
    assert "The answers could not be read" in page.text
    assert await responses(api) == []
    assert (await api.client.get(f"/s/{token}")).status_code == 200  # still open


async def test_control_characters_are_dropped_from_a_text_answer(
    api: Api, link: tuple[str, int]
) -> None:
    token, _id = link
    form = {**GOOD, "q.comment": "First line\r\nSecond\x00 line\x07\tend"}

    sent = await api.client.post(f"/s/{token}", content=urlencode(form), headers=FORM)

    assert sent.status_code == 303
    (response,) = await responses(api)
    assert response.comment == "First line\nSecond line\tend"


@pytest.mark.parametrize(
    "path",
    [
        "/s/%F0%9F%98%80",
        "/s/...",
        "/s/%3Cscript%3Ealert(1)",
        "/s/%22%20onmouseover%3D%22x",
        "/s/a%3Fb%23c",
        "/s/%C0%AF",
    ],
)
async def test_a_token_with_odd_characters_is_a_plain_404(api: Api, path: str) -> None:
    page = await api.client.get(path)

    assert page.status_code == 404
    assert "This survey link is not valid" in page.text
    assert "<script>" not in page.text
    assert "onmouseover=" not in page.text.replace("&#34;", "")
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_an_encoded_slash_is_no_survey_link(api: Api) -> None:
    for path in ("/s/..%2F..%2Fetc", "/s/%3Cscript%3E%3C%2Fscript%3E"):
        page = await api.client.get(path)
        assert page.status_code == 404
        assert "<script>" not in page.text


@pytest.mark.parametrize("token", ["\\\\evil.example", "%2F%2Fevil.example", "a b", "x?y#z"])
async def test_a_redirect_stays_on_the_survey_page(api: Api, token: str) -> None:
    """A link not answered yet goes from its thank-you page to its form: a path of this
    site whatever the token holds, never ``//host`` or ``\\host``."""
    page = await api.client.get(f"/s/{quote(token, safe='')}/thanks")

    assert page.status_code == 303
    location = page.headers["location"]
    assert location == f"/s/{quote(token, safe='')}"
    assert location.startswith("/s/")
    assert "\\" not in location
    assert "/" not in location[len("/s/") :]


# --- markup from a template --------------------------------------------------------------------

MARKUP = '<img src=x onerror="alert(1)">'


async def test_every_text_of_a_template_is_escaped(api: Api, admin: Api, clock: FakeClock) -> None:
    async with api.db.transaction() as session:
        template = models.SurveyTemplate(
            key="MARKUP",
            purpose="GENERAL",
            name_en=f"Survey {MARKUP}",
            name_zh=f"调查 {MARKUP}",
            current_version=1,
            version=1,
        )
        session.add(template)
        await session.flush()
        asked: list[dict[str, Any]] = [
            {**question("rate", "RATING", dimension="RESOLUTION"), "text_en": f"Rate {MARKUP}"},
            {
                **question(
                    "channel",
                    "CHOICE",
                    choices=[{"key": "X", "text_en": f"Fax {MARKUP}", "text_zh": "传真"}],
                ),
                "text_en": f"Channel {MARKUP}",
            },
            {**question("why", "TEXT", required=False), "text_en": f"Why {MARKUP}"},
        ]
        session.add(
            models.SurveyTemplateVersion(template_id=template.id, number=1, questions=asked)
        )
    customer = await customer_with_contact(admin)
    token, _id = await make_invitation(
        api,
        *customer,
        clock(),
        template="MARKUP",
        subject_kind="TICKET",
        subject_id=3,
        subject_number="<b>T-3</b>",
    )

    page = await api.client.get(f"/s/{token}?lang=en")
    again = await api.client.post(
        f"/s/{token}?lang=en", content=urlencode({"q.why": MARKUP}), headers=FORM
    )

    # Title, heading, three questions and the choice; then also the two questions in the
    # error summary and the text answer put back.
    for shown, times in ((page, 6), (again, 9)):
        assert "<img" not in shown.text
        assert "<b>" not in shown.text
        assert shown.text.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") == times
        assert "&lt;b&gt;T-3&lt;/b&gt;" in shown.text
    assert again.status_code == 422
    assert parsed(again.text).html_lang == "en"


# --- language ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("zh-CN;q=0.8, en;q=0.5", "zh-CN"),
        ("en;q=0.5, zh-CN;q=0.8", "zh-CN"),
        ("en, zh-CN", "en"),  # equal weights: the first
        ("en;q=0, zh", "zh-CN"),  # q=0: not acceptable
        ("zh-CN;q=2, en;q=0.9", "en"),  # not a q-value
        ("zh-CN;q=nan, en;q=0.1", "en"),
        ("zh-CN;q=inf, en", "en"),
        ("zh-CN;q=-1, en;q=0.1", "en"),
        ("zh-CN;q=0.9999, en;q=0.1", "en"),  # four decimals are not a q-value
        ("zh-TW, zh-Hant-CN;q=0.9, fr", None),
        ("*", None),
        ("", None),
        (";;;,,=,q=", None),
    ],
)
def test_the_browsers_language_by_q_values(header: str, chosen: str | None) -> None:
    assert render.accepted(header) == chosen


async def test_the_asked_language_beats_the_contacts_which_beats_the_browsers(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    chinese = await customer_with_contact(admin, "Zhang Ltd", locale="zh-CN")
    token, _id = await make_invitation(api, *chinese, clock())

    by_contact = await api.client.get(f"/s/{token}", headers={"Accept-Language": "en;q=1"})
    asked = await api.client.get(f"/s/{token}?lang=en", headers={"Accept-Language": "zh-CN"})
    unknown_asked = await api.client.get(f"/s/{token}?lang=fr", headers={"Accept-Language": "en"})

    assert parsed(by_contact.text).html_lang == "zh-CN"
    assert parsed(asked.text).html_lang == "en"
    assert parsed(unknown_asked.text).html_lang == "zh-CN"


# --- errors, announced -------------------------------------------------------------------------


async def test_the_error_summary_links_each_question_and_the_title_says_error(
    api: Api, link: tuple[str, int]
) -> None:
    token, _id = link
    form = {**GOOD, "q.attitude": "9"}
    del form["q.satisfied"]

    page = await api.client.post(f"/s/{token}", content=urlencode(form), headers=FORM)

    assert page.status_code == 422
    assert "<title>Error: Service satisfaction</title>" in page.text
    summary = page.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#q-attitude">' in summary
    assert "Must be from 1 to 5" in summary
    assert '<a href="#q-satisfied">' in summary
    # Each radio button of a refused question is described by the question's error.
    attitude = [c for c in parsed(page.text).controls if c.get("name") == "q.attitude"]
    assert len(attitude) == 5
    assert all(c.get("aria-describedby") == "q-attitude-error" for c in attitude)
    resolution = [c for c in parsed(page.text).controls if c.get("name") == "q.resolution"]
    assert all("aria-describedby" not in c for c in resolution)
    fine = await api.client.get(f"/s/{token}")
    assert "<title>Service satisfaction</title>" in fine.text
    assert 'role="alert"' not in fine.text


async def test_an_error_about_no_question_is_shown_too(
    api: Api, link: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal naming no question (a listener of the hook refused) must not be lost."""
    token, _id = link

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise UserErrors(
            [
                UserError(field=None, message="the desk refuses", code=UserErrorCode.INVALID),
                UserError(
                    field="answers.nothing", message="no such thing", code=UserErrorCode.INVALID
                ),
            ]
        )

    monkeypatch.setattr(answering, "submit", refuse)

    page = await api.client.post(f"/s/{token}", content=urlencode(GOOD), headers=FORM)

    assert page.status_code == 422
    summary = page.text.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "<li>The desk refuses</li>" in summary
    assert "<li>No such thing</li>" in summary


async def test_a_failure_before_the_page_is_served_is_still_the_plain_page(
    api: Api, link: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _id = link

    async def broken(request: Any) -> Any:
        raise RuntimeError("no context today")

    crm = api.app.state.crm
    monkeypatch.setattr(api.app.state, "crm", dataclasses.replace(crm, make_context=broken))
    page = await api.client.get(f"/s/{token}")

    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert f"Reference: {page.headers['x-request-id']}" in page.text
    assert "no context today" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
