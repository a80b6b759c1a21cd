"""A health endpoint for tests: a real HTTP server on 127.0.0.1 whose answer a test sets."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Behaviour:
    """What the next answers are."""

    status: int = 200
    body: bytes = b'{"status": "healthy"}'
    content_type: str = "application/json"
    delay: float = 0.0
    """Seconds before answering at all."""
    dribble: bool = False
    """Send the status line, then one header byte every 0.1 s, never finishing."""
    location: str | None = None
    hits: list[str] = field(default_factory=list)

    def answer(self, data: Any, status: int = 200) -> None:
        """Answer ``data`` as JSON with ``status``."""
        self.status = status
        self.body = json.dumps(data).encode()
        self.content_type = "application/json"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour
    stopping: threading.Event


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        b = self.server.behaviour
        b.hits.append(self.path)
        stop = self.server.stopping
        if b.delay and stop.wait(b.delay):
            return
        if b.dribble:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.1):
                try:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                except OSError:
                    return
            return
        self.send_response(b.status)
        if b.location is not None:
            self.send_header("Location", b.location)
        self.send_header("Content-Type", b.content_type)
        self.send_header("Content-Length", str(len(b.body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(b.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@dataclass
class HealthServer:
    """A running server: its URL and the behaviour to change."""

    url: str
    port: int
    behaviour: Behaviour


@pytest.fixture
def health_server() -> Iterator[HealthServer]:
    """A health endpoint on 127.0.0.1 (a free port), stopped after the test."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = Behaviour()
    server.stopping = threading.Event()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    port = int(server.server_address[1])
    yield HealthServer(f"http://127.0.0.1:{port}/health", port, server.behaviour)
    server.stopping.set()
    server.shutdown()
    server.server_close()
    thread.join(2)
