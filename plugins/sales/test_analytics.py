"""Sales analytics over HTTP: the funnel, the forecast and performance equal figures worked
out by hand on a fixed data set, scoped to what the caller may read, currencies apart.

The data set is inserted with the ORM (opportunities with their stage history at chosen
times, owners in teams), as the opportunities' mutations are not what is tested here.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from core.plugin_api import CUSTOMER_MANAGER, FINANCE, SALES_REPRESENTATIVE, Database
from plugins.sales import models
from plugins.sales.testing import create_customer, data, db_id, error_code, gid
from schema.testkit import Api
from schema.testkit_tools import StatementCounter

T0 = dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC)
"""The data set's opportunities are created from here on (October 2026)."""


def day(n: float) -> dt.datetime:
    """``n`` days after :data:`T0`."""
    return T0 + dt.timedelta(days=n)


@dataclass
class Opp:
    owner: str
    currency: str
    amount: str
    path: list[str]
    """Stages entered in order, the first at creation; the last is the current one."""
    created: float
    """Days after T0."""
    closed: float | None = None
    expected: dt.date | None = None
    override: int | None = None
    source: str | None = None


DATA = {
    # rep A (team North)
    "A1": Opp(
        "a",
        "CNY",
        "1000.00",
        ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON"],
        created=0,
        closed=10.5,
        expected=dt.date(2026, 12, 5),  # won: no longer in the forecast
        source="REFERRAL",
    ),
    "A2": Opp("a", "CNY", "2000.00", ["LEAD", "QUALIFIED", "LOST"], 1, closed=5, source="WEBSITE"),
    "A3": Opp(
        "a", "USD", "500.00", ["LEAD", "QUALIFIED", "PROPOSAL"], 4, expected=dt.date(2026, 12, 15)
    ),
    "A4": Opp(  # entered the pipeline at PROPOSAL
        "a",
        "CNY",
        "3000.00",
        ["PROPOSAL", "NEGOTIATION"],
        9,
        expected=dt.date(2027, 1, 20),
        override=60,
    ),
    # rep B (team North)
    "B1": Opp("b", "CNY", "4000.00", ["LEAD", "WON"], 2, closed=22, source="REFERRAL"),
    "B2": Opp("b", "USD", "1500.00", ["LEAD"], 3, expected=dt.date(2026, 12, 1)),
    "B3": Opp("b", "CNY", "333.33", ["LEAD", "QUALIFIED"], 5, expected=dt.date(2026, 12, 31)),
    "B4": Opp("b", "CNY", "800.00", ["LEAD"], 8),  # no expected close date
    "R1": Opp(  # won, then reopened by a manager: open again, closedAt cleared
        "b",
        "CNY",
        "700.00",
        ["LEAD", "QUALIFIED", "WON", "PROPOSAL"],
        7,
        expected=dt.date(2027, 2, 10),
    ),
    # rep C (team South)
    "C1": Opp(
        "c",
        "CNY",
        "5000.00",
        ["LEAD", "QUALIFIED", "PROPOSAL", "LOST"],
        5,
        closed=35,
        source="WEBSITE",
    ),
    "C2": Opp(
        "c",
        "USD",
        "2500.00",
        ["LEAD", "QUALIFIED", "PROPOSAL", "NEGOTIATION", "WON"],
        6,
        closed=38,
        source="PARTNER",
    ),
    "C3": Opp(
        "c",
        "JPY",
        "100000",
        ["LEAD", "QUALIFIED"],
        6,
        expected=dt.date(2026, 12, 10),
        override=33,
    ),
    # before the period (September 2026)
    "X1": Opp("a", "CNY", "9999.00", ["LEAD", "LOST"], -16, closed=-11, source="WEBSITE"),
    "X2": Opp("c", "CNY", "100.00", ["LEAD"], -30, expected=dt.date(2027, 3, 1)),
}
OCTOBER = {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}


async def stage_ids(database: Database) -> dict[str, int]:
    async with database.read() as session:
        rows = (await session.execute(select(models.Stage.key, models.Stage.id))).all()
    return dict(rows)


async def insert(
    database: Database, customer_id: int, owners: dict[str, int | None], opps: dict[str, Opp]
) -> dict[str, int]:
    """Insert ``opps`` with their stage history (one change a day, the last at closing)."""
    stages = await stage_ids(database)
    ids: dict[str, int] = {}
    async with database.transaction() as session:
        start = await session.scalar(
            select(models.Opportunity.id).order_by(models.Opportunity.id.desc())
        )
        for number, (name, opp) in enumerate(opps.items(), start=(start or 0) + 1):
            created = day(opp.created)
            row = models.Opportunity(
                number=f"O{number:06d}",
                customer_id=customer_id,
                owner_id=owners[opp.owner],
                title=name,
                amount=decimal.Decimal(opp.amount),
                currency=opp.currency,
                expected_close_on=opp.expected,
                stage_id=stages[opp.path[-1]],
                probability_override=opp.override,
                source=opp.source,
                closed_at=day(opp.closed) if opp.closed is not None else None,
                created_at=created,
                updated_at=created,
            )
            session.add(row)
            await session.flush()
            ids[name] = row.id
            previous = None
            for step, key in enumerate(opp.path):
                closing = opp.closed if step == len(opp.path) - 1 else None
                session.add(
                    models.StageChange(
                        opportunity_id=row.id,
                        from_stage_id=previous,
                        to_stage_id=stages[key],
                        changed_at=created + dt.timedelta(days=step)
                        if closing is None
                        else day(closing),
                    )
                )
                previous = stages[key]
    return ids


@dataclass
class World:
    admin: Api
    reps: dict[str, Api]
    north: int
    south: int


@pytest.fixture
async def world(admin: Api) -> World:
    reps = {
        "a": await admin.user("rep.a@example.com", [SALES_REPRESENTATIVE], team="North"),
        "b": await admin.user("rep.b@example.com", [SALES_REPRESENTATIVE], team="North"),
        "c": await admin.user("rep.c@example.com", [SALES_REPRESENTATIVE], team="South"),
    }
    customer = db_id(await create_customer(admin, "Acme"))
    await insert(admin.db, customer, {k: v.user_id for k, v in reps.items()}, DATA)
    teams = data(await admin.gql("{ teams(first: 10) { edges { node { id name } } } }"))
    by_name = {e["node"]["name"]: db_id(e["node"]["id"]) for e in teams["teams"]["edges"]}
    return World(admin, reps, by_name["North"], by_name["South"])


def money(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"amount": amount, "currency": currency} for currency, amount in pairs]


FUNNEL = """
query($filter: SalesFunnelFilter) {
  salesFunnel(filter: $filter) {
    stages { key kind count amount { amount currency } conversionToNext conversionToWon }
    entered amount { amount currency } open won lost lostAmount { amount currency } winRate
  }
}"""


async def funnel(api: Api, **filter: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(await api.gql(FUNNEL, {"filter": filter}))["salesFunnel"]
    return result


async def test_the_funnel_equals_the_figures_worked_by_hand(world: World) -> None:
    found = await funnel(world.admin, period=OCTOBER)
    # Created in October: A1-A4, B1-B4, R1, C1-C3 (12); X1 and X2 are September's.
    # Furthest OPEN stage entered (1 LEAD .. 4 NEGOTIATION) and WON ever entered:
    #   A1 4+WON  A2 2  A3 3  A4 4 (entered at PROPOSAL: passed LEAD and QUALIFIED)
    #   B1 1+WON (LEAD straight to WON: passed every OPEN stage)  B2 1  B3 2  B4 1
    #   R1 2+WON then PROPOSAL: 3+WON (won once, reopened: passed every OPEN stage)
    #   C1 3  C2 4+WON  C3 2
    # LEAD 12; QUALIFIED 12 - B2 - B4 = 10; PROPOSAL A1 A3 A4 B1 C1 C2 R1 = 7;
    # NEGOTIATION A1 A4 B1 C2 R1 = 5; WON (now WON, as `won` counts) A1 B1 C2 = 3.
    stages = {s["key"]: s for s in found["stages"]}
    assert [s["key"] for s in found["stages"]] == [
        "LEAD",
        "QUALIFIED",
        "PROPOSAL",
        "NEGOTIATION",
        "WON",
    ]
    assert [s["count"] for s in found["stages"]] == [12, 10, 7, 5, 3]
    assert [s["conversionToNext"] for s in found["stages"]] == [
        round(10 / 12, 4),  # 0.8333
        7 / 10,
        round(5 / 7, 4),  # 0.7143
        3 / 5,
        None,  # WON has no next stage
    ]
    assert [s["conversionToWon"] for s in found["stages"]] == [
        3 / 12,
        3 / 10,
        round(3 / 7, 4),
        3 / 5,
        1.0,
    ]
    # LEAD: CNY 1000 + 2000 + 3000 + 4000 + 333.33 + 800 + 700 + 5000 = 16833.33;
    # USD 500 + 1500 + 2500 = 4500; JPY 100000 (never added to the others).
    assert stages["LEAD"]["amount"] == money(
        ("CNY", "16833.33"), ("JPY", "100000"), ("USD", "4500.00")
    )
    # QUALIFIED: LEAD less B2 (USD 1500) and B4 (CNY 800).
    assert stages["QUALIFIED"]["amount"] == money(
        ("CNY", "16033.33"), ("JPY", "100000"), ("USD", "3000.00")
    )
    # PROPOSAL: CNY A1 1000 + A4 3000 + B1 4000 + C1 5000 + R1 700; USD A3 500 + C2 2500.
    assert stages["PROPOSAL"]["amount"] == money(("CNY", "13700.00"), ("USD", "3000.00"))
    assert stages["NEGOTIATION"]["amount"] == money(("CNY", "8700.00"), ("USD", "2500.00"))
    assert stages["WON"]["amount"] == money(("CNY", "5000.00"), ("USD", "2500.00"))
    # Now: open A3 A4 B2 B3 B4 R1 C3 (7), won A1 B1 C2 (3), lost A2 C1 (2; CNY 2000 + 5000).
    assert (found["entered"], found["open"], found["won"], found["lost"]) == (12, 7, 3, 2)
    assert found["amount"] == stages["LEAD"]["amount"]
    assert found["lostAmount"] == money(("CNY", "7000.00"))
    assert found["winRate"] == 3 / 5
    assert stages["WON"]["count"] == found["won"]


async def test_the_funnel_by_owner_and_team_and_for_a_representative(world: World) -> None:
    rep_a = world.reps["a"]
    # Rep A's October: A1 (to WON), A2 (QUALIFIED, lost), A3 (PROPOSAL), A4 (NEGOTIATION).
    own = await funnel(rep_a, period=OCTOBER)
    assert [s["count"] for s in own["stages"]] == [4, 4, 3, 2, 1]
    assert [s["conversionToNext"] for s in own["stages"]] == [1.0, 0.75, round(2 / 3, 4), 0.5, None]
    assert (own["entered"], own["open"], own["won"], own["lost"]) == (4, 2, 1, 1)
    assert own["stages"][0]["amount"] == money(("CNY", "6000.00"), ("USD", "500.00"))
    # The administrator filtering on rep A sees the same; rep A asking for rep B sees nothing.
    assert await funnel(world.admin, period=OCTOBER, ownerId=gid("User", rep_a.user_id)) == own
    other = await funnel(rep_a, ownerId=gid("User", world.reps["b"].user_id))
    assert other["entered"] == 0
    assert [s["count"] for s in other["stages"]] == [0, 0, 0, 0, 0]
    assert [s["conversionToNext"] for s in other["stages"]] == [None] * 5
    assert other["winRate"] is None
    assert other["amount"] == []
    # Without a period rep A's September X1 (LEAD, lost) counts too.
    assert [s["count"] for s in (await funnel(rep_a))["stages"]] == [5, 4, 3, 2, 1]
    # Team North: A1-A4, B1-B4, R1 (9). LEAD 9; QUALIFIED 9 - B2 - B4 = 7;
    # PROPOSAL A1 A3 A4 B1 R1 = 5; NEGOTIATION A1 A4 B1 R1 = 4; WON (now) A1 B1 = 2.
    north = await funnel(world.admin, period=OCTOBER, teamId=gid("Team", world.north))
    assert [s["count"] for s in north["stages"]] == [9, 7, 5, 4, 2]
    assert north["won"] == 2
    assert north["lost"] == 1


async def test_team_scope_and_customers_owned_widen_what_is_counted(world: World) -> None:
    # A customer manager (TEAM scope) in North sees North's figures.
    manager = await world.admin.user("manager@example.com", [CUSTOMER_MANAGER], team="North")
    north = await funnel(world.admin, period=OCTOBER, teamId=gid("Team", world.north))
    assert await funnel(manager, period=OCTOBER) == north
    # OWN scope reaches opportunities on the customers one owns: Z1 (rep A's) on rep C's
    # customer counts for rep C besides C1, C2 and C3.
    rep_c = world.reps["c"]
    customer = db_id(await create_customer(world.admin, "Initech", owner_id=rep_c.user_id))
    owners: dict[str, int | None] = {"a": world.reps["a"].user_id}
    await insert(world.admin.db, customer, owners, {"Z1": Opp("a", "EUR", "9.99", ["LEAD"], 3)})
    own = await funnel(rep_c, period=OCTOBER)
    assert [s["count"] for s in own["stages"]] == [4, 3, 2, 1, 1]
    assert own["stages"][0]["amount"] == money(
        ("CNY", "5000.00"), ("EUR", "9.99"), ("JPY", "100000"), ("USD", "2500.00")
    )


async def test_an_inactive_stage_is_not_listed_but_passed(world: World) -> None:
    async with world.admin.db.transaction() as session:
        stage = await session.scalar(select(models.Stage).where(models.Stage.key == "QUALIFIED"))
        assert stage is not None
        stage.active = False
    found = await funnel(world.admin, period=OCTOBER)
    # As in the full funnel without the QUALIFIED row: LEAD 12, PROPOSAL 7, NEGOTIATION 5.
    assert [(s["key"], s["count"]) for s in found["stages"]] == [
        ("LEAD", 12),
        ("PROPOSAL", 7),
        ("NEGOTIATION", 5),
        ("WON", 3),
    ]
    assert found["stages"][0]["conversionToNext"] == round(7 / 12, 4)


async def test_the_won_row_counts_those_now_won(admin: Api) -> None:
    """Won, reopened and lost: it passed every OPEN stage, but it is not WON any more, as
    neither `won` nor `winRate` count it."""
    customer = db_id(await create_customer(admin, "Acme"))
    path = ["LEAD", "WON", "QUALIFIED", "LOST"]
    opps = {
        "L1": Opp("a", "CNY", "100.00", path, 0, closed=3),
        "W1": Opp("a", "CNY", "50.00", ["LEAD", "WON"], 0, closed=2),
    }
    await insert(admin.db, customer, {"a": admin.user_id}, opps)
    found = await funnel(admin)
    assert [(s["key"], s["count"]) for s in found["stages"]] == [
        ("LEAD", 2),
        ("QUALIFIED", 2),
        ("PROPOSAL", 2),
        ("NEGOTIATION", 2),
        ("WON", 1),
    ]
    assert found["stages"][-1]["amount"] == money(("CNY", "50.00"))
    assert found["stages"][0]["conversionToWon"] == 0.5
    assert (found["won"], found["lost"], found["winRate"]) == (1, 1, 0.5)


FORECAST = """
query($filter: SalesForecastFilter!) {
  salesForecast(filter: $filter) {
    months {
      month count amount { amount currency } weightedAmount { amount currency }
      groups { key teamName owner { name } count amount { amount currency }
               weightedAmount { amount currency } }
    }
    total { count amount { amount currency } weightedAmount { amount currency } }
  }
}"""


async def forecast(api: Api, **filter: Any) -> dict[str, Any]:
    body = await api.gql(FORECAST, {"filter": {"from": "2026-12", "to": "2027-02", **filter}})
    result: dict[str, Any] = data(body)["salesForecast"]
    return result


async def test_the_forecast_equals_the_figures_worked_by_hand(world: World) -> None:
    found = await forecast(world.admin)
    # Open, expected December 2026 to February 2027 (A1 is won, B4 has no date, X2 is March):
    #   A3 USD 500 at PROPOSAL 50%        -> 250.00        (December)
    #   B2 USD 1500 at LEAD 10%           -> 150.00        (December)
    #   B3 CNY 333.33 at QUALIFIED 25%    -> 83.3325       (December)
    #   C3 JPY 100000, overridden 33%     -> 33000         (December)
    #   A4 CNY 3000, overridden 60%       -> 1800.00       (January)
    #   R1 CNY 700 at PROPOSAL 50%        -> 350.00        (February)
    december, january, february = found["months"]
    assert [m["month"] for m in found["months"]] == ["2026-12", "2027-01", "2027-02"]
    assert december["count"] == 4
    assert december["amount"] == money(("CNY", "333.33"), ("JPY", "100000"), ("USD", "2000.00"))
    assert december["weightedAmount"] == money(
        ("CNY", "83.33"), ("JPY", "33000"), ("USD", "400.00")
    )
    assert december["groups"] == []
    assert (january["count"], january["amount"], january["weightedAmount"]) == (
        1,
        money(("CNY", "3000.00")),
        money(("CNY", "1800.00")),
    )
    assert (february["count"], february["weightedAmount"]) == (1, money(("CNY", "350.00")))
    # CNY weighted: 83.3325 + 1800 + 350 = 2233.3325, rounded once: 2233.33.
    assert found["total"] == {
        "count": 6,
        "amount": money(("CNY", "4033.33"), ("JPY", "100000"), ("USD", "2000.00")),
        "weightedAmount": money(("CNY", "2233.33"), ("JPY", "33000"), ("USD", "400.00")),
    }
    # An empty month is listed; a month outside the range is not counted.
    march = await forecast(world.admin, **{"from": "2027-03", "to": "2027-04"})
    assert [(m["month"], m["count"]) for m in march["months"]] == [("2027-03", 1), ("2027-04", 0)]
    assert march["months"][1]["amount"] == []
    assert march["months"][1]["weightedAmount"] == []


async def test_the_forecast_by_owner_and_team(world: World) -> None:
    by_owner = await forecast(world.admin, groupBy="OWNER")
    december = by_owner["months"][0]["groups"]
    assert [(g["owner"]["name"], g["count"]) for g in december] == [
        ("Rep A", 1),
        ("Rep B", 2),
        ("Rep C", 1),
    ]
    assert december[0]["key"] == gid("User", world.reps["a"].user_id)
    assert december[1]["weightedAmount"] == money(("CNY", "83.33"), ("USD", "150.00"))
    assert december[2]["weightedAmount"] == money(("JPY", "33000"))
    by_team = await forecast(world.admin, groupBy="TEAM")
    december = by_team["months"][0]["groups"]
    # North in December: A3, B2, B3; South: C3.
    assert [(g["teamName"], g["key"], g["count"]) for g in december] == [
        ("North", gid("Team", world.north), 3),
        ("South", gid("Team", world.south), 1),
    ]
    assert december[0]["amount"] == money(("CNY", "333.33"), ("USD", "2000.00"))
    assert december[0]["owner"] is None
    # Rep C sees their own pipeline only: C3 (X2 is March).
    own = await forecast(world.reps["c"])
    rep_c_id = world.reps["c"].user_id
    assert own["total"]["count"] == 1
    assert own["total"]["weightedAmount"] == money(("JPY", "33000"))
    south = await forecast(world.admin, teamId=gid("Team", world.south))
    assert south["total"] == own["total"]
    assert await forecast(world.admin, ownerId=gid("User", rep_c_id)) == own
    # A team filter with the split by team (the owner's user joined twice over).
    split = await forecast(world.admin, teamId=gid("Team", world.north), groupBy="TEAM")
    assert [(g["teamName"], g["count"]) for g in split["months"][0]["groups"]] == [("North", 3)]
    assert split["total"]["count"] == 5  # A3, B2, B3 in December, A4, R1 after


FIGURES = """won lost winRate wonAmount { amount currency } averageDealSize { amount currency }
  averageCycleDays"""
PERFORMANCE = f"""
query($filter: SalesPerformanceFilter, $groupBy: SalesPerformanceGroupBy) {{
  salesPerformance(filter: $filter, groupBy: $groupBy) {{
    groups {{ key teamName owner {{ name }} {FIGURES} }}
    total {{ {FIGURES} }}
  }}
}}"""
CLOSED = {"from": "2026-10-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}


async def performance(api: Api, group_by: str | None = None, **filter: Any) -> dict[str, Any]:
    body = await api.gql(PERFORMANCE, {"filter": {"period": CLOSED, **filter}, "groupBy": group_by})
    result: dict[str, Any] = data(body)["salesPerformance"]
    return result


def figures(
    won: int, lost: int, rate: float | None, amount: list[Any], deal: list[Any], days: float
) -> dict[str, Any]:
    return {
        "won": won,
        "lost": lost,
        "winRate": rate,
        "wonAmount": amount,
        "averageDealSize": deal,
        "averageCycleDays": days,
    }


async def test_performance_equals_the_figures_worked_by_hand(world: World) -> None:
    # Closed October-November (X1 closed in September; R1 was reopened, so it is open):
    #   A1 won  CNY 1000  10.5 days  REFERRAL  October
    #   A2 lost CNY 2000   4 days    WEBSITE   October
    #   B1 won  CNY 4000  20 days    REFERRAL  October
    #   C1 lost CNY 5000  30 days    WEBSITE   November
    #   C2 won  USD 2500  32 days    PARTNER   November
    found = await performance(world.admin)
    assert found["groups"] == []
    # Won 3 of 5; won CNY 1000 + 4000 = 5000 in 2 deals (2500 each), USD 2500 in 1;
    # cycle (10.5 + 4 + 20 + 30 + 32) / 5 = 19.3 days.
    cny_usd = money(("CNY", "5000.00"), ("USD", "2500.00"))
    assert found["total"] == figures(
        3, 2, 0.6, cny_usd, money(("CNY", "2500.00"), ("USD", "2500.00")), 19.3
    )
    by_owner = await performance(world.admin, "OWNER")
    assert [g["owner"]["name"] for g in by_owner["groups"]] == ["Rep A", "Rep B", "Rep C"]
    assert [{k: g[k] for k in figures(0, 0, None, [], [], 0)} for g in by_owner["groups"]] == [
        # A: A1 won, A2 lost: 1/2; cycle (10.5 + 4) / 2 = 7.25
        figures(1, 1, 0.5, money(("CNY", "1000.00")), money(("CNY", "1000.00")), 7.25),
        figures(1, 0, 1.0, money(("CNY", "4000.00")), money(("CNY", "4000.00")), 20.0),
        # C: C1 lost, C2 won: cycle (30 + 32) / 2 = 31
        figures(1, 1, 0.5, money(("USD", "2500.00")), money(("USD", "2500.00")), 31.0),
    ]
    by_team = await performance(world.admin, "TEAM")
    assert [(g["teamName"], g["key"]) for g in by_team["groups"]] == [
        ("North", gid("Team", world.north)),
        ("South", gid("Team", world.south)),
    ]
    north = by_team["groups"][0]
    # North: A1, A2, B1: won 2 of 3; CNY 5000 / 2; cycle (10.5 + 4 + 20) / 3 = 11.5
    assert (north["won"], north["lost"], north["winRate"]) == (2, 1, round(2 / 3, 4))
    assert north["averageDealSize"] == money(("CNY", "2500.00"))
    assert north["averageCycleDays"] == 11.5
    by_source = await performance(world.admin, "SOURCE")
    assert [(g["key"], g["won"], g["lost"], g["winRate"]) for g in by_source["groups"]] == [
        ("PARTNER", 1, 0, 1.0),
        ("REFERRAL", 2, 0, 1.0),
        ("WEBSITE", 0, 2, 0.0),  # A2 and C1
    ]
    website = by_source["groups"][2]
    assert website["wonAmount"] == []
    assert website["averageDealSize"] == []
    assert website["averageCycleDays"] == 17.0  # (4 + 30) / 2
    by_month = await performance(world.admin, "MONTH")
    assert [(g["key"], g["won"], g["lost"], g["averageCycleDays"]) for g in by_month["groups"]] == [
        ("2026-10", 2, 1, 11.5),  # A1, A2, B1
        ("2026-11", 1, 1, 31.0),  # C1, C2
    ]
    assert by_month["groups"][1]["wonAmount"] == money(("USD", "2500.00"))


async def test_performance_is_scoped_and_filtered(world: World) -> None:
    own = await performance(world.reps["c"])
    assert own["total"] == figures(
        1, 1, 0.5, money(("USD", "2500.00")), money(("USD", "2500.00")), 31.0
    )
    south = await performance(world.admin, teamId=gid("Team", world.south))
    assert south["total"] == own["total"]
    by_team = await performance(world.admin, "TEAM", teamId=gid("Team", world.south))
    assert [(g["teamName"], g["won"], g["lost"]) for g in by_team["groups"]] == [("South", 1, 1)]
    by_owner = await performance(world.reps["c"], "OWNER")
    assert [g["owner"]["name"] for g in by_owner["groups"]] == ["Rep C"]
    # The period's end is exclusive: C2 closed on day 38, C1 on day 35.
    until = {"from": CLOSED["from"], "to": day(38).isoformat()}
    before = await performance(world.admin, period=until)
    assert (before["total"]["won"], before["total"]["lost"]) == (2, 2)
    # With no period, X1 (rep A, lost in September) counts too.
    body = await world.admin.gql(PERFORMANCE, {"filter": None, "groupBy": None})
    assert data(body)["salesPerformance"]["total"]["lost"] == 3


async def test_analytics_need_sales_read(world: World) -> None:
    finance = await world.admin.user("finance@example.com", [FINANCE])
    for query, variables in (
        (FUNNEL, {}),
        (FORECAST, {"filter": {"from": "2026-12", "to": "2026-12"}}),
        (PERFORMANCE, {}),
    ):
        assert error_code(await finance.gql(query, variables)) == "FORBIDDEN"


async def refused(api: Api, query: str, variables: dict[str, Any]) -> str:
    body = await api.gql(query, variables)
    assert error_code(body) == "BAD_USER_INPUT", body
    argument: str = body["errors"][0]["extensions"]["argument"]
    return argument


@pytest.mark.parametrize(
    ("months", "argument"),
    [
        ({"from": "2026-13", "to": "2027-01"}, "filter.from"),
        ({"from": "26-01", "to": "2027-01"}, "filter.from"),
        ({"from": "2026-01", "to": "2026/12"}, "filter.to"),
        ({"from": "2026-01", "to": "0000-12"}, "filter.to"),
        ({"from": "2027-01", "to": "2026-12"}, "filter.to"),  # to before from
        ({"from": "2026-01", "to": "2029-01"}, "filter.to"),  # 37 months
    ],
)
async def test_bad_forecast_months_are_refused(
    admin: Api, months: dict[str, str], argument: str
) -> None:
    assert await refused(admin, FORECAST, {"filter": months}) == argument


async def test_a_forecast_of_36_months_is_answered(admin: Api) -> None:
    found = data(await admin.gql(FORECAST, {"filter": {"from": "2026-01", "to": "2028-12"}}))
    months = found["salesForecast"]["months"]
    assert len(months) == 36
    assert months[-1]["month"] == "2028-12"


async def test_bad_filters_are_refused_naming_the_argument(admin: Api) -> None:
    user, team = gid("User", 1), gid("Team", 1)
    backwards = {"from": "2026-11-01T00:00:00Z", "to": "2026-10-01T00:00:00Z"}
    month = {"from": "2026-12", "to": "2026-12"}
    for query, variables, argument in (
        (FUNNEL, {"filter": {"ownerId": team}}, "filter.ownerId"),
        (FUNNEL, {"filter": {"teamId": user}}, "filter.teamId"),
        (FUNNEL, {"filter": {"period": backwards}}, "filter.period.to"),
        (FORECAST, {"filter": {**month, "ownerId": team}}, "filter.ownerId"),
        (FORECAST, {"filter": {**month, "teamId": user}}, "filter.teamId"),
        (PERFORMANCE, {"filter": {"ownerId": team}}, "filter.ownerId"),
        (PERFORMANCE, {"filter": {"teamId": user}}, "filter.teamId"),
        (PERFORMANCE, {"filter": {"period": backwards}}, "filter.period.to"),
    ):
        assert await refused(admin, query, variables) == argument, (query, variables)


async def test_the_figures_run_the_same_statements_for_5_and_50_opportunities(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE], team="North")
    customer = db_id(await create_customer(admin, "Acme"))
    paths = [["LEAD"], ["LEAD", "QUALIFIED", "LOST"], ["LEAD", "PROPOSAL", "WON"]]

    def batch(start: int, count: int) -> dict[str, Opp]:
        return {
            f"N{i}": Opp(
                "r",
                ["CNY", "USD"][i % 2],
                "10.00",
                paths[i % 3],
                0,
                closed=None if i % 3 == 0 else 5,
                expected=dt.date(2026, 12, 1),
            )
            for i in range(start, start + count)
        }

    counter = count_statements(admin.db)
    statements = []
    for start, count in ((0, 5), (5, 45)):
        await insert(admin.db, customer, {"r": rep.user_id}, batch(start, count))
        for api in (admin, rep):
            counter.reset()
            found = await funnel(api)
            assert found["entered"] == start + count
            statements.append((api.user_id, "funnel", counter.count))
            counter.reset()
            assert (await performance(api))["total"]["won"] == (start + count) // 3
            statements.append((api.user_id, "performance", counter.count))
            counter.reset()
            assert (await forecast(api))["total"]["count"] == (start + count + 2) // 3
            statements.append((api.user_id, "forecast", counter.count))
    assert statements[:6] == statements[6:], counter.statements


async def test_a_forecast_up_to_the_last_month_of_9999_is_answered(admin: Api) -> None:
    body = await admin.gql(FORECAST, {"filter": {"from": "9999-11", "to": "9999-12"}})
    months = data(body)["salesForecast"]["months"]
    assert [m["month"] for m in months] == ["9999-11", "9999-12"]
    assert [m["count"] for m in months] == [0, 0]
