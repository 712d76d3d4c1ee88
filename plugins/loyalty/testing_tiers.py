"""Helpers the programme, tier, job, statistics and customer tests of the loyalty plugin
share: members enrolled and points earned through the ledger and the tier recompute, as the
earning services do, at the app's clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.plugin_api import JobContext
from plugins.loyalty.models import Account, Entry
from plugins.loyalty.service import accounts, ledger, tiers
from plugins.loyalty.service import programme as programmes
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import db_id, gid, mutate_ok


def job_context(api: Api, clock: FakeClock) -> JobContext:
    """What a periodic job gets, at the clock's moment, for services a test calls directly."""
    state = api.app.state.crm
    return JobContext(db=api.db, settings=api.settings, pm=state.pm, now=clock(), clock=clock)


async def create_customer(api: Api, name: str, owner_id: int | None = None) -> int:
    values: dict[str, Any] = {"name": name}
    if owner_id is not None:
        values["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", values, "customer { id }")
    return db_id(payload["customer"]["id"])


async def enrol(api: Api, clock: FakeClock, customer_id: int) -> int:
    """The customer's account id (enrolled now)."""
    async with api.db.transaction() as session:
        account = await accounts.enrol(session, customer_id, now=clock(), actor_id=None)
        return account.id


async def member(api: Api, clock: FakeClock, name: str, owner_id: int | None = None) -> int:
    """A new customer's account id."""
    return await enrol(api, clock, await create_customer(api, name, owner_id))


async def earn(
    api: Api,
    clock: FakeClock,
    account_id: int,
    points: int,
    *,
    source: str = "API",
    expires: bool = True,
) -> int:
    """Earn ``points`` now (expiring as the programme says) and recompute the tier, as the
    earning services do; the EARN entry's id."""
    now = clock()
    async with api.db.transaction() as session:
        account = await ledger.lock(session, account_id)
        programme = await programmes.load(session)
        entry = await ledger.earn(
            session,
            account,
            points,
            source=source,
            source_ref=None,
            reason="test",
            actor_id=None,
            actor_label="test",
            now=now,
            expires_at=programmes.expiry_of(programme, now) if expires else None,
        )
        await tiers.recompute(session, account, now, job_context(api, clock))
        return entry.id


async def spend(api: Api, clock: FakeClock, account_id: int, points: int, kind: str) -> int:
    """Take ``points`` now as a REDEEM or a negative ADJUST; the entry's id."""
    async with api.db.transaction() as session:
        account = await ledger.lock(session, account_id)
        entry = await ledger.spend(
            session,
            account,
            points,
            kind=kind,
            source="REWARD" if kind == "REDEEM" else "MANUAL",
            source_ref="1" if kind == "REDEEM" else None,
            reason="test",
            actor_id=None,
            actor_label="test",
            now=clock(),
        )
        return entry.id


async def reverse(api: Api, clock: FakeClock, account_id: int, entry_id: int) -> None:
    async with api.db.transaction() as session:
        account = await ledger.lock(session, account_id)
        entry = await session.get(Entry, entry_id)
        assert entry is not None
        await ledger.reverse(
            session,
            account,
            entry,
            reason="test",
            actor_id=None,
            actor_label="test",
            now=clock(),
        )


async def account(api: Api, account_id: int) -> Account:
    async with api.db.read() as session:
        found = await session.scalar(select(Account).where(Account.id == account_id))
        assert found is not None
        return found


async def set_programme(admin: Api, **values: Any) -> None:
    version = (await admin.gql("{ loyaltyProgramme { version } }"))["data"]["loyaltyProgramme"][
        "version"
    ]
    await mutate_ok(
        admin, "updateLoyaltyProgramme", {"version": version} | values, "programme { version }"
    )


def days(count: float) -> dt.timedelta:
    return dt.timedelta(days=count)
