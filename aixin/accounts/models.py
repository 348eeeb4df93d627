"""Users hold one role at one region (SPEC §1); personal API tokens for the JSON API."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", _("市妇联管理员")
    DISTRICT_ADMIN = "district_admin", _("区县妇联工作人员")
    TOWN_SUPERVISOR = "town_supervisor", _("儿童督导员")
    VILLAGE_DIRECTOR = "village_director", _("儿童主任")
    VOLUNTEER = "volunteer", _("爱心妈妈")
    # Issue 5: a department's liaison sees only referrals to that department within the region;
    # a task-force member only the children whose task force they sit on.
    DEPARTMENT_LIAISON = "department_liaison", _("部门联络员")
    TASKFORCE_MEMBER = "taskforce_member", _("专班成员")


STAFF_ROLES = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.TOWN_SUPERVISOR, Role.VILLAGE_DIRECTOR})
ADMIN_ROLES = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN})
ALL_ROLES = frozenset(Role)

# The level of region each role is placed at.
ROLE_REGION_LEVEL = {
    Role.CITY_ADMIN: 1,
    Role.DISTRICT_ADMIN: 2,
    Role.TOWN_SUPERVISOR: 3,
    Role.VILLAGE_DIRECTOR: 4,
    Role.VOLUNTEER: None,
    Role.DEPARTMENT_LIAISON: 2,
    Role.TASKFORCE_MEMBER: 2,
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="users", verbose_name=_("所属区划")
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_admin_role(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def is_volunteer(self) -> bool:
        return self.role == Role.VOLUNTEER


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @staticmethod
    def generate() -> str:
        return "axn_" + secrets.token_urlsafe(32)
