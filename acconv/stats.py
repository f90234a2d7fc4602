"""Statistics across seeds, rliable's definitions (Agarwal et al. 2021): IQM and the stratified
percentile bootstrap. Shared by the report (curves) and the claim metrics (episodes to solve)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["CONFIDENCE", "N_BOOT", "iqm", "iqm_band", "stratified_bootstrap_ci"]

CONFIDENCE = 0.95
N_BOOT = 2000


def iqm(values: ArrayLike) -> float:
    """The interquartile mean: the mean of the middle 50% of ``values``.

    ``scipy.stats.trim_mean(values, 0.25)``: ``int(0.25 * len)`` values are cut from each end of
    the sorted sample, e.g. ``[1, 2, 3, 4] -> mean([2, 3]) = 2.5``. With fewer than 4 values
    nothing is cut and it is the plain mean.
    """
    from scipy.stats import trim_mean

    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0:
        raise ValueError("iqm of an empty sample")
    return float(trim_mean(array, 0.25))


def stratified_bootstrap_ci(
    groups: Sequence[ArrayLike],
    statistic: Callable[[NDArray[np.float64]], float] = iqm,
    n_boot: int = N_BOOT,
    confidence: float = CONFIDENCE,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """The percentile bootstrap interval ``(low, high)`` of ``statistic`` over all groups pooled.

    Each bootstrap replicate resamples every group (task) with replacement, keeping its size, and
    applies ``statistic`` to the concatenation of the resampled groups (rliable's stratified
    bootstrap). ``rng`` defaults to ``np.random.default_rng(0)``, so the interval is
    deterministic.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is {confidence}, expected a number in (0, 1)")
    if n_boot < 1:
        raise ValueError(f"n_boot is {n_boot}, expected an integer >= 1")
    arrays = [np.asarray(group, dtype=np.float64).ravel() for group in groups]
    arrays = [array for array in arrays if array.size]
    if not arrays:
        raise ValueError("stratified_bootstrap_ci needs at least one non-empty group")
    rng = np.random.default_rng(0) if rng is None else rng
    indices = [rng.integers(0, array.size, size=(n_boot, array.size)) for array in arrays]
    replicates = np.empty(n_boot)
    for b in range(n_boot):
        sample = np.concatenate([array[idx[b]] for array, idx in zip(arrays, indices, strict=True)])
        replicates[b] = statistic(sample)
    alpha = 1.0 - confidence
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def iqm_band(
    matrix: NDArray[np.float64], n_boot: int = N_BOOT, confidence: float = CONFIDENCE
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """IQM and its CI for each column of a ``seeds × n`` matrix (one group, so one stratum).

    Columns without NaN use a vectorised bootstrap that draws exactly what
    :func:`stratified_bootstrap_ci` draws for one group with a fresh ``default_rng(0)``; columns
    with missing seeds fall back to it on their finite values.
    """
    from scipy.stats import trim_mean

    n_seeds, n_cols = matrix.shape
    point = np.full(n_cols, np.nan)
    low = np.full(n_cols, np.nan)
    high = np.full(n_cols, np.nan)
    finite = np.isfinite(matrix)
    full = finite.all(axis=0)
    alpha = 1.0 - confidence
    if full.any():
        sub = matrix[:, full]
        idx = np.random.default_rng(0).integers(0, n_seeds, size=(n_boot, n_seeds))
        replicates = trim_mean(sub[idx], 0.25, axis=1)  # (n_boot, columns)
        point[full] = trim_mean(sub, 0.25, axis=0)
        low[full], high[full] = np.quantile(replicates, [alpha / 2, 1 - alpha / 2], axis=0)
    for j in np.flatnonzero(~full & finite.any(axis=0)):
        values = matrix[finite[:, j], j]
        point[j] = iqm(values)
        low[j], high[j] = stratified_bootstrap_ci(
            [values], iqm, n_boot, confidence, np.random.default_rng(0)
        )
    return point, low, high
