"""Business days in England: weekends and bank holidays, London dates, and the laws the
oversight queries rely on to turn "due by" into a range over start dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.settings import OversightSettings
from projections.business_days import (
    add_business_days,
    add_months,
    business_days_between,
    end_of_day,
    is_business_day,
    latest_month_start,
    latest_start,
    local_date,
    months_between,
    passed_cutoff,
)
from projections.oversight_rules import RULES

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
SMALL = st.integers(min_value=0, max_value=45)


def test_five_business_days_after_a_monday_is_the_next_monday() -> None:
    assert add_business_days(date(2025, 3, 3), 5) == date(2025, 3, 10)


def test_bank_holidays_are_not_business_days() -> None:
    assert not is_business_day(date(2025, 4, 18))  # Good Friday
    assert not is_business_day(date(2025, 4, 21))  # Easter Monday
    assert not is_business_day(date(2026, 12, 28))  # Boxing Day (substitute day)
    assert is_business_day(date(2025, 4, 22))
    assert add_business_days(date(2025, 4, 17), 1) == date(2025, 4, 22)
    assert add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_a_weekend_start_counts_from_the_next_business_day() -> None:
    assert add_business_days(date(2025, 3, 8), 1) == date(2025, 3, 10)
    assert add_business_days(date(2025, 3, 8), 0) == date(2025, 3, 8)


def test_business_days_between() -> None:
    monday = date(2025, 3, 3)
    assert business_days_between(monday, date(2025, 3, 10)) == 5
    assert business_days_between(monday, monday) == 0
    assert business_days_between(monday, date(2025, 3, 1)) == 0
    assert business_days_between(date(2025, 3, 7), date(2025, 3, 8)) == 1  # Friday to Saturday
    assert business_days_between(date(2025, 4, 17), date(2025, 4, 22)) == 1  # over Easter


def test_latest_start() -> None:
    assert latest_start(date(2025, 3, 10), 5) == date(2025, 3, 3)
    assert latest_start(date(2025, 3, 15), 5) == date(2025, 3, 9)  # a Saturday deadline
    assert latest_start(date(2025, 3, 15), 0) == date(2025, 3, 15)
    with pytest.raises(ValueError, match="negative"):
        latest_start(date(2025, 3, 15), -1)


def test_months_clamp_to_the_end_of_a_shorter_month() -> None:
    assert add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 3, 15), -3) == date(2024, 12, 15)
    assert months_between(date(2024, 1, 15), date(2025, 1, 15)) == 12
    assert months_between(date(2024, 1, 15), date(2025, 1, 16)) == 13


def test_a_day_ends_at_london_midnight() -> None:
    assert end_of_day(date(2025, 3, 10)) == datetime(2025, 3, 11, tzinfo=UTC)  # GMT
    assert end_of_day(date(2025, 6, 10)) == datetime(2025, 6, 10, 23, tzinfo=UTC)  # BST
    assert local_date(datetime(2025, 6, 1, 23, 30, tzinfo=UTC)) == date(2025, 6, 2)
    assert local_date(datetime(2025, 1, 1, 23, 30, tzinfo=UTC)) == date(2025, 1, 1)


def test_a_deadline_has_passed_once_its_day_has_ended() -> None:
    # A start on Monday 3 March with 5 days is due by the end of Monday 10 March.
    assert passed_cutoff(datetime(2025, 3, 10, 23, 59, tzinfo=UTC), 5) < date(2025, 3, 3)
    assert passed_cutoff(datetime(2025, 3, 11, tzinfo=UTC), 5) == date(2025, 3, 3)


@given(DAYS, DAYS, SMALL)
def test_between_is_the_inverse_of_add(start: date, end: date, n: int) -> None:
    assert (end <= add_business_days(start, n)) == (business_days_between(start, end) <= n)


@given(DAYS, DAYS, SMALL)
def test_latest_start_is_the_last_day_that_meets_the_deadline(
    start: date, deadline: date, n: int
) -> None:
    assert (add_business_days(start, n) <= deadline) == (start <= latest_start(deadline, n))


@given(DAYS, DAYS, st.integers(min_value=0, max_value=30))
def test_month_laws(start: date, other: date, months: int) -> None:
    assert (other <= add_months(start, months)) == (months_between(start, other) <= months)
    assert (add_months(start, months) <= other) == (start <= latest_month_start(other, months))


@given(INSTANTS, DAYS, st.sampled_from(sorted(RULES)), st.integers(min_value=0, max_value=100))
def test_each_rule_due_by_a_day_is_a_range_on_its_start(
    since: datetime, horizon: date, rule_name: str, threshold: int
) -> None:
    rule = RULES[rule_name]
    settings: Any = SimpleNamespace(**{rule.setting: threshold})  # any value, even 0
    key: date | datetime = since if rule.unit == "hours" else local_date(since)
    due_by_horizon = rule.due_at(since, settings) <= end_of_day(horizon)
    assert due_by_horizon == (key <= rule.since_cutoff(horizon, settings))


def test_due_at_of_each_unit() -> None:
    since = datetime(2025, 3, 3, 9, tzinfo=UTC)
    settings = OversightSettings()
    assert RULES["induction"].due_at(since, settings) == datetime(2025, 3, 11, tzinfo=UTC)
    assert RULES["oversight_interval"].due_at(since, settings) == end_of_day(date(2025, 6, 1))
    assert RULES["recall_decision"].due_at(since, settings) == since + timedelta(hours=24)
