"""Root query and mutation fields of the customer graph."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, exists, func, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strawberry import relay

from core.access import requires
from core.context import Info, RequestContext
from core.customers import exchange, models, service
from core.customers.loaders import CustomerByIdLoader, customer_visible, task_visible
from core.customers.types import (
    CompleteTaskInput,
    Contact,
    ContactFilter,
    ContactPayload,
    ContactRefInput,
    CreateContactInput,
    CreateCustomerInput,
    CreateTaskInput,
    Customer,
    CustomerFilter,
    CustomerOrder,
    CustomerPayload,
    CustomerRefInput,
    CustomersPayload,
    CustomFieldDefinition,
    CustomFieldEntity,
    CustomFieldPayload,
    DateTimeRange,
    DefineCustomFieldInput,
    EraseCustomerInput,
    Interaction,
    InteractionPayload,
    LogInteractionInput,
    MergeCount,
    MergeCustomersInput,
    MergeCustomersPayload,
    RenameTagInput,
    Tag,
    TagCustomersInput,
    TagMatch,
    TagPayload,
    Task,
    TaskFilter,
    TaskPayload,
    TransferCustomersInput,
    UpdateContactInput,
    UpdateCustomerInput,
    order_keys,
)
from core.errors import UserError, UserErrorCode, bad_argument
from core.mutations import Rollback, in_transaction
from core.pagination import Connection, PageArgs, Part, SortKey
from core.validation import Check, argument_id, like_pattern

SEARCH_MIN = 1


def _in_range(column: Any, window: DateTimeRange | None) -> list[Any]:
    if window is None:
        return []
    conditions = []
    if window.from_ is not None:
        conditions.append(column >= window.from_)
    if window.to is not None:
        conditions.append(column < window.to)
    return conditions


async def customer_field_types(context: RequestContext) -> dict[str, str]:
    """Type of each CUSTOMER custom field, by key (for filtering on custom fields)."""
    d = models.CustomFieldDefinition
    async with context.db.read() as session:
        rows = (await session.execute(select(d.key, d.type).where(d.entity == "CUSTOMER"))).all()
    return {str(key): str(kind) for key, kind in rows}


CUSTOM_FILTER_TYPES: dict[str, tuple[type[Any] | tuple[type[Any], ...], str]] = {
    "TEXT": (str, "text"),
    "SELECT": (str, "one of the field's options"),
    "DATE": (str, "a date (YYYY-MM-DD)"),
    "NUMBER": ((int, float), "a number"),
    "BOOLEAN": (bool, "true or false"),
}


def _custom_condition(index: int, key: str, value: Any, kind: str | None) -> Any:
    """``custom_fields[key] == value``, compared as the field's type (a text value is never
    cast to a number, which PostgreSQL would refuse)."""
    c = models.Customer
    argument = f"filter.customFields.{index}"
    if kind is None:
        raise bad_argument(f"{argument}.key", f"{key!r} is not a custom field of customers")
    expected, wording = CUSTOM_FILTER_TYPES[kind]
    if isinstance(value, bool) != (kind == "BOOLEAN") or not isinstance(value, expected):
        raise bad_argument(f"{argument}.equals", f"must be {wording} for the {kind} field {key}")
    if kind == "BOOLEAN":
        return c.custom_fields[key].as_boolean() == value
    if kind == "NUMBER":
        return c.custom_fields[key].as_float() == float(value)
    return c.custom_fields[key].as_string() == value


SEARCH_INDEXED = 3
"""Terms at least this long are looked up through PostgreSQL's trigram indexes (core_0004);
shorter ones have no trigram to look up."""
SEARCH_INDEXED_ON = frozenset({"postgresql"})
"""Databases with those indexes."""
SEARCH_COLLECT = 100_000
"""How many customers whose own columns match a term a page sorts, at most, before it
walks the list in order instead (see :class:`core.pagination.Part`)."""


@dataclass(frozen=True)
class CustomerList:
    """The customers of a list: every one (to count or export), and the parts its pages are
    put together from (none: pages are cut from ``statement``)."""

    statement: Select[Any]
    parts: list[Part]


def _own_matches(c: Any, text: str) -> list[ColumnElement[bool]]:
    """``text`` in a customer's name, number or email (any case), or its digits (3 or more)
    in the phone number."""
    pattern = like_pattern(text)
    conditions: list[ColumnElement[bool]] = [
        func.lower(c.name).like(pattern, escape="\\"),
        func.lower(c.number).like(pattern, escape="\\"),
        func.lower(c.email).like(pattern, escape="\\"),
    ]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        conditions.append(c.phone.like(f"%{digits}%"))
    return conditions


def _contact_matches(ct: Any, text: str) -> list[ColumnElement[bool]]:
    """``text`` in the name of a contact (not archived), any case."""
    return [ct.archived_at.is_(None), func.lower(ct.name).like(like_pattern(text), escape="\\")]


def customer_list(
    context: RequestContext,
    filter: CustomerFilter | None,
    permission: str = "customers:read",
    field_types: dict[str, str] | None = None,
) -> CustomerList:
    """The customers of a list (or an export): scoped by ``permission``, then filtered.

    A search matches a part of the name, number or email, the digits of the phone number,
    or a part of a contact's name. On PostgreSQL, a term of three characters or more is
    found through trigram indexes: each place is looked up on its own (``UNION ALL``) and a
    page is put together from a page of the customers whose own columns match and a page of
    those with a matching contact (:class:`core.pagination.Part`), so that a rare term
    costs a few index lookups and a common one a bounded sort or a short walk. Elsewhere
    (SQLite, or a shorter term) one ``OR`` tests each customer in turn.

    :param field_types: custom field types by key (:func:`customer_field_types`), needed
        when the filter has ``customFields``.
    """
    c = models.Customer
    statement = select(c).where(context.visible(permission, "customers"))
    filter = filter or CustomerFilter()
    statement = statement.where(
        c.archived_at.is_not(None) if filter.archived else c.archived_at.is_(None)
    )
    for values, column in (
        (filter.stage, c.stage),
        (filter.grade, c.grade),
        (filter.source, c.source),
    ):
        if values:
            statement = statement.where(column.in_([v.value for v in values]))
    if filter.industry:
        statement = statement.where(c.industry.in_(filter.industry))
    owner_id = argument_id(filter.owner_id, "User", "filter.ownerId")
    if owner_id is not None:
        statement = statement.where(c.owner_id == owner_id)
    if filter.tags:
        keys = list({" ".join(t.split()).lower() for t in filter.tags if t.strip()})
        tagged = (
            select(models.CustomerTag.customer_id)
            .join(models.Tag, models.Tag.id == models.CustomerTag.tag_id)
            .where(models.Tag.name_key.in_(keys))
        )
        if filter.tag_match == TagMatch.ALL:
            tagged = tagged.group_by(models.CustomerTag.customer_id).having(
                func.count(func.distinct(models.Tag.id)) == len(keys)
            )
        statement = statement.where(c.id.in_(tagged))
    statement = statement.where(*_in_range(c.created_at, filter.created))
    statement = statement.where(*_in_range(c.last_interaction_at, filter.last_interaction))
    for index, custom in enumerate(filter.custom_fields or []):
        kind = (field_types or {}).get(custom.key)
        statement = statement.where(_custom_condition(index, custom.key, custom.equals, kind))
    text = (filter.search or "").strip()
    if not text:
        return CustomerList(statement, [])
    ct = models.Contact
    own = or_(*_own_matches(c, text))
    contact = exists().where(ct.customer_id == c.id, *_contact_matches(ct, text))
    if context.db.dialect not in SEARCH_INDEXED_ON or len(text) < SEARCH_INDEXED:
        return CustomerList(statement.where(or_(own, contact)), [])
    s = aliased(models.Customer, name="search_customers")
    every = union_all(
        *(select(s.id).where(condition) for condition in _own_matches(s, text)),
        select(ct.customer_id).where(*_contact_matches(ct, text)),
    )
    return CustomerList(
        statement.where(c.id.in_(every)),
        [Part(statement.where(own), collect=SEARCH_COLLECT), Part(statement.where(contact))],
    )


def customer_statement(
    context: RequestContext,
    filter: CustomerFilter | None,
    permission: str = "customers:read",
    field_types: dict[str, str] | None = None,
) -> Select[Any]:
    """Every customer of a list (or an export), as :func:`customer_list` finds them."""
    return customer_list(context, filter, permission, field_types).statement


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        description="Customers the caller may see.", extensions=requires("customers:read")
    )
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        order_by: CustomerOrder | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Customer]:
        field_types = (
            await customer_field_types(info.context) if filter and filter.custom_fields else None
        )
        listed = customer_list(info.context, filter, field_types=field_types)
        return await info.context.page(
            listed.statement,
            keys=order_keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Customer.from_model,
            parts=listed.parts,
        )

    @strawberry.field(
        description="One customer by id or number; null if not visible.",
        extensions=requires("customers:read"),
    )
    async def customer(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Customer | None:
        if (id is None) == (number is None):
            raise bad_argument("id", "give exactly one of id and number")
        if id is not None:
            customer_id = argument_id(id, "Customer", "id") or 0
            row = await info.context.loader(CustomerByIdLoader).load(customer_id)
            return Customer.from_model(row) if row else None
        async with info.context.db.read() as session:
            row = await session.scalar(
                select(models.Customer).where(
                    models.Customer.number == (number or "").strip().upper(),
                    info.context.visible("customers:read", "customers"),
                )
            )
        return Customer.from_model(row) if row else None

    @strawberry.field(
        description="Contacts of visible customers.", extensions=requires("customers:read")
    )
    async def contacts(
        self,
        info: Info,
        filter: ContactFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Contact]:
        ct = models.Contact
        statement = select(ct).where(
            ct.archived_at.is_(None), customer_visible(info.context, ct.customer_id)
        )
        if filter is not None:
            if filter.search and filter.search.strip():
                pattern = like_pattern(filter.search.strip())
                statement = statement.where(
                    or_(
                        func.lower(ct.name).like(pattern, escape="\\"),
                        func.lower(ct.email).like(pattern, escape="\\"),
                    )
                )
            customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
            if customer_id is not None:
                statement = statement.where(ct.customer_id == customer_id)
        return await info.context.page(
            statement,
            keys=[SortKey(ct.name), SortKey(ct.id)],
            args=PageArgs(first, after, last, before),
            to_node=Contact.from_model,
        )

    @strawberry.field(description="Every tag, by name.", extensions=requires("customers:read"))
    async def tags(self, info: Info) -> list[Tag]:
        async with info.context.db.read() as session:
            rows = (await session.scalars(select(models.Tag).order_by(models.Tag.name_key))).all()
        return [Tag.from_model(row) for row in rows]

    @strawberry.field(
        description="Tasks the caller may see, soonest due first.", extensions=requires()
    )
    async def tasks(
        self,
        info: Info,
        filter: TaskFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Task]:
        t = models.Task
        statement = select(t).where(task_visible(info.context))
        if filter is not None:
            assignee_id = argument_id(filter.assignee_id, "User", "filter.assigneeId")
            if assignee_id is not None:
                statement = statement.where(t.assignee_id == assignee_id)
            customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
            if customer_id is not None:
                statement = statement.where(t.customer_id == customer_id)
            if filter.done is not None:
                statement = statement.where(
                    t.done_at.is_not(None) if filter.done else t.done_at.is_(None)
                )
            statement = statement.where(*_in_range(t.due_at, filter.due))
        return await info.context.page(
            statement,
            keys=[SortKey(t.due_at), SortKey(t.id)],
            args=PageArgs(first, after, last, before),
            to_node=Task.from_model,
        )

    @strawberry.field(extensions=requires())
    async def custom_field_definitions(
        self, info: Info, entity: CustomFieldEntity | None = None
    ) -> list[CustomFieldDefinition]:
        d = models.CustomFieldDefinition
        statement = select(d).order_by(d.entity, d.key)
        if entity is not None:
            statement = statement.where(d.entity == entity.value)
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement)).all()
        return [CustomFieldDefinition.from_model(row) for row in rows]


def _given(input: Any, names: list[str]) -> dict[str, Any]:
    return {
        name: getattr(input, name) for name in names if getattr(input, name) is not strawberry.UNSET
    }


CUSTOMER_INPUT_FIELDS = [
    "name",
    "kind",
    "industry",
    "stage",
    "grade",
    "source",
    "phone",
    "email",
    "website",
    "address",
    "custom_fields",
]
CONTACT_INPUT_FIELDS = ["name", "title", "phone", "mobile", "email", "birthday", "notes"]


def _customer(row: models.Customer | None) -> Customer | None:
    return Customer.from_model(row) if row else None


def _ref(check: Check, value: relay.GlobalID, type_name: str, field: str = "id") -> int | None:
    return check.node_id(field, value, type_name)


@strawberry.type
class CreateCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class UpdateCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class ArchiveCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class RestoreCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class EraseCustomerPayload(CustomerPayload):
    pass


@strawberry.type
class TransferCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class TagCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class UntagCustomersPayload(CustomersPayload):
    pass


@strawberry.type
class CreateContactPayload(ContactPayload):
    pass


@strawberry.type
class UpdateContactPayload(ContactPayload):
    pass


@strawberry.type
class ArchiveContactPayload(ContactPayload):
    pass


@strawberry.type
class SetPrimaryContactPayload(ContactPayload):
    pass


@strawberry.type
class LogInteractionPayload(InteractionPayload):
    pass


@strawberry.type
class CreateTaskPayload(TaskPayload):
    pass


@strawberry.type
class CompleteTaskPayload(TaskPayload):
    pass


@strawberry.type
class RenameTagPayload(TagPayload):
    pass


@strawberry.type
class DefineCustomFieldPayload(CustomFieldPayload):
    pass


@strawberry.input
class ArchiveCustomerInput(CustomerRefInput):
    pass


@strawberry.input
class RestoreCustomerInput(CustomerRefInput):
    pass


@strawberry.input
class UntagCustomersInput(TagCustomersInput):
    pass


@strawberry.input
class ArchiveContactInput(ContactRefInput):
    pass


@strawberry.input
class SetPrimaryContactInput(ContactRefInput):
    pass


@strawberry.enum(description="A column that identifies an existing customer in an import.")
class ImportMatch(enum.Enum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    NUMBER = "NUMBER"


@strawberry.input
class ImportCustomersInput:
    csv: str = strawberry.field(
        description="CSV text with a header row; columns as in the export, plus custom:<key>."
    )
    dry_run: bool = strawberry.field(default=False, description="Check every row, keep nothing.")
    match_on: list[ImportMatch] = strawberry.field(
        default_factory=lambda: [ImportMatch.EMAIL],
        description="Keys that find an existing customer to update, tried in order.",
    )


@strawberry.type(description="A problem with one row of an import.")
class ImportRowError:
    line: int = strawberry.field(description="Line in the CSV (the header is line 1).")
    field: str | None
    message: str
    code: UserErrorCode


@strawberry.type
class ImportCustomersPayload:
    created: int = strawberry.field(description="Rows that created (or would create) a customer.")
    updated: int = strawberry.field(description="Rows that updated (or would update) one.")
    imported: bool = strawberry.field(description="Whether the changes were kept.")
    dry_run: bool
    row_errors: list[ImportRowError] = strawberry.field(
        description="Every bad row; if there are any, nothing is imported."
    )
    errors: list[UserError]


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(
        description="Create or update customers from CSV; all rows or none.",
        extensions=requires("customers:write"),
    )
    async def import_customers(
        self, info: Info, input: ImportCustomersInput
    ) -> ImportCustomersPayload:
        async def work(session: AsyncSession) -> exchange.ImportResult:
            result = await exchange.import_customers(
                session, info.context, input.csv, [m.value for m in input.match_on], input.dry_run
            )
            if not result.imported:
                raise Rollback(result)
            return result

        result, errors = await in_transaction(info, work)
        return ImportCustomersPayload(
            created=result.created if result else 0,
            updated=result.updated if result else 0,
            imported=bool(result and result.imported),
            dry_run=input.dry_run,
            row_errors=[
                ImportRowError(line=e.line, field=e.field, message=e.message, code=e.code)
                for e in (result.errors if result else [])
            ],
            errors=errors,
        )

    @strawberry.mutation(extensions=requires("customers:write"))
    async def create_customer(
        self, info: Info, input: CreateCustomerInput
    ) -> CreateCustomerPayload:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            return await service.create_customer(
                session,
                info.context,
                _given(input, CUSTOMER_INPUT_FIELDS),
                owner_id,
                input.tags,
                check,
            )

        row, errors = await in_transaction(info, work)
        return CreateCustomerPayload(customer=_customer(row), errors=errors)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def update_customer(
        self, info: Info, input: UpdateCustomerInput
    ) -> UpdateCustomerPayload:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            raw = _given(input, CUSTOMER_INPUT_FIELDS)
            if input.owner_id is not strawberry.UNSET:
                raw["owner_id"] = (
                    check.node_id("ownerId", input.owner_id, "User") if input.owner_id else None
                )
            check.done()
            return await service.update_customer(
                session, info.context, customer_id, input.version, raw
            )

        row, errors = await in_transaction(info, work)
        return UpdateCustomerPayload(customer=_customer(row), errors=errors)

    @strawberry.mutation(
        description="Archive (soft-delete) a customer.", extensions=requires("customers:write")
    )
    async def archive_customer(
        self, info: Info, input: ArchiveCustomerInput
    ) -> ArchiveCustomerPayload:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.archive_customer(session, info.context, customer_id, input.version)

        row, errors = await in_transaction(info, work)
        return ArchiveCustomerPayload(customer=_customer(row), errors=errors)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def restore_customer(
        self, info: Info, input: RestoreCustomerInput
    ) -> RestoreCustomerPayload:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.restore_customer(session, info.context, customer_id, input.version)

        row, errors = await in_transaction(info, work)
        return RestoreCustomerPayload(customer=_customer(row), errors=errors)

    @strawberry.mutation(
        description="Erase a customer's personal data (privacy request); an audit record stays.",
        extensions=requires("customers:delete"),
    )
    async def erase_customer(self, info: Info, input: EraseCustomerInput) -> EraseCustomerPayload:
        async def work(session: AsyncSession) -> models.Customer:
            check = Check()
            customer_id = _ref(check, input.id, "Customer")
            check.done()
            return await service.erase_customer(
                session, info.context, customer_id, input.version, input.reason
            )

        row, errors = await in_transaction(info, work)
        return EraseCustomerPayload(customer=_customer(row), errors=errors)

    @strawberry.mutation(
        description="Move everything of one customer to another and archive the first.",
        extensions=requires("customers:write"),
    )
    async def merge_customers(
        self, info: Info, input: MergeCustomersInput
    ) -> MergeCustomersPayload:
        async def work(session: AsyncSession) -> tuple[Customer, dict[str, int]]:
            check = Check()
            source_id = check.node_id("sourceId", input.source_id, "Customer")
            target_id = check.node_id("targetId", input.target_id, "Customer")
            check.done()
            result = await service.merge_customers(
                session, info.context, source_id, target_id, input.dry_run
            )
            # Read the target while its session is open: a dry run's rollback expires it.
            outcome = (Customer.from_model(result.target), result.moved)
            if input.dry_run:
                raise Rollback(outcome)
            return outcome

        result, errors = await in_transaction(info, work)
        target, moved = result if result else (None, {})
        return MergeCustomersPayload(
            target=target,
            moved=[MergeCount(kind=k, count=v) for k, v in sorted(moved.items())],
            dry_run=input.dry_run,
            errors=errors,
        )

    @strawberry.mutation(
        description="Give several customers to another owner.",
        extensions=requires("customers:write"),
    )
    async def transfer_customers(
        self, info: Info, input: TransferCustomersInput
    ) -> TransferCustomersPayload:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            owner_id = check.node_id("ownerId", input.owner_id, "User")
            check.done()
            return await service.transfer_customers(session, info.context, ids, owner_id)

        rows, errors = await in_transaction(info, work)
        return TransferCustomersPayload(
            customers=[Customer.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(
        description="Attach tags by name (created on first use).",
        extensions=requires("customers:write"),
    )
    async def tag_customers(self, info: Info, input: TagCustomersInput) -> TagCustomersPayload:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            check.done()
            return await service.tag_customers(session, info.context, ids, input.tags)

        rows, errors = await in_transaction(info, work)
        return TagCustomersPayload(
            customers=[Customer.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("customers:write"))
    async def untag_customers(
        self, info: Info, input: UntagCustomersInput
    ) -> UntagCustomersPayload:
        async def work(session: AsyncSession) -> list[models.Customer]:
            check = Check()
            ids = check.node_ids("customerIds", input.customer_ids, "Customer")
            check.done()
            return await service.tag_customers(session, info.context, ids, input.tags, remove=True)

        rows, errors = await in_transaction(info, work)
        return UntagCustomersPayload(
            customers=[Customer.from_model(r) for r in rows or []], errors=errors
        )

    @strawberry.mutation(extensions=requires("customers:write"))
    async def rename_tag(self, info: Info, input: RenameTagInput) -> RenameTagPayload:
        async def work(session: AsyncSession) -> models.Tag:
            check = Check()
            tag_id = _ref(check, input.id, "Tag")
            check.done()
            return await service.rename_tag(session, info.context, tag_id, input.name)

        row, errors = await in_transaction(info, work)
        return RenameTagPayload(tag=Tag.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def create_contact(self, info: Info, input: CreateContactInput) -> CreateContactPayload:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            check.done()
            return await service.create_contact(
                session,
                info.context,
                customer_id,
                _given(input, CONTACT_INPUT_FIELDS),
                input.primary,
            )

        row, errors = await in_transaction(info, work)
        return CreateContactPayload(contact=Contact.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def update_contact(self, info: Info, input: UpdateContactInput) -> UpdateContactPayload:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.update_contact(
                session,
                info.context,
                contact_id,
                input.version,
                _given(input, CONTACT_INPUT_FIELDS),
            )

        row, errors = await in_transaction(info, work)
        return UpdateContactPayload(contact=Contact.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("customers:write"))
    async def archive_contact(
        self, info: Info, input: ArchiveContactInput
    ) -> ArchiveContactPayload:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.archive_contact(session, info.context, contact_id, input.version)

        row, errors = await in_transaction(info, work)
        return ArchiveContactPayload(
            contact=Contact.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(extensions=requires("customers:write"))
    async def set_primary_contact(
        self, info: Info, input: SetPrimaryContactInput
    ) -> SetPrimaryContactPayload:
        async def work(session: AsyncSession) -> models.Contact:
            check = Check()
            contact_id = _ref(check, input.id, "Contact")
            check.done()
            return await service.set_primary_contact(
                session, info.context, contact_id, input.version
            )

        row, errors = await in_transaction(info, work)
        return SetPrimaryContactPayload(
            contact=Contact.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(
        description="Add an interaction to a customer's timeline.",
        extensions=requires("followups:write"),
    )
    async def log_interaction(
        self, info: Info, input: LogInteractionInput
    ) -> LogInteractionPayload:
        async def work(session: AsyncSession) -> models.Interaction:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            contact_id = check.node_id("contactId", input.contact_id, "Contact")
            participants = check.node_ids("participantIds", input.participant_ids, "User")
            check.done()
            return await service.log_interaction(
                session,
                info.context,
                customer_id,
                contact_id,
                input.channel.value,
                input.summary,
                input.occurred_at,
                participants,
                input.next_follow_up_at,
            )

        row, errors = await in_transaction(info, work)
        return LogInteractionPayload(
            interaction=Interaction.from_model(row) if row else None, errors=errors
        )

    @strawberry.mutation(extensions=requires("followups:write"))
    async def create_task(self, info: Info, input: CreateTaskInput) -> CreateTaskPayload:
        async def work(session: AsyncSession) -> models.Task:
            check = Check()
            customer_id = check.node_id("customerId", input.customer_id, "Customer")
            assignee_id = check.node_id("assigneeId", input.assignee_id, "User")
            check.done()
            return await service.create_task(
                session,
                info.context,
                customer_id,
                input.title,
                input.due_at,
                input.remind_at,
                assignee_id,
            )

        row, errors = await in_transaction(info, work)
        return CreateTaskPayload(task=Task.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("followups:write"))
    async def complete_task(self, info: Info, input: CompleteTaskInput) -> CompleteTaskPayload:
        async def work(session: AsyncSession) -> models.Task:
            check = Check()
            task_id = _ref(check, input.id, "Task")
            check.done()
            return await service.complete_task(session, info.context, task_id, input.version)

        row, errors = await in_transaction(info, work)
        return CompleteTaskPayload(task=Task.from_model(row) if row else None, errors=errors)

    @strawberry.mutation(extensions=requires("settings:manage"))
    async def define_custom_field(
        self, info: Info, input: DefineCustomFieldInput
    ) -> DefineCustomFieldPayload:
        async def work(session: AsyncSession) -> models.CustomFieldDefinition:
            return await service.define_custom_field(
                session,
                info.context,
                input.entity.value,
                input.key,
                input.label,
                input.type.value,
                input.options,
                input.required,
            )

        row, errors = await in_transaction(info, work)
        return DefineCustomFieldPayload(
            definition=CustomFieldDefinition.from_model(row) if row else None, errors=errors
        )
