"""GraphQL types of the customer graph."""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Iterable
from typing import Any

import strawberry
from sqlalchemy import func, literal
from strawberry import relay
from strawberry.scalars import JSON

from core.context import Info
from core.customers import loaders, models
from core.db import UTCDateTime
from core.errors import UserError
from core.identity.loaders import UserByIdLoader
from core.identity.types import AuditEvent, User
from core.pagination import Connection, OrderDirection, PageArgs, SortKey, check_page_args

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@strawberry.enum(description="A company or a private person.")
class CustomerKind(enum.Enum):
    COMPANY = "COMPANY"
    PERSON = "PERSON"


@strawberry.enum(description="Where the customer is in its lifecycle.")
class CustomerStage(enum.Enum):
    POTENTIAL = "POTENTIAL"
    NEW = "NEW"
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"


@strawberry.enum(description="How valuable the customer is.")
class CustomerGrade(enum.Enum):
    GOLD = "GOLD"
    SILVER = "SILVER"
    STANDARD = "STANDARD"


@strawberry.enum(description="How the customer found us.")
class CustomerSource(enum.Enum):
    TRADE_SHOW = "TRADE_SHOW"
    INBOUND = "INBOUND"
    REFERRAL = "REFERRAL"
    CAMPAIGN = "CAMPAIGN"
    PARTNER = "PARTNER"
    WEBSITE = "WEBSITE"
    OTHER = "OTHER"


@strawberry.enum(description="How an interaction took place.")
class InteractionChannel(enum.Enum):
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    MEETING = "MEETING"
    ONLINE_MEETING = "ONLINE_MEETING"
    VISIT = "VISIT"
    OTHER = "OTHER"


@strawberry.enum(description="The type of a custom field's values.")
class CustomFieldType(enum.Enum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    DATE = "DATE"
    BOOLEAN = "BOOLEAN"
    SELECT = "SELECT"


@strawberry.enum(description="The kind of record a custom field belongs to.")
class CustomFieldEntity(enum.Enum):
    CUSTOMER = "CUSTOMER"
    CONTACT = "CONTACT"


def _ids(node_ids: Iterable[str]) -> list[int]:
    return [int(node_id) if node_id.isdigit() else -1 for node_id in node_ids]


def _page_args(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageArgs:
    args = PageArgs(first=first, after=after, last=last, before=before)
    check_page_args(args, info.context.settings.max_page_size)  # a bad argument fails here
    return args


@strawberry.type(description="A postal address.")
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2.")


@strawberry.type(description="A label on customers; names are unique regardless of case.")
class Tag(relay.Node):
    id: relay.NodeID[int]
    name: str

    @classmethod
    def from_model(cls, row: models.Tag) -> Tag:
        return cls(id=row.id, name=row.name)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Tag | None]:
        rows = await info.context.loader(loaders.TagByIdLoader).load_many(_ids(node_ids))
        return [cls.from_model(row) if row else None for row in rows]


@strawberry.type(description="A person at a customer.")
class Contact(relay.Node):
    id: relay.NodeID[int]
    name: str
    title: str | None = strawberry.field(description="Job position.")
    phone: str | None = strawberry.field(description="E.164.")
    mobile: str | None = strawberry.field(description="E.164.")
    email: str | None
    birthday: dt.date | None
    primary: bool
    notes: str | None
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
            created_at=row.created_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
            version=row.version,
            customer_id=row.customer_id,
        )

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        row = await info.context.loader(loaders.CustomerByIdLoader).load(self.customer_id)
        return Customer.from_model(row) if row else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Contact | None]:
        rows = await info.context.loader(loaders.ContactByIdLoader).load_many(_ids(node_ids))
        return [cls.from_model(row) if row else None for row in rows]


@strawberry.type(description="Something that happened with a customer: a call, a visit...")
class Interaction(relay.Node):
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
        row = await info.context.loader(loaders.CustomerByIdLoader).load(self.customer_id)
        return Customer.from_model(row) if row else None

    @strawberry.field
    async def contact(self, info: Info) -> Contact | None:
        if self.contact_id is None:
            return None
        row = await info.context.loader(loaders.ContactByIdLoader).load(self.contact_id)
        return Contact.from_model(row) if row else None

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        if self.author_id is None:
            return None
        row = await info.context.loader(UserByIdLoader).load(self.author_id)
        return User.from_model(row) if row else None

    @strawberry.field(description="Users who took part.")
    async def participants(self, info: Info) -> list[User]:
        rows = await info.context.loader(loaders.ParticipantsLoader).load(self.id)
        return [User.from_model(row) for row in rows]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Interaction | None]:
        rows = await info.context.loader(loaders.InteractionByIdLoader).load_many(_ids(node_ids))
        return [cls.from_model(row) if row else None for row in rows]


@strawberry.type(description="A follow-up or reminder.")
class Task(relay.Node):
    id: relay.NodeID[int]
    title: str
    due_at: dt.datetime
    remind_at: dt.datetime | None
    done_at: dt.datetime | None
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
            due_at=row.due_at,
            remind_at=row.remind_at,
            done_at=row.done_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            version=row.version,
            customer_id=row.customer_id,
            assignee_id=row.assignee_id,
        )

    @strawberry.field
    def done(self) -> bool:
        return self.done_at is not None

    @strawberry.field
    async def customer(self, info: Info) -> Customer | None:
        if self.customer_id is None:
            return None
        row = await info.context.loader(loaders.CustomerByIdLoader).load(self.customer_id)
        return Customer.from_model(row) if row else None

    @strawberry.field
    async def assignee(self, info: Info) -> User | None:
        if self.assignee_id is None:
            return None
        row = await info.context.loader(UserByIdLoader).load(self.assignee_id)
        return User.from_model(row) if row else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Task | None]:
        rows = await info.context.loader(loaders.TaskByIdLoader).load_many(_ids(node_ids))
        return [cls.from_model(row) if row else None for row in rows]


@strawberry.type(description="An account: a company or person we do business with.")
class Customer(relay.Node):
    id: relay.NodeID[int]
    number: str = strawberry.field(description="Assigned by the database, e.g. `C000123`.")
    name: str
    kind: CustomerKind
    industry: str | None
    stage: CustomerStage
    grade: CustomerGrade
    source: CustomerSource | None
    phone: str | None = strawberry.field(description="E.164.")
    email: str | None
    website: str | None
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

    @strawberry.field(description="The user who owns the customer, if visible.")
    async def owner(self, info: Info) -> User | None:
        if self.owner_id is None:
            return None
        row = await info.context.loader(UserByIdLoader).load(self.owner_id)
        return User.from_model(row) if row else None

    @strawberry.field(description="Tags, by name.")
    async def tags(self, info: Info) -> list[Tag]:
        rows = await info.context.loader(loaders.TagsByCustomerLoader).load(self.id)
        return [Tag.from_model(row) for row in rows]

    @strawberry.field(description="Contacts not archived, by name.")
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Contact]:
        args = _page_args(info, first, after, last, before)
        page = await info.context.loader(loaders.ContactPagesLoader).load((self.id, args))
        counter = info.context.loader(loaders.ContactCountLoader)
        return page.connection(
            loaders.ContactPagesLoader.keys, Contact.from_model, lambda: counter.load(self.id)
        )

    @strawberry.field
    async def primary_contact(self, info: Info) -> Contact | None:
        row = await info.context.loader(loaders.PrimaryContactLoader).load(self.id)
        return Contact.from_model(row) if row else None

    @strawberry.field(description="The timeline, newest first.")
    async def interactions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Interaction]:
        args = _page_args(info, first, after, last, before)
        page = await info.context.loader(loaders.InteractionPagesLoader).load((self.id, args))
        counter = info.context.loader(loaders.InteractionCountLoader)
        return page.connection(
            loaders.InteractionPagesLoader.keys,
            Interaction.from_model,
            lambda: counter.load(self.id),
        )

    @strawberry.field(description="Follow-up tasks, soonest due first.")
    async def tasks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task]:
        args = _page_args(info, first, after, last, before)
        page = await info.context.loader(loaders.TaskPagesLoader).load((self.id, args))
        counter = info.context.loader(loaders.TaskCountLoader)
        return page.connection(
            loaders.TaskPagesLoader.keys, Task.from_model, lambda: counter.load(self.id)
        )

    @strawberry.field(description="Changes to this customer, newest first.")
    async def history(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[AuditEvent]:
        args = _page_args(info, first, after, last, before)
        page = await info.context.loader(loaders.HistoryPagesLoader).load((str(self.id), args))
        counter = info.context.loader(loaders.HistoryCountLoader)
        return page.connection(
            loaders.HistoryPagesLoader.keys,
            AuditEvent.from_model,
            lambda: counter.load(str(self.id)),
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Customer | None]:
        rows = await info.context.loader(loaders.CustomerByIdLoader).load_many(_ids(node_ids))
        return [cls.from_model(row) if row else None for row in rows]


@strawberry.type(description="A custom field administrators define for an entity.")
class CustomFieldDefinition(relay.Node):
    id: relay.NodeID[int]
    entity: CustomFieldEntity
    key: str
    label: str
    type: CustomFieldType
    options: list[str] | None = strawberry.field(description="The choices of a SELECT field.")
    required: bool
    version: int

    @classmethod
    def from_model(cls, row: models.CustomFieldDefinition) -> CustomFieldDefinition:
        return cls(
            id=row.id,
            entity=CustomFieldEntity(row.entity),
            key=row.key,
            label=row.label,
            type=CustomFieldType(row.type),
            options=row.options,
            required=row.required,
            version=row.version,
        )


# ----------------------------------------------------------------------------- inputs


@strawberry.input
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


@strawberry.input
class CreateCustomerInput:
    name: str
    kind: CustomerKind = CustomerKind.COMPANY
    industry: str | None = None
    stage: CustomerStage = CustomerStage.POTENTIAL
    grade: CustomerGrade = CustomerGrade.STANDARD
    source: CustomerSource | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    address: AddressInput | None = None
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the caller."
    )
    tags: list[str] = strawberry.field(default_factory=list, description="Tag names.")
    custom_fields: JSON | None = None


@strawberry.input
class UpdateCustomerInput:
    id: relay.GlobalID
    version: int = strawberry.field(description="The version you read; a stale one is refused.")
    name: str | None = strawberry.UNSET
    kind: CustomerKind | None = strawberry.UNSET
    industry: str | None = strawberry.UNSET
    stage: CustomerStage | None = strawberry.UNSET
    grade: CustomerGrade | None = strawberry.UNSET
    source: CustomerSource | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET
    custom_fields: JSON | None = strawberry.field(
        default=strawberry.UNSET, description="Keys given replace their values; null removes."
    )


@strawberry.input
class CustomerRefInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class EraseCustomerInput:
    id: relay.GlobalID
    version: int
    reason: str = strawberry.field(description="Why, for the audit trail (a request reference).")


@strawberry.input
class MergeCustomersInput:
    source_id: relay.GlobalID
    target_id: relay.GlobalID
    dry_run: bool = False


@strawberry.input
class TransferCustomersInput:
    customer_ids: list[relay.GlobalID]
    owner_id: relay.GlobalID


@strawberry.input
class CreateContactInput:
    customer_id: relay.GlobalID
    name: str
    title: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    birthday: dt.date | None = None
    primary: bool = False
    notes: str | None = None


@strawberry.input
class UpdateContactInput:
    id: relay.GlobalID
    version: int
    name: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    mobile: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    birthday: dt.date | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class ContactRefInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class LogInteractionInput:
    customer_id: relay.GlobalID
    contact_id: relay.GlobalID | None = None
    channel: InteractionChannel
    summary: str
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Default: now.")
    participant_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    next_follow_up_at: dt.datetime | None = strawberry.field(
        default=None, description="Also creates a follow-up task due then."
    )


@strawberry.input
class CreateTaskInput:
    customer_id: relay.GlobalID | None = None
    title: str
    due_at: dt.datetime
    remind_at: dt.datetime | None = None
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Defaults to the caller."
    )


@strawberry.input
class CompleteTaskInput:
    id: relay.GlobalID
    version: int


@strawberry.input
class TagCustomersInput:
    customer_ids: list[relay.GlobalID]
    tags: list[str]


@strawberry.input
class RenameTagInput:
    id: relay.GlobalID
    name: str = strawberry.field(description="If another tag has this name, the two merge.")


@strawberry.input
class DefineCustomFieldInput:
    entity: CustomFieldEntity = CustomFieldEntity.CUSTOMER
    key: str
    label: str
    type: CustomFieldType
    options: list[str] | None = None
    required: bool = False


@strawberry.input
class CustomFieldFilter:
    key: str
    equals: JSON


@strawberry.enum
class TagMatch(enum.Enum):
    ANY = "ANY"
    ALL = "ALL"


@strawberry.input
class DateTimeRange:
    from_: dt.datetime | None = strawberry.field(default=None, name="from")
    to: dt.datetime | None = None


@strawberry.input
class CustomerFilter:
    search: str | None = strawberry.field(
        default=None, description="Part of name, number, phone, email or a contact's name."
    )
    stage: list[CustomerStage] | None = None
    grade: list[CustomerGrade] | None = None
    industry: list[str] | None = None
    source: list[CustomerSource] | None = None
    owner_id: relay.GlobalID | None = None
    tags: list[str] | None = None
    tag_match: TagMatch = TagMatch.ANY
    created: DateTimeRange | None = None
    last_interaction: DateTimeRange | None = None
    custom_fields: list[CustomFieldFilter] | None = None
    archived: bool = strawberry.field(
        default=False, description="true lists archived customers instead of active ones."
    )


@strawberry.enum
class CustomerOrderField(enum.Enum):
    NAME = "NAME"
    NUMBER = "NUMBER"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"
    LAST_INTERACTION_AT = "LAST_INTERACTION_AT"


@strawberry.input
class CustomerOrder:
    field: CustomerOrderField = CustomerOrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


@strawberry.input
class ContactFilter:
    search: str | None = None
    customer_id: relay.GlobalID | None = None


@strawberry.input
class TaskFilter:
    assignee_id: relay.GlobalID | None = None
    customer_id: relay.GlobalID | None = None
    done: bool | None = None
    due: DateTimeRange | None = None


# ----------------------------------------------------------------------------- payloads


@strawberry.type
class CustomerPayload:
    customer: Customer | None
    errors: list[UserError]


@strawberry.type
class ContactPayload:
    contact: Contact | None
    errors: list[UserError]


@strawberry.type
class CustomersPayload:
    customers: list[Customer]
    errors: list[UserError]


@strawberry.type(description="What a merge moves (or, on a dry run, would move).")
class MergeCount:
    kind: str = strawberry.field(description="`contacts`, `interactions`, `tasks`, `tags`...")
    count: int


@strawberry.type
class MergeCustomersPayload:
    target: Customer | None
    moved: list[MergeCount]
    dry_run: bool
    errors: list[UserError]


@strawberry.type
class InteractionPayload:
    interaction: Interaction | None
    errors: list[UserError]


@strawberry.type
class TaskPayload:
    task: Task | None
    errors: list[UserError]


@strawberry.type
class TagPayload:
    tag: Tag | None
    errors: list[UserError]


@strawberry.type
class CustomFieldPayload:
    definition: CustomFieldDefinition | None
    errors: list[UserError]


def order_keys(order: CustomerOrder | None) -> list[SortKey]:
    """The keyset ordering of a customer list (unique by id last)."""
    order = order or CustomerOrder()
    return list(_order_keys(order.field, order.direction == OrderDirection.DESC))


def _last_interaction(row: Any) -> Any:
    return row.last_interaction_at or EPOCH


@functools.cache
def _order_keys(field: CustomerOrderField, descending: bool) -> tuple[SortKey, ...]:
    # Built once per ordering: the same keys each request, so the ordering's fingerprint
    # (core.pagination.ordering_tag) is computed once too.
    if field == CustomerOrderField.LAST_INTERACTION_AT:
        # Never-contacted customers sort as if contacted at the epoch (first when ascending).
        # The epoch is written into the SQL, not bound, so that the expression is the one
        # of the index in this order (migration core_0005).
        epoch = literal(EPOCH, UTCDateTime(), literal_execute=True)
        return (
            SortKey(
                func.coalesce(models.Customer.last_interaction_at, epoch),
                descending,
                _last_interaction,
            ),
            SortKey(models.Customer.id, descending),
        )
    column: Any = {
        CustomerOrderField.NAME: models.Customer.name,
        CustomerOrderField.NUMBER: models.Customer.number,
        CustomerOrderField.CREATED_AT: models.Customer.created_at,
        CustomerOrderField.UPDATED_AT: models.Customer.updated_at,
    }[field]
    return (SortKey(column, descending), SortKey(models.Customer.id, descending))
