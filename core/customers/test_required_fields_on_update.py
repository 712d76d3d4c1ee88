"""CRM_CUSTOMER_REQUIRED_FIELDS holds on every change, not only on create: updateCustomer
refuses to clear a required field (REQUIRED, naming it, nothing saved) and the imports,
synchronous and background, refuse the rows that would; a customer from before the setting
stays editable in the fields an update leaves alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from core.catalog import SALES_REPRESENTATIVE
from core.config import Settings
from core.customers.models import Customer
from tests.support import Api, running_app

REQUIRED = "industry,contact,address,foundedOn,source"
CREATE = """
mutation($input: CreateCustomerInput!) {
  createCustomer(input: $input) { customer { id number version } errors { field code } }
}"""
UPDATE = """
mutation($input: UpdateCustomerInput!) {
  updateCustomer(input: $input) {
    customer { name industry phone email foundedOn source version address { city country } }
    errors { field code message }
  }
}"""
SYNC_IMPORT = """
mutation($csv: String!, $dryRun: Boolean) {
  importCustomers(input: {csv: $csv, matchOn: [EMAIL], dryRun: $dryRun}) {
    created updated imported rowErrors { line field code }
    errors { field message code }
  }
}"""
START = """
mutation($csv: String!, $dryRun: Boolean!) {
  startCustomerImport(input: {csv: $csv, matchOn: [EMAIL], dryRun: $dryRun}) {
    customerImport { id } errors { field message code }
  }
}"""
PROGRESS = """
query($id: ID!) {
  customerImport(id: $id) {
    status phase created updated imported errorCount rowErrors { line field code }
  }
}"""
FULL = {
    "name": "Lakebrook GmbH",
    "industry": "Retail",
    "email": "info@lakebrook.de",
    "address": {"city": "Hamburg", "country": "DE"},
    "foundedOn": "2001-11-27",
    "source": "REFERRAL",
}


async def create(api: Api, **fields: Any) -> dict[str, Any]:
    body = await api.gql(CREATE, {"input": {**FULL, **fields, "allowDuplicates": True}})
    assert body["data"]["createCustomer"]["errors"] == [], body
    customer: dict[str, Any] = body["data"]["createCustomer"]["customer"]
    return customer


async def change(api: Api, customer: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = await api.gql(
        UPDATE, {"input": {"id": customer["id"], "version": customer["version"], **fields}}
    )
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["updateCustomer"]
    return payload


def codes(payload: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["code"] for e in payload["errors"]}


async def stored(api: Api, number: str) -> Customer:
    async with api.db.read() as session:
        found = await session.scalar(select(Customer).where(Customer.number == number))
    assert found is not None
    return found


async def test_an_update_may_not_clear_a_required_field(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(plugins=(), customer_required_fields=REQUIRED)) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        customer = await create(rep)
        before = await stored(api, customer["number"])

        cases: list[tuple[dict[str, Any], dict[str, str]]] = [
            ({"industry": None}, {"industry": "REQUIRED"}),
            ({"industry": "   "}, {"industry": "REQUIRED"}),
            ({"source": None}, {"source": "REQUIRED"}),
            ({"foundedOn": None}, {"foundedOn": "REQUIRED"}),
            ({"email": None}, {"phone": "REQUIRED"}),  # contact: no phone either
            ({"email": "", "phone": None}, {"phone": "REQUIRED"}),
            ({"address": None}, {"address": "REQUIRED"}),
            ({"address": {"city": None, "country": None}}, {"address": "REQUIRED"}),
            (
                {"industry": None, "name": "Renamed", "foundedOn": None},
                {"industry": "REQUIRED", "foundedOn": "REQUIRED"},
            ),
        ]
        for fields, refused in cases:
            payload = await change(rep, customer, **fields)
            assert codes(payload) == refused, fields
            assert payload["customer"] is None
            message = next(e["message"] for e in payload["errors"])
            assert message, fields
        after = await stored(api, customer["number"])
        assert after.version == before.version  # nothing was saved
        assert (after.name, after.industry, after.email, after.city, after.founded_on) == (
            before.name,
            before.industry,
            before.email,
            before.city,
            before.founded_on,
        )

        # Changing a required field to another value, or one part of a group, is fine.
        payload = await change(
            rep,
            customer,
            industry="Logistics",
            email=None,
            phone="+49 40 1234567",
            address={"city": None},  # the country stays
        )
        assert payload["errors"] == [], payload
        assert payload["customer"]["industry"] == "Logistics"
        assert payload["customer"]["address"] == {"city": None, "country": "DE"}


async def test_a_customer_from_before_the_setting_stays_editable(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings(plugins=(), customer_required_fields=REQUIRED)) as api:
        rep = await api.as_role(SALES_REPRESENTATIVE)
        customer = await create(rep)
        async with api.db.transaction() as session:  # as it was saved before the setting
            await session.execute(
                update(Customer)
                .where(Customer.number == customer["number"])
                .values(industry=None, founded_on=None, email=None, city=None, country=None)
            )

        payload = await change(rep, customer, name="Lakebrook AG", source="TRADE_SHOW")
        assert payload["errors"] == [], payload
        assert payload["customer"]["name"] == "Lakebrook AG"
        customer["version"] = payload["customer"]["version"]

        # What an update gives must be filled, though.
        payload = await change(rep, customer, industry=None, website="https://lakebrook.de")
        assert codes(payload) == {"industry": "REQUIRED"}
        payload = await change(rep, customer, industry="Retail")
        assert payload["errors"] == [], payload
        assert payload["customer"]["industry"] == "Retail"


def csv(*rows: str) -> str:
    return "\n".join(["name,email,phone,industry,source,city", *rows]) + "\n"


async def import_setup(api: Api) -> tuple[Api, str]:
    """A representative and the number of a customer of theirs (info@lakebrook.de) that
    lacks the founding date: saved before the setting."""
    rep = await api.as_role(SALES_REPRESENTATIVE)
    customer = await create(rep)
    async with api.db.transaction() as session:
        await session.execute(
            update(Customer).where(Customer.number == customer["number"]).values(founded_on=None)
        )
    return rep, customer["number"]


# Settings without foundedOn, which the file has no column for: a new row can satisfy them.
IMPORT_REQUIRED = "industry,contact,address,source"
BAD_FILE = csv(
    "New Firm,new@firm.example,,,REFERRAL,Berlin",  # line 2: new, without an industry
    "Lakebrook GmbH,info@lakebrook.de,,,REFERRAL,Hamburg",  # line 3: clears the industry
    "Lakebrook GmbH,info@lakebrook.de,,Retail,,Hamburg",  # line 4: a blank source leaves it
    "Other Firm,other@firm.example,,Retail,REFERRAL,",  # line 5: new, without an address
)
GOOD_FILE = csv(
    "New Firm,new@firm.example,,Retail,REFERRAL,Berlin",
    "Lakebrook AG,info@lakebrook.de,,Retail,REFERRAL,Hamburg",
)
EXPECTED_ERRORS = [
    {"line": 2, "field": "industry", "code": "REQUIRED"},
    {"line": 3, "field": "industry", "code": "REQUIRED"},
    {"line": 5, "field": "address", "code": "REQUIRED"},
]


async def test_the_synchronous_import_checks_new_and_updated_rows_alike(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(plugins=(), customer_required_fields=IMPORT_REQUIRED)
    async with running_app(settings) as api:
        rep, number = await import_setup(api)
        before = await stored(api, number)
        body = await rep.gql(SYNC_IMPORT, {"csv": BAD_FILE, "dryRun": False})
        result = body["data"]["importCustomers"]
        assert result["imported"] is False
        assert sorted(result["rowErrors"], key=lambda e: e["line"]) == EXPECTED_ERRORS
        after = await stored(api, number)
        assert (after.industry, after.source, after.version) == (
            before.industry,
            before.source,
            before.version,
        )

        # The old customer lacks its founding date: an update that leaves it alone passes.
        body = await rep.gql(SYNC_IMPORT, {"csv": GOOD_FILE, "dryRun": False})
        result = body["data"]["importCustomers"]
        assert (result["imported"], result["created"], result["updated"]) == (True, 1, 1), body
        assert (await stored(api, number)).name == "Lakebrook AG"


async def test_the_background_import_checks_new_and_updated_rows_alike(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(plugins=(), customer_required_fields=IMPORT_REQUIRED)
    async with running_app(settings) as api:
        rep, number = await import_setup(api)
        before = await stored(api, number)

        async def run(text: str, dry_run: bool) -> dict[str, Any]:
            body = await rep.gql(START, {"csv": text, "dryRun": dry_run})
            payload = body["data"]["startCustomerImport"]
            assert payload["errors"] == [], body
            await rep.run_jobs()
            found = await rep.gql(PROGRESS, {"id": payload["customerImport"]["id"]})
            progress: dict[str, Any] = found["data"]["customerImport"]
            return progress

        dry = await run(BAD_FILE, dry_run=True)
        assert dry["rowErrors"] == EXPECTED_ERRORS
        assert (dry["created"], dry["updated"], dry["errorCount"]) == (0, 1, 3)

        failed = await run(BAD_FILE, dry_run=False)
        # Refused while validating: nothing is written, every bad row is listed.
        assert (failed["status"], failed["imported"]) == ("FAILED", False), failed
        assert failed["rowErrors"] == EXPECTED_ERRORS
        after = await stored(api, number)
        assert (after.industry, after.source, after.version) == (
            before.industry,
            before.source,
            before.version,
        )

        done = await run(GOOD_FILE, dry_run=False)
        assert (done["imported"], done["created"], done["updated"]) == (True, 1, 1), done
        assert (await stored(api, number)).name == "Lakebrook AG"
