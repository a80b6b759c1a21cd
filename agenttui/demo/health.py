"""The demo agent's own ``GET /health``: its real state, served on a loopback port it picks.

The answer has the usual shape of an agent's health endpoint::

    {"status": "unhealthy",
     "checks": {"api_key": false, "tools": {"ok": false, "missing": ["rg-not-installed"]},
                "llm_quota": true, "services": true, "memory": 1.4}}

Every value is looked up at the time of the request: ``api_key`` is whether
``SEARCH_API_KEY`` is set, ``tools`` whether the grep binary (``GREP_BIN``) is on PATH,
``llm_quota`` whether the process-wide LLM token bucket holds a token (it goes false under a
burst of calls, then true again), ``services`` whether the in-process fake of the internal
services answers, ``memory`` the process's share of the host memory in percent.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import threading
from pathlib import Path
from typing import Any, Final

import orjson
import psutil  # type: ignore[import-untyped]

from agenttui.demo import runtime

URL_FILE: Final = "health_url"
"""Written in the output directory once the endpoint listens (its URL, one line)."""


def state() -> dict[str, Any]:
    """The health answer now."""
    grep_bin = os.environ.get("GREP_BIN", runtime.DEFAULT_GREP_BIN)
    tools_ok = shutil.which(grep_bin) is not None
    tools: dict[str, Any] = {"ok": tools_ok}
    if not tools_ok:
        tools["missing"] = [grep_bin]
    checks: dict[str, Any] = {
        "api_key": bool(os.environ.get("SEARCH_API_KEY", "").strip()),
        "tools": tools,
        "llm_quota": runtime.llm_tokens_available() >= 1.0,
        "services": _services_answer(),
        "memory": round(float(psutil.Process().memory_percent()), 1),
    }
    healthy = all(
        (v["ok"] if isinstance(v, dict) else v) for k, v in checks.items() if k != "memory"
    )
    return {"status": "healthy" if healthy else "unhealthy", "checks": checks}


def _services_answer() -> bool:
    """Whether the in-process fake of the internal services accepts a connection."""
    try:
        port = runtime.get_fake_server_port()
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.split("?", 1)[0] != "/health":
            self.send_error(404)
            return
        body = orjson.dumps(state())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""


def serve(out_dir: Path | None = None) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``/health`` on 127.0.0.1 (a free port) in a daemon thread; (server, URL).

    With ``out_dir``, the URL is also written to ``out_dir / URL_FILE`` (atomically) for the
    process that started the demo.
    """
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True, name="health"
    ).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/health"
    if out_dir is not None:
        tmp = out_dir / f".{URL_FILE}.tmp"
        tmp.write_text(url + "\n")
        tmp.replace(out_dir / URL_FILE)
    return server, url
