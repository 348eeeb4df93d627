"""child_list: scope, search by pinyin and full ID, filters."""

from __future__ import annotations

import datetime

from aixin.registry.rules import Condition
from aixin.registry.selectors import ChildFilters, age_band_q, child_list, years_before
from tests import factories
from tests.registry.helpers import years_ago


def names(qs):
    return sorted(c.name for c in qs)


def test_search_by_pinyin_initials_and_full_pinyin(users, tree):
    factories.make_child(tree.village_a1, name="张小明")
    factories.make_child(tree.village_a1, name="李华")
    admin = users["district_admin"]
    assert names(child_list(user=admin, filters=ChildFilters(q="zxm"))) == ["张小明"]
    assert names(child_list(user=admin, filters=ChildFilters(q="ZhangXiaoming"))) == ["张小明"]
    assert names(child_list(user=admin, filters=ChildFilters(q="小明"))) == ["张小明"]


def test_search_by_full_id_number_matches_exactly_through_the_blind_index(users, tree):
    number = factories.id_number(years_ago(8))
    factories.make_child(tree.village_a1, name="张小明", id_number=number)
    factories.make_child(tree.village_a1, name="李华")
    result = child_list(user=users["district_admin"], filters=ChildFilters(q=number.lower()))
    assert names(result) == ["张小明"]


def test_search_never_reaches_outside_scope(users, tree):
    number = factories.id_number(years_ago(8))
    factories.make_child(tree.village_b1, name="张小明", id_number=number)
    assert names(child_list(user=users["district_admin"], filters=ChildFilters(q=number))) == []
    assert names(child_list(user=users["district_admin"], filters=ChildFilters(q="zxm"))) == []


def test_region_filter_at_any_level_and_out_of_scope_code_gives_nothing(users, tree):
    factories.make_child(tree.village_a1, name="一村")
    factories.make_child(tree.village_a2, name="二镇")
    factories.make_child(tree.village_b1, name="涪陵")
    admin = users["district_admin"]
    assert names(child_list(user=admin, filters=ChildFilters(region=tree.town_a1.code))) == ["一村"]
    assert names(child_list(user=admin, filters=ChildFilters(region=tree.district_a.code))) == [
        "一村",
        "二镇",
    ]
    assert names(child_list(user=admin, filters=ChildFilters(region=tree.village_a2.code))) == ["二镇"]
    assert names(child_list(user=admin, filters=ChildFilters(region=tree.district_b.code))) == []
    assert names(child_list(user=users["city_admin"], filters=ChildFilters(region=tree.city.code))) == [
        "一村",
        "二镇",
        "涪陵",
    ]


def test_category_tier_and_paired_filters(users, tree):
    away = [Condition("father", "working_away"), Condition("mother", "working_away")]
    left = factories.make_child(tree.village_a1, name="留守", conditions=away)
    factories.make_child(tree.village_a1, name="困难", difficulty_life=True)
    factories.make_child(tree.village_a1, name="普通")
    factories.make_active_pairing(left, factories.make_volunteer(tree.village_a1))
    admin = users["district_admin"]
    assert names(child_list(user=admin, filters=ChildFilters(category="left_behind"))) == ["留守"]
    assert names(child_list(user=admin, filters=ChildFilters(tier="one_to_one"))) == ["困难"]
    assert names(child_list(user=admin, filters=ChildFilters(paired="yes"))) == ["留守"]
    assert names(child_list(user=admin, filters=ChildFilters(paired="no"))) == ["困难", "普通"]


def test_age_bands_follow_birthdays_exactly(users, tree):
    today = datetime.date.today()
    factories.make_child(tree.village_a1, name="刚满六岁", birth=years_before(today, 6))
    factories.make_child(
        tree.village_a1, name="明天六岁", birth=years_before(today, 6) + datetime.timedelta(days=1)
    )
    factories.make_child(
        tree.village_a1, name="十七岁", birth=years_before(today, 17) - datetime.timedelta(days=30)
    )
    factories.make_child(tree.village_a1, name="刚满十八", birth=years_before(today, 18))
    admin = users["district_admin"]
    assert names(child_list(user=admin, filters=ChildFilters(age_band="0-5"))) == ["明天六岁"]
    assert names(child_list(user=admin, filters=ChildFilters(age_band="6-13"))) == ["刚满六岁"]
    assert names(child_list(user=admin, filters=ChildFilters(age_band="14-17"))) == ["十七岁"]
    assert names(child_list(user=admin, filters=ChildFilters(age_band="18+"))) == ["刚满十八"]


def test_age_band_handles_leap_day():
    q = age_band_q("18+", today=datetime.date(2028, 2, 29))
    assert q.children == [("birth_date__lte", datetime.date(2010, 2, 28))]


def test_inactivity_filter_counts_from_last_contact_or_pairing_start(users, tree):
    today = datetime.date.today()
    quiet = factories.make_child(
        tree.village_a1, name="久未联系", last_contact_on=today - datetime.timedelta(days=31)
    )
    recent = factories.make_child(
        tree.village_a1, name="刚联系", last_contact_on=today - datetime.timedelta(days=3)
    )
    fortnight = factories.make_child(
        tree.village_a1, name="半月", last_contact_on=today - datetime.timedelta(days=14)
    )
    new = factories.make_child(tree.village_a1, name="新结对")
    factories.make_child(tree.village_a1, name="未结对", last_contact_on=today - datetime.timedelta(days=90))
    for child in (quiet, recent, fortnight):
        factories.make_active_pairing(child, factories.make_volunteer(tree.village_a1))
    factories.make_active_pairing(
        new, factories.make_volunteer(tree.village_a1), start=today - datetime.timedelta(days=5)
    )
    admin = users["district_admin"]
    assert names(child_list(user=admin, filters=ChildFilters(inactive_days=14))) == ["久未联系", "半月"]
    assert names(child_list(user=admin, filters=ChildFilters(inactive_days=30))) == ["久未联系"]


def test_status_filter_and_village_director_scope(users, tree):
    factories.make_child(tree.village_a1, name="在册")
    factories.make_child(tree.village_a1, name="退出", status="closed")
    factories.make_child(tree.village_a1b, name="邻村")
    director = users["village_director"]
    assert names(child_list(user=director, filters=ChildFilters(status="active"))) == ["在册"]
    assert names(child_list(user=director, filters={})) == ["在册", "退出"]
