"""Helpers of the rewards and coupons tests: customers, members with points and a tier,
rewards, redemptions. Members are opened and credited through the ledger's services (the
rules of those are the ledger's tests); everything under test goes through HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from core.plugin_api import AuditEvent
from plugins.loyalty.models import Account
from plugins.loyalty.service import accounts, ledger
from schema.testkit import Api
from schema.testkit_graphql import db_id, gid, mutate_ok

REWARD = """reward { id name description pointsCost stock validFrom validUntil minTier
  couponDays active version }"""
COUPON_FIELDS = """id codeHint status campaign description issuedAt expiresAt usedAt
  usedReference version reward { id name } customer { id }"""
COUPON = f"coupon {{ {COUPON_FIELDS} }}"


async def create_customer(api: Api, name: str, owner_id: int | None = None) -> str:
    """A customer's global id (created through the API, owned by ``owner_id`` if given)."""
    input: dict[str, Any] = {"name": name}
    if owner_id is not None:
        input["ownerId"] = gid("User", owner_id)
    payload = await mutate_ok(api, "createCustomer", input, "customer { id }")
    customer_id: str = payload["customer"]["id"]
    return customer_id


async def make_member(
    api: Api,
    customer_id: str,
    points: int,
    now: dt.datetime,
    *,
    tier: str | None = None,
    expires_at: dt.datetime | None = None,
) -> int:
    """Enrol the customer, credit ``points`` (an EARN entry), put it in ``tier``; the
    account's id."""
    async with api.db.transaction() as session:
        account = await accounts.enrol(session, db_id(customer_id), now=now, actor_id=None)
        account = await ledger.lock(session, account.id)
        if points:
            await ledger.earn(
                session,
                account,
                points,
                source="MANUAL",
                source_ref=None,
                reason="opening balance",
                actor_id=None,
                actor_label="test",
                now=now,
                expires_at=expires_at,
            )
        if tier is not None:
            account.tier_key = tier
        return account.id


async def balance_of(api: Api, account_id: int) -> int:
    async with api.db.read() as session:
        balance = await session.scalar(select(Account.balance).where(Account.id == account_id))
    assert balance is not None
    return balance


async def audit_actions(api: Api, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    async with api.db.read() as session:
        rows = (
            await session.execute(
                select(AuditEvent.action, AuditEvent.changes)
                .where(AuditEvent.action.like(f"{prefix}%"))
                .order_by(AuditEvent.id)
            )
        ).all()
    return [(action, changes) for action, changes in rows]


async def create_reward(api: Api, **fields: Any) -> dict[str, Any]:
    input = {"name": "Coffee mug", "pointsCost": 100, **fields}
    payload = await mutate_ok(api, "createReward", input, REWARD)
    reward: dict[str, Any] = payload["reward"]
    return reward


async def redeem(api: Api, customer_id: str, reward_id: str) -> dict[str, Any]:
    """The payload of a redemption that must succeed."""
    return await mutate_ok(
        api,
        "redeemReward",
        {"customerId": customer_id, "rewardId": reward_id},
        f"code balance {COUPON}",
    )
