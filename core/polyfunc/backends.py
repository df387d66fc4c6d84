"""Backend plugins: discovery through entry points, registry and selection.

Selection, most specific first: the backend that owns the arrays in an
operation; an explicit ``backend=`` argument; ``use_backend(...)`` (a context
variable, so threads and tasks do not leak into each other); the
``POLYFUNC_BACKEND`` environment variable; ``"numpy"``.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib.metadata
import inspect
import os
import sys as _sys
import threading
import types
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pluggy

from . import gapkeys
from . import hookspecs
from . import kernel_check
from .array_api import dtype_table, load_namespace, make_kernels
from .errors import BackendError, DTypeError, EscapedTracerError
from .registry import (UNKNOWN, abstract_eval_rules, aval_of_type, batch_rule_names, native_backends, native_map,
                       primitives, register_native, type_owner)
from .trace import ShapedArray, Tracer

__all__ = ["Backend", "ArrayAPIBackend", "backends", "get_backend", "use_backend", "current_backend",
           "plugin_manager", "failed_plugins", "BackendInfo", "kernel_coverage", "graph_compiler",
           "conformance_gaps"]

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

    def clear_caches(self) -> None:
        """Forget what the backend carries from one computation to the next that changes only its
        speed, never its values (dask's chunk hints).  The ``backend`` test fixture calls it, so a
        test runs as it would alone."""

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
        if device in self.devices():     # the one device it has ('numpy:cpu'): itself
            return self
        raise BackendError(f"backend {self.name!r} has no device {device!r}; it offers {self.devices()}.")

    def __repr__(self) -> str:
        return f"<polyfunc backend {self.name}{':' + self.device if self.device else ''}>"


class ArrayAPIBackend(Backend):
    """A backend over any library that implements the Python Array API standard.

    A complete plugin is a subclass naming the backend and the namespace module,
    plus its entry point and a ``polyfunc_register_backends`` hook::

        class StrictBackend(ArrayAPIBackend):
            name = "strict"
            module = "array_api_strict"     # imported on first use

    Every kernel is built from the standard's functions (``polyfunc.array_api``).
    ``erf``/``erfc`` are portable defaults (the standard has neither), and random
    numbers come from a NumPy generator copied into the library; override
    ``kernels`` entries (``extra_kernels``) for the library's own.  The namespace
    is ``module``'s own, or its ``__array_namespace__`` when it has one.
    """

    module: str = ""
    extra_kernels: dict[str, Callable] = {}    # kernels that replace or add to the derived ones

    def __init__(self) -> None:
        self._xp = None
        self._kernels: dict | None = None
        self._dtypes: tuple | None = None
        self._array_type: type | None = None
        self.rng: np.random.Generator = np.random.default_rng()
        self.seed(0)

    def namespace(self) -> Any:
        """The Array API namespace (imports the library)."""
        if self._xp is None:
            self._xp = load_namespace(self.module)
        return self._xp

    # Backend declares version and kernels as plain attributes; here they are read from the library
    # on first use, so a backend class can be declared (and listed) without importing it
    @property
    def version(self) -> str:  # type: ignore[override]
        try:
            return str(getattr(self.namespace(), "__version__", ""))
        except Exception:
            return ""

    def is_available(self) -> tuple[bool, str]:
        if not self.module:
            return False, f"{type(self).__name__} names no module (set module = 'array_api_strict' or the like)"
        try:
            self.namespace()
        except Exception as e:
            return False, f"{self.module} cannot be imported ({type(e).__name__}: {e})"
        return True, ""

    @property
    def kernels(self) -> dict[str, Callable]:  # type: ignore[override]
        if self._kernels is None:
            self._kernels = {**make_kernels(self, self.namespace()), **self.extra_kernels}
        return self._kernels

    def _dtype_maps(self) -> tuple:
        if self._dtypes is None:
            self._dtypes = dtype_table(self.namespace())
        return self._dtypes

    def array_types(self) -> tuple[type, ...]:
        if self._array_type is None:
            self._array_type = type(self.namespace().asarray(0.0))
        return (self._array_type,)

    def owns_type(self, cls: type) -> bool:
        # decide without importing the library: only a class from its own modules can be its array
        root = self.module.partition(".")[0]
        if not (cls.__module__ == root or cls.__module__.startswith(root + ".")):
            return False
        return issubclass(cls, self.array_types())

    def aval(self, x: Any) -> ShapedArray:
        return ShapedArray(tuple(x.shape), self._dtype_maps()[1][x.dtype])

    def asarray(self, obj: Any, dtype: Any = None) -> Any:
        xp = self.namespace()
        to_xp = self._dtype_maps()[0]
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt not in to_xp:
                raise DTypeError(f"backend {self.name!r} ({self.module}) has no dtype {dt}")
            dtype = to_xp[dt]
        if isinstance(obj, (np.ndarray, np.generic)):
            if obj.dtype not in to_xp:
                raise DTypeError(f"dtype {obj.dtype} is not supported by polyfunc on backend {self.name!r} "
                                 f"(use bool, integer or floating arrays)")
            out = xp.asarray(np.asarray(obj), dtype=dtype if dtype is not None else to_xp[obj.dtype])
        else:
            out = xp.asarray(obj, dtype=dtype)
        if out.dtype not in self._dtype_maps()[1]:
            raise DTypeError(f"dtype {out.dtype} is not supported by polyfunc (use bool, integer or floating "
                             f"arrays)")
        return out

    def to_numpy(self, x: Any) -> Any:
        try:
            return np.from_dlpack(x)
        except Exception:          # a library without DLPack on this device: its own copy to the host
            return np.asarray(x)

    def seed(self, n: int) -> None:
        self.rng = np.random.default_rng(n)

    def rng_state(self) -> Any:
        return self.rng.bit_generator.state

    def set_rng_state(self, state: Any) -> None:
        self.rng.bit_generator.state = state


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


HOOK_NAMES = tuple(n for n in dir(hookspecs) if n.startswith("polyfunc_"))


class _PluginManager(pluggy.PluginManager):
    """One rule for hooks: every function of a plugin named ``polyfunc_<hook>`` implements that
    hook, marked with ``@hookimpl`` or not (the marker only adds options such as ``tryfirst``)."""

    def parse_hookimpl_opts(self, plugin, name):
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name in HOOK_NAMES and inspect.isroutine(inspect.getattr_static(plugin, name, None)):
            opts = {}  # type: ignore[assignment]    # pluggy's register fills in the default options
        return opts


# Plugins load once, on first use, under this lock: a thread arriving while another loads waits
# for the whole load (the registry is published only when it is complete).  Re-entrant, so a
# plugin's hook that calls back into polyfunc from the loading thread sees the load in progress.
_load_lock = threading.RLock()
# the manager being filled while the loading thread runs the hooks; read and written only under _load_lock
_loading: pluggy.PluginManager | None = None
load_count = [0]             # how many times plugins were discovered (a test reads it)


def plugin_manager() -> pluggy.PluginManager:
    """The plugin manager, loading every plugin on first use (once, whatever the threads)."""
    pm = _pm
    if pm is not None:
        return pm
    with _load_lock:
        if _pm is None:
            if _loading is not None:      # re-entered from a hook of the loading thread
                return _loading
            _load()
        assert _pm is not None
        return _pm


def _record(plugin_name: str, text: str) -> None:
    """Add a problem to ``plugin_name``'s entry of failed_plugins()."""
    old = _failed.get(plugin_name)
    if old is None:
        _failed[plugin_name] = text
    elif text not in old:
        _failed[plugin_name] = old + "; " + text


def _misspelled_hooks(plugin) -> list[str]:
    """The plugin's functions named like a hook (``polyfunc_...``) that are no hook."""
    out = []
    for attr in dir(plugin):
        if attr.startswith("polyfunc_") and attr not in HOOK_NAMES and \
                inspect.isroutine(inspect.getattr_static(plugin, attr, None)):
            close = difflib.get_close_matches(attr, HOOK_NAMES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (the hooks are {', '.join(HOOK_NAMES)})"
            out.append(f"{attr!r} is not a polyfunc hook{hint}")
    return out


def _load(entry_points: Iterable | None = None) -> None:
    global _pm, _loading
    load_count[0] += 1
    pm = _PluginManager("polyfunc")
    pm.add_hookspecs(hookspecs)
    _loading = pm
    try:
        disabled = _disabled()
        # Our own loop: pluggy's load_setuptools_entrypoints stops at the first failure.
        seen = set()
        for ep in (_entry_points() if entry_points is None else entry_points):
            if ep.name in disabled or ep.name in seen:
                continue
            seen.add(ep.name)
            try:
                mod = ep.load()
            except (Exception, SystemExit) as e:  # a broken plugin must not take the others down
                what = f"SystemExit({e.code!r}) at import" if isinstance(e, SystemExit) else f"{type(e).__name__}: {e}"
                _record(ep.name, what)
                continue
            bad_hooks = _misspelled_hooks(mod)
            for text in bad_hooks:
                _record(ep.name, text)
            try:
                pm.register(mod, name=ep.name)
            except Exception as e:
                _record(ep.name, f"{type(e).__name__} while registering its hooks: {e}")
        # each plugin's hooks run one plugin at a time, so one that raises is recorded and dropped
        # while the others still register (pm.hook.* would stop at the first exception)
        _each_plugin(pm, "polyfunc_register_backends", _register, "backends")
        _each_plugin(pm, "polyfunc_register_primitives", _register_primitive, "primitives")
        _each_plugin(pm, "polyfunc_native_functions", lambda pair, _plugin: register_native(*pair),
                     "native functions")
        for name, b in list(_registry.items()):
            if not _has_lazy(b, "kernels"):
                _check_kernel_keys(b)
        _check_gap_keys(pm, list(_registry.values()))
        _pm = pm
    finally:
        _loading = None


def _each_plugin(pm, hook_name: str, register, what: str) -> None:
    for plugin_name, plugin in list(pm.list_name_plugin()):
        hook = getattr(plugin, hook_name, None)
        if hook is None:
            continue
        try:
            hook(register=lambda *obj, _p=plugin_name: register(obj if len(obj) > 1 else obj[0], _p))
        except (Exception, SystemExit) as e:
            _record(plugin_name, f"{type(e).__name__} while registering {what}: {e}")
            pm.unregister(plugin)


def _has_lazy(backend: "Backend", attr: str) -> bool:
    """Whether ``attr`` is computed on access (a property that may import the library)."""
    return hasattr(getattr(type(backend), attr, None), "__get__") and \
        not isinstance(getattr(type(backend), attr, None), (dict, type(None)))


def kernel_primitives() -> list[str]:
    """The primitives a backend supplies kernels for: polyfunc's own (those of the ``polyfunc.ops``
    modules) and those plugins added, bar the ones defined through others (``impl``)."""
    found: dict[str, Any] = {}
    # the loaded ops modules' primitives (enumerated: primitives a test makes at run time are not the core's)
    for modname, mod in list(_sys.modules.items()):
        if modname == "polyfunc.ops" or modname.startswith("polyfunc.ops."):
            for v in vars(mod).values():
                name = getattr(v, "name", None)
                if isinstance(name, str) and primitives.get(name) is v:
                    found[name] = v
    found.update((n, primitives[n]) for n in plugin_primitives if n in primitives)
    return sorted(n for n, p in found.items() if p.impl is None)


_checked_kernels: set[int] = set()   # id of backends whose kernel keys were checked


def _check_kernel_keys(b: "Backend") -> None:
    """Report kernel keys that name no primitive, with the closest primitive names, and check the
    owner of each kernel's first result (kernel_check.check_first_calls)."""
    if id(b) in _checked_kernels:
        return
    _checked_kernels.add(id(b))
    try:
        keys = list(b.kernels or ())
    except Exception as e:
        _record(_plugin_of.get(b.name, b.name), f"backend {b.name!r}: reading its kernels raised "
                                                f"{type(e).__name__}: {e}")
        return
    for k in keys:
        if k not in primitives:
            close = difflib.get_close_matches(str(k), list(primitives), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            _record(_plugin_of.get(b.name, b.name), f"backend {b.name!r} has a kernel for {k!r}, which is no "
                                                    f"primitive{hint}")
    # the first result of each kernel is checked for its owner: a kernel returning another library's
    # array is blamed on its plugin, not on the user (free after each kernel's first call)
    with contextlib.suppress(Exception):
        kernel_check.check_first_calls(b, _plugin_of.get(b.name, b.name), b.kernels)


def _check_gap_keys(pm: pluggy.PluginManager, backends: list["Backend"]) -> None:
    """Report, under the plugin that declares them, conformance gap keys that name no primitive and
    no conformance test (``polyfunc.gapkeys``), with the closest valid key.  The plugin stays
    registered and its other gaps still count: a typo hides nothing, which is the harm reported."""
    for impl in pm.hook.polyfunc_conformance_gaps.get_hookimpls():
        for b in backends:
            try:
                gaps: Any = impl.function(backend=b)
                if not gaps:
                    continue
                bad = gapkeys.unmatched_gap_keys(dict(gaps))
            except (Exception, SystemExit) as e:
                _record(impl.plugin_name, f"{type(e).__name__} in polyfunc_conformance_gaps: {e}")
                continue
            for text in bad:
                _record(impl.plugin_name, gapkeys.gap_key_report(text, b.name))


def kernel_coverage(b: "Backend") -> tuple[int, int, list[str]]:
    """(kernels present, kernels expected, the missing primitive names) for backend ``b``."""
    want = kernel_primitives()
    have = set(b.kernels or ())
    missing = [n for n in want if n not in have]
    return len(want) - len(missing), len(want), missing


def graph_compiler(backend: "Backend", graph: Any) -> Callable | None:
    """The first compiler a plugin offers for ``graph`` (the polyfunc_graph_compiler hook), or None.

    Each plugin is asked on its own: one whose hook raises is recorded in failed_plugins(),
    dropped, and the next is asked, so a broken compiler cannot break jit for every backend."""
    pm = plugin_manager()
    for impl in reversed(pm.hook.polyfunc_graph_compiler.get_hookimpls()):
        try:
            out: Any = impl.function(backend=backend, graph=graph)
        except (Exception, SystemExit) as e:
            _record(impl.plugin_name, f"{type(e).__name__} in polyfunc_graph_compiler: {e}")
            with contextlib.suppress(Exception):
                pm.unregister(impl.plugin)
            continue
        if out is not None:
            return out
    return None


def conformance_gaps(backend: "Backend") -> dict[str, str]:
    """{test or primitive name: reason} that the plugins declare for ``backend`` (polyfunc_conformance_gaps).

    Each plugin is asked on its own: one whose hook raises (or returns something other than a dict)
    is recorded in failed_plugins() and the others' gaps still count, so one broken plugin cannot
    abort the collection of every backend's conformance tests.  The plugin stays registered: its
    backend may work, and only its declared gaps are lost (those tests then fail, visibly)."""
    gaps: dict[str, str] = {}
    # reversed: the order pm.hook would call them in, so later-registered plugins are overridden alike
    for impl in reversed(plugin_manager().hook.polyfunc_conformance_gaps.get_hookimpls()):
        try:
            result: Any = impl.function(backend=backend)
            if result:
                gaps.update(dict(result))
        except (Exception, SystemExit) as e:
            _record(impl.plugin_name, f"{type(e).__name__} in polyfunc_conformance_gaps: {e}")
    return gaps


plugin_primitives: dict[str, str] = {}   # primitive name -> the plugin that added it


def _register_primitive(prim, plugin_name: str) -> None:
    # every Primitive enters the registry when it is made, so this is the isinstance check
    name = getattr(prim, "name", None)
    if not isinstance(name, str) or primitives.get(name) is not prim:
        raise TypeError(f"plugin {plugin_name!r} registered {prim!r}, which is not a polyfunc Primitive")
    prim = primitives[name]
    if prim not in abstract_eval_rules and prim.impl is None:
        raise ValueError(f"plugin {plugin_name!r}: primitive {prim.name!r} has no abstract evaluation rule; "
                         f"fill polyfunc.primitive.abstract_eval_rules[prim] before registering it")
    plugin_primitives[prim.name] = plugin_name


def _register(backend: Backend, plugin_name: str) -> None:
    if not isinstance(backend, Backend):
        raise TypeError(f"plugin {plugin_name!r} registered {backend!r}, which is not a polyfunc.Backend")
    prior = _registry.get(backend.name)
    if prior is not None:
        # refused, not replaced: a plugin must not take over another's backend name silently
        _record(plugin_name, f"backend {backend.name!r} refused: plugin {_plugin_of[backend.name]!r} already "
                             f"registered a backend named {backend.name!r} ({prior!r}); rename one of them")
        return
    _registry[backend.name] = backend
    _plugin_of[backend.name] = plugin_name
    if kernel_check.enabled_by_env():      # POLYFUNC_CHECK_KERNELS=1: every eager result is checked
        kernel_check.install(backend, plugin_name)
    # a backend whose rules need its library declares them lazily (a property); read them on first use
    if not _has_lazy(backend, "batch_rules"):
        batch_rule_names.update(backend.batch_rules or ())
    else:
        _lazy_rules.append(backend)


def _refuse_type_clash(cls: type, claimants: list[Backend]) -> Backend:
    """Two backends own arrays of ``cls``: the first registered keeps them, the others are refused."""
    keep = claimants[0]
    for b in claimants[1:]:
        _record(_plugin_of.get(b.name, b.name),
                f"backend {b.name!r} refused: it claims arrays of type {cls.__module__}.{cls.__qualname__}, "
                f"which backend {keep.name!r} (plugin {_plugin_of.get(keep.name, '?')!r}) already owns")
        _registry.pop(b.name, None)
        for spec in [k for k, v in _by_spec.items() if v is b or k.partition(":")[0] == b.name]:
            del _by_spec[spec]
    return keep


def reload_plugins(entry_points: Iterable | None = None) -> None:
    """Forget every plugin and discover them again (tests use this)."""
    global _pm
    with _load_lock:
        _reset()
        _load(entry_points)


def _reset() -> None:
    global _pm
    _pm = None
    for table in (_registry, _plugin_of, _failed, type_owner, batch_rule_names, _lazy_rules, _checked_kernels):
        table.clear()
    aval_of_type.clear()
    native_map.clear()
    plugin_primitives.clear()
    native_backends.clear()
    _by_spec.clear()
    _env_cache[:] = [None, None]


def register_backend(backend: Backend, plugin_name: str = "<runtime>") -> None:
    """Register a backend object directly, without an entry point."""
    pm = plugin_manager()
    _register(backend, plugin_name)
    if not _has_lazy(backend, "kernels"):
        _check_kernel_keys(backend)
    if _registry.get(backend.name) is backend:
        _check_gap_keys(pm, [backend])
    type_owner.clear()
    aval_of_type.clear()


def failed_plugins() -> dict[str, str]:
    """{plugin name: what went wrong}: plugins that failed to import or to register, and the
    registration mistakes found in the others (refused backends, unknown kernel keys, conformance
    gap keys that name no primitive or test, misspelled hooks).  The other plugins and backends keep working."""
    plugin_manager()
    return dict(_failed)


def _all() -> dict[str, Backend]:
    plugin_manager()
    return _registry


def backends() -> list[BackendInfo]:
    """Every backend found: name, available?, reason, array types, version, plugin.

    Listing them also checks that no two available backends claim one array type (the later
    registered is refused and recorded in failed_plugins())."""
    _check_type_clashes()
    out = []
    for name, b in sorted(_all().items()):
        ok, why = _availability(b)
        types: tuple[str, ...] = ()
        if ok:
            try:
                types = tuple(t.__module__ + "." + t.__qualname__ for t in b.array_types())
            except Exception as e:  # pragma: no cover - defensive
                ok, why = False, f"{type(e).__name__}: {e}"
        out.append(BackendInfo(name, ok, why, types, b.version if ok else "", _plugin_of.get(name, "")))
    return out


def _check_type_clashes() -> None:
    """Ask every available backend whether it claims another's array types (imports the libraries)."""
    for b in list(_all().values()):
        if b.name not in _registry or not _availability(b)[0]:
            continue
        try:
            types = b.array_types()
        except Exception:
            continue
        for cls in types:
            claimants = [o for o in list(_registry.values()) if _claims(o, cls)]
            if len(claimants) > 1:
                _refuse_type_clash(cls, claimants)
            if _has_lazy(b, "kernels") and b.name in _registry:
                _check_kernel_keys(b)


def _claims(b: Backend, cls: type) -> bool:
    try:
        return bool(b.owns_type(cls))
    except Exception:
        return False


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
    claimants = []
    for b in list(_all().values()):
        try:
            owns = b.owns_type(cls)
        except Exception:
            owns = False
        if owns:
            claimants.append(b)
    if claimants:
        b = _refuse_type_clash(cls, claimants) if len(claimants) > 1 else claimants[0]
        ok, why = _availability(b)
        if not ok:
            raise BackendError(f"an array of type {cls.__name__} belongs to backend {b.name!r}, "
                               f"which cannot run here: {why}")
        if _has_lazy(b, "kernels"):
            _check_kernel_keys(b)
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
        f"installed backend. Convert it with polyfunc.numpy.asarray(...). (If it came out of a "
        f"polyfunc operation, a backend's kernel returned it: run with POLYFUNC_CHECK_KERNELS=1 to "
        f"name the kernel.) Installed backends:\n{_describe_all()}")


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


class _CallableModule(types.ModuleType):
    """``polyfunc.backends`` is this module and also callable: ``pf.backends()`` lists backends."""

    def __call__(self) -> list[BackendInfo]:
        return backends()


_sys.modules[__name__].__class__ = _CallableModule
