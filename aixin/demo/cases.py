"""Demo risk reports and cases (issue 5): a public-security liaison log-in `gongan` for 酉阳, and
a few cases of the demo village in different states, made through the case services exactly as
people would make them (reported, a mandatory report at public security, one in progress, one
verified and closed)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from aixin.accounts.access import children_visible_to
from aixin.accounts.models import Department, Role, User
from aixin.cases import services
from aixin.cases.models import Case

LIAISON_USERNAME = "gongan"


def seed_demo_cases(*, password: str) -> list[str]:
    """Make the liaison and the cases; returns the demo usernames made (none without the demo
    district's staff)."""
    district = User.objects.filter(username="youyang").select_related("region").first()
    village = User.objects.filter(username="cun").first()
    if district is None or village is None:
        return []
    police = User.objects.create(
        username=LIAISON_USERNAME,
        role=Role.DEPARTMENT_LIAISON,
        department=Department.PUBLIC_SECURITY,
        region=district.region,
        password=make_password(password),
        display_name="酉阳县公安局联络员",
    )
    children = list(children_visible_to(village).order_by("pk")[:4])
    if len(children) < 4:
        return [LIAISON_USERNAME]
    seen = timezone.now() - datetime.timedelta(hours=3)

    def report(child: Any, category: str, severity: str, description: str) -> Case:
        return services.report_create(
            actor=village,
            child_id=child.pk,
            category=category,
            severity=severity,
            description=description,
            observed_at=seen,
            place="家访时",
        )

    report(children[0], "dropout", "medium", "孩子连续两周没有到校，奶奶说孩子不愿上学")
    report(children[1], "abandoned", "urgent", "父母外出后孩子独自在家已十余天，无人照料，家中无食物")
    working = report(children[2], "bullying", "high", "孩子反映在校车上被高年级学生勒索零花钱")
    services.case_transition(actor=district, case_id=working.pk, action="accept")
    services.case_transition(
        actor=district,
        case_id=working.pk,
        action="refer",
        departments=["public_security"],
        note="请派出所了解",
    )
    services.referral_transition(actor=police, referral_id=working.referrals.get().pk, action="accept")
    closed = report(children[3], "health_emergency", "high", "孩子高烧不退，监护人年迈无法送医")
    services.case_transition(actor=district, case_id=closed.pk, action="accept")
    services.case_transition(
        actor=district, case_id=closed.pk, action="resolve", note="已联系镇卫生院上门诊治，孩子已退烧"
    )
    services.case_transition(
        actor=district, case_id=closed.pk, action="close", note="三日后电话回访，孩子已康复返校"
    )
    return [LIAISON_USERNAME]
