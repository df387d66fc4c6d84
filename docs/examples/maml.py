"""MAML: a meta-gradient through inner gradient steps, vmapped over tasks."""
import torch

import polyfunc as pf
from polyfunc_torch import functional_call

torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
params = {k: v.detach() for k, v in net.named_parameters()}


def mse(params, x, y):
    return ((functional_call(net, params, (x,)) - y) ** 2).mean()


def adapted_loss(params, x_support, y_support, x_query, y_query, inner_lr=0.1, steps=2):
    for _ in range(steps):                              # inner loop: plain gradient descent
        grads = pf.grad(mse)(params, x_support, y_support)
        params = {k: params[k] - inner_lr * grads[k] for k in params}
    return mse(params, x_query, y_query)


def meta_loss(params, xs, ys, xq, yq):
    per_task = pf.vmap(adapted_loss, in_dims=(None, 0, 0, 0, 0))(params, xs, ys, xq, yq)
    return per_task.mean()


tasks = 4
amp, phase = torch.rand(tasks, 1, 1) * 4 + 1, torch.rand(tasks, 1, 1) * 3
xs, xq = torch.rand(tasks, 10, 1) * 10 - 5, torch.rand(tasks, 10, 1) * 10 - 5
ys, yq = amp * torch.sin(xs + phase), amp * torch.sin(xq + phase)

meta_grads = pf.grad(meta_loss)(params, xs, ys, xq, yq)
# the same meta-gradient, task by task, with torch.func as the reference
import torch.func as tf                                         # noqa: E402


def reference(params):
    def inner(params, x, y):
        for _ in range(2):
            g = tf.grad(lambda p: ((tf.functional_call(net, p, (x,)) - y) ** 2).mean())(params)
            params = {k: params[k] - 0.1 * g[k] for k in params}
        return params

    losses = [((tf.functional_call(net, inner(params, xs[t], ys[t]), (xq[t],)) - yq[t]) ** 2).mean()
              for t in range(tasks)]
    return torch.stack(losses).mean()


expected = tf.grad(reference)(params)
for k in params:
    torch.testing.assert_close(meta_grads[k], expected[k], rtol=1e-4, atol=1e-5)
print("meta-gradient keys:", sorted(meta_grads))
