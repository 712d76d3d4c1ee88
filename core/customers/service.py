"""Changes to the customer graph: checked, scoped, versioned, audited, announced to plugins.

Every function runs in the caller's transaction. Writes reach only the customers the caller
may change (``customers:write`` in scope; ``followups:write`` for interactions and tasks);
a customer outside that scope is reported as not found, never revealed. Plugins hear of
changes through the ``crm_customer_*`` hooks in the same transaction, and can veto archive
and erase by raising :class:`~core.errors.UserErrors`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers.models import (
    Contact,
    Customer,
    CustomerTag,
    CustomFieldDefinition,
    Interaction,
    InteractionParticipant,
    Tag,
    Task,
)
from core.db import utcnow
from core.errors import UserErrorCode, UserErrors
from core.extension import Scope
from core.host import call_in_turn
from core.identity.models import User
from core.sequences import format_number, next_value
from core.validation import Check, global_id, require_version, snapshot

NUMBER_PREFIX = "C"
COUNTER = "customer"
ERASED = "[erased]"

CUSTOMER_FIELDS: dict[str, Any] = {
    "name": "name",
    "kind": "kind",
    "industry": "industry",
    "stage": "stage",
    "grade": "grade",
    "source": "source",
    "phone": "phone",
    "email": "email",
    "website": "website",
    "address.line1": "address_line1",
    "address.line2": "address_line2",
    "address.city": "city",
    "address.region": "region",
    "address.postalCode": "postal_code",
    "address.country": "country",
    "ownerId": lambda c: global_id("User", c.owner_id),
    "customFields": "custom_fields",
}
CONTACT_FIELDS: dict[str, Any] = {
    "name": "name",
    "title": "title",
    "phone": "phone",
    "mobile": "mobile",
    "email": "email",
    "birthday": "birthday",
    "primary": "is_primary",
    "notes": "notes",
}
CREATE_DEFAULTS = {"kind": "COMPANY", "stage": "POTENTIAL", "grade": "STANDARD"}
ADDRESS_COLUMNS = {
    "line1": ("address_line1", 200),
    "line2": ("address_line2", 200),
    "city": ("city", 100),
    "region": ("region", 100),
    "postal_code": ("postal_code", 20),
}


def _not_found(field: str, what: str = "customer") -> UserErrors:
    return UserErrors.single(
        field, f"no {what} with this id that you may change", UserErrorCode.NOT_FOUND
    )


async def writable_customer(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    field: str = "id",
    permission: str = "customers:write",
    *,
    archived: bool | None = False,
) -> Customer:
    """A customer the caller may change with ``permission``, locked for the change.

    :param archived: ``False`` refuses archived customers, ``True`` wants one, ``None``
        takes either.
    """
    require(context, permission)
    row = None
    if customer_id is not None:
        row = await session.scalar(
            select(Customer)
            .where(Customer.id == customer_id, context.visible(permission, "customers"))
            .with_for_update()
        )
    if row is None or row.erased_at is not None:
        raise _not_found(field)
    if archived is False and row.archived_at is not None:
        raise UserErrors.single(
            field, f"customer {row.number} is archived; restore it first", UserErrorCode.CONFLICT
        )
    if archived is True and row.archived_at is None:
        raise UserErrors.single(
            field, f"customer {row.number} is not archived", UserErrorCode.CONFLICT
        )
    return row


async def _owner_in_reach(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    owner_id: int | None,
    field: str,
    permission: str = "customers:write",
) -> None:
    """The owner must be an active user the caller's scope reaches (OWN: only themself)."""
    if owner_id is None:
        return
    caller = require(context, permission)
    scope = caller.scope(permission)
    statement = select(User.id).where(User.id == owner_id, User.is_active.is_(True))
    if scope is not None and scope is not Scope.ALL:
        statement = statement.where(User.id.in_(context.owner_ids(scope)))
    if await session.scalar(statement) is None:
        check.fail(
            field,
            "must be an active user whose customers you may manage"
            + (" (your scope is OWN: only yourself)" if scope is Scope.OWN else ""),
            UserErrorCode.FORBIDDEN if scope is not Scope.ALL else UserErrorCode.NOT_FOUND,
        )


async def _duplicates(
    session: AsyncSession, check: Check, email: str | None, phone: str | None, own_id: int | None
) -> None:
    """Refuse an email or phone that an active customer already has, naming its number."""
    for name, column, value in (("email", Customer.email, email), ("phone", Customer.phone, phone)):
        if value is None:
            continue
        statement = select(Customer.number).where(
            column == value, Customer.archived_at.is_(None), Customer.erased_at.is_(None)
        )
        if own_id is not None:
            statement = statement.where(Customer.id != own_id)
        number = await session.scalar(statement.limit(1))
        if number is not None:
            check.fail(name, f"customer {number} already has this {name}", UserErrorCode.DUPLICATE)


# ----------------------------------------------------------------------------- custom fields


def _custom_value(definition: CustomFieldDefinition, value: Any) -> tuple[Any, str | None]:
    """The stored form of a custom field value, or an error message."""
    kind = definition.type
    if kind == "TEXT":
        if not isinstance(value, str):
            return None, "must be text"
        if len(value) > 1000:
            return None, "must be at most 1000 characters"
        return value.strip(), None
    if kind == "NUMBER":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return None, "must be a number"
        try:
            number = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return None, "must be a number"
        if not number.is_finite():
            return None, "must be a finite number"
        return (int(number) if number == number.to_integral_value() else float(number)), None
    if kind == "DATE":
        try:
            return dt.date.fromisoformat(str(value)).isoformat(), None
        except ValueError:
            return None, "must be a date (YYYY-MM-DD)"
    if kind == "BOOLEAN":
        if not isinstance(value, bool):
            return None, "must be true or false"
        return value, None
    if kind == "SELECT":
        if value not in (definition.options or []):
            return None, f"must be one of: {', '.join(definition.options or [])}"
        return value, None
    return None, f"has an unknown type {kind}"


async def custom_fields(
    session: AsyncSession,
    check: Check,
    entity: str,
    given: Any,
    current: Mapping[str, Any] | None,
    field: str = "customFields",
) -> dict[str, Any]:
    """Validate ``given`` (keys to set; null removes) against the entity's definitions and
    return the full new set of values; required fields must end up with a value."""
    definitions = {
        d.key: d
        for d in (
            await session.scalars(
                select(CustomFieldDefinition).where(CustomFieldDefinition.entity == entity)
            )
        ).all()
    }
    values = dict(current or {})
    if given is not None and not isinstance(given, dict):
        check.fail(field, "must be an object of values by field key", UserErrorCode.INVALID)
        return values
    for key, value in (given or {}).items():
        definition = definitions.get(key)
        if definition is None:
            known = ", ".join(sorted(definitions)) or "none defined"
            check.fail(f"{field}.{key}", f"is not a custom field ({known})", UserErrorCode.INVALID)
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            values.pop(key, None)
            continue
        stored, problem = _custom_value(definition, value)
        if problem is not None:
            check.fail(f"{field}.{key}", problem, UserErrorCode.INVALID)
        else:
            values[key] = stored
    for key, definition in definitions.items():
        if definition.required and key not in values and not check.has_error(f"{field}.{key}"):
            check.fail(f"{field}.{key}", f"{definition.label} is required", UserErrorCode.REQUIRED)
    return values


# ----------------------------------------------------------------------------- customers


@dataclass
class CustomerValues:
    """Input of a create or update; on update only the keys in ``given`` change."""

    values: dict[str, Any]
    given: set[str] = field(default_factory=set)


def _check_customer(
    check: Check, context: RequestContext, raw: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate the plain fields present in ``raw``; return column -> value."""
    region = context.settings.default_region
    out: dict[str, Any] = {}
    if "name" in raw:
        out["name"] = check.text("name", raw["name"], max_length=200)
    if "industry" in raw:
        out["industry"] = check.text("industry", raw["industry"], max_length=100, required=False)
    for key in ("kind", "stage", "grade", "source"):
        if key in raw:
            value = raw[key]
            if value is None and key != "source":
                check.fail(key, "cannot be null", UserErrorCode.REQUIRED)
            out[key] = value.value if value is not None else None
    if "phone" in raw:
        out["phone"] = check.phone("phone", raw["phone"], region=region)
    if "email" in raw:
        out["email"] = check.email("email", raw["email"], required=False)
    if "website" in raw:
        out["website"] = check.url("website", raw["website"])
    if "address" in raw:
        address = raw["address"]
        for key, (column, length) in ADDRESS_COLUMNS.items():
            value = getattr(address, key, None) if address is not None else None
            api_key = "postalCode" if key == "postal_code" else key
            out[column] = check.text(f"address.{api_key}", value, max_length=length, required=False)
        out["country"] = check.country(
            "address.country", getattr(address, "country", None) if address is not None else None
        )
    return out


async def create_customer(
    session: AsyncSession,
    context: RequestContext,
    raw: Mapping[str, Any],
    owner_id: int | None,
    tags: Sequence[str],
    check: Check | None = None,
) -> Customer:
    caller = require(context, "customers:write")
    check = check or Check()
    columns = _check_customer(check, context, {"address": None, **raw})
    for column, default in CREATE_DEFAULTS.items():
        if columns.get(column) is None:
            columns[column] = default
    owner = owner_id if owner_id is not None else caller.user_id
    await _owner_in_reach(session, context, check, owner, "ownerId")
    await _duplicates(session, check, columns.get("email"), columns.get("phone"), None)
    values = await custom_fields(session, check, "CUSTOMER", raw.get("custom_fields"), None)
    tag_names = _tag_names(check, tags, "tags")
    check.done()
    now = utcnow()
    number = format_number(NUMBER_PREFIX, await next_value(session, COUNTER))
    customer = Customer(
        number=number,
        owner_id=owner,
        custom_fields=values,
        created_at=now,
        updated_at=now,
        **columns,
    )
    session.add(customer)
    await session.flush()
    if tag_names:
        await _attach_tags(session, [customer.id], tag_names)
    audit.record(
        session,
        actor_of(context),
        "customer.created",
        "Customer",
        customer.id,
        audit.created({**snapshot(customer, CUSTOMER_FIELDS), "number": number, "tags": tag_names}),
    )
    await call_in_turn(
        context.pm.hook.crm_customer_created, session=session, customer=customer, context=context
    )
    return customer


async def update_customer(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    version: int,
    raw: Mapping[str, Any],
) -> Customer:
    customer = await writable_customer(session, context, customer_id)
    require_version(customer.version, version)
    check = Check()
    columns = _check_customer(check, context, raw)
    if "owner_id" in raw:
        if raw["owner_id"] is None:
            check.fail(
                "ownerId", "cannot be null; transfer the customer instead", UserErrorCode.REQUIRED
            )
        else:
            await _owner_in_reach(session, context, check, raw["owner_id"], "ownerId")
            columns["owner_id"] = raw["owner_id"]
    await _duplicates(session, check, columns.get("email"), columns.get("phone"), customer.id)
    if "custom_fields" in raw:
        columns["custom_fields"] = await custom_fields(
            session, check, "CUSTOMER", raw["custom_fields"], customer.custom_fields
        )
    check.done()
    before = snapshot(customer, CUSTOMER_FIELDS)
    for column, value in columns.items():
        setattr(customer, column, value)
    changes = audit.diff(before, snapshot(customer, CUSTOMER_FIELDS))
    if changes:
        customer.updated_at = utcnow()
        await session.flush()
        audit.record(
            session, actor_of(context), "customer.updated", "Customer", customer.id, changes
        )
        await call_in_turn(
            context.pm.hook.crm_customer_updated,
            session=session,
            customer=customer,
            changes=changes,
            context=context,
        )
    return customer


async def _veto(
    session: AsyncSession, context: RequestContext, customer: Customer, erasing: bool
) -> None:
    await call_in_turn(
        context.pm.hook.crm_customer_before_archive,
        session=session,
        customer=customer,
        erasing=erasing,
        context=context,
    )


async def archive_customer(
    session: AsyncSession, context: RequestContext, customer_id: int | None, version: int
) -> Customer:
    customer = await writable_customer(session, context, customer_id)
    require_version(customer.version, version)
    await _veto(session, context, customer, erasing=False)
    customer.archived_at = customer.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "customer.archived",
        "Customer",
        customer.id,
        audit.diff({"archivedAt": None}, {"archivedAt": customer.archived_at}),
    )
    await call_in_turn(
        context.pm.hook.crm_customer_archived, session=session, customer=customer, context=context
    )
    return customer


async def restore_customer(
    session: AsyncSession, context: RequestContext, customer_id: int | None, version: int
) -> Customer:
    customer = await writable_customer(session, context, customer_id, archived=True)
    require_version(customer.version, version)
    if customer.merged_into_id is not None:
        raise UserErrors.single(
            "id", "a merged customer cannot be restored", UserErrorCode.BUSINESS_RULE
        )
    check = Check()
    await _duplicates(session, check, customer.email, customer.phone, customer.id)
    check.done()
    before = customer.archived_at
    customer.archived_at = None
    customer.updated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "customer.restored",
        "Customer",
        customer.id,
        audit.diff({"archivedAt": before}, {"archivedAt": None}),
    )
    return customer


async def erase_customer(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    version: int,
    reason: str,
) -> Customer:
    """Remove a customer's personal data for a privacy request; keep an audit record."""
    check = Check()
    cleaned_reason = check.text("reason", reason, max_length=500)
    check.done()
    customer = await writable_customer(
        session, context, customer_id, permission="customers:delete", archived=None
    )
    require_version(customer.version, version)
    await _veto(session, context, customer, erasing=True)
    now = utcnow()
    erased_fields = sorted(
        name
        for name, value in snapshot(customer, CUSTOMER_FIELDS).items()
        if value not in (None, {}, "")
        and name not in ("kind", "stage", "grade", "source", "ownerId")
    )
    customer.name = f"Erased customer {customer.number}"
    for column in (
        "industry",
        "phone",
        "email",
        "website",
        "country",
        *(c for c, _ in ADDRESS_COLUMNS.values()),
    ):
        setattr(customer, column, None)
    customer.custom_fields = {}
    customer.erased_at = now
    customer.archived_at = customer.archived_at or now
    customer.updated_at = now
    contacts = (
        await session.execute(delete(Contact).where(Contact.customer_id == customer.id))
    ).rowcount  # type: ignore[attr-defined]
    interactions = (
        await session.execute(
            update(Interaction).where(Interaction.customer_id == customer.id).values(summary=ERASED)
        )
    ).rowcount  # type: ignore[attr-defined]
    await session.execute(update(Task).where(Task.customer_id == customer.id).values(title=ERASED))
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "customer.erased",
        "Customer",
        customer.id,
        {
            "reason": cleaned_reason,
            "erasedFields": erased_fields,
            "contactsDeleted": contacts,
            "interactionsBlanked": interactions,
        },
    )
    await call_in_turn(
        context.pm.hook.crm_customer_erased, session=session, customer=customer, context=context
    )
    return customer


@dataclass(frozen=True)
class MergeResult:
    target: Customer
    moved: dict[str, int]


async def merge_customers(
    session: AsyncSession,
    context: RequestContext,
    source_id: int | None,
    target_id: int | None,
    dry_run: bool,
) -> MergeResult:
    """Move everything of the source to the target and archive the source (one transaction).

    With ``dry_run`` nothing changes; the counts say what would move.
    """
    if source_id is not None and source_id == target_id:
        raise UserErrors.single("targetId", "must differ from sourceId", UserErrorCode.INVALID)
    source = await writable_customer(session, context, source_id, "sourceId")
    target = await writable_customer(session, context, target_id, "targetId")
    moved: dict[str, int] = {}
    contact_ids = select(Contact.id).where(Contact.customer_id == source.id)
    moved["contacts"] = int(
        await session.scalar(select(func.count()).select_from(contact_ids.subquery())) or 0
    )
    moved["interactions"] = int(
        await session.scalar(select(func.count()).where(Interaction.customer_id == source.id)) or 0
    )
    moved["tasks"] = int(
        await session.scalar(select(func.count()).where(Task.customer_id == source.id)) or 0
    )
    target_tags = select(CustomerTag.tag_id).where(CustomerTag.customer_id == target.id)
    new_tags = select(CustomerTag.tag_id).where(
        CustomerTag.customer_id == source.id, CustomerTag.tag_id.not_in(target_tags)
    )
    moved["tags"] = int(
        await session.scalar(select(func.count()).select_from(new_tags.subquery())) or 0
    )
    for counts in await call_in_turn(
        context.pm.hook.crm_customer_merge,
        session=session,
        source=source,
        target=target,
        dry_run=dry_run,
        context=context,
    ):
        moved.update(counts)
    if dry_run:
        return MergeResult(target=target, moved=moved)
    target_has_primary = await session.scalar(
        select(Contact.id).where(
            Contact.customer_id == target.id,
            Contact.is_primary.is_(True),
            Contact.archived_at.is_(None),
        )
    )
    if target_has_primary is not None:
        await session.execute(
            update(Contact).where(Contact.customer_id == source.id).values(is_primary=False)
        )
    await session.execute(
        update(Contact).where(Contact.customer_id == source.id).values(customer_id=target.id)
    )
    await session.execute(
        update(Interaction)
        .where(Interaction.customer_id == source.id)
        .values(customer_id=target.id)
    )
    await session.execute(
        update(Task).where(Task.customer_id == source.id).values(customer_id=target.id)
    )
    tag_ids = list((await session.scalars(new_tags)).all())
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == source.id))
    session.add_all(CustomerTag(customer_id=target.id, tag_id=tag_id) for tag_id in tag_ids)
    now = utcnow()
    latest = max(
        (t for t in (source.last_interaction_at, target.last_interaction_at) if t), default=None
    )
    target.last_interaction_at = latest
    target.updated_at = now
    source.archived_at = source.updated_at = now
    source.merged_into_id = target.id
    await session.flush()
    actor = actor_of(context)
    audit.record(
        session,
        actor,
        "customer.merged_into",
        "Customer",
        source.id,
        {
            "targetId": global_id("Customer", target.id),
            "targetNumber": target.number,
            "moved": moved,
        },
    )
    audit.record(
        session,
        actor,
        "customer.merged",
        "Customer",
        target.id,
        {
            "sourceId": global_id("Customer", source.id),
            "sourceNumber": source.number,
            "moved": moved,
        },
    )
    await call_in_turn(
        context.pm.hook.crm_customer_merged,
        session=session,
        source=source,
        target=target,
        context=context,
    )
    return MergeResult(target=target, moved=moved)


async def transfer_customers(
    session: AsyncSession,
    context: RequestContext,
    customer_ids: Sequence[int],
    owner_id: int | None,
) -> list[Customer]:
    check = Check()
    if not customer_ids:
        check.fail("customerIds", "name at least one customer", UserErrorCode.REQUIRED)
    if owner_id is None:
        check.fail("ownerId", "is required", UserErrorCode.REQUIRED)
    else:
        await _owner_in_reach(session, context, check, owner_id, "ownerId")
    check.done()
    customers = []
    actor = actor_of(context)
    for index, customer_id in enumerate(customer_ids):
        customer = await writable_customer(session, context, customer_id, f"customerIds.{index}")
        if customer.owner_id != owner_id:
            before = customer.owner_id
            customer.owner_id = owner_id
            customer.updated_at = utcnow()
            await session.flush()
            audit.record(
                session,
                actor,
                "customer.transferred",
                "Customer",
                customer.id,
                audit.diff(
                    {"ownerId": global_id("User", before)}, {"ownerId": global_id("User", owner_id)}
                ),
            )
        customers.append(customer)
    return customers


# ----------------------------------------------------------------------------- tags


def _tag_key(name: str) -> str:
    return " ".join(name.split()).lower()


def _tag_names(check: Check, names: Sequence[str], field: str) -> list[str]:
    cleaned: dict[str, str] = {}
    for index, name in enumerate(names):
        value = check.text(f"{field}.{index}", name, max_length=50)
        if value is not None:
            cleaned.setdefault(_tag_key(value), " ".join(value.split()))
    return list(cleaned.values())


async def _tags_for(session: AsyncSession, names: Sequence[str]) -> list[Tag]:
    """Tags by name (case-insensitive), created on first use."""
    keys = {_tag_key(name): name for name in names}
    found = {
        t.name_key: t
        for t in (await session.scalars(select(Tag).where(Tag.name_key.in_(keys)))).all()
    }
    for key, name in keys.items():
        if key not in found:
            tag = Tag(name=name, name_key=key, created_at=utcnow())
            session.add(tag)
            found[key] = tag
    await session.flush()
    return [found[key] for key in keys]


async def _attach_tags(
    session: AsyncSession, customer_ids: Sequence[int], names: Sequence[str]
) -> list[Tag]:
    tags = await _tags_for(session, names)
    existing = set(
        (
            await session.execute(
                select(CustomerTag.customer_id, CustomerTag.tag_id).where(
                    CustomerTag.customer_id.in_(customer_ids),
                    CustomerTag.tag_id.in_([t.id for t in tags]),
                )
            )
        ).all()
    )
    session.add_all(
        CustomerTag(customer_id=c, tag_id=t.id)
        for c in customer_ids
        for t in tags
        if (c, t.id) not in existing
    )
    await session.flush()
    return tags


async def tag_customers(
    session: AsyncSession,
    context: RequestContext,
    customer_ids: Sequence[int],
    names: Sequence[str],
    *,
    remove: bool = False,
) -> list[Customer]:
    check = Check()
    tag_names = _tag_names(check, names, "tags")
    if not tag_names and not check.errors:
        check.fail("tags", "name at least one tag", UserErrorCode.REQUIRED)
    check.done()
    customers = [
        await writable_customer(session, context, cid, f"customerIds.{i}")
        for i, cid in enumerate(customer_ids)
    ]
    ids = [c.id for c in customers]
    if remove:
        keys = [_tag_key(n) for n in tag_names]
        await session.execute(
            delete(CustomerTag).where(
                CustomerTag.customer_id.in_(ids),
                CustomerTag.tag_id.in_(select(Tag.id).where(Tag.name_key.in_(keys))),
            )
        )
    else:
        await _attach_tags(session, ids, tag_names)
    action = "customer.untagged" if remove else "customer.tagged"
    for customer in customers:
        audit.record(
            session, actor_of(context), action, "Customer", customer.id, {"tags": tag_names}
        )
    return customers


async def rename_tag(
    session: AsyncSession, context: RequestContext, tag_id: int | None, name: str
) -> Tag:
    """Rename a tag; if another tag already has the name, merge this one into it."""
    caller = require(context, "customers:write")
    if not caller.can("customers:write", Scope.ALL):
        raise UserErrors.single(
            None, "renaming a tag needs customers:write for all customers", UserErrorCode.FORBIDDEN
        )
    check = Check()
    cleaned = check.text("name", name, max_length=50)
    check.done()
    assert cleaned is not None
    tag = await session.get(Tag, tag_id, with_for_update=True) if tag_id is not None else None
    if tag is None:
        raise _not_found("id", "tag")
    key = _tag_key(cleaned)
    other = await session.scalar(select(Tag).where(Tag.name_key == key, Tag.id != tag.id))
    actor = actor_of(context)
    if other is None:
        before = tag.name
        tag.name, tag.name_key = " ".join(cleaned.split()), key
        await session.flush()
        audit.record(
            session,
            actor,
            "tag.renamed",
            "Tag",
            tag.id,
            audit.diff({"name": before}, {"name": tag.name}),
        )
        return tag
    already = select(CustomerTag.customer_id).where(CustomerTag.tag_id == other.id)
    await session.execute(
        update(CustomerTag)
        .where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.not_in(already))
        .values(tag_id=other.id)
    )
    await session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag.id))
    await session.delete(tag)
    await session.flush()
    audit.record(
        session, actor, "tag.merged", "Tag", other.id, {"mergedTag": tag.name, "into": other.name}
    )
    return other


# ----------------------------------------------------------------------------- contacts


def _check_contact(check: Check, context: RequestContext, raw: Mapping[str, Any]) -> dict[str, Any]:
    region = context.settings.default_region
    out: dict[str, Any] = {}
    if "name" in raw:
        out["name"] = check.text("name", raw["name"], max_length=200)
    if "title" in raw:
        out["title"] = check.text("title", raw["title"], max_length=100, required=False)
    for key in ("phone", "mobile"):
        if key in raw:
            out[key] = check.phone(key, raw[key], region=region)
    if "email" in raw:
        out["email"] = check.email("email", raw["email"], required=False)
    if "birthday" in raw:
        birthday = raw["birthday"]
        if birthday is not None and not (dt.date(1900, 1, 1) <= birthday <= dt.date.today()):
            check.fail(
                "birthday", "must be between 1900-01-01 and today", UserErrorCode.OUT_OF_RANGE
            )
        out["birthday"] = birthday
    if "notes" in raw:
        out["notes"] = check.text("notes", raw["notes"], max_length=5000, required=False)
    return out


async def _clear_primary(session: AsyncSession, customer_id: int, keep: int | None) -> None:
    statement = update(Contact).where(
        Contact.customer_id == customer_id, Contact.is_primary.is_(True)
    )
    if keep is not None:
        statement = statement.where(Contact.id != keep)
    await session.execute(statement.values(is_primary=False))


async def create_contact(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    raw: Mapping[str, Any],
    primary: bool,
) -> Contact:
    customer = await writable_customer(session, context, customer_id, "customerId")
    check = Check()
    columns = _check_contact(check, context, {"name": None, **raw})
    check.done()
    has_primary = await session.scalar(
        select(Contact.id).where(
            Contact.customer_id == customer.id,
            Contact.is_primary.is_(True),
            Contact.archived_at.is_(None),
        )
    )
    if primary:
        await _clear_primary(session, customer.id, None)
    now = utcnow()
    contact = Contact(
        customer_id=customer.id,
        is_primary=primary or has_primary is None,
        created_at=now,
        updated_at=now,
        **columns,
    )
    session.add(contact)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "contact.created",
        "Contact",
        contact.id,
        audit.created(
            {**snapshot(contact, CONTACT_FIELDS), "customerId": global_id("Customer", customer.id)}
        ),
    )
    return contact


async def writable_contact(
    session: AsyncSession, context: RequestContext, contact_id: int | None
) -> tuple[Contact, Customer]:
    contact = (
        await session.get(Contact, contact_id, with_for_update=True)
        if contact_id is not None
        else None
    )
    if contact is None:
        raise _not_found("id", "contact")
    try:
        customer = await writable_customer(session, context, contact.customer_id)
    except UserErrors as exc:
        if exc.errors and exc.errors[0].code == UserErrorCode.NOT_FOUND:
            raise _not_found("id", "contact") from None
        raise
    return contact, customer


async def update_contact(
    session: AsyncSession,
    context: RequestContext,
    contact_id: int | None,
    version: int,
    raw: Mapping[str, Any],
) -> Contact:
    contact, _ = await writable_contact(session, context, contact_id)
    require_version(contact.version, version)
    check = Check()
    columns = _check_contact(check, context, raw)
    check.done()
    before = snapshot(contact, CONTACT_FIELDS)
    for column, value in columns.items():
        setattr(contact, column, value)
    changes = audit.diff(before, snapshot(contact, CONTACT_FIELDS))
    if changes:
        contact.updated_at = utcnow()
        await session.flush()
        audit.record(session, actor_of(context), "contact.updated", "Contact", contact.id, changes)
    return contact


async def archive_contact(
    session: AsyncSession, context: RequestContext, contact_id: int | None, version: int
) -> Contact:
    contact, _ = await writable_contact(session, context, contact_id)
    require_version(contact.version, version)
    if contact.archived_at is None:
        contact.archived_at = contact.updated_at = utcnow()
        contact.is_primary = False
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "contact.archived",
            "Contact",
            contact.id,
            audit.diff({"archivedAt": None}, {"archivedAt": contact.archived_at}),
        )
    return contact


async def set_primary_contact(
    session: AsyncSession, context: RequestContext, contact_id: int | None, version: int
) -> Contact:
    contact, customer = await writable_contact(session, context, contact_id)
    require_version(contact.version, version)
    if contact.archived_at is not None:
        raise UserErrors.single(
            "id", "an archived contact cannot be primary", UserErrorCode.BUSINESS_RULE
        )
    if not contact.is_primary:
        await _clear_primary(session, customer.id, contact.id)
        await session.flush()
        contact.is_primary = True
        contact.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "contact.made_primary",
            "Contact",
            contact.id,
            {"customerId": global_id("Customer", customer.id)},
        )
    return contact


# ----------------------------------------------------------------------------- timeline


async def log_interaction(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    contact_id: int | None,
    channel: str,
    summary: str,
    occurred_at: dt.datetime | None,
    participant_ids: Sequence[int],
    next_follow_up_at: dt.datetime | None,
) -> Interaction:
    caller = require(context, "followups:write")
    customer = await writable_customer(
        session, context, customer_id, "customerId", "followups:write"
    )
    check = Check()
    text = check.text("summary", summary, max_length=10_000)
    now = utcnow()
    when = occurred_at or now
    if when.tzinfo is None:
        check.fail("occurredAt", "must carry a time zone", UserErrorCode.INVALID)
    elif when > now + dt.timedelta(minutes=5):
        check.fail("occurredAt", "cannot be in the future", UserErrorCode.OUT_OF_RANGE)
    if next_follow_up_at is not None and next_follow_up_at <= now:
        check.fail("nextFollowUpAt", "must be in the future", UserErrorCode.OUT_OF_RANGE)
    if (
        contact_id is not None
        and await session.scalar(
            select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer.id)
        )
        is None
    ):
        check.fail("contactId", "is not a contact of this customer", UserErrorCode.INVALID)
    if participant_ids:
        found = set(
            (
                await session.scalars(
                    select(User.id).where(User.id.in_(participant_ids), User.is_active.is_(True))
                )
            ).all()
        )
        for index, user_id in enumerate(participant_ids):
            if user_id not in found:
                check.fail(
                    f"participantIds.{index}", "is not an active user", UserErrorCode.NOT_FOUND
                )
    check.done()
    assert text is not None
    interaction = Interaction(
        customer_id=customer.id,
        contact_id=contact_id,
        channel=channel,
        summary=text,
        occurred_at=when,
        author_id=caller.user_id,
        next_follow_up_at=next_follow_up_at,
        created_at=now,
    )
    session.add(interaction)
    await session.flush()
    session.add_all(
        InteractionParticipant(interaction_id=interaction.id, user_id=u) for u in participant_ids
    )
    # Derived, not a user edit: moves without bumping the version clients hold.
    await session.execute(
        update(Customer)
        .where(
            Customer.id == customer.id,
            or_(Customer.last_interaction_at.is_(None), Customer.last_interaction_at < when),
        )
        .values(last_interaction_at=when)
        .execution_options(synchronize_session=False)
    )
    if next_follow_up_at is not None:
        session.add(
            Task(
                customer_id=customer.id,
                title=f"Follow up: {text[:180]}",
                due_at=next_follow_up_at,
                assignee_id=caller.user_id,
                created_by_id=caller.user_id,
                created_at=now,
                updated_at=now,
            )
        )
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "interaction.logged",
        "Customer",
        customer.id,
        {"interactionId": global_id("Interaction", interaction.id), "channel": channel},
    )
    return interaction


async def create_task(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    title: str,
    due_at: dt.datetime,
    remind_at: dt.datetime | None,
    assignee_id: int | None,
) -> Task:
    caller = require(context, "followups:write")
    if customer_id is not None:
        await writable_customer(session, context, customer_id, "customerId", "followups:write")
    check = Check()
    cleaned = check.text("title", title, max_length=200)
    if remind_at is not None and remind_at > due_at:
        check.fail("remindAt", "must not be after dueAt", UserErrorCode.OUT_OF_RANGE)
    assignee = assignee_id if assignee_id is not None else caller.user_id
    await _owner_in_reach(session, context, check, assignee, "assigneeId", "followups:write")
    check.done()
    now = utcnow()
    task = Task(
        customer_id=customer_id,
        title=cleaned,
        due_at=due_at,
        remind_at=remind_at,
        assignee_id=assignee,
        created_by_id=caller.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(task)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "task.created",
        "Task",
        task.id,
        audit.created(
            {
                "title": cleaned,
                "dueAt": due_at,
                "assigneeId": global_id("User", assignee),
                "customerId": global_id("Customer", customer_id),
            }
        ),
    )
    return task


async def complete_task(
    session: AsyncSession, context: RequestContext, task_id: int | None, version: int
) -> Task:
    caller = require(context, "followups:write")
    task = await session.get(Task, task_id, with_for_update=True) if task_id is not None else None
    allowed = task is not None and (
        task.assignee_id == caller.user_id
        or (
            task.customer_id is not None
            and await session.scalar(
                select(Customer.id).where(
                    Customer.id == task.customer_id, context.visible("followups:write", "customers")
                )
            )
            is not None
        )
    )
    if task is None or not allowed:
        raise _not_found("id", "task")
    require_version(task.version, version)
    if task.done_at is None:
        task.done_at = task.updated_at = utcnow()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "task.completed",
            "Task",
            task.id,
            audit.diff({"doneAt": None}, {"doneAt": task.done_at}),
        )
    return task


# ----------------------------------------------------------------------------- custom fields


KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


async def define_custom_field(
    session: AsyncSession,
    context: RequestContext,
    entity: str,
    key: str,
    label: str,
    kind: str,
    options: Sequence[str] | None,
    required: bool,
) -> CustomFieldDefinition:
    import re

    require(context, "settings:manage")
    check = Check()
    cleaned_key = (key or "").strip()
    if not re.match(KEY_PATTERN, cleaned_key):
        check.fail(
            "key",
            "must be 1-64 characters of a-z, 0-9 and _, starting with a letter",
            UserErrorCode.INVALID,
        )
    cleaned_label = check.text("label", label, max_length=100)
    cleaned_options: list[str] | None = None
    if kind == "SELECT":
        cleaned_options = [o.strip() for o in (options or []) if o and o.strip()]
        if not cleaned_options:
            check.fail(
                "options", "a SELECT field needs at least one option", UserErrorCode.REQUIRED
            )
        elif len(set(cleaned_options)) != len(cleaned_options):
            check.fail("options", "options must differ", UserErrorCode.DUPLICATE)
    elif options:
        check.fail("options", "only SELECT fields take options", UserErrorCode.INVALID)
    existing = await session.scalar(
        select(CustomFieldDefinition).where(
            CustomFieldDefinition.entity == entity, CustomFieldDefinition.key == cleaned_key
        )
    )
    if existing is not None:
        check.fail(
            "key", f"{entity} already has a custom field {cleaned_key}", UserErrorCode.DUPLICATE
        )
    check.done()
    now = utcnow()
    definition = CustomFieldDefinition(
        entity=entity,
        key=cleaned_key,
        label=cleaned_label,
        type=kind,
        options=cleaned_options,
        required=required,
        created_at=now,
        updated_at=now,
    )
    session.add(definition)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "custom_field.defined",
        "CustomFieldDefinition",
        definition.id,
        audit.created(
            {
                "entity": entity,
                "key": cleaned_key,
                "label": cleaned_label,
                "type": kind,
                "options": cleaned_options,
                "required": required,
            }
        ),
    )
    return definition
