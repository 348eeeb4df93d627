"""Load benchmark (issue 5): simulated users on loopback against gunicorn on PostgreSQL — loving
mothers logging care on their phones, department liaisons working their referrals, and staff
opening dashboards and child files — for a fixed time; p50/p95/p99 latency and errors.

    python bench/bench_load.py                       # 50 users, 120 s, the demo data set
    python bench/bench_load.py --users 50 --seconds 120 --write-docs

The database `aixin_bench_load` (PostgreSQL, dropped and created) holds the demo data set
(`aixin seed-demo`, deterministic). Users are signed in by creating their sessions directly (the
log-in page, its rate limits and second factor are not what is measured). Each simulated user
waits 1–3 s between actions (like a person), over keep-alive HTTP/1.1 connections; the load
generator is plain threads (stdlib), in the same 2-core machine as the server and PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SECTION = "## Load: 50 users on gunicorn"
PG_DB = "aixin_bench_load"
PORT = 8077
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
RULE = re.compile(r'name="rules" value="([^"]+)"')
KIND = re.compile(r'name="kind" value="([^"]+)"')


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{PG_DB}",
            "AIXIN_DATA_DIR": str(ROOT / "var" / "bench" / "load"),
            "SECRET_KEY": "bench-load-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DJANGO_SETTINGS_MODULE": "aixin.settings",
            "AIXIN_QUEUE_IMMEDIATE": "0",
        }
    )
    e.pop("AIXIN_TEST_DB_NAME", None)
    return e


def aixin(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "aixin", *args], env=env(), check=True, capture_output=True, text=True
    )
    return done.stdout


def prepare(children: int, volunteers: int) -> None:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", PG_DB], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PG_DB], check=True)
    aixin("migrate", "--noinput", "-v0")
    aixin("seed-demo", "--children", str(children), "--volunteers", str(volunteers))


SESSIONS = """
import json, random
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from aixin.accounts.models import Role, User
from aixin.pairing.models import Pairing

rnd = random.Random(7)
def session(user):
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    for key, value in EXTRA.items():
        s[key] = value
    s.create()
    return s.session_key

EXTRA = json.loads(%(extra)r)
out = {"mother": [], "staff": [], "liaison": []}
from aixin.volunteers.models import Volunteer
# The demo has one loving mother with a log-in; give the others with active pairings theirs.
without = Volunteer.objects.filter(user__isnull=True, pairings__status="active").distinct()
for v in without.order_by("pk")[:400]:
    u = User(username=f"load-mama-{v.pk}", role=Role.VOLUNTEER, region_id=v.home_region_id)
    u.set_unusable_password()
    u.save()
    Volunteer.objects.filter(pk=v.pk).update(user=u)
active = Pairing.objects.filter(status="active").values("volunteer__user")
mothers = list(User.objects.filter(role=Role.VOLUNTEER, is_active=True, pk__in=active).order_by("pk")[:400])
for u in rnd.sample(mothers, min(len(mothers), %(mothers)d)):
    pairing = Pairing.objects.filter(volunteer__user=u, status="active").values_list("pk", flat=True).first()
    if pairing:
        out["mother"].append({"session": session(u), "pairing": pairing})
staff_roles = [Role.DISTRICT_ADMIN, Role.TOWN_SUPERVISOR, Role.CITY_ADMIN]
staff = list(User.objects.filter(role__in=staff_roles).order_by("pk"))
for u in rnd.sample(staff, min(len(staff), %(staff)d)):
    out["staff"].append({"session": session(u), "role": u.role})
liaisons = list(User.objects.filter(role="department_liaison", is_active=True).order_by("pk"))
for i in range(%(liaisons)d if liaisons else 0):  # several sessions of the demo's liaison(s)
    out["liaison"].append({"session": session(liaisons[i %% len(liaisons)])})
print(json.dumps(out))
"""


def make_sessions(mothers: int, staff: int, liaisons: int) -> dict[str, list[dict[str, Any]]]:
    # Sessions that passed the second factor, where the deployment asks for one.
    extra = json.dumps({"aixin_otp_verified": True})
    code = SESSIONS % {"extra": extra, "mothers": mothers, "staff": staff, "liaisons": liaisons}
    done = subprocess.run([sys.executable, "-c", code], env=env(), check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


class Client:
    """One simulated person: a keep-alive connection and a session cookie."""

    def __init__(self, session: str, stats: Stats) -> None:
        self.cookies = {"sessionid": session}
        self.stats = stats
        self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Host": "127.0.0.1"}
        h.update(extra or {})
        return h

    def request(self, label: str, method: str, path: str, body: str | None = None, **headers: str) -> str:
        t0 = time.perf_counter()
        status: Any = "-"
        text, ok = "", False
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            try:
                self.conn.request(method, path, body=body, headers=self._headers(headers))
                resp = self.conn.getresponse()
                text = resp.read().decode("utf-8", "replace")
                for value in resp.headers.get_all("Set-Cookie") or []:
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
                status, ok = resp.status, resp.status < 400
                break
            except (OSError, http.client.HTTPException) as exc:
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                status, text = type(exc).__name__, str(exc)
                if attempt == 2 or not isinstance(exc, (http.client.RemoteDisconnected, ConnectionError)):
                    break
        self.stats.add(label, time.perf_counter() - t0, ok, f"{status} {path}")
        return text

    def get(self, label: str, path: str) -> str:
        return self.request(label, "GET", path)

    def post(self, label: str, path: str, form: dict[str, Any], referer: str) -> str:
        body = urlencode(form, doseq=True)
        return self.request(
            label,
            "POST",
            path,
            body,
            **{
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://127.0.0.1:{PORT}{referer}",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
            },
        )


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: list[str] = []

    def add(self, label: str, seconds: float, ok: bool, why: str) -> None:
        with self.lock:
            self.times[label].append(seconds)
            if not ok:
                self.errors[label] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{label}: {why}")


def mother_loop(person: dict[str, Any], stats: Stats, until: float, rnd: random.Random) -> None:
    c = Client(person["session"], stats)
    pairing = person["pairing"]
    while time.time() < until:
        c.get("mother: my children", "/care/mine/")
        time.sleep(rnd.uniform(1, 3))
        c.get("mother: checklist", f"/care/pairings/{pairing}/")
        time.sleep(rnd.uniform(1, 3))
        if rnd.random() < 0.5:
            path = f"/care/pairings/{pairing}/record/"
            page = c.get("mother: record form", path)
            token, rules, kinds = CSRF.search(page), RULE.findall(page), KIND.findall(page)
            if token and rules and kinds:
                time.sleep(rnd.uniform(1, 3))
                c.post(
                    "mother: save care record",
                    path,
                    {
                        "csrfmiddlewaretoken": token.group(1),
                        "date": datetime.date.today().isoformat(),
                        "kind": kinds[0],
                        "rules": rules[:2],
                        "notes": "入户看望，孩子状态良好。",
                    },
                    referer=path,
                )
        time.sleep(rnd.uniform(1, 3))


def staff_loop(person: dict[str, Any], stats: Stats, until: float, rnd: random.Random) -> None:
    c = Client(person["session"], stats)
    while time.time() < until:
        c.get("staff: dashboard", "/dashboard/")
        time.sleep(rnd.uniform(1, 3))
        listing = c.get("staff: child list", "/children/")
        ids = re.findall(r'href="/children/(\d+)/"', listing)
        time.sleep(rnd.uniform(1, 3))
        if ids:
            c.get("staff: child file", f"/children/{rnd.choice(ids)}/")
            time.sleep(rnd.uniform(1, 3))


def liaison_loop(person: dict[str, Any], stats: Stats, until: float, rnd: random.Random) -> None:
    c = Client(person["session"], stats)
    while time.time() < until:
        inbox = c.get("liaison: referral inbox", "/cases/inbox/")
        time.sleep(rnd.uniform(1, 3))
        cases = re.findall(r'href="/cases/(\d+)/"', inbox)
        if cases:
            case = rnd.choice(cases)
            page = c.get("liaison: case", f"/cases/{case}/")
            token = CSRF.search(page)
            if token and 'data-action="note"' in page and rnd.random() < 0.5:
                time.sleep(rnd.uniform(1, 3))
                c.post(
                    "liaison: add case note",
                    f"/cases/{case}/transition/",
                    {
                        "csrfmiddlewaretoken": token.group(1),
                        "action": "note",
                        "note": "已电话联系监护人，安排民警走访。",
                    },
                    referer=f"/cases/{case}/",
                )
        time.sleep(rnd.uniform(1, 3))


def run(users: int, seconds: int, workers: int, threads: int, warmup: int) -> dict[str, Any]:
    mothers_n = round(users * 0.6)
    liaisons_n = round(users * 0.1)
    sessions = make_sessions(mothers_n, users, liaisons_n)
    people: list[tuple[Any, dict[str, Any]]] = [(mother_loop, p) for p in sessions["mother"]]
    people += [(liaison_loop, p) for p in sessions["liaison"]]
    people += [(staff_loop, p) for p in sessions["staff"][: users - len(people)]]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "aixin.wsgi",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=env(),
        cwd=ROOT,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/")
                break
            except OSError:
                time.sleep(0.2)
        # Warm-up (not measured): every gunicorn worker loads its code, templates and caches.
        _drive(people, Stats(), warmup)
        stats = Stats()
        t0 = time.perf_counter()
        _drive(people, stats, seconds)
        wall = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(10)
    everything = [x for v in stats.times.values() for x in v]
    return {
        "users": len(people),
        "mothers": len(sessions["mother"]),
        "liaisons": len(sessions["liaison"]),
        "staff": len(people) - len(sessions["mother"]) - len(sessions["liaison"]),
        "seconds": wall,
        "requests": len(everything),
        "errors": sum(stats.errors.values()),
        "error_samples": stats.samples,
        "overall": _pcts(everything),
        "by_action": {
            k: {**_pcts(v), "n": len(v), "errors": stats.errors.get(k, 0)} for k, v in stats.times.items()
        },
    }


def _drive(people: list[tuple[Any, dict[str, Any]]], stats: Stats, seconds: int) -> None:
    until = time.time() + seconds
    pool = [
        threading.Thread(target=loop, args=(p, stats, until, random.Random(i)), daemon=True)
        for i, (loop, p) in enumerate(people)
    ]
    for t in pool:
        t.start()
        time.sleep(2.0 / max(len(pool), 1))  # ramp up over 2 s
    for t in pool:
        t.join(seconds + 60)


def _pcts(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": sum(values) * 1000, "p95": sum(values) * 1000, "p99": sum(values) * 1000}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}


def markdown(r: dict[str, Any]) -> str:
    lines = [
        "| Action | Requests | Errors | p50 | p95 | p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, v in sorted(r["by_action"].items()):
        lines.append(
            f"| {label} | {v['n']:,} | {v['errors']} | {v['p50']:.0f} ms | {v['p95']:.0f} ms "
            f"| {v['p99']:.0f} ms |"
        )
    o = r["overall"]
    lines.append(
        f"| **all** | **{r['requests']:,}** | **{r['errors']}** | **{o['p50']:.0f} ms** "
        f"| **{o['p95']:.0f} ms** | **{o['p99']:.0f} ms** |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--seconds", type=int, default=120)
    p.add_argument("--children", type=int, default=5000)
    p.add_argument("--volunteers", type=int, default=1500)
    p.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    p.add_argument("--warmup", type=int, default=15, help="seconds of load before measuring")
    p.add_argument("--reuse", action="store_true", help="keep the loaded database")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args(argv)
    if not args.reuse:
        prepare(args.children, args.volunteers)
    result = run(args.users, args.seconds, args.workers, args.threads, args.warmup)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if result["errors"]:
        print("errors, e.g.:", *result["error_samples"], sep="\n  ", file=sys.stderr)
    table = markdown(result)
    print(table)
    if args.write_docs:
        body = f"""{SECTION}

Reproduce:

```
. .venv/bin/activate
python bench/bench_load.py --users {args.users} --seconds {args.seconds} \\
  --workers {args.workers} --threads {args.threads} --write-docs
```

{result["users"]} simulated people for {result["seconds"]:.0f} s on loopback
({result["mothers"]} loving mothers viewing their children and checklists and saving care
records, {result["liaisons"]} department liaisons opening their referrals and adding case notes,
{result["staff"]} staff opening the dashboard, the child list and child files), each waiting 1–3 s
between actions, after {args.warmup} s of the same load not measured; gunicorn with {args.workers} workers ×
{args.threads} threads on PostgreSQL, the demo data set ({args.children:,} children,
{args.volunteers:,} loving mothers). Server, database and load generator share the machine:
{os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}; date
{datetime.date.today().isoformat()}. Target: p95 under 300 ms and no errors.

{table}
"""
        text = DOC.read_text()
        start = text.find(SECTION)
        if start == -1:
            text = text.rstrip() + "\n\n" + body
        else:
            nxt = text.find("\n## ", start + len(SECTION))
            text = text[:start] + body + (text[nxt + 1 :] if nxt != -1 else "")
        DOC.write_text(text)


if __name__ == "__main__":
    main()
