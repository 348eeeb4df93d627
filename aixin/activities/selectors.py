"""Reads of group activities, always through `activities_visible_to`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils import timezone

from aixin.accounts.access import (
    activities_visible_to,
    children_visible_to,
    get_visible,
    regions_visible_to,
)
from aixin.accounts.models import Role
from aixin.lib.idnumber import IdNumberError, age_on, mask, normalise, parse
from aixin.regions.models import Region, RegionLevel
from aixin.regions.widgets import PICKER_THRESHOLD
from aixin.registry.derive import id_number_index


def activity_list(*, user: Any, kind: str = "", year: int | None = None) -> QuerySet[Any]:
    """Activities in the user's scope, newest first, each with its number of children."""
    activities: QuerySet[Any] = activities_visible_to(user).select_related("region", "district")
    if kind:
        activities = activities.filter(kind=kind)
    if year:
        activities = activities.filter(held_on__year=year)
    counted: QuerySet[Any] = activities.annotate(n_children=Count("participations"))
    return counted.order_by("-held_on", "-id")


# ---------------------------------------------------------------------------------------------
# The activity form: places, the children of a place, pasted participant lines.

MAX_PASTED_LINES = 500
_ID_IN_LINE = re.compile(r"\d{17}[\dX]")


@dataclass(frozen=True)
class PlaceGroup:
    """One town and its villages, for a select grouped by town."""

    town: Region
    label: str
    villages: list[Region]


def place_groups(*, user: Any) -> list[PlaceGroup]:
    """Towns and villages (current) in the user's scope, grouped by town, in tree order; empty
    when the scope is too large for one select (the form then uses the town → village picker)."""
    in_scope = regions_visible_to(user).current()
    if in_scope.filter(level=RegionLevel.VILLAGE).count() > PICKER_THRESHOLD:
        return []
    regions = (
        regions_visible_to(user)
        .current()
        .filter(level__in=(RegionLevel.TOWN, RegionLevel.VILLAGE))
        .select_related("district")
        .order_by("path")
    )
    groups: dict[int, PlaceGroup] = {}
    villages: list[Region] = []
    show_district = getattr(user, "role", None) == Role.CITY_ADMIN
    for region in regions:
        if region.level == RegionLevel.TOWN:
            label = (
                f"{region.district.name} · {region.name}"
                if show_district and region.district
                else region.name
            )
            groups[region.pk] = PlaceGroup(town=region, label=label, villages=[])
        else:
            villages.append(region)
    for village in villages:
        group = groups.get(village.town_id) if village.town_id else None
        if group is not None:
            group.villages.append(village)
    return list(groups.values())


def place_for_user(*, user: Any, pk: Any) -> Region | None:
    """The town or village `pk` if it is current and in the user's scope, else None."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return (
        regions_visible_to(user)
        .current()
        .filter(pk=pk, level__in=(RegionLevel.TOWN, RegionLevel.VILLAGE))
        .select_related("district", "town")
        .first()
    )


def _in_place(children: QuerySet[Any], place: Region) -> QuerySet[Any]:
    if place.level == RegionLevel.VILLAGE:
        return children.filter(region_id=place.pk)
    if place.level == RegionLevel.TOWN:
        return children.filter(town_id=place.pk)
    if place.level == RegionLevel.DISTRICT:
        return children.filter(district_id=place.pk)
    return children


def children_of_place(*, user: Any, place: Region | None, exclude_activity: Any = None) -> list[Any]:
    """Active children living in `place` that the user may see, by village then pinyin, each
    with `.age`; optionally without those already taking part in `exclude_activity`."""
    from aixin.registry.models import ChildStatus

    if place is None:
        return []
    children = _in_place(children_visible_to(user), place).filter(status=ChildStatus.ACTIVE)
    if exclude_activity is not None:
        children = children.exclude(participations__activity=exclude_activity)
    children = children.select_related("region").order_by("region__path", "name_pinyin", "pk")
    today = timezone.localdate()
    result = list(children)
    for child in result:
        child.age = age_on(child.birth_date, today)
    return result


@dataclass
class Resolution:
    child_ids: list[int]
    problems: list[str]


def resolve_participant_lines(*, user: Any, place: Region, text: str) -> Resolution:
    """Children named one per line: an ID number anywhere in the user's scope, or a name within
    `place`. Every line that does not name exactly one visible child becomes a problem in
    Chinese with its line number."""
    lines = [(n, line.strip().replace("\u3000", " ")) for n, line in enumerate((text or "").splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line]
    if len(lines) > MAX_PASTED_LINES:
        return Resolution([], [f"一次最多粘贴 {MAX_PASTED_LINES} 行，当前 {len(lines)} 行，请分批添加"])
    visible = children_visible_to(user)
    id_lines: dict[int, str] = {}
    name_lines: dict[int, str] = {}
    problems: dict[int, str] = {}
    for n, line in lines:
        if any(ch.isdigit() for ch in line):
            # An ID number, possibly with the name beside it ("张三 500101…").
            found_number = _ID_IN_LINE.search(normalise(line))
            number = found_number.group(0) if found_number else normalise(line)
            try:
                parse(number)
            except IdNumberError as exc:
                problems[n] = f"第{n}行“{line}”：{exc}"
                continue
            id_lines[n] = number
        else:
            name_lines[n] = " ".join(line.split())

    indexes: dict[int, str] = {}
    by_index: dict[str, int] = {}
    if id_lines:
        indexes = {n: id_number_index(number) for n, number in id_lines.items()}
        by_index = dict(
            visible.filter(id_number_index__in=set(indexes.values())).values_list("id_number_index", "pk")
        )
    by_name: dict[str, list[int]] = {}
    if name_lines:
        for name, pk in (
            _in_place(visible, place).filter(name__in=set(name_lines.values())).values_list("name", "pk")
        ):
            by_name.setdefault(name, []).append(pk)

    ids: list[int] = []
    for n, _line in lines:
        if n in problems:
            continue
        if n in id_lines:
            pk = by_index.get(indexes[n])
            if pk is None:
                problems[n] = f"第{n}行：身份证号 {mask(id_lines[n])} 的儿童不存在或不在你的管辖范围内"
            else:
                ids.append(pk)
            continue
        name = name_lines[n]
        found = by_name.get(name, [])
        if not found:
            problems[n] = f"第{n}行“{name}”：{place.name}没有登记这名儿童，请核对姓名；外地儿童请填写身份证号"
        elif len(found) > 1:
            problems[n] = f"第{n}行“{name}”：{place.name}有 {len(found)} 名同名儿童，请改填身份证号"
        else:
            ids.append(found[0])
    return Resolution(child_ids=ids, problems=[problems[n] for n in sorted(problems)])


def get_activity_for_user(user: Any, pk: Any) -> Any:
    """One activity in the user's scope, or 404."""
    return get_visible(activities_visible_to(user).select_related("region", "district", "created_by"), pk)


@dataclass
class Participants:
    shown: list[Any]
    hidden: int


def participants_of(*, user: Any, activity: Any) -> Participants:
    """The activity's children that the user may see (each with `.age`), and how many others."""
    total = activity.participations.count()
    children = list(
        children_visible_to(user)
        .filter(participations__activity=activity)
        .select_related("region", "town")
        .order_by("region__path", "name_pinyin", "pk")
    )
    today = timezone.localdate()
    for child in children:
        child.age = age_on(child.birth_date, today)
    return Participants(shown=children, hidden=total - len(children))
