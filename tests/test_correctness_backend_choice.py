"""Which backend's arrays code gets (issue 15): creation functions give the selected backend's
array as torch.as_tensor and jnp.asarray do, operations follow their operands' owner;
vmap(randomness='same', chunk_size=k) shares one draw on the backend the code draws from;
functional_call leaves the module as it found it, also when threads share it."""
import threading

import numpy as np
import pytest
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc_torch import functional_call


# ------------------------------------------------------------------ creation under a selected backend
CREATORS = {
    "asarray": lambda a: pnp.asarray(a),
    "array": lambda a: pnp.array(a),
    "zeros_like": lambda a: pnp.zeros_like(a),
    "ones_like": lambda a: pnp.ones_like(a),
    "empty_like": lambda a: pnp.empty_like(a),
    "full_like": lambda a: pnp.full_like(a, 3.0),
    "asarray-list": lambda a: pnp.asarray([a[0], a[1]]),
}
EXPECT = {"asarray": lambda a: a, "array": lambda a: a, "zeros_like": np.zeros_like, "ones_like": np.ones_like,
          "empty_like": np.zeros_like, "full_like": lambda a: np.full_like(a, 3.0),
          "asarray-list": lambda a: a[:2]}


@pytest.mark.parametrize("name", list(CREATORS))
def test_creation_from_a_numpy_array_inside_use_backend_torch(name):
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    with pf.use_backend("torch"):
        out = CREATORS[name](a)
    assert isinstance(out, torch.Tensor), type(out)
    assert out.dtype == torch.float32
    np.testing.assert_array_equal(out.numpy(), EXPECT[name](a))


@pytest.mark.parametrize("name", list(CREATORS))
def test_creation_from_a_torch_tensor_inside_use_backend_numpy(name):
    a = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    with pf.use_backend("numpy"):
        out = CREATORS[name](a)
    assert isinstance(out, np.ndarray), type(out)
    np.testing.assert_array_equal(out, EXPECT[name](a.numpy()))


def test_creation_follows_the_environment_variable(monkeypatch):
    monkeypatch.setenv("POLYFUNC_BACKEND", "torch")
    out = pnp.asarray(np.ones(2))
    assert isinstance(out, torch.Tensor)
    assert isinstance(pnp.zeros_like(np.ones(2)), torch.Tensor)


def test_operations_keep_following_their_operands_owner():
    a = np.array([1.0, 2.0])
    with pf.use_backend("torch"):
        assert isinstance(pnp.sin(a), np.ndarray)              # an operation: a's owner computes
        assert isinstance(pnp.sum(a), (np.ndarray, np.floating))
        t = pnp.asarray(a)
        assert isinstance(pnp.sin(t), torch.Tensor)


def test_without_a_selection_arrays_keep_their_backend(monkeypatch):
    monkeypatch.delenv("POLYFUNC_BACKEND", raising=False)
    t = torch.ones(2)
    assert pnp.asarray(t) is t
    assert isinstance(pnp.zeros_like(t), torch.Tensor)


def test_tracers_are_not_converted_by_creation_functions():
    with pf.use_backend("torch"):
        g = pf.grad(lambda v: (pnp.asarray(v) * pnp.ones_like(v)).sum())(np.ones(3))
    assert isinstance(g, np.ndarray) and g.tolist() == [1.0, 1.0, 1.0]


def test_explicit_backend_argument_wins():
    with pf.use_backend("torch"):
        out = pnp.asarray(np.ones(2), backend="numpy")
    assert isinstance(out, np.ndarray)


# ------------------------------------------------------------------ randomness="same" with chunks on torch
@pytest.mark.parametrize("chunk", [1, 2, 4])
def test_same_randomness_with_chunks_on_torch_code_outside_use_backend(chunk):
    def f(x):
        return x + torch.randn(3, dtype=torch.float64)
    x = torch.zeros(6, 3, dtype=torch.float64)
    pf.random.seed(7, backend="torch")
    whole = pf.vmap(f, randomness="same")(x)
    pf.random.seed(7, backend="torch")
    chunked = pf.vmap(f, randomness="same", chunk_size=chunk)(x)
    assert bool((whole == whole[0]).all())
    torch.testing.assert_close(chunked, whole, rtol=0, atol=0)


def test_different_randomness_with_chunks_still_differs():
    x = torch.zeros(4, 3, dtype=torch.float64)
    out = pf.vmap(lambda v: v + torch.randn(3, dtype=torch.float64), randomness="different", chunk_size=2)(x)
    assert len({tuple(r.tolist()) for r in out}) == 4


# ------------------------------------------------------------------ functional_call from threads
def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def test_functional_call_from_threads_restores_the_module_and_gives_serial_results():
    model = _model()
    originals = {k: v for k, v in model.named_parameters()}
    params = {k: v.detach().clone() for k, v in originals.items()}

    def loss(p, x, y):
        return ((functional_call(model, p, (x,)) - y) ** 2).mean()
    g = torch.Generator().manual_seed(1)
    xs, ys = torch.randn(16, 5, generator=g, dtype=torch.float64), torch.randn(16, 1, generator=g, dtype=torch.float64)
    per_sample = pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))
    ref = torch.func.vmap(torch.func.grad(lambda p, x, y: ((torch.func.functional_call(model, p, (x,)) - y) ** 2)
                                          .mean()), in_dims=(None, 0, 0))(params, xs, ys)
    errors, mismatches = [], []

    def work():
        try:
            for _ in range(10):
                got = per_sample(params, xs, ys)
                mismatches.extend(k for k in got if not torch.allclose(got[k], ref[k], rtol=1e-12, atol=1e-14))
        except Exception as e:       # recorded, and the test fails on it below
            errors.append(e)
    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:2]
    assert not mismatches
    for k, v in model.named_parameters():
        assert v is originals[k]


class _Fails(torch.nn.Module):
    """A module whose forward raises after it has used its (swapped-in) weight."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 1).double()

    def forward(self, x):
        y = self.lin(x)
        raise ValueError(f"boom {tuple(y.shape)}")


def test_functional_call_restores_after_an_exception_in_forward():
    model = _model()
    originals = {k: v for k, v in model.named_parameters()}
    params = {k: v.detach().clone() for k, v in originals.items()}
    with pytest.raises(RuntimeError):
        functional_call(model, params, (torch.ones(3, 4, dtype=torch.float64),))   # wrong width
    for k, v in model.named_parameters():
        assert v is originals[k]
    bad = _Fails()
    kept = {k: v for k, v in bad.named_parameters()}
    p = {k: v.detach().clone() for k, v in kept.items()}
    with pytest.raises(ValueError, match="boom"):
        pf.vmap(pf.grad(lambda q, x: functional_call(bad, q, (x,)).sum()), in_dims=(None, 0))(
            p, torch.ones(2, 3, dtype=torch.float64))
    for k, v in bad.named_parameters():
        assert v is kept[k]
