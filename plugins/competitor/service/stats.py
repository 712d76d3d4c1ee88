"""Win/loss figures per competitor (``competitorStats``, ``Competitor.winLoss``, the
battlecard): deals met, won and lost, the win rate, the amounts won and lost per currency,
the most common loss reasons and the trend by quarter.

Only the encounters the caller may read count (:func:`.encounters.readable`). Everything is
one SQL aggregate (GROUP BY competitor, outcome, reason, currency, year and month of the
day it occurred) folded here, so a request costs the same number of statements whatever
the number of encounters: that one and the competitors' names. Rates are exact decimals
rounded once, half-up, to one place (66.7 means 66.7%).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Numeric, extract, func, literal, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from core.plugin_api import Customer, Money, RequestContext, money_totals
from plugins.competitor.enums import EncounterOutcome, PeriodKind, SegmentKind
from plugins.competitor.models import Competitor, Encounter
from plugins.competitor.periods import next_period, period_label, period_start
from plugins.competitor.service.encounters import readable

SUM = Numeric(28, 4)
ONE_PLACE = decimal.Decimal("0.1")
WON = EncounterOutcome.WON.value
LOST = EncounterOutcome.LOST.value


def rate(part: int, whole: int) -> decimal.Decimal | None:
    """``part / whole * 100`` rounded half-up to one place; ``None`` when ``whole`` is 0."""
    if whole == 0:
        return None
    exact = decimal.Decimal(part * 100) / decimal.Decimal(whole)
    return exact.quantize(ONE_PLACE, rounding=decimal.ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class StatsFilter:
    """Which encounters count: those that occurred from ``occurred_from`` to
    ``occurred_to`` (inclusive), owned by ``owner_id``, of customers in a segment (the
    customer's industry or region, compared case-insensitively), against
    ``competitor_ids``."""

    occurred_from: dt.date | None = None
    occurred_to: dt.date | None = None
    owner_id: int | None = None
    segment_kind: SegmentKind | None = None
    segment_value: str | None = None
    competitor_ids: Sequence[int] | None = None


@dataclasses.dataclass
class QuarterFigures:
    quarter: str
    """``2026-Q3``."""
    met: int = 0
    won: int = 0
    lost: int = 0

    @property
    def win_rate(self) -> decimal.Decimal | None:
        return rate(self.won, self.won + self.lost)


@dataclasses.dataclass
class CompetitorFigures:
    competitor_id: int
    met: int = 0
    won: int = 0
    lost: int = 0
    won_amounts: list[Money] = dataclasses.field(default_factory=list)
    lost_amounts: list[Money] = dataclasses.field(default_factory=list)
    loss_reasons: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    """(reason, count) of the lost deals, the most common first (ties by reason)."""
    quarters: list[QuarterFigures] = dataclasses.field(default_factory=list)
    """Each quarter from the first to the last with an encounter, in order (a quarter
    without any in between counts zeros)."""

    @property
    def win_rate(self) -> decimal.Decimal | None:
        """``won / (won + lost) * 100``, one place; ``None`` with no deal decided."""
        return rate(self.won, self.won + self.lost)

    def reason_share(self, count: int) -> decimal.Decimal | None:
        """A loss reason's share of the deals lost, in percent, one place."""
        return rate(count, self.lost)


def _conditions(context: RequestContext, filter: StatsFilter) -> list[ColumnElement[bool]]:
    conditions = [readable(context)]
    if filter.occurred_from is not None:
        conditions.append(Encounter.occurred_on >= filter.occurred_from)
    if filter.occurred_to is not None:
        conditions.append(Encounter.occurred_on <= filter.occurred_to)
    if filter.owner_id is not None:
        conditions.append(Encounter.owner_id == filter.owner_id)
    if filter.competitor_ids is not None:
        conditions.append(Encounter.competitor_id.in_(list(filter.competitor_ids)))
    if filter.segment_kind is not None and filter.segment_value is not None:
        column = (
            Customer.industry if filter.segment_kind is SegmentKind.INDUSTRY else Customer.region
        )
        conditions.append(
            Encounter.customer_id.in_(
                select(Customer.id).where(
                    func.lower(column) == func.lower(literal(filter.segment_value))
                )
            )
        )
    return conditions


def _quarters(months: dict[dt.date, list[int]]) -> list[QuarterFigures]:
    """Quarter figures from (met, won, lost) per quarter start, gaps filled with zeros."""
    if not months:
        return []
    starts = sorted(months)
    result: list[QuarterFigures] = []
    current = starts[0]
    while current <= starts[-1]:
        met, won, lost = months.get(current, [0, 0, 0])
        result.append(
            QuarterFigures(period_label(current, PeriodKind.QUARTER), met=met, won=won, lost=lost)
        )
        current = next_period(current, PeriodKind.QUARTER)
    return result


async def win_loss(
    session: AsyncSession, context: RequestContext, filter: StatsFilter
) -> list[CompetitorFigures]:
    """The figures of each competitor met in the encounters ``filter`` keeps (each of
    ``filter.competitor_ids`` that exists, met or not), the most met first, then by name."""
    year = extract("year", Encounter.occurred_on)
    month = extract("month", Encounter.occurred_on)
    grouped = (Encounter.competitor_id, Encounter.outcome, Encounter.reason, Encounter.currency)
    rows = (
        await session.execute(
            select(
                *grouped,
                year,
                month,
                func.count(),
                type_coerce(func.sum(Encounter.amount), SUM),
            )
            .where(*_conditions(context, filter))
            .group_by(*grouped, year, month)
        )
    ).all()
    figures: dict[int, CompetitorFigures] = {}
    amounts: dict[int, dict[str, list[tuple[str, decimal.Decimal]]]] = defaultdict(
        lambda: {WON: [], LOST: []}
    )
    reasons: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    quarters: dict[int, dict[dt.date, list[int]]] = defaultdict(dict)
    for competitor_id, outcome, reason, currency, y, m, count, total in rows:
        found = figures.setdefault(competitor_id, CompetitorFigures(competitor_id))
        count = int(count)
        found.met += count
        quarter = period_start(dt.date(int(y), int(m), 1), PeriodKind.QUARTER)
        tally = quarters[competitor_id].setdefault(quarter, [0, 0, 0])
        tally[0] += count
        if outcome == WON:
            found.won += count
            tally[1] += count
        else:
            found.lost += count
            tally[2] += count
            if reason is not None:
                reasons[competitor_id][reason] += count
        if currency is not None and total is not None:
            amounts[competitor_id][outcome].append((currency, decimal.Decimal(total)))
    wanted = set(figures) | set(filter.competitor_ids or ())
    names: dict[int, str] = {}
    if wanted:
        found_names = await session.execute(
            select(Competitor.id, Competitor.name).where(Competitor.id.in_(sorted(wanted)))
        )
        names = {row.id: row.name for row in found_names}
    result: list[CompetitorFigures] = []
    for competitor_id in names:
        found = figures.get(competitor_id) or CompetitorFigures(competitor_id)
        found.won_amounts = money_totals(amounts[competitor_id][WON])
        found.lost_amounts = money_totals(amounts[competitor_id][LOST])
        found.loss_reasons = sorted(
            reasons[competitor_id].items(), key=lambda item: (-item[1], item[0])
        )
        found.quarters = _quarters(quarters[competitor_id])
        result.append(found)
    result.sort(key=lambda f: (-f.met, names[f.competitor_id].casefold(), f.competitor_id))
    return result


async def figures_for(
    session: AsyncSession, context: RequestContext, competitor_id: int
) -> CompetitorFigures:
    """A competitor's figures over all time (the encounters the caller may read)."""
    found = await win_loss(session, context, StatsFilter(competitor_ids=[competitor_id]))
    return found[0] if found else CompetitorFigures(competitor_id)
