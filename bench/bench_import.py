"""Department import benchmark (issue 3): a generated civil-affairs CSV of 500,000 rows and an
.xlsx of 100,000 rows, imported with the real command into PostgreSQL and into SQLite.

    python bench/bench_import.py                       # both databases, default sizes
    python bench/bench_import.py --backend pg --rows 100000 --xlsx-rows 20000
    python bench/bench_import.py --write-docs          # also write docs/PERFORMANCE.md
    python bench/bench_import.py --what-if-without-keys  # first CSV import, key checks on/off
    python bench/bench_import.py --compiled-vs-python    # first CSV import, aixin.native on/off
    python bench/bench_import.py --against /tmp/base     # first CSV import, this checkout and
                                                         # another (git worktree add /tmp/base REV)

Each import runs as `aixin import-children FILE --source civil_affairs --json` in a subprocess of
its own, so the wall time includes start-up, file reading, parsing, encryption and the database
writes, and the peak memory (max RSS) is that process's alone. Baselines measured in the same
run: PostgreSQL `COPY` of the very same CSV into a table of text columns, and for SQLite an
`executemany` INSERT of the same rows.

Databases of its own: PostgreSQL `aixin_bench_import` (dropped and created), SQLite
`var/bench/import.sqlite3` (deleted and created). Generated files are cached in `var/bench/`.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench"
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Department imports"
PG_DB = "aixin_bench_import"
HEADER = [
    "序号",
    "姓名",
    "性别",
    "身份证号码",
    "所属区县",
    "所属镇街",
    "村(社区)代码",
    "监护人",
    "与儿童关系",
    "联系电话",
    "儿童类别",
    "父亲情况",
    "母亲情况",
    "困境原因",
    "困难类型",
    "就读学校",
    "年级",
    "出生日期",
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "小明红梅丽华建国志强秀英玉兰桂芳子涵欣怡浩宇梓萱思远雨辰俊杰佳怡文博一诺宇轩子墨雅琪诗涵"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
TOWNS_PER_DISTRICT = 10
VILLAGES_PER_TOWN = 10

WRAP = (
    "import resource, subprocess, sys, time, json\n"
    "t0 = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "dt = time.perf_counter() - t0\n"
    "use = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "out = {'seconds': dt, 'max_rss_kb': use.ru_maxrss, 'cpu': use.ru_utime + use.ru_stime,\n"
    "       'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-2000:]}\n"
    "print(json.dumps(out))\n"
)


def check_char(first17: str) -> str:
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def districts() -> list[str]:
    with open(ROOT / "aixin/regions/data/chongqing_districts.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["code"] for r in rows if r["level"] == "2" and not r["valid_to"] and r["code"].isdigit()]


def regions_csv() -> Path:
    path = WORK / "villages.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "level", "parent_code", "valid_from", "valid_to"])
        for d in districts():
            for t in range(1, TOWNS_PER_DISTRICT + 1):
                town = f"{d}{t:03d}000"
                w.writerow([town, f"{d}第{t}镇", 3, d, "", ""])
                for v in range(1, VILLAGES_PER_TOWN + 1):
                    w.writerow([f"{d}{t:03d}{v:03d}", f"{d}第{t}镇第{v}村", 4, town, "", ""])
    return path


def ledger_rows(count: int, *, seed: int, start: int) -> Any:
    rnd = random.Random(seed)
    codes = districts()
    for i in range(start, start + count):
        d = codes[i % len(codes)]
        t = 1 + (i // len(codes)) % TOWNS_PER_DISTRICT
        v = 1 + (i // (len(codes) * TOWNS_PER_DISTRICT)) % VILLAGES_PER_TOWN
        birth = datetime.date(2011, 1, 1) + datetime.timedelta(days=rnd.randrange(0, 10 * 365))
        order = i % 1000
        first17 = f"{d}{birth:%Y%m%d}{order:03d}"
        # Unique: the order digits plus the birth date alone could repeat; fold i into the date.
        number = first17 + check_char(first17)
        name = rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN)
        kind = rnd.random()
        reasons = difficulties = ""
        if kind < 0.80:
            category, father, mother = "农村留守儿童", "外出务工", "外出务工"
        elif kind < 0.90:
            category, father, mother = "其他困境儿童", "在家", "重病"
            reasons = "家庭贫困"
        elif kind < 0.95:
            category, father, mother = "事实无人抚养儿童", "服刑在押", "失联"
        else:
            category, father, mother = "散居孤儿", "死亡", "死亡"
        if rnd.random() < 0.15:
            difficulties = rnd.choice(["生活困难", "学习困难", "生活困难、学习困难", "心理健康困难"])
        yield [
            str(i + 1),
            name,
            "男" if int(number[16]) % 2 else "女",
            number,
            "",
            "",
            f"{d}{t:03d}{v:03d}",
            name[0] + "奶奶",
            "祖母",
            f"138{i % 100_000_000:08d}",
            category,
            father,
            mother,
            reasons,
            difficulties,
            f"{d}第{t}镇中心小学",
            f"{1 + (i % 6)}年级",
            f"{birth:%Y/%-m/%-d}",
        ]


def unique_rows(count: int, *, seed: int, start: int) -> Any:
    seen: set[str] = set()
    n = start
    made = 0
    rnd_seed = seed
    while made < count:
        for r in ledger_rows(count - made, seed=rnd_seed, start=n):
            n += 1
            if r[3] in seen:
                continue
            seen.add(r[3])
            made += 1
            yield r
        rnd_seed += 1


def make_csv(rows: int) -> Path:
    path = WORK / f"civil_affairs_{rows}.csv"
    if path.exists():
        return path
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(unique_rows(rows, seed=2026, start=0))
    return path


def make_xlsx(rows: int) -> Path:
    path = WORK / f"civil_affairs_{rows}.xlsx"
    if path.exists():
        return path
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["2026年农村留守儿童和困境儿童花名册"])
    ws.append(HEADER)
    for r in unique_rows(rows, seed=4242, start=10_000_000):
        ws.append(r)
    wb.save(path)
    return path


def env_for(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "AIXIN_DATA_DIR": str(WORK / "data"),
            "SECRET_KEY": "bench-import-secret-key-0123456789",
            "DJANGO_SETTINGS_MODULE": "aixin.settings",
        }
    )
    env.pop("AIXIN_TEST_DB_NAME", None)
    return env


def aixin(env: dict[str, str], *args: str, cwd: Path = ROOT) -> None:
    """The command line of the checkout at `cwd` (`python -m aixin` imports the package there)."""
    subprocess.run([sys.executable, "-m", "aixin", *args], env=env, check=True, cwd=cwd)


def measured_import(env: dict[str, str], path: Path, *, cwd: Path = ROOT) -> dict[str, Any]:
    """One import by the command line, in a process of its own: wall time, peak RSS, and the CPU
    of the process and its build workers."""
    cmd = [sys.executable, "-m", "aixin", "import-children", str(path), "--source", "civil_affairs", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", WRAP, *cmd], env=env, capture_output=True, text=True, check=True, cwd=cwd
    )
    result = json.loads(done.stdout)
    if result["rc"] != 0:
        sys.exit(f"import failed: {result['err']}")
    result["counts"] = json.loads(result["out"])
    return result


def prepare(
    backend: str, pg_db: str = PG_DB, sqlite_name: str = "import.sqlite3", cwd: Path = ROOT
) -> tuple[str, dict[str, str]]:
    if backend == "pg":
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", pg_db], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", pg_db], check=True)
        url = f"postgres://postgres@127.0.0.1:5432/{pg_db}"
    else:
        db = WORK / sqlite_name
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{db}"
    env = env_for(url)
    aixin(env, "migrate", "--noinput", "-v0", cwd=cwd)
    aixin(env, "load-regions", cwd=cwd)
    aixin(env, "load-regions", str(regions_csv()), cwd=cwd)
    return url, env


def baseline(backend: str, url: str, path: Path) -> float:
    """Load the same CSV rows as plain text into a table with no constraints."""
    cols = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    if backend == "pg":
        import psycopg

        with psycopg.connect(url.replace("postgres://", "postgresql://")) as conn:
            conn.execute(f"CREATE TABLE bench_copy ({cols})")
            t0 = time.perf_counter()
            with conn.cursor() as cur, open(path, "rb") as f:
                f.readline()  # header
                with cur.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv)") as copy:
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
            conn.commit()
            return time.perf_counter() - t0
    db = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(db)
    conn.execute(f"CREATE TABLE bench_copy ({cols})")
    t0 = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        conn.executemany(f"INSERT INTO bench_copy VALUES ({', '.join('?' * len(HEADER))})", reader)
    conn.commit()
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def run_backend(backend: str, csv_path: Path, xlsx_path: Path, rows: int, xlsx_rows: int) -> dict[str, Any]:
    url, env = prepare(backend)
    first = measured_import(env, csv_path)
    again = measured_import(env, csv_path)
    xlsx = measured_import(env, xlsx_path)
    base = baseline(backend, url, csv_path)
    out = {
        "backend": backend,
        "rows": rows,
        "xlsx_rows": xlsx_rows,
        "first": first,
        "again": again,
        "xlsx": xlsx,
        "baseline": base,
    }
    print(json.dumps({k: v for k, v in out.items()}, default=str, ensure_ascii=False, indent=1))
    return out


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| Database | Import | Rows | Wall time | Rows/s | Peak RSS | Created / updated / unchanged / rej. |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        name = "PostgreSQL" if r["backend"] == "pg" else "SQLite"
        for label, key, n in (
            ("CSV, first", "first", r["rows"]),
            ("CSV, again (unchanged)", "again", r["rows"]),
            (".xlsx, first", "xlsx", r["xlsx_rows"]),
        ):
            m = r[key]
            c = m["counts"]
            lines.append(
                f"| {name} | {label} | {n:,} | {m['seconds']:.1f} s | {n / m['seconds']:,.0f} | "
                f"{m['max_rss_kb'] / 1024:.0f} MiB | {c['created']:,} / {c['updated']:,} / "
                f"{c['unchanged']:,} / {c['rejected']:,} |"
            )
    lines.append("")
    lines.append(
        "| Database | Re-import speed-up (first ÷ again) | Baseline: same rows as text | Import ÷ baseline |"
    )
    lines.append("| --- | ---: | ---: | ---: |")
    for r in results:
        name = "PostgreSQL (`COPY`)" if r["backend"] == "pg" else "SQLite (`executemany`)"
        first, again = r["first"]["seconds"], r["again"]["seconds"]
        lines.append(
            f"| {name} | {first / again:.1f}× | {r['baseline']:.1f} s | {first / r['baseline']:.1f}× |"
        )
    return "\n".join(lines)


def write_docs(table: str, args: argparse.Namespace) -> None:
    body = f"""{SECTION}

Reproduce (creates its own databases `{PG_DB}` and `var/bench/import.sqlite3`):

```
. .venv/bin/activate
python bench/bench_import.py --rows {args.rows} --xlsx-rows {args.xlsx_rows} --write-docs
```

Data: a generated civil-affairs ledger (18 columns as districts send them: 序号, names, ID numbers,
village codes, guardian and phone, 儿童类别 and the parents' situations as words, 困境原因, 困难类型,
school, grade, birth date as 2015/3/4) over {len(districts()) * TOWNS_PER_DISTRICT * VILLAGES_PER_TOWN:,}
villages; the .xlsx has a title row above the header and other ID numbers. Each import is the real
command in its own process (`aixin import-children FILE --source civil_affairs --json`): wall time
from process start to exit, peak RSS of that process. One transaction per file.

Machine: {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}; load average
when measured {os.getloadavg()[0]:.1f}. Date: {datetime.date.today().isoformat()}.

{table}
"""
    text = DOC.read_text() if DOC.exists() else "# Performance\n"
    start = text.find(SECTION)
    if start == -1:
        text = text.rstrip() + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
    DOC.write_text(text)
    print(f"wrote {DOC}")


# The foreign keys a first import's rows are checked against, row by row (docs/PERFORMANCE.md).
CHECKED_KEYS = (
    ("registry_child", "region_id"),
    ("registry_child", "created_by_id"),
    ("registry_guardian", "child_id"),
    ("registry_parentcondition", "child_id"),
)


def without_keys(csv_path: Path, rows: int) -> dict[str, Any]:
    """What-if, for the record only: the first CSV import into PostgreSQL with and without the
    database's key checks of its rows, in fresh databases of their own, alternating (key checks
    on, off, on, off). The application never runs without them."""
    import psycopg

    out: dict[str, Any] = {"rows": rows, "with_keys": [], "without_keys": []}
    for attempt in range(2):
        for keys in (True, False):
            db = f"{PG_DB}_keys" if keys else f"{PG_DB}_nokeys"
            url, env = prepare("pg", pg_db=db)
            if not keys:
                with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
                    for table, column in CHECKED_KEYS:
                        names = conn.execute(
                            "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a "
                            "ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
                            "WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s",
                            [table, column],
                        ).fetchall()
                        for (name,) in names:
                            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            seconds = measured_import(env, csv_path)["seconds"]
            out["with_keys" if keys else "without_keys"].append(round(seconds, 1))
            print(f"attempt {attempt + 1}, keys {'on' if keys else 'off'}: {seconds:.1f} s", flush=True)
    return out


def compiled_vs_python(csv_path: Path, rows: int) -> dict[str, Any]:
    """The first CSV import into PostgreSQL with the compiled build modules (aixin/native.py)
    and with AIXIN_NATIVE=0 (their Python sources), in fresh databases, alternating."""
    out: dict[str, Any] = {"rows": rows, "compiled": [], "python": []}
    for attempt in range(2):
        for kind in ("compiled", "python"):
            _url, env = prepare("pg", pg_db=f"{PG_DB}_{kind}")
            env["AIXIN_NATIVE"] = "1" if kind == "compiled" else "0"
            seconds = measured_import(env, csv_path)["seconds"]
            out[kind].append(round(seconds, 1))
            print(f"attempt {attempt + 1}, {kind}: {seconds:.1f} s", flush=True)
    return out


NATIVE = "from aixin import native; raise SystemExit(native.main())"


def pg_server_cpu(url: str) -> float | None:
    """CPU seconds the PostgreSQL server has used so far, its ended backends included (they are
    the postmaster's children), or None where this user may not read them (the server's data
    directory and /proc)."""
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            row = conn.execute("SHOW data_directory").fetchone()
        postmaster = int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else 0
    except (OSError, ValueError, psycopg.Error):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # its own and its ended children's
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def against(csv_path: Path, rows: int, other: Path, repeat: int) -> dict[str, Any]:
    """The first CSV import into PostgreSQL by this checkout and by the one at `other` (say a
    `git worktree` of an earlier commit), in fresh databases, alternating, each with its
    compiled modules built first: wall time, CPU of the import's processes, CPU of the server."""
    checkouts = {"this": ROOT, "other": other.resolve()}
    for where in checkouts.values():
        subprocess.run([sys.executable, "-c", NATIVE], cwd=where, check=True, capture_output=True)
    out: dict[str, Any] = {"rows": rows, "other": str(checkouts["other"]), "this": [], "other_runs": []}
    for attempt in range(repeat):
        for name, where in checkouts.items():
            url, env = prepare("pg", pg_db=f"{PG_DB}_{name}", cwd=where)
            server = pg_server_cpu(url)
            result = measured_import(env, csv_path, cwd=where)
            after = pg_server_cpu(url)
            run = {
                "seconds": round(result["seconds"], 1),
                "import_cpu": round(result["cpu"], 1),
                "server_cpu": round(after - server, 1) if server is not None and after is not None else None,
            }
            out["this" if name == "this" else "other_runs"].append(run)
            print(f"attempt {attempt + 1}, {name}: {json.dumps(run)}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--xlsx-rows", type=int, default=100_000)
    p.add_argument("--backend", choices=["pg", "sqlite", "both"], default="both")
    p.add_argument("--write-docs", action="store_true")
    p.add_argument(
        "--what-if-without-keys",
        action="store_true",
        help="only: the first CSV import into PostgreSQL with and without its rows' key checks",
    )
    p.add_argument(
        "--compiled-vs-python",
        action="store_true",
        help="only: the first CSV import into PostgreSQL with the compiled modules and without",
    )
    p.add_argument(
        "--against",
        type=Path,
        metavar="CHECKOUT",
        help="only: the first CSV import into PostgreSQL by this checkout and by CHECKOUT, alternating",
    )
    p.add_argument("--repeat", type=int, default=2, help="runs of each side for --against")
    args = p.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    csv_path = make_csv(args.rows)
    if args.against:
        print(json.dumps(against(csv_path, args.rows, args.against, args.repeat)))
        return
    if args.what_if_without_keys:
        print(json.dumps(without_keys(csv_path, args.rows)))
        return
    if args.compiled_vs_python:
        print(json.dumps(compiled_vs_python(csv_path, args.rows)))
        return
    xlsx_path = make_xlsx(args.xlsx_rows)
    backends = ["pg", "sqlite"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, csv_path, xlsx_path, args.rows, args.xlsx_rows) for b in backends]
    table = markdown(results)
    print(table)
    if args.write_docs:
        write_docs(table, args)


if __name__ == "__main__":
    main()
