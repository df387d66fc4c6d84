"""Steady-state threading: once plugins are loaded, many threads running transforms at once
(jit's caches, the trace stacks, the backend context) give every thread the numbers a single
thread gets.  First use from many threads is tested in test_registration.py."""
from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp

THREADS = 8
ROUNDS = 50


def f(x):
    return pnp.sum(pnp.sin(x) * x ** 2) + pnp.tanh(x[0])


def df(x):
    """f's gradient in closed form, the independent reference."""
    g = np.cos(x) * x ** 2 + 2 * x * np.sin(x)
    g[0] += 1 - np.tanh(x[0]) ** 2
    return g


TRANSFORMS = {
    "jit": pf.jit(f),
    "grad": pf.grad(f),
    "vmap": pf.vmap(f),
    "jit(grad)": pf.jit(pf.grad(f)),
    "vmap(grad)": pf.vmap(pf.grad(f)),
}


def _inputs(i):
    """Per round a different shape, so the threads also race to fill jit's cache for new shapes."""
    rng = np.random.default_rng(i)
    n = 2 + i % 5
    return rng.standard_normal(n), rng.standard_normal((3, n))


def _run(name, i):
    x, xs = _inputs(i)
    return np.asarray(TRANSFORMS[name](xs if name.startswith("vmap") else x))


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads as often as possible
    yield
    sys.setswitchinterval(old)


def test_eight_threads_transforms_match_the_single_thread_results(fast_switching):
    with pf.use_backend("numpy"):
        expected = {(name, i): _run(name, i) for name in TRANSFORMS for i in range(ROUNDS)}
    # the single-thread results themselves against closed forms
    for i in range(ROUNDS):
        x, xs = _inputs(i)
        np.testing.assert_allclose(expected["grad", i], df(x), rtol=1e-12)
        np.testing.assert_allclose(expected["vmap(grad)", i], np.stack([df(r) for r in xs]), rtol=1e-12)
        fx = np.sum(np.sin(x) * x ** 2) + np.tanh(x[0])
        np.testing.assert_allclose(expected["jit", i], fx, rtol=1e-12)
        np.testing.assert_allclose(expected["jit(grad)", i], df(x), rtol=1e-12)

    barrier = threading.Barrier(THREADS)
    results: dict = {}
    errors: list[str] = []

    def worker(t):
        # a fresh jit per thread as well as the shared ones: both caches are raced
        own = pf.jit(pf.grad(f))
        barrier.wait()
        try:
            with pf.use_backend("numpy"):
                for k in range(ROUNDS):
                    i = (k + 7 * t) % ROUNDS       # the threads start at different rounds
                    for name in TRANSFORMS:
                        results[t, name, i] = _run(name, i)
                    results[t, "own jit(grad)", i] = np.asarray(own(_inputs(i)[0]))
        except BaseException as e:            # reported below, with the thread
            errors.append(f"thread {t}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(results) == THREADS * ROUNDS * (len(TRANSFORMS) + 1)
    for (t, name, i), got in results.items():
        want = expected["jit(grad)" if name == "own jit(grad)" else name, i]
        np.testing.assert_array_equal(got, want, err_msg=f"thread {t}, {name}, round {i}")
