import datetime
import importlib

from django.apps import apps as django_apps

from aixin.care.models import CareRule, Festival, SchoolTerm

D = datetime.date


def test_the_six_plus_one_rules_are_seeded_as_editable_rows(db):
    rows = list(CareRule.objects.order_by("bit").values_list("code", "name", "short_name", "cadence", "bit"))
    assert rows == [
        ("weekly_contact", "每周与孩子联系一次", "每周联系", "week", 0),
        ("monthly_guardian", "每月与监护人交流一次", "每月沟通", "month", 1),
        ("term_activity", "每学期陪伴孩子参加一次亲子活动", "亲子活动", "term", 2),
        ("yearly_festival", "每年陪孩子过一次节", "陪过节日", "year", 3),
        ("yearly_reading", "每年与孩子共读一本好书", "共读好书", "year", 4),
        ("yearly_safety", "每年开展一次普法安全自护教育", "普法教育", "year", 5),
        ("family_education", "持续开展家庭教育指导", "家教指导", "quarter", 6),
    ]
    assert all(r.applies_to == ["one_to_one", "many_to_one"] for r in CareRule.objects.all())
    assert CareRule.objects.get(code="weekly_contact").default_kinds[0] == "phone"


def test_festival_dates_follow_the_lunar_calendar(db):
    def dates(name):
        return list(Festival.objects.filter(name=name).order_by("date").values_list("date", flat=True))

    assert dates("春节") == [D(2024, 2, 10), D(2025, 1, 29), D(2026, 2, 17), D(2027, 2, 6)]
    assert dates("中秋节") == [D(2024, 9, 17), D(2025, 10, 6), D(2026, 9, 25), D(2027, 9, 15)]
    assert dates("重阳节") == [D(2024, 10, 11), D(2025, 10, 29), D(2026, 10, 18), D(2027, 10, 8)]
    assert dates("六一儿童节")[-1] == D(2027, 6, 1)
    assert Festival.objects.count() == 32


def test_school_terms_cover_2024_to_2027(db):
    starts = list(SchoolTerm.objects.values_list("start", flat=True))
    assert D(2024, 2, 20) in starts and D(2027, 9, 1) in starts
    assert SchoolTerm.objects.get(start=D(2025, 9, 1)).end == D(2026, 1, 20)


def test_the_seed_migration_reverses_cleanly_and_reapplies(db):
    migration = importlib.import_module("aixin.care.migrations.0002_seed_rules_and_calendar")
    migration.unseed(django_apps, None)
    assert (CareRule.objects.count(), SchoolTerm.objects.count(), Festival.objects.count()) == (0, 0, 0)
    migration.seed(django_apps, None)
    migration.seed(django_apps, None)  # idempotent
    assert (CareRule.objects.count(), Festival.objects.count()) == (7, 32)
