"""The torch native map against torch.func / torch autograd: keyword forms, out=None forwarding,
boundary and tie gradients, NaN-free gradients at zero, embedding's padding_idx, and the tensor
attributes and functions standard modules use."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.func as tf  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import polyfunc as pf  # noqa: E402
import polyfunc.numpy as pnp  # noqa: E402

DTYPES = [torch.float32, torch.float64]


def close(a, b, dt):
    tol = 1e-5 if dt == torch.float32 else 1e-10
    a = a.detach().double().numpy()
    b = b.detach().double().numpy()
    assert np.all(np.isfinite(a)), a
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def same_grad(f, x, dt, *extra):
    x = x.to(dt)
    g = pf.grad(f)(x, *extra)
    assert g.dtype == dt
    close(g, tf.grad(f)(x, *extra), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_embedding_padding_idx_and_scale_grad_by_freq(dt):
    idx = torch.tensor([[0, 1, 4], [1, 1, 2]])
    w = torch.randn(5, 3, dtype=torch.float64)
    for pi in (1, -1, -4):
        same_grad(lambda w: (F.embedding(idx, w, padding_idx=pi) ** 2).sum(), w, dt)
    same_grad(lambda w: (F.embedding(idx, w, scale_grad_by_freq=True) ** 2).sum(), w, dt)
    same_grad(lambda w: (F.embedding(idx, w, padding_idx=1, scale_grad_by_freq=True) ** 2).sum(), w, dt)
    emb = torch.nn.Embedding(5, 3, padding_idx=0).to(dt)
    from polyfunc_torch import functional_call
    g = pf.grad(lambda w: functional_call(emb, {"weight": w}, (idx,)).sum())(emb.weight.detach())
    assert torch.all(g[0] == 0) and torch.all(g[1] == 3)


@pytest.mark.parametrize("dt", DTYPES)
def test_out_none_is_accepted_and_out_refused(dt):
    x = torch.randn(3, 4, dtype=dt)
    same_grad(lambda x: torch.norm(x), x, dt)
    same_grad(lambda x: torch.norm(x, dim=1).sum(), x, dt)
    same_grad(lambda x: torch.norm(x, p=1), x, dt)
    same_grad(lambda x: (torch.cumsum(x, dim=0) * torch.sin(x)).sum(), x, dt)
    same_grad(lambda x: torch.matmul(x, x.T).sum() + torch.cat([x, x]).sum(), x, dt)
    with pytest.raises(TypeError, match="out="):
        pf.grad(lambda x: torch.sin(x, out=torch.empty(3, 4, dtype=dt)).sum())(x)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("expr", [
    "torch.flip(x, dims=[0])", "x.flip(dims=[0])", "x.flip(0)", "torch.permute(x, dims=(1, 0))",
    "x.permute(dims=(1, 0))", "x.permute(1, 0)", "x.reshape(shape=(12,))", "x.reshape(2, 6)",
    "x.view(size=(12,))", "x.view(-1, 2)", "x.split(split_size=2, dim=1)[1]",
    "torch.split(x, split_size_or_sections=2, dim=1)[1]", "x.split([1, 3], 1)[1]",
    "x.expand(size=(2, 3, 4))", "x.expand(2, -1, -1)", "x.repeat(repeats=(2, 1))", "x.repeat(2, 1, 1)",
    "x.transpose(dim0=0, dim1=1)", "x.unsqueeze(dim=0)", "x.squeeze(dim=0)", "x.sum(dim=0, keepdim=True)",
    "torch.sum(x, dim=1)", "x.mean(dim=(0, 1))",
])
def test_torch_keyword_names(dt, expr):
    f = eval("lambda x: ((" + expr + ") ** 2 * 0.5).sum()")
    same_grad(f, torch.randn(3, 4, dtype=torch.float64), dt)
    g = eval("lambda x: " + expr)
    x = torch.randn(3, 4, dtype=dt)
    close(pf.vmap(g)(x[None])[0], g(x), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_no_nan_gradients_at_zero(dt):
    z = torch.zeros(3, dtype=torch.float64)
    same_grad(lambda x: torch.norm(x), z, dt)
    same_grad(lambda x: torch.linalg.vector_norm(x), z, dt)
    same_grad(lambda x: torch.linalg.vector_norm(x, ord=3), z, dt)
    same_grad(lambda x: F.normalize(x, dim=0).sum(), z, dt)
    same_grad(lambda x: F.cosine_similarity(x, torch.ones(3, dtype=x.dtype), dim=0), z, dt)
    same_grad(lambda x: (x * 0 + 1).std(), z, dt)
    same_grad(lambda x: torch.stack([x, x + 1]).std(dim=1).sum(), torch.zeros(2, 3, dtype=torch.float64)[0], dt)
    r = torch.randn(2, 3, dtype=torch.float64)
    same_grad(lambda x: (F.normalize(x, dim=1) ** 2 * torch.arange(3.0, dtype=x.dtype)).sum(), r, dt)
    same_grad(lambda x: F.cosine_similarity(x, x.flip(1) * 2 + 1, dim=1).sum(), r, dt)
    same_grad(lambda x: x.std(dim=0).sum(), torch.randn(4, 3, dtype=torch.float64), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_binary_cross_entropy_at_0_and_1(dt):
    for xv, t in [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.5, 0.3)]:
        target = torch.tensor([t, 0.25], dtype=dt)
        same_grad(lambda x: F.binary_cross_entropy(x, target), torch.tensor([xv, 0.6]), dt)
        close(pf.jit(lambda x: F.binary_cross_entropy(x, target))(torch.tensor([xv, 0.6], dtype=dt)),
              F.binary_cross_entropy(torch.tensor([xv, 0.6], dtype=dt), target), dt)
    p = torch.tensor([0.2, 0.7, 0.9], dtype=dt)
    same_grad(lambda t: F.binary_cross_entropy(p, t, reduction="sum"), torch.tensor([0.3, 0.9, 1.0]), dt)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=dt)
    same_grad(lambda x: F.binary_cross_entropy(x, torch.ones(3, dtype=dt), weight=w), torch.tensor([0.1, 0.5, 0.9]), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_elu_celu_selu_derivative_at_zero(dt):
    x = torch.tensor([0.0, -1.0, 1.0, -0.0])
    same_grad(lambda x: F.elu(x).sum(), x, dt)
    same_grad(lambda x: F.elu(x, alpha=0.5).sum(), x, dt)
    same_grad(lambda x: F.celu(x, alpha=2.0).sum(), x, dt)
    same_grad(lambda x: F.selu(x).sum(), x, dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_clamp_hardtanh_relu6_at_bounds(dt):
    x = torch.tensor([-1.0, 1.0, 0.0, 2.0, -2.0])
    same_grad(lambda x: x.clamp(-1, 1).sum(), x, dt)
    same_grad(lambda x: torch.clamp(x, min=-1).sum(), x, dt)
    same_grad(lambda x: x.clamp_min(1).sum(), x, dt)
    same_grad(lambda x: torch.clamp_max(x, 1).sum(), x, dt)
    same_grad(lambda x: x.clamp(1, -1).sum(), x, dt)          # min > max: all max
    lo, hi = torch.zeros(5, dtype=dt), torch.ones(5, dtype=dt)
    same_grad(lambda x: torch.clamp(x, min=lo, max=hi).sum(), x, dt)
    same_grad(lambda x: F.hardtanh(x).sum(), x, dt)
    same_grad(lambda x: F.relu6(x).sum(), torch.tensor([0.0, 6.0, 3.0, 7.0, -2.0]), dt)
    close(pf.jit(lambda x: x.clamp(1, -1))(x.to(dt)), x.to(dt).clamp(1, -1), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_max_min_dim_and_max_pool_ties(dt):
    x = torch.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    same_grad(lambda x: (x.max(dim=1).values * torch.tensor([1.0, 2.0], dtype=x.dtype)).sum(), x, dt)
    same_grad(lambda x: torch.min(x, 0)[0].sum(), x, dt)
    same_grad(lambda x: x.max(1, keepdim=True)[0].sum(), x, dt)
    v, i = pf.jit(lambda x: torch.max(x, 1))(x.to(dt))
    tv, ti = torch.max(x.to(dt), 1)
    close(v, tv, dt)
    assert torch.equal(i, ti)
    w = torch.arange(4.0).reshape(1, 1, 2, 2)
    same_grad(lambda x: (F.max_pool2d(x, 2) * w.to(x.dtype)).sum(), torch.ones(1, 1, 4, 4), dt)
    same_grad(lambda x: (F.max_pool2d(x, 3, stride=2, padding=1) ** 2).sum(),
              torch.randn(2, 3, 5, 5, dtype=torch.float64), dt)


def test_expand_minus_one_in_new_leading_dim_raises():
    x = torch.randn(3, 4)
    with pytest.raises(RuntimeError, match="leading, non-existing dimension"):
        pf.grad(lambda x: x.expand(-1, 3, 4).sum())(x)
    with pytest.raises(RuntimeError, match="leading, non-existing dimension"):
        x.expand(-1, 3, 4)


@pytest.mark.parametrize("dt", DTYPES)
def test_masked_fill_new_tensors_and_adaptive_pools(dt):
    x = torch.randn(4, 6, dtype=torch.float64)
    same_grad(lambda x: (x.masked_fill(x > 0, 0.5) ** 2).sum(), x, dt)
    same_grad(lambda x: (torch.masked_fill(x, x < 0, torch.tensor(2.0, dtype=x.dtype)) ** 2).sum(), x, dt)
    same_grad(lambda x: (x * x.new_ones(4, 6) + x.new_zeros((6,)) + x.new_full((6,), 2.0)).pow(2).sum(), x, dt)
    same_grad(lambda x: (x * x.new_tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).pow(2).sum(), x, dt)
    same_grad(lambda x: x.new_empty(3).shape[0] * x.sum(), x, dt)
    xi = x.reshape(1, 1, 4, 6)
    for size in [(2, 3), 1, (None, 2), (4, 6)]:
        same_grad(lambda x: (F.adaptive_avg_pool2d(x, size) ** 2).sum(), xi, dt)
        same_grad(lambda x: (F.adaptive_max_pool2d(x, size) ** 2).sum(), xi, dt)
    same_grad(lambda x: F.adaptive_max_pool2d(x, 1).sum(), torch.ones(1, 2, 4, 4), dt)   # ties
    m = torch.nn.AdaptiveAvgPool2d((2, 2)).to(dt)
    close(pf.vmap(m)(xi.to(dt)), tf.vmap(m)(xi.to(dt)), dt)
    # windows of different sizes (4 -> 3, 6 -> 4)
    same_grad(lambda x: (F.adaptive_avg_pool2d(x, (3, 4)) ** 2).sum(), xi, dt)
    same_grad(lambda x: (F.adaptive_max_pool2d(x, (3, 4)) ** 2).sum(), xi, dt)


def test_tensor_attributes_under_transforms():
    seen = []

    def f(x):
        seen.append((x.device, x.is_nested, x.requires_grad, x.new_zeros(2).dtype))
        return x.sum()
    x = torch.randn(3, dtype=torch.float32)
    pf.grad(f)(x)
    pf.vmap(f)(x[None])
    pf.jit(f)(x)
    pf.jvp(f, (x,), (x,))
    for dev, nested, rg, dtype in seen:
        assert dev == torch.device("cpu") and nested is False and rg is False and dtype == torch.float32
    with pytest.raises(AttributeError):
        pf.grad(lambda x: (x.device, pnp.sum(x))[1])(np.ones(3))


@pytest.mark.parametrize("dt", DTYPES)
def test_erf_and_exact_gelu_match_torch(dt):
    # exact GELU (nn.GELU's default) is built on the erf primitive: values, grads, hessians, vmap
    x = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    for f in (lambda x: torch.erf(x).sum(), lambda x: x.erf().sum(), lambda x: torch.special.erf(x).sum(),
              lambda x: torch.erfc(x).sum(), lambda x: F.gelu(x).sum(), lambda x: F.gelu(x, approximate="none").sum(),
              lambda x: torch.nn.GELU()(x).sum()):
        xd = x.to(dt)
        close(pf.vmap(lambda v: f(v[None]))(xd), tf.vmap(lambda v: f(v[None]))(xd), dt)
        same_grad(f, x, dt)
        close(pf.hessian(f)(xd), tf.hessian(f)(xd), dt)
    ints = torch.arange(-2, 3)
    assert pf.vmap(torch.erf)(ints).dtype == torch.erf(ints).dtype == torch.float32
    with pytest.raises(ValueError, match="approximate"):
        pf.grad(lambda x: F.gelu(x, approximate="exact").sum())(x)


@pytest.mark.parametrize("dt", DTYPES)
def test_scaled_dot_product_attention_and_rms_norm(dt):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, 5, 8, generator=g, dtype=torch.float64)
    k = torch.randn(2, 4, 6, 8, generator=g, dtype=torch.float64)
    v = torch.randn(2, 4, 6, 3, generator=g, dtype=torch.float64)
    bool_mask = torch.rand(5, 6, generator=g) > 0.3
    bool_mask[:, 0] = True
    float_mask = torch.randn(5, 6, generator=g, dtype=torch.float64)
    for kw in ({}, {"is_causal": True}, {"attn_mask": bool_mask}, {"attn_mask": float_mask.to(dt)}, {"scale": 0.3}):
        def f(q, k, v, kw=kw):
            return F.scaled_dot_product_attention(q, k, v, **kw).pow(2).sum()
        args = [a.to(dt) for a in (q, k, v)]
        for got, want in zip(pf.grad(f, argnums=(0, 1, 2))(*args), tf.grad(f, argnums=(0, 1, 2))(*args)):
            close(got, want, dt)
        close(pf.vmap(f)(*args), tf.vmap(f)(*args), dt)
    kg, vg = k[:, :2].to(dt), v[:, :2].to(dt)            # grouped-query attention: 4 query heads, 2 kv heads
    f = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True).pow(2).sum()  # noqa: E731
    for got, want in zip(pf.grad(f, argnums=(0, 1, 2))(q.to(dt), kg, vg), tf.grad(f, argnums=(0, 1, 2))(q.to(dt), kg, vg)):
        close(got, want, dt)
    with pytest.raises(NotImplementedError, match="dropout_p"):
        pf.grad(lambda q: F.scaled_dot_product_attention(q, k, v, dropout_p=0.1).sum())(q)
    x, w = torch.randn(3, 4, 6, generator=g, dtype=dt), torch.randn(6, generator=g, dtype=dt)
    norm = torch.nn.RMSNorm(6, dtype=dt)
    for fn in (lambda x: F.rms_norm(x, (6,), w).pow(2).sum(), lambda x: F.rms_norm(x, (4, 6)).sum(),
               lambda x: norm(x).pow(3).sum()):
        same_grad(fn, x, dt)
        close(pf.vmap(fn)(x), tf.vmap(fn)(x), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_sort_argsort_topk_match_torch(dt):
    g = torch.Generator().manual_seed(1)
    x, w = torch.randn(4, 6, generator=g, dtype=dt), torch.randn(4, 6, generator=g, dtype=dt)
    x3 = torch.randn(3, 4, 6, generator=g, dtype=dt)
    fs = [lambda x: (torch.sort(x).values * w).sum(), lambda x: (torch.sort(x, dim=0, descending=True)[0] * w).sum(),
          lambda x: (x.sort(dim=1)[0] * w).sum(), lambda x: (torch.topk(x, 3).values * w[:, :3]).sum(),
          lambda x: (torch.topk(x, 2, dim=0, largest=False)[0] * w[:2]).sum(), lambda x: (torch.msort(x) * w).sum(),
          lambda x: (x.topk(3, dim=1).values ** 2).sum(), lambda x: (x * torch.argsort(x, dim=1).to(dt)).sum()]
    for f in fs:
        same_grad(f, x, dt)
        close(pf.vmap(f)(x3), tf.vmap(f)(x3), dt)
    got, want = pf.vmap(lambda r: torch.topk(r, 2))(x), torch.topk(x, 2)
    assert torch.equal(got.indices, want.indices)
    close(got.values, want.values, dt)
    with pytest.raises(RuntimeError, match="topk"):
        pf.vmap(lambda r: torch.topk(r, 7))(x)


@pytest.mark.parametrize("make", [
    lambda: torch.nn.LSTM(3, 4, batch_first=True), lambda: torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True),
    lambda: torch.nn.LSTM(3, 5, proj_size=2, batch_first=True), lambda: torch.nn.LSTM(3, 4, bias=False),
    lambda: torch.nn.GRU(3, 4, batch_first=True, num_layers=2), lambda: torch.nn.GRU(3, 4, bidirectional=True),
    lambda: torch.nn.RNN(3, 4), lambda: torch.nn.RNN(3, 4, nonlinearity="relu", batch_first=True, bidirectional=True),
], ids=["lstm", "lstm-2layer-bidir", "lstm-proj", "lstm-nobias", "gru-2layer", "gru-bidir", "rnn", "rnn-relu-bidir"])
def test_recurrent_layers_match_torch(make):
    from polyfunc_torch import functional_call
    torch.manual_seed(0)
    m = make().double()
    p = {k: v.detach() for k, v in m.named_parameters()}
    x = torch.randn(2, 5, 3, dtype=torch.float64)

    def loss(p, x, call=functional_call):
        out, h = call(m, p, (x,))
        return out.pow(2).sum() + (h[0] if isinstance(h, tuple) else h).sum()
    got, want = pf.grad(loss)(p, x), tf.grad(lambda p, x: loss(p, x, tf.functional_call))(p, x)
    for k in p:
        close(got[k], want[k], torch.float64)
    # per-sample gradients: each sample is an unbatched sequence
    per = pf.vmap(pf.grad(loss), in_dims=(None, 0))(p, x)
    for i in range(2):
        one = tf.grad(lambda p, x: loss(p, x, tf.functional_call))(p, x[i])
        for k in p:
            close(per[k][i], one[k], torch.float64)
    h0 = torch.randn(m.num_layers * (2 if m.bidirectional else 1), 2, m.hidden_size, dtype=torch.float64)
    if isinstance(m, torch.nn.LSTM):
        if m.proj_size:
            return
        hx = (h0, torch.randn_like(h0))
        f = lambda hx: m(x if m.batch_first else x.transpose(0, 1), hx)[0].pow(2).sum()  # noqa: E731
        for got_h, want_h in zip(pf.grad(f)(hx), tf.grad(f)(hx)):
            close(got_h, want_h, torch.float64)


def test_recurrent_dropout_in_training_is_refused():
    m = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = torch.randn(5, 2, 3)
    with pytest.raises(NotImplementedError, match="dropout"):
        pf.grad(lambda x: m(x)[0].sum())(x)
    m.eval()
    assert pf.grad(lambda x: m(x)[0].sum())(x).shape == x.shape


@pytest.mark.parametrize("dt", DTYPES)
def test_padding_modes_instance_norm_and_scatters_match_torch(dt):
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 5, 6, generator=g, dtype=dt)
    w = torch.randn(2, 3, 8, 9, generator=g, dtype=dt)
    for mode in ("reflect", "replicate", "circular", "constant"):
        same_grad(lambda x: (F.pad(x, (1, 2, 3, 0), mode=mode) * w).sum(), x, dt)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect").to(dt)
    same_grad(lambda x: conv(x).pow(2).sum(), x, dt)
    with pytest.raises(RuntimeError, match="too large"):
        pf.grad(lambda x: F.pad(x, (6, 0), mode="reflect").sum())(x)
    for norm in (torch.nn.InstanceNorm2d(3), torch.nn.InstanceNorm2d(3, affine=True).to(dt)):
        same_grad(lambda x: (norm(x) ** 3).sum(), x, dt)
        close(pf.vmap(lambda x: (norm(x) ** 3).sum())(x), tf.vmap(lambda x: (norm(x) ** 3).sum())(x), dt)
    tracked = torch.nn.InstanceNorm1d(3, track_running_stats=True).to(dt)
    with pytest.raises(TypeError, match="track_running_stats"):
        pf.grad(lambda x: tracked(x).sum())(x[:, :, 0])
    x2, w2 = torch.randn(4, 5, generator=g, dtype=dt), torch.randn(4, 5, generator=g, dtype=dt)
    i1 = torch.tensor([[0, 1, 1], [3, 3, 2], [4, 0, 0], [1, 2, 1]])
    i0 = torch.tensor([[0, 1, 2, 0, 3], [3, 3, 1, 2, 0]])
    cases = [(lambda x, s: (torch.scatter_add(x, 1, i1, s) * w2).sum(), (4, 3)),
             (lambda x, s: (torch.scatter_add(x, 0, i0, s) * w2).sum(), (2, 5)),
             (lambda x, s: (x.scatter_add(-1, i1, s) ** 2).sum(), (4, 3)),
             (lambda x, s: (torch.index_add(x, 0, torch.tensor([0, 2, 2]), s, alpha=2.0) * w2).sum(), (3, 5)),
             (lambda x, s: (x.index_add(1, torch.tensor([4, 0]), s) * w2).sum(), (4, 2)),
             (lambda x, s: (torch.scatter(x, 1, torch.tensor([[0, 1], [2, 3], [4, 0], [1, 2]]), s) * w2).sum(), (4, 2))]
    for f, shape in cases:
        s = torch.randn(*shape, generator=g, dtype=dt)
        for got, want in zip(pf.grad(f, argnums=(0, 1))(x2, s), tf.grad(f, argnums=(0, 1))(x2, s)):
            close(got, want, dt)
        xs = torch.stack([x2, 2 * x2])
        close(pf.vmap(f, in_dims=(0, None))(xs, s), tf.vmap(f, in_dims=(0, None))(xs, s), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_cumprod_matches_torch(dt):
    x = torch.tensor([[1.5, 0.0, -2.0, 0.5, 3.0], [0.7, 1.1, 0.0, 0.0, -1.2]], dtype=dt)
    w = torch.arange(1.0, 11.0, dtype=dt).reshape(2, 5)
    for dim in (0, 1, -1):
        same_grad(lambda x: (torch.cumprod(x, dim) * w).sum(), x, dt)
        same_grad(lambda x: (x.cumprod(dim=dim) ** 2).sum(), x, dt)


@pytest.mark.parametrize("make", [
    lambda: torch.nn.ConvTranspose2d(4, 6, 3), lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1),
    lambda: torch.nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), padding=(0, 2), dilation=(1, 2), groups=2),
    lambda: torch.nn.ConvTranspose1d(4, 2, 5, stride=3, padding=4, bias=False),
    lambda: torch.nn.ConvTranspose3d(2, 2, 2, stride=2),
], ids=["2d", "2d-stride-outpad", "2d-groups-dilation", "1d-crop", "3d"])
def test_conv_transpose_matches_torch(make):
    from polyfunc_torch import functional_call
    torch.manual_seed(0)
    m = make().double()
    x = torch.randn((2, m.in_channels) + (5,) * len(m.kernel_size), dtype=torch.float64)
    p = {k: v.detach() for k, v in m.named_parameters()}
    close(pf.vmap(lambda x: functional_call(m, p, (x,)))(x), m(x), torch.float64)
    got = pf.grad(lambda p, x: functional_call(m, p, (x,)).pow(2).sum(), argnums=(0, 1))(p, x)
    want = tf.grad(lambda p, x: tf.functional_call(m, p, (x,)).pow(2).sum(), argnums=(0, 1))(p, x)
    for k in p:
        close(got[0][k], want[0][k], torch.float64)
    close(got[1], want[1], torch.float64)


def test_a_numpy_tracer_keeps_numpy_methods_when_torch_is_loaded():
    with pytest.raises(TypeError, match="sorts in place"):
        pf.jit(lambda x: (x * 1.0).sort())(np.array([3.0, 1.0, 2.0]))
    np.testing.assert_array_equal(pf.jit(lambda x: x.argsort(axis=0))(np.array([[2.0, 1.0], [0.0, 3.0]])),
                                  [[1, 0], [0, 1]])
    with pytest.raises(AttributeError):
        pf.jit(lambda x: x.relu())(np.ones(2))


def test_argsort_and_sort_under_vmap_on_0d_rows_and_negative_axes():
    import polyfunc.ops as ops
    # 0-d rows (torch), negative axes with the batch dim elsewhere
    assert torch.equal(pf.vmap(torch.argsort)(torch.tensor([3.0, 1.0, 2.0])), torch.zeros(3, dtype=torch.int64))
    got = pf.vmap(lambda r: ops.argsort(r, -1), in_dims=1)(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]]))
    np.testing.assert_array_equal(got, [[1, 0], [0, 1], [0, 1]])
    v0 = pf.vmap(lambda r: torch.sort(r))(torch.tensor([2.0, -1.0]))
    assert torch.equal(v0.values, torch.tensor([2.0, -1.0])) and torch.equal(v0.indices, torch.zeros(2, dtype=torch.int64))


def test_attention_query_that_may_attend_to_nothing_gives_zeros_and_finite_gradients():
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((3, 4), (5, 4), (5, 2)))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    f = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # noqa: E731
    close(pf.jit(f)(q, k, v), f(q, k, v), torch.float64)
    for got, want in zip(pf.grad(lambda q, k, v: f(q, k, v).pow(2).sum(), argnums=(0, 1, 2))(q, k, v),
                         tf.grad(lambda q, k, v: f(q, k, v).pow(2).sum(), argnums=(0, 1, 2))(q, k, v)):
        close(got, want, torch.float64)


def test_grouped_query_attention_with_different_key_and_value_head_counts():
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((6, 3, 4), (2, 5, 4), (3, 5, 4)))
    gqa = lambda q: F.scaled_dot_product_attention(q, k, v, enable_gqa=True).pow(2).sum()  # noqa: E731
    same_grad(gqa, q, torch.float64)
    with pytest.raises(RuntimeError, match="must divide"):
        pf.grad(lambda q: F.scaled_dot_product_attention(q, k[:1].expand(4, 5, 4)[:4], v, enable_gqa=True).sum())(
            torch.randn(5, 3, 4, dtype=torch.float64))


def test_erfc_keeps_its_accuracy_far_out():
    # 1 - erf would round to 0 there
    x = torch.tensor([3.0, 5.0, 10.0], dtype=torch.float64)
    np.testing.assert_allclose(pf.vmap(torch.erfc)(x).numpy(), torch.erfc(x).numpy(), rtol=1e-12)
    same_grad(lambda x: torch.erfc(x).sum(), x, torch.float64)


def test_rms_norm_refuses_a_normalized_shape_the_input_does_not_end_with():
    with pytest.raises(RuntimeError, match="expected input with shape"):
        pf.grad(lambda x: F.rms_norm(x, (5,)).sum())(torch.randn(3, 4, 6))


def test_relu_rnn_gradient_is_zero_where_the_preactivation_is_zero():
    # as torch's relu
    rnn = torch.nn.RNN(3, 4, nonlinearity="relu", bias=False).double()
    same_grad(lambda x: rnn(x)[0].sum(), torch.zeros(2, 3, dtype=torch.float64), torch.float64)


def test_packed_sequences_are_refused_by_name():
    from polyfunc_torch import functional_call
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    lstm = torch.nn.LSTM(3, 4)
    packed = pack_padded_sequence(torch.randn(5, 2, 3), torch.tensor([5, 3]))
    params = {n: p.detach() for n, p in lstm.named_parameters()}
    with pytest.raises(NotImplementedError, match="packed"):
        pf.grad(lambda p: pad_packed_sequence(functional_call(lstm, p, (packed,))[0])[0].sum())(params)


@pytest.mark.parametrize("make", [lambda: torch.nn.LSTMCell(3, 4), lambda: torch.nn.GRUCell(3, 4),
                                  lambda: torch.nn.RNNCell(3, 4),
                                  lambda: torch.nn.RNNCell(3, 4, nonlinearity="relu", bias=False)],
                         ids=["lstm", "gru", "rnn", "rnn-relu-nobias"])
def test_recurrent_cells_match_torch(make):
    torch.manual_seed(0)
    cell = make().double()
    x = torch.randn(2, 3, dtype=torch.float64)

    def f(x):
        out = cell(x)
        return (out[0] if isinstance(out, tuple) else out).pow(2).sum()
    same_grad(f, x, torch.float64)
    # torch.func has no batching rule for lstm_cell; compare per-sample results with a loop
    close(pf.vmap(f)(x), torch.stack([f(xi) for xi in x]), torch.float64)
    per = pf.vmap(pf.grad(f))(x)
    for i in range(2):
        close(per[i], tf.grad(f)(x[i]), torch.float64)


@pytest.mark.parametrize("case", range(5))
def test_multihead_attention_matches_torch(case):
    from polyfunc_torch import functional_call
    torch.manual_seed(case)
    L, S, N, E = 4, 6, 2, 8
    kpm = torch.zeros(N, S, dtype=torch.bool)
    kpm[0, -2:] = True
    causal_ish = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=3)
    kw, call = [
        (dict(embed_dim=E, num_heads=2, batch_first=True), {}),
        (dict(embed_dim=E, num_heads=2), {"key_padding_mask": kpm}),
        (dict(embed_dim=E, num_heads=4, bias=False, add_bias_kv=True, add_zero_attn=True),
         {"attn_mask": causal_ish, "key_padding_mask": kpm}),
        (dict(embed_dim=E, num_heads=2, kdim=5, vdim=3), {"need_weights": False}),
        (dict(embed_dim=E, num_heads=2), {"attn_mask": torch.randn(L, S, dtype=torch.float64),
                                          "average_attn_weights": False}),
    ][case]
    m = torch.nn.MultiheadAttention(dropout=0.0, **kw).double()
    bf = kw.get("batch_first", False)

    def shape(n, d):
        return (N, n, d) if bf else (n, N, d)
    q = torch.randn(*shape(L, E), dtype=torch.float64)
    k = torch.randn(*shape(S, kw.get("kdim", E)), dtype=torch.float64)
    v = torch.randn(*shape(S, kw.get("vdim", E)), dtype=torch.float64)
    p = {n: t.detach() for n, t in m.named_parameters()}

    def loss(p, q, call_fn=functional_call):
        out, w = call_fn(m, p, (q, k, v), call)
        return out.pow(2).sum() + (0 if w is None else w.pow(2).sum())
    got = pf.grad(loss, argnums=(0, 1))(p, q)
    want = tf.grad(lambda p, q: loss(p, q, tf.functional_call), argnums=(0, 1))(p, q)
    for n in p:
        close(got[0][n], want[0][n], torch.float64)
    close(got[1], want[1], torch.float64)


def test_transformer_encoder_layer_per_sample_grads():
    from polyfunc_torch import functional_call
    torch.manual_seed(0)
    enc = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True).double()
    p = {n: t.detach() for n, t in enc.named_parameters()}
    x = torch.randn(2, 5, 8, dtype=torch.float64)

    def loss(p, x, call_fn=functional_call):
        return call_fn(enc, p, (x,)).pow(2).sum()
    per = pf.vmap(pf.grad(loss), in_dims=(None, 0))(p, x)
    for i in range(2):
        one = tf.grad(lambda p, x: loss(p, x, tf.functional_call))(p, x[i])
        for n in p:
            close(per[n][i], one[n], torch.float64)
    with pytest.raises(NotImplementedError, match="dropout"):
        pf.grad(lambda x: torch.nn.MultiheadAttention(8, 2, dropout=0.5)(x, x, x)[0].sum())(torch.randn(3, 8))


def test_to_device_inside_transforms():
    x = torch.randn(3)
    ones = torch.ones(3)
    for f in (lambda x: x.to("cpu").sum(), lambda x: x.cpu().sum(), lambda x: x.to(x.device).sum(),
              lambda x: x.to(device="cpu", dtype=torch.float64).sum(), lambda x: x.to(torch.ones(1, dtype=torch.float64)).sum()):
        assert torch.equal(pf.grad(f)(x).double(), ones.double())
    assert pf.grad(lambda x: x.to(torch.float64).sum())(x).dtype == torch.float32
    for f in (lambda x: x.to("cuda").sum(), lambda x: x.cuda().sum(), lambda x: x.to(device="cuda:0").sum()):
        with pytest.raises(NotImplementedError, match="moving a traced tensor from cpu to cuda"):
            pf.grad(f)(x)


@pytest.mark.parametrize("rank,kw", [
    (4, dict(scale_factor=2, mode="nearest")), (4, dict(size=(7, 3), mode="nearest")),
    (4, dict(size=(7, 3), mode="nearest-exact")), (4, dict(scale_factor=2, mode="bilinear")),
    (4, dict(scale_factor=2, mode="bilinear", align_corners=True)), (4, dict(size=(3, 8), mode="bilinear")),
    (4, dict(scale_factor=1.5, mode="bilinear")),
    (4, dict(scale_factor=(0.5, 1.7), mode="bilinear", recompute_scale_factor=True)),
    (3, dict(scale_factor=3, mode="linear")), (3, dict(size=4, mode="linear", align_corners=True)),
    (5, dict(scale_factor=2, mode="trilinear")), (4, dict(size=(2, 5), mode="area")),
    (3, dict(scale_factor=2.5, mode="nearest")),
])
def test_interpolate_matches_torch(rank, kw):
    g = torch.Generator().manual_seed(rank)
    x = torch.randn((2, 3, 4, 5, 3)[:rank], generator=g, dtype=torch.float64)
    w = torch.randn(F.interpolate(x, **kw).shape, generator=g, dtype=torch.float64)
    close(pf.vmap(lambda x: F.interpolate(x[None], **kw)[0])(x), F.interpolate(x, **kw), torch.float64)
    same_grad(lambda x: (F.interpolate(x, **kw) * w).sum(), x, torch.float64)


def _more_cases():
    """(function, argument) pairs of the torch functions in more_functional / more_tensor."""
    torch.manual_seed(0)
    v = torch.randn(4, 6, dtype=torch.float64)
    x = torch.randn(2, 8, 4, 4, dtype=torch.float64)
    b = torch.randn(3, 4, 5, dtype=torch.float64)
    w = torch.randn(4, 6, dtype=torch.float64)
    y = torch.sign(torch.randn(4, dtype=torch.float64))
    return {
     "hardsigmoid": (lambda v: (F.hardsigmoid(v * 4) * w).sum(), v), "hardswish": (lambda v: (F.hardswish(v * 4) * w).sum(), v),
     "glu": (lambda v: F.glu(v).pow(2).sum(), v), "glu dim0": (lambda v: F.glu(v, 0).pow(2).sum(), v),
     "prelu 1": (lambda v: (F.prelu(v, torch.tensor([0.2], dtype=torch.float64)) * w).sum(), v),
     "prelu C": (lambda x: F.prelu(x, torch.linspace(0.1, 0.8, 8, dtype=torch.float64)).pow(2).sum(), x),
     "softmin": (lambda v: (F.softmin(v, dim=1) * w).sum(), v),
     "pixel_shuffle": (lambda x: (F.pixel_shuffle(x, 2) ** 2 * torch.arange(64., dtype=torch.float64).reshape(8, 8)).sum(), x),
     "pixel_unshuffle": (lambda x: (F.pixel_unshuffle(x, 2) ** 2).sum() + F.pixel_unshuffle(x, 2)[0, 3, 1, 0], x),
     "pairwise_distance": (lambda v: F.pairwise_distance(v, w).sum(), v), "cdist": (lambda v: (torch.cdist(v, w[:3]) * torch.arange(12., dtype=torch.float64).reshape(4, 3)).sum(), v),
     "cdist p1": (lambda v: torch.cdist(v, w[:3], p=1).sum(), v), "cdist self": (lambda v: torch.cdist(v, v).sum(), v),
     "gaussian_nll": (lambda v: F.gaussian_nll_loss(v, w, v.abs() + 0.1), v), "gaussian_nll full var1d": (lambda v: F.gaussian_nll_loss(v, w, v[:, 0].abs(), full=True, reduction="sum"), v),
     "poisson_nll": (lambda v: F.poisson_nll_loss(v, w.abs()), v), "poisson_nll full noln": (lambda v: F.poisson_nll_loss(v.abs() + 0.1, w.abs() * 3, log_input=False, full=True), v),
     "margin_ranking": (lambda v: F.margin_ranking_loss(v[:, 0], v[:, 1], y, margin=0.2), v), "hinge_embedding": (lambda v: F.hinge_embedding_loss(v, torch.sign(w)), v),
     "soft_margin": (lambda v: F.soft_margin_loss(v, torch.sign(w)), v), "multilabel_soft_margin": (lambda v: F.multilabel_soft_margin_loss(v, (w > 0).double()), v),
     "cosine_embedding": (lambda v: F.cosine_embedding_loss(v, w, y, margin=0.1), v), "triplet": (lambda v: F.triplet_margin_loss(v, w, v * 0.5 + 1), v),
     "triplet swap p1": (lambda v: F.triplet_margin_loss(v, w, v * 0.5 + 1, p=1, swap=True), v),
     "addcmul": (lambda v: torch.addcmul(v, w, v, value=0.5).pow(2).sum(), v), "addcdiv": (lambda v: torch.addcdiv(v, w, v.abs() + 1, value=2).sum(), v),
     "baddbmm": (lambda b: torch.baddbmm(b[:, :, :4], b, b.transpose(1, 2), beta=0.5, alpha=2).pow(2).sum(), b),
     "addbmm": (lambda b: torch.addbmm(b[0, :, :4], b, b.transpose(1, 2)).pow(2).sum(), b),
     "addmv": (lambda v: torch.addmv(v[:, 0], v, w[0], alpha=3).pow(2).sum(), v), "addr": (lambda v: torch.addr(v, v[:, 0], w[0], beta=2).pow(2).sum(), v),
     "nan_to_num": (lambda v: torch.nan_to_num(torch.log(v)).sum(), v), "diag_embed": (lambda v: (torch.diag_embed(v) ** 2).sum() + torch.diag_embed(v)[1, 2, 2], v),
     "diag_embed off": (lambda v: torch.diag_embed(v, offset=1)[0].pow(2).sum() + torch.diag_embed(v, offset=-2)[1, 3, 1], v),
     "rot90": (lambda v: (torch.rot90(v) * torch.arange(24., dtype=torch.float64).reshape(6, 4)).sum(), v), "rot90 k3": (lambda v: (torch.rot90(v, 3) * torch.arange(24., dtype=torch.float64).reshape(6, 4)).sum(), v),
     "rot90 k2 neg": (lambda v: (torch.rot90(v, -2, [1, 0]) * w).sum(), v),
     "diff": (lambda v: (torch.diff(v) ** 2).sum(), v), "diff n2 dim0 prepend": (lambda v: (torch.diff(v, n=2, dim=0, prepend=w[:1]) ** 2).sum(), v),
     "median": (lambda v: torch.median(v), v), "median dim": (lambda v: torch.median(v, dim=1).values.pow(2).sum(), v), "median keepdim": (lambda v: v.median(0, keepdim=True)[0].sum(), v),
     "quantile": (lambda v: torch.quantile(v, 0.3), v), "quantile dim": (lambda v: torch.quantile(v, 0.7, dim=1).pow(2).sum(), v),
     "quantile vec": (lambda v: torch.quantile(v, torch.tensor([0.2, 0.9], dtype=torch.float64), dim=0).pow(2).sum(), v),
     "quantile midpoint keepdim": (lambda v: torch.quantile(v, 0.5, dim=0, keepdim=True, interpolation="midpoint").sum(), v),
     "logcumsumexp": (lambda v: (torch.logcumsumexp(v * 30, 1) * w).sum(), v), "logcumsumexp dim0": (lambda v: torch.logcumsumexp(v, 0).pow(2).sum(), v),
    }


@pytest.mark.parametrize("name", list(_more_cases()))
def test_more_torch_functions_match_torch(name):
    f, a = _more_cases()[name]
    np.testing.assert_allclose(pf.jit(f)(a).numpy(), f(a).detach().numpy(), rtol=1e-10, atol=1e-10)
    # hardsigmoid: torch scales its gradient by 1/6 as a float32 constant, even in float64
    tol = 1e-7 if name == "hardsigmoid" else 1e-10
    np.testing.assert_allclose(pf.grad(f)(a).numpy(), tf.grad(f)(a).numpy(), rtol=tol, atol=tol)


def _linalg_cases():
    torch.manual_seed(0)
    A = torch.randn(3, 3, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    As = torch.randn(2, 3, 3, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64); B = torch.randn(3, 2, dtype=torch.float64); bs = torch.randn(2, 3, dtype=torch.float64)
    S = A @ A.T
    w33 = torch.randn(3, 3, dtype=torch.float64)
    return {
     "solve vec": (lambda a: torch.linalg.solve(a, b).pow(2).sum(), A), "solve mat": (lambda a: torch.linalg.solve(a, B).pow(2).sum(), A),
     "solve batch vec": (lambda a: torch.linalg.solve(a, bs).pow(2).sum(), As), "inv": (lambda a: (torch.linalg.inv(a) * w33).sum(), A),
     "inverse": (lambda a: (torch.inverse(a) * w33).sum(), A), "Tensor.inverse": (lambda a: (a.inverse() * w33).sum(), A),
     "det": (lambda a: torch.linalg.det(a), A), "torch.det batch": (lambda a: torch.det(a).sum(), As), "slogdet": (lambda a: torch.linalg.slogdet(a).logabsdet, A),
     "torch.slogdet": (lambda a: torch.slogdet(a)[1].sum(), As), "logdet": (lambda a: torch.logdet(a @ a.T), A),
     "cholesky": (lambda a: (torch.linalg.cholesky(a @ a.T) * w33).sum(), A), "cholesky upper": (lambda a: (torch.linalg.cholesky(a @ a.T, upper=True) * w33).sum(), A),
     "torch.cholesky": (lambda a: (torch.cholesky(a @ a.T) * w33).sum(), A), "matrix_norm": (lambda a: torch.linalg.matrix_norm(a), A),
    }


@pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated")
@pytest.mark.parametrize("name", list(_linalg_cases()))
def test_linalg_matches_torch(name):
    f, a = _linalg_cases()[name]
    np.testing.assert_allclose(pf.jit(f)(a).numpy(), f(a).numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(pf.grad(f)(a).numpy(), tf.grad(f)(a).numpy(), rtol=1e-9, atol=1e-10)
    stack = torch.stack([a, a * 1.1])
    np.testing.assert_allclose(pf.vmap(f)(stack).numpy(), tf.vmap(f)(stack).numpy(), rtol=1e-10, atol=1e-10)


def _pool_cases():
    torch.manual_seed(0)
    x1 = torch.randn(2, 3, 9, dtype=torch.float64); x2 = torch.randn(2, 3, 8, 8, dtype=torch.float64); x3 = torch.randn(1, 2, 4, 6, 4, dtype=torch.float64)
    return {
     "max_pool1d": (lambda x: F.max_pool1d(x, 3, 2, 1).pow(2).sum(), x1), "avg_pool1d": (lambda x: F.avg_pool1d(x, 3, 2, 1).pow(2).sum(), x1),
     "MaxPool1d": (lambda x: torch.nn.MaxPool1d(2)(x).pow(2).sum(), x1), "AvgPool3d": (lambda x: torch.nn.AvgPool3d(2)(x).pow(2).sum(), x3),
     "max_pool3d": (lambda x: F.max_pool3d(x, (2, 3, 2)).pow(2).sum(), x3), "avg_pool3d": (lambda x: F.avg_pool3d(x, 2, padding=1).pow(2).sum(), x3),
     "max_pool2d": (lambda x: F.max_pool2d(x, 2).pow(2).sum(), x2), "lp_pool2d": (lambda x: F.lp_pool2d(x.abs() + 0.1, 2, 2).pow(2).sum(), x2),
     "lp_pool1d p3": (lambda x: F.lp_pool1d(x.abs() + 0.1, 3, 3).pow(2).sum(), x1),
    }


@pytest.mark.parametrize("name", list(_pool_cases()))
def test_pools_1d_3d_and_lp_match_torch(name):
    f, a = _pool_cases()[name]
    np.testing.assert_allclose(pf.jit(f)(a).numpy(), f(a).numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(pf.grad(f)(a).numpy(), tf.grad(f)(a).numpy(), rtol=1e-9, atol=1e-10)


def test_multihead_attention_without_weights_gives_zeros_for_a_query_with_nothing_to_attend():
    from polyfunc_torch import functional_call
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1).double()
    p = {n: t.detach() for n, t in mha.named_parameters()}
    q = torch.randn(2, 1, 4, dtype=torch.float64)
    kpm = torch.tensor([[True, True]])
    call = dict(key_padding_mask=kpm, need_weights=False)
    close(pf.jit(lambda p, q: functional_call(mha, p, (q, q, q), call)[0])(p, q),
          tf.functional_call(mha, p, (q, q, q), call)[0], torch.float64)


def test_transformer_encoder_with_a_padding_mask_in_eval_mode():
    # eval mode probes torch's nested-tensor fast path with the mask
    torch.manual_seed(0)
    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 2).eval()
    x = torch.randn(2, 5, 8)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2])
    close(pf.jit(lambda x: enc(x, src_key_padding_mask=pad))(x)[~pad], enc(x, src_key_padding_mask=pad)[~pad],
          torch.float32)


def test_multihead_attention_with_a_per_sample_padding_mask_under_vmap():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1).double()
    xs = torch.randn(3, 2, 4, dtype=torch.float64)
    masks = torch.tensor([[False, True], [False, False], [True, False]])
    f = lambda x, m: mha(x, x, x, key_padding_mask=m, need_weights=False)[0]  # noqa: E731  (unbatched (L, E))
    close(pf.vmap(f)(xs, masks), torch.stack([f(a, m) for a, m in zip(xs, masks)]), torch.float64)


def test_interpolate_copies_an_unchanged_axis_and_nearest_picks_torchs_elements():
    # nearest computes its source indices in float32, as torch does
    line = torch.arange(4.0)[None, None]
    close(pf.jit(lambda x: F.interpolate(x, scale_factor=1.1, mode="linear"))(line),
          F.interpolate(line, scale_factor=1.1, mode="linear"), torch.float32)
    for x, kw in [(torch.arange(2.0).reshape(1, 1, 2, 1), dict(scale_factor=(1.25, 2))),
                  (torch.arange(2.0).reshape(1, 1, 1, 2), dict(scale_factor=2.1)),
                  (torch.arange(14.0)[None, None], dict(size=46))]:
        close(pf.jit(lambda x: F.interpolate(x, **kw))(x), F.interpolate(x, **kw), torch.float32)


def test_interpolate_refuses_integer_bilinear_and_a_size_of_the_wrong_length():
    with pytest.raises(NotImplementedError, match="floating"):
        pf.jit(lambda x: F.interpolate(x, size=(3, 3), mode="bilinear"))(torch.zeros(1, 1, 2, 2, dtype=torch.uint8))
    with pytest.raises(ValueError, match="entries"):
        pf.jit(lambda x: F.interpolate(x, size=(3, 3, 3)))(torch.zeros(1, 1, 2, 2))


def test_scans_of_a_0d_tensor_have_gradient_one():
    s = torch.tensor(2.0)
    assert float(pf.grad(lambda s: torch.cumprod(s, 0))(s)) == 1.0 and float(pf.grad(lambda s: torch.cumsum(s, -1))(s)) == 1.0


def test_a_move_to_a_positional_int_device_is_refused():
    with pytest.raises(NotImplementedError, match="cuda"):
        pf.grad(lambda x: x.to(0).sum())(torch.ones(2))


def test_pad_refuses_a_pad_of_odd_or_too_great_length():
    for bad in ((3,), (1, 1, 1, 1, 2, 2)):
        with pytest.raises(RuntimeError, match="even length"):
            pf.jit(lambda x: F.pad(x, bad))(torch.ones(3, 5))


# ---------------------------------------------------------------- relu: a primitive with torch's own kernels
_RELU_FORMS = {"F.relu": lambda x: F.relu(x), "torch.relu": lambda x: torch.relu(x), "Tensor.relu": lambda x: x.relu(),
               "nn.ReLU": lambda x: torch.nn.ReLU()(x), "nn.ReLU(inplace)": lambda x: torch.nn.ReLU(inplace=True)(x * 1)}


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("form", list(_RELU_FORMS))
def test_relu_forms_match_torch_func_at_the_kink(form, dt):
    relu = _RELU_FORMS[form]
    x = torch.tensor([[-1.5, 0.0, -0.0, 0.7], [2.0, -0.2, 0.0, 1.1]], dtype=dt)
    w = torch.arange(1.0, 9.0, dtype=dt).reshape(2, 4)
    f = lambda x: (relu(x) * w).sum()  # noqa: E731
    same_grad(f, x, dt)
    same_grad(lambda x: (relu(x) ** 2 * w).sum(), x, dt)
    for jac in ("jacrev", "jacfwd", "hessian"):
        g = (lambda x: relu(x) * w) if jac != "hessian" else (lambda x: (relu(x) ** 2 * w).sum())
        close(getattr(pf, jac)(g)(x), getattr(tf, jac)(g)(x), dt)
    t = torch.linspace(-1, 1, 8, dtype=dt).reshape(2, 4)
    for a, b in zip(pf.jvp(relu, (x,), (t,)), tf.jvp(relu, (x,), (t,))):
        close(a, b, dt)
    (pa, va), (pb, vb) = pf.vjp(relu, x), tf.vjp(relu, x)
    close(pa, pb, dt)
    close(va(t)[0], vb(t)[0], dt)
    close(pf.vmap(pf.grad(f))(torch.stack([x, -x, x * 0])), tf.vmap(tf.grad(f))(torch.stack([x, -x, x * 0])), dt)
    close(pf.jit(pf.grad(f))(x), tf.grad(f)(x), dt)


@pytest.mark.parametrize("dt", DTYPES)
def test_relu_cnn_per_sample_grads_and_second_order_match_torch_func(dt):
    from polyfunc_torch import functional_call
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(12, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)).to(dt)
    params = {k: v.detach() for k, v in net.named_parameters()}
    xs, ys = torch.randn(4, 1, 6, 6, dtype=dt), torch.tensor([0, 1, 1, 0])
    xs[1] = 0.0                    # every pre-activation of the first layer at the kink: the bias alone

    def loss(fc, p, x, y):
        return F.cross_entropy(fc(net, p, (x[None],)), y[None])
    per_pf = pf.vmap(pf.grad(lambda p, x, y: loss(functional_call, p, x, y)), in_dims=(None, 0, 0))(params, xs, ys)
    per_tf = tf.vmap(tf.grad(lambda p, x, y: loss(tf.functional_call, p, x, y)), in_dims=(None, 0, 0))(params, xs, ys)
    for k in params:
        close(per_pf[k], per_tf[k], dt)

    # second order: the gradient of the squared gradient norm (a MAML-like inner step), and an hvp
    def gnorm(fc, grad):
        def f(p):
            g = grad(lambda q: sum(loss(fc, q, xs[i], ys[i]) for i in range(4)))(p)
            return sum((v ** 2).sum() for v in g.values())
        return f
    g2_pf = pf.grad(gnorm(functional_call, pf.grad))(params)
    g2_tf = tf.grad(gnorm(tf.functional_call, tf.grad))(params)
    for k in params:
        close(g2_pf[k], g2_tf[k], dt)
    x0 = xs[2]
    f_in = lambda x: (net(x[None]) ** 2).sum()  # noqa: E731
    v = torch.randn_like(x0)
    hvp_pf = pf.jvp(pf.grad(f_in), (x0,), (v,))[1]
    hvp_tf = tf.jvp(tf.grad(f_in), (x0,), (v,))[1]
    close(hvp_pf, hvp_tf, dt)


def test_relu_nan_and_integers_as_torch():
    x = torch.tensor([float("nan"), -1.0, 0.0, 2.0], dtype=torch.float64)
    f = lambda x: F.relu(x).sum()  # noqa: E731
    torch.testing.assert_close(pf.grad(f)(x), tf.grad(f)(x), equal_nan=True)
    torch.testing.assert_close(pf.jit(F.relu)(x), F.relu(x), equal_nan=True)
    i = torch.tensor([-3, 0, 5], dtype=torch.int32)
    out = pf.jit(lambda i: torch.relu(i))(i)
    assert out.dtype == torch.int32 and out.tolist() == [0, 0, 5]
    with pytest.raises(pf.errors.DTypeError, match="relu: expected real numbers .* got bool"):
        pf.vmap(F.relu)(torch.tensor([[True, False]]))


def test_relu_runs_torchs_kernels_not_a_select():
    # forward torch.relu, backward threshold_backward: no comparison, select or zeros in the graph
    x = torch.randn(3, 4, dtype=torch.float64)
    graph = pf.make_graph(pf.vmap(pf.grad(lambda x: (F.relu(x) * x).sum())))(x)
    names = [e.prim.name for e in graph.eqns]
    assert "relu" in names and "relu_grad" in names, names
    assert not {"select", "le", "gt"} & set(names), names
    b = pf.get_backend("torch")
    assert b.kernels["relu"] is torch.relu
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        pf.jit(pf.grad(lambda x: (F.relu(x) * x).sum()))(x)
    calls = {e.key for e in prof.key_averages()}
    assert "aten::threshold_backward" in calls and "aten::relu" in calls and "aten::where" not in calls, calls
