"""The whirlwind tour (the seed's examples, on polyfunc.numpy), printed step by step.

Each step checks its own answer, so the tour doubles as a smoke test.
"""
from __future__ import annotations

import numpy as np

__all__ = ["run"]


def _show(title: str, value, ok: bool) -> None:
    mark = "ok" if ok else "MISMATCH"
    text = np.array2string(np.asarray(value), precision=4, suppress_small=True, threshold=12) \
        if not isinstance(value, str) else value
    print(f"[{mark}] {title}\n      {text.replace(chr(10), chr(10) + '      ')}")
    if not ok:
        raise SystemExit(f"tour step failed: {title}")


def run() -> None:
    import polyfunc as pf
    import polyfunc.numpy as pnp
    from polyfunc.testing import to_numpy

    b = pf.current_backend()
    print(f"polyfunc tour on backend {b.name!r} "
          f"(available: {', '.join(i.name for i in pf.backends.backends() if i.available)})\n")
    pf.random.seed(0)
    close = lambda a, b: np.allclose(to_numpy(a), to_numpy(b), rtol=1e-5, atol=1e-6)  # noqa: E731

    x = pnp.asarray([1.0, 2.0, 3.0])
    y = pnp.sum(pnp.sin(x) * 2.0 + x @ x)
    _show("eager: sum(sin(x) * 2 + x @ x)", y, close(y, np.sum(np.sin([1., 2, 3]) * 2 + 14.0)))

    s = pf.random.normal(())
    _show("grad(sin)(x) == cos(x)", pf.grad(pnp.sin)(s), close(pf.grad(pnp.sin)(s), pnp.cos(s)))
    _show("grad(grad(sin))(x) == -sin(x)", pf.grad(pf.grad(pnp.sin))(s),
          close(pf.grad(pf.grad(pnp.sin))(s), -pnp.sin(s)))

    batch_size, feature_size = 3, 5
    weights = pf.random.normal((feature_size,))

    def model(feature_vec):
        return pnp.maximum(feature_vec.dot(weights), 0.0)
    examples = pf.random.normal((batch_size, feature_size))
    r = pf.vmap(model)(examples)
    _show("vmap(model)(examples)  (3 examples, 5 features)", r,
          close(r, pnp.stack([model(e) for e in examples])))

    def compute_loss(weights, example, target):
        y = pnp.maximum(pnp.dot(example, weights), 0.0)
        return ((y - target) ** 2).mean()
    targets = pf.random.normal((batch_size,))
    g = pf.vmap(pf.grad(compute_loss), in_dims=(None, 0, 0))(weights, examples, targets)
    loop = pnp.stack([pf.grad(compute_loss)(weights, examples[i], targets[i]) for i in range(batch_size)])
    _show("per-sample gradients: vmap(grad(loss), in_dims=(None, 0, 0))", g, close(g, loop))

    inputs = pf.random.normal((3,))
    out, vjp_fn = pf.vjp(pnp.sin, inputs)
    ct = pf.random.normal((3,))
    _show("vjp(sin): vjp_fn(ct) == ct * cos(x)", vjp_fn(ct)[0], close(vjp_fn(ct)[0], ct * pnp.cos(inputs)))

    a, c = pf.random.normal((5,)), pf.random.normal((5,))
    _, t = pf.jvp(lambda a, c: a * c, (a, c), (pnp.ones(5), pnp.ones(5)))
    _show("jvp(x * y) with unit tangents == x + y", t, close(t, a + c))

    x5 = pf.random.normal((5,))
    jr = pf.jacrev(pnp.sin)(x5)
    _show("jacrev(sin)(x) == diag(cos(x))", jr, close(jr, pnp.diag(pnp.cos(x5))))
    jf = pf.jacfwd(pnp.sin)(x5)
    _show("jacfwd(sin)(x) == diag(cos(x))", jf, close(jf, pnp.diag(pnp.cos(x5))))
    bj = pf.vmap(pf.jacrev(pnp.sin))(pf.random.normal((64, 5)))
    _show("vmap(jacrev(sin))(x).shape for x of shape (64, 5)", str(tuple(bj.shape)), tuple(bj.shape) == (64, 5, 5))

    def f(x):
        return pnp.sin(x).sum()
    h0 = pf.jacrev(pf.jacrev(f))(x5)
    h1 = pf.jacfwd(pf.jacrev(f))(x5)
    h = pf.hessian(f)(x5)
    _show("hessian(sum(sin)) == jacfwd(jacrev) == jacrev(jacrev) == diag(-sin)", h,
          close(h, h0) and close(h, h1) and close(h, pnp.diag(-pnp.sin(x5))))

    graph = pf.make_graph(lambda x: pnp.sum(pnp.tanh(x) * 2.0))(x5)
    _show("make_graph: the primitives a function binds", str(graph), True)
    fast = pf.jit(lambda x: pnp.sum(pnp.tanh(x) * 2.0))
    _show("jit replays the graph", fast(x5), close(fast(x5), pnp.sum(pnp.tanh(x5) * 2.0)))
    print("\ntour complete: every step matched its reference.")
