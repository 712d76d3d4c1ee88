"""The loyalty plugin's periodic jobs.

``loyalty.expiry`` (hourly) expires the lots past their date through the ledger, and e-mails
the customer's primary contact when points will expire within the programme's
``expiry_notice_days``: once per expiry moment. The mail covers every point expiring in the
notice window; ``account.expiry_told_for`` keeps the latest moment it covered, so a contact
hears of a later moment only when one enters the window.

``loyalty.tiers`` (daily) recomputes the tiers of the members above the entry tier, with a
downgrade pending or who earned in the rolling year, since a rolling year lets points fall
out without any earn (a fall starts the grace period, a grace ended applies the lower tier)
and a tier created or a threshold lowered lifts members at once. It also gives the
birthday-month bonus when the programme sets one: once per account and year, the entry's
idempotency key saying which year.

Both work in bounded batches (one transaction each, accounts in id order, each locked after
its customer's row: :func:`.locks.lock_member`) and are idempotent: run twice at the same moment,
the second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.headerregistry import Address
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    Contact,
    Customer,
    JobContext,
    MailError,
    send_email,
    translator,
)
from plugins.loyalty.models import Account, Entry, Lot
from plugins.loyalty.service import ledger, locks, tiers
from plugins.loyalty.service import programme as programmes

_ = translator(__name__)

BATCH = 200
"""Accounts one transaction handles."""
MAX_ROUNDS = 1000
"""Transactions one run takes at most (the rest waits for the next run)."""
MAIL_TEMPLATE = "loyalty/expiring"
MAIL_KIND = "loyalty.expiring"
JOB_ACTOR = "crm jobs"


def _zone(name: str | None, fallback: ZoneInfo) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


Handler = Callable[[AsyncSession, JobContext, Account], Awaitable[int]]


async def _batches(job: JobContext, candidates: Sequence[object], work: Handler) -> int:
    """Run ``work`` on each account matching ``candidates``, locked, in id order,
    :data:`BATCH` per transaction; the sum of what it answered."""
    done = 0
    after = 0
    for _round in range(MAX_ROUNDS):
        async with job.db.transaction() as session:
            ids = list(
                (
                    await session.scalars(
                        select(Account.id)
                        .where(Account.id > after, *candidates)  # type: ignore[arg-type]
                        .order_by(Account.id)
                        .limit(BATCH)
                    )
                ).all()
            )
            for account_id in ids:
                account = await locks.lock_member(session, account_id)
                if account is not None:
                    done += await work(session, job, account)
        if len(ids) < BATCH:
            break
        after = ids[-1]
    return done


# --- expiry ---


def _due_lots(now: dt.datetime) -> Sequence[object]:
    due = select(Lot.account_id).where(
        Lot.remaining > 0, Lot.expires_at.is_not(None), Lot.expires_at <= now
    )
    return (Account.id.in_(due),)


async def _expire(session: AsyncSession, job: JobContext, account: Account) -> int:
    entry = await ledger.expire_due(session, account, job.now)
    return -entry.points if entry is not None else 0


def _noticed_lots(now: dt.datetime, days: int) -> Sequence[object]:
    """Accounts with points expiring within ``days`` at a moment not told yet."""
    lots = select(Lot.account_id).where(
        Lot.account_id == Account.id,
        Lot.remaining > 0,
        Lot.expires_at > now,
        Lot.expires_at <= now + dt.timedelta(days=days),
        or_(Account.expiry_told_for.is_(None), Lot.expires_at > Account.expiry_told_for),
    )
    return (lots.exists(),)


async def _notice(session: AsyncSession, job: JobContext, account: Account) -> int:
    """E-mail the primary contact of ``account``'s customer about the points expiring within
    the notice window (once per moment); 1 when a mail was written."""
    programme = await programmes.load(session)
    now = job.now
    window_end = now + dt.timedelta(days=programme.expiry_notice_days)
    told = account.expiry_told_for
    rows = (
        await session.execute(
            select(Lot.expires_at, func.sum(Lot.remaining))
            .where(
                Lot.account_id == account.id,
                Lot.remaining > 0,
                Lot.expires_at > now,
                Lot.expires_at <= window_end,
            )
            .group_by(Lot.expires_at)
            .order_by(Lot.expires_at)
        )
    ).all()
    if not rows or (told is not None and rows[-1][0] is not None and rows[-1][0] <= told):
        return 0  # told already (another worker, or this run before)
    first, last = rows[0][0], rows[-1][0]
    assert first is not None
    assert last is not None
    points = sum(int(total or 0) for _at, total in rows)
    account.expiry_told_for = last
    await session.flush()
    found = (
        await session.execute(
            select(Contact, Customer)
            .join(Customer, Customer.id == Contact.customer_id)
            .where(
                Contact.customer_id == account.customer_id,
                Contact.is_primary,
                Contact.archived_at.is_(None),
                Contact.email.is_not(None),
                Customer.archived_at.is_(None),
                Customer.erased_at.is_(None),
            )
        )
    ).first()
    if found is None:
        return 0
    contact, _customer = found
    assert contact.email is not None
    try:
        sent = await send_email(
            session,
            job.pm,
            to=str(Address(display_name=contact.name, addr_spec=contact.email)),
            template=MAIL_TEMPLATE,
            values={
                "name": contact.name,
                "points": points,
                "first": first,
                "last": last,
                "balance": account.balance,
            },
            locale=contact.locale or job.settings.locale,
            zone=_zone(contact.time_zone, job.settings.zone),
            now=now,
            kind=MAIL_KIND,
            dedupe_key=f"{MAIL_KIND}:{account.id}:{last.isoformat()}",
        )
    except (MailError, ValueError, IndexError):
        return 0  # an address the mail layer cannot use is no address
    return 1 if sent is not None else 0


# --- tiers ---


async def _tiers_candidates(session: AsyncSession, now: dt.datetime) -> Sequence[object]:
    """Members above the entry tier or with a downgrade pending (points fall out of the
    rolling year), and members who earned in it (a tier created or a threshold lowered
    since their last earn lifts them without waiting for the next)."""
    ladder = await programmes.tiers(session)
    base = ladder[0].key if ladder else programmes.BASE_TIER
    earned = select(Entry.account_id).where(
        Entry.kind == ledger.EARN, Entry.created_at > programmes.rolling_year_start(now)
    )
    return (
        or_(
            Account.tier_key != base,
            Account.downgrade_due_at.is_not(None),
            Account.id.in_(earned),
        ),
    )


async def _recompute(session: AsyncSession, job: JobContext, account: Account) -> int:
    before = account.tier_key
    await tiers.recompute(session, account, job.now, job)
    return 1 if account.tier_key != before else 0


def birthday_key(account_id: int, year: int) -> str:
    return f"loyalty.birthday:{account_id}:{year}"


def _birthday_candidates(today: dt.date) -> Sequence[object]:
    contacts = select(Contact.customer_id).where(
        Contact.is_primary,
        Contact.archived_at.is_(None),
        Contact.birthday.is_not(None),
        extract("month", Contact.birthday) == today.month,
    )
    given = select(Entry.account_id).where(
        Entry.idempotency_key.like(f"loyalty.birthday:%:{today.year}")
    )
    return (Account.customer_id.in_(contacts), Account.id.not_in(given))


async def _birthday(session: AsyncSession, job: JobContext, account: Account) -> int:
    programme = await programmes.load(session)
    if programme.birthday_bonus <= 0:
        return 0
    year = job.now.astimezone(job.settings.zone).year
    key = birthday_key(account.id, year)
    if await session.scalar(select(Entry.id).where(Entry.idempotency_key == key)):
        return 0
    await ledger.earn(
        session,
        account,
        programme.birthday_bonus,
        source="BONUS",
        source_ref=f"birthday:{year}",
        reason="Birthday bonus",
        actor_id=None,
        actor_label=JOB_ACTOR,
        now=job.now,
        expires_at=programmes.expiry_of(programme, job.now),
        idempotency_key=key,
        data={"bonus": "birthday", "year": year},
    )
    await tiers.recompute(session, account, job.now, job)
    return 1


async def run_expiry(job: JobContext) -> Mapping[str, int]:
    expired = await _batches(job, _due_lots(job.now), _expire)
    async with job.db.read() as session:
        programme = await programmes.load(session)
    told = 0
    if programme.expiry_notice_days > 0:
        candidates = _noticed_lots(job.now, programme.expiry_notice_days)
        told = await _batches(job, candidates, _notice)
    return {"loyalty points expired": expired, "loyalty expiry notices": told}


async def run_tiers(job: JobContext) -> Mapping[str, int]:
    async with job.db.read() as session:
        programme = await programmes.load(session)
        candidates = await _tiers_candidates(session, job.now)
    changed = await _batches(job, candidates, _recompute)
    bonuses = 0
    if programme.birthday_bonus > 0:
        today = job.now.astimezone(job.settings.zone).date()
        bonuses = await _batches(job, _birthday_candidates(today), _birthday)
    return {"loyalty tier changes": changed, "loyalty birthday bonuses": bonuses}
