"""The documentation says what the code does (issue 7).

* every public name of ``acconv.__all__`` is documented in the API reference (a ``::: module``
  directive of mkdocstrings that renders it) and has a non-empty docstring;
* the docs Quickstart is the README's Quickstart (included from it, so the two cannot differ);
* the journeys' example code runs (the pages include these files verbatim);
* every page of the site's own sections is in the nav.

``mkdocs build --strict`` itself runs in CI (``.ci/run``), after the tests.
"""

from __future__ import annotations

import ast
import inspect
import re
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest

import acconv

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
MKDOCS = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
QUICKSTART_START = "<!-- --8<-- [start:quickstart] -->"
QUICKSTART_END = "<!-- --8<-- [end:quickstart] -->"


def _directives() -> dict[str, list[str] | None]:
    """``{module path: members listed in its options, or None for all public members}``."""
    found: dict[str, list[str] | None] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            match = re.fullmatch(r":::\s+([\w.]+)\s*", line)
            if not match:
                continue
            options = []
            for following in lines[i + 1 :]:
                if following and not following.startswith(" "):
                    break
                options.append(following)
            block = "\n".join(options)
            members: list[str] | None = None
            if re.search(r"^\s+members:\s*false\s*$", block, re.MULTILINE):
                members = []
            elif re.search(r"^\s+members:\s*$", block, re.MULTILINE):
                members = re.findall(r"^\s+-\s+(\w+)\s*$", block, re.MULTILINE)
            found[match.group(1)] = members
    return found


def _defining_module(name: str) -> str:
    """The module whose source defines ``acconv.<name>`` (classes, functions and data)."""
    obj = getattr(acconv, name)
    module = getattr(obj, "__module__", None)
    if (inspect.isclass(obj) or inspect.isfunction(obj)) and module:
        return str(module)
    # Data (a tuple, a string): the first acconv module that assigns the name at top level.
    for path in sorted((ROOT / "acconv").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            targets = (
                [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
            )
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                parts = path.relative_to(ROOT).with_suffix("").parts
                return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise AssertionError(f"no module of acconv defines {name}")


def _attribute_docstring(module: str, name: str) -> str:
    """The string literal right after the top-level assignment of ``name`` (as griffe reads)."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for node, following in pairwise(body):
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
                return str(following.value.value)
    return ""


# The version string is a dunder, not API to document; the reference index states it in words.
UNDOCUMENTED_BY_DESIGN = {"__version__"}
PUBLIC = [name for name in acconv.__all__ if name not in UNDOCUMENTED_BY_DESIGN]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_rendered_by_the_api_reference(name: str) -> None:
    module = _defining_module(name)
    directives = _directives()
    qualified = f"{module}.{name}"
    covered = qualified in directives or (
        module in directives and (directives[module] is None or name in directives[module])
    )
    assert covered, (
        f"acconv.{name} is defined in {module}, but no '::: {module}' (rendering it) or "
        f"'::: {qualified}' directive is in docs/reference/*.md"
    )
    assert not name.startswith("_")


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(acconv, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        doc = obj.__doc__  # its own docstring, not an inherited one
    else:
        doc = _attribute_docstring(_defining_module(name), name)
    assert doc and doc.strip(), f"acconv.{name} has no docstring"


def test_the_version_is_stated_on_the_reference_index() -> None:
    assert "acconv.__version__" in (REFERENCE / "index.md").read_text(encoding="utf-8")


def test_every_reference_directive_names_an_importable_module() -> None:
    import importlib

    for path in _directives():
        try:
            importlib.import_module(path)
        except ModuleNotFoundError:  # a module's member, e.g. the function acconv.watch
            module, _, member = path.rpartition(".")
            assert hasattr(importlib.import_module(module), member), path


def test_the_neural_learners_and_the_sb3_adapter_have_a_reference_page() -> None:
    # They need the neural extra, which the docs build installs (the README's test install).
    paths = set(_directives())
    assert {"acconv.neural.ppo", "acconv.neural.rudder", "acconv.adapters.sb3"} <= paths


def test_docs_quickstart_is_the_readme_quickstart() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # The README opens its Quickstart section with the start marker and closes it with the end
    # marker, so the included part is the whole section.
    section = readme[readme.index("## Quickstart\n") :]
    section = section[: section.index("\n## ", 1)]
    assert section.startswith(f"## Quickstart\n\n{QUICKSTART_START}\n")
    assert section.rstrip().endswith(QUICKSTART_END)
    body = section[section.index(QUICKSTART_START) : section.index(QUICKSTART_END)]
    commands = re.findall(r"```bash\n(.*?)\n```", body, re.DOTALL)
    assert len(commands) == 2, commands  # the two-command Quickstart
    assert all("-c constraints.txt" in command for command in commands)
    page = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    assert '--8<-- "README.md:quickstart"' in page
    # Nothing else on the page repeats a command that could drift from the README.
    assert "```" not in page


def test_ci_installs_exactly_what_the_readme_quickstart_installs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme_install = re.search(r'pip install -c constraints.txt -e "(\.\[[\w,]+\])"', readme)
    ci_install = re.search(r'pip install --quiet -c constraints.txt -e "(\.\[[\w,]+\])"', ci)
    assert readme_install and ci_install
    assert readme_install.group(1) == ci_install.group(1) == ".[dev,ray,docs,neural]"
    assert "mkdocs build --strict" in ci


@pytest.mark.parametrize(
    ("example", "needs"),
    [("test_convergence_example.py", None), ("test_sb3_example.py", "stable_baselines3")],
)
def test_journey_example_test_file_passes(example: str, needs: str | None) -> None:
    if needs is not None:
        pytest.importorskip(needs)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(DOCS / "journeys" / example),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "3 passed" in done.stdout


def test_journey_change_an_algorithm_script_runs() -> None:
    script = DOCS / "journeys" / "change_an_algorithm.py"
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_every_page_of_the_sites_own_sections_is_in_the_nav() -> None:
    owned = ["index.md", "quickstart.md", "installation.md", "metrics.md", "performance.md"]
    for folder in ("journeys", "tutorials", "reference"):
        owned += [str(p.relative_to(DOCS)) for p in sorted((DOCS / folder).glob("*.md"))]
    missing = [page for page in owned if f" {page}" not in MKDOCS]
    assert not missing, f"pages not in the mkdocs nav: {missing}"


def test_nav_lists_one_theory_page_per_check_and_the_algorithm_pages() -> None:
    checks = [f"A{i}" for i in range(13)] + [f"S{i}" for i in range(1, 8)]
    for page in ["theory/index.md", *(f"theory/{c}.md" for c in checks)]:
        assert f" {page}" in MKDOCS, page
    for name in ("actor_critic", "ppo", "rudder"):
        assert f" algorithms/{name}.md" in MKDOCS, name
