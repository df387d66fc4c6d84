"""Reverse/forward mode on tiny inputs (issue 3) vs torch.func and HIPS autograd.

grad of a scalar sine, grad(grad(sin)), jacrev(sin) and jacfwd(sin) on 5
elements, hessian(sum(sin)) on 64.  Target: polyfunc-numpy faster than both
peers on each.  Transformed functions are built in ``setup`` for every party.
"""
from __future__ import annotations

import numpy as np

from .common import PolyfuncBench, import_autograd, skip, torch_device, torch_sync

SCALAR = 0.3


def x5():
    return np.linspace(0.1, 1.0, 5)


def x64():
    return np.linspace(-2.0, 2.0, 64)


class Autodiff(PolyfuncBench):
    def setup(self, backend):
        self.setup_backend(backend)
        pf, pnp = self.pf, self.pnp
        self.s, self.x5, self.x64 = self.arr(SCALAR), self.arr(x5()), self.arr(x64())
        self.f_grad = pf.grad(pnp.sin)
        self.f_gradgrad = pf.grad(pf.grad(pnp.sin))
        self.f_jacrev = pf.jacrev(pnp.sin)
        self.f_jacfwd = pf.jacfwd(pnp.sin)
        self.f_hessian = pf.hessian(lambda x: pnp.sum(pnp.sin(x)))
        self.sync = self.b.synchronize
        for name in ("grad", "gradgrad", "jacrev", "jacfwd", "hessian"):
            arg = {"grad": self.s, "gradgrad": self.s, "hessian": self.x64}.get(name, self.x5)
            self.check_on_backend(getattr(self, "f_" + name)(arg), name)

    def time_grad_sin(self, backend):
        self.f_grad(self.s)
        self.sync()

    def time_grad_grad_sin(self, backend):
        self.f_gradgrad(self.s)
        self.sync()

    def time_jacrev_sin(self, backend):
        self.f_jacrev(self.x5)
        self.sync()

    def time_jacfwd_sin(self, backend):
        self.f_jacfwd(self.x5)
        self.sync()

    def time_hessian_sum_sin(self, backend):
        self.f_hessian(self.x64)
        self.sync()


class AutodiffPeers:
    """torch.func (cpu, cuda) and HIPS autograd.  autograd has no forward-mode
    Jacobian, so its ``jacfwd`` entry is ``autograd.jacobian`` (reverse mode)."""
    params = [["torch.func:cpu", "torch.func:cuda", "autograd"]]
    param_names = ["peer"]
    timeout = 120

    def setup(self, peer):
        if peer.startswith("torch.func"):
            torch, dev = torch_device(peer)
            tf = torch.func
            t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64, device=dev)  # noqa: E731
            self.s, self.x5, self.x64 = t(SCALAR), t(x5()), t(x64())
            self.f_grad = tf.grad(torch.sin)
            self.f_gradgrad = tf.grad(tf.grad(torch.sin))
            self.f_jacrev = tf.jacrev(torch.sin)
            self.f_jacfwd = tf.jacfwd(torch.sin)
            self.f_hessian = tf.hessian(lambda x: torch.sin(x).sum())
            self.sync = torch_sync(torch, dev)
        elif peer == "autograd":
            ag, anp = import_autograd()
            self.s, self.x5, self.x64 = SCALAR, x5(), x64()
            self.f_grad = ag.grad(anp.sin)
            self.f_gradgrad = ag.grad(ag.grad(anp.sin))
            self.f_jacrev = ag.jacobian(anp.sin)
            self.f_jacfwd = ag.jacobian(anp.sin)
            self.f_hessian = ag.hessian(lambda x: anp.sum(anp.sin(x)))
            self.sync = lambda: None
        else:
            skip(f"unknown peer {peer!r}")

    def time_grad_sin(self, peer):
        self.f_grad(self.s)
        self.sync()

    def time_grad_grad_sin(self, peer):
        self.f_gradgrad(self.s)
        self.sync()

    def time_jacrev_sin(self, peer):
        self.f_jacrev(self.x5)
        self.sync()

    def time_jacfwd_sin(self, peer):
        self.f_jacfwd(self.x5)
        self.sync()

    def time_hessian_sum_sin(self, peer):
        self.f_hessian(self.x64)
        self.sync()
