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
from acconv.theory_checks.trends import (
    _growth_test,
    _trend_evidence,
    capped,
    too_little,
    trend,
)
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
    leaning,
)


def check_a1_policy(trace: RunTrace) -> Verdict:
    """A1 POL-SMOOTH: π_θ(a|s) is real-analytic in θ and ``min_{s,a} π_{θ_n}(a|s) ≥ p_min > 0``
    along the run.

    Analyticity is symbolic (tabular softmax ``exp(βθ[s,a]) / Σ_b exp(βθ[s,b])``). The lower
    bound is evidence from ``p_min(n)`` over the tail of the run (second half of its decades),
    judged by the stated trend test of :mod:`~acconv.theory_checks.trends` (Theil–Sen slope of
    log p_min per e-fold of n, one-sided Mann–Kendall; ≥ 10 points over ≥ 1 decade):

    * leans ``violated`` when log p_min falls significantly, by more than 0.1 per e-fold of n,
      without levelling off (late slope ≤ 1/2 early slope) and p_min halved over the window —
      the greedy limit of THEORY.md §1.2 — with strength from ``p_fall``;
    * leans ``holds`` when the slow ODE's attractor is finite with min π* > 0 (exact) and the
      run ends within 1/2 of it, or when p_min changed by less than 10 % over the last decade;
      strength from ``p_rise`` (a p_min that rises is not heading to 0; flat is weak evidence).

    Source: THEORY.md §3 A1 (Borkar/K&B need it for Lipschitz fields and Lipschitz λ;
    Holzleitner et al. [R]).
    """
    name = "smooth, strictly positive policy: π_θ analytic, min π_θn(a|s) ≥ p_min > 0"
    theorems = (HOLZLEITNER,)
    forced, smooth = _policy_smoothness(trace.facts)
    if forced is not None:
        return Verdict("A1", name, forced, METHOD_SYMBOLIC, smooth, {}, theorems)
    if not has_tables(trace):
        detail = f"{smooth}; the learner sent no policy table: p_min(n) not measured"
        return leaning("A1", name, None, None, METHOD_ESTIMATED, detail, {}, theorems)
    n, p = _snapshot_values(trace, lambda s: float(s.policy.min()))
    tail = n >= _tail(trace)
    evidence: dict[str, float] = {"p_min_final": float(p[-1]) if len(p) else _NEVER}
    if len(p):
        evidence["p_min_run"] = float(p.min())
    refusal = too_little(n[tail])
    fit = trend(n[tail], np.log(np.maximum(p[tail], 1e-300))) if refusal is None else None
    if fit is None:
        detail = f"{smooth}; too few recorded points to judge p_min(n): {refusal}"
        return leaning("A1", name, None, None, METHOD_ESTIMATED, detail, evidence, theorems)
    evidence.update(_trend_evidence("log_p_min", fit))
    decade = n >= _last_decade(trace)
    last = p[decade]
    change = float(last[-1] / last[0] - 1.0) if len(last) >= 2 and last[0] > 0 else _NEVER
    evidence["p_min_change_last_decade"] = change
    falling = (
        fit.falls
        and fit.slope_log < -0.1
        and fit.late_slope <= 0.5 * fit.early_slope
        and p[tail][-1] < 0.5 * p[tail][0]
    )
    trend_text = fit.text("log p_min")
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
                f"{float(p.min()):.3g}, ending at {float(p[-1]):.3g} (evidence: {trend_text})"
            )
            strength = capped(fit.p_rise, fit)
            return leaning(
                "A1", name, "holds", strength, METHOD_ESTIMATED, detail, evidence, theorems
            )
    if falling:
        detail = (
            f"{smooth}; but p_min(n) → 0 on the run's tail: {trend_text}, no levelling off, "
            f"p_min = {p[tail][0]:.3g} → {p[tail][-1]:.3g}: the policy turns greedy, so no "
            "p_min > 0 bounds the visited set (evidence)"
        )
        strength = capped(fit.p_fall, fit)
        return leaning(
            "A1", name, "violated", strength, METHOD_ESTIMATED, detail, evidence, theorems
        )
    if kind == "infinity":
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run, but the slow ODE has no "
            "finite equilibrium (A7): if J(θ_n) → J*, p_min(n) → 0 at a state with a unique "
            "optimal action, so no p_min > 0 bound is expected; not decided on this run"
        )
        return leaning("A1", name, None, None, METHOD_ESTIMATED, detail, evidence, theorems)
    if math.isfinite(change) and change >= -0.1:
        detail = (
            f"{smooth}; p_min(n) ≥ {float(p.min()):.3g} on the run and changed by "
            f"{100 * change:+.1f} % over the last decade, not falling (evidence: {trend_text})"
        )
        strength = capped(fit.p_rise, fit)
        return leaning("A1", name, "holds", strength, METHOD_ESTIMATED, detail, evidence, theorems)
    detail = (
        f"{smooth}; p_min(n) still moves ({100 * change:+.1f} % over the last decade; "
        f"{trend_text}): cannot tell whether it stays away from 0"
    )
    return leaning("A1", name, None, None, METHOD_ESTIMATED, detail, evidence, theorems)


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
    leaves A8 without a lean.

    Evidence, never a proof (a finite run cannot show sup_n < ∞): the growth test of
    :func:`~acconv.theory_checks.trends._growth_test` on the second half of the run's decades
    (Theil–Sen slope per e-fold of n with its 90 % interval, one-sided Mann–Kendall, ≥ 10
    points over ≥ 1 decade, else no lean). Leans ``violated`` when a quantity rises
    significantly by ≥ 10 % of its level without levelling off (late slope ≥ 1/2 early) — e.g.
    ‖θ_n‖ ~ c·ln t_b(n) in the greedy limit of unregularised softmax PG (THEORY.md §1.2, §9) —
    with strength from its ``p_rise``; leans ``holds`` when both level off or fall, with the
    weaker strength of their ``p_fall`` (levelling off without a fall is weak evidence). The
    strength is at most ``moderate`` below 2 decades. The detail prints the observed norms at
    the window's first and last recorded points and the fitted slope, separately labelled.
    Source: THEORY.md §3 A8 (Borkar (A6); K&B (A7)).
    """
    name = "bounded iterates sup ‖θ_n‖ + ‖ω_n‖ < ∞"
    if not has_tables(trace):
        detail = "the learner sent no tables of its iterates (θ, ω): not measured"
        return leaning("A8", name, None, None, METHOD_ESTIMATED, detail, {}, _ALL)
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
    refusal = too_little(n[tail])
    if refusal is not None:
        detail = f"too few recorded points on the run's tail to judge a trend: {refusal}"
        return leaning("A8", name, None, None, METHOD_ESTIMATED, detail, evidence, _ALL)
    verdict_theta, fit_theta = _growth_test(n[tail], theta[tail])
    verdict_omega, fit_omega = _growth_test(n[tail], omega[tail])
    assert fit_theta is not None and fit_omega is not None  # ≥ MIN_POINTS finite norms
    evidence.update(_trend_evidence("theta", fit_theta))
    evidence.update(_trend_evidence("omega", fit_omega))
    extras = ""
    if theta_star is not None:
        extras += f"; ‖θ*_τ‖ = {float(np.linalg.norm(theta_star)):.3g} (closed form, A7)"
    if bound is not None and omega_label != "‖ω_n‖":
        extras += f"; ‖λ(θ)‖∞ ≤ {bound:.3g} for every θ (exact)"
    if kind == "infinity" and verdict_theta != "grows":
        significant = fit_theta.rises and fit_theta.growth >= 0.1 * max(abs(fit_theta.last), 1e-12)
        verdict_theta = "grows" if significant else "?"
        extras += "; the slow ODE has no finite equilibrium (A7: attractor at infinity)"
    text = f"{fit_theta.text(theta_label)}; {fit_omega.text(omega_label)}{extras}"
    if _beta_limit(_beta_of(trace.facts)) == math.inf:
        text += "; β(n) → ∞, so the effective logits β_n θ_n diverge even if θ_n does not (A9)"
    if "grows" in (verdict_theta, verdict_omega):
        grows = fit_theta if verdict_theta == "grows" else fit_omega
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
        if grows is fit_omega and verdict_theta != "grows":  # name the growing norm first
            text = f"{fit_omega.text(omega_label)}; {fit_theta.text(theta_label)}{extras}"
        detail = f"{which} {how}: {text} (evidence).{why}"
        strength = capped(grows.p_rise, grows)
        return leaning("A8", name, "violated", strength, METHOD_ESTIMATED, detail, evidence, _ALL)
    if verdict_theta == "levels" and verdict_omega == "levels" and kind != "infinity":
        detail = f"both level off or fall: {text} (evidence)"
        strength = capped(max(fit_theta.p_fall, fit_omega.p_fall), fit_theta)
        return leaning("A8", name, "holds", strength, METHOD_ESTIMATED, detail, evidence, _ALL)
    detail = f"no clear trend: {text}"
    return leaning("A8", name, None, None, METHOD_ESTIMATED, detail, evidence, _ALL)


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
    t_a(0))), the forgetting of the initial error; see the monitor), judged on the run's tail
    (the second half of its decades, n + 1 ≥ sqrt(N)) with the stated trend test of
    :mod:`~acconv.theory_checks.trends`: Theil–Sen slope of log E against ln n with its 90 %
    interval and one-sided Mann–Kendall p-values ``p_fall``/``p_rise``, from ≥ 10 points over
    ≥ 1 decade (fewer: no lean, the detail says how many are needed). A finite run is
    evidence, never a proof: the verdict is ``undecided`` and

    * leans ``violated`` when E rises significantly (strength from ``p_rise``), or when S4
      (b/a → 0) fails or a(n) does not tend to 0 — a floor the theory predicts — and E shows
      no significant trend either way (``weak``: a plateau has no test of its own);
    * leans ``holds`` when E falls significantly, or stays within ``factor``·env at ≥ 80 % of
      the window's points of an envelope that shrinks (ends below 0.8× its start) and must
      vanish (a(n) → 0 symbolically, S4 not violated), or ends below ``tolerance`` (default
      1e-3·(1 + ‖ω‖∞)); strength from ``p_fall`` (the test against "not falling");
    * has no lean otherwise.

    The tolerance is checked first: an error that ends below it leans ``holds`` even if it
    drifts up at rounding level.

    Strength is at most ``moderate`` below 2 decades. Source: Borkar 1997 / Borkar 2008
    two-timescale chapter (THEORY.md §4.1).
    """
    name = "tracking ‖ω_n - λ(θ_n)‖ → 0 within the predicted envelope"
    n, error = trace.series("track/error")
    if not len(error):
        reason = trace.mean_field_reason or "no fast equilibrium (no exact model)"
        return leaning("tracking", name, None, None, METHOD_ESTIMATED, reason, {}, _ALL)
    n_env, envelope = trace.series("track/envelope")
    window = n >= _tail(trace)
    lam_scale = 1.0 + max(float(np.abs(s.omega).max()) for s in trace.snapshots)
    tol = 1e-3 * lam_scale if tolerance is None else tolerance
    evidence: dict[str, float] = {
        "error_final": float(error[-1]),
        "error_window_start": float(error[window][0]) if window.any() else _NEVER,
        "tolerance": tol,
        "factor": factor,
    }
    refusal = too_little(n[window])
    if refusal is not None:
        detail = (
            f"E = {error[-1]:.3g} at n = {int(n[-1])}; too few recorded points on the run's "
            f"tail to judge a trend: {refusal}"
        )
        return leaning("tracking", name, None, None, METHOD_ESTIMATED, detail, evidence, _ALL)
    fit = trend(n[window], np.log(np.maximum(error[window], 1e-300)))
    assert fit is not None  # ≥ MIN_POINTS points
    evidence.update(_trend_evidence("log_error", fit))
    ratio_text = ""
    within = False
    shrinking = False
    if len(envelope):
        env = dict(zip(n_env.tolist(), envelope.tolist(), strict=True))
        pairs = [
            (e, env[k])
            for k, e in zip(n[window].tolist(), error[window], strict=True)
            if k in env and env[k] > 0
        ]
        if pairs:
            ratios = [e / v for e, v in pairs]
            within = float(np.mean(np.array(ratios) <= factor)) >= 0.8
            shrinking = pairs[-1][1] <= 0.8 * pairs[0][1]
            evidence.update(
                envelope_final=pairs[-1][1],
                envelope_window_start=pairs[0][1],
                ratio_max=max(ratios),
                ratio_median=float(np.median(ratios)),
                ratio_final=ratios[-1],
            )
            ratio_text = (
                f"; envelope {pairs[0][1]:.3g} → {pairs[-1][1]:.3g}, E/env median "
                f"{np.median(ratios):.3g}, max {max(ratios):.3g} (factor {factor:g})"
            )
    head = (
        f"E = {error[window][0]:.3g} → {error[-1]:.3g} at n = {int(n[window][0])} → "
        f"{int(n[-1])} (observed, {fit.n_points} points over {fit.decades:.2g} decades); "
        f"log E: {fit.fitted()}{ratio_text}"
    )
    critic_form = _form_or_none(trace.facts.critic_lr)
    vanishing = critic_form is not None and critic_form.limit_class == "zero"
    no_decay = critic_form is not None and critic_form.limit_class in ("constant", "infinite")
    floor = s4 == "violated" or no_decay
    holds = capped(fit.p_fall, fit)
    if error[-1] <= tol:
        detail = f"{head}: below the tolerance {tol:.3g} at the last point"
        return leaning("tracking", name, "holds", holds, METHOD_ESTIMATED, detail, evidence, _ALL)
    if fit.rises:
        detail = f"{head}: the error rises significantly — the critic does not track λ(θ_n)"
        strength = capped(fit.p_rise, fit)
        return leaning(
            "tracking", name, "violated", strength, METHOD_ESTIMATED, detail, evidence, _ALL
        )
    if fit.falls:
        caveat = (
            "; S4 fails (b/a does not tend to 0), so the theorem's route to E → 0 is not open, "
            "but the error keeps falling"
            if s4 == "violated"
            else ""
        )
        detail = f"{head}: the error falls significantly on the window{caveat}"
        return leaning("tracking", name, "holds", holds, METHOD_ESTIMATED, detail, evidence, _ALL)
    if within and shrinking and vanishing and s4 != "violated":
        detail = f"{head}: within a shrinking, vanishing envelope, no significant fall"
        return leaning("tracking", name, "holds", holds, METHOD_ESTIMATED, detail, evidence, _ALL)
    if floor:
        why = (
            "a(n) does not tend to 0: the noise floor sqrt(a·tr Σ) stays"
            if no_decay
            else "S4 fails (b/a does not tend to 0): the lag floor need not vanish"
        )
        detail = (
            f"{head}: {why}, and the error shows no significant trend (weak: a plateau has "
            "no test of its own)"
        )
        return leaning(
            "tracking", name, "violated", "weak", METHOD_ESTIMATED, detail, evidence, _ALL
        )
    if not len(envelope):
        why = "no envelope to compare with (no exact mean field)"
    elif not within:
        why = "the error leaves the envelope"
    elif not vanishing:
        why = "within the envelope, but a(n) → 0 is not established"
    else:
        why = "the envelope does not shrink"
    detail = f"{head}: {why}, and the error shows no significant trend"
    return leaning("tracking", name, None, None, METHOD_ESTIMATED, detail, evidence, _ALL)
