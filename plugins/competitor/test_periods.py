"""Period labels and arithmetic, and the least-squares forecast, against figures by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from plugins.competitor.enums import PeriodKind
from plugins.competitor.periods import (
    least_squares_next,
    next_period,
    parse_period,
    period_label,
    period_start,
)


def test_period_starts_labels_and_the_next_period() -> None:
    day = dt.date(2026, 11, 23)
    assert period_start(day, PeriodKind.MONTH) == dt.date(2026, 11, 1)
    assert period_start(day, PeriodKind.QUARTER) == dt.date(2026, 10, 1)
    assert period_start(day, PeriodKind.YEAR) == dt.date(2026, 1, 1)
    assert next_period(dt.date(2026, 12, 1), PeriodKind.MONTH) == dt.date(2027, 1, 1)
    assert next_period(dt.date(2026, 10, 1), PeriodKind.QUARTER) == dt.date(2027, 1, 1)
    assert next_period(dt.date(2026, 1, 1), PeriodKind.YEAR) == dt.date(2027, 1, 1)
    assert period_label(dt.date(2026, 7, 1), PeriodKind.QUARTER) == "2026-Q3"
    assert period_label(dt.date(2026, 3, 1), PeriodKind.MONTH) == "2026-03"
    assert period_label(dt.date(2026, 1, 1), PeriodKind.YEAR) == "2026"


def test_labels_parse_and_others_are_refused() -> None:
    assert parse_period("2026-Q3") == (PeriodKind.QUARTER, dt.date(2026, 7, 1))
    assert parse_period(" 2026-03 ") == (PeriodKind.MONTH, dt.date(2026, 3, 1))
    assert parse_period("2026") == (PeriodKind.YEAR, dt.date(2026, 1, 1))
    for bad in ("2026-Q5", "2026-13", "2026-00", "26-Q1", "2026Q1", "", "0999", "Q1-2026"):
        with pytest.raises(ValueError, match="not a period label"):
            parse_period(bad)


def test_least_squares_next_value() -> None:
    # y = 10, 12, 14 lies on y = 10 + 2x: the next (x = 3) is 16.
    assert least_squares_next([Decimal(10), Decimal(12), Decimal(14)]) == Decimal(16)
    # 1, 3, 2, 4: mean x 1.5, mean y 2.5, Sxy = 2.25 - 0.25 - 0.25 + 2.25 = 4, Sxx = 5, slope
    # 0.8; at x = 4: 2.5 + 0.8 * (4 - 1.5) = 4.5.
    assert least_squares_next([Decimal(1), Decimal(3), Decimal(2), Decimal(4)]) == Decimal("4.5")
    assert least_squares_next([Decimal(5), Decimal(5)]) == Decimal(5)
    assert least_squares_next([Decimal(7)]) is None
    assert least_squares_next([]) is None
