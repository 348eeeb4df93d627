"""Loving mothers (爱心妈妈, SPEC §5): life-cycle, profile, capacity and load."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class VolunteerStatus(models.TextChoices):
    RECRUITED = "recruited", _("已报名")
    SCREENING = "screening", _("准入审查中")
    APPROVED = "approved", _("已准入")
    ACTIVE = "active", _("服务中")
    SUSPENDED = "suspended", _("暂停服务")
    EXITED = "exited", _("已退出")


class SourceGroup(models.TextChoices):
    FEDERATION_CADRE = "federation_cadre", _("妇联干部")
    FEDERATION_EXECUTIVE = "federation_executive", _("妇联执委")
    GOVERNMENT_CADRE = "government_cadre", _("机关干部")
    PARTY_CADRE = "party_cadre", _("党员干部")
    RED_BANNER = "red_banner", _("三八红旗手")
    MERIT_MODEL = "merit_model", _("巾帼建功标兵")
    MODEL_FAMILY = "model_family", _("最美家庭成员")
    WOMEN_VOLUNTEER = "women_volunteer", _("巾帼志愿者")
    FIVE_ELDERS = "five_elders", _("五老人员")
    ENTREPRENEUR = "entrepreneur", _("女企业家")
    OTHER = "other", _("其他")


class Specialty(models.TextChoices):
    FAMILY_EDUCATION = "family_education", _("家庭教育")
    PSYCHOLOGY = "psychology", _("心理辅导")
    MEDICINE = "medicine", _("医疗健康")
    LAW = "law", _("法律")
    TUTORING = "tutoring", _("学业辅导")
    ARTS_SPORTS = "arts_sports", _("文体艺术")
    LIFE_CARE = "life_care", _("生活照料")


class BackgroundCheck(models.TextChoices):
    PENDING = "", _("未查询")
    CLEAR = "clear", _("无违法犯罪记录")
    FLAGGED = "flagged", _("有不良记录")


class Volunteer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="volunteer"
    )
    name = models.CharField(_("姓名"), max_length=50)
    name_pinyin = models.CharField(max_length=200, db_index=True)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    id_number_encrypted = models.TextField(blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    id_number_masked = models.CharField(max_length=18, blank=True)
    source_group = models.CharField(_("来源群体"), max_length=30, choices=SourceGroup.choices)
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    home_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="volunteers_home",
        verbose_name=_("居住村(社区)"),
    )
    town = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    work_region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("工作地"),
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    specialties = models.JSONField(_("专长"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("可结对人数"), default=1)
    # Children proposed to, awaiting consent for, or actively paired with this mother. Kept by
    # the pairing service with F() updates; the check constraint makes over-capacity impossible.
    load = models.PositiveSmallIntegerField(_("当前结对数"), default=0)
    status = models.CharField(
        _("状态"), max_length=20, choices=VolunteerStatus.choices, default=VolunteerStatus.RECRUITED
    )
    background_check = models.CharField(
        _("入职查询结果"), max_length=20, choices=BackgroundCheck.choices, blank=True
    )
    background_checked_on = models.DateField(_("入职查询日期"), null=True, blank=True)
    trained = models.BooleanField(_("已培训"), default=False)
    # Her wishes for matching (issue 4): the ages and the sex of the children she would care for.
    preferred_age_min = models.PositiveSmallIntegerField(_("意向儿童最小年龄"), null=True, blank=True)
    preferred_age_max = models.PositiveSmallIntegerField(_("意向儿童最大年龄"), null=True, blank=True)
    preferred_child_sex = models.CharField(
        _("意向儿童性别"), max_length=1, blank=True, choices=[("M", _("男")), ("F", _("女"))]
    )
    points = models.IntegerField(_("积分"), default=0)
    exit_reason = models.CharField(_("退出原因"), max_length=300, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district_id", "town_id", "name_pinyin", "id"]
        verbose_name = _("爱心妈妈")
        verbose_name_plural = _("爱心妈妈")
        constraints = [
            models.CheckConstraint(
                condition=Q(load__lte=F("capacity")), name="volunteer_load_within_capacity"
            ),
        ]
        indexes = [
            models.Index(fields=["district", "status"]),
            models.Index(fields=["town", "status"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def preference_label(self) -> str:
        """Her wishes for matching in words, e.g. "6–12岁，女童" or "不限"."""
        low, high = self.preferred_age_min, self.preferred_age_max
        parts = []
        if low is not None and high is not None:
            parts.append(f"{low}–{high}岁")
        elif low is not None:
            parts.append(f"{low}岁及以上")
        elif high is not None:
            parts.append(f"{high}岁及以下")
        if self.preferred_child_sex:
            parts.append("男童" if self.preferred_child_sex == "M" else "女童")
        return "，".join(parts) or "不限"

    @property
    def free_capacity(self) -> int:
        return max(self.capacity - self.load, 0)


class VolunteerStatusChange(models.Model):
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=VolunteerStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=VolunteerStatus.choices)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.volunteer}: {self.from_status} → {self.to_status}"
