r"""The findings behind S1–S7: a schedule as the checks see it, and the rule-based claims on it.

One job: the pieces :mod:`acconv.theory_checks.step_sizes` decides the conditions with, shared
with :mod:`acconv.theory_checks.oscillating_conditions` — a :class:`Side` (a schedule, or a bound
of one, with its asymptotic form and the expression SymPy is given), a :class:`Finding` (a claim
on one condition with the SymPy checks that must confirm it, :func:`resolve`\d against their
outcomes) and the claims the p-series/Bertrand rule and the exponent pairs make
(:func:`series_rule_finding`, :func:`ratio_rule_finding`, :func:`kt_rule_finding`), each None
where the forms do not decide (the caller then falls back on a numeric estimate, or not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import sympy

from acconv.schedules import N_SYMBOL, Schedule
from acconv.theory_checks.asymptotics import (
    SERIES_NOTE,
    Asymptotic,
    asymptotic_form_of_expr,
    eventual_branch,
    format_exponent,
    format_number,
    not_provably_zero,
    power_form,
    product_form,
    series_rule,
    sign_of,
    unique_in_order,
)
from acconv.theory_checks.oscillation import Oscillation
from acconv.theory_checks.sympy_oracle import NOT_FOR_SYMPY, Outcome, SympyCheck, agrees
from acconv.theory_checks.verdicts import (
    METHOD_NUMERIC,
    METHOD_SERIES_RULE,
    METHOD_SYMBOLIC,
    Lean,
    Status,
    Strength,
    Verdict,
    combine_verdicts,
)

__all__ = [
    "Finding",
    "Side",
    "all_checks",
    "combine",
    "exponent_evidence",
    "group_text",
    "intro",
    "kt_rule_finding",
    "pow_text",
    "ratio_form",
    "ratio_rule_finding",
    "ratio_target",
    "resolve",
    "series_rule_finding",
    "side_of",
]

_ZERO: Final = sympy.Integer(0)
_ONE: Final = sympy.Integer(1)
_D: Final = sympy.Symbol("d", positive=True)  # the exponent of S6


def group_text(text: str) -> str:
    """``a(n)`` and ``(n + 1)`` stay as they are; other texts get parentheses."""
    return text if re.fullmatch(r"\w+\(n\)|[\w.]+", text) else f"({text})"


def pow_text(text: str, exponent: object) -> str:
    """``a(n)**2``, ``(1/(n + 1))**2``; the text itself for exponent 1."""
    return text if exponent == 1 else f"{group_text(text)}**{exponent}"


@dataclass(frozen=True)
class Finding:
    """A claim about one condition (or half of one), before and after its SymPy checks."""

    status: Status
    method: str
    detail: str
    evidence: Mapping[str, float] = field(default_factory=dict)
    checks: tuple[SympyCheck, ...] = ()
    fallback: Finding | None = None  # used instead of "undecided" when a check fails
    lean: Lean | None = None  # evidence (a numeric estimate): status "undecided" with a lean
    strength: Strength | None = None


def all_checks(finding: Finding | None) -> list[SympyCheck]:
    if finding is None:
        return []
    return [*finding.checks, *all_checks(finding.fallback)]


def resolve(finding: Finding, outcomes: Mapping[tuple[str, tuple[str, ...]], Outcome]) -> Finding:
    """Keep the claim if every SymPy check agrees; otherwise the fallback, or undecided."""
    confirmations = []
    for check in finding.checks:
        kind, value = outcomes[check.key]
        if kind == "ok" and agrees(value, check.expected):
            confirmations.append(f"{check.label} = {value}")
            continue
        if kind == "ok":
            reason = f"{check.label} gave {value}, the rule predicts {check.expected}"
        elif kind == "timeout":
            reason = f"{check.label}: {value}"
        else:
            reason = f"{check.label} raised {value}"
        if finding.fallback is not None:
            fallback = resolve(finding.fallback, outcomes)
            return replace(fallback, detail=f"{fallback.detail} [symbolic route failed: {reason}]")
        detail = f"{finding.detail} — not confirmed: {reason}"
        return Finding("undecided", finding.method, detail, finding.evidence)
    if not confirmations:
        return finding
    return replace(finding, detail=f"{finding.detail}; SymPy agrees: {'; '.join(confirmations)}")


def combine(findings: Sequence[Finding]) -> Finding:
    """The conjunction of findings (e.g. S3 = Σ a² < ∞ and Σ b² < ∞)."""
    if len(findings) == 1:
        return findings[0]
    parts = [
        Verdict("part", "", f.status, f.method, "", {}, (), f.lean, f.strength) for f in findings
    ]
    status, lean, strength = combine_verdicts(parts)
    deciding = [finding for finding in findings if finding.status == status] or list(findings)
    rank = {METHOD_SYMBOLIC: 0, METHOD_SERIES_RULE: 1, METHOD_NUMERIC: 2}
    method = max((finding.method for finding in deciding), key=lambda m: rank.get(m, 3))
    evidence = {key: value for finding in findings for key, value in finding.evidence.items()}
    detail = "; ".join(f.detail for f in findings)
    return Finding(status, method, detail, evidence, lean=lean, strength=strength)


@dataclass(frozen=True)
class Side:
    """One schedule as the checks see it: its name, form and the SymPy target."""

    name: str  # "a" or "b"
    schedule: Schedule
    form: Asymptotic | None
    target: Any  # the expression SymPy analyses (schedule, eventual branch or comparison)
    text: str  # how details name the target
    itself: bool  # whether target equals the schedule for large n (not just a comparison)
    oscillation: Oscillation | None = None  # proved facts if the schedule has such a factor

    @property
    def usable(self) -> bool:
        return self.form is not None and (self.form.is_zero or self.form.sign == 1)

    def notes(self) -> tuple[str, ...]:
        """The reduction steps, e.g. 'Min(1/10, 10/(n + 1)) = 10/(n + 1) for large n'."""
        return self.form.notes if self.form is not None else ()


def intro(*sides: Side) -> str:
    return "".join(
        f"{note}; " for note in unique_in_order(n for side in sides for n in side.notes())
    )


def side_of(name: str, schedule: Schedule, expr: Any) -> Side:
    """The side of ``expr`` (the schedule itself, or a bound of it) named ``name``."""
    form = asymptotic_form_of_expr(expr)
    branch = eventual_branch(expr)
    if not branch.has(*NOT_FOR_SYMPY):
        text = f"{name}(n)" if branch == expr else str(branch)
        return Side(name, schedule, form, branch, text, True)
    target = form.comparison() if form is not None else _ZERO
    return Side(name, schedule, form, target, str(target), False)


def exponent_evidence(name: str, form: Asymptotic) -> dict[str, float]:
    if form.is_zero:
        return {}
    evidence = {f"p_{name}": float(form.power), f"q_{name}": float(form.log_power)}
    if not_provably_zero(form.rate):
        evidence[f"rate_{name}"] = float(form.rate)
    if not_provably_zero(form.stretch[0]):
        evidence[f"stretch_{name}"] = float(form.stretch[0])
        evidence[f"stretch_power_{name}"] = float(form.stretch[1])
    return evidence


def series_rule_finding(side: Side, m: int) -> Finding | None:
    """Σ f(n)^m by the p-series/Bertrand rule on the side's form; None without a usable form."""
    want_divergence = m == 1
    square = "²" if m == 2 else ""
    form = power_form(side.form, m) if side.usable else None
    rule = series_rule(form) if form is not None else None
    if form is None or rule is None:
        return None
    converges, reason = rule
    statement = f"Σ {side.name}{square} {'<' if converges else '='} ∞"
    described = form.describe(f"{side.name}(n){square}")
    detail = f"{intro(side)}{described}: {statement} because {reason}"
    check = _series_check(side.target**m, pow_text(side.text, m), form, converges)
    status: Status = "holds" if converges != want_divergence else "violated"
    assert side.form is not None
    evidence = exponent_evidence(side.name, side.form)
    return Finding(status, METHOD_SERIES_RULE, detail, evidence, (check,))


def _series_check(term: Any, text: str, form: Asymptotic, converges: bool) -> SympyCheck:
    """SymPy's Sum(term).is_convergent(); for a form with iterated logarithms, on which that
    runs for minutes and gives up, or one read from a series expansion (Sum on
    ((n+1)^-16 - (n+2)^-16)^16 outruns any budget), limit(term/comparison) = c instead: it
    confirms term ~ c·comparison, and the p-series/Bertrand rule on the comparison sequence is
    a theorem."""
    if (form.iterated or SERIES_NOTE in form.notes) and form.exact:
        comparison = form.comparison()
        label = f"limit({group_text(text)}/({comparison}), n, oo)"
        return SympyCheck(label, "limit", (term / comparison,), form.coefficient)
    label = f"Sum({text}, (n, 1, oo)).is_convergent()"
    return SympyCheck(label, "converges", (term,), converges)


def ratio_form(a: Side, b: Side) -> Asymptotic | None:
    return product_form([b.form, power_form(a.form, -1)])


def ratio_target(a: Side, b: Side) -> tuple[Any, str]:
    if a.itself and b.itself:
        return b.target / a.target, f"{group_text(b.text)}/{group_text(a.text)}"
    assert a.form is not None and b.form is not None
    ratio = b.form.comparison() / a.form.comparison()
    return ratio, str(ratio)


def ratio_rule_finding(a: Side, b: Side) -> Finding | None:
    """S4 from the forms of a and b (or of bounds of them); None without usable forms."""
    if a.usable and a.form is not None and a.form.is_zero:
        detail = f"{intro(a)}{a.name}(n) = 0 for all large n, so b(n)/a(n) is undefined"
        return Finding("undecided", METHOD_SYMBOLIC, detail)
    ratio = ratio_form(a, b) if a.usable and b.usable else None
    kind = ratio.limit_class if ratio is not None else None
    if ratio is None or kind is None:
        return None
    assert a.form is not None and b.form is not None
    pair = (
        f"{a.form.describe(f'{a.name}(n)')} and {b.form.describe(f'{b.name}(n)')}, "
        f"so {b.name}(n)/{a.name}(n) {'~' if ratio.exact else '≍'} {ratio.formula()}"
    )
    target, text = ratio_target(a, b)
    evidence = {"ratio_power": float(ratio.power), "ratio_log_power": float(ratio.log_power)}
    if kind == "zero":
        expected: Any = _ZERO
        verdict = "→ 0"
    elif kind == "infinite":
        expected = sympy.oo
        verdict = "→ ∞ (the critic is the slower one): b/a does not tend to 0"
    else:
        expected = ratio.coefficient if a.itself and b.itself else _ONE
        if ratio.exact:
            verdict = f"→ {format_number(ratio.coefficient)} ≠ 0"
            evidence["ratio_limit"] = float(ratio.coefficient)
        else:
            verdict = "stays between two positive constants: it does not tend to 0"
    status: Status = "holds" if kind == "zero" else "violated"
    check = SympyCheck(f"limit({text}, n, oo)", "limit", (target,), expected)
    detail = f"{intro(a, b)}{pair} {verdict}"
    return Finding(status, METHOD_SYMBOLIC, detail, evidence, (check,))


def kt_rule_finding(a: Side, b: Side) -> Finding | None:
    """S6 from the forms of a and b (or of bounds of them); None without usable forms."""
    if a.usable and a.form is not None and a.form.is_zero:
        detail = f"{intro(a)}{a.name}(n) = 0 for all large n, so b(n)/a(n) is undefined"
        return Finding("undecided", METHOD_SERIES_RULE, detail)
    ratio = ratio_form(a, b) if a.usable and b.usable else None
    kind = ratio.limit_class if ratio is not None else None
    if ratio is None or kind is None:
        return None
    assert a.form is not None and b.form is not None
    if b.form.is_zero:
        detail = f"{b.name}(n) = 0 for all large n: Σ (b/a)^d is a finite sum for every d > 0"
        return Finding("holds", METHOD_SERIES_RULE, detail, {"d_min": 0.0})
    target, text = ratio_target(a, b)
    head = f"{intro(a, b)}{b.name}(n)/{a.name}(n) {'~' if ratio.exact else '≍'} {ratio.formula()}"
    diverges = SympyCheck(
        f"limit(n*{pow_text(text, 'd')}, n, oo) for d > 0",
        "limit",
        (N_SYMBOL * target**_D,),
        sympy.oo,
    )
    if kind != "zero":
        detail = (
            f"{head} does not tend to 0, so neither does (b/a)^d: Σ (b/a)^d = ∞ for every d > 0"
        )
        return Finding("violated", METHOD_SERIES_RULE, detail, {}, (diverges,))
    if sign_of(ratio.rate) == 1 or (sign_of(ratio.rate) == 0 and sign_of(ratio.stretch[0]) == 1):
        how = "geometrically" if sign_of(ratio.rate) == 1 else "faster than any power"
        detail = f"{head} decays {how}: Σ (b/a)^d < ∞ for every d > 0 (e.g. d = 1)"
        evidence: dict[str, float] = {"d_min": 0.0, "d": 1.0}
        d = _ONE
    elif sign_of(ratio.power) == 1:
        d_min = 1 / ratio.power
        d = sympy.floor(d_min) + 1
        detail = (
            f"{head}: Σ (b/a)^d < ∞ when d·{format_exponent(ratio.power)} > 1 (p-series), "
            f"i.e. for every d > 1/(p_b - p_a) = {format_exponent(d_min)}; e.g. d = {d}"
        )
        evidence = {"d_min": float(d_min), "d": float(d)}
    else:  # b/a ≍ log(n)^(-q): (b/a)^d ≍ log(n)^(-q·d), never summable
        q = format_exponent(ratio.log_power)
        detail = (
            f"{head} → 0 only logarithmically: (b/a)^d ≍ 1/log(n)^({q}·d) and "
            f"Σ 1/log(n)^({q}·d) = ∞ for every d > 0 (p = 0 ≤ 1, Bertrand)"
        )
        return Finding("violated", METHOD_SERIES_RULE, detail, {}, (diverges,))
    power = power_form(ratio, d)
    assert power is not None
    converges = _series_check(target**d, pow_text(text, d), power, True)
    return Finding("holds", METHOD_SERIES_RULE, detail, evidence, (converges,))
