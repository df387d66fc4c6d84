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


def test_docs_state_the_strict_backends_one_gap_as_the_plugin_declares_it():
    """The ten-line example's one declared gap, as the docs describe it, is the plugin's real one."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "strict_backend_for_docs", ROOT / "tests" / "plugins" / "strict_dist" / "strict_backend.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gaps = mod.polyfunc_conformance_gaps(mod.StrictBackend())
    assert list(gaps) == ["test_reflected_operators"] and "NotImplemented" in gaps["test_reflected_operators"]
    for text in ((DOCS / "writing-a-backend.md").read_text(), (ROOT / "README.md").read_text()):
        assert "test_reflected_operators" in text and "NotImplemented" in text
    page = (DOCS / "writing-a-backend.md").read_text()
    assert "all marked with" not in page           # the one rule: the marker is optional
    assert "test_contract" in page
    assert "ArrayAPIBackend" in (DOCS / "backends.md").read_text() and "dask" in (DOCS / "backends.md").read_text()
    assert "(docs/index.md)" in (ROOT / "README.md").read_text()
