"""Shared test configuration: hypothesis profiles.

"ci" (deterministic, small) is loaded when the CI environment variable is set,
"dev" otherwise; HYPOTHESIS_PROFILE overrides both.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
