"""``python -m polyfunc bench``: quick medians of the eager and transform paths, beside the peers.

The asv suite in asv_benchmarks/ is the reference; this is for a fast look.  Each peer that is
installed (torch.func, JAX, HIPS autograd) runs the same five cases in the same process, so the
ratios are comparable even on a noisy machine.
"""
from __future__ import annotations

import importlib.util
import timeit
from typing import Any, Callable

import numpy as np

__all__ = ["run"]

Case = tuple[str, Callable[[], Any] | None]   # None: the peer has no such transform


def _median_us(fn: Callable[[], Any], number: int, repeat: int = 7) -> float:
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return float(np.median(times)) / number * 1e6


def _polyfunc_cases(name: str) -> list[Case]:
    import polyfunc as pf
    import polyfunc.numpy as pnp
    x = pnp.asarray(np.linspace(0.1, 1.0, 8), backend=name)
    s = pnp.asarray(0.3, backend=name)
    return [("sin(x), 8 elements", lambda: pnp.sin(x)),
            ("grad(sin) scalar", lambda: pf.grad(pnp.sin)(s)),
            ("grad(grad(sin)) scalar", lambda: pf.grad(pf.grad(pnp.sin))(s)),
            ("jacrev(sin), 5 elements", lambda: pf.jacrev(pnp.sin)(x[:5])),
            ("jacfwd(sin), 5 elements", lambda: pf.jacfwd(pnp.sin)(x[:5]))]


def _torch_func_cases() -> list[Case]:
    import torch
    import torch.func as tf
    x = torch.linspace(0.1, 1.0, 8, dtype=torch.float64)
    s = torch.tensor(0.3, dtype=torch.float64)
    return [("sin(x), 8 elements", lambda: torch.sin(x)),
            ("grad(sin) scalar", lambda: tf.grad(torch.sin)(s)),
            ("grad(grad(sin)) scalar", lambda: tf.grad(tf.grad(torch.sin))(s)),
            ("jacrev(sin), 5 elements", lambda: tf.jacrev(torch.sin)(x[:5])),
            ("jacfwd(sin), 5 elements", lambda: tf.jacfwd(torch.sin)(x[:5]))]


def _jax_cases() -> list[Case]:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    x = jnp.linspace(0.1, 1.0, 8)
    s = jnp.asarray(0.3)
    return [("sin(x), 8 elements", lambda: jnp.sin(x).block_until_ready()),
            ("grad(sin) scalar", lambda: jax.grad(jnp.sin)(s).block_until_ready()),
            ("grad(grad(sin)) scalar", lambda: jax.grad(jax.grad(jnp.sin))(s).block_until_ready()),
            ("jacrev(sin), 5 elements", lambda: jax.jacrev(jnp.sin)(x[:5]).block_until_ready()),
            ("jacfwd(sin), 5 elements", lambda: jax.jacfwd(jnp.sin)(x[:5]).block_until_ready())]


def _autograd_cases() -> list[Case]:
    import autograd
    import autograd.numpy as anp
    x = np.linspace(0.1, 1.0, 8)
    return [("sin(x), 8 elements", lambda: anp.sin(x)),
            ("grad(sin) scalar", lambda: autograd.grad(anp.sin)(0.3)),
            ("grad(grad(sin)) scalar", lambda: autograd.grad(autograd.grad(anp.sin))(0.3)),
            ("jacrev(sin), 5 elements", lambda: autograd.jacobian(anp.sin)(x[:5])),
            ("jacfwd(sin), 5 elements", None)]          # autograd has no forward-mode Jacobian


PEERS: dict[str, tuple[str, Callable[[], list[Case]]]] = {
    "torch.func": ("torch", _torch_func_cases),
    "jax": ("jax", _jax_cases),
    "autograd": ("autograd", _autograd_cases),
}


def run(args: Any) -> None:
    import polyfunc as pf
    name = getattr(args, "backend", None) or pf.current_backend().name
    with pf.use_backend(name):
        columns = {f"polyfunc[{name}]": _polyfunc_cases(name)}
        for peer, (module, cases) in PEERS.items():
            if importlib.util.find_spec(module) is not None:
                columns[peer] = cases()
        titles = [t for t, _ in columns[f"polyfunc[{name}]"]]
        table = {col: {t: (_median_us(fn, number=50 if "jac" in t else 200) if fn else None) for t, fn in cases}
                 for col, cases in columns.items()}
    print("median microseconds per call (ratio: polyfunc / peer, below 1 is faster)")
    print(f"  {'case':26s}" + "".join(f"{c:>22s}" for c in columns))
    ours = table[f"polyfunc[{name}]"]
    for t in titles:
        cells = []
        for col in columns:
            v = table[col].get(t)
            if v is None:
                cells.append(f"{'-':>22s}")
            else:
                mine = ours[t]
                if col.startswith("polyfunc") or mine is None:
                    cells.append(f"{v:22.2f}")
                else:
                    cells.append(f"{v:13.2f} ({mine / v:5.2f})")
        print(f"  {t:26s}" + "".join(cells))
