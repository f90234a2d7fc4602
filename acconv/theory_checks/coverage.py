"""The report of a run: every verdict of the catalogue A0–A12, tracking, the optimiser and PPO's
diagnostics, and how far each theorem's hypotheses are established: proven, proven where
provable with the rest supported by evidence, open, or violated (never more than was checked).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

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
    METHOD_SYMBOLIC,
    Status,
    Verdict,
    combine_verdicts,
)

Coverage = Literal["met", "supported", "open", "violated"]
"""How far a theorem's hypotheses are established on a run.

``met``: every hypothesis is proven to hold (or does not apply). ``supported``: proven where
provable, and every other hypothesis is ``undecided`` with evidence leaning ``holds``.
``violated``: a hypothesis is proven violated. ``open``: anything else (a hypothesis undecided
without a lean, or with evidence leaning ``violated``)."""
COVERAGES: tuple[Coverage, ...] = get_args(Coverage)
_STATUS_OF_COVERAGE: dict[Coverage, Status] = {
    "met": "holds",
    "supported": "undecided",
    "open": "undecided",
    "violated": "violated",
}


@dataclass(frozen=True)
class AssumptionReport:
    """All verdicts of a run, how far each theorem's hypotheses are established, a statement.

    ``coverage`` maps each theorem to a :data:`Coverage`; ``theorems`` to the matching status
    (``holds`` only when ``met``: every hypothesis proven; ``violated`` when one is proven
    violated; ``undecided`` otherwise); ``supported_by_evidence`` lists, per theorem, the
    required hypotheses that are only supported by evidence (undecided, leaning holds).
    """

    verdicts: tuple[Verdict, ...]
    theorems: Mapping[str, Status]
    supported_by_evidence: Mapping[str, tuple[str, ...]]
    statement: str
    step_sizes: StepSizeReport | SharedStepSizes | None = None
    coverage: Mapping[str, Coverage] = field(default_factory=dict)

    @property
    def estimated(self) -> Mapping[str, tuple[str, ...]]:
        """Deprecated name of :attr:`supported_by_evidence`."""
        return self.supported_by_evidence

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
            "coverage": dict(self.coverage),
            "supported_by_evidence": {k: list(v) for k, v in self.supported_by_evidence.items()},
            "statement": self.statement,
        }


def theorem_coverage(parts: Sequence[Verdict]) -> Coverage:
    """The :data:`Coverage` of a theorem whose hypotheses have the verdicts ``parts``.

    >>> from acconv.theory_checks.verdicts import METHOD_EXACT, METHOD_ESTIMATED, leaning
    >>> proven = Verdict("A0", "finite MDP", "holds", METHOD_EXACT, "")
    >>> seen = leaning("A8", "bounded", "holds", "strong", METHOD_ESTIMATED, "")
    >>> theorem_coverage([proven]), theorem_coverage([proven, seen])
    ('met', 'supported')
    """
    status, lean, _ = combine_verdicts(parts)
    if status in ("holds", "not_applicable"):
        return "met"
    if status == "violated":
        return "violated"
    return "supported" if lean == "holds" else "open"


def _hypothesis(
    vid: str,
    theorem: str,
    verdicts: Mapping[str, Verdict],
    steps: StepSizeReport | SharedStepSizes | None,
) -> Verdict:
    """The verdict on hypothesis ``vid`` of ``theorem`` (Borkar reads A2 as S1-S4 only)."""
    verdict = verdicts.get(vid)
    if vid == "A2" and theorem == BORKAR and steps is not None:
        parts = [steps[c] for c in ("S1", "S2", "S3", "S4")]
        status, lean, strength = combine_verdicts(parts)
        base = verdict or parts[0]
        detail = "; ".join(f"{p.id} {p.shown}" for p in parts)
        return Verdict(
            "A2", "step sizes S1-S4", status, base.method, detail, {}, (), lean, strength
        )
    if verdict is None:
        return Verdict(vid, vid, "undecided", METHOD_SYMBOLIC, "not checked on this run")
    return verdict


def _coverage(
    verdicts: Mapping[str, Verdict], steps: StepSizeReport | SharedStepSizes | None
) -> tuple[dict[str, Status], dict[str, Coverage], dict[str, tuple[str, ...]], str]:
    theorems: dict[str, Status] = {}
    coverage: dict[str, Coverage] = {}
    supported: dict[str, tuple[str, ...]] = {}
    lines = []
    for theorem, required in REQUIREMENTS.items():
        parts = [_hypothesis(vid, theorem, verdicts, steps) for vid in required]
        level = theorem_coverage(parts)
        coverage[theorem] = level
        theorems[theorem] = _STATUS_OF_COVERAGE[level]
        supported[theorem] = tuple(
            p.id for p in parts if p.status == "undecided" and p.lean == "holds"
        )
        blockers = [f"{p.id} {p.shown}" for p in parts if p.status in ("violated", "undecided")]
        if level == "met":
            lines.append(f"{theorem}: every hypothesis proven")
        elif level == "supported":
            lines.append(
                f"{theorem}: proven where provable; {', '.join(supported[theorem])} "
                "supported only by evidence from this run"
            )
        else:
            lines.append(f"{theorem}: {level} ({'; '.join(blockers)})")
    met = [t for t, level in coverage.items() if level == "met"]
    leaning_met = [t for t, level in coverage.items() if level == "supported"]
    heads = []
    if met:
        heads.append(f"Hypotheses proven: {', '.join(met)}.")
    if leaning_met:
        heads.append(
            f"Proven where provable, the rest supported by evidence: {', '.join(leaning_met)}."
        )
    if not heads:
        heads.append("No theorem's hypotheses are proven or supported on this run.")
    statement = (
        " ".join(heads) + " " + "; ".join(lines) + ". The Holzleitner et al. statement is our "
        "reconstruction (THEORY.md §4.3), not the paper's text; hypotheses met say the theorem "
        "applies to this configuration as checked, not that the run converged. Evidence is not "
        "proof: a hypothesis supported by evidence may still fail beyond this run."
    )
    return theorems, coverage, supported, statement


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
    """Check A0-A12 and tracking on a run and say how far each theorem's hypotheses are met.

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
    theorems, coverage, supported, statement = _coverage(by_id, steps)
    return AssumptionReport(tuple(verdicts), theorems, supported, statement, steps, coverage)
