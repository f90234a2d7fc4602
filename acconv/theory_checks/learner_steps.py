"""The step sizes and the optimiser a learner states in its facts, as verdicts.

Two cases, decided from :class:`~acconv.facts.LearnerFacts` alone:

* separate optimisers with schedules a(n), b(n) given as expressions: S1–S7 of
  :func:`~acconv.theory_checks.step_sizes.check_step_sizes` (a :class:`StepSizeReport`);
* one optimiser for both roles (``facts.shared_optimizer``, SB3's PPO and A2C): a(n) = b(n) is
  the one learning rate, so b(n)/a(n) = 1 and S4, S6 and S7 are violated for every run
  (:class:`SharedStepSizes`). The learning rate is decided symbolically when it is an
  expression; when it is only a Python callable, S1–S3 and S5 are ``undecided`` with the values
  the run used (finitely many values decide no asymptotic condition).

The ``optimizer`` verdict says whether every step is ``lr × gradient`` (plain SGD, the
recursion the theorems study) or a data-dependent rescaling (Adam, RMSprop, momentum).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Final

from acconv.facts import LearnerFacts
from acconv.schedules import Schedule
from acconv.theory_checks.step_sizes import SYMPY_TIMEOUT, StepSizeReport, check_step_sizes
from acconv.theory_checks.theorems import ALL_THEOREMS, BORKAR, KARMAKAR_BHATNAGAR
from acconv.theory_checks.verdicts import (
    METHOD_CONFIGURATION,
    METHOD_SAMPLED,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
    combine_statuses,
    combine_verdicts,
)

__all__ = [
    "METHOD_CONFIGURATION",
    "METHOD_SAMPLED",
    "SharedStepSizes",
    "optimizer_verdict",
    "step_sizes_of",
]

_BORKAR_KB: Final = (BORKAR, KARMAKAR_BHATNAGAR)


@dataclass(frozen=True)
class SharedStepSizes:
    """S1–S7 for a learner whose critic and actor share one optimiser (a(n) = b(n) = its
    learning rate), plus the optimiser verdict.

    ``conditions`` are :class:`Verdict` s with ids S1–S7; ``two_timescale`` combines S1–S5
    (``violated`` for every such run: S4). ``report`` is the
    :class:`~acconv.theory_checks.step_sizes.StepSizeReport` of the expression (None for a
    callable learning rate). ``a2`` summarises S1–S5 as the catalogue's ``A2`` verdict.
    """

    schedule: Schedule | None
    kind: str
    description: str
    sampled: tuple[float, ...]
    conditions: tuple[Verdict, ...]
    two_timescale: Status
    optimizer: Verdict
    report: StepSizeReport | None = None
    a2: Verdict = field(init=False)

    def __post_init__(self) -> None:
        failing = [v for v in self.conditions[:5] if v.status != "holds"]
        detail = "; ".join(f"{v.id} {v.shown}: {v.detail}" for v in failing) or "S1–S5 hold"
        status, lean, strength = combine_verdicts(self.conditions[:5])
        # The method of what decided: the violated parts when one is violated, else all parts.
        deciding = [v for v in self.conditions[:5] if v.status == "violated"] or list(
            self.conditions[:5]
        )
        methods = {v.method for v in deciding}
        evidence = {}
        if self.sampled:
            evidence = {"lr_first": float(self.sampled[0]), "lr_last": float(self.sampled[-1])}
        a2 = Verdict(
            "A2",
            "step-size conditions S1–S5 (one learning rate, one optimiser)",
            status,
            " + ".join(sorted(methods)),
            detail,
            evidence,
            _BORKAR_KB,
            lean,
            strength,
        )
        object.__setattr__(self, "a2", a2)

    @property
    def critic(self) -> Schedule | None:
        """a(n) as an expression (None for a callable learning rate)."""
        return self.schedule

    @property
    def actor(self) -> Schedule | None:
        """b(n): the same schedule as :attr:`critic` (one optimiser)."""
        return self.schedule

    def __getitem__(self, condition_id: str) -> Verdict:
        for verdict in self.conditions:
            if verdict.id == condition_id:
                return verdict
        raise KeyError(f"no condition {condition_id!r}; expected one of S1..S7")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind,
            "schedule": self.schedule.text if self.schedule is not None else None,
            "description": self.description,
            "conditions": [v.to_dict() for v in self.conditions],
            "two_timescale": self.two_timescale,
            "optimizer": self.optimizer.to_dict(),
        }


def optimizer_verdict(facts: LearnerFacts) -> Verdict | None:
    """Whether the learner's optimiser steps are ``lr × gradient`` (``None`` for a learner with
    no optimiser: a tabular update is the stochastic-approximation recursion itself)."""
    name = facts.optimizer
    if name is None:
        return None
    title = "plain SGD steps θ ← θ - a(n)·g (the recursion the theorems study)"
    if facts.plain_sgd:
        detail = f"{name} without momentum or weight decay: each step is lr × gradient"
        return Verdict("optimizer", title, "holds", METHOD_CONFIGURATION, detail, {}, ALL_THEOREMS)
    how = {
        "Adam": "Adam's step is lr·m̂/(√v̂ + ε) per coordinate",
        "RMSprop": "RMSprop's step is lr·g/(√v + ε) per coordinate",
    }.get(name, f"{name}'s step is not lr·gradient")
    detail = (
        f"{how}, a data-dependent step size (momentum and weight decay also change the "
        "recursion): outside the verified hypotheses; S1–S7 speak about the nominal lr only"
    )
    return Verdict("optimizer", title, "undecided", METHOD_CONFIGURATION, detail, {}, ALL_THEOREMS)


def step_sizes_of(
    facts: LearnerFacts, sympy_timeout: float | None = SYMPY_TIMEOUT
) -> StepSizeReport | SharedStepSizes | None:
    """S1–S7 of the step sizes the learner states: a :class:`StepSizeReport` for separate
    schedules, a :class:`SharedStepSizes` for one optimiser, ``None`` when separate schedules
    are not both given as expressions."""
    if facts.shared_optimizer:
        return _shared(facts, sympy_timeout)
    if facts.critic_lr is None or facts.actor_lr is None:
        return None
    return check_step_sizes(facts.critic_lr, facts.actor_lr, sympy_timeout=sympy_timeout)


def _one_optimiser(facts: LearnerFacts) -> str:
    return (
        f"{facts.name} trains actor and critic with one optimiser and one learning rate, so the "
        "critic's a(n) and the actor's b(n) are the same schedule"
    )


def _shared_s4(facts: LearnerFacts, original: Verdict | None) -> Verdict:
    detail = (
        f"{_one_optimiser(facts)}: b(n)/a(n) = 1 wherever a(n) > 0, so it does not tend to 0 — "
        "no timescale separation (the critic is not faster than the actor)"
    )
    if original is not None and original.status != "violated":
        detail += f"; the ratio of the expressions alone: {original.detail}"
    name = original.name if original is not None else "b(n)/a(n) → 0"
    theorems = original.theorems if original is not None else _BORKAR_KB
    return Verdict("S4", name, "violated", METHOD_SYMBOLIC, detail, {"ratio": 1.0}, theorems)


def _expression_conditions(
    facts: LearnerFacts, schedule: Schedule, sympy_timeout: float | None
) -> tuple[list[Verdict], StepSizeReport]:
    report = check_step_sizes(schedule, schedule, sympy_timeout=sympy_timeout)
    verdicts = []
    for v in report.conditions:
        if v.id == "S4":
            verdicts.append(_shared_s4(facts, v))
            continue
        detail = v.detail
        if v.id == "S3" and v.status == "violated" and schedule.is_constant:
            detail = (
                f"the constant learning rate {schedule.text} violates S3: Σ a(n)² = ∞, the "
                "noise does not average out (only convergence to a neighbourhood can be "
                f"expected); {detail}"
            )
        verdicts.append(replace(v, detail=detail))
    return verdicts, report


def _sampled_conditions(facts: LearnerFacts) -> list[Verdict]:
    s = facts.sampled_step_sizes
    evidence = (
        {"lr_first": float(s[0]), "lr_last": float(s[-1]), "lr_min": float(min(s))} if s else {}
    )
    shown = f" (sampled a(0) = {s[0]:.3g}, a({len(s) - 1}) = {s[-1]:.3g})" if s else ""
    why = (
        f"{facts.step_sizes_note}{shown}; an asymptotic condition cannot be decided from "
        "finitely many values (give the learning rate as an expression for a symbolic verdict)"
    )
    names = {
        "S1": "Σ a(n) = ∞: the critic's clock runs forever",
        "S2": "Σ b(n) = ∞: the actor's clock runs forever",
        "S3": "Σ a(n)² < ∞ and Σ b(n)² < ∞: the noise averages out",
        "S5": "a(n), b(n) non-increasing for all n ≥ some n0",
    }
    verdicts = [
        Verdict(cid, names[cid], "undecided", METHOD_SAMPLED, why, evidence, _BORKAR_KB)
        for cid in ("S1", "S2", "S3")
    ]
    verdicts.append(_shared_s4(facts, None))
    verdicts.append(
        Verdict("S5", names["S5"], "undecided", METHOD_SAMPLED, why, evidence, _BORKAR_KB)
    )
    same = f"{_one_optimiser(facts)}: b(n)/a(n) = 1 wherever a(n) > 0"
    verdicts.append(
        Verdict(
            "S6",
            "Σ (b(n)/a(n))^d < ∞ for some d > 0",
            "violated",
            METHOD_SYMBOLIC,
            f"{same}, so Σ (b/a)^d = Σ 1 = ∞ for every d > 0 (if a(n) > 0 infinitely often)",
            {"ratio": 1.0},
            ("Konda & Tsitsiklis 2003",),
        )
    )
    verdicts.append(
        Verdict(
            "S7",
            "a ~ a0/n^p_a, b ~ b0/n^p_b, 1/2 < p_a < p_b ≤ 1",
            "violated",
            METHOD_SYMBOLIC,
            f"{same}, so p_a = p_b whatever the form: p_a < p_b is impossible",
            {"ratio": 1.0},
            ("Konda & Tsitsiklis 2004", "Mokkadem & Pelletier 2006"),
        )
    )
    return verdicts


def _shared(facts: LearnerFacts, sympy_timeout: float | None) -> SharedStepSizes:
    schedule = facts.critic_lr
    report = None
    if schedule is not None:
        conditions, report = _expression_conditions(facts, schedule, sympy_timeout)
    else:
        conditions = _sampled_conditions(facts)
    two = combine_statuses([v.status for v in conditions[:5]])
    optimizer = optimizer_verdict(facts)
    if optimizer is None:
        raise ValueError(f"{facts.name}: a shared optimiser needs facts.optimizer, got None")
    return SharedStepSizes(
        schedule,
        str(facts.config.get("learning_rate_kind", "expression" if schedule else "callable")),
        facts.step_sizes_note,
        facts.sampled_step_sizes,
        tuple(conditions),
        two,
        optimizer,
        report,
    )
