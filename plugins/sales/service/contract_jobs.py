"""The contracts' periodic jobs: renewal reminders and expiry.

``sales.contract_renewals`` tells the owner of an ACTIVE contract's customer (the contract's
own owner when the customer has no owner, or one no longer active; when neither is an active
user, those holding ``sales:manage`` at ALL scope or for the contract owner's team) that the
contract ends soon: once the end is within the longer of ``CRM_SALES_RENEWAL_REMINDER_DAYS`` and the
contract's notice period. Each contract is told once per end date: it is marked
(``renewal_told_for``) by a conditional update in the transaction that tells, and the
notification carries a dedupe key, so two workers, or the job run twice, tell once. A
renewal (``renewContract``, or an automatic one) moves the end date, so the next end is told
again.

``sales.contract_expiry`` ends ACTIVE contracts whose end date has passed: EXPIRED, or, for
those that renew automatically, a new term of the same length from the next day (repeated
until the term reaches today, for a job that did not run for a while).

"Today" is the deployment's calendar day (``CRM_TIME_ZONE``). Both work in bounded batches,
one transaction each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Date, and_, case, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.plugin_api import (
    Customer,
    Environment,
    JobContext,
    NotificationKind,
    User,
    audit,
    call_in_turn,
    notify,
    translator,
    users_with_permission,
)
from plugins.sales import declarations, webhooks
from plugins.sales import settings as sales_settings
from plugins.sales.models import Contract
from plugins.sales.service.contracts import MAX_NOTICE_DAYS, snapshot
from plugins.sales.service.purchases import today_in

_ = translator(__name__)

BATCH = 200
"""Contracts a job handles in one transaction."""
MAX_ROUNDS = 1000
"""Transactions one run of the renewal job takes at most (the rest waits for the next)."""
RENEWAL = "sales.contract_renewal"

KINDS: Mapping[str, NotificationKind] = {
    RENEWAL: NotificationKind(_("A contract of your customer is due for renewal"), email=True),
}


def _days_until(session: AsyncSession, column: Any, today: dt.date) -> ColumnElement[Any]:
    """Days from ``today`` to the date in ``column``, in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        result: ColumnElement[Any] = column - literal(today, Date)
        return result
    return func.julianday(column) - func.julianday(literal(today.isoformat()))


async def _reminded(
    session: AsyncSession,
    env: Environment,
    customer_owner_id: int | None,
    contract_owner_id: int | None,
    contract_owner_team_id: int | None,
) -> list[int]:
    """Who a renewal reminder goes to: the customer's owner, else the contract's (each if
    an active user), else the users holding ``sales:manage`` for the contract owner's team."""
    if customer_owner_id is not None:
        return [customer_owner_id]
    if contract_owner_id is not None:
        return [contract_owner_id]
    return await users_with_permission(
        session, env.pm, declarations.MANAGE, team_id=contract_owner_team_id
    )


def _ends_in(days: int) -> str:
    if days == 0:
        return _("It ends today.")
    if days == 1:
        return _("It ends tomorrow.")
    return _("It ends in {days} days.", days=days)


async def remind_renewals(
    session: AsyncSession, env: Environment, now: dt.datetime, reminder_days: int
) -> tuple[int, int]:
    """Tell about up to :data:`BATCH` contracts due for a renewal reminder: how many were
    found due, how many told (fewer when another worker marked some meanwhile)."""
    today = today_in(now, env.settings.zone)
    due = (
        Contract.status == "ACTIVE",
        Contract.ends_on >= today,
        Contract.ends_on <= today + dt.timedelta(days=max(reminder_days, MAX_NOTICE_DAYS)),
        or_(
            Contract.ends_on <= today + dt.timedelta(days=reminder_days),
            _days_until(session, Contract.ends_on, today) <= Contract.notice_days,
        ),
        or_(Contract.renewal_told_for.is_(None), Contract.renewal_told_for != Contract.ends_on),
    )
    candidates = select(Contract.id).where(*due).order_by(Contract.ends_on, Contract.id)
    found = list((await session.scalars(candidates.limit(BATCH))).all())
    if not found:
        return 0, 0
    # A conditional update: a contract another worker marked meanwhile is not returned.
    marked = list(
        (
            await session.scalars(
                update(Contract)
                .where(Contract.id.in_(found), *due)
                .values(renewal_told_for=Contract.ends_on)
                .returning(Contract.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    # The customer's owner if they are an active user; else the contract's owner if they
    # are; else those who manage sales (at ALL scope, or TEAM scope in the contract owner's
    # team), so that a reminder is not lost without anyone told.
    contract_owner = aliased(User)
    rows = (
        await session.execute(
            select(
                Contract,
                User.id,
                case((contract_owner.is_active, contract_owner.id)),
                contract_owner.team_id,
            )
            .join(Customer, Customer.id == Contract.customer_id)
            .outerjoin(User, and_(User.id == Customer.owner_id, User.is_active))
            .outerjoin(contract_owner, contract_owner.id == Contract.owner_id)
            .where(Contract.id.in_(marked))
            .order_by(Contract.ends_on, Contract.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    for contract, customer_owner_id, owner_id, owner_team_id in rows:
        days_left = (contract.ends_on - today).days
        await notify(
            session,
            env,
            user_ids=await _reminded(session, env, customer_owner_id, owner_id, owner_team_id),
            kind=RENEWAL,
            title=_(
                "Contract {number} ends on {ends_on}: {title}",
                number=contract.number,
                ends_on=contract.ends_on.isoformat(),
                title=contract.title,
            ),
            body=_ends_in(days_left),
            subject=("Contract", contract.id),
            now=now,
            dedupe_key=f"{RENEWAL}:{contract.id}:{contract.ends_on.isoformat()}",
        )
        await call_in_turn(
            env.pm.hook.crm_sales_contract_renewal_due,
            session=session,
            contract=contract,
            days_left=days_left,
            now=now,
        )
        await webhooks.contract_renewal_due(session, contract, days_left, now)
    return len(found), len(rows)


def _next_term(row: Contract, today: dt.date) -> None:
    """Move ``row`` on by terms of its current length until its term reaches ``today``."""
    length = row.ends_on - row.starts_on
    while row.ends_on < today:
        row.starts_on = row.ends_on + dt.timedelta(days=1)
        row.ends_on = row.starts_on + length


async def expire(session: AsyncSession, env: Environment, now: dt.datetime) -> tuple[int, int]:
    """End up to :data:`BATCH` ACTIVE contracts past their end date; how many were renewed
    automatically, how many expired."""
    today = today_in(now, env.settings.zone)
    rows = list(
        (
            await session.scalars(
                select(Contract)
                .where(Contract.status == "ACTIVE", Contract.ends_on < today)
                .order_by(Contract.ends_on, Contract.id)
                .limit(BATCH)
                .with_for_update()
            )
        ).all()
    )
    actor = audit.Actor(label="crm jobs", at=now)
    renewed = expired = 0
    for row in rows:
        before = snapshot(row)
        if row.auto_renew:
            _next_term(row, today)
            verb = "auto_renewed"
            renewed += 1
        else:
            row.status = "EXPIRED"
            verb = "expired"
            expired += 1
        row.updated_at = now
        changes = audit.diff(before, snapshot(row))
        audit.record(session, actor, f"sales.contract.{verb}", "Contract", row.id, changes)
    await session.flush()
    return renewed, expired


async def run_renewals(job: JobContext) -> Mapping[str, int]:
    reminder_days = sales_settings.load().renewal_reminder_days
    total = 0
    # Another round while a round found a full batch: told ones (by this worker or another)
    # are not found again, so each round moves on; the rounds are bounded all the same.
    for _round in range(MAX_ROUNDS):
        async with job.db.transaction() as session:
            found, told = await remind_renewals(session, job, job.now, reminder_days)
        total += told
        if found < BATCH:
            break
    return {"contract renewal reminders": total}


async def run_expiry(job: JobContext) -> Mapping[str, int]:
    total_renewed = total_expired = 0
    while True:
        async with job.db.transaction() as session:
            renewed, expired = await expire(session, job, job.now)
        total_renewed += renewed
        total_expired += expired
        if renewed + expired < BATCH:
            break
    return {"contracts renewed automatically": total_renewed, "contracts expired": total_expired}
