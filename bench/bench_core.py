"""Core-loop benchmark on PostgreSQL: a city-sized data set, then the pages officials and loving
mothers open most, timed in-process with Django's test Client.

    python bench/bench_core.py                 # create aixin_bench, migrate, load, measure
    python bench/bench_core.py --reuse         # measure again on the loaded database
    python bench/bench_core.py --fresh         # drop aixin_bench and load from scratch

It uses its own database (default `aixin_bench` on postgres@127.0.0.1:5432) and refuses the
`test` database. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Core loop"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--children", type=int, default=100_000)
    p.add_argument("--volunteers", type=int, default=30_000)
    p.add_argument("--months", type=int, default=12)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--runs", type=int, default=15, help="timed runs per measurement (after 2 warm-ups)")
    p.add_argument("--db", default="aixin_bench", help="PostgreSQL database name (never `test`)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--user", default="postgres")
    p.add_argument("--reuse", action="store_true", help="skip loading when the database is already filled")
    p.add_argument("--fresh", action="store_true", help="drop and recreate the benchmark database first")
    p.add_argument("--write-docs", action="store_true", help=f"write the results into {DOC.name} '{SECTION}'")
    return p.parse_args(argv)


def prepare_database(args: argparse.Namespace) -> None:
    if args.db in ("test", "postgres", "template0", "template1"):
        sys.exit(f"refusing to use the database {args.db!r}: give the benchmark a database of its own")
    base = ["-h", args.host, "-U", args.user]
    if args.fresh:
        subprocess.run(["dropdb", *base, "--if-exists", args.db], check=True)
    made = subprocess.run(["createdb", *base, args.db], capture_output=True, text=True)
    if made.returncode != 0 and "already exists" not in made.stderr:
        sys.exit(f"createdb failed: {made.stderr.strip()}")
    os.environ["DATABASE_URL"] = f"postgres://{args.user}@{args.host}:5432/{args.db}"
    os.environ.pop("AIXIN_TEST_DB_NAME", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aixin.settings")


def timed(func: Callable[[], Any], *, runs: int, warmups: int = 2) -> tuple[float, float, list[float]]:
    for _ in range(warmups):
        func()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func()
        samples.append((time.perf_counter() - t0) * 1000)
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95, samples


def load(args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection

    from aixin.demo.seed import SeedOptions, seed_demo

    t0 = time.monotonic()
    summary = seed_demo(
        SeedOptions(
            ledger=False,  # keep the counts comparable with earlier runs
            children=args.children,
            volunteers=args.volunteers,
            months=args.months,
            seed=args.seed,
            towns_per_district=(25, 30),
            villages_per_town=(10, 12),
            pair_share=0.85,
        ),
        log=lambda msg: print(f"[{time.monotonic() - t0:6.0f}s] {msg}", flush=True),
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    for line in summary.lines():
        print("  " + line)
    return {"seconds": time.monotonic() - t0}


def counts() -> dict[str, int]:
    from aixin.care.models import CareRecord
    from aixin.pairing.models import Pairing
    from aixin.regions.models import Region
    from aixin.registry.models import Child
    from aixin.volunteers.models import Volunteer

    return {
        "regions": Region.objects.count(),
        "children": Child.objects.count(),
        "volunteers": Volunteer.objects.count(),
        "active_pairings": Pairing.objects.filter(status="active").count(),
        "care_records": CareRecord.objects.count(),
    }


def measure(runs: int) -> list[tuple[str, float, float, str]]:
    from django.test import Client
    from django.urls import reverse

    from aixin.accounts.access import pairings_visible_to
    from aixin.accounts.models import User
    from aixin.care import selectors
    from aixin.pairing.models import Pairing

    today = datetime.date.today()
    city = User.objects.get(username="city")
    district = User.objects.get(username="youyang")
    mama = User.objects.get(username="mama")
    pairing = Pairing.objects.filter(volunteer__user=mama, status="active").order_by("pk").first()
    last_month_end = today.replace(day=1) - datetime.timedelta(days=1)
    last_month_start = last_month_end.replace(day=1)

    def page(user: Any, url: str) -> Callable[[], Any]:
        client = Client()
        client.force_login(user)

        def get() -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url} as {user.username}: HTTP {response.status_code}")
            return response

        return get

    cases: list[tuple[str, Callable[[], Any], str]] = [
        ("City dashboard `GET /dashboard/` (city_admin)", page(city, reverse("dashboard:overview")), "city"),
        (
            "District dashboard `GET /dashboard/?region=500242` (district_admin, 酉阳)",
            page(district, reverse("dashboard:overview") + "?region=" + district.region.code),
            "youyang",
        ),
        (
            "`current_compliance` — district (酉阳)",
            lambda: selectors.current_compliance(pairings_visible_to(district), today=today),
            "youyang",
        ),
        (
            "`current_compliance` — city",
            lambda: selectors.current_compliance(pairings_visible_to(city), today=today),
            "city",
        ),
        (
            f"`compliance_for_period` — city, last month ({last_month_start:%Y-%m})",
            lambda: selectors.compliance_for_period(
                pairings_visible_to(city), start=last_month_start, end=last_month_end
            ),
            "city",
        ),
        (
            "Mother's children `GET " + reverse("care:my_children") + "` (volunteer)",
            page(mama, reverse("care:my_children")),
            "mama",
        ),
    ]
    if pairing is not None:
        url = reverse("care:checklist", args=[pairing.pk])
        cases.append((f"Mother's checklist `GET {url}` (volunteer)", page(mama, url), "mama"))
    results = []
    for label, func, who in cases:
        try:
            median, p95, _ = timed(func, runs=runs)
        except Exception as exc:  # report what could not be measured and go on
            print(f"  ! {label}: {exc}", file=sys.stderr)
            results.append((label, float("nan"), float("nan"), who))
            continue
        results.append((label, median, p95, who))
        print(f"  {label}: median {median:.0f} ms, p95 {p95:.0f} ms", flush=True)
    return results


def markdown(results: list[tuple[str, float, float, str]], runs: int) -> str:
    lines = [
        f"| Measurement ({runs} runs after 2 warm-ups) | Median | p95 | Target < 500 ms |",
        "| --- | ---: | ---: | --- |",
    ]
    for label, median, p95, _who in results:
        if median != median:  # NaN: not measurable
            lines.append(f"| {label} | — | — | not measured |")
        else:
            lines.append(
                f"| {label} | {median:.0f} ms | {p95:.0f} ms | {'yes' if median < 500 else '**no**'} |"
            )
    return "\n".join(lines)


def write_docs(
    args: argparse.Namespace, table: str, data: dict[str, int], load_info: dict[str, Any] | None
) -> None:
    loaded = f"{load_info['seconds'] / 60:.1f} min" if load_info else "reused an already loaded database"
    body = f"""{SECTION}

Reproduce (PostgreSQL on 127.0.0.1, database `{args.db}`, never `test`):

```
. .venv/bin/activate
python bench/bench_core.py --fresh --write-docs      # create, migrate, load, measure
python bench/bench_core.py --reuse --write-docs      # measure again on the loaded data
```

Data: {data["children"]:,} children, {data["volunteers"]:,} loving mothers, {data["active_pairings"]:,} active
pairings, {data["care_records"]:,} care records over {args.months} months, {data["regions"]:,} regions
(39 district-level units, 25–30 towns each, 10–12 villages per town). Loading: {loaded}.

Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()},
{_pg_version()}.
Load average when measured: {os.getloadavg()[0]:.1f} (other work on the machine inflates the timings).
Date: {datetime.date.today().isoformat()}. In-process timings with Django's test Client (force_login), so
they include view, template and query time but not the network or gunicorn.

{table}
"""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip() + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    print(f"wrote {DOC}")


def _pg_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return "PostgreSQL " + cursor.fetchone()[0].split()[0]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    prepare_database(args)
    import django

    django.setup()
    from django.core.management import call_command

    from aixin.registry.models import Child

    call_command("migrate", verbosity=0)
    load_info = None
    if Child.objects.exists():
        if not args.reuse:
            sys.exit(f"database {args.db} already has data: pass --reuse to measure it or --fresh to reload")
        print(f"reusing the data in {args.db}")
    else:
        load_info = load(args)
        print(f"loaded in {load_info['seconds'] / 60:.1f} min")
    data = counts()
    print(data)
    results = measure(args.runs)
    table = markdown(results, args.runs)
    print()
    print(table)
    if args.write_docs:
        write_docs(args, table, data, load_info)


if __name__ == "__main__":
    main()
