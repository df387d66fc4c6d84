"""More of torch.nn.functional on traced tensors: activations, pixel shuffles, distances and
losses, each written with polyfunc.numpy and the helpers of ``native`` so every transform
sees ordinary primitives.  Merged into the native map by ``native._table``."""
from __future__ import annotations

import math

import polyfunc.numpy as pnp
from polyfunc import ops

from . import native as N


# ------------------------------------------------------------------ activations
def hardsigmoid(input, inplace=False):
    return pnp.true_divide(N.relu6(pnp.add(input, 3.0)), 6.0)


def hardswish(input, inplace=False):
    return pnp.multiply(input, hardsigmoid(input))


def glu(input, dim=-1):
    a, b = pnp.split(input, 2, axis=dim)
    return pnp.multiply(a, ops.logistic(b))


def prelu(input, weight):
    w = weight
    if N._ndim(weight) == 1 and N._shape(weight)[0] > 1 and N._ndim(input) >= 2:
        w = pnp.reshape(weight, (-1,) + (1,) * (N._ndim(input) - 2))      # one slope per channel (dim 1)
    elif N._ndim(weight) == 1:
        w = pnp.reshape(weight, ())
    # at 0 the slope's branch, as in torch
    return pnp.where(pnp.greater(input, 0), input, pnp.multiply(w, input))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return N.softmax(pnp.negative(input), dim=dim, dtype=dtype)


# ------------------------------------------------------------------ pixel shuffles
def pixel_shuffle(input, upscale_factor):
    r = upscale_factor
    *lead, c, h, w = N._shape(input)
    x = pnp.reshape(input, tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = pnp.transpose(x, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return pnp.reshape(x, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    r = downscale_factor
    *lead, c, h, w = N._shape(input)
    x = pnp.reshape(input, tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    x = pnp.transpose(x, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return pnp.reshape(x, tuple(lead) + (c * r * r, h // r, w // r))


# ------------------------------------------------------------------ distances
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return N.vector_norm(pnp.add(pnp.subtract(x1, x2), eps), p, dim=-1, keepdim=keepdim)


# ------------------------------------------------------------------ losses
def _no_grad_clamp_min(x, lo):
    """max(x, lo) in value, x in gradient (torch clamps these in place under no_grad)."""
    return pnp.add(x, ops.stop_gradient(pnp.subtract(pnp.maximum(x, lo), x)))


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if N._ndim(var) == N._ndim(input) - 1 or (N._ndim(var) == N._ndim(input) and N._shape(var)[-1] == 1
                                               and N._shape(input)[-1] != 1):
        var = var if N._ndim(var) == N._ndim(input) else pnp.expand_dims(var, -1)
    var = _no_grad_clamp_min(var, eps)
    d = pnp.subtract(input, target)
    loss = pnp.multiply(pnp.add(pnp.log(var), pnp.true_divide(pnp.multiply(d, d), var)), 0.5)
    if full:
        loss = pnp.add(loss, 0.5 * math.log(2 * math.pi))
    return N._reduction(loss, reduction)


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
    return N._reduction(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    loss = N.relu(pnp.add(pnp.multiply(pnp.negative(target), pnp.subtract(input1, input2)), margin))
    return N._reduction(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    clamped = N.relu(pnp.subtract(margin, input))
    loss = pnp.add(pnp.where(pnp.not_equal(target, 1), clamped, 0.0),
                   pnp.where(pnp.not_equal(target, -1), input, 0.0))
    return N._reduction(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return N._reduction(N.softplus(pnp.negative(pnp.multiply(target, input))), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    loss = pnp.negative(pnp.add(pnp.multiply(target, N.logsigmoid(input)),
                                pnp.multiply(pnp.subtract(1, target), N.logsigmoid(pnp.negative(input)))))
    if weight is not None:
        loss = pnp.multiply(loss, weight)
    return N._reduction(pnp.mean(loss, axis=-1), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    eps = 1e-12            # torch's EPSILON here, added to each squared magnitude
    dot = pnp.sum(pnp.multiply(input1, input2), axis=-1)
    m1 = pnp.add(pnp.sum(pnp.multiply(input1, input1), axis=-1), eps)
    m2 = pnp.add(pnp.sum(pnp.multiply(input2, input2), axis=-1), eps)
    cos = pnp.true_divide(dot, pnp.sqrt(pnp.multiply(m1, m2)))
    loss = pnp.where(pnp.equal(target, 1), pnp.subtract(1, cos),
                     pnp.where(pnp.equal(target, -1), N.relu(pnp.subtract(cos, margin)), 0.0))
    return N._reduction(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = pnp.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return N._reduction(N.relu(pnp.add(pnp.subtract(d_pos, d_neg), margin)), reduction)


FUNCTIONAL = {
    "hardsigmoid": hardsigmoid, "hardswish": hardswish, "glu": glu, "prelu": prelu, "softmin": softmin,
    "pixel_shuffle": pixel_shuffle, "pixel_unshuffle": pixel_unshuffle, "pairwise_distance": pairwise_distance,
    "gaussian_nll_loss": gaussian_nll_loss, "poisson_nll_loss": poisson_nll_loss,
    "margin_ranking_loss": margin_ranking_loss, "hinge_embedding_loss": hinge_embedding_loss,
    "soft_margin_loss": soft_margin_loss, "multilabel_soft_margin_loss": multilabel_soft_margin_loss,
    "cosine_embedding_loss": cosine_embedding_loss, "triplet_margin_loss": triplet_margin_loss,
}
# the torch.* spellings of some of them
TORCH = {"pixel_shuffle": pixel_shuffle, "pixel_unshuffle": pixel_unshuffle, "prelu": prelu,
         "pairwise_distance": pairwise_distance, "hinge_embedding_loss": hinge_embedding_loss,
         "margin_ranking_loss": margin_ranking_loss, "poisson_nll_loss": poisson_nll_loss}
