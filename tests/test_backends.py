"""Plugin discovery, backend selection and the errors around them."""
import importlib.metadata
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc import backends as _unused  # noqa: F401
import polyfunc.backends as B

HERE = os.path.dirname(__file__)


@pytest.fixture(autouse=True)
def numpy_by_default(monkeypatch):
    """These tests are about the default choice: run them without POLYFUNC_BACKEND."""
    monkeypatch.delenv("POLYFUNC_BACKEND", raising=False)
    B._env_cache[:] = [None, None]
    yield
    B._env_cache[:] = [None, None]


@pytest.fixture
def extra_plugins(monkeypatch):
    """Discover the installed plugins plus a working third-party one and a broken one."""
    monkeypatch.syspath_prepend(os.path.join(HERE, "plugins"))
    eps = list(importlib.metadata.entry_points(group=B.ENTRY_POINT_GROUP)) + [
        importlib.metadata.EntryPoint("mini", "mini_backend", B.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("broken", "broken_plugin", B.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("badreg", "badreg_plugin", B.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint("badnative", "badnative_plugin", B.ENTRY_POINT_GROUP),
    ]
    B.reload_plugins(eps)
    yield
    B.reload_plugins()
    B._by_spec.clear()
    B._env_cache[:] = [None, None]


def test_default_backend_is_numpy():
    x = pnp.asarray([1.0, 2.0, 3.0])
    assert type(x) is np.ndarray
    y = pnp.sum(pnp.sin(x) * 2.0 + x @ x)
    np.testing.assert_allclose(y, np.sum(np.sin([1.0, 2, 3]) * 2.0 + 14.0))
    names = {b.name: b for b in pf.backends()}
    assert names["numpy"].available and "numpy.ndarray" in names["numpy"].array_types


def test_use_backend_is_a_context_variable():
    seen = {}

    def other_thread():
        seen["name"] = pf.current_backend().name
    with pf.use_backend("numpy") as b:
        assert b.name == "numpy" and pf.current_backend() is b
        t = threading.Thread(target=other_thread)
        t.start()
        t.join()
    assert seen["name"] == "numpy"


def test_unknown_backend_lists_installed(monkeypatch):
    with pytest.raises(pf.BackendError, match=r"(?s)unknown backend .nosuch.*numpy: available"):
        with pf.use_backend("nosuch"):
            pass
    monkeypatch.setenv("POLYFUNC_BACKEND", "nosuch")
    B._env_cache[:] = [None, None]
    with pytest.raises(pf.BackendError, match="unknown backend 'nosuch'"):
        pnp.zeros(3)
    monkeypatch.delenv("POLYFUNC_BACKEND")
    assert type(pnp.zeros(3)) is np.ndarray  # nothing was left behind


def test_env_var_selects_backend_in_a_fresh_process():
    code = "import polyfunc as pf; print(pf.current_backend().name)"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "POLYFUNC_BACKEND": "numpy"},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "numpy"
    bad = subprocess.run([sys.executable, "-c", "import polyfunc.numpy as p; p.zeros(2)"],
                         env={**os.environ, "POLYFUNC_BACKEND": "nosuch"}, capture_output=True, text=True)
    assert bad.returncode != 0 and "unknown backend 'nosuch'" in bad.stderr


def test_third_party_backend_and_broken_plugin(extra_plugins):
    infos = {b.name: b for b in pf.backends()}
    assert infos["mini"].available and infos["mini"].plugin == "mini"
    assert not infos["needsgpu"].available and "no GPU" in infos["needsgpu"].reason
    assert "broken" in pf.failed_plugins() and "nosuchlib" in pf.failed_plugins()["broken"]
    assert "while registering backends: device driver missing" in pf.failed_plugins()["badreg"]
    assert "while registering native functions: native map is broken" in pf.failed_plugins()["badnative"]
    assert pf.grad(lambda v: np.sum(np.sin(v)))(np.zeros(2)).tolist() == [1.0, 1.0]   # others' maps still load
    assert type(pnp.sin(pnp.asarray([0.5]))) is np.ndarray  # the others still work
    from mini_backend import MiniArray
    m = MiniArray([0.0, 1.0])
    out = pf.ops.sin(m)
    assert isinstance(out, MiniArray)
    np.testing.assert_allclose(out.data, np.sin([0.0, 1.0]))


def test_plugin_adds_a_primitive_with_its_rules(extra_plugins):
    from polyfunc.primitive import primitives
    assert B.plugin_primitives["mini_triple"] == "mini"
    p = primitives["mini_triple"]
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(p.bind(x), [3.0, 6.0])
    np.testing.assert_allclose(pf.grad(lambda v: p.bind(v).sum())(x), [3.0, 3.0])
    np.testing.assert_allclose(pf.vmap(lambda v: p.bind(v))(np.ones((2, 2))), np.full((2, 2), 3.0))


def test_info_shows_broken_plugin_and_reasons(extra_plugins, capsys):
    from polyfunc.__main__ import info
    info()
    text = capsys.readouterr().out
    assert "mini" in text and "needsgpu" in text and "no GPU on this machine" in text
    assert "broken" in text and "nosuchlib" in text


def test_installed_but_unavailable_backend(extra_plugins):
    with pytest.raises(pf.BackendError, match=r"'needsgpu' is installed but cannot run here: no GPU"):
        with pf.use_backend("needsgpu"):
            pass


def test_missing_kernel_is_named(extra_plugins):
    from mini_backend import MiniArray
    with pytest.raises(pf.MissingKernelError, match=r"'mini' has no kernel for primitive 'cos'"):
        pf.ops.cos(MiniArray([1.0]))


def test_mixing_two_backends_names_both(extra_plugins):
    from mini_backend import MiniArray
    with pytest.raises(pf.BackendError, match=r"two backends.*'numpy'.*'mini'|two backends.*'mini'.*'numpy'"):
        pf.ops.add(np.ones(2), MiniArray([1.0, 2.0]))


def test_disable_plugins_env(monkeypatch):
    monkeypatch.setenv("POLYFUNC_DISABLE_PLUGINS", "cupy, torch, dask")
    B.reload_plugins()
    try:
        assert {b.name for b in pf.backends()} == {"numpy"}
    finally:
        monkeypatch.delenv("POLYFUNC_DISABLE_PLUGINS")
        B.reload_plugins()


def test_core_imports_no_array_library():
    code = ("import sys, polyfunc, polyfunc.numpy as pnp; pnp.sin(pnp.ones(2)); "
            "print(sorted(m for m in ('torch', 'cupy') if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if k != "POLYFUNC_BACKEND"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bad,exc,msg", [
    (lambda: pnp.add(pnp.ones(3), pnp.ones(4)), pf.ShapeError, r"\(3,\).*\(4,\).*broadcast"),
    (lambda: pnp.sum(pnp.ones((2, 3)), axis=2), pf.ShapeError, r"axis 2.*\(2, 3\)"),
    (lambda: pnp.asarray(["a", "b"]), pf.DTypeError, "dtype"),
])
def test_bad_shapes_axes_dtypes(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        bad()
