"""Stand-ins for the network edge: a channel whose outcome the test sets, and a local HTTP
server that records what it receives."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aixin.notify.channels import ChannelError


class FakeChannel:
    """Records each send; fails while `failures` > 0. Class-level state, because the registry
    makes a new instance on each call (reset by the `fake_channel` fixture)."""

    name = "fake"
    label = "测试渠道"
    sent: list[tuple[int, int]] = []
    failures = 0

    def send(self, notification: Any, user: Any) -> None:
        if FakeChannel.failures > 0:
            FakeChannel.failures -= 1
            raise ChannelError("网关暂时不可用")
        FakeChannel.sent.append((notification.pk, user.pk))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Recorder:
    """A local HTTP server: answers each POST with the next status of `statuses` (200 when they
    run out), after `delay` seconds."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0


def start_server() -> tuple[Recorder, ThreadingHTTPServer]:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recorder.received.append(Received(self.path, dict(self.headers.items()), body))
            if recorder.delay:
                time.sleep(recorder.delay)
            status = recorder.statuses.pop(0) if recorder.statuses else 200
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(b'{"ok": true}')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}/send"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return recorder, server
