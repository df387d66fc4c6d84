"""Per-sample gradients of a torch model (the torch.func tutorial's pattern)."""
import torch
import torch.nn.functional as F

import polyfunc as pf
from polyfunc_torch import functional_call

torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                            torch.nn.Linear(4 * 6 * 6, 10))
params = {k: v.detach() for k, v in model.named_parameters()}


def loss(params, sample, target):
    out = functional_call(model, params, (sample.unsqueeze(0),))
    return F.cross_entropy(out, target.unsqueeze(0))


data, targets = torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,))
per_sample = pf.vmap(pf.grad(loss), in_dims=(None, 0, 0))(params, data, targets)

# check one sample against torch's own autograd
model.zero_grad()
loss(dict(model.named_parameters()), data[3], targets[3]).backward()
for name, p in model.named_parameters():
    assert per_sample[name].shape == (8, *p.shape)
    torch.testing.assert_close(per_sample[name][3], p.grad, rtol=1e-4, atol=1e-5)
print("per-sample gradient shapes:", {k: tuple(v.shape) for k, v in per_sample.items()})
