"""Messages in English and Simplified Chinese: catalogs complete, languages negotiated, and
every error in the request's language with the same code, field and argument.

The catalog tests extract every ``_("...")`` message of core and of each built-in plugin
with Babel and fail naming each one the Chinese catalog lacks or leaves untranslated.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from strawberry import relay

from core import i18n
from core.catalog import SALES_REPRESENTATIVE
from core.errors import UserErrorCode, UserErrors, bad_argument
from core.i18n import Text, negotiate, render, translator
from schema.testkit import assert_catalog_complete
from tests.support import Api

ZH: i18n.LocaleName = "zh-CN"
CREATE_CUSTOMER = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id } errors { field message code } }
}"""
AUDIT = "{ auditEvents(first: 1) { edges { node { id } } } }"
CUSTOMERS = "query($first: Int) { customers(first: $first) { edges { node { id } } } }"


# --- catalogs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "package",
    [
        "core",
        "plugins.tickets",
        "plugins.sales",
        "plugins.surveys",
        "plugins.loyalty",
        "plugins.competitor",
        "schema",
    ],
)
def test_every_message_has_a_chinese_translation(package: str) -> None:
    assert_catalog_complete(package)


def test_catalog_check_names_what_is_missing(tmp_path: Any) -> None:
    package = tmp_path / "pkg"
    (package / "locale" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    (package / "mod.py").write_text(
        '_ = None\nA = _("is fine")\nB = _("is new {x}", x=1)\nC = _("has {n} items", n=2)\n'
        'D = _("untranslated")\n'
    )
    (package / "test_mod.py").write_text('T = _("only in a test")\n')
    (package / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po").write_text(
        'msgid "is fine"\nmsgstr "没问题"\n\nmsgid "has {n} items"\nmsgstr "有 {count} 项"\n\n'
        'msgid "untranslated"\nmsgstr ""\n',
        encoding="utf-8",
    )
    problems = i18n.missing_translations(package)
    assert len(problems) == 3, problems
    assert any("'is new {x}'" in p and "no zh-CN translation" in p for p in problems)
    assert any("'untranslated'" in p and "no zh-CN translation" in p for p in problems)
    assert any("'has {n} items'" in p and "placeholders ['count']" in p for p in problems)
    assert not any("only in a test" in p for p in problems)


# --- the message type -----------------------------------------------------------------------


def test_text_is_english_and_renders_in_chinese() -> None:
    text = i18n._("must be at most {max} characters", max=80)
    assert text == "must be at most 80 characters"
    assert isinstance(text, str)
    assert render(text, "en") == "must be at most 80 characters"
    assert render(text, ZH) == "不能超过 80 个字符"
    assert render("plain", ZH) == "plain"
    nested = i18n._("{argument}: {message}", argument="first", message=text)
    assert render(nested, ZH) == "first: 不能超过 80 个字符"
    assert pickle.loads(pickle.dumps(text)).template == text.template


def test_text_without_a_catalog_entry_stays_english() -> None:
    _ = translator("tests.nowhere")
    assert render(_("no catalog has {this}", this="x"), ZH) == "no catalog has x"
    assert render(i18n._("not in the catalog"), ZH) == "not in the catalog"


def test_current_locale_follows_the_request() -> None:
    text = i18n._("is required")
    with i18n.use_locale(ZH):
        assert render(text) == "为必填项"
        assert i18n.current_locale() == ZH
    assert render(text) == "is required"
    assert isinstance(Text("x", {}, "core"), str)


# --- negotiation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "user", "default", "expected"),
    [
        ("zh-CN", None, "en", ZH),
        ("zh", None, "en", ZH),
        ("zh-Hans", None, "en", ZH),
        ("zh-Hans-CN", None, "en", ZH),
        ("zh-SG", None, "en", ZH),
        ("zh_CN", None, "en", ZH),
        ("en", None, ZH, "en"),
        ("en-GB", None, ZH, "en"),
        ("en;q=0.5, zh-CN;q=0.9", None, "en", ZH),
        ("zh-CN;q=0.4, en;q=0.8", None, ZH, "en"),
        ("fr, zh-CN;q=0.5", None, "en", ZH),
        ("fr", None, "en", "en"),
        ("fr", None, ZH, ZH),
        ("zh-TW", None, "en", "en"),
        ("zh-Hant", None, "en", "en"),
        ("*", None, ZH, ZH),
        ("zh-CN;q=0", None, "en", "en"),
        ("zh-CN;q=nonsense", None, "en", "en"),
        ("@@, ;;, en-", None, ZH, ZH),
        (None, None, ZH, ZH),
        ("", None, "en", "en"),
        (None, "zh-CN", "en", ZH),
        ("fr", "zh-CN", "en", ZH),
        ("en", "zh-CN", "en", "en"),
        (None, "xx", ZH, ZH),
        ("fr, " * 20 + "zh-CN", None, "en", "en"),  # past the entries read
        ("fr, " * 19 + "zh-CN", None, "en", ZH),
    ],
)
def test_negotiate(header: str | None, user: str | None, default: Any, expected: str) -> None:
    assert negotiate(header, user, default) == expected


# --- the API --------------------------------------------------------------------------------


def lang(tag: str) -> dict[str, str]:
    return {"Accept-Language": tag}


def user_errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = body["data"]["createCustomer"]["errors"]
    return errors


def top_error(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    error = body["errors"][0]
    return error["message"], error["extensions"]


async def test_user_errors_in_the_request_language(admin: Api) -> None:
    variables = {"input": {"name": " ", "email": "nope"}}
    english = user_errors(await admin.gql(CREATE_CUSTOMER, variables))
    for headers in ({}, lang("en"), lang("fr"), lang("en-US,zh-CN;q=0.1")):
        assert user_errors(await admin.gql(CREATE_CUSTOMER, variables, headers=headers)) == (
            english
        )
    assert {"field": "name", "message": "is required", "code": "REQUIRED"} in english
    for tag in ("zh-CN", "zh", "zh-Hans", "zh-Hans-CN", "en;q=0.5, zh-CN;q=0.9"):
        chinese = user_errors(await admin.gql(CREATE_CUSTOMER, variables, headers=lang(tag)))
        assert {"field": "name", "message": "为必填项", "code": "REQUIRED"} in chinese, tag
        assert [(e["field"], e["code"]) for e in chinese] == [
            (e["field"], e["code"]) for e in english
        ]
        assert all(e["message"] != english[i]["message"] for i, e in enumerate(chinese))


async def test_top_level_errors_in_the_request_language(admin: Api) -> None:
    # BAD_USER_INPUT naming the argument
    message, extensions = top_error(await admin.gql(CUSTOMERS, {"first": 1000}))
    assert message == "first: must be between 0 and 100"
    zh_message, zh_extensions = top_error(
        await admin.gql(CUSTOMERS, {"first": 1000}, headers=lang("zh-CN"))
    )
    assert zh_message == "first: 必须在 0 到 100 之间"
    assert zh_extensions == extensions == {"code": "BAD_USER_INPUT", "argument": "first"}

    # NOT_FOUND naming where the id was
    missing = {"input": {"name": "Ok", "ownerId": str(relay.GlobalID("User", "999"))}}
    message, extensions = top_error(await admin.gql(CREATE_CUSTOMER, missing))
    zh_message, zh_extensions = top_error(
        await admin.gql(CREATE_CUSTOMER, missing, headers=lang("zh-Hans"))
    )
    assert message.startswith("input.ownerId: must be")
    assert zh_message.startswith("input.ownerId: ")
    assert zh_message != message
    assert zh_extensions == extensions == {"code": "NOT_FOUND", "argument": "input.ownerId"}

    # FORBIDDEN with the permission
    seller = await admin.as_role(SALES_REPRESENTATIVE)
    message, extensions = top_error(await seller.gql(AUDIT))
    zh_message, zh_extensions = top_error(await seller.gql(AUDIT, headers=lang("zh-CN")))
    assert message == "permission 'audit:read' is required"
    assert zh_message == "需要权限 'audit:read'"
    assert zh_extensions == extensions == {"code": "FORBIDDEN", "permission": "audit:read"}

    # UNAUTHENTICATED
    message, extensions = top_error(await admin.with_token(None).gql(AUDIT))
    zh_message, zh_extensions = top_error(
        await admin.with_token(None).gql(AUDIT, headers=lang("zh-CN"))
    )
    assert zh_message != message
    assert "Authorization: Bearer" in zh_message
    assert zh_extensions == extensions == {"code": "UNAUTHENTICATED"}


async def test_deployment_default_applies_without_a_supported_header(
    make_settings: Any, api_factory: Any
) -> None:
    async with api_factory(make_settings(locale="zh-CN")) as anonymous:
        admin = await anonymous.as_role("ADMINISTRATOR")
        variables = {"input": {"name": ""}}
        for headers in ({}, lang("fr")):
            errors = user_errors(await admin.gql(CREATE_CUSTOMER, variables, headers=headers))
            assert errors == [{"field": "name", "message": "为必填项", "code": "REQUIRED"}]
        errors = user_errors(await admin.gql(CREATE_CUSTOMER, variables, headers=lang("en")))
        assert errors == [{"field": "name", "message": "is required", "code": "REQUIRED"}]


def test_user_errors_keep_english_as_their_str() -> None:
    error = UserErrors.single("name", i18n._("is required"), UserErrorCode.REQUIRED)
    assert str(error) == "name: is required"
    assert render(bad_argument("first", i18n._("is required")).message, ZH) == "first: 为必填项"


# --- the command line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"CRM_LOCALE": "zh-CN"}, ZH),
        ({"CRM_LOCALE": "zh-CN", "LANG": "en_US.UTF-8"}, ZH),
        ({"LANG": "zh_CN.UTF-8"}, ZH),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({"CRM_LOCALE": "fr", "LANG": "zh_CN.UTF-8"}, ZH),
    ],
)
def test_the_command_line_language(environ: dict[str, str], expected: str) -> None:
    assert i18n.environment_locale(environ) == expected


@pytest.mark.parametrize("crm_plugins", [("tickets",)], ids=["tickets-only"])
async def test_the_command_line_speaks_the_configured_language(
    migrated_db: Any, crm_cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ("createuser", "--email", "not-an-email", "--name", "Ada", "--password", "x" * 12)
    monkeypatch.delenv("CRM_LOCALE", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    english = await crm_cli(*args)
    assert english.exit_code == 2
    assert "error: --email: is not a valid email address" in english.output

    monkeypatch.setenv("CRM_LOCALE", "zh-CN")
    chinese = await crm_cli(*args)
    assert chinese.exit_code == 2
    assert "错误" in chinese.output
    assert "--email: 不是有效的邮箱地址" in chinese.output

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("CRM_LOCALE")
    created = await crm_cli(
        "createuser", "--email", "ada@example.com", "--name", "Ada Lovelace",
        "--password", "correct horse battery staple",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "已创建用户 ada@example.com" in created.output


# --- the import and export routes -----------------------------------------------------------


async def test_the_import_and_export_routes_answer_in_the_request_language(admin: Api) -> None:
    async def upload(tag: str | None, **params: str) -> dict[str, Any]:
        response = await admin.client.post(
            "/import/customers",
            content=b"name\nAcme\n",
            params=params,
            headers={**admin.headers, "Content-Type": "text/csv", **lang(tag or "")},
        )
        assert response.status_code == 400, response.text
        error: dict[str, Any] = response.json()["errors"][0]
        return error

    english = await upload(None, dryRun="maybe")
    chinese = await upload("zh-CN", dryRun="maybe")
    assert english["message"] == "dryRun: must be true or false"
    assert chinese["message"] == "dryRun: 必须是 true 或 false"
    assert chinese["extensions"] == english["extensions"]

    async def export(client: Api, status: int) -> dict[str, Any]:
        response = await client.client.get(
            "/export/customers.csv",
            params={"filter": '{"search": "' + "x" * 201 + '"}'},
            headers={**client.headers, **lang("zh")},
        )
        assert response.status_code == status, response.text
        error: dict[str, Any] = response.json()["errors"][0]
        return error

    error = await export(admin, 400)
    assert error["message"] == "filter.search: 不能超过 200 个字符"
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.search"}
    error = await export(await admin.as_role(SALES_REPRESENTATIVE), 403)
    assert error["message"] == "需要权限 'customers:export'"
    assert error["extensions"] == {"code": "FORBIDDEN", "permission": "customers:export"}
