"""Checks decided from the learner's facts and the configuration alone: A0 (the MDP), A2 (step
sizes), A5 (how episodes are drawn), A9 (β(n)), A10 (analytic losses), A11 (PPO's old policy),
and the network, optimiser and PPO-diagnostic verdicts (:func:`learner_verdicts`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from acconv.exact import (
    expected_visits,
    improper_states,
    visited_states,
)
from acconv.facts import EpisodeSource, LearnerFacts
from acconv.mdp import FiniteMDP
from acconv.schedules import Schedule, ScheduleError, as_schedule
from acconv.theory_checks.asymptotics import asymptotic_form
from acconv.theory_checks.diagnostics import ppo_diagnostic_verdicts, series_of
from acconv.theory_checks.learner_steps import optimizer_verdict
from acconv.theory_checks.step_sizes import StepSizeReport, check_step_sizes
from acconv.theory_checks.theorems import (
    HOLZLEITNER,
)
from acconv.theory_checks.trace import _ALL, _NEVER, FloatArray, RunTrace, _last_decade
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
)


def check_a0_finite_mdp(mdp: FiniteMDP | None, policies: Sequence[FloatArray] = ()) -> Verdict:
    """A0 MDP-FIN: |S|, |A| finite, |r| ≤ R_max, and episodes end: for every policy ``π`` in
    ``policies`` (the run's; uniform when none), every live state that ``ρ`` reaches under
    ``π`` ends its episodes with probability 1, i.e. ``I - P_π`` is invertible on the states
    the run can visit (exact).

    Judged by graph search on the support of ``P_π``: :func:`acconv.exact.visited_states`
    (reachable from ``supp(ρ)``) against :func:`acconv.exact.improper_states` (states from
    which a state that cannot reach a terminal one is reachable). Live states from which
    episodes would not end but which ``ρ`` cannot reach under the run's policies are never
    sampled: they are reported, not held against A0.

    Source: THEORY.md §3 A0 (Holzleitner et al. [R]: "episodic samples"; finite trajectory
    space makes every expectation a finite sum). A discounted MDP without terminal states has
    no episode end: its sampled episodes are truncated, so A0 is undecided there (use
    :func:`acconv.mdp.discount_as_termination`).
    """
    name = "finite episodic MDP with bounded rewards; episodes end (I - P_π invertible)"
    theorems = (HOLZLEITNER,)
    if mdp is None:
        return Verdict("A0", name, "undecided", METHOD_EXACT, "no exact model", {}, theorems)
    rewards = [np.abs(mdp.R).max()]
    if mdp.R_next is not None:
        rewards.append(np.abs(mdp.R_next).max())
    if mdp.R_noise is not None:
        rewards.append(np.abs(mdp.R).max() + np.abs(mdp.R_noise).max())
    r_max = float(max(rewards))
    evidence = {"n_states": mdp.n_states, "n_actions": mdp.n_actions, "r_max": r_max}
    if not mdp.terminal.any() and mdp.horizon is None:
        detail = (
            f"|S| = {mdp.n_states}, |A| = {mdp.n_actions}, |r| ≤ {r_max:.3g}, but no terminal "
            f"state and no horizon: episodes of the discounted (γ = {mdp.gamma}) MDP never end, "
            "so sampled episodes are truncated; use discount_as_termination(mdp)"
        )
        return Verdict("A0", name, "undecided", METHOD_EXACT, detail, evidence, theorems)
    checked = list(policies) or [np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)]
    lengths = []
    unreached = np.zeros(mdp.n_states, dtype=bool)  # improper, but never reached from ρ
    for k, pi in enumerate(checked):
        improper = improper_states(mdp, pi)
        visited = visited_states(mdp, pi)
        stuck = np.flatnonzero(improper & visited)
        if stuck.size:
            detail = (
                f"policy {k} of {len(checked)} is improper: from state {_label(mdp, stuck[0])}, "
                f"which ρ reaches, some episodes never end ({stuck.size} such reachable "
                "states; exact graph search on the support of P_π)"
            )
            evidence["improper_reachable_states"] = float(stuck.size)
            return Verdict("A0", name, "violated", METHOD_EXACT, detail, evidence, theorems)
        unreached |= improper & ~visited
        try:
            lengths.append(float(expected_visits(mdp, pi).sum()))
        except ValueError as error:
            detail = f"policy {k} of {len(checked)}: {error}"
            return Verdict("A0", name, "violated", METHOD_EXACT, detail, evidence, theorems)
    evidence.update(
        policies_checked=len(checked),
        max_expected_length=max(lengths),
        unreachable_improper_states=float(unreached.sum()),
    )
    detail = (
        f"|S| = {mdp.n_states}, |A| = {mdp.n_actions}, |r| ≤ {r_max:.3g}; I - P_π is "
        f"invertible on the states ρ reaches for all {len(checked)} policies checked (the "
        f"run's policies at its log-spaced updates): episodes end w.p. 1, expected length ≤ "
        f"{max(lengths):.3g} decisions"
    )
    if unreached.any():
        first = _label(mdp, np.flatnonzero(unreached)[0])
        detail += (
            f"; {int(unreached.sum())} live state(s) (first {first}) from which episodes would "
            "not end are unreachable from ρ under these policies and were not judged"
        )
    if mdp.horizon is None:
        detail += " (lengths are unbounded, geometric tails: the trajectory space is countable)"
    return Verdict("A0", name, "holds", METHOD_EXACT, detail, evidence, theorems)


def _label(mdp: FiniteMDP, s: int) -> str:
    """``3`` or ``3 ('hole')`` when the MDP names its states."""
    s = int(s)
    return f"{s} ({mdp.state_labels[s]!r})" if mdp.state_labels else str(s)


ANALYTIC_ACTIVATIONS: Final = ("tanh", "softplus", "silu", "gelu")
"""Activations whose networks (with a softmax head) are real-analytic in their parameters."""


def _beta_of(facts: LearnerFacts) -> Schedule | float:
    """The policy's β(n) (1 when the learner states none)."""
    return facts.beta if facts.beta is not None else 1.0


def _beta_text(facts: LearnerFacts) -> Any:
    return facts.config.get("beta", facts.beta.text if facts.beta is not None else None)


def _policy_smoothness(facts: LearnerFacts) -> tuple[Status | None, str]:
    """How smooth π_θ is in θ, by the policy's form: ``(status if decided by it alone, text)``.

    Tabular softmax and the softmax of an MLP with an analytic activation are real-analytic
    (the p_min part of A1 then decides); ReLU networks are not C¹ (A1 violated); ELU networks
    are C¹ with a Lipschitz gradient but not analytic; other policies are not inspected.
    """
    if facts.policy == "tabular_softmax":
        return None, "tabular softmax π = softmax(β_n θ) is real-analytic in θ (symbolic)"
    activation = facts.activation if facts.policy == "network_softmax" else None
    if activation in ANALYTIC_ACTIVATIONS:
        return None, (
            f"softmax of an MLP with {activation} units is real-analytic in its parameters "
            "(symbolic); θ is the network's log-policy table"
        )
    if activation == "relu":
        return "violated", "a ReLU network is not C¹ in its parameters: π_θ is not smooth"
    if activation == "elu":
        return "undecided", (
            "an ELU network is C¹ with a Lipschitz gradient but not analytic: the smoothness "
            "A1 asks for is not decided"
        )
    return "undecided", f"policy class of {facts.name!r} unknown: analyticity not checked"


_STATUS_CODE: Final[Mapping[str, float]] = {
    "holds": 1.0,
    "violated": 0.0,
    "undecided": _NEVER,
    "not_applicable": -1.0,
}


def check_a2_step_sizes(
    critic_lr: Schedule | str | float,
    actor_lr: Schedule | str | float,
    *,
    report: StepSizeReport | None = None,
    sympy_timeout: float | None = 10.0,
) -> Verdict:
    """A2 STEP: S1-S5 (Σa = Σb = ∞, Σa² + Σb² < ∞, b/a → 0, non-increasing) as one verdict,
    from :func:`~acconv.theory_checks.step_sizes.check_step_sizes` (symbolic; a numeric
    estimate only for schedules without an asymptotic form).

    Evidence codes each condition S1-S7 as 1 (holds), 0 (violated), nan (undecided), -1 (not
    applicable). Source: THEORY.md §3 A2 and §7 (Borkar 1997 S1-S4; K&B 2018 adds S5).
    """
    report = report or check_step_sizes(
        as_schedule(critic_lr), as_schedule(actor_lr), sympy_timeout=sympy_timeout
    )
    core = [report[c] for c in ("S1", "S2", "S3", "S4", "S5")]
    failing = [v for v in core if v.status != "holds"]
    methods = {v.method for v in core}
    method = METHOD_ESTIMATED if any("numeric" in m for m in methods) else METHOD_SYMBOLIC
    evidence = {v.id: _STATUS_CODE[v.status] for v in report.conditions}
    head = f"a(n) = {report.critic.text}, b(n) = {report.actor.text}"
    if not failing:
        detail = f"{head}: S1-S5 hold ({'; '.join(v.detail for v in core[3:4])})"
    else:
        detail = f"{head}: " + "; ".join(f"{v.id} {v.status}: {v.detail}" for v in failing)
    optional = ", ".join(f"{c} {report[c].status}" for c in ("S6", "S7"))
    detail += f" [optional: {optional}]"
    return Verdict("A2", "step sizes S1-S5", report.two_timescale, method, detail, evidence, _ALL)


def _network_lipschitz(facts: LearnerFacts) -> Verdict:
    """A3 for a network policy, from its activation: ReLU networks are not C¹, so the gradient
    fields are not Lipschitz (the TTUR appendix: ELU-type activations satisfy the assumption,
    ReLU does not) — violated; smooth activations leave it undecided (Lipschitz on a bounded
    parameter region only, which A8 must then supply)."""
    smooth = facts.activation != "relu"
    detail = (
        f"{facts.activation} is C¹: the fields are Lipschitz on bounded parameter sets only"
        if smooth
        else "ReLU networks are not C¹: the policy-gradient field is not Lipschitz"
    )
    if any("clip" in kink for kink in facts.kinks):
        detail += "; the clip objective is only piecewise smooth"
    status: Status = "undecided" if smooth else "violated"
    name = "Lipschitz mean fields (network)"
    return Verdict("A3", name, status, METHOD_SYMBOLIC, detail, {}, (HOLZLEITNER,))


def check_a5_episodes(source: EpisodeSource = "MDPSampler") -> Verdict:
    """A5 CMN: the noise process. With whole episodes drawn i.i.d. given (θ_n, β_n) — what
    :func:`acconv.loop.train` does with an :class:`~acconv.sampling.MDPSampler` (and with an
    environment it resets for every episode) — the controlled Markov noise is trivial: its
    kernel ignores the previous episode, the ergodic occupation measure is unique (P_θ) and
    K&B's differential inclusion is an ODE [D]. A replay or lesson buffer makes the noise
    genuinely Markov: only K&B-type results could apply and their kernel conditions are not
    checked here. Source: THEORY.md §3 A5 (K&B 2018 (A1), (A5); Borkar 1997 needs martingale
    noise, i.e. the i.i.d. case).
    """
    name = "episodes sampled whole and i.i.d. given the iterates (controlled Markov noise)"
    if source == "rollout":
        detail = (
            "T-step rollouts that continue episodes across updates (neural PPO, as in SB3): "
            "the episode in flight at an update was started by earlier policies, so the noise "
            "is Markov; K&B's kernel continuity/ergodicity are not checked"
        )
        return Verdict("A5", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    if source == "replay":
        detail = (
            "a replay/lesson buffer: the noise is Markov, not a martingale difference; "
            "Borkar's form fails and K&B's kernel continuity/ergodicity are not checked"
        )
        return Verdict("A5", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    if source not in ("MDPSampler", "environment"):
        detail = f"experience drawn as {source!r}: how is not visible to acconv; not checked"
        return Verdict("A5", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    where = "MDPSampler" if source == "MDPSampler" else "fresh environment resets"
    detail = (
        f"holds by construction: each update draws fresh whole episodes i.i.d. from π_n "
        f"({where}); the occupation measure is unique, so the K&B inclusion is an ODE"
    )
    return Verdict("A5", name, "holds", METHOD_SYMBOLIC, detail, {}, _ALL)


def _beta_limit(beta: Any) -> float | None:
    """lim β(n) from the asymptotic form (inf if β → ∞; None if unknown or only bounded)."""
    try:
        schedule = as_schedule(beta)
    except (ScheduleError, TypeError):
        return None
    form = asymptotic_form(schedule)
    if form is None:
        return None
    kind = form.limit_class
    if kind == "infinite":
        return math.inf
    if kind == "zero":
        return 0.0
    if kind == "constant" and form.exact:
        return float(form.coefficient)
    return None


def check_a9_greediness(beta: Schedule | str | float) -> Verdict:
    """A9 GREEDY: the inverse temperature β(n) stays in a compact set and converges
    (β(n) → β_∞ < ∞), so the ODEs are those at β_∞. Symbolic, from the asymptotic form of the
    schedule (:func:`~acconv.theory_checks.asymptotics.asymptotic_form`); β(n) → ∞ is
    ``violated`` (then A1/A3/A8 fail: Lipschitz constants ∝ β, p_min → 0). Source: THEORY.md §3
    A9 (Holzleitner et al. [R]: greediness as K&B's compact-valued control).
    """
    name = "greediness β(n) bounded and convergent"
    schedule = as_schedule(beta)
    theorems = (HOLZLEITNER,)
    if schedule.is_constant:
        value = float(schedule(0))
        detail = f"β(n) = {schedule.text} is constant"
        return Verdict(
            "A9", name, "holds", METHOD_SYMBOLIC, detail, {"beta_limit": value}, theorems
        )
    form = asymptotic_form(schedule)
    limit = _beta_limit(schedule)
    if form is None or limit is None:
        detail = f"β(n) = {schedule.text}: no asymptotic form / limit derived (not decided)"
        return Verdict("A9", name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    if limit == math.inf:
        detail = (
            f"β(n) = {schedule.text}, {form.describe('β(n)')} → ∞: the policy is driven to "
            "the greedy limit, outside every compact set"
        )
        return Verdict(
            "A9", name, "violated", METHOD_SYMBOLIC, detail, {"beta_limit": limit}, theorems
        )
    detail = f"β(n) = {schedule.text}, {form.describe('β(n)')} → {limit:g}: bounded, convergent"
    return Verdict("A9", name, "holds", METHOD_SYMBOLIC, detail, {"beta_limit": limit}, theorems)


def check_a10_analytic(facts: LearnerFacts) -> Verdict:
    """A10 ANALYTIC: the losses are real-analytic (for the Absil–Kurdyka link between local
    minima and stable equilibria). Symbolic, from the learner's facts: tabular softmax with
    tabular critics (MC, TD, GAE, RUDDER's linear return model) is analytic; PPO's clip, the
    value clip and advantage normalisation are not (piecewise analytic only, ``facts.kinks``).
    A network with a softmax head is analytic with tanh, softplus, SiLU or GELU units and
    without the clip; ELU and ReLU are not. Source: THEORY.md §3 A10 (Holzleitner et al. [R]).
    """
    theorems = (HOLZLEITNER,)
    if not facts.losses_visible:
        detail = f"the losses of {facts.name!r} are not visible to acconv: analyticity not checked"
        return Verdict(
            "A10", "real-analytic losses", "undecided", METHOD_SYMBOLIC, detail, {}, theorems
        )
    if facts.policy == "network_softmax" and facts.activation is not None:
        objective = facts.config.get("objective", "?")
        clip = any("clip" in kink for kink in facts.kinks)
        analytic = facts.activation in ANALYTIC_ACTIVATIONS and not clip
        detail = f"activation {facts.activation}, objective {objective}: " + (
            "analytic" if analytic else "min/clip or a kinked activation is not analytic"
        )
        status: Status = "holds" if analytic else "violated"
        name = "real-analytic losses (network)"
        return Verdict("A10", name, status, METHOD_SYMBOLIC, detail, {}, theorems)
    name = "real-analytic losses"
    if facts.policy != "tabular_softmax":
        detail = f"op graph of {facts.name!r} not inspected"
        return Verdict("A10", name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    if facts.kinks:
        detail = f"not analytic, only piecewise analytic: {', '.join(facts.kinks)}"
        return Verdict("A10", name, "violated", METHOD_SYMBOLIC, detail, {}, theorems)
    detail = f"{facts.analytic_parts}: analytic"
    return Verdict("A10", name, "holds", METHOD_SYMBOLIC, detail, {}, theorems)


def check_a11_ppo_old(facts: LearnerFacts, trace: RunTrace | None = None) -> Verdict:
    """A11 PPO-OLD: mode (i) — one gradient step per fresh batch (θ_old = θ_n; the clipped/KL
    objective's gradient is the policy gradient) — ``holds``; mode (ii) — K·M > 1 steps per
    batch — the batch and θ_old are part of the Markov noise and A3/A6 must hold for the
    composite map: reported as ``undecided`` with the KL drift per outer iteration (mean and
    max of PPO's ``approx_kl`` diagnostic over the last decade of recorded updates). From the
    learner's facts (``old_policy``, ``gradient_steps``). Source: THEORY.md §3 A11
    (Holzleitner et al. [R]).
    """
    name = "PPO's previous policy: one step per batch (i) or K epochs as Markov noise (ii)"
    theorems = (HOLZLEITNER,)
    if facts.old_policy is None:
        detail = f"whether {facts.name} keeps an old policy θ_old is not visible to acconv"
        return Verdict("A11", name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    if not facts.old_policy:
        detail = f"{facts.name} has no old policy"
        return Verdict("A11", name, "not_applicable", METHOD_SYMBOLIC, detail, {}, theorems)
    steps = facts.gradient_steps
    evidence: dict[str, float] = {"gradient_steps": float(steps)}
    if steps == 1:
        detail = "mode (i): one gradient step per fresh batch, θ_old = θ_n (ρ = 1, ∇KL = 0)"
        return Verdict("A11", name, "holds", METHOD_SYMBOLIC, detail, evidence, theorems)
    drift = ""
    if trace is not None:
        kl = [
            s.diagnostics["approx_kl"]
            for s in trace.snapshots
            if "approx_kl" in s.diagnostics and s.n >= _last_decade(trace)
        ]
        if kl:
            evidence.update(kl_mean=float(np.mean(kl)), kl_max=float(np.max(kl)))
            drift = (
                f"; KL(π_old ‖ π_new) per outer iteration over the last decade: mean "
                f"{np.mean(kl):.3g}, max {np.max(kl):.3g}"
            )
    detail = (
        f"mode (ii): {facts.gradient_steps_text} per batch; θ_old and the batch are Markov "
        "noise, the mean field is the composite map "
        f"(A3/A6 are checked on the deterministic composite, not on the noisy one){drift}"
    )
    return Verdict("A11", name, "undecided", METHOD_SYMBOLIC, detail, evidence, theorems)


def diagnostic_verdicts(
    facts: LearnerFacts,
    diagnostics: Sequence[tuple[int, Mapping[str, float]]] = (),
    *,
    kl_target: float | None = None,
    clip_fraction_max: float = 0.2,
    window: float = 0.25,
) -> list[Verdict]:
    """For a learner that logs PPO's batch diagnostics (``facts.logs_ppo_diagnostics``), the
    ``ppo/kl``, ``ppo/clip_fraction`` and ``critic/explained_variance`` verdicts of
    ``diagnostics`` (``[(n, {key: value})]`` of every update); none otherwise. Evidence: each is
    ``undecided`` with a lean from a sign test of the median (:mod:`~acconv.theory_checks.
    diagnostics`). ``kl_target`` bounds the median ``approx_kl`` (one definition for every
    learner: the mean of the last epoch's minibatch KLs) and defaults to 1.5 × the learner's own
    target KL (SB3's early-stopping threshold), else 0.05."""
    if not facts.logs_ppo_diagnostics:
        return []
    if kl_target is None:
        kl_target = 1.5 * facts.target_kl if facts.target_kl else 0.05
    return ppo_diagnostic_verdicts(
        series_of([(n, dict(d)) for n, d in diagnostics]),
        kl_target=kl_target,
        clip_fraction_max=clip_fraction_max,
        window=window,
        source=facts.name,
    )


def learner_verdicts(
    facts: LearnerFacts,
    diagnostics: Sequence[tuple[int, Mapping[str, float]]] = (),
    **diagnostic_options: Any,
) -> list[Verdict]:
    """What the learner's facts alone decide, without a monitored run: ``A3`` and ``A10`` from
    the policy's form (for a network, from its activation and the clip), the ``optimizer``
    verdict, and :func:`diagnostic_verdicts` of ``diagnostics``."""
    if facts.policy == "network_softmax" and facts.activation is not None:
        a3 = _network_lipschitz(facts)
    else:
        name = "Lipschitz mean fields ḡ, h̄ in (θ, ω)"
        detail = f"learner {facts.name!r}: the fields need a monitored run (assumption_report)"
        a3 = Verdict("A3", name, "undecided", METHOD_SYMBOLIC, detail, {}, _ALL)
    optimizer = optimizer_verdict(facts)
    return [
        a3,
        check_a10_analytic(facts),
        *([optimizer] if optimizer is not None else []),
        *diagnostic_verdicts(facts, diagnostics, **diagnostic_options),
    ]
