from __future__ import annotations

from django.db.models import Count

from aixin.regions.demo import generate_demo_regions
from aixin.regions.models import Region, RegionLevel


def _snapshot() -> list[tuple[str, str, str]]:
    return list(Region.objects.filter(level__gte=3).order_by("code").values_list("code", "name", "path"))


def test_demo_regions_fill_every_current_district_level_unit(db):
    created = generate_demo_regions(seed=3, towns_per_district=(2, 3), villages_per_town=(2, 3))
    towns = Region.objects.filter(level=RegionLevel.TOWN)
    villages = Region.objects.filter(level=RegionLevel.VILLAGE)
    assert created == towns.count() + villages.count()
    per_district = dict(towns.values_list("district__code").annotate(n=Count("id")))
    assert len(per_district) == 39
    assert "500105" not in per_district and "500112" not in per_district
    assert all(2 <= n <= 3 for n in per_district.values())
    village = villages.select_related("town", "district").first()
    assert len(village.code) == 12 or village.code.startswith("CQ-")
    assert village.path == f"{village.town.path}{village.code}/"
    assert 28.1 <= village.latitude <= 32.2 and 105.3 <= village.longitude <= 110.2
    assert village.name.endswith(("村", "社区"))


def test_demo_regions_are_deterministic_and_idempotent(db):
    generate_demo_regions(seed=11, towns_per_district=(2, 4), villages_per_town=(2, 4))
    first = _snapshot()
    assert generate_demo_regions(seed=11, towns_per_district=(2, 4), villages_per_town=(2, 4)) == 0
    assert _snapshot() == first


def test_demo_names_are_unique_within_their_parent(db):
    generate_demo_regions(seed=5, towns_per_district=(10, 12), villages_per_town=(10, 12))
    dupes = Region.objects.values("parent_id", "name").annotate(n=Count("id")).filter(n__gt=1)
    assert list(dupes) == []


def test_wansheng_zone_has_its_real_streets_and_towns(db):
    generate_demo_regions(seed=1, towns_per_district=(10, 10), villages_per_town=(1, 1))
    names = set(Region.objects.filter(parent__code="CQ-WSJK").values_list("name", flat=True))
    assert {"万盛街道", "东林街道", "南桐镇", "黑山镇"} <= names


def test_town_codes_follow_the_street_town_township_ranges(db):
    generate_demo_regions(seed=2, towns_per_district=(12, 12), villages_per_town=(1, 1))
    for code, kind in Region.objects.filter(level=RegionLevel.TOWN, code__regex=r"^\d{9}$").values_list(
        "code", "kind"
    ):
        serial = int(code[6:])
        assert {"街道": range(1, 100), "镇": range(100, 200), "乡": range(200, 400)}[kind].count(serial) == 1
