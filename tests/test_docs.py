"""The runnable examples in the public API's docstrings and in the README."""
import doctest
import importlib
import pathlib
import re

import pytest

MODULES = ["polyfunc", "polyfunc.api", "polyfunc.vmap", "polyfunc.custom", "polyfunc.jit", "polyfunc.random",
           "polyfunc.backends"]

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    # import_module, not attribute access: polyfunc.vmap is also the name of the function.
    # The examples document the default backend, so they run on it whatever POLYFUNC_BACKEND says.
    import polyfunc as pf
    with pf.use_backend("numpy"):
        result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_readme_python_blocks_run():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict = {}   # the blocks build on each other, as a reader's session would
    import polyfunc as pf
    with pf.use_backend("numpy"):
        for code in blocks:
            exec(compile(code, "README.md", "exec"), namespace)


def test_readme_commands_match_ci():
    text = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.*?)\n```", text, re.S)
    assert len(commands) >= 2
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci, "the README's test command must be the one CI runs"
