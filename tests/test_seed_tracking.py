"""The across-seeds tracking verdict (acconv.theory_checks.seed_tracking) on synthetic series."""

from __future__ import annotations

import numpy as np
import pytest

from acconv.instrument.recorder import log_spaced
from acconv.theory_checks.seed_tracking import check_tracking_across_seeds, fit_across_seeds

N = 10_000
GRID = log_spaced(N, 10)


def _a(n: int) -> float:
    return 0.5 / (1.0 + n / 10.0) ** 0.6


A = np.array([_a(int(k)) for k in GRID])


def _seeds(power: float, level: float, noise: float, k: int = 8, seed: int = 0) -> list:
    """E_k(n) = level · a(n)^power · exp(noise · ε_k(n)), ε i.i.d. standard normal."""
    rng = np.random.default_rng(seed)
    return [(GRID, level * A**power * np.exp(noise * rng.normal(size=GRID.size))) for _ in range(k)]


def test_an_exact_sqrt_a_law_gives_slope_one_half_and_its_level() -> None:
    # E = 2 sqrt(a(n)) on every seed: the fit of ln E on ln a is exactly ½ and the level
    # exp(mean(ln E - ½ ln a)) exactly 2, whatever the resampling (all seeds equal).
    fit = fit_across_seeds(_seeds(0.5, 2.0, 0.0), _a, rng=np.random.default_rng(0))
    assert fit.slope_a == pytest.approx(0.5, abs=1e-12)
    assert fit.level == pytest.approx(2.0, rel=1e-12)
    # on ln n the slope is -0.6·½ asymptotically (a ∝ n^-0.6); on the tail n ≥ 99, within 5 %
    assert fit.slope_n == pytest.approx(-0.3, rel=0.05)
    assert fit.n[0] + 1 >= np.sqrt(N) and fit.n[-1] == N - 1


def test_a_noisy_sqrt_a_law_leans_holds_and_its_interval_covers_the_truth() -> None:
    v = check_tracking_across_seeds(_seeds(0.5, 2.0, 0.3), _a, rng=np.random.default_rng(1))
    assert v.status == "undecided" and v.lean == "holds", v.detail
    e = v.evidence
    assert e["slope_a_low"] <= 0.5 <= e["slope_a_high"]
    assert e["level_low"] <= 2.0 <= e["level_high"]
    assert e["p_fall"] < 0.01


def test_an_error_slower_than_sqrt_a_leans_violated() -> None:
    # E ∝ a^0.2: E/sqrt(a) grows like a^-0.3.
    v = check_tracking_across_seeds(_seeds(0.2, 1.0, 0.3), _a, rng=np.random.default_rng(2))
    assert v.lean == "violated" and v.strength in ("moderate", "strong"), v.detail
    assert v.evidence["slope_a_high"] < 0.5


def test_constant_steps_with_a_plateau_lean_violated_weakly() -> None:
    flat = [
        (GRID, 0.1 * np.exp(0.3 * r)) for r in np.random.default_rng(3).normal(size=(8, GRID.size))
    ]
    v = check_tracking_across_seeds(flat, np.full(GRID.size, 0.05), rng=np.random.default_rng(3))
    assert (v.lean, v.strength) == ("violated", "weak"), v.detail
    assert np.isnan(v.evidence["slope_a"])  # no ln a range to fit on


def test_constant_steps_with_a_falling_error_have_no_lean() -> None:
    falling = [(GRID, 1.0 / (GRID + 1.0)) for _ in range(6)]
    v = check_tracking_across_seeds(falling, np.full(GRID.size, 0.05), rng=np.random.default_rng(4))
    assert v.lean is None and "still falls" in v.detail


def test_too_few_seeds_or_points_give_no_lean() -> None:
    v = check_tracking_across_seeds(_seeds(0.5, 2.0, 0.3, k=3), _a, rng=np.random.default_rng(5))
    assert v.lean is None and "needs ≥ 5 seeds, have 3" in v.detail
    short = [(GRID[:8], e[:8]) for _, e in _seeds(0.5, 2.0, 0.3)]
    v = check_tracking_across_seeds(short, _a, rng=np.random.default_rng(5))
    assert v.lean is None and "needs ≥ 10 points" in v.detail


def test_the_bootstrap_is_reproducible_from_its_generator() -> None:
    series = _seeds(0.5, 2.0, 0.3)
    one = check_tracking_across_seeds(series, _a, rng=np.random.default_rng(7))
    two = check_tracking_across_seeds(series, _a, rng=np.random.default_rng(7))
    assert dict(one.evidence) == dict(two.evidence)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"series_by_seed\[0\]: n has shape"):
        check_tracking_across_seeds([(GRID, A[:3])], _a, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="a has shape"):
        check_tracking_across_seeds(_seeds(0.5, 1, 0), A[:3], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="series_by_seed is empty"):
        check_tracking_across_seeds([], _a, rng=np.random.default_rng(0))


@pytest.mark.slow
def test_neural_ppo_with_valid_steps_leans_holds_across_seeds() -> None:
    # End to end: the monitor's track/error (against the critic network's own λ(θ)) of 5 seeds
    # of neural PPO on a slippery 6-state chain. Measured 2026-12-02 with 8 seeds × 1000 updates
    # (benchmarks/neural_tracking_seeds.py): slope 0.505 [0.323, 0.668] on ln a(n), leans holds.
    pytest.importorskip("torch")
    from acconv.envs.finite import FiniteMDPEnv
    from acconv.instrument.monitor import TwoTimescaleMonitor
    from acconv.mdp import chain, discount_as_termination
    from acconv.neural import PPO
    from acconv.schedules import as_schedule

    critic_lr, actor_lr = "0.5/(1+n/10)**0.6", "0.2/(1+n/10)**0.9"
    series = []
    for seed in range(5):
        env = FiniteMDPEnv(discount_as_termination(chain(6, slip=0.1, gamma=0.95)))
        learner = PPO(
            n_steps=64, batch_size=32, n_epochs=2, hidden=(16,),
            critic_lr=critic_lr, actor_lr=actor_lr,
        )  # fmt: skip
        monitor = TwoTimescaleMonitor()
        learner.learn(env, 1000, np.random.default_rng(seed), [monitor])
        series.append(monitor.series()["track/error"])
    v = check_tracking_across_seeds(series, as_schedule(critic_lr), rng=np.random.default_rng(0))
    assert v.lean == "holds", v.detail
    assert v.evidence["slope_a_low"] <= 0.5 <= v.evidence["slope_a_high"]
