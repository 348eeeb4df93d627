"""Reads for pairings: matching candidates (R-6.2, nearest first), the pairing ledger (结对台账),
a mother's pending invitations, and children still waiting for a loving mother."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, F, FloatField, IntegerField, QuerySet, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aixin.accounts.access import (
    children_visible_to,
    pairings_of_credential,
    pairings_visible_to,
    regions_visible_to,
    volunteers_visible_to,
)
from aixin.lib.errors import InvalidInput
from aixin.lib.idnumber import age_on
from aixin.pairing.models import OPEN_STATUSES, Pairing, PairingStatus
from aixin.pairing.services import awaiting_loving_mother
from aixin.regions.models import Region
from aixin.registry.models import CareTier
from aixin.volunteers.models import Specialty, Volunteer, VolunteerStatus

CLOSENESS_LABELS = {0: "同村", 1: "同镇", 2: "同区县"}

# Which specialties fit which needs of a child (R-6.2 "specialty fitted to needs"): shown as a
# reason beside a candidate, never used to hide anyone.
NEED_SPECIALTIES: dict[str, tuple[str, ...]] = {
    "difficulty_study": (Specialty.TUTORING, Specialty.FAMILY_EDUCATION),
    "difficulty_mental": (Specialty.PSYCHOLOGY,),
    "risk_psych_behaviour": (Specialty.PSYCHOLOGY, Specialty.FAMILY_EDUCATION),
    "risk_harm_others": (Specialty.PSYCHOLOGY, Specialty.LAW),
    "risk_being_harmed": (Specialty.LAW, Specialty.PSYCHOLOGY),
    "difficulty_physical": (Specialty.MEDICINE,),
    "difficulty_life": (Specialty.LIFE_CARE,),
}
NEED_LABELS = {
    "difficulty_life": "生活困难",
    "difficulty_study": "学习困难",
    "difficulty_physical": "身体健康困难",
    "difficulty_mental": "心理健康困难",
    "risk_psych_behaviour": "心理行为问题突出",
    "risk_harm_others": "侵害他人风险",
    "risk_being_harmed": "受侵害风险",
}


@dataclass(frozen=True)
class Candidate:
    volunteer: Volunteer
    closeness: str  # "同村" | "同镇" | "同区县"
    closeness_rank: int
    load: int
    capacity: int
    specialties: list[str] = field(default_factory=list)  # labels
    fits: list[str] = field(default_factory=list)  # labels of specialties that fit the child's needs

    @property
    def free_capacity(self) -> int:
        return max(self.capacity - self.load, 0)


def child_needs(child: Any) -> list[str]:
    """The child's recorded difficulties and risks, as Chinese labels."""
    return [_(label) for key, label in NEED_LABELS.items() if getattr(child, key, False)]


def _fitting_specialties(child: Any) -> set[str]:
    return {s for key, specs in NEED_SPECIALTIES.items() if getattr(child, key, False) for s in specs}


def candidates_for_child(child: Any, *, user: Any, limit: int = 50) -> list[Candidate]:
    """Active mothers with free capacity in the child's district, nearest first (同村 < 同镇 <
    同区县), then the least loaded, then by name."""
    closeness = Case(
        When(home_region_id=child.region_id, then=Value(0)),
        When(town_id=child.town_id, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    ratio = Cast(F("load"), FloatField()) / Cast(F("capacity"), FloatField())
    qs = (
        volunteers_visible_to(user)
        .filter(status=VolunteerStatus.ACTIVE, district_id=child.district_id, load__lt=F("capacity"))
        .annotate(closeness_rank=closeness, load_ratio=ratio)
        .select_related("home_region", "town")
        .order_by("closeness_rank", "load_ratio", "name_pinyin", "pk")
    )[:limit]
    labels = dict(Specialty.choices)
    fitting = _fitting_specialties(child)
    return [
        Candidate(
            volunteer=v,
            closeness=_(CLOSENESS_LABELS[v.closeness_rank]),
            closeness_rank=v.closeness_rank,
            load=v.load,
            capacity=v.capacity,
            specialties=[str(labels.get(s, s)) for s in v.specialties],
            fits=[str(labels[s]) for s in Specialty.values if s in fitting and s in v.specialties],
        )
        for v in qs
    ]


def region_for_filter(user: Any, code: str | None) -> Region | None:
    """A region from a `?region=CODE` filter, only if the user may see it."""
    if not code:
        return None
    return regions_visible_to(user).filter(code=code).first()


# A time, then " HH:MM" / " HHMM" / " HH" at the end: an offset whose "+" became a space.
_OFFSET_WITHOUT_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")


def parse_changed_since(text: str) -> datetime.datetime:
    """An ISO 8601 timestamp from `?changed_since=` (a date alone means its midnight; without an
    offset, Beijing time), or Unix seconds. A "+08:00" sent unencoded arrives as " 08:00" and is
    read as such."""
    raw = _OFFSET_WITHOUT_PLUS.sub(r"\1+\2", (text or "").strip())
    if raw.isascii() and raw.isdigit() and 9 <= len(raw) <= 11:  # Unix seconds, as the push API's
        return datetime.datetime.fromtimestamp(int(raw), tz=datetime.UTC)
    try:
        value = parse_datetime(raw)
        if value is not None:
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            # In UTC, as the database compares; years 1 and 9999 overflow there.
            value = value.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        value = None
    if value is None:
        raise InvalidInput(
            _(
                "changed_since 不是有效的时间：“%(v)s”，请使用 ISO 8601 格式（如 2025-03-01T08:00:00+08:00）"
                "或 Unix 时间戳（秒）"
            )
            % {"v": (text or "")[:40]},
            field="changed_since",
        )
    return value


def pairings_changed_since(qs: QuerySet[Pairing], since: datetime.datetime) -> QuerySet[Pairing]:
    """Pairings (of an already scoped queryset) changed after `since`, oldest change first (then
    by id, so that paging with offset is stable)."""
    return qs.filter(updated_at__gt=since).order_by("updated_at", "pk")


def pairing_list(
    user: Any, *, region: Region | None = None, status: str = "", tier: str = "", q: str = ""
) -> QuerySet[Pairing]:
    return _listed(pairings_visible_to(user), region=region, status=status, tier=tier, q=q)


def pairings_read_back(credential: Any, *, status: str = "", tier: str = "") -> QuerySet[Pairing]:
    """The pairings a department system reads back with its credential, as `pairing_list`."""
    return _listed(pairings_of_credential(credential), region=None, status=status, tier=tier, q="")


def _listed(
    qs: QuerySet[Pairing], *, region: Region | None, status: str, tier: str, q: str
) -> QuerySet[Pairing]:
    qs = qs.select_related("child", "volunteer", "district", "town", "village").order_by(
        "district__code", "town__code", "village__code", "child__name_pinyin", "-pk"
    )
    if region is not None:
        qs = qs.filter(village__path__startswith=region.path)
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status in PairingStatus.values:
        qs = qs.filter(status=status)
    if tier in CareTier.values:
        qs = qs.filter(tier=tier)
    q = (q or "").strip().lower()
    if q:
        from django.db.models import Q

        qs = qs.filter(
            Q(child__name__icontains=q)
            | Q(child__name_pinyin__contains=q)
            | Q(volunteer__name__icontains=q)
            | Q(volunteer__name_pinyin__contains=q)
        )
    return qs


LEDGER_HEADERS = (
    "序号",
    "区县",
    "乡镇(街道)",
    "村(社区)",
    "儿童姓名",
    "性别",
    "年龄",
    "儿童类别",
    "关爱类型",
    "爱心妈妈",
    "爱心妈妈电话(掩码)",
    "结对日期",
    "状态",
    "监护人同意方式",
)


def child_categories(child: Any) -> str:
    names = [
        ("is_scattered_orphan", "散居孤儿"),
        ("is_de_facto_unsupported", "事实无人抚养儿童"),
        ("is_left_behind", "农村留守儿童"),
        ("is_other_difficulty", "其他困境儿童"),
        ("is_justice_involved", "涉案未成年人"),
    ]
    return "、".join(_(label) for attr, label in names if getattr(child, attr, False))


def ledger_rows(pairings: Iterable[Pairing], *, today: datetime.date | None = None) -> Iterator[list[Any]]:
    """Rows of the 结对台账 in the layout districts use (LEDGER_HEADERS)."""
    today = today or timezone.localdate()
    for n, p in enumerate(pairings, start=1):
        child = p.child
        consent = next(iter(p.consents.all()), None)
        yield [
            n,
            p.district.name,
            p.town.name,
            p.village.name,
            child.name,
            child.get_sex_display(),
            age_on(child.birth_date, today),
            child_categories(child),
            p.get_tier_display(),
            p.volunteer.name,
            p.volunteer.phone_masked,
            p.start_date.isoformat() if p.start_date else "",
            p.get_status_display(),
            consent.get_method_display() if consent else "",
        ]


def pending_proposals_for(user: Any) -> QuerySet[Pairing]:
    """A loving mother's invitations waiting for her answer (for her home page)."""
    return (
        pairings_visible_to(user)
        .filter(volunteer__user=user, status=PairingStatus.PROPOSED)
        .select_related("child", "village", "town")
        .order_by("proposed_at", "pk")
    )


def children_needing_pairing(user: Any, *, today: datetime.date | None = None) -> QuerySet[Any]:
    """Children in scope who need a loving mother (`needs_loving_mother`: in the register, one-to-
    one or many-to-one, under 18) and have no open pairing (no proposal waiting, no consent
    pending, no active loving mother)."""
    return (
        children_visible_to(user)
        .filter(awaiting_loving_mother(today or timezone.localdate()))
        .select_related("region", "town", "district")
    )


def pairing_timeline(pairing: Pairing) -> list[tuple[Any, str]]:
    """The steps the pairing went through, oldest first, as (when, what)."""
    steps: list[tuple[Any, str]] = [(pairing.proposed_at, _("提议结对"))]
    if pairing.responded_at:
        if pairing.status == PairingStatus.DECLINED:
            steps.append((pairing.responded_at, _("爱心妈妈婉拒：%(r)s") % {"r": pairing.decline_reason}))
        else:
            steps.append((pairing.responded_at, _("爱心妈妈接受")))
    for consent in pairing.consents.all():
        steps.append(
            (
                consent.created_at,
                _("监护人%(g)s（%(rel)s）%(m)s同意，同意日期%(d)s")
                % {
                    "g": consent.guardian_name,
                    "rel": consent.relation or "-",
                    "m": consent.get_method_display(),
                    "d": consent.consented_on.isoformat(),
                },
            )
        )
        if consent.withdrawn_at:
            steps.append((consent.withdrawn_at, _("监护人撤回同意：%(r)s") % {"r": consent.withdraw_reason}))
    if pairing.status == PairingStatus.ENDED:
        steps.append(
            (
                pairing.updated_at,
                _("解除结对（%(d)s）：%(r)s")
                % {"d": pairing.end_date.isoformat() if pairing.end_date else "", "r": pairing.end_reason},
            )
        )
    if pairing.status == PairingStatus.CANCELLED:
        steps.append((pairing.updated_at, _("撤销：%(r)s") % {"r": pairing.end_reason}))
    return steps


def volunteer_open_pairings(volunteer: Volunteer, *, user: Any) -> QuerySet[Pairing]:
    return (
        pairings_visible_to(user)
        .filter(volunteer=volunteer, status__in=OPEN_STATUSES)
        .select_related("child", "village")
        .order_by("status", "pk")
    )
