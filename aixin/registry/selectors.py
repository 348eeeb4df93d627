"""Reads of the children registry. Everything starts from `children_visible_to(user)`."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from aixin.accounts.access import children_visible_to, region_in_scope
from aixin.accounts.models import Role
from aixin.lib.idnumber import age_on, is_valid, normalise
from aixin.regions.models import Region, RegionLevel
from aixin.registry import derive
from aixin.registry.models import CareTier, Child, ChildStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class PairingColumns(TypedDict):
    """The columns `with_pairing_columns` annotates on each child."""

    is_paired: bool
    mother_name: str | None
    active_pairing_id: int | None
    open_pairing_status: str | None
    contact_basis: datetime.date | None


if TYPE_CHECKING:
    ChildWithPairing = WithAnnotations[Child, PairingColumns]

CATEGORY_FIELDS = {
    "left_behind": "is_left_behind",
    "scattered_orphan": "is_scattered_orphan",
    "de_facto_unsupported": "is_de_facto_unsupported",
    "other_difficulty": "is_other_difficulty",
    "justice_involved": "is_justice_involved",
}
CATEGORY_LABELS = {
    "left_behind": "农村留守儿童",
    "scattered_orphan": "散居孤儿",
    "de_facto_unsupported": "事实无人抚养儿童",
    "other_difficulty": "其他困境儿童",
    "justice_involved": "涉案未成年人",
}
DIFFICULTY_LABELS = {
    "difficulty_life": "生活困难",
    "difficulty_study": "学习困难",
    "difficulty_physical": "身体健康困难",
    "difficulty_mental": "心理健康困难",
}
RISK_LABELS = {
    "risk_psych_behaviour": "心理行为问题突出",
    "risk_harm_others": "侵害他人风险",
    "risk_being_harmed": "受侵害风险",
}
# Age bands as (youngest, oldest) completed years; None = no upper bound.
AGE_BANDS: dict[str, tuple[int, int | None]] = {
    "0-5": (0, 5),
    "6-13": (6, 13),
    "14-17": (14, 17),
    "18+": (18, None),
}
INACTIVITY_DAYS = (14, 30)


@dataclass
class ChildFilters:
    region: str = ""  # a region code at any level
    category: str = ""
    tier: str = ""
    paired: str = ""  # "yes" | "no"
    age_band: str = ""
    status: str = ""  # a ChildStatus value; "" = all
    inactive_days: int | None = None  # 14 or 30
    q: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ChildFilters:
        """Lenient parsing of query parameters: unknown values are ignored, not errors."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = data.get(f.name)
            if raw is None:
                continue
            raw = str(raw).strip()
            if f.name == "inactive_days":
                values[f.name] = int(raw) if raw.isdigit() and int(raw) in INACTIVITY_DAYS else None
            else:
                values[f.name] = raw
        return cls(**values)

    def as_query(self) -> dict[str, str]:
        return {
            f.name: str(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) not in ("", None)
        }


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier (29 Feb → 28 Feb), matching idnumber.age_on."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def age_band_q(band: str, *, today: datetime.date) -> Q | None:
    """A birth-date range (index-friendly) for an age band."""
    if band not in AGE_BANDS:
        return None
    youngest, oldest = AGE_BANDS[band]
    # age ≥ n  ⇔  birth_date ≤ today − n years
    q = Q(birth_date__lte=years_before(today, youngest))
    if oldest is not None:
        q &= Q(birth_date__gt=years_before(today, oldest + 1))
    return q


def _active_pairings() -> Any:
    from aixin.pairing.models import Pairing, PairingStatus

    return Pairing.objects.filter(child=OuterRef("pk"), status=PairingStatus.ACTIVE)


def _open_pairings() -> Any:
    from aixin.pairing.models import OPEN_STATUSES, Pairing

    return Pairing.objects.filter(child=OuterRef("pk"), status__in=OPEN_STATUSES)


def with_pairing_columns(qs: QuerySet[Child]) -> QuerySet[ChildWithPairing]:
    """Annotate the active loving mother, the open pairing's status and the contact basis (last
    contact, or the pairing's start when there has been none yet)."""
    active = _active_pairings()
    open_ = _open_pairings()
    return qs.annotate(
        is_paired=Exists(active),
        mother_name=Subquery(active.values("volunteer__name")[:1]),
        active_pairing_id=Subquery(active.values("pk")[:1]),
        open_pairing_status=Subquery(open_.values("status")[:1]),
        contact_basis=Coalesce("last_contact_on", Subquery(active.values("start_date")[:1])),
    )


def region_filter_q(user: Any, code: str) -> Q | None:
    """Children placed in the region with `code` (any level); None when it is out of scope or
    unknown, so that the caller can answer with an empty list."""
    region = Region.objects.filter(code=code).first()
    if region is None or not region_in_scope(user, region):
        return None
    if region.level == RegionLevel.CITY:
        return Q()
    if region.level == RegionLevel.DISTRICT:
        return Q(district_id=region.pk)
    if region.level == RegionLevel.TOWN:
        return Q(town_id=region.pk)
    return Q(region_id=region.pk)


def search_q(text: str) -> Q:
    number = normalise(text)
    if len(number) == 18 and is_valid(number):
        return Q(id_number_index=derive.id_number_index(number))
    text = text.strip()
    key = "".join(text.lower().split())
    q = Q(name__icontains=text)
    if key.isascii() and key:
        q |= Q(name_pinyin__contains=key)
    return q


def child_list(
    *, user: Any, filters: ChildFilters | Mapping[str, Any] | None = None, today: datetime.date | None = None
) -> QuerySet[ChildWithPairing]:
    if filters is None:
        filters = ChildFilters()
    elif not isinstance(filters, ChildFilters):
        filters = ChildFilters.from_mapping(filters)
    today = today or timezone.localdate()
    qs = children_visible_to(user)
    if filters.region:
        region_q = region_filter_q(user, filters.region)
        if region_q is None:
            return qs.none()
        qs = qs.filter(region_q)
    if filters.category in CATEGORY_FIELDS:
        qs = qs.filter(**{CATEGORY_FIELDS[filters.category]: True})
    if filters.tier in CareTier.values:
        qs = qs.filter(care_tier=filters.tier)
    if filters.status in ChildStatus.values:
        qs = qs.filter(status=filters.status)
    band_q = age_band_q(filters.age_band, today=today)
    if band_q is not None:
        qs = qs.filter(band_q)
    if filters.q.strip():
        qs = qs.filter(search_q(filters.q))
    qs = with_pairing_columns(qs)
    if filters.paired == "yes":
        qs = qs.filter(is_paired=True)
    elif filters.paired == "no":
        qs = qs.filter(is_paired=False)
    if filters.inactive_days in INACTIVITY_DAYS:
        cutoff = today - datetime.timedelta(days=filters.inactive_days)
        qs = qs.filter(is_paired=True, contact_basis__lte=cutoff)
    return qs.select_related("region", "town", "district").order_by(
        "district_id", "town_id", "region_id", "name_pinyin", "id"
    )


def inactivity_days(child: Any, *, today: datetime.date) -> int | None:
    """Days since the last contact (or the pairing's start) for a paired child, else None."""
    basis: datetime.date | None = getattr(child, "contact_basis", None)
    if not getattr(child, "is_paired", False) or basis is None:
        return None
    return (today - basis).days


def categories_of(child: Child) -> list[str]:
    return [CATEGORY_LABELS[key] for key, name in CATEGORY_FIELDS.items() if getattr(child, name)]


def difficulties_of(child: Child) -> list[str]:
    return [label for name, label in DIFFICULTY_LABELS.items() if getattr(child, name)]


def risks_of(child: Child) -> list[str]:
    return [label for name, label in RISK_LABELS.items() if getattr(child, name)]


def needs_of(child: Child) -> list[str]:
    """What a loving mother needs to know: difficulties, then categories."""
    return difficulties_of(child) + categories_of(child)


def age_of(child: Child, *, today: datetime.date | None = None) -> int:
    return age_on(child.birth_date, today or timezone.localdate())


def owns_child(user: Any, child: Child) -> bool:
    """Whether `user` is responsible for the child's case (R-12.5), for a child already in the
    user's scope. Staff who do not own the case give a reason before the full file shows.

    - a village director owns the children of their village;
    - a town supervisor the children of their town;
    - a district admin the children of their district;
    - a city admin owns none (they supervise: every full file needs a reason);
    - a loving mother and a task-force member see only the children assigned to them (an open
      pairing, a task force), so those are theirs;
    - any other role owns none.
    """
    role = getattr(user, "role", None)
    if role == Role.VILLAGE_DIRECTOR:
        return bool(child.region_id == user.region_id)
    if role == Role.TOWN_SUPERVISOR:
        return bool(child.town_id == user.region_id)
    if role == Role.DISTRICT_ADMIN:
        return bool(child.district_id == user.region_id)
    return role in (Role.VOLUNTEER, Role.TASKFORCE_MEMBER)


def child_file(*, user: Any, child: Child) -> dict[str, Any]:
    """The related rows of a child's file, each read through the scoping selectors."""
    from aixin.accounts.access import care_records_visible_to, pairings_visible_to
    from aixin.pairing.models import PairingStatus

    pairings = list(
        pairings_visible_to(user)
        .filter(child=child)
        .select_related("volunteer")
        .order_by("-created_at", "-id")
    )
    active = next((p for p in pairings if p.status == PairingStatus.ACTIVE), None)
    records = list(
        care_records_visible_to(user)
        .filter(child=child)
        .select_related("volunteer")
        .order_by("-date", "-id")[:20]
    )
    return {
        "guardians": list(child.guardians.all()),
        "conditions": list(child.parent_conditions.all()),
        "pairings": pairings,
        "active_pairing": active,
        "care_records": records,
        "changes": list(child.changes.select_related("changed_by")[:100]),
    }
