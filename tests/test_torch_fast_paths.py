"""The torch backend's fast paths (issue 9) give what the general paths give: products without
batch axes as one matmul, the convolution routes (torch's weight-gradient kernel for a kernel
larger than its output, the transposed convolution for an input smaller than its output), relu
without full-size zeros, full_like in its model's layout, and torch's unary functions binding
their primitive straight away on float tracers.  Checked against NumPy and torch.func."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.func as tf  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import polyfunc as pf  # noqa: E402
from polyfunc import ops  # noqa: E402

conv_kernels = pytest.importorskip("polyfunc_torch.conv_kernels")

CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
SPATIAL = {1: (11,), 2: (9, 8), 3: (7, 6, 5)}


def _contractions():
    for xn, yn in itertools.product(range(1, 5), range(1, 4)):
        for nc in range(1, min(xn, yn) + 1):
            for lc in itertools.permutations(range(xn), nc):
                for rc in itertools.permutations(range(yn), nc):
                    yield xn, yn, lc, rc


def test_products_without_batch_axes_match_numpy_tensordot():
    rng = np.random.default_rng(0)
    n = 0
    for xn, yn, lc, rc in _contractions():
        xs = [2 + i for i in range(xn)]
        ys = [3 + i for i in range(yn)]
        for a, b in zip(lc, rc):
            ys[b] = xs[a]
        x, y = rng.standard_normal(xs), rng.standard_normal(ys)
        out = ops.dot_general(torch.tensor(x), torch.tensor(y), ((lc, rc), ((), ())))
        ref = np.tensordot(x, y, (list(lc), list(rc)))
        assert tuple(out.shape) == ref.shape, (lc, rc)
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
        n += 1
    assert n == 400


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride,dilation,padding,groups",
                         [(1, 1, 0, 1), (2, 1, 1, 2), (1, 2, "same", 1), (2, 2, 0, 2), (1, 1, 1, 2)])
def test_kernel_gradients_match_torch_func(nd, stride, dilation, padding, groups):
    torch.manual_seed(nd)
    conv = CONV[nd]
    x = torch.randn(3, 4, *SPATIAL[nd], dtype=torch.float64)
    w = torch.randn(6, 4 // groups, *(3,) * nd, dtype=torch.float64)

    def f(w, x):
        return conv(x, w, stride=stride, dilation=dilation, padding=padding, groups=groups).sin().sum()
    torch.testing.assert_close(pf.grad(f)(w, x), tf.grad(f)(w, x))
    xs = torch.randn(5, *x.shape, dtype=torch.float64)
    ws = torch.randn(5, *w.shape, dtype=torch.float64)
    torch.testing.assert_close(pf.vmap(pf.grad(f))(ws, xs), tf.vmap(tf.grad(f))(ws, xs))
    torch.testing.assert_close(pf.vmap(pf.grad(f), in_dims=(None, 0))(w, xs),
                               tf.vmap(tf.grad(f), in_dims=(None, 0))(w, xs))
    assert "kernel_gradient" in {p[0] for p in conv_kernels._plans.values() if isinstance(p, tuple)}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("groups,dilation", [(1, 1), (2, 1), (1, 2)])
def test_second_derivatives_through_a_kernel_gradient_match_torch_func(nd, groups, dilation):
    # MAML's pattern: the gradient of a function of a kernel gradient convolves with large kernels
    torch.manual_seed(nd)
    conv = CONV[nd]
    x = torch.randn(3, 4, *SPATIAL[nd], dtype=torch.float64)
    w = torch.randn(6, 4 // groups, *(3,) * nd, dtype=torch.float64)

    def inner(w, x):
        return conv(x, w, groups=groups, dilation=dilation).tanh().sum()

    def outer(w, x, grad):
        return (grad(inner)(w, x) ** 2).sum()
    for argnums in (0, 1):
        torch.testing.assert_close(pf.grad(lambda w, x: outer(w, x, pf.grad), argnums=argnums)(w, x),
                                   tf.grad(lambda w, x: outer(w, x, tf.grad), argnums=argnums)(w, x))
    xs = torch.randn(2, *x.shape, dtype=torch.float64)
    ws = torch.randn(2, *w.shape, dtype=torch.float64)
    torch.testing.assert_close(pf.vmap(pf.grad(lambda w, x: outer(w, x, pf.grad)))(ws, xs),
                               tf.vmap(tf.grad(lambda w, x: outer(w, x, tf.grad)))(ws, xs))
    assert "transposed" in {p[0] for p in conv_kernels._plans.values() if isinstance(p, tuple)}


def test_relu_values_dtypes_and_gradients_match_torch():
    x = torch.tensor([-1.0, 0.0, 2.0, -float("inf"), float("inf"), float("nan")], dtype=torch.float64)
    torch.testing.assert_close(pf.vmap(F.relu)(x[None])[0], torch.relu(x), equal_nan=True)
    finite = x[:5]

    def f(x):
        return torch.relu(x).sum()
    torch.testing.assert_close(pf.grad(f)(x), tf.grad(f)(x))          # NaN passes its gradient, as torch's
    torch.testing.assert_close(pf.vmap(pf.grad(f))(finite[None]), tf.vmap(tf.grad(f))(finite[None]))
    _, t = pf.jvp(torch.relu, (finite,), (torch.ones_like(finite),))
    _, t_ref = tf.jvp(torch.relu, (finite,), (torch.ones_like(finite),))
    torch.testing.assert_close(t, t_ref)
    for dt in (torch.float16, torch.float32, torch.int64):
        v = torch.tensor([[-2, 0, 3]], dtype=dt)
        out = pf.vmap(torch.relu)(v)
        assert out.dtype == torch.relu(v).dtype
        torch.testing.assert_close(out, torch.relu(v))


def test_full_like_keeps_the_layout_of_its_model():
    like = torch.randn(4, 5, 6).permute(2, 0, 1)
    out = ops.full_like(like, 0.5, like.shape, np.float32)
    assert out.stride() == like.stride()
    assert bool((out == 0.5).all())
    other = ops.full_like(like, 2, (3, 2), np.int64)
    assert tuple(other.shape) == (3, 2) and other.dtype == torch.int64 and bool((other == 2).all())


@pytest.mark.parametrize("fn", [torch.sin, torch.cos, torch.tan, torch.tanh, torch.exp, torch.expm1, torch.log,
                                torch.log1p, torch.sqrt])
@pytest.mark.parametrize("dt", [torch.float16, torch.float32, torch.float64])
def test_unary_functions_on_float_tracers_match_torch_func(fn, dt):
    x = (torch.rand(3, 4, dtype=torch.float64) + 0.5).to(dt)
    out = pf.vmap(fn)(x)
    assert out.dtype == dt
    tol = dict(rtol=1e-2, atol=1e-2) if dt == torch.float16 else {}
    torch.testing.assert_close(out, tf.vmap(fn)(x), **tol)
    if dt != torch.float16:
        def f(x):
            return fn(x).sum()
        torch.testing.assert_close(pf.vmap(pf.grad(f))(x), tf.vmap(tf.grad(f))(x))


def test_unary_functions_on_integer_tracers_keep_numpy_promotion():
    x = torch.arange(1, 4)[:, None]
    # not the float fast path: polyfunc.numpy's rule (int64 -> float64) as before
    assert pf.vmap(torch.sin)(x).dtype == torch.float64
    np.testing.assert_allclose(pf.vmap(torch.sin)(x).numpy(), np.sin(x.numpy()))
