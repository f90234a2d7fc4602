"""Per-iterate certificates: proven inequalities whose both sides are exactly computable
(THEORY.md §5.1, §5.2, §6.2).

Given a discounted MDP, a policy ``π`` and distributions ``ρ`` (evaluation) and ``μ`` (inside the
algorithm), with ``π*`` a deterministic optimal policy and ``a*(s)`` its action:

* Mei et al. 2020, Lemma 8 (non-uniform Łojasiewicz), for ``π = softmax(θ)``:

      ‖∇_θ V^{π_θ}(μ)‖₂ · sqrt|S| · ‖d_ρ^{π*}/d_μ^{π}‖_∞ ≥ min_s π(a*(s)|s) · (V*(ρ) - V^π(ρ)),

  ``∂V^{π_θ}(μ)/∂θ[s, a] = d_μ^π(s) π(a|s) A^π(s, a)/(1-γ)``. Ratio LHS/RHS ≥ 1.
* Agarwal et al. 2021, Lemma 4.1 (gradient domination, direct parametrisation), any ``π``:

      V*(ρ) - V^π(ρ) ≤ ‖d_ρ^{π*}/d_μ^π‖_∞ · max_{π̄} (π̄ - π)ᵀ ∇_π V^π(μ),

  ``∇_{π(a|s)} V^π(μ) = d_μ^π(s) Q^π(s, a)/(1-γ)``, so the maximum is
  ``Σ_s d_μ^π(s) max_a A^π(s, a)/(1-γ)``. Ratio LHS/RHS ≤ 1.

A failure is a bug in acconv (a proven inequality failed). Comparisons allow a relative slack
of :data:`REL_TOL` plus the rounding level of the gap; a gap at rounding level leaves the ratio
undefined (``undecided``). Sums, minima and ratios run over
the non-terminal ("live") states: on an absorbing zero-reward terminal state the advantage, the
gradient and the gap all vanish, so the proofs' terms there are 0 [D]; restricting sharpens the
check and never invalidates it. ``0/0 = 0`` and ``x/0 = ∞`` in the mismatch coefficient.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from acconv.exact import (
    Solution,
    advantages,
    discounted_visitation,
    optimal_values,
    policy_evaluation,
    uniform_over_live_states,
)
from acconv.mdp import FiniteMDP
from acconv.theory_checks.verdicts import Verdict

__all__ = [
    "REL_TOL",
    "gradient_domination_certificate",
    "gradient_domination_ratio",
    "lojasiewicz_certificate",
    "lojasiewicz_ratio",
]

FloatArray = NDArray[np.float64]

REL_TOL = 1e-9
"""Relative slack of the comparisons (rounding of the linear solves)."""
_GAP_ATOL = 1e-12
"""A gap below ``_GAP_ATOL · max(1, max|V*|)`` is rounding: the ratio is undefined."""
_BUG = "this is a bug in acconv (a proven inequality failed)"


def _defaults(
    mdp: FiniteMDP, mu: FloatArray | None, rho: FloatArray | None, optimum: Solution | None
) -> tuple[FloatArray, FloatArray, Solution]:
    if not mdp.gamma < 1.0:
        raise ValueError(f"gamma is {mdp.gamma}, expected gamma < 1 (discounted certificates)")
    mu = uniform_over_live_states(mdp) if mu is None else np.asarray(mu, dtype=np.float64)
    rho = mdp.rho if rho is None else np.asarray(rho, dtype=np.float64)
    return mu, rho, optimal_values(mdp) if optimum is None else optimum


def _mismatch(d_rho_star: FloatArray, d_mu: FloatArray, live: NDArray[np.bool_]) -> float:
    """``max_{s live} d_ρ^{π*}(s)/d_μ^π(s)``, ``0/0 = 0``, ``x/0 = ∞``."""
    num, den = d_rho_star[live], d_mu[live]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(num > 0, num / den, 0.0)
    return float(ratio.max(initial=0.0))


def _pieces(
    mdp: FiniteMDP, pi: FloatArray, mu: FloatArray, rho: FloatArray, optimum: Solution
) -> dict[str, float | FloatArray]:
    live = ~mdp.terminal
    pi = np.asarray(pi, dtype=np.float64)
    A = advantages(mdp, pi)
    d_mu = discounted_visitation(mdp, pi, mu)
    d_rho_star = discounted_visitation(mdp, optimum.policy, rho)
    gap = float(rho @ (optimum.V - policy_evaluation(mdp, pi)))
    scale = max(1.0, float(np.max(np.abs(optimum.V))))
    return {
        "A": A,
        "d_mu": d_mu,
        "gap": gap,
        "gap_atol": _GAP_ATOL * scale,
        "mismatch": _mismatch(d_rho_star, d_mu, live),
    }


def lojasiewicz_ratio(
    mdp: FiniteMDP,
    pi: FloatArray,
    mu: FloatArray | None = None,
    rho: FloatArray | None = None,
    optimum: Solution | None = None,
) -> float:
    """``‖∇_θ V(μ)‖₂ sqrt|S_live| ‖d_ρ^{π*}/d_μ^π‖_∞ / (min_s π(a*(s)|s) (V*(ρ) - V^π(ρ)))``.

    ≥ 1 by Mei et al. 2020, Lemma 8; ``nan`` when the gap is 0 (undefined). ``μ`` defaults to
    uniform over live states, ``ρ`` to ``mdp.rho``; pass ``optimum`` to reuse ``V*, π*``.
    """
    return _lojasiewicz(mdp, pi, *_defaults(mdp, mu, rho, optimum))[0]


def _lojasiewicz(
    mdp: FiniteMDP, pi: FloatArray, mu: FloatArray, rho: FloatArray, optimum: Solution
) -> tuple[float, dict[str, float]]:
    live = ~mdp.terminal
    p = _pieces(mdp, pi, mu, rho, optimum)
    A, d_mu = np.asarray(p["A"]), np.asarray(p["d_mu"])
    gap, mismatch = float(p["gap"]), float(p["mismatch"])
    gradient = d_mu[:, None] * pi * A / (1.0 - mdp.gamma)
    a_star = optimum.policy.argmax(axis=1)
    c = float(np.asarray(pi)[live, a_star[live]].min(initial=1.0))
    lhs = float(np.linalg.norm(gradient)) * math.sqrt(int(live.sum())) * mismatch
    rhs = c * gap
    ratio = lhs / rhs if rhs > 0 else math.nan
    evidence = {
        "ratio": ratio, "grad_norm": float(np.linalg.norm(gradient)), "mismatch": mismatch,
        "c": c, "gap": gap, "lhs": lhs, "rhs": rhs, "gap_atol": float(p["gap_atol"]),
    }
    return ratio, evidence


def gradient_domination_ratio(
    mdp: FiniteMDP,
    pi: FloatArray,
    mu: FloatArray | None = None,
    rho: FloatArray | None = None,
    optimum: Solution | None = None,
) -> float:
    """``(V*(ρ) - V^π(ρ)) / (‖d_ρ^{π*}/d_μ^π‖_∞ · Σ_s d_μ^π(s) max_a A^π(s, a)/(1-γ))``.

    ≤ 1 by Agarwal et al. 2021, Lemma 4.1; ``nan`` when the gap is 0 (undefined).
    """
    return _gradient_domination(mdp, pi, *_defaults(mdp, mu, rho, optimum))[0]


def _gradient_domination(
    mdp: FiniteMDP, pi: FloatArray, mu: FloatArray, rho: FloatArray, optimum: Solution
) -> tuple[float, dict[str, float]]:
    p = _pieces(mdp, pi, mu, rho, optimum)
    A, d_mu = np.asarray(p["A"]), np.asarray(p["d_mu"])
    gap, mismatch = float(p["gap"]), float(p["mismatch"])
    # max_{π̄} (π̄ - π)ᵀ ∇_π V^π(μ) = Σ_s d_μ(s) (max_a Q(s, a) - Σ_a π Q)/(1-γ)
    best_direction = float(d_mu @ A.max(axis=1)) / (1.0 - mdp.gamma)
    lhs = gap
    if math.isinf(mismatch):  # some state π* visits is never visited from μ under π
        rhs = math.inf if best_direction > 0 else math.nan  # ∞·0 is undefined
    else:
        rhs = mismatch * best_direction
    ratio = lhs / rhs if rhs > 0 else math.nan
    evidence = {
        "ratio": ratio, "gap": gap, "mismatch": mismatch, "best_direction": best_direction,
        "lhs": lhs, "rhs": rhs, "gap_atol": float(p["gap_atol"]),
    }
    return ratio, evidence


def lojasiewicz_certificate(
    mdp: FiniteMDP,
    pi: FloatArray,
    mu: FloatArray | None = None,
    rho: FloatArray | None = None,
    optimum: Solution | None = None,
) -> Verdict:
    """Mei et al.'s non-uniform Łojasiewicz inequality at ``π``: holds / violated / undecided."""
    _, ev = _lojasiewicz(mdp, pi, *_defaults(mdp, mu, rho, optimum))
    undefined = None
    if ev["gap"] <= ev["gap_atol"]:
        undefined = f"gap V*(ρ) - V^π(ρ) = {ev['gap']:.3g} is at rounding level"
    return _certificate(
        "cert/lojasiewicz",
        "‖∇V‖ sqrt|S| ‖d_ρ^{π*}/d_μ^π‖_∞ ≥ min_s π(a*(s)|s) (V*(ρ) - V^π(ρ))",
        ("Mei, Xiao, Szepesvári, Schuurmans 2020, Lemma 8",),
        ev,
        undefined,
        holds=ev["lhs"] >= ev["rhs"] * (1.0 - REL_TOL) - ev["c"] * ev["gap_atol"],
        detail=(
            f"ratio {ev['ratio']:.6g} ≥ 1: ‖∇V‖ = {ev['grad_norm']:.6g}, mismatch "
            f"{ev['mismatch']:.6g}, c = {ev['c']:.6g}, gap {ev['gap']:.6g}"
        ),
        failed=("≥ 1", "< 1"),
    )


def gradient_domination_certificate(
    mdp: FiniteMDP,
    pi: FloatArray,
    mu: FloatArray | None = None,
    rho: FloatArray | None = None,
    optimum: Solution | None = None,
) -> Verdict:
    """Agarwal et al.'s gradient domination at ``π``: holds / violated / undecided."""
    _, ev = _gradient_domination(mdp, pi, *_defaults(mdp, mu, rho, optimum))
    undefined = None
    if ev["gap"] <= ev["gap_atol"]:
        undefined = f"gap V*(ρ) - V^π(ρ) = {ev['gap']:.3g} is at rounding level"
    elif math.isnan(ev["rhs"]):
        undefined = (
            "the right side is ∞·0 (μ never reaches a state π* visits, and π is greedy "
            "where μ reaches)"
        )
    return _certificate(
        "cert/gradient_domination",
        "V*(ρ) - V^π(ρ) ≤ ‖d_ρ^{π*}/d_μ^π‖_∞ max_π̄ (π̄ - π)ᵀ ∇_π V^π(μ)",
        ("Agarwal, Kakade, Lee, Mahajan 2021, Lemma 4.1",),
        ev,
        undefined,
        holds=ev["lhs"] <= ev["rhs"] * (1.0 + REL_TOL) + ev["gap_atol"],
        detail=(
            f"ratio {ev['ratio']:.6g} ≤ 1: gap {ev['gap']:.6g}, mismatch {ev['mismatch']:.6g}, "
            f"max_π̄ (π̄ - π)ᵀ∇V = {ev['best_direction']:.6g}"
        ),
        failed=("≤ 1", "> 1"),
    )


def _certificate(
    id_: str,
    name: str,
    theorems: tuple[str, ...],
    evidence: dict[str, float],
    undefined: str | None,
    *,
    holds: bool,
    detail: str,
    failed: tuple[str, str],
) -> Verdict:
    """The verdict of a proven inequality: undecided where the ratio is undefined, holds, or
    violated — which can only be a bug in acconv, and the detail says so."""
    if undefined is not None:
        return Verdict(
            id_, name, "undecided", "exact", f"{undefined}: the ratio is undefined", evidence,
            theorems,
        )
    if holds:
        return Verdict(id_, name, "holds", "exact", detail, evidence, theorems)
    detail = detail.replace(*failed) + f"; {_BUG}"
    return Verdict(id_, name, "violated", "exact", detail, evidence, theorems)
