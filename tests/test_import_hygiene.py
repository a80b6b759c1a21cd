"""The headless core never loads textual, and never imports textual or rich itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "agenttui"


def test_core_import_does_not_load_textual() -> None:
    modules = [
        p.relative_to(CORE.parent).with_suffix("").as_posix().replace("/", ".")
        for p in CORE.rglob("*.py")
        if "ui" not in p.relative_to(CORE).parts and p.name != "__main__.py"
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        + "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert len(modules) > 5


def test_core_sources_do_not_import_textual_or_rich() -> None:
    offenders = []
    for path in CORE.rglob("*.py"):
        if "ui" in path.relative_to(CORE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                wiring = path.name == "cli.py"  # the entry point opens the UI, lazily
                if name.split(".")[0] in ("textual", "rich") or (
                    name.startswith("agenttui.ui") and not wiring
                ):
                    offenders.append(f"{path.relative_to(CORE)}: {name}")
    assert offenders == []
