"""Model ensembling: run several models at once with vmap over stacked parameters."""
import torch

import polyfunc as pf
from polyfunc_torch import functional_call, stack_module_state

torch.manual_seed(0)
models = [torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
          for _ in range(5)]
params, buffers = stack_module_state(models)
base = models[0]


def run(params, buffers, x):
    return functional_call(base, (params, buffers), (x,))


x = torch.randn(32, 6)
outs = pf.vmap(run, in_dims=(0, 0, None))(params, buffers, x)     # every model, same minibatch
assert outs.shape == (5, 32, 3)
for i, m in enumerate(models):
    torch.testing.assert_close(outs[i], m(x).detach(), rtol=1e-5, atol=1e-6)
print("ensemble output:", tuple(outs.shape))
