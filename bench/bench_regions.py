"""Benchmark of the region tree's scope queries with a city-sized tree (~12,000 villages).

Builds the built-in districts plus demo towns and villages in the CONFIGURED database (it runs
`migrate` first and only ever adds rows), then times, median of 20 runs:

- `Region.objects.subtree(district).count()` for one district;
- `regions_visible_to(town_user).count()` for a town supervisor;
- the `regions:region_list` page for a district admin, and the city admin's drill into a district,
  through Django's test Client (full middleware, template rendering);
- `GET /api/v1/regions` for a district admin.

Reproduce on PostgreSQL with a database of its own (never the shared `test` database):

    createdb -h 127.0.0.1 -U postgres aixin_bench_regions
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/aixin_bench_regions python bench/bench_regions.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixin.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from aixin.accounts.access import regions_visible_to  # noqa: E402
from aixin.accounts.models import Role, User  # noqa: E402
from aixin.regions.demo import generate_demo_regions  # noqa: E402
from aixin.regions.models import Region, RegionLevel  # noqa: E402
from aixin.regions.services import regions_load_builtin  # noqa: E402

RUNS = 20
SEED = 2026


def timed(func: Callable[[], Any]) -> tuple[float, int]:
    """Median milliseconds over RUNS (after one warm-up), and the queries of one run."""
    func()
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    with CaptureQueriesContext(connection) as queries:
        func()
    return statistics.median(samples), len(queries)


def user(username: str, role: str, region: Region) -> User:
    found, _ = User.objects.get_or_create(username=username, defaults={"role": role, "region": region})
    return found


def main() -> None:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("postgresql") and db["NAME"] == "test":
        sys.exit("拒绝在共享的 test 数据库上运行：请 createdb 一个单独的数据库，例如 aixin_bench_regions")
    call_command("migrate", verbosity=0)
    regions_load_builtin()
    start = time.perf_counter()
    created = generate_demo_regions(seed=SEED, towns_per_district=(25, 30), villages_per_town=(10, 12))
    build_s = time.perf_counter() - start

    district = Region.objects.get(code="500101")
    town = Region.objects.filter(parent=district).order_by("code").first()
    assert town is not None
    city = Region.objects.get(code="500000")
    district_user = user("bench_district", Role.DISTRICT_ADMIN, district)
    town_user = user("bench_town", Role.TOWN_SUPERVISOR, town)
    city_user = user("bench_city", Role.CITY_ADMIN, city)

    district_client = Client()
    district_client.force_login(district_user)
    city_client = Client()
    city_client.force_login(city_user)
    page = reverse("regions:region_list")

    def get(client: Client, url: str, **params: str) -> None:
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code

    counts = {
        "towns": Region.objects.filter(level=RegionLevel.TOWN).count(),
        "villages": Region.objects.filter(level=RegionLevel.VILLAGE).count(),
        "district subtree": Region.objects.subtree(district).count(),
    }
    cases = [
        ("Region.objects.subtree(500101).count()", lambda: Region.objects.subtree(district).count()),
        ("regions_visible_to(town_supervisor).count()", lambda: regions_visible_to(town_user).count()),
        ("region_list page, district admin", lambda: get(district_client, page)),
        ("region_list page, city admin ?code=500101", lambda: get(city_client, page, code="500101")),
        ("region_list page, city admin (39+2 units)", lambda: get(city_client, page)),
        ("GET /api/v1/regions, district admin", lambda: get(district_client, "/api/v1/regions")),
    ]
    vendor = connection.vendor
    print(f"数据库: {vendor} {db['NAME']}; 本次新建区划 {created} 个，用时 {build_s:.2f} s")
    print(f"乡镇 {counts['towns']}，村社区 {counts['villages']}，万州区子树 {counts['district subtree']} 个")
    print()
    print(f"| {'operation':<46} | median ms | queries |")
    print(f"|{'-' * 48}|-----------|---------|")
    for label, func in cases:
        ms, queries = timed(func)
        print(f"| {label:<46} | {ms:9.2f} | {queries:7d} |")
    print()
    print("复现: createdb -h 127.0.0.1 -U postgres aixin_bench_regions && \\")
    print("  DATABASE_URL=postgres://postgres@127.0.0.1:5432/aixin_bench_regions \\")
    print("  python bench/bench_regions.py")


if __name__ == "__main__":
    main()
