"""Reads of the region tree for a user (R-2, R-1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, F, QuerySet
from django.http import Http404

from aixin.accounts.access import children_visible_to, regions_visible_to, volunteers_visible_to
from aixin.regions.models import Region, RegionLevel

if TYPE_CHECKING:
    from aixin.accounts.models import User

# The column on children / loving mothers that holds their ancestor at each level.
_CHILD_FIELD = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "region_id",
}
_VOLUNTEER_FIELD = {
    RegionLevel.DISTRICT: "district_id",
    RegionLevel.TOWN: "town_id",
    RegionLevel.VILLAGE: "home_region_id",
}


@dataclass
class RegionRow:
    region: Region
    children: int
    mothers: int


def region_home_for_user(user: User) -> Region:
    """Where the user's browsing of the tree starts: the region they are placed at."""
    return Region.objects.select_related("parent").get(pk=user.region_id)


def region_get_for_user(user: User, code: str | None) -> Region:
    """The region `code` if it is within the user's scope, else 404 (never 403)."""
    if not code:
        return region_home_for_user(user)
    visible = regions_visible_to(user).select_related("parent", "successor", "host")
    region: Region | None = visible.filter(code=code).first()
    if region is None:
        raise Http404("区划不存在或不在你的管辖范围内")
    return region


def region_children(region: Region) -> QuerySet[Region]:
    return region.children.select_related("successor", "host").order_by(
        F("valid_to").desc(nulls_first=True), "sort_order", "code"
    )


def region_ancestors_for_user(user: User, region: Region) -> list[Region]:
    """The path from the user's own region down to `region` (for the breadcrumb)."""
    codes = [c for c in region.path.strip("/").split("/") if c]
    found = regions_visible_to(user).filter(code__in=codes).in_bulk(field_name="code")
    return [found[c] for c in codes if c in found]


def region_rows_for_user(user: User, region: Region) -> list[RegionRow]:
    """The sub-regions of `region` with counts of active children and serving loving mothers in
    each, counted with one grouped query per model over the user's scoped records."""
    from aixin.registry.models import ChildStatus
    from aixin.volunteers.models import VolunteerStatus

    subs = list(region_children(region))
    level = region.level + 1
    if not subs or level not in _CHILD_FIELD:
        return [RegionRow(r, 0, 0) for r in subs]
    child_field = _CHILD_FIELD[RegionLevel(level)]
    mother_field = _VOLUNTEER_FIELD[RegionLevel(level)]
    ids = [r.pk for r in subs]
    children = dict(
        children_visible_to(user)
        .filter(status=ChildStatus.ACTIVE, **{f"{child_field}__in": ids})
        .order_by()
        .values_list(child_field)
        .annotate(n=Count("id"))
    )
    mothers = dict(
        volunteers_visible_to(user)
        .filter(status=VolunteerStatus.ACTIVE, **{f"{mother_field}__in": ids})
        .order_by()
        .values_list(mother_field)
        .annotate(n=Count("id"))
    )
    return [RegionRow(r, children.get(r.pk, 0), mothers.get(r.pk, 0)) for r in subs]


def region_children_for_api(user: User, parent_code: str | None) -> QuerySet[Region]:
    parent = region_get_for_user(user, parent_code)
    return region_children(parent).select_related("parent")
