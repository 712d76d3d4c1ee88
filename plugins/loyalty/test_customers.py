"""Merging and erasing customers who are members: a merge keeps every entry (its id, and
where it came from) and folds the balances again; an erasure keeps the figures and drops
what names the person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.plugin_api import ERASED
from plugins.loyalty.models import Account, Coupon, Entry
from plugins.loyalty.service import ledger
from plugins.loyalty.testing_tiers import account, create_customer, earn, enrol, reverse, spend
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import data, gid, mutate_ok

MERGED = "target { id } moved { kind count }"


async def merge(api: Api, source: int, target: int, dry_run: bool = False) -> dict[str, int]:
    payload = await mutate_ok(
        api,
        "mergeCustomers",
        {
            "sourceId": gid("Customer", source),
            "targetId": gid("Customer", target),
            "dryRun": dry_run,
        },
        MERGED,
    )
    return {m["kind"]: m["count"] for m in payload["moved"]}


async def differences(api: Api) -> list[str]:
    async with api.db.transaction() as session:
        return [str(found) for found in await ledger.verify(session)]


async def entries(api: Api, account_id: int) -> list[Entry]:
    async with api.db.read() as session:
        found = await session.scalars(
            select(Entry).where(Entry.account_id == account_id).order_by(Entry.id)
        )
        return list(found.all())


async def account_of(api: Api, customer_id: int) -> Account | None:
    async with api.db.read() as session:
        found: Account | None = await session.scalar(
            select(Account).where(Account.customer_id == customer_id)
        )
        return found


async def test_a_dry_run_counts_and_moves_nothing(admin: Api, clock: FakeClock) -> None:
    source, target = await create_customer(admin, "Old"), await create_customer(admin, "New")
    account_id = await enrol(admin, clock, source)
    await earn(admin, clock, account_id, 100)
    await earn(admin, clock, account_id, 50)
    counts = await merge(admin, source, target, dry_run=True)
    assert (counts["loyaltyAccounts"], counts["loyaltyEntries"]) == (1, 2)
    assert (await account(admin, account_id)).customer_id == source


async def test_the_account_moves_when_the_target_has_none(admin: Api, clock: FakeClock) -> None:
    source, target = await create_customer(admin, "Old"), await create_customer(admin, "New")
    account_id = await enrol(admin, clock, source)
    await earn(admin, clock, account_id, 6000)
    counts = await merge(admin, source, target)
    assert (counts["loyaltyAccounts"], counts["loyaltyEntries"]) == (1, 1)
    moved = await account(admin, account_id)
    assert (moved.customer_id, moved.balance, moved.tier_key) == (target, 6000, "SILVER")
    assert await differences(admin) == []


async def test_both_ledgers_join_in_the_target_account(admin: Api, clock: FakeClock) -> None:
    source, target = await create_customer(admin, "Old"), await create_customer(admin, "New")
    old, new = await enrol(admin, clock, source), await enrol(admin, clock, target)
    first = await earn(admin, clock, old, 3000)
    await spend(admin, clock, old, 500, "REDEEM")
    await earn(admin, clock, new, 2500)
    before = {e.id for e in await entries(admin, old)}
    counts = await merge(admin, source, target)
    assert counts["loyaltyEntries"] == 2
    assert await account_of(admin, source) is None
    joined = await entries(admin, new)
    assert before <= {e.id for e in joined}
    came = [e for e in joined if e.id in before]
    assert all(e.data["mergedFromAccount"] == old for e in came)
    assert all(e.data["mergedFromCustomer"] == source for e in came)
    found = await account(admin, new)
    assert (found.balance, found.lifetime_earned) == (5000, 5500)
    assert found.tier_key == "SILVER"  # 5,500 earned in the year between them
    assert await differences(admin) == []
    await reverse(admin, clock, new, first)  # an entry that moved is still reversible
    assert (await account(admin, new)).balance == 2000
    assert await differences(admin) == []


async def test_a_debt_is_paid_from_the_balance_the_other_brings(
    admin: Api, clock: FakeClock
) -> None:
    source, target = await create_customer(admin, "Old"), await create_customer(admin, "New")
    old, new = await enrol(admin, clock, source), await enrol(admin, clock, target)
    owed = await earn(admin, clock, new, 300)
    await spend(admin, clock, new, 300, "REDEEM")
    await reverse(admin, clock, new, owed)
    assert (await account(admin, new)).debt == 300
    await earn(admin, clock, old, 1000)
    await merge(admin, source, target)
    found = await account(admin, new)
    assert (found.balance, found.debt) == (700, 0)
    assert await differences(admin) == []
    adjusts = [e for e in await entries(admin, new) if e.kind == "ADJUST"]
    assert sorted((e.points, e.debt_points) for e in adjusts) == [(-300, 0), (0, 300)]


async def test_a_merge_without_a_member_source_changes_nothing(
    admin: Api, clock: FakeClock
) -> None:
    source, target = await create_customer(admin, "Old"), await create_customer(admin, "New")
    account_id = await enrol(admin, clock, target)
    counts = await merge(admin, source, target)
    assert "loyaltyAccounts" not in counts
    assert (await account(admin, account_id)).customer_id == target


async def test_erasure_keeps_the_figures_and_drops_the_names(admin: Api, clock: FakeClock) -> None:
    customer_id = await create_customer(admin, "Jane Doe")
    account_id = await enrol(admin, clock, customer_id)
    await earn(admin, clock, account_id, 400)
    redeemed = await spend(admin, clock, account_id, 100, "REDEEM")
    other = await enrol(admin, clock, await create_customer(admin, "Someone else"))
    await earn(admin, clock, other, 10)
    async with admin.db.transaction() as session:
        session.add(
            Coupon(
                code_hash="h" * 64,
                code_hint="WXYZ",
                account_id=account_id,
                entry_id=redeemed,
                description="Gift for Jane Doe",
                status="ISSUED",
                issued_at=clock(),
                expires_at=clock(),
            )
        )
    version = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on Customer { version } } }",
            {"id": gid("Customer", customer_id)},
        )
    )["node"]["version"]
    await mutate_ok(
        admin,
        "eraseCustomer",
        {"id": gid("Customer", customer_id), "version": version, "reason": "GDPR-1"},
        "customer { id }",
    )
    erased = await entries(admin, account_id)
    assert [(e.kind, e.points) for e in erased] == [("EARN", 400), ("REDEEM", -100)]
    assert {e.reason for e in erased} == {ERASED}
    assert {e.actor_label for e in erased} == {ERASED}
    found = await account(admin, account_id)
    assert (found.balance, found.lifetime_earned) == (300, 400)
    async with admin.db.read() as session:
        coupon: Any = await session.scalar(select(Coupon))
    assert coupon.description == ERASED
    assert {e.reason for e in await entries(admin, other)} == {"test"}
    assert await differences(admin) == []


async def test_erasure_scrubs_the_audit_of_the_members_coupons(
    admin: Api, clock: FakeClock
) -> None:
    customer_id = await create_customer(admin, "Jane Doe")
    await enrol(admin, clock, customer_id)
    await mutate_ok(
        admin,
        "issueCoupons",
        {
            "customerIds": [gid("Customer", customer_id)],
            "campaign": "spring",
            "description": "Gift for Jane Doe",
            "validDays": 30,
        },
        "coupons { code }",
    )
    version = data(
        await admin.gql(
            "query($id: ID!) { node(id: $id) { ... on Customer { version } } }",
            {"id": gid("Customer", customer_id)},
        )
    )["node"]["version"]
    await mutate_ok(
        admin,
        "eraseCustomer",
        {"id": gid("Customer", customer_id), "version": version, "reason": "GDPR-1"},
        "customer { id }",
    )
    events = data(
        await admin.gql(
            '{ auditEvents(filter: {action: "loyalty.coupon.issued"}) '
            "{ edges { node { changes { field after } } } } }"
        )
    )["auditEvents"]["edges"]
    (changes,) = [{c["field"]: c["after"] for c in e["node"]["changes"]} for e in events]
    assert changes["description"] == ERASED
    assert changes["campaign"] == "spring"
