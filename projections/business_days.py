"""Working-day arithmetic for deadlines: England and Wales bank holidays, London dates.

A deadline in days is a date; it ends at midnight (London time) at the end of that day. An
event's date is its ``occurred_at`` as a London date, so a visit at 00:30 BST on a Monday
counts for that Monday whatever the UTC clock says.

The laws the read models rely on (tested in tests/unit/test_business_days.py):

- ``end <= add_business_days(start, n)`` exactly when ``business_days_between(start, end) <= n``;
- ``add_business_days(day, n) <= deadline`` exactly when ``day <= latest_start(deadline, n)``;
- the same two for ``add_months``, ``months_between`` and ``latest_month_start``.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=256)
def bank_holidays(year: int) -> frozenset[date]:
    """England's bank holidays in ``year`` (Wales has the same ones)."""
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_business_days(day: date, n: int) -> date:
    """The n-th business day after ``day`` (``day`` itself when n is 0)."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = day
    while n > 0:
        current += ONE_DAY
        if is_business_day(current):
            n -= 1
    return current


def business_days_between(start: date, end: date) -> int:
    """Business days taken from ``start`` to ``end``: the least n with
    ``add_business_days(start, n) >= end`` (0 when ``end`` is not after ``start``).

    Monday to the next Monday is 5; Friday to the Saturday after is 1, as a weekend day
    counts as the next business day.
    """
    if end <= start:
        return 0
    strictly_between = 0
    current = start + ONE_DAY
    while current < end:
        if is_business_day(current):
            strictly_between += 1
        current += ONE_DAY
    return strictly_between + 1


def latest_start(deadline: date, n: int) -> date:
    """The latest day whose n-th business day after it falls on or before ``deadline``."""
    if n < 0:
        raise ValueError("n must not be negative")
    if n == 0:
        return deadline
    current = deadline + ONE_DAY
    while n > 0:
        current -= ONE_DAY
        if is_business_day(current):
            n -= 1
    return current - ONE_DAY


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_between(start: date, end: date) -> int:
    """The least m >= 0 with ``add_months(start, m) >= end``."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    while add_months(start, months) < end:
        months += 1
    while months > 0 and add_months(start, months - 1) >= end:
        months -= 1
    return months


def latest_month_start(deadline: date, months: int) -> date:
    """The latest day whose date ``months`` later falls on or before ``deadline``."""
    day = add_months(deadline, -months)
    while add_months(day + ONE_DAY, months) <= deadline:
        day += ONE_DAY
    return day


def local_date(moment: datetime) -> date:
    """The London date of an aware instant."""
    return moment.astimezone(LONDON).date()


def end_of_day(day: date) -> datetime:
    """The instant (UTC) at which London's ``day`` ends: midnight at the start of the next."""
    return datetime.combine(day + ONE_DAY, time(0), tzinfo=LONDON).astimezone(UTC)


def passed_cutoff(now: datetime, n: int) -> date:
    """The latest start date whose n-business-day deadline is over at ``now``.

    A deadline is over once its day has ended, i.e. it fell before today (London).
    """
    return latest_start(local_date(now) - ONE_DAY, n)


def passed_month_cutoff(now: datetime, months: int) -> date:
    """The latest start date whose deadline ``months`` later is over at ``now``."""
    return latest_month_start(local_date(now) - ONE_DAY, months)
