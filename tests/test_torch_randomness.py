"""torch's random functions follow vmap's ``randomness`` as under torch.func, whether or not their
tensor arguments are traced: "different" draws per element, "same" one draw (in every chunk
too), "error" raises."""
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

import polyfunc as pf  # noqa: E402

XS = torch.zeros(4, 8)

CASES = {
    "normal(tensor, float)": lambda x: torch.normal(torch.zeros(8), 1.0) + x,
    "normal(float, tensor)": lambda x: torch.normal(0.0, torch.ones(8)) + x,
    "normal(tensor, tensor)": lambda x: torch.normal(torch.zeros(8), torch.ones(8)) + x,
    "normal(float, float, size)": lambda x: torch.normal(0.0, 1.0, (8,)) + x,
    "dropout(ones_like(x))": lambda x: F.dropout(torch.ones_like(x)) + x,
    "rand_like(real)": lambda x: torch.rand_like(torch.zeros(8)) + x,
    "randn_like(real, dtype)": lambda x: torch.randn_like(torch.zeros(8), dtype=torch.float64).float() + x,
    "randn_like(traced, dtype)": lambda x: torch.randn_like(x, dtype=torch.float64).float(),
    "rand_like(traced)": lambda x: torch.rand_like(x),
    "randint_like(traced, high)": lambda x: torch.randint_like(x, 10),
    "randint_like(real, low, high)": lambda x: torch.randint_like(torch.zeros(8), 3, 10) + x,
    "multinomial": lambda x: torch.multinomial(torch.ones(8), 3).float(),
    "multinomial(replacement)": lambda x: torch.multinomial(torch.ones(8), 6, replacement=True).float(),
    "bernoulli(real probs)": lambda x: torch.bernoulli(torch.full((8,), 0.5)) + x,
    "bernoulli(input, p)": lambda x: torch.bernoulli(torch.zeros(8), 0.5) + x,
    "randperm": lambda x: torch.randperm(8).float() + x,
    "randn(size)": lambda x: torch.randn(8) + x,
}


def _kind(out):
    return "same" if all(torch.equal(out[0], out[i]) for i in range(1, out.shape[0])) else "different"


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("randomness", ["different", "same"])
def test_randomness_as_torch_func(name, randomness):
    f = CASES[name]
    torch.manual_seed(0)
    expected = _kind(torch.func.vmap(f, randomness=randomness)(XS))
    assert expected == randomness
    assert _kind(pf.vmap(f, randomness=randomness)(XS)) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_randomness_error_raises_as_torch_func(name):
    f = CASES[name]
    with pytest.raises(RuntimeError):
        torch.func.vmap(f, randomness="error")(XS)
    with pytest.raises(pf.TransformError, match="random"):
        pf.vmap(f, randomness="error")(XS)


@pytest.mark.parametrize("name", ["randn(size)", "normal(tensor, float)", "rand_like(traced)", "multinomial"])
def test_same_randomness_in_every_chunk(name):
    out = pf.vmap(CASES[name], randomness="same", chunk_size=3)(torch.zeros(7, 8))
    assert _kind(out) == "same"
    out = pf.vmap(CASES[name], randomness="different", chunk_size=3)(torch.zeros(7, 8))
    assert len({tuple(r.tolist()) for r in out}) == 7


def test_draws_follow_their_distributions():
    pf.random.seed(3, backend="torch")
    z = pf.vmap(lambda x: torch.normal(torch.full((2000,), 2.0), 0.5) + x, randomness="different")(torch.zeros(3, 1))
    assert abs(float(z.mean()) - 2.0) < 0.05 and abs(float(z.std()) - 0.5) < 0.05
    s = pf.vmap(lambda x: torch.multinomial(torch.tensor([0.7, 0.2, 0.1, 0.0]), 2).float() + x,
                randomness="different")(torch.zeros(4000, 1))
    assert not (s == 3).any()                        # a zero-probability category is never drawn
    assert (s[:, 0] != s[:, 1]).all()                # without replacement
    assert abs(float((s[:, 0] == 0).float().mean()) - 0.7) < 0.05
    p = pf.vmap(lambda x: torch.randperm(6).float() + x, randomness="different")(torch.zeros(50, 1))
    assert all(sorted(r.tolist()) == list(range(6)) for r in p)
    r = pf.vmap(lambda x: torch.randint_like(torch.zeros(500), 3, 10) + x, randomness="different")(torch.zeros(2, 1))
    assert int(r.min()) == 3 and int(r.max()) == 9


def test_torch_unchanged_after_a_transform():
    before = (torch.normal, torch.multinomial, F.dropout, vars(torch.autograd.Function)["apply"])
    pf.vmap(CASES["dropout(ones_like(x))"], randomness="different")(XS)
    pf.grad(lambda x: (x * 2).sum())(XS)
    assert (torch.normal, torch.multinomial, F.dropout, vars(torch.autograd.Function)["apply"]) == before
