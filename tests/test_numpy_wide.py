"""The wider NumPy namespace (the names HIPS autograd's NumPy has): forward values
against NumPy on every backend, derivatives by check_grads, vmap against a loop;
and the NumPy plugin's map, walked over every NumPy ufunc and public function
that polyfunc.numpy has."""
import numpy as np
import pytest

import polyfunc as pf
import polyfunc.numpy as pnp
from polyfunc.errors import ShapeError
from polyfunc.native import native_map
from polyfunc.testing import check_grads, to_numpy

RNG = np.random.default_rng(3)
A = RNG.standard_normal((3, 4))
B3 = RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(5)


def _on(backend, a):
    return backend.asarray(np.asarray(a))


def _same(got, want, rtol=1e-12):
    got_l, want_l = pf.tree.flatten(got)[0], pf.tree.flatten(want)[0]
    assert len(got_l) == len(want_l)
    for g, w in zip(got_l, want_l):
        g = to_numpy(g)
        assert g.shape == np.shape(w), (g.shape, np.shape(w))
        assert g.dtype == np.asarray(w).dtype, (g.dtype, np.asarray(w).dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-12)


# name -> (polyfunc call, NumPy call, arguments): the same call written for both modules
CASES = {
    "r_arrays": (lambda m, a: m.r_[a, a], [A]),
    "r_scalars_slices": (lambda m, v: m.r_[v, 1.5, 2:5, 0:1:3j], [V]),
    "r_directive": (lambda m, v: m.r_["0,2", v, v], [V]),
    "r_directive_trans": (lambda m, v: m.r_["1,2,0", v, v], [V]),
    "r_axis": (lambda m, a: m.r_["-1", a, a], [A]),
    "c_": (lambda m, a, v: (m.c_[a, a], m.c_[v, v, v]), [A, V]),
    "append": (lambda m, a, v: (m.append(a, v), m.append(a, a[:1], axis=0), m.append(v, 2.0)), [A, V]),
    "row_stack": (lambda m, a, v: m.row_stack([a, a[:2]]) if m is pnp else np.vstack([a, a[:2]]), [A, V]),
    "vsplit": (lambda m, b: tuple(m.vsplit(b, 2)) + tuple(m.vsplit(b, [1])), [B3]),
    "hsplit": (lambda m, b, v: tuple(m.hsplit(b, 3)) + tuple(m.hsplit(v, [2, 3])), [B3, V]),
    "dsplit": (lambda m, b: tuple(m.dsplit(b, 2)) + tuple(m.dsplit(b, [1, 3])), [B3]),
    "array_split": (lambda m, v: tuple(m.array_split(v, 3)), [V]),
    "rot90": (lambda m, b: tuple(m.rot90(b, k, ax) for k in (-1, 0, 1, 2, 3, 5) for ax in ((0, 1), (2, 0), (1, -1))),
              [B3]),
    "rollaxis": (lambda m, b: tuple(m.rollaxis(b, ax, st) for ax in (0, 1, 2, -1) for st in (0, 1, 2, 3)), [B3]),
    "select": (lambda m, v: m.select([v > 0.5, v < -0.5], [v, v * 2.0], -1.0), [V]),
    "select_broadcast": (lambda m, a, v: m.select([a > 0, a < -1], [a[0], 3.0], 0.0), [A, V]),
    "nan_to_num": (lambda m, v: (m.nan_to_num(v / np.array([0.0, 1, 1, 0, 2]) * np.array([0.0, 1, 1, 1, 1])),
                                 m.nan_to_num(v / np.array([0.0, 1, 1, 0, 2]), nan=1.0, posinf=5.0, neginf=-5.0)),
                   [V]),
    "gradient": (lambda m, b: (m.gradient(b), m.gradient(b, axis=1), m.gradient(b, 2.0, axis=(0, -1)),
                               m.gradient(b, edge_order=2, axis=-1), m.gradient(b, 1.0, 2.0, 0.5)), [B3]),
    "logaddexp2": (lambda m, a, v: (m.logaddexp2(a, a[0]), m.logaddexp2(a, 1.0)), [A, V]),
    "einsum_sublist": (lambda m, a, b: (m.einsum(a, [0, 1], b, [2, 0, 1]), m.einsum(a, [0, 1], a, [2, 1], [2, 0]),
                                        m.einsum(b, [Ellipsis, 1], [Ellipsis])), [A, B3]),
    "cross": (lambda m, x, y: (m.cross(x, y), m.cross(x[:, :2], y), m.cross(x[:, :2], y[:, :2]),
                               m.cross(x.T, y, axisa=0), m.cross(x.T, y.T, axisa=0, axisb=0, axisc=0),
                               m.cross(x.T, y.T, axis=0)),
              [RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))]),
    "fmod": (lambda m, a: (m.fmod(a, 0.7), m.fmod(-a * 3.0, a + 3.0)), [A]),
    "real_parts": (lambda m, a: (m.real(a), m.imag(a), m.conj(a), m.angle(a), m.real_if_close(a + 0j)), [A]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_matches_numpy(backend, name):
    f, args = CASES[name]
    _same(f(pnp, *[_on(backend, a) for a in args]), f(np, *args))


def test_partition_is_a_valid_partition(backend):
    x = _on(backend, V)
    for k in (0, 2, 4, -1):
        got = to_numpy(pnp.partition(x, k))
        want = np.partition(V, k)
        assert got[k] == want[k]
        assert (got[:k % 5] <= got[k]).all() and (got[k % 5:] >= got[k]).all()
    with pytest.raises(ValueError, match="kth"):
        pnp.partition(x, 5)


def test_version_is_numpys():
    assert pnp.__version__ == np.__version__


DIFF = {
    "r_": lambda b: pnp.r_[pnp.ravel(b), 2.0 * b[0, 0], 1:3, b[1, 1] * 0.5],
    "c_": lambda b: pnp.c_[b, b[..., :1] * 3.0],
    "append": lambda a: pnp.append(a, a[0] * 3.0),
    "vsplit": lambda b: pnp.vsplit(b, 2)[1] * 2.0,
    "hsplit": lambda b: pnp.hsplit(b, [1])[1],
    "dsplit": lambda b: pnp.dsplit(b, [1, 3])[1],
    "rot90": lambda b: pnp.rot90(b, 3, (2, 0)),
    "rollaxis": lambda b: pnp.rollaxis(b, 2, 1),
    "select": lambda b: pnp.select([b > 0.5, b < -0.5], [pnp.sin(b), b * b], 0.1 * b),
    "partition": lambda b: pnp.partition(b, 2, axis=-1),
    # log of a negative is NaN, replaced by 0 with derivative 0 (log's own derivative there is finite;
    # an inf made by an infinite derivative, such as x / 0, still gives NaN, as with where)
    "nan_to_num": lambda b: pnp.nan_to_num(pnp.log(b + 0.3 * pnp.sign(b))),
    "gradient": lambda b: pnp.stack(pnp.gradient(b * b, axis=(0, 2))),
    "logaddexp2": lambda b: pnp.logaddexp2(b, b[0]),
    "logaddexp_ties": lambda b: pnp.logaddexp(b, b) + pnp.logaddexp2(b, b),
    "einsum_sublist": lambda b: pnp.einsum(b, [0, 1, 2], b, [0, 1, 3], [2, 3]),
    "cross": lambda b: pnp.cross(b[:, :, :3], b[:, :, 1:], axisa=-1, axisb=-1, axisc=0),
    "real_if_close": lambda b: pnp.real_if_close(b),
    "fmod": lambda b: pnp.fmod(b, 0.75),
}


@pytest.mark.parametrize("name", sorted(DIFF))
def test_derivatives(backend, name):
    check_grads(DIFF[name], (_on(backend, B3),), order=2)


@pytest.mark.parametrize("name", sorted(DIFF))
def test_vmap_matches_a_loop(backend, name):
    f = DIFF[name]
    xs = _on(backend, RNG.standard_normal((3,) + B3.shape))
    got = pf.vmap(f)(xs)
    for i in range(3):
        _same(to_numpy(got)[i], to_numpy(f(_on(backend, to_numpy(xs)[i]))))


def test_bad_input_is_named():
    with pytest.raises(ShapeError, match="rollaxis"):
        pnp.rollaxis(pnp.asarray(B3), 0, 5)
    with pytest.raises(ValueError, match="select: list of cases"):
        pnp.select([pnp.asarray(V) > 0], [V, V])
    with pytest.raises(TypeError, match="select: invalid entry 0"):
        pnp.select([pnp.asarray(V)], [V])
    with pytest.raises(ShapeError, match="cross"):
        pnp.cross(pnp.ones(4), pnp.ones(3))
    with pytest.raises(TypeError, match="matrix"):
        pnp.r_["r", V]
    with pytest.raises(ShapeError, match="vsplit"):
        pnp.vsplit(pnp.asarray(V), 5)
    with pytest.raises(ShapeError, match="dsplit"):
        pnp.dsplit(pnp.asarray(A), 2)
    with pytest.raises(ValueError, match="einsum: a sublist"):
        pnp.einsum(A, [0, "x"])
    with pytest.raises(ValueError, match="rot90"):
        pnp.rot90(pnp.asarray(A), 1, (0, 0))


# ---------------------------------------------------------------- the NumPy plugin's map
def _public_numpy_names():
    """Every NumPy ufunc and public function (np.* and np.linalg.*) that polyfunc.numpy has too."""
    out = []
    for mod, pmod, prefix in ((np, pnp, ""), (np.linalg, pnp.linalg, "linalg.")):
        for name in dir(mod):
            if name.startswith("_"):
                continue
            obj = getattr(mod, name)
            if isinstance(obj, type) or not callable(obj) or not (isinstance(obj, np.ufunc) or
                                                                  hasattr(obj, "__module__")):
                continue
            target = getattr(pmod, {"absolute": "abs", "amax": "max", "amin": "min", "around": "round",
                                    "mod": "remainder", "concat": "concatenate", "permute_dims": "transpose",
                                    "pow": "power"}.get(name, name), None)
            if target is None or target is obj or isinstance(target, type):
                continue
            out.append((prefix + name, obj))
    return out


def test_every_numpy_function_polyfunc_has_is_mapped():
    pf.backends()      # loads the plugins and their maps
    names = _public_numpy_names()
    assert len(names) > 150
    missing = sorted(n for n, obj in names if obj not in native_map)
    assert not missing, f"NumPy functions polyfunc.numpy has but the NumPy plugin does not map: {missing}"


ISSUE_UFUNCS = ["arcsinh", "arccosh", "arctanh", "hypot", "fmax", "fmin", "isfinite", "isinf", "trunc", "rint",
                "deg2rad", "fabs", "rad2deg", "exp2", "log2", "log10", "logaddexp2", "real", "imag", "conj",
                "angle", "fmod"]


def _domain(name):
    return {"arccosh": 1.5, "arctanh": 0.3}.get(name, 0.7)


@pytest.mark.parametrize("name", ISSUE_UFUNCS)
def test_numpy_functions_run_on_tracers(name):
    f = getattr(np, name)
    x = np.array([_domain(name), _domain(name) + 0.1])
    binary = isinstance(f, np.ufunc) and f.nin == 2

    def g(v):
        out = f(v, v * 0.5 + 0.2) if binary else f(v)
        if out.dtype == bool:
            return np.sum(np.where(out, v, 0.0))
        return np.sum(out * v)
    want = pf.grad(lambda v: pnp.sum(getattr(pnp, name)(v, v * 0.5 + 0.2) * v) if binary else
                   pnp.sum(pnp.where(getattr(pnp, name)(v), v, 0.0) if getattr(pnp, name)(v).dtype == bool
                           else getattr(pnp, name)(v) * v))(x)
    np.testing.assert_allclose(pf.grad(g)(x), want, rtol=1e-12)
    check_grads(g, (x,), order=1)


def test_every_mapped_ufunc_of_floats_runs_on_a_tracer():
    """Each mapped NumPy ufunc taking floats, called on a tracer, gives NumPy's value."""
    pf.backends()
    x = np.array([0.3, 0.6])
    ran = 0
    for name, obj in _public_numpy_names():
        if not isinstance(obj, np.ufunc) or obj.nout != 1:
            continue
        args = (x,) * obj.nin
        try:
            want = obj(*args)
        except TypeError:           # integer-only ufuncs (bitwise, gcd, ...)
            continue
        if want.dtype.kind not in "fb":
            continue
        out = {}

        def f(v):
            r = obj(*(v,) * obj.nin)
            out["v"] = to_numpy(r.primal if hasattr(r, "primal") else r)
            return pnp.sum(pnp.where(r, v, 0.0)) if want.dtype == bool else pnp.sum(r)
        pf.grad(f)(x)
        np.testing.assert_allclose(out["v"], want, rtol=1e-12, err_msg=name)
        ran += 1
    assert ran > 40
