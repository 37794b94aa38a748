"""Settings shared by every test folder."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Speed is measured by the benchmarks in bench/, never by a test: hypothesis's per-example
# deadline would be a timed assertion, so it is off everywhere.
settings.register_profile("project", deadline=None)
# CI replays the same examples on every run, so a red build points at a change rather than at
# a lucky draw; local runs keep exploring new examples.
settings.register_profile("ci", parent=settings.get_profile("project"), derandomize=True)
# HYPOTHESIS_PROFILE=thorough searches much harder (the state machine sets its own budget).
settings.register_profile(
    "thorough",
    parent=settings.get_profile("project"),
    max_examples=2000,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "project")
)
