"""Coverage of torch's OpInfo database: what torch.func covers, what polyfunc maps, runs and matches.

    python tools/opdb_coverage.py [--json out.json]      (POLYFUNC_OPDB_SAMPLES=all for every sample)

An op is *covered by torch.func* under vmap when ``torch.func.vmap`` (in_dims 0 and -1) equals a
loop of eager calls on its samples, and under grad when ``torch.func.vjp`` equals torch autograd,
in float32 and float64.  For those ops it reports how many polyfunc's torch map claims, how many
run under polyfunc without raising, and how many match torch.func on every sample and dtype.
"""
from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import opdb_harness as H  # noqa: E402

GROUPS = {"vmap": ("vmap0", "vmap-1"), "grad": ("vjp",)}


def outcome(o, checks, lib: str) -> str:
    """'match', 'mismatch' (ran, wrong numbers) or 'error' (raised) over every sample and dtype."""
    worst = "match"
    for dtype in H.DTYPES:
        if dtype not in o.supported_dtypes("cpu"):
            continue
        for check in checks:
            try:
                for got, want, what in H.run_check(o, dtype, check, lib):
                    try:
                        H.close(got, want, dtype, what)
                    except AssertionError:
                        worst = "mismatch"
            except Exception:
                return "error"
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write the per-op outcomes here")
    ns = ap.parse_args()
    warnings.simplefilter("ignore")
    rows = {}
    for name, o in H.OPS.items():
        if not any(d in o.supported_dtypes("cpu") for d in H.DTYPES):
            continue
        r = {"claimed": name in H.CLAIMED}
        for group, checks in GROUPS.items():
            if group == "grad" and not o.supports_autograd:
                continue
            r["torch.func " + group] = outcome(o, checks, "torch.func")
            if r["claimed"] and r["torch.func " + group] == "match":
                r["polyfunc " + group] = outcome(o, checks, "polyfunc")
        rows[name] = r
        print(name, r, file=sys.stderr, flush=True)
    print("| transform | op_db ops (float) | torch.func covers | we map | run | match | match / covered |")
    print("|---|---|---|---|---|---|---|")
    for group in GROUPS:
        applicable = [r for r in rows.values() if "torch.func " + group in r]
        covered = [r for r in applicable if r["torch.func " + group] == "match"]
        mapped = [r for r in covered if r["claimed"]]
        ran = [r for r in mapped if r["polyfunc " + group] != "error"]
        matched = [r for r in mapped if r["polyfunc " + group] == "match"]
        pct = 100.0 * len(matched) / max(len(covered), 1)
        print(f"| {group} | {len(applicable)} | {len(covered)} | {len(mapped)} | {len(ran)} | {len(matched)} "
              f"| {pct:.1f}% |")
    for group in GROUPS:
        missing = sorted(n for n, r in rows.items() if r.get("torch.func " + group) == "match" and not r["claimed"])
        print(f"\ntorch.func covers under {group}, polyfunc does not map ({len(missing)}): " + ", ".join(missing))
    if ns.json:
        Path(ns.json).write_text(json.dumps(rows, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
