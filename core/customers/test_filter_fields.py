"""Fields plugins add to the customers list's filter (``crm_customer_filter_fields``): in the
schema of the app that enables them only, applied by the list and the CSV/XLSX export beside
core's filters, a refused value named ``filter.<field>``, clashing names stopping startup."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import ColumnElement, func, select

from core.config import Settings, load_settings
from core.context import RequestContext
from core.customers import models
from core.customers.exchange import COLUMNS
from core.extension import CustomerFilterField
from core.hookspecs import hookimpl
from core.host import PluginError
from core.types import DateTimeRange, in_range
from schema.builder import build_schema
from schema.modules import build_plugin_manager
from tests.support import FIXTURE, Api, HookSet


def _at_least(value: int, customer_id: ColumnElement[int], context: RequestContext) -> Any:
    if value < 0:
        raise ValueError("must be 0 or more")
    ct = models.Contact
    counted = (
        select(func.count())
        .where(ct.customer_id == customer_id, ct.archived_at.is_(None))
        .scalar_subquery()
    )
    return counted >= value


MIN_CONTACTS = CustomerFilterField(
    name="min_contacts",
    annotation=int | None,
    description="Customers with at least this many contacts.",
    apply=_at_least,
)


def _contact_added(
    value: DateTimeRange, customer_id: ColumnElement[int], context: RequestContext
) -> Any:
    assert isinstance(value, DateTimeRange)  # a nested input arrives converted
    ct = models.Contact
    added = select(ct.customer_id).where(*in_range(ct.created_at, value, "filter.contactAdded"))
    return customer_id.in_(added)


CONTACT_ADDED = CustomerFilterField(
    name="contact_added",
    annotation=DateTimeRange | None,
    description="Customers with a contact added in this span.",
    apply=_contact_added,
)


def _plugin(*fields: CustomerFilterField) -> HookSet:
    def crm_customer_filter_fields() -> Sequence[CustomerFilterField]:
        return fields

    return HookSet(crm_customer_filter_fields=hookimpl(crm_customer_filter_fields))


@pytest.fixture
def crm_plugins() -> tuple[str, ...]:
    return ("fixture", "contacts_filter")


@pytest.fixture
def crm_extra_plugins() -> Mapping[str, Any]:
    return {**FIXTURE, "contacts_filter": _plugin(MIN_CONTACTS, CONTACT_ADDED)}


CUSTOMERS = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 50, orderBy: [{field: NAME}]) {
    totalCount edges { node { name } }
  }
}"""


async def names(api: Api, filter: dict[str, Any]) -> list[str]:
    body = await api.gql(CUSTOMERS, {"filter": filter})
    assert "errors" not in body, body
    connection = body["data"]["customers"]
    assert connection["totalCount"] == len(connection["edges"])
    return [edge["node"]["name"] for edge in connection["edges"]]


async def create(api: Api, name: str, stage: str, contacts: int) -> None:
    body = await api.gql(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) "
        "{ customer { id } errors { code } } }",
        {"input": {"name": name, "stage": stage}},
    )
    payload = body["data"]["createCustomer"]
    assert payload["errors"] == [], payload
    for index in range(contacts):
        added = await api.gql(
            "mutation($input: CreateContactInput!) { createContact(input: $input) "
            "{ errors { code } } }",
            {"input": {"customerId": payload["customer"]["id"], "name": f"{name} {index}"}},
        )
        assert added["data"]["createContact"]["errors"] == [], added


async def exported(api: Api, fmt: str, filter: str) -> list[str]:
    response = await api.client.get(
        f"/export/customers.{fmt}",
        headers=api.headers,
        params={"filter": filter, "orderBy": '{"field": "NAME"}'},
    )
    assert response.status_code == 200, response.text
    column = COLUMNS.index("name")
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        return [row[column] for row in rows[1:]]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return [str(row[column]) for row in list(sheet.iter_rows(values_only=True))[1:]]


async def test_a_plugin_field_filters_the_list_and_the_export_with_core_filters(
    admin: Api,
) -> None:
    await create(admin, "Acme", "ACTIVE", 2)
    await create(admin, "Bravo", "NEW", 3)
    await create(admin, "Charlie", "ACTIVE", 0)

    assert await names(admin, {}) == ["Acme", "Bravo", "Charlie"]
    assert await names(admin, {"minContacts": None}) == ["Acme", "Bravo", "Charlie"]
    assert await names(admin, {"minContacts": 0}) == ["Acme", "Bravo", "Charlie"]
    assert await names(admin, {"minContacts": 2}) == ["Acme", "Bravo"]
    assert await names(admin, {"minContacts": 3}) == ["Bravo"]
    # AND with core's own filters (and the search, which builds its list apart).
    assert await names(admin, {"minContacts": 2, "stage": ["ACTIVE"]}) == ["Acme"]
    assert await names(admin, {"minContacts": 1, "search": "char"}) == []
    assert await names(admin, {"minContacts": 2, "search": "bra"}) == ["Bravo"]
    inline = await admin.gql("{ customers(filter: {minContacts: 3}) { totalCount } }")
    assert inline["data"]["customers"]["totalCount"] == 1
    span = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    assert await names(admin, {"contactAdded": span}) == ["Acme", "Bravo"]
    assert await names(admin, {"contactAdded": span, "minContacts": 3}) == ["Bravo"]
    assert await names(admin, {"contactAdded": {"from": "2100-01-01T00:00:00Z"}}) == []

    for fmt in ("csv", "xlsx"):
        assert await exported(admin, fmt, '{"minContacts": 2}') == ["Acme", "Bravo"]
        assert await exported(admin, fmt, '{"minContacts": 2, "stage": ["NEW"]}') == ["Bravo"]
        assert await exported(admin, fmt, "{}") == ["Acme", "Bravo", "Charlie"]
        assert await exported(
            admin, fmt, '{"contactAdded": {"from": "2000-01-01T00:00:00Z"}, "stage": ["ACTIVE"]}'
        ) == ["Acme"]


async def test_a_value_the_field_refuses_is_named_in_the_list_and_the_export(
    admin: Api,
) -> None:
    body = await admin.gql(CUSTOMERS, {"filter": {"minContacts": -1}})
    assert body["data"]["customers"] is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.minContacts"}
    assert error["message"] == "filter.minContacts: must be 0 or more"
    backwards = {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    body = await admin.gql(CUSTOMERS, {"filter": {"contactAdded": backwards}})
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.contactAdded.to",
    }
    for fmt in ("csv", "xlsx"):
        response = await admin.client.get(
            f"/export/customers.{fmt}",
            headers=admin.headers,
            params={"filter": '{"minContacts": -1}'},
        )
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "argument": "filter.minContacts",
        }
        # A value of the wrong type is refused as the filter's, as for core's fields.
        response = await admin.client.get(
            f"/export/customers.{fmt}",
            headers=admin.headers,
            params={"filter": '{"minContacts": "x"}'},
        )
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["argument"] == "filter"
        assert error["message"].startswith("filter.minContacts"), error


# ----------------------------------------------------------------------------- declarations


@pytest.fixture
def plain_settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path)


def _schema_sdl(settings: Settings, **plugins: Any) -> str:
    pm = build_plugin_manager(list(plugins), load_entrypoints=False, extra_plugins=plugins)
    return build_schema(pm, settings).as_str()


def _customer_filter(sdl: str) -> str:
    start = sdl.index("input CustomerFilter {")
    return sdl[start : sdl.index("}", start)]


def test_only_the_schema_of_the_enabling_modules_has_the_field(plain_settings: Settings) -> None:
    with_field = _customer_filter(_schema_sdl(plain_settings, a=_plugin(MIN_CONTACTS)))
    without = _customer_filter(_schema_sdl(plain_settings, b=_plugin()))
    assert '"""Customers with at least this many contacts."""\n  minContacts: Int = null' in (
        with_field
    )
    assert "minContacts" not in without
    assert without == _customer_filter(_schema_sdl(plain_settings))
    assert with_field.replace(without, "").strip().startswith('"""Customers with at least')


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"a": [MIN_CONTACTS], "b": [MIN_CONTACTS]},
            "the customer filter field 'minContacts' is declared by two modules: a and b",
        ),
        (
            {"a": [MIN_CONTACTS, MIN_CONTACTS]},
            "a: the customer filter field 'minContacts' is declared twice",
        ),
        (
            {"a": [CustomerFilterField("stage", int | None, "", _at_least)]},
            "a: the customer filter field 'stage' is one of core's own CustomerFilter fields",
        ),
        (
            {"a": [CustomerFilterField("tag_match", str | None, "", _at_least)]},
            "a: the customer filter field 'tagMatch' is one of core's own CustomerFilter fields",
        ),
        (
            {"a": [CustomerFilterField("minContacts", int | None, "", _at_least)]},
            "a: the customer filter field 'minContacts' is not a snake case Python name",
        ),
        (
            {"a": [CustomerFilterField("min_contacts", int, "", _at_least)]},
            "a: the customer filter field 'minContacts' must have an optional type",
        ),
        (
            {"a": ["min_contacts"]},
            "a: crm_customer_filter_fields must return CustomerFilterField values",
        ),
    ],
)
def test_a_clashing_or_malformed_field_stops_startup(
    plain_settings: Settings, fields: dict[str, list[Any]], message: str
) -> None:
    plugins = {name: _plugin(*declared) for name, declared in fields.items()}
    with pytest.raises(PluginError) as refused:
        _schema_sdl(plain_settings, **plugins)
    assert str(refused.value).startswith(message), refused.value
