"""The battlecard, in GraphQL and as a PDF: on a fixed data set its win rate, record, loss
reasons and price delta equal figures worked out by hand, each caller sees the figures of
the deals they may read, a page of competitors costs the same statements whatever its size,
and the PDF (over HTTP with a bearer token) names the competitor and shows the same win rate;
the refused requests answer clean JSON errors."""

from __future__ import annotations

import datetime as dt
import decimal
import io
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from core.plugin_api import SALES_REPRESENTATIVE, SYSTEM_ADMINISTRATOR, Database, Settings
from plugins.competitor import models, pdf
from plugins.competitor.pdf_layout import render_pdf
from plugins.competitor.service.battlecard import Battlecard, Prices, Record, Sides
from plugins.competitor.service.prices import PriceComparisonRow
from plugins.competitor.testing_profiles import competitor, customer
from schema.testkit import Api, StatementCounter
from schema.testkit_graphql import data, db_id, gid, mutate_ok

CARD = """
battlecard {
  generatedAt winRate met won lost priceDelta
  commonLossReasons { reason count share }
  strengths { text } weaknesses { text }
  priceComparisons { productName ourProductName differencePercent trend
    theirPrice { amount currency } ourPrice { amount currency } }
  latestIntel { summary occurredOn }
}"""
ONE = "query($id: ID!) { competitor(id: $id) { name " + CARD + " } }"
PAGE = (
    "query($first: Int, $filter: CompetitorFilter) { competitors(first: $first, filter: $filter) "
    "{ edges { node { id " + CARD + " } } } }"
)


async def encounters(api: Api, competitor_id: str, customer_id: str, *deals: str) -> None:
    """One encounter per deal: ``WON`` or a lost deal's reason."""
    for index, deal in enumerate(deals):
        won = deal == "WON"
        await mutate_ok(
            api,
            "recordEncounter",
            {
                "competitorId": competitor_id,
                "customerId": customer_id,
                "outcome": "WON" if won else "LOST",
                "reason": None if won else deal,
                "occurredOn": (dt.date(2026, 6, 1) + dt.timedelta(days=index * 9)).isoformat(),
            },
            "encounter { id }",
        )


async def matched_product(
    api: Api, competitor_id: str, name: str, ours: str, *prices: tuple[str, str, str]
) -> None:
    """Our product at list price ``ours`` (CNY), theirs matched to it, priced
    ``(amount, currency, observedOn)`` in turn."""
    sku = name.upper().replace(" ", "-")
    our = await mutate_ok(
        api,
        "createProduct",
        {"sku": sku, "name": f"Our {name}", "listPrice": ours, "currency": "CNY"},
        "product { id }",
    )
    theirs = await mutate_ok(
        api,
        "createCompetitorProduct",
        {"competitorId": competitor_id, "name": name, "ourProductId": our["product"]["id"]},
        "competitorProduct { id }",
    )
    for amount, currency, observed in prices:
        await mutate_ok(
            api,
            "recordCompetitorPrice",
            {
                "productId": theirs["competitorProduct"]["id"],
                "amount": amount,
                "currency": currency,
                "observedOn": observed,
            },
            "competitorPrice { id }",
        )


async def acme(admin: Api, rep_id: int) -> str:
    """Acme Automation: two strengths, a weakness; 7 deals at the rep's customer (2 won, 5
    lost: PRICE twice, RELATIONSHIP, SERVICE, TIMING) and one more lost at another customer
    (NO_DECISION); three products matched to ours: +10%, -33.3...% and one in USD; six intel
    entries."""
    acme = await competitor(
        admin,
        "Acme Automation",
        positioning="Cheap controllers, delivered fast.",
        threatLevel="HIGH",
        strengths=[{"text": "Cheapest controllers"}, {"text": "Delivery from stock"}],
        weaknesses=[{"text": "Thin service team"}],
        opportunities=[{"text": "Not a strength"}],
    )
    mine = await customer(admin, "Rep's Customer", owner_id=rep_id)
    other = await customer(admin, "Another Customer")
    await encounters(
        admin, acme, mine, "WON", "PRICE", "TIMING", "WON", "SERVICE", "PRICE", "RELATIONSHIP"
    )
    await encounters(admin, acme, other, "NO_DECISION")
    await matched_product(
        admin,
        acme,
        "Gateway G1",
        "1000",
        ("1200", "CNY", "2026-09-01"),
        ("1100", "CNY", "2026-11-01"),
    )
    await matched_product(admin, acme, "Sensor S3", "3000", ("2000", "CNY", "2026-10-01"))
    await matched_product(admin, acme, "Cloud Watch", "500", ("80", "USD", "2026-10-01"))
    for day in range(1, 7):
        await mutate_ok(
            admin,
            "logIntel",
            {
                "competitorId": acme,
                "kind": "OTHER",
                "summary": f"Note {day}",
                "occurredOn": f"2026-11-0{day}",
            },
            "intel { id }",
        )
    return acme


async def test_the_battlecard_shows_figures_worked_out_by_hand(admin: Api) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    assert rep.user_id is not None
    acme_id = await acme(admin, rep.user_id)
    card = data(await admin.gql(ONE, {"id": acme_id}))["competitor"]["battlecard"]
    # Won 2, lost 6 (the 5 at the rep's customer and one at the other): 2 / 8 = 25.0%.
    assert (card["met"], card["won"], card["lost"], card["winRate"]) == (8, 2, 6, 25.0)
    assert card["commonLossReasons"] == [
        {"reason": "PRICE", "count": 2, "share": 33.3},
        {"reason": "NO_DECISION", "count": 1, "share": 16.7},
        {"reason": "RELATIONSHIP", "count": 1, "share": 16.7},
    ]
    # (+10% and -33.33...%) / 2 = -11.666...% -> -11.7; the USD price does not compare.
    assert card["priceDelta"] == -11.7
    assert [
        (c["productName"], c["ourProductName"], c["differencePercent"], c["trend"])
        for c in card["priceComparisons"]
    ] == [
        ("Cloud Watch", "Our Cloud Watch", None, None),
        ("Gateway G1", "Our Gateway G1", 10.0, "DOWN"),
        ("Sensor S3", "Our Sensor S3", -33.3, None),
    ]
    assert [s["text"] for s in card["strengths"]] == ["Cheapest controllers", "Delivery from stock"]
    assert [w["text"] for w in card["weaknesses"]] == ["Thin service team"]
    assert [i["summary"] for i in card["latestIntel"]] == [f"Note {d}" for d in (6, 5, 4, 3, 2)]
    assert card["generatedAt"] == "2026-11-23T09:00:00+00:00"
    # The rep counts only the deals at their own customer: 2 won, 5 lost = 28.6%.
    seen = data(await rep.gql(ONE, {"id": acme_id}))["competitor"]["battlecard"]
    assert (seen["met"], seen["won"], seen["lost"], seen["winRate"]) == (7, 2, 5, 28.6)
    assert seen["commonLossReasons"][0] == {"reason": "PRICE", "count": 2, "share": 40.0}
    assert seen["priceDelta"] == -11.7
    # The PDF, fetched with a bearer token, says the same.
    response = await admin.client.get(
        f"/competitors/{acme_id}/battlecard.pdf", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == (
        'attachment; filename="battlecard-acme-automation.pdf"; '
        "filename*=UTF-8''battlecard-acme-automation.pdf"
    )
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Acme Automation" in text
    assert "25.0%" in text
    assert "won 2, lost 6 of 8 deals met" in text
    assert "-11.7%" in text
    assert "Price: 2 of 6 lost" in text
    assert "Cheapest controllers" in text
    assert "Thin service team" in text
    assert "Not a strength" not in text
    assert "Note 6" in text
    assert "Note 1" not in text
    assert "Generated on 2026-11-23 09:00 (UTC)" in text
    response = await rep.client.get(f"/competitors/{acme_id}/battlecard.pdf", headers=rep.headers)
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "28.6%" in text
    assert "won 2, lost 5 of 7 deals met" in text


async def test_a_chinese_name_and_an_empty_battlecard(admin: Api) -> None:
    huaxin = await competitor(admin, "华信软件", positioning="云平台加网关")
    card = data(await admin.gql(ONE, {"id": huaxin}))["competitor"]["battlecard"]
    assert card == {
        "generatedAt": "2026-11-23T09:00:00+00:00",
        "winRate": None,
        "met": 0,
        "won": 0,
        "lost": 0,
        "priceDelta": None,
        "commonLossReasons": [],
        "strengths": [],
        "weaknesses": [],
        "priceComparisons": [],
        "latestIntel": [],
    }
    response = await admin.client.get(
        f"/competitors/{huaxin}/battlecard.pdf", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="battlecard-{db_id(huaxin)}.pdf"; '
        "filename*=UTF-8''battlecard-%E5%8D%8E%E4%BF%A1%E8%BD%AF%E4%BB%B6.pdf"
    )
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "华信软件" in text
    assert "云平台加网关" in text
    assert "no deal lost to them" in text
    assert "No prices recorded." in text
    assert pdf.slug(" Zenith  Systems, Inc. ") == "zenith-systems-inc"


async def test_a_page_of_battlecards_costs_the_same_for_2_and_4_competitors(
    admin: Api, count_statements: Callable[[Database], StatementCounter]
) -> None:
    rep = await admin.as_role(SALES_REPRESENTATIVE)
    assert rep.user_id is not None
    await acme(admin, rep.user_id)
    other = await competitor(admin, "Beta Controls", strengths=[{"text": "Big"}])
    where = await customer(admin, "Beta's Customer")
    await encounters(admin, other, where, "WON", "PRICE")
    for name in ("Gamma", "Delta", "Epsilon"):
        await competitor(admin, name, status="ARCHIVED" if name == "Delta" else "ACTIVE")
    # Archived ones, each with a product matched to ours: asked for by their status.
    for name in ("Old One", "Old Two", "Old Three"):
        old = await competitor(admin, name, status="ARCHIVED")
        await matched_product(admin, old, f"{name} Box", "100", ("90", "CNY", "2026-10-01"))
    counter = count_statements(admin.db)
    await admin.gql(PAGE, {"first": 1})  # the token's first use is recorded once, not counted
    for variables in ({}, {"filter": {"status": ["ARCHIVED"]}}):
        counts = []
        for first in (2, 4):
            counter.reset()
            data(await admin.gql(PAGE, {"first": first} | variables))
            counts.append(counter.count)
        assert counts[0] == counts[1], (variables, counter.statements)
    archived = data(await admin.gql(PAGE, {"first": 10, "filter": {"status": ["ARCHIVED"]}}))
    assert [
        (
            edge["node"]["battlecard"]["priceDelta"],
            len(edge["node"]["battlecard"]["priceComparisons"]),
        )
        for edge in archived["competitors"]["edges"]
    ] == [(None, 0)] + [(-10.0, 1)] * 3  # Delta has no product; each old one 90 vs 100
    edges = data(await admin.gql(PAGE, {"first": 10}))["competitors"]["edges"]
    cards = {edge["node"]["id"]: edge["node"]["battlecard"] for edge in edges}
    assert len(cards) == 4  # the archived one is not listed
    assert cards[other]["winRate"] == 50.0
    assert cards[other]["commonLossReasons"] == [{"reason": "PRICE", "count": 1, "share": 100.0}]
    assert [s["text"] for s in cards[other]["strengths"]] == ["Big"]
    assert [c["winRate"] for c in cards.values()].count(25.0) == 1


async def test_refused_battlecard_pdfs(api: Api, admin: Api) -> None:
    acme_id = await competitor(admin, "Acme Automation")
    path = f"/competitors/{acme_id}/battlecard.pdf"
    response = await api.client.get(path)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    response = await api.client.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    sysadmin = await admin.as_role(SYSTEM_ADMINISTRATOR)
    response = await sysadmin.client.get(path, headers=sysadmin.headers)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {
        "code": "FORBIDDEN",
        "permission": "competitors:read",
    }
    for wrong in (gid("Competitor", db_id(acme_id) + 100), gid("Customer", 1), "nonsense"):
        response = await admin.client.get(
            f"/competitors/{wrong}/battlecard.pdf", headers=admin.headers
        )
        assert response.status_code == 404, wrong
        assert response.json()["errors"][0]["extensions"] == {
            "code": "NOT_FOUND",
            "argument": "id",
        }
    response = await admin.client.post(path, headers=admin.headers)
    assert response.status_code == 405
    body = await sysadmin.gql(ONE, {"id": acme_id})
    assert body["data"]["competitor"] is None


def test_a_full_battlecard_stays_on_one_page() -> None:
    """The longest of everything (a 120-character name, 20 SWOT items of 500 characters
    each, a dozen products, intel of 5,000 characters, Chinese throughout) is cut short to
    fit one A4 page, and says how much was left out."""
    chinese = "华信软件的云监控平台支持私有部署和多租户，价格灵活，渠道覆盖华东华南，"
    row = PriceComparisonRow(
        product_id=1,
        competitor_id=1,
        product_name="Very long competitor product name 工业传感器系列 Pro Max Edition" * 3,
        category="Sensors",
        our_product_id=1,
        our_product_name="Industrial sensor IS-200 / 工业传感器 with a long name" * 3,
        their_amount=decimal.Decimal("1234567.89"),
        their_currency="CNY",
        observed_on=dt.date(2026, 11, 1),
        region=None,
        previous_amount=decimal.Decimal("1000"),
        our_amount=decimal.Decimal("1000000.00"),
        our_currency="CNY",
        difference=decimal.Decimal("234567.89"),
        difference_percent=decimal.Decimal("23.456789"),
        trend="UP",
    )
    card = Battlecard(
        competitor_id=1,
        name=("A competitor with a very long name 华信软件有限公司 " * 3)[:120],
        status="ACTIVE",
        threat_level="CRITICAL",
        positioning=chinese * 40,
        website="https://www.example.com/" + "a" * 400,
        country="CN",
        sides=Sides(
            strengths=[models.SwotItem(text=("Strength " * 60)[:500]) for _n in range(20)],
            weaknesses=[models.SwotItem(text=(chinese * 20)[:500]) for _n in range(20)],
        ),
        record=Record(
            met=123456,
            won=61728,
            lost=61728,
            win_rate=decimal.Decimal("50.0"),
            loss_reasons=[
                ("PRICE", 30000, None),
                ("PRODUCT_FIT", 20000, None),
                ("TIMING", 1, None),
            ],
        ),
        prices=Prices(rows=[row] * 12, delta=decimal.Decimal("23.45")),
        intel=[
            models.Intel(occurred_on=dt.date(2026, 11, 20), kind="OTHER", summary=chinese * 200)
            for _n in range(5)
        ],
        generated_at=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC),
    )
    reader = PdfReader(io.BytesIO(render_pdf(card, ZoneInfo("Asia/Shanghai"), "en")))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "and 6 more products" in text
    assert text.count("and 15 more") == 2
    assert "Generated on 2026-11-23 17:00 (Asia/Shanghai)" in text


class TestWithoutSales:
    """The sales plugin disabled: no catalogue answers, so nothing compares with our prices,
    and the rest of the card (and its PDF) stands."""

    @pytest.fixture
    def settings(self, make_settings: Callable[..., Settings]) -> Settings:
        return make_settings(plugins=("fixture", "competitor"))

    async def test_the_battlecard_without_our_catalogue(self, admin: Api) -> None:
        acme = await competitor(admin, "Acme Automation", strengths=[{"text": "Cheap"}])
        where = await customer(admin, "A customer")
        await encounters(admin, acme, where, "WON", "PRICE", "PRICE")
        made = await mutate_ok(
            admin,
            "createCompetitorProduct",
            {"competitorId": acme, "name": "Gateway G1"},
            "competitorProduct { id }",
        )
        product_id = made["competitorProduct"]["id"]
        await mutate_ok(
            admin,
            "recordCompetitorPrice",
            {"productId": product_id, "amount": "1100", "currency": "CNY"},
            "competitorPrice { id }",
        )
        async with admin.db.transaction() as session:  # matched while sales was enabled
            stored = await session.get(models.Product, db_id(product_id))
            assert stored is not None
            stored.our_product_id = 7
        card = data(await admin.gql(ONE, {"id": acme}))["competitor"]["battlecard"]
        # Won 1 of 3: 33.3%; lost twice on price.
        assert (card["met"], card["winRate"], card["priceDelta"]) == (3, 33.3, None)
        assert card["commonLossReasons"] == [{"reason": "PRICE", "count": 2, "share": 100.0}]
        assert card["priceComparisons"] == [
            {
                "productName": "Gateway G1",
                "ourProductName": None,
                "differencePercent": None,
                "trend": None,
                "theirPrice": {"amount": "1100.00", "currency": "CNY"},
                "ourPrice": None,
            }
        ]
        response = await admin.client.get(
            f"/competitors/{acme}/battlecard.pdf", headers=admin.headers
        )
        assert response.status_code == 200
        text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        assert "33.3%" in text
        assert "no product compares with ours" in " ".join(text.split()), text
        assert "Gateway G1" in text
