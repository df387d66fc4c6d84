"""The Dask backend (polyfunc_dask) on dask's local schedulers: results stay lazy, every
transform agrees with the NumPy backend (and per-sample gradients with torch.func), vmap over
a chunked batch is blockwise, and bad input gets a clear error.  The distributed cluster
tests are in test_dask_cluster.py."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

da = pytest.importorskip("dask.array")

import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402
from dask.core import get_dependencies  # noqa: E402
from dask.sizeof import sizeof  # noqa: E402

import polyfunc as pf  # noqa: E402
import polyfunc.plugin  # noqa: E402,F401
import polyfunc.numpy as pnp  # noqa: E402
from polyfunc.errors import BackendError, ShapeError  # noqa: E402
from polyfunc.testing import assert_backends_agree, check_grads, to_numpy  # noqa: E402

@pytest.fixture(autouse=True)
def _threaded_scheduler_and_no_hints():
    """dask's default scheduler, as users have it (the suite's conftest makes the other files'
    dask tests compute in the calling thread, for speed), and no chunk hints left by earlier
    tests in the process (as the `backend` fixture does): these tests assert chunks, and a hint
    for a length of 3, 5 or 7 split the parameters' axes when the order of tests changed."""
    pf.get_backend("dask").clear_caches()
    with dask.config.set(scheduler="threads"):
        yield


N = 120          # the batch; no other axis in these tests has this length
D_IN, D_HID, D_OUT = 5, 7, 3


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return {"w1": rng.normal(size=(D_IN, D_HID)) * 0.5, "b1": rng.normal(size=D_HID) * 0.1,
            "w2": rng.normal(size=(D_HID, D_OUT)) * 0.5, "b2": rng.normal(size=D_OUT) * 0.1}


def _data(n=N, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D_IN)), rng.integers(0, D_OUT, size=n)


def loss(p, x, y):
    """Cross-entropy of one example through a tanh MLP (the label picks its logit: a gather)."""
    h = pnp.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    m = pnp.max(logits)
    return pnp.log(pnp.sum(pnp.exp(logits - m))) + m - logits[y]


def _on(backend, tree):
    return {k: pnp.asarray(v, backend=backend) for k, v in tree.items()}


def _np(tree):
    return {k: to_numpy(v) for k, v in tree.items()}


def _forbid_compute(dsk, keys, **kwargs):
    raise AssertionError("a dask graph was computed while polyfunc traced or transformed")


@pytest.fixture
def no_compute():
    """Any compute inside the block fails the test."""
    with dask.config.set(scheduler=_forbid_compute):
        yield


# ---------------------------------------------------------------- laziness
def test_transforms_build_graphs_without_computing(no_compute):
    x, y = _data()
    p = _on("dask", _params())
    xs, ys = da.from_array(x, chunks=(30, D_IN)), da.from_array(y, chunks=30)
    per = pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))(p, xs, ys)
    full = pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, xs, ys)))(p)
    jitted = pf.jit(lambda p: pnp.sum(pf.vmap(loss, (None, 0, 0))(p, xs, ys)))(p)
    out, tangent = pf.jvp(lambda w: pnp.tanh(xs @ w), (p["w1"],), (p["w1"],))
    graph = pf.make_graph(lambda p: pf.vmap(loss, (None, 0, 0))(p, xs, ys))(p)   # abstract evaluation
    for leaf in [*per.values(), *full.values(), jitted, out, tangent]:
        assert isinstance(leaf, da.Array)
    assert per["w1"].shape == (N, D_IN, D_HID) and per["w1"].chunks[0] == (30,) * 4
    assert graph.outvars and "120" in str(graph)


def test_backend_is_registered_and_owns_dask_arrays():
    info = {b.name: b for b in pf.backends()}["dask"]
    assert info.available and "dask.array.core.Array" in info.array_types
    b = pf.get_backend("dask")
    assert b.owns_type(da.Array) and not b.owns_type(np.ndarray)
    assert pf.plugin.backend_of(da.ones(3)) is b


# ---------------------------------------------------------------- agreement with NumPy
def _f(w, x):
    return pnp.sum(pnp.tanh(x @ w) ** 2) + pnp.sum(pnp.sin(w))


TRANSFORMS = {
    "grad": lambda w, x: pf.grad(_f)(w, x),
    "vjp": lambda w, x: pf.vjp(lambda w: pnp.tanh(x @ w), w)[1](pnp.ones_like(x @ w))[0],
    "jvp": lambda w, x: pf.jvp(lambda w: pnp.tanh(x @ w), (w,), (pnp.ones_like(w),))[1],
    "jacrev": lambda w, x: pf.jacrev(lambda w: pnp.tanh(x @ w))(w),
    "jacfwd": lambda w, x: pf.jacfwd(lambda w: pnp.tanh(x @ w))(w),
    "hessian": lambda w, x: pf.hessian(_f)(w, x),
    "vmap": lambda w, x: pf.vmap(lambda r: pnp.tanh(r @ w), in_dims=0)(x),
    "jit": lambda w, x: pf.jit(pf.grad(_f))(w, x),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_agrees_with_numpy(name):
    rng = np.random.default_rng(3)
    w, x = rng.normal(size=(4, 3)), rng.normal(size=(6, 4))
    with pf.use_backend("numpy"):      # the reference, whichever backend POLYFUNC_BACKEND makes the default
        want = to_numpy(TRANSFORMS[name](w, x))
    wd, xd = pnp.asarray(w, backend="dask"), da.from_array(x, chunks=(2, 4))
    with pf.use_backend("dask"):       # ones_like makes the selected backend's array (issue 15)
        got = TRANSFORMS[name](wd, xd)
    assert isinstance(got, da.Array), f"{name} on dask returned {type(got).__name__}"
    np.testing.assert_allclose(got.compute(), want, rtol=1e-10, atol=1e-12, err_msg=name)


def test_check_grads_on_dask():
    rng = np.random.default_rng(4)
    w, x = pnp.asarray(rng.normal(size=(3, 2)), backend="dask"), da.from_array(rng.normal(size=(8, 3)), chunks=(4, 3))
    check_grads(lambda w: _f(w, x), [w], order=2)


def test_assert_backends_agree_includes_dask():
    results = assert_backends_agree(lambda w, x: pf.grad(_f)(w, x),
                                    [np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(0, 2, 12).reshape(4, 3)])
    assert "dask" in results and "numpy" in results


def test_per_sample_and_full_gradients_agree_with_numpy_and_torch_func():
    torch = pytest.importorskip("torch")
    from torch.func import grad as tgrad, vmap as tvmap
    x, y = _data()
    p = _params()
    want_per = _np(pf.vmap(pf.grad(loss), (None, 0, 0))(p, x, y))
    want_full = _np(pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, x, y)))(p))
    xs, ys = da.from_array(x, chunks=(25, D_IN)), da.from_array(y, chunks=25)   # uneven last chunk
    pd = _on("dask", p)
    per, full = dask.compute(pf.vmap(pf.grad(loss), (None, 0, 0))(pd, xs, ys),
                             pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, xs, ys)))(pd))
    for k in p:
        np.testing.assert_allclose(per[k], want_per[k], rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(full[k], want_full[k], rtol=1e-10, atol=1e-12, err_msg=k)

    def tloss(tp, tx, ty):
        logits = torch.tanh(tx @ tp["w1"] + tp["b1"]) @ tp["w2"] + tp["b2"]
        return torch.logsumexp(logits, 0) - torch.gather(logits, 0, ty.reshape(1))[0]
    tp = {k: torch.tensor(v) for k, v in p.items()}
    tper = tvmap(tgrad(tloss), in_dims=(None, 0, 0))(tp, torch.tensor(x), torch.tensor(y))
    for k in p:
        np.testing.assert_allclose(per[k], tper[k].numpy(), rtol=1e-10, atol=1e-12, err_msg=f"{k} vs torch.func")


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 12), chunk=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_vmap_of_grad_agrees_with_numpy_for_any_chunking(n, chunk, seed):
    rng = np.random.default_rng(seed)
    w, x = rng.normal(size=(3, 2)), rng.normal(size=(n, 3))
    f = pf.vmap(pf.grad(lambda w, r: pnp.sum(pnp.sin(r @ w) * pnp.exp(-(r @ w) ** 2))), in_dims=(None, 0))
    want = to_numpy(f(w, x))
    got = f(pnp.asarray(w, backend="dask"), da.from_array(x, chunks=(chunk, 3)))
    assert got.chunks[0] == da.from_array(x, chunks=(chunk, 3)).chunks[0]
    np.testing.assert_allclose(got.compute(), want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- blockwise batching
class _TaskShapes(Callback):
    """Records the shape of every task's result that holds its data while dask computes (local
    schedulers).  A broadcast view (a cotangent spread over the batch) holds one row whatever its
    shape: dask's own memory estimate (sizeof) counts it so, and so does this record."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def _posttask(self, key, result, dsk, state, worker_id):
        if isinstance(result, np.ndarray) and sizeof(result) >= result.nbytes:
            self.shapes.append(tuple(result.shape))


def _graph(*arrays):
    """The tasks of these arrays' graphs, merged: {key: task}."""
    dsk = {}
    for a in arrays:
        dsk.update(dict(a.__dask_graph__()))
    return dsk


def _per_sample(chunk):
    x, y = _data()
    xs, ys = da.from_array(x, chunks=(chunk, D_IN)), da.from_array(y, chunks=chunk)
    return pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))(_on("dask", _params()), xs, ys)


def onehot_loss(p, x, t):
    """``loss`` with the label as a one-hot row ``t`` (no integer gather)."""
    h = pnp.tanh(x @ p["w1"] + p["b1"])
    logits = h @ p["w2"] + p["b2"]
    m = pnp.max(logits)
    return pnp.log(pnp.sum(pnp.exp(logits - m))) + m - pnp.sum(logits * t)


def _full(chunk, f=onehot_loss):
    # vmap inside grad: the core's generic gather rule folds a batched operand's batch into the
    # indexed axis when the operand is a tracer, so the label pick is one-hot here (see README "Dask")
    x, y = _data()
    xs, ts = da.from_array(x, chunks=(chunk, D_IN)), da.from_array(np.eye(D_OUT)[y], chunks=(chunk, D_OUT))
    return pf.grad(lambda p: pnp.mean(pf.vmap(f, (None, 0, 0))(p, xs, ts)))(_on("dask", _params()))


@pytest.mark.parametrize("build", [_per_sample, _full], ids=["vmap-grad", "grad-mean-vmap"])
def test_batch_stays_chunked_and_the_graph_widens_with_chunks(build):
    tasks = {}
    for chunk in (40, 20, 10):      # 3, 6, 12 chunks of the batch
        out = build(chunk)
        tasks[N // chunk] = len(_graph(*out.values()))
        with _TaskShapes() as rec:
            # persist: every chunk computed and kept apart (compute would concatenate them at the end)
            dask.persist(out, scheduler="sync")
        # no task ever holds the whole batch: every result is at most one chunk long along it
        assert rec.shapes and all(N not in s for s in rec.shapes), [s for s in rec.shapes if N in s][:5]
    # tasks per added chunk stay about constant: 6 more chunks add about twice what 3 more did
    assert 0 < tasks[6] - tasks[3] and tasks[12] - tasks[6] >= 1.5 * (tasks[6] - tasks[3]), tasks


def test_mean_over_the_batch_is_a_tree_reduction():
    chunks = 24
    out = _full(N // chunks)["w1"]
    dsk = _graph(out)
    widest = max(len(get_dependencies(dsk, k)) for k in dsk)
    # a flat reduction would have one task depending on all 24 chunk results
    assert widest < chunks, f"a task depends on {widest} others with {chunks} chunks: not a tree"
    np.testing.assert_allclose(out.compute(), to_numpy(_full_numpy()["w1"]), rtol=1e-10, atol=1e-12)


def _full_numpy():
    x, y = _data()
    return pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, x, y)))(_params())


def test_full_gradient_with_an_integer_label_gather_agrees_and_stays_chunked():
    x, y = _data()
    xs, ys = da.from_array(x, chunks=(20, D_IN)), da.from_array(y, chunks=20)
    out = pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, xs, ys)))(_on("dask", _params()))
    assert all(v.chunks == tuple((n,) for n in v.shape) for v in out.values())
    got = dask.compute(out, scheduler="sync")[0]
    for k, want in _np(_full_numpy()).items():
        np.testing.assert_allclose(got[k], want, rtol=1e-10, atol=1e-12, err_msg=k)


# ---------------------------------------------------------------- bad input
def test_mixing_dask_and_numpy_arrays_names_both_and_the_fix():
    x = da.ones(4, chunks=2)
    with pytest.raises(BackendError) as e:
        pnp.add(x, np.ones(4))
    msg = str(e.value)
    assert "'dask'" in msg and "'numpy'" in msg and "asarray" in msg
    with pytest.raises(BackendError, match="dask.*numpy|numpy.*dask"):
        pf.grad(lambda w: pnp.sum(w * np.arange(4.0)))(x)
    # the conversion the message names works
    np.testing.assert_allclose(pnp.add(x, pnp.asarray(np.ones(4), backend="dask")).compute(), 2.0)


def test_unknown_chunk_lengths_get_a_clear_error():
    x = da.from_array(np.arange(10.0), chunks=5)
    masked = x[x > 3]                        # dask does not know this length before computing
    with pytest.raises(ShapeError, match="compute_chunk_sizes"):
        pf.grad(lambda v: pnp.sum(v ** 2))(masked)
    ok = masked.compute_chunk_sizes()
    np.testing.assert_allclose(pf.grad(lambda v: pnp.sum(v ** 2))(ok).compute(), 2 * np.arange(4.0, 10.0))


def test_boolean_mask_indexing_under_grad_matches_numpy():
    # the mask's length depends on the data: the index is computed (as eager NumPy and torch.func
    # do) and the gradient scatters back into a lazy array of the input's shape
    x = da.from_array(np.arange(6.0), chunks=3)
    g = pf.grad(lambda v: pnp.sum(v[v > 2.0] ** 2))(x)
    assert isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), pf.grad(lambda v: pnp.sum(v[v > 2.0] ** 2))(np.arange(6.0)))
    np.testing.assert_allclose(g.compute(), [0, 0, 0, 6, 8, 10])



def test_a_constant_boolean_mask_is_computed_while_tracing_and_a_traced_one_is_refused():
    # README "Dask", known limit: the constant mask is computed (one dask compute, of the mask) to
    # find its True positions; the function's result stays lazy
    x = da.from_array(np.arange(6.0), chunks=3)
    mask = da.from_array(np.array([True, False, True, True, False, True]), chunks=3)
    starts = []
    with Callback(start=lambda dsk: starts.append(len(dsk))):
        out = pf.jit(lambda v: pnp.sum(v[mask] ** 2))(x)
    assert isinstance(out, da.Array) and len(starts) == 1
    np.testing.assert_allclose(out.compute(), np.sum(np.arange(6.0)[mask.compute()] ** 2))
    # a mask computed from the traced argument selects a data-dependent count: refused, naming where
    with pytest.raises(IndexError, match="where"):
        pf.jit(lambda v: pnp.sum(v[v > 2.0]))(x)
    with pytest.raises(IndexError, match="where"):
        pf.vmap(lambda v: pnp.sum(v[v > 2.0]))(x.reshape(2, 3))

def test_random_draws_under_vmap_are_lazy_and_per_sample():
    pf.random.seed(3, backend="dask")
    x = da.from_array(np.zeros((N, 2)), chunks=(30, 2))
    with pf.use_backend("dask"):
        out = pf.vmap(lambda r: r + pf.random.normal((2,)), randomness="different")(x)
    assert isinstance(out, da.Array) and out.shape == (N, 2)
    v = out.compute()
    assert v.shape == (N, 2) and len(np.unique(v[:, 0])) == N
