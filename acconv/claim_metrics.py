"""Metrics across runs that a claim is checked on: episodes to solve, ratios, log-log slopes.

Pure functions of numbers read from run folders (:mod:`acconv.claims` reads them):

* episodes to solve across seeds, with unsolved runs *censored* at the budget, never dropped:
  the median treats a censored run as ``+inf`` (so it is finite only when more than half the
  runs solved), the IQM and the bootstrap intervals use the budget in its place (then they are
  lower bounds, and say so);
* growth ``m(x_max) / m(x_min)`` of a statistic over a sweep and the ratio between learners;
* the log-log slope of a curve ``log y = c + s log n`` by least squares with the 95% t-interval of
  ``s`` (``scipy.stats.linregress``'s standard error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from acconv.stats import CONFIDENCE, N_BOOT, iqm

__all__ = ["Censored", "Slope", "censored_summary", "loglog_slope", "ratio"]


@dataclass(frozen=True)
class Censored:
    """Episodes to solve across seeds: ``median`` (``inf`` when half or more are unsolved),
    ``iqm`` with budget in place of unsolved runs, their 95% bootstrap intervals, and counts."""

    median: float
    median_ci: tuple[float, float]
    iqm: float
    iqm_ci: tuple[float, float]
    n_runs: int
    n_unsolved: int
    budget: float

    @property
    def lower_bound(self) -> bool:
        """Whether the IQM and intervals are lower bounds (some run is censored)."""
        return self.n_unsolved > 0

    def to_dict(self) -> dict[str, object]:
        return {
            "median": self.median,
            "median_ci": list(self.median_ci),
            "iqm": self.iqm,
            "iqm_ci": list(self.iqm_ci),
            "runs": self.n_runs,
            "unsolved": self.n_unsolved,
            "budget": self.budget,
        }


def _median_inf(values: np.ndarray) -> float:
    """The median with ``inf`` for censored values (``inf`` if a middle value is censored)."""
    ordered = np.sort(values)
    k = ordered.size
    middle = ordered[(k - 1) // 2 : k // 2 + 1]
    return float(np.inf) if np.isinf(middle).any() else float(middle.mean())


def censored_summary(solved_at: Sequence[float | None], budget: float) -> Censored:
    """Median and IQM of episodes to solve across seeds; ``None`` marks an unsolved run.

    ``median``: of the values with ``+inf`` for unsolved runs; ``iqm``: of the values with
    ``budget`` for unsolved runs (``scipy.stats.trim_mean(·, 0.25)``). Intervals: percentile
    bootstrap over seeds (2000 resamples, ``default_rng(0)``) of the median and the IQM of the
    values with ``budget`` for unsolved runs (lower bounds when a run is censored).
    """
    if not solved_at:
        raise ValueError("censored_summary needs at least one run")
    from scipy.stats import trim_mean

    with_inf = np.array([np.inf if v is None else float(v) for v in solved_at])
    capped = np.minimum(with_inf, float(budget))
    unsolved = int(np.isinf(with_inf).sum())
    # One group: the resamples stratified_bootstrap_ci draws with default_rng(0), vectorised.
    idx = np.random.default_rng(0).integers(0, capped.size, size=(N_BOOT, capped.size))
    samples = capped[idx]
    tails = [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2]
    m_low, m_high = np.quantile(np.median(samples, axis=1), tails)
    i_low, i_high = np.quantile(trim_mean(samples, 0.25, axis=1), tails)
    return Censored(
        median=_median_inf(with_inf),
        median_ci=(float(m_low), float(m_high)),
        iqm=iqm(capped),
        iqm_ci=(float(i_low), float(i_high)),
        n_runs=len(solved_at),
        n_unsolved=unsolved,
        budget=float(budget),
    )


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` with ``inf/finite = inf``, ``x/inf = 0`` and ``inf/inf`` or
    ``x/0`` as NaN (undefined: the check cannot pass on it)."""
    if denominator == 0 or (np.isinf(numerator) and np.isinf(denominator)):
        return float("nan")
    return float(numerator / denominator)


@dataclass(frozen=True)
class Slope:
    """A log-log slope ``s`` with its 95% interval and the points it was fitted on."""

    slope: float
    low: float
    high: float
    n_points: int

    def to_dict(self) -> dict[str, object]:
        return {"slope": self.slope, "ci": [self.low, self.high], "points": self.n_points}


def loglog_slope(ns: Sequence[float], values: Sequence[float], confidence: float = 0.95) -> Slope:
    """Least-squares slope ``s`` of ``log y = c + s log n`` over the points with ``n ≥ 1`` and
    ``y > 0``, with the t-interval ``s ± t_{1-α/2, m-2} · se(s)`` (``m`` points).

    A power law ``y = C n^{-p}`` gives ``s = -p`` exactly and a zero-width interval.
    """
    from scipy.stats import linregress, t

    n = np.asarray(ns, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    keep = (n >= 1) & np.isfinite(y) & (y > 0)
    m = int(keep.sum())
    if m < 3 or np.unique(n[keep]).size < 2:
        raise ValueError(f"loglog_slope needs 3 points at 2 or more n with y > 0; got {m}")
    fit = linregress(np.log(n[keep]), np.log(y[keep]))
    half = float(t.ppf(0.5 + confidence / 2, m - 2) * fit.stderr)
    return Slope(float(fit.slope), float(fit.slope) - half, float(fit.slope) + half, m)
