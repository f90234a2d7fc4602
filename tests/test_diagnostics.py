"""PPO diagnostic verdicts on hand-made series (acconv.theory_checks.diagnostics).

A diagnostic of a run is evidence (issue 11): every verdict is ``undecided`` with a lean from a
sign test of the median, never ``holds``/``violated``. The p-values below are binomial tails
computed by hand: P[Bin(m, 1/2) ≤ k] = Σ_{i ≤ k} C(m, i) / 2^m.
"""

from __future__ import annotations

import numpy as np
import pytest

from acconv.theory_checks.diagnostics import (
    MIN_UPDATES,
    median_sign_test,
    ppo_diagnostic_verdicts,
    series_of,
)
from acconv.theory_checks.verdicts import Verdict


def _verdicts(rows: list[tuple[int, dict[str, float]]], window: float = 0.5) -> dict[str, Verdict]:
    return {v.id: v for v in ppo_diagnostic_verdicts(series_of(rows), window=window)}


def _rows(key: str, values: list[float]) -> list[tuple[int, dict[str, float]]]:
    return [(n, {key: v}) for n, v in enumerate(values)]


def test_the_sign_test_p_values_are_binomial_tails() -> None:
    # 9 of 10 above 0: P[Bin(10, 1/2) ≥ 9] = (10 + 1)/1024.
    side, p = median_sign_test(np.array([1.0] * 9 + [-1.0]), 0.0)
    assert side == "above" and p == pytest.approx(11 / 1024, rel=1e-12)
    # Ties with the threshold are dropped: 2 below, 1 above, 3 ties: P[Bin(3, 1/2) ≤ 1] = 4/8.
    side, p = median_sign_test(np.array([0.0, 0.0, 0.0, -1.0, -2.0, 3.0]), 0.0)
    assert side == "below" and p == pytest.approx(0.5, rel=1e-12)
    assert median_sign_test(np.array([1.0, -1.0]), 0.0) == (None, 1.0)


def test_one_update_over_the_kl_target_is_named_and_the_typical_update_stays_inside() -> None:
    kl = [0.01] * 12
    kl[3] = 0.06
    verdict = _verdicts(_rows("approx_kl", kl))["ppo/kl"]
    # 1 of 12 over 0.05: P[Bin(12, 1/2) ≤ 1] = 13/4096 = 0.0032 < 0.01: strong.
    assert verdict.status == "undecided" and verdict.lean == "holds"
    assert verdict.strength == "strong"
    assert verdict.evidence["p_value"] == pytest.approx(13 / 4096, rel=1e-12)
    assert verdict.evidence["first_n"] == 3 and verdict.evidence["kl_max"] == 0.06
    assert verdict.evidence["fraction_over"] == pytest.approx(1 / 12, rel=1e-12)
    assert "first at n = 3" in verdict.detail


def test_most_updates_over_the_kl_target_lean_violated_with_the_tests_strength() -> None:
    kl = [0.1] * 10 + [0.01] * 2
    verdict = _verdicts(_rows("approx_kl", kl))["ppo/kl"]
    # 10 of 12 over: P[Bin(12, 1/2) ≥ 10] = (66 + 12 + 1)/4096 = 0.0193: moderate.
    assert verdict.status == "undecided" and verdict.lean == "violated"
    assert verdict.strength == "moderate"
    assert verdict.evidence["p_value"] == pytest.approx(79 / 4096, rel=1e-12)


def test_the_clip_fraction_is_judged_on_the_late_window() -> None:
    # window 0.5 of 20 updates: the late window is the last 10, median 0.1 ≤ 0.2 (9 of 10
    # below: p = 11/1024 = 0.0107, moderate), although the early updates clipped half.
    clip = [0.5] * 10 + [0.1] * 9 + [0.3]
    verdict = _verdicts(_rows("clip_fraction", clip))["ppo/clip_fraction"]
    assert verdict.lean == "holds" and verdict.strength == "moderate"
    assert verdict.evidence["late_median"] == pytest.approx(0.1)
    assert verdict.evidence["late_mean"] == pytest.approx((9 * 0.1 + 0.3) / 10)


def test_explained_variance_is_judged_by_medians_not_heavy_tailed_means() -> None:
    # A batch with near-constant returns gives EV → -∞: the mean is -2.5e12, the median 0.6.
    ev = [0.2] * 10 + [0.6] * 9 + [-2.5e13]
    verdict = _verdicts(_rows("explained_variance", ev))["critic/explained_variance"]
    assert verdict.evidence["late_mean"] == pytest.approx((9 * 0.6 - 2.5e13) / 10)
    assert verdict.evidence["late_median"] == pytest.approx(0.6)
    # 9 of 10 late EVs > 0 (p = 11/1024) and the late median ≥ the early one (0.6 ≥ 0.2).
    assert verdict.status == "undecided" and verdict.lean == "holds"
    assert verdict.strength == "moderate"


def test_sb3_a2c_like_negative_explained_variance_leans_violated_and_never_decides() -> None:
    # SB3 A2C with 5-step batches: a few batches near -1e13 and a median near -23.5.
    rng = np.random.default_rng(0)
    ev = list(-23.5 + rng.normal(scale=5.0, size=40))
    ev[5] = ev[30] = -1e13
    verdict = _verdicts(_rows("explained_variance", ev), window=0.25)["critic/explained_variance"]
    assert verdict.status == "undecided" and verdict.lean == "violated"
    # All 10 late EVs < 0: p = 1/1024 < 0.01.
    assert verdict.strength == "strong"
    assert verdict.evidence["late_median"] < 0


def test_rising_falling_and_positive_but_lower_explained_variance() -> None:
    rising = list(np.linspace(0.1, 0.6, 20))
    falling = list(np.linspace(0.6, 0.1, 20))
    assert _verdicts(_rows("explained_variance", rising))["critic/explained_variance"].lean == (
        "holds"
    )
    lower = _verdicts(_rows("explained_variance", falling))["critic/explained_variance"]
    assert lower.status == "undecided" and lower.lean is None and "lower" in lower.detail


def test_too_few_updates_lean_nowhere_and_say_how_many_are_needed() -> None:
    rows = [
        (n, {"approx_kl": 0.2, "clip_fraction": 0.9, "explained_variance": -5.0}) for n in range(8)
    ]
    verdicts = _verdicts(rows)
    for verdict in verdicts.values():
        assert verdict.status == "undecided" and verdict.lean is None, verdict.shown
        assert f"needs ≥ {MIN_UPDATES} updates, have 8" in verdict.detail


def test_missing_or_non_finite_series_are_not_applicable_or_undecided() -> None:
    verdicts = _verdicts([(0, {"explained_variance": float("nan")})])
    assert verdicts["ppo/kl"].status == "not_applicable"
    assert verdicts["ppo/clip_fraction"].status == "not_applicable"
    assert verdicts["critic/explained_variance"].status == "undecided"
