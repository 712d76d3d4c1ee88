"""Helpers the sales plugin's tests share: global ids, GraphQL calls, customers to sell to.

The fixtures (``settings`` with the plugin enabled, ``clock``, ``api``, ``admin``) are in
``conftest.py`` beside this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schema.testkit import Api
from schema.testkit_graphql import (
    ERRORS,
    data,
    db_id,
    error_code,
    gid,
    mutate,
    mutate_ok,
    mutate_refused,
    not_found_argument,
)

__all__ = [
    "ERRORS",
    "MONDAY",
    "create_customer",
    "data",
    "db_id",
    "error_code",
    "gid",
    "mutate",
    "mutate_ok",
    "mutate_refused",
    "not_found_argument",
]

MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
"""Where the clock starts: a Monday morning."""


async def create_customer(
    api: Api, name: str, owner_id: int | None = None, *, allow_duplicates: bool = False
) -> str:
    """A customer's global id (created through the API, owned by ``owner_id`` if given;
    ``allow_duplicates``: even if it looks like a customer that exists)."""
    input: dict[str, Any] = {"name": name}
    if allow_duplicates:
        input["allowDuplicates"] = True
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id
