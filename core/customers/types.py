"""GraphQL types of the customer graph."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.batch_fields import batch_field, related
from core.context import RequestContext
from core.customers import loaders, models, orders
from core.customers.field_types import (
    CustomFieldDefinition as CustomFieldDefinition,  # re-exported: types of the graph
)
from core.customers.field_types import (
    CustomFieldValue,
    custom_field_values,
)
from core.customers.followup_inputs import TaskStatus, TaskType, TimelineFilter
from core.customers.followup_loaders import timeline_page
from core.customers.inputs import (
    ContactOrder,
    CustomerGrade,
    CustomerKind,
    CustomerSource,
    CustomerStage,
    InteractionChannel,
    InteractionOrder,
    TaskOrder,
)
from core.identity.inputs import AuditEventOrder
from core.identity.loaders import UserCard
from core.identity.queries import AUDIT_EVENT_ORDER
from core.identity.types import AuditEvent, UserSummary
from core.node import ModelNode
from core.ordering import ORDER_BY_HELP
from core.pagination import Connection, PageArgs

if TYPE_CHECKING:
    from core.rows import ColumnRow


async def _done(_context: RequestContext, tasks: Sequence[Task]) -> list[bool]:
    return [task.done_at is not None for task in tasks]


async def _participants(
    context: RequestContext, interactions: Sequence[Interaction]
) -> list[list[UserSummary]]:
    found: list[list[UserCard]] = await context.loader(loaders.ParticipantsLoader).load_level(
        [interaction.id for interaction in interactions]
    )
    return [[UserSummary.of(card.id, card) for card in cards] for cards in found]


async def _custom_field_values(
    context: RequestContext, customers: Sequence[Customer]
) -> list[list[CustomFieldValue]]:
    loader = context.loader(loaders.CustomFieldDefinitionsByEntityLoader)
    definitions = await loader.load("CUSTOMER")
    return [
        custom_field_values(
            definitions,
            customer.custom_fields if isinstance(customer.custom_fields, dict) else None,
        )
        for customer in customers
    ]


async def _tags(context: RequestContext, customers: Sequence[Customer]) -> list[list[Tag]]:
    found = await context.loader(loaders.TagsByCustomerLoader).load_level(
        [customer.id for customer in customers]
    )
    # One node per tag, however many customers carry it: a node is read, never changed.
    made: dict[int, Tag] = {}
    return [
        [made.get(row.id) or made.setdefault(row.id, Tag.from_model(row)) for row in rows]
        for rows in found
    ]


async def _primary_contacts(
    context: RequestContext, customers: Sequence[Customer]
) -> list[Contact | None]:
    found = await context.loader(loaders.PrimaryContactLoader).load_level(
        [customer.id for customer in customers]
    )
    return [Contact.from_model(row) if row else None for row in found]


async def _contacts(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[ContactOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Contact]]:
    return await context.child_pages(
        loaders.ContactPagesLoader,
        loaders.ContactCountLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Contact.from_model,
        orders.CONTACT_ORDER.keys(order_by),
    )


async def _interactions(
    context: RequestContext,
    customers: Sequence[Customer],
    filter: TimelineFilter | None = None,
    order_by: Annotated[
        list[InteractionOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Sequence[Connection[Interaction]]:
    args = PageArgs(first=first, after=after, last=last, before=before)
    ordering = orders.INTERACTION_ORDER.keys(order_by)
    if filter is not None:
        return await asyncio.gather(
            *(
                timeline_page(context, customer.id, filter, args, ordering, Interaction.from_model)
                for customer in customers
            )
        )
    return await context.child_pages(
        loaders.InteractionPagesLoader,
        loaders.InteractionCountLoader,
        [customer.id for customer in customers],
        args,
        Interaction.from_model,
        ordering,
    )


async def _tasks(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[TaskOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Task]]:
    return await context.child_pages(
        loaders.TaskPagesLoader,
        loaders.TaskCountLoader,
        [customer.id for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        Task.from_model,
        orders.TASK_ORDER.keys(order_by),
    )


async def _history(
    context: RequestContext,
    customers: Sequence[Customer],
    order_by: Annotated[
        list[AuditEventOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
    ] = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[AuditEvent]]:
    return await context.child_pages(
        loaders.HistoryPagesLoader,
        loaders.HistoryCountLoader,
        [str(customer.id) for customer in customers],
        PageArgs(first=first, after=after, last=last, before=before),
        AuditEvent.from_model,
        AUDIT_EVENT_ORDER.keys(order_by),
    )


@strawberry.type(description="A postal address.")
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2.")


@strawberry.type(description="A label on customers; names are unique regardless of case.")
class Tag(ModelNode[models.Tag]):
    by_id_loader = loaders.TagByIdLoader
    id: relay.NodeID[int]
    name: str

    @classmethod
    def from_model(cls, row: models.Tag | ColumnRow) -> Tag:
        return cls(id=row.id, name=row.name)


@strawberry.type(description="A person at a customer.")
class Contact(ModelNode[models.Contact]):
    by_id_loader = loaders.ContactByIdLoader
    read_columns = {
        **{name: name for name in ("id", "name", "title", "phone", "mobile", "email")},
        **{name: name for name in ("birthday", "notes", "locale", "time_zone", "version")},
        **{name: name for name in ("created_at", "updated_at", "archived_at")},
        "primary": "is_primary",
    }
    id: relay.NodeID[int]
    name: str
    title: str | None = strawberry.field(description="Job position.")
    phone: str | None = strawberry.field(
        description="E.164, then ;ext= and the extension if any (+861012345678;ext=123)."
    )
    mobile: str | None = strawberry.field(description="E.164.")
    email: str | None
    birthday: dt.date | None
    primary: bool
    notes: str | None
    locale: str | None = strawberry.field(
        description="For what the contact reads (`en`, `zh-CN`); null: the deployment's."
    )
    time_zone: str | None = strawberry.field(
        description="IANA time zone for times shown to the contact; null: the deployment's."
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None
    version: int
    customer_id: strawberry.Private[int]
    customer: Customer | None = batch_field(related(lambda: Customer, "customer_id"))

    @classmethod
    def from_model(cls, row: models.Contact) -> Contact:
        return cls(
            id=row.id,
            name=row.name,
            title=row.title,
            phone=row.phone,
            mobile=row.mobile,
            email=row.email,
            birthday=row.birthday,
            primary=row.is_primary,
            notes=row.notes,
            locale=row.locale,
            time_zone=row.time_zone,
            created_at=row.created_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
            version=row.version,
            customer_id=row.customer_id,
        )


@strawberry.type(description="Something that happened with a customer: a call, a visit...")
class Interaction(ModelNode[models.Interaction]):
    by_id_loader = loaders.InteractionByIdLoader
    read_columns = {
        **{name: name for name in ("id", "summary", "occurred_at", "next_follow_up_at")},
        "created_at": "created_at",
        "channel": ("channel", InteractionChannel),
    }
    id: relay.NodeID[int]
    channel: InteractionChannel
    summary: str
    occurred_at: dt.datetime
    next_follow_up_at: dt.datetime | None
    created_at: dt.datetime
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    author_id: strawberry.Private[int | None]
    customer: Customer | None = batch_field(related(lambda: Customer, "customer_id"))
    contact: Contact | None = batch_field(related(Contact, "contact_id"))
    author: UserSummary | None = batch_field(
        related(UserSummary, "author_id"), description="Who logged it; null only when no user did."
    )
    participants: list[UserSummary] = batch_field(
        _participants, description="Users who took part, by name."
    )

    @classmethod
    def from_model(cls, row: models.Interaction) -> Interaction:
        return cls(
            id=row.id,
            channel=InteractionChannel(row.channel),
            summary=row.summary,
            occurred_at=row.occurred_at,
            next_follow_up_at=row.next_follow_up_at,
            created_at=row.created_at,
            customer_id=row.customer_id,
            contact_id=row.contact_id,
            author_id=row.author_id,
        )


@strawberry.type(description="A follow-up or reminder.")
class Task(ModelNode[models.Task]):
    by_id_loader = loaders.TaskByIdLoader
    id: relay.NodeID[int]
    title: str
    type: TaskType
    status: TaskStatus
    due_at: dt.datetime
    remind_at: dt.datetime | None
    done_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    customer_id: strawberry.Private[int | None]
    assignee_id: strawberry.Private[int | None]
    done: bool = batch_field(_done)
    customer: Customer | None = batch_field(
        related(lambda: Customer, "customer_id"),
        description="The task's customer; null only when it has none (a task with a customer "
        "is visible only to those who see the customer).",
    )
    assignee: UserSummary | None = batch_field(
        related(UserSummary, "assignee_id"),
        description="Who the task is for; null only when unassigned.",
    )

    @classmethod
    def from_model(cls, row: models.Task) -> Task:
        return cls(
            id=row.id,
            title=row.title,
            type=TaskType(row.type),
            status=(
                TaskStatus.CANCELLED
                if row.cancelled_at is not None
                else TaskStatus.DONE
                if row.done_at is not None
                else TaskStatus.OPEN
            ),
            due_at=row.due_at,
            remind_at=row.remind_at,
            done_at=row.done_at,
            cancelled_at=row.cancelled_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            assignee_id=row.assignee_id,
        )


_BY_ID = ("id",)
"""What the batch functions below read of their customers."""


def _source(value: str | None) -> CustomerSource | None:
    return CustomerSource(value) if value else None


@strawberry.type(description="An account: a company or person we do business with.")
class Customer(ModelNode[models.Customer]):
    by_id_loader = loaders.CustomerByIdLoader
    plain_rows = True
    # What from_model reads, attribute by attribute (the address and the custom fields,
    # made of several columns or converted as a whole, are not declared: a query reading
    # them reads whole rows).
    read_columns = {
        **{name: name for name in ("id", "number", "name", "industry", "phone", "email")},
        **{name: name for name in ("website", "founded_on", "created_at", "updated_at")},
        **{name: name for name in ("archived_at", "erased_at", "last_interaction_at")},
        **{name: name for name in ("version", "owner_id")},
        "kind": ("kind", CustomerKind),
        "stage": ("stage", CustomerStage),
        "grade": ("grade", CustomerGrade),
        "source": ("source", _source),
    }
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `C000123`.")
    name: str
    kind: CustomerKind
    industry: str | None
    stage: CustomerStage
    grade: CustomerGrade
    source: CustomerSource | None
    phone: str | None = strawberry.field(
        description="E.164, then ;ext= and the extension if any (+861012345678;ext=123)."
    )
    email: str | None
    website: str | None
    founded_on: dt.date | None = strawberry.field(
        description="When the company was founded: its anniversary is reminded of each year."
    )
    address: Address
    custom_fields: JSON = strawberry.field(description="Values by custom field key.")
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None
    erased_at: dt.datetime | None = strawberry.field(
        description="When personal data was erased on request."
    )
    last_interaction_at: dt.datetime | None
    version: int
    owner_id: strawberry.Private[int | None]
    custom_field_values: list[CustomFieldValue] = batch_field(
        _custom_field_values,
        description="Every custom field of customers, typed, in the order of "
        "customFieldDefinitions (by key), each with this customer's value or none.",
    )
    owner: UserSummary | None = batch_field(
        related(UserSummary, "owner_id"),
        description="The user who owns the customer; null only when nobody does.",
    )
    tags: list[Tag] = batch_field(_tags, reads=_BY_ID, description="Tags, by name.")
    contacts: Connection[Contact] | None = batch_field(
        _contacts,
        reads=_BY_ID,
        description="Contacts not archived, by name unless orderBy says otherwise.",
    )
    primary_contact: Contact | None = batch_field(_primary_contacts, reads=_BY_ID)
    interactions: Connection[Interaction] | None = batch_field(
        _interactions,
        reads=_BY_ID,
        description="The timeline, newest first unless orderBy says otherwise; filter keeps "
        "channels, a period of occurredAt and an author.",
    )
    tasks: Connection[Task] | None = batch_field(
        _tasks,
        reads=_BY_ID,
        description="Follow-up tasks, soonest due first unless orderBy says otherwise.",
    )
    history: Connection[AuditEvent] | None = batch_field(
        _history,
        reads=_BY_ID,
        description="Changes to this customer, newest first unless orderBy says otherwise.",
    )

    @classmethod
    def from_model(cls, row: models.Customer) -> Customer:
        return cls(
            id=row.id,
            number=row.number,
            name=row.name,
            kind=CustomerKind(row.kind),
            industry=row.industry,
            stage=CustomerStage(row.stage),
            grade=CustomerGrade(row.grade),
            source=CustomerSource(row.source) if row.source else None,
            phone=row.phone,
            email=row.email,
            website=row.website,
            founded_on=row.founded_on,
            address=Address(
                line1=row.address_line1,
                line2=row.address_line2,
                city=row.city,
                region=row.region,
                postal_code=row.postal_code,
                country=row.country,
            ),
            custom_fields=JSON(dict(row.custom_fields or {})),
            created_at=row.created_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
            erased_at=row.erased_at,
            last_interaction_at=row.last_interaction_at,
            version=row.version,
            owner_id=row.owner_id,
        )
