"""The conformance suite, generated from the op table (polyfunc.testing.optable).

For every primitive and every selected backend (the ``backend`` fixture of
polyfunc's pytest plugin):

* forward: the result against the NumPy reference (values, shape, dtype), and
  against the primitive's abstract evaluation (shape and dtype);
* jvp: against central finite differences in float64;
* vjp: against jvp through ``<v, J u> == <J^T v, u>``;
* vmap: against a Python loop and stack, for in_dims 0, the last dim and None
  per argument, and out_dims 0 and the last dim;
* grad2: ``check_grads(order=2)`` (jvp/vjp of jvp/vjp against finite differences).

Run it for one backend with
``pytest --pyargs polyfunc.testing.conformance --polyfunc-backend=NAME``.
A backend declares its known gaps with the ``polyfunc_conformance_gaps`` hook.
"""
from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest

import polyfunc as pf
from polyfunc.primitive import Primitive, primitives
from polyfunc.testing.checks import (_assert_close, check_grads, check_jvp, check_vjp_against_jvp,
                                     generic_batch_rules, to_numpy)
from polyfunc.testing.optable import C128, EXCLUDED_PRIMITIVES, F64, OP_CASES, op_cases, tolerance
from polyfunc.avals import get_aval

# Known bugs found by this suite, marked xfail(strict=True) so a fix shows up as XPASS (and fails the run
# until the entry is removed).  Key: (backend name or None for every backend, check, case name,
# dtype name or None, sample index or None) -> reason.
KNOWN_BUGS: dict = {   # (backend, check, case, dtype, sample index) -> 'bug: ...' reason (strict xfail)
    **{("torch", "forward", "sign", dt, 3): "bug: the torch kernel of sign gives 0 at NaN (torch.sign), NumPy NaN"
       for dt in ("float32", "float64")},
    **{("torch", ck, "reduce_prod", None, 10): "bug: the torch kernel of reduce_prod fails on shape (0, 0, 0) over "
       "axes (0, 1) (reshape of 0 elements to [0, -1]); NumPy gives an empty array"
       for ck in ("forward", "jvp", "vjp", "vmap", "grad2")},
}


def _known_bug(request, backend, check, case, dtype=None, idx=None):
    for (bk, ck, cs, dt, ix), reason in KNOWN_BUGS.items():
        if (bk is None or bk == backend.name) and ck == check and cs == case.name and \
                (dt is None or dt == str(dtype)) and (ix is None or ix == idx):
            request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))
            return


def _to_backend(backend, a):
    # no catch-all: a backend that cannot hold a dtype of the table declares it as a gap
    # (polyfunc_conformance_gaps); a conversion that breaks must fail, not skip
    a = np.asarray(a)
    return backend.asarray(a, dtype=a.dtype)


def _backend_overridden() -> set:
    """Primitives for which some installed backend registers its own batching rule."""
    names = set()
    for info in pf.backends.backends():
        if info.available:
            names |= set(pf.get_backend(info.name).batch_rules or ())
    return names


def _params(check, want_dtype=None, grad=False):
    out = []
    overridden = _backend_overridden() if check == "vmap_generic" else set()
    for case in OP_CASES:
        if grad and not case.differentiable:
            continue
        if check.startswith("vmap") and not case.batchable:
            continue
        if check == "vmap_generic" and case.name not in overridden:
            continue          # no backend overrides it: test_vmap already runs the core's rule
        vm = check.startswith("vmap")
        dtypes = [F64] if (grad or vm) and F64 in case.dtypes else \
            ([case.dtypes[0]] if vm else ([] if grad else list(case.dtypes)))
        if (grad or vm) and C128 in case.dtypes:
            dtypes = [d for d in dtypes if d != C128] + [C128]    # derivatives of complex rows too
        for dt in dtypes:
            for i, s in enumerate(case.samples(dt)):
                if grad and not s.grad:
                    continue
                if check == "vmap_generic":
                    out.append(pytest.param(case, dt, i, id=f"{case.name}-{dt}-{i}",
                                            marks=pytest.mark.polyfunc_op(case.name, "vmap")))
                    continue
                out.append(pytest.param(case, dt, i, id=f"{case.name}-{dt}-{i}",
                                        marks=pytest.mark.polyfunc_op(case.name, check)))
    return out


# ---------------------------------------------------------------- coverage of the table
def _core_primitives() -> set:
    """Names of the primitives polyfunc itself defines (those reachable from polyfunc.ops modules);
    primitives that tests or third-party plugins register at run time are not the table's business."""
    names = set()
    for modname, mod in list(sys.modules.items()):
        if modname == "polyfunc.ops" or modname.startswith("polyfunc.ops."):
            for v in vars(mod).values():
                if isinstance(v, Primitive):
                    names.add(v.name)
    return names


def test_every_primitive_has_an_op_case():
    table = op_cases()
    core = _core_primitives()
    assert core >= set(table) - {"custom_jvp_call"}, "the scan of polyfunc.ops found too few primitives"
    missing = sorted(n for n in core if n not in table and n not in EXCLUDED_PRIMITIVES)
    assert not missing, (f"primitives without a row in polyfunc/testing/optable.py: {missing}; add an OpCase "
                         f"for each (or list it in EXCLUDED_PRIMITIVES if it has its own tests)")
    stale = sorted(n for n in table if n not in primitives)
    assert not stale, f"op-table rows for primitives that are not registered: {stale}"


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("case,dtype,idx", _params("forward"))
def test_forward(request, backend, case, dtype, idx):
    _known_bug(request, backend, "forward", case, dtype, idx)
    s = case.samples(dtype)[idx]
    args = [_to_backend(backend, a) for a in s.args]
    got = case.fn(*args, **s.params)
    with np.errstate(all="ignore"):      # samples at inf, nan and 1e300 warn in NumPy as they should
        want = np.asarray(case.ref(*s.args, **s.params))
    assert got is not None
    if not isinstance(got, (bool, int, float)):
        assert backend.owns_type(type(got)), \
            f"{case.name}: the result is a {type(got).__name__}, not an array of backend {backend.name!r}"
    g = to_numpy(got)
    assert g.shape == want.shape, f"{case.name} [{s.label}]: shape {g.shape}, NumPy gives {want.shape}"
    assert g.dtype == want.dtype, f"{case.name} [{s.label}]: dtype {g.dtype}, expected {want.dtype}"
    rtol, atol = tolerance(dtype, case.tol) if want.dtype.kind in "fc" else (0.0, 0.0)
    if want.dtype.kind in "fc":
        _assert_close(g, want, rtol, atol, f"{case.name} [{s.label}, {dtype}] vs NumPy")
    else:
        np.testing.assert_array_equal(g, want, err_msg=f"{case.name} [{s.label}, {dtype}] vs NumPy")
    # the abstract evaluation (shape and dtype without computing) agrees with the computed result
    graph = pf.make_graph(lambda *a: case.fn(*a, **s.params))(*args)
    aval = get_aval(graph.outvars[0])
    assert (tuple(aval.shape), np.dtype(aval.dtype)) == (g.shape, g.dtype), \
        f"{case.name} [{s.label}, {dtype}]: abstract eval says {aval}, the kernel returned {g.dtype}{list(g.shape)}"


# ---------------------------------------------------------------- derivatives
def _split(case, sample, backend):
    args = [_to_backend(backend, a) for a in sample.args]
    diff = [i for i in case.diff_args if i < len(args)]

    def f(*d):
        full = list(args)
        for i, v in zip(diff, d):
            full[i] = v
        return case.fn(*full, **sample.params)
    return f, [args[i] for i in diff]


def _grad_kw(case):
    kw = {}
    if case.grad_tol is not None:
        kw["rtol"], kw["atol"] = case.grad_tol
    if case.grad_eps is not None:
        kw["eps"] = case.grad_eps
    return kw


@pytest.mark.parametrize("case,dtype,idx", _params("jvp", grad=True))
def test_jvp(request, backend, case, dtype, idx):
    _known_bug(request, backend, "jvp", case, dtype, idx)
    f, primals = _split(case, case.samples(dtype)[idx], backend)
    check_jvp(f, primals, label=f"{case.name} jvp vs finite differences", **_grad_kw(case))


@pytest.mark.parametrize("case,dtype,idx", _params("vjp", grad=True))
def test_vjp(request, backend, case, dtype, idx):
    _known_bug(request, backend, "vjp", case, dtype, idx)
    f, primals = _split(case, case.samples(dtype)[idx], backend)
    check_vjp_against_jvp(f, primals)


@pytest.mark.parametrize("case,dtype,idx", _params("grad2", grad=True))
def test_grad2(request, backend, case, dtype, idx):
    _known_bug(request, backend, "grad2", case, dtype, idx)
    s = case.samples(dtype)[idx]
    f, primals = _split(case, s, backend)
    # a sample at a tie or kink checks order 1 only (vjp against finite differences, which test_vjp
    # does not: it compares vjp with jvp)
    order = case.grad_order if s.order is None else min(s.order, case.grad_order)
    check_grads(f, primals, order=order, modes=("fwd", "rev"), **_grad_kw(case))


def test_stop_gradient_blocks_derivatives(backend):
    x = _to_backend(backend, np.array([0.5, -1.0, 2.0]))
    out, t = pf.jvp(lambda x: pf.ops.mul(pf.ops.stop_gradient(x), x), (x,), (pf.ops.full_like(x, 1.0, (3,), F64),))
    np.testing.assert_allclose(to_numpy(t), [0.5, -1.0, 2.0])
    g = pf.grad(lambda x: pf.ops.reduce_sum(pf.ops.mul(pf.ops.stop_gradient(x), x), (0,)))(x)
    np.testing.assert_allclose(to_numpy(g), [0.5, -1.0, 2.0])


# ---------------------------------------------------------------- vmap
B = 3


def _in_dim_combos(ndims):
    opts = [[0] + ([-1] if nd >= 1 else []) + [None] for nd in ndims]
    if len(ndims) <= 2:
        combos = [c for c in itertools.product(*opts) if any(d is not None for d in c)]
    else:
        n = len(ndims)
        combos = [tuple([0] * n), tuple(-1 if nd >= 1 else 0 for nd in ndims)]
        combos += [tuple(None if j == i else 0 for j in range(n)) for i in range(n)]
        combos += [tuple(0 if j == i else None for j in range(n)) for i in range(n)]
    return combos


def _stack(xs, axis):
    return np.stack([np.asarray(x) for x in xs], axis=axis)


@pytest.mark.parametrize("out_dim", [0, -1], ids=["out0", "outlast"])
@pytest.mark.parametrize("case,dtype,idx", _params("vmap"))
def test_vmap(request, backend, case, dtype, idx, out_dim):
    _known_bug(request, backend, "vmap", case, dtype, idx)
    _check_vmap(backend, case, dtype, idx, out_dim)


@pytest.mark.parametrize("out_dim", [0, -1], ids=["out0", "outlast"])
@pytest.mark.parametrize("case,dtype,idx", _params("vmap_generic"))
def test_vmap_generic_rule(request, backend, case, dtype, idx, out_dim):
    """vmap with backends' own batching rules turned off: the core's generic rule, which otherwise
    runs only under nested transforms (or on a backend without its own rule), against a loop."""
    _known_bug(request, backend, "vmap_generic", case, dtype, idx)
    with generic_batch_rules():
        _check_vmap(backend, case, dtype, idx, out_dim)


def _check_vmap(backend, case, dtype, idx, out_dim):
    variants = [case.samples(dtype, seed=s)[idx] for s in range(1, B + 1)]
    base = variants[0]
    params = base.params
    ndims = [np.ndim(a) for a in base.args]

    def fn(*a):
        return case.fn(*a, **params)

    rtol, atol = tolerance(dtype, case.tol)
    for dims in _in_dim_combos(ndims):
        batched = []
        for j, d in enumerate(dims):
            if d is None:
                batched.append(_to_backend(backend, base.args[j]))
            else:
                batched.append(_to_backend(backend, _stack([v.args[j] for v in variants], 0 if d == 0 else ndims[j])))
        loop = []
        for b in range(B):
            args = [_to_backend(backend, (variants[b] if d is not None else base).args[j]) for j, d in enumerate(dims)]
            loop.append(to_numpy(fn(*args)))
        out_nd = loop[0].ndim
        want = _stack(loop, 0 if out_dim == 0 else out_nd)
        got = to_numpy(pf.vmap(fn, in_dims=dims, out_dims=out_dim)(*batched))
        what = f"vmap({case.name}) [{base.label}] in_dims={dims} out_dims={out_dim} vs a loop"
        assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
        if want.dtype.kind in "fc":
            _assert_close(got, want, rtol, atol, what)
        else:
            np.testing.assert_array_equal(got, want, err_msg=what)
