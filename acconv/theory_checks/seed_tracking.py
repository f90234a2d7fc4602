"""The tracking verdict across seeds: does ‖ω_n - λ(θ_n)‖ shrink like sqrt(a(n))? (THEORY.md §4.5)

Konda–Tsitsiklis 2004 and Mokkadem–Pelletier 2006: with step sizes as in S7 the fast error
scales like sqrt(a(n)), so ``E(n)/sqrt(a(n))`` stays stochastically bounded. Given the tracking
error series ``E_k(n)`` of K seeds on one grid of recorded updates (the monitor's
``track/error``), on the tail of the run (``n + 1 ≥ sqrt(N)``, as the one-run check):

* ``ȳ(n) = mean_k ln E_k(n)``, the seeds' mean log error;
* the **slope** ``s_a`` of ȳ against ``ln a(n)`` by least squares (the prediction is ½: an
  error that shrinks like sqrt(a); more is a transient still decaying, less an error that
  falls behind sqrt(a)); the slope ``s_n`` of ȳ against ``ln(n + 1)`` (< 0: the error falls);
* the **level** ``C = exp(mean_n (ȳ(n) - ½ ln a(n)))``, the geometric mean of E/sqrt(a);
* their ``confidence`` intervals by the percentile bootstrap over seeds
  (:func:`scipy.stats.bootstrap`, seeds resampled with replacement), and one-sided bootstrap
  p-values ``p = (1 + #{replicates on the other side}) / (1 + B)`` of ``s_n < 0`` (``p_fall``),
  ``s_n > 0`` (``p_rise``), ``s_a < ½`` (``p_slower``) and ``s_a ≥ ½`` (``p_not_slower``).

The verdict is evidence (``undecided`` with a lean, :func:`~acconv.theory_checks.verdicts.
leaning`): no lean with fewer than ``MIN_SEEDS`` seeds or a window :func:`~acconv.theory_checks.
trends.too_little` judges too short. When a(n) decays on the window (``a_first/a_last ≥ 2``):
leans ``violated`` when the slope interval lies below ½ (strength from ``p_slower``), ``holds``
when the error falls and the interval reaches ½ (strength from the larger of ``p_fall`` and
``p_not_slower``), no lean otherwise (``violated``, weak, when S4 fails and the error does not
fall: the lag floor). When a(n) does not decay (constant steps): leans ``violated`` when the
error rises (``p_rise``) or does not fall (``weak``: the floor the theory predicts; a plateau
has no test of its own), no lean while it still falls. Strength is capped at ``moderate`` below
2 decades (:func:`~acconv.theory_checks.trends.capped`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import ArrayLike

from acconv.theory_checks.trace import FloatArray, IntArray
from acconv.theory_checks.trends import SIGNIFICANT, capped, too_little, trend
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    Lean,
    Status,
    Strength,
    Verdict,
    leaning,
)

__all__ = ["MIN_SEEDS", "SeedTrackingFit", "check_tracking_across_seeds", "fit_across_seeds"]

MIN_SEEDS: Final = 5
"""The fewest seeds the across-seeds fit is judged from."""
PREDICTED_SLOPE: Final = 0.5
"""d ln E / d ln a(n) of an error that shrinks like sqrt(a(n))."""
_DECAYING: Final = 2.0  # a(n_first)/a(n_last) at least this: a(n) decays on the window
_ID, _NAME = "tracking_seeds", "tracking error shrinks like sqrt(a(n)) across seeds"
_THEOREMS = ("Konda-Tsitsiklis 2004", "Mokkadem-Pelletier 2006", "Borkar 1997")


@dataclass(frozen=True)
class SeedTrackingFit:
    """The across-seeds fit of the module docstring on the window ``n`` (``K`` seeds).

    ``slope_a`` is NaN when a(n) does not decay on the window (no ln a range to fit on).
    """

    n: IntArray
    mean_log_error: FloatArray
    seeds: int
    a_ratio: float
    slope_a: float
    slope_a_low: float
    slope_a_high: float
    slope_n: float
    slope_n_low: float
    slope_n_high: float
    level: float
    level_low: float
    level_high: float
    p_fall: float
    p_rise: float
    p_slower: float
    p_not_slower: float

    def evidence(self) -> dict[str, float]:
        """The numbers as a verdict's evidence."""
        keys = [k for k in self.__dataclass_fields__ if k not in ("n", "mean_log_error")]
        out = {k: float(getattr(self, k)) for k in keys}
        out["points"] = float(len(self.n))
        out["decades"] = math.log10((self.n[-1] + 1.0) / (self.n[0] + 1.0))
        return out


def _common_grid(
    series_by_seed: Sequence[tuple[ArrayLike, ArrayLike]],
) -> tuple[IntArray, FloatArray]:
    """The updates every seed recorded and the ``(K, P)`` matrix of their errors there."""
    if not series_by_seed:
        raise ValueError("series_by_seed is empty, expected one (n, error) pair per seed")
    maps = []
    for k, (n, e) in enumerate(series_by_seed):
        n_arr, e_arr = np.asarray(n, dtype=np.int64), np.asarray(e, dtype=np.float64)
        if n_arr.shape != e_arr.shape or n_arr.ndim != 1:
            raise ValueError(
                f"series_by_seed[{k}]: n has shape {n_arr.shape} and error {e_arr.shape}, "
                "expected two 1-D arrays of one length"
            )
        maps.append(dict(zip(n_arr.tolist(), e_arr.tolist(), strict=True)))
    grid = sorted(set.intersection(*(set(m) for m in maps)))
    errors = np.array([[m[k] for k in grid] for m in maps], dtype=np.float64)
    return np.asarray(grid, dtype=np.int64), errors


def fit_across_seeds(
    series_by_seed: Sequence[tuple[ArrayLike, ArrayLike]],
    a: Callable[[int], float] | ArrayLike,
    *,
    rng: np.random.Generator,
    n_updates: int | None = None,
    confidence: float = 0.90,
    n_resamples: int = 999,
) -> SeedTrackingFit:
    """The fit of the module docstring on the tail ``n + 1 ≥ sqrt(N)`` of the seeds' common grid.

    ``a`` is the fast schedule (a callable of n) or its values on the common grid; ``N`` is
    ``n_updates`` (default: the last common n + 1). Errors ≤ 0 are floored at 1e-300.
    """
    n, errors = _common_grid(series_by_seed)
    if callable(a):
        a_n = np.array([float(a(int(k))) for k in n])
    else:
        a_n = np.asarray(a, dtype=np.float64)
        if a_n.shape != n.shape:
            raise ValueError(f"a has shape {a_n.shape}, expected a(n) on the {len(n)} common n")
    if np.any(~np.isfinite(a_n)) or np.any(a_n <= 0):
        raise ValueError(f"a(n) is {a_n.min():.3g} somewhere, expected finite values > 0")
    N = int(n[-1]) + 1 if n_updates is None else n_updates
    window = n + 1 >= math.sqrt(N)
    n, log_e, log_a = n[window], np.log(np.maximum(errors[:, window], 1e-300)), np.log(a_n[window])
    log_n = np.log(n + 1.0)
    a_ratio = float(np.exp(log_a[0] - log_a[-1])) if len(n) else math.nan
    decays = a_ratio >= _DECAYING

    def statistic(idx: FloatArray) -> FloatArray:
        y = log_e[idx.astype(np.int64)].mean(axis=0)
        slope_a = np.polyfit(log_a, y, 1)[0] if decays else 0.0  # NaN'd below
        slope_n = np.polyfit(log_n, y, 1)[0]
        return np.array([slope_a, slope_n, float(np.mean(y - 0.5 * log_a))])

    from scipy import stats  # lazy: it costs ~0.3 s of `import acconv` (target < 1 s)

    seeds = log_e.shape[0]
    point = statistic(np.arange(seeds, dtype=np.float64))
    if seeds >= 2 and len(n) >= 2:
        with warnings.catch_warnings():  # identical seeds: a degenerate (one-point) bootstrap
            warnings.simplefilter("ignore", stats.DegenerateDataWarning)
            result = stats.bootstrap(
                (np.arange(seeds, dtype=np.float64),),
                statistic,
                vectorized=False,
                n_resamples=n_resamples,
                confidence_level=confidence,
                method="percentile",
                rng=rng,
            )
        low, high = result.confidence_interval.low, result.confidence_interval.high
        replicates = result.bootstrap_distribution  # (3, B)
    else:
        low = high = np.full(3, math.nan)
        replicates = np.full((3, 0), math.nan)

    def p_value(other_side: FloatArray) -> float:
        return float((1 + np.sum(other_side)) / (1 + replicates.shape[1]))

    if not decays:
        point[0], low[0], high[0] = math.nan, math.nan, math.nan
    return SeedTrackingFit(
        n=n,
        mean_log_error=log_e.mean(axis=0),
        seeds=seeds,
        a_ratio=a_ratio,
        slope_a=float(point[0]),
        slope_a_low=float(low[0]),
        slope_a_high=float(high[0]),
        slope_n=float(point[1]),
        slope_n_low=float(low[1]),
        slope_n_high=float(high[1]),
        level=float(np.exp(point[2])),
        level_low=float(np.exp(low[2])),
        level_high=float(np.exp(high[2])),
        p_fall=p_value(replicates[1] >= 0),
        p_rise=p_value(replicates[1] <= 0),
        p_slower=p_value(replicates[0] >= PREDICTED_SLOPE) if decays else math.nan,
        p_not_slower=p_value(replicates[0] < PREDICTED_SLOPE) if decays else math.nan,
    )


def check_tracking_across_seeds(
    series_by_seed: Sequence[tuple[ArrayLike, ArrayLike]],
    a: Callable[[int], float] | ArrayLike,
    *,
    rng: np.random.Generator,
    n_updates: int | None = None,
    s4: Status | None = None,
    confidence: float = 0.90,
    n_resamples: int = 999,
) -> Verdict:
    """The tracking verdict from K seeds' ``track/error`` series (rules: module docstring).

    ``series_by_seed`` holds one ``(n, error)`` pair per seed; ``a`` the fast schedule a(n) or
    its values on the seeds' common grid; ``s4`` the run's S4 status (b/a → 0), if known.
    """
    fit = fit_across_seeds(
        series_by_seed, a, rng=rng, n_updates=n_updates, confidence=confidence,
        n_resamples=n_resamples,
    )  # fmt: skip
    evidence = fit.evidence()
    refusal = too_little(fit.n)
    if fit.seeds < MIN_SEEDS or refusal is not None:
        need = f"needs ≥ {MIN_SEEDS} seeds, have {fit.seeds}" if refusal is None else refusal
        detail = f"too little evidence on the run's tail to judge: {need}"
        return leaning(_ID, _NAME, None, None, METHOD_ESTIMATED, detail, evidence, _THEOREMS)
    mean_trend = trend(fit.n, fit.mean_log_error)  # caps the strength by the window's decades
    text = (
        f"{fit.seeds} seeds, {len(fit.n)} points, n = {int(fit.n[0])}…{int(fit.n[-1])}: "
        f"slope of mean ln E on ln a(n) {fit.slope_a:.3g} "
        f"[{fit.slope_a_low:.3g}, {fit.slope_a_high:.3g}] (prediction ½), on ln n "
        f"{fit.slope_n:.3g} [{fit.slope_n_low:.3g}, {fit.slope_n_high:.3g}], level E/sqrt(a) "
        f"{fit.level:.3g} [{fit.level_low:.3g}, {fit.level_high:.3g}] (bootstrap over seeds, "
        f"p_fall {fit.p_fall:.3g}, p_rise {fit.p_rise:.3g})"
    )
    falls = fit.p_fall < SIGNIFICANT and fit.slope_n_high < 0
    rises = fit.p_rise < SIGNIFICANT and fit.slope_n_low > 0
    if fit.a_ratio >= _DECAYING:
        if fit.slope_a_high < PREDICTED_SLOPE:
            why = "the error shrinks more slowly than sqrt(a(n)): E/sqrt(a) grows"
            strength = capped(fit.p_slower, mean_trend)
            return _lean("violated", strength, f"{text}; {why}", evidence)
        if falls:
            why = "the error falls, at a rate consistent with sqrt(a(n)) or faster"
            strength = capped(max(fit.p_fall, fit.p_not_slower), mean_trend)
            return _lean("holds", strength, f"{text}; {why}", evidence)
        if s4 == "violated" and not falls:
            why = "S4 (b/a → 0) fails and the error does not fall: the lag floor (weak)"
            return _lean("violated", "weak", f"{text}; {why}", evidence)
        return _lean(None, None, f"{text}; neither way at this evidence", evidence)
    if rises:
        why = "a(n) does not decay and the error rises"
        return _lean("violated", capped(fit.p_rise, mean_trend), f"{text}; {why}", evidence)
    if not falls:
        why = "a(n) does not decay and the error does not fall: the floor (weak; no test)"
        return _lean("violated", "weak", f"{text}; {why}", evidence)
    why = "a(n) does not decay but the error still falls: the floor is not reached on the window"
    return _lean(None, None, f"{text}; {why}", evidence)


def _lean(
    lean: Lean | None, strength: Strength | None, detail: str, evidence: dict[str, float]
) -> Verdict:
    return leaning(_ID, _NAME, lean, strength, METHOD_ESTIMATED, detail, evidence, _THEOREMS)
