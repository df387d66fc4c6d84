"""Run HIPS autograd's own NumPy gradient tests against polyfunc.

Usage::

    python tools/run_autograd_tests.py PATH_TO_AUTOGRAD_CHECKOUT [pytest args...]

The tests (``tests/test_numpy.py`` and ``tests/test_systematic.py`` by default,
with their helpers ``numpy_utils.py`` and ``conftest.py``) are copied from the
checkout into a temporary folder, next to a small ``autograd`` shim package
that maps autograd's names onto polyfunc's:

- ``autograd.numpy``        -> ``polyfunc.numpy`` (``autograd.numpy.random`` is NumPy's
  own ``numpy.random``: the tests only draw their data with it);
- ``autograd.grad``         -> ``polyfunc.grad`` (and ``jacobian`` -> ``jacrev``,
  ``holomorphic_grad`` -> ``grad(..., holomorphic=True)``);
- ``autograd.test_util``    -> ``check_grads`` and ``combo_check`` with autograd's
  calling convention (``check_grads(f, argnum, modes, order)(*args)``), checked by
  ``polyfunc.testing.check_grads`` on the differentiated arguments, with autograd's
  finite-difference step.

Nothing of autograd's own code is imported: only its test files run.  pytest is
then started in that folder, and its exit status is returned.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

DEFAULT_TESTS = ("tests/test_numpy.py", "tests/test_systematic.py")
HELPERS = ("tests/numpy_utils.py", "tests/conftest.py")

SHIM_INIT = '''\
"""autograd's entry points, served by polyfunc (a test shim)."""
import polyfunc as _pf

grad = _pf.grad
value_and_grad = lambda f, argnum=0: (lambda *a, **k: _pf.grad_and_value(f, argnums=argnum)(*a, **k)[::-1])
jacobian = lambda f, argnum=0: _pf.jacrev(f, argnums=argnum)
hessian = lambda f, argnum=0: _pf.hessian(f, argnums=argnum)
holomorphic_grad = lambda f, argnum=0: _pf.grad(f, argnums=argnum, holomorphic=True)
'''

SHIM_NUMPY = '''\
"""autograd.numpy -> polyfunc.numpy (a test shim)."""
from polyfunc.numpy import *  # noqa: F401,F403
import polyfunc.numpy as _pnp

for _name in dir(_pnp):
    if not _name.startswith("__") or _name == "__version__":
        globals()[_name] = getattr(_pnp, _name)
from . import random  # noqa: E402,F401
'''

SHIM_RANDOM = '''\
"""autograd.numpy.random: the tests draw their data with NumPy's own generator."""
from numpy.random import *  # noqa: F401,F403
'''

SHIM_TEST_UTIL = '''\
"""autograd.test_util's check_grads and combo_check, checked by polyfunc.testing (a test shim)."""
from itertools import product

import numpy as _onp

from polyfunc.testing import check_grads as _pf_check_grads

# autograd's finite-difference step is 1e-6 from x - 5e-7 to x + 5e-7; polyfunc's central difference
# spans x - eps to x + eps, so eps=5e-7 is the same step (some of the tests' random data holds values
# closer together than polyfunc's default step, 1e-4, across which sort and min change branch)
EPS = 5e-7


def check_grads(f, argnum=0, modes=None, order=2):
    """``check_grads(f, argnum, modes, order)(*args, **kwargs)``: the arguments named by
    ``argnum`` are differentiated; the others and the keywords stay fixed."""
    nums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    modes = ("fwd", "rev") if modes is None else tuple(modes)

    def run(*args, **kwargs):
        def g(*xs):
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            return f(*full, **kwargs)
        _pf_check_grads(g, tuple(_arrays(args[i]) for i in nums), order=order, modes=modes, eps=EPS)
    return run


def _arrays(x):
    """Python numbers and NumPy scalars as arrays; lists and tuples (of arrays) stay containers."""
    if isinstance(x, (list, tuple)):
        return type(x)(_arrays(v) for v in x)
    return _onp.asarray(x)


def combo_check(fun, *args, **kwargs):
    """Every combination of the given arguments and keywords, each through check_grads."""
    def run(*arg_lists, **kwarg_lists):
        keyed = [[(k, v) for v in vs] for k, vs in kwarg_lists.items()]
        for a in product(*arg_lists):
            for kw in product(*keyed):
                check_grads(fun, *args, **kwargs)(*a, **dict(kw))
    return run
'''


def build(checkout: str, tests, where: str) -> list[str]:
    """The shim package and copies of the tests in ``where``; returns the test paths."""
    pkg = os.path.join(where, "autograd")
    os.makedirs(os.path.join(pkg, "numpy"))
    files = {os.path.join(pkg, "__init__.py"): SHIM_INIT,
             os.path.join(pkg, "numpy", "__init__.py"): SHIM_NUMPY,
             os.path.join(pkg, "numpy", "random.py"): SHIM_RANDOM,
             os.path.join(pkg, "test_util.py"): SHIM_TEST_UTIL}
    for path, text in files.items():
        with open(path, "w") as fh:
            fh.write(textwrap.dedent(text))
    out = []
    for rel in tuple(tests) + HELPERS:
        src = os.path.join(checkout, rel)
        if not os.path.exists(src):
            raise SystemExit(f"run_autograd_tests: {src} not found; pass the root of an autograd checkout "
                             f"(the folder holding tests/ and autograd/).")
        dst = os.path.join(where, os.path.basename(rel))
        shutil.copyfile(src, dst)
        if rel in tests:
            out.append(dst)
    with open(os.path.join(where, "pytest.ini"), "w") as fh:
        fh.write("[pytest]\naddopts = -p no:cacheprovider\n")
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    checkout, extra = os.path.abspath(argv[0]), argv[1:]
    with tempfile.TemporaryDirectory(prefix="autograd-on-polyfunc-") as where:
        tests = build(checkout, DEFAULT_TESTS, where)
        env = dict(os.environ, PYTHONPATH=where + os.pathsep + os.environ.get("PYTHONPATH", ""))
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *tests, *extra]
        return subprocess.call(cmd, cwd=where, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
