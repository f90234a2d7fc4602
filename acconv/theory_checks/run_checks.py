"""Checks on what the iterates did along a run: A1 (a strictly positive policy), A8 (bounded
iterates), A12 (RUDDER's return model at its equilibrium) and tracking (‖ω_n - λ(θ_n)‖ → 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acconv.exact import (
    ending_steps,
    expected_visits,
)
from acconv.mdp import FiniteMDP
from acconv.policies import centred, softmax_policy
from acconv.schedules import ScheduleError, as_schedule
from acconv.theory_checks.asymptotics import asymptotic_form
from acconv.theory_checks.mean_fields import _attractor, _live, _slow_setting
from acconv.theory_checks.setting_checks import _beta_limit, _beta_of, _policy_smoothness
from acconv.theory_checks.theorems import (
    HOLZLEITNER,
)
from acconv.theory_checks.trace import (
    _ALL,
    _NEVER,
    BoolArray,
    FloatArray,
    RunTrace,
    _last_decade,
    _snapshot_values,
    _tail,
    has_tables,
)
from acconv.theory_checks.trends import Trend, _growth_test, _trend_evidence, trend
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
)


def check_a1_policy(trace: RunTrace) -> Verdict:
    """A1 POL-SMOOTH: π_θ(a|s) is real-analytic in θ and ``min_{s,a} π_{θ_n}(a|s) ≥ p_min > 0``
    along the run.

    Analyticity is symbolic (tabular softmax ``exp(βθ[s,a]) / Σ_b exp(βθ[s,b])``). The lower
    bound is estimated from ``p_min(n)`` over the tail of the run (second half of its decades):
    ``violated`` when ``log p_min`` keeps falling (slope < -0.1 per e-fold of n, significant,
    not levelling off, and p_min halved over the window — the greedy limit of THEORY.md §1.2);
    ``holds`` when it fell by less than 10 % over the last decade. Source: THEORY.md §3 A1
    (Borkar/K&B need it for Lipschitz fields and Lipschitz λ; Holzleitner et al. [R]).
    """
    name = "smooth, strictly positive policy: π_θ analytic, min π_θn(a|s) ≥ p_min > 0"
    theorems = (HOLZLEITNER,)
    forced, smooth = _policy_smoothness(trace.facts)
    if forced is not None:
        return Verdict("A1", name, forced, METHOD_SYMBOLIC, smooth, {}, theorems)
    if not has_tables(trace):
        detail = f"{smooth}; the learner sent no policy table: p_min(n) not measured"
        return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, {}, theorems)
    n, p = _snapshot_values(trace, lambda s: float(s.policy.min()))
    tail = n >= _tail(trace)
    evidence: dict[str, float] = {"p_min_final": float(p[-1]) if len(p) else _NEVER}
    if len(p):
        evidence["p_min_run"] = float(p.min())
    fit = trend(n[tail], np.log(np.maximum(p[tail], 1e-300))) if len(p) else None
    if fit is None:
        detail = f"{smooth}; too few recorded points to judge p_min(n)"
        return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)
    evidence.update(_trend_evidence("log_p_min", fit))
    decade = n >= _last_decade(trace)
    last = p[decade]
    change = float(last[-1] / last[0] - 1.0) if len(last) >= 2 and last[0] > 0 else _NEVER
    evidence["p_min_change_last_decade"] = change
    falling = (
        fit.slope_log < -0.1
        and fit.slope_log < -3 * fit.slope_log_se
        and fit.late_slope <= 0.5 * fit.early_slope
        and p[tail][-1] < 0.5 * p[tail][0]
    )
    kind, theta_star = _attractor(trace)
    setting = _slow_setting(trace)
    if kind == "finite" and theta_star is not None and setting is not None:
        live = _live(trace.task)
        p_star = float(softmax_policy(theta_star, setting.beta)[live].min())
        evidence["p_min_limit"] = p_star
        if p[-1] >= 0.5 * p_star and p.min() > 0:
            detail = (
                f"{smooth}; the slow ODE's attractor θ*_τ is finite (closed form, A7) and its "
                f"policy has min π*_τ(a|s) = {p_star:.3g} > 0 (exact); along the run p_min(n) ≥ "
                f"{float(p.min()):.3g}, ending at {float(p[-1]):.3g} (estimated)"
            )
            return Verdict("A1", name, "holds", METHOD_ESTIMATED, detail, evidence, theorems)
    if falling:
        detail = (
            f"{smooth}; but p_min(n) → 0: log p_min falls {fit.slope_log:.3g} per e-fold of n "
            f"on the run's tail (early {fit.early_slope:.3g}, late {fit.late_slope:.3g}; no "
            f"levelling off), p_min = {p[tail][0]:.3g} → {p[tail][-1]:.3g}: the policy turns "
            "greedy, so no p_min > 0 bounds the visited set (estimated)"
        )
        return Verdict("A1", name, "violated", METHOD_ESTIMATED, detail, evidence, theorems)
    if kind == "infinity":
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run, but the slow ODE has no "
            "finite equilibrium (A7): if J(θ_n) → J*, p_min(n) → 0 at a state with a unique "
            "optimal action, so no p_min > 0 bound is expected; not decided on this run"
        )
        return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)
    if math.isfinite(change) and change >= -0.1:
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run and changed by "
            f"{100 * change:+.1f} % over the last decade, not falling (estimated)"
        )
        return Verdict("A1", name, "holds", METHOD_ESTIMATED, detail, evidence, theorems)
    detail = (
        f"{smooth}; p_min(n) still moves ({100 * change:+.1f} % over the last decade, slope "
        f"{fit.slope_log:.3g} per e-fold): cannot tell whether it stays away from 0"
    )
    return Verdict("A1", name, "undecided", METHOD_ESTIMATED, detail, evidence, theorems)


def _value_bound(trace: RunTrace) -> float | None:
    """sup_θ ‖λ(θ)‖∞ ≤ (R_max + τ log|A|)·T_max for state-value critics (ActorCritic, PPO),
    T_max = max_π E[episode length | s_0] by value iteration on unit rewards (exact; None when
    some policy is improper or the learner is not a state-value critic)."""
    mdp = trace.task.mdp
    if mdp is None or trace.facts.fast_iterate != "value_table" or mdp.gamma < 1.0:
        return None
    live = ~mdp.terminal
    T = np.zeros(mdp.n_states)
    for _ in range(100_000):
        T_next = np.where(live, (1.0 + mdp.P @ T).max(axis=1), 0.0)
        if np.max(np.abs(T_next - T)) <= 1e-9 * (1.0 + T_next.max()):
            T = T_next
            break
        T = T_next
        if T.max() > 1e9:
            return None
    else:
        return None
    r_max = float(np.abs(mdp.R).max())
    if mdp.R_next is not None:
        r_max = max(r_max, float(np.abs(mdp.R_next).max()))
    tau = trace.facts.soft_critic_tau
    return (r_max + tau * math.log(mdp.n_actions)) * float(T.max())


def check_a8_bounded(trace: RunTrace) -> Verdict:
    """A8 BND: sup_n ‖θ_n‖ < ∞ and sup_n ‖ω_n‖ < ∞ (θ centred per state: the quotient norm).

    ω: the fast iterate is bounded iff its tracking error is, because λ(θ) is bounded for every θ
    (state-value critics: ‖λ‖∞ ≤ (R_max + τ log|A|)·max_π E[T], exact); the growth test below
    runs on ‖ω_n - λ(θ_n)‖ (on ‖ω_n‖ without an exact λ).

    θ: when the slow ODE has a finite attractor θ* in closed form (entropy-regularised
    ActorCritic), growth of ‖θ_n‖ is an approach to it and the test runs on ‖θ_n - θ*‖. When
    it has no finite equilibrium (A7: attractor at infinity), bounded iterates could not
    converge, so any significant growth counts (no levelling-off requirement) and no growth
    leaves A8 undecided, never ``holds``.

    Growth test (estimated) on the second half of the run's decades (:class:`Trend`, fits
    against ln n and n): ``violated`` when a quantity rises significantly (slope per e-fold of
    n > 3 standard errors), by at least 10 % of its level, without levelling off (late slope
    ≥ 1/2 early slope) — e.g. ‖θ_n‖ ~ c·ln t_b(n) in the greedy limit of unregularised softmax
    PG (THEORY.md §1.2, §9); ``holds`` when all level off or fall; ``undecided`` otherwise.
    Source: THEORY.md §3 A8 (Borkar (A6); K&B (A7)).
    """
    name = "bounded iterates sup ‖θ_n‖ + ‖ω_n‖ < ∞"
    if not has_tables(trace):
        detail = "the learner sent no tables of its iterates (θ, ω): not measured"
        return Verdict("A8", name, "undecided", METHOD_ESTIMATED, detail, {}, _ALL)
    kind, theta_star = _attractor(trace)
    if theta_star is not None:
        live = _live(trace.task)
        n, theta = _snapshot_values(
            trace, lambda s: float(np.linalg.norm(centred(s.theta)[live] - theta_star[live]))
        )
        theta_label = "‖θ_n - θ*_τ‖"
    else:
        n, theta = _snapshot_values(trace, lambda s: float(np.linalg.norm(centred(s.theta))))
        theta_label = "‖θ_n‖"
    _, error = trace.series("track/error")
    if len(error) == len(trace.snapshots) and len(error):
        omega, omega_label = error, "‖ω_n - λ(θ_n)‖"
    else:
        _, omega = _snapshot_values(trace, lambda s: float(np.linalg.norm(s.omega)))
        omega_label = "‖ω_n‖"
    tail = n >= _tail(trace)
    verdict_theta, fit_theta = _growth_test(n[tail], theta[tail])
    verdict_omega, fit_omega = _growth_test(n[tail], omega[tail])
    bound = _value_bound(trace)
    evidence: dict[str, float] = {}
    if len(theta):
        raw = [float(np.linalg.norm(centred(s.theta))) for s in trace.snapshots]
        evidence.update(
            theta_norm_max=max(raw),
            omega_norm_max=max(float(np.linalg.norm(s.omega)) for s in trace.snapshots),
        )
    if bound is not None:
        evidence["lambda_bound"] = bound
    if theta_star is not None:
        evidence["theta_star_norm"] = float(np.linalg.norm(theta_star))
    if fit_theta is not None:
        evidence.update(_trend_evidence("theta", fit_theta))
    if fit_omega is not None:
        evidence.update(_trend_evidence("omega", fit_omega))
    window = f"n ∈ [{int(n[tail][0])}, {int(n[tail][-1])}]" if tail.any() else "the run's tail"

    def describe(label: str, fit: Trend | None) -> str:
        if fit is None:
            return f"{label}: too few points"
        return (
            f"{label} {fit.start:.3g} → {fit.end:.3g} on {window}, {fit.slope_log:+.3g} per "
            f"e-fold of n (± {fit.slope_log_se:.2g}, R² {fit.r2_log:.2f}; vs n: "
            f"{fit.slope_lin:+.3g}/update, R² {fit.r2_lin:.2f}), early {fit.early_slope:+.3g} "
            f"late {fit.late_slope:+.3g}"
        )

    text = f"{describe(theta_label, fit_theta)}; {describe(omega_label, fit_omega)}"
    if theta_star is not None:
        text += f"; ‖θ*_τ‖ = {float(np.linalg.norm(theta_star)):.3g} (closed form, A7)"
    if bound is not None and omega_label != "‖ω_n‖":
        text += f"; ‖λ(θ)‖∞ ≤ {bound:.3g} for every θ (exact)"
    if kind == "infinity" and fit_theta is not None and verdict_theta != "grows":
        significant = (
            fit_theta.slope_log > 3 * fit_theta.slope_log_se
            and fit_theta.growth >= 0.1 * max(abs(fit_theta.end), 1e-12)
        )
        verdict_theta = "grows" if significant else "?"
        text += "; the slow ODE has no finite equilibrium (A7: attractor at infinity)"
    if _beta_limit(_beta_of(trace.facts)) == math.inf:
        text += "; β(n) → ∞, so the effective logits β_n θ_n diverge even if θ_n does not (A9)"
    if "grows" in (verdict_theta, verdict_omega):
        which = theta_label if verdict_theta == "grows" else omega_label
        why = (
            " An unbounded actor while the value converges is the greedy limit of "
            "unregularised softmax (THEORY.md §1.2, §9): an expected, explained outcome, but "
            "outside the theorems' hypotheses."
            if verdict_theta == "grows" and kind == "infinity"
            else ""
        )
        how = (
            "grows significantly while the slow ODE has no finite equilibrium"
            if verdict_theta == "grows" and kind == "infinity"
            else "grows without levelling off"
        )
        detail = f"{which} {how}: {text} (estimated).{why}"
        return Verdict("A8", name, "violated", METHOD_ESTIMATED, detail, evidence, _ALL)
    if verdict_theta == "levels" and verdict_omega == "levels" and kind != "infinity":
        detail = f"both level off or fall: {text} (estimated)"
        return Verdict("A8", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    detail = f"no clear trend: {text}"
    return Verdict("A8", name, "undecided", METHOD_ESTIMATED, detail, evidence, _ALL)


def _rudder_errors(
    mdp: FiniteMDP, pi: FloatArray, omega: FloatArray, visited: BoolArray
) -> tuple[float, float]:
    """At the return model ω (tabular, g_t = Σ_{k<t} r_{k+1} + ω[s_t, a_t]):

    * RMS return-equivalence error sqrt(E[(G_0 - g_{T-1})²]) = sqrt(E[(r_T - ω[s_{T-1},
      a_{T-1}])²]) over the ending step (residual "none");
    * max over visited pairs of |E[Σ_{k>t} r̃_{k+1} | s_t, a_t]| = |f - ω| with
      f = p_end ω + Σ_{s' live} P (r + π f), the expected last prediction.
    """
    S, A = mdp.n_states, mdp.n_actions
    live = ~mdp.terminal
    r_next = mdp.R_next if mdp.R_next is not None else np.repeat(mdp.R[:, :, None], S, axis=2)
    ends = mdp.P * mdp.terminal[None, None, :]
    noise = np.zeros((S, A)) if mdp.R_noise is None else mdp.R_noise**2
    square = np.einsum("sat,sat->sa", ends, (r_next - omega[:, :, None]) ** 2)
    square = square + ends.sum(axis=2) * noise
    weight = expected_visits(mdp, pi)[:, None] * pi
    rms = math.sqrt(max(float(np.sum(np.where(live[:, None], weight * square, 0.0))), 0.0))
    p_end, _ = ending_steps(mdp)
    goes_on = mdp.P * live[None, None, :]
    c = p_end * omega + np.einsum("sat,sat->sa", goes_on, r_next)
    M = np.einsum("sat,tb->satb", goes_on, pi).reshape(S * A, S * A)
    pairs = np.repeat(live, A)
    f = np.zeros(S * A)
    system = np.eye(int(pairs.sum())) - M[np.ix_(pairs, pairs)]
    f[pairs] = np.linalg.solve(system, c.ravel()[pairs])
    error = np.abs(f.reshape(S, A) - omega)
    martingale = float(error[visited].max()) if visited.any() else 0.0
    return rms, martingale


def check_a12_rudder(trace: RunTrace) -> Verdict:
    """A12 RUDDER-ID: the return model's equilibrium λ(θ) is unique on the visited pairs
    (J_ω Hurwitz there: κ > 0) and is E[G_0 | τ_{0:t}] (future-reward martingale error
    max |E[Σ_{k>t} r̃_{k+1} | τ_{0:t}]| = 0 at λ(θ)), at the last iterate; the RMS
    return-equivalence error sqrt(E[(Σ_t r̃_{t+1} - G_0)²]) at λ(θ) (residual "none") is
    reported. Exact (linear solves on the pairs). Source: THEORY.md §3 A12 [D], RUDDER.md §1.
    """
    name = "RUDDER: return-model equilibrium unique on visited pairs and = E[G_0 | prefix]"
    theorems = (HOLZLEITNER,)
    if trace.facts.return_model == "lstm":
        detail = "an LSTM return model has no exact equilibrium: identifiability is not checked"
        return Verdict("A12", name, "undecided", METHOD_EXACT, detail, {}, theorems)
    if trace.facts.return_model == "none":
        return Verdict(
            "A12",
            name,
            "not_applicable",
            METHOD_EXACT,
            f"{trace.learner} has no return decomposition",
            {},
            theorems,
        )
    mdp, fe = trace.task.mdp, trace.fast_equilibrium
    if mdp is None or fe is None or not trace.snapshots:
        return Verdict("A12", name, "undecided", METHOD_EXACT, "no exact model", {}, theorems)
    last = trace.snapshots[-1]
    lam, visited = fe(last.theta, last.n + 1)
    pi = softmax_policy(last.theta, float(last.beta_n))
    rms, martingale = _rudder_errors(mdp, pi, lam, visited)
    kappa = last.metrics.get("track/kappa", _NEVER)
    evidence = {
        "return_equivalence_rms": rms,
        "martingale_error_max": martingale,
        "kappa": kappa,
        "visited_pairs": float(visited.sum()),
    }
    scale = 1e-8 * (1.0 + float(np.abs(lam).max()))
    unique = (
        f"unique on the {int(visited.sum())} visited pairs (κ = {kappa:.3g} > 0)"
        if math.isfinite(kappa) and kappa > 0
        else "uniqueness not checked (no κ)"
    )
    detail = (
        f"{unique}; at λ(θ): future-reward martingale error {martingale:.3g}, RMS "
        f"return-equivalence error {rms:.3g} (residual 'none'; 'uniform'/'terminal' make it 0)"
    )
    if martingale > scale:
        detail += (
            ": λ(θ) is not E[G_0 | prefix] — episodes end at random after some pairs, so the "
            "main loss conditions on the future (RUDDER.md §6.5)"
        )
        return Verdict("A12", name, "violated", METHOD_EXACT, detail, evidence, theorems)
    if not (math.isfinite(kappa) and kappa > 0):
        return Verdict("A12", name, "undecided", METHOD_EXACT, detail, evidence, theorems)
    return Verdict("A12", name, "holds", METHOD_EXACT, detail, evidence, theorems)


def _form_or_none(schedule: Any) -> Any:
    try:
        return asymptotic_form(as_schedule(schedule))
    except (ScheduleError, TypeError):
        return None


def check_tracking(
    trace: RunTrace,
    *,
    factor: float = 3.0,
    tolerance: float | None = None,
    s4: Status | None = None,
) -> Verdict:
    """Borkar's tracking lemma ‖ω_n - λ(θ_n)‖ → 0, against the envelope of THEORY.md §4.5.

    With E(n) the tracking error and env(n) = noise(n) + lag(n) + transient(n) its predicted
    size (noise ≈ sqrt(a(n)·tr Σ), Σ the stationary covariance of the linearised fast
    recursion; lag ≈ (b(n)·‖Dλ F‖ + ‖Δ_β λ‖)/(a(n)·κ); transient ≈ E(0)·exp(-κ_min·(t_a(n) -
    t_a(0))), the forgetting of the initial error; see the monitor), over the last decade of
    recorded updates (n + 1 ≥ N/10):

    * ``holds`` when E(n) ≤ ``factor``·env(n) at ≥ 80 % of those points (E is one draw of a
      random vector whose mean square env estimates), the envelope shrinks over the decade (it
      ends below 0.8× its start) and must vanish (a(n) → 0 symbolically, and S4 not violated):
      the error follows a vanishing envelope; or when the final error is below ``tolerance``
      (default 1e-3·(1 + ‖ω‖∞));
    * ``violated`` when S4 (b/a → 0) fails and the error does not decrease over the decade
      (fitted slope of log E against log n ≥ -0.1: a plateau or growth) while above the
      tolerance;
    * ``undecided`` otherwise (e.g. the error sits inside an envelope that does not vanish, or
      outside a shrinking one while S4 holds).

    Estimated. Source: Borkar 1997 / Borkar 2008 two-timescale chapter (THEORY.md §4.1).
    """
    name = "tracking ‖ω_n - λ(θ_n)‖ → 0 within the predicted envelope"
    n, error = trace.series("track/error")
    if not len(error):
        reason = trace.mean_field_reason or "no fast equilibrium (no exact model)"
        return Verdict("tracking", name, "undecided", METHOD_ESTIMATED, reason, {}, _ALL)
    n_env, envelope = trace.series("track/envelope")
    decade = n >= _last_decade(trace)
    lam_scale = 1.0 + max(float(np.abs(s.omega).max()) for s in trace.snapshots)
    tol = 1e-3 * lam_scale if tolerance is None else tolerance
    evidence: dict[str, float] = {
        "error_final": float(error[-1]),
        "error_last_decade_start": float(error[decade][0]),
        "tolerance": tol,
        "factor": factor,
    }
    fit = None
    if decade.sum() >= 3 and (error[decade] > 0).all():
        slope = np.polyfit(np.log(n[decade] + 1.0), np.log(error[decade]), 1)[0]
        fit = float(slope)
        evidence["error_loglog_slope"] = fit
    ratio_text = ""
    within = False
    shrinking = False
    if len(envelope):
        env = dict(zip(n_env.tolist(), envelope.tolist(), strict=True))
        pairs = [
            (e, env[k])
            for k, e in zip(n[decade].tolist(), error[decade], strict=True)
            if k in env and env[k] > 0
        ]
        if pairs:
            ratios = [e / v for e, v in pairs]
            within = float(np.mean(np.array(ratios) <= factor)) >= 0.8
            shrinking = pairs[-1][1] <= 0.8 * pairs[0][1]
            evidence.update(
                envelope_final=pairs[-1][1],
                envelope_last_decade_start=pairs[0][1],
                ratio_max=max(ratios),
                ratio_median=float(np.median(ratios)),
                ratio_final=ratios[-1],
            )
            ratio_text = (
                f"; envelope {pairs[0][1]:.3g} → {pairs[-1][1]:.3g}, E/env median "
                f"{np.median(ratios):.3g}, max {max(ratios):.3g} (factor {factor:g})"
            )
    head = (
        f"E = {error[decade][0]:.3g} → {error[-1]:.3g} over the last decade (n ≥ "
        f"{int(n[decade][0])})"
        + (f", log-log slope {fit:.3g}" if fit is not None else "")
        + ratio_text
    )
    if error[-1] <= tol:
        detail = f"{head}: below the tolerance {tol:.3g} (estimated)"
        return Verdict("tracking", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    critic_form = _form_or_none(trace.facts.critic_lr)
    vanishing = critic_form is not None and critic_form.limit_class == "zero"
    if within and shrinking and vanishing and s4 != "violated":
        detail = f"{head}: within a shrinking envelope (estimated)"
        return Verdict("tracking", name, "holds", METHOD_ESTIMATED, detail, evidence, _ALL)
    if s4 == "violated" and fit is not None and fit >= -0.1:
        detail = (
            f"{head}: S4 fails (b/a does not tend to 0) and the error does not decrease — "
            "the critic does not track λ(θ_n) (estimated)"
        )
        return Verdict("tracking", name, "violated", METHOD_ESTIMATED, detail, evidence, _ALL)
    if not within:
        why = "the error leaves the envelope"
    elif not vanishing:
        why = "within the envelope, but a(n) does not tend to 0, so the noise floor stays"
    elif s4 == "violated":
        why = "within the envelope, but b/a does not tend to 0, so the lag floor need not vanish"
    else:
        why = "the envelope does not shrink"
    detail = f"{head}: {why}; not decided"
    return Verdict("tracking", name, "undecided", METHOD_ESTIMATED, detail, evidence, _ALL)
