"""Market periods (a month, a quarter, a year), their labels, and the trend forecast.

A period is named by its label: ``2026-11`` (a month), ``2026-Q3`` (a quarter), ``2026`` (a
year). It is stored as its kind and its first day.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Sequence

from plugins.competitor.enums import PeriodKind

_LABEL = re.compile(r"^([0-9]{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])))?$")


def period_start(day: dt.date, kind: PeriodKind) -> dt.date:
    """The first day of the period of ``kind`` that holds ``day``."""
    if kind is PeriodKind.MONTH:
        return day.replace(day=1)
    if kind is PeriodKind.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_period(start: dt.date, kind: PeriodKind) -> dt.date:
    """The first day of the period after the one starting on ``start``."""
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[kind]
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_label(start: dt.date, kind: PeriodKind) -> str:
    """``2026-11``, ``2026-Q3`` or ``2026``."""
    if kind is PeriodKind.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    if kind is PeriodKind.QUARTER:
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year:04d}"


def parse_period(label: str) -> tuple[PeriodKind, dt.date]:
    """The kind and first day of a period label; ``ValueError`` for anything else."""
    match = _LABEL.match(label.strip())
    if match is None or not 1900 <= int(match.group(1)) <= 2999:
        raise ValueError(f"not a period label: {label!r}")
    year = int(match.group(1))
    if match.group(2) is not None:
        return PeriodKind.MONTH, dt.date(year, int(match.group(2)), 1)
    if match.group(3) is not None:
        return PeriodKind.QUARTER, dt.date(year, 3 * (int(match.group(3)) - 1) + 1, 1)
    return PeriodKind.YEAR, dt.date(year, 1, 1)


def least_squares_next(values: Sequence[decimal.Decimal]) -> decimal.Decimal | None:
    """The next value of the straight line fitted by least squares to ``values``, taken at
    x = 0, 1, ..., n - 1 (consecutive periods): ``a + b * n``. ``None`` with fewer than two
    values. Exact decimal arithmetic; the caller rounds."""
    n = len(values)
    if n < 2:
        return None
    xs = [decimal.Decimal(x) for x in range(n)]
    mean_x = sum(xs, decimal.Decimal(0)) / n
    mean_y = sum(values, decimal.Decimal(0)) / n
    sxx = sum(((x - mean_x) ** 2 for x in xs), decimal.Decimal(0))
    sxy = sum(
        ((x - mean_x) * (y - mean_y) for x, y in zip(xs, values, strict=True)), decimal.Decimal(0)
    )
    slope = sxy / sxx
    return mean_y + slope * (decimal.Decimal(n) - mean_x)
