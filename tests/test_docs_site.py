"""The documentation site: every example it shows runs and checks itself, every page is in the nav."""
import pathlib
import re
import runpy

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))
TORCH_EXAMPLES = {"per_sample_grads.py", "ensembling.py", "jacobians_hessians.py", "maml.py"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path):
    if path.name in TORCH_EXAMPLES:
        pytest.importorskip("torch")
    import polyfunc as pf
    # the examples document the default backend; torch tensors pick torch by themselves
    with pf.use_backend("numpy"):
        runpy.run_path(str(path), run_name="__main__")


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_page_python_blocks_run(page):
    blocks = [b for b in re.findall(r"```python\n(.*?)```", page.read_text(), re.S) if "--8<--" not in b]
    import polyfunc as pf
    namespace: dict = {}
    with pf.use_backend("numpy"):
        for code in blocks:
            if "class BoxedBackend" in code or "class StrictBackend" in code:      # a plugin module, not a script: it must at least compile
                compile(code, page.name, "exec")
                continue
            exec(compile(code, page.name, "exec"), namespace)


def test_every_page_and_example_is_reachable():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in DOCS.glob("*.md"):
        assert page.name in nav, f"{page.name} is not in mkdocs.yml's nav"
    shown = "".join(p.read_text() for p in DOCS.glob("*.md"))
    for example in EXAMPLES:
        assert f"docs/examples/{example.name}" in shown, f"{example.name} is not shown on any page"
