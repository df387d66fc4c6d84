"""The command line: ``polyfunc [--version] info | tour | bench`` (also ``python -m polyfunc``)."""
from __future__ import annotations

import argparse
import sys

__all__ = ["main", "info", "tour", "bench"]


def info() -> int:
    """List every backend found, whether it can run here (and why not), its kernel coverage, and
    the plugins that failed to load or made registration mistakes."""
    import polyfunc as pf
    print(f"polyfunc {pf.__version__}")
    print(f"current backend: {_current_name()}")
    print("backends:")
    for b in pf.backends.backends():
        state = "available" if b.available else f"unavailable: {b.reason}"
        types = f" arrays: {', '.join(b.array_types)}" if b.array_types else ""
        ver = f" version {b.version}" if b.version else ""
        print(f"  {b.name:8s} [{state}]{ver}{types} (plugin {b.plugin})")
        if b.available:
            print(f"           kernels: {_coverage(pf.get_backend(b.name), pf.backends.kernel_coverage)}")
    failed = pf.failed_plugins()
    if failed:
        print("plugins that failed to load or made registration mistakes:")
        for name, err in failed.items():
            print(f"  {name}: {err}")
    else:
        print("plugins that failed to load: none")
    return 0


def _coverage(backend, kernel_coverage) -> str:
    """'80/83 primitives; missing: erf, erfc, ...', plus the gap keys that match no test."""
    try:
        have, want, missing = kernel_coverage(backend)
    except Exception as e:
        return f"(reading the kernels raised {type(e).__name__}: {e})"
    shown = ", ".join(missing[:12]) + (f", ... ({len(missing) - 12} more)" if len(missing) > 12 else "")
    text = f"{have}/{want} primitives" + (f"; missing: {shown}" if missing else "")
    try:
        from polyfunc.testing.conformance.gapkeys import check_gap_keys
        check_gap_keys(backend)       # recorded under the plugin's name in failed_plugins()
    except ImportError:               # the testing extras (pytest) are not installed
        pass
    return text


def _current_name() -> str:
    import polyfunc as pf
    try:
        return pf.current_backend().name
    except Exception as e:  # an unknown POLYFUNC_BACKEND is reported, not raised
        return f"(error: {e})"


def tour() -> int:
    """A short walk through the transforms on the current backend (numpy by default)."""
    from .tour import run
    run()
    return 0


def bench(args) -> int:
    """Quick timings of the eager and transform paths (asv has the full suite)."""
    from .quickbench import run
    run(args)
    return 0


def main(argv=None) -> int:
    import polyfunc as pf
    p = argparse.ArgumentParser(
        prog="polyfunc",
        description="polyfunc: composable function transforms over pluggable array backends.")
    p.add_argument("--version", action="version", version=f"polyfunc {pf.__version__}")
    sub = p.add_subparsers(dest="cmd")
    sub.add_parser("info", help="list backends, whether each can run here, and plugin errors")
    sub.add_parser("tour", help="run the whirlwind tour of the transforms")
    b = sub.add_parser("bench", help="quick timings beside torch.func, JAX and HIPS autograd where installed")
    b.add_argument("--backend", default=None)
    a = p.parse_args(argv)
    if a.cmd == "info":
        return info()
    if a.cmd == "tour":
        return tour()
    if a.cmd == "bench":
        return bench(a)
    p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
