"""Safe on a production box: every finding of the security review, reproduced (issue #12).

Replay applies only what the operator allows, secrets are masked on every output, special files
never block, deadlines hold, nothing outlives a replay, and the state directory is private.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
import pytest

from agenttui import cli, config
from agenttui.ingest import sources
from agenttui.output.secrets import mask_fields
from agenttui.replay import captures, history
from agenttui.replay import runner as replay
from agenttui.replay.captures import Capture
from agenttui.replay.runner import Target
from tests.secret_shapes import ENV_CANARIES, ENV_SHAPES, PEM_BODY
from tests.test_replay import script, settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CAPTURES = ROOT / "sample_logs" / "captures"
ERROR = "RuntimeError: missing environment variable SEARCH_API_KEY"


def write_capture(folder: Path, name: str = "failed_1795681909860.json", **fields: Any) -> Path:
    data: dict[str, Any] = {
        "request_id": "req-abc123def456",
        "query": "look up news",
        "error": ERROR,
        "traceback": f'Traceback (most recent call last):\n  File "/srv/a.py", line 3\n{ERROR}\n',
        "context": {"cwd": "/nowhere", "env": {}},
        "timestamp": "2026-11-26T08:31:49.860558Z",
    }
    data.update(fields)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def in_thread(fn: Any, timeout: float) -> Any:
    """Run ``fn`` in a thread; fail if it does not return within ``timeout`` (a hang)."""
    box: list[Any] = []

    def run() -> None:
        try:
            box.append(fn())
        except Exception as exc:
            box.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"blocked for more than {timeout} s"
    if isinstance(box[0], Exception):
        raise box[0]
    return box[0]


# ------------------------------------------------------------------ 1. a capture runs code


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_planted_ld_preload_is_never_applied(tmp_path: Path) -> None:
    marker = tmp_path / "preloaded"
    src = tmp_path / "x.c"
    src.write_text(
        "#include <stdio.h>\n__attribute__((constructor)) static void pwn(void) {"
        f' FILE *f = fopen("{marker}", "w"); if (f) fclose(f); }}\n'
    )
    so = tmp_path / "x.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(src)], check=True)
    cap = captures.load(
        str(write_capture(tmp_path / "c", context={"env": {"LD_PRELOAD": str(so)}}))
    )
    target = Target("command", ("/bin/sh", "-c", "echo ok"), setting="t")
    for allowed in ((), ("LD_PRELOAD",)):
        result = replay.replay(cap, settings(target, profile="capture", capture_env=allowed))
        assert result.verdict == replay.FIXED
        assert not marker.exists()
    assert any("LD_PRELOAD: never applied" in w for w in result.settings["warnings"])


def test_planted_grep_bin_never_chooses_the_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\n")
    evil.chmod(0o755)
    folder = tmp_path / "caps"
    write_capture(
        folder,
        query="grep for TODO in the repo",
        written_by="agenttui.demo.agent",
        context={"env": {"GREP_BIN": str(evil), "PATH": str(tmp_path)}, "cwd": str(tmp_path)},
    )
    (tmp_path / "agenttui.toml").write_text('[replay]\ncapture_env = ["GREP_BIN", "PATH"]\n')
    code = cli.main(
        [
            "replay",
            str(folder),
            "--profile",
            "capture",
            "--config",
            str(tmp_path / "agenttui.toml"),
            "--timeout",
            "20",
            "--json",
        ]
    )
    out = capsys.readouterr()
    assert code in (0, 1)
    assert not marker.exists()
    row = json.loads(out.out.splitlines()[0])
    assert row["applied"]["capture_env"] == {}
    assert row["applied"]["capture_cwd"] is None
    assert any("GREP_BIN: never applied" in w for w in row["applied"]["warnings"])


def test_traceback_text_never_chooses_the_demo_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tb = 'Traceback (most recent call last):\n  File "/x/agenttui/demo/agent.py", line 1\nE: e\n'
    write_capture(tmp_path / "c", traceback=tb)
    assert cli.main(["replay", str(tmp_path / "c")]) == 2
    assert "no target" in capsys.readouterr().err
    marked = captures.load(str(write_capture(tmp_path / "d", written_by="agenttui.demo.agent")))
    assert replay.is_demo_capture(marked)


def test_capture_cwd_only_inside_the_configured_directory(tmp_path: Path) -> None:
    inside = tmp_path / "srv" / "agent"
    inside.mkdir(parents=True)
    outside = tmp_path / "etc"
    outside.mkdir()
    escape = inside / "up"
    escape.symlink_to(outside)
    target = script(tmp_path, "cwd", "import os; print(os.getcwd())")
    for cwd, applied in ((inside, True), (outside, False), (escape, False)):
        cap = captures.load(str(write_capture(tmp_path / "c", context={"cwd": str(cwd)})))
        result = replay.replay(
            cap, settings(target, profile="capture", capture_cwd_in=str(tmp_path / "srv"))
        )
        assert (result.answer.strip() == str(cwd)) is applied, cwd
    bad = tmp_path / "agenttui.toml"
    bad.write_text('[replay]\ncommand = ["true"]\ncapture_env = "LD_PRELOAD"\n')
    with pytest.raises(replay.TargetError, match=r"replay\.capture_env: must be a list"):
        replay.load_settings(str(bad))


# ------------------------------------------------------------------ 2. secrets in clear


def _secret_capture(tmp_path: Path) -> Capture:
    return captures.load(
        str(
            write_capture(
                tmp_path / "c",
                error="OperationalError: postgres://u:CANARYerrpw@db/app refused",
                context={"env": dict(ENV_SHAPES), "cwd": str(tmp_path)},
            )
        )
    )


def test_export_test_file_holds_no_secret_and_is_private(tmp_path: Path) -> None:
    cap = _secret_capture(tmp_path)
    out = tmp_path / "test_export.py"
    code = cli.main(
        [
            "export-test",
            cap.path,
            "-o",
            str(out),
            "--target-command",
            "true",
            "--env",
            "DATABASE_URL=postgres://u:CANARYflagpw@db/app",
            "--env",
            "MY_PASS=CANARYflagpass",
        ]
    )
    assert code == 0
    text = out.read_text()
    for canary in [*ENV_CANARIES, "CANARYerrpw", "CANARYflagpw", "CANARYflagpass"]:
        assert canary not in text
    assert out.stat().st_mode & 0o777 == 0o600
    assert "'DATABASE_URL'" in text and "'MY_PASS'" in text  # read from the environment
    compile(text, str(out), "exec")


def test_history_and_settings_hold_no_secret(tmp_path: Path) -> None:
    cap = _secret_capture(tmp_path)
    target = script(
        tmp_path,
        "pem",
        f"""
        import sys
        sys.stderr.write("-----BEGIN RSA PRIVATE KEY-----\\n{PEM_BODY}\\n"
                         "-----END RSA PRIVATE KEY-----\\n")
        sys.stderr.write("password=CANARYoutpw\\n")
        sys.exit(1)
        """,
    )
    result = replay.replay(
        cap,
        settings(
            target,
            env={"DATABASE_URL": "postgres://u:CANARYflagpw@db/app", "DB_PW": "CANARYdbpw2"},
            profile="capture",
            capture_env=tuple(ENV_SHAPES),
        ),
    )
    assert PEM_BODY not in result.diff
    root = tmp_path / "state"
    path = history.save(root, cap, result.as_dict())
    text = path.read_text()
    for canary in [
        *ENV_CANARIES,
        "CANARYerrpw",
        "CANARYflagpw",
        "CANARYdbpw2",
        "CANARYoutpw",
        PEM_BODY,
    ]:
        assert canary not in text, canary
    summary = json.dumps(mask_fields(result.summary()))  # what replay --json prints
    assert result.summary()["applied"]["capture_env"]
    for canary in [*ENV_CANARIES, "CANARYflagpw", "CANARYdbpw2"]:
        assert canary not in summary


def test_report_markdown_masks_the_event_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "agent.log"
    lines = [
        {"event": "request_start", "request_id": "r1", "query": "q --password CANARYq"},
        {
            "event": "login failed password=CANARYpw token=CANARYtok",
            "request_id": "r1",
            "level": "error",
        },
        {"event": "request_failed", "request_id": "r1", "level": "error", "error": "boom"},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    for extra in ([], ["--json"]):
        assert cli.main(["report", "r1", str(log), *extra]) == 0
        out = capsys.readouterr().out
        assert "CANARYpw" not in out and "CANARYtok" not in out and "CANARYq" not in out


# ------------------------------------------------------------------ 3. FIFOs never block


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def test_fifo_capture_history_and_config_never_block(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path / "caps" / "failed_1.json")
    cap = in_thread(lambda: captures.load(str(fifo)), 3)
    assert cap.problem is not None and "not a regular file (a FIFO" in cap.problem
    store = captures.CaptureStore([sources.Spec(str(tmp_path / "caps"), "dir")])
    in_thread(store.refresh, 3)
    assert store.all()[0].problem is not None

    real = captures.load(str(write_capture(tmp_path / "ok")))
    root = tmp_path / "state"
    folder = root / "replays" / history.capture_key(real)
    folder.mkdir(parents=True)
    root.chmod(0o700)
    (root / "replays").chmod(0o700)
    folder.chmod(0o700)
    _fifo(folder / "20260101T000000.000000Z-fixed.json")
    entries = in_thread(lambda: history.load(root, real), 3)
    assert "not a regular file" in entries[0]["problem"]
    assert in_thread(lambda: history.last_verdicts(root, [real]), 3) == {}

    toml = _fifo(tmp_path / "conf" / "agenttui.toml")
    with pytest.raises(config.ConfigError):
        in_thread(lambda: config.load(str(toml)), 3)
    # swapped in after the check: still never read
    from agenttui.safeopen import open_regular

    with pytest.raises(OSError, match="not a regular file"):
        in_thread(lambda: open_regular(toml), 3)


def test_replay_command_with_a_fifo_finishes(tmp_path: Path) -> None:
    folder = tmp_path / "caps"
    write_capture(folder)
    _fifo(folder / "failed_2.json")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "agenttui",
            "replay",
            str(folder),
            "--target-command",
            "true",
            "--json",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    rows = [json.loads(x) for x in proc.stdout.splitlines()]
    assert rows[-1]["summary"]["skipped"] == 1 and rows[-1]["summary"]["fixed"] == 1
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------ 4. HTTP deadline


@contextlib.contextmanager
def trickler(head: bool) -> Iterator[str]:
    """A server that sends one byte every 0.5 s (in the headers, or in the body)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.5)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    if not head:
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    else:
                        conn.sendall(b"HTTP/1.1 200 OK\r\n")
                    while not done.is_set():
                        conn.sendall(b"X" if not head else b"X-A: b\r\n")
                        time.sleep(0.5)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}/"
    finally:
        done.set()
        thread.join(3)
        srv.close()


@pytest.mark.parametrize("head", [False, True], ids=["body", "headers"])
def test_trickling_http_target_ends_within_the_timeout(tmp_path: Path, head: bool) -> None:
    cap = captures.load(str(write_capture(tmp_path)))
    with trickler(head) as url:
        target = replay.make_target("http", url, "t")
        t0 = time.monotonic()
        result = replay.replay(cap, settings(target, timeout=2.0))
        took = time.monotonic() - t0
        assert result.verdict == replay.TIMEOUT
        assert took < 3.0, took

        stop = threading.Event()
        threading.Timer(0.3, stop.set).start()
        t0 = time.monotonic()
        cancelled = replay.replay(cap, settings(target, timeout=30.0), stop=stop)
        assert cancelled.verdict == replay.CANCELLED
        assert time.monotonic() - t0 < 1.0


# ------------------------------------------------------------------ 5. nothing outlives us


SETSID_AGENT = """
import os, subprocess, sys, time
pids = sys.argv[1]
ready = pids + f".{os.getpid()}"
child = subprocess.Popen(  # leaves the process group; holds our stdout and stderr
    [sys.executable, "-c",
     f"import os, time; os.setsid(); open({ready!r}, 'w').close(); time.sleep(60)"],
)
while not os.path.exists(ready):
    time.sleep(0.01)
with open(pids, "a") as f:
    f.write(f"{os.getpid()} {child.pid}\\n")
if len(sys.argv) > 2:
    time.sleep(float(sys.argv[2]))
print("done")
"""


def test_setsid_grandchild_dies_with_the_replay_without_delay(tmp_path: Path) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(SETSID_AGENT)
    pid_file = tmp_path / "pids"
    cap = captures.load(str(write_capture(tmp_path / "c")))
    target = Target("command", (sys.executable, str(agent), str(pid_file)), setting="t")
    t0 = time.monotonic()
    result = replay.replay(cap, settings(target))
    assert result.verdict == replay.FIXED
    assert time.monotonic() - t0 < 1.8  # no 2 s wait on pipes held by the grandchild
    deadline = time.monotonic() + 2
    while alive(pids_in(pid_file)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive(pids_in(pid_file)) == []


def test_kill_all_ends_running_replays_and_removes_scratch(tmp_path: Path) -> None:
    from agenttui.replay.process import kill_all

    agent = tmp_path / "agent.py"
    agent.write_text(SETSID_AGENT)
    pid_file = tmp_path / "pids"
    cap = captures.load(str(write_capture(tmp_path / "c")))
    target = Target(
        "command",
        (sys.executable, str(agent), str(pid_file), "60", "{scratch}"),
        setting="t",
    )
    box: list[replay.Result] = []
    t = threading.Thread(
        target=lambda: box.append(replay.replay(cap, settings(target, timeout=60)))
    )
    t.start()
    deadline = time.monotonic() + 10
    while len(pids_in(pid_file)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    scratch = [
        Path(a) for a in psutil.Process(pids_in(pid_file)[0]).cmdline() if "agenttui-replay-" in a
    ]
    assert scratch and scratch[0].is_dir()
    assert kill_all() == 1
    t.join(5)
    assert not t.is_alive()
    assert box[0].verdict == replay.CANCELLED  # not "agent crashed": we killed it
    assert alive(pids_in(pid_file)) == []
    assert not scratch[0].exists()


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_replay_command_on_a_signal_kills_everything_and_summarises(
    tmp_path: Path, sig: int, code: int
) -> None:
    agent = tmp_path / "agent.py"
    agent.write_text(SETSID_AGENT)
    pid_file = tmp_path / "pids"
    folder = tmp_path / "caps"
    for i in range(6):
        write_capture(folder, name=f"failed_{i}.json", request_id=f"req-{i}")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agenttui",
            "replay",
            str(folder),
            "--jobs",
            "2",
            "--json",
            "--target-command",
            f"{sys.executable} {agent} {pid_file} 60",
            "--state-dir",
            str(tmp_path / "state"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 15
    while len(pids_in(pid_file)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pids_in(pid_file)) == 4  # two replays, each with a setsid grandchild
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == code, err
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert summary["interrupted"] is True and summary["not started"] >= 4
    assert "Traceback" not in err
    time.sleep(0.2)
    assert alive(pids_in(pid_file)) == []
    assert len(pids_in(pid_file)) == 4  # no new capture was started
    leftovers = []
    marker_var = "AGENTTUI_REPLAY_RUN"  # agenttui.replay.process.MARKER_VAR
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if p.environ().get(marker_var, "").startswith(f"{proc.pid}-"):
                leftovers.append(p.pid)  # marked by this replay command
    assert alive(leftovers) == []


def test_replay_command_into_head_has_no_broken_pipe_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "caps"
    for i in range(4):
        write_capture(folder, name=f"failed_{i}.json", request_id=f"req-{i}")
    cmd = (
        f"{sys.executable} -m agenttui replay {folder} --target-command true "
        f"--state-dir {tmp_path / 'state'} | head -1"
    )
    proc = subprocess.run(
        ["/bin/sh", "-c", cmd], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


# ------------------------------------------------------------------ 6. the state directory


def test_state_dir_is_private_and_refused_when_not(tmp_path: Path) -> None:
    from agenttui.state import StateDirError, check_root

    cap = captures.load(str(write_capture(tmp_path / "c")))
    root = tmp_path / "state"
    path = history.save(root, cap, {"verdict": "fixed"})
    for p in (root, root / "replays", path.parent):
        assert p.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600

    link = tmp_path / "link"
    link.symlink_to(root)
    with pytest.raises(history.HistoryError, match="symbolic link"):
        history.save(link, cap, {"verdict": "fixed"})
    loaded = history.load(link, cap)
    assert "symbolic link" in loaded[0]["problem"]

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(StateDirError, match="writable by group or others"):
        check_root(shared)
    if os.geteuid() == 0:
        other = tmp_path / "other"
        other.mkdir(mode=0o700)
        os.chown(other, 12345, 12345)
        with pytest.raises(StateDirError, match="not by you"):
            check_root(other)


def test_planted_symlink_in_the_state_dir_is_never_followed(tmp_path: Path) -> None:
    cap = captures.load(str(write_capture(tmp_path / "c")))
    root = tmp_path / "state"
    (root / "replays").mkdir(parents=True)
    root.chmod(0o700)
    (root / "replays").chmod(0o700)
    victim = tmp_path / "victim"
    victim.mkdir()
    (root / "replays" / history.capture_key(cap)).symlink_to(victim)
    with pytest.raises(history.HistoryError, match="symbolic link"):
        history.save(root, cap, {"verdict": "fixed"})
    assert list(victim.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's file needs root")
def test_planted_history_file_is_ignored(tmp_path: Path) -> None:
    cap = captures.load(str(write_capture(tmp_path / "c")))
    root = tmp_path / "state"
    real = history.save(root, cap, {"verdict": "reproduced"})
    planted = real.parent / "29990101T000000.000000Z-fixed.json"
    planted.write_text(json.dumps({"verdict": "fixed"}))
    os.chown(planted, 12345, 12345)
    assert history.last_verdicts(root, [cap]) == {cap.path: "reproduced"}
    entries = history.load(root, cap)
    assert "not by you: ignored" in entries[0]["problem"]
    # a name says nothing: only the record's content counts
    liar = real.parent / "29980101T000000.000000Z-fixed.json"
    liar.write_text(json.dumps({"verdict": "reproduced"}))
    assert history.last_verdicts(root, [cap]) == {cap.path: "reproduced"}


def test_history_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cap = captures.load(str(write_capture(tmp_path / "c")))
    root = tmp_path / "state"
    big = {"verdict": "reproduced", "stdout": "x" * (8 << 20), "stderr": "y" * (8 << 20)}
    path = history.save(root, cap, big)
    assert path.stat().st_size <= history.MAX_RECORD_BYTES
    for _ in range(history.MAX_RECORDS + 5):
        history.save(root, cap, {"verdict": "fixed"})
    assert len(list(path.parent.iterdir())) == history.MAX_RECORDS
    monkeypatch.setattr(history, "MAX_TOTAL_BYTES", 20_000)
    other = captures.load(str(write_capture(tmp_path / "d", request_id="req-other")))
    history.save(root, other, {"verdict": "fixed", "stdout": "z" * 5000})
    total = sum(p.stat().st_size for p in (root / "replays").rglob("*.json"))
    assert total <= 20_000


# ------------------------------------------------------------------ 7. notes, big captures


def test_note_is_written_with_o_excl_and_never_in_a_watched_dir(tmp_path: Path) -> None:
    from agenttui.output.incident import NoteError, write_note

    root = tmp_path / "state"
    first = write_note("# one", "req-1", root, [str(tmp_path / "logs")])
    assert first == root / "notes" / "incident-req-1.md"
    victim = tmp_path / "victim"
    victim.write_text("keep")
    first.unlink()
    first.symlink_to(victim)
    second = write_note("# two", "req-1", root, [])
    assert second != first and second.read_text() == "# two"
    assert victim.read_text() == "keep"
    with pytest.raises(NoteError, match="inside the watched directory"):
        write_note("# three", "req-1", tmp_path / "logs" / "state", [str(tmp_path / "logs")])


def test_huge_capture_is_capped_before_the_ui(tmp_path: Path) -> None:
    huge = tmp_path / "failed_big.json"
    with huge.open("w") as f:
        f.write('{"query": "q", "error": "E: e", "pad": "')
        f.write("x" * (captures.MAX_CAPTURE_BYTES + 10))
        f.write('"}')
    t0 = time.monotonic()
    cap = captures.load(str(huge))
    assert cap.problem is not None and "too large" in cap.problem
    assert time.monotonic() - t0 < 1.0

    tb = "Traceback (most recent call last):\n" + '  File "a.py", line 1\n' * 600_000 + "E: e\n"
    long = captures.load(str(write_capture(tmp_path / "c", traceback=tb)))
    assert long.traceback is not None and len(long.traceback) <= captures.MAX_FIELD_CHARS + 1
    assert long.traceback.endswith("E: e\n") and "cut" in (long.problem or "")
    deep = tmp_path / "failed_deep.json"
    deep.write_text('{"query": "q", "context": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "nested deeper" in (captures.load(str(deep)).problem or "")

    target = Target("command", (sys.executable, "-c", "import sys; sys.exit('E: other')"), "t")
    t0 = time.monotonic()
    result = replay.replay(long, settings(target))
    assert time.monotonic() - t0 < 5.0
    path = history.save(tmp_path / "state", long, result.as_dict())
    assert path.stat().st_size <= history.MAX_RECORD_BYTES


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_tui_signal_kills_the_running_replay_and_ends_the_app(tmp_path: Path, sig: int) -> None:
    from agenttui.ui.launch import _replays_die_on_signals

    agent = tmp_path / "agent.py"
    agent.write_text(SETSID_AGENT)
    pid_file = tmp_path / "pids"
    cap = captures.load(str(write_capture(tmp_path / "c")))
    target = Target("command", (sys.executable, str(agent), str(pid_file), "60"), setting="t")
    box: list[replay.Result] = []
    worker = threading.Thread(
        target=lambda: box.append(replay.replay(cap, settings(target, timeout=60)))
    )
    worker.start()
    deadline = time.monotonic() + 10
    while len(pids_in(pid_file)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)

    class FakeApp:
        code: int | None = None

        def exit(self, return_code: int = 0) -> None:
            self.code = return_code

    app = FakeApp()
    with _replays_die_on_signals(app):  # type: ignore[arg-type]
        os.kill(os.getpid(), sig)
        time.sleep(0.1)
    worker.join(5)
    assert app.code == 128 + sig
    assert box[0].verdict == replay.CANCELLED
    assert alive(pids_in(pid_file)) == []
