"""Reads for loving mothers: the scoped, filtered list and the electronic file (电子档案)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet, TextField
from django.db.models.functions import Cast

from aixin.accounts.access import regions_visible_to, volunteers_visible_to
from aixin.regions.models import RegionQuerySet
from aixin.volunteers.models import SourceGroup, Specialty, Volunteer, VolunteerStatus


@dataclass(frozen=True)
class VolunteerFilters:
    region: str = ""  # region code
    status: str = ""
    source_group: str = ""
    specialty: str = ""
    has_capacity: bool = False
    q: str = ""

    @classmethod
    def from_query(cls, params: Any) -> VolunteerFilters:
        return cls(
            region=(params.get("region") or "").strip(),
            status=(params.get("status") or "").strip(),
            source_group=(params.get("source_group") or "").strip(),
            specialty=(params.get("specialty") or "").strip(),
            has_capacity=str(params.get("has_capacity") or "").lower() in ("1", "on", "true", "yes"),
            q=(params.get("q") or "").strip(),
        )


def volunteer_list(user: Any, filters: VolunteerFilters | None = None) -> QuerySet[Volunteer]:
    filters = filters or VolunteerFilters()
    qs = volunteers_visible_to(user).select_related("home_region", "town", "district")
    if filters.region:
        region = regions_visible_to(user).filter(code=filters.region).first()
        # An unknown or out-of-scope region matches nothing rather than everything.
        qs = qs.filter(home_region__path__startswith=region.path) if region else qs.none()
    if filters.status in VolunteerStatus.values:
        qs = qs.filter(status=filters.status)
    if filters.source_group in SourceGroup.values:
        qs = qs.filter(source_group=filters.source_group)
    if filters.specialty in Specialty.values:
        # JSON containment is not portable to SQLite; the stored list is plain text with quotes.
        qs = qs.annotate(specialties_text=Cast("specialties", TextField())).filter(
            specialties_text__contains=f'"{filters.specialty}"'
        )
    if filters.has_capacity:
        qs = qs.filter(load__lt=F("capacity"))
    q = filters.q.lower()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(name_pinyin__contains=q.replace(" ", "")))
    return qs


def region_choices_for(user: Any, *, levels: tuple[int, ...]) -> RegionQuerySet:
    return regions_visible_to(user).filter(level__in=levels).current().order_by("path")
