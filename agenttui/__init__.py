"""agenttui: a terminal dashboard for debugging AI agents live in production.

The package root is the headless core; it never imports textual or rich.
"""

__version__ = "0.1.0"
