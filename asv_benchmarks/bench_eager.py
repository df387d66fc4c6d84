"""Eager evaluation cost (issue 2): pnp.sin and a 10-primitive expression vs plain NumPy
(and vs plain torch, the floor of the torch backends).

Target: under 3 µs of overhead per primitive over calling NumPy directly.
"""
from __future__ import annotations

import numpy as np

from .common import BACKENDS, PolyfuncBench, torch_device, torch_sync

SIZES = [8, 1_000_000]


def expr10(m, x):
    """Ten primitives (sin, cos, mul, neg, exp, add, tanh, mul, sub, mul); ``m`` is pnp or numpy."""
    a = m.sin(x)
    e = m.add(m.multiply(a, m.cos(x)), m.exp(m.negative(x)))
    h = m.subtract(m.multiply(m.tanh(e), x), a)
    return m.multiply(h, h)


def input_array(n):
    return np.linspace(0.1, 1.0, n)


class Eager(PolyfuncBench):
    """polyfunc.numpy on each backend."""
    params = [BACKENDS, SIZES]
    param_names = ["backend", "size"]

    def setup(self, backend, size):
        self.setup_backend(backend)
        self.x = self.arr(input_array(size))
        self.sync = self.b.synchronize
        self.check_on_backend(expr10(self.pnp, self.x), "expr10")

    def time_sin(self, backend, size):
        self.pnp.sin(self.x)
        self.sync()

    def time_expr10(self, backend, size):
        expr10(self.pnp, self.x)
        self.sync()


class EagerPeers:
    """The references: the same calls in plain NumPy (and plain torch, for the torch backends)."""
    params = [["numpy", "torch:cpu", "torch:cuda"], SIZES]
    param_names = ["peer", "size"]

    def setup(self, peer, size):
        if peer == "numpy":
            self.m, self.x, self.sync = np, input_array(size), (lambda: None)
        else:
            torch, dev = torch_device(peer)
            self.m, self.x = torch, torch.as_tensor(input_array(size), device=dev)
            self.sync = torch_sync(torch, dev)

    def time_sin(self, peer, size):
        self.m.sin(self.x)
        self.sync()

    def time_expr10(self, peer, size):
        expr10(self.m, self.x)
        self.sync()
