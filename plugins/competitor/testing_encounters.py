"""Helpers the tests of customer links, encounters, win/loss figures, reminders and the sales
hook share, and those of market share, trends and intel: competitors and their products
written straight through the models, customers through the API, the GraphQL selections and
calls of links and encounters, and the refusals of a mutation (its errors, or the error of
the whole request)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.plugin_api import AuditEvent
from plugins.competitor.models import Competitor, Product
from plugins.competitor.testing import MONDAY
from schema.testkit import Api
from schema.testkit_graphql import ERRORS, data, db_id, gid, mutate, mutate_ok

LINK_FIELDS = """id since contractEndsOn endedOn current notes version createdAt updatedAt
  customer { id } competitor { id name } product { id name }"""
LINK = f"customerCompetitor {{ {LINK_FIELDS} }}"
ENCOUNTER_FIELDS = """id source outcome reason reasonText amount { amount currency } occurredOn
  opportunityId createdAt competitor { id name } customer { id } owner { id }"""
ENCOUNTER = f"encounter {{ {ENCOUNTER_FIELDS} }}"

__all__ = [
    "ENCOUNTER",
    "ENCOUNTER_FIELDS",
    "ERRORS",
    "LINK",
    "LINK_FIELDS",
    "MONDAY",
    "add_link",
    "audit_actions",
    "create_competitor",
    "create_customer",
    "create_product",
    "query",
    "record",
    "refused",
    "top_error",
]


async def create_competitor(api: Api, name: str, status: str = "ACTIVE") -> str:
    """A competitor's global id, its profile written straight into the database."""
    async with api.db.transaction() as session:
        row = Competitor(
            name=name,
            name_key=name.strip().casefold(),
            status=status,
            threat_level="MEDIUM",
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        session.add(row)
        await session.flush()
        return gid("Competitor", row.id)


async def create_product(api: Api, competitor: str, name: str) -> str:
    """A competitor product's global id, written straight into the database."""
    async with api.db.transaction() as session:
        row = Product(
            competitor_id=db_id(competitor),
            name=name,
            name_key=name.casefold(),
            category="CRM",
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        session.add(row)
        await session.flush()
        return gid("CompetitorProduct", row.id)


async def create_customer(
    api: Api,
    name: str,
    owner_id: int | None = None,
    *,
    industry: str | None = None,
    region: str | None = None,
) -> str:
    """A customer's global id, created through the API (owned by ``owner_id`` if given)."""
    input: dict[str, Any] = {"name": name}
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    if industry is not None:
        input["industry"] = industry
    if region is not None:
        input["address"] = {"region": region}
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def add_link(api: Api, customer: str, competitor: str, **values: Any) -> dict[str, Any]:
    input = {"customerId": customer, "competitorId": competitor} | values
    payload = await mutate_ok(api, "addCustomerCompetitor", input, LINK)
    link: dict[str, Any] = payload["customerCompetitor"]
    return link


async def record(api: Api, competitor: str, customer: str, **values: Any) -> dict[str, Any]:
    """An encounter recorded by hand (WON unless ``outcome`` says otherwise)."""
    input = {"competitorId": competitor, "customerId": customer, "outcome": "WON"} | values
    payload = await mutate_ok(api, "recordEncounter", input, ENCOUNTER)
    encounter: dict[str, Any] = payload["encounter"]
    return encounter


async def refused(
    api: Api, name: str, input: dict[str, Any], selection: str = "__typename"
) -> list[tuple[str, str]]:
    """(field, code) of each error of a mutation that must be refused."""
    payload = await mutate(api, name, input, selection)
    assert payload["errors"], payload
    return [(error["field"], error["code"]) for error in payload["errors"]]


async def top_error(api: Api, name: str, input: dict[str, Any]) -> tuple[str, str | None]:
    """The code and argument of a mutation refused as a whole."""
    input_type = name[0].upper() + name[1:] + "Input"
    body = await api.gql(
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename {ERRORS} }} }}",
        {"input": input},
    )
    assert body["data"] == {name: None}, body
    (error,) = body["errors"]
    return error["extensions"]["code"], error["extensions"].get("argument")


async def audit_actions(api: Api, entity_type: str) -> list[str]:
    """The audit actions recorded for ``entity_type``, in order."""
    async with api.db.read() as session:
        rows = await session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == entity_type)
            .order_by(AuditEvent.id)
        )
        return list(rows.all())


async def query(api: Api, document: str, variables: dict[str, Any] | None = None) -> Any:
    return data(await api.gql(document, variables))
