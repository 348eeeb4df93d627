"""Demo log-ins of the separated administrators and a third-party evaluator (issue 6): the
system (`xitong`), security (`anquan`) and audit (`shenji`) administrators and an evaluator
(`pinggu`), all at the city."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from aixin.accounts.models import Role, User
from aixin.regions.models import Region, RegionLevel

ADMINS = (
    ("xitong", Role.SYSTEM_ADMIN, "系统管理员（演示）"),
    ("anquan", Role.SECURITY_ADMIN, "安全管理员（演示）"),
    ("shenji", Role.AUDIT_ADMIN, "审计管理员（演示）"),
    ("pinggu", Role.EVALUATOR, "第三方评估机构（演示）"),
)


def seed_demo_admins(*, password: str) -> list[str]:
    city = Region.objects.filter(level=RegionLevel.CITY).order_by("pk").first()
    if city is None:
        return []
    made = []
    for username, role, name in ADMINS:
        User.objects.create(
            username=username, role=role, region=city, password=make_password(password), display_name=name
        )
        made.append(username)
    return made
