"""Keeping the denormalised tree fields (path, district, town) consistent with `parent`."""

from __future__ import annotations

from aixin.regions.models import Region, RegionLevel


def stamp(region: Region) -> None:
    """Set path, district and town of an unsaved or changed region from its parent."""
    parent = region.parent
    region.path = (parent.path if parent else "/") + region.code + "/"
    if region.level == RegionLevel.CITY or region.level == RegionLevel.DISTRICT:
        region.district = None
        region.town = None
    elif region.level == RegionLevel.TOWN:
        region.district = parent if parent and parent.level == RegionLevel.DISTRICT else None
        region.town = None
    else:
        region.town = parent
        region.district = parent.district if parent else None


def district_of(region: Region) -> Region | None:
    if region.level == RegionLevel.DISTRICT:
        return region
    return region.district


def create_region(*, code: str, name: str, level: int, parent: Region | None, **extra: object) -> Region:
    region = Region(code=code, name=name, level=level, parent=parent, **extra)
    stamp(region)
    region.save()
    return region
