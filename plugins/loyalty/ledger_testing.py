"""Helpers the ledger, earning and order tests of the loyalty plugin share: customers to
enrol, accounts read straight from the database, the ledger re-folded."""

from __future__ import annotations

from typing import Any

from plugins.loyalty.service import ledger
from schema.testkit import Api
from schema.testkit_graphql import db_id, gid, mutate_ok


async def create_customer(api: Api, name: str, owner_id: int | None = None) -> str:
    """A customer's global id (created through the API, owned by ``owner_id`` if given)."""
    values: dict[str, Any] = {"name": name}
    if owner_id is not None:
        values["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", values, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def create_customer_id(api: Api, name: str) -> int:
    """A new customer's database id."""
    return db_id(await create_customer(api, name))


async def differences(api: Api) -> list[str]:
    """What ``crm loyalty verify`` would report, read in a transaction of its own."""
    async with api.db.transaction() as session:
        return [str(found) for found in await ledger.verify(session)]
