"""conv_general_dilated: every option forward against torch's own convolution, its derivatives
and batching against torch.func and finite differences, on every backend; torch's F.conv*d,
conv_transpose*d and nn.Conv*d (every padding_mode) on traced values; bad input under every
transform."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import polyfunc as pf
from polyfunc import ops
from polyfunc.testing import check_grads, to_numpy

torch.set_default_dtype(torch.float32)


def _dilate(x, ld):
    """x (N, C, *sp) with ld - 1 zeros between neighbours (torch reference of input dilation)."""
    if all(d == 1 for d in ld):
        return x
    shape = x.shape[:2] + tuple((n - 1) * d + 1 for n, d in zip(x.shape[2:], ld))
    out = x.new_zeros(shape)
    out[(slice(None),) * 2 + tuple(slice(None, None, d) for d in ld)] = x
    return out


def _torch_pad(pads):
    flat = []
    for lo, hi in reversed(pads):
        flat += [lo, hi]
    return flat


# (x shape in canonical layout, w shape canonical, params, layouts or None)
CASES = {
    "1d": ((2, 3, 9), (4, 3, 3), dict(window_strides=(1,), padding=((0, 0),)), None),
    "1d-stride-pad-rhsdil": ((2, 3, 11), (4, 3, 3), dict(window_strides=(2,), padding=((2, 1),),
                                                         rhs_dilation=(2,)), None),
    "2d": ((2, 3, 7, 6), (5, 3, 3, 2), dict(window_strides=(1, 1), padding=((1, 1), (0, 0))), None),
    "2d-strides-asym-pad": ((2, 2, 8, 9), (3, 2, 3, 3), dict(window_strides=(2, 3), padding=((0, 2), (1, 0))),
                            None),
    "2d-lhs-dilation": ((2, 2, 5, 4), (3, 2, 3, 2), dict(window_strides=(1, 2), padding=((2, 2), (1, 0)),
                                                         lhs_dilation=(2, 3)), None),
    "2d-rhs-dilation": ((1, 2, 9, 8), (2, 2, 2, 3), dict(window_strides=(1, 1), padding=((0, 0), (1, 1)),
                                                         rhs_dilation=(3, 2)), None),
    "2d-groups": ((2, 6, 6, 5), (4, 3, 2, 2), dict(window_strides=(1, 1), padding=((0, 0), (0, 0)),
                                                   feature_group_count=2), None),
    "2d-depthwise": ((2, 4, 6, 5), (8, 1, 3, 3), dict(window_strides=(2, 1), padding=((1, 1), (1, 1)),
                                                      feature_group_count=4), None),
    "2d-negative-padding": ((2, 2, 7, 7), (2, 2, 2, 2), dict(window_strides=(1, 1), padding=((-1, 1), (2, -2))),
                            None),
    "2d-NHWC-HWIO": ((2, 3, 6, 5), (4, 3, 3, 2), dict(window_strides=(1, 2), padding=((1, 0), (0, 1))),
                     ("NHWC", "HWIO", "NHWC")),
    "2d-CNHW-OIHW-NWHC": ((2, 3, 5, 6), (4, 3, 2, 2), dict(window_strides=(1, 1), padding=((0, 0), (1, 1))),
                          ("CNHW", "OIHW", "NWHC")),
    "3d": ((1, 2, 5, 4, 4), (3, 2, 2, 3, 2), dict(window_strides=(1, 2, 1), padding=((1, 0), (1, 1), (0, 1)),
                                                  lhs_dilation=(1, 1, 2), rhs_dilation=(2, 1, 1)), None),
    "3d-groups": ((1, 4, 4, 4, 3), (4, 2, 2, 2, 2), dict(window_strides=(2, 1, 1), padding=((0, 0),) * 3,
                                                         feature_group_count=2), None),
}


def _perm(layout, canon):
    """Axis permutation taking a canonical-layout array to ``layout``."""
    return [canon.index(ch) for ch in layout]


def _canon_letters(nsp):
    sp = "HWD"[:nsp] if nsp > 1 else "W"
    return "NC" + sp, "OI" + sp


def _setup(name, seed=0):
    sx, sw, params, layouts = CASES[name]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, sx)
    w = rng.uniform(-1, 1, sw)
    nsp = len(sx) - 2
    if layouts is not None:
        lc, rc = _canon_letters(nsp)
        x = np.ascontiguousarray(np.transpose(x, _perm(layouts[0], lc)))
        w = np.ascontiguousarray(np.transpose(w, _perm(layouts[1], rc)))
    return x, w, params, layouts


def _torch_ref(name):
    """A torch function of (x, w) in the case's layout computing the case's convolution."""
    sx, sw, params, layouts = CASES[name]
    nsp = len(sx) - 2
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nsp]
    s = params.get("window_strides", (1,) * nsp)
    pads = params.get("padding", ((0, 0),) * nsp)
    ld = params.get("lhs_dilation", (1,) * nsp)
    rd = params.get("rhs_dilation", (1,) * nsp)
    g = params.get("feature_group_count", 1)

    def ref(x, w):
        if layouts is not None:
            lc, rc = _canon_letters(nsp)
            x = x.permute([layouts[0].index(ch) for ch in lc])
            w = w.permute([layouts[1].index(ch) for ch in rc])
        out = conv(F.pad(_dilate(x, ld), _torch_pad(pads)), w, stride=s, dilation=rd, groups=g)
        if layouts is not None:
            out = out.permute(_perm(layouts[2], _canon_letters(nsp)[0]))
        return out
    return ref


def _pf_fn(name):
    sx, sw, params, layouts = CASES[name]
    return lambda x, w: ops.conv_general_dilated(x, w, dimension_numbers=layouts, **params)


def _t(a):
    return torch.as_tensor(np.asarray(a))


def _close(got, want, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(to_numpy(got), np.asarray(want.detach() if isinstance(want, torch.Tensor) else want),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_torch(backend, name):
    x, w, params, layouts = _setup(name)
    got = _pf_fn(name)(backend.asarray(x), backend.asarray(w))
    _close(got, _torch_ref(name)(_t(x), _t(w)))
    # float32 as well
    got32 = _pf_fn(name)(backend.asarray(x.astype(np.float32)), backend.asarray(w.astype(np.float32)))
    assert str(to_numpy(got32).dtype) == "float32"
    _close(got32, _torch_ref(name)(_t(x), _t(w)), rtol=1e-4, atol=1e-5)


def _sum_sin(y):
    if isinstance(y, torch.Tensor):
        return torch.sin(y).sum()
    return ops.reduce_sum(ops.sin(y), tuple(range(ops.ndim_of(y))))


@pytest.mark.parametrize("name", sorted(CASES))
def test_grad_vjp_jvp_match_torch_func(backend, name):
    x, w, params, layouts = _setup(name)
    f, ref = _pf_fn(name), _torch_ref(name)
    loss, ref_loss = (lambda a, b: _sum_sin(f(a, b))), (lambda a, b: _sum_sin(ref(a, b)))
    bx, bw = backend.asarray(x), backend.asarray(w)
    gx, gw = pf.grad(loss, argnums=(0, 1))(bx, bw)
    tx, tw = torch.func.grad(ref_loss, argnums=(0, 1))(_t(x), _t(w))
    _close(gx, tx)
    _close(gw, tw)
    rng = np.random.default_rng(5)
    vx, vw = rng.uniform(-1, 1, x.shape), rng.uniform(-1, 1, w.shape)
    out, tan = pf.jvp(f, (bx, bw), (backend.asarray(vx), backend.asarray(vw)))
    rout, rtan = torch.func.jvp(ref, (_t(x), _t(w)), (_t(vx), _t(vw)))
    _close(out, rout)
    _close(tan, rtan)
    ct = rng.uniform(-1, 1, to_numpy(out).shape)
    _, pull = pf.vjp(f, bx, bw)
    _, rpull = torch.func.vjp(ref, _t(x), _t(w))
    for a, b in zip(pull(backend.asarray(ct)), rpull(_t(ct))):
        _close(a, b)


@pytest.mark.parametrize("name", ["1d-stride-pad-rhsdil", "2d-lhs-dilation", "2d-groups", "2d-NHWC-HWIO", "3d",
                                  "2d-negative-padding"])
def test_finite_differences_to_second_order(backend, name):
    x, w, params, layouts = _setup(name)
    f = _pf_fn(name)
    check_grads(lambda a, b: ops.sin(f(a, b)), (backend.asarray(x), backend.asarray(w)), order=2,
                modes=("fwd", "rev"))


@pytest.mark.parametrize("name", ["1d", "2d-strides-asym-pad", "2d-lhs-dilation", "2d-groups", "2d-depthwise",
                                  "2d-NHWC-HWIO", "2d-CNHW-OIHW-NWHC", "3d-groups"])
@pytest.mark.parametrize("in_dims", [(0, None), (None, 0), (0, 0), (1, 2)])
def test_vmap_matches_torch_func(backend, name, in_dims):
    xs, ws = [], []
    for seed in range(3):
        x, w, params, layouts = _setup(name, seed)
        xs.append(x)
        ws.append(w)
    bx = np.stack(xs, axis=in_dims[0]) if in_dims[0] is not None else xs[0]
    bw = np.stack(ws, axis=in_dims[1]) if in_dims[1] is not None else ws[0]
    got = pf.vmap(_pf_fn(name), in_dims=in_dims)(backend.asarray(bx), backend.asarray(bw))
    want = torch.func.vmap(_torch_ref(name), in_dims=in_dims)(_t(bx), _t(bw))
    _close(got, want)


@pytest.mark.parametrize("name", ["1d-stride-pad-rhsdil", "2d-strides-asym-pad", "2d-lhs-dilation", "2d-groups",
                                  "2d-NHWC-HWIO", "3d"])
def test_per_sample_grads_and_second_order_match_torch_func(backend, name):
    xs = [_setup(name, s)[0] for s in range(3)]
    x, w, params, layouts = _setup(name)
    bx = np.stack(xs)
    f, ref = _pf_fn(name), _torch_ref(name)
    loss = lambda a, b: _sum_sin(f(a, b))  # noqa: E731
    ref_loss = lambda a, b: _sum_sin(ref(a, b))  # noqa: E731
    # per-sample gradients of the weights: the input batched, the weights shared
    got = pf.vmap(pf.grad(loss, argnums=1), in_dims=(0, None))(backend.asarray(bx), backend.asarray(w))
    want = torch.func.vmap(torch.func.grad(ref_loss, argnums=1), in_dims=(0, None))(_t(bx), _t(w))
    _close(got, want)
    # a second derivative: the gradient of the squared gradient norm
    gn = lambda a, b: ops.reduce_sum(ops.integer_pow(pf.grad(loss, argnums=1)(a, b), y=2),  # noqa: E731
                                     tuple(range(len(w.shape))))
    rgn = lambda a, b: (torch.func.grad(ref_loss, argnums=1)(a, b) ** 2).sum()  # noqa: E731
    g2 = pf.grad(gn, argnums=(0, 1))(backend.asarray(x), backend.asarray(w))
    r2 = torch.func.grad(rgn, argnums=(0, 1))(_t(x), _t(w))
    for a, b in zip(g2, r2):
        _close(a, b, rtol=1e-8, atol=1e-9)
    # a Hessian-vector product through jvp of grad
    v = np.random.default_rng(9).uniform(-1, 1, w.shape)
    _, hv = pf.jvp(pf.grad(loss, argnums=1), (backend.asarray(x), backend.asarray(w)),
                   (backend.asarray(np.zeros_like(x)), backend.asarray(v)))
    _, rhv = torch.func.jvp(torch.func.grad(ref_loss, argnums=1), (_t(x), _t(w)), (_t(np.zeros_like(x)), _t(v)))
    _close(hv, rhv, rtol=1e-8, atol=1e-9)


# ------------------------------------------------------------------ torch's functions on traced values
def _tt(shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1


TORCH_CONVS = [
    ("conv1d", (3, 2, 10), (4, 2, 3), dict(stride=2, padding=1, dilation=2)),
    ("conv1d-unbatched", (2, 10), (4, 2, 3), dict(padding="same")),
    ("conv2d", (3, 4, 8, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), groups=2)),
    ("conv2d-same", (3, 2, 8, 7), (3, 2, 4, 3), dict(padding="same", dilation=(1, 2))),
    ("conv2d-valid", (3, 2, 8, 7), (3, 2, 4, 3), dict(padding="valid")),
    ("conv3d", (2, 2, 5, 4, 6), (3, 2, 2, 2, 3), dict(stride=(1, 2, 1), padding=(0, 1, 1))),
    ("conv_transpose1d", (3, 4, 6), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (3, 4, 5, 4), (4, 2, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                                         groups=2, dilation=(1, 1))),
    ("conv_transpose2d-dil", (2, 2, 4, 4), (2, 3, 2, 3), dict(stride=2, padding=2, dilation=2)),
    ("conv_transpose3d", (2, 2, 3, 3, 2), (2, 2, 2, 2, 2), dict(stride=(2, 1, 2), padding=(0, 1, 0))),
]


def _torch_conv(name):
    fn = getattr(F, name.split("-")[0])
    return fn


@pytest.mark.parametrize("case", TORCH_CONVS, ids=[c[0] for c in TORCH_CONVS])
def test_torch_functions_under_every_transform(case):
    name, sx, sw, kw = case
    fn = _torch_conv(name)
    x, w = _tt(sx, 1), _tt(sw, 2)
    ob = sw[1] * kw.get("groups", 1) if "transpose" in name else sw[0]
    b = _tt((ob,), 3)
    f = lambda x, w, b: torch.sin(fn(x, w, b, **kw)).sum()  # noqa: E731
    with pf.use_backend("torch"):
        _close(pf.jit(lambda x, w, b: fn(x, w, b, **kw))(x, w, b), fn(x, w, b, **kw))
        for a, r in zip(pf.grad(f, argnums=(0, 1, 2))(x, w, b), torch.func.grad(f, argnums=(0, 1, 2))(x, w, b)):
            _close(a, r)
        xs = torch.stack([x, _tt(sx, 4), _tt(sx, 5)])
        ws = torch.stack([w, _tt(sw, 6), _tt(sw, 7)])
        for dims in [(0, None, None), (None, 0, None), (0, 0, None)]:
            args = (xs if dims[0] == 0 else x, ws if dims[1] == 0 else w, b)
            _close(pf.vmap(pf.grad(f, argnums=(1, 2)), in_dims=dims)(*args)[0],
                   torch.func.vmap(torch.func.grad(f, argnums=(1, 2)), in_dims=dims)(*args)[0])
        hx = _tt(sx, 8)
        _close(pf.jvp(pf.grad(f), (x, w, b), (hx, torch.zeros_like(w), torch.zeros_like(b)))[1],
               torch.func.jvp(torch.func.grad(f), (x, w, b), (hx, torch.zeros_like(w), torch.zeros_like(b)))[1])


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("nsp", [1, 2, 3])
def test_nn_conv_modules_every_padding_mode(padding_mode, nsp):
    torch.manual_seed(0)
    conv = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[nsp](
        2, 4, 3, stride=1 if nsp == 3 else 2, padding=1, padding_mode=padding_mode, groups=2).double()
    params = {k: v.detach() for k, v in conv.named_parameters()}
    x = _tt((3, 2) + (5,) * nsp, 1)
    from polyfunc_torch import functional_call

    def loss(p, x):
        return torch.sin(functional_call(conv, p, (x,))).sum()

    def ref_loss(p, x):
        return torch.sin(torch.func.functional_call(conv, p, (x,))).sum()
    with pf.use_backend("torch"):
        got = pf.vmap(pf.grad(loss), in_dims=(None, 0))(params, x[:, None])
    want = torch.func.vmap(torch.func.grad(ref_loss), in_dims=(None, 0))(params, x[:, None])
    for k in params:
        _close(got[k], want[k])


def test_conv_transpose_module_and_module_output_size():
    torch.manual_seed(0)
    m = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1).double()
    params = {k: v.detach() for k, v in m.named_parameters()}
    x = _tt((2, 3, 4, 5), 1)
    from polyfunc_torch import functional_call
    with pf.use_backend("torch"):
        got = pf.grad(lambda p: functional_call(m, p, (x,)).pow(2).sum())(params)
    want = torch.func.grad(lambda p: torch.func.functional_call(m, p, (x,)).pow(2).sum())(params)
    for k in params:
        _close(got[k], want[k])


# ------------------------------------------------------------------ bad input
BAD = [
    ("channel mismatch", (2, 3, 6, 6), (4, 2, 3, 3), dict(), r"expects an input with 2 channels.*has 3 channels"),
    ("groups not dividing", (2, 3, 6, 6), (4, 1, 3, 3), dict(feature_group_count=2),
     r"groups=2 does not divide the 3 input channels"),
    ("kernel too large", (2, 2, 4, 4), (3, 2, 5, 3), dict(padding=((0, 0), (0, 0))),
     r"kernel \(size 5, dilated to 5\) is larger than the padded input \(size 4, padded to 4\)"),
    ("stride 0", (2, 2, 6, 6), (3, 2, 3, 3), dict(window_strides=(0, 1)), r"stride must be at least 1.*\(0, 1\)"),
]

TRANSFORMS = {
    "eval": lambda f: f,
    "jit": lambda f: pf.jit(f),
    "grad": lambda f: pf.grad(lambda x, w: ops.reduce_sum(f(x, w), (0, 1, 2, 3)), argnums=(0, 1)),
    "jvp": lambda f: (lambda x, w: pf.jvp(f, (x, w), (x, w))),
    "vjp": lambda f: (lambda x, w: pf.vjp(f, x, w)),
    "vmap-weights": lambda f: (lambda x, w: pf.vmap(f, in_dims=(None, 0))(x, ops.expand_dims(w, (0,)))),
    "vmap-batched": lambda f: (lambda x, w: pf.vmap(f, in_dims=(0, None))(ops.expand_dims(x, (0,)), w)),
    "vmap(grad)": lambda f: (lambda x, w: pf.vmap(pf.grad(lambda a, b: ops.reduce_sum(f(a, b), (0, 1, 2, 3)),
                                                          argnums=1), in_dims=(0, None))(ops.expand_dims(x, (0,)), w)),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_sizes_under_every_transform(backend, bad, transform):
    _, sx, sw, kw, msg = bad
    x, w = backend.asarray(np.ones(sx)), backend.asarray(np.ones(sw))
    f = lambda a, b: ops.conv_general_dilated(a, b, **kw)  # noqa: E731
    with pytest.raises(pf.ShapeError, match=msg):
        TRANSFORMS[transform](f)(x, w)


@pytest.mark.parametrize("call, msg", [
    (lambda x, w: F.conv2d(x, w[:, :2]), r"expects an input with 2 channels.*has 3 channels"),
    (lambda x, w: F.conv2d(x, w[:, :1], groups=2), r"groups=2 does not divide the 3 input channels"),
    (lambda x, w: F.conv2d(x[..., :2, :2], w), r"larger than the padded input \(size 2, padded to 2\)"),
    (lambda x, w: F.conv2d(x, w, padding=-1), r"negative padding \(-1, -1\)"),
    (lambda x, w: F.conv2d(x, w, stride=0), r"stride must be positive, got \(0, 0\)"),
    (lambda x, w: F.conv_transpose2d(x, w, padding=(1, -1)), r"negative padding \(1, -1\)"),
    (lambda x, w: F.conv_transpose2d(x, w, stride=(0, 1)), r"stride must be positive"),
])
@pytest.mark.parametrize("transform", ["eval-traced", "grad", "vmap", "vmap(grad)", "jvp"])
def test_torch_bad_input_under_every_transform(call, msg, transform):
    x, w = _tt((2, 3, 6, 6), 1), _tt((3, 3, 3, 3), 2)
    loss = lambda x, w: call(x, w).sum()  # noqa: E731
    run = {
        "eval-traced": lambda: pf.jit(call)(x, w),
        "grad": lambda: pf.grad(loss, argnums=(0, 1))(x, w),
        "vmap": lambda: pf.vmap(call, in_dims=(0, None))(x[:, None], w),
        "vmap(grad)": lambda: pf.vmap(pf.grad(loss, argnums=1), in_dims=(0, None))(x[:, None], w),
        "jvp": lambda: pf.jvp(call, (x, w), (x, w)),
    }[transform]
    with pf.use_backend("torch"), pytest.raises((pf.ShapeError, ValueError), match=msg):
        run()
