"""Write docs/primitives.md, the primitive reference, from the op table.

    python tools/primitive_reference.py           # write it
    python tools/primitive_reference.py --check   # exit 1 if the file is out of date
"""
from __future__ import annotations

import argparse
import pathlib
import sys

from polyfunc.testing.primitive_reference import render

OUT = pathlib.Path(__file__).resolve().parent.parent / "docs" / "primitives.md"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check that the file is up to date")
    a = p.parse_args(argv)
    text = render()
    if a.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT} is out of date: run python tools/primitive_reference.py", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
