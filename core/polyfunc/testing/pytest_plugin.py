"""polyfunc's pytest plugin (entry point ``pytest11``: ``polyfunc``).

* ``--polyfunc-backend=NAME`` (repeatable, or a comma-separated list) picks
  the backends the ``backend`` fixture runs on; without it the
  ``POLYFUNC_BACKEND`` environment variable picks one; without that, every
  installed backend (``polyfunc.backends.backends()``) is used and the unavailable ones
  skip with their reason.
* The ``backend`` fixture yields the Backend object and makes it current
  (``with polyfunc.use_backend(name)``) for the test.
* A backend lists its known gaps through the ``polyfunc_conformance_gaps``
  hook: ``{key: reason}``, where ``key`` is a test's name (``test_forward[sin-float32-0]``),
  a primitive or case name (``sin``: every check of it), ``check:case``
  (``vmap:gather``, ``jvp:sin``; checks are forward, jvp, vjp, vmap, grad2,
  numpy) or a test function name.  Matching tests are xfailed with the
  reason (non-strict), or skipped when the reason starts with ``"skip:"``.

Backend authors run the conformance suite with
``pytest --pyargs polyfunc.testing.conformance --polyfunc-backend=NAME``.
"""
from __future__ import annotations

import os

import pytest

__all__ = ["pytest_addoption", "pytest_configure", "pytest_generate_tests", "pytest_collection_modifyitems",
           "backend", "selected_backends", "backend_gaps"]

_OPTION = "--polyfunc-backend"


def pytest_addoption(parser):
    group = parser.getgroup("polyfunc")
    group.addoption(_OPTION, action="append", default=[], metavar="NAME",
                    help="run the `backend` fixture on these polyfunc backends only (repeatable or "
                         "comma-separated, e.g. numpy,torch:cuda). Default: $POLYFUNC_BACKEND, else every "
                         "installed backend.")


def pytest_configure(config):
    config.addinivalue_line("markers", "polyfunc_op(case, check): a conformance test of an op-table case")


def selected_backends(config) -> list[str]:
    """The backend specs the ``backend`` fixture is parametrised over."""
    names = []
    for opt in config.getoption(_OPTION, default=[]) or []:
        names += [n.strip() for n in opt.split(",") if n.strip()]
    if not names:
        env = os.environ.get("POLYFUNC_BACKEND", "").strip()
        if env:
            names = [env]
    if names:
        import polyfunc
        installed = {b.name for b in polyfunc.backends.backends()}
        unknown = [n for n in names if n.partition(":")[0] not in installed]
        if unknown:
            from polyfunc.backends import _describe_all
            raise pytest.UsageError(f"polyfunc: unknown backend(s) {unknown} (from {_OPTION} or "
                                    f"POLYFUNC_BACKEND). Installed backends:\n{_describe_all()}")
        return list(dict.fromkeys(names))
    import polyfunc
    return [b.name for b in polyfunc.backends.backends()]


_avail_cache: dict = {}


def _availability(spec: str) -> tuple[bool, str]:
    if spec not in _avail_cache:
        _avail_cache[spec] = _check_availability(spec)
    return _avail_cache[spec]


def _check_availability(spec: str) -> tuple[bool, str]:
    import polyfunc
    from polyfunc.errors import BackendError
    name = spec.partition(":")[0]
    for info in polyfunc.backends.backends():
        if info.name == name:
            if not info.available:
                return False, info.reason
            try:
                polyfunc.get_backend(spec)
            except BackendError as e:  # a device that is not there: a reason to skip.  Anything else is
                return False, str(e).splitlines()[0]   # a bug of the backend, and fails the run
            return True, ""
    return False, f"backend {name!r} is not installed"


_FAILED = "failed-plugin:"


def _failed_plugin_params() -> list:
    """One parameter per plugin that failed to load: its tests fail (naming the error) rather than
    vanishing from the run, as they would if only the loaded backends were parametrised."""
    import polyfunc
    return [pytest.param(_FAILED + name, id=_FAILED + name) for name in sorted(polyfunc.failed_plugins())]


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        names = selected_backends(metafunc.config)
        params = []
        for n in names:
            ok, why = _availability(n)
            # unavailable backends are skipped at collection, with their reason (no fixture set-up per test)
            marks = () if ok else (pytest.mark.skip(reason=f"backend {n!r} is unavailable: {why}"),)
            params.append(pytest.param(n, id=n, marks=marks))
        if not _explicit_selection(metafunc.config):
            params += _failed_plugin_params()
        metafunc.parametrize("backend", params, indirect=True, scope="function")


def _explicit_selection(config) -> bool:
    return bool(config.getoption(_OPTION, default=[]) or os.environ.get("POLYFUNC_BACKEND", "").strip())


@pytest.fixture
def backend(request):
    """The polyfunc Backend under test, made current for the test's duration."""
    import polyfunc
    spec = getattr(request, "param", None)
    if spec is None:
        spec = selected_backends(request.config)[0]
    if spec.startswith(_FAILED):
        name = spec[len(_FAILED):]
        pytest.fail(f"polyfunc plugin {name!r} failed to load, so its backend is not tested: "
                    f"{polyfunc.failed_plugins().get(name, '(error no longer recorded)')}", pytrace=False)
    ok, why = _availability(spec)
    if not ok:
        pytest.skip(f"backend {spec!r} is unavailable: {why}")
    from polyfunc.backends import _plugin_of, kernel_check
    with polyfunc.use_backend(spec) as b, kernel_check.checked(b, _plugin_of.get(b.name, "?")):
        b.clear_caches()     # what earlier tests left (chunk hints) changes speed, and only speed
        yield b      # every kernel result is checked against its primitive's contract meanwhile


_gap_cache: dict = {}


def backend_gaps(spec: str) -> dict:
    """{key: reason} that the plugins declare for backend ``spec`` through the hook."""
    if spec in _gap_cache:
        return _gap_cache[spec]
    import polyfunc
    from polyfunc.backends import conformance_gaps
    gaps: dict = {}
    ok, _ = _availability(spec)
    if ok:
        # each plugin asked on its own: one whose hook raises is recorded, not fatal to collection
        gaps = conformance_gaps(polyfunc.get_backend(spec))
    _gap_cache[spec] = gaps
    return gaps


def _gap_for(item, gaps: dict):
    if not gaps:
        return None
    keys = [item.name, item.nodeid, getattr(item, "originalname", item.name)]
    marker = item.get_closest_marker("polyfunc_op")
    if marker is not None:
        case, check = marker.args[:2]
        keys += [case, f"{check}:{case}"]
    for k in keys:
        if k in gaps:
            return gaps[k]
    for k, reason in gaps.items():
        if item.nodeid.endswith("::" + k):
            return reason
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "backend" not in callspec.params:
            continue
        reason = _gap_for(item, backend_gaps(callspec.params["backend"]))
        if reason is None:
            continue
        if str(reason).startswith("skip:"):
            item.add_marker(pytest.mark.skip(reason=f"known gap of backend {callspec.params['backend']!r}: "
                                                    f"{reason[5:].strip()}"))
        else:
            item.add_marker(pytest.mark.xfail(reason=f"known gap of backend {callspec.params['backend']!r}: "
                                                     f"{reason}", strict=False))
