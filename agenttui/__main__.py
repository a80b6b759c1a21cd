"""Allow ``python -m agenttui``."""

from agenttui.cli import main

raise SystemExit(main())
