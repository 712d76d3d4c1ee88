"""Required fields of a new customer are a setting (CRM_CUSTOMER_REQUIRED_FIELDS):
createCustomer refuses a missing one with REQUIRED naming the field, clients read the list
from ``customerFormSettings``, and an unknown name stops startup. Also the founding date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from strawberry.types.base import get_object_definition

from core.catalog import SALES_REPRESENTATIVE
from core.config import REQUIRABLE_CUSTOMER_FIELDS, ConfigError, Settings, load_settings
from core.customers.inputs import CreateCustomerInput
from tests.support import FakeClock, running_app

CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) {
    customer { number foundedOn } errors { field code message }
  }
}"""
FORM = "query { customerFormSettings { requiredFields } }"


def errors(body: dict[str, Any]) -> dict[str, str]:
    assert "errors" not in body, body
    return {e["field"]: e["code"] for e in body["data"]["createCustomer"]["errors"]}


async def test_a_new_customer_without_a_required_field_is_refused_naming_it(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(customer_required_fields=" industry, contact,address ,source,source")
    async with running_app(settings) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        form = await rep.gql(FORM)
        assert form["data"]["customerFormSettings"] == {
            "requiredFields": ["industry", "contact", "address", "source"]
        }

        refused = await rep.gql(CREATE, {"input": {"name": "Lakebrook GmbH", "industry": " "}})
        assert errors(refused) == {
            "industry": "REQUIRED",
            "phone": "REQUIRED",  # contact: a phone or an email
            "address": "REQUIRED",
            "source": "REQUIRED",
        }
        # An invalid phone is refused as such, not again as missing.
        bad_phone = await rep.gql(
            CREATE,
            {
                "input": {
                    "name": "Lakebrook GmbH",
                    "industry": "Retail",
                    "phone": "not a phone",
                    "address": {"city": "Hamburg"},
                    "source": "REFERRAL",
                }
            },
        )
        assert errors(bad_phone) == {"phone": "INVALID"}

        created = await rep.gql(
            CREATE,
            {
                "input": {
                    "name": "Lakebrook GmbH",
                    "industry": "Retail",
                    "email": "info@lakebrook.de",
                    "address": {"city": "Hamburg"},
                    "source": "REFERRAL",
                }
            },
        )
        assert errors(created) == {}


async def test_without_the_setting_only_the_name_is_required(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings()) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        form = await rep.gql(FORM)
        assert form["data"]["customerFormSettings"] == {"requiredFields": []}
        assert errors(await rep.gql(CREATE, {"input": {"name": "Solo"}})) == {}


async def test_the_founding_date_is_kept_and_may_not_be_in_the_future(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(customer_required_fields="foundedOn")
    async with running_app(settings) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        assert errors(await rep.gql(CREATE, {"input": {"name": "Young"}})) == {
            "foundedOn": "REQUIRED"
        }
        future = await rep.gql(CREATE, {"input": {"name": "Young", "foundedOn": "2999-01-01"}})
        assert errors(future) == {"foundedOn": "OUT_OF_RANGE"}
        body = await rep.gql(CREATE, {"input": {"name": "Old", "foundedOn": "1998-03-14"}})
        assert body["data"]["createCustomer"]["customer"]["foundedOn"] == "1998-03-14"


async def test_the_founding_date_may_be_today_where_the_caller_is(
    make_settings: Callable[..., Settings],
) -> None:
    # 20:00 UTC on 23 November is already 24 November in Shanghai.
    clock = FakeClock(dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC))
    async with running_app(make_settings(time_zone="Asia/Shanghai"), clock=clock) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        today = await rep.gql(CREATE, {"input": {"name": "New", "foundedOn": "2026-11-24"}})
        assert errors(today) == {}
        tomorrow = await rep.gql(CREATE, {"input": {"name": "Newer", "foundedOn": "2026-11-25"}})
        assert errors(tomorrow) == {"foundedOn": "OUT_OF_RANGE"}


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("customer_required_fields", "industry,colour", "'colour'"),
        ("key_account_grades", "GOLD,PLATINUM", "'PLATINUM'"),
    ],
)
def test_an_unknown_name_stops_startup_naming_the_variable(
    variable: str, value: str, named: str, tmp_path: Any
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings(data_dir=tmp_path, **{variable: value})
    assert f"CRM_{variable.upper()}=" in str(refused.value)
    assert named in str(refused.value)


def test_every_requirable_field_is_an_input_field_of_create_customer() -> None:
    fields = {f.python_name for f in get_object_definition(CreateCustomerInput, strict=True).fields}
    names = {"foundedOn": "founded_on"}
    for name in REQUIRABLE_CUSTOMER_FIELDS:
        assert name == "contact" or names.get(name, name) in fields, name
