"""Distances and similarities of torch code on traced tensors."""
from __future__ import annotations

import torch
import torch.nn.functional as F

import polyfunc.numpy as pnp

from ..reductions import vector_norm
from ..registry import implements


@implements(F.pairwise_distance, torch.pairwise_distance)
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return vector_norm(pnp.add(pnp.subtract(x1, x2), eps), p, dim=-1, keepdim=keepdim)


@implements(F.cosine_similarity)
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    # torch: each side divided by its norm clamped at eps, then the dot product
    n1 = pnp.maximum(vector_norm(x1, 2, dim, keepdim=True), eps)
    n2 = pnp.maximum(vector_norm(x2, 2, dim, keepdim=True), eps)
    return pnp.sum(pnp.multiply(pnp.true_divide(x1, n1), pnp.true_divide(x2, n2)), axis=dim)


@implements(F.normalize)
def normalize(input, p=2.0, dim=1, eps=1e-12):
    n = vector_norm(input, p, dim, keepdim=True)
    return pnp.true_divide(input, pnp.maximum(n, eps))


@implements(torch.cdist)
def cdist(x1, x2, p=2.0, compute_mode=None):
    # (..., P, M) and (..., R, M) -> (..., P, R); a zero distance has gradient 0, as in torch
    d = pnp.subtract(pnp.expand_dims(x1, -2), pnp.expand_dims(x2, -3))
    return vector_norm(d, p, dim=-1)
