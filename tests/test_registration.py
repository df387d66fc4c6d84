"""Plugin loading (once, under a lock) and the registration mistakes a plugin can make: each one
is refused or reported under the plugin's name, and the other backends keep working."""
import importlib.metadata
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.backends as B
import polyfunc.numpy as pnp

HERE = os.path.dirname(__file__)


def _eps(*names):
    return list(importlib.metadata.entry_points(group=B.ENTRY_POINT_GROUP)) + [
        importlib.metadata.EntryPoint(n, f"{n}_plugin", B.ENTRY_POINT_GROUP) for n in names]


@pytest.fixture
def plugins(monkeypatch):
    """Load the installed plugins plus the named test plugins of tests/plugins/."""
    monkeypatch.syspath_prepend(os.path.join(HERE, "plugins"))
    monkeypatch.delenv("POLYFUNC_BACKEND", raising=False)

    def load(*names):
        B.reload_plugins(_eps(*names))
    yield load
    monkeypatch.undo()        # the path and any POLYFUNC_CHECK_KERNELS a test set go before the reload
    B.reload_plugins()


def _numpy_still_works():
    x = pnp.asarray([0.5, 1.0])
    assert type(pnp.sin(x)) is np.ndarray
    np.testing.assert_allclose(pf.grad(lambda v: pnp.sum(pnp.sin(v)))(x), np.cos([0.5, 1.0]))
    np.testing.assert_allclose(pf.jit(lambda v: pnp.sin(v) * 2.0)(x), 2 * np.sin([0.5, 1.0]))


def _info_text(capsys):
    from polyfunc.__main__ import info
    info()
    return capsys.readouterr().out


# ---------------------------------------------------------------- loading once, from many threads
THREADS = textwrap.dedent("""
    import sys, threading
    sys.setswitchinterval(1e-6)          # switch threads as often as possible
    import polyfunc as pf, polyfunc.numpy as pnp, polyfunc.backends as B
    barrier = threading.Barrier(8)
    errors, results = [], []

    def first_call():
        barrier.wait()
        try:
            results.append(float(pf.grad(lambda x: pnp.sin(x) * 2.0)(0.0)))
        except BaseException as e:
            errors.append(f"{type(e).__name__}: {e}")

    ts = [threading.Thread(target=first_call) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("loads", B.load_count[0], "results", sorted(set(results)), "errors", errors)
""")


@pytest.mark.parametrize("run", range(4))
def test_eight_threads_first_call_load_plugins_once(run):
    env = {k: v for k, v in os.environ.items() if k != "POLYFUNC_BACKEND"}
    out = subprocess.run([sys.executable, "-c", THREADS], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "loads 1 results [2.0] errors []", out.stdout


def test_reentrant_load_from_a_hook_does_not_deadlock(plugins):
    # a hook that asks polyfunc for its plugin manager while plugins load sees the load in progress
    import types
    seen = []
    mod = types.ModuleType("reentrant_plugin")

    def polyfunc_register_backends(register):
        seen.append(B.plugin_manager())
    mod.polyfunc_register_backends = polyfunc_register_backends
    sys.modules["reentrant_plugin"] = mod
    try:
        plugins("reentrant")
        assert seen and seen[0] is B.plugin_manager()
        assert B.load_count[0] >= 1 and "reentrant" not in pf.failed_plugins()
    finally:
        del sys.modules["reentrant_plugin"]


# ---------------------------------------------------------------- one test plugin per mistake
def test_raising_graph_compiler_is_isolated(plugins):
    plugins("badcompiler")
    f = pf.jit(lambda v: pnp.sin(v) * 2.0)
    np.testing.assert_allclose(f(np.array([0.5, 1.0])), 2 * np.sin([0.5, 1.0]))
    assert "RuntimeError in polyfunc_graph_compiler: compiler crashed on purpose" in pf.failed_plugins()["badcompiler"]
    torch = pytest.importorskip("torch")
    g = pf.jit(lambda v: torch.sin(v) * 2.0)
    np.testing.assert_allclose(g(torch.tensor([0.5, 1.0], dtype=torch.float64)).numpy(), 2 * np.sin([0.5, 1.0]))
    _numpy_still_works()


def test_raising_conformance_gaps_hook_is_isolated(plugins):
    from polyfunc.testing import pytest_plugin
    plugins("badgaps", "typos")
    pytest_plugin._gap_cache.clear()
    # the typo plugin's own gaps still arrive, asked after the broken hook
    gaps = B.conformance_gaps(pf.get_backend("typo"))
    assert gaps["sin"] == "fine: a real case" and "test_forwrd" in gaps
    assert "RuntimeError in polyfunc_conformance_gaps: gaps hook crashed on purpose" in pf.failed_plugins()["badgaps"]
    # what the pytest plugin calls while collecting: a dict, not an exception
    try:
        assert "sin" in pytest_plugin.backend_gaps("typo")
        assert isinstance(pytest_plugin.backend_gaps("numpy"), dict)
    finally:
        pytest_plugin._gap_cache.clear()
    assert "typos" in {impl.plugin_name for impl in B.plugin_manager().hook.polyfunc_conformance_gaps.get_hookimpls()}
    _numpy_still_works()


def test_raising_register_primitives_is_recorded(plugins, capsys):
    plugins("badprims")
    assert "RuntimeError while registering primitives: primitive table corrupt on purpose" \
        in pf.failed_plugins()["badprims"]
    _numpy_still_works()
    assert "badprims: RuntimeError" in _info_text(capsys)


def test_sys_exit_at_import_is_recorded(plugins, capsys):
    plugins("sysexit")
    assert "SystemExit('sysexit_plugin refuses to load') at import" in pf.failed_plugins()["sysexit"]
    _numpy_still_works()
    assert "sysexit: SystemExit" in _info_text(capsys)


def test_duplicate_backend_name_is_refused(plugins, capsys):
    plugins("dupname")
    err = pf.failed_plugins()["dupname"]
    assert "backend 'numpy' refused: plugin 'numpy' already registered a backend named 'numpy'" in err
    assert type(pf.get_backend("numpy")).__name__ == "NumpyBackend"
    _numpy_still_works()
    text = _info_text(capsys)
    assert "dupname: backend 'numpy' refused" in text


def test_two_backends_owning_one_array_type_refuses_the_second(plugins, capsys):
    plugins("typeclash")
    # the first array seen decides, and the NumPy backend (registered first) keeps numpy.ndarray
    np.testing.assert_allclose(pnp.sin(pnp.asarray([0.5])), np.sin([0.5]))
    err = pf.failed_plugins()["typeclash"]
    assert "backend 'clash' refused: it claims arrays of type numpy.ndarray, which backend 'numpy'" in err
    with pytest.raises(pf.BackendError, match="unknown backend 'clash'.*(?s:.*)typeclash.*refused"):
        pf.get_backend("clash")
    _numpy_still_works()
    text = _info_text(capsys)
    assert "typeclash: backend 'clash' refused" in text and "clash    [" not in text


def test_type_clash_found_by_info_before_any_array(plugins, capsys):
    plugins("typeclash")
    text = _info_text(capsys)
    assert "backend 'clash' refused: it claims arrays of type numpy.ndarray" in text
    assert {b.name for b in pf.backends()} >= {"numpy"} and "clash" not in {b.name for b in pf.backends()}


def test_kernel_key_typo_gap_key_typo_and_misspelled_hook(plugins, capsys):
    plugins("typos")
    err = pf.failed_plugins()["typos"]
    assert "backend 'typo' has a kernel for 'tanhh', which is no primitive; did you mean 'tanh'?" in err
    assert "'polyfunc_register_primitive' is not a polyfunc hook (did you mean " \
           "'polyfunc_register_primitives'?)" in err
    assert "<hooks>" not in pf.failed_plugins()
    # the backend itself works: its kernels run on its arrays
    from typos_plugin import TypoArray
    np.testing.assert_allclose(pf.ops.sin(TypoArray([0.5])).data, np.sin([0.5]))
    text = _info_text(capsys)
    assert "typo     [available]" in text and "kernels: 1/" in text and "missing: abs, acos" in text and "more)" in text
    assert "gap key 'jpv:sin' (did you mean " in text
    assert "for backend 'typo' matches no conformance test" in text
    assert "gap key 'test_forwrd' (did you mean 'test_forward'?)" in text
    assert "'vmap:cos'" not in text and "gap key 'sin'" not in text
    _numpy_still_works()


def test_gap_key_typos_are_reported_when_plugins_load(plugins):
    from polyfunc.testing import pytest_plugin
    plugins("gaptypo")
    # no info, no conformance run: loading the plugins is enough
    err = pf.failed_plugins()["gaptypo"]
    for typo, near in [("tanhh", "tanh"), ("jvp:sinn", "jvp:sin"), ("test_reflected_operator", "test_reflected_operators")]:
        assert f"gap key {typo!r} (did you mean {near!r}?) for backend 'gaptypo' matches no conformance test" in err
    for real in ("'sin'", "'jvp:cos'", "test_forward[cos", "'test_random_randint'"):
        assert real not in err
    assert err.count("gap key") == 3
    # the plugin's other registrations stand: its backend runs, and all its gaps still reach the suite
    from gaptypo_plugin import REAL, TYPOS, GapArray
    assert "gaptypo" in {b.name for b in pf.backends() if b.available}
    np.testing.assert_allclose(pf.ops.cos(pf.ops.sin(GapArray([0.5]))).data, np.cos(np.sin([0.5])))
    pytest_plugin._gap_cache.clear()
    try:
        assert pytest_plugin.backend_gaps("gaptypo") == {**REAL, **TYPOS}
    finally:
        pytest_plugin._gap_cache.clear()
    _numpy_still_works()


def test_gap_key_typo_of_a_runtime_backend_is_reported(plugins):
    # register_backend (no entry point) checks the new backend's gaps as loading does
    plugins("gaptypo")
    from gaptypo_plugin import GapTypoBackend

    class Late(GapTypoBackend):
        name = "gaptypo-late"
    assert "for backend 'gaptypo-late'" not in pf.failed_plugins()["gaptypo"]
    B.register_backend(Late(), "late")
    assert "gap key 'tanhh' (did you mean 'tanh'?) for backend 'gaptypo-late'" in pf.failed_plugins()["gaptypo"]
    assert "late" not in pf.failed_plugins()


def test_load_time_gap_check_reads_the_suite_the_way_pytest_does():
    # the load-time check reads the suite's test names from source (no pytest); they are the functions
    # pytest collects, so a key naming a real test is never reported
    from polyfunc import gapkeys
    from polyfunc.testing.conformance import gapkeys as exact
    assert gapkeys.suite_test_names() == exact.suite_test_names()
    assert gapkeys.unmatched({"random_normal": "", "jvp:random_uniform": ""}) == []       # names a primitive
    assert exact.unmatched_gap_keys({"random_normal": ""}) == \
        ["'random_normal' (a primitive with tests of its own, no op-table tests)"]     # but no op-table test


def test_every_mistake_at_once_leaves_the_others_working(plugins):
    plugins("badcompiler", "sysexit", "dupname", "typeclash", "typos", "broken")
    _numpy_still_works()
    failed = pf.failed_plugins()
    assert {"sysexit", "dupname", "typos", "broken"} <= set(failed)
    pf.jit(lambda v: v + 1.0)(np.ones(2))          # the compiler is asked (and fails) on first jit
    pnp.sin(pnp.ones(2)); pf.backends()            # the type clash shows on first sight of an array
    assert {"badcompiler", "typeclash"} <= set(pf.failed_plugins())
    assert {b.name for b in pf.backends() if b.available} >= {"numpy", "typo"}


def test_hookimpl_marker_is_optional_and_unmarked_hooks_run(plugins):
    """The one rule: a function named polyfunc_<hook> implements the hook, marked or not."""
    import types
    mod = types.ModuleType("unmarked_plugin")
    calls = []

    def polyfunc_graph_compiler(backend, graph):
        calls.append(backend.name)
        return None
    mod.polyfunc_graph_compiler = polyfunc_graph_compiler
    sys.modules["unmarked_plugin"] = mod
    try:
        plugins("unmarked")
        pf.jit(lambda v: v * 2.0)(np.ones(2))
        assert calls == ["numpy"]
    finally:
        del sys.modules["unmarked_plugin"]


def test_info_shows_kernel_coverage(capsys):
    text = _info_text(capsys)
    n = len(B.kernel_primitives())
    assert f"kernels: {n}/{n} primitives" in text
    assert {"custom_jvp_call", "custom_vjp_call"}.isdisjoint(B.kernel_primitives())


# ---------------------------------------------------------------- kernel results against the contract
@pytest.mark.parametrize("how", ["env", "context"])
def test_checked_kernels_name_primitive_backend_and_plugin(plugins, monkeypatch, how):
    from polyfunc import kernel_check
    if how == "env":
        monkeypatch.setenv("POLYFUNC_CHECK_KERNELS", "1")
    plugins("badkernels")
    from badkernels_plugin import BadArray
    b = pf.get_backend("badkernels")
    x = BadArray(np.array([[0.5, 1.0, 2.0], [0.1, 0.2, 0.3]]))
    ctx = kernel_check.checked(b, "badkernels") if how == "context" else __import__("contextlib").nullcontext()
    with ctx:
        with pytest.raises(pf.KernelError, match=r"backend 'badkernels' \(plugin 'badkernels'\): the kernel for "
                                                 r"primitive 'sin' returned float64\[1\], but the primitive's abstract "
                                                 r"evaluation gives float64\[2, 3\].*fault of the backend plugin"):
            pf.ops.sin(x)
        with pytest.raises(pf.KernelError, match=r"primitive 'exp' returned float32\[2, 3\].*gives float64\[2, 3\]"):
            pf.ops.exp(x)
        with pytest.raises(pf.KernelError, match=r"primitive 'cos' returned a numpy.ndarray, not an array of backend "
                                                 r"'badkernels'.*fault of the backend plugin, not of the calling code"):
            pf.ops.cos(x)
        np.testing.assert_array_equal(pf.ops.neg(x).data, -x.data)
    if how == "context":      # the full checks end with the block; the owner check of the default path stays
        assert pf.ops.sin(x).data.shape == (1,)
        with pytest.raises(pf.KernelError, match=r"primitive 'cos' returned a numpy.ndarray, not an array of "
                                                 r"backend 'badkernels' \(expected badkernels_plugin.BadArray\)"):
            pf.ops.cos(x)
    _numpy_still_works()


def test_kernel_checks_are_off_by_default(plugins):
    plugins("badkernels")
    from badkernels_plugin import BadArray
    assert pf.ops.sin(BadArray(np.ones((2, 3)))).data.shape == (1,)    # unchecked: the kernel's word is taken


# ---------------------------------------------------------------- a foreign result, on the default path
def test_a_kernel_returning_a_torch_tensor_is_blamed_on_its_plugin(plugins):
    torch = pytest.importorskip("torch")
    plugins("foreign")
    from foreign_plugin import ForeignArray
    x = ForeignArray(np.array([0.5, 1.0]))
    msg = (r"backend 'foreign' \(plugin 'foreign'\): the kernel for primitive 'sin' returned a torch.Tensor, "
           r"not an array of backend 'foreign' \(expected foreign_plugin.ForeignArray\)\. This is a fault of "
           r"the backend plugin, not of the calling code")
    with pytest.raises(pf.KernelError, match=msg):
        pf.ops.sin(x)
    with pytest.raises(pf.KernelError, match=msg):        # every call, not only the first: the kernel stays wrapped
        pf.ops.sin(x)
    # under a transform the same kernel runs on the primal values, and the same plugin is blamed (not
    # "'torch' and 'foreign' meet" in some later primitive, nor the user)
    with pytest.raises(pf.KernelError, match=msg):
        pf.grad(lambda v: pf.ops.reduce_sum(pf.ops.mul(pf.ops.sin(v), 2.0), axes=(0,)))(x)
    assert torch.is_tensor(pf.get_backend("foreign").kernels["sin"].first_call_of(x))


def test_a_kernel_returning_a_list_or_a_foreign_half_is_blamed(plugins):
    plugins("foreign")
    from foreign_plugin import ForeignArray
    with pytest.raises(pf.KernelError, match=r"plugin 'foreign'\): the kernel for primitive 'cos' returned a "
                                             r"builtins.list, not an array of backend 'foreign' \(expected "
                                             r"foreign_plugin.ForeignArray\)"):
        pf.ops.cos(ForeignArray([0.5]))
    with pytest.raises(pf.KernelError, match=r"primitive 'slogdet' returned a numpy.float64 \(result 1\), not an "
                                             r"array of backend 'foreign'"):
        pf.ops.slogdet(ForeignArray(np.eye(2)))
    _numpy_still_works()


def test_a_right_kernel_is_checked_once_then_runs_bare(plugins):
    plugins("foreign")
    from foreign_plugin import ForeignArray, ForeignBackend
    b = pf.get_backend("foreign")
    raw = b.kernels["neg"].first_call_of
    assert raw is not None and b.kernels["neg"] is not raw          # wrapped until its first call
    y = pf.ops.neg(ForeignArray([1.0, 2.0]))
    np.testing.assert_array_equal(y.data, [-1.0, -2.0])
    assert b.kernels["neg"] is raw is ForeignBackend.kernels["neg"]  # the kernel itself from then on
    # compiled code calls the kernels themselves, even those not yet called eagerly
    from polyfunc.interpreters.codegen import straight_line
    graph = pf.make_graph(lambda v: pf.ops.exp(pf.ops.neg(v)))(ForeignArray([1.0, 2.0]))
    run = straight_line(graph)
    called = {k: v for k, v in run.__wrapped__.__globals__.items() if k.startswith("k")}
    assert set(map(id, called.values())) == {id(raw), id(b.kernels["exp"].first_call_of)}
    np.testing.assert_allclose(run(ForeignArray([1.0, 2.0]))[0].data, np.exp([-1.0, -2.0]))


def test_the_numpy_backend_passes_the_first_call_checks(plugins):
    # every numpy kernel a workload runs is checked once and put back; no false blame on the way
    plugins()
    b = pf.get_backend("numpy")
    x = pnp.linspace(-1.0, 1.0, 6).reshape(2, 3)
    g = pf.grad(lambda w: pnp.sum(pnp.tanh(x @ w) ** 2 + pnp.exp(-w.T).mean()))(pnp.ones((3, 2)))
    v = pf.vmap(pf.jacfwd(lambda r: pnp.sin(r) * 2.0 + pnp.where(r > 0, r, 0.0)))(x)
    assert g.shape == (3, 2) and v.shape == (2, 3, 3)
    bare = [n for n, k in b.kernels.items() if not hasattr(k, "first_call_of")]
    assert {"tanh", "dot_general", "exp", "sin", "select", "mul"} <= set(bare)


def test_checked_numpy_backend_passes_a_workload(monkeypatch):
    monkeypatch.setenv("POLYFUNC_CHECK_KERNELS", "1")
    monkeypatch.delenv("POLYFUNC_BACKEND", raising=False)
    B.reload_plugins()
    try:
        assert getattr(type(pf.get_backend("numpy")), "_kernel_checks", False)
        x = pnp.linspace(-1.0, 1.0, 6).reshape(2, 3)
        g = pf.grad(lambda w: pnp.sum(pnp.tanh(x @ w) ** 2))(pnp.ones((3, 2)))
        j = pf.jacfwd(lambda v: pnp.sin(v) * 2.0 + 1)(pnp.ones(3))
        assert g.shape == (3, 2) and j.shape == (3, 3)
    finally:
        monkeypatch.delenv("POLYFUNC_CHECK_KERNELS")
        B.reload_plugins()
