"""GraphQL types of the customer graph."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.background import BackgroundJob
from core.context import Info
from core.csv_import import ImportRowError
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
from core.errors import UserErrorCode
from core.identity.inputs import AuditEventOrder
from core.identity.loaders import UserCard
from core.identity.queries import AUDIT_EVENT_ORDER
from core.identity.types import AuditEvent, UserSummary
from core.node import ModelNode
from core.ordering import ORDER_BY_HELP
from core.pagination import Connection, PageArgs
from core.types import JobStatus


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
    def from_model(cls, row: models.Tag) -> Tag:
        return cls(id=row.id, name=row.name)


@strawberry.type(description="A person at a customer.")
class Contact(ModelNode[models.Contact]):
    by_id_loader = loaders.ContactByIdLoader
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

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)


@strawberry.type(description="Something that happened with a customer: a call, a visit...")
class Interaction(ModelNode[models.Interaction]):
    by_id_loader = loaders.InteractionByIdLoader
    id: relay.NodeID[int]
    channel: InteractionChannel
    summary: str
    occurred_at: dt.datetime
    next_follow_up_at: dt.datetime | None
    created_at: dt.datetime
    customer_id: strawberry.Private[int]
    contact_id: strawberry.Private[int | None]
    author_id: strawberry.Private[int | None]

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

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        return await Contact.load(info, self.contact_id)

    @strawberry.field(description="Who logged it; null only when no user did.")
    async def author(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.author_id)

    @strawberry.field(description="Users who took part, by name.")
    async def participants(self, info: Info) -> list[UserSummary]:
        cards: list[UserCard] = await info.context.loader(loaders.ParticipantsLoader).load(self.id)
        return [UserSummary.of(card.id, card) for card in cards]


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

    @strawberry.field
    def done(self) -> bool:
        return self.done_at is not None

    @strawberry.field(
        description="The task's customer; null only when it has none (a task with a customer "
        "is visible only to those who see the customer)."
    )
    async def customer(self, info: Info) -> Customer | None:
        return await Customer.load(info, self.customer_id)

    @strawberry.field(description="Who the task is for; null only when unassigned.")
    async def assignee(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.assignee_id)


@strawberry.type(description="An account: a company or person we do business with.")
class Customer(ModelNode[models.Customer]):
    by_id_loader = loaders.CustomerByIdLoader
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

    @strawberry.field(
        description="Every custom field of customers, typed, in the order of "
        "customFieldDefinitions (by key), each with this customer's value or none."
    )
    async def custom_field_values(self, info: Info) -> list[CustomFieldValue]:
        definitions = await info.context.loader(loaders.CustomFieldDefinitionsByEntityLoader).load(
            "CUSTOMER"
        )
        stored = self.custom_fields
        return custom_field_values(definitions, stored if isinstance(stored, dict) else None)

    @strawberry.field(description="The user who owns the customer; null only when nobody does.")
    async def owner(self, info: Info) -> UserSummary | None:
        return await UserSummary.load(info, self.owner_id)

    @strawberry.field(description="Tags, by name.")
    async def tags(self, info: Info) -> list[Tag]:
        rows = await info.context.loader(loaders.TagsByCustomerLoader).load(self.id)
        return [Tag.from_model(row) for row in rows]

    @strawberry.field(description="Contacts not archived, by name unless orderBy says otherwise.")
    async def contacts(
        self,
        info: Info,
        order_by: Annotated[
            list[ContactOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Contact] | None:
        return await info.context.child_page(
            loaders.ContactPagesLoader,
            loaders.ContactCountLoader,
            self.id,
            PageArgs(first=first, after=after, last=last, before=before),
            Contact.from_model,
            orders.CONTACT_ORDER.keys(order_by),
        )

    @strawberry.field
    async def primary_contact(self, info: Info) -> Contact | None:
        row = await info.context.loader(loaders.PrimaryContactLoader).load(self.id)
        return Contact.from_model(row) if row else None

    @strawberry.field(
        description="The timeline, newest first unless orderBy says otherwise; filter keeps "
        "channels, a period of occurredAt and an author."
    )
    async def interactions(
        self,
        info: Info,
        filter: TimelineFilter | None = None,
        order_by: Annotated[
            list[InteractionOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Interaction] | None:
        if filter is not None:
            return await timeline_page(
                info.context,
                self.id,
                filter,
                PageArgs(first=first, after=after, last=last, before=before),
                orders.INTERACTION_ORDER.keys(order_by),
                Interaction.from_model,
            )
        return await info.context.child_page(
            loaders.InteractionPagesLoader,
            loaders.InteractionCountLoader,
            self.id,
            PageArgs(first=first, after=after, last=last, before=before),
            Interaction.from_model,
            orders.INTERACTION_ORDER.keys(order_by),
        )

    @strawberry.field(
        description="Follow-up tasks, soonest due first unless orderBy says otherwise."
    )
    async def tasks(
        self,
        info: Info,
        order_by: Annotated[
            list[TaskOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task] | None:
        return await info.context.child_page(
            loaders.TaskPagesLoader,
            loaders.TaskCountLoader,
            self.id,
            PageArgs(first=first, after=after, last=last, before=before),
            Task.from_model,
            orders.TASK_ORDER.keys(order_by),
        )

    @strawberry.field(
        description="Changes to this customer, newest first unless orderBy says otherwise."
    )
    async def history(
        self,
        info: Info,
        order_by: Annotated[
            list[AuditEventOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEvent] | None:
        return await info.context.child_page(
            loaders.HistoryPagesLoader,
            loaders.HistoryCountLoader,
            str(self.id),
            PageArgs(first=first, after=after, last=last, before=before),
            AuditEvent.from_model,
            AUDIT_EVENT_ORDER.keys(order_by),
        )


@strawberry.enum(description="What a customer import is doing.")
class ImportPhase(enum.Enum):
    QUEUED = "QUEUED"
    VALIDATING = "VALIDATING"
    WRITING = "WRITING"
    DONE = "DONE"


@strawberry.type(
    description="A customer import running as a background job (startCustomerImport): poll "
    "it (node or customerImport) for its progress. Every row is validated before any is "
    "written; if any row is bad, nothing is imported."
)
class CustomerImport(ModelNode[BackgroundJob]):
    by_id_loader = loaders.CustomerImportByIdLoader
    id: relay.NodeID[int]
    status: JobStatus
    phase: ImportPhase
    dry_run: bool = strawberry.field(description="Validates every row, writes nothing.")
    total_rows: int
    validated_rows: int
    written_rows: int = strawberry.field(description="Rows written (committed) so far.")
    progress: float = strawberry.field(
        description="From 0 to 1: validating is the first half of a real import, writing "
        "the second; a dry run only validates."
    )
    created: int = strawberry.field(description="Rows that created (or would create) one.")
    updated: int = strawberry.field(description="Rows that updated (or would update) one.")
    imported: bool = strawberry.field(description="Whether the rows were written.")
    error_count: int = strawberry.field(description="Rows with problems, all of them.")
    row_errors: list[ImportRowError] = strawberry.field(
        description="The problems, in line order (the first 1,000)."
    )
    failure: str | None = strawberry.field(description="Why the import failed, if it did.")
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def from_model(cls, row: BackgroundJob) -> CustomerImport:
        state = row.state or {}
        total = int(state.get("total", 0))
        validated = int(state.get("validated", 0))
        written = int(state.get("written", 0))
        dry_run = bool(state.get("dry_run", False))
        phase = ImportPhase(state.get("phase", "QUEUED"))
        if phase is ImportPhase.DONE or not total:
            progress = 1.0 if phase is ImportPhase.DONE else 0.0
        elif dry_run:
            progress = validated / total
        else:
            progress = (validated + written) / (2 * total)
        return cls(
            id=row.id,
            status=JobStatus(row.status),
            phase=phase,
            dry_run=dry_run,
            total_rows=total,
            validated_rows=validated,
            written_rows=written,
            progress=round(progress, 4),
            created=int(state.get("created", 0)),
            updated=int(state.get("updated", 0)),
            imported=bool(state.get("imported", False)),
            error_count=int(state.get("error_count", 0)),
            row_errors=[
                ImportRowError(
                    line=e["line"],
                    field=e["field"],
                    message=e["message"],
                    code=UserErrorCode(e["code"]),
                )
                for e in state.get("errors", [])
            ],
            failure=row.error,
            cancel_requested=row.cancel_requested,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
