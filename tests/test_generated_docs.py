"""Generated blocks of the docs (``tools/regenerate_docs.py``, ``benchmarks/generated.toml``).

* ``--check`` passes on the repository: every block of ``docs/performance.md`` and ``README.md``
  is registered and vice versa, each has its provenance line, the summary is the collection;
* a round trip in a temporary folder: a registered ``python -c`` command rewrites its block and
  leaves every byte outside it as it was; a failing command leaves the file untouched and the
  script exits 1 naming the block; an unknown id is refused in one line with exit code 2;
* the summary table collects the ``SUMMARY |`` rows in registry order;
* the README's numbers that are definitions (the Limits table) match the constants.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


regen = _load("regenerate_docs")
readme_example = _load("readme_example")

DOC = (
    """# Title

Text before, with a measured-looking 1.23 that is not in a block.

<!-- generated: hello -->

_Stale: not yet regenerated._

old output

<!-- end generated: hello -->

Between the blocks: unicode γ → ≤ and trailing spaces"""
    + "   \r\n"  # trailing spaces and a CRLF, kept as they are
    + """<!-- generated: summary -->
<!-- end generated: summary -->
Tail line"""
    + "  \n\n"  # trailing spaces and a blank last line, kept as they are
)


def _registry(argv: list[str], extra: str = "") -> str:
    argv_toml = json.dumps(argv)  # a JSON list of strings is a TOML array of basic strings
    return (
        'scan = ["doc.md"]\n'
        '[block.summary]\ncollect = "summary"\nfiles = ["doc.md"]\n'
        f'[block.hello]\nargv = {argv_toml}\nfiles = ["doc.md"]\nminutes = 0.01\n{extra}'
    )


def _setup(tmp_path: Path, argv: list[str], extra: str = "") -> Path:
    (tmp_path / "doc.md").write_bytes(DOC.encode("utf-8"))
    (tmp_path / "reg.toml").write_text(_registry(argv, extra), encoding="utf-8")
    return tmp_path / "doc.md"


def _main(tmp_path: Path, *args: str) -> int:
    return int(regen.main(["--root", str(tmp_path), "--registry", "reg.toml", *args]))


def test_check_passes_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert regen.main(["--check"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "blocks registered, all present with provenance" in out


def test_every_registered_command_exists() -> None:
    """Each argv starts with a script of the repository (run with the current interpreter)."""
    registry = regen.load_registry(ROOT, regen.REGISTRY)
    for entry in registry.entries.values():
        if not entry.collect:
            assert (ROOT / entry.argv[0]).is_file(), entry


def test_round_trip_rewrites_the_block_and_nothing_else(tmp_path: Path) -> None:
    code = "print('x = 42'); print('SUMMARY | thing (1) | t | 42 | pass |'); print('tail')"
    doc = _setup(tmp_path, ["-c", code])
    before = doc.read_bytes()
    assert _main(tmp_path, "--only", "hello") == 0
    after = doc.read_bytes()
    # Outside the blocks, byte for byte: up to the end of the start marker line, between the
    # blocks' markers, and after the last end marker.
    start = b"<!-- generated: hello -->\n"
    assert after[: after.index(start) + len(start)] == before[: before.index(start) + len(start)]
    end = b"<!-- end generated: hello -->"
    between = before[before.index(end) : before.index(b"<!-- generated: summary -->")]
    assert between in after
    tail = before[before.index(b"<!-- end generated: summary -->") :]
    assert after.endswith(tail)

    text = after.decode("utf-8")
    (hello,) = [b for b in regen.find_blocks(text, "doc.md") if b.id == "hello"]
    first = hello.body.strip().splitlines()[0]
    assert first.startswith("_Produced by `python -c ")
    assert re.search(r"on \d{4}-\d\d-\d\d at \d\d:\d\d UTC, 1-minute load [\d.]+ before", first)
    assert "x = 42\ntail" in hello.body  # the SUMMARY line is taken out of the visible output
    assert regen.summary_rows(hello.body) == ["| thing (1) | t | 42 | pass |"]
    (summary,) = [b for b in regen.find_blocks(text, "doc.md") if b.id == "summary"]
    assert "| thing (1) | t | 42 | pass | `hello` |" in summary.body
    assert _main(tmp_path, "--check", "--strict") == 0

    # A second run gives the same structure (the block is found again and replaced).
    assert _main(tmp_path, "--only", "hello") == 0
    assert doc.read_text(encoding="utf-8").count("<!-- generated: hello -->") == 1


def test_a_failing_command_leaves_the_file_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _setup(tmp_path, ["-c", "import sys; print('partial'); sys.exit('boom')"])
    before = doc.read_bytes()
    assert _main(tmp_path, "--only", "hello") == 1
    assert doc.read_bytes() == before
    err = capsys.readouterr().err
    assert "failed: hello:" in err and "exited 1: boom" in err
    assert not list(tmp_path.glob(".doc.md.*"))  # no temporary file left behind


def test_an_unknown_id_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _setup(tmp_path, ["-c", "print(1)"])
    before = doc.read_bytes()
    assert _main(tmp_path, "--only", "nope") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'nope' is not a block id" in err and "hello" in err
    assert doc.read_bytes() == before


def test_check_finds_unregistered_missing_and_unproven_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _setup(tmp_path, ["-c", "print(1)"])
    # As written, the summary block is empty: not the collection of the rows.
    assert _main(tmp_path, "--check") == 1
    assert "'summary' is not the collection" in capsys.readouterr().err
    assert _main(tmp_path, "--collect") == 0
    assert _main(tmp_path, "--check") == 0
    assert "stale (not yet regenerated): hello" in capsys.readouterr().out
    assert _main(tmp_path, "--check", "--strict") == 1

    text = doc.read_text(encoding="utf-8")
    doc.write_text(text + "\n<!-- generated: other -->\nx\n<!-- end generated: other -->\n")
    assert _main(tmp_path, "--check") == 1
    assert "block 'other' has no entry in the registry" in capsys.readouterr().err

    doc.write_text(text.replace("_Stale: not yet regenerated._", "hand-pasted 1.23"))
    assert _main(tmp_path, "--check") == 1
    assert "'hello' starts with 'hand-pasted 1.23'" in capsys.readouterr().err

    doc.write_text(text.replace("<!-- end generated: hello -->", ""))
    assert _main(tmp_path, "--check") == 1
    assert "starts inside block 'hello'" in capsys.readouterr().err


def test_a_bad_registry_is_refused_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(tmp_path, ["-c", "print(1)"], extra="shell = true\n")
    assert _main(tmp_path, "--list") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "block.hello: a key is 'shell'" in err
    (tmp_path / "reg.toml").write_text('[block.x]\nargv = "python -c 1"\nfiles = ["doc.md"]\n')
    assert _main(tmp_path, "--list") == 2
    assert "block.x: argv is 'python -c 1', expected a list of strings" in capsys.readouterr().err


def test_summary_rows_follow_the_registry_order() -> None:
    """Rows come in registry order whatever the order of the blocks in the files, each tagged
    with its block, and a stale block's rows say so."""
    registry = regen.parse_registry(
        "[block.summary]\ncollect = 'summary'\nfiles = ['a.md']\n"
        "[block.first]\nargv = ['x.py']\nfiles = ['b.md']\n"
        "[block.second]\nargv = ['y.py']\nfiles = ['a.md']\n",
        "reg.toml",
    )
    bodies = {
        "second": regen.block_body("_Produced by x._", "out", ["| b | t | 2 | pass |"]),
        "first": regen.block_body(
            regen.STALE + "._", "out", ["| a | t | 1 | pass |", "| a2 | t | 3 | FAIL |"]
        ),
    }
    assert regen.collect_summary(registry, bodies) == [
        "| a | t | 1 | pass | `first` (stale) |",
        "| a2 | t | 3 | FAIL | `first` (stale) |",
        "| b | t | 2 | pass | `second` |",
    ]


def test_split_summary_takes_out_only_summary_lines() -> None:
    output, rows = regen.split_summary("| a |\nSUMMARY | x | y |\nnot SUMMARY | z |\n")
    assert output == "| a |\nnot SUMMARY | z |"
    assert rows == ["| x | y |"]


def test_the_shown_command_has_the_environment_first() -> None:
    entry = regen.Entry("e", ("a.md",), ("b.py", "--n", "1"), {"OPENBLAS_NUM_THREADS": "1"})
    assert entry.shown() == "OPENBLAS_NUM_THREADS=1 python b.py --n 1"


def test_readme_example_is_the_last_python_fence_before_the_marker() -> None:
    text = (
        "```python\nprint(1)\n```\n\n```bash\nls\n```\n```python\nprint(2)\n```\n"
        "<!-- generated: ex -->\n<!-- end generated: ex -->\n```python\nprint(3)\n```\n"
    )
    assert readme_example.example_before(text, "ex") == "print(2)\n"
    with pytest.raises(ValueError, match="'missing'"):
        readme_example.example_before(text, "missing")


def test_readme_blocks_follow_their_examples() -> None:
    """Each README example block sits right after the example it runs (not a stray fence)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for block_id, printed in (
        ("readme-frozenlake", 'print(recorder.last("exact/gap"))'),
        ("readme-assumptions", "print(report.statement)"),
    ):
        assert printed in readme_example.example_before(readme, block_id)


def test_readme_limits_are_the_constants() -> None:
    """The README's Limits table states acconv's constants, not numbers typed twice."""
    from acconv._validate import MAX_MODEL_ENTRIES, MAX_NESTING
    from acconv.cli import MAX_WORKERS
    from acconv.spec_input import LIMITS, MAX_SPEC_BYTES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Limits") : readme.index("### Reproducing the claims")]
    rows = {
        cells[0]: cells[1]
        for line in section.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.strip("|").split("|")])
    }
    powers = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")

    def number(cell: str) -> int:
        match = re.match(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", cell)
        assert match, cell
        return int(10 ** int(match.group(1).translate(powers)))

    assert number(rows["`budget.n_updates`"]) == LIMITS["budget.n_updates"]
    assert number(rows["`budget.episodes_per_update`"]) == LIMITS["budget.episodes_per_update"]
    cell = rows["`budget.max_steps`, `budget.eval_episodes`"]
    assert number(cell) == LIMITS["budget.max_steps"] == LIMITS["budget.eval_episodes"]
    assert number(rows["`episodes_per_update × max_steps`"]) == LIMITS["steps per update"]
    assert number(rows["`seeds.count` (`--seeds`)"]) == LIMITS["seeds.count"]
    assert number(rows["sweep points"]) == LIMITS["sweep points"]
    assert number(rows["runs (sweep points × seeds)"]) == LIMITS["runs"]
    assert rows["`--workers`"] == str(MAX_WORKERS)
    spec_file = rows["a spec file"]
    assert f"{MAX_SPEC_BYTES // 10**6} MB" in spec_file and f"{MAX_NESTING} deep" in spec_file
    assert f"{MAX_NESTING} deep" in rows["`--env-kwargs`"]
    # 2²⁴ = 16,777,216 entries: 2048 states with 4 actions, a 45×45 FrozenLake (46×46 is over).
    model = rows["a model's `n_actions · n_states²`"]
    assert f"2²⁴ = {MAX_MODEL_ENTRIES:,}" in model and MAX_MODEL_ENTRIES == 2**24
    assert 4 * 2048**2 == MAX_MODEL_ENTRIES
    assert 4 * (45 * 45) ** 2 <= MAX_MODEL_ENTRIES < 4 * (46 * 46) ** 2
    # "128 MiB per dense array": float64 entries; "about 1 GB" of records at 1 kB per update.
    assert "128 MiB per dense array" in model or "128 MiB per dense array" in section
    assert MAX_MODEL_ENTRIES * 8 == 128 * 2**20
    assert "about 1 GB" in rows["`budget.n_updates`"] + section
    assert LIMITS["budget.n_updates"] * 1000 == 10**9


def test_time_command_prints_one_line_and_passes_failures_on(tmp_path: Path) -> None:
    import subprocess

    script = str(ROOT / "tools" / "time_command.py")
    # {tmp} becomes a fresh, existing folder: the command writes a file into it.
    code = "import pathlib, sys; (pathlib.Path(sys.argv[1]) / 'f').write_text('x')"
    done = subprocess.run(
        [sys.executable, script, "--label", "demo", "--", "python", "-c", code, "{tmp}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(
        r"`demo` took [\d.]+ s of wall time and [\d.]+ s of CPU time on \d+ cores\.\n", done.stdout
    )
    failed = subprocess.run(
        [sys.executable, script, "--label", "x", "--", "python", "-c", "raise SystemExit(3)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 3 and failed.stdout == ""


def test_machine_info_states_this_interpreter() -> None:
    import platform

    machine = _load("machine_info")
    rows = dict(machine.rows())
    assert rows["Python"] == f"{platform.python_implementation()} {platform.python_version()}"
    assert rows["CPUs"].endswith(f"= {os.cpu_count()}")
