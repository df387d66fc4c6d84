"""Backend plugins: discovery through entry points, registry and selection.

Selection, most specific first: the backend that owns the arrays in an
operation; an explicit ``backend=`` argument; ``use_backend(...)`` (a context
variable, so threads and tasks do not leak into each other); the
``POLYFUNC_BACKEND`` environment variable; ``"numpy"``.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import pluggy

from . import hookspecs
from .errors import BackendError, EscapedTracerError
from .registry import (UNKNOWN, abstract_eval_rules, aval_of_type, batch_rule_names, native_backends, native_map,
                       primitives, register_native, type_owner)
from .trace import ShapedArray, Tracer

__all__ = ["Backend", "backends", "get_backend", "use_backend", "current_backend",
           "plugin_manager", "failed_plugins", "BackendInfo"]

ENTRY_POINT_GROUP = "polyfunc.plugins"


class Backend:
    """What a backend plugin supplies.  Subclass it and register an instance.

    Required: ``name``, ``kernels`` ({primitive name: callable(*arrays, **params)}),
    ``owns_type(cls)``, ``aval(x)``, ``asarray(obj, dtype)``, ``to_numpy(x)``.
    Optional: ``batch_rules`` ({primitive name: rule}) that beat the generic
    rule on this backend's concrete arrays, ``seed``, ``rng_state`` /
    ``set_rng_state``, ``devices``, ``with_device``, ``synchronize``, and
    ``native_methods`` with ``native_dtype`` / ``native_shape`` for a library
    whose code calls its own methods on tracers (torch).  ``is_available()``
    says whether it can run here.
    """

    name: str = "backend"
    version: str = ""
    device: str | None = None
    kernels: dict[str, Callable] = {}
    batch_rules: dict[str, Callable] = {}

    def is_available(self) -> tuple[bool, str]:
        """(True, "") if this backend can run here, else (False, why not)."""
        return True, ""

    def array_types(self) -> tuple[type, ...]:
        """The array types this backend owns (may import the library)."""
        return ()

    def owns_type(self, cls: type) -> bool:
        """Whether arrays of ``cls`` belong to this backend; must not import heavy modules."""
        return False

    def aval(self, x: Any) -> ShapedArray:
        """Shape and numpy dtype of one of this backend's arrays."""
        raise NotImplementedError

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        """Convert ``obj`` (nested lists, scalars, numpy arrays) to this backend's array."""
        raise NotImplementedError

    def to_numpy(self, x: Any) -> Any:
        """A numpy.ndarray copy of ``x`` (on the host)."""
        raise NotImplementedError

    def devices(self) -> list[str]:
        return [self.device or "cpu"]

    def seed(self, n: int) -> None:
        """Reseed this backend's random generator."""
        raise NotImplementedError

    def rng_state(self) -> Any:
        """A snapshot of the random generator (None if it cannot be saved)."""
        return None

    def set_rng_state(self, state: Any) -> None:
        """Restore a snapshot taken by ``rng_state``."""
        raise NotImplementedError

    def synchronize(self) -> None:
        """Wait for queued device work (no-op on the CPU)."""

    # True when code written for this library calls methods with its own semantics
    # (torch's x.sum(dim=0), x.transpose(0, 1), x.size(0)): tracers then use the
    # plugin's method map and report dtypes in the library's own terms.
    native_methods: bool = False

    def native_dtype(self, dtype: Any) -> Any:
        """The library's own dtype object for a numpy dtype (used when native_methods is on)."""
        return dtype

    def native_shape(self, shape: tuple) -> Any:
        """The library's own shape object (torch.Size) for a tuple (used when native_methods is on)."""
        return shape

    def with_device(self, device: str) -> "Backend":
        """This backend bound to ``device`` (e.g. 'cuda:1'); the default has none."""
        raise BackendError(f"backend {self.name!r} has no device {device!r}; it offers {self.devices()}.")

    def __repr__(self) -> str:
        return f"<polyfunc backend {self.name}{':' + self.device if self.device else ''}>"


@dataclass
class BackendInfo:
    name: str
    available: bool
    reason: str
    array_types: tuple
    version: str
    plugin: str


# ---------------------------------------------------------------- plugin manager
_pm: pluggy.PluginManager | None = None
_registry: dict[str, Backend] = {}
_plugin_of: dict[str, str] = {}
_failed: dict[str, str] = {}           # plugin name -> error text
# type_owner (the eval trace's hot-path cache), batch_rule_names and native_backends live in
# polyfunc.registry, which the interpreters read; a backend whose batching rules need its library
# declares them lazily and joins batch_rule_names when its first array is seen (owner_of)
_lazy_rules: list = []


def _entry_points() -> Iterable[importlib.metadata.EntryPoint]:
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _disabled() -> set[str]:
    raw = os.environ.get("POLYFUNC_DISABLE_PLUGINS", "")
    return {s.strip() for s in raw.split(",") if s.strip()}


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, loading every plugin on first use."""
    if _pm is None:
        _load()
    return _pm


def _load(entry_points: Iterable | None = None) -> None:
    global _pm
    pm = pluggy.PluginManager("polyfunc")
    pm.add_hookspecs(hookspecs)
    disabled = _disabled()
    # Our own loop: pluggy's load_setuptools_entrypoints stops at the first failure.
    seen = set()
    for ep in (_entry_points() if entry_points is None else entry_points):
        if ep.name in disabled or ep.name in seen:
            continue
        seen.add(ep.name)
        try:
            mod = ep.load()
            pm.register(mod, name=ep.name)
        except Exception as e:  # a broken plugin must not take the others down
            _failed[ep.name] = f"{type(e).__name__}: {e}"
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        _failed["<hooks>"] = str(e)
    _pm = pm
    # each plugin's hooks run one plugin at a time, so one that raises is recorded and dropped
    # while the others still register (pm.hook.* would stop at the first exception)
    _each_plugin(pm, "polyfunc_register_backends", _register, "backends")
    _each_plugin(pm, "polyfunc_register_primitives", _register_primitive, "primitives")
    _each_plugin(pm, "polyfunc_native_functions", lambda pair, _plugin: register_native(*pair), "native functions")


def _each_plugin(pm, hook_name: str, register, what: str) -> None:
    for plugin_name, plugin in list(pm.list_name_plugin()):
        hook = getattr(plugin, hook_name, None)
        if hook is None:
            continue
        try:
            hook(register=lambda *obj, _p=plugin_name: register(obj if len(obj) > 1 else obj[0], _p))
        except Exception as e:
            _failed[plugin_name] = f"{type(e).__name__} while registering {what}: {e}"
            pm.unregister(plugin)


plugin_primitives: dict[str, str] = {}   # primitive name -> the plugin that added it


def _register_primitive(prim, plugin_name: str) -> None:
    # every Primitive enters the registry when it is made, so this is the isinstance check
    if primitives.get(getattr(prim, "name", None)) is not prim:
        raise TypeError(f"plugin {plugin_name!r} registered {prim!r}, which is not a polyfunc Primitive")
    if prim not in abstract_eval_rules and prim.impl is None:
        raise ValueError(f"plugin {plugin_name!r}: primitive {prim.name!r} has no abstract evaluation rule; "
                         f"fill polyfunc.primitive.abstract_eval_rules[prim] before registering it")
    plugin_primitives[prim.name] = plugin_name


def _register(backend: Backend, plugin_name: str) -> None:
    if not isinstance(backend, Backend):
        raise TypeError(f"plugin {plugin_name!r} registered {backend!r}, which is not a polyfunc.Backend")
    _registry[backend.name] = backend
    _plugin_of[backend.name] = plugin_name
    # a backend whose rules need its library declares them lazily (a property); read them on first use
    if not hasattr(getattr(type(backend), "batch_rules", None), "__get__"):
        batch_rule_names.update(backend.batch_rules or ())
    else:
        _lazy_rules.append(backend)


def reload_plugins(entry_points: Iterable | None = None) -> None:
    """Forget every plugin and discover them again (tests use this)."""
    global _pm
    _pm = None
    for table in (_registry, _plugin_of, _failed, type_owner, batch_rule_names, _lazy_rules):
        table.clear()
    aval_of_type.clear()
    native_map.clear()
    plugin_primitives.clear()
    native_backends.clear()
    _by_spec.clear()
    _env_cache[:] = [None, None]
    _load(entry_points)


def register_backend(backend: Backend, plugin_name: str = "<runtime>") -> None:
    """Register a backend object directly, without an entry point."""
    plugin_manager()
    _register(backend, plugin_name)
    type_owner.clear()
    aval_of_type.clear()


def failed_plugins() -> dict[str, str]:
    plugin_manager()
    return dict(_failed)


def _all() -> dict[str, Backend]:
    plugin_manager()
    return _registry


def backends() -> list[BackendInfo]:
    """Every backend found: name, available?, reason, array types, version, plugin."""
    out = []
    for name, b in sorted(_all().items()):
        ok, why = _availability(b)
        types = ()
        if ok:
            try:
                types = tuple(t.__module__ + "." + t.__qualname__ for t in b.array_types())
            except Exception as e:  # pragma: no cover - defensive
                ok, why = False, f"{type(e).__name__}: {e}"
        out.append(BackendInfo(name, ok, why, types, b.version if ok else "", _plugin_of.get(name, "")))
    return out


def _availability(b: Backend) -> tuple[bool, str]:
    try:
        return b.is_available()
    except Exception as e:
        return False, f"{type(e).__name__}: {e}"


def _describe_all() -> str:
    lines = []
    for info in backends():
        lines.append(f"  {info.name}: " + ("available" if info.available else f"unavailable ({info.reason})"))
    for name, err in failed_plugins().items():
        lines.append(f"  plugin {name!r} failed to load: {err}")
    return "\n".join(lines) or "  (none)"


_by_spec: dict[str, Backend] = {}


def get_backend(spec: "str | Backend") -> Backend:
    """The available backend named ``spec`` ('numpy', 'torch', 'torch:cuda', ...)."""
    if isinstance(spec, Backend):
        return spec
    b = _by_spec.get(spec)
    if b is not None:
        return b
    if not isinstance(spec, str) or not spec:
        raise BackendError(f"a backend is named by a string such as 'numpy' or 'torch:cuda', not {spec!r}.")
    name, _, device = spec.partition(":")
    reg = _all()
    if name not in reg:
        raise BackendError(
            f"unknown backend {spec!r}. Installed backends:\n{_describe_all()}\n"
            f"Pick one of those (POLYFUNC_BACKEND, use_backend(...) or backend=...), or install "
            f"the plugin that provides {name!r}.")
    b = reg[name]
    ok, why = _availability(b)
    if not ok:
        raise BackendError(
            f"backend {name!r} is installed but cannot run here: {why}. Installed backends:\n"
            f"{_describe_all()}\nChoose an available one.")
    if device:
        b = b.with_device(device)
    _by_spec[spec] = b
    return b


_selected: ContextVar[Backend | None] = ContextVar("polyfunc_backend", default=None)
_env_cache: list = [None, None]


def current_backend() -> Backend:
    """The backend used when no argument decides: use_backend > POLYFUNC_BACKEND > numpy."""
    b = _selected.get()
    if b is not None:
        return b
    env = os.environ.get("POLYFUNC_BACKEND") or "numpy"
    if _env_cache[0] != env:
        backend = get_backend(env)
        _env_cache[0], _env_cache[1] = env, backend
    return _env_cache[1]


@contextlib.contextmanager
def use_backend(spec: "str | Backend") -> Iterator[Backend]:
    """Make ``spec`` the backend for new arrays inside the block.

    >>> import polyfunc as pf, polyfunc.numpy as pnp
    >>> with pf.use_backend("numpy"):
    ...     x = pnp.ones(3)
    >>> type(x).__name__
    'ndarray'
    """
    b = get_backend(spec)
    token = _selected.set(b)
    try:
        yield b
    finally:
        _selected.reset(token)


def owner_of(x: Any, prim: Any) -> Backend | None:
    """Slow path of the eval trace: the backend owning ``x`` (None for Python scalars)."""
    cls = x.__class__
    if isinstance(x, Tracer):
        t = x._trace
        what = f" (passed to {prim.name})" if prim is not None else ""
        raise _escaped(t, x, what)
    if cls in (int, float, bool, complex):
        type_owner[cls] = None
        return None
    for b in _all().values():
        try:
            owns = b.owns_type(cls)
        except Exception:
            owns = False
        if owns:
            ok, why = _availability(b)
            if not ok:
                raise BackendError(f"an array of type {cls.__name__} belongs to backend {b.name!r}, "
                                   f"which cannot run here: {why}")
            type_owner[cls] = b
            if b in _lazy_rules:
                batch_rule_names.update(b.batch_rules or ())
                _lazy_rules.remove(b)
            if b.native_methods:
                native_backends.add(b)
            return b
    where = f" to {prim.name}" if prim is not None else ""
    raise TypeError(
        f"an argument{where} of type {cls.__module__}.{cls.__name__} is not an array of any "
        f"installed backend. Convert it with polyfunc.numpy.asarray(...). Installed backends:\n"
        f"{_describe_all()}")


def _escaped(trace, x, what):
    return EscapedTracerError(
        f"a value traced by `{trace.transform}` escaped it{what}: {x!r} was saved (to a global, "
        f"a closure or an attribute) while `{trace.transform}` ran, and used after it returned. "
        f"Return the value from the transformed function instead (use has_aux=True for an extra "
        f"output that is not differentiated).")


def backend_of(*arrays: Any) -> Backend:
    """The backend that owns these arrays (the current one if none is owned)."""
    owner = None
    for a in arrays:
        while isinstance(a, Tracer):
            inner = a._backend()
            if inner is None or isinstance(inner, Backend):
                a = None
                b = inner
                break
            a = inner
        if a is None:
            if b is not None:
                owner = owner or b
            continue
        b = type_owner.get(a.__class__, UNKNOWN)
        if b is UNKNOWN:
            b = owner_of(a, None)
        if b is not None:
            if owner is not None and b is not owner:
                raise BackendError(f"arrays of two backends meet: {owner.name!r} and {b.name!r}; "
                                   f"convert one side with polyfunc.numpy.asarray(x, backend=...).")
            owner = b
    return owner if owner is not None else current_backend()


class _CallableModule(type(contextlib)):
    """``polyfunc.backends`` is this module and also callable: ``pf.backends()`` lists backends."""

    def __call__(self) -> list[BackendInfo]:
        return backends()


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
