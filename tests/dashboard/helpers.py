"""A small district-A/district-B data set whose dashboard numbers are worked out by hand."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from aixin.registry.rules import Condition
from tests import factories
from tests.factories import Tree

BOTH_AWAY = [Condition(parent="father", kind="working_away"), Condition(parent="mother", kind="working_away")]
UNSUPPORTED = [Condition(parent="father", kind="dead"), Condition(parent="mother", kind="serious_illness")]

RULES = [
    ("weekly_contact", "每周与孩子联系一次", "每周联系", "week", 0),
    ("monthly_guardian", "每月与监护人交流一次", "每月沟通", "month", 1),
    ("term_activity", "每学期陪伴孩子参加一次亲子活动", "亲子活动", "term", 2),
    ("yearly_festival", "每年陪孩子过一次节", "陪过节日", "year", 3),
    ("yearly_reading", "每年与孩子共读一本好书", "共读好书", "year", 4),
    ("yearly_safety", "每年开展一次普法安全自护教育", "普法教育", "year", 5),
    ("family_education", "持续开展家庭教育指导", "家教指导", "quarter", 6),
]


def ensure_care_rules() -> list[Any]:
    """The 6+1 rules (normally seeded by the care app's data migration)."""
    from aixin.care.models import CareRule

    rules = []
    for order, (code, name, short, cadence, bit) in enumerate(RULES, start=1):
        rule, _ = CareRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "short_name": short,
                "cadence": cadence,
                "bit": bit,
                "applies_to": ["one_to_one", "many_to_one"],
                "sort_order": order,
            },
        )
        rules.append(rule)
    return rules


@dataclass
class World:
    today: datetime.date
    children: dict[str, Any]
    mothers: dict[str, Any]
    pairings: dict[str, Any]
    activity: Any


def build_world(tree: Tree, *, admin: Any) -> World:
    """District A (万州区), 6 active children:
    village_a1 (town_a1):  a1 left-behind, group, unpaired, in this year's activity;
                           a2 de-facto unsupported, one_to_one, paired with m1, contacted 3 days ago,
                           in this year's activity;
                           a5 left-behind at risk, many_to_one, paired with m1, never contacted;
                           a6 left-behind but closed (not counted).
    village_a1b (town_a1): a3 scattered orphan, one_to_one, unpaired, only in last year's activity.
    village_a2 (town_a2):  a4 left-behind with a study difficulty, one_to_one, paired with m2,
                           contacted 20 days ago; a7 no category, group, in this year's activity.
    Mothers: m1 (village_a1, active, 2/2, trained), m2 (village_a2, active, 1/3), m4 (village_a2,
             active, 0/1, trained), m3 (village_a1b, screening, 0/1).
    District B: b1 de-facto unsupported paired with mb; b2 left-behind.
    """
    from aixin.activities.services import activity_create

    ensure_care_rules()
    today = timezone.localdate()
    mk = factories.make_child
    children = {
        "a1": mk(tree.village_a1, name="甲一", conditions=BOTH_AWAY),
        "a2": mk(
            tree.village_a1,
            name="甲二",
            conditions=UNSUPPORTED,
            last_contact_on=today - datetime.timedelta(3),
        ),
        "a3": mk(tree.village_a1b, name="甲三", is_scattered_orphan=True),
        "a4": mk(
            tree.village_a2,
            name="甲四",
            conditions=BOTH_AWAY,
            difficulty_study=True,
            last_contact_on=today - datetime.timedelta(20),
        ),
        "a5": mk(tree.village_a1, name="甲五", conditions=BOTH_AWAY, risk_being_harmed=True),
        "a6": mk(tree.village_a1, name="甲六", conditions=BOTH_AWAY, status="closed"),
        "a7": mk(tree.village_a2, name="甲七"),
        "b1": mk(tree.village_b1, name="乙一", conditions=UNSUPPORTED),
        "b2": mk(tree.village_b1, name="乙二", conditions=BOTH_AWAY),
    }
    mothers = {
        "m1": factories.make_volunteer(tree.village_a1, name="王一", capacity=2, trained=True),
        "m2": factories.make_volunteer(tree.village_a2, name="王二", capacity=3),
        "m3": factories.make_volunteer(tree.village_a1b, name="王三", capacity=1, status="screening"),
        "m4": factories.make_volunteer(tree.village_a2, name="王四", capacity=1, trained=True),
        "mb": factories.make_volunteer(tree.village_b1, name="乙妈妈", capacity=1, trained=True),
    }
    pairings = {
        "a2": factories.make_active_pairing(children["a2"], mothers["m1"]),
        "a5": factories.make_active_pairing(children["a5"], mothers["m1"]),
        "a4": factories.make_active_pairing(children["a4"], mothers["m2"]),
        "b1": factories.make_active_pairing(children["b1"], mothers["mb"]),
    }
    activity = activity_create(
        actor=admin,
        name="集体生日会",
        kind="birthday",
        held_on=today,
        venue="渝好空间",
        region=tree.village_a1,
        child_ids=[children["a1"].pk, children["a2"].pk, children["a7"].pk],
    )
    activity_create(
        actor=admin,
        name="去年的夏令营",
        kind="camp",
        held_on=datetime.date(today.year - 1, 7, 1),
        venue="",
        region=tree.village_a1b,
        child_ids=[children["a3"].pk],
    )
    for m in mothers.values():
        m.refresh_from_db()
    return World(today=today, children=children, mothers=mothers, pairings=pairings, activity=activity)


def record_progress(pairing: Any, rule_code: str, day: datetime.date) -> None:
    from aixin.care.models import CareRule, CareRuleProgress

    CareRuleProgress.objects.create(
        pairing=pairing,
        rule=CareRule.objects.get(code=rule_code),
        last_done_on=day,
        district_id=pairing.district_id,
        town_id=pairing.town_id,
    )
