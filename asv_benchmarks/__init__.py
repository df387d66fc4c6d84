"""asv benchmarks for polyfunc (see DESIGN.md, section "Speed").

Every polyfunc benchmark class is parametrized by backend name
(``numpy``, ``torch:cpu``, ``torch:cuda``, ``cupy``); ``setup`` raises
``NotImplementedError`` (asv's "skip") where the backend cannot run, and each
timed call ends with the backend's ``synchronize()``.  Peers (hand-written
NumPy, torch.func, HIPS autograd) are separate classes parametrized by
``peer`` in the same modules, so every ratio is taken within one run.

Run offline from the repository root::

    asv run --python=same --quick -e          # everything, once
    asv run --python=same -b PerSampleGrad    # one family
    python asv_benchmarks/summary.py          # medians and ratios with timeit

Modules import torch, autograd, cupy lazily (in ``setup``) so that discovery
stays light and ``peakmem_`` figures are not inflated by unused libraries.
"""

import os as _os

#: Threads for BLAS/OpenMP and torch.  Default 1: every party single-threaded,
#: which keeps the figures stable on a shared machine (a busy-waiting BLAS
#: pool under contention turns a 20 µs matmul into milliseconds).  Set
#: POLYFUNC_BENCH_THREADS=0 to keep the libraries' own defaults.  It must be
#: set before NumPy is imported, which is why it lives here.
THREADS = _os.environ.get("POLYFUNC_BENCH_THREADS", "1")
if THREADS != "0":
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        _os.environ.setdefault(_var, THREADS)
