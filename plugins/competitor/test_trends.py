"""Trends through HTTP, on a fixed data set whose figures were computed by hand: the market
share series of a segment (periods without an observation absent, not zero), the
least-squares forecast of the next period over the last consecutive points (a gap cuts the
run; clamped to 0-100; rounded half-up to one place), and competitors' average prices per
period and currency with theirs; the arguments refused.

The clock stands on 2026-11-23: the current quarter is 2026-Q4, and the default window of 8
quarters runs from 2025-Q1."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest

from core.plugin_api import SUPPORT_REPRESENTATIVE
from plugins.competitor import models
from plugins.competitor.testing import MONDAY
from plugins.competitor.testing_encounters import create_competitor
from schema.testkit import Api
from schema.testkit_graphql import data, db_id, gid, mutate_ok

SERIES = """query($segment: String!, $kind: SegmentKind!, $periodKind: PeriodKind, $periods: Int) {
  marketShareSeries(segmentKind: $kind, segment: $segment, periodKind: $periodKind,
                    periods: $periods) {
    ours competitor { name }
    points { period periodStart sharePercent isForecast }
    forecast { period sharePercent isForecast } } }"""
PRICES = """query($category: String, $product: ID, $region: String, $periodKind: PeriodKind,
                  $periods: Int) {
  priceTrend(category: $category, competitorProductId: $product, region: $region,
             periodKind: $periodKind, periods: $periods) {
    productName competitorName currency product { name } competitor { name }
    points { period price { amount currency } observations isForecast }
    forecast { period price { amount currency } observations isForecast } } }"""


async def make_competitor(api: Api, name: str) -> int:
    """A competitor's profile, written straight to the database: its database id."""
    return db_id(await create_competitor(api, name))


async def make_product(
    api: Api,
    competitor_id: int,
    name: str,
    category: str,
    prices: list[tuple[str, str, str, str | None]],
) -> int:
    """A competitor product and its price history: (amount, currency, observed on, region)."""
    async with api.db.transaction() as session:
        product = models.Product(
            competitor_id=competitor_id,
            name=name,
            name_key=name.casefold(),
            category=category,
            created_at=MONDAY,
            updated_at=MONDAY,
        )
        session.add(product)
        await session.flush()
        for amount, currency, day, region in prices:
            session.add(
                models.PriceObservation(
                    product_id=product.id,
                    amount=decimal.Decimal(amount),
                    currency=currency,
                    observed_on=dt.date.fromisoformat(day),
                    region=region,
                    created_at=MONDAY,
                )
            )
        return product.id


async def shares(api: Api, competitor: int | None, segment: str, periods: dict[str, str]) -> None:
    """Record a subject's share of ``segment`` in each period (label: share)."""
    for label, share in periods.items():
        input: dict[str, Any] = {
            "segmentKind": "INDUSTRY",
            "segment": segment,
            "period": label,
            "sharePercent": share,
        }
        if competitor is not None:
            input["competitorId"] = gid("Competitor", competitor)
        await mutate_ok(api, "recordMarketShare", input, "marketShare { id }")


def points(series: dict[str, Any]) -> list[tuple[str, float]]:
    assert all(point["isForecast"] is False for point in series["points"])
    return [(point["period"], point["sharePercent"]) for point in series["points"]]


def forecast(series: dict[str, Any]) -> tuple[str, float] | None:
    found = series["forecast"]
    if found is None:
        return None
    assert found["isForecast"] is True
    return found["period"], found["sharePercent"]


async def series_of(api: Api, segment: str, **arguments: Any) -> list[dict[str, Any]]:
    variables = {"segment": segment, "kind": "INDUSTRY", **arguments}
    found: list[dict[str, Any]] = data(await api.gql(SERIES, variables))["marketShareSeries"]
    return found


async def test_share_series_and_forecasts_equal_the_figures_by_hand(
    admin: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = await make_competitor(admin, "Acme")
    globex = await make_competitor(admin, "Globex")
    hooli = await make_competitor(admin, "Hooli")
    initech = await make_competitor(admin, "Initech")
    stark = await make_competitor(admin, "Stark")
    umbrella = await make_competitor(admin, "Umbrella")
    await shares(
        admin,
        None,
        "Retail",
        {
            "2025-Q4": "40",
            "2026-Q1": "38",
            "2026-Q2": "37",
            "2026-Q3": "35",
            "2026-Q4": "33",
            "2026-10": "12",
        },
    )
    # Acme has no 2026-Q1 figure: the run of consecutive quarters starts again in 2026-Q2.
    await shares(
        admin,
        acme,
        "Retail",
        {"2025-Q3": "20", "2025-Q4": "22", "2026-Q2": "25", "2026-Q3": "27", "2026-Q4": "30"},
    )
    await shares(admin, globex, "retail", {"2024-Q4": "50", "2026-Q3": "5", "2026-Q4": "2"})
    await shares(admin, hooli, "Retail", {"2026-Q3": "30", "2026-Q4": "34.9"})
    await shares(admin, initech, "Retail", {"2026-Q2": "9"})
    await shares(admin, stark, "Niche", {"2026-Q3": "98", "2026-Q4": "99.5"})
    await shares(admin, umbrella, "Tiny", {"2026-Q3": "10.05", "2026-Q4": "10.15"})

    found = await series_of(admin, " RETAIL ")
    assert [(s["ours"], s["competitor"]) for s in found] == [
        (True, None),
        (False, {"name": "Acme"}),
        (False, {"name": "Globex"}),
        (False, {"name": "Hooli"}),
        (False, {"name": "Initech"}),
    ]
    ours, by_acme, by_globex, by_hooli, by_initech = found
    assert ours["points"][0] == {
        "period": "2025-Q4",
        "periodStart": "2025-10-01",
        "sharePercent": 40.0,
        "isForecast": False,
    }
    assert points(ours) == [
        ("2025-Q4", 40.0),
        ("2026-Q1", 38.0),
        ("2026-Q2", 37.0),
        ("2026-Q3", 35.0),
        ("2026-Q4", 33.0),
    ]
    # The last 4 points (38, 37, 35, 33) at x = 0..3: mean x 1.5, mean y 35.75,
    # slope -8.5 / 5 = -1.7; at x = 4: 35.75 - 1.7 * 2.5 = 31.5.
    assert forecast(ours) == ("2027-Q1", 31.5)
    # A missing period is absent, not zero.
    assert points(by_acme) == [
        ("2025-Q3", 20.0),
        ("2025-Q4", 22.0),
        ("2026-Q2", 25.0),
        ("2026-Q3", 27.0),
        ("2026-Q4", 30.0),
    ]
    # The run after the gap: 25, 27, 30; slope 5 / 2 = 2.5; 27.333 + 2.5 * 2 = 32.333 -> 32.3.
    assert forecast(by_acme) == ("2027-Q1", 32.3)
    # 2024-Q4 is outside the 8 quarters; 5 then 2 heads to -1: kept at 0.
    assert points(by_globex) == [("2026-Q3", 5.0), ("2026-Q4", 2.0)]
    assert forecast(by_globex) == ("2027-Q1", 0.0)
    assert forecast(by_hooli) == ("2027-Q1", 39.8)  # 34.9 + 4.9
    assert points(by_initech) == [("2026-Q2", 9.0)]
    assert forecast(by_initech) is None  # a single point
    (niche,) = await series_of(admin, "Niche")
    assert forecast(niche) == ("2027-Q1", 100.0)  # 99.5 + 1.5 = 101: kept at 100
    (tiny,) = await series_of(admin, "tiny")
    assert forecast(tiny) == ("2027-Q1", 10.3)  # 10.25, rounded half-up

    # A longer window reaches 2024-Q4, whose point is no neighbour of 2026-Q3's.
    longer = await series_of(admin, "Retail", periods=9)
    assert points(longer[2]) == [("2024-Q4", 50.0), ("2026-Q3", 5.0), ("2026-Q4", 2.0)]
    assert forecast(longer[2]) == ("2027-Q1", 0.0)
    # A shorter one: the last two quarters; Initech has nothing there.
    short = await series_of(admin, "Retail", periods=2)
    assert [s["competitor"] for s in short] == [
        None,
        {"name": "Acme"},
        {"name": "Globex"},
        {"name": "Hooli"},
    ]
    assert points(short[1]) == [("2026-Q3", 27.0), ("2026-Q4", 30.0)]
    assert forecast(short[1]) == ("2027-Q1", 33.0)
    # Months are series of their own.
    (monthly,) = await series_of(admin, "Retail", periodKind="MONTH")
    assert points(monthly) == [("2026-10", 12.0)]
    assert forecast(monthly) is None
    assert await series_of(admin, "Nowhere") == []

    # CRM_COMPETITOR_FORECAST_PERIODS=2: the line through the last two points.
    monkeypatch.setenv("CRM_COMPETITOR_FORECAST_PERIODS", "2")
    ours, by_acme, *_rest = await series_of(admin, "Retail")
    assert forecast(ours) == ("2027-Q1", 31.0)  # 35, 33
    assert forecast(by_acme) == ("2027-Q1", 33.0)  # 27, 30


async def test_series_arguments_refused_and_permission(admin: Api) -> None:
    for variables, argument in (
        ({"segment": " "}, "segment"),
        ({"segment": "Retail", "periods": 0}, "periods"),
        ({"segment": "Retail", "periods": 41}, "periods"),
    ):
        body = await admin.gql(SERIES, {"kind": "INDUSTRY", **variables})
        assert body["data"] == {"marketShareSeries": None}
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument
    support = await admin.as_role(SUPPORT_REPRESENTATIVE)
    for query, variables in (
        (SERIES, {"kind": "INDUSTRY", "segment": "Retail"}),
        (PRICES, {"category": "CRM"}),
    ):
        body = await support.gql(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def prices(series: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    assert all(point["isForecast"] is False for point in series["points"])
    return [
        (p["period"], p["price"]["amount"], p["price"]["currency"], p["observations"])
        for p in series["points"]
    ]


def price_forecast(series: dict[str, Any]) -> tuple[str, str, int] | None:
    found = series["forecast"]
    if found is None:
        return None
    assert found["isForecast"] is True
    return found["period"], found["price"]["amount"], found["observations"]


async def test_price_trend_averages_and_forecasts_equal_the_figures_by_hand(admin: Api) -> None:
    acme = await make_competitor(admin, "Acme")
    globex = await make_competitor(admin, "Globex")
    initech = await make_competitor(admin, "Initech")
    crm = await make_product(
        admin,
        acme,
        "Acme CRM",
        "CRM",
        [
            ("80.00", "CNY", "2024-06-01", "East"),  # before the window
            ("100.00", "CNY", "2026-02-10", "East"),
            ("110.00", "CNY", "2026-03-20", "North"),
            ("120.00", "CNY", "2026-05-05", "East"),
            ("125.50", "CNY", "2026-08-01", "East"),
            ("130.00", "CNY", "2026-09-30", "east"),
            ("131.00", "CNY", "2026-07-15", "North"),
            ("140.00", "CNY", "2026-10-01", "East"),
            ("20.00", "USD", "2026-10-02", "East"),
        ],
    )
    erp = await make_product(admin, acme, "Acme ERP", "ERP", [("900", "CNY", "2026-10-01", None)])
    await make_product(
        admin,
        globex,
        "Globex Suite",
        "crm",
        [("90", "CNY", "2025-12-01", None), ("95", "CNY", "2026-08-08", None)],
    )
    await make_product(
        admin,
        initech,
        "Initech Lite",
        "CRM",
        [("10", "CNY", "2026-08-01", None), ("2", "CNY", "2026-11-01", None)],
    )

    found = data(await admin.gql(PRICES, {"category": " crm "}))["priceTrend"]
    assert [(s["competitorName"], s["productName"], s["currency"]) for s in found] == [
        ("Acme", "Acme CRM", "CNY"),
        ("Acme", "Acme CRM", "USD"),
        ("Globex", "Globex Suite", "CNY"),
        ("Initech", "Initech Lite", "CNY"),
    ]
    acme_cny, acme_usd, globex_cny, initech_cny = found
    assert (acme_cny["product"], acme_cny["competitor"]) == (
        {"name": "Acme CRM"},
        {"name": "Acme"},
    )
    assert prices(acme_cny) == [
        ("2026-Q1", "105.00", "CNY", 2),  # (100 + 110) / 2
        ("2026-Q2", "120.00", "CNY", 1),
        ("2026-Q3", "128.83", "CNY", 3),  # (125.50 + 130 + 131) / 3 = 128.8333
        ("2026-Q4", "140.00", "CNY", 1),
    ]
    # 105, 120, 128.8333, 140 at x = 0..3: mean y 123.4583, slope 56.9167 / 5 = 11.3833;
    # at x = 4: 123.4583 + 11.3833 * 2.5 = 151.9167 -> 151.92.
    assert price_forecast(acme_cny) == ("2027-Q1", "151.92", 0)
    assert prices(acme_usd) == [("2026-Q4", "20.00", "USD", 1)]
    assert price_forecast(acme_usd) is None
    assert prices(globex_cny) == [("2025-Q4", "90.00", "CNY", 1), ("2026-Q3", "95.00", "CNY", 1)]
    assert price_forecast(globex_cny) is None  # not consecutive quarters
    assert price_forecast(initech_cny) == ("2027-Q1", "0.00", 0)  # 10, 2 -> -6: kept at 0

    # One region's observations: 100, 120, (125.50 + 130) / 2 = 127.75, 140; mean 121.9375,
    # slope 63.875 / 5 = 12.775; 121.9375 + 12.775 * 2.5 = 153.875 -> 153.88 (half-up).
    (east,) = [
        s
        for s in data(await admin.gql(PRICES, {"category": "CRM", "region": "EAST"}))["priceTrend"]
        if s["currency"] == "CNY" and s["productName"] == "Acme CRM"
    ]
    assert prices(east) == [
        ("2026-Q1", "100.00", "CNY", 1),
        ("2026-Q2", "120.00", "CNY", 1),
        ("2026-Q3", "127.75", "CNY", 2),
        ("2026-Q4", "140.00", "CNY", 1),
    ]
    assert price_forecast(east) == ("2027-Q1", "153.88", 0)

    # By year: 2026 averages all seven 2026 observations: 856.50 / 7 = 122.357 -> 122.36.
    yearly = data(
        await admin.gql(
            PRICES, {"product": gid("CompetitorProduct", crm), "periodKind": "YEAR", "periods": 2}
        )
    )["priceTrend"]
    assert [prices(s) for s in yearly] == [
        [("2026", "122.36", "CNY", 7)],
        [("2026", "20.00", "USD", 1)],
    ]
    one = data(await admin.gql(PRICES, {"product": gid("CompetitorProduct", erp)}))["priceTrend"]
    assert [(s["productName"], prices(s)) for s in one] == [
        ("Acme ERP", [("2026-Q4", "900.00", "CNY", 1)])
    ]
    missing = {"product": gid("CompetitorProduct", 999)}
    assert data(await admin.gql(PRICES, missing))["priceTrend"] == []
    # A category and a region spelt with a capital beyond ASCII, asked as they are written
    # (and in ASCII's other case): the database lowers both sides.
    await make_product(
        admin,
        globex,
        "Globex Écran",
        "Électronique",
        [("50", "EUR", "2026-10-05", "Île-de-France"), ("70", "EUR", "2026-10-06", "Nord")],
    )
    for category, region in (("Électronique", "Île-de-France"), ("ÉLECTRONIQUE", "ÎLE-DE-FRANCE")):
        screens = data(await admin.gql(PRICES, {"category": category, "region": region}))
        assert [(s["productName"], prices(s)) for s in screens["priceTrend"]] == [
            ("Globex Écran", [("2026-Q4", "50.00", "EUR", 1)])
        ], (category, region)

    for variables, argument in (
        ({}, "category"),
        ({"category": " "}, "category"),
        ({"category": "CRM", "product": gid("CompetitorProduct", crm)}, "category"),
        ({"product": gid("Competitor", acme)}, "competitorProductId"),
        ({"category": "CRM", "periods": 0}, "periods"),
    ):
        body = await admin.gql(PRICES, variables)
        assert body["data"] == {"priceTrend": None}, variables
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body["errors"][0]["extensions"]["argument"] == argument
