"""kill -9 in the middle of an import: nothing of the batch is in the registry, and running the
same command again completes the import; a third run changes nothing.

Runs the real `aixin` command in subprocesses against a database of its own (a SQLite file, or
a fresh PostgreSQL database when the suite runs on PostgreSQL)."""

from __future__ import annotations

import csv
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests import factories

ROWS = 12_000
# Build in worker processes from this many rows (as a large file does), so that the kill also
# leaves the workers of a batch behind.
PARALLEL_FROM = 4_000


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": url,
            "AIXIN_DATA_DIR": str(tmp_path / "data"),
            "AIXIN_QUEUE": "sqlite",
            "SECRET_KEY": "kill-test-secret-key-0123456789abcdef",
            "DJANGO_SETTINGS_MODULE": "aixin.settings",
            "AIXIN_IMPORT_PARALLEL_FROM": str(PARALLEL_FROM),
        }
    )
    env.pop("AIXIN_TEST_DB_NAME", None)
    return env


def _aixin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aixin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


class _Db:
    """Minimal direct access to the subprocess's database."""

    def __init__(self, url: str, sqlite_path: Path | None) -> None:
        self.url = url
        self.sqlite_path = sqlite_path

    def scalar(self, sql: str) -> Any:
        if self.sqlite_path is not None:
            with sqlite3.connect(self.sqlite_path) as conn:
                return conn.execute(sql).fetchone()[0]
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchone()[0]  # type: ignore[index]


@pytest.fixture
def own_database(tmp_path: Path):
    if connection.vendor == "postgresql":
        import psycopg

        name = f"aixin_kill_{uuid.uuid4().hex[:8]}"
        base = connection.settings_dict
        admin_url = (
            f"postgresql://{base['USER']}@{base['HOST'] or '127.0.0.1'}:{base['PORT'] or 5432}/postgres"
        )
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = admin_url.rsplit("/", 1)[0] + f"/{name}"
        yield _Db(url, None)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "kill.sqlite3"
        yield _Db(f"sqlite:///{path}", path)


@pytest.mark.django_db
def test_kill_9_mid_import_leaves_no_partial_batch_and_a_rerun_completes_it(tmp_path, own_database):
    env = _env(tmp_path, own_database.url)
    _aixin(env, "migrate", "--noinput", "-v0")
    _aixin(env, "load-regions")
    regions = tmp_path / "villages.csv"
    regions.write_text(
        "code,name,level,parent_code,valid_from,valid_to\n"
        "500101001000,测试镇,3,500101,,\n"
        "500101001001,测试村,4,500101001000,,\n",
        encoding="utf-8",
    )
    _aixin(env, "load-regions", str(regions))

    ledger = tmp_path / "ledger.csv"
    with open(ledger, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["姓名", "身份证号", "村(社区)代码", "儿童类别", "父亲情况", "母亲情况"])
        for i in range(ROWS):
            birth = datetime.date(2012, 1, 1) + datetime.timedelta(days=i % 4000)
            w.writerow(
                [
                    f"童{i}",
                    factories.id_number(birth, seq=i // 4000),
                    "500101001001",
                    "农村留守儿童",
                    "外出务工",
                    "外出务工",
                ]
            )

    command = [
        sys.executable,
        "-m",
        "aixin",
        "import-children",
        str(ledger),
        "--source",
        "civil_affairs",
        "--json",
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if own_database.scalar("SELECT COUNT(*) FROM ingest_importbatch WHERE status = 'running'"):
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the batch: 12,000 rows take seconds
    assert proc.poll() is None, "the import finished before it could be killed; raise ROWS"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    assert own_database.scalar("SELECT COUNT(*) FROM registry_child") == 0
    assert own_database.scalar("SELECT COUNT(*) FROM registry_childchange") == 0
    assert own_database.scalar("SELECT COUNT(*) FROM ingest_importrejection") == 0

    again = json.loads(_aixin(env, *command[3:]).stdout)
    assert (again["created"], again["rejected"], again["status"]) == (ROWS, 0, "done")
    assert own_database.scalar("SELECT COUNT(*) FROM registry_child") == ROWS

    third = json.loads(_aixin(env, *command[3:]).stdout)
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 0, ROWS)
