"""What a concern is about (R-10.1) and how serious it is, as data.

The nine situations of the mandatory-reporting system (强制报告, 《关于建立侵害未成年人案件强制报告制度的
意见（试行）》第四条; domain-facts §6.2) are the categories with `mandatory=True`: a report in one of
them is referred to public security at once. The other categories are the concerns of R-10.1
that the district triages first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    # The nine mandatory-reporting situations.
    PRIVATE_PARTS_INJURY = "private_parts_injury", _("生殖器官或隐私部位遭受或疑似遭受非正常损伤")
    SEXUAL_ASSAULT_UNDER_14 = (
        "sexual_assault_under_14",
        _("不满十四周岁的女童遭受或疑似遭受性侵害、怀孕、流产"),
    )
    SEXUAL_ASSAULT_14_PLUS = "sexual_assault_14_plus", _("十四周岁以上女童遭受或疑似遭受性侵害所致怀孕、流产")
    ABUSE_INJURIES = (
        "abuse_injuries",
        _("身体多处损伤、严重营养不良、意识不清，疑似受到家庭暴力、欺凌、虐待、殴打或被人麻醉"),
    )
    ABNORMAL_INJURY_OR_DEATH = (
        "abnormal_injury_or_death",
        _("因自杀、自残、工伤、中毒、被人麻醉、殴打等非正常原因伤残、死亡"),
    )
    ABANDONED = "abandoned", _("被遗弃或长期处于无人照料状态")
    MISSING_OR_TRAFFICKED = "missing_or_trafficked", _("来源不明、失踪或者被拐卖、收买")
    ORGANISED_BEGGING = "organised_begging", _("被组织乞讨")
    OTHER_SERIOUS_HARM = "other_serious_harm", _("其他严重侵害身心健康的情形或正面临不法侵害危险")
    # Other concerns, triaged by the district.
    NEGLECT = "neglect", _("监护缺失或监护不当")
    BULLYING = "bullying", _("校园欺凌")
    SELF_HARM_RISK = "self_harm_risk", _("有自伤、自杀倾向")
    DROPOUT = "dropout", _("辍学或长期缺课")
    ILLEGAL_LABOUR = "illegal_labour", _("非法用工")
    HEALTH_EMERGENCY = "health_emergency", _("突发疾病或健康急症")
    MENTAL_HEALTH = "mental_health", _("心理问题突出")
    OTHER = "other", _("其他风险")


MANDATORY = frozenset(
    {
        Category.PRIVATE_PARTS_INJURY,
        Category.SEXUAL_ASSAULT_UNDER_14,
        Category.SEXUAL_ASSAULT_14_PLUS,
        Category.ABUSE_INJURIES,
        Category.ABNORMAL_INJURY_OR_DEATH,
        Category.ABANDONED,
        Category.MISSING_OR_TRAFFICKED,
        Category.ORGANISED_BEGGING,
        Category.OTHER_SERIOUS_HARM,
    }
)


def is_mandatory(category: str) -> bool:
    return category in MANDATORY


class Severity(models.TextChoices):
    URGENT = "urgent", _("紧急")
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


@dataclass(frozen=True)
class CategoryOption:
    value: str
    label: str
    mandatory: bool


def category_options() -> list[CategoryOption]:
    """The categories in the order of the report form: the nine mandatory situations first."""
    return [CategoryOption(c.value, str(c.label), c in MANDATORY) for c in Category]
