"""Getting started: the transforms on the default NumPy backend."""
import numpy as np

import polyfunc as pf
import polyfunc.numpy as pnp


def f(x):
    return pnp.sum(pnp.sin(x) ** 2)


x = pnp.asarray([0.1, 0.2, 0.3])
g = pf.grad(f)(x)                                   # d/dx sum(sin^2) = sin(2x)
assert np.allclose(g, np.sin(2 * x))

# forward mode and reverse mode agree on the Jacobian
assert np.allclose(pf.jacfwd(pnp.sin)(x), pf.jacrev(pnp.sin)(x))

# Hessian of f: diagonal with 2 cos(2x)
assert np.allclose(pf.hessian(f)(x), np.diag(2 * np.cos(2 * x)))

# per-sample gradients: vmap over grad
def loss(w, example, target):
    return (pnp.dot(example, w) - target) ** 2


w = pnp.ones(3)
xs, ys = pnp.asarray(np.arange(12.0).reshape(4, 3)), pnp.zeros(4)
per_sample = pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))(w, xs, ys)
assert per_sample.shape == (4, 3)
assert np.allclose(per_sample[1], 2 * (xs[1] @ w) * xs[1])
print("per-sample gradients:\n", per_sample)
