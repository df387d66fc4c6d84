"""The shape of the core: every module imports on its own, imports flow one way, and
nothing dodges a cycle with an import inside a function (README, "Design")."""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
PACKAGE = "polyfunc"

# Imports inside functions that are allowed, each for a reason; any other polyfunc import
# inside a function fails the test.  (importer, imported): why.
FUNCTION_LEVEL_ALLOWED = {
    # the pytest plugin is loaded by every pytest run (an entry point); polyfunc is imported only
    # when a test run asks for polyfunc's options or fixtures
    ("polyfunc.testing.pytest_plugin", "polyfunc"): "lazy plugin loading",
    ("polyfunc.testing.pytest_plugin", "polyfunc.backends"): "lazy plugin loading",
    ("polyfunc.testing.pytest_plugin", "polyfunc.errors"): "lazy plugin loading",
    # the command line imports what a subcommand needs when it runs
    ("polyfunc.__main__", "polyfunc"): "lazy subcommand",
    ("polyfunc.__main__", "polyfunc.tour"): "lazy subcommand",
    ("polyfunc.__main__", "polyfunc.quickbench"): "lazy subcommand",
    # info checks the plugins' conformance gap keys against the suite, which needs pytest
    ("polyfunc.__main__", "polyfunc.testing.conformance.gapkeys"): "lazy subcommand (needs pytest)",
    ("polyfunc.tour", "polyfunc"): "a script's body, run on demand",
    ("polyfunc.tour", "polyfunc.numpy"): "a script's body, run on demand",
    ("polyfunc.tour", "polyfunc.testing"): "a script's body, run on demand",
    ("polyfunc.quickbench", "polyfunc"): "a script's body, run on demand",
    ("polyfunc.quickbench", "polyfunc.numpy"): "a script's body, run on demand",
}

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _core_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((CORE / PACKAGE).rglob("*.py"))}


MODULES = _core_modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path("x.py")).name == "__init__.py"


def _resolve(importer: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The polyfunc modules an import statement loads (submodules named in a from-import count)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
    if node.level:
        base = importer.split(".")
        if not _is_package(importer):
            base = base[:-1]
        base = base[:len(base) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return []
    out = [target]
    for a in node.names:              # `from . import ops` loads polyfunc.ops
        sub = f"{target}.{a.name}"
        if sub in MODULES:
            out.append(sub)
    return out


def _imports(name: str) -> tuple[set[str], set[str]]:
    """(modules imported when ``name`` is imported, modules imported inside its functions)."""
    tree = ast.parse(MODULES[name].read_text())
    top: set[str] = set()
    inner: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (inner if in_function else top).update(_resolve(name, child))
            elif isinstance(child, ast.If) and _is_type_checking(child):
                continue                  # annotations only: never imported at run time
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))
    visit(tree, False)
    return top, inner


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _graph() -> dict[str, set[str]]:
    """Import-time edges between core modules.  Importing a.b.c first runs the packages a.b
    and a, so an edge to a module also reaches its packages, except the ones the importer
    is itself inside (they are already being imported) and the root package."""
    graph: dict[str, set[str]] = {}
    for name in MODULES:
        top, _ = _imports(name)
        edges = set()
        for target in top:
            parts = target.split(".")
            for k in range(2, len(parts) + 1):
                pkg = ".".join(parts[:k])
                if pkg not in MODULES or pkg == name:
                    continue
                if name.startswith(pkg + "."):     # a package the importer is inside: already loading
                    continue
                edges.add(pkg)
        graph[name] = edges
    return graph


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the components of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(comp)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_the_graph_sees_the_modules_and_their_imports():
    # the test is only as good as its parser: check it on edges known to exist
    graph = _graph()
    assert {"polyfunc.trace", "polyfunc.backends", "polyfunc.registry", "polyfunc.interpreters.eval",
            "polyfunc.numpy._methods", "polyfunc.ops.structural"} <= set(graph)
    assert "polyfunc.registry" in graph["polyfunc.trace"] or "polyfunc.errors" in graph["polyfunc.trace"]
    assert "polyfunc.trace" in graph["polyfunc.backends"]
    assert "polyfunc.ops" in graph["polyfunc.api"]                  # `from . import ops`
    assert "polyfunc.ops" in graph["polyfunc.interpreters.reverse"]  # through ops.elementwise's package
    assert graph["polyfunc.registry"] == set()


def test_the_import_graph_has_no_cycle():
    cycles = _strongly_connected(_graph())
    assert not cycles, "import cycles in the core:\n" + "\n".join(" <-> ".join(sorted(c)) for c in cycles)


def test_no_polyfunc_import_inside_a_function():
    found = []
    for name in MODULES:
        _, inner = _imports(name)
        for target in sorted(inner):
            if (name, target) not in FUNCTION_LEVEL_ALLOWED:
                found.append(f"{name} imports {target} inside a function")
    assert not found, "\n".join(found)


# layering: what each low part may not import (README, "Design")
FORBIDDEN = {
    "polyfunc.registry": {"polyfunc."},                                  # a leaf
    "polyfunc.trace": {"polyfunc.backends", "polyfunc.numpy", "polyfunc.api", "polyfunc.vmap",
                       "polyfunc.interpreters", "polyfunc.ops", "polyfunc.native"},
    "polyfunc.backends": {"polyfunc.interpreters", "polyfunc.ops", "polyfunc.numpy", "polyfunc.native",
                          "polyfunc.primitive", "polyfunc.api", "polyfunc.vmap"},
    "polyfunc.interpreters.batching": {"polyfunc.ops", "polyfunc.numpy", "polyfunc.api", "polyfunc.vmap"},
    "polyfunc.interpreters.jvp": {"polyfunc.ops", "polyfunc.numpy", "polyfunc.api", "polyfunc.vmap"},
    "polyfunc.interpreters.graph": {"polyfunc.ops", "polyfunc.numpy", "polyfunc.api", "polyfunc.vmap"},
    "polyfunc.interpreters.eval": {"polyfunc.ops", "polyfunc.numpy", "polyfunc.api", "polyfunc.vmap"},
}
# the user-level modules: ops never call them
USER_LEVEL = {"polyfunc.api", "polyfunc.vmap", "polyfunc.jit", "polyfunc.custom", "polyfunc.numpy", "polyfunc.random"}


@pytest.mark.parametrize("low", sorted(FORBIDDEN))
def test_low_parts_do_not_import_high_ones(low):
    top, inner = _imports(low)
    bad = [t for t in top | inner if any(t == f.rstrip(".") or t.startswith(f if f.endswith(".") else f + ".")
                                        or t == f for f in FORBIDDEN[low])]
    assert not bad, f"{low} imports {bad}"


def test_ops_never_import_the_user_api():
    for name in MODULES:
        if name == "polyfunc.ops" or name.startswith("polyfunc.ops."):
            top, inner = _imports(name)
            bad = [t for t in top | inner if any(t == u or t.startswith(u + ".") for u in USER_LEVEL)]
            assert not bad, f"{name} imports the user-level {bad}"


def test_no_module_looks_modules_up_by_name():
    # sys.modules / importlib lookups hide an import from the graph; entry points are fine
    for name, path in MODULES.items():
        src = path.read_text()
        if name == "polyfunc.testing.conformance.test_conformance":
            continue      # it lists the loaded ops modules to find the core's primitives
        assert not re.search(r"sys\.modules\[(?!__name__\])", src), name   # a module may reach itself
        assert "importlib.import_module" not in src, name


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "polyfunc.__main__"))
def test_every_core_module_imports_on_its_own(module):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, env=env,
                       cwd=str(ROOT / "tests"))
    assert r.returncode == 0, r.stderr[-3000:]



def test_a_folder_named_polyfunc_in_the_working_directory_does_not_shadow_the_package(tmp_path):
    # the newcomer trap: a script run from the folder that holds the clone (named "polyfunc", with
    # core/ and plugins/ but no __init__.py) must still import the installed package, not the clone
    # folder as an empty namespace package without grad
    clone = tmp_path / "polyfunc"
    (clone / "core").mkdir(parents=True)
    (clone / "plugins").mkdir()
    (clone / "README.md").write_text("a clone of polyfunc\n")
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    r = subprocess.run([sys.executable, "-c", "import polyfunc; print(polyfunc.grad); print(polyfunc.__file__)"],
                       capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    shown, where = r.stdout.strip().splitlines()[-2:]
    assert "grad" in shown and Path(where).resolve() == (CORE / PACKAGE / "__init__.py").resolve()

def test_trace_knows_no_user_module():
    # a fresh process: importing the trace module alone (its package's __init__ aside) pulls in
    # no user-level module on its own account
    top, inner = _imports("polyfunc.trace")
    assert top | inner <= {"polyfunc.errors", "polyfunc.registry"}, top | inner


# ---------------------------------------------------------------- the public surface
PUBLIC_MODULES = ["polyfunc", "polyfunc.api", "polyfunc.vmap", "polyfunc.jit", "polyfunc.custom", "polyfunc.random",
                  "polyfunc.tree", "polyfunc.backends", "polyfunc.plugin", "polyfunc.trace", "polyfunc.avals",
                  "polyfunc.primitive", "polyfunc.registry", "polyfunc.memo", "polyfunc.native", "polyfunc.hookspecs",
                  "polyfunc.errors", "polyfunc.testing", "polyfunc.interpreters.batching", "polyfunc.interpreters.eval"]


def _unannotated(fn, owner: str) -> list[str]:
    import inspect
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    missing = [p.name for p in sig.parameters.values()
               if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
    if sig.return_annotation is inspect.Signature.empty and getattr(fn, "__name__", "") != "__init__":
        missing.append("return")
    return [f"{owner}: {', '.join(missing)}"] if missing else []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_functions_are_typed(module):
    import importlib
    import inspect
    mod = importlib.import_module(module)
    bad = []
    for name in mod.__all__:
        obj = getattr(mod, name)
        if inspect.isfunction(obj):
            bad += _unannotated(obj, f"{module}.{name}")
        elif inspect.isclass(obj) and obj.__module__.startswith("polyfunc"):
            for attr, member in vars(obj).items():
                if inspect.isfunction(member) and (not attr.startswith("_") or attr in ("__init__", "__call__")):
                    bad += _unannotated(member, f"{module}.{name}.{attr}")
    assert not bad, "public functions without type hints:\n" + "\n".join(bad)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not any(p.startswith("_") for p in m.split(".")[1:])
                                          and not m.split(".")[-1].startswith("test_")))
def test_every_public_module_says_what_it_exports(module):
    import importlib
    mod = importlib.import_module(module)
    assert isinstance(getattr(mod, "__all__", None), (list, tuple)), f"{module} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{module}.__all__ names what it does not define: {missing}"


def test_the_user_namespace_is_what_all_says():
    import polyfunc as pf
    listed = set(dir(pf))
    for internal in ("api", "trace", "memo", "hookspecs", "interpreters", "registry", "primitive", "native", "avals"):
        assert internal not in listed, internal
    assert set(pf.__all__) <= listed
    assert "numpy" in listed and "numpy" not in pf.__all__     # star-import must not shadow the user's numpy
    namespace: dict = {}
    exec("from polyfunc import *", namespace)
    assert "numpy" not in namespace and "random" not in namespace and "grad" in namespace


def test_names_third_party_plugins_import_keep_working():
    import polyfunc.errors
    import polyfunc.plugin as plugin
    from polyfunc.backends import Backend
    from polyfunc.hookspecs import hookimpl
    from polyfunc.trace import ShapedArray
    assert plugin.Backend is Backend and plugin.hookimpl is hookimpl and plugin.ShapedArray is ShapedArray
    assert issubclass(polyfunc.errors.BackendError, polyfunc.errors.PolyfuncError)
    # the submodules stay reachable as attributes, for code written as pf.trace.X
    import polyfunc as pf
    assert pf.trace.ShapedArray is ShapedArray and pf.backends.Backend is Backend


def test_tracers_get_their_methods_from_the_table_polyfunc_numpy_installs():
    from polyfunc.numpy._methods import TRACER_METHODS
    from polyfunc.trace import Tracer, install_methods
    for name in ("__add__", "__getitem__", "sum", "reshape", "__torch_function__"):
        assert name in TRACER_METHODS and name in vars(Tracer), name
    assert vars(Tracer)["__add__"] is TRACER_METHODS["__add__"]
    with pytest.raises(ValueError, match="cannot be replaced"):
        install_methods({"aval": None})


# the README's layers ("Design", "Architecture"): a module imports only its own layer or earlier ones
LAYERS = [
    ["polyfunc.errors", "polyfunc.memo", "polyfunc.tree", "polyfunc.hookspecs", "polyfunc.registry",
     "polyfunc.array_api_windows", "polyfunc.array_api", "polyfunc.scopes", "polyfunc.gradmode", "polyfunc.gapkeys"],
    ["polyfunc.trace", "polyfunc.kernel_check"],
    ["polyfunc.backends", "polyfunc.typing"],
    ["polyfunc.avals", "polyfunc.native"],
    ["polyfunc.interpreters", "polyfunc.interpreters.eval", "polyfunc.interpreters.jvp",
     "polyfunc.interpreters.graph", "polyfunc.interpreters.batching"],
    ["polyfunc.primitive"],
    ["polyfunc.ops"],
    ["polyfunc.interpreters.reverse"],
    ["polyfunc.numpy"],
    ["polyfunc.vmap", "polyfunc.api", "polyfunc.custom", "polyfunc.jit", "polyfunc.random", "polyfunc.plugin",
     "polyfunc.testing", "polyfunc.tour", "polyfunc.quickbench", "polyfunc.__main__"],
    ["polyfunc"],
]


def _layer(module: str) -> int:
    best, depth = None, -1
    for i, layer in enumerate(LAYERS):
        for name in layer:
            if (module == name or module.startswith(name + ".")) and name.count(".") > depth:
                best, depth = i, name.count(".")
    assert best is not None, f"{module} is in no layer of the README's architecture"
    return best


def test_imports_follow_the_readme_layers():
    bad = []
    for name, edges in _graph().items():
        for target in edges:
            if _layer(target) > _layer(name):
                bad.append(f"{name} (layer {_layer(name) + 1}) imports {target} (layer {_layer(target) + 1})")
    assert not bad, "\n".join(sorted(bad))
