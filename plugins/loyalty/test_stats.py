"""loyaltyStats: the liability, the points moved per calendar month of the deployment's time
zone, members per tier, the redemption rate and the top rewards, over the accounts the caller
may read; the figures below are worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from core.plugin_api import FINANCE, SALES_REPRESENTATIVE, SYSTEM_ADMINISTRATOR, Settings
from plugins.loyalty.models import Coupon, Reward
from plugins.loyalty.testing_tiers import earn, member, reverse, set_programme, spend
from schema.testkit import Api, FakeClock, run_periodic_jobs
from schema.testkit_graphql import data, error_code, gid

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
STATS = """
query($period: DateTimeRange) {
  loyaltyStats(period: $period) {
    startsAt endsAt liability debt members earned redeemed expired reversed redemptionRate
    months { month earned redeemed expired reversed adjusted }
    membersPerTier { key members }
    topRewards { rewardId name redemptions points }
  }
}"""
PERIOD = {"from": "2026-09-01T00:00:00+08:00", "to": "2026-12-01T00:00:00+08:00"}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(plugins=("fixture", "sales", "loyalty"), time_zone="Asia/Shanghai")


def at(clock: FakeClock, year: int, month: int, day: int, hour: int) -> None:
    clock.set(dt.datetime(year, month, day, hour, tzinfo=dt.UTC))


async def reward(api: Api, clock: FakeClock, name: str, account_id: int, entry_id: int) -> int:
    """A reward and a coupon its redemption (``entry_id``) paid for."""
    async with api.db.transaction() as session:
        row = Reward(name=name, points_cost=400, coupon_days=30, active=True)
        session.add(row)
        await session.flush()
        session.add(
            Coupon(
                code_hash=f"hash-{entry_id}",
                code_hint="ABCD",
                account_id=account_id,
                reward_id=row.id,
                entry_id=entry_id,
                status="ISSUED",
                issued_at=clock(),
                expires_at=clock() + dt.timedelta(days=30),
            )
        )
        return row.id


async def stats(api: Api, period: dict[str, str] | None = PERIOD) -> dict[str, Any]:
    found: dict[str, Any] = data(await api.gql(STATS, {"period": period}))["loyaltyStats"]
    return found


async def scenario(admin: Api, clock: FakeClock, owner_id: int) -> tuple[int, int]:
    """Member A (owned by ``owner_id``) and member B, and the points they moved."""
    at(clock, 2026, 9, 5, 3)
    await set_programme(admin, expiryMonths=1)
    a = await member(admin, clock, "A", owner_id=owner_id)
    b = await member(admin, clock, "B")
    await earn(admin, clock, a, 50)  # September; expires on 5 October
    at(clock, 2026, 10, 15, 3)
    await run_periodic_jobs(admin.db, admin.settings, admin.app.state.crm.pm, clock())
    await earn(admin, clock, a, 1000, expires=False)
    await earn(admin, clock, b, 6000, expires=False)  # SILVER
    at(clock, 2026, 10, 31, 17)  # 1 November, 01:00 in Shanghai
    await earn(admin, clock, a, 500, expires=False)
    at(clock, 2026, 11, 10, 3)
    redeemed = await spend(admin, clock, a, 400, "REDEEM")
    await reward(admin, clock, "Mug", a, redeemed)
    await spend(admin, clock, b, 100, "ADJUST")
    at(clock, 2026, 11, 11, 3)
    taken = await earn(admin, clock, a, 200, expires=False)
    at(clock, 2026, 11, 12, 3)
    await reverse(admin, clock, a, taken)
    at(clock, 2026, 11, 23, 9)
    return a, b


async def test_the_figures_of_a_period(admin: Api, clock: FakeClock) -> None:
    await scenario(admin, clock, admin.user_id or 0)
    found = await stats(admin)
    assert found["months"] == [
        {"month": "2026-09", "earned": 50, "redeemed": 0, "expired": 0, "reversed": 0,
         "adjusted": 0},
        {"month": "2026-10", "earned": 7000, "redeemed": 0, "expired": 50, "reversed": 0,
         "adjusted": 0},
        {"month": "2026-11", "earned": 700, "redeemed": 400, "expired": 0, "reversed": 200,
         "adjusted": -100},
    ]  # fmt: skip
    assert (found["earned"], found["redeemed"], found["expired"], found["reversed"]) == (
        7750,
        400,
        50,
        200,
    )
    assert found["redemptionRate"] == pytest.approx(400 / 7750)
    # A: 50 - 50 + 1000 + 500 - 400 + 200 - 200 = 1100; B: 6000 - 100 = 5900
    assert (found["liability"], found["debt"], found["members"]) == (7000, 0, 2)
    tiers = {t["key"]: t["members"] for t in found["membersPerTier"]}
    assert tiers == {"STANDARD": 1, "SILVER": 1, "GOLD": 0}
    (top,) = found["topRewards"]
    assert (top["name"], top["redemptions"], top["points"]) == ("Mug", 1, 400)
    assert top["rewardId"] == gid("Reward", 1)
    assert (found["startsAt"], found["endsAt"]) == (PERIOD["from"], PERIOD["to"])


async def test_figures_keep_to_the_accounts_the_caller_reads(admin: Api, clock: FakeClock) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE, lasting=True)
    await scenario(admin, clock, rep.user_id or 0)
    own = await stats(rep)
    assert (own["liability"], own["members"], own["earned"]) == (1100, 1, 1750)
    assert {t["key"]: t["members"] for t in own["membersPerTier"]}["SILVER"] == 0
    finance = await admin.as_role(FINANCE, lasting=True)
    assert (await stats(finance))["liability"] == 7000


async def test_without_a_period_the_last_twelve_months(admin: Api, clock: FakeClock) -> None:
    found = await stats(admin, None)
    months = [m["month"] for m in found["months"]]
    assert months[0] == "2025-12"
    assert months[-1] == "2026-11"
    assert len(months) == 12
    assert (found["earned"], found["redemptionRate"], found["topRewards"]) == (0, None, [])
    assert found["startsAt"] == "2025-12-01T00:00:00+08:00"
    assert found["endsAt"] == "2026-11-23T17:00:00+08:00"


async def test_bad_periods_are_refused_naming_the_argument(admin: Api) -> None:
    backwards = {"from": "2026-05-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
    body = await admin.gql(STATS, {"period": backwards})
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["argument"] == "period.to"
    too_long = {"from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    body = await admin.gql(STATS, {"period": too_long})
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["argument"] == "period"


async def test_stats_need_loyalty_read(api: Api, admin: Api) -> None:
    assert error_code(await api.gql(STATS, {"period": None})) == "UNAUTHENTICATED"
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    assert error_code(await sysadmin.gql(STATS, {"period": None})) == "FORBIDDEN"


async def test_a_cancelled_coupon_is_not_earned_but_unredeemed(
    admin: Api, clock: FakeClock
) -> None:
    at(clock, 2026, 10, 5, 3)
    a = await member(admin, clock, "A")
    await earn(admin, clock, a, 1000)
    await spend(admin, clock, a, 300, "REDEEM")
    await spend(admin, clock, a, 400, "REDEEM")
    at(clock, 2026, 11, 5, 3)
    await earn(admin, clock, a, 400, source="COUPON")  # the second coupon cancelled
    found = await stats(admin)
    assert [(m["month"], m["earned"], m["redeemed"]) for m in found["months"]] == [
        ("2026-09", 0, 0),
        ("2026-10", 1000, 700),
        ("2026-11", 0, -400),
    ]
    assert (found["earned"], found["redeemed"], found["liability"]) == (1000, 300, 700)
    assert found["redemptionRate"] == pytest.approx(0.3)
