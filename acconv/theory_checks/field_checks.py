"""Checks on the learner's mean fields along a run: A3 (Lipschitz), A4 (martingale noise), A6 and
A6' (the fast ODE), A7 (the slow ODE).
"""

from __future__ import annotations

import math

import numpy as np

from acconv.exact import (
    optimal_values,
    policy_evaluation,
)
from acconv.policies import centred
from acconv.theory_checks.mean_fields import (
    _at_infinity,
    _centred_basis,
    _flow_to_rest,
    _joint_jacobian_norm,
    _live,
    _quotient_distance,
    _shadowing,
    _slow_setting,
    _spread,
)
from acconv.theory_checks.setting_checks import (
    _beta_limit,
    _beta_of,
    _beta_text,
    _network_lipschitz,
)
from acconv.theory_checks.step_sizes import e_min_of
from acconv.theory_checks.theorems import (
    BORKAR,
)
from acconv.theory_checks.trace import (
    _ALL,
    _FD_THETA,
    _KB_R,
    _NEVER,
    FloatArray,
    RunTrace,
    _last_decade,
    _snapshot_values,
)
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
    METHOD_SYMBOLIC,
    Lean,
    Verdict,
    leaning,
)


def check_a3_lipschitz(
    trace: RunTrace, *, max_points: int = 4, beta_limit: float | None = None
) -> Verdict:
    """A3 LIP: (ḡ, h̄) Lipschitz in (θ, ω). Reports ``L̂ = max ‖∂(ḡ, h̄)/∂(θ, ω)‖₂`` over up to
    ``max_points`` visited iterates (central differences of the expected twin's fields) and the
    ratio ``L̂(2β)/L̂(β)`` at the last iterate (softmax Lipschitz constants grow ∝ β).

    Status: symbolic from the form — tabular softmax with tabular critics is real-analytic, so
    locally Lipschitz, uniformly on compact sets when β stays bounded (``holds``; the sup over
    the run's region also needs A8); ``violated`` when β(n) → ∞; ``undecided`` ("piecewise
    Lipschitz only") for PPO clip, value clip and advantage normalisation. Source: THEORY.md §3
    A3 (Borkar 1997 (A1); K&B 2018 (A2)).
    """
    name = "Lipschitz mean fields ḡ, h̄ in (θ, ω)"
    evidence: dict[str, float] = {}
    field, facts = trace.mean_field, trace.facts
    estimate = ""
    if field is not None and trace.snapshots:
        picks = _spread(len(trace.snapshots), max_points)
        norms = []
        for i in picks:
            s = trace.snapshots[i]
            norms.append(_joint_jacobian_norm(field, s.theta, s.omega, s.n + 1))
        evidence.update(lipschitz_estimate=max(norms), points=len(picks))
        last = trace.snapshots[-1]
        scaled = facts.beta_scaled_mean_field
        hot = scaled(2.0) if scaled is not None else None
        if hot is not None:
            doubled = _joint_jacobian_norm(hot, last.theta, last.omega, last.n + 1)
            base = _joint_jacobian_norm(field, last.theta, last.omega, last.n + 1)
            evidence.update(lipschitz_last=base, lipschitz_doubled_beta=doubled)
            evidence["beta_scaling_ratio"] = doubled / base if base > 0 else _NEVER
        estimate = (
            f"; L̂ = {max(norms):.3g} (max ‖∂(ḡ,h̄)/∂(θ,ω)‖₂ at {len(picks)} visited iterates, "
            "estimated)"
        )
        if "beta_scaling_ratio" in evidence:
            estimate += (
                f"; doubling β at the last iterate multiplies it by "
                f"{evidence['beta_scaling_ratio']:.3g}"
            )
    else:
        estimate = f"; no L̂ ({trace.mean_field_reason or 'no expected twin'})"
    reasons = facts.kinks
    if facts.policy == "network_softmax" and facts.activation is not None:
        return _network_lipschitz(facts)
    if facts.policy != "tabular_softmax":
        return Verdict(
            "A3",
            name,
            "undecided",
            METHOD_SYMBOLIC,
            f"learner {trace.learner!r}: form unknown{estimate}",
            evidence,
            _ALL,
        )
    if reasons:
        detail = f"piecewise Lipschitz only: {', '.join(reasons)} is not differentiable{estimate}"
        return Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, evidence, _ALL)
    beta = _beta_limit(_beta_of(facts)) if beta_limit is None else beta_limit
    if beta == math.inf:
        detail = (
            f"β(n) = {_beta_text(facts)} → ∞ and the fields' Lipschitz constants grow "
            f"∝ β: no uniform constant{estimate}"
        )
        return Verdict("A3", name, "violated", METHOD_SYMBOLIC, detail, evidence, _ALL)
    detail = (
        "tabular softmax actor with a tabular critic: both fields are real-analytic in (θ, ω), "
        "hence Lipschitz on every compact set (uniformly, since β is bounded); the run's "
        f"region is compact if A8 holds{estimate}"
    )
    if beta is None or math.isnan(beta):
        detail += "; β(n) bounded not established (see A9)"
        return Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, evidence, _ALL)
    return Verdict("A3", name, "holds", METHOD_SYMBOLIC, detail, evidence, _ALL)


def check_a4_noise(trace: RunTrace) -> Verdict:
    """A4 MDS: ``E[M_{n+1} | F_n] = 0`` and ``E[‖M_{n+1}‖² | F_n] ≤ K (1 + ‖θ_n‖² + ‖ω_n‖²)``.

    Zero conditional mean holds by construction when every update uses whole episodes drawn
    i.i.d. from π_n and is a *sum* over them (ActorCritic, RUDDER): the mean direction is then
    the twin's. PPO divides by the batch's step count and reuses the batch for K·M steps, so
    its update is not an average of i.i.d. terms: zero mean is undecided there. K is estimated
    per recorded point as ``mean ‖M‖² / mean (1 + ‖θ_n‖² + ‖ω_n‖²)`` over the monitor's noise
    window (M = sampled direction − twin's direction at the same pre-update state; θ centred);
    ``holds`` when K̂ is finite and its maximum over the last decade is at most 4× its maximum
    before. Source: THEORY.md §3 A4 (K&B 2018 (A3); Borkar 1997 in the bounded form, which
    K-form plus A8 implies).
    """
    name = "martingale-difference noise with E‖M‖² ≤ K(1 + ‖θ‖² + ‖ω‖²)"
    if trace.mean_field is None:
        detail = (
            f"no mean field to subtract ({trace.mean_field_reason or 'no expected twin'}); "
            "needs the learner's expected direction at the sampled state "
            "(LearnerFacts.mean_field(θ, ω, n, value) -> (ḡ, h̄))"
        )
        return leaning("A4", name, None, None, METHOD_ESTIMATED, detail, {}, _ALL)
    n, K = trace.series("noise/K")
    if trace.facts.mode == "expected":
        detail = "expected (mean-field) mode: no sampling, M ≡ 0 (exact)"
        return Verdict("A4", name, "holds", METHOD_EXACT, detail, {"K_max": 0.0}, _ALL)
    if len(K) < 2:
        detail = "too few noise samples (need updates n ≥ 1 at two recorded points)"
        return leaning("A4", name, None, None, METHOD_ESTIMATED, detail, {}, _ALL)
    decade = n >= _last_decade(trace)
    before = K[~decade].max() if (~decade).any() else _NEVER
    last = K[decade].max() if decade.any() else _NEVER
    evidence = {
        "K_max": float(K.max()),
        "K_last_decade": float(last),
        "K_before": float(before),
        "K_final": float(K[-1]),
        "points": float(len(K)),
    }
    stable = math.isfinite(last) and (not math.isfinite(before) or last <= 4 * before)
    k_text = (
        f"K̂ = {float(K.max()):.3g} (max over {len(K)} recorded points of "
        f"mean‖M‖²/mean(1+‖θ‖²+‖ω‖²)), last decade {float(last):.3g} vs before "
        f"{float(before):.3g}: {'stable' if stable else 'growing'} (evidence)"
    )
    if trace.facts.old_policy:
        steps = trace.facts.gradient_steps
        mean_text = (
            "zero conditional mean undecided: PPO divides by the batch's step count (a ratio "
            "estimator, biased O(1/B))"
            + (
                f" and reuses the batch for K·M = {steps} steps (A11 mode (ii))"
                if steps > 1
                else ""
            )
            + ", so its update is not an average of i.i.d. terms"
        )
        detail = f"{mean_text}; {k_text}"
        return leaning("A4", name, None, None, METHOD_ESTIMATED, detail, evidence, _ALL)
    mean_text = (
        "E[M | F_n] = 0 by construction: whole episodes drawn i.i.d. from π_n and an update "
        "that is a sum over them, whose mean is the twin's direction (no truncation assumed)"
    )
    # No test: K̂ is a maximum over the visited points, so the lean is weak either way.
    detail = f"{mean_text}; {k_text}; weak: a maximum over the visited points, no test"
    lean: Lean = "holds" if stable else "violated"
    return leaning("A4", name, lean, "weak", METHOD_ESTIMATED, detail, evidence, _ALL)


def check_a6_fast(trace: RunTrace) -> Verdict:
    """A6 FAST: for every visited θ the fast ODE dω/dt = ḡ(θ, ω) has the equilibrium λ(θ),
    exponentially stable on the support (κ(θ) = -max Re eig J_ω > 0 there), λ Lipschitz.

    Exact at every recorded θ_n: λ from the learner's ``fast_equilibrium``, J_ω by central
    differences of the twin's affine fast field, ḡ(θ, λ(θ)) = 0 checked on the support. The
    Lipschitz constant of λ along the slow direction, ‖Dλ F‖/‖F‖, is reported (estimated: a
    maximum over the visited θ). Source: THEORY.md §3 A6 (Borkar (A4); K&B (A6)).
    """
    name = "fast ODE: λ(θ) exponentially stable on the support (κ > 0), λ Lipschitz"
    if trace.fast_equilibrium is None or trace.mean_field is None:
        reason = trace.mean_field_reason or "the learner exposes no fast_equilibrium"
        return Verdict("A6", name, "undecided", METHOD_EXACT, reason, {}, _ALL)
    _, kappa = trace.series("track/kappa")
    _, residual = trace.series("track/equilibrium_residual")
    _, lip = trace.series("track/lambda_lipschitz")
    if not len(kappa):
        return Verdict("A6", name, "undecided", METHOD_EXACT, "no recorded points", {}, _ALL)
    evidence = {
        "kappa_min": float(kappa.min()),
        "kappa_final": float(kappa[-1]),
        "equilibrium_residual_max": float(residual.max()) if len(residual) else _NEVER,
        "lambda_lipschitz_max": float(lip.max()) if len(lip) else _NEVER,
        "points": float(len(kappa)),
    }
    if kappa.min() <= 0:
        detail = f"J_ω is not Hurwitz on the support at a visited θ: min κ = {kappa.min():.3g} ≤ 0"
        return Verdict("A6", name, "violated", METHOD_EXACT, detail, evidence, _ALL)
    scale = 1e-6 * (1.0 + max(float(np.abs(s.omega).max()) for s in trace.snapshots))
    if len(residual) and residual.max() > scale:
        detail = (
            f"κ > 0 at all {len(kappa)} recorded θ, but ḡ(θ, λ(θ)) ≠ 0 on the support (max "
            f"‖·‖ = {residual.max():.3g}): fast_equilibrium is not the zero of the learner's "
            "fast field"
        )
        return Verdict("A6", name, "undecided", METHOD_EXACT, detail, evidence, _ALL)
    detail = (
        f"at all {len(kappa)} recorded θ_n: ḡ(θ, λ(θ)) = 0 on the support and J_ω is Hurwitz "
        f"there, κ ≥ {kappa.min():.3g} (exact); ‖Dλ·F‖/‖F‖ ≤ "
        f"{evidence['lambda_lipschitz_max']:.3g} along the slow direction (estimated)"
    )
    return Verdict("A6", name, "holds", METHOD_EXACT, detail, evidence, _ALL)


def check_a6_prime_domain(trace: RunTrace) -> Verdict:
    """A6' FAST-DOM: ω_n eventually stays in a compact subset of λ(θ)'s basin. For the tabular
    critics the fast field is affine in ω, so a Hurwitz J_ω makes λ(θ) *globally* exponentially
    stable (G_θ = whole space) and the hypothesis reduces to A8 [D]. Affinity is checked at
    every recorded point: ḡ(θ, ω_n) = ḡ(θ, λ) + J_ω (ω_n - λ) (exact). Source: THEORY.md §3
    A6' (K&B main theorem; Borkar's A4 asks for global stability directly).
    """
    name = "ω_n eventually in a compact subset of the basin of λ(θ) (global for affine fields)"
    if trace.mean_field is None or trace.fast_equilibrium is None:
        reason = trace.mean_field_reason or "the learner exposes no fast_equilibrium"
        return Verdict("A6'", name, "undecided", METHOD_EXACT, reason, {}, _ALL)
    _, kappa = trace.series("track/kappa")
    _, affine = trace.series("track/affine_error")
    if not len(kappa) or not len(affine):
        return Verdict("A6'", name, "undecided", METHOD_EXACT, "no recorded points", {}, _ALL)
    evidence = {"affine_error_max": float(affine.max()), "kappa_min": float(kappa.min())}
    if affine.max() > 1e-6:
        detail = (
            f"the fast field is not affine in ω (relative deviation {affine.max():.3g}): the "
            "basin of λ(θ) is not known to be global; not checked"
        )
        return Verdict("A6'", name, "undecided", METHOD_EXACT, detail, evidence, _ALL)
    if kappa.min() <= 0:
        detail = "J_ω not Hurwitz at some visited θ (see A6)"
        return Verdict("A6'", name, "violated", METHOD_EXACT, detail, evidence, _ALL)
    detail = (
        "the fast field is affine in ω at every recorded θ (relative deviation "
        f"{affine.max():.2g}) with Hurwitz J_ω: λ(θ) is globally exponentially stable, so any "
        "bounded ω_n lies in a compact subset of its basin (with A8)"
    )
    return Verdict("A6'", name, "holds", METHOD_EXACT, detail, evidence, _ALL)


def slow_e_min(jacobian: FloatArray) -> float:
    """``e_min = min_i Re μ_i`` over the eigenvalues μ_i of ``-J``, J the slow Jacobian at θ*:
    the rate in S7's condition b_0 > 1/(2 e_min) (THEORY.md §3 A2/A7); the same function as
    :func:`acconv.theory_checks.step_sizes.e_min_of`. The real part, not the modulus: for
    J = [[-1, -5], [5, -1]] the eigenvalues of -J are 1 ± 5i, so e_min = 1 while |μ| = √26 ≈ 5.10
    would certify S7 for b_0 > 0.098 when it needs b_0 > 0.5.

    >>> slow_e_min(np.array([[-1.0, -5.0], [5.0, -1.0]]))
    1.0
    """
    return e_min_of(jacobian)


def check_a7_slow(
    trace: RunTrace, *, n_starts: int = 3, seed: int = 0, t_max: float = 500.0
) -> tuple[Verdict, Verdict]:
    """A7 SLOW: the slow ODE dθ/dt = F(θ) has an asymptotically stable equilibrium θ* that the
    run enters (``"A7"``: local, K&B / Holzleitner [R]) and it is unique and globally
    asymptotically stable (``"A7-global"``: Borkar).

    * Entropy-regularised ActorCritic (τ > 0): θ*_τ = Q*_τ/(β τ), centred per state, from soft
      value iteration; checked to be a zero of F (exact), local stability from the eigenvalues
      of F's Jacobian at θ*_τ in centred coordinates (central differences), basin entry by
      integrating the ODE from the last iterate (``solve_ivp``, at most ``t_max``) until it is
      within 1e-3·(1 + ‖θ*‖) of θ*, the distance ‖θ_n - θ*‖ (centred) along the run. Global:
      the ODE from ``n_starts`` random logits N(0, max(1, max|θ*|)²) all reach θ*_τ
      (estimated; a start that does not come to rest by ``t_max`` leaves it undecided).
    * PG-type fields without regularisation (F = c(θ)∇J, :func:`_pg_type_field`): if some
      reachable state has a unique optimal action, ∇J vanishes at no finite θ (it would need
      A^π = 0 on all reachable states, i.e. all actions optimal there): the attractor is at
      infinity, so the hypothesis is ``violated`` (exact); value-space convergence
      J* - J(π_n) is reported instead.
    * Otherwise the ODE is integrated from the last iterate; a rest point found (‖F‖ ≤ 1e-8)
      is used as θ* (estimated).

    The ODE is the one at the end of the run (β = β(N)).

    Shadowing D_APT (THEORY.md §4.1, §6.4) is reported in the evidence. Source: THEORY.md §3 A7
    (Borkar (A5); K&B Theorem with chain-transitive limit sets / local attractors).
    """
    name = "slow ODE dθ/dt = F(θ): asymptotically stable θ*, entered by the run"
    name_g = "slow ODE: unique globally asymptotically stable θ*"
    setting = _slow_setting(trace)
    if setting is None:
        reason = trace.mean_field_reason or "no fast equilibrium or no recorded points"
        return (
            Verdict("A7", name, "undecided", METHOD_EXACT, reason, {}, _KB_R),
            Verdict("A7-global", name_g, "undecided", METHOD_EXACT, reason, {}, (BORKAR,)),
        )
    task, mdp = trace.task, trace.task.mdp
    evidence: dict[str, float] = {"beta_end": setting.beta}
    evidence.update(_shadowing(trace, setting))
    apt = ""
    if "apt_last" in evidence:
        apt = (
            f"; shadowing D_APT over a window W = {evidence['apt_window']:.3g} of ODE time: "
            f"{evidence['apt_last']:.3g} from n0 = {int(evidence['apt_last_n0'])} (the run "
            f"moved {evidence['apt_last_travel']:.3g})"
        )
        if "apt_previous" in evidence:
            apt += f", {evidence['apt_previous']:.3g} from n0 = {int(evidence['apt_previous_n0'])}"
    last = trace.snapshots[-1]
    tol = 1e-8
    theta_star = setting.closed_form
    how = f"closed form θ*_τ = Q*_τ/(βτ) (soft value iteration, β = {setting.beta:.3g})"
    method = METHOD_EXACT
    if theta_star is not None:
        residual = float(np.linalg.norm(setting.field(0.0, theta_star.ravel())))
        evidence["closed_form_residual"] = residual
        if residual > 1e-6:
            theta_star, how = None, f"closed form is not a zero of F (‖F‖ = {residual:.3g})"
    if theta_star is None and mdp is not None and _at_infinity(trace, setting, evidence):
        v_star = float(mdp.rho @ optimal_values(mdp).V)
        n_s, gaps = _snapshot_values(
            trace, lambda s: v_star - float(mdp.rho @ policy_evaluation(mdp, s.policy))
        )
        evidence.update(value_gap_first=float(gaps[0]), value_gap_final=float(gaps[-1]))
        detail = (
            "attractor at infinity: F is the policy gradient (cosine with ∇J = 1 at the "
            "last iterate) and a reachable state has a unique optimal action (action gap "
            f"{evidence['max_action_gap']:.3g}), so F(θ) ≠ 0 for every finite θ (exact): "
            "∇J = 0 needs A^π = 0 on all reachable states, i.e. all actions optimal there "
            "(Agarwal et al. 2021, softmax stationary points); value-space convergence "
            f"instead: J* - J(π_n) = {gaps[0]:.3g} at n = {n_s[0]} → {gaps[-1]:.3g} at "
            f"n = {n_s[-1]}{apt}"
        )
        return (
            Verdict("A7", name, "violated", METHOD_EXACT, detail, evidence, _KB_R),
            Verdict("A7-global", name_g, "violated", METHOD_EXACT, detail, evidence, (BORKAR,)),
        )
    if theta_star is None:
        rest, t, reached = _flow_to_rest(setting.field, last.theta, tol=tol, t_max=t_max)
        norm = float(np.linalg.norm(setting.field(0.0, rest.ravel())))
        evidence["rest_field_norm"] = norm
        if not reached:
            detail = (
                f"no equilibrium found: the slow ODE from the last iterate has ‖F‖ = {norm:.3g} "
                f"after t = {t:.3g}; {how if setting.closed_form is not None else 'no closed form'}"
                f"{apt}"
            )
            return (
                Verdict("A7", name, "undecided", METHOD_ESTIMATED, detail, evidence, _KB_R),
                Verdict(
                    "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence, (BORKAR,)
                ),
            )
        theta_star = np.where(_live(task)[:, None], centred(rest.reshape(last.theta.shape)), 0.0)
        how = f"rest point of the slow ODE from the last iterate (t = {t:.3g})"
        method = METHOD_ESTIMATED
    # Local stability: eigenvalues of F's Jacobian at θ* in centred coordinates.
    basis = _centred_basis(task)
    columns = []
    for j in range(basis.shape[1]):
        step = _FD_THETA * basis[:, j]
        plus = setting.field(0.0, theta_star.ravel() + step)
        minus = setting.field(0.0, theta_star.ravel() - step)
        columns.append(basis.T @ (plus - minus) / (2 * _FD_THETA))
    jacobian = np.array(columns).T
    rate = float(-np.linalg.eigvals(jacobian).real.max())
    evidence["slow_contraction"] = rate
    evidence["slow_e_min"] = slow_e_min(jacobian)
    distances = [
        float(np.linalg.norm(centred(s.theta)[_live(task)] - theta_star[_live(task)]))
        for s in trace.snapshots
    ]
    evidence.update(distance_first=distances[0], distance_final=distances[-1])
    near = 1e-3 * (1.0 + float(np.linalg.norm(theta_star)))
    end, t, entered = _flow_to_rest(
        setting.field, last.theta, tol=near, t_max=t_max, target=theta_star
    )
    distance_end = _quotient_distance(end, theta_star)
    evidence.update(basin_entry_distance=distance_end, basin_entry_time=t)
    head = (
        f"θ* from the {how}; Jacobian of F at θ* in centred coordinates has max Re eig "
        f"{-rate:.3g}; ‖θ_n - θ*‖ (centred) = {distances[0]:.3g} → {distances[-1]:.3g}; the ODE "
        f"from the last iterate reaches ‖θ - θ*‖ = {distance_end:.2g} at t = {t:.3g}"
    )
    if rate <= 0:
        detail = f"{head}: θ* is not linearly stable{apt}"
        local = Verdict("A7", name, "undecided", method, detail, evidence, _KB_R)
    elif not entered:
        detail = f"{head}: not within {near:.2g} of θ* by t = {t_max:g}{apt}"
        local = Verdict("A7", name, "undecided", method, detail, evidence, _KB_R)
    elif method == METHOD_EXACT:
        detail = f"{head}: asymptotically stable and entered{apt}"
        local = Verdict("A7", name, "holds", method, detail, evidence, _KB_R)
    else:  # θ* is a numerically found rest point: evidence, no test (weak)
        detail = (
            f"{head}: asymptotically stable and entered, at a rest point found numerically "
            f"(weak: no test){apt}"
        )
        local = leaning("A7", name, "holds", "weak", method, detail, evidence, _KB_R)
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.abs(theta_star).max()))
    misses, stalled = [], 0
    for _ in range(n_starts):
        start = rng.normal(scale=scale, size=last.theta.shape)
        end, _, arrived = _flow_to_rest(
            setting.field, start, tol=near, t_max=t_max, target=theta_star
        )
        if arrived:
            misses.append(_quotient_distance(end, theta_star))
            continue
        rest, _, at_rest = _flow_to_rest(setting.field, end, tol=tol, t_max=t_max)
        if at_rest:  # a different rest point: θ* is not the unique global attractor
            misses.append(_quotient_distance(rest, theta_star))
        else:
            stalled += 1
    evidence_g = {
        **evidence,
        "starts": float(n_starts),
        "stalled": float(stalled),
        "global_max_miss": max(misses) if misses else _NEVER,
    }
    starts = f"the ODE from {n_starts} random logits N(0, {scale:.3g}²)"
    if (local.status, local.lean) not in (("holds", None), ("undecided", "holds")) or not n_starts:
        detail = f"{local.detail}; global stability not established"
        global_verdict = Verdict(
            "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    elif misses and max(misses) > near:
        detail = (
            f"{head}; but {starts} comes to rest {max(misses):.3g} away from θ*: another "
            "equilibrium, so θ* is not the unique global attractor (evidence from numerical "
            "integration; weak: no test)"
        )
        global_verdict = leaning(
            "A7-global", name_g, "violated", "weak", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    elif stalled:
        detail = (
            f"{head}; {starts}: {stalled} did not come to rest by t = {t_max:g} (softmax "
            "plateaus): global attraction not established"
        )
        global_verdict = Verdict(
            "A7-global", name_g, "undecided", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    else:
        detail = (
            f"{head}; {starts} all reach θ* (within {near:.2g}): unique and globally "
            f"attracting on this sample (evidence from {n_starts} starts; weak: a finite sample "
            f"of starts, no test){apt}"
        )
        global_verdict = leaning(
            "A7-global", name_g, "holds", "weak", METHOD_ESTIMATED, detail, evidence_g, (BORKAR,)
        )
    return local, global_verdict
