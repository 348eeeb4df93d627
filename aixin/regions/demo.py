"""Demo towns and villages under Chongqing's district-level units (R-2.4).

The real city has about 1,030 towns and 11,000 villages; their official list is loaded with
`aixin load-regions FILE`. For demos and benchmarks this module invents a plausible tree:
9-digit town codes (district code + 001–099 街道 / 100–199 镇 / 200–399 乡), 12-digit village
codes (town code + 001–199 社区 / 200–399 村), Chinese names unique within their parent and
approximate coordinates jittered around each district's centroid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.db import transaction

from aixin.regions.models import Region, RegionLevel
from aixin.regions.tree import stamp

# Approximate centroids (latitude, longitude) of the district-level units.
CENTROIDS: dict[str, tuple[float, float]] = {
    "500000": (29.56, 106.55),
    "500101": (30.81, 108.41),
    "500102": (29.70, 107.39),
    "500103": (29.55, 106.57),
    "500104": (29.48, 106.48),
    "500105": (29.61, 106.57),
    "500106": (29.54, 106.46),
    "500107": (29.50, 106.51),
    "500108": (29.52, 106.64),
    "500109": (29.83, 106.40),
    "500110": (29.03, 106.65),
    "500111": (29.70, 105.72),
    "500112": (29.72, 106.63),
    "500113": (29.40, 106.54),
    "500114": (29.53, 108.77),
    "500115": (29.86, 107.08),
    "500116": (29.29, 106.26),
    "500117": (29.97, 106.28),
    "500118": (29.35, 105.93),
    "500119": (29.16, 107.10),
    "500120": (29.59, 106.23),
    "500151": (29.84, 106.06),
    "500152": (30.19, 105.84),
    "500153": (29.40, 105.59),
    "500154": (31.16, 108.39),
    "500155": (30.67, 107.80),
    "500156": (29.33, 107.76),
    "500157": (29.72, 106.62),
    "500229": (31.95, 108.66),
    "500230": (29.86, 107.73),
    "500231": (30.33, 107.35),
    "500233": (30.30, 108.04),
    "500235": (30.93, 108.70),
    "500236": (31.02, 109.46),
    "500237": (31.07, 109.88),
    "500238": (31.40, 109.63),
    "500240": (29.99, 108.11),
    "500241": (28.45, 108.99),
    "500242": (28.84, 108.77),
    "500243": (29.29, 108.17),
    "CQ-GXQ": (29.60, 106.30),
    "CQ-WSJK": (28.96, 106.92),
}
LAT_RANGE = (28.15, 32.15)
LON_RANGE = (105.35, 110.15)

# Syllables that make common place names: 龙泉、石桥、新华、白马、青龙……
_FIRST = "龙石新白青金太永三双长大小高黄红桂花柏松梅兰安福华平清凤马鹤玉宝云天东南西北中和兴"
_SECOND = "泉桥华马龙溪河山坪坝塘林湾沟口岩池田兴安丰和乐寿阳江滩坡岭场庙寺井峰"

# 万盛经开区's towns and streets (domain-facts §5); they carry 綦江区 codes in the national list,
# the demo gives them namespaced codes so they never collide with generated 綦江区 towns.
_WSJK_TOWNS = (
    "万盛街道",
    "东林街道",
    "万东镇",
    "南桐镇",
    "青年镇",
    "关坝镇",
    "丛林镇",
    "石林镇",
    "金桥镇",
    "黑山镇",
)

# Share of streets (街道) among towns: central districts are mostly urban.
_URBAN = {"500103", "500104", "500106", "500107", "500108", "500157", "CQ-GXQ"}


@dataclass
class _Plan:
    towns: list[Region]
    villages: list[tuple[str, Region]]  # (town code, village)


def _names(rng: random.Random, count: int) -> list[str]:
    pool = [a + b for a in _FIRST for b in _SECOND if a != b]
    return rng.sample(pool, count)


def _jitter(rng: random.Random, centre: tuple[float, float], spread: float) -> tuple[float, float]:
    lat = min(max(centre[0] + rng.uniform(-spread, spread), LAT_RANGE[0]), LAT_RANGE[1])
    lon = min(max(centre[1] + rng.uniform(-spread, spread), LON_RANGE[0]), LON_RANGE[1])
    return round(lat, 5), round(lon, 5)


def _town_kinds(rng: random.Random, district_code: str, n: int) -> list[str]:
    share = 0.8 if district_code in _URBAN else 0.25
    streets = max(1, round(n * share * rng.uniform(0.8, 1.2)))
    streets = min(streets, n)
    towns = n - streets
    xiang = round(towns * (0.1 if district_code in _URBAN else 0.25))
    return ["街道"] * streets + ["镇"] * (towns - xiang) + ["乡"] * xiang


def _plan_district(
    rng: random.Random,
    district: Region,
    towns_per_district: tuple[int, int],
    villages_per_town: tuple[int, int],
) -> _Plan:
    plan = _Plan(towns=[], villages=[])
    n_towns = rng.randint(*towns_per_district)
    kinds = _town_kinds(rng, district.code, n_towns)
    names = _names(rng, n_towns)
    if district.code == "CQ-WSJK":
        real = [(n[:-2], "街道") if n.endswith("街道") else (n[:-1], "镇") for n in _WSJK_TOWNS][:n_towns]
        stems = {stem for stem, _ in real}
        names = [stem for stem, _ in real] + [n for n in names if n not in stems][: n_towns - len(real)]
        kinds = [kind for _, kind in real] + kinds[len(real) :]
    serial = {"街道": 1, "镇": 100, "乡": 200}
    centre = CENTROIDS.get(district.code) or CENTROIDS["500000"]
    if district.code not in CENTROIDS and district.latitude and district.longitude:
        centre = (district.latitude, district.longitude)
    for kind, stem in zip(kinds, names, strict=True):
        code = f"{district.code}{serial[kind]:03d}"
        serial[kind] += 1
        lat, lon = _jitter(rng, centre, 0.18)
        town = Region(
            code=code,
            name=stem + kind,
            level=RegionLevel.TOWN,
            kind=kind,
            parent=district,
            latitude=lat,
            longitude=lon,
        )
        plan.towns.append(town)
        n_villages = rng.randint(*villages_per_town)
        community_share = 0.7 if kind == "街道" else 0.15
        v_names = _names(rng, n_villages)
        v_serial = {"社区": 1, "村": 200}
        for v_stem in v_names:
            v_kind = "社区" if rng.random() < community_share else "村"
            v_code = f"{code}{v_serial[v_kind]:03d}"
            v_serial[v_kind] += 1
            v_lat, v_lon = _jitter(rng, (lat, lon), 0.04)
            plan.villages.append(
                (
                    code,
                    Region(
                        code=v_code,
                        name=v_stem + v_kind,
                        level=RegionLevel.VILLAGE,
                        kind="社区" if v_kind == "社区" else "村委会",
                        latitude=v_lat,
                        longitude=v_lon,
                    ),
                )
            )
    return plan


@transaction.atomic
def generate_demo_regions(
    *,
    seed: int,
    towns_per_district: tuple[int, int] = (6, 12),
    villages_per_town: tuple[int, int] = (5, 12),
) -> int:
    """Create demo towns and villages under every current district-level unit; return how many
    regions were created. Deterministic for a seed; codes that already exist are skipped, so a
    second call with the same seed creates nothing. Loads the built-in districts if none exist."""
    if not 1 <= towns_per_district[0] <= towns_per_district[1] <= 99:
        raise ValueError("towns_per_district must be within 1..99")
    if not 1 <= villages_per_town[0] <= villages_per_town[1] <= 199:
        raise ValueError("villages_per_town must be within 1..199")
    if not Region.objects.filter(level=RegionLevel.DISTRICT).exists():
        from aixin.regions.services import regions_load_builtin

        regions_load_builtin()
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    districts = list(Region.objects.filter(level=RegionLevel.DISTRICT).current().order_by("code"))
    below = Region.objects.filter(level__in=[RegionLevel.TOWN, RegionLevel.VILLAGE])
    existing = set(below.values_list("code", flat=True))
    new_towns: list[Region] = []
    new_villages: list[tuple[str, Region]] = []
    districts_to_place: list[Region] = []
    for district in districts:
        plan = _plan_district(rng, district, towns_per_district, villages_per_town)
        for town in plan.towns:
            if town.code not in existing:
                stamp(town)
                new_towns.append(town)
        new_villages.extend((t, v) for t, v in plan.villages if v.code not in existing)
        if district.latitude is None and district.code in CENTROIDS:
            district.latitude, district.longitude = CENTROIDS[district.code]
            districts_to_place.append(district)
    if districts_to_place:
        Region.objects.bulk_update(districts_to_place, ["latitude", "longitude"])
    Region.objects.bulk_create(new_towns, batch_size=1000)
    towns = {t.code: t for t in new_towns}
    missing = {code for code, _ in new_villages if code not in towns or towns[code].pk is None}
    if missing:
        towns.update(
            Region.objects.filter(code__in=missing).select_related("district").in_bulk(field_name="code")
        )
    villages = []
    for town_code, village in new_villages:
        village.parent = towns[town_code]
        stamp(village)
        villages.append(village)
    Region.objects.bulk_create(villages, batch_size=2000)
    return len(new_towns) + len(villages)
