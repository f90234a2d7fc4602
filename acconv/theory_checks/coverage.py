"""The report of a run: every verdict of the catalogue A0–A12, tracking, the optimiser and PPO's
diagnostics, and which theorem's hypotheses are fully met (never more than was checked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from acconv.facts import EpisodeSource
from acconv.theory_checks.field_checks import (
    check_a3_lipschitz,
    check_a4_noise,
    check_a6_fast,
    check_a6_prime_domain,
    check_a7_slow,
)
from acconv.theory_checks.learner_steps import SharedStepSizes, optimizer_verdict, step_sizes_of
from acconv.theory_checks.run_checks import (
    check_a1_policy,
    check_a8_bounded,
    check_a12_rudder,
    check_tracking,
)
from acconv.theory_checks.setting_checks import (
    _beta_of,
    check_a0_finite_mdp,
    check_a2_step_sizes,
    check_a5_episodes,
    check_a9_greediness,
    check_a10_analytic,
    check_a11_ppo_old,
    diagnostic_verdicts,
)
from acconv.theory_checks.step_sizes import StepSizeReport
from acconv.theory_checks.theorems import (
    BORKAR,
    REQUIREMENTS,
)
from acconv.theory_checks.trace import _ALL, RunTrace
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
    combine_statuses,
)


@dataclass(frozen=True)
class AssumptionReport:
    """All verdicts of a run, which theorem's hypotheses are fully met, and a statement.

    ``theorems`` maps each theorem to ``holds`` (every required verdict holds or does not
    apply), ``violated`` (one is violated) or ``undecided``; ``estimated`` lists, per theorem,
    the required verdicts that hold only as estimates.
    """

    verdicts: tuple[Verdict, ...]
    theorems: Mapping[str, Status]
    estimated: Mapping[str, tuple[str, ...]]
    statement: str
    step_sizes: StepSizeReport | SharedStepSizes | None = None

    def __getitem__(self, verdict_id: str) -> Verdict:
        for verdict in self.verdicts:
            if verdict.id == verdict_id:
                return verdict
        ids = [v.id for v in self.verdicts]
        raise KeyError(f"no verdict {verdict_id!r}; expected one of {ids}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "verdicts": [v.to_dict() for v in self.verdicts],
            "theorems": dict(self.theorems),
            "estimated": {k: list(v) for k, v in self.estimated.items()},
            "statement": self.statement,
        }


def _coverage(
    verdicts: Mapping[str, Verdict], steps: StepSizeReport | SharedStepSizes | None
) -> tuple[dict[str, Status], dict[str, tuple[str, ...]], str]:
    theorems: dict[str, Status] = {}
    estimated: dict[str, tuple[str, ...]] = {}
    lines = []
    for theorem, required in REQUIREMENTS.items():
        statuses: list[Status] = []
        blockers = []
        for vid in required:
            verdict = verdicts.get(vid)
            status: Status = verdict.status if verdict is not None else "undecided"
            if vid == "A2" and theorem == BORKAR and steps is not None:
                status = combine_statuses([steps[c].status for c in ("S1", "S2", "S3", "S4")])
            statuses.append(status)
            if status not in ("holds", "not_applicable"):
                blockers.append(f"{vid} {status}")
        combined = combine_statuses(statuses)
        theorems[theorem] = combined
        soft = tuple(
            vid
            for vid in required
            if vid in verdicts
            and verdicts[vid].status == "holds"
            and verdicts[vid].method == METHOD_ESTIMATED
        )
        estimated[theorem] = soft
        if combined == "holds":
            line = f"{theorem}: all hypotheses hold as checked"
            if soft:
                line += f" ({', '.join(soft)} only as estimates on this run)"
        else:
            line = f"{theorem}: not fully met ({', '.join(blockers)})"
        lines.append(line)
    met = [t for t, s in theorems.items() if s == "holds"]
    head = (
        f"Hypotheses fully met: {', '.join(met)}."
        if met
        else "No theorem's hypotheses are fully met."
    )
    statement = (
        f"{head} " + "; ".join(lines) + ". The Holzleitner et al. statement is our "
        "reconstruction (THEORY.md §4.3), not the paper's text; a met hypothesis list says the "
        "theorem applies to this configuration as checked, not that the run converged."
    )
    return theorems, estimated, statement


def assumption_report(
    trace: RunTrace | Any,
    *,
    episodes: EpisodeSource | None = None,
    step_report: StepSizeReport | SharedStepSizes | None = None,
    n_starts: int = 3,
    sympy_timeout: float | None = 10.0,
    kl_target: float | None = None,
    clip_fraction_max: float = 0.2,
    window: float = 0.25,
) -> AssumptionReport:
    """Check A0-A12 and tracking on a run and say which theorems' hypotheses are fully met.

    ``trace`` is a :class:`RunTrace` or anything with a ``trace()`` method returning one (a
    :class:`~acconv.instrument.monitor.TwoTimescaleMonitor` after its run). Everything is
    decided from the learner's facts and the run: the step sizes it states (S1-S7; one
    optimiser for both roles violates S4), how it draws episodes (A5; ``episodes`` overrides
    it), its optimiser (``optimizer``), its policy's form (A1, A3, A10) and, for learners that
    log PPO's batch diagnostics, the ``ppo/kl``, ``ppo/clip_fraction`` and
    ``critic/explained_variance`` verdicts (``kl_target`` defaults to 1.5 × the learner's own
    target KL, else 0.05). ``n_starts`` random starts test A7's globality. Borkar's step-size
    hypothesis is read as S1-S4, Karmakar & Bhatnagar's and the reconstructed Holzleitner
    statement's as S1-S5.
    """
    if not isinstance(trace, RunTrace):
        trace = trace.trace()
    facts = trace.facts
    steps = step_report if step_report is not None else step_sizes_of(facts, sympy_timeout)
    if isinstance(steps, SharedStepSizes):
        a2 = steps.a2
    elif steps is not None:
        a2 = check_a2_step_sizes(steps.critic, steps.actor, report=steps)
    else:
        why = facts.step_sizes_note or "the learner states no schedules a(n), b(n)"
        a2 = Verdict("A2", "step sizes S1-S5", "undecided", METHOD_SYMBOLIC, why, {}, _ALL)
    a7, a7_global = check_a7_slow(trace, n_starts=n_starts)
    verdicts = [
        check_a0_finite_mdp(trace.task.mdp, [s.policy for s in trace.snapshots]),
        check_a1_policy(trace),
        a2,
        check_a3_lipschitz(trace),
        check_a4_noise(trace),
        check_a5_episodes(episodes or facts.episodes),
        check_a6_fast(trace),
        check_a6_prime_domain(trace),
        a7,
        a7_global,
        check_a8_bounded(trace),
        check_a9_greediness(_beta_of(facts)),
        check_a10_analytic(facts),
        check_a11_ppo_old(facts, trace),
        check_a12_rudder(trace),
        check_tracking(trace, s4=None if steps is None else steps["S4"].status),
    ]
    # The optimiser and the PPO diagnostics: what the facts and the update stream decide.
    optimizer = optimizer_verdict(facts)
    if optimizer is not None:
        verdicts.append(optimizer)
    verdicts += diagnostic_verdicts(
        facts,
        trace.diagnostics,
        kl_target=kl_target,
        clip_fraction_max=clip_fraction_max,
        window=window,
    )
    by_id = {v.id: v for v in verdicts}
    theorems, estimated, statement = _coverage(by_id, steps)
    return AssumptionReport(tuple(verdicts), theorems, estimated, statement, steps)
