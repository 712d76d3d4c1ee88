"""The periodic job ``competitor.contract_reminders`` (hourly): an opening to win a customer
from a competitor.

For each current link (not ended) whose contract with the competitor ends within
``CRM_COMPETITOR_CONTRACT_REMINDER_DAYS`` days (from today, the deployment's calendar day,
``CRM_TIME_ZONE``), the customer's owner is told once per end date
(``competitor.contract_ending``). The link is marked (``reminded_for`` = the end date) by a
conditional update in the transaction that tells, and the notification carries a dedupe
key, so two workers, or the job run twice, tell once; a new end date (``contractEndsOn``
changed) is told again. Archived and erased customers are skipped. A customer without an
active owner has its reminder go to those holding ``competitors:manage`` at ALL scope. Links
are read in bounded batches, one transaction each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Customer,
    Environment,
    JobContext,
    NotificationKind,
    Text,
    User,
    notify,
    translator,
    users_with_permission,
)
from plugins.competitor import declarations, settings
from plugins.competitor.models import Competitor, CustomerCompetitor
from plugins.competitor.service.calendar import day_of

_ = translator(__name__)

BATCH = 200
"""Links one transaction handles."""
MAX_ROUNDS = 1000
"""Transactions one run takes at most (the rest waits for the next run)."""
CONTRACT_ENDING = "competitor.contract_ending"
REPORT = "competitor contract reminders"

KINDS: dict[str, NotificationKind] = {
    CONTRACT_ENDING: NotificationKind(
        _("A customer's contract with a competitor ends soon: an opening"), email=True
    ),
}


def _due(today: dt.date, days: int) -> tuple[ColumnElement[bool], ...]:
    link = CustomerCompetitor
    live_customers = select(Customer.id).where(
        Customer.archived_at.is_(None), Customer.erased_at.is_(None)
    )
    return (
        link.ended_on.is_(None),
        link.contract_ends_on.is_not(None),
        link.contract_ends_on >= today,
        link.contract_ends_on <= today + dt.timedelta(days=days),
        or_(link.reminded_for.is_(None), link.reminded_for != link.contract_ends_on),
        link.customer_id.in_(live_customers),
    )


def _ends_in(days: int) -> Text:
    if days == 0:
        return _("It ends today.")
    if days == 1:
        return _("It ends tomorrow.")
    return _("It ends in {days} days.", days=days)


async def remind(
    session: AsyncSession, env: Environment, now: dt.datetime, days: int
) -> tuple[int, int]:
    """Tell about up to :data:`BATCH` links due for a reminder: how many were found due and
    how many owners were told (fewer when another worker marked some meanwhile)."""
    today = day_of(now, env.settings)
    due = _due(today, days)
    found = list(
        (
            await session.scalars(
                select(CustomerCompetitor.id)
                .where(*due)
                .order_by(CustomerCompetitor.contract_ends_on, CustomerCompetitor.id)
                .limit(BATCH)
            )
        ).all()
    )
    if not found:
        return 0, 0
    # A conditional update: a link another worker marked meanwhile is not returned.
    marked = list(
        (
            await session.scalars(
                update(CustomerCompetitor)
                .where(CustomerCompetitor.id.in_(found), *due)
                .values(reminded_for=CustomerCompetitor.contract_ends_on)
                .returning(CustomerCompetitor.id)
                .execution_options(synchronize_session=False)
            )
        ).all()
    )
    if not marked:
        return len(found), 0
    rows: list[Any] = list(
        (
            await session.execute(
                select(
                    CustomerCompetitor.id,
                    CustomerCompetitor.customer_id,
                    CustomerCompetitor.contract_ends_on,
                    Customer.name,
                    Competitor.name,
                    User.id,
                )
                .join(Customer, Customer.id == CustomerCompetitor.customer_id)
                .join(Competitor, Competitor.id == CustomerCompetitor.competitor_id)
                .outerjoin(User, and_(User.id == Customer.owner_id, User.is_active))
                .where(CustomerCompetitor.id.in_(marked))
                .order_by(CustomerCompetitor.contract_ends_on, CustomerCompetitor.id)
            )
        ).all()
    )
    told = 0
    managers: list[int] | None = None
    for link_id, customer_id, ends_on, customer, competitor, owner_id in rows:
        if owner_id is not None:
            recipients = [owner_id]
        else:  # nobody owns the customer: those who manage competitors, looked up once
            if managers is None:
                managers = await users_with_permission(session, env.pm, declarations.MANAGE)
            recipients = managers
        if not recipients:
            continue
        told += await notify(
            session,
            env,
            user_ids=recipients,
            kind=CONTRACT_ENDING,
            title=_(
                "An opening: {customer}'s contract with {competitor} ends on {ends_on}",
                customer=customer,
                competitor=competitor,
                ends_on=ends_on.isoformat(),
            ),
            body=_ends_in((ends_on - today).days),
            subject=("Customer", customer_id),
            now=now,
            dedupe_key=f"{CONTRACT_ENDING}:{link_id}:{ends_on.isoformat()}",
        )
    return len(found), told


async def run(job: JobContext) -> Mapping[str, int]:
    days = settings.load().contract_reminder_days
    if days <= 0:
        return {REPORT: 0}
    total = 0
    # Another round while a round found a full batch: marked links are not found again, so
    # each round moves on; the rounds are bounded all the same.
    for _round in range(MAX_ROUNDS):
        async with job.db.transaction() as session:
            found, told = await remind(session, job, job.now, days)
        total += told
        if found < BATCH:
            break
    return {REPORT: total}
