"""Issue 14, input hardening: each bad input of the issue, reproduced, is a one-line error.

Every CLI case asserts exit code 2, one line on stderr starting ``acconv: error:``, no
traceback, and (for ``run``) that nothing was created; every API case asserts a message that
names the argument and what was expected.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from acconv._validate import MAX_MODEL_ENTRIES, check_dense_size
from acconv.cli import main
from acconv.envs import model_of
from acconv.mdp import FiniteMDP, garnet
from acconv.runner import expand
from acconv.spec import LIMITS, SpecError, load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "example_actor_critic.toml"
TINY = ["--set", "budget.n_updates=2", "--set", "seeds.count=1", "--quiet", "--workers", "1"]


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI in this process; assert exit 2 and one error line; return that line."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert err.startswith("acconv: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in out + err
    return err


# ------------------------------------------------------------------------------------------------
# item 2: output folders
# ------------------------------------------------------------------------------------------------


def _bad_out(tmp_path: Path, kind: str) -> tuple[str, str]:
    """A bad --out of the issue and the words its error must contain."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    return {
        "existing-file": (str(a_file), "which is not a folder"),
        "under-a-file": (str(a_file / "sub"), f"below {str(a_file)!r}, which is not a folder"),
        "dev-null": ("/dev/null", "'/dev/null', which is not a folder"),
        "proc": ("/proc/acconv-x", "--out is '/proc/acconv-x', "),  # not writable, or no mkdir
        "name-too-long": (str(tmp_path / ("a" * 300)), "a name of 300 bytes"),
        "empty": ("", "--out is '', expected a folder path"),
    }[kind]


OUT_KINDS = ["existing-file", "under-a-file", "dev-null", "proc", "name-too-long", "empty"]


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_run_refuses_a_bad_output_folder_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out, expected = _bad_out(tmp_path, kind)
    before = sorted(tmp_path.rglob("*"))
    err = one_line_error(capsys, ["run", str(EXAMPLE), "--out", out, *TINY])
    assert expected in err, err
    assert sorted(tmp_path.rglob("*")) == before  # nothing written, not even a run folder


@pytest.mark.parametrize("kind", OUT_KINDS)
def test_reproduce_refuses_a_bad_output_folder_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    out, expected = _bad_out(tmp_path, kind)
    err = one_line_error(capsys, ["reproduce", "--out", out, "--quiet", "--workers", "1"])
    assert expected in err, err


def test_run_with_an_empty_out_writes_nothing_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    one_line_error(capsys, ["run", str(EXAMPLE), "--out", "", *TINY])
    assert list(tmp_path.iterdir()) == []  # the issue: run folders landed in the cwd, exit 0


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot write in: chmod 555 for a normal user; as root (which
    writes through any mode) /sys, where mkdir fails with EPERM on Linux."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    try:
        os.mkdir("/sys/acconv-probe")
    except OSError:
        return Path("/sys")
    os.rmdir("/sys/acconv-probe")
    pytest.skip("running as root, which writes through chmod 555, and /sys is writable here")


@pytest.mark.parametrize("command", ["run", "reproduce"])
def test_a_read_only_output_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    out = _unwritable_folder(tmp_path) / "results"
    argv = ["run", str(EXAMPLE), "--out", str(out), *TINY]
    if command == "reproduce":
        argv = ["reproduce", "--out", str(out), "--quiet", "--workers", "1"]
    err = one_line_error(capsys, argv)
    assert "not writable" in err or "cannot be used" in err, err
    assert not out.exists()


def test_a_folder_without_write_permission_is_refused_before_anything_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a normal user sees for a chmod-555 folder, whoever runs the test: access() says no.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    out = tmp_path / "results"
    err = one_line_error(capsys, ["run", str(EXAMPLE), "--out", str(out), *TINY])
    assert f"below {str(tmp_path)!r}, which is not writable" in err, err
    assert not out.exists()


# ------------------------------------------------------------------------------------------------
# item 3: spec files that are not text
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (bytes(range(128, 256)) * 8, "not UTF-8 text (byte 0x80 at offset 0)"),
        (bytes(range(256)) * 4, "has NUL bytes"),
        (EXAMPLE.read_text().encode("utf-16"), "the file is UTF-16 text, expected UTF-8"),
        (EXAMPLE.read_text().encode("utf-16-le"), "has NUL bytes"),
        (EXAMPLE.read_text().encode("utf-32"), "the file is UTF-32 text"),
        (b"x = " + b"[" * 50_000 + b"]" * 50_000, "nested too deep to parse"),
        (b"x = " + b"[" * 40 + b"]" * 40, "nested more than 32"),
        (b"x = " + b"1" * 5000, "not valid TOML (Exceeds the limit (4300 digits)"),
        (b"name = 'x'\n" * 100_000, "larger than 1000000 bytes"),
    ],
    ids=[
        "binary",
        "binary-nul",
        "utf-16",
        "utf-16-no-bom",
        "utf-32",
        "deep-50000",
        "deep-40",
        "huge-int",
        "too-large",
    ],
)
def test_a_spec_that_is_not_toml_text_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    path = tmp_path / "spec.toml"
    path.write_bytes(content)
    err = one_line_error(capsys, ["run", str(path), "--out", str(tmp_path / "out"), *TINY])
    assert expected in err, err
    assert not (tmp_path / "out").exists()


def test_dev_zero_as_a_spec_is_refused_after_reading_a_bounded_prefix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    err = one_line_error(capsys, ["run", "/dev/zero", "--out", str(tmp_path / "out"), *TINY])
    assert "zero: larger than 1000000 bytes" in err, err


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_bytes(EXAMPLE.read_text().encode("utf-8-sig"))
    assert load_spec(path) == load_spec(EXAMPLE)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ('{"a":' * 20_000 + "1" + "}" * 20_000, "--env-kwargs is nested too deep"),
        ('{"a":' * 40 + "1" + "}" * 40, "--env-kwargs is nested more than 32"),
        ('{"a": ' + "1" * 5000 + "}", "--env-kwargs is not valid JSON (Exceeds the limit"),
    ],
    ids=["deep-20000", "deep-40", "huge-int"],
)
def test_env_kwargs_json_that_python_cannot_hold_is_one_line(
    capsys: pytest.CaptureFixture[str], kwargs: str, expected: str
) -> None:
    err = one_line_error(capsys, ["solve", "FrozenLake-v1", "--env-kwargs", kwargs])
    assert expected in err, err


def test_a_deep_set_override_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(EXAMPLE), "--out", str(tmp_path / "o"), "--set", "x.y=" + "[" * 5000]
    assert "--set x.y: arrays or tables nested too deep" in one_line_error(capsys, argv)


# ------------------------------------------------------------------------------------------------
# item 4: environment construction errors and models too large to hold densely
# ------------------------------------------------------------------------------------------------


@pytest.mark.slow  # a subprocess: about 3 s of imports
def test_gymnasium_warnings_do_not_add_lines_to_an_error() -> None:
    # `acconv solve Taxi-v3` printed Gymnasium's DeprecationWarning (two lines) before its error.
    result = subprocess.run(
        [sys.executable, "-W", "default", "-m", "acconv.cli", "solve", "Taxi-v3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Taxi-v3" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_frozenlake_map_is_one_line_from_solve_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["solve", "FrozenLake-v1", "--env-kwargs", '{"map_name": "nope"}']
    assert "map_name is 'nope', expected one of 4x4, 8x8" in one_line_error(capsys, argv)
    argv = [
        "run",
        str(EXAMPLE),
        "--out",
        str(tmp_path / "out"),
        *TINY,
        "--set",
        'env.id="FrozenLake-v1"',
        "--set",
        'env.kwargs.map_name="nope"',
    ]
    err = one_line_error(capsys, argv)
    assert "env (FrozenLake-v1): map_name is 'nope', expected one of 4x4, 8x8" in err, err


def test_any_exception_of_a_third_party_constructor_is_a_value_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gymnasium

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(gymnasium, "make", broken)
    with pytest.raises(
        ValueError, match=r"cannot build CliffWalking-v1 with \{\} \(KeyError: 'boom'\)"
    ):
        model_of("CliffWalking-v1")


def test_a_120_by_120_frozenlake_is_refused_before_allocating_with_its_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    desc = '{"desc": [' + ", ".join(['"S' + "F" * 119 + '"'] * 120) + "]}"
    err = one_line_error(capsys, ["solve", "FrozenLake-v1", "--env-kwargs", desc])
    # 120 · 120 = 14400 states, 4 actions: 4 · 14400² = 829,440,000 entries, 8 bytes each
    # = 6.18 GiB for P alone.
    assert "14400 states and 4 actions" in err and "829440000 entries (6.18 GiB)" in err, err


def test_the_dense_size_limit_is_n_actions_times_n_states_squared() -> None:
    check_dense_size(2048, 4, "a model")  # 4 · 2048² = 2**24 exactly: accepted
    with pytest.raises(ValueError, match="2049 states and 4 actions"):
        check_dense_size(2049, 4, "a model")
    assert MAX_MODEL_ENTRIES == 2**24


@pytest.mark.parametrize(
    ("desc", "expected"),
    [
        (["SFF", "FH", "FFG"], "desc[1] has 2 tiles but desc[0] has 3"),
        (5, "desc is 5, expected a list of equal-length rows"),
        ("SFFG", "desc is 'SFFG', expected a list"),
        (["SFFX"], "desc[0] is 'SFFX' with tile 'X'"),
        (["FFF", "FFG"], "without a start tile S"),
        ([[1, 2]], "desc[0] is [1, 2], expected"),
        ([], "desc is [], expected"),
    ],
)
def test_a_bad_frozenlake_desc_names_the_row_and_the_tiles(desc: object, expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        model_of("FrozenLake-v1", {"desc": desc})
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_frozenlake_desc_of_lists_of_tiles_is_accepted() -> None:
    as_lists = model_of("FrozenLake-v1", {"desc": [list("SF"), list("HG")]})
    as_text = model_of("FrozenLake-v1", {"desc": ["SF", "HG"]})
    assert np.array_equal(as_lists.P, as_text.P) and as_text.n_states == 4


# ------------------------------------------------------------------------------------------------
# item 5: budgets, seeds and sweeps within stated limits, checked before anything is created
# ------------------------------------------------------------------------------------------------


PAST_LIMITS = {
    "seeds": (["--seeds", f"{10**12}"], f"--seeds is {10**12}, expected an integer in [1, 10000]"),
    "n_updates-2**63": (
        ["--set", f"budget.n_updates={2**63 - 1}"],
        f"n_updates is {2**63 - 1}, expected an integer <= 1000000",
    ),
    "n_updates-1e20": (
        ["--set", f"budget.n_updates={10**20}"],
        f"n_updates is {10**20}, expected an integer <= 1000000",
    ),
    "episodes": (
        ["--set", f"budget.episodes_per_update={10**12}"],
        f"episodes_per_update is {10**12}, expected an integer <= 100000",
    ),
    "max_steps": (
        ["--set", "budget.max_steps=10000000"],
        "max_steps is 10000000, expected an integer <= 1000000",
    ),
    "batch": (
        ["--set", "budget.episodes_per_update=10000", "--set", "budget.max_steps=100000"],
        "episodes_per_update × budget.max_steps is 1000000000, expected at most 100000000",
    ),
    "count": (["--set", "seeds.count=10001"], "seeds.count is 10001, expected an integer <= 10000"),
    "workers": (["--workers", "1000000"], "--workers is 1000000, expected an integer in [1, 1024]"),
}


@pytest.mark.parametrize(("arguments", "expected"), PAST_LIMITS.values(), ids=PAST_LIMITS.keys())
def test_a_budget_past_its_limit_is_one_line_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    out = tmp_path / "out"
    err = one_line_error(capsys, ["run", str(EXAMPLE), "--out", str(out), "--quiet", *arguments])
    assert expected in err, err
    assert not out.exists()  # the issue: each left an empty folder


def test_budgets_at_their_limits_are_accepted() -> None:
    at_limit = [
        f"budget.n_updates={LIMITS['budget.n_updates']}",
        f"budget.episodes_per_update={LIMITS['budget.episodes_per_update']}",
        "budget.max_steps=1000",  # 10**5 · 1000 = 10**8 steps per update: the limit
        f"seeds.count={LIMITS['seeds.count']}",
    ]
    spec = load_spec(EXAMPLE, at_limit)
    assert spec.budget.n_updates == 10**6 and spec.seeds.count == 10**4


def _sweep(tmp_path: Path, lines: str) -> Path:
    """The example spec with its [sweep] table's line replaced by ``lines``."""
    path = tmp_path / "spec.toml"
    old = '"learner.actor_lr" = ["0.1/(n+1)", "0.5/(n+1)**0.9"]'
    path.write_text(EXAMPLE.read_text().replace(old, lines))
    return path


def test_a_sweep_over_its_point_limit_is_refused_without_enumerating_it(tmp_path: Path) -> None:
    # 200 · 200 · 200 = 8,000,000 points: enumerating them would take minutes.
    values = "[" + ", ".join(str(k) for k in range(1, 201)) + "]"
    lines = "\n".join(f'"learner.params.{k}" = {values}' for k in ("tau", "gae_lambda", "x"))
    with pytest.raises(SpecError, match="sweep: 8000000 points, expected at most 10000"):
        load_spec(_sweep(tmp_path, lines))


def test_sweep_points_times_seeds_over_the_run_limit_is_refused(tmp_path: Path) -> None:
    values = "[" + ", ".join(f'"{k}/(n+1)"' for k in range(1, 102)) + "]"
    path = _sweep(tmp_path, f'"learner.actor_lr" = {values}')
    with pytest.raises(SpecError, match=r"101 sweep points × 1000 seeds = 101000 runs"):
        load_spec(path, ["seeds.count=1000"])


def test_a_spec_name_too_long_for_a_folder_is_refused(tmp_path: Path) -> None:
    # The name is the default output folder, results/<name>: at most 100 characters.
    assert load_spec(EXAMPLE, ["name=" + "a" * 100]).name == "a" * 100
    with pytest.raises(SpecError, match=r"name is 'a{76}\.\.\., expected 1 to 100 letters"):
        load_spec(EXAMPLE, ["name=" + "a" * 101])


# ------------------------------------------------------------------------------------------------
# item 6: check-schedule --e-min
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "0", "-1"])
def test_a_non_finite_or_non_positive_e_min_is_one_line(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    argv = ["check-schedule", "--critic", "0.5/(n+1)**0.6", "--actor", "0.1/(n+1)"]
    err = one_line_error(capsys, [*argv, "--e-min", value])
    assert f"--e-min is {float(value):g}, expected a finite number > 0" in err, err


# ------------------------------------------------------------------------------------------------
# item 8: duplicate sweep values
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values", ['["0.1/(n+1)", "0.1/(n+1)"]', "[0.1, 0.10]", "[nan, nan]", "[1, 2, 1]"]
)
def test_duplicate_sweep_values_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], values: str
) -> None:
    path = _sweep(tmp_path, f'"learner.actor_lr" = {values}')
    err = one_line_error(capsys, ["run", str(path), "--out", str(tmp_path / "out"), *TINY])
    assert "sweep: key 'learner.actor_lr' lists" in err and "twice; expected distinct" in err
    assert not (tmp_path / "out").exists()


def test_values_that_differ_in_type_are_distinct_sweep_points_with_distinct_folders(
    tmp_path: Path,
) -> None:
    spec = load_spec(_sweep(tmp_path, '"learner.actor_lr" = ["0.1", 0.1]'), ["seeds.count=1"])
    folders = [run.folder for run in expand(spec)]
    assert len(folders) == len(set(folders)) == 2


# ------------------------------------------------------------------------------------------------
# item 11: API messages that name the problem
# ------------------------------------------------------------------------------------------------

_P = np.full((2, 1, 2), 0.5)
_R = np.zeros((2, 1))
_RHO = np.array([0.5, 0.5])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"gamma": "abc"}, "gamma is 'abc', expected a number in (0, 1]"),
        ({"gamma": None}, "gamma is None, expected a number in (0, 1]"),
        ({"gamma": True}, "gamma is True, expected a number in (0, 1]"),
        ({"P": [[[1.0]], [[0.5, 0.5]]]}, "P is [[[1.0]], [[0.5, 0.5]]], expected a rectangular"),
        ({"P": "abc"}, "P is 'abc', expected an array of real numbers, got <U3 entries"),
        ({"P": None}, "P is None, expected an array of real numbers, got object entries"),
        ({"P": _P + 0.1j}, "expected an array of real numbers, got complex numbers"),
        ({"R": [["a"], ["b"]]}, "R is [['a'], ['b']], expected an array of real numbers"),
    ],
    ids=["gamma-text", "gamma-none", "gamma-bool", "P-ragged", "P-text", "P-none", "P-complex",
         "R-text"],
)  # fmt: skip
def test_a_bad_finite_mdp_argument_is_named_in_one_line(
    change: dict[str, object], expected: str
) -> None:
    arguments = {"P": _P, "R": _R, "gamma": 0.9, "rho": _RHO, **change}
    with pytest.raises(ValueError) as caught:
        FiniteMDP(**arguments)  # type: ignore[arg-type]
    assert expected in str(caught.value) and "\n" not in str(caught.value), caught.value


def test_a_complex_p_is_refused_not_cast_with_a_warning() -> None:
    # The issue: the imaginary part was dropped with a ComplexWarning and the MDP accepted.
    with pytest.raises(ValueError, match="complex"):
        FiniteMDP(P=_P.astype(complex), R=_R, gamma=0.9, rho=_RHO)


def test_garnet_without_a_generator_names_rng() -> None:
    with pytest.raises(TypeError, match=r"rng is None, expected a numpy.random.Generator"):
        garnet(3, 2, 2, rng=None)  # type: ignore[arg-type]
