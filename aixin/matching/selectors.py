"""Reads of matching results for other pages: the recruitment gaps of the latest runs (the
dashboard's hot-spot view, issue 4 §5). Aggregates per town, no personal data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max

from aixin.matching.models import MatchRun, RunStatus
from aixin.regions.models import Region, RegionLevel


@dataclass(frozen=True)
class Gap:
    town_code: str
    town_name: str
    district_name: str
    unmatched: int
    must_cover_unmatched: int
    mothers_needed: int
    missing: dict[str, int] = field(default_factory=dict)  # specialty need → children lacking it
    run_id: int = 0


def recruitment_gaps(region: Region, *, limit: int = 10) -> list[Gap]:
    """The towns of `region` where the latest finished run of their district left children
    without a mother, must-cover children first. The caller decides that the region is the
    user's to see (the dashboard only offers regions in scope)."""
    districts = Region.objects.filter(level=RegionLevel.DISTRICT)
    if region.level == RegionLevel.DISTRICT:
        districts = districts.filter(pk=region.pk)
    elif region.level in (RegionLevel.TOWN, RegionLevel.VILLAGE) and region.district_id is not None:
        districts = districts.filter(pk=region.district_id)
    elif region.level != RegionLevel.CITY:
        return []
    latest = (
        MatchRun.objects.filter(district__in=districts, status=RunStatus.DONE)
        .values("district_id")
        .annotate(last=Max("pk"))
        .values_list("last", flat=True)
    )
    runs = MatchRun.objects.filter(pk__in=list(latest)).select_related("district")
    town_filter: set[int] | None = None
    if region.level == RegionLevel.TOWN:
        town_filter = {region.pk}
    elif region.level == RegionLevel.VILLAGE and region.town_id:
        town_filter = {region.town_id}
    rows: list[tuple[MatchRun, dict[str, Any]]] = [
        (run, gap)
        for run in runs
        for gap in run.report.get("recruitment_gaps", [])
        if town_filter is None or gap.get("town") in town_filter
    ]
    codes = dict(Region.objects.filter(pk__in=[g["town"] for _r, g in rows]).values_list("pk", "code"))
    gaps = [
        Gap(
            town_code=codes.get(g["town"], ""),
            town_name=g.get("town_name", ""),
            district_name=run.district.name,
            unmatched=int(g.get("unmatched", 0)),
            must_cover_unmatched=int(g.get("must_cover_unmatched", 0)),
            mothers_needed=int(g.get("mothers_needed", 0)),
            missing=dict(g.get("missing", {})),
            run_id=run.pk,
        )
        for run, g in rows
    ]
    gaps.sort(key=lambda g: (-g.must_cover_unmatched, -g.unmatched, g.town_code))
    return gaps[:limit]
