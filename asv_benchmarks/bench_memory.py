"""Peak memory of jacrev with chunk_size (issue 4).

``jacrev(f, chunk_size=k)`` of a function of 4,096 inputs (and 4,096 outputs,
a chain of elementwise primitives, float64): chunk_size 64 against None.
asv's ``peakmem_`` reports the benchmark process's maximum RSS, so the figure
includes the interpreter and imports; compare the two chunk sizes.
"""
from __future__ import annotations

import numpy as np

from .common import BACKENDS, PolyfuncBench

N = 4096


def make_f(pnp):
    def f(x):
        a = pnp.sin(x)
        return pnp.tanh(pnp.multiply(a, pnp.cos(x)) + pnp.exp(pnp.negative(x)))
    return f


class JacrevChunkMemory(PolyfuncBench):
    params = [BACKENDS, [64, None]]
    param_names = ["backend", "chunk_size"]
    timeout = 300

    def setup(self, backend, chunk_size):
        self.setup_backend(backend)
        self.x = self.arr(np.linspace(-1.0, 1.0, N))
        self.f = self.pf.jacrev(make_f(self.pnp), chunk_size=chunk_size)

    def peakmem_jacrev_4096(self, backend, chunk_size):
        self.f(self.x)
        self.b.synchronize()

    def time_jacrev_4096(self, backend, chunk_size):
        self.f(self.x)
        self.b.synchronize()


class JacrevChunkDeviceMemory(PolyfuncBench):
    """The same on a GPU, where RSS says nothing: torch's peak of allocated device memory."""
    params = [["torch:cuda"], [64, None]]
    param_names = ["backend", "chunk_size"]
    timeout = 300
    unit = "bytes"

    def setup(self, backend, chunk_size):
        self.setup_backend(backend)
        import torch
        self.torch = torch
        self.x = self.arr(np.linspace(-1.0, 1.0, N))
        self.f = self.pf.jacrev(make_f(self.pnp), chunk_size=chunk_size)

    def track_device_peak_jacrev_4096(self, backend, chunk_size):
        torch = self.torch
        self.b.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        self.f(self.x)
        self.b.synchronize()
        return torch.cuda.max_memory_allocated() - base
