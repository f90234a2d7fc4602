"""PPO diagnostic verdicts on hand-made series (acconv.theory_checks.diagnostics)."""

from __future__ import annotations

from acconv.theory_checks.diagnostics import ppo_diagnostic_verdicts, series_of
from acconv.theory_checks.verdicts import Verdict


def _verdicts(rows: list[tuple[int, dict[str, float]]]) -> dict[str, Verdict]:
    return {v.id: v for v in ppo_diagnostic_verdicts(series_of(rows), window=0.5)}


def test_the_first_update_over_the_kl_target_is_named() -> None:
    rows = [(0, {"approx_kl": 0.01}), (1, {"approx_kl": 0.06}), (2, {"approx_kl": 0.02})]
    kl = _verdicts(rows)["ppo/kl"]
    assert kl.status == "violated"
    assert kl.evidence["first_n"] == 1 and kl.evidence["kl_max"] == 0.06
    # 1 of 3 updates over the target.
    assert abs(kl.evidence["fraction_over"] - 1 / 3) < 1e-12


def test_the_clip_fraction_is_judged_on_the_late_window() -> None:
    # window 0.5 of 4 updates: the late window is the last 2, mean (0.1 + 0.2)/2 = 0.15 ≤ 0.2,
    # although the early updates clipped half the samples.
    rows = [(n, {"clip_fraction": c}) for n, c in enumerate([0.5, 0.5, 0.1, 0.2])]
    clip = _verdicts(rows)["ppo/clip_fraction"]
    assert clip.status == "holds" and abs(clip.evidence["late_mean"] - 0.15) < 1e-12


def test_explained_variance_must_be_positive_and_not_falling() -> None:
    rising = [(n, {"explained_variance": v}) for n, v in enumerate([0.1, 0.2, 0.5, 0.6])]
    falling = [(n, {"explained_variance": v}) for n, v in enumerate([0.6, 0.5, 0.2, 0.1])]
    negative = [(n, {"explained_variance": v}) for n, v in enumerate([0.1, -0.2, -0.5, -0.1])]
    assert _verdicts(rising)["critic/explained_variance"].status == "holds"
    assert _verdicts(falling)["critic/explained_variance"].status == "undecided"
    assert _verdicts(negative)["critic/explained_variance"].status == "violated"


def test_missing_or_non_finite_series_are_not_applicable_or_undecided() -> None:
    verdicts = _verdicts([(0, {"explained_variance": float("nan")})])
    assert verdicts["ppo/kl"].status == "not_applicable"
    assert verdicts["ppo/clip_fraction"].status == "not_applicable"
    assert verdicts["critic/explained_variance"].status == "undecided"
