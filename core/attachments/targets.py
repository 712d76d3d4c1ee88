"""What files may be attached to, and who may see and change them: the parent decides.

Each module names the GraphQL types whose records take files (``crm_attachment_targets``)
with an :class:`AttachmentTarget`: two checks that answer, for a record id and the caller,
the id of the customer the record belongs to when the caller may read (list and download
its files) or change it (attach and delete), and ``None`` otherwise (no such record, or out
of the caller's reach). Core's own: ``Customer`` (read: ``customers:read``; change:
``customers:write``) and ``Interaction`` (read: its customer's ``customers:read``; change:
``followups:write`` reaching its customer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import RequestContext
from core.customers.models import Customer, Interaction

Check = Callable[[AsyncSession, RequestContext, int], Awaitable[int | None]]


@dataclass(frozen=True)
class AttachmentTarget:
    """How to check the caller's access to a record that takes files.

    :param readable: ``(session, context, id)`` -> the record's customer id when the caller
        may read the record, else ``None``. Asked for listing and again at each download.
    :param writable: the same when the caller may change the record (attach, delete).
    """

    readable: Check
    writable: Check


def _customer_check(permission: str) -> Check:
    async def check(session: AsyncSession, context: RequestContext, record_id: int) -> int | None:
        found: int | None = await session.scalar(
            select(Customer.id).where(
                Customer.id == record_id,
                Customer.erased_at.is_(None),
                context.visible(permission, "customers"),
            )
        )
        return found

    return check


def _interaction_check(permission: str) -> Check:
    async def check(session: AsyncSession, context: RequestContext, record_id: int) -> int | None:
        found: int | None = await session.scalar(
            select(Interaction.customer_id)
            .join(Customer, Customer.id == Interaction.customer_id)
            .where(
                Interaction.id == record_id,
                Customer.erased_at.is_(None),
                context.visible(permission, "customers"),
            )
        )
        return found

    return check


CORE_TARGETS = {
    "Customer": AttachmentTarget(
        readable=_customer_check("customers:read"), writable=_customer_check("customers:write")
    ),
    "Interaction": AttachmentTarget(
        readable=_interaction_check("customers:read"),
        writable=_interaction_check("followups:write"),
    ),
}
