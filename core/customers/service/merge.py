"""Merging one customer into another."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of
from core.context import RequestContext
from core.customers.models import Contact, Customer, CustomerTag, Interaction, Task
from core.customers.service.common import writable_customer
from core.errors import UserErrorCode, UserErrors
from core.host import call_in_turn
from core.i18n import _
from core.validation import global_id


@dataclass(frozen=True)
class MergeResult:
    target: Customer
    moved: dict[str, int]


async def move_customer_rows(
    session: AsyncSession, column: Any, source_id: int, target_id: int, dry_run: bool
) -> int:
    """Give the rows whose ``column`` (a customer id) names ``source_id`` to ``target_id``
    (on a dry run, only count them); how many there are. What a module's
    ``crm_customer_merge`` listener does for a table of records that go with their customer.
    """
    theirs = column == source_id
    count = int(await session.scalar(select(func.count()).where(theirs)) or 0)
    if count and not dry_run:
        await session.execute(
            update(column.class_)
            .where(theirs)
            .values({column.key: target_id})
            .execution_options(synchronize_session=False)
        )
    return count


async def merge_customers(
    session: AsyncSession,
    context: RequestContext,
    source_id: int | None,
    target_id: int | None,
    dry_run: bool,
) -> MergeResult:
    """Move everything of the source to the target and archive the source (one transaction).

    With ``dry_run`` nothing changes; the counts say what would move.
    """
    if source_id is not None and source_id == target_id:
        raise UserErrors.single("targetId", _("must differ from sourceId"), UserErrorCode.INVALID)
    # Both rows are locked in id order, the order every writer of two customers keeps: a
    # merge of A into B beside one of B into A waits instead of deadlocking.
    if source_id is not None and target_id is not None and target_id < source_id:
        target = await writable_customer(session, context, target_id, "targetId")
        source = await writable_customer(session, context, source_id, "sourceId")
    else:
        source = await writable_customer(session, context, source_id, "sourceId")
        target = await writable_customer(session, context, target_id, "targetId")
    moved: dict[str, int] = {}
    contact_ids = select(Contact.id).where(Contact.customer_id == source.id)
    moved["contacts"] = int(
        await session.scalar(select(func.count()).select_from(contact_ids.subquery())) or 0
    )
    moved["interactions"] = int(
        await session.scalar(select(func.count()).where(Interaction.customer_id == source.id)) or 0
    )
    moved["tasks"] = int(
        await session.scalar(select(func.count()).where(Task.customer_id == source.id)) or 0
    )
    target_tags = select(CustomerTag.tag_id).where(CustomerTag.customer_id == target.id)
    new_tags = select(CustomerTag.tag_id).where(
        CustomerTag.customer_id == source.id, CustomerTag.tag_id.not_in(target_tags)
    )
    moved["tags"] = int(
        await session.scalar(select(func.count()).select_from(new_tags.subquery())) or 0
    )
    for counts in await call_in_turn(
        context.pm.hook.crm_customer_merge,
        session=session,
        source=source,
        target=target,
        dry_run=dry_run,
        context=context,
    ):
        moved.update(counts)
    if dry_run:
        return MergeResult(target=target, moved=moved)
    target_has_primary = await session.scalar(
        select(Contact.id).where(
            Contact.customer_id == target.id,
            Contact.is_primary.is_(True),
            Contact.archived_at.is_(None),
        )
    )
    if target_has_primary is not None:
        await session.execute(
            update(Contact).where(Contact.customer_id == source.id).values(is_primary=False)
        )
    await session.execute(
        update(Contact).where(Contact.customer_id == source.id).values(customer_id=target.id)
    )
    await session.execute(
        update(Interaction)
        .where(Interaction.customer_id == source.id)
        .values(customer_id=target.id)
    )
    await session.execute(
        update(Task).where(Task.customer_id == source.id).values(customer_id=target.id)
    )
    tag_ids = list((await session.scalars(new_tags)).all())
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == source.id))
    session.add_all(CustomerTag(customer_id=target.id, tag_id=tag_id) for tag_id in tag_ids)
    now = context.now()
    latest = max(
        (t for t in (source.last_interaction_at, target.last_interaction_at) if t), default=None
    )
    target.last_interaction_at = latest
    target.updated_at = now
    source.archived_at = source.updated_at = now
    source.merged_into_id = target.id
    await session.flush()
    actor = actor_of(context)
    audit.record(
        session,
        actor,
        "customer.merged_into",
        "Customer",
        source.id,
        {
            "targetId": global_id("Customer", target.id),
            "targetNumber": target.number,
            "moved": moved,
        },
    )
    audit.record(
        session,
        actor,
        "customer.merged",
        "Customer",
        target.id,
        {
            "sourceId": global_id("Customer", source.id),
            "sourceNumber": source.number,
            "moved": moved,
        },
    )
    await call_in_turn(
        context.pm.hook.crm_customer_merged,
        session=session,
        source=source,
        target=target,
        context=context,
    )
    return MergeResult(target=target, moved=moved)
