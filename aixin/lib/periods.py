"""Care periods (R-7.1): the week, month, quarter, school term or year a day belongs to.

Framework-free. A period is an inclusive pair of dates (start, end). Periods of one cadence
tile the calendar without gaps or overlaps, which is what lets compliance be counted per period.

School terms come from configuration as a sequence of term start dates. A term runs from its
start to the day before the next term's start, so a holiday belongs to the term before it.
Outside the configured calendar the term falls back to half-years (1 Jan–30 Jun, 1 Jul–31 Dec):
before the first known term the half-year is cut at that term's start; after the last known term
that term runs to the first half-year boundary at least ~4 months after its start.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Iterable, Sequence

Period = tuple[datetime.date, datetime.date]

CADENCES = ("week", "month", "quarter", "term", "year")

_ONE_DAY = datetime.timedelta(days=1)
# After the last configured term, that term is taken to last at least this long.
_LAST_TERM_MIN_DAYS = 120


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - _ONE_DAY


def _half_year(day: datetime.date) -> Period:
    if day.month <= 6:
        return datetime.date(day.year, 1, 1), datetime.date(day.year, 6, 30)
    return datetime.date(day.year, 7, 1), datetime.date(day.year, 12, 31)


def _next_half_year_start_after(day: datetime.date) -> datetime.date:
    """The first 1 Jan or 1 Jul strictly after `day`."""
    if day < datetime.date(day.year, 7, 1):
        return datetime.date(day.year, 7, 1)
    return datetime.date(day.year + 1, 1, 1)


def _term(day: datetime.date, starts: Sequence[datetime.date]) -> Period:
    if not starts or day < starts[0]:
        start, end = _half_year(day)
        if starts and end >= starts[0]:
            end = starts[0] - _ONE_DAY
        return start, end
    i = bisect.bisect_right(starts, day) - 1
    start = starts[i]
    if i + 1 < len(starts):
        return start, starts[i + 1] - _ONE_DAY
    boundary = _next_half_year_start_after(start + datetime.timedelta(days=_LAST_TERM_MIN_DAYS))
    if day < boundary:
        return start, boundary - _ONE_DAY
    return _half_year(day)


def normalise_terms(terms: Iterable[datetime.date]) -> tuple[datetime.date, ...]:
    """Sorted, de-duplicated term start dates."""
    return tuple(sorted(set(terms)))


def period_for(cadence: str, day: datetime.date, terms: Sequence[datetime.date] = ()) -> Period:
    """The period of `cadence` that contains `day`. `terms` are school-term start dates."""
    if cadence == "week":
        start = day - datetime.timedelta(days=day.weekday())
        return start, start + datetime.timedelta(days=6)
    if cadence == "month":
        return datetime.date(day.year, day.month, 1), _month_end(day.year, day.month)
    if cadence == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        return datetime.date(day.year, first_month, 1), _month_end(day.year, first_month + 2)
    if cadence == "term":
        return _term(day, normalise_terms(terms))
    if cadence == "year":
        return datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31)
    raise ValueError(f"unknown cadence {cadence!r}")


def previous_period(cadence: str, day: datetime.date, terms: Sequence[datetime.date] = ()) -> Period:
    """The period just before the one containing `day`."""
    start, _ = period_for(cadence, day, terms)
    return period_for(cadence, start - _ONE_DAY, terms)


def periods_between(
    cadence: str, start: datetime.date, end: datetime.date, terms: Sequence[datetime.date] = ()
) -> list[Period]:
    """The whole periods of `cadence` that overlap [start, end], in order (empty if end < start)."""
    result: list[Period] = []
    sorted_terms = normalise_terms(terms)
    day = start
    while day <= end:
        period = period_for(cadence, day, sorted_terms)
        result.append(period)
        day = period[1] + _ONE_DAY
    return result
