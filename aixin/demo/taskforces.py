"""Demo task forces (issue 5 §4, R-6.4 一人一档一策一专班) for the demo district's many-to-one
children, made through the task-force services as staff would: most complete (teacher, police
officer, social worker, sometimes a doctor) with a plan of two or three actions (one overdue) and
progress notes; some without a police officer or without any task force, so the district's
"专班缺失/不完整" panel has entries. One member log-in, `zhuanban`, sits on the first."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from aixin.accounts.access import children_visible_to
from aixin.accounts.models import Role, User
from aixin.registry.models import CareTier, ChildStatus
from aixin.taskforces import services
from aixin.taskforces.services import MemberData

MEMBER_USERNAME = "zhuanban"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
ACTIONS = (
    "每周入户看望并记录孩子情绪",
    "联系学校安排课后辅导",
    "协调医院复查并陪同就诊",
    "民警每月走访，排查侵害风险",
    "社工开展家庭教育指导",
    "申请临时救助金",
)


def seed_demo_taskforces(*, password: str, seed: int = 2026, limit: int = 12) -> list[str]:
    """Make the task forces; returns the demo usernames made."""
    admin = User.objects.filter(username="youyang").select_related("region").first()
    if admin is None:
        return []
    rnd = random.Random(seed)
    today = timezone.localdate()
    children = list(
        children_visible_to(admin)
        .filter(care_tier=CareTier.MANY_TO_ONE, status=ChildStatus.ACTIVE)
        .order_by("pk")[:limit]
    )
    if not children:
        return []
    User.objects.create(
        username=MEMBER_USERNAME,
        role=Role.TASKFORCE_MEMBER,
        region=admin.region,
        password=make_password(password),
        display_name="酉阳县专班成员（学校老师）",
    )
    for n, child in enumerate(children):
        if n % 5 == 4:
            continue  # no task force yet: shown as missing
        taskforce = services.taskforce_create(actor=admin, child_id=child.pk)

        def person(role: str, title: str, *, taskforce_id: int = taskforce.pk, username: str = "") -> int:
            name = rnd.choice(SURNAMES) + title
            data = MemberData(role=role, name=name, phone=f"139{rnd.randrange(10**8):08d}", username=username)
            return int(services.member_add(actor=admin, taskforce_id=taskforce_id, data=data).pk)

        teacher = person("teacher", "老师", username=MEMBER_USERNAME if n == 0 else "")
        worker = person("social_worker", "社工")
        # Every fifth has no police officer: shown as incomplete.
        police = person("police", "警官") if n % 5 != 3 else worker
        if rnd.random() < 0.4:
            person("doctor", "医生")
        services.plan_update(
            actor=admin,
            taskforce_id=taskforce.pk,
            goals=f"{child.name}：稳定生活照料，保障上学，定期排查安全风险，每季度评估一次。",
            version=taskforce.plan.version,
        )
        owners = (teacher, police, worker)
        for i, title in enumerate(rnd.sample(ACTIONS, 3)):
            overdue = i == 0
            due = (
                today - datetime.timedelta(days=5) if overdue else today + datetime.timedelta(days=14 + 7 * i)
            )
            action = services.action_add(
                actor=admin,
                taskforce_id=taskforce.pk,
                title=title,
                owner_id=owners[i % len(owners)],
                due_on=due,
                today=due if overdue else today,
            )
            if i == 1:
                services.note_add(actor=admin, action_id=action.pk, text="已与学校班主任沟通，下周开始。")
    return [MEMBER_USERNAME]
