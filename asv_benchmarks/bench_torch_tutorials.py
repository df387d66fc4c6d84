"""PyTorch's torch.func tutorials, run as a torch user would with torch.func swapped for
polyfunc (issue 9), side by side with torch.func in the same run.

* per-sample gradients of the tutorial's CNN (3x3 convs 1->32->64, max pool, linears
  9216->128->10, 28x28 inputs, batch 64): ``vmap(grad(loss), in_dims=(None, None, 0, 0))``;
* the neural tangent kernel of a small CNN (3x3 convs 3->32->32->32, a linear to 10, 32x32
  inputs, 20 x 5 pairs): Jacobian contraction ("full") and NTK-vector products;
* a MAML meta-step on 28x28 images (5-way, 8 tasks, 5 inner steps) with the functorch
  example's net (three blocks of conv 64, batch norm without running stats, ReLU, 2x2 max
  pool; then a linear): vmap over tasks, the outer gradient by ``.backward()`` for torch.func
  (as in the example) and by ``grad`` for polyfunc;
* the ``grad_and_value`` training step of a 2->32->2 MLP for 1, 2 and 64 stacked models;
* ensembling 10 MLPs 784->128->128->10 on minibatches of 64 (``vmap`` over stacked parameters).

Polyfunc classes are parametrised by backend (the workloads are torch modules: the numpy
backend cannot run them and is skipped); the ``...Peers`` classes run torch.func.

``python asv_benchmarks/bench_torch_tutorials.py`` prints interleaved medians and the
polyfunc / torch.func ratio of every workload (one torch thread unless
POLYFUNC_BENCH_THREADS says otherwise); ``--jit`` adds polyfunc with the workload's
outermost function under ``jit`` (torch.func has no counterpart: its ratio is to
torch.func's eager time).
"""
from __future__ import annotations

import os
import sys
import types


if __package__ in (None, ""):        # run as a script: import the package for its thread limits
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "asv_benchmarks"

from .common import PolyfuncBench, limit_torch_threads, skip, torch_device, torch_sync  # noqa: E402

TORCH_BACKENDS = ["numpy", "torch:cpu", "torch:cuda"]
PEERS = ["torch.func:cpu", "torch.func:cuda"]


def _api(lib):
    """The transforms and module helpers of ``lib`` ('polyfunc', 'polyfunc+jit' or 'torch.func') under
    one set of names; ``jit`` wraps a workload's outermost function ('polyfunc+jit' only)."""
    if lib.startswith("polyfunc"):
        import polyfunc as pf
        import polyfunc_torch
        return types.SimpleNamespace(vmap=pf.vmap, grad=pf.grad, grad_and_value=pf.grad_and_value,
                                     jacrev=pf.jacrev, vjp=pf.vjp, jvp=pf.jvp,
                                     functional_call=polyfunc_torch.functional_call,
                                     stack_module_state=polyfunc_torch.stack_module_state,
                                     jit=pf.jit if lib.endswith("+jit") else _same)
    import torch.func as tf
    return types.SimpleNamespace(vmap=tf.vmap, grad=tf.grad, grad_and_value=tf.grad_and_value, jacrev=tf.jacrev,
                                 vjp=tf.vjp, jvp=tf.jvp, functional_call=tf.functional_call,
                                 stack_module_state=tf.stack_module_state, jit=_same)


def _same(f):
    return f


# ---------------------------------------------------------------- the workloads
def per_sample_cnn(lib, dev):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    api = _api(lib)
    torch.manual_seed(0)

    class SimpleCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = torch.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    model = SimpleCNN().to(dev)
    data = torch.randn(64, 1, 28, 28, device=dev)
    targets = torch.randint(10, (64,), device=dev)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def compute_loss(params, buffers, sample, target):
        batch, targets = sample.unsqueeze(0), target.unsqueeze(0)
        predictions = api.functional_call(model, (params, buffers), (batch,))
        return F.nll_loss(predictions, targets)

    f = api.jit(api.vmap(api.grad(compute_loss), in_dims=(None, None, 0, 0)))
    return lambda: f(params, buffers, data, targets)


def _ntk_setup(dev):
    import torch
    import torch.nn as nn
    torch.manual_seed(0)

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, (3, 3))
            self.conv2 = nn.Conv2d(32, 32, (3, 3))
            self.conv3 = nn.Conv2d(32, 32, (3, 3))
            self.fc = nn.Linear(21632, 10)

        def forward(self, x):
            x = self.conv1(x).relu()
            x = self.conv2(x).relu()
            x = self.conv3(x).relu()
            return self.fc(x.flatten(1))

    net = CNN().to(dev)
    x_train = torch.randn(20, 3, 32, 32, device=dev)
    x_test = torch.randn(5, 3, 32, 32, device=dev)
    params = {k: v.detach() for k, v in net.named_parameters()}
    return net, params, x_train, x_test


def ntk_jacobian(lib, dev):
    import torch
    api = _api(lib)
    net, params, x1, x2 = _ntk_setup(dev)

    def fnet_single(params, x):
        return api.functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    jac = api.jit(api.vmap(api.jacrev(fnet_single), (None, 0)))

    def ntk():
        j1 = [j.flatten(2) for j in jac(params, x1).values()]
        j2 = [j.flatten(2) for j in jac(params, x2).values()]
        return torch.stack([torch.einsum("Naf,Mbf->NMab", a, b) for a, b in zip(j1, j2)]).sum(0)
    return ntk


def ntk_vector_products(lib, dev):
    api = _api(lib)
    net, params, x1, x2 = _ntk_setup(dev)

    def fnet_single(params, x):
        return api.functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)

    def get_ntk(x1, x2):
        def func_x1(params):
            return fnet_single(params, x1)

        def func_x2(params):
            return fnet_single(params, x2)
        output, vjp_fn = api.vjp(func_x1, params)

        def get_ntk_slice(vec):
            vjps = vjp_fn(vec)
            _, jvps = api.jvp(func_x2, (params,), vjps)
            return jvps
        import torch
        basis = torch.eye(output.numel(), dtype=output.dtype, device=output.device).view(output.numel(), -1)
        return api.vmap(get_ntk_slice)(basis)

    f = api.jit(api.vmap(api.vmap(get_ntk, (None, 0)), (0, None)))
    return lambda: f(x1, x2)


def maml_step(lib, dev):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    api = _api(lib)
    torch.manual_seed(0)
    n_way, tasks, inner_steps, k_spt, k_qry = 5, 8, 5, 1, 15

    def block(cin):
        return [nn.Conv2d(cin, 64, 3), nn.BatchNorm2d(64, momentum=1, affine=True, track_running_stats=False),
                nn.ReLU(inplace=False), nn.MaxPool2d(2, 2)]
    net = nn.Sequential(*block(1), *block(64), *block(64), nn.Flatten(), nn.Linear(64, n_way)).to(dev)
    x_spt = torch.randn(tasks, n_way * k_spt, 1, 28, 28, device=dev)
    y_spt = torch.randint(n_way, (tasks, n_way * k_spt), device=dev)
    x_qry = torch.randn(tasks, n_way * k_qry, 1, 28, 28, device=dev)
    y_qry = torch.randint(n_way, (tasks, n_way * k_qry), device=dev)

    def task_loss(params, x_spt, y_spt, x_qry, y_qry):
        def inner_loss(new_params, x, y):
            return F.cross_entropy(api.functional_call(net, new_params, (x,)), y)
        new_params = params
        for _ in range(inner_steps):
            grads = api.grad(inner_loss)(new_params, x_spt, y_spt)
            new_params = {k: new_params[k] - 0.1 * grads[k] for k in new_params}
        return F.cross_entropy(api.functional_call(net, new_params, (x_qry,)), y_qry)

    batched = api.vmap(task_loss, in_dims=(None, 0, 0, 0, 0))
    if lib.startswith("polyfunc"):
        params = {k: v.detach() for k, v in net.named_parameters()}
        g = api.jit(api.grad(lambda p: batched(p, x_spt, y_spt, x_qry, y_qry).sum()))
        return lambda: g(params)
    params = {k: v.detach().requires_grad_() for k, v in net.named_parameters()}

    def step():
        for p in params.values():
            p.grad = None
        batched(params, x_spt, y_spt, x_qry, y_qry).sum().backward()
        return {k: p.grad for k, p in params.items()}
    return step


def ensemble_train_step(lib, dev, models):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    api = _api(lib)
    torch.manual_seed(0)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 32)
            self.fc2 = nn.Linear(32, 2)

        def forward(self, x):
            return self.fc2(F.relu(self.fc1(x)))
    mods = [MLP().to(dev) for _ in range(models)]
    weights, _ = api.stack_module_state(mods) if lib.startswith("polyfunc") else torch.func.stack_module_state(mods)
    weights = {k: v.detach() for k, v in weights.items()}
    base = mods[0]
    x = torch.randn(100, 2, device=dev)
    t = torch.randint(2, (100,), device=dev)

    def compute_loss(weights, x, t):
        out = api.functional_call(base, weights, (x,))
        return F.cross_entropy(out, t), out

    def step(weights, x, t, lr=0.2):
        grads, (loss, out) = api.grad_and_value(compute_loss, has_aux=True)(weights, x, t)
        new = {k: weights[k] - g * lr for k, g in grads.items()}
        return loss, new

    f = api.jit(api.vmap(step, in_dims=(0, None, None)))
    return lambda: f(weights, x, t)


def ensemble_mlps(lib, dev):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    api = _api(lib)
    torch.manual_seed(0)

    class SimpleMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(784, 128)
            self.fc2 = nn.Linear(128, 128)
            self.fc3 = nn.Linear(128, 10)

        def forward(self, x):
            x = x.flatten(1)
            x = F.relu(self.fc1(x))
            x = F.relu(self.fc2(x))
            return self.fc3(x)
    models = [SimpleMLP().to(dev) for _ in range(10)]
    params, buffers = torch.func.stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    minibatches = torch.randn(10, 64, 1, 28, 28, device=dev)
    base = models[0]

    def fmodel(params, buffers, x):
        return api.functional_call(base, (params, buffers), (x,))
    f = api.jit(api.vmap(fmodel, in_dims=(0, 0, 0)))
    return lambda: f(params, buffers, minibatches)


WORKLOADS = {
    "per_sample_cnn": per_sample_cnn,
    "ntk_jacobian": ntk_jacobian,
    "ntk_vector_products": ntk_vector_products,
    "maml_step": maml_step,
    "ensemble_step_1": lambda lib, dev: ensemble_train_step(lib, dev, 1),
    "ensemble_step_2": lambda lib, dev: ensemble_train_step(lib, dev, 2),
    "ensemble_step_64": lambda lib, dev: ensemble_train_step(lib, dev, 64),
    "ensemble_mlps": ensemble_mlps,
}


# ---------------------------------------------------------------- asv classes
class TorchTutorials(PolyfuncBench):
    params = [TORCH_BACKENDS, list(WORKLOADS)]
    param_names = ["backend", "workload"]
    timeout = 600

    def setup(self, backend, workload):
        if not backend.startswith("torch"):
            skip("the tutorials are torch modules: they run on the torch backend only")
        b = self.setup_backend(backend)
        dev = backend.partition(":")[2] or "cpu"
        if dev.startswith("cuda"):
            import torch
            if not torch.cuda.is_available():
                skip("CUDA is not available to torch here")
        self.f = WORKLOADS[workload]("polyfunc", dev)
        self.sync = b.synchronize
        self.f()                              # warm (rule plans, kernels)

    def time_tutorial(self, backend, workload):
        self.f()
        self.sync()


class TorchTutorialsPeers:
    params = [PEERS, list(WORKLOADS)]
    param_names = ["peer", "workload"]
    timeout = 600

    def setup(self, peer, workload):
        torch, dev = torch_device(peer)
        self.f = WORKLOADS[workload]("torch.func", dev)
        self.sync = torch_sync(torch, dev)
        self.f()

    def time_tutorial(self, peer, workload):
        self.f()
        self.sync()


# ---------------------------------------------------------------- interleaved ratios
def _leaves(out):
    import torch
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for v in out.values() for t in _leaves(v)]
    if isinstance(out, (list, tuple)):
        return [t for v in out for t in _leaves(v)]
    return []


def main(argv=None):
    import argparse
    import statistics
    import time

    import torch
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-k", default="", help="only workloads whose name contains this")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--target", type=float, default=0.2, help="seconds per timed sample")
    p.add_argument("--no-check", action="store_true", help="skip the agreement check (older polyfunc versions)")
    p.add_argument("--jit", action="store_true", help="also polyfunc with the workload's outer function under jit "
                   "(POLYFUNC_TORCH_COMPILE=1 sends its graphs to torch.compile)")
    a = p.parse_args(argv)
    limit_torch_threads(torch)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {a.device}")
    for name, make in WORKLOADS.items():
        if a.k not in name:
            continue
        libs = ("polyfunc", "polyfunc+jit", "torch.func") if a.jit else ("polyfunc", "torch.func")
        fs = {lib: make(lib, a.device) for lib in libs}
        outs = {lib: f() for lib, f in fs.items()}       # warm and check they agree
        # (not MAML: torch.func's vmap over tasks of a net with batch norm gives gradients that differ
        # from a loop over the tasks by up to 1e-2 in float64; polyfunc's match the loop to 1e-15)
        for lib in libs[:-1]:
            for x, y in zip(_leaves(outs[lib]), _leaves(outs["torch.func"])) if name != "maml_step" and not a.no_check else ():
                torch.testing.assert_close(torch.as_tensor(x), y, rtol=2e-3, atol=2e-4)
        sync = (lambda: torch.cuda.synchronize()) if a.device.startswith("cuda") else (lambda: None)
        loops = {}
        for lib, f in fs.items():
            t0, n = time.perf_counter(), 0
            while time.perf_counter() - t0 < a.target or n == 0:
                f()
                sync()
                n += 1
            loops[lib] = n
        times = {lib: [] for lib in fs}
        for _ in range(a.repeat):
            for lib, f in fs.items():         # interleaved: load hits both alike
                t0 = time.perf_counter()
                for _ in range(loops[lib]):
                    f()
                sync()
                times[lib].append((time.perf_counter() - t0) / loops[lib])
        med = {lib: statistics.median(v) for lib, v in times.items()}
        for lib in libs[:-1]:
            ratios = sorted(x / y for x, y in zip(times[lib], times["torch.func"]))
            print(f"{name:22s} {lib:12s} {med[lib] * 1e3:9.3f} ms  torch.func {med['torch.func'] * 1e3:9.3f} ms  "
                  f"ratio {med[lib] / med['torch.func']:.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})", flush=True)


if __name__ == "__main__":
    main()
