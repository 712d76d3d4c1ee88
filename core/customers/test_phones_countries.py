"""Phone numbers (national ones in the default region, extensions) and countries (codes and
names in English or Simplified Chinese): the checks themselves, and end to end over HTTP
on SQLite and (with ``CRM_TEST_POSTGRES_URL``) PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.config import Settings
from core.customers.test_customers_api import CREATE, CREATE_CONTACT, ok, refused
from core.errors import UserErrorCode
from core.validation import MAX_EXTENSION_DIGITS, Check
from tests.support import Api, running_app

LANDLINE = "+861012345678"
WITH_EXTENSION = "+861012345678;ext=123"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13812345678", "+8613812345678"),  # a mobile number, national
        ("138 1234 5678", "+8613812345678"),
        ("010-12345678", LANDLINE),  # area code and number: no extension
        ("(010) 1234 5678", LANDLINE),
        ("+86 10 1234 5678", LANDLINE),
        ("010-12345678转123", WITH_EXTENSION),
        ("010-12345678 转 123", WITH_EXTENSION),
        ("010 12345678 分机123", WITH_EXTENSION),
        ("010-12345678-123", WITH_EXTENSION),  # a dash after a complete number
        ("010-12345678 ext. 123", WITH_EXTENSION),
        ("010-12345678 x123", WITH_EXTENSION),
        ("010-12345678#123", WITH_EXTENSION),
        ("+861012345678;ext=123", WITH_EXTENSION),  # the stored form reads back as itself
        ("010-12345678转\uff11\uff12\uff13", WITH_EXTENSION),  # full-width digits
        ("0571-8888 8888-8001", "+8657188888888;ext=8001"),
        ("+1 212 555 0123 ext 7", "+12125550123;ext=7"),
    ],
)
def test_phone_forms_in_china(given: str, stored: str) -> None:
    check = Check()
    assert check.phone("phone", given, region="CN") == stored
    assert check.errors == []


@pytest.mark.parametrize(
    "given",
    [
        "12",
        "010-1234567",  # Beijing numbers have eight digits: no number before the dash
        "010-12345678转",  # a marker without an extension
        "转123",
        "010-12345678-" + "1" * (MAX_EXTENSION_DIGITS + 1),
        "010-12345678 x" + "1" * (MAX_EXTENSION_DIGITS + 1),
        "not a number",
    ],
)
def test_phone_refusals_name_the_field_and_the_setting(given: str) -> None:
    check = Check()
    assert check.phone("contact.phone", given, region="CN") is None
    [error] = check.errors
    assert (error.field, error.code) == ("contact.phone", UserErrorCode.INVALID)
    assert "CRM_DEFAULT_REGION" in error.message or "extension" in error.message


def test_national_numbers_need_the_region_they_belong_to() -> None:
    check = Check()
    assert check.phone("phone", "13812345678", region="US") is None
    assert "US, the CRM_DEFAULT_REGION setting" in check.errors[0].message
    assert Check().phone("phone", "+86 138 1234 5678", region="US") == "+8613812345678"


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("CN", "CN"),
        ("cn", "CN"),
        ("CHN", "CN"),
        ("China", "CN"),
        ("china", "CN"),
        ("People's Republic of China", "CN"),
        ("中国", "CN"),
        ("中华人民共和国", "CN"),
        ("中國", "CN"),
        ("美国", "US"),
        ("United States", "US"),
        ("USA", "US"),
        ("日本", "JP"),
        ("Japan", "JP"),
        ("Hong Kong", "HK"),
        ("香港", "HK"),
        ("Macao", "MO"),
        ("澳门", "MO"),
        ("Taiwan", "TW"),
        ("台湾", "TW"),
        ("South Korea", "KR"),
        ("韩国", "KR"),
        ("英国", "GB"),
        ("United  Kingdom ", "GB"),
        ("德国", "DE"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
    ],
)
def test_country_codes_and_names(given: str, code: str) -> None:
    check = Check()
    assert check.country("address.country", given) == code
    assert check.errors == []


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("Germny", "did you mean DE (Germany)?"),
        ("Chian", "did you mean CN (China)?"),
        ("XX", "give an ISO 3166-1 code such as CN or CHN"),
        ("XXX", "give an ISO 3166-1 code such as CN or CHN"),
        ("Narnia", "give an ISO 3166-1 code such as CN or CHN"),
        ("中土", "or a name such as China or 中国"),
    ],
)
def test_unknown_countries_are_refused_with_a_hint(given: str, hint: str) -> None:
    check = Check()
    assert check.country("address.country", given) is None
    [error] = check.errors
    assert (error.field, error.code) == ("address.country", UserErrorCode.INVALID)
    assert hint in error.message


def test_a_country_name_has_a_length_limit() -> None:
    check = Check()
    assert check.country("address.country", "C" * 101) is None
    assert check.errors[0].code == UserErrorCode.TOO_LONG


SEARCH = (
    "query($search: String) { customers(filter: {search: $search}) { edges { node { name } } } }"
)
IMPORT = """
mutation($csv: String!) {
  importCustomers(input: {csv: $csv, matchOn: [PHONE]}) {
    created updated rowErrors { line field code } errors { field code }
  }
}"""


async def found(api: Api, search: str) -> list[str]:
    body = await api.gql(SEARCH, {"search": search})
    assert "errors" not in body, body
    return sorted(edge["node"]["name"] for edge in body["data"]["customers"]["edges"])


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    customer: dict[str, Any] = ok(await api.gql(CREATE, {"input": fields}), "createCustomer")[
        "customer"
    ]
    return customer


async def test_a_chinese_deployment_end_to_end(
    api: Api, make_settings: Callable[..., Settings]
) -> None:
    await api.user("admin@example.com", ["ADMINISTRATOR"])
    async with running_app(make_settings(default_region="CN")) as app:
        admin = await app.login("admin@example.com")
        beijing = await create(
            admin, name="北京总部", phone="010-12345678 转 123", address={"country": "中国"}
        )
        assert (beijing["phone"], beijing["address"]["country"]) == (WITH_EXTENSION, "CN")
        mobile = await create(
            admin, name="上海门店", phone="138 1234 5678", address={"country": "CHN"}
        )
        assert (mobile["phone"], mobile["address"]["country"]) == ("+8613812345678", "CN")
        tokyo = await create(admin, name="Tokyo KK", address={"country": "日本"})
        assert tokyo["address"]["country"] == "JP"

        # Search by the digits of the number, or of the extension.
        assert await found(admin, "1012345678") == ["北京总部"]
        assert await found(admin, "12345678") == ["上海门店", "北京总部"]
        assert await found(admin, "138 1234") == ["上海门店"]

        # The same number and extension is a duplicate however it is written; another
        # extension of the same switchboard is not.
        body = await admin.gql(CREATE, {"input": {"name": "Dup", "phone": "010-12345678-123"}})
        assert refused(body, "createCustomer") == {"phone": "DUPLICATE"}
        other = await create(admin, name="北京分部", phone="010-12345678 ext. 124")
        assert other["phone"] == "+861012345678;ext=124"
        # A number searched as it is written nationally finds it, with any extension (the
        # digits alone would not: 01012345678 keeps the trunk 0 that E.164 drops).
        assert await found(admin, "010-12345678") == ["北京分部", "北京总部"]
        assert await found(admin, "(010) 1234 5678 转 123") == ["北京总部"]

        body = await admin.gql(
            CREATE,
            {"input": {"name": "Bad", "phone": "010-1234567", "address": {"country": "Chian"}}},
        )
        assert refused(body, "createCustomer") == {"phone": "INVALID", "address.country": "INVALID"}

        contact = ok(
            await admin.gql(
                CREATE_CONTACT,
                {
                    "input": {
                        "customerId": beijing["id"],
                        "name": "王伟",
                        "phone": "010-12345678转8",
                    }
                },
            ),
            "createContact",
        )["contact"]
        assert contact["phone"] == "+861012345678;ext=8"

        # An import reads phones and countries the same way, and matches on the stored form.
        csv = (
            "name,phone,country\n"
            "北京总部 (更新),+86 10 1234 5678 x123,中华人民共和国\n"
            "杭州办事处,0571-88888888分机8001,China\n"
            "Nowhere Ltd,0571-88888889,Narnia\n"
        )
        result = ok(await admin.gql(IMPORT, {"csv": csv}), "importCustomers")
        assert [(e["line"], e["field"], e["code"]) for e in result["rowErrors"]] == [
            (4, "address.country", "INVALID")
        ]
        result = ok(
            await admin.gql(IMPORT, {"csv": csv.rsplit("Nowhere", 1)[0]}), "importCustomers"
        )
        assert (result["created"], result["updated"], result["rowErrors"]) == (1, 1, [])
        assert await found(admin, "8001") == ["杭州办事处"]
        assert await found(admin, "1012345678") == ["北京分部", "北京总部 (更新)"]
