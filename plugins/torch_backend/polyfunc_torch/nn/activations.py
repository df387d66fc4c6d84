"""Activation functions (torch.nn.functional and their torch.* spellings) on traced tensors."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

import polyfunc.numpy as pnp
from polyfunc import ops

from ..arguments import ndim, shape
from ..elementwise import erf, sigmoid
from ..reductions import log_softmax, softmax
from ..registry import implements

# (F.sigmoid and F.tanh call input.sigmoid() / input.tanh(): the tracer methods)
implements(F.softmax)(softmax)
implements(F.log_softmax)(log_softmax)


@implements(torch.relu, F.relu, method="relu")
def relu(input, inplace=False):
    # the relu primitive: torch.relu forward and threshold_backward for its derivative (0 at x == 0,
    # NaN passing with its gradient, as torch's own); straight to bind, no NumPy-namespace wrapper
    return ops.relu(input)


@implements(F.hardtanh)
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    # torch's derivative is 0 at the bounds themselves (strict inequalities)
    lo = pnp.full_like(input, min_val)
    hi = pnp.full_like(input, max_val)
    return pnp.where(pnp.less_equal(input, min_val), lo, pnp.where(pnp.greater_equal(input, max_val), hi, input))


@implements(F.relu6)
def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0)


@implements(F.leaky_relu)
def leaky_relu(input, negative_slope=0.01, inplace=False):
    return pnp.where(pnp.greater(input, 0), input, pnp.multiply(input, negative_slope))


def _nonpos(input):
    """``input`` where it is <= 0, else 0: a safe input for the negative branch, with derivative 1 at 0."""
    pos = pnp.greater(input, 0)
    return pos, pnp.where(pos, pnp.zeros_like(input), input)


@implements(F.elu)
def elu(input, alpha=1.0, inplace=False):
    pos, neg = _nonpos(input)
    return pnp.where(pos, input, pnp.multiply(pnp.expm1(neg), alpha))


@implements(F.selu)
def selu(input, inplace=False):
    a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return pnp.multiply(elu(input, a), s)


@implements(F.celu)
def celu(input, alpha=1.0, inplace=False):
    pos, neg = _nonpos(input)
    return pnp.where(pos, input, pnp.multiply(pnp.expm1(pnp.true_divide(neg, alpha)), alpha))


@implements(F.softplus)
def softplus(input, beta=1.0, threshold=20.0):
    bx = input if beta == 1 else pnp.multiply(input, beta)
    soft = pnp.logaddexp(bx, 0.0)
    if beta != 1:
        soft = pnp.true_divide(soft, beta)
    return pnp.where(pnp.greater(bx, threshold), input, soft)


@implements(F.logsigmoid)
def logsigmoid(input):
    return pnp.negative(softplus(pnp.negative(input)))


@implements(F.silu)
def silu(input, inplace=False):
    return pnp.multiply(input, sigmoid(input))


@implements(F.mish)
def mish(input, inplace=False):
    return pnp.multiply(input, pnp.tanh(softplus(input)))


@implements(F.gelu)
def gelu(input, approximate="none"):
    if approximate == "tanh":
        c = math.sqrt(2.0 / math.pi)
        inner = pnp.multiply(pnp.add(input, pnp.multiply(pnp.power(input, 3), 0.044715)), c)
        return pnp.multiply(pnp.multiply(input, 0.5), pnp.add(pnp.tanh(inner), 1.0))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    # the exact form: x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))
    return pnp.multiply(pnp.multiply(input, 0.5), pnp.add(erf(pnp.multiply(input, 1 / math.sqrt(2.0))), 1.0))


@implements(F.tanhshrink)
def tanhshrink(input):
    return pnp.subtract(input, pnp.tanh(input))


@implements(F.softsign)
def softsign(input):
    return pnp.true_divide(input, pnp.add(pnp.abs(input), 1))


@implements(F.hardsigmoid)
def hardsigmoid(input, inplace=False):
    return pnp.true_divide(relu6(pnp.add(input, 3.0)), 6.0)


@implements(F.hardswish)
def hardswish(input, inplace=False):
    return pnp.multiply(input, hardsigmoid(input))


@implements(F.glu)
def glu(input, dim=-1):
    a, b = pnp.split(input, 2, axis=dim)
    return pnp.multiply(a, ops.logistic(b))


@implements(F.prelu, torch.prelu)
def prelu(input, weight):
    w = weight
    if ndim(weight) == 1 and shape(weight)[0] > 1 and ndim(input) >= 2:
        w = pnp.reshape(weight, (-1,) + (1,) * (ndim(input) - 2))      # one slope per channel (dim 1)
    elif ndim(weight) == 1:
        w = pnp.reshape(weight, ())
    # at 0 the slope's branch, as in torch
    return pnp.where(pnp.greater(input, 0), input, pnp.multiply(w, input))


@implements(F.softmin)
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(pnp.negative(input), dim=dim, dtype=dtype)
