"""Loss functions of torch.nn.functional on traced tensors."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc import ops

from ..arguments import float_of, is_int, ndim, shape
from ..dtypes import to_np_dtype
from ..elementwise import xlogy
from ..reductions import log_softmax
from ..registry import implements
from .activations import logsigmoid, relu, softplus
from .distances import pairwise_distance


def reduce_loss(loss, reduction):
    if reduction == "mean":
        return pnp.mean(loss)
    if reduction == "sum":
        return pnp.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction!r} is not a valid reduction (use 'mean', 'sum' or 'none')")


@implements(F.mse_loss)
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    d = pnp.subtract(input, target)
    return reduce_loss(pnp.multiply(d, d), reduction)


@implements(F.l1_loss)
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return reduce_loss(pnp.abs(pnp.subtract(input, target)), reduction)


@implements(F.smooth_l1_loss)
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    d = pnp.abs(pnp.subtract(input, target))
    if beta == 0:
        return reduce_loss(d, reduction)
    loss = pnp.where(pnp.less(d, beta), pnp.true_divide(pnp.multiply(pnp.multiply(d, d), 0.5), beta),
                     pnp.subtract(d, 0.5 * beta))
    return reduce_loss(loss, reduction)


@implements(F.huber_loss)
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    d = pnp.abs(pnp.subtract(input, target))
    loss = pnp.where(pnp.less(d, delta), pnp.multiply(pnp.multiply(d, d), 0.5),
                     pnp.multiply(pnp.subtract(d, 0.5 * delta), delta))
    return reduce_loss(loss, reduction)


def _bce_value(x, t):
    # torch clamps the logs at -100; the double where keeps log's derivative at 0 out of the gradient
    q = pnp.subtract(1, x)
    xp, qp = pnp.greater(x, 0), pnp.greater(q, 0)
    lp = pnp.maximum(pnp.where(xp, pnp.log(pnp.where(xp, x, pnp.ones_like(x))), pnp.full_like(x, -100.0)), -100.0)
    lq = pnp.maximum(pnp.where(qp, pnp.log(pnp.where(qp, q, pnp.ones_like(q))), pnp.full_like(q, -100.0)), -100.0)
    return pnp.negative(pnp.add(pnp.multiply(t, lp), pnp.multiply(pnp.subtract(1, t), lq))), lp, lq


_BCE_EPS = float(np.float32(1e-12))   # torch's EPSILON, a float constant


@pf.custom_jvp
def _bce_elementwise(x, t):
    return _bce_value(x, t)[0]


@_bce_elementwise.defjvp
def _bce_jvp(primals, tangents):
    """torch's derivatives: d/dx = (x - t) / max(x (1 - x), 1e-12), d/dt = log(1 - x) - log(x)
    (each log clamped at -100, where torch leaves them unclamped: a concrete target's zero
    tangent must not meet an infinity)."""
    x, t = primals
    dx, dt = tangents
    out, lp, lq = _bce_value(x, t)
    gx = pnp.true_divide(pnp.subtract(x, t), pnp.maximum(pnp.multiply(x, pnp.subtract(1, x)), _BCE_EPS))
    gt = pnp.subtract(lq, lp)
    return out, pnp.add(pnp.multiply(gx, dx), pnp.multiply(gt, dt))


@implements(F.binary_cross_entropy)
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    x, t = pnp.broadcast_arrays(input, target)
    loss = _bce_elementwise(x, pnp.astype(t, to_np_dtype(x.dtype)))
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return reduce_loss(loss, reduction)


@implements(F.binary_cross_entropy_with_logits)
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    pos = pnp.multiply(target, logsigmoid(input))
    if pos_weight is not None:
        pos = pnp.multiply(pos, pos_weight)
    loss = pnp.negative(pnp.add(pos, pnp.multiply(pnp.subtract(1, target), logsigmoid(pnp.negative(input)))))
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return reduce_loss(loss, reduction)


@implements(F.nll_loss)
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    # input (N, C, d..) or (C,), target (N, d..) or ()
    cdim = 0 if ndim(input) == 1 else 1
    valid = pnp.not_equal(target, ignore_index)
    safe_t = pnp.where(valid, target, 0)
    picked = pnp.squeeze(pnp.take_along_axis(input, pnp.expand_dims(safe_t, cdim), axis=cdim), axis=cdim)
    w = pnp.astype(valid, float_of(input))
    if weight is not None:
        w = pnp.multiply(w, pnp.take(weight, safe_t, axis=0))
    loss = pnp.negative(pnp.multiply(picked, w))
    if reduction == "mean":
        return pnp.true_divide(pnp.sum(loss), pnp.sum(w))
    return reduce_loss(loss, reduction)


@implements(F.cross_entropy)
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    cdim = 0 if ndim(input) == 1 else 1
    logp = log_softmax(input, cdim)
    if is_int(target):
        nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
        if label_smoothing == 0.0:
            return nll
        c = shape(input)[cdim]
        valid = pnp.astype(pnp.not_equal(target, ignore_index), float_of(input))
        lw = logp if weight is None else pnp.multiply(
            logp, pnp.reshape(weight, (-1,) + (1,) * (ndim(input) - cdim - 1)))
        smooth = pnp.multiply(pnp.negative(pnp.sum(lw, axis=cdim)), valid)
        if reduction == "mean":
            if weight is None:
                smooth = pnp.true_divide(pnp.sum(smooth), pnp.sum(valid))
            else:
                safe_t = pnp.where(pnp.not_equal(target, ignore_index), target, 0)
                wsum = pnp.sum(pnp.multiply(pnp.take(weight, safe_t, axis=0), valid))
                smooth = pnp.true_divide(pnp.sum(smooth), wsum)
        else:
            smooth = reduce_loss(smooth, reduction)
        return pnp.add(pnp.multiply(nll, 1.0 - label_smoothing), pnp.multiply(smooth, label_smoothing / c))
    # class probabilities as targets
    c = shape(input)[cdim]
    if label_smoothing:
        target = pnp.add(pnp.multiply(target, 1.0 - label_smoothing), label_smoothing / c)
    prod = pnp.multiply(logp, target)
    if weight is not None:
        prod = pnp.multiply(prod, pnp.reshape(weight, (-1,) + (1,) * (ndim(input) - cdim - 1)))
    loss = pnp.negative(pnp.sum(prod, axis=cdim))
    if reduction == "mean":
        n = shape(input)[0] if ndim(input) > 1 else 1
        return pnp.true_divide(pnp.sum(loss), n * math.prod(shape(input)[2:]) if ndim(input) > 2 else n)
    return reduce_loss(loss, reduction)


@implements(F.kl_div)
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    if log_target:
        loss = pnp.multiply(pnp.exp(target), pnp.subtract(target, input))
    else:
        loss = pnp.subtract(xlogy(target, target), pnp.multiply(target, input))
    if reduction == "batchmean":
        return pnp.true_divide(pnp.sum(loss), shape(input)[0])
    return reduce_loss(loss, reduction)


def _no_grad_clamp_min(x, lo):
    """max(x, lo) in value, x in gradient (torch clamps these in place under no_grad)."""
    return pnp.add(x, ops.stop_gradient(pnp.subtract(pnp.maximum(x, lo), x)))


@implements(F.gaussian_nll_loss)
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if ndim(var) == ndim(input) - 1 or (ndim(var) == ndim(input) and shape(var)[-1] == 1
                                         and shape(input)[-1] != 1):
        var = var if ndim(var) == ndim(input) else pnp.expand_dims(var, -1)
    var = _no_grad_clamp_min(var, eps)
    d = pnp.subtract(input, target)
    loss = pnp.multiply(pnp.add(pnp.log(var), pnp.true_divide(pnp.multiply(d, d), var)), 0.5)
    if full:
        loss = pnp.add(loss, 0.5 * math.log(2 * math.pi))
    return reduce_loss(loss, reduction)


@implements(F.poisson_nll_loss, torch.poisson_nll_loss)
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    if log_input:
        loss = pnp.subtract(pnp.exp(input), pnp.multiply(target, input))
    else:
        loss = pnp.subtract(input, pnp.multiply(target, pnp.log(pnp.add(input, eps))))
    if full:   # Stirling's term where target > 1
        safe = pnp.where(pnp.greater(target, 1), target, 2.0)
        stirling = pnp.add(pnp.subtract(pnp.multiply(safe, pnp.log(safe)), safe),
                           pnp.multiply(pnp.log(pnp.multiply(safe, 2 * math.pi)), 0.5))
        loss = pnp.add(loss, pnp.where(pnp.greater(target, 1), stirling, 0.0))
    return reduce_loss(loss, reduction)


@implements(F.margin_ranking_loss, torch.margin_ranking_loss)
def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    loss = relu(pnp.add(pnp.multiply(pnp.negative(target), pnp.subtract(input1, input2)), margin))
    return reduce_loss(loss, reduction)


@implements(F.hinge_embedding_loss, torch.hinge_embedding_loss)
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    clamped = relu(pnp.subtract(margin, input))
    loss = pnp.add(pnp.where(pnp.not_equal(target, 1), clamped, 0.0),
                   pnp.where(pnp.not_equal(target, -1), input, 0.0))
    return reduce_loss(loss, reduction)


@implements(F.soft_margin_loss)
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return reduce_loss(softplus(pnp.negative(pnp.multiply(target, input))), reduction)


@implements(F.multilabel_soft_margin_loss)
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    loss = pnp.negative(pnp.add(pnp.multiply(target, logsigmoid(input)),
                                pnp.multiply(pnp.subtract(1, target), logsigmoid(pnp.negative(input)))))
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return reduce_loss(pnp.mean(loss, axis=-1), reduction)


@implements(F.cosine_embedding_loss)
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    eps = 1e-12            # torch's EPSILON here, added to each squared magnitude
    dot = pnp.sum(pnp.multiply(input1, input2), axis=-1)
    m1 = pnp.add(pnp.sum(pnp.multiply(input1, input1), axis=-1), eps)
    m2 = pnp.add(pnp.sum(pnp.multiply(input2, input2), axis=-1), eps)
    cos = pnp.true_divide(dot, pnp.sqrt(pnp.multiply(m1, m2)))
    loss = pnp.where(pnp.equal(target, 1), pnp.subtract(1, cos),
                     pnp.where(pnp.equal(target, -1), relu(pnp.subtract(cos, margin)), 0.0))
    return reduce_loss(loss, reduction)


@implements(F.triplet_margin_loss)
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = pnp.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss(relu(pnp.add(pnp.subtract(d_pos, d_neg), margin)), reduction)
