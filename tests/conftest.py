"""Shared test configuration: hypothesis profiles.

"ci" (deterministic, small) is loaded when the CI environment variable is set,
"dev" otherwise; HYPOTHESIS_PROFILE (or pytest's --hypothesis-profile) overrides
both.  "nightly" draws 40 times more examples than "ci", at random, for a long
run outside CI (README: Testing).
"""
import os

from hypothesis import HealthCheck, settings

try:
    import dask
except ImportError:      # the dask extra is not installed: its tests skip
    pass
else:
    # dask's tests here compute tiny arrays hundreds of times each (check_grads, the op table):
    # the threaded scheduler's hand-offs cost ~3 ms a compute, a third of the dask suite's time,
    # so they compute in the calling thread.  test_dask.py runs on the threaded scheduler (its
    # fixture) and test_dask_cluster.py on a dask.distributed cluster.
    dask.config.set(scheduler="synchronous")

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("nightly", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def pytest_configure(config):
    # -n N distributes by xdist's "load" (tests dealt out in fixed batches); "worksteal" lets an
    # idle worker take tests queued for the other, so the slow dask tests at the end of the
    # collection do not run on one worker while the other waits.  (Not in pyproject's addopts:
    # --dist is unknown to a run with -p no:xdist, as the strict backend's conformance run is.)
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "worksteal"
