"""The model versions in the logs: a change of the version serving the requests, or a mix.

Reads :func:`agenttui.model.drift.model_drift`: a model family answered by two versions or more
is a warning (the model changed under the agent), and a failure when the requests on the new
version fail more often than on the older ones.
"""

from __future__ import annotations

from agenttui.doctor.results import Check
from agenttui.model.drift import Drift

NAME = "model versions"


def check_models(drifts: list[Drift]) -> Check:
    """One row for the model versions of the logs (``drifts`` as ``model_drift`` gives them)."""
    if not drifts:
        return Check(NAME, "ok", "one version per model in the logs (or no model logged)")
    worst = drifts[0]
    detail = {
        "families": [
            {
                "family": d.family,
                "versions": [v.name for v in d.versions],
                "mixed": d.mixed,
                "worse": d.worse,
                "failure_rate_before": d.before_rate,
                "failure_rate_after": d.after_rate,
            }
            for d in drifts
        ]
    }
    more = f" (and {len(drifts) - 1} more)" if len(drifts) > 1 else ""
    if worst.worse:
        return Check(
            NAME,
            "fail",
            worst.summary() + more,
            f"failures started with {worst.new.name}: pin the version that worked "
            "(or fix the prompt/parsing for the new one); query model:" + worst.new.name,
            detail,
        )
    return Check(
        NAME,
        "warn",
        worst.summary() + more,
        "pin the model version instead of an alias so that it changes only when you decide",
        detail,
    )
