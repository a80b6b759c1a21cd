"""Node.js loggers: pino (numeric or label levels, epoch-ms or ISO ``time``), pino-http's
request lines, and bunyan. All write ``msg``, ``err`` objects and ``hostname``."""

from __future__ import annotations

from typing import Any, Final

from agenttui.ingest.shapes.base import err_object

#: pino-http's closing lines of a request (``customSuccessMessage`` and friends aside).
HTTP_DONE: Final = {
    "request completed": "request_success",
    "request errored": "request_failed",
    "request aborted": "request_failed",
}


def pino(obj: dict[str, Any]) -> dict[str, Any]:
    """pino / bunyan object in the usual names: ``reqId`` (or pino-http's ``req.id``) as the
    request id, ``err`` as the error, pino-http's closing lines as request ends."""
    c = dict(obj)
    req = c.get("req")
    if "request_id" not in c:
        rid = c.get("reqId")
        if rid is None:
            rid = c.get("req_id")
        if rid is None and isinstance(req, dict):
            rid = req.get("id")
        if rid is not None:
            c["request_id"] = rid
    for key in ("err", "error"):
        if isinstance(c.get(key), dict):
            c["error"] = err_object(c[key])
            if isinstance(c[key].get("stack"), str):
                c.setdefault("exception", c[key]["stack"])
            break
    if "hostname" in c:
        c["host"] = c["hostname"]
    msg = c.get("msg")
    if isinstance(msg, str) and msg in HTTP_DONE and isinstance(req, dict):
        c["event_name"] = msg
        c["msg"] = HTTP_DONE[msg]
        took = c.get("responseTime")
        if isinstance(took, int | float) and not isinstance(took, bool):
            c.setdefault("duration_ms", float(took))
        res = c.get("res")
        status = res.get("statusCode") if isinstance(res, dict) else None
        if isinstance(status, int):
            c["status_code"] = status
            if status >= 500 and c["msg"] == "request_success":
                c["msg"] = "request_failed"
                c.setdefault("error", f"HTTP {status}")
        if c["msg"] == "request_failed" and "error" not in c:
            c["error"] = msg if status is None else f"{msg}: HTTP {status}"
    return c


def looks_like_pino(obj: dict[str, Any]) -> str | None:
    """Why an object is pino's (None when it is not): told by its shape, not its level alone
    (``timestamp: isoTime`` writes ISO times, ``formatters.level`` writes labels)."""
    keys = obj.keys()
    if "msg" not in keys or "level" not in keys or "v" in keys:
        return None
    level = obj.get("level")
    numeric = isinstance(level, int) and not isinstance(level, bool)
    when = obj.get("time")
    has_base = "pid" in keys and "hostname" in keys
    if numeric and (isinstance(when, int) or has_base or "time" in keys):
        return "pino: numeric level, " + ", ".join(
            k for k in ("time", "msg", "pid", "hostname", "reqId", "req") if k in keys
        )
    if isinstance(level, str) and (has_base or "reqId" in keys or isinstance(obj.get("req"), dict)):
        return "pino: level label (formatters.level), " + ", ".join(
            k for k in ("time", "msg", "pid", "hostname", "reqId", "req") if k in keys
        )
    return None


def looks_like_bunyan(obj: dict[str, Any]) -> bool:
    """bunyan's core fields: ``v`` 0, numeric level, hostname, ISO time."""
    level = obj.get("level")
    return (
        obj.get("v") == 0
        and isinstance(level, int)
        and "hostname" in obj
        and isinstance(obj.get("time"), str)
    )
