"""The ``http`` replay target: POST ``{"query", "request_id"}`` as JSON to the configured URL.

The replay's ``timeout`` bounds the whole exchange (connect, TLS handshake, request, headers,
body): every socket operation waits at most :data:`SLICE_S` at a time and checks the deadline
and the cancel flag in between, so a server that trickles one byte at a time ends within the
timeout, and ``esc`` ends it at once. No proxy, no redirect: only the configured URL is
requested. At most ``max_output`` bytes of the answer are kept, the rest counted.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import json
import os
import selectors
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Any

from agenttui.replay.captures import Capture
from agenttui.replay.result import CANCELLED, CRASHED, DIFFERENT, FIXED, TIMEOUT, Progress, Result
from agenttui.replay.settings import Settings

SLICE_S = 0.1
"""Longest single wait on the socket before the deadline and the cancel flag are checked."""


class Cancelled(Exception):
    """The replay was cancelled while talking to the target."""


class _Clock:
    def __init__(self, deadline: float, stop: threading.Event | None) -> None:
        self.deadline = deadline
        self.stop = stop

    def slice(self) -> float:
        """The next wait; raises when cancelled or past the deadline."""
        if self.stop is not None and self.stop.is_set():
            raise Cancelled
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline")
        return min(SLICE_S, remaining)


class _DeadlineSocket:
    """A socket whose every read and write respects the replay's deadline and cancel flag."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self.sock = sock
        self.clock = clock
        self._io_refs = 0
        self._closed = False

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        while True:
            self.sock.settimeout(self.clock.slice())
            try:
                return self.sock.recv_into(buffer, nbytes)
            except TimeoutError:
                continue
            except ssl.SSLWantReadError:
                continue

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self.sock.settimeout(self.clock.slice())
            try:
                sent = self.sock.send(view)
            except TimeoutError:
                continue
            view = view[sent:]

    def makefile(self, mode: str = "rb", *_args: Any, **_kwargs: Any) -> io.BufferedReader:
        self._io_refs += 1
        return io.BufferedReader(socket.SocketIO(self, "rb"))  # type: ignore[arg-type]

    def _decref_socketios(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self.sock.close()

    def close(self) -> None:
        """Like a socket: the descriptor closes when the last reader made by
        :meth:`makefile` is closed too (http.client closes the connection first)."""
        self._closed = True
        if self._io_refs <= 0:
            self.sock.close()


def _connect(host: str, port: int, clock: _Clock) -> socket.socket:
    """A connected socket, waiting in slices (the resolver's own wait is bounded by it)."""
    last: OSError | None = None
    for family, kind, proto, _name, addr in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            err = sock.connect_ex(addr)
            if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                raise OSError(err, os.strerror(err))
            with selectors.DefaultSelector() as sel:
                sel.register(sock, selectors.EVENT_WRITE)
                while not sel.select(clock.slice()):
                    pass
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            return sock
        except (OSError, Cancelled) as exc:
            sock.close()
            if not isinstance(exc, OSError) or isinstance(exc, TimeoutError):
                raise
            last = exc
    raise last or OSError(f"cannot resolve {host}")


def _handshake(sock: socket.socket, host: str, clock: _Clock) -> ssl.SSLSocket:
    tls = ssl.create_default_context().wrap_socket(
        sock, server_hostname=host, do_handshake_on_connect=False
    )
    while True:
        tls.settimeout(clock.slice())
        try:
            tls.do_handshake()
            return tls
        except (TimeoutError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            continue


def exchange(url: str, body: bytes, clock: _Clock, max_output: int) -> tuple[int, str, bytes, int]:
    """POST ``body`` to ``url``: ``(status, reason, kept body, dropped bytes)``.

    Raises:
        TimeoutError: Past the deadline.
        Cancelled: The cancel flag was set.
        OSError, http.client.HTTPException: The exchange failed.
    """
    parts = urllib.parse.urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    raw = _connect(host, port, clock)
    sock: socket.socket = _handshake(raw, host, clock) if https else raw
    conn = http.client.HTTPConnection(host, port)
    wrapped = _DeadlineSocket(sock, clock)
    conn.sock = wrapped
    try:
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "agenttui-replay"},
        )
        response = conn.getresponse()
        data = bytearray()
        dropped = 0
        while True:
            chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not chunk:
                break
            room = max_output - len(data)
            if room > 0:
                data += chunk[:room]
            dropped += max(0, len(chunk) - max(room, 0))
        return int(response.status), str(response.reason or ""), bytes(data), dropped
    finally:
        with contextlib.suppress(OSError):
            conn.close()
        with contextlib.suppress(OSError):
            sock.close()


def replay_http(
    capture: Capture,
    settings: Settings,
    result: Result,
    say: Progress,
    stop: threading.Event | None,
) -> None:
    """Replay ``capture`` against the http target; fill ``result`` (verdict before judging)."""
    url = settings.target.url
    body = json.dumps(
        {"query": capture.query, "request_id": capture.request_id}, ensure_ascii=True
    ).encode()
    clock = _Clock(time.monotonic() + settings.timeout, stop)
    say(f"POST {url}")
    try:
        status, reason, data, dropped = exchange(url, body, clock, settings.max_output)
    except Cancelled:
        result.verdict = CANCELLED
        return
    except TimeoutError:
        result.verdict = TIMEOUT
        result.error = f"no complete answer within {settings.timeout:g} s (connection closed)"
        return
    except (OSError, http.client.HTTPException, ValueError) as exc:
        result.verdict = CRASHED
        result.error = f"cannot reach {url}: {exc}"
        return
    result.http_status = status
    text = data.decode("utf-8", errors="backslashreplace")
    result.stdout = text
    result.stdout_dropped = dropped
    say(f"HTTP {status} {reason}")
    if 200 <= status < 300:
        result.verdict = FIXED
        result.answer = text
        return
    result.verdict = DIFFERENT
    error: str | None = None
    with contextlib.suppress(ValueError, RecursionError):
        obj = json.loads(text)
        if isinstance(obj, dict):
            found = obj.get("error") or obj.get("detail") or obj.get("message")
            if isinstance(found, str):
                error = found
            tb = obj.get("traceback")
            if isinstance(tb, str):
                result.traceback = tb
    if error is None:
        first = text.strip().splitlines()[0][:300] if text.strip() else ""
        error = f"HTTP {status} {reason}" + (f": {first}" if first else "")
    result.error = error


__all__ = ["SLICE_S", "exchange", "replay_http"]
