"""R-3.2 and R-3.4: categories and the care tier, as plain functions."""

from __future__ import annotations

import datetime

from aixin.registry.rules import (
    Condition,
    TierInputs,
    condition_note,
    derive_tier,
    explain_categories,
    is_de_facto_unsupported,
    is_left_behind,
)

TODAY = datetime.date(2025, 6, 15)
CHILD_10 = datetime.date(2015, 3, 1)
ADULT_19 = datetime.date(2006, 1, 1)


def dfu(conds: list[Condition], *, birth: datetime.date = CHILD_10, student: bool = True) -> bool:
    return is_de_facto_unsupported(conds, birth_date=birth, full_time_student=student, today=TODAY)


def months_ago(n: int) -> datetime.date:
    return datetime.date(
        TODAY.year - (1 if n >= TODAY.month else 0), (TODAY.month - n - 1) % 12 + 1, TODAY.day
    )


def test_clause_one_both_parents_in_set_a_is_de_facto_unsupported():
    assert dfu([Condition("father", "serious_illness"), Condition("mother", "guardianship_revoked")])


def test_one_parent_in_set_a_alone_is_not_de_facto_unsupported():
    assert not dfu([Condition("father", "serious_illness")])


def test_clause_two_one_deported_and_the_other_in_set_a_is_de_facto_unsupported():
    assert dfu([Condition("father", "deported"), Condition("mother", "serious_illness")])


def test_both_parents_deported_is_not_clause_two():
    assert not dfu([Condition("father", "deported"), Condition("mother", "deported")])


def test_clause_three_one_dead_and_the_other_deported_is_de_facto_unsupported():
    assert dfu([Condition("mother", "dead"), Condition("father", "deported")])


def test_clause_three_one_declared_missing_and_the_other_in_set_a_is_de_facto_unsupported():
    assert dfu([Condition("mother", "declared_missing"), Condition("father", "severe_disability")])


def test_one_dead_and_the_other_working_away_is_not_de_facto_unsupported():
    assert not dfu([Condition("mother", "dead"), Condition("father", "working_away")])


def test_lost_contact_counts_only_from_six_months_after_the_report():
    five = [Condition("father", "lost_contact", started_on=months_ago(5)), Condition("mother", "dead")]
    six = [Condition("father", "lost_contact", started_on=months_ago(6)), Condition("mother", "dead")]
    assert not dfu(five)
    assert dfu(six)


def test_lost_contact_without_a_start_date_does_not_count():
    assert not dfu([Condition("father", "lost_contact"), Condition("mother", "dead")])


def test_imprisonment_needs_a_term_of_at_least_six_months():
    short = [Condition("father", "imprisoned", term_months=5), Condition("mother", "dead")]
    long = [Condition("father", "imprisoned", term_months=6), Condition("mother", "dead")]
    assert not dfu(short)
    assert dfu(long)


def test_compulsory_rehabilitation_without_term_counts_after_six_months_served():
    assert not dfu(
        [Condition("father", "compulsory_rehab", started_on=months_ago(3)), Condition("mother", "dead")]
    )
    assert dfu(
        [Condition("father", "compulsory_rehab", started_on=months_ago(7)), Condition("mother", "dead")]
    )


def test_severe_disability_is_grade_one_or_two_or_grade_three_four_mental_or_intellectual():
    dead = Condition("mother", "dead")
    assert dfu([Condition("father", "severe_disability", disability_grade=2, disability_category=4), dead])
    assert dfu([Condition("father", "severe_disability", disability_grade=3, disability_category=6), dead])
    assert not dfu(
        [Condition("father", "severe_disability", disability_grade=3, disability_category=4), dead]
    )


def test_ended_condition_no_longer_counts():
    ended = Condition("father", "imprisoned", term_months=24, ended_on=TODAY - datetime.timedelta(days=1))
    assert not dfu([ended, Condition("mother", "dead")])


def test_full_time_student_over_eighteen_stays_de_facto_unsupported_in_chongqing():
    conds = [Condition("father", "dead"), Condition("mother", "serious_illness")]
    assert dfu(conds, birth=ADULT_19, student=True)
    assert not dfu(conds, birth=ADULT_19, student=False)


def test_left_behind_needs_rural_household_under_sixteen_and_both_parents_away():
    away = [Condition("father", "working_away"), Condition("mother", "working_away")]
    assert is_left_behind(away, birth_date=CHILD_10, rural=True, today=TODAY)
    assert not is_left_behind(away, birth_date=CHILD_10, rural=False, today=TODAY)
    assert not is_left_behind(away, birth_date=datetime.date(2009, 6, 15), rural=True, today=TODAY)
    assert is_left_behind(away, birth_date=datetime.date(2009, 6, 16), rural=True, today=TODAY)


def test_left_behind_when_one_parent_is_away_and_the_other_cannot_guard():
    conds = [Condition("father", "working_away"), Condition("mother", "serious_illness")]
    assert is_left_behind(conds, birth_date=CHILD_10, rural=True, today=TODAY)
    assert not is_left_behind(
        [Condition("father", "working_away")], birth_date=CHILD_10, rural=True, today=TODAY
    )


def test_tier_risk_flag_wins_over_everything():
    assert derive_tier(TierInputs(True, True, True, True)) == "many_to_one"


def test_tier_difficulty_orphan_or_de_facto_unsupported_is_one_to_one():
    assert derive_tier(TierInputs(False, True, False, False)) == "one_to_one"
    assert derive_tier(TierInputs(False, False, True, False)) == "one_to_one"
    assert derive_tier(TierInputs(False, False, False, True)) == "one_to_one"


def test_tier_everyone_else_is_group():
    assert derive_tier(TierInputs(False, False, False, False)) == "group"


def test_explanations_say_why_lost_contact_does_not_yet_count():
    cond = Condition("father", "lost_contact", started_on=months_ago(2))
    assert condition_note(cond, TODAY) == "失联未满6个月，暂不计入"


def test_explanations_name_the_left_behind_reason():
    lines = explain_categories(
        [Condition("father", "working_away"), Condition("mother", "working_away")],
        birth_date=CHILD_10,
        rural=True,
        full_time_student=True,
        today=TODAY,
    )
    assert lines[0] == "农村留守儿童：是。未满16周岁、农业户口，父亲：外出务工；母亲：外出务工"
    assert lines[1].startswith("事实无人抚养儿童：否")


# ---------------------------------------------------------------------------------------------
# derive.apply_rules keeps its answers by age: the same categories as the rules asked directly


def test_apply_rules_gives_the_categories_of_the_rules_for_any_child_and_day():
    from types import SimpleNamespace

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from aixin.registry import derive, rules

    dates = st.dates(datetime.date(2000, 1, 1), datetime.date(2030, 12, 31))
    conditions = st.lists(
        st.builds(
            Condition,
            parent=st.sampled_from(["father", "mother"]),
            kind=st.sampled_from(sorted(rules.KIND_LABELS)),
            started_on=st.none() | dates,
            term_months=st.none() | st.integers(0, 24),
            disability_grade=st.none() | st.integers(1, 4),
            disability_category=st.none() | st.integers(1, 7),
            ended_on=st.none() | dates,
        ),
        max_size=4,
    )

    @settings(max_examples=300, deadline=None)
    @given(conds=conditions, birth=dates, today=dates, student=st.booleans(), rural=st.booleans())
    def check(conds, birth, today, student, rural):
        child = SimpleNamespace(
            birth_date=birth,
            full_time_student=student,
            household_type="rural" if rural else "urban",
            is_scattered_orphan=False,
            name_pinyin="wang",
            region_id=1,
            tier_override="",
            risk_psych_behaviour=False,
            risk_harm_others=False,
            risk_being_harmed=False,
            difficulty_life=False,
            difficulty_study=False,
            difficulty_physical=False,
            difficulty_mental=False,
        )
        derive.apply_rules(child, conds, today=today)
        assert child.is_de_facto_unsupported == rules.is_de_facto_unsupported(
            conds, birth_date=birth, full_time_student=student, today=today
        )
        assert child.is_scattered_orphan == rules.is_orphan(conds, birth_date=birth, today=today)
        assert child.is_left_behind == rules.is_left_behind(conds, birth_date=birth, rural=rural, today=today)
        away = {c.parent for c in conds if c.kind == rules.AWAY}
        assert child.parents_both_away == (away == {"father", "mother"})

    check()
