"""The rectifier, relu(x) = max(x, 0), and its slope applied to a tangent, as two primitives.

relu is the activation of most networks, so it gets a kernel of its own rather than a
comparison and a select: each backend can then run one native kernel for it forward
(torch.relu) and one for its derivative (torch's threshold_backward), instead of a
comparison, a select and a zero.

* ``relu(x)`` -- x where x > 0, else 0.  NaN stays NaN.  Real numbers only (integers too).
* ``relu_grad(x, t)`` -- t where ``x <= 0`` is false, else 0: relu's derivative at ``x``
  applied to ``t``.  The derivative at the kink, x == 0, is 0 (as torch and JAX take it);
  where x is NaN, t passes (as torch's kernel does).  Linear in ``t`` and its own
  transpose (a diagonal mask); piecewise constant in ``x``, so ``x`` carries no tangent.

relu's jvp reads the mask off its output rather than its input: relu(x) <= 0 exactly where
x <= 0 (NaN stays NaN), and a reverse pass then keeps the output, which the next layer
needs anyway, instead of the input.  relu_grad's operands broadcast, and it batches, as the
binary elementwise primitives do."""
from __future__ import annotations

from ..avals import get_aval
from ..errors import DTypeError
from ..interpreters.batching import ElementwiseBatchRule
from ..primitive import Primitive, abstract_eval_rules as AE, batch_rules as BR, jvp_rules as JR, transpose_rules as TR
from .elementwise import _ae_elementwise, _batch_elementwise, _lin
from ..typing import Array, ArrayLike
from .structural import LinearArg

__all__ = ["relu", "relu_grad", "relu_p", "relu_grad_p"]

relu_p = Primitive("relu")
relu_grad_p = Primitive("relu_grad")


def relu(x: ArrayLike) -> Array:
    """max(x, 0) elementwise (NaN stays NaN); its derivative is 0 at x == 0."""
    _check_real("relu", get_aval(x))      # here too: an eager kernel runs without abstract evaluation
    return relu_p.bind(x)


def relu_grad(x: ArrayLike, t: ArrayLike) -> Array:
    """``t`` where ``x > 0`` (or x is NaN), 0 where ``x <= 0``: relu's derivative at x applied to t."""
    _check_real("relu_grad", get_aval(x), get_aval(t))
    return relu_grad_p.bind(x, t)


def _check_real(name, *avals):
    """A boolean or complex operand is a DTypeError naming the primitive (x <= 0 has no meaning
    for them, and torch's kernels refuse booleans)."""
    for a in avals:
        if a.dtype.kind not in "iuf":
            raise DTypeError(f"{name}: expected real numbers (integers or floats), got {a.dtype}; convert "
                             f"the operand first (e.g. astype(float32)), or for complex numbers apply it to "
                             f"the real and imaginary parts")


def _real_only(name, rule):
    """``rule`` (an elementwise abstract evaluation) for real numbers only."""
    def ae(*avals):
        out = rule(*avals)
        _check_real(name, *avals)
        return out
    return ae


# ------------------------------------------------------------------ relu
def _relu_jvp(primals, tangents):
    out = relu_p.bind(primals[0])
    t = tangents[0]
    return out, (None if t is None else relu_grad_p.bind(out, t))


AE[relu_p] = _real_only("relu", _ae_elementwise("relu"))
JR[relu_p] = _relu_jvp
BR[relu_p] = ElementwiseBatchRule(lambda v, d: (relu_p.bind(v[0]), d[0]))


# ------------------------------------------------------------------ relu_grad
def _relu_grad_jvp(primals, tangents):
    x, t = primals
    out = relu_grad_p.bind(x, t)
    tt = tangents[1]       # x only picks where t passes: no tangent of its own
    return out, (None if tt is None else relu_grad_p.bind(x, tt))


def _relu_grad_transpose(ct, x, t):
    if isinstance(x, LinearArg):
        raise TypeError("relu_grad is not linear in x (its first operand only picks where t passes)")
    return [None, _lin(relu_grad_p.bind(x, ct), t)]


AE[relu_grad_p] = _real_only("relu_grad", _ae_elementwise("relu_grad"))
JR[relu_grad_p] = _relu_grad_jvp
TR[relu_grad_p] = _relu_grad_transpose
BR[relu_grad_p] = _batch_elementwise(relu_grad_p)
