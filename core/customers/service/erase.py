"""Erasing a customer's personal data on a privacy request."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of
from core.context import RequestContext
from core.customers.models import Contact, Customer, Interaction, Task
from core.customers.service.common import writable_customer
from core.customers.service.customers import ADDRESS_COLUMNS, CUSTOMER_FIELDS, _veto
from core.host import call_in_turn
from core.validation import Check, require_version, snapshot

ERASED = audit.ERASED

# The fields of the audit trail whose values are not personal data and survive an erasure;
# every other value in the events of the customer, its contacts and its tasks is erased.
CUSTOMER_AUDIT_KEEP = frozenset(
    {
        "kind",
        "stage",
        "grade",
        "source",
        "ownerId",
        "number",
        "tags",
        "archivedAt",
        "reason",
        "interactionId",
        "channel",
        "sourceId",
        "sourceNumber",
        "targetId",
        "targetNumber",
        "moved",
    }
)
CONTACT_AUDIT_KEEP = frozenset({"customerId", "primary", "archivedAt"})
TASK_AUDIT_KEEP = frozenset({"customerId", "assigneeId", "dueAt", "remindAt", "doneAt"})


async def erase_customer(
    session: AsyncSession,
    context: RequestContext,
    customer_id: int | None,
    version: int,
    reason: str,
) -> Customer:
    """Remove a customer's personal data for a privacy request, and that of the customers
    merged into it; keep an audit record of each."""
    check = Check()
    cleaned_reason = check.text("reason", reason, max_length=500)
    check.done()
    customer = await writable_customer(
        session, context, customer_id, permission="customers:delete", archived=None
    )
    require_version(customer, version)
    # Customers merged into this one were the same person or company: their rows and
    # trails still hold what they were, so they go with it (and each may be vetoed).
    rows = [customer, *await _merged_into(session, customer.id)]
    for row in rows:
        await _veto(session, context, row, erasing=True)
    for row in rows:
        await _erase(session, context, row, cleaned_reason)
    return customer


async def _merged_into(session: AsyncSession, customer_id: int) -> list[Customer]:
    """The customers merged into ``customer_id``, directly or through others, not yet erased."""
    found: list[Customer] = []
    frontier = [customer_id]
    while frontier:
        rows = (
            await session.scalars(
                select(Customer).where(
                    Customer.merged_into_id.in_(frontier), Customer.erased_at.is_(None)
                )
            )
        ).all()
        found.extend(rows)
        frontier = [row.id for row in rows]
    return found


async def _erase(
    session: AsyncSession, context: RequestContext, customer: Customer, reason: str | None
) -> None:
    now = context.now()
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
    contact_ids = (
        await session.scalars(select(Contact.id).where(Contact.customer_id == customer.id))
    ).all()
    task_ids = (await session.scalars(select(Task.id).where(Task.customer_id == customer.id))).all()
    # The trail keeps who changed which field and when, not the values that were erased.
    await audit.scrub(session, "Customer", [customer.id], CUSTOMER_AUDIT_KEEP)
    await audit.scrub(session, "Contact", contact_ids, CONTACT_AUDIT_KEEP)
    await audit.scrub(session, "Task", task_ids, TASK_AUDIT_KEEP)
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
            "reason": reason,
            "erasedFields": erased_fields,
            "contactsDeleted": contacts,
            "interactionsBlanked": interactions,
        },
    )
    await call_in_turn(
        context.pm.hook.crm_customer_erased, session=session, customer=customer, context=context
    )
