"""jit's straight-line code (interpreters/codegen.py): the same numbers as the graph
interpreter on every op-table row, intermediates freed after their last use, kernel errors
explained as in eager mode, and torch.compile on request (POLYFUNC_TORCH_COMPILE)."""
import tracemalloc

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.interpreters.graph import eval_graph
from polyfunc.plugin import straight_line
from polyfunc.testing import to_numpy
from polyfunc.testing.optable import OP_CASES

_EFFECTFUL = {"random_normal", "random_uniform", "random_randint", "random_bits"}


def _same(got, want, label):
    assert len(got) == len(want), label
    for g, w in zip(got, want):
        g, w = to_numpy(g), to_numpy(w)
        assert g.dtype == w.dtype and g.shape == w.shape, label
        np.testing.assert_array_equal(g, w, err_msg=label)      # the same kernels: bit for bit


def _graphs(case, sample, backend):
    """The graph of the row's function and of its jvp (the rules' primitives too)."""
    args = [backend.asarray(np.asarray(a), dtype=np.asarray(a).dtype) for a in sample.args]
    try:
        case.fn(*args, **sample.params)
    except Exception:     # a declared gap of this backend's kernel (the conformance suite's xfails)
        return
    yield "forward", pf.make_graph(lambda *a: case.fn(*a, **sample.params))(*args), args
    diff = [i for i in case.diff_args if i < len(args)]
    if case.differentiable and sample.grad and diff and all(np.asarray(args[i]).dtype.kind in "fc" for i in diff):
        def f(*xs):
            full = list(args)
            for i, v in zip(diff, xs):
                full[i] = v
            return case.fn(*full, **sample.params)
        prim = [args[i] for i in diff]

        def jvp(*xt):
            return pf.jvp(f, tuple(xt[:len(prim)]), tuple(xt[len(prim):]))
        yield "jvp", pf.make_graph(jvp)(*prim, *prim), prim + prim


def test_straight_line_equals_the_interpreter_on_every_op_table_row(backend):
    ran = 0
    for case in OP_CASES:
        if case.name in _EFFECTFUL:
            continue
        for sample in case.samples(case.dtypes[0]):
            for kind, graph, args in _graphs(case, sample, backend):
                run = straight_line(graph)
                if run is None:         # a graph of constants only has no backend to call
                    assert not graph.eqns
                    continue
                _same(run(*args), eval_graph(graph, *args), f"{case.name} [{sample.label}] {kind}\n{run.source}")
                ran += 1
    assert ran > 150


def test_jit_replays_through_straight_line_code(backend):
    jf = pf.jit(lambda x: pnp.sum(pnp.tanh(x) * 2.0))
    x = pnp.asarray([0.1, 0.2], backend=backend.name)
    np.testing.assert_allclose(to_numpy(jf(x)), np.sum(np.tanh([0.1, 0.2]) * 2.0))
    (_, _, runner), = jf.cache.values()
    assert "k0(" in runner.source and "tanh" not in runner.source       # kernels called directly
    np.testing.assert_allclose(to_numpy(jf(x)), np.sum(np.tanh([0.1, 0.2]) * 2.0))


def test_multiple_results_and_unused_ones():
    def f(x):
        sign, logdet = pnp.linalg.slogdet(x)     # sign unused: not kept
        return logdet * 2.0
    x = np.diag([2.0, 3.0])
    run = straight_line(pf.make_graph(f)(x))
    assert run([x][0])[0] == pytest.approx(2 * np.log(6.0))
    assert "r[0]" not in run.source and "r[1]" in run.source


def test_intermediates_are_freed_after_their_last_use():
    # twenty 8 MB intermediates: the interpreter holds all of them until it returns, the
    # straight-line function at most a few
    x = np.ones(1_000_000)

    def chain(x):
        for _ in range(20):
            x = pnp.sin(x)
        return x
    graph = pf.make_graph(chain)(x)
    run = straight_line(graph)
    peaks = {}
    for name, fn in (("straight", run), ("interpreter", lambda x: eval_graph(graph, x))):
        tracemalloc.start()
        fn(x)
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["straight"] < 4 * x.nbytes < peaks["interpreter"], peaks


def test_a_kernel_error_under_jit_is_the_eager_error():
    not_pd = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError) as eager:
        pnp.linalg.cholesky(not_pd)
    jf = pf.jit(lambda x: pnp.linalg.cholesky(x) * 2.0)
    with pytest.raises(np.linalg.LinAlgError) as jitted:
        jf(not_pd)
    assert str(jitted.value) == str(eager.value)


def test_torch_compile_on_request(monkeypatch):
    pytest.importorskip("torch")
    import torch._dynamo

    # "eager": TorchDynamo captures the straight-line function and runs it without generating
    # code, so the test pays seconds, not inductor's compile (POLYFUNC_TORCH_COMPILE=1)
    monkeypatch.setenv("POLYFUNC_TORCH_COMPILE", "eager")
    torch._dynamo.reset()       # a fresh cache: the graphs of this test are counted alone
    x = torch.linspace(-1, 1, 5, dtype=torch.float64)
    jf = pf.jit(pf.grad(lambda x: (torch.sin(x) * x).sum()))
    before = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    torch.testing.assert_close(jf(x), torch.cos(x) * x + torch.sin(x))
    torch.testing.assert_close(jf(x * 2), torch.cos(x * 2) * x * 2 + torch.sin(x * 2))
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > before
    monkeypatch.delenv("POLYFUNC_TORCH_COMPILE")
    jg = pf.jit(lambda x: torch.sin(x) * 2)
    jg(x)
    (_, _, runner), = jg.cache.values()
    assert not hasattr(runner, "_torchdynamo_orig_callable")      # unset: straight-line code only
