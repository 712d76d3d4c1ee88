"""Business time: a calendar of working hours, and arithmetic in business seconds.

SLA clocks count only business time when a calendar is set; without one, every second
counts. A calendar has working weekdays, the working spans of a day (several, for a lunch
break; optionally other spans on some weekdays), a time zone, a named public holiday
calendar (``CN``: the holidays *and* the make-up working days, 调休, from the ``holidays``
library), and its own holidays and extra working days, which override the named calendar.
All results are UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays as holiday_data

MAX_DAYS = 3660  # an SLA never reaches ten years ahead; stops a bad calendar from looping

Span = tuple[dt.time, dt.time]
"""A working span of a day, local time: start (inclusive) to end."""

NINE_TO_FIVE: tuple[Span, ...] = ((dt.time(9), dt.time(17)),)


def holiday_calendars() -> frozenset[str]:
    """The names a ``holiday_calendar`` may have: the country codes the ``holidays``
    library knows (``CN``, ``US``, ``DE`` ...)."""
    return frozenset(holiday_data.list_supported_countries())


@functools.lru_cache(maxsize=64)
def named_days(name: str, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """The public holidays of calendar ``name`` in ``year``, and its working days that fall
    on a weekend (the make-up working days of China's calendar; none for most countries).
    Years the government has not announced yet have the holidays the law fixes and no
    make-up days."""
    days = holiday_data.country_holidays(name, years=year)
    weekend = days.weekend
    first = dt.date(year, 1, 1)
    year_days = (
        first + dt.timedelta(days=n) for n in range((first.replace(year=year + 1) - first).days)
    )
    workdays = frozenset(
        day for day in year_days if day.weekday() in weekend and days.is_working_day(day)
    )
    return frozenset(days), workdays


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    spans: tuple[Span, ...] = NINE_TO_FIVE
    weekday_spans: tuple[tuple[int, tuple[Span, ...]], ...] = ()
    """Spans of some weekdays (Monday = 0) that differ from ``spans``."""
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    working_days: frozenset[dt.date] = field(default_factory=frozenset)
    """Extra working days (a make-up Saturday): they work ``spans``."""
    holiday_calendar: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def spans_of(self, day: dt.date) -> tuple[Span, ...]:
        """The working spans of ``day``, none on a day off. The calendar's own working days
        and holidays come first, then the named calendar's, then the weekdays."""
        if day in self.working_days:
            return self.spans
        if day in self.holidays:
            return ()
        if self.holiday_calendar is not None:
            days_off, workdays = named_days(self.holiday_calendar, day.year)
            if day in workdays:
                return self.spans
            if day in days_off:
                return ()
        if day.weekday() not in self.weekdays:
            return ()
        return dict(self.weekday_spans).get(day.weekday(), self.spans)

    def _windows(self, day: dt.date) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The working spans of ``day`` in UTC, in order."""
        zone = self.zone
        for start, end in self.spans_of(day):
            opens = dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)
            closes = dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)
            yield opens, closes

    def add(self, moment: dt.datetime, seconds: float) -> dt.datetime:
        """The moment ``seconds`` of business time after ``moment``."""
        remaining = seconds
        day = moment.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            for opens, closes in self._windows(day):
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
            for opens, closes in self._windows(day):
                begin, finish = max(opens, start), min(closes, end)
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
