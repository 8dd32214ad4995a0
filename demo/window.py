"""The demo's calendar: the window of months it covers, working days, and instants in it.

Everything happens on working days (England's bank holidays excluded) between 08:00 and 16:00
UTC, so an instant's London date is its UTC date. The window starts on a Monday and ends at
the start of today (UTC): nothing is dated today or later, so runs on the same day agree.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

ONE_DAY = timedelta(days=1)
DAYS_PER_MONTH = 30.4375


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_workday(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


class Window:
    """From the Monday ``months`` months before ``now`` up to the start of ``now``'s day."""

    def __init__(self, now: datetime, months: int) -> None:
        today = now.astimezone(UTC).date()
        first = today - timedelta(days=round(months * DAYS_PER_MONTH))
        self.start = first - timedelta(days=first.weekday())
        self.end = today  # exclusive
        self.horizon = datetime.combine(today, time(0), tzinfo=UTC)
        self.days = (self.end - self.start).days

    def workday(self, day: date) -> date:
        """``day``, or the next working day after it."""
        while not is_workday(day):
            day += ONE_DAY
        return day

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after ``day``."""
        while n > 0:
            day += ONE_DAY
            if is_workday(day):
                n -= 1
        return day

    def day(self, offset: float) -> date:
        """The working day on or after the window's start plus ``offset`` days."""
        return self.workday(self.start + timedelta(days=int(offset)))

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=UTC)

    def office_hours(
        self, rng: random.Random, day: date, first: int = 9, last: int = 15
    ) -> datetime:
        """A random quarter-hour on ``day`` between ``first`` and ``last`` o'clock (UTC)."""
        return self.at(day, rng.randint(first, last), 15 * rng.randint(0, 3))

    def later(
        self, rng: random.Random, after: datetime, workdays: tuple[int, int], first: int = 9
    ) -> datetime:
        """A moment some working days after ``after`` (0: later the same day), never before."""
        n = rng.randint(*workdays)
        day = self.add_workdays(after.date(), n) if n else self.workday(after.date())
        moment = self.office_hours(rng, day, first=first)
        return moment if moment > after else after + timedelta(minutes=rng.randint(10, 90))
