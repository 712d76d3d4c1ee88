"""Customers: create, update, archive, restore, transfer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core import audit
from core.access import actor_of, require
from core.context import RequestContext
from core.customers import reminders
from core.customers.models import Customer, Task
from core.customers.service.common import _duplicates, _owner_in_reach, writable_customer
from core.customers.service.duplicates import Candidate, likely_duplicates, refuse_duplicates
from core.customers.service.fields import custom_fields
from core.customers.service.tags import _attach_tags, _tag_names
from core.errors import UserErrorCode, UserErrors
from core.host import call_in_turn
from core.i18n import _
from core.sequences import format_number, next_value
from core.validation import Check, global_id, require_version, snapshot

NUMBER_PREFIX = "C"
COUNTER = "customer"


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
    "foundedOn": lambda c: c.founded_on.isoformat() if c.founded_on else None,
    "address.line1": "address_line1",
    "address.line2": "address_line2",
    "address.city": "city",
    "address.region": "region",
    "address.postalCode": "postal_code",
    "address.country": "country",
    "ownerId": lambda c: global_id("User", c.owner_id),
    "customFields": "custom_fields",
}


CREATE_DEFAULTS = {"kind": "COMPANY", "stage": "POTENTIAL", "grade": "STANDARD"}
ADDRESS_COLUMNS = {
    "line1": ("address_line1", 200),
    "line2": ("address_line2", 200),
    "city": ("city", 100),
    "region": ("region", 100),
    "postal_code": ("postal_code", 20),
}


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
                check.fail(key, _("cannot be null"), UserErrorCode.REQUIRED)
            out[key] = value.value if value is not None else None
    if "phone" in raw:
        out["phone"] = check.phone("phone", raw["phone"], region=region)
    if "email" in raw:
        out["email"] = check.email("email", raw["email"], required=False)
    if "website" in raw:
        out["website"] = check.url("website", raw["website"])
    if "founded_on" in raw:
        out["founded_on"] = raw["founded_on"]
        today = context.now().astimezone(context.zone).date()  # the caller's today
        if raw["founded_on"] is not None and raw["founded_on"] > today:
            check.fail("foundedOn", _("cannot be in the future"), UserErrorCode.OUT_OF_RANGE)
    if "address" in raw:
        out.update(_address_columns(check, raw["address"]))
    return out


ADDRESS_PARTS = (*(column for column, _length in ADDRESS_COLUMNS.values()), "country")
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "contact": ("phone", "email"),
    "address": ADDRESS_PARTS,
    "foundedOn": ("founded_on",),
}
"""The columns a name of ``CRM_CUSTOMER_REQUIRED_FIELDS`` asks for (any one of them filled);
another name is its own column."""


def _require_fields(
    check: Check,
    context: RequestContext,
    columns: Mapping[str, Any],
    current: Customer | None = None,
) -> None:
    """Refuse a customer without a field ``CRM_CUSTOMER_REQUIRED_FIELDS`` names (REQUIRED,
    naming the field): ``contact`` asks for a phone or an email, ``address`` for any part.

    ``columns`` are the values a create sets, or those an update of ``current`` gives. An
    update is checked only on the fields it gives, with the values they leave: it may not
    clear a required field (nor leave one blank that it sets), but a customer from before
    the setting stays editable in its other fields.
    """
    settings = context.settings
    for name in settings.names(settings.customer_required_fields):
        parts = REQUIRED_COLUMNS.get(name, (name,))
        if current is not None and not any(part in columns for part in parts):
            continue
        values = [
            columns[part] if part in columns else getattr(current, part, None) for part in parts
        ]
        if any(value not in (None, "") for value in values):
            continue
        if name == "contact":
            if not check.has_error("phone") and not check.has_error("email"):
                check.fail(
                    "phone",
                    _("give a phone or an email to reach the customer"),
                    UserErrorCode.REQUIRED,
                )
        elif name == "address":
            if not any((e.field or "").startswith("address") for e in check.errors):
                check.fail("address", _("is required"), UserErrorCode.REQUIRED)
        elif not check.has_error(name):
            check.fail(name, _("is required"), UserErrorCode.REQUIRED)


def _address_columns(check: Check, address: Any) -> dict[str, Any]:
    """The address columns ``address`` sets: each part given (``None`` clears it), the
    others untouched; ``address`` itself ``None`` clears them all."""
    out: dict[str, Any] = {}
    for key, (column, length) in ADDRESS_COLUMNS.items():
        value = getattr(address, key, None) if address is not None else None
        if value is not UNSET:
            api_key = "postalCode" if key == "postal_code" else key
            out[column] = check.text(f"address.{api_key}", value, max_length=length, required=False)
    country = getattr(address, "country", None) if address is not None else None
    if country is not UNSET:
        out["country"] = check.country("address.country", country)
    return out


async def create_customer(
    session: AsyncSession,
    context: RequestContext,
    raw: Mapping[str, Any],
    owner_id: int | None,
    tags: Sequence[str],
    check: Check | None = None,
    *,
    duplicates: list[Candidate] | None = None,
) -> Customer:
    """Create a customer. With ``duplicates`` (a list the caller keeps), likely duplicates
    (:mod:`~core.customers.service.duplicates`) are refused and put in that list; without
    it (the CSV import, which matches existing customers its own way) they are not looked
    for."""
    caller = require(context, "customers:write")
    check = check or Check()
    columns = _check_customer(check, context, {"address": None, **raw})
    _require_fields(check, context, columns)
    for column, default in CREATE_DEFAULTS.items():
        if columns.get(column) is None:
            columns[column] = default
    owner = owner_id if owner_id is not None else caller.user_id
    await _owner_in_reach(session, context, owner, "ownerId")
    await _duplicates(session, context, check, columns.get("email"), columns.get("phone"), None)
    if duplicates is not None and not check.has_error("name"):
        duplicates[:] = await likely_duplicates(session, context, columns)
        refuse_duplicates(check, duplicates)
    values = await custom_fields(
        session,
        check,
        "CUSTOMER",
        raw.get("custom_fields"),
        None,
        typed=raw.get("custom_field_values"),
    )
    tag_names = _tag_names(check, tags, "tags")
    check.done()
    now = context.now()
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
        await _attach_tags(session, [customer.id], tag_names, context.now())
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
    require_version(customer, version)
    check = Check()
    columns = _check_customer(check, context, raw)
    if "owner_id" in raw:
        if raw["owner_id"] is None:
            check.fail(
                "ownerId",
                _("cannot be null; transfer the customer instead"),
                UserErrorCode.REQUIRED,
            )
        else:
            await _owner_in_reach(session, context, raw["owner_id"], "ownerId")
            columns["owner_id"] = raw["owner_id"]
    _require_fields(check, context, columns, customer)
    await _duplicates(
        session, context, check, columns.get("email"), columns.get("phone"), customer.id
    )
    if "custom_fields" in raw or "custom_field_values" in raw:
        columns["custom_fields"] = await custom_fields(
            session,
            check,
            "CUSTOMER",
            raw.get("custom_fields"),
            customer.custom_fields,
            typed=raw.get("custom_field_values"),
        )
    check.done()
    before = snapshot(customer, CUSTOMER_FIELDS)
    for column, value in columns.items():
        setattr(customer, column, value)
    changes = audit.diff(before, snapshot(customer, CUSTOMER_FIELDS))
    if changes:
        customer.updated_at = context.now()
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
    require_version(customer, version)
    await _veto(session, context, customer, erasing=False)
    customer.archived_at = customer.updated_at = context.now()
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
    require_version(customer, version)
    if customer.merged_into_id is not None:
        raise UserErrors.single(
            "id", _("a merged customer cannot be restored"), UserErrorCode.BUSINESS_RULE
        )
    check = Check()
    await _duplicates(session, context, check, customer.email, customer.phone, customer.id)
    check.done()
    before = customer.archived_at
    customer.archived_at = None
    customer.updated_at = context.now()
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


async def _hand_over_tasks(
    session: AsyncSession,
    customer_id: int,
    before: int | None,
    owner_id: int | None,
    context: RequestContext,
) -> int:
    """The previous owner's open tasks on the customer go with it to the new owner (who
    alone may still see the customer, and whom the reminders must reach); how many."""
    if before is None:
        return 0
    moved = await session.execute(
        update(Task)
        .where(
            Task.customer_id == customer_id,
            Task.assignee_id == before,
            Task.done_at.is_(None),
            Task.cancelled_at.is_(None),  # open tasks only: a cancelled one stays as it was
        )
        .values(
            assignee_id=owner_id,
            reminded_at=None,
            updated_at=context.now(),
            version=Task.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return max(int(moved.rowcount or 0), 0)  # type: ignore[attr-defined]


async def transfer_customers(
    session: AsyncSession,
    context: RequestContext,
    customer_ids: Sequence[int],
    owner_id: int | None,
) -> list[Customer]:
    check = Check()
    if not customer_ids:
        check.fail("customerIds", _("name at least one customer"), UserErrorCode.REQUIRED)
    if owner_id is None:
        check.fail("ownerId", _("is required"), UserErrorCode.REQUIRED)
    else:
        await _owner_in_reach(session, context, owner_id, "ownerId")
    check.done()
    customers = []
    handed = []
    actor = actor_of(context)
    for index, customer_id in enumerate(customer_ids):
        customer = await writable_customer(session, context, customer_id, f"customerIds.{index}")
        if customer.owner_id != owner_id:
            handed.append(customer)
            before = customer.owner_id
            customer.owner_id = owner_id
            customer.updated_at = context.now()
            await session.flush()
            changes = audit.diff(
                {"ownerId": global_id("User", before)}, {"ownerId": global_id("User", owner_id)}
            )
            moved = await _hand_over_tasks(session, customer.id, before, owner_id, context)
            audit.record(
                session,
                actor,
                "customer.transferred",
                "Customer",
                customer.id,
                {**changes, **({"openTasksHandedOver": moved} if moved else {})},
            )
            await call_in_turn(
                context.pm.hook.crm_customer_updated,
                session=session,
                customer=customer,
                changes=changes,
                context=context,
            )
        customers.append(customer)
    assert owner_id is not None
    if owner_id != actor.user_id:  # nobody is told of what they did themselves
        await reminders.customers_transferred(session, context, handed, owner_id, context.now())
    return customers
