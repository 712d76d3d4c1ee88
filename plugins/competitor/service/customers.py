"""Which competitor each customer uses: a link per customer and competitor (the product,
since when, when their contract ends, and the day they stopped using it), and the plugin's
part in merging and erasing customers.

A link goes with its customer. It is read by those who may read the customer (and hold
``competitors:read``): :func:`readable`. It is written with ``competitors:write`` within
its scope over the customer (a sales representative: only the customers they own), and only
where it is read too (:func:`customer_to_write`): nobody changes a link they could not see.
Never on an archived or erased customer. A customer has at most one current link (not
ended) per competitor.

Merge: the source's links move to the target; a current link to a competitor the target
already uses is ended on the day of the merge rather than doubled. Its encounters move too.
Erase: the links' notes and the encounters' reason texts become ``ERASED`` and the audit
events of both keep their figures only; dates, outcomes and amounts stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    ERASED,
    Check,
    Customer,
    RequestContext,
    UserErrorCode,
    UserErrors,
    actor_of,
    audit,
    customer_visible,
    global_id,
    move_customer_rows,
    not_found,
    require,
    require_version,
    translator,
    writable_customer,
)
from plugins.competitor import declarations
from plugins.competitor.models import Competitor, CustomerCompetitor, Encounter, Product
from plugins.competitor.service.calendar import today
from plugins.competitor.service.profiles import find_competitor

_ = translator(__name__)

ENTITY = "CustomerCompetitor"
ENCOUNTER_ENTITY = "CompetitorEncounter"
MAX_NOTES = 2000
LINK_AUDIT_KEEP = frozenset(
    {"customerId", "competitorId", "productId", "since", "contractEndsOn", "endedOn"}
)
"""What a link's audit events keep on erasure: everything but its notes."""
ENCOUNTER_AUDIT_KEEP = frozenset(
    {
        "competitorId",
        "customerId",
        "opportunityId",
        "ownerId",
        "source",
        "outcome",
        "reason",
        "amount",
        "currency",
        "occurredOn",
    }
)
"""What an encounter's audit events keep on erasure: everything but its reason text."""


def readable(context: RequestContext) -> ColumnElement[bool]:
    """The links the caller may read: ``competitors:read`` over the link's customer, and
    the customer one the caller may read."""
    return and_(
        declarations.visible(context, declarations.CUSTOMERS, declarations.READ),
        customer_visible(context, CustomerCompetitor.customer_id),
    )


async def customer_to_write(
    session: AsyncSession, context: RequestContext, customer_id: int | None, field: str
) -> Customer:
    """The customer a link or an encounter is written for: one the caller may read and may
    change with ``competitors:write`` (locked; not archived nor erased). NOT_FOUND naming
    ``input.<field>`` otherwise, the same whether it does not exist or is out of reach."""
    seen = None
    if customer_id is not None:
        seen = await session.scalar(
            select(Customer.id).where(
                Customer.id == customer_id, customer_visible(context, Customer.id)
            )
        )
    if seen is None:
        raise not_found(f"input.{field}", _("no customer with this id that you may change"))
    return await writable_customer(session, context, customer_id, field, declarations.WRITE)


def snapshot(row: CustomerCompetitor) -> dict[str, Any]:
    return {
        "customerId": global_id("Customer", row.customer_id),
        "competitorId": global_id("Competitor", row.competitor_id),
        "productId": global_id("CompetitorProduct", row.product_id),
        "since": row.since,
        "contractEndsOn": row.contract_ends_on,
        "endedOn": row.ended_on,
        "notes": row.notes,
    }


def _not_found(field: str = "id") -> Exception:
    return not_found(
        f"input.{field}", _("no customer competitor link with this id that you may change")
    )


async def _check_product(
    session: AsyncSession, check: Check, product_id: int | None, competitor: Competitor
) -> None:
    """A product must be one of ``competitor``'s."""
    if product_id is None:
        return
    product = await session.get(Product, product_id)
    if product is None:
        raise not_found("input.productId", _("no competitor product with this id"))
    if product.competitor_id != competitor.id:
        check.fail(
            "productId",
            _("is not a product of {competitor}", competitor=competitor.name),
            UserErrorCode.INVALID,
        )


def _check_dates(check: Check, since: dt.date | None, ends_on: dt.date | None) -> None:
    if since is not None and ends_on is not None and ends_on < since:
        check.fail(
            "contractEndsOn",
            _("must not be before since ({since})", since=since.isoformat()),
            UserErrorCode.OUT_OF_RANGE,
        )


async def _current_link(
    session: AsyncSession, customer_id: int, competitor_id: int
) -> CustomerCompetitor | None:
    found: CustomerCompetitor | None = await session.scalar(
        select(CustomerCompetitor)
        .where(
            CustomerCompetitor.customer_id == customer_id,
            CustomerCompetitor.competitor_id == competitor_id,
            CustomerCompetitor.ended_on.is_(None),
        )
        .limit(1)
    )
    return found


async def add_link(
    session: AsyncSession, context: RequestContext, values: Mapping[str, Any]
) -> CustomerCompetitor:
    """Record that a customer uses a competitor (``addCustomerCompetitor``)."""
    require(context, declarations.WRITE)
    customer = await customer_to_write(session, context, values["customer_id"], "customerId")
    competitor = await find_competitor(session, values["competitor_id"], "input.competitorId")
    check = Check()
    await _check_product(session, check, values.get("product_id"), competitor)
    since, ends_on = values.get("since"), values.get("contract_ends_on")
    _check_dates(check, since, ends_on)
    notes = check.text("notes", values.get("notes"), max_length=MAX_NOTES, required=False)
    existing = await _current_link(session, customer.id, competitor.id)
    if existing is not None:
        check.fail(
            "competitorId",
            _(
                "customer {number} already uses {competitor}: change or end that link",
                number=customer.number,
                competitor=competitor.name,
            ),
            UserErrorCode.DUPLICATE,
        )
    check.done()
    now = context.now()
    row = CustomerCompetitor(
        customer_id=customer.id,
        competitor_id=competitor.id,
        product_id=values.get("product_id"),
        since=since,
        contract_ends_on=ends_on,
        notes=notes,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "competitor.customer_link.added",
        ENTITY,
        row.id,
        audit.created(snapshot(row)),
    )
    return row


async def writable_link(
    session: AsyncSession, context: RequestContext, link_id: int | None
) -> CustomerCompetitor:
    """A link the caller may read and change, its customer and then itself locked; NOT_FOUND
    naming ``input.id`` otherwise. An archived customer's links are refused (CONFLICT)."""
    require(context, declarations.WRITE)
    reachable = and_(
        declarations.visible(context, declarations.CUSTOMERS, declarations.WRITE),
        readable(context),
    )
    customer_id = None
    if link_id is not None:
        customer_id = await session.scalar(
            select(CustomerCompetitor.customer_id).where(
                CustomerCompetitor.id == link_id, reachable
            )
        )
    if customer_id is None:
        raise _not_found()
    await writable_customer(session, context, customer_id, "id", declarations.WRITE)
    row: CustomerCompetitor | None = await session.scalar(
        select(CustomerCompetitor)
        .where(CustomerCompetitor.id == link_id, reachable)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise _not_found()
    return row


async def update_link(
    session: AsyncSession,
    context: RequestContext,
    link_id: int | None,
    version: int,
    changes: Mapping[str, Any],
) -> CustomerCompetitor:
    """Change a link's product, dates or notes (``updateCustomerCompetitor``); a new
    contract end re-arms the reminder."""
    row = await writable_link(session, context, link_id)
    require_version(row, version)
    before = snapshot(row)
    check = Check()
    if changes.get("product_id") is not None:
        competitor = await find_competitor(session, row.competitor_id, "input.id")
        await _check_product(session, check, changes["product_id"], competitor)
    since = changes.get("since", row.since)
    ends_on = changes.get("contract_ends_on", row.contract_ends_on)
    _check_dates(check, since, ends_on)
    notes = row.notes
    if "notes" in changes:
        notes = check.text("notes", changes["notes"], max_length=MAX_NOTES, required=False)
    if row.ended_on is not None and since is not None and row.ended_on < since:
        check.fail(
            "since",
            _("must not be after endedOn ({ended_on})", ended_on=row.ended_on.isoformat()),
            UserErrorCode.OUT_OF_RANGE,
        )
    check.done()
    if "product_id" in changes:
        row.product_id = changes["product_id"]
    if ends_on != row.contract_ends_on:
        row.reminded_for = None
    row.since, row.contract_ends_on, row.notes = since, ends_on, notes
    after = snapshot(row)
    if after != before:
        row.updated_at = context.now()
        await session.flush()
        audit.record(
            session,
            actor_of(context),
            "competitor.customer_link.updated",
            ENTITY,
            row.id,
            audit.diff(before, after),
        )
    return row


async def end_link(
    session: AsyncSession,
    context: RequestContext,
    link_id: int | None,
    version: int,
    on: dt.date | None,
) -> CustomerCompetitor:
    """The customer stopped using the competitor on ``on`` (today when not given)."""
    row = await writable_link(session, context, link_id)
    require_version(row, version)
    if row.ended_on is not None:
        raise UserErrors.single(
            "id",
            _("the link ended on {ended_on} already", ended_on=row.ended_on.isoformat()),
            UserErrorCode.INVALID_TRANSITION,
        )
    day = on or today(context)
    check = Check()
    if day > today(context):
        check.fail("on", _("must not be in the future"), UserErrorCode.OUT_OF_RANGE)
    elif row.since is not None and day < row.since:
        check.fail(
            "on",
            _("must not be before since ({since})", since=row.since.isoformat()),
            UserErrorCode.OUT_OF_RANGE,
        )
    check.done()
    before = snapshot(row)
    row.ended_on, row.updated_at = day, context.now()
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "competitor.customer_link.ended",
        ENTITY,
        row.id,
        audit.diff(before, snapshot(row)),
    )
    return row


async def remove_link(
    session: AsyncSession, context: RequestContext, link_id: int | None, version: int
) -> CustomerCompetitor:
    """Remove a link recorded by mistake (ending it keeps the history)."""
    row = await writable_link(session, context, link_id)
    require_version(row, version)
    before = snapshot(row)
    await session.delete(row)
    await session.flush()
    audit.record(
        session,
        actor_of(context),
        "competitor.customer_link.removed",
        ENTITY,
        row.id,
        audit.diff(before, {}),
    )
    return row


# ------------------------------------------------------------------------- merge and erase


async def erase(session: AsyncSession, customer_id: int) -> None:
    """Drop what may name a person from the customer's links and encounters: notes and
    reason texts become ``ERASED``, and the audit events of both keep their figures only."""
    link_ids = list(
        (
            await session.scalars(
                select(CustomerCompetitor.id).where(CustomerCompetitor.customer_id == customer_id)
            )
        ).all()
    )
    await session.execute(
        update(CustomerCompetitor)
        .where(CustomerCompetitor.customer_id == customer_id, CustomerCompetitor.notes != "")
        .values(notes=ERASED, version=CustomerCompetitor.version + 1)
        .execution_options(synchronize_session=False)
    )
    encounter_ids = list(
        (
            await session.scalars(select(Encounter.id).where(Encounter.customer_id == customer_id))
        ).all()
    )
    await session.execute(
        update(Encounter)
        .where(Encounter.customer_id == customer_id, Encounter.reason_text != "")
        .values(reason_text=ERASED)
        .execution_options(synchronize_session=False)
    )
    await audit.scrub(session, ENTITY, link_ids, LINK_AUDIT_KEEP)
    await audit.scrub(session, ENCOUNTER_ENTITY, encounter_ids, ENCOUNTER_AUDIT_KEEP)


async def merge(
    session: AsyncSession, source_id: int, target_id: int, dry_run: bool, context: RequestContext
) -> dict[str, int]:
    """Move the source customer's links and encounters to the target. A current link to a
    competitor the target uses already is ended on the day of the merge (the target's own
    link stays the current one)."""
    links = list(
        (
            await session.scalars(
                select(CustomerCompetitor)
                .where(CustomerCompetitor.customer_id == source_id)
                .order_by(CustomerCompetitor.id)
                .with_for_update()
            )
        ).all()
    )
    encounters = await move_customer_rows(
        session, Encounter.customer_id, source_id, target_id, dry_run
    )
    counts = {"competitorLinks": len(links), "competitorEncounters": encounters}
    if dry_run or not links:
        return counts
    used = set(
        (
            await session.scalars(
                select(CustomerCompetitor.competitor_id).where(
                    CustomerCompetitor.customer_id == target_id,
                    CustomerCompetitor.ended_on.is_(None),
                )
            )
        ).all()
    )
    now = context.now()
    day = today(context)
    actor = actor_of(context)
    for row in links:
        before = snapshot(row)
        row.customer_id = target_id
        if row.ended_on is None and row.competitor_id in used:
            row.ended_on = day if row.since is None or row.since <= day else row.since
        row.updated_at = now
        await session.flush()
        audit.record(
            session,
            actor,
            "competitor.customer_link.merged",
            ENTITY,
            row.id,
            audit.diff(before, snapshot(row)),
        )
    return counts
