"""The ``acconv`` command line: ``solve`` output and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from acconv.cli import main
from acconv.envs import model_of
from acconv.exact import value_iteration


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_solve_json_reports_the_exact_optimum_of_frozenlake(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "solve", "FrozenLake-v1", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) >= {"n_states", "n_actions", "gamma", "v_star_start", "v_star", "policy"}
    assert (result["n_states"], result["n_actions"], result["gamma"]) == (16, 4, 0.99)
    assert len(result["v_star"]) == 16 and len(result["policy"]) == 16
    # Independent route: value iteration (the CLI uses policy iteration for γ < 1).
    mdp = model_of("FrozenLake-v1")
    assert result["v_star_start"] == pytest.approx(mdp.rho @ value_iteration(mdp).V, abs=1e-7)


def test_solve_with_gamma_one_gives_the_undiscounted_success_probability(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "solve", "FrozenLake-v1", "--gamma", "1", "--json")
    assert code == 0
    # 0.8235 = 14/17: the optimal success probability of 4x4 slippery FrozenLake without a time
    # limit, a value quoted in issue 2 (measured here) and checked independently in test_exact.
    assert json.loads(out)["v_star_start"] == pytest.approx(14 / 17, abs=1e-6)


def test_solve_accepts_env_kwargs_for_acconv_environments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "solve", "acconv/DelayedChain-v0", "--env-kwargs", '{"delay": 5}', "--json"
    )
    assert code == 0
    result = json.loads(out)
    # Hand computed: choosing the context's action at t = 0 always earns the delayed +1.
    assert result["v_star_start"] == pytest.approx(1.0)
    assert result["gamma"] == 1.0


def test_solve_prints_a_readable_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "solve", "CliffWalking-v1", "--gamma", "1")
    assert code == 0
    assert "|S|" in out and "48" in out
    # Hand computed: the shortest safe path along the cliff takes 13 steps at -1 each.
    assert "-13.000000" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["solve", "NoSuchEnv-v0"], "environment 'NoSuchEnv-v0' is not registered"),
        (["solve", "CartPole-v1"], "has no transition table"),
        (["solve", "FrozenLake-v1", "--gamma", "2"], "gamma is 2.0, expected a number in"),
        (["solve", "FrozenLake-v1", "--gamma", "abc"], "Invalid value for '--gamma'"),
        (["solve", "FrozenLake-v1", "--env-kwargs", "{bad"], "--env-kwargs is not valid JSON"),
        (["solve", "FrozenLake-v1", "--env-kwargs", "[1]"], "expected a JSON object"),
        (["solve", "FrozenLake-v1", "--env-kwargs", '{"foo": 1}'], "bad keyword arguments"),
        (["solve", "acconv/DelayedChain-v0", "--env-kwargs", '{"delay": -1}'], "delay"),
        (["solve", "acconv/Garnet-v0", "--gamma", "1"], "gamma is 1 but the MDP has neither"),
        (["solve"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("acconv: error: ")
    assert message in err
    assert err.count("\n") == 1, err


def test_installed_entry_point_reports_errors_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "acconv.cli", "solve", "NoSuchEnv-v0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
