"""The demo data: consistent with every rule the API enforces (market shares of a segment and
period add up to at most 100%, prices are positive, a lost deal has a reason, a customer
uses a competitor through one current link, evidence cites the same competitor's intel),
spread as described (eight quarters of prices, shares and deals; contracts ending inside
the reminder window), and the same every time it loads."""

from __future__ import annotations

import datetime as dt
import decimal
from collections import Counter, defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import CRMPluginManager, Settings, call_in_turn
from plugins.competitor import demo, models
from plugins.competitor import settings as competitor_settings
from plugins.competitor.enums import (
    Confidence,
    EncounterReason,
    IntelKind,
    PeriodKind,
    SalesChannel,
    SwotKind,
)
from plugins.competitor.periods import period_start
from schema.testkit import Api, FakeClock
from schema.testkit_graphql import data

SIZE = 60


async def load_core_demo(pm: CRMPluginManager, session: AsyncSession, settings: Settings) -> None:
    """Core's demo users and ``SIZE`` customers (the competitor demo reads them)."""
    keep = {"core.customers", "core.identity"}
    others = [plugin for name, plugin in pm.list_name_plugin() if name not in keep]
    caller = pm.subset_hook_caller("crm_demo_data", remove_plugins=others)
    await call_in_turn(caller, session=session, size=SIZE, settings=settings)


async def fingerprint(session: AsyncSession) -> list[Any]:
    """What the demo wrote, without the ids (a rolled-back load uses up ids on PostgreSQL)."""
    names = dict(
        (await session.execute(select(models.Competitor.id, models.Competitor.name))).all()
    )
    products = dict((await session.execute(select(models.Product.id, models.Product.name))).all())
    prices = await session.execute(
        select(
            models.PriceObservation.product_id,
            models.PriceObservation.amount,
            models.PriceObservation.currency,
            models.PriceObservation.observed_on,
            models.PriceObservation.region,
        ).order_by(models.PriceObservation.id)
    )
    encounters = await session.execute(
        select(
            models.Encounter.competitor_id,
            models.Encounter.customer_id,
            models.Encounter.outcome,
            models.Encounter.reason,
            models.Encounter.amount,
            models.Encounter.occurred_on,
        ).order_by(models.Encounter.id)
    )
    shares = await session.execute(
        select(
            models.MarketShare.competitor_id,
            models.MarketShare.segment,
            models.MarketShare.period_start,
            models.MarketShare.share_percent,
        ).order_by(models.MarketShare.id)
    )
    intel = await session.execute(
        select(models.Intel.competitor_id, models.Intel.summary, models.Intel.occurred_on).order_by(
            models.Intel.id
        )
    )
    return [
        sorted(names.values()),
        [(products[p], str(a), c, o, r) for p, a, c, o, r in prices],
        [(names[c], u, o, r, str(a), d) for c, u, o, r, a, d in encounters],
        [(names.get(c or 0, "ours"), s, p, str(v)) for c, s, p, v in shares],
        [(names[c], s, d) for c, s, d in intel],
    ]


class RolledBack(Exception):
    pass


async def load_and_roll_back(api: Api, found: list[Any]) -> None:
    """Load the demo, note its fingerprint in ``found``, and roll it all back."""
    async with api.db.transaction() as session:
        await demo.load(session, SIZE, api.settings)
        found.extend(await fingerprint(session))
        raise RolledBack


async def test_the_demo_is_consistent_and_the_same_every_time(
    admin: Api, plugin_manager: CRMPluginManager, clock: FakeClock
) -> None:
    settings = admin.settings
    async with admin.db.transaction() as session:
        await load_core_demo(plugin_manager, session, settings)
    first: list[Any] = []
    with pytest.raises(RolledBack):
        await load_and_roll_back(admin, first)
    async with admin.db.transaction() as session:
        await demo.load(session, SIZE, settings)
        assert await fingerprint(session) == first
    today = dt.datetime.now(dt.UTC).astimezone(settings.zone).date()
    this_quarter = period_start(today, PeriodKind.QUARTER)
    async with admin.db.read() as session:
        await check_profiles(session, today)
        await check_prices(session, today, this_quarter)
        await check_shares(session, this_quarter)
        await check_links(session, today)
        met = await check_encounters(session, today)
    # Through the API: each battlecard counts the deals recorded against its competitor, and
    # the first run of the periodic jobs tells the owners of the contracts ending soon.
    body = await admin.gql(
        "{ competitors(first: 10) { edges { node { name battlecard { met } } } } }"
    )
    cards = {
        e["node"]["name"]: e["node"]["battlecard"]["met"]
        for e in data(body)["competitors"]["edges"]
    }
    assert cards == met
    clock.set(dt.datetime.now(dt.UTC))
    ran = await admin.run_due_jobs()
    assert ran["competitor.contract_reminders"] == {"competitor contract reminders": 3}


async def check_profiles(session: AsyncSession, today: dt.date) -> None:
    competitors = (await session.scalars(select(models.Competitor))).all()
    names = {c.name for c in competitors}
    assert len(competitors) == 5
    assert {"华信软件", "宏达科技", "Zenith Systems"} <= names
    assert all(c.name_key == c.name.casefold() for c in competitors)
    assert {c.status for c in competitors} == {"ACTIVE", "WATCHING"}
    channels = (await session.scalars(select(models.Channel))).all()
    assert {c.channel for c in channels} <= {m.value for m in SalesChannel}
    assert {c.competitor_id for c in channels} == {c.id for c in competitors}
    campaigns = (await session.scalars(select(models.Campaign))).all()
    assert campaigns
    assert all(
        c.started_on and (c.ended_on is None or c.started_on <= c.ended_on) for c in campaigns
    )
    intel = (await session.scalars(select(models.Intel))).all()
    assert all(i.occurred_on <= today for i in intel)
    assert {i.kind for i in intel} <= {m.value for m in IntelKind}
    assert {i.confidence for i in intel} <= {m.value for m in Confidence}
    assert Counter(i.competitor_id for i in intel) == {c.id: 6 for c in competitors}
    items = (await session.scalars(select(models.SwotItem))).all()
    assert {i.kind for i in items} == {m.value for m in SwotKind}
    by_kind = defaultdict(list)
    for item in sorted(items, key=lambda i: i.id):
        by_kind[item.competitor_id, item.kind].append(item.position)
    assert all(positions == list(range(len(positions))) for positions in by_kind.values())
    cited = (
        await session.execute(
            select(models.SwotItem.competitor_id, models.Intel.competitor_id)
            .join(models.SwotEvidence, models.SwotEvidence.item_id == models.SwotItem.id)
            .join(models.Intel, models.Intel.id == models.SwotEvidence.intel_id)
        )
    ).all()
    assert len(cited) == 17
    assert all(item_of == intel_of for item_of, intel_of in cited)
    assert await session.scalar(select(func.count()).select_from(models.Watcher)) == 5


async def check_prices(session: AsyncSession, today: dt.date, this_quarter: dt.date) -> None:
    products = (await session.scalars(select(models.Product))).all()
    per_competitor = Counter(p.competitor_id for p in products)
    assert sorted(per_competitor.values()) == [2, 2, 3, 3, 4]
    assert {p.category for p in products} == {
        "Software",
        "Gateways",
        "Services",
        "Sensors",
        "Controllers",
        "Parts",
    }
    assert all(p.our_product_id is None for p in products)
    prices = (await session.scalars(select(models.PriceObservation))).all()
    assert all(p.amount > 0 and p.currency in ("CNY", "USD") for p in prices)
    assert all(p.observed_on <= today for p in prices)
    quarters: dict[int, set[dt.date]] = defaultdict(set)
    for price in prices:
        quarters[price.product_id].add(period_start(price.observed_on, PeriodKind.QUARTER))
    assert {p.id: len(quarters[p.id]) for p in products} == {p.id: 8 for p in products}
    assert all(max(q) == this_quarter for q in quarters.values())
    # the cheap one's prices fall: its sensor costs less now than two years ago
    sensor = next(p for p in products if p.name == "HD-300 工业传感器")
    ordered = sorted(
        (p for p in prices if p.product_id == sensor.id and p.region is None),
        key=lambda p: p.observed_on,
    )
    assert ordered[-1].amount < ordered[0].amount * decimal.Decimal("0.9")


async def check_shares(session: AsyncSession, this_quarter: dt.date) -> None:
    shares = (await session.scalars(select(models.MarketShare))).all()
    totals: dict[tuple[str, str, dt.date], decimal.Decimal] = defaultdict(decimal.Decimal)
    ours: Counter[tuple[str, str]] = Counter()
    subjects: Counter[tuple[int | None, str, str, dt.date]] = Counter()
    for share in shares:
        assert share.period_kind == "QUARTER"
        assert share.period_start < this_quarter
        assert share.segment_key == share.segment.casefold()
        assert decimal.Decimal(0) < share.share_percent <= 100
        totals[share.segment_kind, share.segment_key, share.period_start] += share.share_percent
        subjects[
            share.competitor_id, share.segment_kind, share.segment_key, share.period_start
        ] += 1
        if share.competitor_id is None:
            ours[share.segment_kind, share.segment_key] += 1
    assert all(total <= 100 for total in totals.values()), totals
    assert max(totals.values()) > 90  # a crowded market, not an empty one
    assert set(subjects.values()) == {1}  # one observation per subject, segment and period
    assert ours == {("INDUSTRY", "manufacturing"): 8, ("REGION", "tx"): 8}
    assert len(totals) == 16


async def check_links(session: AsyncSession, today: dt.date) -> None:
    links = (await session.scalars(select(models.CustomerCompetitor))).all()
    products = dict(
        (await session.execute(select(models.Product.id, models.Product.competitor_id))).all()
    )
    current = [link for link in links if link.ended_on is None]
    assert len(current) == SIZE // 3
    assert len(links) > len(current)
    assert max(Counter((link.customer_id, link.competitor_id) for link in current).values()) == 1
    assert all(products[link.product_id] == link.competitor_id for link in links if link.product_id)
    spans = [(link.since, link.contract_ends_on) for link in current]
    assert all(since and ends and since <= today < ends for since, ends in spans)
    ended = [(link.since, link.ended_on) for link in links if link not in current]
    assert all(since and end and since < end <= today for since, end in ended)
    window = today + dt.timedelta(days=competitor_settings.load().contract_reminder_days)
    soon = [
        link
        for link in current
        if link.contract_ends_on and today <= link.contract_ends_on <= window
    ]
    assert len(soon) == 3  # one in nine of the 20 current links
    assert all(link.reminded_for is None for link in links)


async def check_encounters(session: AsyncSession, today: dt.date) -> dict[str, int]:
    """Checks the encounters; how many there are against each competitor, by name."""
    encounters = (await session.scalars(select(models.Encounter))).all()
    assert len(encounters) == SIZE * 3 // 2
    current = period_start(today, PeriodKind.QUARTER)
    months = current.year * 12 + current.month - 1 - 21  # seven quarters back
    first_quarter = dt.date(months // 12, months % 12 + 1, 1)
    reasons = {m.value for m in EncounterReason}
    for encounter in encounters:
        assert encounter.source == "MANUAL"
        assert encounter.opportunity_id is None
        assert encounter.outcome in ("WON", "LOST")
        assert encounter.outcome == "WON" or encounter.reason is not None
        assert encounter.reason is None or encounter.reason in reasons
        assert encounter.reason != "OTHER" or encounter.reason_text
        assert (encounter.amount is None) == (encounter.currency is None)
        assert encounter.amount is None or encounter.amount > 0
        assert encounter.occurred_on <= today
        assert encounter.customer_id is not None
    quarters = {period_start(e.occurred_on, PeriodKind.QUARTER) for e in encounters}
    assert len(quarters) == 8
    assert min(quarters) == first_quarter
    by_competitor: dict[int, Counter[str]] = defaultdict(Counter)
    for encounter in encounters:
        by_competitor[encounter.competitor_id][encounter.outcome] += 1
    assert len(by_competitor) == 5
    assert all(c["WON"] and c["LOST"] for c in by_competitor.values())
    won = sum(c["WON"] for c in by_competitor.values())
    assert 0.4 <= won / len(encounters) <= 0.75
    names = dict(
        (await session.execute(select(models.Competitor.id, models.Competitor.name))).all()
    )
    return {names[key]: sum(counts.values()) for key, counts in by_competitor.items()}
