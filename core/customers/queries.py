"""Root query fields of the customer graph, and the customer list they share with export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, Select, exists, func, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import True_
from strawberry import relay

from core.access import requires
from core.context import Info, RequestContext
from core.customers import models
from core.customers.filter_fields import filter_conditions
from core.customers.followup_queries import FollowupQuery
from core.customers.import_types import CustomerImport
from core.customers.inputs import (
    ContactFilter,
    ContactOrder,
    CustomerFilter,
    CustomerOrder,
    CustomFieldEntity,
    TagMatch,
)
from core.customers.loaders import customer_visible
from core.customers.orders import CONTACT_ORDER, CUSTOMER_ORDER
from core.customers.types import (
    Contact,
    Customer,
    CustomFieldDefinition,
    Tag,
)
from core.errors import bad_argument
from core.i18n import _
from core.ordering import ORDER_BY_HELP, SortKey
from core.pagination import Connection, PageArgs, Part
from core.text_keys import like_pattern, normalise
from core.types import in_range
from core.validation import argument_id, parse_phone, phone_text, search_text

SEARCH_MIN = 1


async def customer_field_types(context: RequestContext) -> dict[str, str]:
    """Type of each CUSTOMER custom field, by key (for filtering on custom fields)."""
    d = models.CustomFieldDefinition
    async with context.db.read() as session:
        rows = (await session.execute(select(d.key, d.type).where(d.entity == "CUSTOMER"))).all()
    return {str(key): str(kind) for key, kind in rows}


def contact_statement(context: RequestContext, filter: ContactFilter | None) -> Select[Any]:
    """The active contacts of the customers the caller may read that ``filter`` keeps (the
    ``contacts`` list and its export); a bad id is a BAD_USER_INPUT error naming it."""
    ct = models.Contact
    statement = select(ct).where(
        ct.archived_at.is_(None), customer_visible(context, ct.customer_id)
    )
    if filter is None:
        return statement
    text = normalise(search_text(filter.search))
    if text:
        pattern = like_pattern(text)
        statement = statement.where(
            or_(ct.search_key.like(pattern, escape="\\"), ct.email.like(pattern, escape="\\"))
        )
    customer_id = argument_id(filter.customer_id, "Customer", "filter.customerId")
    if customer_id is not None:
        statement = statement.where(ct.customer_id == customer_id)
    return statement


CUSTOM_FILTER_TYPES: dict[str, tuple[type[Any] | tuple[type[Any], ...], str]] = {
    "TEXT": (str, _("text")),
    "SELECT": (str, _("one of the field's options")),
    "DATE": (str, _("a date (YYYY-MM-DD)")),
    "NUMBER": ((int, float), _("a number")),
    "BOOLEAN": (bool, _("true or false")),
}


def _custom_condition(index: int, key: str, value: Any, kind: str | None) -> Any:
    """``custom_fields[key] == value``, compared as the field's type (a text value is never
    cast to a number, which PostgreSQL would refuse)."""
    c = models.Customer
    argument = f"filter.customFields.{index}"
    if kind is None:
        raise bad_argument(
            f"{argument}.key", _("{key!r} is not a custom field of customers", key=key)
        )
    expected, wording = CUSTOM_FILTER_TYPES[kind]
    if isinstance(value, bool) != (kind == "BOOLEAN") or not isinstance(value, expected):
        raise bad_argument(
            f"{argument}.equals",
            _("must be {wording} for the {kind} field {key}", wording=wording, kind=kind, key=key),
        )
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


def _own_matches(c: Any, text: str, region: str) -> list[ColumnElement[bool]]:
    """``text`` in a customer's search key (name, its pinyin and initials, number, email:
    see :mod:`core.text_keys`), its digits (3 or more) in the phone number, or, when it is a
    phone number as ``region`` reads it (``010-12345678`` in CN), that number (with any
    extension, unless it gives one)."""
    conditions: list[ColumnElement[bool]] = [c.search_key.like(like_pattern(text), escape="\\")]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 3:
        conditions.append(c.phone.like(f"%{digits}%"))
    number = parse_phone(text, region) if len(digits) >= 3 else None
    if number is not None:
        stored = phone_text(number)
        conditions.append(c.phone == stored)
        if not number.extension:  # the number with any extension, not a longer number
            conditions.append(c.phone.like(f"{stored};ext=%"))
    return conditions


def _contact_matches(ct: Any, text: str) -> list[ColumnElement[bool]]:
    """``text`` in the search key of a contact's name (not archived)."""
    return [ct.archived_at.is_(None), ct.search_key.like(like_pattern(text), escape="\\")]


def customer_list(
    context: RequestContext,
    filter: CustomerFilter | None,
    permission: str = "customers:read",
    field_types: dict[str, str] | None = None,
) -> CustomerList:
    """The customers of a list (or an export): scoped by ``permission``, then filtered.

    A search matches a part of the name, number or email, the digits of the phone number,
    or a part of a contact's name. The fields modules add to the filter
    (:mod:`core.customers.filter_fields`) are applied beside core's own. On PostgreSQL, a
    term of three characters or more is found through trigram indexes: each place is looked
    up on its own (``UNION ALL``) and a page is put together from a page of the customers
    whose own columns match and a page of those with a matching contact
    (:class:`core.pagination.Part`), so that a rare term costs a few index lookups and a
    common one a bounded sort or a short walk. Elsewhere (SQLite, or a shorter term) one
    ``OR`` tests each customer in turn.

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
    statement = statement.where(*in_range(c.created_at, filter.created, "filter.created"))
    statement = statement.where(
        *in_range(c.last_interaction_at, filter.last_interaction, "filter.lastInteraction")
    )
    for index, custom in enumerate(filter.custom_fields or []):
        kind = (field_types or {}).get(custom.key)
        statement = statement.where(_custom_condition(index, custom.key, custom.equals, kind))
    statement = statement.where(*filter_conditions(context, filter, c.id.expression))
    text = normalise(search_text(filter.search))
    if not text:
        return CustomerList(statement, [])
    ct = models.Contact
    region = context.settings.default_region
    own = or_(*_own_matches(c, text, region))
    contact = exists().where(ct.customer_id == c.id, *_contact_matches(ct, text))
    if context.db.dialect not in SEARCH_INDEXED_ON or len(text) < SEARCH_INDEXED:
        return CustomerList(statement.where(or_(own, contact)), [])
    s = aliased(models.Customer, name="search_customers")
    every = union_all(
        *(select(s.id).where(condition) for condition in _own_matches(s, text, region)),
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


def order_keys(order: list[CustomerOrder] | None) -> list[SortKey]:
    """The keyset ordering of a customer list (unique by id last)."""
    return CUSTOMER_ORDER.keys(order)


@strawberry.type(description="How a customer form should behave in this deployment.")
class CustomerFormSettings:
    required_fields: list[str] = strawberry.field(
        description="createCustomer's fields a new customer must have besides its name "
        "(CRM_CUSTOMER_REQUIRED_FIELDS), by their input names: `industry`, `kind`, `stage`, "
        "`source`, `phone`, `email`, `website`, `address` (any part), `foundedOn`, and "
        "`contact` (a phone or an email). Refused when missing with REQUIRED naming the field "
        "(`contact`: naming `phone`)."
    )


@strawberry.type
class CustomerQuery(FollowupQuery):
    """The customer graph's root queries; the interactions list and tasks come from
    :class:`~core.customers.followup_queries.FollowupQuery`."""

    @strawberry.field(
        description="Customers the caller may see.", extensions=requires("customers:read")
    )
    async def customers(
        self,
        info: Info,
        filter: CustomerFilter | None = None,
        order_by: Annotated[
            list[CustomerOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Customer] | None:
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
        description="An import you started (startCustomerImport), for its progress; null "
        "for anyone else's.",
        extensions=requires("customers:write"),
    )
    async def customer_import(self, info: Info, id: relay.GlobalID) -> CustomerImport | None:
        return await CustomerImport.load(info, argument_id(id, "CustomerImport", "id") or 0)

    @strawberry.field(
        description="One customer by id or number; null if not visible.",
        extensions=requires("customers:read"),
    )
    async def customer(
        self, info: Info, id: relay.GlobalID | None = None, number: str | None = None
    ) -> Customer | None:
        if (id is None) == (number is None):
            raise bad_argument("id", _("give exactly one of id and number"))
        if id is not None:
            return await Customer.load(info, argument_id(id, "Customer", "id") or 0)
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
        order_by: Annotated[
            list[ContactOrder] | None, strawberry.argument(description=ORDER_BY_HELP)
        ] = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Contact] | None:
        return await info.context.page(
            contact_statement(info.context, filter),
            keys=CONTACT_ORDER.keys(order_by),
            args=PageArgs(first, after, last, before),
            to_node=Contact.from_model,
        )

    @strawberry.field(
        description=(
            "Tags by name (in pinyin order, as lists sort names): those on customers you "
            "may see (with every customer in reach, every tag, unused ones included)."
        ),
        extensions=requires("customers:read"),
    )
    async def tags(self, info: Info) -> list[Tag] | None:
        statement = select(models.Tag).order_by(models.Tag.name_sort, models.Tag.id)
        in_reach = customer_visible(info.context, models.CustomerTag.customer_id)
        if not isinstance(in_reach, True_):
            on_visible = select(models.CustomerTag.tag_id).where(in_reach)
            statement = statement.where(models.Tag.id.in_(on_visible))
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement)).all()
        return [Tag.from_model(row) for row in rows]

    @strawberry.field(extensions=requires())
    def customer_form_settings(self, info: Info) -> CustomerFormSettings | None:
        settings = info.context.settings
        return CustomerFormSettings(
            required_fields=settings.names(settings.customer_required_fields)
        )

    @strawberry.field(extensions=requires())
    async def custom_field_definitions(
        self, info: Info, entity: CustomFieldEntity | None = None
    ) -> list[CustomFieldDefinition] | None:
        d = models.CustomFieldDefinition
        statement = select(d).order_by(d.entity, d.key)
        if entity is not None:
            statement = statement.where(d.entity == entity.value)
        async with info.context.db.read() as session:
            rows = (await session.scalars(statement)).all()
        return [CustomFieldDefinition.from_model(row) for row in rows]
