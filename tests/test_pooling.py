"""Windowed reductions (pooling): reduce_window_max/sum forward against torch's pooling, their
derivatives and batching against torch.func and finite differences on every backend; torch's
max/avg/lp/adaptive pooling on traced values (ceil_mode, ties, return_indices, padding,
dilation); bad input under every transform."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import polyfunc as pf
from polyfunc import ops
from polyfunc.testing import check_grads, to_numpy


def _close(got, want, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(to_numpy(got), np.asarray(want.detach() if isinstance(want, torch.Tensor) else want),
                               rtol=rtol, atol=atol)


def _t(a):
    return torch.as_tensor(np.asarray(a))


def _tt(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1


# (shape, spatial kernel, stride, padding, dilation): windows over the trailing spatial axes
POOLS = {
    "1d": ((2, 3, 9), (3,), (2,), (1,), (1,)),
    "1d-dilated": ((2, 3, 11), (3,), (1,), (1,), (2,)),
    "2d": ((2, 3, 8, 7), (2, 2), (2, 2), (0, 0), (1, 1)),
    "2d-overlap-pad": ((2, 2, 7, 6), (3, 2), (1, 2), (1, 1), (1, 1)),
    "2d-dilated": ((1, 2, 9, 8), (2, 3), (2, 1), (1, 1), (2, 2)),
    "3d": ((1, 2, 5, 6, 4), (2, 3, 2), (1, 2, 2), (1, 1, 0), (1, 1, 1)),
}


def _window_params(name):
    shape, k, s, p, d = POOLS[name]
    return dict(window_dimensions=(1, 1) + k, window_strides=(1, 1) + s, padding=((0, 0),) * 2 + tuple(
        (v, v) for v in p), window_dilation=(1, 1) + d)


def _max_ref(name):
    shape, k, s, p, d = POOLS[name]
    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[len(k)]
    return lambda x: pool(x, k, s, p, d)


def _sum_ref(name):
    """Window sums in torch: a convolution with a ones kernel per channel (handles dilation)."""
    shape, k, s, p, d = POOLS[name]
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(k)]
    return lambda x: conv(x, torch.ones((x.shape[1], 1) + k, dtype=x.dtype), stride=s, padding=p, dilation=d,
                          groups=x.shape[1])


def _x(name, seed=0):
    # distinct values: the arg-max of every window is unique, so derivatives are defined
    shape = POOLS[name][0]
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape) / np.prod(shape) + rng.uniform(0, 1e-3, shape)


@pytest.mark.parametrize("kind", ["max", "sum"])
@pytest.mark.parametrize("name", sorted(POOLS))
def test_forward_grad_jvp_vmap_match_torch(backend, name, kind):
    x = _x(name)
    prim = ops.reduce_window_max if kind == "max" else ops.reduce_window_sum
    ref = _max_ref(name) if kind == "max" else _sum_ref(name)
    f = lambda a: prim(a, **_window_params(name))  # noqa: E731
    bx = backend.asarray(x)
    _close(f(bx), ref(_t(x)))
    loss = lambda a: ops.reduce_sum(ops.sin(f(a)), tuple(range(len(x.shape))))  # noqa: E731
    rloss = lambda a: torch.sin(ref(a)).sum()  # noqa: E731
    _close(pf.grad(loss)(bx), torch.func.grad(rloss)(_t(x)))
    v = np.random.default_rng(3).uniform(-1, 1, x.shape)
    _close(pf.jvp(f, (bx,), (backend.asarray(v),))[1], torch.func.jvp(ref, (_t(x),), (_t(v),))[1])
    xs = np.stack([_x(name, s) for s in range(3)], axis=1)
    _close(pf.vmap(pf.grad(loss), in_dims=1)(backend.asarray(xs)),
           torch.func.vmap(torch.func.grad(rloss), in_dims=1)(_t(xs)))
    # second order: the gradient of the squared gradient norm, and finite differences
    gg = lambda a: ops.reduce_sum(ops.integer_pow(pf.grad(loss)(a), y=2), tuple(range(len(x.shape))))  # noqa: E731
    rgg = lambda a: (torch.func.grad(rloss)(a) ** 2).sum()  # noqa: E731
    _close(pf.grad(gg)(bx), torch.func.grad(rgg)(_t(x)))
    check_grads(lambda a: ops.sin(f(a)), (bx,), order=2, modes=("fwd", "rev"), eps=1e-6)


def test_max_ties_give_the_gradient_to_the_first_maximum_as_torch(backend):
    x = np.array([[[[1., 1., 0., 2.], [1., 0., 2., 2.], [3., 3., 1., 1.], [3., 3., 1., 1.]]]])
    p = dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 2, 2))
    got = pf.grad(lambda a: ops.reduce_sum(ops.reduce_window_max(a, **p), (0, 1, 2, 3)))(backend.asarray(x))
    want = torch.func.grad(lambda a: F.max_pool2d(a, 2).sum())(_t(x))
    _close(got, want)
    # overlapping windows sharing a maximum add up there
    p = dict(window_dimensions=(1, 1, 2, 2), window_strides=(1, 1, 1, 1))
    got = pf.grad(lambda a: ops.reduce_sum(ops.reduce_window_max(a, **p), (0, 1, 2, 3)))(backend.asarray(x))
    want = torch.func.grad(lambda a: F.max_pool2d(a, 2, 1).sum())(_t(x))
    _close(got, want)


def test_integer_max_and_sum_windows(backend):
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)[..., ::-1].copy()
    p = dict(window_dimensions=(1, 2, 2), window_strides=(1, 1, 2), padding=((0, 0), (1, 0), (0, 0)))
    mx = to_numpy(ops.reduce_window_max(backend.asarray(x), **p))
    sm = to_numpy(ops.reduce_window_sum(backend.asarray(x), **p))
    assert mx.dtype == np.int32 and sm.dtype == np.int32
    xp = np.pad(x, ((0, 0), (1, 0), (0, 0)), constant_values=np.iinfo(np.int32).min)
    want = np.maximum(np.maximum(xp[:, :-1, 0::2], xp[:, 1:, 0::2]), np.maximum(xp[:, :-1, 1::2], xp[:, 1:, 1::2]))
    np.testing.assert_array_equal(mx, want)
    xz = np.pad(x, ((0, 0), (1, 0), (0, 0)))
    np.testing.assert_array_equal(sm, xz[:, :-1, 0::2] + xz[:, 1:, 0::2] + xz[:, :-1, 1::2] + xz[:, 1:, 1::2])


# ------------------------------------------------------------------ torch's pooling functions on traced values
TORCH_POOLS = [
    ("max_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool1d-ceil-dil", (2, 3, 10), dict(kernel_size=2, stride=3, dilation=2, ceil_mode=True)),
    ("max_pool2d", (2, 3, 8, 7), dict(kernel_size=2)),
    ("max_pool2d-ceil", (2, 3, 7, 8), dict(kernel_size=(3, 2), stride=2, padding=(1, 0), ceil_mode=True)),
    ("max_pool2d-unbatched", (3, 7, 8), dict(kernel_size=2, stride=1, dilation=(2, 1))),
    ("max_pool3d", (1, 2, 5, 6, 5), dict(kernel_size=2, stride=(1, 2, 2), padding=1, ceil_mode=True)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 8, 7), dict(kernel_size=2)),
    ("avg_pool2d-ceil-pad", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d-ceil-nopadcount", (2, 3, 7, 8), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                                     count_include_pad=False)),
    ("avg_pool2d-divisor", (2, 3, 7, 8), dict(kernel_size=(2, 3), stride=(1, 2), divisor_override=5)),
    ("avg_pool3d", (1, 2, 5, 6, 5), dict(kernel_size=(2, 3, 2), stride=2, padding=(1, 1, 0), ceil_mode=True)),
    ("lp_pool1d", (2, 3, 9), dict(norm_type=2, kernel_size=3, stride=2)),
    ("lp_pool2d", (2, 3, 8, 7), dict(norm_type=3, kernel_size=2, ceil_mode=True)),
    ("adaptive_avg_pool1d", (2, 3, 9), dict(output_size=3)),
    ("adaptive_avg_pool2d", (2, 3, 8, 7), dict(output_size=(4, 3))),
    ("adaptive_avg_pool2d-none", (2, 3, 8, 7), dict(output_size=(None, 1))),
    ("adaptive_avg_pool3d", (1, 2, 4, 6, 5), dict(output_size=(2, 4, 5))),
    ("adaptive_max_pool1d", (2, 3, 9), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 8, 6), dict(output_size=(4, 3))),
    ("adaptive_max_pool2d-uneven", (2, 3, 8, 7), dict(output_size=(3, 5))),
    ("adaptive_max_pool3d", (1, 2, 4, 6, 5), dict(output_size=2)),
]


@pytest.mark.parametrize("case", TORCH_POOLS, ids=[c[0] for c in TORCH_POOLS])
def test_torch_pooling_under_every_transform(case):
    name, shape, kw = case
    fn = getattr(F, name.split("-")[0])
    x = _tt(shape, 1)
    if name.startswith("lp"):
        x = x.abs() + 0.1          # lp pooling's p-th root is smooth away from zero
    f = lambda x: fn(x, **kw)  # noqa: E731
    loss = lambda x: torch.sin(f(x)).sum()  # noqa: E731
    with pf.use_backend("torch"):
        _close(pf.jit(f)(x), f(x))
        _close(pf.grad(loss)(x), torch.func.grad(loss)(x))
        v = _tt(shape, 2)
        _close(pf.jvp(f, (x,), (v,))[1], torch.func.jvp(f, (x,), (v,))[1])
        xs = torch.stack([x, _tt(shape, 3).abs() + 0.1, _tt(shape, 4).abs() + 0.1], 1)
        _close(pf.vmap(pf.grad(loss), in_dims=1)(xs), torch.func.vmap(torch.func.grad(loss), in_dims=1)(xs))
        gg = lambda x: (pf.grad(loss)(x) ** 2).sum()  # noqa: E731
        rgg = lambda x: (torch.func.grad(loss)(x) ** 2).sum()  # noqa: E731
        _close(pf.grad(gg)(x), torch.func.grad(rgg)(x), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("nsp", [1, 2, 3])
def test_max_pool_return_indices_match_torch(nsp):
    pool = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[nsp]
    x = torch.randint(0, 3, (2, 3) + (6,) * nsp, generator=torch.Generator().manual_seed(0)).double()  # many ties
    kw = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True)
    with pf.use_backend("torch"):
        vals, idx = pf.jit(lambda x: pool(x, **kw))(x)
        bv, bi = pf.vmap(lambda x: pool(x, **kw))(x[:, None])
    rv, ri = pool(x, **kw)
    _close(vals, rv)
    assert torch.equal(torch.as_tensor(to_numpy(idx)), ri)
    assert torch.equal(torch.as_tensor(to_numpy(bi))[:, 0], ri)


def test_nn_pool_modules_in_a_cnn_per_sample_grads():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2, ceil_mode=True),
                              torch.nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"), torch.nn.AvgPool2d(2),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3)).double()
    params = {k: v.detach() for k, v in net.named_parameters()}
    x = _tt((5, 1, 1, 11, 11), 1)
    from polyfunc_torch import functional_call

    def loss(p, x):
        return functional_call(net, p, (x,)).logsumexp(-1).sum()

    def rloss(p, x):
        return torch.func.functional_call(net, p, (x,)).logsumexp(-1).sum()
    with pf.use_backend("torch"):
        got = pf.vmap(pf.grad(loss), in_dims=(None, 0))(params, x)
    want = torch.func.vmap(torch.func.grad(rloss), in_dims=(None, 0))(params, x)
    for k in params:
        _close(got[k], want[k])


# ------------------------------------------------------------------ bad input
BAD = [
    ("window too large", (2, 3, 4), dict(window_dimensions=(1, 1, 5)),
     r"window \(size 5, dilated to 5\) is larger than the padded input \(size 4, padded to 4\)"),
    ("stride 0", (2, 3, 4), dict(window_dimensions=(1, 1, 2), window_strides=(1, 1, 0)),
     r"every stride must be at least 1, got \(1, 1, 0\)"),
    ("wrong rank", (2, 3, 4), dict(window_dimensions=(1, 2)), r"need one entry per axis of shape \(2, 3, 4\)"),
]


@pytest.mark.parametrize("kind", ["max", "sum"])
@pytest.mark.parametrize("transform", ["eval", "jit", "grad", "jvp", "vmap", "vmap(grad)"])
@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_windows_name_the_sizes_under_every_transform(backend, bad, transform, kind):
    _, shape, kw, msg = bad
    prim = ops.reduce_window_max if kind == "max" else ops.reduce_window_sum
    f = lambda a: prim(a, **kw)  # noqa: E731
    loss = lambda a: ops.reduce_sum(f(a), tuple(range(ops.ndim_of(f(a)))))  # noqa: E731
    x = backend.asarray(np.ones(shape))
    run = {"eval": lambda: f(x), "jit": lambda: pf.jit(f)(x), "grad": lambda: pf.grad(loss)(x),
           "jvp": lambda: pf.jvp(f, (x,), (x,)), "vmap": lambda: pf.vmap(f)(ops.expand_dims(x, (0,))),
           "vmap(grad)": lambda: pf.vmap(pf.grad(loss))(ops.expand_dims(x, (0,)))}[transform]
    with pytest.raises(pf.ShapeError, match=msg):
        run()


@pytest.mark.parametrize("call, msg", [
    (lambda x: F.max_pool2d(x, 7), r"kernel \(size 7, dilated to 7\) is larger than the padded input \(size 6"),
    (lambda x: F.max_pool2d(x, 3, padding=-1), r"negative padding \(-1, -1\)"),
    (lambda x: F.max_pool2d(x, 3, stride=0), r"stride must be positive, got \(0, 0\)"),
    (lambda x: F.max_pool2d(x, 2, padding=2), r"padding \(2, 2\) should be at most half of the kernel size"),
    (lambda x: F.avg_pool2d(x, (2, 8)), r"kernel \(size 8, dilated to 8\) is larger than the padded input"),
    (lambda x: F.avg_pool1d(x[:, 0], 2, stride=0), r"stride must be positive, got \(0,\)"),
    (lambda x: F.max_pool2d(x, 0), r"kernel_size must be positive"),
])
@pytest.mark.parametrize("transform", ["jit", "grad", "vmap", "vmap(grad)", "jvp"])
def test_torch_bad_pooling_under_every_transform(call, msg, transform):
    x = _tt((2, 3, 6, 6), 1)
    loss = lambda x: call(x).sum()  # noqa: E731
    run = {"jit": lambda: pf.jit(call)(x), "grad": lambda: pf.grad(loss)(x),
           "vmap": lambda: pf.vmap(call)(x[:, None]), "vmap(grad)": lambda: pf.vmap(pf.grad(loss))(x[:, None]),
           "jvp": lambda: pf.jvp(call, (x,), (x,))}[transform]
    with pf.use_backend("torch"), pytest.raises((pf.ShapeError, ValueError), match=msg):
        run()
