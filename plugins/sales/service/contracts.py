"""Contracts: writing one (DRAFT), putting it in force, ending it early, renewing it.

A contract's ``startsOn``..``endsOn`` is its current term, both days included. Only a DRAFT
changes its dates and value; an ACTIVE one is extended with :func:`renew` (or, when it
renews automatically, by the expiry job in :mod:`.contract_jobs`). Every change is audited
(``sales.contract.<verb>``); the audit values are those of :func:`snapshot`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import UNSET

from core.plugin_api import (
    ApiError,
    Check,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    check_amount,
    check_currency,
    format_number,
    global_id,
    next_value,
    not_found,
    quantize_amount,
    require,
    require_version,
    translator,
    writable_customer,
)
from plugins.sales import declarations
from plugins.sales import settings as sales_settings
from plugins.sales.models import Contract
from plugins.sales.service.opportunities import check_owner
from plugins.sales.service.purchases import today_in

_ = translator(__name__)

COUNTER = "sales_contract"
NUMBER_PREFIX = "CT"
MAX_NOTICE_DAYS = 365
TITLE_LENGTH = 200

# The values of a contract's audit events that name no person and survive an erasure of its
# customer; the title is the only free text.
AUDIT_KEEP = frozenset(
    {
        "number",
        "customerId",
        "ownerId",
        "startsOn",
        "endsOn",
        "value",
        "currency",
        "status",
        "autoRenew",
        "noticeDays",
        "terminatedAt",
    }
)


def snapshot(row: Contract) -> dict[str, Any]:
    return {
        "number": row.number,
        "customerId": global_id("Customer", row.customer_id),
        "ownerId": global_id("User", row.owner_id),
        "title": row.title,
        "startsOn": row.starts_on,
        "endsOn": row.ends_on,
        "value": quantize_amount(row.value, row.currency),
        "currency": row.currency,
        "status": row.status,
        "autoRenew": row.auto_renew,
        "noticeDays": row.notice_days,
        "terminatedAt": row.terminated_at,
    }


def _record(
    session: AsyncSession,
    actor: audit.Actor,
    verb: str,
    row: Contract,
    before: dict[str, Any] | None,
) -> None:
    after = snapshot(row)
    changes = audit.created(after) if before is None else audit.diff(before, after)
    audit.record(session, actor, f"sales.contract.{verb}", "Contract", row.id, changes)


def _not_found(field: str = "id") -> ApiError:
    return not_found(f"input.{field}", _("no contract with this id that you may change"))


async def writable_contract(
    session: AsyncSession, context: RequestContext, contract_id: int | None
) -> Contract:
    """The contract, locked, if the caller's ``sales:write`` reaches it; else NOT_FOUND."""
    require(context, declarations.WRITE)
    row = None
    if contract_id is not None:
        row = await session.scalar(
            select(Contract)
            .where(
                Contract.id == contract_id,
                declarations.visible(context, declarations.CONTRACTS, declarations.WRITE),
            )
            .with_for_update()
        )
    if row is None:
        raise _not_found()
    return row


def _check_notice(check: Check, notice_days: int) -> None:
    if not 0 <= notice_days <= MAX_NOTICE_DAYS:
        check.fail(
            "noticeDays",
            _("must be from 0 to {max} days", max=MAX_NOTICE_DAYS),
            UserErrorCode.OUT_OF_RANGE,
        )


def _check_term(check: Check, starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on < starts_on:
        check.fail("endsOn", _("must not be before startsOn"), UserErrorCode.OUT_OF_RANGE)


async def create(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    customer_id: int | None,
    owner_id: int | None,
    title: str,
    starts_on: dt.date,
    ends_on: dt.date,
    value: decimal.Decimal,
    currency: str | None,
    auto_renew: bool,
    notice_days: int,
) -> Contract:
    caller = require(context, declarations.WRITE)
    cleaned_title = check.text("title", title, max_length=TITLE_LENGTH)
    code = check_currency(check, "currency", currency or sales_settings.load().currency)
    amount = check_amount(check, "value", value, code)
    _check_term(check, starts_on, ends_on)
    _check_notice(check, notice_days)
    await check_owner(session, context, check, owner_id)
    check.done()
    customer = await writable_customer(
        session, context, customer_id, "customerId", declarations.WRITE
    )
    assert cleaned_title is not None
    assert code is not None
    assert amount is not None
    now = context.now()
    row = Contract(
        number=format_number(NUMBER_PREFIX, await next_value(session, COUNTER)),
        customer_id=customer.id,
        owner_id=owner_id if owner_id is not None else caller.user_id,
        title=cleaned_title,
        starts_on=starts_on,
        ends_on=ends_on,
        value=amount,
        currency=code,
        status="DRAFT",
        auto_renew=auto_renew,
        notice_days=notice_days,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    _record(session, actor_of(context), "created", row, None)
    return row


def _today(context: RequestContext) -> dt.date:
    """The deployment's calendar day (``CRM_TIME_ZONE``), as the contract jobs count it;
    not the caller's own zone."""
    return today_in(context.now(), context.settings.zone)


def _given(value: Any) -> bool:
    return value is not UNSET


async def update(
    session: AsyncSession,
    context: RequestContext,
    check: Check,
    contract_id: int | None,
    version: int,
    changes: dict[str, Any],
) -> Contract:
    """Change the fields in ``changes`` (input names, snake case; absent ones stay).

    Title, owner, autoRenew and noticeDays change while DRAFT or ACTIVE; dates, value and
    currency only while DRAFT. An EXPIRED or TERMINATED contract is not changed."""
    row = await writable_contract(session, context, contract_id)
    require_version(row, version)
    if row.status not in ("DRAFT", "ACTIVE"):
        raise UserErrors.single(
            "id",
            _("a {status} contract cannot be changed", status=row.status),
            UserErrorCode.INVALID_TRANSITION,
        )
    before = snapshot(row)
    for field, name in (
        ("starts_on", "startsOn"),
        ("ends_on", "endsOn"),
        ("value", "value"),
        ("currency", "currency"),
    ):
        if field in changes and row.status != "DRAFT":
            check.fail(
                name,
                _("changes only while the contract is DRAFT; renew it to extend its term"),
                UserErrorCode.BUSINESS_RULE,
            )
    for field, name in (
        ("title", "title"),
        ("starts_on", "startsOn"),
        ("ends_on", "endsOn"),
        ("value", "value"),
        ("auto_renew", "autoRenew"),
        ("notice_days", "noticeDays"),
    ):
        if field in changes and changes[field] is None and field != "title":
            check.fail(name, _("cannot be null"), UserErrorCode.REQUIRED)
    if "title" in changes:
        cleaned = check.text("title", changes["title"], max_length=TITLE_LENGTH)
        if cleaned is not None:
            row.title = cleaned
    currency = row.currency
    if "currency" in changes:
        code = changes["currency"] or sales_settings.load().currency
        currency = check_currency(check, "currency", code) or row.currency
    amount = changes.get("value", row.value)
    if amount is not None:
        amount = check_amount(check, "value", amount, currency)
    starts_on = changes.get("starts_on") or row.starts_on
    ends_on = changes.get("ends_on") or row.ends_on
    if row.status == "DRAFT" and not check.has_error("startsOn") and not check.has_error("endsOn"):
        _check_term(check, starts_on, ends_on)
    if changes.get("notice_days") is not None:
        _check_notice(check, changes["notice_days"])
    if "owner_id" in changes:
        if changes["owner_id"] is None:
            check.fail("ownerId", _("cannot be null"), UserErrorCode.REQUIRED)
        await check_owner(session, context, check, changes["owner_id"])
    check.done()
    if row.status == "DRAFT":
        row.starts_on, row.ends_on, row.currency = starts_on, ends_on, currency
        if amount is not None:
            row.value = amount
    if changes.get("owner_id") is not None:
        row.owner_id = changes["owner_id"]
    if changes.get("auto_renew") is not None:
        row.auto_renew = changes["auto_renew"]
    if changes.get("notice_days") is not None:
        row.notice_days = changes["notice_days"]
    if snapshot(row) != before:
        row.updated_at = context.now()
        await session.flush()
        _record(session, actor_of(context), "updated", row, before)
    return row


async def _step(
    session: AsyncSession,
    context: RequestContext,
    contract_id: int | None,
    version: int,
    allowed: tuple[str, ...],
) -> tuple[Contract, dict[str, Any]]:
    row = await writable_contract(session, context, contract_id)
    require_version(row, version)
    if row.status not in allowed:
        raise UserErrors.single(
            "id",
            _(
                "contract {number} is {status}; this needs it {allowed}",
                number=row.number,
                status=row.status,
                allowed=" or ".join(allowed),
            ),
            UserErrorCode.INVALID_TRANSITION,
        )
    return row, snapshot(row)


async def activate(
    session: AsyncSession, context: RequestContext, contract_id: int | None, version: int
) -> Contract:
    """DRAFT -> ACTIVE, unless its term has already ended."""
    row, before = await _step(session, context, contract_id, version, ("DRAFT",))
    if row.ends_on < _today(context):
        raise UserErrors.single(
            "endsOn",
            _("the contract ended on {ends_on}; change its dates first", ends_on=row.ends_on),
            UserErrorCode.BUSINESS_RULE,
        )
    row.status = "ACTIVE"
    row.updated_at = context.now()
    await session.flush()
    _record(session, actor_of(context), "activated", row, before)
    return row


async def terminate(
    session: AsyncSession, context: RequestContext, contract_id: int | None, version: int
) -> Contract:
    """ACTIVE -> TERMINATED, now."""
    row, before = await _step(session, context, contract_id, version, ("ACTIVE",))
    row.status = "TERMINATED"
    row.terminated_at = row.updated_at = context.now()
    await session.flush()
    _record(session, actor_of(context), "terminated", row, before)
    return row


async def renew(
    session: AsyncSession,
    context: RequestContext,
    contract_id: int | None,
    version: int,
    ends_on: dt.date,
) -> Contract:
    """Extend an ACTIVE or EXPIRED contract to ``ends_on`` (after its end, not in the past);
    it is ACTIVE again, and the renewal reminder is due again for the new end."""
    row, before = await _step(session, context, contract_id, version, ("ACTIVE", "EXPIRED"))
    check = Check()
    if ends_on <= row.ends_on:
        check.fail(
            "endsOn",
            _("must be after the current end, {ends_on}", ends_on=row.ends_on),
            UserErrorCode.OUT_OF_RANGE,
        )
    elif ends_on < _today(context):
        check.fail("endsOn", _("must not be in the past"), UserErrorCode.OUT_OF_RANGE)
    check.done()
    row.ends_on = ends_on
    row.status = "ACTIVE"
    row.renewal_told_for = None
    row.updated_at = context.now()
    await session.flush()
    _record(session, actor_of(context), "renewed", row, before)
    return row
