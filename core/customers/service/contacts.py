"""Contacts of a customer, one of them primary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of
from core.context import RequestContext
from core.customers.models import Contact, Customer
from core.customers.service.common import _not_found, writable_customer
from core.errors import ApiError, ApiErrorCode, UserErrorCode, UserErrors
from core.i18n import _
from core.validation import Check, global_id, require_version, snapshot

CONTACT_FIELDS: dict[str, Any] = {
    "name": "name",
    "title": "title",
    "phone": "phone",
    "mobile": "mobile",
    "email": "email",
    "birthday": "birthday",
    "primary": "is_primary",
    "notes": "notes",
    "locale": "locale",
    "timeZone": "time_zone",
}


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
        # "Today" is the caller's calendar day (their time zone, else the deployment's).
        if birthday is not None and not (dt.date(1900, 1, 1) <= birthday <= context.today()):
            check.fail(
                "birthday", _("must be between 1900-01-01 and today"), UserErrorCode.OUT_OF_RANGE
            )
        out["birthday"] = birthday
    if "notes" in raw:
        out["notes"] = check.text("notes", raw["notes"], max_length=5000, required=False)
    if "locale" in raw:
        out["locale"] = check.locale("locale", raw["locale"])
    if "time_zone" in raw:
        out["time_zone"] = check.time_zone("timeZone", raw["time_zone"])
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
    now = context.now()
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
    except ApiError as exc:
        if exc.code is ApiErrorCode.NOT_FOUND:
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
    require_version(contact, version)
    check = Check()
    columns = _check_contact(check, context, raw)
    check.done()
    before = snapshot(contact, CONTACT_FIELDS)
    for column, value in columns.items():
        setattr(contact, column, value)
    changes = audit.diff(before, snapshot(contact, CONTACT_FIELDS))
    if changes:
        contact.updated_at = context.now()
        await session.flush()
        audit.record(session, actor_of(context), "contact.updated", "Contact", contact.id, changes)
    return contact


async def archive_contact(
    session: AsyncSession, context: RequestContext, contact_id: int | None, version: int
) -> Contact:
    contact, _ = await writable_contact(session, context, contact_id)
    require_version(contact, version)
    if contact.archived_at is None:
        contact.archived_at = contact.updated_at = context.now()
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
    require_version(contact, version)
    if contact.archived_at is not None:
        raise UserErrors.single(
            "id", _("an archived contact cannot be primary"), UserErrorCode.BUSINESS_RULE
        )
    if not contact.is_primary:
        await _clear_primary(session, customer.id, contact.id)
        await session.flush()
        contact.is_primary = True
        contact.updated_at = context.now()
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
