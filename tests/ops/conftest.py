"""A second, empty database for restores: a fresh SQLite file, or a fresh PostgreSQL database
when the tests run on PostgreSQL. `aixin migrate` runs once per session into a template that
each test copies; `aixin restore` runs in a subprocess against the copy."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.urlsafe_b64encode(bytes(range(1, 33))).decode()
REPO = Path(__file__).resolve().parents[2]


def _on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


def _pg_url(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg_url("postgres"), autocommit=True) as admin:
        admin.execute(sql)


def run_aixin(url: str, data_dir: Path, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "AIXIN_DATA_DIR": str(data_dir),
        "AIXIN_BACKUP_KEY": key,
        "AIXIN_BACKUP_KEY_FILE": "",
        "DJANGO_SETTINGS_MODULE": "aixin.settings",
    }
    env.pop("AIXIN_TEST_DB_NAME", None)
    return subprocess.run(
        [sys.executable, "-m", "aixin", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a migrated, empty database to copy."""
    data_dir = tmp_path_factory.mktemp("template-data")
    if _on_postgres():
        # One template per xdist worker: two workers sharing one would copy it half-migrated.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        name = f"{os.environ.get('AIXIN_TEST_DB_NAME', 'aixin')}_bk_template_{worker}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        url = f"sqlite:///{data_dir / 'template.sqlite3'}"
    done = run_aixin(url, data_dir, "migrate", "--noinput", "-v0")
    assert done.returncode == 0, done.stderr
    yield url
    if _on_postgres():
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Target:
    """An empty migrated database (a copy of the template) that `restore` writes into."""

    def __init__(self, url: str, name: str, data_dir: Path) -> None:
        self.url = url
        self.name = name  # the file (SQLite) or database name (PostgreSQL)
        self.data_dir = data_dir
        self._connection: Any = None

    def aixin(self, *args: str, key: str = KEY) -> subprocess.CompletedProcess[str]:
        return run_aixin(self.url, self.data_dir, *args, key=key)

    def connection(self) -> Any:
        """A Django connection to the target, so rows read back have the same Python types as
        the source's."""
        if self._connection is None:
            from django.db import connection
            from django.db.utils import load_backend

            # Not registered in `connections`: Django's test case allows such connections.
            backend = load_backend(connection.settings_dict["ENGINE"])
            self._connection = backend.DatabaseWrapper(
                {**connection.settings_dict, "NAME": self.name}, "restored"
            )
        return self._connection

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.connection().cursor() as cursor:
            cursor.execute(sql, params or [])
            return list(cursor.fetchall())

    def execute(self, sql: str, params: list[Any] | None = None) -> None:
        with self.connection().cursor() as cursor:
            cursor.execute(sql, params or [])

    def count(self, table: str) -> int:
        return int(self.query(f'SELECT COUNT(*) FROM "{table}"')[0][0])  # noqa: S608

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@pytest.fixture
def target(migrated_template: str, tmp_path: Path) -> Iterator[Target]:
    data_dir = tmp_path / "target-data"
    data_dir.mkdir()
    if _on_postgres():
        name = f"{os.environ.get('AIXIN_TEST_DB_NAME', 'aixin')}_bk_{uuid.uuid4().hex[:8]}"
        template = urlsplit(migrated_template).path.lstrip("/")
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made = Target(_pg_url(name), name, data_dir)
    else:
        source = Path(migrated_template.removeprefix("sqlite:///"))
        path = tmp_path / "target.sqlite3"
        shutil.copyfile(source, path)
        if Path(f"{source}-wal").exists():  # migrate's last writes, if not yet checkpointed
            shutil.copyfile(f"{source}-wal", f"{path}-wal")
        made = Target(f"sqlite:///{path}", str(path), data_dir)
    yield made
    made.close()
    if _on_postgres():
        _pg_admin(f'DROP DATABASE IF EXISTS "{made.name}" WITH (FORCE)')


@pytest.fixture
def backup_key(settings: Any) -> str:
    settings.AIXIN_BACKUP_KEY = KEY
    settings.AIXIN_BACKUP_KEY_FILE = ""
    return KEY
