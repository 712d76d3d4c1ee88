"""The sales plugin's side of core's customer changes, for all its records.

- **Archiving** (and erasing) a customer with open opportunities (at a stage of kind OPEN)
  or ACTIVE contracts is refused, naming how many: they are live business someone must close,
  win, lose, terminate or let expire first.
- **Merging** moves the source's opportunities, contracts and orders to the target (their
  stage history and order lines go with them). The source's ``CustomerValue`` row is
  deleted; the target's is recomputed from its orders (the source's included now) by the
  orders' service and by the daily ``sales.value_tiers`` job.
- **Erasing** blanks the free text that may name or describe a person: an opportunity's
  title, next step and lost-reason text, and a contract's title, become ``ERASED``; an
  opportunity's contact is cleared (core erases the contacts themselves), and the personal
  values of those records' audit events are scrubbed. What stays is business data that
  names nobody: numbers, stages and their history, amounts and currencies, dates, statuses,
  owners (colleagues), competitor names (companies), lost reasons (a fixed list), and
  orders entirely, their external references included: a reference is a key in another
  system (an ERP or a shop), not a person's data, and keeping it lets a feed imported again
  find the order instead of creating it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ERASED,
    Customer,
    Text,
    UserError,
    UserErrorCode,
    UserErrors,
    audit,
    move_customer_rows,
    translator,
)
from plugins.sales import models
from plugins.sales.service import purchases
from plugins.sales.service.contracts import AUDIT_KEEP as CONTRACT_AUDIT_KEEP

_ = translator(__name__)

# The values of an opportunity's audit events that name no person and survive an erasure
# (its title, next step and lost-reason text are scrubbed, and so is any field not named).
OPPORTUNITY_AUDIT_KEEP = frozenset(
    {
        "number",
        "customerId",
        "ownerId",
        "amount",
        "currency",
        "expectedCloseOn",
        "stage",
        "fromStage",
        "toStage",
        "probability",
        "probabilityOverridden",
        "source",
        "competitors",
        "lostReason",
        "closedAt",
    }
)


async def open_opportunity_count(session: AsyncSession, customer_id: int) -> int:
    o, s = models.Opportunity, models.Stage
    return int(
        await session.scalar(
            select(func.count())
            .select_from(o)
            .join(s, s.id == o.stage_id)
            .where(o.customer_id == customer_id, s.kind == "OPEN")
        )
        or 0
    )


async def active_contract_count(session: AsyncSession, customer_id: int) -> int:
    c = models.Contract
    return int(
        await session.scalar(
            select(func.count()).where(c.customer_id == customer_id, c.status == "ACTIVE")
        )
        or 0
    )


def _opportunities_message(number: str, count: int, erasing: bool) -> Text:
    if count == 1:
        if erasing:
            return _(
                "customer {number} has 1 open opportunity; win, lose or move it before the "
                "customer can be erased",
                number=number,
            )
        return _(
            "customer {number} has 1 open opportunity; win, lose or move it before the "
            "customer can be archived",
            number=number,
        )
    if erasing:
        return _(
            "customer {number} has {count} open opportunities; win, lose or move them before "
            "the customer can be erased",
            number=number,
            count=count,
        )
    return _(
        "customer {number} has {count} open opportunities; win, lose or move them before the "
        "customer can be archived",
        number=number,
        count=count,
    )


def _contracts_message(number: str, count: int, erasing: bool) -> Text:
    if count == 1:
        if erasing:
            return _(
                "customer {number} has 1 active contract; terminate it or let it expire before "
                "the customer can be erased",
                number=number,
            )
        return _(
            "customer {number} has 1 active contract; terminate it or let it expire before "
            "the customer can be archived",
            number=number,
        )
    if erasing:
        return _(
            "customer {number} has {count} active contracts; terminate them or let them expire "
            "before the customer can be erased",
            number=number,
            count=count,
        )
    return _(
        "customer {number} has {count} active contracts; terminate them or let them expire "
        "before the customer can be archived",
        number=number,
        count=count,
    )


async def refuse_archive(session: AsyncSession, customer: Customer, erasing: bool) -> None:
    """Raise ``UserErrors`` (field ``id``, one per kind of live record) when the customer has
    open opportunities or ACTIVE contracts."""
    errors = []
    opportunities = await open_opportunity_count(session, customer.id)
    if opportunities:
        message = _opportunities_message(customer.number, opportunities, erasing)
        errors.append(UserError(field="id", message=message, code=UserErrorCode.BUSINESS_RULE))
    contracts = await active_contract_count(session, customer.id)
    if contracts:
        message = _contracts_message(customer.number, contracts, erasing)
        errors.append(UserError(field="id", message=message, code=UserErrorCode.BUSINESS_RULE))
    if errors:
        raise UserErrors(errors)


async def merge(
    session: AsyncSession,
    source_id: int,
    target_id: int,
    dry_run: bool,
    now: dt.datetime,
    zone: ZoneInfo,
) -> Mapping[str, int]:
    """Move (or, on a dry run, count) the source's sales records to the target."""
    moved = {
        "opportunities": await move_customer_rows(
            session, models.Opportunity.customer_id, source_id, target_id, dry_run
        ),
        "contracts": await move_customer_rows(
            session, models.Contract.customer_id, source_id, target_id, dry_run
        ),
        "orders": await move_customer_rows(
            session, models.Order.customer_id, source_id, target_id, dry_run
        ),
    }
    if not dry_run:
        # The source's spend now counts for the target: its own row goes (the source is
        # archived and has no orders left); the target's is recomputed from its orders.
        await session.execute(
            delete(models.CustomerValue).where(models.CustomerValue.customer_id == source_id)
        )
        await purchases.refresh_values(session, [target_id], now, zone)
    return moved


async def erase(session: AsyncSession, customer_id: int) -> None:
    """Blank the free text of the customer's opportunities and contracts (and the personal
    values of their audit events); see the module's description for what stays and why."""
    o, c = models.Opportunity, models.Contract
    opportunity_ids = (
        await session.scalars(select(o.id).where(o.customer_id == customer_id))
    ).all()
    contract_ids = (await session.scalars(select(c.id).where(c.customer_id == customer_id))).all()
    await audit.scrub(session, "Opportunity", opportunity_ids, OPPORTUNITY_AUDIT_KEEP)
    await audit.scrub(session, "Contract", contract_ids, CONTRACT_AUDIT_KEEP)
    theirs = (o.customer_id == customer_id,)
    for values, condition in (
        ({"title": ERASED, "contact_id": None, "version": o.version + 1}, ()),
        ({"next_step": ERASED}, (o.next_step.is_not(None),)),
        ({"lost_reason_text": ERASED}, (o.lost_reason_text.is_not(None),)),
    ):
        await session.execute(
            update(o)
            .where(*theirs, *condition)
            .values(values)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(c)
        .where(c.customer_id == customer_id)
        .values(title=ERASED, version=c.version + 1)
        .execution_options(synchronize_session=False)
    )
