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
    # Issue 6: three separated administrators (等保 三权分立) — none sees children's files — and
    # third-party evaluators, who see de-identified figures only.
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")
    EVALUATOR = "evaluator", _("第三方评估人员")


class Department(models.TextChoices):
    """The departments a case is referred to (流转, R-10.2); a department liaison belongs to one."""

    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    PUBLIC_SECURITY = "public_security", _("公安")
    EDUCATION = "education", _("教委")
    HEALTH = "health", _("卫健")
    COURT = "court", _("法院")
    PROCURATORATE = "procuratorate", _("检察院")
    YOUTH_LEAGUE = "youth_league", _("团委")
    SOCIAL_WORK = "social_work", _("社会工作部")


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
    Role.SYSTEM_ADMIN: 1,
    Role.SECURITY_ADMIN: 1,
    Role.AUDIT_ADMIN: 1,
    Role.EVALUATOR: 1,
}


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="users", verbose_name=_("所属区划")
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    # Department liaisons only (blank for every other role): the department whose referrals
    # they receive.
    department = models.CharField(_("所属部门"), max_length=30, choices=Department.choices, blank=True)
    # Set for accounts whose first password someone else chose (`create-user --generate`, the
    # phone log-in opened for a loving mother or a task-force member): every page sends the user
    # to the change-password page until they pick their own.
    must_change_password = models.BooleanField(_("须修改初始密码"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            # A liaison belongs to exactly one department; nobody else to any.
            models.CheckConstraint(
                condition=(
                    models.Q(role="department_liaison", department__gt="")
                    | (~models.Q(role="department_liaison") & models.Q(department=""))
                ),
                name="accounts_department_only_for_liaisons",
            )
        ]

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


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    FAILURE = "failure", _("失败")
    REFUSED = "refused", _("锁定中被拒绝")


class LoginAttempt(models.Model):
    """One log-in attempt (password or second factor), kept in the database so that lockouts
    hold across worker processes and restarts (aixin.accounts.lockout)."""

    # Lower-cased as typed: attempts on a name that does not exist count too, so a lockout
    # never tells whether an account exists.
    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=LoginOutcome.choices)
    # "password" or "totp": the step that failed or passed.
    stage = models.CharField(max_length=10, default="password")
    at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("登录尝试")
        verbose_name_plural = _("登录尝试")
        indexes = [
            models.Index(fields=["username", "at"], name="accounts_attempt_user_at"),
            models.Index(fields=["ip", "at"], name="accounts_attempt_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.ip} {self.outcome} {self.at:%Y-%m-%d %H:%M:%S}"


class LockKind(models.TextChoices):
    ACCOUNT = "account", _("账号")
    IP = "ip", _("网络地址")


class LoginLock(models.Model):
    """A lock on an account name or an IP address until `locked_until`; unlocking ends it now.
    Failures before the end of the latest lock no longer count."""

    kind = models.CharField(max_length=10, choices=LockKind.choices)
    key = models.CharField(max_length=150)
    locked_until = models.DateTimeField()
    unlocked_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")
        indexes = [models.Index(fields=["kind", "key", "locked_until"], name="accounts_lock_key_until")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} → {self.locked_until:%Y-%m-%d %H:%M:%S}"


class TotpDevice(models.Model):
    """A user's authenticator (TOTP, RFC 6238). The secret is encrypted at rest (context
    "user.totp"); `last_used_step` refuses a code that was already used."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("动态验证码设备")
        verbose_name_plural = _("动态验证码设备")

    def __str__(self) -> str:
        return f"{self.user} {'已绑定' if self.confirmed_at else '待绑定'}"
