"""Helpers the tests of profiles, products and prices, the battlecard and the exports share:
a competitor and a customer made through the API, refused inputs as (field, code) pairs,
and the audit trail as recorded."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.plugin_api import AuditEvent
from schema.testkit import Api
from schema.testkit_graphql import gid, mutate_ok


async def competitor(api: Api, name: str, **values: Any) -> str:
    """A new competitor (``values``: more fields of ``createCompetitor``); its global id."""
    payload = await mutate_ok(
        api, "createCompetitor", {"name": name, **values}, "competitor { id }"
    )
    found: str = payload["competitor"]["id"]
    return found


async def customer(api: Api, name: str, owner_id: int | None = None) -> str:
    """A new customer (owned by the user of ``owner_id`` if given); its global id."""
    values: dict[str, Any] = {"name": name}
    if owner_id is not None:
        values["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", values, "customer { id }")
    found: str = payload["customer"]["id"]
    return found


def pairs(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """A payload's errors as (field, code)."""
    return [(error["field"], error["code"]) for error in errors]


async def audit_trail(api: Api, prefix: str) -> list[tuple[str, str, str | None, Any]]:
    """The audit events whose action starts with ``prefix``, in order: (action, entity type,
    entity id, changes)."""
    async with api.db.read() as session:
        rows = (
            await session.execute(
                select(
                    AuditEvent.action,
                    AuditEvent.entity_type,
                    AuditEvent.entity_id,
                    AuditEvent.changes,
                )
                .where(AuditEvent.action.like(f"{prefix}%"))
                .order_by(AuditEvent.id)
            )
        ).all()
    return [(row.action, row.entity_type, row.entity_id, row.changes) for row in rows]
