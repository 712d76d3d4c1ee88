"""Sales analytics: the funnel, the weighted forecast and win/loss performance.

Each figure is a few grouped SQL statements over the opportunities the caller may read
(:func:`plugins.sales.declarations.visible`), whatever their number: the database groups
and sums (Decimal sums stay Decimal; SQLite's sums are read back at the column's four
places), Python only spreads the few grouped rows over stages, months and groups. Months are
UTC calendar months, bucketed by a dialect-aware expression (``strftime`` on SQLite,
``to_char`` on PostgreSQL). The definitions are in the GraphQL descriptions of
:mod:`plugins.sales.types.analytics`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    case,
    extract,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.plugin_api import Money, RequestContext, Team, User, money_totals, quantize_amount
from plugins.sales import declarations, models
from plugins.sales.inputs.analytics import SalesForecastGroupBy, SalesPerformanceGroupBy
from plugins.sales.types.analytics import (
    SalesForecast,
    SalesForecastFigures,
    SalesForecastGroup,
    SalesForecastMonth,
    SalesFunnel,
    SalesFunnelStage,
    SalesPerformance,
    SalesPerformanceFigures,
    SalesPerformanceGroup,
)

Opp = models.Opportunity
Stg = models.Stage
OPEN, WON, LOST = "OPEN", "WON", "LOST"
SUM = Numeric(28, 4)
"""The type sums are read back as: Decimal at four places on every database."""

Amounts = list[tuple[str, decimal.Decimal]]


def share(hits: int, total: int) -> float | None:
    """``hits / total`` rounded to 4 places; ``None`` when ``total`` is 0."""
    return round(hits / total, 4) if total else None


def scope(
    context: RequestContext, owner_id: int | None, team_id: int | None
) -> list[ColumnElement[bool]]:
    """The conditions selecting the opportunities the caller reads, of the owner and team
    asked for (the team of the owner's user record)."""
    conditions = [declarations.visible(context, declarations.OPPORTUNITIES)]
    if owner_id is not None:
        conditions.append(Opp.owner_id == owner_id)
    if team_id is not None:
        members = select(User.id).where(User.team_id == team_id).correlate(None)
        conditions.append(Opp.owner_id.in_(members))
    return conditions


def month_of(column: Any, dialect: str, *, timestamp: bool) -> ColumnElement[str]:
    """``YYYY-MM`` of a date or (UTC) timestamp column. The format is inlined rather than
    bound, so the same expression in SELECT and GROUP BY is one expression to PostgreSQL."""
    if dialect == "postgresql":
        value = func.timezone(literal_column("'UTC'"), column) if timestamp else column
        return func.to_char(value, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column)


def cycle_days(dialect: str) -> ColumnElement[Any]:
    """Days (fractional) from an opportunity's creation to its closing."""
    if dialect == "postgresql":
        return extract("epoch", Opp.closed_at - Opp.created_at) / 86400
    return func.julianday(Opp.closed_at) - func.julianday(Opp.created_at)


def money_sum(value: Any) -> ColumnElement[decimal.Decimal]:
    return type_coerce(func.sum(value), SUM)


# ------------------------------------------------------------------------------ funnel


async def funnel(session: AsyncSession, conditions: Sequence[ColumnElement[bool]]) -> SalesFunnel:
    """The funnel of the opportunities ``conditions`` select: two statements (the stages,
    then the opportunities grouped by how far they got, their current kind and currency).
    The WON row counts the opportunities now WON (one won, reopened and lost is not), so it
    agrees with ``won`` and ``winRate``; the OPEN rows count one that was ever WON as having
    passed every OPEN stage."""
    stages = (
        await session.scalars(
            select(Stg)
            .where(or_((Stg.kind == OPEN) & Stg.active.is_(True), Stg.kind == WON))
            .order_by(case((Stg.kind == WON, 1), else_=0), Stg.position, Stg.id)
        )
    ).all()
    selected = select(Opp.id).where(*conditions).correlate(None)
    entered = union_all(
        select(
            models.StageChange.opportunity_id.label("opportunity_id"),
            models.StageChange.to_stage_id.label("stage_id"),
        ).where(models.StageChange.opportunity_id.in_(selected)),
        select(Opp.id.label("opportunity_id"), Opp.stage_id.label("stage_id")).where(*conditions),
    ).subquery("entered")
    reached = (
        select(
            entered.c.opportunity_id,
            func.max(case((Stg.kind == OPEN, Stg.position))).label("top"),
            func.max(case((Stg.kind == WON, 1), else_=0)).label("won"),
        )
        .join(Stg, Stg.id == entered.c.stage_id)
        .group_by(entered.c.opportunity_id)
        .subquery("reached")
    )
    current = models.Stage.__table__.alias("current_stage")
    rows = (
        await session.execute(
            select(
                reached.c.top,
                reached.c.won,
                current.c.kind,
                Opp.currency,
                func.count(),
                money_sum(Opp.amount),
            )
            .select_from(reached)
            .join(Opp, Opp.id == reached.c.opportunity_id)
            .join(current, current.c.id == Opp.stage_id)
            .group_by(reached.c.top, reached.c.won, current.c.kind, Opp.currency)
        )
    ).all()

    def reached_stage(stage: models.Stage) -> tuple[int, Amounts]:
        """An OPEN stage: opportunities that entered it, a later OPEN stage or WON (even if
        reopened since); the WON row: those now WON, as ``won`` and ``winRate`` count."""
        if stage.kind == WON:
            hits = [row for row in rows if row[2] == WON]
        else:
            hits = [
                row for row in rows if row[1] or (row[0] is not None and row[0] >= stage.position)
            ]
        return sum(row[4] for row in hits), [(row[3], row[5]) for row in hits]

    won_count = reached_stage(next(s for s in stages if s.kind == WON))[0]
    figures = [reached_stage(stage) for stage in stages]
    out: list[SalesFunnelStage] = []
    for index, (stage, (count, amounts)) in enumerate(zip(stages, figures, strict=True)):
        following = figures[index + 1][0] if index + 1 < len(figures) else None
        out.append(
            SalesFunnelStage(
                key=stage.key,
                name=stage.name,
                kind=stage.kind,
                position=stage.position,
                count=count,
                amount=money_totals(amounts),
                conversion_to_next=share(following, count) if following is not None else None,
                conversion_to_won=share(won_count, count),
            )
        )
    by_kind: dict[str, int] = defaultdict(int)
    for row in rows:
        by_kind[row[2]] += row[4]
    won, lost = by_kind[WON], by_kind[LOST]
    return SalesFunnel(
        stages=out,
        entered=sum(by_kind.values()),
        amount=money_totals((row[3], row[5]) for row in rows),
        open=by_kind[OPEN],
        won=won,
        lost=lost,
        lost_amount=money_totals((row[3], row[5]) for row in rows if row[2] == LOST),
        win_rate=share(won, won + lost),
    )


# ---------------------------------------------------------------------------- forecast


@dataclass
class _Forecast:
    count: int = 0
    amounts: Amounts = field(default_factory=list)
    weighted: Amounts = field(default_factory=list)

    def add(self, count: int, currency: str, amount: Any, weighted: Any) -> None:
        self.count += count
        self.amounts.append((currency, amount))
        self.weighted.append((currency, weighted / 100))

    def figures(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "amount": money_totals(self.amounts),
            "weighted_amount": money_totals(self.weighted),
        }


def _group_columns(group: str | None) -> list[Any]:
    """The columns a grouping adds: an id and a name to sort by."""
    if group == "OWNER":
        return [Opp.owner_id, User.name]
    if group == "TEAM":
        return [User.team_id, Team.name]
    return []


def _joined(statement: Any, group: str | None) -> Any:
    if group in ("OWNER", "TEAM"):
        statement = statement.outerjoin(User, User.id == Opp.owner_id)
    if group == "TEAM":
        statement = statement.outerjoin(Team, Team.id == User.team_id)
    return statement


def _sort_key(group: str | None, key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Named groups by name (then id), the one without an id last; others by value."""
    if group in ("OWNER", "TEAM"):
        return (key[0] is None, (key[1] or "").casefold(), key[0] or 0)
    return (key[0] is None, key[0] or "")


def _global_id(group: str | None, value: Any) -> str | None:
    if value is None:
        return None
    if group == "OWNER":
        return relay.to_base64("User", value)
    if group == "TEAM":
        return relay.to_base64("Team", value)
    return str(value)


async def forecast(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    months: list[str],
    group_by: SalesForecastGroupBy,
    dialect: str,
) -> SalesForecast:
    """Open opportunities expected to close in ``months`` (consecutive ``YYYY-MM``), by
    month and group: one statement."""
    group = None if group_by is SalesForecastGroupBy.NONE else group_by.value
    first = dt.date.fromisoformat(months[0] + "-01")
    year, month = (int(part) for part in months[-1].split("-"))
    # The last day of the last month (not the first of the next: 9999-12 has none).
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    month_column = month_of(Opp.expected_close_on, dialect, timestamp=False)
    probability = func.coalesce(Opp.probability_override, Stg.probability)
    extra = _group_columns(group)
    statement = select(
        month_column,
        Opp.currency,
        *extra,
        func.count(),
        money_sum(Opp.amount),
        money_sum(Opp.amount * probability),
    ).join(Stg, Stg.id == Opp.stage_id)
    statement = (
        _joined(statement, group)
        .where(
            Stg.kind == OPEN,
            Opp.expected_close_on >= first,
            Opp.expected_close_on <= last,
            *conditions,
        )
        .group_by(month_column, Opp.currency, *extra)
    )
    per_month: dict[str, _Forecast] = {m: _Forecast() for m in months}
    per_group: dict[str, dict[tuple[Any, ...], _Forecast]] = {m: {} for m in months}
    overall = _Forecast()
    for row in (await session.execute(statement)).all():
        month_key, currency = row[0], row[1]
        key = tuple(row[2 : 2 + len(extra)])
        count, amount, weighted = row[2 + len(extra) :]
        for target in (per_month[month_key], overall):
            target.add(count, currency, amount, weighted)
        if group is not None:
            per_group[month_key].setdefault(key, _Forecast()).add(count, currency, amount, weighted)
    return SalesForecast(
        months=[
            SalesForecastMonth(
                month=m,
                groups=[
                    SalesForecastGroup(
                        key=_global_id(group, key[0]),
                        team_name=key[1] if group == "TEAM" else None,
                        owner_id=key[0] if group == "OWNER" else None,
                        **figures.figures(),
                    )
                    for key, figures in sorted(
                        per_group[m].items(), key=lambda item: _sort_key(group, item[0])
                    )
                ],
                **per_month[m].figures(),
            )
            for m in months
        ],
        total=SalesForecastFigures(**overall.figures()),
    )


# ------------------------------------------------------------------------- performance


@dataclass
class _Performance:
    won: int = 0
    lost: int = 0
    days: float = 0.0
    won_amounts: Amounts = field(default_factory=list)
    won_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, currency: str, count: int, amount: Any, days: Any) -> None:
        self.days += float(days or 0)
        if kind == WON:
            self.won += count
            self.won_amounts.append((currency, amount))
            self.won_counts[currency] += count
        else:
            self.lost += count

    def figures(self) -> dict[str, Any]:
        won_amount = money_totals(self.won_amounts)
        closed = self.won + self.lost
        return {
            "won": self.won,
            "lost": self.lost,
            "win_rate": share(self.won, closed),
            "won_amount": won_amount,
            "average_deal_size": [
                Money(
                    amount=quantize_amount(m.amount / self.won_counts[m.currency], m.currency),
                    currency=m.currency,
                )
                for m in won_amount
            ],
            "average_cycle_days": round(self.days / closed, 2) if closed else None,
        }


async def performance(
    session: AsyncSession,
    conditions: Sequence[ColumnElement[bool]],
    group_by: SalesPerformanceGroupBy | None,
    dialect: str,
) -> SalesPerformance:
    """Opportunities now WON or LOST with a closedAt, grouped: one statement."""
    group = None if group_by is None else group_by.value
    if group == "SOURCE":
        extra: list[Any] = [Opp.source]
    elif group == "MONTH":
        extra = [month_of(Opp.closed_at, dialect, timestamp=True)]
    else:
        extra = _group_columns(group)
    statement = select(
        *extra,
        Stg.kind,
        Opp.currency,
        func.count(),
        money_sum(Opp.amount),
        func.sum(cycle_days(dialect)),
    ).join(Stg, Stg.id == Opp.stage_id)
    statement = (
        _joined(statement, group)
        .where(Stg.kind.in_((WON, LOST)), Opp.closed_at.is_not(None), *conditions)
        .group_by(*extra, Stg.kind, Opp.currency)
    )
    groups: dict[tuple[Any, ...], _Performance] = {}
    overall = _Performance()
    for row in (await session.execute(statement)).all():
        key = tuple(row[: len(extra)])
        kind, currency, count, amount, days = row[len(extra) :]
        overall.add(kind, currency, count, amount, days)
        if group is not None:
            groups.setdefault(key, _Performance()).add(kind, currency, count, amount, days)
    return SalesPerformance(
        groups=[
            SalesPerformanceGroup(
                key=_global_id(group, key[0]),
                team_name=key[1] if group == "TEAM" else None,
                owner_id=key[0] if group == "OWNER" else None,
                **figures.figures(),
            )
            for key, figures in sorted(groups.items(), key=lambda item: _sort_key(group, item[0]))
        ],
        total=SalesPerformanceFigures(**overall.figures()),
    )
