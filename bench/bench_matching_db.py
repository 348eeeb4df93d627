"""Matching from the database to stored proposals (issue 4): children and loving mothers with
coordinates over the 39 district-level units are loaded into a database of its own, then the
real command `aixin match --all --json` runs in a process of its own — reading each district's
children and mothers, generating candidates, solving exactly, writing the proposals with their
reasons and alternatives and the run's report.

    python bench/bench_matching_db.py --sizes 100000:40000 1000000:400000 --write-docs
    python bench/bench_matching_db.py --sizes 10000:4000 --backend sqlite

Databases of its own: PostgreSQL `aixin_bench_match` (dropped and created), SQLite
`var/bench/match.sqlite3`. The people are written with COPY (not measured).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_import  # the database set-up and the measuring wrapper are shared

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "### Matching: the whole run, database to stored proposals"
SPECIALTIES = ("psychology", "tutoring", "medicine", "law", "family_education", "arts_sports")


def load_people(url: str, n_children: int, n_mothers: int, seed: int) -> None:
    """Write the generated children and mothers (in a child process: Django is set up there)."""
    code = f"""
import os, sys
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / "bench")!r})
import django
django.setup()
from bench_matching_db import _write
_write({n_children}, {n_mothers}, {seed})
"""
    subprocess.run([sys.executable, "-c", code], env=bench_import.env_for(url), check=True)


def _write(n_children: int, n_mothers: int, seed: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from aixin.lib import bulk
    from aixin.regions.models import Region, RegionLevel
    from aixin.registry.models import Child
    from aixin.volunteers.models import Volunteer

    rnd = random.Random(seed)
    now = timezone.now()
    villages = list(
        Region.objects.current()
        .filter(level=RegionLevel.VILLAGE, district__isnull=False)
        .exclude(town__isnull=True)
        .values_list("pk", "town_id", "district_id")
        .order_by("pk")
    )
    # Generated villages only (…{t:03d}{v:03d}); the real ones have no generated towns.
    villages = [v for v in villages if v[1] is not None]
    centres: dict[int, tuple[float, float]] = {}
    towns: dict[int, tuple[float, float]] = {}
    for _pk, town, district in villages:
        if district not in centres:
            centres[district] = (29.0 + rnd.random() * 2.0, 105.5 + rnd.random() * 4.0)
        if town not in towns:
            lat, lon = centres[district]
            towns[town] = (lat + rnd.uniform(-0.1, 0.1), lon + rnd.uniform(-0.1, 0.1))

    def place() -> tuple[int, int, int, float, float]:
        village, town, district = villages[rnd.randrange(len(villages))]
        lat, lon = towns[town]
        return village, town, district, lat + rnd.gauss(0, 0.01), lon + rnd.gauss(0, 0.01)

    today = datetime.date.today()
    with transaction.atomic():
        rows = []
        for i in range(n_children):
            village, town, district, lat, lon = place()
            located = rnd.random() < 0.95
            tier = "many_to_one" if rnd.random() < 0.1 else "one_to_one"
            must = rnd.random() < 0.2
            rows.append(
                bulk.new(
                    Child,
                    name=f"儿童{i}",
                    name_pinyin="ertong",
                    id_number_encrypted="-",
                    id_number_index=f"bench-{i}",
                    id_number_masked="500***********0000",
                    birth_date=today - datetime.timedelta(days=rnd.randint(3 * 365, 17 * 365)),
                    sex=rnd.choice("MF"),
                    region_id=village,
                    town_id=town,
                    district_id=district,
                    latitude=lat if located else None,
                    longitude=lon if located else None,
                    is_scattered_orphan=must and rnd.random() < 0.3,
                    is_de_facto_unsupported=must,
                    difficulty_life=True,
                    difficulty_study=rnd.random() < 0.12,
                    difficulty_mental=rnd.random() < 0.12,
                    difficulty_physical=rnd.random() < 0.12,
                    is_justice_involved=rnd.random() < 0.02,
                    derived_tier=tier,
                    care_tier=tier,
                    status="active",
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(rows) == 50_000:
                bulk.insert(Child, rows)
                rows = []
        bulk.insert(Child, rows)
        rows = []
        for j in range(n_mothers):
            village, town, district, lat, lon = place()
            located = rnd.random() < 0.9
            rows.append(
                bulk.new(
                    Volunteer,
                    name=f"妈妈{j}",
                    name_pinyin="mama",
                    source_group="federation_executive",
                    home_region_id=village,
                    town_id=town,
                    district_id=district,
                    latitude=lat if located else None,
                    longitude=lon if located else None,
                    specialties=[s for s in SPECIALTIES if rnd.random() < 0.15],
                    capacity=rnd.choice((1, 1, 2, 2, 3)),
                    load=0,
                    status="active",
                    background_check="clear",
                    trained=rnd.random() < 0.5,
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(rows) == 50_000:
                bulk.insert(Volunteer, rows)
                rows = []
        bulk.insert(Volunteer, rows)


def measured(env: dict[str, str], *args: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "aixin", *args]
    done = subprocess.run(
        [sys.executable, "-c", bench_import.WRAP, *cmd], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        sys.exit(f"match failed: {result['err']}")
    return result


def run_size(backend: str, n: int, m: int, seed: int, workers: int) -> dict[str, Any]:
    name = f"match-{n}.sqlite3"
    url, env = bench_import.prepare(backend, pg_db="aixin_bench_match", sqlite_name=name)
    t0 = time.perf_counter()
    load_people(url, n, m, seed)
    loaded = time.perf_counter() - t0
    result = measured(env, "match", "--all", "--json", "--workers", str(workers))
    out = json.loads(result["out"])
    total = out["total"]
    row = {
        "backend": backend,
        "children": n,
        "mothers": m,
        "workers": workers,
        "load_people_s": loaded,
        "wall_s": result["seconds"],
        "peak_mib": result["max_rss_kb"] / 1024,
        **total,
    }
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| Database | Children / mothers | Processes | Whole run (wall) | Peak RSS | Read | Candidates "
        "| Solve | Proposals + reasons | Store | Matched (greedy) | Must-cover matched / total (greedy) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        s = r["seconds"]
        lines.append(
            f"| {'PostgreSQL' if r['backend'] == 'pg' else 'SQLite'} | {r['children']:,} / {r['mothers']:,} "
            f"| {r['workers']} | {r['wall_s']:.1f} s | {r['peak_mib']:.0f} MiB | {s['load']:.1f} s "
            f"| {s['candidates']:.1f} s | {s['solve']:.1f} s | {s['proposals']:.1f} s | {s['store']:.1f} s "
            f"| {r['matched']:,} ({r['greedy_matched']:,}) "
            f"| {r['must_cover_matched']:,} / {r['must_cover_total']:,} "
            f"({r['greedy_must_cover_matched']:,}) |"
        )
    return "\n".join(lines)


def write_docs(table: str, args: argparse.Namespace) -> None:
    body = f"""{SECTION}

Reproduce:

```
. .venv/bin/activate
python bench/bench_matching_db.py --sizes {" ".join(args.sizes)} --backend {args.backend} \\
  --workers {args.workers} --write-docs
```

The real command `aixin match --all --json` in a process of its own on a database holding the
generated people (39 districts × 10 towns × 10 villages; coordinates for 95 % of children and 90 %
of mothers; 20 % must-cover; mothers' places 1–3), from start to exit: wall time and that
process's peak RSS (with worker processes, the largest of the command and its workers). Phases
summed over the 39 districts (CPU time in all processes together) from the runs' reports: read (children,
mothers, exclusions), candidates, solve, proposals + reasons (explanations of the chosen pair
and five alternatives per child, the coverage and recruitment-gap report, the greedy baseline),
store (COPY / executemany of the proposals, one transaction per district). Machine:
{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}; date
{datetime.date.today().isoformat()}.

{table}
"""
    text = DOC.read_text()
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip() + "\n\n" + body
    else:
        nxt = text.find("\n#", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", nargs="+", default=["100000:40000"])
    p.add_argument("--backend", choices=["pg", "sqlite"], default="pg")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--workers", type=int, default=2, help="aixin match --workers")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args(argv)
    bench_import.WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        n, m = (int(x) for x in size.split(":"))
        rows.append(run_size(args.backend, n, m, args.seed, args.workers))
    table = markdown(rows)
    print(table)
    if args.write_docs:
        write_docs(table, args)


if __name__ == "__main__":
    main()
