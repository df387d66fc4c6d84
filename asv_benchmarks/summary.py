"""Quick medians and polyfunc/peer ratios of the asv cases, with timeit.

    python asv_benchmarks/summary.py                      # numpy and torch:cpu (where available)
    python asv_benchmarks/summary.py -b numpy -k PerSample
    python asv_benchmarks/summary.py --memory             # also jacrev chunk_size peak memory

It runs the very classes asv runs (their ``setup`` and ``time_`` methods), so
the figures are the asv cases; each median is over ``--repeat`` repeats of an
auto-ranged loop (about ``--target`` seconds each), taken round-robin
over polyfunc and its peers so that load on a shared machine hits all alike.  Every polyfunc class
``X`` is paired with ``XPeers`` and each ratio is polyfunc / peer (below 1.0:
polyfunc is faster).  The asv suite stays the reference; this is for the
issue notes.
"""
from __future__ import annotations

import argparse
import inspect
import itertools
import os
import statistics
import subprocess
import sys
import timeit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import asv_benchmarks  # noqa: E402,F401  (sets the thread limits before NumPy loads)

MODULES = ["bench_eager", "bench_autodiff", "bench_vmap"]


def _fmt(sec: float) -> str:
    if sec != sec:  # nan
        return "-"
    if sec < 1e-3:
        return f"{sec * 1e6:8.2f} us"
    if sec < 1:
        return f"{sec * 1e3:8.3f} ms"
    return f"{sec:8.3f} s "


class Party:
    """One side of a comparison: a benchmark object set up for one parameter set."""

    def __init__(self, label, cls, params, method):
        self.label, self.params = label, params
        self.obj = cls()
        self.obj.setup(*params)          # NotImplementedError: skipped
        fn = getattr(self.obj, method)
        self.call = lambda: fn(*params)  # noqa: E731
        self.times = []

    def calibrate(self, target):
        self.call()                      # warm up (first-call caches, lazy imports)
        number, _ = timeit.Timer(self.call).autorange()
        one = timeit.timeit(self.call, number=number) / number
        self.number = max(1, int(target / max(one, 1e-9)))

    def sample(self):
        self.times.append(timeit.timeit(self.call, number=self.number) / self.number)

    def close(self):
        if hasattr(self.obj, "teardown"):
            self.obj.teardown(*self.params)


def measure(candidates, method, repeat, target):
    """Median seconds per call of each (label, cls, params) that can run.

    The repeats go round-robin over the parties, so a burst of load on a
    shared machine hits polyfunc and its peers alike.
    """
    parties = []
    for label, cls, params in candidates:
        try:
            parties.append(Party(label, cls, params, method))
        except NotImplementedError:
            pass
    try:
        for p in parties:
            p.calibrate(target)
        for _ in range(repeat):
            for p in parties:
                p.sample()
        return [(p.label, statistics.median(p.times)) for p in parties]
    finally:
        for p in parties:
            p.close()


def pairs():
    """(polyfunc class, peers class or None) for every class with time_ methods."""
    import importlib
    out = []
    for name in MODULES:
        mod = importlib.import_module(f"asv_benchmarks.{name}")
        for cname, cls in vars(mod).items():
            if (inspect.isclass(cls) and cls.__module__ == mod.__name__
                    and not cname.endswith("Peers")
                    and any(m.startswith("time_") for m in dir(cls))):
                out.append((cls, getattr(mod, cname + "Peers", None)))
    return out


def available_backends(names):
    import polyfunc as pf
    ok = []
    for n in names:
        try:
            pf.get_backend(n)
            ok.append(n)
        except Exception:
            pass
    return ok


def timings(backends, pattern, repeat, target):
    rows = []   # (case title, [(impl label, seconds)], [(ratio label, value)])
    for cls, peers in pairs():
        extra_params = cls.params[1:]
        for method in sorted(m for m in dir(cls) if m.startswith("time_")):
            for extra in itertools.product(*extra_params):
                title = f"{cls.__name__}.{method[5:]}" + "".join(
                    f" {n}={v}" for n, v in zip(cls.param_names[1:], extra))
                if pattern and pattern not in title:
                    continue
                cands = [(f"polyfunc[{b}]", cls, (b,) + extra) for b in backends]
                if peers is not None and hasattr(peers, method):
                    cands += [(p[0], peers, p) for p in itertools.product(*peers.params)
                              if len(p) == 1 or p[1:] == extra]
                meds = measure(cands, method, repeat, target)
                ours = [m for m in meds if m[0].startswith("polyfunc[")]
                theirs = [m for m in meds if not m[0].startswith("polyfunc[")]
                ratios = [(f"{o} / {p}", to / tp) for (o, to), (p, tp) in itertools.product(ours, theirs)]
                rows.append((title, ours + theirs, ratios))
                _print_row(rows[-1])
    return rows


def _print_row(row):
    title, meds, ratios = row
    print(title)
    for label, t in meds:
        print(f"    {label:28s} {_fmt(t)}")
    for label, r in ratios:
        print(f"    ratio {label:40s} {r:7.2f}")
    sys.stdout.flush()


_MEM_SNIPPET = r"""
import sys
sys.path.insert(0, {root!r})

def peak_kib():
    # VmHWM belongs to this process's memory map; ru_maxrss would carry the parent's
    # peak across exec on Linux and report the summary process instead of the child
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

from asv_benchmarks.bench_memory import JacrevChunkMemory
b = JacrevChunkMemory()
try:
    b.setup({backend!r}, {chunk!r})
except NotImplementedError:
    print("skip"); sys.exit(0)
before = peak_kib()
b.peakmem_jacrev_4096({backend!r}, {chunk!r})
after = peak_kib()
print(before, after)
"""


def memory(backends):
    print("JacrevChunkMemory: peak RSS of jacrev on 4,096 inputs (fresh process each)")
    for b in backends:
        for chunk in (64, None):
            code = _MEM_SNIPPET.format(root=ROOT, backend=b, chunk=chunk)
            res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            out = res.stdout.strip().split()
            if res.returncode or not out or out[0] == "skip":
                print(f"    polyfunc[{b}] chunk_size={chunk}: {'skipped' if out == ['skip'] else res.stderr[-300:]}")
                continue
            before, after = (int(v) / 1024 for v in out)
            print(f"    polyfunc[{b}] chunk_size={str(chunk):4s}  peak RSS {after:8.1f} MiB "
                  f"(+{after - before:7.1f} MiB over setup)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-b", "--backend", action="append",
                    help="polyfunc backend(s); default: numpy and torch:cpu where available")
    ap.add_argument("-k", default="", help="only cases whose title contains this text")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--target", type=float, default=0.05, help="seconds per repeat (approx.)")
    ap.add_argument("--memory", action="store_true", help="also measure jacrev chunk_size peak memory")
    args = ap.parse_args(argv)
    backends = available_backends(args.backend or ["numpy", "torch:cpu", "torch:cuda", "cupy"])
    print(f"backends: {', '.join(backends)}; median of {args.repeat} repeats")
    timings(backends, args.k, args.repeat, args.target)
    if args.memory:
        memory(backends)


if __name__ == "__main__":
    main()
