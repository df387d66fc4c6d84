"""The torch backend against torch.func itself: the seed's examples, per-sample
gradients, ensembling, batched Jacobians/Hessians and a MAML inner loop over a
real nn.Module give the same numbers."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.func as tf  # noqa: E402

import polyfunc as pf  # noqa: E402
import polyfunc.numpy as pnp  # noqa: E402

torch.manual_seed(0)
DT = torch.float64


def close(a, b, tol=1e-9):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def tree_close(a, b, tol=1e-9):
    assert a.keys() == b.keys()
    for k in a:
        close(a[k], b[k], tol)


def test_torch_arrays_are_computed_by_torch():
    x = torch.randn(3, dtype=DT)
    y = pnp.sin(x) * 2.0
    assert isinstance(y, torch.Tensor)
    close(y, torch.sin(x) * 2.0)


def test_seed_examples_match_torch_func():
    x = torch.randn([], dtype=DT)
    close(pf.grad(torch.sin)(x), tf.grad(torch.sin)(x))
    close(pf.grad(pf.grad(torch.sin))(x), tf.grad(tf.grad(torch.sin))(x))
    xs, ct = torch.randn(3, dtype=DT), torch.randn(3, dtype=DT)
    close(pf.vjp(torch.sin, xs)[1](ct)[0], tf.vjp(torch.sin, xs)[1](ct)[0])
    a, b = torch.randn(5, dtype=DT), torch.randn(5, dtype=DT)
    close(pf.jvp(lambda x, y: x * y, (a, b), (torch.ones(5, dtype=DT), torch.ones(5, dtype=DT)))[1], a + b)
    x5 = torch.randn(5, dtype=DT)
    close(pf.jacrev(torch.sin)(x5), tf.jacrev(torch.sin)(x5))
    close(pf.jacfwd(torch.sin)(x5), tf.jacfwd(torch.sin)(x5))

    def f(x):
        return x.sin().sum()
    close(pf.hessian(f)(x5), tf.hessian(f)(x5))
    close(pf.jacrev(pf.jacrev(f))(x5), tf.jacrev(tf.jacrev(f))(x5))
    xb = torch.randn(64, 5, dtype=DT)
    jb = pf.vmap(pf.jacrev(torch.sin))(xb)
    assert tuple(jb.shape) == (64, 5, 5)
    close(jb, tf.vmap(tf.jacrev(torch.sin))(xb))
    close(pf.vmap(pf.hessian(f))(xb[:4]), tf.vmap(tf.hessian(f))(xb[:4]))


def test_vmap_model_and_per_sample_grads_match_torch_func():
    weights = torch.randn(5, dtype=DT)

    def model(feature_vec):
        return feature_vec.dot(weights).relu()
    examples = torch.randn(3, 5, dtype=DT)
    close(pf.vmap(model)(examples), tf.vmap(model)(examples))

    def compute_loss(weights, example, target):
        y = example.dot(weights).relu()
        return ((y - target) ** 2).mean()
    targets = torch.randn(3, dtype=DT)
    got = pf.vmap(pf.grad(compute_loss), in_dims=(None, 0, 0))(weights, examples, targets)
    close(got, tf.vmap(tf.grad(compute_loss), in_dims=(None, 0, 0))(weights, examples, targets))


def make_model():
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def test_functional_call_per_sample_gradients_on_a_module():
    from polyfunc_torch import functional_call
    model = make_model()
    params = {k: v.detach() for k, v in model.named_parameters()}
    xs, ys = torch.randn(6, 5, dtype=DT), torch.randn(6, 1, dtype=DT)

    def loss(params, x, y):
        return ((functional_call(model, params, (x,)) - y) ** 2).mean()

    def tloss(params, x, y):
        return ((tf.functional_call(model, params, (x,)) - y) ** 2).mean()
    got = pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
    want = tf.vmap(tf.grad(tloss), in_dims=(None, 0, 0))(params, xs, ys)
    tree_close(got, want)
    # the module's own parameters are untouched
    assert all(isinstance(p, torch.nn.Parameter) for p in model.parameters())


def test_ensembling_with_stack_module_state():
    from polyfunc_torch import functional_call, stack_module_state
    models = [make_model() for _ in range(4)]
    p, b = stack_module_state(models)
    tp, tb = tf.stack_module_state(models)
    tree_close(p, {k: v.detach() for k, v in tp.items()})
    x = torch.randn(3, 5, dtype=DT)
    out = pf.vmap(lambda p, b, x: functional_call(models[0], (p, b), (x,)), in_dims=(0, 0, None))(p, b, x)
    want = torch.stack([m(x) for m in models]).detach()
    close(out, want)


def test_module_zoo_under_grad():
    from polyfunc_torch import functional_call
    torch.manual_seed(1)
    net = torch.nn.ModuleDict({
        "emb": torch.nn.Embedding(10, 4), "ln": torch.nn.LayerNorm(4), "lin": torch.nn.Linear(4, 3),
        "drop": torch.nn.Dropout(0.5), "bn": torch.nn.BatchNorm1d(3, track_running_stats=False),
    }).double().eval()

    def run(mod_call, params, idx):
        h = mod_call("emb", params, idx)
        h = mod_call("ln", params, h)
        h = mod_call("drop", params, mod_call("lin", params, h))
        return mod_call("bn", params, h).tanh().sum()

    def pcall(name, params, x):
        sub = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(name + ".")}
        return functional_call(net[name], sub, (x,))

    def tcall(name, params, x):
        sub = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(name + ".")}
        return tf.functional_call(net[name], sub, (x,))
    params = {k: v.detach() for k, v in net.named_parameters()}
    idx = torch.tensor([1, 3, 3, 7])
    got = pf.grad(lambda p: run(pcall, p, idx))(params)
    want = tf.grad(lambda p: run(tcall, p, idx))(params)
    tree_close(got, want, 1e-8)


def test_conv2d_module_per_sample_grads():
    from polyfunc_torch import functional_call
    conv = torch.nn.Conv2d(2, 3, 3).double()
    params = {k: v.detach() for k, v in conv.named_parameters()}
    xs = torch.randn(2, 2, 5, 5, dtype=DT)

    def loss(p, x, call):
        return call(conv, p, (x[None],)).pow(2).mean()
    got = pf.vmap(pf.grad(lambda p, x: loss(p, x, functional_call)), in_dims=(None, 0))(params, xs)
    want = tf.vmap(tf.grad(lambda p, x: loss(p, x, tf.functional_call)), in_dims=(None, 0))(params, xs)
    tree_close(got, want, 1e-8)


def test_maml_inner_loop_over_a_module():
    from polyfunc_torch import functional_call
    model = make_model()
    params = {k: v.detach() for k, v in model.named_parameters()}
    tasks = (torch.randn(3, 4, 5, dtype=DT), torch.randn(3, 4, 1, dtype=DT))

    def make(grad, vmap, call):
        def loss(p, x, y):
            return ((call(model, p, (x,)) - y) ** 2).mean()

        def adapted(p, x, y):
            g = grad(loss)(p, x, y)
            p = {k: p[k] - 0.1 * g[k] for k in p}
            return loss(p, x, y)

        def outer(p):
            return vmap(adapted, in_dims=(None, 0, 0))(p, *tasks).mean()
        return grad(outer)
    got = make(pf.grad, pf.vmap, functional_call)(params)
    want = make(tf.grad, tf.vmap, tf.functional_call)(params)
    tree_close(got, want, 1e-8)


def test_strict_functional_call_lists_missing():
    from polyfunc_torch import functional_call
    model = make_model()
    with pytest.raises(RuntimeError, match=r"0\.bias|2\.weight"):
        functional_call(model, {"0.weight": model[0].weight.detach()}, (torch.randn(1, 5, dtype=DT),),
                        strict=True)


@pytest.mark.parametrize("models,msg", [([], "empty"), ("mixed", "class"), ("modes", "train")])
def test_stack_module_state_refuses(models, msg):
    from polyfunc_torch import stack_module_state
    if models == "mixed":
        models = [make_model(), torch.nn.Linear(5, 1).double()]
    elif models == "modes":
        models = [make_model(), make_model().eval()]
    with pytest.raises(ValueError, match=msg):
        stack_module_state(models)


def test_inplace_on_traced_tensor_suggests_out_of_place():
    with pytest.raises(TypeError, match="out-of-place"):
        pf.grad(lambda x: x.add_(1).sum())(torch.randn(3, dtype=DT))
    with pytest.raises(TypeError, match="out-of-place"):
        def f(x):
            x[0] = 1.0
            return x.sum()
        pf.grad(f)(torch.randn(3, dtype=DT))


def test_unmapped_torch_function_is_named():
    with pytest.raises(NotImplementedError, match="fft"):
        pf.grad(lambda x: torch.fft.fft(x).real.sum())(torch.randn(4, dtype=DT))


def test_mixing_numpy_and_torch_names_both():
    with pytest.raises(pf.BackendError, match="torch.*numpy|numpy.*torch"):
        pnp.add(torch.ones(2, dtype=DT), np.ones(2))


def test_cuda_cpu_mix_names_both_devices():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    with pytest.raises(pf.BackendError, match="cuda.*cpu|cpu.*cuda"):
        pnp.add(torch.ones(2, device="cuda"), torch.ones(2))


def test_torch_cuda_backend_unavailable_message():
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(pf.BackendError, match="(?i)cuda"):
        with pf.use_backend("torch:cuda"):
            pnp.zeros(2)


def test_torch_dtype_without_counterpart_is_named():
    # (bfloat16 has one now, through ml_dtypes: tests/test_complex.py)
    with pytest.raises(pf.DTypeError, match="float8_e4m3fn"):
        pnp.sin(torch.ones(2, dtype=torch.float8_e4m3fn))


def test_torch_random_factories_follow_vmap_randomness():
    with pytest.raises(pf.TransformError, match="randomness"):
        pf.vmap(lambda x: x + torch.randn(3))(torch.zeros(4, 3))
    diff = pf.vmap(lambda x: x + torch.randn(3), randomness="different")(torch.zeros(4, 3))
    assert diff.dtype == torch.float32 and len({tuple(r) for r in diff.tolist()}) == 4
    same = pf.vmap(lambda x: x + torch.rand_like(x), randomness="same")(torch.zeros(4, 3, dtype=DT))
    assert same.dtype == DT and len({tuple(r) for r in same.tolist()}) == 1
    ints = pf.vmap(lambda x: x + torch.randint(0, 5, (3,)), randomness="different")(torch.zeros(4, 3, dtype=torch.int64))
    assert ints.dtype == torch.int64 and int(ints.min()) >= 0 and int(ints.max()) < 5


def test_torch_code_promotes_like_torch_under_every_transform():
    x = torch.randn(3, 4)
    i = torch.arange(12).reshape(3, 4)
    two64 = torch.tensor(2.0, dtype=torch.float64)
    cases = [(lambda a: a * i[0], x), (lambda a: a / 2 + i[0] // 3, x), (lambda a: a * two64, x),
             (lambda a: torch.where(a > 0, a, 0), x), (lambda a: torch.mul(a, i[0]).pow(2), x)]
    for f, arg in cases:
        want = tf.vmap(f)(arg)
        for got in (pf.vmap(f)(arg), pf.jvp(f, (arg,), (arg,))[0], pf.jacfwd(lambda v: f(v).sum())(arg)):
            assert got.dtype == torch.float32
        close(pf.vmap(f)(arg), want, 1e-6)
    assert pf.vmap(lambda b: b / 2)(i).dtype == tf.vmap(lambda b: b / 2)(i).dtype == torch.float32
    # polyfunc.numpy keeps NumPy's rules on every backend
    assert pf.vmap(lambda a: pnp.multiply(a, i[0]))(x).dtype == torch.float64
