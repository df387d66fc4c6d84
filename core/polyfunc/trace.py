"""Traces, tracers and abstract values (stackless, as in JAX).

The current trace lives in a context variable (``interpreters.eval``).  A
transform makes a trace whose parent is the trace that was current, and runs
the user's function with its own trace current.  A tracer belongs to exactly
one trace; a tracer of any other trace is an opaque constant there.  When a
trace handles a primitive it makes its parent current while the rule runs, so
the rule's own ``bind`` calls land one level up.  That is all it takes for
``grad(grad(f))`` and ``vmap(grad(f))`` to keep their perturbations apart.

This module knows no backend and no user-level module: a tracer's operators
and array methods are installed by ``polyfunc.numpy`` (``install_methods``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from .errors import ConcretizationError

__all__ = ["ShapedArray", "Trace", "Tracer", "base_value", "install_methods"]

class ShapedArray:
    """The abstract value of an array: shape and (numpy) dtype.

    ``weak`` marks a Python scalar, whose dtype yields to the array it meets.
    """

    __slots__ = ("shape", "dtype", "weak")

    def __init__(self, shape: tuple, dtype: Any, weak: bool = False):
        self.shape = shape
        self.dtype = dtype
        self.weak = weak

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return f"{self.dtype}{list(self.shape)}"

    def str_short(self) -> str:
        return f"{self.dtype}{list(self.shape)}"


class Trace:
    """A transform's interpreter.  Subclasses implement ``process``."""

    transform = "trace"

    def __init__(self, parent: Trace | None):
        self.parent = parent

    def process(self, prim: Any, args: Any, params: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


def base_value(x: Any) -> Any:
    """The value under ``x``'s chain of tracers: a concrete array, a Python scalar, or the
    first tracer that wraps no value (a graph variable)."""
    name = getattr(x.__class__, "_wraps", None)
    while name is not None:
        x = getattr(x, name)
        name = getattr(x.__class__, "_wraps", None)
    return x


class Tracer:
    """A value under a transform.  Behaves like an array: its operators, ``.shape``/``.dtype``,
    indexing, methods and NumPy's and torch's function-override protocols are installed by
    ``polyfunc.numpy`` (see ``install_methods``); this class holds what every tracer has."""

    __slots__ = ("_trace", "__weakref__")   # weak references: torch modules keep them to their weights
    __array_priority__ = 1000
    # the attribute holding the value this tracer wraps (a JVP tracer's primal, a batch
    # tracer's batched value), or None when there is none (a graph variable); see base_value
    _wraps: str | None = None
    _trace: Trace

    if TYPE_CHECKING:   # installed by polyfunc.numpy (install_methods); declared for type checkers
        shape: Any
        dtype: Any
        size: Any

        def __getitem__(self, idx: Any) -> Any: ...
        def __getattr__(self, name: str) -> Any: ...

    @property
    def aval(self) -> ShapedArray:  # pragma: no cover
        raise NotImplementedError

    def _backend(self) -> Any:
        """The backend of the value this tracer stands for, or None if its trace does not know."""
        return None

    def concrete(self) -> Any:
        """The concrete value behind this tracer, for Python control flow."""
        raise ConcretizationError(
            f"a value traced by `{self._trace.transform}` has no concrete value here, so "
            f"Python control flow (if/while, bool(), float(), int(), .item()) cannot use it. "
            f"Use polyfunc.numpy.where(cond, a, b) to choose between values instead.")

    ndim = property(lambda self: len(self.aval.shape))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Any:
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool: return bool(self.concrete())
    def __float__(self) -> float: return float(self.concrete())
    def __int__(self) -> int: return int(self.concrete())
    def __index__(self) -> int: return int(self.concrete())
    def __complex__(self) -> complex: return complex(self.concrete())
    def item(self) -> Any: return self.concrete().item()
    def tolist(self) -> Any: return self.concrete().tolist()

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self._trace.transform}>({self.aval})"

    # the installed __eq__ compares elementwise; tracers stay hashable by identity
    __hash__ = object.__hash__

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TypeError(
            f"in-place assignment x[...] = v on a value traced by `{self._trace.transform}` "
            f"is not supported; use the out-of-place form "
            f"polyfunc.numpy.index_update(x, idx, v) (or where(...)).")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise ConcretizationError(
            f"a value traced by `{self._trace.transform}` cannot become a concrete NumPy array "
            f"inside the transform. If NumPy code that does not dispatch asked for it, use the "
            f"polyfunc.numpy form: pnp.dot(a, traced) for ndarray.dot(traced), pnp.take(table, traced, "
            f"axis=0) for table[traced]; to get the value out, return it from the function "
            f"(use has_aux=True for extra outputs).")


# what makes a tracer a tracer: a method table may not replace these
_CORE = frozenset({"aval", "concrete", "_trace", "_wraps", "_backend", "__slots__", "__weakref__",
                   "__init__", "__hash__", "__setitem__", "__array__", "__repr__"})


def install_methods(methods: Mapping[str, Any]) -> None:
    """Give every tracer the operators, methods and properties in ``methods`` (name -> function,
    property or classmethod).  ``polyfunc.numpy`` installs NumPy's semantics when it is imported;
    the methods it installs defer to a backend's own (``polyfunc_native_functions``) where the
    array's library has its own method semantics.  The attributes become class attributes, so
    a call costs what a method defined in the class costs."""
    for name, value in methods.items():
        if name in _CORE:
            raise ValueError(f"install_methods: {name!r} is part of what a tracer is and cannot be replaced")
        setattr(Tracer, name, value)
