"""Business time: a calendar of working hours, and arithmetic in business seconds.

SLA clocks count only business time when a calendar is set (weekdays, daily hours, a time
zone, holidays); without one, every second counts. All results are UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # an SLA never reaches ten years ahead; stops a bad calendar from looping


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start: dt.time = dt.time(9)
    end: dt.time = dt.time(17)
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The working hours of ``day`` in UTC, or ``None`` on a day off."""
        if day.weekday() not in self.weekdays or day in self.holidays:
            return None
        zone = self.zone
        opens = dt.datetime.combine(day, self.start, tzinfo=zone).astimezone(dt.UTC)
        closes = dt.datetime.combine(day, self.end, tzinfo=zone).astimezone(dt.UTC)
        return opens, closes

    def add(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        """The moment ``seconds`` of business time after ``moment``."""
        remaining = seconds
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            window = self._window(day)
            if window is not None:
                opens, closes = window
                begin = max(opens, moment)
                if begin < closes:
                    available = (closes - begin).total_seconds()
                    if remaining <= available:
                        return (begin + dt.timedelta(seconds=remaining)).astimezone(dt.UTC)
                    remaining -= available
            day += dt.timedelta(days=1)
        raise ValueError("the calendar has no working time within ten years")

    def between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Business seconds from ``start`` to ``end`` (0 if ``end`` is not later)."""
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            window = self._window(day)
            if window is not None:
                begin, finish = max(window[0], start), min(window[1], end)
                if finish > begin:
                    total += (finish - begin).total_seconds()
            day += dt.timedelta(days=1)
        return total


@dataclass(frozen=True)
class AlwaysOpen:
    """No calendar: every second is business time."""

    def add(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        return moment + dt.timedelta(seconds=seconds)

    def between(self, start: dt.datetime, end: dt.datetime) -> float:
        return max((end - start).total_seconds(), 0.0)


Calendar = BusinessCalendar | AlwaysOpen
