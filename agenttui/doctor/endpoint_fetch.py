"""One ``GET`` of a health endpoint with a real deadline (headless; stdlib ``http.client``).

The deadline covers everything: DNS, connect, TLS, the status line and headers, and the body.
Socket timeouts alone do not give that (a server sending one byte a second never trips a
two-second socket timeout), so the request runs in a daemon thread and the caller stops
waiting at the deadline, closing the connection under the thread so that it ends soon after.

The answer is untrusted: the body is capped (:data:`MAX_BODY`), and a redirect is followed only
to the same scheme, host and port (never to another host), at most :data:`MAX_REDIRECTS`
times. Nothing else from it is acted upon.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urljoin, urlsplit

from agenttui import __version__
from agenttui.output.secrets import mask

MAX_BODY: Final = 64 * 1024
"""Bytes of an answer read at most; a longer one is a failure, not truncated JSON."""
MAX_REDIRECTS: Final = 3


@dataclass(slots=True)
class Answer:
    """What one poll got: an HTTP answer, or why there is none."""

    url: str
    """The URL asked (after same-host redirects)."""
    status: int | None = None
    """HTTP status, None when no answer came."""
    reason: str = ""
    """HTTP reason phrase."""
    body: bytes = b""
    content_type: str = ""
    error: str | None = None
    """One line when there is no usable answer: refused, timed out, too big, redirected away."""
    elapsed_ms: float = 0.0


def display_url(url: str) -> str:
    """``url`` without user and password, secret-looking query values masked (for labels,
    reasons and JSON)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return url
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{port}" if port else "")
    return mask(parts._replace(netloc=netloc).geturl())


def fetch(url: str, timeout: float = 2.0, max_bytes: int = MAX_BODY) -> Answer:
    """``GET url`` and read the whole answer within ``timeout`` seconds (never raises)."""
    started = time.monotonic()
    deadline = started + timeout
    box: list[Answer] = []
    live: list[http.client.HTTPConnection] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            answer = _follow(url, deadline, max_bytes, live, lock)
        except Exception as exc:  # handed back as a reason, never raised
            answer = Answer(display_url(url), error=_why(exc, timeout))
        box.append(answer)

    thread = threading.Thread(target=work, name="doctor-health-poll", daemon=True)
    thread.start()
    thread.join(timeout)
    late = not box
    if late:  # whatever the thread still gets after this is not an answer in time
        with lock:
            for conn in live:
                _abort(conn)
        thread.join(0.2)
    elapsed = (time.monotonic() - started) * 1000
    if late:
        return Answer(
            display_url(url),
            error=f"no complete answer within {timeout:g}s (connect, headers and body)",
            elapsed_ms=elapsed,
        )
    answer = box[0]
    answer.elapsed_ms = elapsed
    return answer


def _follow(
    url: str,
    deadline: float,
    max_bytes: int,
    live: list[http.client.HTTPConnection],
    lock: threading.Lock,
) -> Answer:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        answer, location = _get(current, deadline, max_bytes, live, lock)
        if location is None:
            return answer
        target = urljoin(current, location)
        if not _same_origin(current, target):
            answer.error = (
                f"HTTP {answer.status} redirects to {display_url(target)}: another host, "
                f"not followed"
            )
            return answer
        current = target
    return Answer(display_url(current), error=f"more than {MAX_REDIRECTS} redirects")


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _get(
    url: str,
    deadline: float,
    max_bytes: int,
    live: list[http.client.HTTPConnection],
    lock: threading.Lock,
) -> tuple[Answer, str | None]:
    """One request; (answer, the Location of a redirect or None)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Answer(display_url(url), error="not an http:// or https:// URL"), None
    remaining = _remaining(deadline)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=remaining, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=remaining)
    with lock:
        live.append(conn)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(
            "GET",
            path,
            headers={
                "Accept": "application/json",
                "User-Agent": f"agenttui/{__version__} doctor",
                "Connection": "close",
            },
        )
        _arm(conn, deadline)
        resp = conn.getresponse()
        answer = Answer(
            display_url(url),
            status=resp.status,
            reason=resp.reason,
            content_type=resp.getheader("Content-Type", "") or "",
        )
        location = resp.getheader("Location")
        if 300 <= resp.status < 400 and location:
            return answer, location
        length = resp.getheader("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            answer.error = f"answer of {int(length):,} bytes, over the {max_bytes:,}-byte cap"
            return answer, None
        chunks: list[bytes] = []
        size = 0
        while True:
            _arm(conn, deadline)
            chunk = resp.read1(16384)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                answer.error = f"answer larger than the {max_bytes:,}-byte cap"
                return answer, None
            chunks.append(chunk)
        answer.body = b"".join(chunks)
        return answer, None
    finally:
        conn.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _arm(conn: http.client.HTTPConnection, deadline: float) -> None:
    """Let the next socket read wait no longer than the deadline."""
    if conn.sock is not None:
        conn.sock.settimeout(_remaining(deadline))


def _abort(conn: http.client.HTTPConnection) -> None:
    """Unblock a read in another thread (the deadline passed)."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _why(exc: BaseException, timeout: float) -> str:
    """One line for a failed request."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there: is the agent running?)"
    if isinstance(exc, socket.gaierror):
        return f"DNS: the host does not resolve ({exc.strerror or exc})"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no complete answer within {timeout:g}s (connect, headers and body)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS: {exc.reason or exc}"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "closed the connection without an answer"
    if isinstance(exc, http.client.HTTPException):
        return f"not an HTTP answer ({type(exc).__name__})"
    if isinstance(exc, OSError):
        return f"cannot connect: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc}"
