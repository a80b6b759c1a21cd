"""Doctor: the production checklist run as checks (headless; no textual, no rich).

Half of production-only failures are the environment, not the code: a missing variable, a
binary not on PATH, a host that does not resolve, a path the agent's user cannot write, a
container memory limit, a dependency the agent itself reports down. Each check returns a
:class:`~agenttui.doctor.results.Check` (``ok`` / ``warn`` / ``fail``, a one-line reason and a
fix hint); :func:`agenttui.doctor.runner.run` runs them concurrently within a deadline.

Modules, in the order a run uses them:

- ``settings``: the ``[doctor]`` table (and ``--health-url`` / ``AGENTTUI_HEALTH_URL``).
- ``environment``: variables (their shape, never their value) and binaries on PATH.
- ``hosts``: DNS and TCP connect.
- ``access``: the user the agent runs as; paths and scripts as that user.
- ``resources``: cgroup memory limit and CPU quota.
- ``files``: disk space where the logs live, open file descriptors.
- ``processes``: the agent processes and their restarts.
- ``pressure``: 429s and timeouts per minute in the logs (classified by ``model.classify``).
- ``endpoint_fetch`` / ``endpoint_read`` / ``endpoint_watch``: the agent's own health endpoint:
  one bounded ``GET``, its JSON read defensively, rows with "since when" and flips.
- ``runner``: the table of checks and the run; ``results``: what a run returns;
  ``output``: text and JSON; ``units``: sizes and ages for people.
"""
