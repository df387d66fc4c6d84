"""Embeddings and one-hot encodings of torch.nn.functional on traced tensors."""
from __future__ import annotations

import numpy as np
import torch.nn.functional as F

import polyfunc as pf
import polyfunc.numpy as pnp

from ..arguments import float_of, shape
from ..registry import implements


@implements(F.embedding)
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) renormalises the weight in place; not traceable")
    rows = pnp.take(weight, input, axis=0)
    if scale_grad_by_freq:
        # torch divides each row's gradient by how often its index occurs in input; the value is unchanged
        flat = pnp.reshape(input, (-1,))
        count = pnp.sum(pnp.equal(pnp.expand_dims(input, -1), flat), axis=-1, keepdims=True)
        sg = pf.stop_gradient(rows)
        rows = pnp.add(sg, pnp.true_divide(pnp.subtract(rows, sg), pnp.astype(count, float_of(rows))))
    if padding_idx is not None:
        n = shape(weight)[0]
        pi = padding_idx + n if padding_idx < 0 else padding_idx
        if not 0 <= pi < n:
            raise AssertionError("Padding_idx must be within num_embeddings")
        # the padding row gets no gradient (torch's rule), its value is read as usual
        rows = pnp.where(pnp.expand_dims(pnp.equal(input, pi), -1), pf.stop_gradient(rows), rows)
    return rows


@implements(F.one_hot)
def one_hot(tensor, num_classes=-1):
    if num_classes < 0:
        raise TypeError("one_hot: num_classes must be given inside polyfunc transforms (the maximum of a "
                        "traced tensor is not known while tracing)")
    classes = pnp.arange(num_classes, dtype=np.int64, like=tensor)
    return pnp.astype(pnp.equal(pnp.expand_dims(tensor, -1), classes), np.int64)
