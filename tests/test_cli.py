"""The command line: ``polyfunc --version``, ``--help`` in plain text, ``bench`` beside the peers."""
import subprocess
import sys

import polyfunc as pf


def _run(*args):
    return subprocess.run([sys.executable, "-m", "polyfunc", *args], capture_output=True, text=True, timeout=300)


def test_version():
    r = _run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"polyfunc {pf.__version__}"


def test_help_is_plain_text():
    r = _run("--help")
    assert r.returncode == 0
    assert "info" in r.stdout and "bench" in r.stdout and "--version" in r.stdout
    assert "``" not in r.stdout and "**" not in r.stdout


def test_bench_compares_with_torch_func():
    r = _run("bench", "--backend", "numpy")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "torch.func" in lines[1]                      # torch is a test dependency
    rows = [line for line in lines if "grad(sin) scalar" in line]
    assert rows and "(" in rows[0]                       # a ratio against the peer
