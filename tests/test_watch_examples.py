"""The example loops of ``acconv.examples`` under ``acconv.watch``: the verdicts the maths says.

* ``cleanrl_ppo`` (one Adam optimiser over a shared agent, learning rate annealed by hand): S4
  violated (one optimiser, b(n)/a(n) = 1), the optimiser verdict undecided (Adam), S1–S3
  undecided (a hand-set rate the loop does not declare), so A2 does not hold; declared, the
  annealing law reaches 0 and S1 is violated.
* ``two_timescale_sgd`` (two plain SGD optimisers on declared schedules a(n) = 0.1/(1 + n/100)^0.6
  and b(n) = 0.05/(1 + n/100)^0.9): S1–S5 hold, the optimiser verdict holds, and the exact
  tracking error ‖V_ω - V^π‖ falls.

Runs are small (a few PPO iterations of 32 steps; 300 actor-critic updates, about 2 s) and
seeded; the saved folders are read back by ``acconv report``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("torch")
import gymnasium as gym

import acconv
from acconv.adapters.watch import Watch
from acconv.cli import main
from acconv.examples import cleanrl_ppo, two_timescale_sgd
from acconv.instrument import Recorder

PPO_SMALL: dict[str, Any] = dict(iterations=3, num_steps=32)  # 4 envs × 32 steps, 16 steps each
SGD_UPDATES = 300


@pytest.fixture(scope="module")
def ppo() -> Watch:
    return cleanrl_ppo.run(seed=0, **PPO_SMALL)


@pytest.fixture(scope="module")
def sgd() -> Watch:
    return two_timescale_sgd.run(seed=0, iterations=SGD_UPDATES)


def _statuses(watch: Watch) -> dict[str, str]:
    report = watch.report()
    steps = report.step_sizes
    conditions = steps.conditions if steps is not None else ()
    return {v.id: v.status for v in (*conditions, *report.verdicts)}


def test_importing_acconv_imports_neither_the_examples_nor_torch() -> None:
    code = "import sys, acconv; print('acconv.examples' in sys.modules, 'torch' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "False"]


# -- the CleanRL-style PPO ---------------------------------------------------------------------


def test_cleanrl_ppo_one_optimiser_violates_s4_and_adam_leaves_the_optimizer_undecided(
    ppo: Watch,
) -> None:
    statuses = _statuses(ppo)
    # One optimiser and one learning rate for both roles: b(n)/a(n) = 1, S4 is violated by
    # construction (learner_steps._shared_s4), whatever the rate's law; A2 summarises S1-S5.
    assert statuses["S4"] == "violated"
    assert statuses["A2"] == "violated"
    # Adam's step lr·m̂/(√v̂ + ε) is not lr × gradient: outside the hypotheses, not a proof.
    assert statuses["optimizer"] == "undecided"
    facts = ppo.facts()
    assert facts.shared_optimizer and facts.optimizer == "Adam" and not facts.plain_sgd
    # The torso (one Linear: weight and bias) is in both agent.actor and agent.critic.
    assert facts.config["shared_parameters"] == 2
    # CartPole has no model: tables on a probe of observations, no λ(θ), tracking undecided.
    assert facts.config["tables"] == "probe"
    assert statuses["tracking"] == "undecided"


def test_cleanrl_ppo_hand_annealed_rate_leaves_s1_to_s3_undecided_but_is_recorded(
    ppo: Watch,
) -> None:
    statuses = _statuses(ppo)
    assert [statuses[c] for c in ("S1", "S2", "S3", "S5")] == ["undecided"] * 4
    assert "not declared" in ppo.report().step_sizes["S1"].detail
    # The rate the loop set by hand, lr·(1 - i/I) at iteration i = floor(n/16) with I = 3, is
    # what the watch recorded at every logged update n.
    n, applied = ppo.recorder.series()["schedule/critic_lr"]
    expected = 2.5e-4 * (1 - (n // 16) / 3)
    np.testing.assert_allclose(applied, expected, rtol=1e-12)
    # K·M = 4 epochs × 4 minibatches = 16 optimiser steps per iteration: 48 updates in all.
    assert int(n[-1]) == 47


def test_cleanrl_ppo_declared_annealing_law_reaches_zero_so_s1_is_violated() -> None:
    watch = cleanrl_ppo.run(seed=0, declare_lr=True, **PPO_SMALL)
    statuses = _statuses(watch)
    # a(n) = 2.5e-4·max(0, 1 - floor(n/16)/3) is 0 from n = 48 on: Σ a(n) < ∞ (S1, S2
    # violated) and Σ a(n)² < ∞ (S3 holds); S4 stays violated (one optimiser).
    assert (statuses["S1"], statuses["S2"], statuses["S3"]) == ("violated", "violated", "holds")
    assert statuses["S4"] == "violated" and statuses["optimizer"] == "undecided"
    law = acconv.parse_schedule(cleanrl_ppo.annealing_law(cleanrl_ppo.Options(), 3))
    n, applied = watch.recorder.series()["schedule/critic_lr"]
    np.testing.assert_allclose(applied, law(n), rtol=1e-12)


def test_cleanrl_ppo_uses_a_given_environment_and_the_given_observers() -> None:
    recorder = Recorder()
    watch = cleanrl_ppo.run(
        seed=1, iterations=1, num_steps=16, env=gym.make("CartPole-v1"), observers=[recorder]
    )
    assert watch.recorder is recorder and watch.monitor is None
    # One environment × 16 steps = a batch of 16; 4 minibatches × 4 epochs = 16 updates.
    assert int(recorder.series()["schedule/critic_lr"][0][-1]) == 15


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(TypeError, match="learning_rte"):
        cleanrl_ppo.run(iterations=1, learning_rte=1e-3)


# -- the two-timescale actor-critic with two SGD optimisers ------------------------------------


def test_two_timescale_sgd_meets_s1_to_s5_and_plain_sgd_holds(sgd: Watch) -> None:
    statuses = _statuses(sgd)
    # a(n) ~ c/n^0.6, b(n) ~ c'/n^0.9: Σa = Σb = ∞ (p ≤ 1), Σa² + Σb² < ∞ (2p > 1),
    # b/a ~ n^-0.3 → 0, both non-increasing; S6 (d > 10/3) and S7 (1/2 < 0.6 < 0.9 ≤ 1) too.
    assert [statuses[f"S{i}"] for i in range(1, 8)] == ["holds"] * 7
    assert statuses["A2"] == "holds"
    # Two SGD optimisers without momentum or weight decay: each step is lr × gradient.
    assert statuses["optimizer"] == "holds"
    facts = sgd.facts()
    assert not facts.shared_optimizer and facts.plain_sgd
    assert facts.config["tables"] == "model"  # exact tables and λ(θ) from the Garnet's model


def test_two_timescale_sgd_applies_the_schedules_it_declares(sgd: Watch) -> None:
    series = sgd.recorder.series()
    a = acconv.parse_schedule(two_timescale_sgd.CRITIC_LR)
    b = acconv.parse_schedule(two_timescale_sgd.ACTOR_LR)
    n, critic_lr = series["schedule/critic_lr"]
    np.testing.assert_allclose(critic_lr, a(n), rtol=1e-12)
    np.testing.assert_allclose(series["schedule/actor_lr"][1], b(n), rtol=1e-12)


def test_two_timescale_sgd_exact_tracking_error_falls(sgd: Watch) -> None:
    n, error = sgd.monitor.series()["track/error"]
    # Measured with seed 0, 300 updates (torch 2.13 CPU): ‖V_ω - V^π‖ = 15.19 at n = 0 (the
    # critic starts at its initialisation, V^π averages J = 5.89 over the states), median 10.92
    # over n < 10, 0.454 over 10 ≤ n < 100 and 0.116 over 100 ≤ n < 300 (max 0.436 there),
    # 0.366 at n = 299.
    first = error[n < 10]
    middle = error[(n >= 10) & (n < 100)]
    late = error[n >= 100]
    assert error[0] > 14.0
    assert np.median(first) > 10.0
    assert np.median(middle) < 0.1 * np.median(first)
    assert np.median(late) < 0.5 * np.median(middle)
    assert late.max() < 0.05 * error[0]
    # The actor learns meanwhile: J(π) = ρᵀV^π rose from 5.891 to 6.791 (exact, same run).
    J = sgd.recorder.series()["exact/J"][1]
    assert J[-1] > J[0] + 0.5


def test_two_timescale_sgd_is_deterministic_given_the_seed() -> None:
    first = two_timescale_sgd.run(seed=3, iterations=20).monitor
    second = two_timescale_sgd.run(seed=3, iterations=20).monitor
    other = two_timescale_sgd.run(seed=4, iterations=20).monitor
    assert first is not None and second is not None and other is not None
    assert first.rows == second.rows
    assert first.rows != other.rows


def test_two_timescale_sgd_uses_a_given_environment() -> None:
    env = gym.make("acconv/Garnet-v0", n_states=5, n_actions=2, mdp_seed=1, gamma=0.9)
    watch = two_timescale_sgd.run(seed=0, iterations=5, env=env)
    support = watch.monitor.series()["track/support_size"][1]
    assert support[-1] == 5.0  # every state of the given 5-state Garnet is recurrent


# -- the saved folders are standard run folders ------------------------------------------------


@pytest.mark.parametrize("which", ["ppo", "sgd"])
def test_saved_folder_is_read_back_by_acconv_report(
    which: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    watch: Watch = request.getfixturevalue(which)
    folder = watch.save(tmp_path / which)
    assert main(["report", str(folder)]) == 0
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert watch.name in html
    assert (folder / "summary.md").is_file()


def test_the_docs_page_includes_both_examples_verbatim() -> None:
    root = Path(__file__).resolve().parents[1]
    page = (root / "docs" / "journeys" / "own_loop.md").read_text(encoding="utf-8")
    for module in (cleanrl_ppo, two_timescale_sgd):
        assert f'--8<-- "acconv/examples/{Path(str(module.__file__)).name}"' in page
    assert " journeys/own_loop.md" in (root / "mkdocs.yml").read_text(encoding="utf-8")
