"""Traces, tracers and the current-trace context (stackless, as in JAX).

The current trace lives in a context variable.  A transform makes a trace
whose parent is the trace that was current, and runs the user's function with
its own trace current.  A tracer belongs to exactly one trace; a tracer of any
other trace is an opaque constant there.  When a trace handles a primitive it
makes its parent current while the rule runs, so the rule's own ``bind`` calls
land one level up.  That is all it takes for ``grad(grad(f))`` and
``vmap(grad(f))`` to keep their perturbations apart.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Any, Iterator

from .errors import BackendError, ConcretizationError, MissingKernelError

__all__ = ["ShapedArray", "Trace", "Tracer", "EvalTrace", "get_aval", "current_trace", "set_trace"]


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

    def __init__(self, parent: "Trace"):
        self.parent = parent

    def process(self, prim, args: tuple, params: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


_backends = None  # the backends module, bound lazily to keep imports acyclic
_type_owner_get = None   # backends.type_owner.get and backends.UNKNOWN, bound with it (hot path)
_UNKNOWN = None


_native_seen = [False]   # backends.native_seen once bound: has a library with its own method semantics appeared?


def _backends_mod():
    global _backends, _type_owner_get, _UNKNOWN, _native_seen
    if _backends is None:
        import importlib
        _b = importlib.import_module(__package__ + ".backends")
        _type_owner_get, _UNKNOWN = _b.type_owner.get, _b.UNKNOWN
        _native_seen = _b.native_seen
        _backends = _b
    return _backends


class EvalTrace(Trace):
    """The root trace: runs the kernel of the backend that owns the arguments."""

    transform = "eval"

    def __init__(self):
        self.parent = None

    def process(self, prim, args, params):
        owner = None
        for a in args:
            b = _type_owner_get(a.__class__, _UNKNOWN)
            if b is not owner:
                if b is _UNKNOWN:
                    b = _backends_mod().owner_of(a, prim)
                    if b is None or b is owner:
                        continue
                elif b is None:      # a Python scalar
                    continue
                if owner is not None:
                    raise BackendError(
                        f"{prim.name}: arrays of two backends meet in one operation: "
                        f"{owner.name!r} and {b.name!r}. polyfunc never copies between "
                        f"backends silently; convert one side first, e.g. "
                        f"polyfunc.numpy.asarray(x, backend={owner.name!r}).")
                owner = b
        if owner is None:
            owner = _backends_mod().current_backend()
            # only Python scalars (a derivative of f at a Python float): arrays of the current backend,
            # since not every backend's kernels take bare scalars (torch.sin(0.3) is an error)
            args = tuple(owner.asarray(a) for a in args)
        kernel = owner.kernels.get(prim.name)
        if kernel is None:
            if prim.impl is not None:
                return prim.impl(*args, **params)
            raise MissingKernelError(
                f"backend {owner.name!r} has no kernel for primitive {prim.name!r}. "
                f"Use another backend (polyfunc.use_backend(...)) or register a kernel "
                f"for it in the backend plugin.")
        try:
            return kernel(*args, **params)
        except Exception as e:
            # eager mode skips shape checks for speed; on failure, let the abstract
            # rule explain what was wrong in our words, else surface the kernel's error
            _explain(prim, args, params, e)
            raise


def _explain(prim, args, params, err):
    from .errors import PolyfuncError
    from .primitive import abstract_eval_rules
    rule = abstract_eval_rules.get(prim)
    if rule is None or isinstance(err, PolyfuncError):
        return
    try:
        rule(*[get_aval(a) for a in args], **params)
    except PolyfuncError as ours:
        raise ours from err
    except Exception:
        return


EVAL = EvalTrace()
_current: ContextVar[Trace] = ContextVar("polyfunc_current_trace", default=EVAL)


def current_trace() -> Trace:
    return _current.get()


@contextlib.contextmanager
def set_trace(trace: Trace) -> Iterator[Trace]:
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


_PY_SCALAR_DTYPES: dict = {}


_aval_of_type: dict = {}   # class -> function(x) -> ShapedArray; the hot path is one lookup


def get_aval(x: Any) -> ShapedArray:
    """Shape and dtype of an array, tracer or Python scalar."""
    fn = _aval_of_type.get(x.__class__)
    if fn is not None:
        return fn(x)
    return _aval_slow(x)


def _aval_slow(x: Any) -> ShapedArray:
    cls = x.__class__
    if isinstance(x, Tracer):
        prop = getattr(cls, "aval", None)
        # the class's own property getter: one call fewer on a hot path
        fn = prop.fget if isinstance(prop, property) else _tracer_aval
    elif cls in _PY_SCALAR_DTYPES:
        dt = _PY_SCALAR_DTYPES[cls]
        fn = lambda _x, _dt=dt: ShapedArray((), _dt, weak=True)  # noqa: E731
    else:
        bmod = _backends_mod()
        b = bmod.type_owner.get(cls, bmod.UNKNOWN)
        if b is bmod.UNKNOWN or b is None:
            b = bmod.owner_of(x, None)
        if b is None:
            raise TypeError(f"{x!r} of type {cls.__name__} is not an array any installed backend owns; "
                            f"convert it with polyfunc.numpy.asarray first.")
        fn = b.aval
    _aval_of_type[cls] = fn
    return fn(x)


def base_value(x: Any) -> Any:
    """The value under ``x``'s chain of tracers: a concrete array, a Python scalar, or the
    first tracer that wraps no value (a graph variable)."""
    name = getattr(x.__class__, "_wraps", None)
    while name is not None:
        x = getattr(x, name)
        name = getattr(x.__class__, "_wraps", None)
    return x


def _tracer_aval(x):
    return x.aval


def _init_scalar_dtypes() -> None:
    import numpy as np  # dtypes only
    _PY_SCALAR_DTYPES.update({bool: np.dtype(bool), int: np.dtype(np.int64),
                              float: np.dtype(np.float64), complex: np.dtype(np.complex128)})


_init_scalar_dtypes()


def _pnp():
    from . import numpy as pnp
    return pnp


_NOT_SET = object()


class _Size(int):
    """``x.size``: an int (NumPy's attribute) that can also be called (torch's ``x.size(dim)``)."""

    def __new__(cls, n, shape):
        obj = super().__new__(cls, n)
        obj._shape = shape
        return obj

    def __call__(self, dim=None):
        return self._shape if dim is None else self._shape[dim]


def _inplace_sort():
    raise TypeError("ndarray.sort() sorts in place, which a traced array cannot do; use "
                    "polyfunc.numpy.sort(x, axis) (it returns the sorted copy).")


def _numpy_or_native(name, numpy_impl):
    """A tracer method with NumPy's semantics, unless the array's library has its own (torch)."""
    def method(self, *args, **kwargs):
        fn = self._native_method(name)
        if fn is not None:
            return fn(self, *args, **kwargs)
        return numpy_impl(self, *args, **kwargs)
    method.__name__ = name
    return method


class Tracer:
    """A value under a transform.  Behaves like an array: operators, indexing,
    ``.shape``/``.dtype``, the common methods, and NumPy's and torch's
    function-override protocols."""

    __slots__ = ("_trace", "__weakref__")   # weak references: torch modules keep them to their weights
    __array_priority__ = 1000
    # the attribute holding the value this tracer wraps (a JVP tracer's primal, a batch
    # tracer's batched value), or None when there is none (a graph variable); see base_value
    _wraps: str | None = None

    @property
    def aval(self) -> ShapedArray:  # pragma: no cover
        raise NotImplementedError

    def concrete(self) -> Any:
        """The concrete value behind this tracer, for Python control flow."""
        raise ConcretizationError(
            f"a value traced by `{self._trace.transform}` has no concrete value here, so "
            f"Python control flow (if/while, bool(), float(), int(), .item()) cannot use it. "
            f"Use polyfunc.numpy.where(cond, a, b) to choose between values instead.")

    @property
    def shape(self):
        b = self._native_backend()
        return self.aval.shape if b is None else b.native_shape(self.aval.shape)

    ndim = property(lambda self: len(self.aval.shape))
    T = property(lambda self: _pnp().transpose(self))
    mT = property(lambda self: _pnp().swapaxes(self, -1, -2))
    # complex parts: the same attribute and methods in NumPy and torch
    real = property(lambda self: _pnp().real(self))
    imag = property(lambda self: _pnp().imag(self))
    conj = conjugate = lambda self: _pnp().conj(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self): return bool(self.concrete())
    def __float__(self): return float(self.concrete())
    def __int__(self): return int(self.concrete())
    def __index__(self): return int(self.concrete())
    def __complex__(self): return complex(self.concrete())
    def item(self): return self.concrete().item()
    def tolist(self): return self.concrete().tolist()

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self._trace.transform}>({self.aval})"

    # operators: NumPy's semantics, or the array library's own (torch's promotion) where it has them
    __neg__ = _numpy_or_native("__neg__", lambda self: _pnp().negative(self))
    def __pos__(self): return self
    __abs__ = _numpy_or_native("__abs__", lambda self: _pnp().abs(self))
    __invert__ = _numpy_or_native("__invert__", lambda self: _pnp().invert(self))
    __add__ = _numpy_or_native("__add__", lambda self, o: _pnp().add(self, o))
    __radd__ = _numpy_or_native("__radd__", lambda self, o: _pnp().add(o, self))
    __sub__ = _numpy_or_native("__sub__", lambda self, o: _pnp().subtract(self, o))
    __rsub__ = _numpy_or_native("__rsub__", lambda self, o: _pnp().subtract(o, self))
    __mul__ = _numpy_or_native("__mul__", lambda self, o: _pnp().multiply(self, o))
    __rmul__ = _numpy_or_native("__rmul__", lambda self, o: _pnp().multiply(o, self))
    __truediv__ = _numpy_or_native("__truediv__", lambda self, o: _pnp().divide(self, o))
    __rtruediv__ = _numpy_or_native("__rtruediv__", lambda self, o: _pnp().divide(o, self))
    __floordiv__ = _numpy_or_native("__floordiv__", lambda self, o: _pnp().floor_divide(self, o))
    __rfloordiv__ = _numpy_or_native("__rfloordiv__", lambda self, o: _pnp().floor_divide(o, self))
    __mod__ = _numpy_or_native("__mod__", lambda self, o: _pnp().remainder(self, o))
    __rmod__ = _numpy_or_native("__rmod__", lambda self, o: _pnp().remainder(o, self))
    __pow__ = _numpy_or_native("__pow__", lambda self, o: _pnp().power(self, o))
    __rpow__ = _numpy_or_native("__rpow__", lambda self, o: _pnp().power(o, self))
    __matmul__ = _numpy_or_native("__matmul__", lambda self, o: _pnp().matmul(self, o))
    __rmatmul__ = _numpy_or_native("__rmatmul__", lambda self, o: _pnp().matmul(o, self))
    __and__ = _numpy_or_native("__and__", lambda self, o: _pnp().bitwise_and(self, o))
    __rand__ = _numpy_or_native("__rand__", lambda self, o: _pnp().bitwise_and(o, self))
    __or__ = _numpy_or_native("__or__", lambda self, o: _pnp().bitwise_or(self, o))
    __ror__ = _numpy_or_native("__ror__", lambda self, o: _pnp().bitwise_or(o, self))
    __xor__ = _numpy_or_native("__xor__", lambda self, o: _pnp().bitwise_xor(self, o))
    __rxor__ = _numpy_or_native("__rxor__", lambda self, o: _pnp().bitwise_xor(o, self))
    __eq__ = _numpy_or_native("__eq__", lambda self, o: _pnp().equal(self, o))
    __ne__ = _numpy_or_native("__ne__", lambda self, o: _pnp().not_equal(self, o))
    __lt__ = _numpy_or_native("__lt__", lambda self, o: _pnp().less(self, o))
    __le__ = _numpy_or_native("__le__", lambda self, o: _pnp().less_equal(self, o))
    __gt__ = _numpy_or_native("__gt__", lambda self, o: _pnp().greater(self, o))
    __ge__ = _numpy_or_native("__ge__", lambda self, o: _pnp().greater_equal(self, o))
    __hash__ = object.__hash__

    def __getitem__(self, idx): return _pnp()._getitem(self, idx)

    def __getattr__(self, name):
        # methods of a native array type (torch's x.relu(), x.dim()), contributed by its plugin;
        # a tracer of a NumPy-like array has only NumPy's methods, even when torch is loaded
        if name.startswith("__") or name in ("_trace", "primal", "tangent", "val", "bdim", "_aval"):
            raise AttributeError(name)
        if self._native_backend() is None:
            raise AttributeError(f"a traced array has no method or attribute {name!r}; use the "
                                 f"polyfunc.numpy function of that name if there is one.")
        from .native import method, native_map
        prop = native_map.get(("property", name))    # a plugin's attribute (torch's x.device)
        if prop is not None:
            return prop(self)
        fn = method(name)
        if fn is None:
            raise AttributeError(f"a traced array has no method or attribute {name!r}; use the "
                                 f"polyfunc.numpy function of that name if there is one.")
        return lambda *args, **kwargs: fn(self, *args, **kwargs)

    def __setitem__(self, idx, value):
        raise TypeError(
            f"in-place assignment x[...] = v on a value traced by `{self._trace.transform}` "
            f"is not supported; use the out-of-place form "
            f"polyfunc.numpy.index_update(x, idx, v) (or where(...)).")

    def _native_backend(self):
        """This array's backend if its library has its own method semantics (torch), else None."""
        if not _native_seen[0]:      # no such library in use: the cheap answer
            if _backends is None:
                _backends_mod()
            if not _native_seen[0]:
                return None
        # the concrete array under this tracer's chain names the backend (one dict lookup a level)
        name, v = self._wraps, self
        while name is not None:
            v = getattr(v, name)
            b = _type_owner_get(v.__class__, None)
            if b is not None and b is not _UNKNOWN:
                return b if b.native_methods else None
            name = getattr(v.__class__, "_wraps", None)
        t = self._trace
        cached = t.__dict__.get("_native_backend", _NOT_SET)   # one answer per trace: all its
        if cached is not _NOT_SET:                              # values live on one backend
            return cached
        try:
            b = _backends_mod().backend_of(self)
        except Exception:
            return None
        t._native_backend = b = b if b.native_methods else None
        return b

    def _native_method(self, name):
        """The plugin's method ``name`` when this array's library has its own method semantics."""
        if self._native_backend() is None:
            return None
        from .native import method
        return method(name)

    @property
    def dtype(self):
        dt = self.aval.dtype
        if not _native_seen[0] and _backends is not None:   # the common case, without a call
            return dt
        b = self._native_backend()
        return dt if b is None else b.native_dtype(dt)

    @property
    def size(self):
        return _Size(self.aval.size, self.shape)

    # methods: NumPy's semantics, or the library's own where it has them (see _native_method)
    sum = _numpy_or_native("sum", lambda self, axis=None, keepdims=False, dtype=None: _pnp().sum(self, axis=axis, keepdims=keepdims, dtype=dtype))
    mean = _numpy_or_native("mean", lambda self, axis=None, keepdims=False: _pnp().mean(self, axis=axis, keepdims=keepdims))
    var = _numpy_or_native("var", lambda self, axis=None, ddof=0, keepdims=False: _pnp().var(self, axis=axis, ddof=ddof, keepdims=keepdims))
    std = _numpy_or_native("std", lambda self, axis=None, ddof=0, keepdims=False: _pnp().std(self, axis=axis, ddof=ddof, keepdims=keepdims))
    prod = _numpy_or_native("prod", lambda self, axis=None, keepdims=False: _pnp().prod(self, axis=axis, keepdims=keepdims))
    max = _numpy_or_native("max", lambda self, axis=None, keepdims=False: _pnp().max(self, axis=axis, keepdims=keepdims))
    min = _numpy_or_native("min", lambda self, axis=None, keepdims=False: _pnp().min(self, axis=axis, keepdims=keepdims))
    argmax = _numpy_or_native("argmax", lambda self, axis=None: _pnp().argmax(self, axis=axis))
    argmin = _numpy_or_native("argmin", lambda self, axis=None: _pnp().argmin(self, axis=axis))
    cumsum = _numpy_or_native("cumsum", lambda self, axis=None, dtype=None: _pnp().cumsum(self, axis=axis, dtype=dtype))
    cumprod = _numpy_or_native("cumprod", lambda self, axis=None, dtype=None: _pnp().cumprod(self, axis=axis,
                                                                                           dtype=dtype))
    argsort = _numpy_or_native("argsort", lambda self, axis=-1, kind=None, order=None, *, stable=None:
                               _pnp().argsort(self, axis=axis, kind=kind, order=order))
    sort = _numpy_or_native("sort", lambda self, *a, **k: _inplace_sort())
    reshape = _numpy_or_native("reshape", lambda self, *shape: _pnp().reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape))
    transpose = _numpy_or_native("transpose", lambda self, *axes: _pnp().transpose(
        self, (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes) or None))
    swapaxes = _numpy_or_native("swapaxes", lambda self, a, b: _pnp().swapaxes(self, a, b))
    squeeze = _numpy_or_native("squeeze", lambda self, axis=None: _pnp().squeeze(self, axis=axis))
    ravel = _numpy_or_native("ravel", lambda self: _pnp().ravel(self))
    flatten = _numpy_or_native("flatten", lambda self: _pnp().ravel(self))
    astype = _numpy_or_native("astype", lambda self, dtype: _pnp().astype(self, dtype))
    dot = _numpy_or_native("dot", lambda self, o: _pnp().dot(self, o))
    clip = _numpy_or_native("clip", lambda self, a_min=None, a_max=None: _pnp().clip(self, a_min, a_max))
    round = _numpy_or_native("round", lambda self: _pnp().round(self))
    copy = _numpy_or_native("copy", lambda self: self)
    conj = _numpy_or_native("conj", lambda self: self)

    # NumPy's and torch's override protocols; the map comes from backend plugins.
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from .native import dispatch_ufunc
        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from .native import dispatch_function
        return dispatch_function(func, args, kwargs)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from .native import dispatch_function
        return dispatch_function(func, args, kwargs or {})

    def __array__(self, dtype=None, copy=None):
        raise ConcretizationError(
            f"a value traced by `{self._trace.transform}` cannot become a concrete NumPy array "
            f"inside the transform. If NumPy code that does not dispatch asked for it, use the "
            f"polyfunc.numpy form: pnp.dot(a, traced) for ndarray.dot(traced), pnp.take(table, traced, "
            f"axis=0) for table[traced]; to get the value out, return it from the function "
            f"(use has_aux=True for extra outputs).")
