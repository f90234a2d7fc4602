"""Hypotheses of the rate bounds that depend on the MDP and the step: the discount, the range
of the rewards (an affine rescale, derived in :func:`reward_rescale`) and μ's support.

Each check raises :class:`BoundNotApplicable` naming the unmet hypothesis and its values;
:mod:`acconv.theory_checks.bounds` calls them while preparing a bound's constants.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from acconv.exact import softmax_pg_step_size
from acconv.mdp import FiniteMDP

__all__ = [
    "BoundNotApplicable",
    "mei_rescale",
    "require_discounted",
    "require_full_support",
    "reward_range",
    "reward_rescale",
]

FloatArray = NDArray[np.float64]


class BoundNotApplicable(ValueError):
    """The bound's hypotheses do not cover these inputs (the message says which one fails)."""


def require_discounted(mdp: FiniteMDP) -> None:
    """The bounds are for discounted MDPs (``γ < 1``)."""
    if not mdp.gamma < 1.0:
        raise BoundNotApplicable(f"gamma is {mdp.gamma}, the bound needs a discounted MDP")


def reward_range(mdp: FiniteMDP) -> tuple[float, float]:
    """``(min r, max r)`` over every entry of ``R`` (a terminal state's rewards, 0, included:
    a constant shift applies to every state, see :func:`reward_rescale`)."""
    return float(mdp.R.min()), float(mdp.R.max())


def reward_rescale(mdp: FiniteMDP, k: float) -> tuple[float, float]:
    """Check that the affine rescale ``r' = (r - min r)/k`` puts the rewards in [0, 1], i.e. that
    ``k ≥ max r - min r``; return ``(min r, max r)``, raise :class:`BoundNotApplicable` if not.

    Derivation (tested in tests/test_bounds.py). Let ``Δ = max r - min r`` over all entries of
    ``R``, ``k > 0`` and ``c`` with ``c ≤ min r``, ``c + k ≥ max r`` (possible iff ``k ≥ Δ``),
    so that ``r' = (r - c)/k ∈ [0, 1]``. Adding ``c`` to every reward, terminal states'
    included (they loop forever), adds ``c/(1-γ)`` to every value and leaves advantages,
    gradients and gaps unchanged; scaling by ``k`` scales values, soft values with
    ``τ' = τ/k`` (``Ṽ_{r,τ} = k Ṽ_{r',τ/k} + c/(1-γ)``), advantages, gradients and gaps by
    ``k``. Hence:

    * softmax PG ``θ ← θ + η ∇_θ Ṽ_{r,τ}(μ)`` is, iterate by iterate, softmax PG on ``r'`` with
      entropy weight ``τ/k`` and step ``kη``, and its gap on ``r`` is ``k`` times its gap on
      ``r'``. Mei et al.'s Theorems 4 and 6 (``r' ∈ [0, 1]``, step ``(1-γ)³/(8 + τ'(4 + 8
      log|A|))``) apply exactly when ``kη = (1-γ)³/(8 + (τ/k)(4 + 8 log|A|))``, i.e.
      ``k = ((1-γ)³/η - τ(4 + 8 log|A|))/8``, and ``k ≥ Δ``; the bound is ``k`` times Mei's
      with ``τ/k``. At Mei's own step ``k = 1``: the paper's bound, for ``Δ ≤ 1``.
    * NPG ``θ ← θ + (η/(1-γ)) A_r`` is NPG on ``r'`` with step ``kη`` (AKM Theorem 5.3 allows
      any ``η > 0``): ``gap_r = k gap_{r'} ≤ log|A|/(ηt) + k/((1-γ)² t)``, smallest at
      ``k = Δ``.
    * Cen et al.'s Theorem 1 and Xiao's bound are homogeneous: computed on ``r`` with the
      run's ``(η, τ)`` they equal ``k`` times the bounds on ``r'`` with ``(kη, τ/k)`` (``C_1``
      and ``gap_0`` scale by ``k``; ``ητ``, ``D_0*`` and the step conditions do not change), so
      they hold for bounded rewards of any range as computed.
    """
    r_min, r_max = reward_range(mdp)
    span = r_max - r_min
    if not k >= span * (1.0 - 1e-12):
        raise BoundNotApplicable(
            f"rewards span [{r_min:.6g}, {r_max:.6g}] (range {span:.6g}); the theorem assumes "
            f"rewards in [0, 1], and the affine rescale that matches the run's step divides "
            f"them by k = {k:.6g} < {span:.6g}, which leaves them outside [0, 1]"
        )
    return r_min, r_max


def mei_rescale(mdp: FiniteMDP, eta: float | None, tau: float) -> tuple[float, float]:
    """``(k, τ/k)``: the reward rescale under which the run is Mei et al.'s algorithm
    (:func:`reward_rescale`), checked against the rewards' range."""
    if eta is None:  # the theorem's own step: k = 1
        k = 1.0
    else:
        per_nat = 4.0 + 8.0 * math.log(mdp.n_actions)
        k = ((1.0 - mdp.gamma) ** 3 / eta - tau * per_nat) / 8.0
        if not k > 0.0:
            largest = (1.0 - mdp.gamma) ** 3 / (tau * per_nat)
            raise BoundNotApplicable(
                f"eta is {eta:.6g}, above (1-γ)³/(τ(4 + 8 log|A|)) = {largest:.6g}: no "
                "reward rescale makes it Mei et al.'s step (1-γ)³/(8 + τ'(4 + 8 log|A|))"
            )
    try:
        r_min, r_max = reward_range(mdp)
        reward_rescale(mdp, k)
    except BoundNotApplicable as error:
        span = r_max - r_min
        needed = softmax_pg_step_size(mdp.gamma, mdp.n_actions, tau / span) / span
        run_eta = softmax_pg_step_size(mdp.gamma, mdp.n_actions, tau) if eta is None else eta
        raise BoundNotApplicable(
            f"{error}: the run's η = {run_eta:.6g} is Mei et al.'s "
            f"step for rewards divided by k = {k:.6g}; η = {needed:.6g} would give k = the range"
        ) from None
    return k, tau / k


def require_full_support(mu: FloatArray, live: NDArray[np.bool_]) -> None:
    """Mei et al.'s μ must be positive on every (live) state."""
    zero = np.flatnonzero(live & ~(mu > 0.0))
    if zero.size:
        raise BoundNotApplicable(
            f"mu[{int(zero[0])}] is {float(mu[zero[0]]):.6g}, the theorem needs μ(s) > 0 on "
            f"every live state ({zero.size} live states have μ = 0)"
        )
