"""vmap on every installed backend: the seed's examples, nesting, composition
with every autodiff transform, chunking, randomness, the loop fallback."""
import warnings

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.testing import to_numpy as _to_numpy


def to_numpy(x):
    return np.asarray(x) if isinstance(x, (list, tuple)) else _to_numpy(x)


def close(a, b, rtol=1e-6, atol=1e-8):
    np.testing.assert_allclose(to_numpy(a), to_numpy(b), rtol=rtol, atol=atol)


def rand(*shape, seed=0):
    return pnp.asarray(np.random.default_rng(seed + sum(shape)).standard_normal(shape), backend=pf.current_backend())


def test_vmap_model(backend):
    weights = rand(5)

    def model(feature_vec):
        assert feature_vec.ndim == 1
        return pnp.maximum(feature_vec.dot(weights), 0.0)
    examples = rand(3, 5)
    close(pf.vmap(model)(examples), pnp.stack([model(e) for e in examples]))


def compute_loss(weights, example, target):
    y = pnp.maximum(pnp.dot(example, weights), 0.0)
    return ((y - target) ** 2).mean()


def test_per_sample_gradients(backend):
    w, xs, ys = rand(5), rand(3, 5), rand(3)
    got = pf.vmap(pf.grad(compute_loss), in_dims=(None, 0, 0))(w, xs, ys)
    want = pnp.stack([pf.grad(compute_loss)(w, xs[i], ys[i]) for i in range(3)])
    close(got, want)


def test_batched_jacobians_and_hessians(backend):
    x = rand(64, 5)
    j = pf.vmap(pf.jacrev(pnp.sin))(x)
    assert j.shape == (64, 5, 5)
    close(j[3], pnp.diag(pnp.cos(x[3])))
    h = pf.vmap(pf.hessian(lambda v: pnp.sin(v).sum()))(x[:4])
    close(h[2], pnp.diag(-pnp.sin(x[2])))


def test_nested_vmap_and_in_dims(backend):
    x, y = rand(3, 4), rand(4, 2)
    got = pf.vmap(pf.vmap(lambda a, b: a * b, in_dims=(0, 0)), in_dims=(None, 1))(x[0], y)
    assert got.shape == (2, 4)
    close(got, to_numpy(y).T * to_numpy(x[0])[None, :])
    close(pf.vmap(lambda a, b: a @ b, in_dims=(None, 1))(x, y), (to_numpy(x) @ to_numpy(y)).T)


@pytest.mark.parametrize("in_dim,out_dim", [(0, 0), (1, 0), (-1, 1), (0, -1)])
def test_in_out_dims(backend, in_dim, out_dim):
    x = rand(3, 4)
    got = pf.vmap(lambda v: pnp.sin(v) * 2.0, in_dims=in_dim, out_dims=out_dim)(x)
    want = np.moveaxis(np.moveaxis(np.sin(to_numpy(x)) * 2.0, in_dim, 0), 0, out_dim)
    close(got, want)


def test_pytree_in_dims_and_out_dims(backend):
    d = {"a": rand(3, 2), "b": rand(2)}
    out = pf.vmap(lambda d: {"s": d["a"] + d["b"], "c": d["b"].sum()}, in_dims=({"a": 0, "b": None},),
                  out_dims={"s": 1, "c": None})(d)
    close(out["s"], (to_numpy(d["a"]) + to_numpy(d["b"])).T)
    close(out["c"], to_numpy(d["b"]).sum())


def test_unbatched_output_is_broadcast(backend):
    out = pf.vmap(lambda x: pnp.ones(2))(rand(3))
    close(out, np.ones((3, 2)))


def test_grad_of_vmap(backend):
    w, xs = rand(3), rand(4, 3)
    g = pf.grad(lambda w: pf.vmap(lambda x: pnp.tanh(x @ w))(xs).sum())(w)
    want = sum(to_numpy(pf.grad(lambda w: pnp.tanh(xs[i] @ w))(w)) for i in range(4))
    close(g, want)


def test_vmap_of_jacfwd_and_jacrev(backend):
    x = rand(4, 3)
    f = lambda v: pnp.tanh(v) * v.sum()  # noqa: E731
    # per row: J_ij = tanh(v_i) + [i == j] (1 - tanh(v_i)^2) sum(v), worked out by hand
    xn = to_numpy(x)
    t = np.tanh(xn)
    want = np.repeat(t[:, :, None], 3, axis=2) + np.einsum("bi,ij->bij", (1 - t ** 2) * xn.sum(1, keepdims=True),
                                                            np.eye(3))
    close(pf.vmap(pf.jacfwd(f))(x), want)
    close(pf.vmap(pf.jacrev(f))(x), want)


def test_maml_shape(backend):
    # vmap over tasks of a loss whose inner loop takes grad steps, then grad of the outer loss
    def loss(w, x, y):
        return ((pnp.tanh(x @ w) - y) ** 2).mean()

    def adapted_loss(w, task):
        xs, ys, xq, yq = task
        for _ in range(2):
            w = w - 0.1 * pf.grad(loss)(w, xs, ys)
        return loss(w, xq, yq)

    def outer(w, tasks):
        return pf.vmap(adapted_loss, in_dims=(None, 0))(w, tasks).mean()
    w = rand(3)
    tasks = (rand(4, 5, 3), rand(4, 5, seed=1), rand(4, 5, 3, seed=2), rand(4, 5, seed=3))
    g = pf.grad(outer)(w, tasks)
    want = sum(to_numpy(pf.grad(adapted_loss)(w, tuple(t[i] for t in tasks))) for i in range(4)) / 4
    close(g, want, rtol=1e-6)


@pytest.mark.parametrize("chunk", [1, 2, 3, 10])
def test_chunk_size_same_answer(backend, chunk):
    x = rand(7, 3)
    f = lambda v: (pnp.sin(v) ** 2, v.sum())  # noqa: E731
    a = pf.vmap(f, chunk_size=chunk)(x)
    xn = to_numpy(x)
    close(a[0], np.sin(xn) ** 2)          # against NumPy, not against unchunked vmap
    close(a[1], xn.sum(1))


def test_randomness_modes(backend):
    pf.random.seed(1)
    diff = pf.vmap(lambda x: x + pf.random.normal(()), randomness="different")(pnp.zeros(4))
    assert len(set(np.round(to_numpy(diff), 8))) == 4
    same = pf.vmap(lambda x: x + pf.random.normal(()), randomness="same")(pnp.zeros(4))
    assert len(set(np.round(to_numpy(same), 8))) == 1
    with pytest.raises(pf.TransformError, match="randomness"):
        pf.vmap(lambda x: x + pf.random.normal(()))(pnp.zeros(4))


def test_random_seed_is_reproducible(backend):
    pf.random.seed(123)
    a = to_numpy(pf.random.normal((5,)))
    pf.random.seed(123)
    b = to_numpy(pf.random.normal((5,)))
    np.testing.assert_array_equal(a, b)
    u = to_numpy(pf.random.uniform((2000,), low=2.0, high=3.0))
    assert u.min() >= 2.0 and u.max() < 3.0 and abs(u.mean() - 2.5) < 0.05
    r = to_numpy(pf.random.randint(0, 5, (1000,)))
    assert set(np.unique(r)) == {0, 1, 2, 3, 4}
    assert 0.4 < to_numpy(pf.random.bernoulli(0.5, (2000,))).mean() < 0.6


# ------------------------------------------------------------------ the loop fallback
from polyfunc.primitive import Primitive, abstract_eval_rules  # noqa: E402
from polyfunc.trace import ShapedArray  # noqa: E402

# a third-party primitive with kernels but no batching rule (an impl would be batched through its body)
_twice_p = Primitive("test_twice_no_batch_rule")
abstract_eval_rules[_twice_p] = lambda x: ShapedArray(x.shape, x.dtype)


@pytest.fixture(autouse=True)
def _twice_kernels(backend):
    backend.kernels[_twice_p.name] = lambda x: x * 2
    yield
    backend.kernels.pop(_twice_p.name, None)


def test_missing_batch_rule_loops_with_one_warning(backend, monkeypatch):
    monkeypatch.delenv("POLYFUNC_VMAP_FALLBACK", raising=False)
    from polyfunc.interpreters import batching
    batching._warned.discard(_twice_p.name)
    x = rand(3, 2)
    with pytest.warns(RuntimeWarning, match="test_twice_no_batch_rule"):
        out = pf.vmap(lambda v: _twice_p.bind(v))(x)
    close(out, 2 * to_numpy(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pf.vmap(lambda v: _twice_p.bind(v))(x)  # warned once per primitive only


def test_missing_batch_rule_error_mode(backend, monkeypatch):
    x = rand(3, 2)
    with pf.vmap_fallback("error"), pytest.raises(pf.MissingBatchRuleError, match="test_twice_no_batch_rule"):
        pf.vmap(lambda v: _twice_p.bind(v))(x)
    monkeypatch.setenv("POLYFUNC_VMAP_FALLBACK", "error")
    with pytest.raises(pf.MissingBatchRuleError):
        pf.vmap(lambda v: _twice_p.bind(v))(x)


def test_python_scalar_output_beside_a_batched_one(backend):
    x = rand(3, 2)
    a, b = pf.vmap(lambda v: (v, 2.0))(x)
    close(a, x)
    close(b, [2.0, 2.0, 2.0])
    j, c = pf.jacfwd(lambda v: (v.sum(), 3.0))(rand(3))
    close(j, np.ones(3))
    close(c, np.zeros(3))


def test_randomness_same_holds_across_chunks(backend):
    r = pf.vmap(lambda v: v + pf.random.normal((3,)), randomness="same", chunk_size=2)(pnp.zeros((6, 3)))
    rows = to_numpy(r)
    assert np.allclose(rows, rows[0])
    d = pf.vmap(lambda v: v + pf.random.normal((3,)), randomness="different", chunk_size=2)(pnp.zeros((6, 3)))
    assert len({tuple(np.round(row, 8)) for row in to_numpy(d)}) == 6
