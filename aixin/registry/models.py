"""The children registry (儿童台账, SPEC §3).

Personal identifiers are stored encrypted (`*_encrypted`) with a keyed HMAC blind index
(`*_index`) for look-up and uniqueness; see aixin.lib.crypto. The address, the notes and the
parents' disability grade and category are encrypted too, behind properties of the same name
(`child.address`, `condition.disability_grade`) that decrypt on read and encrypt on write; they
cannot be filtered on in SQL. Categories, difficulties, risk
flags and the care tier are boolean / choice columns rather than JSON so that lists and the
dashboard can filter and count them with plain indexed SQL.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aixin.lib.crypto import mask_address
from aixin.registry import derive


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class CareTier(models.TextChoices):
    MANY_TO_ONE = "many_to_one", _("重点关爱（多对一）")
    ONE_TO_ONE = "one_to_one", _("困难关爱（一对一）")
    GROUP = "group", _("团体关爱（多对多）")


class ChildStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    HANDED_OVER = "handed_over", _("已移交成长爱护人")
    ARCHIVED = "archived", _("已归档")
    CLOSED = "closed", _("已退出")


class ClosedAs(models.TextChoices):
    """Why a record left the register (退出类型); the first four are also the 儿童状态 a
    department's row may state (ingest.columns.STATUS_WORDS)."""

    MOVED_AWAY = "moved_away", _("迁出本地")
    PARENTS_RETURNED = "parents_returned", _("父母返乡")
    NOT_ELIGIBLE = "not_eligible", _("不再符合条件")
    DEAD = "dead", _("死亡")
    DUPLICATE = "duplicate", _("重复记录（同一儿童）")
    OTHER = "other", _("其他")


# What a free-text closing reason says, for records closed before 退出类型 was asked and for
# callers that give only a reason: the first kind whose words the reason contains.
CLOSED_AS_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (ClosedAs.DUPLICATE, ("同一儿童", "重复")),
    (ClosedAs.MOVED_AWAY, ("迁出", "迁往", "迁至", "外迁", "搬迁", "搬离")),
    (ClosedAs.DEAD, ("死亡", "已故", "去世", "病故", "身故", "离世")),
    (ClosedAs.PARENTS_RETURNED, ("返乡",)),
    (ClosedAs.NOT_ELIGIBLE, ("不再符合", "不符合")),
)


# A word said not to be so: 非重复, 未迁出, 不是重复, 没有迁出.
_NOT = r"(?<!非)(?<!未)(?<!不是)(?<!没有)(?<!并非)"
_CLOSED_AS_PATTERNS = tuple(
    (kind, re.compile("|".join(_NOT + re.escape(w) for w in words))) for kind, words in CLOSED_AS_WORDS
)


def closed_as_of(reason: str) -> str:
    """The 退出类型 a free-text closing reason states (OTHER when none); a word said not to be
    so (经核实非重复录入) does not count."""
    return next((kind for kind, pattern in _CLOSED_AS_PATTERNS if pattern.search(reason)), ClosedAs.OTHER)


class HouseholdType(models.TextChoices):
    RURAL = "rural", _("农业户口")
    URBAN = "urban", _("非农业户口")


class SchoolStage(models.TextChoices):
    NONE = "", _("未填写")
    PRESCHOOL = "preschool", _("幼儿园")
    NOT_ENROLLED = "not_enrolled", _("未入园")
    PRIMARY = "primary", _("小学")
    JUNIOR = "junior", _("初中")
    SENIOR = "senior", _("高中")
    VOCATIONAL = "vocational", _("中职")
    DROPPED_OUT = "dropped_out", _("辍学")
    NOT_IN_SCHOOL = "not_in_school", _("不在学")


class Child(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    # Searched with "contains" (LIKE '%…%'), which no b-tree index serves: none is kept.
    name_pinyin = models.CharField(max_length=200, help_text="full pinyin and initials, lower case")
    id_number_encrypted = models.TextField()
    id_number_index = models.CharField(max_length=64)  # unique: see Meta.constraints
    id_number_masked = models.CharField(_("身份证号"), max_length=18)
    birth_date = models.DateField(_("出生日期"), db_index=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True, default="汉族")
    household_type = models.CharField(
        _("户籍类型"), max_length=10, choices=HouseholdType.choices, default=HouseholdType.RURAL
    )
    # Indexed by the (region|town|district, status…) indexes of Meta, which lead with them.
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="children_living",
        verbose_name=_("现居住村(社区)"),
        db_index=False,
    )
    # The village's town and district, copied from the region (derive.set_region) so that
    # scoping and counting need no join. No database foreign key of their own: the village's
    # key guards the region, these follow it, and a department import of half a million
    # children would otherwise check two more keys per child (measured in docs/PERFORMANCE.md).
    town = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    district = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    # The address below the village (组、号), encrypted: see the `address` property.
    address_encrypted = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    school = models.CharField(_("就读学校"), max_length=100, blank=True)
    grade = models.CharField(_("年级"), max_length=20, blank=True)
    school_stage = models.CharField(_("就学情况"), max_length=20, choices=SchoolStage.choices, blank=True)
    full_time_student = models.BooleanField(_("全日制在校"), default=True)

    # Categories (R-3.2). Left-behind and de-facto-unsupported are derived from the parents'
    # conditions by aixin.registry.rules; the others are recorded from the departments.
    is_left_behind = models.BooleanField(_("农村留守儿童"), default=False)
    is_scattered_orphan = models.BooleanField(_("散居孤儿"), default=False)
    is_de_facto_unsupported = models.BooleanField(_("事实无人抚养儿童"), default=False)
    is_other_difficulty = models.BooleanField(_("其他困境儿童"), default=False)
    other_difficulty_reasons = models.JSONField(_("困境原因"), default=list, blank=True)
    is_justice_involved = models.BooleanField(_("涉案未成年人"), default=False)
    parents_both_away = models.BooleanField(_("父母双方外出务工"), default=False)
    parent_one_away_other_unable = models.BooleanField(_("一方外出另一方无监护能力"), default=False)

    # Difficulties.
    difficulty_life = models.BooleanField(_("生活困难"), default=False)
    difficulty_study = models.BooleanField(_("学习困难"), default=False)
    difficulty_physical = models.BooleanField(_("身体健康困难"), default=False)
    difficulty_mental = models.BooleanField(_("心理健康困难"), default=False)

    # Risk flags.
    risk_psych_behaviour = models.BooleanField(_("心理行为问题突出"), default=False)
    risk_harm_others = models.BooleanField(_("侵害他人风险"), default=False)
    risk_being_harmed = models.BooleanField(_("受侵害风险"), default=False)

    # Care tier: derived, unless overridden with a recorded reason.
    derived_tier = models.CharField(_("规则关爱类型"), max_length=20, choices=CareTier.choices)
    tier_override = models.CharField(
        _("人工调整关爱类型"), max_length=20, choices=CareTier.choices, blank=True
    )
    tier_override_reason = models.CharField(_("调整理由"), max_length=300, blank=True)
    tier_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    tier_override_at = models.DateTimeField(null=True, blank=True)
    care_tier = models.CharField(_("关爱类型"), max_length=20, choices=CareTier.choices)

    status = models.CharField(
        _("状态"), max_length=20, choices=ChildStatus.choices, default=ChildStatus.ACTIVE
    )
    closed_as = models.CharField(_("退出类型"), max_length=20, choices=ClosedAs.choices, blank=True)
    closed_reason = models.CharField(_("退出原因"), max_length=300, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Free text that may describe health, family or justice matters, encrypted: see `notes`.
    notes_encrypted = models.TextField(blank=True)
    source = models.CharField(_("数据来源"), max_length=30, blank=True, default="manual")
    # Which source last set each field, {field: source}, for the per-field source priority of
    # department imports (aixin.ingest.merge). Fields absent here were entered by hand.
    field_sources = models.JSONField(default=dict, blank=True)
    # What each department's ledger last said about the child, {source: hash of its row}, so a
    # re-imported identical row is known unchanged without being parsed (aixin.ingest.engine).
    source_hashes = models.JSONField(default=dict, blank=True)
    # Name in pinyin + birth date + village, hashed: two records with the same key and different
    # ID numbers are duplicate suspects (aixin.ingest), listed for a person to decide.
    dedupe_key = models.CharField(max_length=16, blank=True)
    # Last contact by the loving mother, kept by the care service for the 14/30-day flags.
    last_contact_on = models.DateField(_("最近联系日期"), null=True, blank=True)
    # When the personal fields were minimised after the retention period (aixin.registry.retention).
    minimised_at = models.DateTimeField(_("个人信息最小化时间"), null=True, blank=True)

    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The department batch that created the record (its first line of history and the batch's
    # triggers), kept here rather than as a history row: a row per child of a 500,000-row
    # import. No database key (batches are never deleted), as for Alert.town.
    created_batch = models.ForeignKey(
        "ingest.ImportBatch",
        verbose_name=_("建档批次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["district_id", "town_id", "region_id", "name_pinyin", "id"]
        verbose_name = _("儿童")
        verbose_name_plural = _("儿童")
        # Every index costs each imported child (docs/PERFORMANCE.md, department imports): only
        # those a query uses. Plain b-trees for the hashes (no "_like" pattern twins).
        indexes = [
            models.Index(fields=["district", "status", "care_tier"]),
            models.Index(fields=["town", "status"]),
            models.Index(fields=["region", "status"]),
            models.Index(fields=["dedupe_key"], name="registry_child_dedupe_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["id_number_index"], name="registry_child_id_number_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return derive.reveal_address(self)

    @address.setter
    def address(self, value: str) -> None:
        derive.set_address(self, value)

    @property
    def address_masked(self) -> str:
        """The address up to the village, for people who need not see the house."""
        return mask_address(self.address)

    @property
    def notes(self) -> str:
        return derive.reveal_notes(self)

    @notes.setter
    def notes(self, value: str) -> None:
        derive.set_notes(self, value)


class GuardianshipType(models.TextChoices):
    PARENT = "parent", _("父母监护")
    ENTRUSTED = "entrusted", _("委托监护")
    RELATIVE = "relative", _("亲属监护")
    INSTITUTION = "institution", _("机构监护")
    OTHER = "other", _("其他")


class Guardian(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(_("监护人姓名"), max_length=50)
    relation = models.CharField(_("与儿童关系"), max_length=20)
    phone_encrypted = models.TextField(blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True)
    guardianship_type = models.CharField(
        _("监护类型"), max_length=20, choices=GuardianshipType.choices, default=GuardianshipType.PARENT
    )
    is_primary = models.BooleanField(_("主要监护人"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("监护人")
        verbose_name_plural = _("监护人")
        indexes = [models.Index(fields=["phone_index"], name="registry_guardian_phone_index")]

    def __str__(self) -> str:
        return self.name


class Parent(models.TextChoices):
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")


class ParentConditionKind(models.TextChoices):
    WORKING_AWAY = "working_away", _("外出务工")
    SEVERE_DISABILITY = "severe_disability", _("重残")
    SERIOUS_ILLNESS = "serious_illness", _("重病")
    IMPRISONED = "imprisoned", _("服刑在押")
    COMPULSORY_REHAB = "compulsory_rehab", _("强制隔离戒毒")
    LIBERTY_RESTRICTED = "liberty_restricted", _("被执行其他限制人身自由的措施")
    LOST_CONTACT = "lost_contact", _("失联")
    GUARDIANSHIP_REVOKED = "guardianship_revoked", _("被撤销监护资格")
    DEPORTED = "deported", _("被遣送（驱逐）出境")
    DEAD = "dead", _("死亡")
    DECLARED_MISSING = "declared_missing", _("宣告失踪")


# Conditions that never end: a death has no end date (every other kind may be lifted — a
# declared missing person may reappear, a revoked guardianship may be restored).
PERMANENT_CONDITION_KINDS = frozenset({ParentConditionKind.DEAD.value})


class ParentCondition(models.Model):
    """A condition of one parent, with evidence and dates: the input of the R-3.2 rules."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="parent_conditions")
    parent = models.CharField(_("父/母"), max_length=10, choices=Parent.choices)
    kind = models.CharField(_("情形"), max_length=30, choices=ParentConditionKind.choices)
    started_on = models.DateField(_("起始日期"), null=True, blank=True)
    # For imprisonment, rehabilitation and other restrictions the threshold is the term.
    term_months = models.PositiveIntegerField(_("期限(月)"), null=True, blank=True)
    # Disability grade (1–4) and category (1 视力 … 7 多重) from the 残疾人证, health data kept
    # encrypted: read and set them through the `disability_grade`/`disability_category` properties.
    disability_grade_encrypted = models.TextField(blank=True)
    disability_category_encrypted = models.TextField(blank=True)
    evidence = models.CharField(_("证明材料"), max_length=200, blank=True)
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["parent", "kind"]
        verbose_name = _("父母情形")
        verbose_name_plural = _("父母情形")

    def __str__(self) -> str:
        return f"{self.get_parent_display()}{self.get_kind_display()}"

    @property
    def may_end(self) -> bool:
        """Still open and not permanent (a death cannot end)."""
        return self.ended_on is None and self.kind not in PERMANENT_CONDITION_KINDS

    @property
    def disability_grade(self) -> int | None:
        return derive.reveal_disability(self, "grade")

    @disability_grade.setter
    def disability_grade(self, value: int | None) -> None:
        derive.set_disability(self, "grade", value)

    @property
    def disability_category(self) -> int | None:
        return derive.reveal_disability(self, "category")

    @disability_category.setter
    def disability_category(self, value: int | None) -> None:
        derive.set_disability(self, "category", value)


class ChildChange(models.Model):
    """Field history of a child: what changed, from what to what, by whom and why."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="changes")
    field = models.CharField(max_length=50)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    source = models.CharField(max_length=30, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    # The import batch that made the change (department data), if any.
    batch = models.ForeignKey(  # indexed by registry_change_batch_child
        "ingest.ImportBatch",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # What a batch did to each child (the triggers look up child × field per batch).
        indexes = [models.Index(fields=["batch", "child", "field"], name="registry_change_batch_child")]

    def __str__(self) -> str:
        return f"{self.field}: {self.old_value} → {self.new_value}"
