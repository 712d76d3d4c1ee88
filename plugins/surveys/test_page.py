"""The public answer page, ``/s/<token>``: over plain HTTP (every state, the headers, the
language, errors kept beside their fields with the input), then in a real headless
Chromium (Debian's chromium and chromedriver, driven by Selenium; nothing beyond 127.0.0.1
reachable): the form filled in and sent, an expired link, and axe-core's checks of the
form's labels.

The HTTP tests run on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL; the browser
tests serve ``crm serve`` on a SQLite file. They skip when no browser is installed, unless
``CRM_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from core.plugin_api import Settings
from plugins.surveys import models
from plugins.surveys.service import answering
from plugins.surveys.test_answering import (
    customer_with_contact,
    make_invitation,
    responses,
    stored_answers,
)
from schema.testkit import Api, FakeClock

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_BROWSER = os.environ.get("CRM_REQUIRE_BROWSER") == "1"
"""Set by CI: there the browser tests must run, not skip."""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
GOOD = {
    "q.response_speed": "5",
    "q.resolution": "4",
    "q.attitude": "5",
    "q.professionalism": "3",
    "q.satisfied": "yes",
    "q.comment": "Fixed <b>fast</b>",
}


class Form(HTMLParser):
    """The controls, labels, fieldsets and error messages of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.html_lang: str | None = None
        self.controls: list[dict[str, str | None]] = []
        self.label_for: list[str | None] = []
        self.fieldsets: list[dict[str, str | None]] = []
        self.legends = 0
        self.ids: list[str] = []
        self.texts: dict[str, str] = {}
        self._open: str | None = None
        self.links: list[dict[str, str | None]] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
            self._open = str(found["id"])
        if tag == "html":
            self.html_lang = found.get("lang")
        elif tag in ("input", "textarea", "select"):
            self.controls.append(found)
        elif tag == "label":
            self.label_for.append(found.get("for"))
        elif tag == "fieldset":
            self.fieldsets.append(found)
        elif tag == "legend":
            self.legends += 1
        elif tag == "a":
            self.links.append(found)
        if tag in ("script", "img", "iframe") or (tag == "link" and found.get("href")):
            self.resources.append(tag)

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.texts[self._open] = self.texts.get(self._open, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def parsed(html: str) -> Form:
    form = Form()
    form.feed(html)
    return form


def checked(html: str, name: str) -> str | None:
    """The value of the checked radio button named ``name``."""
    for control in parsed(html).controls:
        if control.get("name") == name and "checked" in control:
            return control.get("value")
    return None


@pytest.fixture
async def contact(admin: Api) -> tuple[str, str]:
    return await customer_with_contact(admin)


@pytest.fixture
async def link(api: Api, contact: tuple[str, str], clock: FakeClock) -> tuple[str, int]:
    return await make_invitation(
        api, *contact, clock(), subject_kind="TICKET", subject_id=7, subject_number="T-000007"
    )


# --- the form ----------------------------------------------------------------------------------


async def test_the_form_asks_every_question_with_labels_and_safe_headers(
    api: Api, link: tuple[str, int]
) -> None:
    token, _id = link

    page = await api.client.get(f"/s/{token}")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in page.headers["x-robots-tag"]
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "http" not in policy
    assert "script-src" not in policy  # no script at all
    style = page.text.split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    form = parsed(page.text)
    assert form.html_lang == "en"
    assert form.resources == []  # nothing loaded: no script, image or style sheet
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
    assert "<h1>Service satisfaction</h1>" in page.text
    assert "T-000007" in page.text
    # Four ratings of 5 options, yes/no, and a comment box; each labelled.
    radios = [c for c in form.controls if c.get("type") == "radio"]
    assert len(radios) == 4 * 5 + 2
    (textarea,) = [c for c in form.controls if c.get("name") == "q.comment"]
    assert textarea.get("maxlength") == "5000"
    assert "required" not in textarea  # the comment is optional
    for control in form.controls:
        assert control.get("id") in form.label_for, control
    assert len(form.ids) == len(set(form.ids))
    # Each radio group is a fieldset with a legend, marked required in words and for AT.
    assert len(form.fieldsets) == form.legends == 5
    assert all(f.get("aria-required") == "true" for f in form.fieldsets)
    assert page.text.count("(required)") == 5
    assert "Are you satisfied with the resolution?" in page.text
    # A link to the other language.
    assert any(a.get("href") == f"/s/{token}?lang=zh-CN" for a in form.links)


async def test_the_page_is_in_the_browsers_language_or_the_contacts_or_the_asked_one(
    api: Api, admin: Api, clock: FakeClock
) -> None:
    plain = await customer_with_contact(admin, "Plain Ltd")
    token, _id = await make_invitation(api, *plain, clock())
    chinese = await customer_with_contact(admin, "Zhang Ltd", locale="zh-CN")
    zh_token, _zh_id = await make_invitation(api, *chinese, clock())

    by_browser = await api.client.get(
        f"/s/{token}", headers={"Accept-Language": "fr;q=1, zh-CN;q=0.8, en;q=0.5"}
    )
    by_default = await api.client.get(f"/s/{token}", headers={"Accept-Language": "fr"})
    by_contact = await api.client.get(f"/s/{zh_token}", headers={"Accept-Language": "en"})
    asked = await api.client.get(f"/s/{zh_token}?lang=en")
    traditional = await api.client.get(f"/s/{token}", headers={"Accept-Language": "zh-TW"})

    assert parsed(by_browser.text).html_lang == "zh-CN"
    assert "您对问题的解决结果满意吗？" in by_browser.text
    assert "1 · 非常差" in by_browser.text  # the scale's ends too
    assert "Very poor" not in by_browser.text
    assert parsed(by_default.text).html_lang == "en"
    assert "1 · Very poor" in by_default.text
    assert parsed(by_contact.text).html_lang == "zh-CN"
    assert "您对问题的解决结果满意吗？" in by_contact.text
    assert parsed(asked.text).html_lang == "en"
    assert "Are you satisfied with the resolution?" in asked.text
    assert f'action="/s/{zh_token}?lang=en"' in asked.text
    assert any(a.get("href") == f"/s/{zh_token}?lang=zh-CN" for a in parsed(asked.text).links)
    assert parsed(traditional.text).html_lang == "en"


# --- answering ---------------------------------------------------------------------------------


async def test_sending_the_form_stores_the_answers_and_thanks(
    api: Api, link: tuple[str, int], clock: FakeClock
) -> None:
    token, invitation_id = link

    sent = await api.client.post(f"/s/{token}?lang=en", content=urlencode(GOOD), headers=FORM)

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/s/{token}/thanks?lang=en"
    assert sent.headers["cache-control"] == "no-store"
    thanks = await api.client.get(sent.headers["location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.text
    (response,) = await responses(api)
    assert response.invitation_id == invitation_id
    assert (response.satisfied, response.low_scored, response.locale) == (True, False, "en")
    assert response.comment == "Fixed <b>fast</b>"
    answers = await stored_answers(api, response.id)
    assert answers["professionalism"].score == 3
    assert answers["satisfied"].yes is True


async def test_errors_are_shown_beside_their_fields_and_the_input_is_kept(
    api: Api, link: tuple[str, int]
) -> None:
    token, _id = link
    form = {**GOOD, "q.attitude": "9", "q.comment": "Kept <text>"}
    del form["q.satisfied"]

    page = await api.client.post(f"/s/{token}", content=urlencode(form), headers=FORM)

    assert page.status_code == 422
    shown = parsed(page.text)
    fieldsets = {f["id"]: f for f in shown.fieldsets}
    assert fieldsets["q-attitude"]["aria-invalid"] == "true"
    assert fieldsets["q-attitude"]["aria-describedby"] == "q-attitude-error"
    assert shown.texts["q-attitude-error"] == "Must be from 1 to 5"
    assert fieldsets["q-satisfied"]["aria-describedby"] == "q-satisfied-error"
    assert shown.texts["q-satisfied-error"] == "Please answer this question."
    assert "aria-invalid" not in fieldsets["q-resolution"]
    assert checked(page.text, "q.resolution") == "4"  # kept
    assert "Kept &lt;text&gt;</textarea>" in page.text  # kept, escaped
    assert await responses(api) == []


async def test_a_form_that_cannot_be_read_is_a_clear_page(api: Api, link: tuple[str, int]) -> None:
    token, _id = link

    as_json = await api.client.post(f"/s/{token}", json={"q.satisfied": "yes"})
    too_big = await api.client.post(
        f"/s/{token}", content="q.comment=" + "x" * 300_000, headers=FORM
    )
    not_utf8 = await api.client.post(f"/s/{token}", content=b"q.comment=%FF%FE", headers=FORM)

    assert [as_json.status_code, too_big.status_code, not_utf8.status_code] == [400, 400, 400]
    assert "The answers could not be read" in as_json.text
    assert "The answers could not be read" in not_utf8.text
    assert await responses(api) == []


# --- states ------------------------------------------------------------------------------------


async def test_an_unknown_link_is_a_404_page(api: Api) -> None:
    for path in ("/s/nothing", "/s/" + "x" * 500, "/s/%00%FF", "/s/nothing/thanks"):
        page = await api.client.get(path)
        if path.endswith("/thanks"):
            assert page.status_code == 303
            continue
        assert page.status_code == 404, path
        assert "This survey link is not valid" in page.text
        assert page.headers["cache-control"] == "no-store"
    posted = await api.client.post("/s/nothing", content=urlencode(GOOD), headers=FORM)
    assert posted.status_code == 404


async def test_an_expired_link_is_a_410_page_naming_when(
    api: Api, link: tuple[str, int], clock: FakeClock
) -> None:
    token, _id = link
    clock.advance(days=14)

    page = await api.client.get(f"/s/{token}")
    posted = await api.client.post(f"/s/{token}", content=urlencode(GOOD), headers=FORM)
    chinese = await api.client.get(f"/s/{token}?lang=zh-CN")

    assert page.status_code == posted.status_code == 410
    assert "This survey link expired on 2026-12-07" in page.text
    assert "This survey has closed" in page.text
    assert chinese.status_code == 410
    assert parsed(chinese.text).html_lang == "zh-CN"
    assert await responses(api) == []


async def test_an_answered_link_is_a_409_page_naming_when(
    api: Api, link: tuple[str, int], clock: FakeClock
) -> None:
    token, _id = link
    await api.client.post(f"/s/{token}", content=urlencode(GOOD), headers=FORM)
    clock.advance(days=2)

    page = await api.client.get(f"/s/{token}")
    again = await api.client.post(f"/s/{token}", content=urlencode(GOOD), headers=FORM)

    assert page.status_code == again.status_code == 409
    assert "This survey was already answered on 2026-11-23" in page.text
    assert len(await responses(api)) == 1


async def test_thanks_before_answering_leads_to_the_form(api: Api, link: tuple[str, int]) -> None:
    token, _id = link

    page = await api.client.get(f"/s/{token}/thanks")

    assert page.status_code == 303
    assert page.headers["location"] == f"/s/{token}"


async def test_too_many_requests_is_a_429_page(
    api: Api, link: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _id = link
    monkeypatch.setenv("CRM_SURVEYS_RATE_LIMIT", "2")
    assert (await api.client.get(f"/s/{token}")).status_code == 200
    assert (await api.client.get(f"/s/{token}")).status_code == 200

    page = await api.client.get(f"/s/{token}", headers={"Accept-Language": "zh-CN"})

    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert parsed(page.text).html_lang == "zh-CN"


async def test_an_unexpected_failure_is_a_plain_page_with_a_reference(
    api: Api, link: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _id = link

    async def broken(*args: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(answering, "open_invitation", broken)
    page = await api.client.get(f"/s/{token}")

    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert f"Reference: {page.headers['x-request-id']}" in page.text
    assert "database on fire" not in page.text
    assert "Traceback" not in page.text
    assert page.headers["cache-control"] == "no-store"


# --- in a real browser -------------------------------------------------------------------------

AXE = ROOT / "clients" / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core, installed by ``npm ci`` in ``clients/`` (CI does)."""
BROWSER_SECONDS = 60
SECRET = "survey-page-browser-test-secret-0123456789abcdef"


def browser_tools() -> tuple[str, str] | None:
    """Debian's chromium and chromedriver, or ``None`` (then the test skips, except in CI)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    assert (chromium and driver) or not REQUIRE_BROWSER, (
        "CRM_REQUIRE_BROWSER=1 but chromium or chromedriver is not installed"
    )
    return (chromium, driver) if chromium and driver else None


@pytest.fixture
def tools(settings: Settings) -> tuple[str, str]:
    if not settings.resolved_database_url.startswith("sqlite"):
        pytest.skip("the browser tests serve one SQLite file")
    found = browser_tools()
    if found is None:
        pytest.skip("no chromium and chromedriver (CI installs them)")
    if not AXE.is_file():
        assert not REQUIRE_BROWSER, f"CRM_REQUIRE_BROWSER=1 but {AXE} is missing (npm ci)"
        pytest.skip("axe-core is not installed (npm ci in clients/)")
    return found


@pytest.fixture
def served(settings: Settings, database_url: str, tmp_path: Path, api: Api) -> Iterator[str]:
    """``crm serve`` on the test's database (the in-process app keeps working beside it)."""
    from schema.serving import running_server

    env = {
        **os.environ,
        "CRM_DATA_DIR": str(settings.data_dir),
        "CRM_DATABASE_URL": database_url,
        "CRM_PLUGINS": "tickets,surveys",
        "CRM_SECRET_KEY": SECRET,
        "CRM_WORKER_IN_PROCESS": "false",
    }
    # The test database also holds the fixture plugin's tables: ask /healthz, not /readyz.
    with running_server(
        env, ready_path="/healthz", timeout=BROWSER_SECONDS, log=tmp_path / "server.log"
    ) as base:
        yield base


@pytest.fixture
def browser(
    tools: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """A headless Chromium, through the chromedriver found on ``PATH`` (nothing is
    downloaded), that can reach 127.0.0.1 only, at a phone's size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager must not fetch anything
    chromium, chromedriver = tools
    options = Options()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--window-size=390,844",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(BROWSER_SECONDS)
    driver.set_script_timeout(BROWSER_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def axe_check(driver: Any) -> dict[str, Any]:
    """axe-core's verdict on the page the browser shows: ``violations`` and the ids of the
    rules that applied and ``passes``."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(JSON.stringify({"
        "violations: r.violations, passes: r.passes.map(p => p.id)})))"
        ".catch(e => done(JSON.stringify({violations: [{id: 'axe failed', help: String(e),"
        " nodes: []}], passes: []})));"
    )
    verdict: dict[str, Any] = json.loads(found)
    return verdict


def label_violations(driver: Any, applied: frozenset[str] = frozenset()) -> list[str]:
    """The violations of the label-related rules (every other violation too, in fact: the
    page has none); ``applied`` are rules that must have found something to check."""
    verdict = axe_check(driver)
    assert applied <= set(verdict["passes"]), verdict["passes"]
    return [
        f"{v['id']}: {v['help']} {[n.get('target') for n in v['nodes']]}"
        for v in verdict["violations"]
    ]


FORM_RULES = frozenset({"label", "aria-allowed-attr", "aria-valid-attr-value", "duplicate-id-aria"})
"""Rules that must have had form fields to check on the form."""


async def test_a_browser_fills_in_and_sends_the_form(
    api: Api, admin: Api, served: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    customer, contact = await customer_with_contact(admin)
    now = dt.datetime.now(dt.UTC)  # the served app reads the real clock
    token, invitation_id = await make_invitation(api, customer, contact, now)

    browser.get(f"{served}/s/{token}")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Service satisfaction"
    assert label_violations(browser, FORM_RULES) == []
    # Send it half done first: the errors are shown beside their questions.
    browser.find_element(By.CSS_SELECTOR, "label[for='q-response_speed-4']").click()
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    WebDriverWait(browser, BROWSER_SECONDS).until(
        lambda d: d.find_elements(By.ID, "q-resolution-error")
    )
    assert browser.find_element(By.ID, "q-response_speed-4").is_selected()  # kept
    assert label_violations(browser, FORM_RULES) == []
    for key, value in (
        ("resolution", "5"),
        ("attitude", "4"),
        ("professionalism", "2"),
        ("satisfied", "no"),
    ):
        browser.find_element(By.CSS_SELECTOR, f"label[for='q-{key}-{value}']").click()
    browser.find_element(By.ID, "q-comment").send_keys("Still printing blank pages")
    browser.save_screenshot(str(tmp_path / "filled.png"))
    browser.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    WebDriverWait(browser, BROWSER_SECONDS).until(lambda d: "/thanks" in d.current_url)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Thank you"
    (response,) = await responses(api)
    assert response.invitation_id == invitation_id
    assert (response.satisfied, response.low_scored) == (False, True)
    assert response.comment == "Still printing blank pages"
    answers = await stored_answers(api, response.id)
    assert {key: answers[key].score for key in ("response_speed", "professionalism")} == {
        "response_speed": 4,
        "professionalism": 2,
    }
    async with api.db.read() as session:
        status = await session.scalar(
            select(models.SurveyInvitation.status).where(
                models.SurveyInvitation.id == invitation_id
            )
        )
    assert status == "ANSWERED"


async def test_a_browser_shows_an_expired_link_clearly(
    api: Api, admin: Api, served: str, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    customer, contact = await customer_with_contact(admin)
    sent = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    token, _id = await make_invitation(api, customer, contact, sent, days=14)
    expired_on = (sent + dt.timedelta(days=14)).astimezone(api.settings.zone).date().isoformat()

    browser.get(f"{served}/s/{token}")

    assert browser.find_element(By.TAG_NAME, "h1").text == "This survey has closed"
    assert (
        f"This survey link expired on {expired_on}"
        in browser.find_element(By.TAG_NAME, "main").text
    )
    assert browser.find_elements(By.TAG_NAME, "form") == []
    assert label_violations(browser) == []
    assert await responses(api) == []
