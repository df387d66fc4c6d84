"""Checking each kernel result against its primitive's contract.

With ``POLYFUNC_CHECK_KERNELS=1`` (read when a backend registers) and inside
the conformance suite, every eager kernel call is followed by a check that the
result is an array of the backend that ran it and that its shape and dtype are
what the primitive's abstract evaluation says.  A mismatch raises
``KernelError`` naming the primitive, the backend and its plugin, so a broken
kernel is caught where it runs, not by a later primitive's complaint.

Without it, the first call of each kernel still checks whose array it returned
(``check_first_calls``): a kernel returning another library's array (or a list)
is the plugin's fault, and is named as such before the value reaches code that
would blame the user.  After that first call the table holds the kernel itself
again, so the eager path runs exactly what it ran before.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

import numpy as np  # dtypes only

from .errors import KernelError
from .registry import abstract_eval_rules, primitives
from .trace import ShapedArray

__all__ = ["enabled_by_env", "install", "uninstall", "checked", "check_result", "check_owner", "check_first_calls",
           "unchecked"]

_PY_SCALARS = (bool, int, float)
_ANY_SCALAR = (bool, int, float, complex)
# a Python scalar operand is weak, with the dtype NumPy gives it alone (as polyfunc.avals says)
_SCALAR_DTYPES = {bool: np.dtype(bool), int: np.dtype(np.int64), float: np.dtype(np.float64)}


def _aval(backend: Any, x: Any) -> ShapedArray:
    """The abstract value of a kernel operand: a Python scalar or one of ``backend``'s arrays."""
    dt = _SCALAR_DTYPES.get(x.__class__)
    if dt is not None:
        return ShapedArray((), dt, weak=True)
    return backend.aval(x)


def enabled_by_env() -> bool:
    """Whether ``POLYFUNC_CHECK_KERNELS`` asks for checked kernels."""
    return os.environ.get("POLYFUNC_CHECK_KERNELS", "").strip().lower() not in ("", "0", "false", "no")


def _describe(x: Any) -> str:
    cls = x.__class__
    return f"{cls.__module__}.{cls.__qualname__}"


def _expected(backend: Any) -> str:
    try:
        types = ", ".join(_describe_type(t) for t in backend.array_types())
    except Exception:
        types = ""
    return f" (expected {types})" if types else ""


def _describe_type(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _foreign(who: str, backend: Any, out: Any, which: str) -> KernelError:
    return KernelError(
        f"{who} returned a {_describe(out)}{which}, not an array of backend {backend.name!r}{_expected(backend)}. "
        f"This is a fault of the backend plugin, not of the calling code: the kernel must return "
        f"the backend's own arrays.")


def _who(backend: Any, plugin: str, name: str) -> str:
    return f"backend {backend.name!r} (plugin {plugin!r}): the kernel for primitive {name!r}"


def check_owner(backend: Any, plugin: str, name: str, out: Any) -> None:
    """Raise KernelError if ``out`` (a kernel's result) holds something other than ``backend``'s arrays
    or Python scalars.  An ``owns_type`` that raises blames no one."""
    prim = primitives.get(name)
    multiple = prim is not None and prim.multiple_results and isinstance(out, (list, tuple))
    for i, o in enumerate(out if multiple else (out,)):
        cls = o.__class__
        if cls in _ANY_SCALAR:
            continue
        try:
            owned = bool(backend.owns_type(cls))
        except Exception:
            continue
        if not owned:
            raise _foreign(_who(backend, plugin, name), backend, o, f" (result {i})" if multiple else "")


def _first_call(backend: Any, plugin: str, table: dict, name: str, kernel: Callable) -> Callable:
    def first_call(*args, **params):
        out = kernel(*args, **params)
        check_owner(backend, plugin, name, out)
        if table.get(name) is first_call:        # checked once: the kernel itself from now on
            table[name] = kernel
        return out
    first_call.first_call_of = kernel  # type: ignore[attr-defined]
    first_call.__name__ = f"first_call_{name}"
    return first_call


def check_first_calls(backend: Any, plugin: str, table: Any) -> None:
    """Check whose array the first call of each kernel in ``table`` (``backend.kernels``) returns.

    Each entry becomes a wrapper that runs the kernel, checks the result's owner (``check_owner``)
    and, when it passes, puts the kernel itself back, so later calls cost nothing.  A kernel whose
    first result is foreign keeps its wrapper and raises on every call.  Nothing is done under full
    checks (``install``), which check more, or for a table that cannot be written."""
    if getattr(type(backend), "_kernel_checks", False) or not isinstance(table, dict):
        return
    for name, kernel in list(table.items()):
        if callable(kernel) and not hasattr(kernel, "first_call_of"):
            table[name] = _first_call(backend, plugin, table, name, kernel)


def unchecked(kernel: Any) -> Any:
    """The kernel behind a first-call wrapper (compiled code calls it directly), else ``kernel``."""
    return getattr(kernel, "first_call_of", kernel)


def check_result(backend: Any, plugin: str, name: str, args: tuple, params: dict, out: Any) -> None:
    """Raise KernelError unless ``out`` is what primitive ``name`` promises for ``args``."""
    prim = primitives.get(name)
    rule = abstract_eval_rules.get(prim) if prim is not None else None
    if prim is None or rule is None:
        return
    try:
        want = rule(*[_aval(backend, a) for a in args], **params)
    except Exception:            # the inputs themselves are invalid: the kernel's own error stands
        return
    multiple = prim.multiple_results
    outs = list(out) if multiple and isinstance(out, (list, tuple)) else [out]
    wants = list(want) if multiple else [want]
    who = _who(backend, plugin, name)
    if len(outs) != len(wants):
        raise KernelError(f"{who} returned {len(outs)} results; the primitive has {len(wants)}. "
                          f"This is a fault of the backend plugin, not of the calling code.")
    for i, (o, w) in enumerate(zip(outs, wants)):
        which = f" (result {i})" if multiple else ""
        if o.__class__ in _PY_SCALARS:
            if getattr(w, "weak", False):
                continue
            owned = False
        else:
            try:
                owned = bool(backend.owns_type(o.__class__))
            except Exception:
                owned = False
        if not owned:
            raise _foreign(who, backend, o, which)
        got = backend.aval(o)
        if tuple(got.shape) != tuple(w.shape) or got.dtype != w.dtype:
            raise KernelError(
                f"{who} returned {got.dtype}{list(got.shape)}{which}, but the primitive's abstract evaluation "
                f"gives {w.dtype}{list(w.shape)} for inputs "
                f"{', '.join(str(_aval(backend, a)) for a in args) or '(none)'} and parameters {params}. "
                f"This is a fault of the backend plugin, not of the calling code.")


def _wrap(backend: Any, plugin: str, name: str, kernel: Callable) -> Callable:
    def checked_kernel(*args, **params):
        out = kernel(*args, **params)
        check_result(backend, plugin, name, args, params, out)
        return out
    checked_kernel.__wrapped__ = kernel  # type: ignore[attr-defined]  # as functools.wraps sets it
    checked_kernel.__name__ = f"checked_{name}"
    return checked_kernel


_subclasses: dict = {}


def _checked_class(cls: type) -> type:
    """A subclass of ``cls`` whose ``kernels`` is the checked table of the original's."""
    sub = _subclasses.get(cls)
    if sub is not None:
        return sub
    original = cls.__dict__.get("kernels")

    def get(self):
        # sub is the class made below, before any instance can call this
        raw = self.__dict__["kernels"] if "kernels" in self.__dict__ else super(sub, self).kernels  # type: ignore[arg-type]
        cache = self.__dict__.get("_checked_kernels")
        if cache is None or cache[0] is not raw:
            plugin = self.__dict__.get("_checked_plugin", "?")
            cache = (raw, {n: _wrap(self, plugin, n, k) for n, k in (raw or {}).items()})
            self.__dict__["_checked_kernels"] = cache
        return cache[1]

    def set_(self, value):
        self.__dict__["kernels"] = value
    del original
    sub = type(cls.__name__, (cls,), {"kernels": property(get, set_), "__module__": cls.__module__,
                                      "__qualname__": cls.__qualname__, "_kernel_checks": True})
    _subclasses[cls] = sub
    return sub


def install(backend: Any, plugin: str) -> None:
    """Check every kernel result of ``backend`` from now on."""
    if getattr(type(backend), "_kernel_checks", False):
        return
    backend.__dict__["_checked_plugin"] = plugin
    backend.__class__ = _checked_class(type(backend))


def uninstall(backend: Any) -> None:
    """Stop checking ``backend``'s kernel results."""
    cls = type(backend)
    if getattr(cls, "_kernel_checks", False):
        backend.__class__ = cls.__mro__[1]
        backend.__dict__.pop("_checked_kernels", None)


@contextlib.contextmanager
def checked(backend: Any, plugin: str = "?") -> Iterator[Any]:
    """Check ``backend``'s kernel results inside the block (the conformance suite uses this)."""
    already = getattr(type(backend), "_kernel_checks", False)
    if not already:
        install(backend, plugin)
    try:
        yield backend
    finally:
        if not already:
            uninstall(backend)
