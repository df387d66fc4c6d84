"""The Dask backend on a real dask.distributed LocalCluster: two worker processes with one
thread each, on the loopback interface, started once per test session and always stopped.
Every wait is bounded, so a stuck cluster fails a test instead of hanging the run."""
import os
import signal
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import polyfunc as pf  # noqa: E402
import polyfunc.numpy as pnp  # noqa: E402
from polyfunc.testing import to_numpy  # noqa: E402

WAIT = 90   # seconds: the longest any single cluster operation may take here

D_IN, D_HID, D_OUT = 5, 7, 3


@pytest.fixture(scope="session")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, memory_limit="1GiB", silence_logs=40)
    # not the default client: other tests in this process keep computing on dask's local scheduler
    c = distributed.Client(cluster, set_as_default=False, timeout=WAIT)
    try:
        c.wait_for_workers(2, timeout=WAIT)
        yield c
    finally:
        c.close(timeout=WAIT)
        cluster.close(timeout=WAIT)


def _params():
    rng = np.random.default_rng(0)
    return {"w1": rng.normal(size=(D_IN, D_HID)) * 0.5, "b1": np.zeros(D_HID),
            "w2": rng.normal(size=(D_HID, D_OUT)) * 0.5, "b2": np.zeros(D_OUT)}


def loss(p, x, y):
    logits = pnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]
    m = pnp.max(logits)
    return pnp.log(pnp.sum(pnp.exp(logits - m))) + m - logits[y]


def _data(n):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, D_IN)), rng.integers(0, D_OUT, size=n)


def test_per_sample_and_full_gradients_on_the_cluster_agree_with_numpy(client):
    x, y = _data(200)
    p = _params()
    want_per = pf.vmap(pf.grad(loss), (None, 0, 0))(p, x, y)
    want_full = pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, x, y)))(p)
    xs, ys = da.from_array(x, chunks=(50, D_IN)), da.from_array(y, chunks=50)
    pd = {k: pnp.asarray(v, backend="dask") for k, v in p.items()}
    per = pf.vmap(pf.grad(loss), (None, 0, 0))(pd, xs, ys)
    full = pf.grad(lambda p: pnp.mean(pf.vmap(loss, (None, 0, 0))(p, xs, ys)))(pd)
    got_per, got_full = client.gather(client.compute([per, full]), direct=False)
    for k in p:
        np.testing.assert_allclose(got_per[k], to_numpy(want_per[k]), rtol=1e-10, atol=1e-12, err_msg=k)
        np.testing.assert_allclose(got_full[k], to_numpy(want_full[k]), rtol=1e-10, atol=1e-12, err_msg=k)
    # the work ran on both worker processes, not in this one
    assert len(client.scheduler_info(n_workers=-1)["workers"]) == 2


def test_a_worker_killed_mid_computation_is_retried_without_losing_a_chunk(client):
    n, chunk = 240, 20
    x, y = _data(n)
    p = _params()
    want = to_numpy(pf.vmap(pf.grad(loss), (None, 0, 0))(p, x, y)["w1"])

    def slow(block):            # pickled by value: the workers need not import this test module
        time.sleep(0.25)
        return block
    xs = da.from_array(x, chunks=(chunk, D_IN)).map_blocks(slow, dtype=x.dtype)
    ys = da.from_array(y, chunks=chunk)
    pd = {k: pnp.asarray(v, backend="dask") for k, v in p.items()}
    out = pf.vmap(pf.grad(loss), (None, 0, 0))(pd, xs, ys)["w1"]
    future = client.compute(out)
    pids = client.run(os.getpid)
    deadline = time.monotonic() + WAIT
    while not any(client.processing().values()):          # wait until the workers are busy
        assert time.monotonic() < deadline, "the cluster never started the computation"
        time.sleep(0.05)
    busy = next(addr for addr, tasks in client.processing().items() if tasks)
    os.kill(pids[busy], signal.SIGKILL)                    # the nanny restarts it; its tasks rerun
    got = future.result(timeout=WAIT)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)   # every chunk, none missing or stale
    client.wait_for_workers(2, timeout=WAIT)
    assert pids[busy] not in client.run(os.getpid).values(), "the worker was not killed"
