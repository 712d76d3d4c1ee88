"""E-mail: templates in English and Chinese, sent to a real SMTP server (aiosmtpd, started
here on 127.0.0.1) and read back; refusals and unreachable servers mapped to permanent and
retried failures; the folder backend; the settings' validation."""

# ruff: noqa: RUF001 (Chinese text has full-width punctuation)

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import i18n
from core.config import ConfigError, Settings, load_settings
from core.db import Database
from core.host import CRMPluginManager, build_plugin_manager
from core.mail import MailError, OutgoingMail, render_mail, send_email, send_mail
from core.mail_transport import eml_path
from core.outbox import DeliveryFailed, OutboxMessage, OutboxStatus, OutboxWorker
from schema.serving import free_port
from schema.testkit_mail import REFUSED, Inbox, running_smtp_server
from schema.testkit_tools import FakeClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
WHEN = dt.datetime(2026, 12, 4, 21, 30, tzinfo=dt.UTC)
LINK = "https://crm.example.com/tickets/7?tab=history&x=1"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    with running_smtp_server() as server:
        yield server


def smtp_settings(tmp_path: Path, port: int, **more: Any) -> Settings:
    return load_settings(
        data_dir=tmp_path,
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout=10,
        mail_from="客户管理 <crm@example.com>",
        **more,
    )


@pytest.fixture
def pm() -> CRMPluginManager:
    return build_plugin_manager([], load_entrypoints=False)


def notification(pm: CRMPluginManager, locale: str, to: str, message_id: str) -> OutgoingMail:
    rendered = render_mail(
        pm,
        "notification",
        locale=locale,
        zone=SHANGHAI,
        values={
            "title": i18n._("is required"),
            "body": "Customer <script>alert(1)</script> & co",
            "url": LINK,
            "when": WHEN,
        },
    )
    return OutgoingMail(
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=message_id,
        date=WHEN,
        headers={"List-Unsubscribe": "<https://crm.example.com/preferences>"},
    )


# --- sending --------------------------------------------------------------------------------


async def test_english_mail_arrives_with_both_parts_and_a_link(
    tmp_path: Path, smtp_server: tuple[Inbox, int], pm: CRMPluginManager
) -> None:
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port)

    await send_mail(settings, notification(pm, "en", "ann@example.com", "n-1"))

    message = inbox.only()
    assert inbox.received[0][0] == ["ann@example.com"]
    assert message["Subject"] == "is required"
    assert message["To"] == "ann@example.com"
    assert message["From"].addresses[0].display_name == "客户管理"
    assert message["Message-ID"] == "<n-1@example.com>"
    assert message["List-Unsubscribe"] == "<https://crm.example.com/preferences>"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    plain, markup = text.get_content(), html.get_content()
    assert f"Open it: {LINK}" in plain
    assert "Customer <script>alert(1)</script> & co" in plain
    assert "Customer &lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in markup
    assert "<script>" not in markup
    assert 'href="https://crm.example.com/tickets/7?tab=history&amp;x=1"' in markup
    assert '<html lang="en">' in markup
    assert "Sent Dec 5, 2026" in plain  # 05:30 in Shanghai, the next day
    assert "(CST)" in plain


async def test_chinese_mail_survives_the_trip(
    tmp_path: Path, smtp_server: tuple[Inbox, int], pm: CRMPluginManager
) -> None:
    inbox, port = smtp_server
    settings = smtp_settings(tmp_path, port)

    await send_mail(settings, notification(pm, "zh-CN", "王芳 <wang@example.com>", "n-2"))

    message = inbox.only()
    raw = inbox.received[0][1]
    assert raw.isascii()  # headers RFC 2047, bodies base64 or quoted-printable
    assert message["Subject"] == "为必填项"
    assert message["To"].addresses[0].display_name == "王芳"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert f"打开查看：{LINK}" in text.get_content()
    assert "发送于 2026年12月5日 05:30:00" in text.get_content()
    assert '<html lang="zh-CN">' in html.get_content()
    assert "<h1" in html.get_content()
    assert "为必填项</h1>" in html.get_content()


async def test_a_refused_recipient_is_a_permanent_failure(
    tmp_path: Path, smtp_server: tuple[Inbox, int], pm: CRMPluginManager
) -> None:
    inbox, port = smtp_server

    with pytest.raises(DeliveryFailed) as raised:
        await send_mail(smtp_settings(tmp_path, port), notification(pm, "en", REFUSED, "n-3"))

    assert raised.value.permanent
    assert "550" in raised.value.reason
    assert inbox.received == []


async def test_an_unreachable_server_is_retried(tmp_path: Path, pm: CRMPluginManager) -> None:
    settings = smtp_settings(tmp_path, free_port())

    with pytest.raises(DeliveryFailed) as raised:
        await send_mail(settings, notification(pm, "en", "ann@example.com", "n-4"))

    assert not raised.value.permanent
    assert "127.0.0.1" in raised.value.reason


async def test_a_header_with_a_line_break_is_a_permanent_failure(
    tmp_path: Path, pm: CRMPluginManager
) -> None:
    mail = notification(pm, "en", "ann@example.com", "n-5")
    broken = OutgoingMail(**{**vars(mail), "headers": {"X-Note": "one\r\nBcc: eve@example.com"}})

    with pytest.raises(DeliveryFailed) as raised:
        await send_mail(load_settings(data_dir=tmp_path), broken)

    assert raised.value.permanent


async def test_folder_backend_writes_a_readable_eml(tmp_path: Path, pm: CRMPluginManager) -> None:
    settings = load_settings(data_dir=tmp_path, mail_backend="folder")
    mail = notification(pm, "zh-CN", "wang@example.com", "<abc.1@crm.example.com>")

    await send_mail(settings, mail)
    await send_mail(settings, mail)  # a retry overwrites, never doubles

    folder = tmp_path / "mail"
    assert [path.name for path in folder.iterdir()] == ["abc.1@crm.example.com.eml"]
    path = eml_path(folder, mail.message_id)
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "为必填项"
    assert message["Message-ID"] == "<abc.1@crm.example.com>"


async def test_console_backend_logs(
    tmp_path: Path, pm: CRMPluginManager, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="crm.mail")

    await send_mail(load_settings(data_dir=tmp_path), notification(pm, "en", "a@example.com", "x"))

    assert "mail to a@example.com: is required" in caplog.text


# --- templates ------------------------------------------------------------------------------


def test_unknown_template_locale_or_value_is_a_clear_error(pm: CRMPluginManager) -> None:
    values = {"title": "t", "body": "b"}
    with pytest.raises(MailError, match=r"no mail template 'nope'.*known: notification"):
        render_mail(pm, "nope", locale="en", zone=dt.UTC, values=values)
    with pytest.raises(MailError, match=r"locale 'fr' \(supported: en, zh-CN\)"):
        render_mail(pm, "notification", locale="fr", zone=dt.UTC, values=values)
    with pytest.raises(MailError, match="'body' is undefined"):
        render_mail(pm, "notification", locale="en", zone=dt.UTC, values={"title": "t"})
    with pytest.raises(MailError, match="without a zone"):
        render_mail(
            pm,
            "notification",
            locale="en",
            zone=dt.UTC,
            values={**values, "when": dt.datetime(2026, 1, 1)},
        )


def test_a_plugin_adds_templates_translated_by_its_own_catalog(tmp_path: Path) -> None:
    package = tmp_path / "surveys"
    (package / "mail").mkdir(parents=True)
    (package / "locale" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    (package / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid "How did we do, {name}?"\nmsgstr "{name}，我们做得怎么样？"\n\n'
        'msgid "Answer by {day}"\nmsgstr "请在 {day} 前回答"\n',
        encoding="utf-8",
    )
    mail = package / "mail"
    (mail / "invitation.subject.j2").write_text('{{ _("How did we do, {name}?", name=name) }}')
    (mail / "invitation.txt.j2").write_text('{{ _("Answer by {day}", day=due | date) }}')
    (mail / "invitation.html.j2").write_text(
        '<p>{{ _("How did we do, {name}?", name=name) }}</p>{% trans %}Thanks{% endtrans %}'
    )

    class Surveys:
        @staticmethod
        def crm_mail_templates() -> dict[str, Path]:
            return {"surveys": mail}

    pm = build_plugin_manager(
        ["surveys"], load_entrypoints=False, extra_plugins={"surveys": Surveys}
    )
    values = {"name": "<b>Li</b>", "due": dt.datetime(2026, 12, 31, 20, tzinfo=dt.UTC)}

    chinese = render_mail(pm, "surveys/invitation", locale="zh-CN", zone=SHANGHAI, values=values)
    english = render_mail(pm, "surveys/invitation", locale="en", zone=dt.UTC, values=values)

    assert chinese.subject == "<b>Li</b>，我们做得怎么样？"
    assert chinese.text == "请在 2027年1月1日 前回答\n"  # the day in Shanghai
    assert chinese.html == "<p>&lt;b&gt;Li&lt;/b&gt;，我们做得怎么样？</p>Thanks"
    assert english.text == "Answer by Dec 31, 2026\n"
    assert i18n.missing_translations(package) == [
        "mail/invitation.html.j2:1: no zh-CN translation for 'Thanks'"
    ]


def test_two_modules_may_not_share_a_namespace(tmp_path: Path) -> None:
    class One:
        @staticmethod
        def crm_mail_templates() -> dict[str, Path]:
            return {"shared": tmp_path}

    class Two(One):
        pass

    pm = build_plugin_manager(
        ["one", "two"], load_entrypoints=False, extra_plugins={"one": One, "two": Two}
    )
    with pytest.raises(MailError, match="'one' and 'two' both declare"):
        render_mail(pm, "shared/x", locale="en", zone=dt.UTC, values={})


# --- settings -------------------------------------------------------------------------------


def test_mail_defaults(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)

    assert settings.mail_backend == "console"
    assert settings.resolved_mail_folder == tmp_path / "mail"
    assert settings.mail_from == "CRM <crm@localhost>"
    assert settings.public_url == "http://localhost:8000"
    assert settings.smtp_port == 587
    assert settings.smtp_security == "starttls"
    assert load_settings(data_dir=tmp_path, public_url="https://crm.example.com/").public_url == (
        "https://crm.example.com"
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CRM_MAIL_BACKEND": "pigeon"}, "CRM_MAIL_BACKEND='pigeon'"),
        ({"CRM_MAIL_BACKEND": "smtp"}, "CRM_SMTP_HOST=''"),
        ({"CRM_SMTP_HOST": "smtp://mail.example.com"}, "CRM_SMTP_HOST="),
        ({"CRM_SMTP_PORT": "0"}, "CRM_SMTP_PORT='0'"),
        ({"CRM_SMTP_SECURITY": "ssl"}, "CRM_SMTP_SECURITY='ssl'"),
        ({"CRM_SMTP_TIMEOUT": "-1"}, "CRM_SMTP_TIMEOUT='-1'"),
        ({"CRM_SMTP_USERNAME": "crm"}, "CRM_SMTP_PASSWORD=''"),
        ({"CRM_MAIL_FROM": "CRM <not an address>"}, "CRM_MAIL_FROM="),
        ({"CRM_MAIL_FROM": "crm@"}, "CRM_MAIL_FROM='crm@'"),
        ({"CRM_PUBLIC_URL": "crm.example.com"}, "CRM_PUBLIC_URL='crm.example.com'"),
        ({"CRM_PUBLIC_URL": "ftp://crm.example.com"}, "CRM_PUBLIC_URL="),
    ],
)
def test_bad_mail_settings_name_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as raised:
        load_settings()

    assert named in str(raised.value)


def test_mail_from_is_written_canonically(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, mail_from="  Acme Support <Help@Example.COM> ")
    assert settings.mail_from == "Acme Support <Help@example.com>"
    assert load_settings(data_dir=tmp_path, mail_from="crm@example.com").mail_from == (
        "crm@example.com"
    )


# --- through the outbox ---------------------------------------------------------------------


def outbox_smtp_settings(make_settings: Callable[..., Settings], port: int) -> Settings:
    return make_settings(
        mail_backend="smtp",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_timeout=10,
        mail_from="CRM <crm@example.com>",
    )


async def queue(
    session: AsyncSession, pm: CRMPluginManager, now: dt.datetime, to: str, **more: Any
) -> int | None:
    return await send_email(
        session,
        pm,
        to=to,
        template="notification",
        values={"title": i18n._("is required"), "body": "<b>7</b>", "url": LINK, "when": now},
        locale=more.pop("locale", "zh-CN"),
        zone=SHANGHAI,
        now=now,
        kind="tests.mail",
        **more,
    )


async def test_a_committed_mail_is_sent_once_by_the_worker_a_rolled_back_one_never(
    make_settings: Callable[..., Settings],
    plugin_manager: CRMPluginManager,
    migrated_db: Database,
    smtp_server: tuple[Inbox, int],
    clock: FakeClock,
) -> None:
    inbox, port = smtp_server
    settings = outbox_smtp_settings(make_settings, port)

    async with migrated_db.transaction() as session:
        first = await queue(
            session, plugin_manager, clock(), "王芳 <wang@Example.COM>", dedupe_key="m:1"
        )
        again = await queue(session, plugin_manager, clock(), "wang@example.com", dedupe_key="m:1")

    async def failing_change() -> None:
        async with migrated_db.transaction() as session:
            await queue(session, plugin_manager, clock(), "rolled.back@example.com")
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await failing_change()
    worker = OutboxWorker(db=migrated_db, settings=settings, pm=plugin_manager, clock=clock)
    await worker.run_until_idle()
    await worker.run_until_idle()

    assert first is not None
    assert again is None
    message = inbox.only()
    assert inbox.received[0][0] == ["wang@example.com"]
    assert message["Subject"] == "为必填项"
    assert message["To"].addresses[0].display_name == "王芳"
    assert str(message["Message-ID"]).endswith("@example.com>")
    text = message.get_body(("plain",))
    assert text is not None
    assert LINK in text.get_content()
    async with migrated_db.read() as session:
        row = await session.get(OutboxMessage, first)
    assert row is not None
    assert (row.channel, row.kind, row.recipient) == ("email", "tests.mail", "wang@example.com")
    assert row.status == OutboxStatus.DELIVERED
    assert row.attempts == 1


async def test_a_refused_recipient_is_given_up_at_once(
    make_settings: Callable[..., Settings],
    plugin_manager: CRMPluginManager,
    migrated_db: Database,
    smtp_server: tuple[Inbox, int],
    clock: FakeClock,
) -> None:
    inbox, port = smtp_server
    async with migrated_db.transaction() as session:
        refused = await queue(session, plugin_manager, clock(), REFUSED, locale="en")

    worker = OutboxWorker(
        db=migrated_db,
        settings=outbox_smtp_settings(make_settings, port),
        pm=plugin_manager,
        clock=clock,
    )
    await worker.run_until_idle()

    async with migrated_db.read() as session:
        row = await session.get(OutboxMessage, refused)
    assert row is not None
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1
    assert "550" in (row.last_error or "")
    assert inbox.received == []


async def test_an_unreachable_server_leaves_the_mail_for_a_retry(
    make_settings: Callable[..., Settings],
    plugin_manager: CRMPluginManager,
    migrated_db: Database,
    clock: FakeClock,
) -> None:
    async with migrated_db.transaction() as session:
        pending = await queue(session, plugin_manager, clock(), "ann@example.com", locale="en")

    worker = OutboxWorker(
        db=migrated_db,
        settings=outbox_smtp_settings(make_settings, free_port()),
        pm=plugin_manager,
        clock=clock,
    )
    await worker.run_until_idle()

    async with migrated_db.read() as session:
        row = await session.get(OutboxMessage, pending)
    assert row is not None
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.next_attempt_at > clock()


async def test_bad_input_to_send_email_writes_nothing(
    plugin_manager: CRMPluginManager, migrated_db: Database, clock: FakeClock
) -> None:
    async with migrated_db.transaction() as session:
        with pytest.raises(MailError, match="to: 'ann@' must be an address"):
            await queue(session, plugin_manager, clock(), "ann@")
        with pytest.raises(MailError, match="headers: 'X-A'"):
            await queue(
                session, plugin_manager, clock(), "a@example.com", headers={"X-A": "1\nB: 2"}
            )
        with pytest.raises(MailError, match="locale 'fr'"):
            await queue(session, plugin_manager, clock(), "a@example.com", locale="fr")
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    assert rows == []


def test_the_smtp_password_stays_out_of_reprs_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(
        data_dir=tmp_path, smtp_username="crm", smtp_password="hunter2-smtp-secret"
    )
    assert "hunter2-smtp-secret" not in repr(settings)
    assert "hunter2-smtp-secret" not in repr(settings.model_dump())
    assert settings.smtp_password.get_secret_value() == "hunter2-smtp-secret"

    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRM_SMTP_PASSWORD", "hunter2-smtp-secret")  # without a username
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "CRM_SMTP_PASSWORD='**********'" in str(raised.value)
    assert "hunter2-smtp-secret" not in str(raised.value)
