"""The demo data set: deterministic, valid and consistent, with working demo log-ins."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Q
from django.urls import reverse

from aixin.accounts.models import Role, User
from aixin.activities.models import ActivityParticipation
from aixin.care.models import CareRecord, CareRuleProgress
from aixin.demo.seed import DEMO_PASSWORD, DEMO_USERNAMES
from aixin.lib.idnumber import parse
from aixin.pairing.models import GuardianConsent, Pairing
from aixin.registry.derive import reveal_id_number
from aixin.registry.models import Child
from aixin.volunteers.models import Volunteer
from tests.demo.helpers import child_fingerprint, seed_small, wipe_people

pytestmark = pytest.mark.django_db


def test_the_same_seed_gives_the_same_names_id_numbers_and_counts():
    first = seed_small(seed=7)
    children = child_fingerprint()
    counts = (Volunteer.objects.count(), Pairing.objects.count(), CareRecord.objects.count())
    wipe_people()

    second = seed_small(seed=7)

    assert child_fingerprint() == children
    assert (Volunteer.objects.count(), Pairing.objects.count(), CareRecord.objects.count()) == counts
    assert (second.children, second.care_records, second.tiers) == (
        first.children,
        first.care_records,
        first.tiers,
    )


def test_a_different_seed_gives_different_children():
    seed_small(seed=7)
    names_7 = {name for name, _, _ in child_fingerprint()}
    ids_7 = {number for _, number, _ in child_fingerprint()}
    wipe_people()

    seed_small(seed=8)

    assert Child.objects.count() == 300
    assert {name for name, _, _ in child_fingerprint()} != names_7
    assert not ({number for _, number, _ in child_fingerprint()} & ids_7)


def test_every_child_id_number_is_valid_unique_and_gives_the_birth_date_sex_and_district_code():
    seed_small()
    numbers = []
    for child in Child.objects.select_related("district", "district__host"):
        number = reveal_id_number(child)
        info = parse(number, today=datetime.date.today())
        expected_code = child.district.code if child.district.code.isdigit() else child.district.host.code
        assert (info.birth_date, info.sex, number[:6]) == (child.birth_date, child.sex, expected_code)
        assert datetime.date(2008, 1, 1) <= info.birth_date <= datetime.date(2024, 12, 31)
        numbers.append(number)
    assert len(numbers) == len(set(numbers)) == 300


def test_children_cover_all_39_districts_with_more_in_rural_counties_than_in_yuzhong():
    summary = seed_small(children=2000, volunteers=300)
    per_district = dict(Child.objects.values_list("district__code").annotate(n=Count("id")))

    assert summary.districts == 39
    rural = sum(per_district.get(code, 0) for code in ("500242", "500241", "500243", "500238", "500229"))
    assert rural / 5 > 4 * per_district.get("500103", 0)
    assert 0.5 < summary.tiers["group"] / 2000 < 0.7
    assert 0.28 < summary.tiers["one_to_one"] / 2000 < 0.42
    assert 0.02 < summary.tiers["many_to_one"] / 2000 < 0.08
    assert 0.55 < summary.categories["left_behind"] / 2000 < 0.8
    assert summary.categories["orphan"] > 0 and summary.categories["de_facto"] > 0


def test_no_mother_is_paired_over_capacity_and_her_load_counts_her_open_pairings():
    seed_small()
    open_counts = dict(
        Pairing.objects.filter(status__in=["proposed", "awaiting_consent", "active"])
        .values_list("volunteer")
        .annotate(n=Count("id"))
    )

    assert Volunteer.objects.filter(load__gt=F("capacity")).count() == 0
    assert {v.pk: v.load for v in Volunteer.objects.filter(load__gt=0)} == open_counts
    assert not Pairing.objects.exclude(volunteer__status="active").exists()
    assert Pairing.objects.filter(status="active").count() > 0


def test_active_pairings_have_a_guardian_consent_and_are_mostly_within_the_childs_town():
    seed_small()
    active = Pairing.objects.filter(status="active")

    assert active.filter(consents__isnull=True).count() == 0
    assert GuardianConsent.objects.filter(consented_on__gt=F("pairing__start_date")).count() == 0
    assert not active.exclude(volunteer__district_id=F("district_id")).exists()
    same_town = active.filter(volunteer__town_id=F("town_id")).count()
    assert same_town / active.count() > 0.6


def test_no_care_record_is_in_the_future_before_its_pairing_started_or_after_it_ended():
    seed_small()
    today = datetime.date.today()

    assert CareRecord.objects.count() > 1000
    assert not CareRecord.objects.filter(date__gt=today).exists()
    assert not CareRecord.objects.filter(date__lt=F("pairing__start_date")).exists()
    assert not CareRecord.objects.filter(
        pairing__end_date__isnull=False, date__gt=F("pairing__end_date")
    ).exists()
    assert not CareRecord.objects.filter(rules_mask=0).exists()
    assert not CareRecord.objects.exclude(child_id=F("pairing__child_id")).exists()


def test_progress_and_last_contact_are_rebuilt_and_some_children_are_inactive_for_over_14_days():
    seed_small(children=1000, volunteers=300)
    today = datetime.date.today()
    paired = Child.objects.filter(pairings__status="active").distinct()

    weekly = CareRuleProgress.objects.filter(rule__code="weekly_contact")
    assert weekly.count() > 0
    for row in weekly[:50]:
        last = CareRecord.objects.filter(pairing_id=row.pairing_id, rules_mask__gte=1).order_by("-date")
        assert row.last_done_on == max(r.date for r in last if r.rules_mask & 1)
    assert not paired.filter(last_contact_on__isnull=True, care_records__isnull=False).exists()
    assert paired.filter(last_contact_on__lt=today - datetime.timedelta(days=14)).exists()
    assert paired.filter(last_contact_on__gte=today - datetime.timedelta(days=7)).exists()


def test_group_activities_this_year_reach_about_40_percent_of_children():
    seed_small(children=1000, volunteers=300)
    reached = ActivityParticipation.objects.values("child").distinct().count()

    assert 0.3 < reached / 1000 < 0.5
    assert not ActivityParticipation.objects.filter(
        Q(held_on__gt=datetime.date.today()) | Q(held_on__lt=datetime.date(datetime.date.today().year, 1, 1))
    ).exists()


def test_the_demo_mother_has_two_active_pairings_in_her_district_with_due_items():
    from aixin.care.selectors import checklist_for_pairing

    seed_small()
    mama = User.objects.get(username="mama")
    pairings = Pairing.objects.filter(volunteer__user=mama, status="active")

    assert mama.role == Role.VOLUNTEER
    assert pairings.count() == 2
    assert {p.district.code for p in pairings} == {"500242"}
    assert {p.town_id for p in pairings} == {User.objects.get(username="zhen").region_id}
    for pairing in pairings:
        statuses = {item.status for item in checklist_for_pairing(pairing, today=datetime.date.today())}
        assert statuses & {"due", "overdue"}


@pytest.mark.parametrize(
    ("username", "home"),
    [
        ("city", "dashboard:overview"),
        ("youyang", "dashboard:overview"),
        ("zhen", "dashboard:overview"),
        ("cun", "dashboard:overview"),
        ("mama", "care:my_children"),
    ],
)
def test_each_demo_user_logs_in_with_the_documented_password_and_reaches_the_home_page(
    client, username, home
):
    seed_small()

    response = client.post(
        reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(home)
    assert response.wsgi_request.user.username == username


def test_demo_users_have_one_role_each_at_the_documented_regions():
    seed_small()
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERNAMES).select_related("region")}

    assert {name: u.role for name, u in users.items()} == {
        "city": "city_admin",
        "youyang": "district_admin",
        "zhen": "town_supervisor",
        "cun": "village_director",
        "mama": "volunteer",
    }
    assert (users["city"].region.code, users["youyang"].region.code) == ("500000", "500242")
    assert users["cun"].region.parent_id == users["zhen"].region_id
    assert users["zhen"].region.district.code == "500242"


def test_seed_demo_command_with_if_empty_does_nothing_the_second_time():
    out = StringIO()
    call_command("seed-demo", children=300, volunteers=100, seed=7, if_empty=True, stdout=out)
    counts = (
        Child.objects.count(),
        Volunteer.objects.count(),
        CareRecord.objects.count(),
        User.objects.count(),
    )

    second = StringIO()
    call_command("seed-demo", children=300, volunteers=100, seed=8, if_empty=True, stdout=second)

    assert "儿童：300 名" in out.getvalue()
    assert "跳过" in second.getvalue()
    assert (
        Child.objects.count(),
        Volunteer.objects.count(),
        CareRecord.objects.count(),
        User.objects.count(),
    ) == counts


def test_seed_demo_without_if_empty_refuses_a_database_that_has_children():
    seed_small()

    with pytest.raises(CommandError, match="已有儿童数据"):
        call_command("seed-demo", children=300, volunteers=100, seed=7, stdout=StringIO())
    assert Child.objects.count() == 300


def test_demo_logins_prints_every_role_username_password_and_home_url():
    seed_small()
    out = StringIO()

    call_command("demo-logins", stdout=out)

    text = out.getvalue()
    for label, username in (
        ("市妇联管理员", "city"),
        ("区县妇联工作人员", "youyang"),
        ("儿童督导员", "zhen"),
        ("儿童主任", "cun"),
        ("爱心妈妈", "mama"),
    ):
        line = next(line for line in text.splitlines() if f" {username} " in line)
        assert label in line and DEMO_PASSWORD in line
    assert "http://127.0.0.1:8000" + reverse("care:my_children") in text
    assert "酉阳土家族苗族自治县" in text


def test_demo_logins_before_seeding_says_to_seed_first():
    out = StringIO()

    call_command("demo-logins", stdout=out)

    assert "请先运行 aixin seed-demo" in out.getvalue()
