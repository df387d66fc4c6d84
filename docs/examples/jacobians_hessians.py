"""Jacobians and Hessians of torch code, checked against torch.autograd.functional."""
import torch

import polyfunc as pf

torch.manual_seed(0)
W, b = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, dtype=torch.float64)


def f(x):
    return torch.tanh(W @ x + b)


x = torch.randn(3, dtype=torch.float64)
J_rev, J_fwd = pf.jacrev(f)(x), pf.jacfwd(f)(x)
reference = torch.autograd.functional.jacobian(f, x)
torch.testing.assert_close(J_rev, reference)
torch.testing.assert_close(J_fwd, reference)


def energy(x):
    return (torch.sin(x) * x).sum()


H = pf.hessian(energy)(x)
torch.testing.assert_close(H, torch.autograd.functional.hessian(energy, x))

# Hessian-vector product without forming H: forward over reverse
v = torch.randn(3, dtype=torch.float64)
_, hvp = pf.jvp(pf.grad(energy), (x,), (v,))
torch.testing.assert_close(hvp, H @ v)
print("Jacobian:", tuple(J_rev.shape), "Hessian:", tuple(H.shape))
