"""Declared gaps of polyfunc against torch's OpInfo database (read by tests/test_torch_opdb.py).

``XFAIL[(op, check, dtype)]`` (dtype ``None``: both) is a reason polyfunc disagrees with torch.func;
each becomes a strict xfail, so a fix turns it into an XPASS failure until the row goes.
``NOT_IN_OPDB[reason]`` lists mapped torch callables that op_db has no OpInfo for.
"""
from __future__ import annotations

XFAIL: dict[tuple[str, str, str | None], str] = {}

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
        "torch.nn.functional.lp_pool1d", "torch.nn.functional.lp_pool2d", "torch.nn.functional.upsample",
    ),
}
