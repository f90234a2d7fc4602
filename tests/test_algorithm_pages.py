"""The algorithm pages and the tabular learners cannot drift apart.

Each page ``docs/algorithms/<name>.md`` has a ``## Pseudocode`` section whose first fenced code
block numbers its steps ``1.``, ``2.``, ...; the learner's source marks the code of step ``k``
with a comment ``# (k) ...``. Every numbered step must be marked in the code and every marked
number must be a step of the page; the module docstring's own pseudocode uses the same numbers.
The theory and algorithm pages' relative links must point at files of the docs tree, and the
step-size pages S1-S7 quote exactly what ``acconv check-schedule`` outputs for their examples.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = {
    "actor_critic": ROOT / "acconv" / "tabular" / "actor_critic.py",
    "ppo": ROOT / "acconv" / "tabular" / "ppo.py",
    "rudder": ROOT / "acconv" / "tabular" / "rudder.py",
}
_STEP = re.compile(r"^\s*(\d+)\.\s")  # "  3. critic step ..." in a pseudocode block
_MARK = re.compile(r"^#\s*\((\d+)\)")  # "# (3) critic step ..." as a source comment


def page_steps(page: Path) -> list[int]:
    """The step numbers of the first fenced code block under ``## Pseudocode``, in order."""
    text = page.read_text(encoding="utf-8")
    section = re.search(r"^## Pseudocode\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section is not None, f"{page.name}: no '## Pseudocode' section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.M | re.S)
    assert block is not None, f"{page.name}: no fenced code block under '## Pseudocode'"
    return [int(m.group(1)) for line in block.group(1).splitlines() if (m := _STEP.match(line))]


def source_marks(source: Path) -> set[int]:
    """The numbers ``k`` of every comment that starts with ``# (k)``."""
    tokens = tokenize.generate_tokens(io.StringIO(source.read_text(encoding="utf-8")).readline)
    return {
        int(m.group(1))
        for token in tokens
        if token.type == tokenize.COMMENT and (m := _MARK.match(token.string))
    }


def docstring_steps(source: Path) -> list[int]:
    """The numbered steps of the module docstring's indented pseudocode block."""
    docstring = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    return [
        int(m.group(1))
        for line in docstring.splitlines()
        if line.startswith("    ") and (m := _STEP.match(line))
    ]


def test_step_parsers_read_numbered_lines_and_marked_comments(tmp_path: Path) -> None:
    page = tmp_path / "algo.md"
    page.write_text(
        "# A\n\n## Pseudocode\n\n```text\nfor n = 0, 1\n  1. first\n     more of 1\n"
        "  2. second\n```\n\n## Other\n\n```text\n  7. not pseudocode\n```\n",
        encoding="utf-8",
    )
    assert page_steps(page) == [1, 2]
    source = tmp_path / "algo.py"
    source.write_text(
        'x = "# (9) in a string"  # (1) first\n# (2) second\n# Steps (3)-(4) elsewhere\n',
        encoding="utf-8",
    )
    assert source_marks(source) == {1, 2}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_pseudocode_step_is_marked_in_the_code_and_vice_versa(name: str) -> None:
    steps = page_steps(DOCS / "algorithms" / f"{name}.md")
    assert steps == list(range(1, len(steps) + 1)), f"{name}: steps {steps} are not 1..K"
    marks = source_marks(PAGES[name])
    assert set(steps) - marks == set(), f"{name}: steps without a '# (k)' comment in the code"
    assert marks - set(steps) == set(), f"{name}: '# (k)' comments that are not steps of the page"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_module_docstring_numbers_the_same_steps_as_the_page(name: str) -> None:
    assert docstring_steps(PAGES[name]) == page_steps(DOCS / "algorithms" / f"{name}.md")


def test_theory_and_algorithm_pages_link_only_to_files_of_the_docs_tree() -> None:
    pages = sorted((DOCS / "theory").glob("*.md")) + sorted((DOCS / "algorithms").glob("*.md"))
    names = {p.stem for p in (DOCS / "theory").glob("*.md")}
    expected = {"index"} | {f"A{k}" for k in range(13)} | {f"S{k}" for k in range(1, 8)}
    assert names == expected
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" in target or not (page.parent / target).resolve().is_file():
                broken.append(f"{page.relative_to(DOCS)} -> {target}")
    assert broken == []


_SCHEDULE_EXAMPLE = re.compile(
    r"^\$ acconv check-schedule --critic '(?P<critic>[^']*)' --actor '(?P<actor>[^']*)'"
    r"(?: --e-min (?P<e_min>\S+))? --json\n"
    r"# from the output: the (?P<id>S\d) entry of \"conditions\", and \"two_timescale\"\n"
    r"\"status\": \"(?P<status>[^\"]*)\", \"method\": \"(?P<method>[^\"]*)\"\n"
    r"\"detail\": \"(?P<detail>.*)\"\n"
    r"\"two_timescale\": \"(?P<two_timescale>[^\"]*)\"$",
    re.M,
)


def test_step_size_pages_quote_what_check_schedule_outputs() -> None:
    from acconv.theory_checks.step_sizes import check_step_sizes

    texts = {page.name: page.read_text("utf-8") for page in (DOCS / "theory").glob("S*.md")}
    examples = [
        (name, m) for name, text in sorted(texts.items()) for m in _SCHEDULE_EXAMPLE.finditer(text)
    ]
    commands = sum(text.count("\n$ acconv check-schedule") for text in texts.values())
    assert len(examples) == commands >= 14, "every quoted command must be in the checked format"
    reports: dict[tuple[str, str, str | None], Any] = {}
    for name, m in examples:
        key = (m["critic"], m["actor"], m["e_min"])
        if key not in reports:
            e_min = None if m["e_min"] is None else float(m["e_min"])
            reports[key] = check_step_sizes(m["critic"], m["actor"], e_min=e_min)
        report = reports[key]
        verdict = report[m["id"]]
        quoted = (m["status"], m["method"], m["detail"], m["two_timescale"])
        actual = (verdict.status, verdict.method, verdict.detail, report.two_timescale)
        assert quoted == actual, f"{name}, {key}: the page quotes {quoted}, acconv says {actual}"


@pytest.mark.parametrize(
    ("module", "inherited"),
    [("ppo", set()), ("rudder", {6})],  # RUDDER's step 6 is PPO's epochs, marked in ppo.py
)
def test_the_neural_learners_mark_every_docstring_step_in_their_code(
    module: str, inherited: set[int]
) -> None:
    source = ROOT / "acconv" / "neural" / f"{module}.py"
    steps = set(docstring_steps(source))
    assert steps, f"{module}: no numbered pseudocode in the module docstring"
    assert source_marks(source) == steps - inherited
