"""`aixin serve`: the Huey consumer and the web server in the foreground, stopped together."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def gunicorn_available() -> bool:
    return importlib.util.find_spec("gunicorn") is not None


def build_commands(*, host: str, port: int, workers: int, use_gunicorn: bool) -> list[list[str]]:
    """The consumer first, then the web server (gunicorn, or Django's runserver without it)."""
    huey = [sys.executable, "-m", "aixin", "run_huey"]
    if use_gunicorn:
        web = [
            sys.executable,
            "-m",
            "gunicorn",
            "aixin.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ]
    else:
        web = [sys.executable, "-m", "aixin", "runserver", f"{host}:{port}", "--noreload"]
    return [huey, web]


def stop_all(processes: list[subprocess.Popen[bytes]], *, timeout: float = 10.0) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in processes:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Command(BaseCommand):
    help = "在前台启动后台任务进程（Huey）和网站服务（gunicorn）；Ctrl-C 或 SIGTERM 同时停止两者"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["workers"] < 1:
            raise CommandError("--workers 至少为 1")
        use_gunicorn = gunicorn_available()
        if not use_gunicorn:
            self.stderr.write("未安装 gunicorn，改用 Django 自带的 runserver（仅适合演示）")
        stopping = False

        def on_signal(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        processes: list[subprocess.Popen[bytes]] = []
        exit_code = 0
        try:
            commands = build_commands(
                host=opts["host"], port=opts["port"], workers=opts["workers"], use_gunicorn=use_gunicorn
            )
            for command in commands:
                processes.append(subprocess.Popen(command))  # noqa: S603 - our own interpreter and modules
            self.stdout.write(f"爱心 Aixin 已启动：http://{opts['host']}:{opts['port']}/（Ctrl-C 停止）")
            while not stopping:
                exited = [(p, c) for p, c in zip(processes, commands, strict=True) if p.poll() is not None]
                if exited:
                    proc, command = exited[0]
                    exit_code = proc.returncode or 1
                    self.stderr.write(
                        f"子进程 {command[3]} 已退出（代码 {proc.returncode}），正在停止其余进程"
                    )
                    break
                time.sleep(0.3)
        finally:
            stop_all(processes)
            for s, handler in previous.items():
                signal.signal(s, handler)
        if stopping:
            self.stdout.write("已停止。")
        elif exit_code:
            raise CommandError("服务意外退出", returncode=exit_code)
