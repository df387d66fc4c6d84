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
