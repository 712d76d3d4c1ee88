"""Win/loss figures (``competitorStats``, ``Competitor.winLoss``) on a fixed data set built
here, equal to the figures worked out by hand: win rates, loss reasons and their shares,
the amounts per currency and the quarterly trend; each filter; a sales representative's
figures; refused arguments; a fixed number of statements whatever the data."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

from core.plugin_api import SALES_REPRESENTATIVE, Database
from plugins.competitor.models import Encounter
from plugins.competitor.testing_encounters import (
    MONDAY,
    create_competitor,
    create_customer,
    query,
    record,
)
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import db_id, error_code, gid

STATS = """query($filter: CompetitorStatsFilter) { competitorStats(filter: $filter) {
  competitor { name } met won lost winRate
  wonAmount { amount currency } lostAmount { amount currency }
  lossReasons { reason count share }
  quarters { quarter met won lost winRate } } }"""


def money(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"amount": amount, "currency": currency} for amount, currency in pairs]


def quarter(label: str, met: int, won: int, lost: int, rate: float | None) -> dict[str, Any]:
    return {"quarter": label, "met": met, "won": won, "lost": lost, "winRate": rate}


async def stats(api: Api, **filter: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await query(api, STATS, {"filter": filter or None}))[
        "competitorStats"
    ]
    return found


def brief(found: list[dict[str, Any]]) -> list[tuple[str, int, int, int, float | None]]:
    """(name, met, won, lost, winRate) of each competitor."""
    return [(f["competitor"]["name"], f["met"], f["won"], f["lost"], f["winRate"]) for f in found]


async def test_win_loss_figures_equal_those_worked_out_by_hand(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    rep = await admin.user("rep@example.com", [SALES_REPRESENTATIVE])
    other = await admin.user("other@example.com", [SALES_REPRESENTATIVE])
    acme = await create_competitor(admin, "Acme")
    globex = await create_competitor(admin, "Globex")
    zeta = await create_competitor(admin, "Zeta")
    initech = await create_competitor(admin, "Initech")
    one = await create_customer(admin, "One", rep.user_id, industry="Retail", region="East")
    two = await create_customer(admin, "Two", other.user_id, industry="Banking", region="west")
    three = await create_customer(admin, "Three", industry="retail", region="West")
    by = {one: rep.user_id, two: other.user_id, three: admin.user_id}

    async def deal(
        competitor: str, customer: str, day: str, reason: str | None = None, **values: Any
    ) -> None:
        outcome = "WON" if reason is None else "LOST"
        extra = {"reason": reason} if reason else {}
        await record(
            admin,
            competitor,
            customer,
            outcome=outcome,
            occurredOn=day,
            ownerId=gid("User", by[customer]),
            **extra,
            **values,
        )

    # Acme: 7 met, 3 won (1000 CNY, 250 USD and one without an amount), 4 lost.
    await deal(acme, one, "2026-01-10", amount="1000.00", currency="CNY")
    await deal(acme, one, "2026-02-20", "PRICE", amount="500.00", currency="CNY")
    await deal(acme, two, "2026-05-05", "PRICE", amount="300.00", currency="USD")
    await deal(acme, three, "2026-08-01", "PRODUCT_FIT", amount="200.00", currency="CNY")
    await deal(acme, three, "2026-08-15")
    await deal(acme, two, "2025-11-30", "TIMING", amount="100.00", currency="USD")
    await deal(acme, one, "2026-11-20", amount="250.00", currency="USD")
    # Globex: 3 met, 1 won, 2 lost; nothing in 2026-Q2.
    await deal(globex, one, "2026-03-01", "PRICE", amount="700.00", currency="CNY")
    await deal(globex, three, "2026-09-30", amount="400.00", currency="CNY")
    await deal(globex, two, "2026-09-30", "RELATIONSHIP", amount="50.00", currency="USD")

    found = await stats(admin)
    assert found == [
        {
            "competitor": {"name": "Acme"},
            "met": 7,
            "won": 3,
            "lost": 4,
            "winRate": 42.9,  # 3 / 7 = 42.857...
            "wonAmount": money(("1000.00", "CNY"), ("250.00", "USD")),
            "lostAmount": money(("700.00", "CNY"), ("400.00", "USD")),
            "lossReasons": [
                {"reason": "PRICE", "count": 2, "share": 50.0},
                {"reason": "PRODUCT_FIT", "count": 1, "share": 25.0},
                {"reason": "TIMING", "count": 1, "share": 25.0},
            ],
            "quarters": [
                quarter("2025-Q4", 1, 0, 1, 0.0),
                quarter("2026-Q1", 2, 1, 1, 50.0),
                quarter("2026-Q2", 1, 0, 1, 0.0),
                quarter("2026-Q3", 2, 1, 1, 50.0),
                quarter("2026-Q4", 1, 1, 0, 100.0),
            ],
        },
        {
            "competitor": {"name": "Globex"},
            "met": 3,
            "won": 1,
            "lost": 2,
            "winRate": 33.3,
            "wonAmount": money(("400.00", "CNY")),
            "lostAmount": money(("700.00", "CNY"), ("50.00", "USD")),
            "lossReasons": [
                {"reason": "PRICE", "count": 1, "share": 50.0},
                {"reason": "RELATIONSHIP", "count": 1, "share": 50.0},
            ],
            "quarters": [
                quarter("2026-Q1", 1, 0, 1, 0.0),
                quarter("2026-Q2", 0, 0, 0, None),
                quarter("2026-Q3", 2, 1, 1, 50.0),
            ],
        },
    ]

    # The filters: a period (both days included), an owner, a segment, competitors.
    period = await stats(admin, period={"from": "2026-01-10", "to": "2026-08-01"})
    assert brief(period) == [("Acme", 4, 1, 3, 25.0), ("Globex", 1, 0, 1, 0.0)]
    assert period[0]["lostAmount"] == money(("700.00", "CNY"), ("300.00", "USD"))
    assert brief(await stats(admin, period={"from": "2026-09-30"})) == [
        ("Globex", 2, 1, 1, 50.0),
        ("Acme", 1, 1, 0, 100.0),
    ]
    owned = await stats(admin, ownerId=gid("User", rep.user_id))
    assert brief(owned) == [("Acme", 3, 2, 1, 66.7), ("Globex", 1, 0, 1, 0.0)]  # 2 / 3
    retail = await stats(admin, segment={"kind": "INDUSTRY", "value": " RETAIL "})
    assert brief(retail) == [("Acme", 5, 3, 2, 60.0), ("Globex", 2, 1, 1, 50.0)]
    assert retail[0]["lossReasons"] == [
        {"reason": "PRICE", "count": 1, "share": 50.0},
        {"reason": "PRODUCT_FIT", "count": 1, "share": 50.0},
    ]
    west = await stats(admin, segment={"kind": "REGION", "value": "West"})
    assert brief(west) == [("Acme", 4, 1, 3, 25.0), ("Globex", 2, 1, 1, 50.0)]
    assert await stats(admin, segment={"kind": "INDUSTRY", "value": "Mining"}) == []
    named = await stats(admin, competitorIds=[zeta, initech, globex, zeta])
    assert brief(named) == [
        ("Globex", 3, 1, 2, 33.3),
        ("Initech", 0, 0, 0, None),  # met or not, each one named appears; ties by name
        ("Zeta", 0, 0, 0, None),
    ]
    assert named[1] == {
        "competitor": {"name": "Initech"},
        "met": 0,
        "won": 0,
        "lost": 0,
        "winRate": None,
        "wonAmount": [],
        "lostAmount": [],
        "lossReasons": [],
        "quarters": [],
    }
    assert brief(await stats(admin, competitorIds=[acme], ownerId=gid("User", other.user_id))) == [
        ("Acme", 2, 0, 2, 0.0)
    ]

    # A sales representative counts what it may see: its customers' deals and its own.
    assert await stats(rep) == owned
    assert brief(await stats(other)) == [("Acme", 2, 0, 2, 0.0), ("Globex", 1, 0, 1, 0.0)]

    # Competitor.winLoss: all time, batched for a page of competitors.
    page = """{ competitors(first: 10) { edges { node { name
      winLoss { met won lost winRate lossReasons { reason count } quarters { quarter } } } } } }"""
    nodes = [e["node"] for e in (await query(admin, page))["competitors"]["edges"]]
    assert {n["name"]: (n["winLoss"]["met"], n["winLoss"]["winRate"]) for n in nodes} == {
        "Acme": (7, 42.9),
        "Globex": (3, 33.3),
        "Initech": (0, None),
        "Zeta": (0, None),
    }
    acme_node = next(n for n in nodes if n["name"] == "Acme")
    assert acme_node["winLoss"]["lossReasons"][0] == {"reason": "PRICE", "count": 2}

    # Refused arguments.
    for filter, argument in [
        ({"period": {"from": "2026-02-01", "to": "2026-01-31"}}, "filter.period.to"),
        ({"segment": {"kind": "REGION", "value": "  "}}, "filter.segment.value"),
        ({"segment": {"kind": "REGION", "value": "x" * 101}}, "filter.segment.value"),
        ({"competitorIds": [acme, one]}, "filter.competitorIds.1"),
        ({"ownerId": acme}, "filter.ownerId"),
    ]:
        body = await admin.gql(STATS, {"filter": filter})
        assert error_code(body) == "BAD_USER_INPUT", filter
        assert body["errors"][0]["extensions"]["argument"] == argument

    # As many statements for ten encounters as for ten times more.
    counts = []
    for _round in range(2):
        counter = count_statements(admin.db)
        await stats(admin)
        counter.reset()
        found = await stats(admin)
        counts.append(counter.count)
        counter.reset()
        await query(admin, page)
        counts.append(counter.count)
        async with admin.db.transaction() as session:
            session.add_all(
                Encounter(
                    competitor_id=db_id(globex if n % 2 else acme),
                    customer_id=db_id(three),
                    owner_id=admin.user_id,
                    source="MANUAL",
                    outcome="WON" if n % 3 else "LOST",
                    reason=None if n % 3 else "SERVICE",
                    amount=decimal.Decimal("10.00"),
                    currency="EUR",
                    occurred_on=dt.date(2024, 1, 1) + dt.timedelta(days=7 * n),
                    created_at=MONDAY,
                )
                for n in range(100)
            )
    assert counts[0] == counts[2], counts
    assert counts[1] == counts[3], counts
    assert sum(f["met"] for f in found) == 110  # read before the second hundred
    assert sum(f["met"] for f in await stats(admin)) == 210
