"""Merging one customer into another.

The source's tasks go to the target. A key customer has one care task per quarter
(:mod:`core.customers.key_accounts`), so the survivor keeps at most one open care task per
quarter: the source's open care task of a quarter the target has an open one for is
cancelled (counted as ``careTasksCancelled`` and audited as ``task.cancelled``), and a care
task of a quarter the target has none for becomes the target's, so the periodic job makes
no second one for that quarter.

A customer with a founding date has one anniversary task per year, so the survivor keeps at
most one open anniversary task per year, for its own founding date: the source's open
anniversary task is cancelled (counted as ``anniversaryTasksCancelled``, audited as
``task.cancelled``) unless the survivor's founding date after the merge is the source's and
it has no anniversary task of its own for that year; then the task becomes the target's.
Done tasks stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import actor_of
from core.context import RequestContext
from core.customers import key_accounts  # a module: it imports this package in turn
from core.customers.jobs import care_key
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


CARE_TASKS_CANCELLED = "careTasksCancelled"
CANCEL_REASON = "merged: the surviving customer has an open care task of this quarter"
ANNIVERSARY_TASKS_CANCELLED = "anniversaryTasksCancelled"
ANNIVERSARY_TAKEN_REASON = "merged: the surviving customer has an anniversary task of this year"
ANNIVERSARY_FOREIGN_REASON = "merged: not an anniversary of the surviving customer's founding date"


@dataclass(frozen=True)
class _KeyedTask:
    id: int
    period: str
    open: bool
    cancelled: bool


async def _keyed_tasks(
    session: AsyncSession, customer_id: int, prefix: str
) -> dict[str, _KeyedTask]:
    """The tasks of ``customer_id`` whose dedupe keys start with ``prefix``, by the rest of
    the key (the period: a quarter, ``2026-Q4``, or a year)."""
    rows = await session.execute(
        select(Task.id, Task.dedupe_key, Task.done_at, Task.cancelled_at).where(
            Task.customer_id == customer_id, Task.dedupe_key.startswith(prefix, autoescape=True)
        )
    )
    found = {}
    for task_id, key, done_at, cancelled_at in rows:
        period = (key or "").removeprefix(prefix)
        found[period] = _KeyedTask(
            task_id, period, done_at is None and cancelled_at is None, cancelled_at is not None
        )
    return found


async def _care_tasks(session: AsyncSession, customer_id: int) -> dict[str, _KeyedTask]:
    """The care tasks of ``customer_id`` by quarter (``2026-Q4``), by their dedupe keys."""
    return await _keyed_tasks(session, customer_id, care_key(customer_id, ""))


async def _anniversary_tasks(session: AsyncSession, customer_id: int) -> dict[str, _KeyedTask]:
    """The anniversary tasks of ``customer_id`` by year, by their dedupe keys."""
    return await _keyed_tasks(session, customer_id, key_accounts.anniversary_key(customer_id, ""))


@dataclass
class _Settlement:
    """What a merge does to the source's periodic tasks: ``cancel`` (task id -> reason) and
    ``rekey`` (the task and the target's key it takes)."""

    cancel: dict[int, str]
    rekey: list[tuple[_KeyedTask, str]]


async def _duplicate_care_tasks(
    session: AsyncSession, source_id: int, target_id: int
) -> _Settlement:
    """The source's care tasks a merge cancels (open, of a quarter the target has an open
    one for), and those that become the target's (not cancelled, of a quarter the target
    has none for)."""
    theirs = await _care_tasks(session, source_id)
    if not theirs:
        return _Settlement({}, [])
    ours = await _care_tasks(session, target_id)
    return _Settlement(
        {t.id: CANCEL_REASON for q, t in theirs.items() if t.open and q in ours and ours[q].open},
        [
            (t, care_key(target_id, q))
            for q, t in theirs.items()
            if q not in ours and not t.cancelled
        ],
    )


async def _duplicate_anniversary_tasks(
    session: AsyncSession, source: Customer, target: Customer
) -> _Settlement:
    """The source's anniversary tasks a merge cancels, and those that become the target's.

    They are the target's anniversaries only when the target's founding date (as the merge
    leaves it) is the source's: then one of a year the target has no anniversary task for
    becomes the target's (unless cancelled), and an open one of a year it has one for is
    cancelled. Otherwise every open one is cancelled."""
    theirs = await _anniversary_tasks(session, source.id)
    if not theirs:
        return _Settlement({}, [])
    ours = await _anniversary_tasks(session, target.id)
    same_date = source.founded_on is not None and target.founded_on == source.founded_on
    settlement = _Settlement({}, [])
    for year, task in theirs.items():
        if same_date and year not in ours:
            if not task.cancelled:
                key = key_accounts.anniversary_key(target.id, year)
                settlement.rekey.append((task, key))
        elif task.open:
            reason = ANNIVERSARY_TAKEN_REASON if same_date else ANNIVERSARY_FOREIGN_REASON
            settlement.cancel[task.id] = reason
    return settlement


async def _settle_tasks(
    session: AsyncSession,
    context: RequestContext,
    source_id: int,
    settlement: _Settlement,
    taken_reason: str,
) -> int:
    """Cancel the source's duplicate periodic tasks and give the others the target's keys;
    how many were cancelled. A key the periodic job took for the target meanwhile makes
    its task a duplicate too (cancelled when open, for ``taken_reason``)."""
    cancel = dict(settlement.cancel)
    for task, key in settlement.rekey:
        try:
            async with session.begin_nested():
                await session.execute(
                    update(Task)
                    .where(Task.id == task.id)
                    .values(dedupe_key=key)
                    .execution_options(synchronize_session=False)
                )
        except IntegrityError:
            if task.open:
                cancel[task.id] = taken_reason
    if not cancel:
        return 0
    now = context.now()
    cancelled = (
        await session.scalars(
            update(Task)
            .where(Task.id.in_(cancel), Task.done_at.is_(None), Task.cancelled_at.is_(None))
            .values(cancelled_at=now, updated_at=now, version=Task.version + 1)
            .returning(Task.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    actor = actor_of(context)
    for task_id in sorted(cancelled):
        changes = audit.diff({"cancelledAt": None}, {"cancelledAt": now})
        audit.record(
            session,
            actor,
            "task.cancelled",
            "Task",
            task_id,
            {
                **changes,
                "reason": cancel[task_id],
                "mergedFrom": global_id("Customer", source_id),
            },
        )
    return len(cancelled)


def _count(moved: dict[str, int], kind: str, count: int) -> None:
    """Set ``moved[kind]`` to ``count``; a count of none leaves the kind out."""
    if count:
        moved[kind] = count
    else:
        moved.pop(kind, None)


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
    care = await _duplicate_care_tasks(session, source.id, target.id)
    if care.cancel:
        moved[CARE_TASKS_CANCELLED] = len(care.cancel)
    for counts in await call_in_turn(
        context.pm.hook.crm_customer_merge,
        session=session,
        source=source,
        target=target,
        dry_run=dry_run,
        context=context,
    ):
        moved.update(counts)
    # After the modules' merge steps: the target's founding date is the one it keeps.
    anniversaries = await _duplicate_anniversary_tasks(session, source, target)
    if anniversaries.cancel:
        moved[ANNIVERSARY_TASKS_CANCELLED] = len(anniversaries.cancel)
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
    # The counts say what was cancelled, not what was planned: a task done meanwhile stays.
    _count(
        moved,
        CARE_TASKS_CANCELLED,
        await _settle_tasks(session, context, source.id, care, CANCEL_REASON),
    )
    _count(
        moved,
        ANNIVERSARY_TASKS_CANCELLED,
        await _settle_tasks(session, context, source.id, anniversaries, ANNIVERSARY_TAKEN_REASON),
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
