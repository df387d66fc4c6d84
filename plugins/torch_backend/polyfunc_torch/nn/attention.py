"""Attention of torch.nn.functional on traced tensors: scaled_dot_product_attention and
nn.MultiheadAttention's computation, and the mask helpers its modules call."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

import polyfunc.numpy as pnp
from polyfunc.plugin import Tracer

from ..arguments import ndim, shape
from ..dtypes import to_np_dtype
from ..reductions import softmax
from ..registry import implements


@implements(F.scaled_dot_product_attention)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    if dropout_p:
        raise NotImplementedError("scaled_dot_product_attention with dropout_p > 0 draws random numbers torch "
                                  "does not route through polyfunc; pass dropout_p=0.0 (e.g. in eval mode).")
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if enable_gqa and len(qs) >= 3:
        # grouped-query attention: each key (value) head serves several query heads
        hq, hk, hv = qs[-3], ks[-3], vs[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(f"scaled_dot_product_attention: the number of heads in key ({hk}) and value ({hv}) "
                               f"must divide the number of heads in query ({hq})")
        if hk != hq:
            key = pnp.repeat(key, hq // hk, axis=-3)
        if hv != hq:
            value = pnp.repeat(value, hq // hv, axis=-3)
    s = scale if scale is not None else 1.0 / math.sqrt(qs[-1])
    scores = pnp.multiply(pnp.matmul(query, pnp.swapaxes(key, -1, -2)), s)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
        attn_mask = pnp.tril(pnp.full_like(scores, True, dtype=bool)[..., :, :])
    if attn_mask is None:
        return pnp.matmul(softmax(scores, dim=-1), value)
    if to_np_dtype(attn_mask.dtype) == np.dtype(bool):
        scores = pnp.where(attn_mask, scores, float("-inf"))
    else:
        scores = pnp.add(scores, attn_mask)
    # a query that may attend to nothing gets zeros, as in torch, not 0/0 (and no NaN gradient)
    keep = pnp.any(pnp.greater(scores, float("-inf")), axis=-1, keepdims=True)
    probs = softmax(pnp.where(keep, scores, 0.0), dim=-1)
    return pnp.matmul(pnp.where(keep, probs, 0.0), value)


def _additive_mask(mask, like):
    """torch's canonical attention mask: a bool mask (True = may not attend) as -inf/0, a float one as is."""
    if to_np_dtype(mask.dtype) == np.dtype(bool):
        return pnp.where(mask, float("-inf"), pnp.zeros_like(like, shape=()))
    return mask


@implements(F.multi_head_attention_forward)
def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """nn.MultiheadAttention's computation, written out: projections, heads, masks, softmax, output."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward with static_k/static_v is not supported inside "
                                  "polyfunc transforms")
    if training and dropout_p:
        raise NotImplementedError("MultiheadAttention with dropout in training mode draws random numbers torch "
                                  "does not route through polyfunc; call .eval() or use dropout=0.")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint.")
    unbatched = ndim(query) == 2                # (L, E): a batch of one in the middle
    if unbatched:
        query, key, value = (pnp.expand_dims(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = pnp.expand_dims(key_padding_mask, 0)
    tgt, bsz, embed = shape(query)
    hd = embed // num_heads
    if use_separate_proj_weight:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
    else:
        wq, wk, wv = pnp.split(in_proj_weight, 3, axis=0)
    bq, bk, bv = pnp.split(in_proj_bias, 3, axis=0) if in_proj_bias is not None else (None, None, None)

    def proj(x, w, b):
        y = pnp.matmul(x, pnp.transpose(w))
        return y if b is None else pnp.add(y, b)
    q, k, v = proj(query, wq, bq), proj(key, wk, bk), proj(value, wv, bv)
    if attn_mask is not None:
        attn_mask = _additive_mask(attn_mask, q)
        if ndim(attn_mask) == 2:
            attn_mask = pnp.expand_dims(attn_mask, 0)                 # (1, L, S): the same for every head
    if key_padding_mask is not None:
        key_padding_mask = _additive_mask(key_padding_mask, q)
    if bias_k is not None:                       # one learned key/value appended to every sequence
        k = pnp.concatenate([k, pnp.broadcast_to(bias_k, (1, bsz, embed))], axis=0)
        v = pnp.concatenate([v, pnp.broadcast_to(bias_v, (1, bsz, embed))], axis=0)
        attn_mask = None if attn_mask is None else pnp.pad(attn_mask, [(0, 0), (0, 0), (0, 1)])
        key_padding_mask = None if key_padding_mask is None else pnp.pad(key_padding_mask, [(0, 0), (0, 1)])

    def heads(x):                                # (S, N, E) -> (N * H, S, hd)
        return pnp.swapaxes(pnp.reshape(x, (shape(x)[0], bsz * num_heads, hd)), 0, 1)
    q, k, v = heads(q), heads(k), heads(v)
    if add_zero_attn:                            # one all-zero key/value appended as well
        zeros = pnp.zeros_like(k[:, :1, :])
        k, v = pnp.concatenate([k, zeros], axis=1), pnp.concatenate([v, zeros], axis=1)
        attn_mask = None if attn_mask is None else pnp.pad(attn_mask, [(0, 0), (0, 0), (0, 1)])
        key_padding_mask = None if key_padding_mask is None else pnp.pad(key_padding_mask, [(0, 0), (0, 1)])
    src = shape(k)[1]
    scores = pnp.matmul(pnp.multiply(q, 1.0 / math.sqrt(hd)), pnp.swapaxes(k, 1, 2))      # (N * H, L, S)
    if attn_mask is not None:
        scores = pnp.add(scores, attn_mask)
    if key_padding_mask is not None:
        kpm = pnp.reshape(key_padding_mask, (bsz, 1, 1, src))
        scores = pnp.reshape(pnp.add(pnp.reshape(scores, (bsz, num_heads, tgt, src)), kpm),
                             (bsz * num_heads, tgt, src))
    if need_weights:
        weights = softmax(scores, dim=-1)      # torch's own path here: a row with nothing to attend to is NaN
    else:
        # torch takes scaled_dot_product_attention here, which gives such a row zeros
        keep = pnp.any(pnp.greater(scores, float("-inf")), axis=-1, keepdims=True)
        weights = pnp.where(keep, softmax(pnp.where(keep, scores, 0.0), dim=-1), 0.0)
    out = pnp.matmul(weights, v)                                                        # (N * H, L, hd)
    out = pnp.reshape(pnp.swapaxes(out, 0, 1), (tgt, bsz, embed))
    out = proj(out, out_proj_weight, out_proj_bias)
    if need_weights:
        weights = pnp.reshape(weights, (bsz, num_heads, tgt, src))
        if average_attn_weights:
            weights = pnp.mean(weights, axis=1)
        if unbatched:
            weights = pnp.squeeze(weights, axis=0)
    else:
        weights = None
    return (pnp.squeeze(out, axis=1) if unbatched else out), weights


@implements(getattr(torch, "_nested_tensor_from_mask_left_aligned", None))
def _nested_tensor_from_mask_left_aligned(*args, **kwargs):
    # nn.TransformerEncoder's fast path asks this; with a traced input the fast path is never taken
    return False


# ------------------------------------------------------------------ the mask helpers of torch's modules
# nn.MultiheadAttention and the Transformer layers turn bool masks into float ones with
# F._canonical_mask, which fills in place, and read mask dtypes with F._none_or_dtype, which
# accepts only torch.Tensor.  These plain Python functions never reach __torch_function__,
# so ``interception`` puts these out-of-place forms in their place while a transform runs;
# an untraced mask goes to torch's own function.
def canonical_mask(original):
    def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
        if not isinstance(mask, Tracer):
            return original(mask, mask_name, other_type, other_name, target_type, check_other)
        if mask.dtype == torch.bool:
            return pnp.where(mask, float("-inf"), pnp.zeros_like(mask, dtype=to_np_dtype(target_type), shape=()))
        if not mask.dtype.is_floating_point:
            raise AssertionError(f"only bool and floating types of {mask_name} are supported")
        return mask
    _canonical_mask.__wrapped__ = original
    return _canonical_mask


def none_or_dtype(original):
    def _none_or_dtype(input):
        return input.dtype if isinstance(input, Tracer) else original(input)
    _none_or_dtype.__wrapped__ = original
    return _none_or_dtype


# F's helper name -> the maker of its traced-aware form
MASK_HELPERS = {"_canonical_mask": canonical_mask, "_none_or_dtype": none_or_dtype}
