"""`aixin serve` runs the queue consumer and the web server together and stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aixin.demo.management.commands.serve import build_commands


def test_serve_uses_gunicorn_with_the_requested_bind_and_workers():
    huey, web = build_commands(host="127.0.0.1", port=8123, workers=3, use_gunicorn=True)

    assert huey[-2:] == ["aixin", "run_huey"]
    assert web[1:4] == ["-m", "gunicorn", "aixin.wsgi:application"]
    assert web[web.index("--bind") + 1] == "127.0.0.1:8123"
    assert web[web.index("--workers") + 1] == "3"


def test_serve_falls_back_to_runserver_without_reloading_when_gunicorn_is_missing():
    _huey, web = build_commands(host="0.0.0.0", port=9000, workers=2, use_gunicorn=False)  # noqa: S104

    assert web[1:] == ["-m", "aixin", "runserver", "0.0.0.0:9000", "--noreload"]
    assert "--insecure" not in web


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_serve_answers_http_and_stops_both_processes_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "AIXIN_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("AIXIN_TEST_DB_NAME", None)
    subprocess.run([sys.executable, "-m", "aixin", "migrate", "-v0"], env=env, check=True, timeout=300)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aixin", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as resp:
                    status = resp.status
            except OSError:
                time.sleep(0.5)
        children = _children_of(proc.pid)

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

        assert status == 200
        assert len(children) == 2
        assert proc.returncode == 0
        assert not [pid for pid in children if _alive(pid)]
        assert "已停止" in proc.stdout.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
