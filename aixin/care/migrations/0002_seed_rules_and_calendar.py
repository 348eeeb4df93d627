"""Seed the Chongqing "6+1" rules, the school calendar 2023–2027 and festivals 2024–2027.

A data migration, separate from the schema: these rows are configuration that staff may edit
afterwards (another plan is a data change). Reversing removes exactly the seeded rows.
"""

import datetime

from django.conf import settings
from django.db import migrations

TIERS = ["one_to_one", "many_to_one"]

RULES = [
    # code, name, short name, cadence, bit, default kinds
    ("weekly_contact", "每周与孩子联系一次", "每周联系", "week", 0, ["phone", "video"]),
    ("monthly_guardian", "每月与监护人交流一次", "每月沟通", "month", 1, ["phone", "home_visit"]),
    ("term_activity", "每学期陪伴孩子参加一次亲子活动", "亲子活动", "term", 2, ["activity"]),
    ("yearly_festival", "每年陪孩子过一次节", "陪过节日", "year", 3, ["home_visit", "activity"]),
    ("yearly_reading", "每年与孩子共读一本好书", "共读好书", "year", 4, ["home_visit"]),
    ("yearly_safety", "每年开展一次普法安全自护教育", "普法教育", "year", 5, ["home_visit", "school"]),
    ("family_education", "持续开展家庭教育指导", "家教指导", None, 6, ["home_visit", "phone"]),
]


def _terms():
    terms = [("2023—2024学年第一学期", datetime.date(2023, 9, 1), datetime.date(2024, 1, 20))]
    for year in range(2024, 2028):
        terms.append(
            (f"{year - 1}—{year}学年第二学期", datetime.date(year, 2, 20), datetime.date(year, 7, 10))
        )
        terms.append(
            (f"{year}—{year + 1}学年第一学期", datetime.date(year, 9, 1), datetime.date(year + 1, 1, 20))
        )
    return terms


LUNAR = {
    "春节": ["2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06"],
    "元宵节": ["2024-02-24", "2025-02-12", "2026-03-03", "2027-02-20"],
    "清明节": ["2024-04-04", "2025-04-04", "2026-04-05", "2027-04-05"],
    "端午节": ["2024-06-10", "2025-05-31", "2026-06-19", "2027-06-09"],
    "中秋节": ["2024-09-17", "2025-10-06", "2026-09-25", "2027-09-15"],
    "重阳节": ["2024-10-11", "2025-10-29", "2026-10-18", "2027-10-08"],
}
FIXED = {"六一儿童节": (6, 1), "国庆节": (10, 1)}


def _festivals():
    items = [(name, datetime.date.fromisoformat(d)) for name, days in LUNAR.items() for d in days]
    items += [(name, datetime.date(y, m, d)) for name, (m, d) in FIXED.items() for y in range(2024, 2028)]
    return sorted(items, key=lambda item: item[1])


def seed(apps, schema_editor):
    CareRule = apps.get_model("care", "CareRule")
    SchoolTerm = apps.get_model("care", "SchoolTerm")
    Festival = apps.get_model("care", "Festival")
    plus_one_cadence = getattr(settings, "AIXIN_FAMILY_EDUCATION_CADENCE", "quarter")
    for order, (code, name, short, cadence, bit, kinds) in enumerate(RULES, start=1):
        CareRule.objects.update_or_create(
            code=code,
            defaults={
                "name": name, "short_name": short, "cadence": cadence or plus_one_cadence, "bit": bit,
                "applies_to": TIERS, "default_kinds": kinds, "sort_order": order, "active": True,
                "description": "“+1”" if code == "family_education" else "",
            },
        )
    for name, start, end in _terms():
        SchoolTerm.objects.get_or_create(name=name, start=start, defaults={"end": end})
    for name, day in _festivals():
        Festival.objects.get_or_create(name=name, date=day)


def unseed(apps, schema_editor):
    CareRule = apps.get_model("care", "CareRule")
    SchoolTerm = apps.get_model("care", "SchoolTerm")
    Festival = apps.get_model("care", "Festival")
    CareRule.objects.filter(code__in=[r[0] for r in RULES]).delete()
    for name, start, _end in _terms():
        SchoolTerm.objects.filter(name=name, start=start).delete()
    for name, day in _festivals():
        Festival.objects.filter(name=name, date=day).delete()


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
