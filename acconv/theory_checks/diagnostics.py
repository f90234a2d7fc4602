"""PPO's batch diagnostics turned into verdicts, for any learner that logs them.

Both acconv's neural PPO and the SB3 callback record, per update n, the approximate KL between
the old and the new policy, the clip fraction and the critic's explained variance, with one
definition each (docs/metrics.md). These functions turn the series into three verdicts; a
diagnostic of a run is evidence, so each is ``undecided`` with a lean (or none) and a strength
from a stated test:

* ``ppo/kl`` — approx KL(π_old ‖ π_new) of an update: SB3's ``train/approx_kl``, the mean over
  the minibatches of the *last epoch* of E[(r - 1) - log r], r = π_new/π_old, each taken
  before that minibatch's step (:func:`acconv.estimators.last_epoch_mean`; neural PPO logs the
  same statistic). A trust-region diagnostic for A11 (PPO's old policy): the typical update
  should move the policy little. Sign test of the median against ``kl_target`` over all
  updates: leans ``holds`` when most updates stay ≤ ``kl_target``, ``violated`` when most
  exceed it; every exceedance is counted and the first is named.
* ``ppo/clip_fraction`` — the fraction of samples with |r - 1| > ε (where the clipped
  surrogate is flat and only piecewise Lipschitz, A3), averaged over all epochs' minibatches:
  sign test of the median against ``clip_fraction_max`` over the late window.
* ``critic/explained_variance`` — EV = 1 - Var[Ĝ - V]/Var[Ĝ] on each batch, V before the
  update. EV is heavy-tailed (a batch with near-constant returns has Var[Ĝ] ≈ 0 and EV → -∞:
  SB3 A2C's 5-step batches gave mean -2.5e12, median -23.5), so it is judged by medians: sign
  test of EV > 0 over the late window; leans ``violated`` when most late EVs are ≤ 0 (the
  critic predicts the returns no better than a constant), ``holds`` when most are > 0 and the
  late median is ≥ the early median; no lean when positive but lower than early on. The mean
  and the 10 %-trimmed mean are reported beside the medians.

The sign test (:func:`scipy.stats.binomtest`, p = 1/2, ties with the threshold dropped) gives
the one-sided p-value against the opposite lean, and the strength is
:func:`~acconv.theory_checks.verdicts.strength_of` of it. Fewer than ``MIN_UPDATES`` values:
no lean. The thresholds are conventions (Spinning Up: target KL 0.01–0.05), not hypotheses of a
theorem. The early and late windows are the first and last ``max(ceil(window · updates),
MIN_UPDATES)`` updates (they overlap on short runs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    Lean,
    Verdict,
    leaning,
    strength_of,
)

Series = Callable[[str], tuple[NDArray[np.int64], NDArray[np.float64]]]
"""``series(key)``: ``(n, values)`` of one diagnostic at every update (finite values only)."""

MIN_UPDATES: Final = 10
"""The fewest updates a diagnostic verdict leans from."""


def series_of(diagnostics: list[tuple[int, dict[str, float]]]) -> Series:
    """A :data:`Series` over ``[(n, {key: value})]``, keeping finite values only."""

    def series(key: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        pairs = [(n, d[key]) for n, d in diagnostics if key in d and math.isfinite(d[key])]
        return (
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.float64),
        )

    return series


def median_sign_test(
    values: NDArray[np.float64], threshold: float
) -> tuple[Literal["above", "below"] | None, float]:
    """Which side of ``threshold`` the median of ``values`` lies on, by the sign test.

    With k values above and m values off the threshold (ties dropped): ``("above", p)`` with
    p = P[Bin(m, 1/2) ≥ k] when k > m/2, ``("below", p)`` with p = P[Bin(m, 1/2) ≤ k] when
    k < m/2 (the one-sided p-value against the other side), ``(None, 1.0)`` on a tie.

    >>> median_sign_test(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 0.5)  # P = 1/2**6
    ('above', 0.015625)
    """
    from scipy import stats  # lazy: it costs ~0.3 s of `import acconv` (target < 1 s)

    off = values[values != threshold]
    k, m = int(np.sum(off > threshold)), len(off)
    if 2 * k > m:
        return "above", float(stats.binomtest(k, m, 0.5, alternative="greater").pvalue)
    if 2 * k < m:
        return "below", float(stats.binomtest(k, m, 0.5, alternative="less").pvalue)
    return None, 1.0


_STAYS_BELOW: Final[dict[str, Lean]] = {"below": "holds", "above": "violated"}
"""The lean of "the median stays ≤ the threshold" from the side the sign test found."""


def ppo_diagnostic_verdicts(
    series: Series,
    *,
    kl_target: float = 0.05,
    clip_fraction_max: float = 0.2,
    window: float = 0.25,
    source: str = "the run",
) -> list[Verdict]:
    """The ``ppo/kl``, ``ppo/clip_fraction`` and ``critic/explained_variance`` verdicts.

    ``source`` names who logged the series in the "not logged" reasons (e.g. ``"SB3"``).
    """

    def windows(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        k = min(len(values), max(math.ceil(window * len(values)), MIN_UPDATES))
        return values[:k], values[-k:]

    return [
        _kl_verdict(series, kl_target, source),
        _clip_verdict(series, clip_fraction_max, windows, source),
        _ev_verdict(series, windows),
    ]


def _too_few(count: int) -> str:
    return f"; too few to lean: needs ≥ {MIN_UPDATES} updates, have {count}"


def _kl_verdict(series: Series, target: float, source: str) -> Verdict:
    name = "PPO's update stays in a trust region: median approx KL(π_old ‖ π_new) ≤ target"
    n, kl = series("approx_kl")
    if not len(kl):
        why = f"{source} logged no approx_kl (not PPO, or no update)"
        return Verdict("ppo/kl", name, "not_applicable", METHOD_ESTIMATED, why)
    over = kl > target
    evidence = {
        "kl_max": float(kl.max()),
        "kl_median": float(np.median(kl)),
        "kl_last": float(kl[-1]),
        "target": target,
        "fraction_over": float(over.mean()),
        "updates": float(len(kl)),
    }
    detail = (
        f"approx_kl (last-epoch mean per update) median {np.median(kl):.3g}, max "
        f"{kl.max():.3g}; over {target:.3g} at {int(over.sum())} of {len(kl)} updates"
    )
    if over.any():
        first = int(n[np.argmax(over)])
        evidence["first_n"] = first
        detail += f", first at n = {first}"
    if len(kl) < MIN_UPDATES:
        return leaning(
            "ppo/kl", name, None, None, METHOD_ESTIMATED, detail + _too_few(len(kl)), evidence
        )
    side, p = median_sign_test(kl, target)
    lean = _STAYS_BELOW.get(side or "")
    evidence["p_value"] = p
    detail += f" (sign test of the median against {target:.3g}: p = {p:.2g})"
    strength = strength_of(p) if lean else None
    return leaning("ppo/kl", name, lean, strength, METHOD_ESTIMATED, detail, evidence)


def _clip_verdict(series: Series, clip_max: float, windows: Callable, source: str) -> Verdict:  # type: ignore[type-arg]
    name = "PPO's clip mostly inactive late in the run: median clip fraction ≤ max"
    _, clip = series("clip_fraction")
    if not len(clip):
        why = f"{source} logged no clip_fraction (not PPO, or no update)"
        return Verdict("ppo/clip_fraction", name, "not_applicable", METHOD_ESTIMATED, why)
    _, late = windows(clip)
    median = float(np.median(late))
    evidence = {
        "late_median": median,
        "late_mean": float(late.mean()),
        "max": clip_max,
        "late_updates": float(len(late)),
    }
    detail = (
        f"clip fraction over the last {len(late)} updates: median {median:.3g}, mean "
        f"{late.mean():.3g} (max allowed {clip_max:g})"
    )
    if len(clip) < MIN_UPDATES:
        detail += _too_few(len(clip))
        return leaning("ppo/clip_fraction", name, None, None, METHOD_ESTIMATED, detail, evidence)
    side, p = median_sign_test(late, clip_max)
    lean = _STAYS_BELOW.get(side or "")
    evidence["p_value"] = p
    detail += f"; sign test of the median against {clip_max:g}: p = {p:.2g}" + (
        ": the clipped (flat, piecewise Lipschitz) part of the surrogate is "
        + ("rarely" if lean == "holds" else "often")
        + " active"
        if lean
        else ""
    )
    strength = strength_of(p) if lean else None
    return leaning("ppo/clip_fraction", name, lean, strength, METHOD_ESTIMATED, detail, evidence)


def _ev_verdict(series: Series, windows: Callable) -> Verdict:  # type: ignore[type-arg]
    from scipy import stats  # lazy: it costs ~0.3 s of `import acconv` (target < 1 s)

    name = "critic explains the returns: explained variance positive and not decreasing"
    vid = "critic/explained_variance"
    _, ev = series("explained_variance")
    if not len(ev):
        why = "no update had a finite explained variance (Var[Ĝ] = 0 or no update)"
        return leaning(vid, name, None, None, METHOD_ESTIMATED, why)
    early, late = windows(ev)
    early_median, late_median = float(np.median(early)), float(np.median(late))
    evidence = {
        "early_median": early_median,
        "late_median": late_median,
        "late_mean": float(late.mean()),
        "late_trimmed_mean": float(stats.trim_mean(late, 0.1)),
        "last": float(ev[-1]),
        "updates": float(len(ev)),
    }
    head = (
        f"EV median {early_median:.3g} (first {len(early)}) → {late_median:.3g} (last "
        f"{len(late)}; mean {late.mean():.3g}, 10 %-trimmed mean "
        f"{evidence['late_trimmed_mean']:.3g})"
    )
    if len(ev) < MIN_UPDATES:
        return leaning(vid, name, None, None, METHOD_ESTIMATED, head + _too_few(len(ev)), evidence)
    side, p = median_sign_test(late, 0.0)
    evidence["p_value"] = p
    test = f"sign test of the late median against 0: p = {p:.2g}"
    if side == "below":
        detail = f"{head}: < 0, the critic is no better than a constant predictor ({test})"
        return leaning(vid, name, "violated", strength_of(p), METHOD_ESTIMATED, detail, evidence)
    if side == "above" and late_median >= early_median:
        detail = f"{head}: positive and not decreasing ({test})"
        return leaning(vid, name, "holds", strength_of(p), METHOD_ESTIMATED, detail, evidence)
    why = "positive but lower than early in the run" if side else "median at 0"
    return leaning(vid, name, None, None, METHOD_ESTIMATED, f"{head}: {why} ({test})", evidence)
