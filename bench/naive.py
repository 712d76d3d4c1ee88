"""A naive GraphQL implementation of the nested customer query, for comparison.

What a first attempt looks like: the same tables (the app's SQLAlchemy models), the same
GraphQL shape and the same JSON, served by Strawberry's own ASGI app, but every relationship
field runs its own query for its own parent row (owner, tags, contacts, interactions,
tickets: five queries per customer, so 1 + 5N statements for N customers). There is no
authentication and no scope check, so it does less work than the app in every other way.

The benchmark compares its bytes with the app's before timing either.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry import relay
from strawberry.asgi import GraphQL
from strawberry.types import Info

from core.customers import models
from core.db import Database
from core.identity.models import User as UserRow
from plugins.tickets.models import Ticket as TicketRow


@strawberry.type(name="User")
class NaiveUser(relay.Node):
    id: relay.NodeID[int]
    name: str


@strawberry.type(name="Tag")
class NaiveTag:
    name: str


@strawberry.type(name="Contact")
class NaiveContact(relay.Node):
    id: relay.NodeID[int]
    name: str
    email: str | None
    phone: str | None
    primary: bool


@strawberry.type(name="Interaction")
class NaiveInteraction(relay.Node):
    id: relay.NodeID[int]
    channel: str
    summary: str
    occurred_at: dt.datetime


@strawberry.type(name="Ticket")
class NaiveTicket(relay.Node):
    id: relay.NodeID[int]
    number: str
    subject: str
    status: str
    priority: str


@strawberry.type
class ContactEdge:
    node: NaiveContact


@strawberry.type
class ContactConnection:
    edges: list[ContactEdge]


@strawberry.type
class InteractionEdge:
    node: NaiveInteraction


@strawberry.type
class InteractionConnection:
    edges: list[InteractionEdge]


@strawberry.type
class TicketEdge:
    node: NaiveTicket


@strawberry.type
class TicketConnection:
    edges: list[TicketEdge]


def _db(info: Info) -> Database:
    db: Database = info.context["db"]
    return db


@strawberry.type(name="Customer")
class NaiveCustomer(relay.Node):
    id: relay.NodeID[int]
    number: str
    name: str
    stage: str
    grade: str
    industry: str | None
    last_interaction_at: dt.datetime | None
    owner_id: strawberry.Private[int | None]

    @strawberry.field
    async def owner(self, info: Info) -> NaiveUser | None:
        if self.owner_id is None:
            return None
        async with _db(info).read() as session:
            row = await session.get(UserRow, self.owner_id)
        return NaiveUser(id=row.id, name=row.name) if row else None

    @strawberry.field
    async def tags(self, info: Info) -> list[NaiveTag]:
        async with _db(info).read() as session:
            rows = await session.scalars(
                select(models.Tag)
                .join(models.CustomerTag, models.CustomerTag.tag_id == models.Tag.id)
                .where(models.CustomerTag.customer_id == self.id)
                .order_by(models.Tag.name_sort, models.Tag.id)
            )
            return [NaiveTag(name=row.name) for row in rows]

    @strawberry.field
    async def contacts(self, info: Info, first: int) -> ContactConnection:
        c = models.Contact
        async with _db(info).read() as session:
            rows = await session.scalars(
                select(c)
                .where(c.customer_id == self.id, c.archived_at.is_(None))
                .order_by(c.name_sort, c.id)
                .limit(first)
            )
            return ContactConnection(
                edges=[
                    ContactEdge(
                        node=NaiveContact(
                            id=row.id,
                            name=row.name,
                            email=row.email,
                            phone=row.phone,
                            primary=row.is_primary,
                        )
                    )
                    for row in rows
                ]
            )

    @strawberry.field
    async def interactions(self, info: Info, first: int) -> InteractionConnection:
        i = models.Interaction
        async with _db(info).read() as session:
            rows = await session.scalars(
                select(i)
                .where(i.customer_id == self.id)
                .order_by(i.occurred_at.desc(), i.id.desc())
                .limit(first)
            )
            return InteractionConnection(
                edges=[
                    InteractionEdge(
                        node=NaiveInteraction(
                            id=row.id,
                            channel=row.channel,
                            summary=row.summary,
                            occurred_at=row.occurred_at,
                        )
                    )
                    for row in rows
                ]
            )

    @strawberry.field
    async def tickets(self, info: Info, first: int) -> TicketConnection:
        t = TicketRow
        async with _db(info).read() as session:
            rows = await session.scalars(
                select(t)
                .where(t.customer_id == self.id)
                .order_by(t.created_at.desc(), t.id.desc())
                .limit(first)
            )
            return TicketConnection(
                edges=[
                    TicketEdge(
                        node=NaiveTicket(
                            id=row.id,
                            number=row.number,
                            subject=row.subject,
                            status=row.status,
                            priority=row.priority,
                        )
                    )
                    for row in rows
                ]
            )


@strawberry.type
class CustomerEdge:
    node: NaiveCustomer


@strawberry.type
class CustomerConnection:
    edges: list[CustomerEdge]


@strawberry.type
class Query:
    @strawberry.field
    async def customers(self, info: Info, first: int) -> CustomerConnection:
        c = models.Customer
        async with _db(info).read() as session:
            rows = await session.scalars(
                select(c).where(c.archived_at.is_(None)).order_by(c.name_sort, c.id).limit(first)
            )
            return CustomerConnection(
                edges=[
                    CustomerEdge(
                        node=NaiveCustomer(
                            id=row.id,
                            number=row.number,
                            name=row.name,
                            stage=row.stage,
                            grade=row.grade,
                            industry=row.industry,
                            last_interaction_at=row.last_interaction_at,
                            owner_id=row.owner_id,
                        )
                    )
                    for row in rows
                ]
            )


schema = strawberry.Schema(query=Query)


class _App(GraphQL[dict[str, Any], None]):
    def __init__(self, db: Database) -> None:
        super().__init__(schema, graphql_ide=None)
        self.db = db

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:
        return {"db": self.db}


def create_app(db: Database) -> Starlette:
    """The naive implementation at ``/graphql`` over ``db``."""
    return Starlette(routes=[Route("/graphql", _App(db))])
