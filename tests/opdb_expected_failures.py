"""Declared gaps of polyfunc against torch's OpInfo database (read by tests/test_torch_opdb.py).

``XFAIL[(op, check, dtype)]`` (dtype ``None``: both) is a reason polyfunc disagrees with torch.func;
each becomes a strict xfail, so a fix turns it into an XPASS failure until the row goes.
``NOT_IN_OPDB[reason]`` lists mapped torch callables that op_db has no OpInfo for.
"""
from __future__ import annotations

# why polyfunc differs from torch.func, one reason per op
ADDBMM = ("float32 jvp differs from torch.func's beyond rtol 1e-4 (float64 matches): float32 rounding of the "
    "batched matmul sum")
CDIST = "p=0 (a count of non-zeros) divides by zero: polyfunc's p-norm takes the 1/p root"
FLOAT_POWER = "torch.float_power computes and returns float64 for float32 input; polyfunc's stays float32"
INDEX_ADD = "0-d input with dim=0 (torch treats it as one dim of size 1): polyfunc's index_add does not"
INDEX_SELECT = "0-d input with dim=0 (torch treats it as one dim of size 1): polyfunc's index_select does not"
LOGCUMSUMEXP = "the derivative differs from torch.func's on op_db's sample; not yet investigated"
MEDIAN = "0-d input with dim=0 (torch treats it as one dim of size 1): polyfunc's median does not"
NN_FUNCTIONAL_ADAPTIVE_MAX_POOL2D = "F.adaptive_max_pool2d calls adaptive_max_pool2d_with_indices, which is not mapped"
NN_FUNCTIONAL_BATCH_NORM = ("training mode updates the running statistics in place, which polyfunc refuses (the in-place part of "
    "issue #10)")
NN_FUNCTIONAL_INSTANCE_NORM = ("training mode updates the running statistics in place, which polyfunc refuses (the in-place part of "
    "issue #10)")
NN_FUNCTIONAL_INTERPOLATE_AREA = "mode='area' is supported for 4-D input only"
NN_FUNCTIONAL_INTERPOLATE_BICUBIC = "mode='bicubic' is not supported"
NN_FUNCTIONAL_MULTI_HEAD_ATTENTION_FORWARD = ("op_db's samples use training-mode dropout, whose draws torch does not route through polyfunc; "
    "refused")
NN_FUNCTIONAL_PAD_REPLICATE_NEGATIVE = "negative padding (cropping) is refused"
NN_FUNCTIONAL_SOFT_MARGIN_LOSS = ("the harness differentiates every float argument and torch (torch.func and autograd) refuses a "
    "derivative w.r.t. target, so there is no reference for polyfunc's")
NORM = "p=0 (a count of non-zeros) divides by zero: polyfunc's p-norm takes the 1/p root"
NORM_NUC = "the nuclear norm needs singular values, which polyfunc has no primitive for"
QUANTILE = "0-d input with dim=0 (torch treats it as one dim of size 1): polyfunc's quantile does not"
RESIZE_ = "an in-place op, refused (the in-place part of issue #10)"
RESIZE_AS_ = "an in-place op torch.resize_as_ is not mapped (the in-place part of issue #10)"
SCATTER = "scatter(reduce='add') is refused under transforms"
ZERO_ = "an in-place op, refused (the in-place part of issue #10)"

NEW_POOL = ("mapped by main's convolution merge (nn/convolution.py) after this table was classified; fails on "
    "op_db's samples, cause not yet classified")

XFAIL: dict[tuple[str, str, str | None], str] = {
    # nn.functional.adaptive_max_pool1d / 3d
    ("nn.functional.adaptive_max_pool1d", "vmap0", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool1d", "vmap-1", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool1d", "vjp", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool1d", "jvp", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool3d", "vmap0", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool3d", "vmap-1", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool3d", "vjp", None): NEW_POOL,
    ("nn.functional.adaptive_max_pool3d", "jvp", None): NEW_POOL,
    # addbmm
    ("addbmm", "jvp", "float32"): ADDBMM,
    # cdist
    ("cdist", "vjp", None): CDIST,
    ("cdist", "vmap-1", None): CDIST,
    ("cdist", "vmap0", None): CDIST,
    # float_power
    ("float_power", "jvp", "float32"): FLOAT_POWER,
    ("float_power", "vjp", "float32"): FLOAT_POWER,
    ("float_power", "vmap-1", "float32"): FLOAT_POWER,
    ("float_power", "vmap0", "float32"): FLOAT_POWER,
    # index_add
    ("index_add", "jvp", None): INDEX_ADD,
    ("index_add", "vjp", None): INDEX_ADD,
    ("index_add", "vmap-1", None): INDEX_ADD,
    ("index_add", "vmap0", None): INDEX_ADD,
    # index_select
    ("index_select", "jvp", None): INDEX_SELECT,
    ("index_select", "vjp", None): INDEX_SELECT,
    ("index_select", "vmap-1", None): INDEX_SELECT,
    ("index_select", "vmap0", None): INDEX_SELECT,
    # logcumsumexp
    ("logcumsumexp", "jvp", None): LOGCUMSUMEXP,
    ("logcumsumexp", "vjp", "float32"): LOGCUMSUMEXP,
    # median
    ("median", "jvp", None): MEDIAN,
    ("median", "vjp", None): MEDIAN,
    ("median", "vmap-1", None): MEDIAN,
    ("median", "vmap0", None): MEDIAN,
    # nn.functional.adaptive_max_pool2d
    ("nn.functional.adaptive_max_pool2d", "jvp", None): NN_FUNCTIONAL_ADAPTIVE_MAX_POOL2D,
    ("nn.functional.adaptive_max_pool2d", "vjp", None): NN_FUNCTIONAL_ADAPTIVE_MAX_POOL2D,
    ("nn.functional.adaptive_max_pool2d", "vmap-1", None): NN_FUNCTIONAL_ADAPTIVE_MAX_POOL2D,
    ("nn.functional.adaptive_max_pool2d", "vmap0", None): NN_FUNCTIONAL_ADAPTIVE_MAX_POOL2D,
    # nn.functional.batch_norm
    ("nn.functional.batch_norm", "jvp", None): NN_FUNCTIONAL_BATCH_NORM,
    ("nn.functional.batch_norm", "vjp", None): NN_FUNCTIONAL_BATCH_NORM,
    ("nn.functional.batch_norm", "vmap-1", None): NN_FUNCTIONAL_BATCH_NORM,
    ("nn.functional.batch_norm", "vmap0", None): NN_FUNCTIONAL_BATCH_NORM,
    # nn.functional.instance_norm
    ("nn.functional.instance_norm", "jvp", None): NN_FUNCTIONAL_INSTANCE_NORM,
    ("nn.functional.instance_norm", "vjp", None): NN_FUNCTIONAL_INSTANCE_NORM,
    # nn.functional.interpolate.area
    ("nn.functional.interpolate.area", "jvp", None): NN_FUNCTIONAL_INTERPOLATE_AREA,
    ("nn.functional.interpolate.area", "vjp", None): NN_FUNCTIONAL_INTERPOLATE_AREA,
    ("nn.functional.interpolate.area", "vmap-1", None): NN_FUNCTIONAL_INTERPOLATE_AREA,
    ("nn.functional.interpolate.area", "vmap0", None): NN_FUNCTIONAL_INTERPOLATE_AREA,
    # nn.functional.interpolate.bicubic
    ("nn.functional.interpolate.bicubic", "jvp", None): NN_FUNCTIONAL_INTERPOLATE_BICUBIC,
    ("nn.functional.interpolate.bicubic", "vjp", None): NN_FUNCTIONAL_INTERPOLATE_BICUBIC,
    ("nn.functional.interpolate.bicubic", "vmap-1", None): NN_FUNCTIONAL_INTERPOLATE_BICUBIC,
    ("nn.functional.interpolate.bicubic", "vmap0", None): NN_FUNCTIONAL_INTERPOLATE_BICUBIC,
    # nn.functional.multi_head_attention_forward
    ("nn.functional.multi_head_attention_forward", "jvp", None): NN_FUNCTIONAL_MULTI_HEAD_ATTENTION_FORWARD,
    ("nn.functional.multi_head_attention_forward", "vjp", None): NN_FUNCTIONAL_MULTI_HEAD_ATTENTION_FORWARD,
    # nn.functional.pad.replicate_negative
    ("nn.functional.pad.replicate_negative", "jvp", None): NN_FUNCTIONAL_PAD_REPLICATE_NEGATIVE,
    ("nn.functional.pad.replicate_negative", "vjp", None): NN_FUNCTIONAL_PAD_REPLICATE_NEGATIVE,
    ("nn.functional.pad.replicate_negative", "vmap-1", None): NN_FUNCTIONAL_PAD_REPLICATE_NEGATIVE,
    ("nn.functional.pad.replicate_negative", "vmap0", None): NN_FUNCTIONAL_PAD_REPLICATE_NEGATIVE,
    # nn.functional.soft_margin_loss
    ("nn.functional.soft_margin_loss", "jvp", None): NN_FUNCTIONAL_SOFT_MARGIN_LOSS,
    ("nn.functional.soft_margin_loss", "vjp", None): NN_FUNCTIONAL_SOFT_MARGIN_LOSS,
    # norm
    ("norm", "jvp", None): NORM,
    ("norm", "vjp", None): NORM,
    ("norm", "vmap-1", None): NORM,
    ("norm", "vmap0", None): NORM,
    # norm.nuc
    ("norm.nuc", "jvp", None): NORM_NUC,
    ("norm.nuc", "vjp", None): NORM_NUC,
    ("norm.nuc", "vmap-1", None): NORM_NUC,
    ("norm.nuc", "vmap0", None): NORM_NUC,
    # quantile
    ("quantile", "jvp", None): QUANTILE,
    ("quantile", "vjp", None): QUANTILE,
    ("quantile", "vmap-1", None): QUANTILE,
    ("quantile", "vmap0", None): QUANTILE,
    # resize_
    ("resize_", "vmap-1", None): RESIZE_,
    ("resize_", "vmap0", None): RESIZE_,
    # resize_as_
    ("resize_as_", "vmap-1", None): RESIZE_AS_,
    ("resize_as_", "vmap0", None): RESIZE_AS_,
    # scatter
    ("scatter", "vmap-1", None): SCATTER,
    ("scatter", "vmap0", None): SCATTER,
    # zero_
    ("zero_", "jvp", None): ZERO_,
    ("zero_", "vjp", None): ZERO_,
    ("zero_", "vmap-1", None): ZERO_,
    ("zero_", "vmap0", None): ZERO_,
}

# op_db ops whose samples have no float tensor argument, so no transform has anything to act on
NOTHING_TO_TRANSFORM: dict[str, str] = {
    "normal.number_mean": ("torch.normal(float mean, float std, size): a factory; tests/test_torch_randomness.py "
                           "checks it under vmap's randomness"),
}

NOT_IN_OPDB: dict[str, tuple[str, ...]] = {
    # x + y calls Tensor.__add__, which calls torch.add: op_db tests the named op (and the
    # reflected __radd__ forms, which it lists); torch.pow here is Tensor.__pow__'s function
    "an operator's dunder; op_db tests the op it names": (
        "Tensor.__add__", "Tensor.__and__", "Tensor.__div__", "Tensor.__eq__", "Tensor.__floordiv__",
        "Tensor.__ge__", "Tensor.__gt__", "Tensor.__invert__", "Tensor.__le__", "Tensor.__lt__",
        "Tensor.__matmul__", "Tensor.__mod__", "Tensor.__mul__", "Tensor.__ne__", "Tensor.__or__",
        "Tensor.__rfloordiv__", "Tensor.__sub__", "Tensor.__truediv__", "Tensor.__xor__", "method.__add__",
        "method.__and__", "method.__div__", "method.__eq__", "method.__floordiv__", "method.__ge__",
        "method.__gt__", "method.__invert__", "method.__le__", "method.__lt__", "method.__matmul__",
        "method.__mod__", "method.__mul__", "method.__ne__", "method.__or__", "method.__rfloordiv__",
        "method.__sub__", "method.__truediv__", "method.__xor__", "method.__pow__", "torch.pow",
    ),
    "item assignment, an in-place write; tests/test_torch_ops.py checks the map refuses it": ("Tensor.__setitem__",),
    "a metadata read or a device / dtype conversion, not a numerical op; tests/test_torch_ops.py runs it": (
        "Tensor.cpu", "Tensor.cuda", "Tensor.detach", "Tensor.dim", "Tensor.is_floating_point",
        "Tensor.ndimension", "Tensor.nelement", "Tensor.numel", "Tensor.type", "Tensor.type_as",
        "Tensor.new_tensor", "method.cpu", "method.cuda", "method.detach", "method.dim",
        "method.is_floating_point", "method.ndimension", "method.nelement", "method.numel", "method.type",
        "method.type_as", "method.new_tensor", "torch.detach", "torch.is_floating_point",
    ),
    "another name of an op_db op (nn.functional.relu, linalg.slogdet)": (
        "Tensor.relu", "method.relu", "torch.relu", "Tensor.slogdet", "method.slogdet", "torch.slogdet",
    ),
    "an internal function nn modules call (nn.LSTM, nn.GRU, nn.RNN and cells, nn.MultiheadAttention); op_db has "
    "no OpInfo, tests/test_torch_ops.py runs the modules": (
        "torch.gru", "torch.gru_cell", "torch.lstm", "torch.lstm_cell", "torch.rnn_relu", "torch.rnn_relu_cell",
        "torch.rnn_tanh", "torch.rnn_tanh_cell", "torch._nested_tensor_from_mask_left_aligned",
    ),
    "the aten function torch.nn.functional's loss calls; op_db tests the nn.functional form": (
        "torch.hinge_embedding_loss", "torch.margin_ranking_loss", "torch.poisson_nll_loss",
    ),
    "op_db (torch 2.13) has no OpInfo for it; tests/test_torch_ops.py checks it": (
        "torch.nn.functional.lp_pool1d", "torch.nn.functional.lp_pool2d", "torch.nn.functional.lp_pool3d",
        "torch.nn.functional.upsample",
    ),
    "the function F.max_poolNd(return_indices=True) calls; op_db tests that form, tests/test_torch_ops.py this one": (
        "torch.nn.functional.max_pool1d_with_indices", "torch.nn.functional.max_pool2d_with_indices",
        "torch.nn.functional.max_pool3d_with_indices",
    ),
    "a random factory without a tensor argument; tests/test_torch_randomness.py checks it under vmap's randomness": (
        "torch.randperm",
    ),
    "a dtype computation, not an op on values; tests/test_torch_parity.py checks it on traced values": (
        "torch.result_type",
    ),
}
