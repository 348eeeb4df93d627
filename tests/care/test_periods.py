import datetime
import itertools

from hypothesis import given
from hypothesis import strategies as st

from aixin.lib.periods import CADENCES, period_for, periods_between, previous_period

D = datetime.date
TERMS = [D(2024, 2, 20), D(2024, 9, 1), D(2025, 2, 20), D(2025, 9, 1), D(2026, 2, 20), D(2026, 9, 1)]
days = st.dates(min_value=D(2000, 1, 1), max_value=D(2090, 12, 31))
term_lists = st.lists(st.dates(min_value=D(2010, 1, 1), max_value=D(2040, 12, 31)), max_size=12)


def test_week_runs_monday_to_sunday():
    assert period_for("week", D(2025, 3, 5)) == (D(2025, 3, 3), D(2025, 3, 9))
    assert period_for("week", D(2025, 3, 9)) == (D(2025, 3, 3), D(2025, 3, 9))
    assert period_for("week", D(2025, 3, 10)) == (D(2025, 3, 10), D(2025, 3, 16))


def test_month_quarter_and_year_bounds():
    assert period_for("month", D(2024, 2, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert period_for("quarter", D(2025, 11, 30)) == (D(2025, 10, 1), D(2025, 12, 31))
    assert period_for("year", D(2025, 6, 1)) == (D(2025, 1, 1), D(2025, 12, 31))


def test_summer_holiday_belongs_to_the_spring_term():
    assert period_for("term", D(2025, 8, 15), TERMS) == (D(2025, 2, 20), D(2025, 8, 31))
    assert period_for("term", D(2025, 2, 1), TERMS) == (D(2024, 9, 1), D(2025, 2, 19))


def test_before_the_first_known_term_falls_back_to_half_years():
    assert period_for("term", D(2023, 3, 1), TERMS) == (D(2023, 1, 1), D(2023, 6, 30))
    assert period_for("term", D(2024, 1, 5), TERMS) == (D(2024, 1, 1), D(2024, 2, 19))
    assert period_for("term", D(2024, 1, 5), []) == (D(2024, 1, 1), D(2024, 6, 30))


def test_previous_period_is_the_one_just_before():
    assert previous_period("week", D(2025, 3, 3)) == (D(2025, 2, 24), D(2025, 3, 2))
    assert previous_period("term", D(2025, 3, 1), TERMS) == (D(2024, 9, 1), D(2025, 2, 19))


def test_periods_between_lists_every_overlapping_period():
    assert periods_between("month", D(2025, 1, 15), D(2025, 3, 1)) == [
        (D(2025, 1, 1), D(2025, 1, 31)),
        (D(2025, 2, 1), D(2025, 2, 28)),
        (D(2025, 3, 1), D(2025, 3, 31)),
    ]
    assert periods_between("week", D(2025, 3, 10), D(2025, 3, 1)) == []


@given(cadence=st.sampled_from(CADENCES), day=days, terms=term_lists)
def test_a_day_lies_within_its_period(cadence, day, terms):
    start, end = period_for(cadence, day, terms)
    assert start <= day <= end


@given(cadence=st.sampled_from(CADENCES), day=days, terms=term_lists)
def test_every_day_of_a_period_maps_to_the_same_period(cadence, day, terms):
    start, end = period_for(cadence, day, terms)
    assert period_for(cadence, start, terms) == (start, end)
    assert period_for(cadence, end, terms) == (start, end)


@given(
    cadence=st.sampled_from(CADENCES),
    start=days,
    length=st.integers(min_value=0, max_value=800),
    terms=term_lists,
)
def test_periods_tile_without_gaps_or_overlaps(cadence, start, length, terms):
    end = start + datetime.timedelta(days=length)
    periods = periods_between(cadence, start, end, terms)
    assert periods[0][0] <= start and periods[-1][1] >= end
    for (_, a_end), (b_start, _) in itertools.pairwise(periods):
        assert b_start == a_end + datetime.timedelta(days=1)
    for p_start, p_end in periods:
        assert p_start <= p_end


@given(cadence=st.sampled_from(CADENCES), day=days, terms=term_lists)
def test_previous_period_ends_the_day_before_the_current_starts(cadence, day, terms):
    start, _ = period_for(cadence, day, terms)
    _, prev_end = previous_period(cadence, day, terms)
    assert prev_end == start - datetime.timedelta(days=1)
