"""Proven rate bounds of exact policy optimisation, as data (THEORY.md §5, §8 quick table).

Each bound is a :class:`RateBound`: which paper and theorem, which algorithm it certifies, its
hypotheses, its provenance (THEORY.md §0: ``"verified"`` = checked against the source,
``"verified-numerically"`` = [V-num], ``"unverified"`` = recalled constants, say so in reports),
the quantity it bounds and a pure ``formula(t, **constants)``. ``prepare(BoundInputs)`` computes
the constants that depend on the MDP and on the algorithm's step sizes; a few constants depend on
the run itself (``running``: the running minima ``c``, ``c_h`` or the step sizes ``a_n``,
``b_n``) and are supplied by the caller, e.g. :class:`acconv.instrument.bound_tracker.BoundTracker`.

Index convention (all bounds): ``t`` is the number of updates done, ``π_t`` the policy after
``t`` updates, ``π_0`` the initial one. Papers that count from 1 (Mei et al.: ``θ_1`` is the
initialisation) are shifted inside the formula. For a stochastic run the caller may pass a real
``t`` (the ODE time ``t_b(n)/η``, THEORY.md §8 item 4); such overlays are heuristic.

Terminal states: absorbing, zero-reward terminal states make no decision, carry no gradient and
no sub-optimality. Norms of ``1/μ`` and ratios to ``μ`` are therefore taken over the non-terminal
("live") states, and minima of ``π(a|s)`` likewise [D: every term that these norms bound in the
proofs vanishes on a terminal state]. ``|S|`` stays the full state count (conservative).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from acconv.exact import (
    action_values,
    discounted_visitation,
    optimal_values,
    policy_evaluation,
    soft_value_iteration,
    uniform_over_live_states,
)
from acconv.mdp import FiniteMDP
from acconv.theory_checks.bound_hypotheses import (
    BoundNotApplicable,
    mei_rescale,
    require_discounted,
    require_full_support,
    reward_range,
    reward_rescale,
)
from acconv.theory_checks.verdicts import METHOD_EXACT, METHOD_SAMPLED, Lean, Verdict, leaning

__all__ = [
    "AKM2021_NPG",
    "BOUNDS",
    "CEN2022_THM1",
    "CEN2022_THM1_POLICY",
    "HEURISTIC",
    "MEI2020_THM4",
    "MEI2020_THM6",
    "MP2006_FAST",
    "MP2006_SLOW",
    "REL_TOL",
    "XIAO2022_PMD",
    "BoundInputs",
    "BoundNotApplicable",
    "Provenance",
    "Quantity",
    "RateBound",
    "akm_npg",
    "bound_by_id",
    "bound_verdict",
    "cen_thm1",
    "cen_thm1_policy",
    "envelope",
    "gap_ratio",
    "mei_thm4",
    "mei_thm6",
    "reward_range",
    "reward_rescale",
    "xiao_pmd",
]

FloatArray = NDArray[np.float64]
Provenance = Literal["verified", "verified-numerically", "unverified"]
Quantity = Literal[
    "gap", "soft_gap", "soft_q_error", "log_policy_error", "fast_error", "slow_error"
]
"""What a bound bounds, for the policy ``π_t`` (``ρ`` the MDP's start distribution):

* ``gap``: ``V*(ρ) - V^{π_t}(ρ)``;
* ``soft_gap``: ``Ṽ*_τ(ρ) - Ṽ^{π_t}(ρ)`` (entropy-regularised values);
* ``soft_q_error``: ``‖Q*_τ - Q̃^{π_t}‖_∞``;
* ``log_policy_error``: ``‖log π*_τ - log π_t‖_∞`` over live states;
* ``fast_error``: ``‖ω_n - λ(θ_n)‖`` (critic tracking error, where ``λ`` is unique);
* ``slow_error``: ``‖θ_n - θ*_τ‖`` in centred logits (needs ``τ > 0``: without entropy the
  optimal logits are at infinity).
"""


@dataclass(frozen=True)
class BoundInputs:
    """What a bound's constants are computed from.

    Attributes:
        mdp: the discounted MDP (``γ < 1``); ``ρ = mdp.rho`` is the evaluation distribution.
        pi0: the initial policy ``π_0`` (``None``: uniform, i.e. ``θ_0 = 0``).
        tau: the entropy weight τ of the algorithm (0: unregularised).
        eta: the algorithm's constant step η (``None``: the theorem's default where it has one).
        eta0: the first step ``η_0`` of a growing-step method (PMD).
        mu: the start distribution μ used *inside* the algorithm (``None``: uniform over live
            states, :func:`acconv.exact.uniform_over_live_states`).
    """

    mdp: FiniteMDP
    pi0: FloatArray | None = None
    tau: float = 0.0
    eta: float | None = None
    eta0: float | None = None
    mu: FloatArray | None = None

    def initial_policy(self) -> FloatArray:
        """``π_0`` (uniform when not given)."""
        if self.pi0 is None:
            shape = (self.mdp.n_states, self.mdp.n_actions)
            return np.full(shape, 1.0 / self.mdp.n_actions)
        return np.asarray(self.pi0, dtype=np.float64)

    def start_distribution(self) -> FloatArray:
        """μ (uniform over live states when not given)."""
        if self.mu is None:
            return uniform_over_live_states(self.mdp)
        return np.asarray(self.mu, dtype=np.float64)


Constants = dict[str, float]


@dataclass(frozen=True)
class RateBound:
    """One proven (or recalled) rate bound and what it certifies.

    Attributes:
        id: short key, used in metric names ``bound/<id>/...``.
        reference: paper and theorem.
        algorithm: the algorithm the bound is proved for, with its step size.
        assumptions: the hypotheses, one per entry.
        provenance: ``"verified"``, ``"verified-numerically"`` or ``"unverified"`` (THEORY.md §0).
        form: the inequality in words and symbols.
        quantity: what is bounded (:data:`Quantity`).
        formula: pure ``formula(t, **constants) -> bound``.
        prepare: ``prepare(inputs) -> constants`` computed from the MDP and the algorithm's
            constants; raises :class:`BoundNotApplicable` when a hypothesis fails.
        running: names of constants that depend on the run and are supplied per iterate:
            ``c`` = ``min_{k≤t} min_{s live} π_k(a*(s)|s)``, ``c_h`` = ``min_{k≤t} min_{s live, a}
            π_k(a|s)``, ``a_n`` / ``b_n`` = the step sizes of the update.
        certifies: acconv learner class names whose iterates the bound applies to exactly.
        heuristic: a shape-only envelope (no constant); never a pass/fail criterion.
    """

    id: str
    reference: str
    algorithm: str
    assumptions: tuple[str, ...]
    provenance: Provenance
    form: str
    quantity: Quantity
    formula: Callable[..., float] = field(compare=False, repr=False)
    prepare: Callable[[BoundInputs], Constants] = field(compare=False, repr=False)
    running: tuple[str, ...] = ()
    certifies: tuple[str, ...] = ()
    heuristic: bool = False

    def value(self, t: float, **constants: float) -> float:
        """The bound on :attr:`quantity` for ``π_t`` (``t`` updates done)."""
        return float(self.formula(t, **constants))

    def constants(self, inputs: BoundInputs) -> Constants:
        """The MDP- and algorithm-dependent constants (raises :class:`BoundNotApplicable`)."""
        return self.prepare(inputs)


# --------------------------------------------------------------------------------------------
# Pure formulas (t = updates done)
# --------------------------------------------------------------------------------------------


def mei_thm4(
    t: float,
    *,
    n_states: float,
    gamma: float,
    c: float,
    mismatch: float,
    inv_mu: float,
    reward_scale: float = 1.0,
) -> float:
    """Mei et al. 2020, Theorem 4: ``k · 16 |S| ‖d_μ^{π*}/μ‖²_∞ ‖1/μ‖_∞ / (c² (1-γ)^6 (t+1))``.

    Mei count from ``θ_1`` = initialisation, hence ``t + 1``. ``c`` is the infimum over all
    iterates of ``min_s π_t(a*(s)|s)``; with the running minimum ``c_t`` it is the "bound with
    running c" (THEORY.md §5.1). ``k = reward_scale`` is the rescale of :func:`reward_rescale`
    (1 for rewards in [0, 1] at Mei's step).
    """
    if c <= 0.0:
        return math.inf
    numerator = 16.0 * n_states * mismatch**2 * inv_mu
    return reward_scale * numerator / (c**2 * (1.0 - gamma) ** 6 * (t + 1.0))


def mei_thm6(
    t: float,
    *,
    n_states: float,
    n_actions: float,
    gamma: float,
    tau: float,
    c_h: float,
    mismatch: float,
    inv_mu: float,
    mu_min: float,
    reward_scale: float = 1.0,
) -> float:
    """Mei et al. 2020, Theorem 6 (UNVERIFIED constants), entropy-regularised softmax PG:

        k ‖1/μ‖_∞ (1 + τ' log|A|)/(1-γ)² · exp(-C t),
        C = (1-γ)^4 / ((8/τ' + 4 + 8 log|A|) |S|) · min_s μ(s) · c_h² / ‖d_μ^{π*_τ}/μ‖_∞,

    with ``c_h = inf_t min_{s,a} π_t(a|s)`` (Mei's ``exp(-C(t-1))``, counted from ``t = 1``),
    ``k = reward_scale`` and ``τ' = tau`` the entropy weight of the rescaled rewards
    (:func:`reward_rescale`: ``τ' = τ/k``; ``k = 1``, ``τ' = τ`` for rewards in [0, 1] at
    Mei's step).
    """
    log_a = math.log(n_actions)
    rate = (
        (1.0 - gamma) ** 4
        / ((8.0 / tau + 4.0 + 8.0 * log_a) * n_states)
        * mu_min
        * c_h**2
        / mismatch
    )
    return reward_scale * inv_mu * (1.0 + tau * log_a) / (1.0 - gamma) ** 2 * math.exp(-rate * t)


def akm_npg(
    t: float, *, eta: float, n_actions: float, gamma: float, reward_span: float = 1.0
) -> float:
    """Agarwal et al. 2021, Theorem 5.3 (NPG, θ_0 = 0), for rewards of span
    ``k = max r - min r``: ``log|A|/(η t) + k/((1-γ)² t)`` (the paper's form, for rewards in
    [0, 1], has 1 in place of ``k``; the rescale is derived in :func:`reward_rescale`)."""
    if t <= 0.0:
        return math.inf
    return math.log(n_actions) / (eta * t) + reward_span / ((1.0 - gamma) ** 2 * t)


def cen_thm1(t: float, *, c1: float, gamma: float, eta: float, tau: float) -> float:
    """Cen et al. 2022, Theorem 1: ``‖Q*_τ - Q_τ^{(t)}‖_∞ ≤ C_1 γ (1-ητ)^{t-1}`` for ``t ≥ 1``.

    ``C_1 = ‖Q*_τ - Q_τ^{(0)}‖_∞ + 2τ (1 - ητ/(1-γ)) ‖log π*_τ - log π^{(0)}‖_∞``; for ``t < 1``
    the value is ``C_1``, which bounds ``‖Q*_τ - Q_τ^{(0)}‖_∞`` by definition.
    """
    if t < 1.0:
        return c1
    return c1 * gamma * float((1.0 - eta * tau) ** (t - 1.0))


def cen_thm1_policy(t: float, *, c1: float, eta: float, tau: float) -> float:
    """Cen et al. 2022, Theorem 1: ``‖log π*_τ - log π^{(t)}‖_∞ ≤ 2 C_1 τ^{-1} (1-ητ)^{t-1}``,
    ``t ≥ 1`` (``∞`` before the first update)."""
    if t < 1.0:
        return math.inf
    return 2.0 * c1 / tau * float((1.0 - eta * tau) ** (t - 1.0))


def xiao_pmd(t: float, *, gamma: float, gap0: float, kl0: float, eta0: float) -> float:
    """Xiao 2022 (KL-PMD, ``η_{k+1} ≥ η_k/γ``): ``γ^t (gap_0 + D_0*/((1-γ) η_0))``.

    ``gap_0 = V*(ρ) - V^{π_0}(ρ)``, ``D_0* = E_{s∼d_ρ^{π*}} KL(π*(·|s) ‖ π_0(·|s))``.
    """
    return float(gamma**t) * (gap0 + kl0 / ((1.0 - gamma) * eta0))


def envelope(t: float, *, step: float) -> float:
    """``sqrt(step)``: the Konda–Tsitsiklis 2004 / Mokkadem–Pelletier 2006 error scale.

    Shape only (no constant, a statement in distribution): ``‖ω_n - λ(θ_n)‖/sqrt(a(n))`` and
    ``‖θ_n - θ*‖/sqrt(b(n))`` should stay O(1). Heuristic.
    """
    return math.sqrt(step)


# --------------------------------------------------------------------------------------------
# Constants from the MDP and the algorithm (raise BoundNotApplicable outside the hypotheses)
# --------------------------------------------------------------------------------------------


def _require_tau(inputs: BoundInputs, positive: bool) -> None:
    if positive and not inputs.tau > 0.0:
        raise BoundNotApplicable(f"tau is {inputs.tau}, the bound is for entropy weight τ > 0")
    if not positive and inputs.tau != 0.0:
        raise BoundNotApplicable(f"tau is {inputs.tau}, the bound is for τ = 0 (unregularised)")


def _require(value: float | None, name: str) -> float:
    if value is None:
        raise BoundNotApplicable(f"the bound needs {name}, which was not given")
    return value


def _live_ratio_max(numerator: FloatArray, mu: FloatArray, live: NDArray[np.bool_]) -> float:
    """``max_{s live} numerator(s)/μ(s)`` with ``0/0 = 0`` and ``x/0 = ∞``."""
    num, den = numerator[live], mu[live]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(num > 0, num / den, 0.0)
    return float(ratio.max(initial=0.0))


def _inverse_mu(mu: FloatArray, live: NDArray[np.bool_]) -> tuple[float, float]:
    """``(‖1/μ‖_∞, min_s μ(s))`` over the live states."""
    mu_min = float(mu[live].min(initial=1.0))
    return (math.inf if mu_min <= 0.0 else 1.0 / mu_min), mu_min


def _mei_thm4_constants(inputs: BoundInputs) -> Constants:
    mdp = inputs.mdp
    require_discounted(mdp)
    _require_tau(inputs, positive=False)
    k, _ = mei_rescale(inputs.mdp, inputs.eta, inputs.tau)
    mu, live = inputs.start_distribution(), ~mdp.terminal
    require_full_support(mu, live)
    d_star = discounted_visitation(mdp, optimal_values(mdp).policy, mu)
    inv_mu, _ = _inverse_mu(mu, live)
    return {
        "n_states": float(mdp.n_states),
        "gamma": mdp.gamma,
        "mismatch": _live_ratio_max(d_star, mu, live),
        "inv_mu": inv_mu,
        "reward_scale": k,
    }


def _mei_thm6_constants(inputs: BoundInputs) -> Constants:
    mdp = inputs.mdp
    require_discounted(mdp)
    _require_tau(inputs, positive=True)
    k, tau = mei_rescale(inputs.mdp, inputs.eta, inputs.tau)
    mu, live = inputs.start_distribution(), ~mdp.terminal
    require_full_support(mu, live)
    # π*_τ on r is π*_{τ/k} on the rescaled rewards: the same policy (reward_rescale)
    d_star = discounted_visitation(mdp, soft_value_iteration(mdp, inputs.tau).policy, mu)
    inv_mu, mu_min = _inverse_mu(mu, live)
    return {
        "n_states": float(mdp.n_states),
        "n_actions": float(mdp.n_actions),
        "gamma": mdp.gamma,
        "tau": tau,
        "mismatch": _live_ratio_max(d_star, mu, live),
        "inv_mu": inv_mu,
        "mu_min": mu_min,
        "reward_scale": k,
    }


def _akm_constants(inputs: BoundInputs) -> Constants:
    mdp = inputs.mdp
    require_discounted(mdp)
    _require_tau(inputs, positive=False)
    eta = _require(inputs.eta, "the NPG step eta")
    pi0 = inputs.initial_policy()[~mdp.terminal]
    if np.max(np.abs(pi0 - 1.0 / mdp.n_actions), initial=0.0) > 1e-12:
        raise BoundNotApplicable("the theorem starts from θ_0 = 0 (uniform π_0); π_0 differs")
    r_min, r_max = reward_range(mdp)  # the rescale by the span (reward_rescale)
    return {
        "eta": eta,
        "n_actions": float(mdp.n_actions),
        "gamma": mdp.gamma,
        "reward_span": r_max - r_min,
    }


def _cen_c1(inputs: BoundInputs) -> Constants:
    mdp = inputs.mdp
    require_discounted(mdp)
    _require_tau(inputs, positive=True)
    eta, tau, gamma = _require(inputs.eta, "the NPG step eta"), inputs.tau, mdp.gamma
    if not 0.0 < eta <= (1.0 - gamma) / tau * (1.0 + 1e-12):
        raise BoundNotApplicable(f"eta is {eta:.6g}, Cen et al. need 0 < η ≤ (1-γ)/τ")
    pi0, live = inputs.initial_policy(), ~mdp.terminal
    soft = soft_value_iteration(mdp, tau)
    q_error = float(np.max(np.abs(soft.Q - action_values(mdp, pi0, tau))))
    with np.errstate(divide="ignore"):
        log_error = float(np.max(np.abs(np.log(soft.policy[live]) - np.log(pi0[live])), initial=0))
    c1 = q_error + 2.0 * tau * (1.0 - eta * tau / (1.0 - gamma)) * log_error
    return {"c1": c1, "gamma": gamma, "eta": eta, "tau": tau}


def _cen_constants(inputs: BoundInputs) -> Constants:
    return _cen_c1(inputs)


def _cen_policy_constants(inputs: BoundInputs) -> Constants:
    constants = _cen_c1(inputs)
    return {"c1": constants["c1"], "eta": constants["eta"], "tau": constants["tau"]}


def _xiao_constants(inputs: BoundInputs) -> Constants:
    mdp = inputs.mdp
    require_discounted(mdp)
    _require_tau(inputs, positive=False)
    eta0 = _require(inputs.eta0, "the first step eta0")
    pi0, live = inputs.initial_policy(), ~mdp.terminal
    optimum = optimal_values(mdp)
    # Any optimal π* will do; on terminal states every policy is optimal, take π* = π_0 there.
    pi_star = np.where(live[:, None], optimum.policy, pi0)
    d_star = discounted_visitation(mdp, pi_star)  # ρ-visitation of π*
    with np.errstate(divide="ignore", invalid="ignore"):
        kl = np.where(pi_star > 0, pi_star * np.log(pi_star / pi0), 0.0).sum(axis=1)
    gap0 = float(mdp.rho @ (optimum.V - policy_evaluation(mdp, pi0)))
    return {"gamma": mdp.gamma, "gap0": gap0, "kl0": float(d_star @ kl), "eta0": eta0}


def _no_constants(inputs: BoundInputs) -> Constants:
    return {}


# --------------------------------------------------------------------------------------------
# The bounds (THEORY.md §8 quick table)
# --------------------------------------------------------------------------------------------

MEI2020_THM4 = RateBound(
    id="mei2020_thm4",
    reference="Mei, Xiao, Szepesvári, Schuurmans 2020 (ICML), Theorem 4 — bound with running c",
    algorithm="exact softmax policy gradient, η = (1-γ)³/8, tabular logits",
    assumptions=(
        "exact gradients ∇_θ V^{π_θ}(μ)",
        "rewards in [0, 1], γ < 1, η = (1-γ)³/8; equivalently (reward_rescale) rewards of "
        "range ≤ k with η = (1-γ)³/(8k), the bound then multiplied by k",
        "μ with full support on the live states",
        "c = inf_t min_s π_t(a*(s)|s) > 0, here replaced by the running c_t = min_{k≤t} "
        "min_s π_k(a*(s)|s) (a plug-in: Mei's bound holds with the true infimum; that the "
        "recursion δ_{t+1} ≤ δ_t - K c_t² δ_t² also gives it with c_t is our (UNVERIFIED) "
        "reading of the proof)",
    ),
    provenance="verified",
    form="V*(ρ) - V^{π_t}(ρ) ≤ k·16|S| ‖d_μ^{π*}/μ‖²_∞ ‖1/μ‖_∞ / (c_t² (1-γ)^6 (t+1)), "
    "k = (1-γ)³/(8η)",
    quantity="gap",
    formula=mei_thm4,
    prepare=_mei_thm4_constants,
    running=("c",),
    certifies=("SoftmaxPG",),
)

MEI2020_THM6 = RateBound(
    id="mei2020_thm6",
    reference="Mei, Xiao, Szepesvári, Schuurmans 2020 (ICML), Theorem 6 (UNVERIFIED constants)",
    algorithm="exact entropy-regularised softmax PG, η = (1-γ)³/(8 + τ(4 + 8 log|A|))",
    assumptions=(
        "exact gradients ∇_θ Ṽ^{π_θ}(μ), entropy weight τ > 0",
        "rewards in [0, 1], γ < 1, η = (1-γ)³/(8 + τ(4 + 8 log|A|)); equivalently "
        "(reward_rescale) rewards of range ≤ k with η = (1-γ)³/(8k + τ(4 + 8 log|A|)), the "
        "bound then k times Mei's with τ' = τ/k",
        "μ with full support on the live states",
        "c_h = inf_t min_{s,a} π_t(a|s) > 0, here the running minimum (plug-in)",
        "the constant C is recalled, not checked against the paper (UNVERIFIED)",
    ),
    provenance="unverified",
    form="Ṽ*_τ(ρ) - Ṽ^{π_t}(ρ) ≤ k ‖1/μ‖_∞ (1 + τ' log|A|)/(1-γ)² exp(-C t), "
    "C = (1-γ)^4 min_s μ(s) c_h² / ((8/τ' + 4 + 8 log|A|) |S| ‖d_μ^{π*_τ}/μ‖_∞), τ' = τ/k",
    quantity="soft_gap",
    formula=mei_thm6,
    prepare=_mei_thm6_constants,
    running=("c_h",),
    certifies=("SoftmaxPG",),
)

AKM2021_NPG = RateBound(
    id="akm2021_npg",
    reference="Agarwal, Kakade, Lee, Mahajan 2021 (JMLR 22(98)), Theorem 5.3",
    algorithm="exact NPG for tabular softmax, θ ← θ + (η/(1-γ)) A^{π_θ}, θ_0 = 0",
    assumptions=(
        "exact advantages",
        "rewards in [0, 1], γ < 1; any bounded rewards after the rescale by their range "
        "k = max r - min r (reward_rescale), which turns 1/((1-γ)² t) into k/((1-γ)² t)",
        "θ_0 = 0",
        "any η > 0, τ = 0",
    ),
    provenance="verified-numerically",
    form="V*(ρ) - V^{π_t}(ρ) ≤ log|A|/(η t) + k/((1-γ)² t) for every ρ, k = max r - min r",
    quantity="gap",
    formula=akm_npg,
    prepare=_akm_constants,
    certifies=("NPG",),
)

CEN2022_THM1 = RateBound(
    id="cen2022_thm1",
    reference="Cen, Cheng, Chen, Wei, Chi 2022 (Operations Research), Theorem 1",
    algorithm="exact entropy-regularised NPG, "
    "π_{t+1} ∝ π_t^{1-ητ/(1-γ)} exp(η Q_τ^{(t)}/(1-γ)), 0 < η ≤ (1-γ)/τ",
    assumptions=(
        "exact soft Q-values",
        "entropy weight τ > 0, γ < 1",
        "0 < η ≤ (1-γ)/τ",
        "bounded rewards (the bound is invariant under the rescale of reward_rescale)",
    ),
    provenance="verified-numerically",
    form="‖Q*_τ - Q_τ^{(t)}‖_∞ ≤ C_1 γ (1-ητ)^{t-1}, "
    "C_1 = ‖Q*_τ - Q_τ^{(0)}‖_∞ + 2τ(1 - ητ/(1-γ)) ‖log π*_τ - log π^{(0)}‖_∞",
    quantity="soft_q_error",
    formula=cen_thm1,
    prepare=_cen_constants,
    certifies=("NPG",),
)

CEN2022_THM1_POLICY = RateBound(
    id="cen2022_thm1_policy",
    reference="Cen, Cheng, Chen, Wei, Chi 2022 (Operations Research), Theorem 1 (policy)",
    algorithm=CEN2022_THM1.algorithm,
    assumptions=CEN2022_THM1.assumptions,
    provenance="verified-numerically",
    form="‖log π*_τ - log π^{(t)}‖_∞ ≤ 2 C_1 τ^{-1} (1-ητ)^{t-1}",
    quantity="log_policy_error",
    formula=cen_thm1_policy,
    prepare=_cen_policy_constants,
    certifies=("NPG",),
)

XIAO2022_PMD = RateBound(
    id="xiao2022_pmd",
    reference="Xiao 2022 (JMLR 23), policy mirror descent with increasing steps",
    algorithm="exact KL policy mirror descent (= NPG), η_{k+1} ≥ η_k/γ",
    assumptions=(
        "exact Q-values",
        "bounded rewards, γ < 1, τ = 0 (the bound is invariant under the rescale of "
        "reward_rescale)",
        "step sizes η_{k+1} ≥ η_k/γ",
    ),
    provenance="verified-numerically",
    form="V*(ρ) - V^{π_t}(ρ) ≤ γ^t (V*(ρ) - V^{π_0}(ρ) + D_0*/((1-γ) η_0)), "
    "D_0* = E_{s∼d_ρ^{π*}} KL(π*(·|s) ‖ π_0(·|s))",
    quantity="gap",
    formula=xiao_pmd,
    prepare=_xiao_constants,
    certifies=("PolicyMirrorDescent",),
)

MP2006_FAST = RateBound(
    id="mp2006_fast",
    reference="Konda & Tsitsiklis 2004 (Ann. Appl. Probab. 14(2)); Mokkadem & Pelletier 2006 "
    "(Ann. Appl. Probab. 16(3)) — shape only, heuristic",
    algorithm="two-timescale stochastic approximation near a stable equilibrium",
    assumptions=(
        "step sizes of the rate theorems (S7)",
        "Hurwitz fast Jacobian and Schur complement",
        "a statement in distribution with an unknown constant: an envelope, not a bound",
    ),
    provenance="verified",
    form="‖ω_n - λ(θ_n)‖ ≍ sqrt(a(n))",
    quantity="fast_error",
    formula=lambda t, *, a_n: envelope(t, step=a_n),
    prepare=_no_constants,
    running=("a_n",),
    heuristic=True,
)

MP2006_SLOW = RateBound(
    id="mp2006_slow",
    reference=MP2006_FAST.reference,
    algorithm=MP2006_FAST.algorithm,
    assumptions=(*MP2006_FAST.assumptions, "an isolated optimum θ*_τ (entropy weight τ > 0)"),
    provenance="verified",
    form="‖θ_n - θ*_τ‖ ≍ sqrt(b(n)) (centred logits)",
    quantity="slow_error",
    formula=lambda t, *, b_n: envelope(t, step=b_n),
    prepare=_no_constants,
    running=("b_n",),
    heuristic=True,
)

BOUNDS: tuple[RateBound, ...] = (
    MEI2020_THM4,
    MEI2020_THM6,
    AKM2021_NPG,
    CEN2022_THM1,
    CEN2022_THM1_POLICY,
    XIAO2022_PMD,
    MP2006_FAST,
    MP2006_SLOW,
)


def bound_by_id(bound_id: str) -> RateBound:
    """The bound of :data:`BOUNDS` with this id."""
    for bound in BOUNDS:
        if bound.id == bound_id:
            return bound
    known = ", ".join(bound.id for bound in BOUNDS)
    raise ValueError(f"bound id is {bound_id!r}, expected one of {known}")


# ---------------------------------------------------------------------------------------------
# The verdict on a run's observations (the BoundTracker records them)
# ---------------------------------------------------------------------------------------------

REL_TOL = 1e-9
"""Relative slack of ``gap ≤ bound``, plus ``1e-12/(1-γ)`` absolute (the rounding of exact
values; ``·2/τ`` for log-policy errors)."""
HEURISTIC = "heuristic overlay: the bound is for exact gradients"


def gap_ratio(gap: float, value: float, atol: float) -> float:
    """``gap / value``; a gap at rounding level (``≤ atol``) counts as 0."""
    if gap <= atol:
        return 0.0
    return gap / value if value > 0 else math.inf


def _blame(bound: RateBound) -> str:
    if bound.provenance == "unverified":
        return (
            "the bound's constants are recalled, not checked (UNVERIFIED): either they are "
            "wrong or acconv has a bug"
        )
    if "c" in bound.running or "c_h" in bound.running:
        return (
            "a proven bound failed (with the running minimum as plug-in for the infimum, an "
            "(UNVERIFIED) reading of the proof): likely a bug in acconv"
        )
    return (
        "a proven bound failed: this is a bug in acconv (or a bound applied outside its hypotheses)"
    )


def bound_verdict(
    bound: RateBound,
    observations: Sequence[tuple[int, float, float, float]],
    *,
    skip: str | None,
    sampled: bool,
    learner: str,
    reference_step: float,
    atol: float,
) -> Verdict:
    """``holds`` if the exact quantity stayed under the bound at every observed iterate
    ``(n, t, gap, bound value)`` of an exact run of a certified learner.

    ``violated`` (only then: the gap and the bound are exact, the hypotheses were checked by
    ``prepare``) names the first failing iterate. A sampled run (a heuristic overlay at ODE
    time ``t = t_b(n)/η``, ``η = reference_step``) is ``undecided``, leaning ``holds`` if it
    stayed under at every iterate and ``violated`` otherwise, with weak evidence; shape-only
    envelopes are ``undecided`` without a lean. ``not_applicable`` when the bound's
    hypotheses do not cover the run (``skip`` says which and with what values: τ, the step,
    the rewards' range, μ's support, no model, γ = 1) or the learner is not one the bound
    certifies. ``atol`` is the rounding level of the gap.
    """
    vid, name, theorems = f"bound/{bound.id}", bound.form, (bound.reference,)
    if skip is not None:
        return Verdict(vid, name, "not_applicable", METHOD_EXACT, skip, {}, theorems)
    if not observations:
        return Verdict(vid, name, "undecided", METHOD_EXACT, "no iterate observed", {}, theorems)
    ratios = np.array([gap_ratio(gap, value, atol) for _, _, gap, value in observations])
    evidence = {
        "iterates": float(len(ratios)),
        "max_ratio": float(ratios.max()),
        "last_gap": observations[-1][2],
        "last_bound": observations[-1][3],
        "last_t": observations[-1][1],
    }
    if bound.heuristic:
        detail = (
            f"shape-only envelope ({bound.form}; no constant, a statement in distribution): "
            f"error/envelope ranged up to {evidence['max_ratio']:.3g}, last "
            f"{ratios[-1]:.3g}; it should stay O(1) if the rate theorem applies"
        )
        return Verdict(vid, name, "undecided", "heuristic overlay", detail, evidence, theorems)
    if sampled:
        under = float(np.mean(ratios <= 1.0))
        # A sampled run is not the algorithm the bound is proved for, and no test stands
        # behind "under at every visited iterate": weak evidence, either way.
        lean: Lean = "holds" if under == 1.0 else "violated"
        detail = (
            f"{HEURISTIC}; compared at ODE time t = t_b(n)/η with η = "
            f"{reference_step:.4g}: the sampled run was under it at {under:.0%} of "
            f"{len(ratios)} iterates (max gap/bound {evidence['max_ratio']:.3g}); weak "
            "evidence (no test, and the bound is proved for the exact recursion)"
        )
        evidence["fraction_under"] = under
        return leaning(vid, name, lean, "weak", METHOD_SAMPLED, detail, evidence, theorems)
    if learner not in bound.certifies:
        detail = (
            f"{bound.id} certifies {', '.join(bound.certifies)}; the run is "
            f"{learner} (rows were recorded as an overlay)"
        )
        return Verdict(vid, name, "not_applicable", METHOD_EXACT, detail, evidence, theorems)
    for n, t, gap, value in observations:
        if gap > value * (1.0 + REL_TOL) + atol:
            evidence.update(first_n=float(n), gap=gap, bound=value, t=t)
            detail = (
                f"at n = {n} (t = {t:g}) the exact {bound.quantity} {gap:.6g} exceeds the "
                f"bound {value:.6g} ({bound.form}); {_blame(bound)}"
            )
            return Verdict(vid, name, "violated", METHOD_EXACT, detail, evidence, theorems)
    detail = (
        f"{bound.quantity} ≤ bound at all {len(ratios)} iterates; largest gap/bound "
        f"{evidence['max_ratio']:.3g}, last {ratios[-1]:.3g} (provenance: {bound.provenance})"
    )
    return Verdict(vid, name, "holds", METHOD_EXACT, detail, evidence, theorems)
