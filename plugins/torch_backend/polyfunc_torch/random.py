"""Random numbers in torch code under transforms.

``torch.randn_like(x)``, ``torch.rand_like(x)`` and ``torch.bernoulli(p)`` on a traced
tensor, and ``F.dropout``, draw through polyfunc's random primitives on the torch backend,
so vmap's ``randomness`` ('error', 'different', 'same') holds for them.  The factories
with no tensor argument (``torch.randn(3)``) never meet a tracer: ``FACTORIES`` routes
them the same way, for ``interception`` to call while a vmap runs.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc import ops
from polyfunc.plugin import backend_of, get_aval

from .arguments import float_of, shape
from .dtypes import to_np_dtype
from .registry import implements


def _size(args, kwargs):
    size = kwargs.pop("size", None)
    if size is None:
        size = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)) else args
    return tuple(int(s) for s in size)


def _spec(kwargs, default_float=True):
    """(numpy dtype, backend name) from torch's dtype= and device= keywords."""
    dt = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    for k in ("generator", "requires_grad", "layout", "pin_memory", "memory_format"):
        kwargs.pop(k, None)
    if dt is None and default_float:
        dt = torch.get_default_dtype()
    backend = "torch" if dev is None else f"torch:{torch.device(dev)}"
    return (to_np_dtype(dt) if dt is not None else None), backend


def randn(*args, **kwargs):
    shp = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.normal(shp, dt, backend=b)


def rand(*args, **kwargs):
    shp = _size(args, kwargs)
    dt, b = _spec(kwargs)
    return pf.random.uniform(shp, dtype=dt, backend=b)


def randint(*args, **kwargs):
    low, high, rest = (0, args[0], args[1:]) if len(args) == 2 else (args[0], args[1], args[2:])
    shp = _size(rest, kwargs)
    dt, b = _spec(kwargs, default_float=False)
    return pf.random.randint(low, high, shp, dtype=dt or np.int64, backend=b)


def _like_spec(x, kwargs):
    dt = kwargs.pop("dtype", None)
    a = get_aval(x)
    return tuple(a.shape), (to_np_dtype(dt) if dt is not None else a.dtype)


@implements(torch.randn_like)
def randn_like(input, **kwargs):
    shp, dt = _like_spec(input, kwargs)
    return pf.random.normal(shp, dt, backend="torch")


@implements(torch.rand_like)
def rand_like(input, **kwargs):
    shp, dt = _like_spec(input, kwargs)
    return pf.random.uniform(shp, dtype=dt, backend="torch")


@implements(torch.bernoulli, method="bernoulli")
def bernoulli(input, p=None, **kwargs):
    """``bernoulli(probs)``, or ``bernoulli(input, p)``: draws of probability ``p`` shaped like input."""
    a = get_aval(input)
    u = pf.random.uniform(tuple(a.shape), dtype=a.dtype, backend="torch")
    return ops.convert_element_type(ops.lt(u, input if p is None else p), a.dtype)


@implements(torch.nn.functional.dropout)
def dropout(input, p=0.5, training=True, inplace=False):
    if not training or p == 0:
        return input
    if p == 1:
        return pnp.zeros_like(input)
    keep = pnp.greater_equal(pf.random.uniform(shape(input), dtype=float_of(input), backend=backend_of(input)), p)
    scaled = pnp.true_divide(input, 1.0 - p)
    return pnp.where(keep, scaled, pnp.zeros_like(scaled))


def _is_array(x) -> bool:
    return isinstance(x, torch.Tensor) or not isinstance(x, (int, float, bool))


@implements(torch.normal)
def normal(mean=0.0, std=1.0, size=None, **kwargs):
    """torch.normal's three forms: tensor mean and/or std (their broadcast shape), or floats and ``size``."""
    arrays = [a for a in (mean, std) if _is_array(a)]
    if arrays:
        shp = tuple(np.broadcast_shapes(*(tuple(get_aval(a).shape) for a in arrays)))
        dt = kwargs.pop("dtype", None)
        dt = to_np_dtype(dt) if dt is not None else np.result_type(*(get_aval(a).dtype for a in arrays))
    else:
        if size is None:
            raise TypeError("torch.normal(mean, std) with float mean and std needs a size")
        shp = tuple(int(s) for s in size)
        dt = to_np_dtype(kwargs.pop("dtype", None) or torch.get_default_dtype())
    z = pf.random.normal(shp, dt, backend="torch")
    return pnp.add(pnp.multiply(z, std), mean)


@implements(torch.randint_like)
def randint_like(input, low_or_high, high=None, **kwargs):
    low, high = (0, low_or_high) if high is None else (low_or_high, high)
    shp, dt = _like_spec(input, kwargs)
    return pf.random.randint(int(low), int(high), shp, dtype=dt, backend="torch")


@implements(torch.randperm)
def randperm(n, **kwargs):
    dt = kwargs.pop("dtype", None)
    perm = pnp.argsort(pf.random.uniform((int(n),), dtype=np.float64, backend="torch"))
    return pnp.astype(perm, to_np_dtype(dt) if dt is not None else np.int64)


@implements(torch.multinomial, method="multinomial")
def multinomial(input, num_samples, replacement=False, **kwargs):
    """Without replacement: the ``num_samples`` largest of log p + Gumbel noise (each draw a
    category not drawn before, with torch's probabilities); with: inverse-CDF draws."""
    a = get_aval(input)
    n = int(num_samples)
    p = pnp.true_divide(input, pnp.sum(input, axis=-1, keepdims=True))
    if replacement:
        u = pf.random.uniform(tuple(a.shape[:-1]) + (n, 1), dtype=a.dtype, backend="torch")
        cdf = pnp.expand_dims(pnp.cumsum(p, axis=-1), -2)
        idx = pnp.sum(pnp.astype(pnp.greater_equal(u, cdf), np.int64), axis=-1)
        return pnp.minimum(idx, a.shape[-1] - 1)
    if n > a.shape[-1]:
        raise RuntimeError(f"torch.multinomial: cannot draw {n} samples without replacement from "
                           f"{a.shape[-1]} categories; pass replacement=True or ask for fewer")
    u = pf.random.uniform(tuple(a.shape), dtype=a.dtype, backend="torch")
    keys = pnp.add(pnp.log(p), pnp.negative(pnp.log(pnp.negative(pnp.log(u)))))
    order = pnp.argsort(pnp.negative(keys), axis=-1)
    return pnp.astype(order[..., :n], np.int64)


# torch's random functions -> their draws through polyfunc, for calls that meet no tracer
FACTORIES: dict[Any, Callable[..., Any]] = {
    torch.randn: randn, torch.rand: rand, torch.randint: randint,
    torch.randn_like: randn_like, torch.rand_like: rand_like, torch.bernoulli: bernoulli,
    torch.normal: normal, torch.randint_like: randint_like, torch.randperm: randperm,
    torch.multinomial: multinomial,
}
# the same for torch.nn.functional's
NN_FACTORIES: dict[Any, Callable[..., Any]] = {torch.nn.functional.dropout: dropout}
