"""Win/loss encounters: a deal met against a competitor and how it ended for us.

They come from the sales plugin's ``crm_sales_opportunity_closed`` hook (source SALES), one
per closed opportunity and competitor named, written in the transaction of the close so
they commit or roll back with it; or they are entered by hand (source MANUAL), as they are
when the sales plugin is disabled. The opportunity is read by its attributes only (``id``,
``customer_id``, ``owner_id``, ``amount``, ``currency``, ``lost_reason``,
``lost_reason_text``, ``closed_at``): the sales plugin is never imported.

An encounter goes with its owner and its customer (the ``competitor.encounters`` policy).
It is read with ``competitors:read`` where the caller may also read its customer, or owns
it (:func:`readable`); written with ``competitors:write`` within its scope over a customer
the caller may read (:func:`.customers.customer_to_write`); deleted with
``competitors:manage`` by one who may read it.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Check,
    RequestContext,
    Scope,
    User,
    UserErrorCode,
    actor_of,
    audit,
    check_amount,
    check_currency,
    customer_visible,
    emit_event,
    global_id,
    not_found,
    quantize_amount,
    require,
    translator,
)
from plugins.competitor import declarations
from plugins.competitor.enums import (
    CompetitorStatus,
    EncounterOutcome,
    EncounterReason,
    EncounterSource,
    ThreatLevel,
)
from plugins.competitor.models import Competitor, Encounter
from plugins.competitor.service.calendar import day_of, today
from plugins.competitor.service.customers import customer_to_write
from plugins.competitor.service.profiles import MAX_NAME, find_competitor, name_key

_ = translator(__name__)

ENTITY = "CompetitorEncounter"
EVENT = "competitor.encounter_recorded"
MAX_REASON_TEXT = 2000
EARLIEST = dt.date(1900, 1, 1)
"""The earliest day an encounter may have occurred on (as the market periods): the win/loss
trend lists every quarter from the first encounter to the last."""
SALES_ACTOR = "sales"
REASONS = frozenset(reason.value for reason in EncounterReason)


def readable(context: RequestContext) -> ColumnElement[bool]:
    """The encounters the caller may read: ``competitors:read`` over them (the
    ``competitor.encounters`` policy), of a customer the caller may read or owned by the
    caller."""
    caller = context.caller
    own = Encounter.owner_id == caller.user_id if caller is not None else false()
    return and_(
        declarations.visible(context, declarations.ENCOUNTERS, declarations.READ),
        or_(customer_visible(context, Encounter.customer_id), own),
    )


def snapshot(row: Encounter) -> dict[str, Any]:
    return {
        "competitorId": global_id("Competitor", row.competitor_id),
        "customerId": global_id("Customer", row.customer_id),
        "opportunityId": global_id("Opportunity", row.opportunity_id),
        "ownerId": global_id("User", row.owner_id),
        "source": row.source,
        "outcome": row.outcome,
        "reason": row.reason,
        "reasonText": row.reason_text,
        "amount": (
            str(quantize_amount(row.amount, row.currency))
            if row.amount is not None and row.currency is not None
            else None
        ),
        "currency": row.currency,
        "occurredOn": row.occurred_on,
    }


async def _announce(session: AsyncSession, row: Encounter, now: dt.datetime) -> None:
    """The webhook ``competitor.encounter_recorded``: ids, outcome and day, no free text."""
    await emit_event(
        session,
        EVENT,
        {
            "encounter": global_id("CompetitorEncounter", row.id),
            "competitor": global_id("Competitor", row.competitor_id),
            "customer": global_id("Customer", row.customer_id),
            "opportunity": global_id("Opportunity", row.opportunity_id),
            "source": row.source,
            "outcome": row.outcome,
            "occurredOn": row.occurred_on.isoformat(),
        },
        now=now,
    )


async def _check_owner(
    session: AsyncSession, context: RequestContext, check: Check, owner_id: int
) -> None:
    """An encounter's owner is an active user the caller's ``competitors:write`` scope
    reaches (OWN: only the caller)."""
    caller = require(context, declarations.WRITE)
    statement = select(User.id).where(User.id == owner_id, User.is_active.is_(True))
    scope = caller.scope(declarations.WRITE)
    if scope is not None and scope is not Scope.ALL:
        statement = statement.where(User.id.in_(context.owner_ids(scope)))
    if await session.scalar(statement) is None:
        check.fail(
            "ownerId",
            _("is not an active user you may record encounters for"),
            UserErrorCode.INVALID,
        )


def _check_money(
    check: Check, amount: decimal.Decimal | None, currency: str | None
) -> tuple[decimal.Decimal | None, str | None]:
    """An amount and its currency, or neither."""
    if amount is None and currency is None:
        return None, None
    if amount is None:
        check.fail("amount", _("is required with a currency"), UserErrorCode.REQUIRED)
        return None, None
    if currency is None:
        check.fail("currency", _("is required with an amount"), UserErrorCode.REQUIRED)
        return None, None
    code = check_currency(check, "currency", currency)
    if code is None:
        return None, None
    return check_amount(check, "amount", amount, code), code


async def record_encounter(
    session: AsyncSession, context: RequestContext, values: Mapping[str, Any]
) -> Encounter:
    """Enter a deal met against a competitor by hand (``recordEncounter``)."""
    caller = require(context, declarations.WRITE)
    customer = await customer_to_write(session, context, values["customer_id"], "customerId")
    competitor = await find_competitor(session, values["competitor_id"], "input.competitorId")
    check = Check()
    day = today(context)
    occurred_on: dt.date = values.get("occurred_on") or day
    if occurred_on > day:
        check.fail("occurredOn", _("must not be in the future"), UserErrorCode.OUT_OF_RANGE)
    elif occurred_on < EARLIEST:
        check.fail(
            "occurredOn",
            _("must not be before {day}", day=EARLIEST.isoformat()),
            UserErrorCode.OUT_OF_RANGE,
        )
    outcome: str = values["outcome"]
    reason: str | None = values.get("reason")
    text = check.text(
        "reasonText", values.get("reason_text"), max_length=MAX_REASON_TEXT, required=False
    )
    if outcome == EncounterOutcome.LOST.value and reason is None:
        check.fail("reason", _("is required for a lost deal"), UserErrorCode.REQUIRED)
    elif (
        reason == EncounterReason.OTHER.value and text is None and not check.has_error("reasonText")
    ):
        check.fail("reasonText", _("is required with reason OTHER"), UserErrorCode.REQUIRED)
    currency = (values.get("currency") or "").strip() or None
    amount, currency = _check_money(check, values.get("amount"), currency)
    owner_id: int = values.get("owner_id") or caller.user_id
    await _check_owner(session, context, check, owner_id)
    check.done()
    now = context.now()
    row = Encounter(
        competitor_id=competitor.id,
        customer_id=customer.id,
        opportunity_id=None,
        owner_id=owner_id,
        source=EncounterSource.MANUAL.value,
        outcome=outcome,
        reason=reason,
        reason_text=text,
        amount=amount,
        currency=currency,
        occurred_on=occurred_on,
        created_by_id=caller.user_id,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "competitor.encounter.recorded",
        ENTITY,
        row.id,
        audit.created(snapshot(row)),
    )
    await _announce(session, row, now)
    return row


async def delete_encounter(
    session: AsyncSession, context: RequestContext, encounter_id: int | None
) -> Encounter:
    """Delete an encounter recorded wrongly (``competitors:manage`` over it, and one the
    caller may read)."""
    require(context, declarations.MANAGE)
    row = None
    if encounter_id is not None:
        row = await session.scalar(
            select(Encounter)
            .where(
                Encounter.id == encounter_id,
                declarations.visible(context, declarations.ENCOUNTERS, declarations.MANAGE),
                readable(context),
            )
            .with_for_update()
        )
    if row is None:
        raise not_found("input.id", _("no encounter with this id that you may delete"))
    before = snapshot(row)
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "competitor.encounter.deleted",
        ENTITY,
        row.id,
        audit.diff(before, {}),
    )
    return row


# --------------------------------------------------------------------------- the sales hook


def _names(competitors: Sequence[str]) -> dict[str, str]:
    """Name key (:func:`.profiles.name_key`) -> the name as entered (stripped), the first of
    each key. A name is cut to what a profile holds: ``MAX_NAME`` characters, its key too (a
    case-folded name may be longer than the name: ``ß`` folds to ``ss``)."""
    found: dict[str, str] = {}
    for value in competitors:
        name = (value or "").strip()[:MAX_NAME].strip()
        while len(name_key(name)) > MAX_NAME:
            name = name[:-1].rstrip()
        key = name_key(name)
        if key and key not in found:
            found[key] = name
    return found


async def _profiles(
    session: AsyncSession,
    names: Mapping[str, str],
    context: RequestContext | None,
    now: dt.datetime,
) -> dict[str, Competitor]:
    """The profile of each name key, created (WATCHING, threat MEDIUM) when none matches.
    Two closes creating one profile at once make one: the loser of the unique name key
    reads the winner's."""
    found = {
        row.name_key: row
        for row in (
            await session.scalars(select(Competitor).where(Competitor.name_key.in_(list(names))))
        ).all()
    }
    for key, name in names.items():
        if key in found:
            continue
        row = Competitor(
            name=name,
            name_key=key,
            status=CompetitorStatus.WATCHING.value,
            threat_level=ThreatLevel.MEDIUM.value,
            created_by_id=context.caller.user_id if context and context.caller else None,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError:
            winner = await session.scalar(select(Competitor).where(Competitor.name_key == key))
            if winner is None:
                raise
            found[key] = winner
            continue
        audit.record(
            session,
            _actor(context, now),
            "competitor.created",
            "Competitor",
            row.id,
            audit.created(
                {
                    "name": row.name,
                    "status": row.status,
                    "threatLevel": row.threat_level,
                    "source": "sales",
                }
            ),
        )
        found[key] = row
    return found


def _actor(context: RequestContext | None, now: dt.datetime) -> audit.Actor:
    return actor_of(context) if context is not None else audit.Actor(label=SALES_ACTOR, at=now)


def _closed_on(opportunity: Any, context: RequestContext | None) -> dt.date:
    """The day of the close in the deployment's zone (UTC without a request)."""
    closed_at: dt.datetime = opportunity.closed_at
    if context is not None:
        return day_of(closed_at, context.settings)
    return closed_at.astimezone(dt.UTC).date()


async def on_opportunity_closed(
    session: AsyncSession,
    opportunity: Any,
    won: bool,
    competitors: Sequence[str],
    context: RequestContext | None,
) -> None:
    """One SALES encounter per competitor the closed opportunity names: created, or (for an
    opportunity reopened and closed again) updated, the outcome included; one for a
    competitor no longer named is removed."""
    now = context.now() if context is not None else opportunity.closed_at
    actor = _actor(context, now)
    names = _names(competitors)
    profiles = await _profiles(session, names, context, now)
    existing = {
        row.competitor_id: row
        for row in (
            await session.scalars(
                select(Encounter)
                .where(Encounter.opportunity_id == opportunity.id)
                .with_for_update()
            )
        ).all()
    }
    outcome = EncounterOutcome.WON.value if won else EncounterOutcome.LOST.value
    reason = None
    if not won and opportunity.lost_reason is not None:
        reason = opportunity.lost_reason if opportunity.lost_reason in REASONS else "OTHER"
    values = {
        "customer_id": opportunity.customer_id,
        "owner_id": opportunity.owner_id,
        "source": EncounterSource.SALES.value,
        "outcome": outcome,
        "reason": reason,
        "reason_text": None if won else opportunity.lost_reason_text,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "occurred_on": _closed_on(opportunity, context),
    }
    created_by = context.caller.user_id if context and context.caller else None
    kept: set[int] = set()
    for key in names:  # in the order the opportunity names them
        competitor = profiles[key]
        kept.add(competitor.id)
        row = existing.get(competitor.id)
        if row is None:
            row = Encounter(
                competitor_id=competitor.id,
                opportunity_id=opportunity.id,
                created_by_id=created_by,
                created_at=now,
                **values,
            )
            session.add(row)
            await session.flush()
            action, changes = "competitor.encounter.recorded", audit.created(snapshot(row))
        else:
            before = snapshot(row)
            for name, value in values.items():
                setattr(row, name, value)
            await session.flush()
            action, changes = "competitor.encounter.updated", audit.diff(before, snapshot(row))
        audit.record(session, actor, action, ENTITY, row.id, changes)
        await _announce(session, row, now)
    for competitor_id, row in existing.items():
        if competitor_id in kept:
            continue
        before = snapshot(row)
        await session.delete(row)
        await session.flush()
        audit.record(
            session, actor, "competitor.encounter.deleted", ENTITY, row.id, audit.diff(before, {})
        )
