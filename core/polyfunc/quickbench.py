"""``python -m polyfunc bench``: quick medians of the eager and transform paths.

The asv suite in asv_benchmarks/ is the reference; this is for a fast look.
"""
from __future__ import annotations

import timeit

import numpy as np

__all__ = ["run"]


def _median_us(fn, number=200, repeat=7) -> float:
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return float(np.median(times)) / number * 1e6


def run(args) -> None:
    import polyfunc as pf
    import polyfunc.numpy as pnp
    name = getattr(args, "backend", None) or pf.current_backend().name
    with pf.use_backend(name):
        x8 = pnp.asarray(np.linspace(0.1, 1.0, 8), backend=name)
        s = pnp.asarray(0.3, backend=name)
        rows = [
            ("pnp.sin(x), 8 elements", lambda: pnp.sin(x8)),
            ("grad(sin) scalar", lambda: pf.grad(pnp.sin)(s)),
            ("grad(grad(sin)) scalar", lambda: pf.grad(pf.grad(pnp.sin))(s)),
            ("jacrev(sin), 5 elements", lambda: pf.jacrev(pnp.sin)(x8[:5])),
            ("jacfwd(sin), 5 elements", lambda: pf.jacfwd(pnp.sin)(x8[:5])),
        ]
        print(f"backend {name}: median microseconds per call")
        if name == "numpy":
            a = np.linspace(0.1, 1.0, 8)
            print(f"  {'np.sin(x), 8 elements (reference)':40s} {_median_us(lambda: np.sin(a)):9.2f}")
        for title, fn in rows:
            print(f"  {title:40s} {_median_us(fn, number=50 if 'jac' in title else 200):9.2f}")
