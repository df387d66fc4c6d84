"""The typed surface of the array namespaces: every public function of ``polyfunc.numpy``,
``polyfunc.numpy.linalg`` and ``polyfunc.ops`` (and of each ops module) carries a type hint on
every parameter and on its return, and the hints name things that exist (``typing.get_type_hints``
resolves them).  tests/test_architecture.py checks the user API modules the same way."""
from __future__ import annotations

import importlib
import inspect
import typing

import pytest

import polyfunc.ops as _ops

_OPS_MODULES = sorted({v.__name__ for v in vars(_ops).values()
                       if inspect.ismodule(v) and v.__name__.startswith("polyfunc.ops.")})


def _public_functions(module: str) -> list[tuple[str, typing.Callable]]:
    """(name, function) for each name in ``module.__all__`` that is a Python function of polyfunc's
    (NumPy's own dtype helpers re-exported by ``polyfunc.numpy``, such as ``issubdtype``, are NumPy's
    to type)."""
    mod = importlib.import_module(module)
    out = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj) and obj.__module__.startswith("polyfunc"):
            out.append((name, obj))
    return out


# ops.custom and ops.loop export primitives and rules only, no functions
NAMESPACES = ["polyfunc.numpy", "polyfunc.numpy.linalg", "polyfunc.ops",
              *(m for m in _OPS_MODULES if _public_functions(m))]


def _missing(fn: typing.Callable) -> list[str]:
    sig = inspect.signature(fn)
    missing = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


@pytest.mark.parametrize("module", NAMESPACES)
def test_every_public_function_is_annotated(module):
    functions = _public_functions(module)
    assert functions, f"{module} exports no functions: the check would pass vacuously"
    bad = [f"{module}.{name}: {', '.join(m)}" for name, fn in functions if (m := _missing(fn))]
    assert not bad, "public functions without type hints (every parameter and the return):\n" + "\n".join(bad)


@pytest.mark.parametrize("module", NAMESPACES)
def test_every_annotation_resolves(module):
    # a hint naming something the function's module does not import would pass the check above
    # as a string (from __future__ import annotations) and fail only under a type checker
    bad = []
    for name, fn in _public_functions(module):
        try:
            hints = typing.get_type_hints(fn)
        except Exception as e:  # NameError, TypeError: report them all at once
            bad.append(f"{module}.{name}: {type(e).__name__}: {e}")
            continue
        assert "return" in hints, f"{module}.{name}"
    assert not bad, "\n".join(bad)


def test_the_checks_see_the_whole_namespace():
    # the counts are the size of the surface the two tests above cover, so a refactor that made
    # __all__ lose its functions (or hid them behind a non-function wrapper) shows here
    assert len(_public_functions("polyfunc.numpy")) >= 190
    assert len(_public_functions("polyfunc.ops")) >= 60


def test_a_missing_hint_is_reported():
    def half(x, y: int):
        return x

    assert _missing(half) == ["x", "return"]


def test_tuple_results_say_so():
    # functions that return several arrays say so in their return type
    import polyfunc.numpy as pnp
    hints = {name: typing.get_type_hints(getattr(pnp, name))["return"] for name in
             ("split", "array_split", "broadcast_arrays", "vsplit", "hsplit", "dsplit")}
    for name, h in hints.items():
        assert typing.get_origin(h) is list, (name, h)
    assert typing.get_type_hints(pnp.linalg.slogdet)["return"] is pnp.linalg.SlogdetResult
