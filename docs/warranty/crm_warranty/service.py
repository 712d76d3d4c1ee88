"""The rules: register a warranty, erase them with their customer, list those expiring."""

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import plugin_api as crm
from crm_warranty.models import Warranty

_ = crm.translator(__name__)


async def register(
    session: AsyncSession,
    context: crm.RequestContext,
    check: crm.Check,
    customer_id: int | None,
    product: str,
    serial: str,
    starts_on: dt.date,
    ends_on: dt.date,
) -> Warranty:
    """Register a warranty on a customer that the caller's ``warranties:write`` reaches."""
    name = check.text("product", product, max_length=120)
    number = check.text("serial", serial, max_length=64)
    if ends_on < starts_on:
        check.fail("endsOn", _("must not be before startsOn"), crm.UserErrorCode.OUT_OF_RANGE)
    if number and await session.scalar(select(Warranty.id).where(Warranty.serial == number)):
        check.fail("serial", _("a warranty with this serial exists"), crm.UserErrorCode.DUPLICATE)
    check.done()
    customer = await crm.writable_customer(
        session, context, customer_id, "customerId", "warranties:write"
    )
    row = Warranty(customer_id=customer.id, product=name, serial=number, starts_on=starts_on)
    row.ends_on, row.created_at = ends_on, context.now()
    session.add(row)
    await session.flush()
    crm.audit.record(session, crm.actor_of(context), "warranty.registered", "Warranty", row.id)
    return row


async def erase(session: AsyncSession, customer_id: int) -> None:
    """A serial number ties a product to a person: an erased customer's warranties go."""
    await session.execute(delete(Warranty).where(Warranty.customer_id == customer_id))


async def expiring(session: AsyncSession, today: dt.date, days: int) -> list[Warranty]:
    """Warranties that end within ``days`` of ``today``, soonest first."""
    ends = Warranty.ends_on.between(today, today + dt.timedelta(days=days))
    return list(await session.scalars(select(Warranty).where(ends).order_by(Warranty.ends_on)))
