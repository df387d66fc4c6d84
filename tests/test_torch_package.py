"""The torch plugin's structure and its footprint on torch itself.

* torch is left unchanged: ``torch.randn`` & co. and ``F._canonical_mask`` are torch's own
  after importing polyfunc, after using the torch backend and after a transform; while a
  vmap runs they draw under vmap's ``randomness``.
* every built-in plugin (numpy, torch, cupy, dask) imports only the public plugin API
  (``polyfunc.plugin``, ``polyfunc.errors``, ``polyfunc.ops``, ``polyfunc.numpy``, the user API)
  and other plugins' public names, says what it exports in ``__all__``, and its modules import
  each other without a cycle.
"""
from __future__ import annotations

import ast
import importlib
import pathlib
import re
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

import polyfunc as pf  # noqa: E402

PLUGINS_DIR = pathlib.Path(__file__).resolve().parents[1] / "plugins"
PLUGIN = PLUGINS_DIR / "torch_backend" / "polyfunc_torch"
# every built-in plugin's package folder: the import rules below hold for all of them
BUILT_IN = {name: PLUGINS_DIR / f"{name}_backend" / f"polyfunc_{name}" for name in ("numpy", "torch", "cupy", "dask")}
INTERCEPTED = ("torch.randn", "torch.rand", "torch.randint", "torch.randn_like", "torch.rand_like",
               "torch.bernoulli", "torch.nn.functional._canonical_mask", "torch.nn.functional._none_or_dtype")

_IDENTITY = """
import sys, torch, torch.nn.functional as F
NAMES = {names!r}
def obj(path):
    mod, _, attr = path.rpartition(".")
    return getattr(sys.modules[mod], attr)
before = {{n: obj(n) for n in NAMES}}
def same(when):
    changed = [n for n in NAMES if obj(n) is not before[n]]
    assert not changed, (when, changed)
import polyfunc as pf, polyfunc.numpy as pnp
import polyfunc_torch
same("import")
x = torch.ones(4, 3)
pnp.sin(pnp.asarray(x)); pf.grad(lambda v: torch.sin(v).sum())(x)
same("backend use")
seen = []
def f(v):
    seen.append([n for n in NAMES if obj(n) is not before[n]])
    return v + torch.randn(3)
pf.vmap(f, randomness="different")(x)
pf.jit(lambda v: torch.nn.MultiheadAttention(3, 1)(v, v, v)[0])(x)
same("transforms")
assert seen and len(seen[0]) == len(NAMES), seen       # routed while the vmap ran
try:
    pf.vmap(lambda v: v + torch.rand(3))(x)
except Exception:
    pass
same("a failed transform")
print("ok")
"""


def test_torch_is_unchanged_outside_transforms():
    # a fresh interpreter: the identities before polyfunc is imported at all
    out = subprocess.run([sys.executable, "-c", _IDENTITY.format(names=INTERCEPTED)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("factory", [lambda: torch.randn(3), lambda: torch.rand(3), lambda: torch.randint(0, 1000, (3,)),
                                     lambda: torch.randn(3, dtype=torch.float64), lambda: torch.randn((3,))])
def test_torch_factories_follow_vmap_randomness(factory):
    xs = torch.zeros(4, 3)
    with pytest.raises(pf.TransformError, match="randomness"):
        pf.vmap(lambda x: x + factory())(xs)
    diff = pf.vmap(lambda x: x + factory(), randomness="different")(xs)
    assert not torch.equal(diff[0], diff[1])
    same = pf.vmap(lambda x: x + factory(), randomness="same")(xs)
    assert all(torch.equal(same[0], same[i]) for i in range(4))
    # nested: the outer vmap's randomness holds in the inner one too
    nested = pf.vmap(pf.vmap(lambda x: x + factory(), randomness="different"), randomness="different")(
        torch.zeros(2, 4, 3))
    assert nested.shape == (2, 4, 3) and not torch.equal(nested[0, 0], nested[1, 1])


def test_like_factories_on_concrete_tensors_follow_vmap_randomness():
    base = torch.ones(3)
    for draw in (lambda: torch.randn_like(base), lambda: torch.rand_like(base), lambda: torch.bernoulli(base * 0.5)):
        diff = pf.vmap(lambda x: x + draw(), randomness="different")(torch.zeros(4, 3))
        assert not all(torch.equal(diff[0], diff[i]) for i in range(4))
        same = pf.vmap(lambda x: x + draw(), randomness="same")(torch.zeros(4, 3))
        assert all(torch.equal(same[0], same[i]) for i in range(4))


def test_outside_vmap_torch_draws_from_its_own_generator():
    torch.manual_seed(3)
    want = torch.randn(3)
    torch.manual_seed(3)
    got = pf.grad(lambda x: (x * torch.randn(3)).sum())(torch.ones(3))
    assert torch.equal(got, want)


def _imports(path: pathlib.Path, root: pathlib.Path = PLUGIN):
    """(module imported, at function level?) for every import statement of a file of the package at ``root``."""
    tree = ast.parse(path.read_text())
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    pkg = ".".join(path.relative_to(root.parent).with_suffix("").parts)
    if path.name == "__init__.py":
        pkg = pkg.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, id(node) in in_function
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                up = parts[:len(parts) - node.level + (1 if path.name == "__init__.py" else 0)]
                base = ".".join(up + ([node.module] if node.module else []))
                for a in node.names:       # `from . import elementwise` imports a module
                    yield (f"{base}.{a.name}" if not node.module else base), id(node) in in_function
            else:
                yield base, id(node) in in_function


PUBLIC = {"polyfunc", "polyfunc.plugin", "polyfunc.errors", "polyfunc.ops", "polyfunc.numpy", "polyfunc.random"}


def _names_from_other_plugins(path: pathlib.Path, own: str):
    """(module, name) for every ``from polyfunc_<other> ... import name`` of a file."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("polyfunc_") \
                and node.module.split(".")[0] != own:
            for a in node.names:
                yield node.module, a.name


@pytest.mark.parametrize("plugin", sorted(BUILT_IN))
def test_plugin_imports_only_the_public_plugin_api(plugin):
    root = BUILT_IN[plugin]
    files = sorted(root.rglob("*.py"))
    assert files, root
    bad = []
    for path in files:
        for mod, _ in _imports(path, root):
            if mod.split(".")[0] == "polyfunc" and mod not in PUBLIC:
                bad.append((path.name, mod))
            # another plugin is used through its public modules only (polyfunc_numpy.kernels, not ._x)
            if mod.startswith("polyfunc_") and mod.split(".")[0] != root.name and any(p.startswith("_") for p in mod.split(".")):
                bad.append((path.name, mod))
        for mod, name in _names_from_other_plugins(path, root.name):
            if name.startswith("_"):
                bad.append((path.name, f"{mod}.{name}"))
        text = path.read_text()
        for private in ("pf.trace", "pf.backends", "pf.native", "pnp._", "_current", "native_map"):
            if re.search(rf"(?<!\w){re.escape(private)}", text):     # cupy's get_current_stream is no `_current`
                bad.append((path.name, private))
    assert not bad, bad


@pytest.mark.parametrize("plugin", sorted(BUILT_IN))
def test_plugin_says_what_it_exports(plugin):
    mod = importlib.import_module(f"polyfunc_{plugin}")
    assert isinstance(getattr(mod, "__all__", None), list), f"polyfunc_{plugin} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"polyfunc_{plugin}.__all__ names what it does not define: {missing}"


@pytest.mark.parametrize("plugin", sorted(BUILT_IN))
def test_plugin_modules_import_each_other_without_a_cycle(plugin):
    root = BUILT_IN[plugin]
    graph: dict[str, set] = {}
    for path in root.rglob("*.py"):
        name = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        graph[name] = {m for m, _ in _imports(path, root) if m.startswith(root.name) and m != name}
    state: dict[str, int] = {}

    def visit(n, stack):
        if state.get(n) == 1:
            raise AssertionError(f"import cycle: {' -> '.join(stack + [n])}")
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in sorted(graph.get(n, ())):
            visit(m, stack + [n])
        state[n] = 2
    for n in sorted(graph):
        visit(n, [])
    assert f"{root.name}.backend" in graph
    if plugin == "torch":
        assert "polyfunc_torch.torch_map" in graph and "polyfunc_torch.nn.attention" in graph


def test_no_module_level_torch_import_in_what_discovery_loads():
    # plugin discovery imports polyfunc_torch and its backend module; torch must stay unimported
    out = subprocess.run([sys.executable, "-c", "import sys, polyfunc as pf; pf.available_backends() "
                          "if hasattr(pf, 'available_backends') else None; import polyfunc_torch, "
                          "polyfunc_torch.backend; print('torch' in sys.modules)"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "False", out.stderr
