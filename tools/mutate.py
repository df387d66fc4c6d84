"""Mutation testing of the core's rules: plant one one-line bug at a time in
core/polyfunc/ops/*.py, run a fast subset of the suite, restore the file, and
report which bugs the suite killed (some test failed) and which survived.

    python tools/mutate.py                     # every mutant, the default subset, 2 workers
    python tools/mutate.py --list              # the mutants, numbered
    python tools/mutate.py -m 3 -m 7           # only these
    python tools/mutate.py --tests tests/test_autodiff.py -- -k grad

Each mutant is an exact one-line edit (the text must occur exactly once in its
file, so a stale mutant is reported as such rather than silently skipped) of a
kind that has slipped through before: a sign flip, an axis or permutation
swap, a permutation used for its inverse, a tie weight, an off-by-one.  The
file is restored in a ``finally`` even when the run is interrupted.  Exit
status 1 when a mutant survives (or is stale), so CI or a nightly job can run it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "core" / "polyfunc" / "ops"
DEFAULT_TESTS = ["tests/test_optable.py", "tests/test_properties.py", "tests/test_properties_numpy.py"]


@dataclass(frozen=True)
class Mutant:
    kind: str          # sign, axis, permutation, inverse, tie, off-by-one
    file: str          # under core/polyfunc/ops
    old: str
    new: str
    what: str
    focus: str = ""    # a pytest -k expression selecting the tests of the primitives it touches (--focus)


MUTANTS = [
    # ties: the planted bugs that survived the whole suite once (issue 15)
    Mutant("tie", "elementwise.py", "wx = select(pick(x, y), one, select(eq(x, y), half, zero))",
           "wx = select(pick(x, y), one, select(eq(x, y), one, zero))", "max/min give a tie all of x's tangent", "max or min"),
    Mutant("tie", "elementwise.py", "max_p, max = binary(\"max\", _minmax_jvp(lambda x, y: gt(x, y)))",
           "max_p, max = binary(\"max\", _minmax_jvp(lambda x, y: ge(x, y)))", "max picks x at a tie", "max"),
    Mutant("tie", "elementwise.py", "min_p, min = binary(\"min\", _minmax_jvp(lambda x, y: lt(x, y)))",
           "min_p, min = binary(\"min\", _minmax_jvp(lambda x, y: le(x, y)))", "min picks x at a tie", "min"),
    Mutant("tie", "reductions.py", "return out, div(reduce_sum(mul(t[0], mask), axes), count)",
           "return out, reduce_sum(mul(t[0], mask), axes)", "reduce_max/min do not share ties", "reduce_max or reduce_min"),
    # permutations
    Mutant("permutation", "indexing.py",
           "perm = [0] + [k + 1 + j for j in range(axis)] + [1 + j for j in range(k)] + [k + axis + 1 + j for j in range(m)]",
           "perm = [0] + [1 + j for j in range(k)] + [k + 1 + j for j in range(axis)] + [k + axis + 1 + j for j in range(m)]",
           "generic gather batching rule: wrong permutation of its result", "gather"),
    Mutant("inverse", "contraction.py", "perm = tuple(sorted(range(len(src)), key=src.__getitem__))", "perm = tuple(src)",
           "dot_general transpose: the permutation for its inverse", "dot_general or solve or det or cholesky"),
    Mutant("inverse", "structural.py",
           "TR[transpose_p] = lambda ct, x, *, permutation: [transpose(ct, tuple(np.argsort(permutation)))]",
           "TR[transpose_p] = lambda ct, x, *, permutation: [transpose(ct, tuple(permutation))]",
           "transpose's transpose rule: the permutation for its inverse", "transpose"),
    Mutant("permutation", "indexing.py",
           "perm = [0] + [axis + 1 + j for j in range(k)] + [1 + j for j in range(axis)] + [axis + k + 1 + j for j in range(m)]",
           "perm = [0] + [1 + j for j in range(axis)] + [axis + 1 + j for j in range(k)] + [axis + k + 1 + j for j in range(m)]",
           "generic scatter_add batching rule: updates left in place", "scatter_add"),
    Mutant("permutation", "elementwise.py", "return [None, _lin(select(p, ct, z), x) if isinstance(x, LinearArg) else None,",
           "return [None, _lin(select(p, z, ct), x) if isinstance(x, LinearArg) else None,",
           "select's transpose: branches swapped", "select"),
    Mutant("permutation", "matrix.py", "return trace_stacked(solve(a, ta), a)",
           "return trace_stacked(solve(matrix_transpose(a), ta), a)", "log|det| tangent with a^-T for a^-1", "det"),
    # axes
    Mutant("axis", "structural.py", "return tuple(a + (a >= bd) for a in axes)", "return tuple(a + (a > bd) for a in axes)",
           "reduction batching: axis at the batch dim not shifted", "reduce_"),
    Mutant("axis", "reductions.py", "return p.bind(v[0], axis=a, index_dtype=index_dtype), bd - (a < bd)",
           "return p.bind(v[0], axis=a, index_dtype=index_dtype), bd",
           "argmax/argmin batching: output batch dim not shifted", "argmax or argmin"),
    Mutant("axis", "contraction.py", "return None, None, ((nlc, rc), (nlb, rb)), len(lb) + free.index(bx)",
           "return None, None, ((nlc, rc), (nlb, rb)), free.index(bx)",
           "dot_general batching: output batch dim ignores the batch axes", "dot_general"),
    Mutant("axis", "indexing.py", "x2 = moveaxis(x, axis + 1, 1)", "x2 = moveaxis(x, axis, 1)",
           "gather/scatter batching: the indexed axis off by the batch dim", "gather or scatter_add"),
    Mutant("axis", "structural.py", "k + (k >= d[0]) for k in dimensions)), d[0])",
           "k + (k > d[0]) for k in dimensions)), d[0])", "rev batching: axis at the batch dim not shifted", "rev"),
    Mutant("axis", "reductions.py", "TR[cumsum_p] = lambda ct, x, *, axis, reverse: [cumsum(ct, axis, not reverse)]",
           "TR[cumsum_p] = lambda ct, x, *, axis, reverse: [cumsum(ct, axis, reverse)]",
           "cumsum's transpose scans the same way", "cumsum"),
    Mutant("axis", "structural.py", "return tuple(phys[:bd] + [bd] + phys[bd:])", "return tuple(phys[:bd] + phys[bd:] + [bd])",
           "transpose batching: batch dim moved to the end", "transpose"),
    # signs
    Mutant("sign", "elementwise.py", "sin_p, sin = unary(\"sin\", lambda x, o: cos(x))",
           "sin_p, sin = unary(\"sin\", lambda x, o: neg(cos(x)))", "sin' = -cos", "sin"),
    Mutant("sign", "elementwise.py", "cos_p, cos = unary(\"cos\", lambda x, o: neg(sin(x)))",
           "cos_p, cos = unary(\"cos\", lambda x, o: sin(x))", "cos' = sin", "cos"),
    Mutant("sign", "elementwise.py", "None if tx is None else div(tx, y), None if ty is None else mul(ty, neg(div(o, y)))),",
           "None if tx is None else div(tx, y), None if ty is None else mul(ty, div(o, y))),", "d(x/y)/dy sign", "div"),
    Mutant("sign", "elementwise.py", "lambda ct, x, y: [_lin(ct, x), None if not isinstance(y, LinearArg) else _lin(neg(ct), y)])",
           "lambda ct, x, y: [_lin(ct, x), None if not isinstance(y, LinearArg) else _lin(ct, y)])",
           "sub's transpose: y's cotangent not negated", "sub or solve or cholesky"),
    Mutant("sign", "elementwise.py", "None if ty is None else mul(ty, neg(div(x, r2))))",
           "None if ty is None else mul(ty, div(x, r2)))", "atan2's y-derivative sign", "atan2"),
    Mutant("sign", "elementwise.py", "tanh_p, tanh = unary(\"tanh\", lambda x, o: sub(1, mul(o, o)))",
           "tanh_p, tanh = unary(\"tanh\", lambda x, o: add(1, mul(o, o)))", "tanh' = 1 + tanh^2", "tanh"),
    Mutant("sign", "elementwise.py", "acos_p, acos = unary(\"acos\", lambda x, o: neg(rsqrt(sub(1, mul(x, x)))))",
           "acos_p, acos = unary(\"acos\", lambda x, o: rsqrt(sub(1, mul(x, x))))", "acos' sign", "acos"),
    Mutant("sign", "matrix.py", "rhs = tb if ta is None else (neg(matmul_stacked(ta, x)) if tb is None else sub(tb, matmul_stacked(ta, x)))",
           "rhs = tb if ta is None else (neg(matmul_stacked(ta, x)) if tb is None else add(tb, matmul_stacked(ta, x)))",
           "solve's tangent: + da x", "solve"),
    # off by one
    Mutant("off-by-one", "structural.py", "used = s + (m - 1) * st + 1 if m else s", "used = s + m * st if m else s",
           "slice's transpose pads one too few at the end", "slice"),
    Mutant("off-by-one", "elementwise.py", "d = full_like(x, 1, shape_of(x), out_dtype(x)) if y == 1 else mul(integer_pow(x, y - 1), y)",
           "d = full_like(x, 1, shape_of(x), out_dtype(x)) if y == 1 else mul(integer_pow(x, y - 1), y - 1)",
           "integer_pow' = (y-1) x^(y-1)", "integer_pow"),
    Mutant("off-by-one", "structural.py", "lo[dimension], hi[dimension] = start, start + n",
           "lo[dimension], hi[dimension] = start + 1, start + n + 1", "concatenate's transpose slices one along", "concatenate"),
    Mutant("off-by-one", "matrix.py", "return add(sub(cumsum(eye, 0), eye), mul(eye, 0.5))",
           "return add(sub(cumsum(eye, 0), eye), mul(eye, 1.0))", "cholesky's phi keeps the whole diagonal", "cholesky"),
    Mutant("off-by-one", "structural.py", "limit_indices=limit_indices[:b] + (n,) + limit_indices[b:],",
           "limit_indices=limit_indices[:b] + (n - 1,) + limit_indices[b:],",
           "slice batching drops the last batch element", "slice"),
    Mutant("off-by-one", "reductions.py", "shifted = slice_(pad(x, identity, cfg), [0] * len(shape), list(shape))",
           "shifted = slice_(pad(x, identity, cfg), [1] * len(shape), [n + 1 for n in shape])",
           "prefix_scan shifts by one place too few", "cumprod"),
]


def run_one(m: Mutant, tests: list[str], extra: list[str], timeout: float, workers: int,
            focus: bool = False) -> tuple[str, float, str]:
    path = OPS / m.file
    src = path.read_text()
    n = src.count(m.old)
    if n != 1:
        return "stale", 0.0, f"the text occurs {n} times in {m.file}"
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests, *extra]
    if focus and m.focus:
        cmd += ["-k", m.focus]
    if workers > 0:
        cmd += ["-n", str(workers)]
    env = dict(os.environ, HYPOTHESIS_PROFILE=os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    t0 = time.monotonic()
    try:
        path.write_text(src.replace(m.old, m.new))
        try:
            r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - t0, ""
    finally:
        path.write_text(src)
    dt = time.monotonic() - t0
    if r.returncode == 0:
        return "survived", dt, ""
    failed = [ln for ln in r.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    return "killed", dt, failed[0][:160] if failed else r.stdout.strip().splitlines()[-1][:160]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--mutant", type=int, action="append", help="run only mutant N (see --list)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--tests", nargs="+", default=DEFAULT_TESTS, help="test files to run (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant (a timeout counts as killed)")
    ap.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (0: none)")
    ap.add_argument("--focus", action="store_true",
                    help="run only the tests of the primitives each mutant touches (pytest -k): minutes, not an hour")
    ap.add_argument("extra", nargs="*", help="more pytest arguments (after --)")
    a = ap.parse_args(argv)
    chosen = [(i, m) for i, m in enumerate(MUTANTS) if not a.mutant or i in a.mutant]
    if a.list:
        for i, m in chosen:
            print(f"{i:3d} {m.kind:12s} {m.file:16s} {m.what}")
        return 0
    counts: dict[str, int] = {}
    survivors = []
    for i, m in chosen:
        status, dt, note = run_one(m, a.tests, a.extra, a.timeout, a.workers, a.focus)
        counts[status] = counts.get(status, 0) + 1
        if status in ("survived", "stale"):
            survivors.append((i, m, status))
        print(f"{i:3d} {status:8s} {dt:6.1f}s {m.kind:12s} {m.file:16s} {m.what}" + (f"  [{note}]" if note else ""),
              flush=True)
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    total = len(chosen)
    print(f"\nkilled {killed} of {total} ({100.0 * killed / max(total, 1):.0f}%); "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for i, m, status in survivors:
        print(f"  {status}: #{i} {m.kind} in {m.file}: {m.what}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
