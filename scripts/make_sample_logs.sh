#!/usr/bin/env bash
# Regenerate sample_logs/: ~300 demo-agent requests, concurrency 4, fixed seed, --fast.
# The query mix is fixed by the seed; timing-dependent outcomes (rate limits, timeouts,
# interleaving) vary slightly between runs. A clean environment keeps host details
# (PATH, API keys...) out of the committed logs and captures.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="$(command -v "${PYTHON:-python}")"
rm -rf sample_logs/agent.log sample_logs/captures
env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 PYTHONPATH="$PWD" \
    AGENT_WORKDIR=/tmp/agenttui-demo \
    "$PY" -m agenttui.demo.traffic --out sample_logs --requests 300 --concurrency 4 --seed 42 --fast
du -sh sample_logs
