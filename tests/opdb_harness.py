"""Run polyfunc's transforms and torch.func's on the sample inputs of torch's OpInfo database.

Shared by ``tests/test_torch_opdb.py`` (which turns each check into a test) and
``tools/opdb_coverage.py`` (which counts coverage for the README).  An OpInfo's sample is
``op(input, *args, **kwargs)``; the float tensors among ``input`` and ``args`` are the
arguments the transforms act on, everything else is held fixed.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.func as tf
from torch.testing._internal.common_methods_invocations import op_db
from torch.utils._pytree import tree_flatten, tree_unflatten

import polyfunc as pf
import polyfunc_torch.torch_map  # noqa: F401  (fills the registry)
from polyfunc_torch.registry import REGISTRY

CHECKS = ("vmap0", "vmap-1", "vjp", "jvp")
DTYPES = (torch.float32, torch.float64)
TOL = {torch.float32: (1e-4, 1e-5), torch.float64: (1e-7, 1e-9)}


def samples_per_op() -> int | None:
    """How many samples each op runs: ``POLYFUNC_OPDB_SAMPLES`` (``all`` for every one), 2 by default."""
    n = os.environ.get("POLYFUNC_OPDB_SAMPLES", "2")
    return None if n == "all" else int(n)


def op_id(o) -> str:
    return o.name + ("." + o.variant_test_name if o.variant_test_name else "")


def _resolve(path: str, root: Any) -> Any:
    for part in path.split("."):
        root = getattr(root, part, None)
    return root


def _callables(o) -> list:
    """The torch callables an OpInfo tests: its function and method, its aliases, and the torch
    function its name spells (``nn.functional.dropout``: op_db wraps some ops in a lambda)."""
    out = [o.op, o.method_variant, _resolve(o.name, torch)] + [a.op for a in getattr(o, "aliases", ())]
    if "." not in o.name:
        out.append(getattr(torch.Tensor, o.name, None))
    return [c for c in out if c is not None]


def claimed(o) -> bool:
    """Does polyfunc's torch map register the OpInfo's function, method or an alias of it?"""
    return any(_hashable(c) and c in REGISTRY for c in _callables(o))


def _hashable(c) -> bool:
    try:
        hash(c)
        return True
    except TypeError:
        return False


OPS = {op_id(o): o for o in op_db}
CLAIMED = sorted(k for k, o in OPS.items() if claimed(o))


def opdb_callables() -> set:
    return {c for o in op_db for c in _callables(o) if _hashable(c)}


def _caller(o) -> Callable[..., Any]:
    """The form polyfunc's map answers for: the function if mapped, else the method called on the tensor
    (a tracer is no torch.Tensor, so ``torch.Tensor.x(tracer)`` would not dispatch)."""
    method = o.op if getattr(o.op, "__objclass__", None) is not None else o.method_variant
    if getattr(o.op, "__objclass__", None) is None and (o.op in REGISTRY or method is None or method not in REGISTRY):
        return o.op
    name = method.__name__
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


def samples(o, dtype) -> list:
    n = samples_per_op()
    out = []
    for s in o.sample_inputs("cpu", dtype, requires_grad=False):
        out.append(s)
        if n is not None and len(out) >= n:
            break
    return out


def _is_float(t) -> bool:
    return isinstance(t, torch.Tensor) and t.dtype.is_floating_point


def split(o, s, derivative: bool = False):
    """(function of the float tensors, those tensors): the sample with its float tensors as arguments.

    ``derivative``: called through the OpInfo's ``gradcheck_wrapper``, the domain op_db
    differentiates the op on (``cholesky`` of ``a + a^H``: only a Hermitian input and tangent
    are meaningful, and torch's own jvp and vjp rules for it agree only there)."""
    leaves, spec = tree_flatten((s.input, list(s.args)))
    where = [i for i, l in enumerate(leaves) if _is_float(l)]
    op = _caller(o)
    call = (lambda *a, **k: o.gradcheck_wrapper(op, *a, **k)) if derivative else op
    kwargs = s.kwargs

    def f(*xs):
        ls = list(leaves)
        for i, x in zip(where, xs):
            ls[i] = x
        inp, args = tree_unflatten(ls, spec)
        return call(inp, *args, **kwargs)
    return f, [leaves[i] for i in where], s.output_process_fn_grad


def float_outputs(f, post) -> Callable[..., tuple]:
    """f with its outputs post-processed as the OpInfo asks for gradients, keeping the float tensors."""
    def g(*xs):
        leaves, _ = tree_flatten(post(f(*xs)))
        return tuple(l for l in leaves if _is_float(l) or (not isinstance(l, torch.Tensor) and hasattr(l, "dtype")))
    return g


def _rand_like(t, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.dtype)


def _leaves(x) -> list:
    return tree_flatten(x)[0]


# ops whose values torch leaves unspecified (uninitialised memory, random draws): only shape and dtype are compared
UNSPECIFIED_VALUES = {"empty_like", "new_empty", "empty", "empty_permuted", "empty_strided", "bernoulli", "rand_like",
                      "randn_like", "randint_like", "normal", "multinomial"}


def _plain(t):
    """A tensor numpy can read (torch.func returns zero tangents as 'ZeroTensor's)."""
    return torch.zeros(t.shape, dtype=t.dtype) if t._is_zerotensor() else t


def close(got, want, dtype, what: str) -> None:
    if got is BOTH_REFUSE and want is BOTH_REFUSE:
        return
    values = what.split(" ")[0] not in UNSPECIFIED_VALUES
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, want {len(want)}"
    rtol, atol = TOL[dtype]
    for g, w in zip(got, want):
        if isinstance(w, torch.Tensor):
            assert isinstance(g, torch.Tensor), f"{what}: got {type(g).__name__}, want a torch.Tensor"
            assert tuple(g.shape) == tuple(w.shape), f"{what}: shape {tuple(g.shape)}, want {tuple(w.shape)}"
            assert g.dtype == w.dtype, f"{what}: dtype {g.dtype}, want {w.dtype}"
            if not values:
                continue
            g, w = _plain(g), _plain(w)
            np.testing.assert_allclose(g.detach().double().numpy(), w.detach().double().numpy(), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float), rtol=rtol, atol=atol,
                                       err_msg=what)


def _batched(xs, axis):
    """Two-member batches of each argument: the sample and a shifted copy, stacked on ``axis``."""
    return [torch.stack([x, x * 0.9 + 0.05], dim=axis) for x in xs]


def _unstacked(out, axis: int = 0) -> list:
    return [[l.select(axis, i) if isinstance(l, torch.Tensor) else l for l in _leaves(out)] for i in range(2)]


def _eager_vjp(g, xs, cots):
    ins = [x.detach().clone().requires_grad_(True) for x in xs]
    ref = torch.autograd.grad(g(*ins), ins, cots, allow_unused=True)
    return tuple(torch.zeros_like(x) if r is None else r for r, x in zip(ref, xs))


BOTH_REFUSE = "polyfunc and torch.func both raise"   # e.g. vmap of a random op under randomness='error'


def _against(ours: Callable[[], Any], torch_func: Callable[[], Any], eager: Callable[[], Any]) -> tuple[Any, Any]:
    """(ours, torch.func's answer): where torch.func raises, ours must raise too (agreement) or
    equal eager torch's answer (polyfunc covers more than torch.func there)."""
    try:
        want = torch_func()
    except Exception:
        try:
            got = ours()
        except Exception:
            return BOTH_REFUSE, BOTH_REFUSE
        return got, eager()
    return ours(), want


def run_check(o, dtype, check: str, lib: str = "polyfunc") -> Iterator[tuple[Any, Any, str]]:
    """Yield (result, reference, what) for each sample with a float tensor argument.

    ``lib="polyfunc"``: polyfunc's transform against torch.func's (eager torch's where torch.func
    raises: a loop for vmap, autograd for vjp, autograd's double-vjp jvp).  ``lib="torch.func"``:
    torch.func's against eager torch, to measure what torch.func covers."""
    for k, s in enumerate(samples(o, dtype)):
        f, xs, post = split(o, s, derivative=not check.startswith("vmap"))
        if not xs:
            continue
        what = f"{op_id(o)} {check} {dtype} sample {k}"
        if check.startswith("vmap"):
            axis = 0 if check == "vmap0" else -1
            bx = _batched(xs, axis)
            dims = (axis,) * len(xs)
            loop = lambda: [_leaves(f(*[b.select(axis, i) for b in bx])) for i in range(2)]  # noqa: E731
            if lib == "polyfunc":
                yield *_against(lambda: _unstacked(pf.vmap(f, in_dims=dims)(*bx)),
                                lambda: _unstacked(tf.vmap(f, in_dims=dims)(*bx)), loop), what
            else:
                yield _unstacked(tf.vmap(f, in_dims=dims)(*bx)), loop(), what
            continue
        g = float_outputs(f, post)
        if check == "vjp":
            cots = tuple(_rand_like(t, 7 + i) for i, t in enumerate(g(*xs)))
            if lib == "polyfunc":
                yield *_against(lambda: pf.vjp(g, *xs)[1](cots), lambda: tf.vjp(g, *xs)[1](cots),
                                lambda: _eager_vjp(g, xs, cots)), what
            else:
                yield tf.vjp(g, *xs)[1](cots), _eager_vjp(g, xs, cots), what
        else:
            ts = tuple(_rand_like(x, 11 + i) for i, x in enumerate(xs))
            eager = lambda: torch.autograd.functional.jvp(g, tuple(xs), ts)  # noqa: E731
            if lib == "polyfunc":
                yield *_against(lambda: pf.jvp(g, tuple(xs), ts), lambda: tf.jvp(g, tuple(xs), ts), eager), what
            else:
                yield tf.jvp(g, tuple(xs), ts), eager(), what
