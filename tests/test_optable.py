"""The conformance suite of polyfunc.testing.conformance, run on every installed
backend (the `backend` fixture of polyfunc's pytest plugin; --polyfunc-backend
or POLYFUNC_BACKEND narrow it), plus tests of the testing helpers themselves."""
import numpy as np
import pytest

import polyfunc as pf
from polyfunc import ops
from polyfunc.testing import assert_backends_agree, check_grads, to_numpy
from polyfunc.testing.conformance.test_conformance import *  # noqa: F401,F403
from polyfunc.testing.optable import ISSUE_NUMPY_NAMES, NUMPY_CASES, OP_CASES


def test_numpy_table_covers_issue_list():
    names = {c.name for c in NUMPY_CASES}
    missing = [n for n in ISSUE_NUMPY_NAMES if n not in names]
    assert not missing, f"polyfunc.numpy functions without a NumpyCase: {missing}"


def test_op_cases_have_valid_samples():
    for case in OP_CASES:
        for dt in case.dtypes:
            a, b = case.samples(dt, seed=1), case.samples(dt, seed=2)
            assert a, f"{case.name} has no samples for {dt}"
            for s, t in zip(a, b):   # same shapes and params for every seed: vmap builds batches this way
                assert [np.shape(x) for x in s.args] == [np.shape(x) for x in t.args], case.name
                assert s.params == t.params, case.name
                for x in s.args:   # inf and nan only in forward-only samples (and isnan's own)
                    assert np.isfinite(np.asarray(x)).all() or case.name == "isnan" \
                        or not s.grad, f"{case.name} [{s.label}]: a derivative sample with inf or nan"


def test_check_grads_catches_a_wrong_jvp_and_a_wrong_vjp():
    @pf.custom_jvp
    def f(x):
        return ops.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return ops.sin(x), ops.mul(t, ops.sin(x))   # wrong: should be cos
    x = np.array([0.3, 1.1])
    with pytest.raises(AssertionError, match=r"order 1, mode fwd"):
        check_grads(f, (x,), order=1, modes=("fwd",))
    with pytest.raises(AssertionError, match=r"order 1, mode rev"):
        check_grads(f, (x,), order=1, modes=("rev",))


def test_check_grads_second_order_names_the_chain():
    @pf.custom_jvp
    def g(x):
        return ops.mul(x, x)

    @g.defjvp
    def g_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        # right first derivative at this point only through a stop_gradient trick: 2x, with a wrong 2nd derivative
        return ops.mul(x, x), ops.mul(t, ops.mul(pf.stop_gradient(x), 2.0))
    x = np.array([0.7, -0.4])
    check_grads(g, (x,), order=1)
    with pytest.raises(AssertionError, match=r"order 2, derivative of (fwd|rev)"):
        check_grads(g, (x,), order=2)


def test_check_grads_passes_on_composites_to_third_order():
    f = lambda x, y: ops.reduce_sum(ops.mul(ops.sin(x), ops.exp(y)), (0,))  # noqa: E731
    check_grads(f, (np.array([0.1, 0.5, 1.0]), np.array([-0.3, 0.2, 0.4])), order=3)


def test_assert_backends_agree_and_to_numpy():
    out = assert_backends_agree(lambda x, y: ops.add(ops.sin(x), y), [np.arange(3.0), np.ones(3)])
    np.testing.assert_allclose(out["numpy"], np.sin(np.arange(3.0)) + 1)
    assert set(out) >= {"numpy"}
    assert to_numpy(2.5).dtype == np.float64
    with pytest.raises(AssertionError, match="differ|dtype"):
        # a function whose result depends on the backend's name cannot agree
        avail = [b.name for b in pf.backends() if b.available]
        if len(avail) < 2:
            raise AssertionError("dtype: only one backend, nothing to compare")
        assert_backends_agree(lambda x: ops.mul(x, 2.0 if pf.current_backend().name == "numpy" else 3.0),
                              [np.ones(2)])


# ---------------------------------------------------------------- the pytest plugin, end to end
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

GAP_PLUGIN = textwrap.dedent('''
    from polyfunc.hookspecs import hookimpl

    class Gaps:
        @hookimpl
        def polyfunc_conformance_gaps(self, backend):
            if backend.name == "numpy":
                return {"sin": "pretend sin is broken", "vmap:cos": "skip: pretend vmap of cos is broken"}

    def pytest_configure(config):
        from polyfunc.backends import plugin_manager
        plugin_manager().register(Gaps(), name="test-gaps")
''')


def _pytest(tmp_path, *args, env=None):
    (tmp_path / "gapplugin.py").write_text(GAP_PLUGIN)
    e = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    e.pop("POLYFUNC_BACKEND", None)
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
                           "--pyargs", "polyfunc.testing.conformance", *args],
                          capture_output=True, text=True, env=e, cwd=tmp_path, timeout=300)


def test_plugin_runs_conformance_with_declared_gaps(tmp_path):
    r = _pytest(tmp_path, "-p", "gapplugin", "--polyfunc-backend=numpy", "-k", "numpy-sin- or numpy-cos-", "-rxXs")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    # sin is not really broken: its tests run as non-strict xfails (XPASS); vmap of cos is skipped
    assert "pretend sin is broken" in out and "pretend vmap of cos is broken" in out, out
    assert "xpassed" in out and "skipped" in out and " passed" in out, out
    assert "[torch-" not in out


def test_plugin_env_var_selects_one_backend(tmp_path):
    r = _pytest(tmp_path, "--co", "-k", "forward and numpy-sin-", env={"POLYFUNC_BACKEND": "numpy"})
    assert "test_forward[numpy-sin" in r.stdout and "[torch-" not in r.stdout, r.stdout + r.stderr


class _Config:
    """Just enough of pytest's Config for selected_backends: the option values."""
    def __init__(self, values):
        self.values = values

    def getoption(self, name, default=None):
        return self.values


def test_plugin_option_parsing(monkeypatch):
    from polyfunc.testing.pytest_plugin import selected_backends
    monkeypatch.delenv("POLYFUNC_BACKEND", raising=False)
    assert selected_backends(_Config(["numpy, torch", "numpy"])) == ["numpy", "torch"]
    assert selected_backends(_Config([])) == [b.name for b in pf.backends()]
    monkeypatch.setenv("POLYFUNC_BACKEND", "numpy")
    assert selected_backends(_Config([])) == ["numpy"]
    assert selected_backends(_Config(["torch"])) == ["torch"]     # the option wins over the variable
    with pytest.raises(pytest.UsageError, match="unknown backend"):
        selected_backends(_Config(["nosuch"]))


def test_check_grads_pytree_arguments_and_bad_input():
    def f(d, ys):
        return ops.add(ops.mul(d["a"], ops.sin(ys[0])), ys[1])
    check_grads(f, ({"a": np.array([0.2, 0.4])}, [np.array([1.0, 2.0]), np.array(0.5)]), order=2)
    with pytest.raises(TypeError, match="close over non-floating"):
        check_grads(lambda x, i: ops.gather(x, i, 0), (np.ones(3), np.array([0, 1])), order=1)
    with pytest.raises(ValueError, match="modes"):
        check_grads(ops.sin, (np.ones(2),), modes=("sideways",))


def _fake_dist(tmp_path, module_text):
    """An installed distribution (a .dist-info folder on PYTHONPATH) whose polyfunc plugin entry point
    loads ``module_text``: how a third-party plugin reaches polyfunc."""
    (tmp_path / "brokenbackend_mod.py").write_text(module_text)
    info = tmp_path / "brokenbackend-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenbackend\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[polyfunc.plugins]\nbrokenbackend = brokenbackend_mod\n")


def test_plugin_that_fails_to_import_fails_its_tests(tmp_path):
    # a plugin whose import breaks must not silently drop its parametrised tests: each fails, naming the error
    _fake_dist(tmp_path, 'raise ImportError("needs nosuchlib")\n')
    r = _pytest(tmp_path, "-k", "forward and sin-float64-0", "-rf")
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "failed-plugin:brokenbackend" in out and "needs nosuchlib" in out, out
    # its tests error out (the backend fixture fails them); the loaded backends' tests still run and pass
    assert " passed" in out and (" error" in out or " failed" in out), out


def test_plugin_availability_check_does_not_swallow_bugs(tmp_path, monkeypatch):
    # only "the device is not there" (BackendError) makes a backend skip; any other error is a bug
    from polyfunc.testing import pytest_plugin as plug
    monkeypatch.setattr(plug, "_avail_cache", {})

    def broken(spec):
        raise AttributeError("a bug in the backend's constructor")
    monkeypatch.setattr(pf, "get_backend", broken)
    with pytest.raises(AttributeError, match="a bug"):
        plug._check_availability("numpy")

    def absent(spec):
        raise pf.errors.BackendError(f"backend {spec!r} has no device 'cuda:7'")
    monkeypatch.setattr(pf, "get_backend", absent)
    ok, why = plug._check_availability("numpy:cuda:7")
    assert not ok and "cuda:7" in why


def test_check_grads_refuses_a_function_without_float_outputs():
    # comparing no outputs would pass whatever the rules do: it is an error
    with pytest.raises(TypeError, match="no floating-point outputs"):
        check_grads(lambda x: ops.gt(x, 0.0), (np.array([0.5, -1.0]),), order=1)
    with pytest.raises(TypeError, match="no floating-point outputs"):
        check_grads(lambda x: ops.argmax(x, 0), (np.array([0.5, -1.0]),), order=2, modes=("rev",))


def test_generic_batch_rules_switch_turns_backend_rules_off():
    # the numpy plugin has its own gather rule for both operands batched; under the switch the core's runs
    from polyfunc.interpreters import batching
    calls = []
    real = batching._backend_rule

    def spy(prim, vals):
        rule = real(prim, vals)
        calls.append((prim.name, rule is not None))
        return rule
    x, i = np.arange(12.0).reshape(2, 6), np.array([[0, 5], [1, 1]])
    want = np.stack([x[0][i[0]], x[1][i[1]]])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batching, "_backend_rule", spy)
        np.testing.assert_array_equal(to_numpy(pf.vmap(lambda a, b: ops.gather(a, b, 0))(x, i)), want)
        assert ("gather", True) in calls
        calls.clear()
        with pf.testing.generic_batch_rules():
            np.testing.assert_array_equal(to_numpy(pf.vmap(lambda a, b: ops.gather(a, b, 0))(x, i)), want)
        assert ("gather", False) in calls and ("gather", True) not in calls
