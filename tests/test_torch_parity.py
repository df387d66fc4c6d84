"""Smaller torch.func parity: 0-d dims, rank checks of mm/bmm/mv, functions the functorch suite
met (take, cov, cross, select, tensor_split, result_type, logit, sinc, cummax/cummin),
stack_module_state's grads, jvp(strict=True), functionalize, replace_all_batch_norm_modules_,
debug_unwrap: each against torch.func."""
import pytest

torch = pytest.importorskip("torch")

import polyfunc as pf  # noqa: E402
from polyfunc.plugin import Tracer  # noqa: E402
from polyfunc_torch import (debug_unwrap, functional_call, functionalize,  # noqa: E402
                            replace_all_batch_norm_modules_, stack_module_state)

G = torch.Generator().manual_seed(0)
XS = torch.randn(3, 6, generator=G, dtype=torch.float64)
MAT = torch.randn(3, 3, generator=G, dtype=torch.float64)

FUNCS = {
    "0-d sum(0)": lambda x: x[0].sum(0),
    "0-d mean(-1)": lambda x: x[1].mean(-1, keepdim=True),
    "0-d transpose(0, -1)": lambda x: x[2].transpose(0, -1) * x[0],
    "cat with legacy (0,)": lambda x: torch.cat([torch.empty(0, dtype=x.dtype), x]),
    "take": lambda x: torch.take(x.reshape(2, 3), torch.tensor([[0, 5], [2, 2]])),
    "Tensor.take": lambda x: x.reshape(3, 2).take(torch.tensor([4, 1])),
    "cov": lambda x: torch.cov(x.reshape(2, 3) * MAT[:2]),
    "cov(correction=0) of a vector": lambda x: torch.cov(x, correction=0),
    "cross": lambda x: torch.cross(x.reshape(2, 3), MAT[:2], dim=1),
    "linalg.cross": lambda x: torch.linalg.cross(MAT[:2], x.reshape(2, 3)),
    "select": lambda x: torch.select(x.reshape(2, 3), 1, -1),
    "Tensor.select": lambda x: x.reshape(3, 2).select(0, 1),
    "tensor_split(sections)": lambda x: torch.tensor_split(x, 4)[1] * torch.tensor_split(x, 4)[3].sum(),
    "tensor_split(indices)": lambda x: torch.tensor_split(x, [1, 4])[1],
    "result_type": lambda x: x * (2.0 if torch.result_type(x, 1) == torch.float64 else 3.0),
    "logit": lambda x: torch.logit(torch.sigmoid(x) * 0.9),
    "logit(eps)": lambda x: torch.logit(torch.sigmoid(x), eps=0.3),
    "sinc": lambda x: torch.sinc(x) + torch.sinc(x * 0),
    "cummax values": lambda x: torch.cummax(x, 0).values,
    "cummin values": lambda x: x.reshape(2, 3).cummin(1)[0],
}


@pytest.mark.filterwarnings("ignore:There is a performance drop")
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_function_against_torch_func(name):
    f = FUNCS[name]
    torch.testing.assert_close(pf.vmap(f)(XS), torch.func.vmap(f)(XS))
    scalar = lambda x: f(x).sum()   # noqa: E731
    torch.testing.assert_close(pf.vmap(pf.grad(scalar))(XS), torch.func.vmap(torch.func.grad(scalar))(XS))


def test_cummax_indices_ties_as_torch():
    x = torch.tensor([[1.0, 3, 2, 3, 5, 0], [4, 1, 4, 0, 7, 7]])
    for f in (lambda x: torch.cummax(x, 0), lambda x: torch.cummin(x, -1)):
        a, b = torch.func.vmap(f)(x), pf.vmap(f)(x)
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("name,f", [
    ("bmm", lambda x: torch.bmm(x.reshape(2, 3), x.reshape(3, 2))),
    ("mm", lambda x: torch.mm(x.reshape(1, 2, 3), x.reshape(3, 2))),
    ("mv", lambda x: torch.mv(x.reshape(2, 3), x.reshape(3, 2))),
    ("Tensor.mm", lambda x: x.mm(x.reshape(6, 1))),
])
def test_wrong_rank_refused_as_torch(name, f):
    with pytest.raises(RuntimeError):
        torch.func.vmap(f)(XS)
    with pytest.raises(RuntimeError, match=name.split(".")[-1]):
        pf.vmap(f)(XS)


def test_right_rank_matmuls_match():
    for f in (lambda x: torch.mm(x.reshape(2, 3), MAT), lambda x: torch.mv(MAT, x[:3]),
              lambda x: torch.bmm(x.reshape(2, 1, 3), MAT[:2].reshape(2, 3, 1))):
        torch.testing.assert_close(pf.vmap(f)(XS), torch.func.vmap(f)(XS))


def test_stack_module_state_trains_with_a_torch_optimizer():
    def train(stack, vmap, call):
        torch.manual_seed(1)
        models = [torch.nn.Linear(3, 1).double() for _ in range(4)]
        params, buffers = stack(models)
        assert all(p.requires_grad and p.is_leaf for p in params.values())
        opt = torch.optim.SGD(params.values(), lr=0.1)
        x = torch.randn(4, 5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
        losses = []
        for _ in range(3):
            opt.zero_grad()
            out = vmap(lambda p, b, xx: call(models[0], (p, b), (xx,)))(params, buffers, x)
            loss = (out ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, params
    ours, p1 = train(stack_module_state, pf.vmap, functional_call)
    theirs, p2 = train(torch.func.stack_module_state, torch.func.vmap, torch.func.functional_call)
    assert ours == pytest.approx(theirs) and ours[2] < ours[0]
    torch.testing.assert_close(dict(p1), dict(p2))


def test_stack_module_state_mismatch_errors():
    for models in ([torch.nn.Linear(2, 2), torch.nn.Conv1d(1, 1, 1)],
                   [torch.nn.Linear(2, 2), torch.nn.Linear(2, 2).eval()]):
        with pytest.raises(Exception):
            torch.func.stack_module_state(models)
        with pytest.raises(ValueError, match="stack_module_state"):
            stack_module_state(models)


def test_jvp_strict_as_torch_func():
    x, t = XS[0], XS[1]
    for m in (torch.func, pf):
        out, tan = m.jvp(lambda v: v.sin(), (x,), (t,), strict=True)
        torch.testing.assert_close(tan, t * x.cos())
    independent = lambda v: (v.sin(), torch.ones(3, dtype=v.dtype))   # noqa: E731
    with pytest.raises(RuntimeError, match="strict"):
        torch.func.jvp(independent, (x,), (t,), strict=True)
    with pytest.raises(pf.TransformError, match="strict"):
        pf.jvp(independent, (x,), (t,), strict=True)
    torch.testing.assert_close(pf.jvp(independent, (x,), (t,))[1][1], torch.zeros(3, dtype=x.dtype))


def test_functionalize_keeps_meaning_and_name():
    def f(x):
        y = x * 2
        return y.sin()
    g = functionalize(f)
    assert g.__name__ == "f"
    torch.testing.assert_close(g(XS), torch.func.functionalize(f)(XS))
    torch.testing.assert_close(pf.vmap(pf.grad(lambda v: g(v).sum()))(XS),
                               torch.func.vmap(torch.func.grad(lambda v: f(v).sum()))(XS))
    with pytest.raises(RuntimeError, match="remove"):
        functionalize(f, remove="views")


def test_replace_all_batch_norm_modules():
    def build():
        torch.manual_seed(3)
        return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU())
    ours, theirs = replace_all_batch_norm_modules_(build()), torch.func.replace_all_batch_norm_modules_(build())
    bn, tbn = ours[1], theirs[1]
    assert bn.running_mean is None and bn.running_var is None and not bn.track_running_stats
    assert (tbn.running_mean is None) == (bn.running_mean is None)
    x = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(pf.vmap(ours)(x), torch.func.vmap(theirs)(x))


def test_debug_unwrap():
    seen = []

    def f(x):
        seen.append((debug_unwrap(x), debug_unwrap(x, recurse=False)))
        return x * 2
    pf.vmap(pf.grad(lambda v: f(v).sum()))(XS)
    full, one = seen[0]
    assert isinstance(full, torch.Tensor) and full.shape == XS.shape
    assert isinstance(one, Tracer) and debug_unwrap(one, recurse=False) is full   # grad's wrapper, then vmap's
    assert debug_unwrap(XS) is XS


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("make,name", [
    (lambda: torch.eye(3).to_sparse(), "sparse_coo"),
    (lambda: torch.eye(3).to_sparse_csr(), "sparse_csr"),
    (lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)]), "nested"),
])
def test_non_strided_layouts_refused_by_name(make, name):
    with pytest.raises(pf.BackendError, match=name):
        pf.vmap(lambda x: x * 2)(make())
    with pytest.raises(pf.BackendError, match=name):
        pf.grad(lambda x: (x * 2).sum())(make())
