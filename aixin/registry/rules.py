"""Category and care-tier rules (R-3.2, R-3.4), as plain functions over plain values.

The de-facto-unsupported rule follows 渝民发〔2021〕5号 (domain-facts §2.4):
  A = {重残, 重病, 服刑在押, 强制隔离戒毒, 其他限制人身自由, 失联, 被撤销监护资格}
  qualifies if (一) both parents ∈ A; (二) one deported and the other ∈ A;
  (三) one dead or declared missing and the other ∈ A ∪ {deported};
for a child under 18, or 18 and over while still a full-time secondary student.
Thresholds: 失联 counts from 6 months after the report; imprisonment, compulsory
rehabilitation and other restrictions need a term of at least 6 months; 重残 is grade 1–2 of
any category or grade 3–4 of mental (6) or intellectual (5) disability.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from aixin.lib.idnumber import age_on

SEVERE = "severe_disability"
ILLNESS = "serious_illness"
IMPRISONED = "imprisoned"
REHAB = "compulsory_rehab"
RESTRICTED = "liberty_restricted"
LOST = "lost_contact"
REVOKED = "guardianship_revoked"
DEPORTED = "deported"
DEAD = "dead"
MISSING = "declared_missing"
AWAY = "working_away"

SET_A = frozenset({SEVERE, ILLNESS, IMPRISONED, REHAB, RESTRICTED, LOST, REVOKED})
# A parent left at home "without guardianship capacity" (无监护能力) for the left-behind rule.
UNABLE_TO_GUARD = SET_A | {DEAD, MISSING, DEPORTED}
TERM_THRESHOLD = frozenset({IMPRISONED, REHAB, RESTRICTED})
SIX_MONTHS = 6


@dataclass(frozen=True)
class Condition:
    parent: str  # "father" | "mother"
    kind: str
    started_on: datetime.date | None = None
    term_months: int | None = None
    disability_grade: int | None = None
    disability_category: int | None = None
    ended_on: datetime.date | None = None


def _months_between(start: datetime.date, end: datetime.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (1 if end.day < start.day else 0)


def condition_holds(c: Condition, today: datetime.date) -> bool:
    """Whether a recorded condition counts today, thresholds applied."""
    if c.ended_on is not None and c.ended_on <= today:
        return False
    if c.started_on is not None and c.started_on > today:
        return False
    if c.kind == SEVERE:
        grade, category = c.disability_grade, c.disability_category
        if grade is None:
            return True  # recorded as 重残 by civil affairs without the card's details
        return grade in (1, 2) or (grade in (3, 4) and category in (5, 6))
    if c.kind == LOST:
        return c.started_on is not None and _months_between(c.started_on, today) >= SIX_MONTHS
    if c.kind in TERM_THRESHOLD:
        if c.term_months is not None:
            return c.term_months >= SIX_MONTHS
        return c.started_on is not None and _months_between(c.started_on, today) >= SIX_MONTHS
    return True


def _kinds_by_parent(conditions: Iterable[Condition], today: datetime.date) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {"father": set(), "mother": set()}
    for c in conditions:
        if c.parent in kinds and condition_holds(c, today):
            kinds[c.parent].add(c.kind)
    return kinds


def is_de_facto_unsupported(
    conditions: Iterable[Condition],
    *,
    birth_date: datetime.date,
    full_time_student: bool,
    today: datetime.date,
) -> bool:
    age = age_on(birth_date, today)
    if age >= 18 and not full_time_student:
        return False
    kinds = _kinds_by_parent(conditions, today)
    father, mother = kinds["father"], kinds["mother"]

    def in_a(k: set[str]) -> bool:
        return bool(k & SET_A)

    if in_a(father) and in_a(mother):
        return True
    for one, other in ((father, mother), (mother, father)):
        if DEPORTED in one and in_a(other):
            return True
        if one & {DEAD, MISSING} and (in_a(other) or DEPORTED in other):
            return True
    return False


def is_orphan(conditions: Iterable[Condition], *, birth_date: datetime.date, today: datetime.date) -> bool:
    """孤儿: both parents dead or declared missing, under 18."""
    if age_on(birth_date, today) >= 18:
        return False
    kinds = _kinds_by_parent(conditions, today)
    return bool(kinds["father"] & {DEAD, MISSING}) and bool(kinds["mother"] & {DEAD, MISSING})


def is_left_behind(
    conditions: Iterable[Condition], *, birth_date: datetime.date, rural: bool, today: datetime.date
) -> bool:
    """农村留守儿童: under 16, rural household, both parents away for work, or one away and the
    other without guardianship capacity."""
    if not rural or age_on(birth_date, today) >= 16:
        return False
    kinds = _kinds_by_parent(conditions, today)
    father, mother = kinds["father"], kinds["mother"]
    if AWAY in father and AWAY in mother:
        return True
    return (AWAY in father and bool(mother & UNABLE_TO_GUARD)) or (
        AWAY in mother and bool(father & UNABLE_TO_GUARD)
    )


@dataclass(frozen=True)
class TierInputs:
    risk_flags: bool
    difficulties: bool
    scattered_orphan: bool
    de_facto_unsupported: bool


def derive_tier(inputs: TierInputs) -> str:
    """R-3.4 "1+1+N": any risk flag → many_to_one; any special difficulty, scattered orphan or
    de-facto unsupported → one_to_one; everyone else → group."""
    if inputs.risk_flags:
        return "many_to_one"
    if inputs.difficulties or inputs.scattered_orphan or inputs.de_facto_unsupported:
        return "one_to_one"
    return "group"


# ---------------------------------------------------------------------------------------------
# Explanations shown on the child's file: why the derived categories and tier are what they are.

KIND_LABELS = {
    SEVERE: "重残",
    ILLNESS: "重病",
    IMPRISONED: "服刑在押",
    REHAB: "强制隔离戒毒",
    RESTRICTED: "被执行其他限制人身自由的措施",
    LOST: "失联",
    REVOKED: "被撤销监护资格",
    DEPORTED: "被遣送（驱逐）出境",
    DEAD: "死亡",
    MISSING: "宣告失踪",
    AWAY: "外出务工",
}
PARENT_LABELS = {"father": "父亲", "mother": "母亲"}


def condition_note(c: Condition, today: datetime.date) -> str:
    """Why a recorded condition does or does not count today (empty when it simply counts)."""
    if c.ended_on is not None and c.ended_on <= today:
        return f"已于{c.ended_on.isoformat()}结束，不再计入"
    if c.started_on is not None and c.started_on > today:
        return f"起始日期{c.started_on.isoformat()}尚未到，暂不计入"
    if c.kind == SEVERE and c.disability_grade is not None and not condition_holds(c, today):
        return "残疾等级不属于重残（一、二级，或三、四级精神/智力残疾），不计入"
    if c.kind == LOST:
        if c.started_on is None:
            return "未填写失联起始日期，无法认定满6个月，暂不计入"
        if not condition_holds(c, today):
            return "失联未满6个月，暂不计入"
    if c.kind in TERM_THRESHOLD and not condition_holds(c, today):
        if c.term_months is not None:
            return f"期限{c.term_months}个月，不足6个月，不计入"
        return "未满6个月（且未填写期限），暂不计入"
    return ""


def _parents_text(kinds: set[str]) -> str:
    return "、".join(KIND_LABELS.get(k, k) for k in sorted(kinds)) or "无"


def explain_categories(
    conditions: Iterable[Condition],
    *,
    birth_date: datetime.date,
    rural: bool,
    full_time_student: bool,
    today: datetime.date,
) -> list[str]:
    """One line per derived category (left-behind, de-facto unsupported, orphan) saying whether it
    applies and why, in the words of the program document."""
    conds = list(conditions)
    kinds = _kinds_by_parent(conds, today)
    age = age_on(birth_date, today)
    parents = f"父亲：{_parents_text(kinds['father'])}；母亲：{_parents_text(kinds['mother'])}"
    lines: list[str] = []
    if is_left_behind(conds, birth_date=birth_date, rural=rural, today=today):
        lines.append(f"农村留守儿童：是。未满16周岁、农业户口，{parents}")
    elif not rural:
        lines.append("农村留守儿童：否。非农业户口")
    elif age >= 16:
        lines.append(f"农村留守儿童：否。已满16周岁（{age}岁）")
    else:
        lines.append(f"农村留守儿童：否。不满足父母双方外出务工或一方外出另一方无监护能力（{parents}）")
    if is_de_facto_unsupported(
        conds, birth_date=birth_date, full_time_student=full_time_student, today=today
    ):
        extra = "，年满18周岁仍在全日制学校就读" if age >= 18 else ""
        lines.append(f"事实无人抚养儿童：是{extra}。{parents}")
    elif age >= 18 and not full_time_student:
        lines.append("事实无人抚养儿童：否。已满18周岁且不在全日制学校就读")
    else:
        lines.append(f"事实无人抚养儿童：否。父母情形不满足认定条件（{parents}）")
    if is_orphan(conds, birth_date=birth_date, today=today):
        lines.append("孤儿：是。父母双方均死亡或宣告失踪")
    return lines


def tier_reasons(inputs: TierInputs) -> list[str]:
    """The facts that put a child in the derived tier."""
    if inputs.risk_flags:
        return ["有风险标记（心理行为问题突出、侵害他人风险或受侵害风险）→ 重点关爱（多对一）"]
    reasons = []
    if inputs.difficulties:
        reasons.append("有特殊困难（生活、学习、身体健康或心理健康）")
    if inputs.scattered_orphan:
        reasons.append("散居孤儿")
    if inputs.de_facto_unsupported:
        reasons.append("事实无人抚养儿童")
    if reasons:
        return ["、".join(reasons) + " → 困难关爱（一对一）"]
    return ["无风险标记、特殊困难或孤儿/事实无人抚养情形 → 团体关爱（多对多）"]
