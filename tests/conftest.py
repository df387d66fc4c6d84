"""Shared test configuration: hypothesis profiles.

"ci" (deterministic, small) is loaded when the CI environment variable is set,
"dev" otherwise; HYPOTHESIS_PROFILE (or pytest's --hypothesis-profile) overrides
both.  "nightly" draws 40 times more examples than "ci", at random, for a long
run outside CI (README: Testing).
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("nightly", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
