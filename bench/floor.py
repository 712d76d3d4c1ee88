"""The raw floor: the nested customer query's rows fetched with hand-written SQL.

The same rows the API returns for :data:`bench.queries.NESTED`, read with six statements
straight through the database driver the app uses (aiosqlite or asyncpg, taken from the
app's own engine), put together in plain dictionaries and serialised exactly as the app
serialises a response. No GraphQL, no ORM, no authentication, no scope: what is left is the
cost of the data itself, which the app's latency is divided by.

The benchmark compares the floor's bytes with the app's before timing either, so the two
always do the same work.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from core.json_body import dumps

CUSTOMERS = """
SELECT id, number, name, stage, grade, industry, last_interaction_at, owner_id
FROM customers WHERE archived_at IS NULL ORDER BY name_sort, id LIMIT {limit}"""
OWNERS = "SELECT id, name FROM users WHERE id IN ({ids})"
TAGS = """
SELECT ct.customer_id, t.name FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
WHERE ct.customer_id IN ({ids}) ORDER BY t.name_sort, t.id"""
CONTACTS = """
SELECT customer_id, id, name, email, phone, is_primary FROM (
  SELECT customer_id, id, name, email, phone, is_primary,
         row_number() OVER (PARTITION BY customer_id ORDER BY name_sort, id) AS n
  FROM contacts WHERE archived_at IS NULL AND customer_id IN ({ids})
) AS page WHERE n <= 5 ORDER BY n"""
INTERACTIONS = """
SELECT customer_id, id, channel, summary, occurred_at FROM (
  SELECT customer_id, id, channel, summary, occurred_at,
         row_number() OVER (PARTITION BY customer_id ORDER BY occurred_at DESC, id DESC) AS n
  FROM interactions WHERE customer_id IN ({ids})
) AS page WHERE n <= 3 ORDER BY n"""
TICKETS = """
SELECT customer_id, id, number, subject, status, priority FROM (
  SELECT customer_id, id, number, subject, status, priority,
         row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, id DESC) AS n
  FROM tickets WHERE customer_id IN ({ids})
) AS page WHERE n <= 3 ORDER BY n"""


def global_id(type_name: str, value: int) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def _time(value: Any) -> str | None:
    """A stored time as the API writes it (ISO 8601, UTC offset)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps times as text, in UTC
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.astimezone(dt.UTC).isoformat())


def render(payload: Any) -> bytes:
    """Serialise as the app's responses are (:func:`core.json_body.dumps`)."""
    return dumps(payload)


class Fetcher:
    """Runs hand-written SQL on the driver connection under a SQLAlchemy connection."""

    def __init__(self, driver: Any, dialect: str) -> None:
        self.driver = driver
        self.postgres = dialect == "postgresql"

    async def rows(self, sql: str, ids: list[int] | None = None, limit: int = 0) -> list[Any]:
        if self.postgres:
            text = sql.format(ids="SELECT unnest($1::int[])", limit=int(limit))
            return list(
                await self.driver.fetch(text, ids)
                if ids is not None
                else await self.driver.fetch(text)
            )
        marks = ",".join("?" * len(ids or []))
        async with self.driver.execute(sql.format(ids=marks, limit=int(limit)), ids or []) as cur:
            return list(await cur.fetchall())


async def nested_customers(engine: AsyncEngine, first: int) -> bytes:
    """The response body of :data:`bench.queries.NESTED` for ``first`` customers."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        fetch = Fetcher(raw.driver_connection, engine.dialect.name)
        customers = await fetch.rows(CUSTOMERS, limit=first)
        ids = [row[0] for row in customers]
        owner_ids = sorted({row[7] for row in customers if row[7] is not None})
        owners = (
            {row[0]: row[1] for row in await fetch.rows(OWNERS, owner_ids)} if owner_ids else {}
        )
        tags: dict[int, list[dict[str, Any]]] = defaultdict(list)
        contacts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        interactions: dict[int, list[dict[str, Any]]] = defaultdict(list)
        tickets: dict[int, list[dict[str, Any]]] = defaultdict(list)
        if ids:
            for customer_id, name in await fetch.rows(TAGS, ids):
                tags[customer_id].append({"name": name})
            for customer_id, id_, name, email, phone, primary in await fetch.rows(CONTACTS, ids):
                contacts[customer_id].append(
                    {
                        "node": {
                            "id": global_id("Contact", id_),
                            "name": name,
                            "email": email,
                            "phone": phone,
                            "primary": bool(primary),
                        }
                    }
                )
            for customer_id, id_, channel, summary, occurred in await fetch.rows(INTERACTIONS, ids):
                interactions[customer_id].append(
                    {
                        "node": {
                            "id": global_id("Interaction", id_),
                            "channel": channel,
                            "summary": summary,
                            "occurredAt": _time(occurred),
                        }
                    }
                )
            for customer_id, id_, number, subject, status, priority in await fetch.rows(
                TICKETS, ids
            ):
                tickets[customer_id].append(
                    {
                        "node": {
                            "id": global_id("Ticket", id_),
                            "number": number,
                            "subject": subject,
                            "status": status,
                            "priority": priority,
                        }
                    }
                )
    edges = []
    for id_, number, name, stage, grade, industry, last_at, owner_id in customers:
        owner = (
            {"id": global_id("User", owner_id), "name": owners[owner_id]}
            if owner_id in owners
            else None
        )
        edges.append(
            {
                "node": {
                    "id": global_id("Customer", id_),
                    "number": number,
                    "name": name,
                    "stage": stage,
                    "grade": grade,
                    "industry": industry,
                    "lastInteractionAt": _time(last_at),
                    "owner": owner,
                    "tags": tags[id_],
                    "contacts": {"edges": contacts[id_]},
                    "interactions": {"edges": interactions[id_]},
                    "tickets": {"edges": tickets[id_]},
                }
            }
        )
    return render({"data": {"customers": {"edges": edges}}})
