"""Demo competitors for ``crm demo``: five profiles (two Chinese companies, three Western
ones) with a SWOT analysis citing the intel log, their sales channels and campaigns, two to
four products each with eight quarters of price history, market share in the eight quarters
before this one in an industry and a region (ours included; no segment and period adds up
past 100%), an
intel log over the last months with a few watchers, the competitor a third of the demo
customers use (some contracts end inside the reminder window: the first ``crm jobs run``
tells their owners, which is the feature), and deals won and lost against each over eight
quarters, with win rates and loss reasons that differ by competitor.

Deterministic: one seeded random generator, dates counted back from today. The products are
not matched to the sales catalogue (a match is checked through a hook the demo cannot
call); ``updateCompetitorProduct`` sets ``ourProductId``. Rows that are many (prices,
shares, links, encounters) go in with ``bulk_insert``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import (
    CUSTOMER_MANAGER,
    SALES_REPRESENTATIVE,
    Customer,
    Role,
    Settings,
    User,
    UserRole,
    bulk_insert,
    quantize_amount,
)
from plugins.competitor import models
from plugins.competitor import settings as competitor_settings
from plugins.competitor.demo_data import (
    CONFIDENCES,
    CURRENCY,
    FILLER,
    OURS,
    PROFILES,
    REASON_TEXTS,
    SEGMENTS,
    WON_REASONS,
    Profile,
)
from plugins.competitor.enums import PeriodKind
from plugins.competitor.periods import period_label, period_start
from plugins.competitor.service.calendar import day_of
from plugins.competitor.service.profiles import name_key

SEED = 20261123
QUARTERS = 8
MAX_INTEL = 60
"""At most this many intel entries per competitor, however large the demo."""
D = decimal.Decimal


async def load(session: AsyncSession, size: int, settings: Settings) -> None:
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = day_of(now, settings)
    customers: list[tuple[int, int | None]] = [
        (customer_id, owner_id)
        for customer_id, owner_id in await session.execute(
            select(Customer.id, Customer.owner_id)
            .where(Customer.archived_at.is_(None), Customer.erased_at.is_(None))
            .order_by(Customer.id)
            .limit(size)
        )
    ]
    managers = await _users_with_role(session, CUSTOMER_MANAGER)
    reps = await _users_with_role(session, SALES_REPRESENTATIVE)
    reporters = managers + reps or [None]
    manager = managers[0] if managers else None
    quarters = _quarters(today, QUARTERS)
    competitors: list[models.Competitor] = []
    products: list[list[models.Product]] = []
    for profile in PROFILES:
        competitor = await _profile(session, rng, now, today, profile, manager, reporters, size)
        competitors.append(competitor)
        products.append(await _products(session, rng, now, today, profile, competitor, quarters))
    await _watchers(session, now, competitors, managers, reps)
    await _shares(session, rng, now, competitors, _quarters(today, QUARTERS + 1)[:-1], manager)
    await _links(session, rng, now, today, customers, competitors, products)
    await _encounters(session, rng, now, today, customers, competitors, quarters, size)


async def _users_with_role(session: AsyncSession, role: str) -> list[int | None]:
    found = await session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(Role.key == role)
        .order_by(User.id)
    )
    return list(found.all())


def _quarters(today: dt.date, count: int) -> list[dt.date]:
    """The first days of the last ``count`` quarters, the current one last."""
    current = period_start(today, PeriodKind.QUARTER)
    index = current.year * 12 + current.month - 1
    return [
        dt.date((index - 3 * back) // 12, (index - 3 * back) % 12 + 1, 1)
        for back in range(count - 1, -1, -1)
    ]


def _at(day: dt.date, now: dt.datetime, hour: int = 10) -> dt.datetime:
    """A moment on ``day`` (never after ``now``)."""
    return min(dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC), now)


async def _profile(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    profile: Profile,
    manager: int | None,
    reporters: list[int | None],
    size: int,
) -> models.Competitor:
    """The competitor with its channels, campaigns, intel log and SWOT items."""
    created = now - dt.timedelta(days=QUARTERS * 92 + rng.randint(1, 30))
    competitor = models.Competitor(
        name=profile.name,
        name_key=name_key(profile.name),
        website=profile.website,
        country=profile.country,
        size_band=profile.size_band,
        description=profile.description,
        positioning=profile.positioning,
        status=profile.status,
        threat_level=profile.threat,
        created_by_id=manager,
        created_at=created,
        updated_at=now - dt.timedelta(days=rng.randint(1, 20)),
    )
    session.add(competitor)
    await session.flush()
    session.add_all(
        models.Channel(competitor_id=competitor.id, channel=channel, notes=notes)
        for channel, notes in profile.channels
    )
    for name, ago, lasted, channels, notes in profile.campaigns:
        started = today - dt.timedelta(days=ago)
        session.add(
            models.Campaign(
                competitor_id=competitor.id,
                name=name,
                started_on=started,
                ended_on=None if lasted is None else started + dt.timedelta(days=lasted),
                channels=channels,
                notes=notes or None,
                created_at=_at(started, now),
            )
        )
    facts = [
        _intel(competitor.id, kind, summary, today - dt.timedelta(days=ago), confidence, now)
        for kind, summary, ago, confidence in profile.facts
    ]
    for fact in facts:
        fact.reporter_id = rng.choice(reporters)
    filler = min(MAX_INTEL, 6 + size // 100) - len(facts)
    kinds = sorted(FILLER)
    log = [
        _intel(
            competitor.id,
            kind,
            rng.choice(FILLER[kind]).format(name=profile.name),
            today - dt.timedelta(days=rng.randint(1, 240)),
            rng.choice(CONFIDENCES),
            now,
            reporter=rng.choice(reporters),
            source=f"https://news.example.com/{rng.randint(10000, 99999)}",
        )
        for kind in (rng.choice(kinds) for _n in range(max(0, filler)))
    ]
    session.add_all(facts + log)
    await session.flush()
    positions: dict[str, int] = {}
    for kind, text, cited in profile.swot:
        item = models.SwotItem(
            competitor_id=competitor.id, kind=kind, text=text, position=positions.get(kind, 0)
        )
        positions[kind] = item.position + 1
        session.add(item)
        await session.flush()
        session.add_all(
            models.SwotEvidence(item_id=item.id, intel_id=facts[index].id) for index in cited
        )
    await session.flush()
    return competitor


def _intel(
    competitor_id: int,
    kind: str,
    summary: str,
    occurred: dt.date,
    confidence: str,
    now: dt.datetime,
    *,
    reporter: int | None = None,
    source: str | None = None,
) -> models.Intel:
    return models.Intel(
        competitor_id=competitor_id,
        kind=kind,
        summary=summary,
        source_url=source,
        confidence=confidence,
        occurred_on=occurred,
        reporter_id=reporter,
        created_at=_at(occurred + dt.timedelta(days=1), now, 9),
    )


async def _products(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    profile: Profile,
    competitor: models.Competitor,
    quarters: list[dt.date],
) -> list[models.Product]:
    """The competitor's products, and one price observation of each per quarter (a second,
    regional one now and then) moving by the product's trend."""
    rows = [
        models.Product(
            competitor_id=competitor.id,
            name=name,
            name_key=name_key(name),
            category=category,
            our_product_id=None,
            created_at=competitor.created_at,
            updated_at=competitor.created_at,
        )
        for name, category, _price, _currency, _trend in profile.products
    ]
    session.add_all(rows)
    await session.flush()
    prices: list[dict[str, Any]] = []
    for product, (_name, _category, price, currency, trend) in zip(
        rows, profile.products, strict=True
    ):
        for number, start in enumerate(quarters):
            level = D(price) * D(str(round((1 + trend) ** number, 6)))
            noise = D(str(round(rng.uniform(-0.015, 0.015), 4)))
            observed = min(start + dt.timedelta(days=rng.randint(3, 85)), today)
            regions: list[tuple[str | None, decimal.Decimal]] = [(None, D(1) + noise)]
            if rng.random() < 0.2:
                regions.append(("South China / 华南", D("0.95") + noise))
            for region, factor in regions:
                prices.append(
                    {
                        "product_id": product.id,
                        "amount": quantize_amount((level * factor).quantize(D(1)), currency),
                        "currency": currency,
                        "observed_on": observed,
                        "region": region,
                        "source": rng.choice(["price list", "customer quote", "web shop"]),
                        "reporter_id": None,
                        "created_at": _at(observed, now, 15),
                    }
                )
    await bulk_insert(session, models.PriceObservation, prices)
    return rows


async def _watchers(
    session: AsyncSession,
    now: dt.datetime,
    competitors: list[models.Competitor],
    managers: list[int | None],
    reps: list[int | None],
) -> None:
    """Managers watch the competitors that threaten most; the sales reps the cheapest one."""
    pairs = {
        (competitor.id, user)
        for competitor in competitors
        for user in managers
        if user is not None and competitor.threat_level in ("HIGH", "CRITICAL")
    }
    pairs |= {(competitors[1].id, user) for user in reps if user is not None}
    session.add_all(
        models.Watcher(competitor_id=competitor_id, user_id=user_id, created_at=now)
        for competitor_id, user_id in sorted(pairs)
    )
    await session.flush()


async def _shares(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    competitors: list[models.Competitor],
    quarters: list[dt.date],
    manager: int | None,
) -> None:
    """Market share per segment and completed quarter, ours included, scaled down where the
    figures of a segment and quarter would add up past 97%."""
    subjects: list[tuple[int | None, dict[int, tuple[float, float, int]]]] = [(None, OURS)]
    subjects += [(c.id, p.shares) for c, p in zip(competitors, PROFILES, strict=True)]
    rows: list[dict[str, Any]] = []
    for segment_index, (kind, segment) in enumerate(SEGMENTS):
        for number, start in enumerate(quarters):
            figures: list[tuple[int | None, decimal.Decimal]] = []
            for subject, shares in subjects:
                if segment_index not in shares or number < shares[segment_index][2]:
                    continue
                base, change, _first = shares[segment_index]
                share = base + change * number + rng.uniform(-0.8, 0.8)
                figures.append((subject, D(str(round(max(share, 0.5), 2)))))
            total = sum((value for _subject, value in figures), D(0))
            scale = min(D(1), D(97) / total)
            label = period_label(start, PeriodKind.QUARTER)
            for subject, value in figures:
                rows.append(
                    {
                        "competitor_id": subject,
                        "segment_kind": kind,
                        "segment": segment,
                        "segment_key": segment.casefold(),
                        "period_kind": "QUARTER",
                        "period_start": start,
                        "share_percent": (value * scale).quantize(
                            D("0.01"), rounding=decimal.ROUND_DOWN
                        ),
                        "source": f"Industry survey {label} / 行业调查",
                        "confidence": rng.choice(("MEDIUM", "HIGH")),
                        "reporter_id": manager,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
    await bulk_insert(session, models.MarketShare, rows)


async def _links(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    customers: list[tuple[int, int | None]],
    competitors: list[models.Competitor],
    products: list[list[models.Product]],
) -> None:
    """A third of the customers use a competitor (a few switched from another one before);
    the contracts of one in nine of them end inside the reminder window."""
    window = competitor_settings.load().contract_reminder_days
    weights = [profile.weight for profile in PROFILES]
    rows: list[dict[str, Any]] = []
    for number, (customer_id, _owner) in enumerate(customers[::3]):
        index = rng.choices(range(len(competitors)), weights)[0]
        since = today - dt.timedelta(days=rng.randint(120, 1100))
        if number % 9 == 0 and window > 1:
            ends = today + dt.timedelta(days=rng.randint(1, window - 1))
        else:
            ends = since + dt.timedelta(days=365 * rng.randint(1, 4))
            while ends <= today + dt.timedelta(days=window):
                ends += dt.timedelta(days=365)
        rows.append(_link(rng, now, customer_id, competitors[index], products[index], since, ends))
        if number % 5 == 2:  # used another competitor before
            before = (index + 1 + rng.randint(0, len(competitors) - 2)) % len(competitors)
            ended = since - dt.timedelta(days=rng.randint(1, 60))
            started = ended - dt.timedelta(days=rng.randint(365, 900))
            row = _link(rng, now, customer_id, competitors[before], products[before], started, None)
            row["ended_on"] = ended
            rows.append(row)
    await bulk_insert(session, models.CustomerCompetitor, rows)


def _link(
    rng: random.Random,
    now: dt.datetime,
    customer_id: int,
    competitor: models.Competitor,
    products: list[models.Product],
    since: dt.date,
    ends: dt.date | None,
) -> dict[str, Any]:
    notes = rng.choice([None, None, "Happy with them so far", "对服务不太满意", "Price-driven"])
    return {
        "customer_id": customer_id,
        "competitor_id": competitor.id,
        "product_id": rng.choice(products).id,
        "since": since,
        "contract_ends_on": ends,
        "ended_on": None,
        "notes": notes,
        "reminded_for": None,
        "created_at": _at(since, now),
        "updated_at": _at(since, now),
        "version": 1,
    }


async def _encounters(
    session: AsyncSession,
    rng: random.Random,
    now: dt.datetime,
    today: dt.date,
    customers: list[tuple[int, int | None]],
    competitors: list[models.Competitor],
    quarters: list[dt.date],
    size: int,
) -> None:
    """Deals met against the competitors over eight quarters, entered by hand: about one and
    a half per customer, each owned by its customer's owner."""
    if not customers:
        return
    weights = [profile.weight for profile in PROFILES]
    span = (today - quarters[0]).days
    rows: list[dict[str, Any]] = []
    for _n in range(max(48, size * 3 // 2)):
        index = rng.choices(range(len(competitors)), weights)[0]
        profile = PROFILES[index]
        customer_id, owner_id = rng.choice(customers)
        occurred = quarters[0] + dt.timedelta(days=rng.randint(0, span))
        quarter = sum(1 for start in quarters if start <= occurred) - 1
        won = rng.random() < profile.win_rate + profile.win_drift * quarter
        reasons = WON_REASONS if won else profile.loss_reasons
        reason: str | None = rng.choices(list(reasons), list(reasons.values()))[0]
        if won and rng.random() < 0.4:
            reason = None
        text = (
            rng.choice(REASON_TEXTS[reason])
            if reason in REASON_TEXTS and (reason == "OTHER" or rng.random() < 0.5)
            else None
        )
        priced = rng.random() < 0.9
        rows.append(
            {
                "competitor_id": competitors[index].id,
                "customer_id": customer_id,
                "opportunity_id": None,
                "owner_id": owner_id,
                "source": "MANUAL",
                "outcome": "WON" if won else "LOST",
                "reason": reason,
                "reason_text": text,
                "amount": quantize_amount(D(rng.randint(8, 400) * 500), CURRENCY)
                if priced
                else None,
                "currency": CURRENCY if priced else None,
                "occurred_on": occurred,
                "created_by_id": owner_id,
                "created_at": _at(occurred, now, 17),
            }
        )
    await bulk_insert(session, models.Encounter, rows)
