"""Opportunities: creating and changing them, moving them through the pipeline's stages
(each move kept as a :class:`StageChange`), closing them as WON or LOST (with the reason
where it applies) and reopening closed ones (``sales:manage`` only)."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    Contact,
    RequestContext,
    Scope,
    User,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    call_in_turn,
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
from plugins.sales import declarations, settings, webhooks
from plugins.sales.models import Opportunity, Stage, StageChange
from plugins.sales.service.pipeline import OPEN, WON, stage_by_key, stages

_ = translator(__name__)

COUNTER = "sales_opportunity"
NUMBER_PREFIX = "O"
MAX_COMPETITORS = 20


def snapshot(row: Opportunity, stage_key: str | None = None) -> dict[str, Any]:
    values = {
        "number": row.number,
        "customerId": global_id("Customer", row.customer_id),
        "contactId": global_id("Contact", row.contact_id),
        "ownerId": global_id("User", row.owner_id),
        "title": row.title,
        "amount": str(quantize_amount(row.amount, row.currency)),
        "currency": row.currency,
        "expectedCloseOn": row.expected_close_on,
        "probability": row.probability_override,
        "source": row.source,
        "nextStep": row.next_step,
        "competitors": list(row.competitors or []),
        "lostReason": row.lost_reason,
        "lostReasonText": row.lost_reason_text,
    }
    if stage_key is not None:
        values["stage"] = stage_key
    return values


def _check_probability(check: Check, value: int | None) -> None:
    if value is not None and not 0 <= value <= 100:
        check.fail("probability", _("must be from 0 to 100"), UserErrorCode.OUT_OF_RANGE)


def _check_competitors(check: Check, values: Sequence[str] | None) -> list[str]:
    names: list[str] = []
    for index, value in enumerate(values or []):
        name = check.text(f"competitors.{index}", value, max_length=100)
        if name is not None and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > MAX_COMPETITORS:
        check.fail(
            "competitors",
            _("names at most {max} competitors", max=MAX_COMPETITORS),
            UserErrorCode.OUT_OF_RANGE,
        )
    return names


async def _check_contact(
    session: AsyncSession, check: Check, contact_id: int | None, customer_id: int
) -> None:
    if contact_id is None or check.has_error("contactId"):
        return
    found = await session.scalar(
        select(Contact.id).where(Contact.id == contact_id, Contact.customer_id == customer_id)
    )
    if found is None:
        check.fail("contactId", _("is not a contact of this customer"), UserErrorCode.INVALID)


async def check_owner(
    session: AsyncSession, context: RequestContext, check: Check, owner_id: int | None
) -> None:
    """An owner (of an opportunity or a contract) must be an active user the caller's
    ``sales:write`` scope reaches."""
    if owner_id is None or check.has_error("ownerId"):
        return
    caller = require(context, declarations.WRITE)
    statement = select(User.id).where(User.id == owner_id, User.is_active.is_(True))
    scope = caller.scope(declarations.WRITE)
    if scope is not None and scope is not Scope.ALL:
        statement = statement.where(User.id.in_(context.owner_ids(scope)))
    if await session.scalar(statement) is None:
        check.fail(
            "ownerId",
            _("is not an active user you may make the owner"),
            UserErrorCode.INVALID,
        )


def _change(
    session: AsyncSession,
    row: Opportunity,
    from_stage: Stage | None,
    to_stage: Stage,
    actor_id: int | None,
    now: dt.datetime,
) -> None:
    session.add(
        StageChange(
            opportunity_id=row.id,
            from_stage_id=from_stage.id if from_stage is not None else None,
            to_stage_id=to_stage.id,
            actor_id=actor_id,
            changed_at=now,
        )
    )


async def _target_stage(session: AsyncSession, key: str | None, *, open_only: bool) -> Stage:
    stage = await stage_by_key(session, key)
    if stage is None:
        raise UserErrors.single(
            "stage", _("no stage has key {key}", key=(key or "").strip()), UserErrorCode.INVALID
        )
    if not stage.active:
        raise UserErrors.single(
            "stage", _("stage {key} is no longer in use", key=stage.key), UserErrorCode.INVALID
        )
    if open_only and stage.kind != OPEN:
        raise UserErrors.single(
            "stage",
            _("must be an OPEN stage, not {key}", key=stage.key),
            UserErrorCode.INVALID_TRANSITION,
        )
    return stage


async def writable_opportunity(
    session: AsyncSession,
    context: RequestContext,
    opportunity_id: int | None,
    permission: str = declarations.WRITE,
) -> Opportunity:
    require(context, permission)
    row = None
    if opportunity_id is not None:
        row = await session.scalar(
            select(Opportunity)
            .where(
                Opportunity.id == opportunity_id,
                declarations.visible(context, declarations.OPPORTUNITIES, permission),
            )
            .with_for_update()
        )
    if row is None:
        raise not_found("input.id", _("no opportunity with this id that you may change"))
    return row


async def create_opportunity(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    values: Mapping[str, Any],
) -> Opportunity:
    """``values``: contact_id, owner_id, title, amount, currency, expected_close_on, stage,
    probability, source, next_step, competitors (the input's fields)."""
    caller = require(context, declarations.WRITE)
    customer = await writable_customer(
        session, context, customer_id, "customerId", declarations.WRITE
    )
    check = Check()
    owner_id = values.get("owner_id") or caller.user_id
    await check_owner(session, context, check, owner_id)
    await _check_contact(session, check, values.get("contact_id"), customer.id)
    title = check.text("title", values.get("title"), max_length=200)
    code = check_currency(check, "currency", values.get("currency") or settings.load().currency)
    amount = check_amount(check, "amount", values.get("amount"), code)
    _check_probability(check, values.get("probability"))
    next_step = check.text("nextStep", values.get("next_step"), max_length=200, required=False)
    competitors = _check_competitors(check, values.get("competitors"))
    stage = None
    if values.get("stage"):
        stage = await _target_stage(session, values["stage"], open_only=True)
    else:
        stage = next((s for s in await stages(session) if s.kind == OPEN and s.active), None)
        if stage is None:  # the pipeline keeps one; a damaged one is refused, not a 500
            check.fail(
                "stage",
                _("no OPEN stage of the pipeline is active; ask a sales manager to activate one"),
                UserErrorCode.BUSINESS_RULE,
            )
    check.done()
    assert stage is not None
    assert title is not None
    assert code is not None
    assert amount is not None
    now = context.now()
    row = Opportunity(
        number=format_number(NUMBER_PREFIX, await next_value(session, COUNTER)),
        customer_id=customer.id,
        contact_id=values.get("contact_id"),
        owner_id=owner_id,
        title=title,
        amount=amount,
        currency=code,
        expected_close_on=values.get("expected_close_on"),
        stage_id=stage.id,
        probability_override=values.get("probability"),
        source=values.get("source"),
        next_step=next_step,
        competitors=competitors,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    _change(session, row, None, stage, caller.user_id, now)
    audit.record(
        session,
        actor_of(context),
        "sales.opportunity.created",
        "Opportunity",
        row.id,
        audit.created(snapshot(row, stage.key)),
    )
    return row


async def _check_closed_figures(
    session: AsyncSession, check: Check, row: Opportunity, changes: Mapping[str, Any], *new: Any
) -> None:
    """A won or lost opportunity keeps the amount, currency and expected close date it closed
    with (``new``: those after the update); reopening it is the way to change them."""
    stage = await session.get(Stage, row.stage_id)
    if stage is None or stage.kind == OPEN:
        return
    message = _("the opportunity is {kind}; reopen it to change this", kind=stage.kind)
    old = (row.amount, row.currency, row.expected_close_on)
    for name, before, after in zip(
        ("amount", "currency", "expectedCloseOn"), old, new, strict=True
    ):
        if after != before and not check.has_error(name):
            check.fail(name, message, UserErrorCode.INVALID_TRANSITION)


async def update_opportunity(
    session: AsyncSession,
    context: RequestContext,
    opportunity_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> Opportunity:
    """Change the fields named in ``changes`` (attribute name -> new value); not the stage,
    nor the amount, currency or expected close date of a won or lost opportunity."""
    row = await writable_opportunity(session, context, opportunity_id)
    require_version(row, version)
    before = snapshot(row)
    check = Check()
    if "owner_id" in changes:
        if changes["owner_id"] is None:
            check.fail("ownerId", _("is required"), UserErrorCode.REQUIRED)
        await check_owner(session, context, check, changes["owner_id"])
    if "contact_id" in changes:
        await _check_contact(session, check, changes["contact_id"], row.customer_id)
    title = row.title
    if "title" in changes:
        title = check.text("title", changes["title"], max_length=200) or row.title
    code: str | None = row.currency
    if "currency" in changes:
        code = check_currency(check, "currency", changes["currency"])
    amount: decimal.Decimal | None = row.amount
    if "amount" in changes or "currency" in changes:
        amount = check_amount(check, "amount", changes.get("amount", row.amount), code)
    if "probability" in changes:
        _check_probability(check, changes["probability"])
    close_on = changes.get("expected_close_on", row.expected_close_on)
    await _check_closed_figures(session, check, row, changes, amount, code, close_on)
    next_step = row.next_step
    if "next_step" in changes:
        next_step = check.text("nextStep", changes["next_step"], max_length=200, required=False)
    competitors = list(row.competitors or [])
    if "competitors" in changes:
        competitors = _check_competitors(check, changes["competitors"])
        if not competitors and row.lost_reason == "COMPETITOR":
            check.fail(
                "competitors",
                _("an opportunity lost to a competitor names at least one"),
                UserErrorCode.REQUIRED,
            )
    check.done()
    assert code is not None
    assert amount is not None
    row.title, row.currency, row.amount = title, code, amount
    row.next_step, row.competitors = next_step, competitors
    for name in ("owner_id", "contact_id", "expected_close_on", "source"):
        if name in changes:
            setattr(row, name, changes[name])
    if "probability" in changes:
        row.probability_override = changes["probability"]
    after = snapshot(row)
    if after != before:
        row.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "sales.opportunity.updated",
            "Opportunity",
            row.id,
            audit.diff(before, after),
        )
    return row


async def move_opportunity(
    session: AsyncSession,
    context: RequestContext,
    opportunity_id: int | None,
    version: int,
    stage_key: str,
    lost_reason: str | None,
    lost_reason_text: str | None,
    competitors: Sequence[str] | None,
) -> Opportunity:
    """Move an open opportunity to another stage; WON and LOST close it."""
    caller = require(context, declarations.WRITE)
    row = await writable_opportunity(session, context, opportunity_id)
    require_version(row, version)
    every = {s.id: s for s in await stages(session)}
    current = every[row.stage_id]
    if row.closed_at is not None or current.kind != OPEN:
        raise UserErrors.single(
            "stage",
            _(
                "opportunity {number} is closed ({key}); reopening it is for sales managers",
                number=row.number,
                key=current.key,
            ),
            UserErrorCode.INVALID_TRANSITION,
        )
    target = await _target_stage(session, stage_key, open_only=False)
    if target.id == current.id:
        raise UserErrors.single(
            "stage", _("the opportunity is already at {key}", key=target.key), UserErrorCode.INVALID
        )
    check = Check()
    names = list(row.competitors or [])
    if competitors is not None:
        names = _check_competitors(check, competitors)
    text = check.text("lostReasonText", lost_reason_text, max_length=2000, required=False)
    if target.kind == "LOST":
        if lost_reason is None:
            check.fail(
                "lostReason", _("is required to lose an opportunity"), UserErrorCode.REQUIRED
            )
        elif lost_reason == "OTHER" and text is None and not check.has_error("lostReasonText"):
            check.fail(
                "lostReasonText", _("is required with lost reason OTHER"), UserErrorCode.REQUIRED
            )
        elif lost_reason == "COMPETITOR" and not names and not check.has_error("competitors"):
            check.fail(
                "competitors",
                _("name at least one competitor the opportunity was lost to"),
                UserErrorCode.REQUIRED,
            )
    else:
        for name, given in (("lostReason", lost_reason), ("lostReasonText", text)):
            if given is not None:
                message = _("is given only to move to {key}", key="LOST")
                check.fail(name, message, UserErrorCode.INVALID)
    check.done()
    now = context.now()
    before = snapshot(row, current.key)
    row.stage_id, row.competitors, row.updated_at = target.id, names, now
    if target.kind != OPEN:
        row.closed_at = now
        row.lost_reason = lost_reason if target.kind == "LOST" else None
        row.lost_reason_text = text if target.kind == "LOST" else None
    await session.flush()
    _change(session, row, current, target, caller.user_id, now)
    audit.record(
        session,
        actor_of(context),
        "sales.opportunity.moved",
        "Opportunity",
        row.id,
        audit.diff(before, snapshot(row, target.key)),
    )
    if target.kind != OPEN:
        won = target.kind == WON
        await call_in_turn(
            context.pm.hook.crm_sales_opportunity_closed,
            session=session,
            opportunity=row,
            won=won,
            competitors=list(names),
            context=context,
        )
        await webhooks.opportunity_closed(session, row, target.key, won, now)
    return row


async def reopen_opportunity(
    session: AsyncSession,
    context: RequestContext,
    opportunity_id: int | None,
    version: int,
    stage_key: str,
) -> Opportunity:
    """Reopen a won or lost opportunity at an OPEN stage (``sales:manage`` only); the close
    time and the lost reason are cleared."""
    caller = require(context, declarations.MANAGE)
    row = await writable_opportunity(session, context, opportunity_id, declarations.MANAGE)
    require_version(row, version)
    every = {s.id: s for s in await stages(session)}
    current = every[row.stage_id]
    if row.closed_at is None and current.kind == OPEN:
        raise UserErrors.single(
            "id",
            _(
                "opportunity {number} is open; only a won or lost one is reopened",
                number=row.number,
            ),
            UserErrorCode.INVALID_TRANSITION,
        )
    target = await _target_stage(session, stage_key, open_only=True)
    now = context.now()
    before = snapshot(row, current.key)
    row.stage_id, row.closed_at, row.updated_at = target.id, None, now
    row.lost_reason = row.lost_reason_text = None
    await session.flush()
    _change(session, row, current, target, caller.user_id, now)
    audit.record(
        session,
        actor_of(context),
        "sales.opportunity.reopened",
        "Opportunity",
        row.id,
        audit.diff(before, snapshot(row, target.key)),
    )
    return row
