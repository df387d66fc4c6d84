"""vmap (issue 4, and issue 5 on torch): per-sample gradients and batched Jacobians.

Per-sample gradients of a 2-layer tanh MLP (batch 128, 64 -> 128 -> 10, MSE,
float32) with ``vmap(grad(loss, argnums=(0, 1)), in_dims=(None, None, 0, 0))``,
against the hand-written NumPy floor, torch.func and a loop of HIPS autograd.
Targets (numpy backend, eager): faster than torch.func and within 1.6x of the
floor; on torch, no slower than torch.func.

``vmap(jacrev(sin))`` on (64, 5) against torch.func; target under 0.4 ms.
"""
from __future__ import annotations

import numpy as np

from .common import (PolyfuncBench, import_autograd, mlp_data, numpy_per_sample_grads, skip,
                     torch_device, torch_sync)


def make_loss(m):
    """mean((tanh(x @ w1) @ w2 - y) ** 2) for one sample; ``m`` is pnp, torch or autograd.numpy."""
    def loss(w1, w2, x, y):
        h = m.tanh(m.matmul(x, w1))
        r = m.matmul(h, w2) - y
        return m.mean(r * r)
    return loss


class PerSampleGrad(PolyfuncBench):
    def setup(self, backend):
        self.setup_backend(backend)
        pf, pnp = self.pf, self.pnp
        self.args = [self.arr(a) for a in mlp_data()]
        self.f = pf.vmap(pf.grad(make_loss(pnp), argnums=(0, 1)), in_dims=(None, None, 0, 0))
        self.sync = self.b.synchronize
        g1, g2 = self.f(*self.args)           # check once, outside the timing
        self.check_on_backend((g1, g2), "per-sample grads")
        ref = numpy_per_sample_grads(*mlp_data())
        np.testing.assert_allclose(self.b.to_numpy(g1), ref[0], rtol=2e-3, atol=1e-5)
        np.testing.assert_allclose(self.b.to_numpy(g2), ref[1], rtol=2e-3, atol=1e-5)

    def time_per_sample_grads(self, backend):
        self.f(*self.args)
        self.sync()


class PerSampleGradPeers:
    params = [["numpy-hand", "torch.func:cpu", "torch.func:cuda", "autograd-loop"]]
    param_names = ["peer"]
    timeout = 240

    def setup(self, peer):
        data = mlp_data()
        if peer == "numpy-hand":
            self.args = data
            self.f = numpy_per_sample_grads
            self.sync = lambda: None
        elif peer.startswith("torch.func"):
            torch, dev = torch_device(peer)
            self.args = [torch.as_tensor(a, device=dev) for a in data]
            self.f = torch.func.vmap(torch.func.grad(make_loss(torch), argnums=(0, 1)),
                                     in_dims=(None, None, 0, 0))
            self.sync = torch_sync(torch, dev)
        elif peer == "autograd-loop":
            ag, anp = import_autograd()
            g = ag.grad(make_loss(anp), argnum=(0, 1))

            def loop(w1, w2, x, y):
                gs = [g(w1, w2, x[i], y[i]) for i in range(x.shape[0])]
                return np.stack([a for a, _ in gs]), np.stack([b for _, b in gs])
            self.args = data
            self.f = loop
            self.sync = lambda: None
        else:
            skip(f"unknown peer {peer!r}")

    def time_per_sample_grads(self, peer):
        self.f(*self.args)
        self.sync()


def jac_input():
    return np.linspace(-1.0, 1.0, 64 * 5).reshape(64, 5)


class VmapJacrev(PolyfuncBench):
    def setup(self, backend):
        self.setup_backend(backend)
        self.x = self.arr(jac_input())
        self.f = self.pf.vmap(self.pf.jacrev(self.pnp.sin))
        self.sync = self.b.synchronize
        self.check_on_backend(self.f(self.x), "vmap(jacrev(sin))")

    def time_vmap_jacrev_sin(self, backend):
        self.f(self.x)
        self.sync()


class VmapJacrevPeers:
    params = [["torch.func:cpu", "torch.func:cuda"]]
    param_names = ["peer"]

    def setup(self, peer):
        torch, dev = torch_device(peer)
        self.x = torch.as_tensor(jac_input(), device=dev)
        self.f = torch.func.vmap(torch.func.jacrev(torch.sin))
        self.sync = torch_sync(torch, dev)

    def time_vmap_jacrev_sin(self, peer):
        self.f(self.x)
        self.sync()


class BackendBatchRule(PolyfuncBench):
    """A backend's own batching rule against the core's generic one (issue 4).

    Per-example lookups into per-example tables, ``vmap(lambda t, i: t[i])``,
    bind ``gather`` with a batched operand *and* batched indices: the generic
    rule flattens the batch into the operand and offsets the indices (about
    eight primitives); the numpy and torch plugins do it in one advanced-indexing call.
    """

    params = [PolyfuncBench.params[0], ["backend-rule", "generic-rule"]]
    param_names = ["backend", "rule"]

    def setup(self, backend, rule):
        b = self.setup_backend(backend)
        if not b.batch_rules.get("gather"):
            skip(f"backend {backend!r} has no gather batching rule of its own")
        rng = np.random.default_rng(0)
        self.tables = self.arr(rng.standard_normal((64, 100, 16)))
        self.idx = self.arr(rng.integers(0, 100, (64, 10)))
        self.f = self.pf.vmap(lambda t, i: self.pnp.take(t, i, axis=0))
        self.saved = b.batch_rules["gather"]
        if rule == "generic-rule":
            del b.batch_rules["gather"]
        self.check_on_backend(self.f(self.tables, self.idx), "gather")
        self.sync = b.synchronize

    def teardown(self, backend, rule):
        self.b.batch_rules["gather"] = self.saved

    def time_vmap_gather(self, backend, rule):
        self.f(self.tables, self.idx)
        self.sync()
