"""Shared helpers: backend/peer selection (skipping what cannot run) and data."""
from __future__ import annotations

import numpy as np

from . import THREADS

#: polyfunc backends every polyfunc benchmark class is parametrized by
BACKENDS = ["numpy", "torch:cpu", "torch:cuda", "cupy"]


def skip(why: str):
    """asv treats NotImplementedError raised in ``setup`` as "skip this case"."""
    raise NotImplementedError(why)


class PolyfuncBench:
    """Base for polyfunc benchmarks: ``self.pf``, ``self.pnp``, ``self.b`` (the backend).

    Inputs are put on the backend in ``setup``; the arrays then pick the
    backend (no ``use_backend`` around the timed call, so several cases can be
    set up side by side, as summary.py does).
    """

    params = [BACKENDS]
    param_names = ["backend"]
    timeout = 120

    def setup_backend(self, name: str):
        import polyfunc as pf
        import polyfunc.numpy as pnp
        from polyfunc.errors import BackendError
        try:
            b = pf.get_backend(name)
        except BackendError as e:
            skip(f"backend {name!r} is unavailable: {str(e).splitlines()[0]}")
        if name.startswith("torch"):
            import torch
            limit_torch_threads(torch)
        self.pf, self.pnp, self.b = pf, pnp, b
        return b

    def arr(self, a, dtype=None):
        """A NumPy array moved onto the benchmark's backend."""
        return self.b.asarray(np.asarray(a), dtype)

    def check_on_backend(self, out, what: str):
        """Fail setup (not skip) if a result left the backend: the case would time the wrong thing."""
        import polyfunc as pf
        for leaf in pf.tree.leaves(out):
            if not self.b.owns_type(type(leaf)):
                raise AssertionError(f"{what} on backend {self.b.name!r} returned a "
                                     f"{type(leaf).__module__}.{type(leaf).__name__}")


# ---------------------------------------------------------------- peers
def torch_device(peer: str):
    """(torch, device string) for a peer named 'torch.func:cpu' / 'torch.func:cuda'; skips otherwise."""
    try:
        import torch
        import torch.func  # noqa: F401
    except ImportError as e:
        skip(f"torch is not installed: {e}")
    limit_torch_threads(torch)
    dev = peer.partition(":")[2] or "cpu"
    if dev.startswith("cuda") and not torch.cuda.is_available():
        skip("CUDA is not available to torch here")
    return torch, dev


def limit_torch_threads(torch):
    if THREADS != "0":
        torch.set_num_threads(int(THREADS))


def torch_sync(torch, dev: str):
    if dev.startswith("cuda"):
        return lambda: torch.cuda.synchronize(dev)
    return lambda: None


def import_autograd():
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError as e:
        skip(f"HIPS autograd is not installed: {e}")
    return autograd, anp


# ---------------------------------------------------------------- data
def rng(seed: int = 0):
    return np.random.default_rng(seed)


def mlp_data(dtype=np.float32, batch=128, d_in=64, d_hidden=128, d_out=10, seed=0):
    """Weights and a batch for the 2-layer tanh MLP of the per-sample-gradient benchmark."""
    r = rng(seed)
    w1 = (r.standard_normal((d_in, d_hidden)) / np.sqrt(d_in)).astype(dtype)
    w2 = (r.standard_normal((d_hidden, d_out)) / np.sqrt(d_hidden)).astype(dtype)
    x = r.standard_normal((batch, d_in)).astype(dtype)
    y = r.standard_normal((batch, d_out)).astype(dtype)
    return w1, w2, x, y


def numpy_per_sample_grads(w1, w2, x, y):
    """The floor: analytic per-sample backprop of mean((tanh(x @ w1) @ w2 - y) ** 2).

    Returns (g1, g2) with shapes (B,) + w1.shape and (B,) + w2.shape.
    """
    h = np.tanh(x @ w1)                        # (B, H)
    r = h @ w2 - y                             # (B, O)
    dout = r * np.asarray(2.0 / y.shape[1], dtype=x.dtype)
    g2 = np.einsum("bi,bj->bij", h, dout)      # (B, H, O)
    dz = (dout @ w2.T) * (1 - h * h)           # (B, H)
    g1 = np.einsum("bi,bj->bij", x, dz)        # (B, I, H)
    return g1, g2
