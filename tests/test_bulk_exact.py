"""``stats`` and ``traces`` give the same bytes with one process or several, and with the
typed structlog decoder or the generic one, on a corpus as a real structlog agent writes it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from agenttui.commands.stats import print_stats
from agenttui.commands.traces import print_traces
from agenttui.ingest import fast_structlog, records
from tests.conftest import parallel_pieces

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import make_corpus  # type: ignore[import-not-found]  # noqa: E402


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    make_corpus.CorpusGenerator(out, 20_000, seed=5, verify_every=0).generate()
    return out / "agent.log"


def _outputs(log: Path) -> tuple[bytes, bytes]:
    stats, traces = io.BytesIO(), io.BytesIO()
    assert print_stats([str(log)], stats) == 0
    assert print_traces([str(log)], traces) == 0
    return stats.getvalue(), traces.getvalue()


def test_one_and_two_workers_and_both_decoders_agree(
    log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTTUI_WORKERS", "1")
    one = _outputs(log)
    with monkeypatch.context() as m:  # the generic decoder, line by line, as before
        m.setattr(
            fast_structlog,
            "batch_decoder",
            lambda decode: lambda lines: list(map(records.decode_record, lines)),
        )
        generic = _outputs(log)
    assert one == generic

    started = parallel_pieces(monkeypatch, log)  # several pieces
    two = _outputs(log)
    assert started and min(started) >= 2  # a child really indexed pieces of the file
    assert two[0] == one[0]
    assert two[1] == one[1]
    stats = one[0].decode()
    assert '"lines":20' in stats
    assert one[1].count(b"\n") > 1000  # every request is a trace
    assert b'"status":"error"' in one[1]  # failures with dict_tracebacks were read
