"""Issue 14: a fuzz test of the command line that keeps bad input from ever being a traceback.

Hypothesis generates (1) mutated spec files, from a tiny valid spec: random types, values,
nesting, text encodings, truncations and sizes, run with ``acconv run``; and (2) argument lists
for every command. Each example runs the CLI in this process (``acconv.cli.main``) in a fresh
empty working directory and must

* end with exit code 0, or with exit code 2 and exactly one line ``acconv: error: ...`` on
  stderr (a run whose spec validated must not fail: exit 1 is a finding too);
* raise nothing out of ``main`` (a traceback) and finish within :data:`HANG_S` seconds;
* create nothing outside the ``--out`` folder it names.

The examples are derandomized (hypothesis derives them from the test's name), so CI sees the
same inputs on every run. The full run is ``-m slow``; a smaller one runs by default.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acconv.cli import main

HANG_S = 30
"""An example still running after this long is a hang (a run of the tiny spec takes ~0.1 s)."""

BASE: dict[str, Any] = {
    "name": "fuzz",
    "env": {"id": "acconv/Garnet-v0", "kwargs": {"n_states": 4, "n_actions": 2}},
    "learner": {
        "kind": "actor_critic",
        "mode": "sampled",
        "critic_lr": "0.5/(n+1)**0.6",
        "actor_lr": "0.1/(n+1)",
        "params": {},
    },
    "budget": {"n_updates": 3, "episodes_per_update": 2, "max_steps": 20},
    "seeds": {"count": 1},
    "checks": {"step_sizes": True},
    "sweep": {"learner.actor_lr": ["0.1/(n+1)", "0.2/(n+1)"]},
}
"""A valid spec whose runs take about 0.1 s: every mutation starts from it."""

# Values that hit boundaries and limits, and nothing that is valid but slow: no large budget,
# model or seed count inside the limits, no neural learner, no Ray.
INTEGERS = st.one_of(
    st.integers(-3, 5),
    st.sampled_from([-(2**63), 2**31, 2**63 - 1, 2**64, 10**6 + 1, 10**20, 10**400]),
)
FLOATS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, 5e-324, 0.5, 1.0, 2.0]),
    st.floats(-2, 2),
)
WORDS = st.sampled_from(
    [
        "", " ", "0.1/(n+1)", "0.5/(n+1)**0.6", "1/(n", "__import__('os')", "n**n**n",
        "1e308*(n+1)", "0", "nan", "inf", "acconv/Garnet-v0", "FrozenLake-v1",
        "CliffWalking-v1", "acconv/DelayedChain-v0", "CartPole-v1", "NoSuchEnv-v0",
        "actor_critic", "ppo", "rudder", "softmax_pg", "npg", "pmd", "expected", "sampled",
        "td0", "mc", "4x4", "8x8", "SFFG", "a" * 300, "é\u202e\x7f", "\ud800",
    ]
)  # fmt: skip
SCALARS = st.one_of(INTEGERS, FLOATS, WORDS, st.booleans(), st.text(max_size=12))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(WORDS | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
KEY_PATHS: list[tuple[str, ...]] = [
        ("name",), ("description",), ("env",), ("env", "id"), ("env", "kwargs"),
        ("env", "kwargs", "n_states"), ("env", "kwargs", "n_actions"),
        ("env", "kwargs", "branching"), ("env", "kwargs", "mdp_seed"), ("env", "kwargs", "gamma"),
        ("env", "kwargs", "desc"), ("env", "kwargs", "map_name"), ("env", "gamma"),
        ("env", "episodic"), ("learner",), ("learner", "kind"), ("learner", "mode"),
        ("learner", "critic_lr"), ("learner", "actor_lr"), ("learner", "beta"),
        ("learner", "params"), ("learner", "params", "critic_target"), ("learner", "params", "tau"),
        ("learner", "params", "gae_lambda"), ("budget",), ("budget", "n_updates"),
        ("budget", "episodes_per_update"), ("budget", "max_steps"), ("budget", "eval_episodes"),
        ("seeds",), ("seeds", "count"), ("seeds", "root"), ("checks",), ("checks", "step_sizes"),
        ("checks", "monitor"), ("checks", "bounds"), ("sweep",), ("sweep", "learner.actor_lr"),
        ("sweep", "learner.critic_lr"), ("sweep", "env.kwargs.n_states"), ("sweep", "seeds.count"),
        ("unknown",),
]  # fmt: skip
KEYS = st.sampled_from(KEY_PATHS)


class Deep(int):
    """An array nested ``self`` levels deep, written out by :func:`_toml` without recursion."""


LAKES = st.one_of(
    st.lists(st.text(alphabet="SFHGX", max_size=12), max_size=12),
    st.sampled_from([["S" + "F" * 119] * 120, ["S" + "F" * 44] * 45, "SFFG", 5]),
).map(lambda desc: {"id": "FrozenLake-v1", "kwargs": {"desc": desc}})
"""A FrozenLake ``[env]`` with a random map: ragged, unknown tiles, no start, or too large."""

MUTATION = st.sampled_from(["set"] * 4 + ["deep", "delete", "lake"]).flatmap(
    lambda action: st.tuples(
        st.just("delete" if action == "delete" else "set"),
        st.just(("env",)) if action == "lake" else KEYS,
        {
            "set": VALUES,
            "deep": st.integers(30, 60_000).map(Deep),
            "delete": st.none(),
            "lake": LAKES,
        }[action],
    )
)


def _mutated(mutations: list[tuple[str, tuple[str, ...], Any]]) -> dict[str, Any]:
    spec = json.loads(json.dumps(BASE))
    for action, key, value in mutations:
        node = spec
        for part in key[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if action == "delete":
            node.pop(key[-1], None)
        else:
            node[key[-1]] = value
    return spec


def _toml(value: Any) -> str:
    """A TOML value (inline tables and arrays); strings as JSON strings, which TOML reads the
    same except for lone surrogates (then the file is invalid TOML, also a fine input)."""
    if isinstance(value, Deep):
        return "[" * value + "1" + "]" * value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**4000 else "1" * 4400  # past int()'s digit limit
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    items = ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items())
    return "{" + items + "}"


def _spec_bytes(spec: dict[str, Any], encoding: str, cut: float | None, pad: int) -> bytes:
    text = "\n".join(f"{json.dumps(key)} = {_toml(value)}" for key, value in spec.items())
    text += "\n" + "# padding\n" * pad
    data = text.encode(encoding, errors="surrogatepass" if encoding == "utf-8" else "replace")
    if cut is not None:
        data = data[: int(len(data) * cut)]
    return data


ENCODINGS = st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "utf-16-le", "latin-1"])
SPEC_FILES = st.tuples(
    st.lists(MUTATION, max_size=3).map(_mutated),
    ENCODINGS,
    st.none() | st.none() | st.floats(0, 1),  # a truncated file one time in three
    st.sampled_from([0] * 9 + [110_000]),  # one time in ten: padded past the size cap
)


@contextlib.contextmanager
def _sandbox() -> Iterator[Path]:
    """A fresh empty working directory, left afterwards; restores the old one."""
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="acconv-fuzz-") as folder:
        os.chdir(folder)
        try:
            yield Path(folder)
        finally:
            os.chdir(before)


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so no ``except Exception`` in acconv hides it."""


def _hang(signum: int, frame: Any) -> None:
    raise Hang(f"the example ran for more than {HANG_S} s")


def _check_cli(argv: list[str], sandbox: Path, out: Path | None) -> None:
    """Run ``main(argv)`` and assert the contract of the module docstring."""
    before = {p for p in sandbox.rglob("*") if out is None or not p.is_relative_to(out)}
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _hang)
    signal.alarm(HANG_S)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = stderr.getvalue()
    assert "Traceback" not in stdout.getvalue() + err, (argv, err)
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.startswith("acconv: error: ") and err.count("\n") == 1, (argv, err)
    after = {p for p in sandbox.rglob("*") if out is None or not p.is_relative_to(out)}
    outside = after - before - ({out} if out is not None else set())
    assert not outside, (argv, sorted(map(str, outside)))


FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _spec_fuzz(case: tuple[dict[str, Any], str, float | None, int]) -> None:
    spec, encoding, cut, pad = case
    with _sandbox() as sandbox:
        path = sandbox / "spec.toml"
        path.write_bytes(_spec_bytes(spec, encoding, cut, pad))
        out = sandbox / "out"
        argv = ["run", str(path), "--out", str(out), "--quiet", "--workers", "1"]
        _check_cli(argv, sandbox, out)


# ------------------------------------------------------------------------------------------------
# argument lists
# ------------------------------------------------------------------------------------------------

NUMBERS_AS_TEXT = st.one_of(INTEGERS.map(str), FLOATS.map(str), WORDS)
JSON_TEXT = st.one_of(
    VALUES.map(lambda v: json.dumps(v, allow_nan=True)),
    st.text(max_size=20),
    st.integers(30, 30_000).map(lambda depth: '{"a":' * depth + "1" + "}" * depth),
)
SET_ARGS = st.tuples(
    st.sampled_from([".".join(k) for k in KEY_PATHS] + ["", "=", "x.y"]),
    NUMBERS_AS_TEXT,
).map(lambda kv: ["--set", f"{kv[0]}={kv[1]}"])
BAD_OUTS = st.sampled_from(["", "a_file", "a_file/below", "/dev/null", "/proc/acconv-x", "a" * 300])


def _options(pairs: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    """A few ``--option value`` pairs drawn from ``pairs``, flattened."""
    one = st.sampled_from(sorted(pairs)).flatmap(lambda name: pairs[name].map(lambda v: [name, v]))
    return st.lists(one, max_size=3).map(lambda chunks: [t for chunk in chunks for t in chunk])


RUN_ARGV = st.tuples(
    st.sampled_from(["spec.toml", "missing.toml", ".", "/dev/null", "a_file"]),
    st.one_of(st.just("out"), BAD_OUTS),
    _options(
        {
            "--seeds": NUMBERS_AS_TEXT,
            "--workers": st.sampled_from(["-1", "0", "1", "x", "1000000000000"]),
            "--backend": st.sampled_from(["local", "x", ""]),
            "--address": WORDS,
        }
    ),
    st.lists(SET_ARGS, max_size=3).map(lambda chunks: [t for chunk in chunks for t in chunk]),
).map(lambda p: ["run", p[0], "--out", p[1], "--quiet", "--workers", "1", *p[2], *p[3]])
SOLVE_ARGV = st.tuples(
    WORDS,
    _options({"--gamma": NUMBERS_AS_TEXT, "--env-kwargs": JSON_TEXT}),
    st.sampled_from([[], ["--json"]]),
).map(lambda p: ["solve", p[0], *p[1], *p[2]])
SCHEDULE_ARGV = st.tuples(
    WORDS | st.text(max_size=12),
    WORDS | st.text(max_size=12),
    _options({"--e-min": NUMBERS_AS_TEXT}),
    st.sampled_from([[], ["--json"]]),
).map(lambda p: ["check-schedule", "--critic", p[0], "--actor", p[1], *p[2], *p[3]])
REPORT_ARGV = st.tuples(
    st.sampled_from(["missing", "a_file", "empty", ".", "/dev/null"]),
    st.sampled_from([[], ["--out", "out"], ["--out", "a_file"], ["--out", ""]]),
).map(lambda p: ["report", p[0], *p[1]])
# reproduce runs the whole suite when its arguments are valid: always give it a bad one.
REPRODUCE_ARGV = st.tuples(BAD_OUTS, st.sampled_from([[], ["--full"], ["--workers", "0"]])).map(
    lambda p: ["reproduce", "--out", p[0], "--quiet", *p[1]]
)
OTHER_ARGV = st.lists(
    st.sampled_from(["--help", "bogus", "run", "solve", "--json", "--out", "-", "--"]) | WORDS,
    max_size=4,
).map(lambda tokens: tokens if tokens[:1] != ["run"] else [*tokens, "--out", "out"])
ARGV = st.one_of(RUN_ARGV, SOLVE_ARGV, SCHEDULE_ARGV, REPORT_ARGV, REPRODUCE_ARGV, OTHER_ARGV)


def _argv_fuzz(argv: list[str]) -> None:
    with _sandbox() as sandbox:
        (sandbox / "spec.toml").write_text(_spec_bytes(BASE, "utf-8", None, 0).decode())
        (sandbox / "a_file").write_text("not a folder")
        (sandbox / "empty").mkdir()
        out = sandbox / "out" if "--out" in argv else None
        _check_cli(argv, sandbox, out)


# ------------------------------------------------------------------------------------------------
# the tests: a small run by default, the full one with -m slow (CI)
# ------------------------------------------------------------------------------------------------


@settings(FUZZ, max_examples=10)
@given(SPEC_FILES)
def test_mutated_specs_end_in_exit_0_or_one_line_errors(
    case: tuple[dict[str, Any], str, float | None, int],
) -> None:
    _spec_fuzz(case)


@settings(FUZZ, max_examples=20)
@given(ARGV)
def test_argument_lists_end_in_exit_0_or_one_line_errors(argv: list[str]) -> None:
    _argv_fuzz(argv)


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(SPEC_FILES)
def test_300_mutated_specs_end_in_exit_0_or_one_line_errors(
    case: tuple[dict[str, Any], str, float | None, int],
) -> None:
    _spec_fuzz(case)


@pytest.mark.slow
@settings(FUZZ, max_examples=300)
@given(ARGV)
def test_300_argument_lists_end_in_exit_0_or_one_line_errors(argv: list[str]) -> None:
    _argv_fuzz(argv)
