"""PPO's batch diagnostics turned into verdicts, for any learner that logs them.

Both acconv's neural PPO and the SB3 callback record, per update n, the approximate KL between
the old and the new policy, the clip fraction and the critic's explained variance. These
functions turn the series into three verdicts, all labelled ``estimated``:

* ``ppo/kl`` — approx KL(π_old ‖ π_new) = mean over minibatches of E[(r - 1) - log r],
  r = π_new/π_old: ``holds`` when every update stays ≤ ``kl_target``, ``violated`` otherwise
  (first n and maximum in the evidence). A trust-region diagnostic for A11 (PPO's old policy):
  the K-epoch map should move the policy little per outer iteration.
* ``ppo/clip_fraction`` — the mean clip fraction (samples with |r - 1| > ε, where the clipped
  surrogate is flat and only piecewise Lipschitz, A3) over the late window: ``holds`` when
  ≤ ``clip_fraction_max``, else ``violated``.
* ``critic/explained_variance`` — EV = 1 - Var[Ĝ - V]/Var[Ĝ] on each batch, V before the
  update: ``violated`` when its late-window mean is ≤ 0 (the critic predicts the returns no
  better than a constant), ``holds`` when it is > 0 and ≥ the early-window mean, ``undecided``
  when positive but lower than early on, or when no update had a finite EV.

The thresholds are conventions (Spinning Up: target KL 0.01–0.05), not hypotheses of a theorem.
The early and late windows are the first and last ``ceil(window · updates)`` updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from acconv.theory_checks.verdicts import METHOD_ESTIMATED, Status, Verdict

Series = Callable[[str], tuple[NDArray[np.int64], NDArray[np.float64]]]
"""``series(key)``: ``(n, values)`` of one diagnostic at every update (finite values only)."""


def series_of(diagnostics: list[tuple[int, dict[str, float]]]) -> Series:
    """A :data:`Series` over ``[(n, {key: value})]``, keeping finite values only."""

    def series(key: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        pairs = [(n, d[key]) for n, d in diagnostics if key in d and math.isfinite(d[key])]
        return (
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.float64),
        )

    return series


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
        k = max(1, math.ceil(window * len(values)))
        return values[:k], values[-k:]

    return [
        _kl_verdict(series, kl_target, source),
        _clip_verdict(series, clip_fraction_max, windows, source),
        _ev_verdict(series, windows),
    ]


def _kl_verdict(series: Series, target: float, source: str) -> Verdict:
    name = "PPO's update stays in a trust region: approx KL(π_old ‖ π_new) ≤ target"
    n, kl = series("approx_kl")
    if not len(kl):
        why = f"{source} logged no approx_kl (not PPO, or no update)"
        return Verdict("ppo/kl", name, "not_applicable", METHOD_ESTIMATED, why)
    over = kl > target
    evidence = {"kl_max": float(kl.max()), "kl_last": float(kl[-1]), "target": target}
    if over.any():
        first = int(n[np.argmax(over)])
        evidence.update(first_n=first, fraction_over=float(over.mean()))
        detail = (
            f"approx_kl exceeds {target:.3g} at {int(over.sum())} of {len(kl)} updates, "
            f"first at n = {first} (max {kl.max():.3g})"
        )
        return Verdict("ppo/kl", name, "violated", METHOD_ESTIMATED, detail, evidence)
    detail = f"approx_kl ≤ {target:.3g} at all {len(kl)} updates (max {kl.max():.3g})"
    return Verdict("ppo/kl", name, "holds", METHOD_ESTIMATED, detail, evidence)


def _clip_verdict(series: Series, clip_max: float, windows: Callable, source: str) -> Verdict:  # type: ignore[type-arg]
    name = "PPO's clip mostly inactive late in the run: mean clip fraction ≤ max"
    _, clip = series("clip_fraction")
    if not len(clip):
        why = f"{source} logged no clip_fraction (not PPO, or no update)"
        return Verdict("ppo/clip_fraction", name, "not_applicable", METHOD_ESTIMATED, why)
    _, late = windows(clip)
    mean = float(late.mean())
    evidence = {"late_mean": mean, "max": clip_max, "late_updates": len(late)}
    status: Status = "holds" if mean <= clip_max else "violated"
    detail = (
        f"mean clip fraction {mean:.3g} over the last {len(late)} updates "
        f"{'≤' if status == 'holds' else '>'} {clip_max:g}: the clipped "
        "(flat, piecewise Lipschitz) part of the surrogate is "
        + ("rarely" if status == "holds" else "often")
        + " active"
    )
    return Verdict("ppo/clip_fraction", name, status, METHOD_ESTIMATED, detail, evidence)


def _ev_verdict(series: Series, windows: Callable) -> Verdict:  # type: ignore[type-arg]
    name = "critic explains the returns: explained variance positive and not decreasing"
    _, ev = series("explained_variance")
    if not len(ev):
        why = "no update had a finite explained variance (Var[Ĝ] = 0 or no update)"
        return Verdict("critic/explained_variance", name, "undecided", METHOD_ESTIMATED, why)
    early, late = windows(ev)
    evidence = {
        "early_mean": float(early.mean()),
        "late_mean": float(late.mean()),
        "last": float(ev[-1]),
        "updates": len(ev),
    }
    head = f"EV mean {early.mean():.3g} (first {len(early)}) → {late.mean():.3g} (last {len(late)})"
    if late.mean() <= 0:
        status: Status = "violated"
        detail = f"{head}: ≤ 0, the critic is no better than a constant predictor"
    elif len(ev) >= 2 and late.mean() >= early.mean():
        status, detail = "holds", f"{head}: positive and not decreasing"
    else:
        status = "undecided"
        detail = f"{head}: positive but " + (
            "lower than early in the run" if len(ev) >= 2 else "only one update"
        )
    return Verdict("critic/explained_variance", name, status, METHOD_ESTIMATED, detail, evidence)
