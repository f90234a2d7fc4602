"""Conditions S1–S7 on a schedule with an oscillating factor: only proofs that cover it.

One job: decide a condition on a(n) or b(n) with a factor such as ``cos(pi*n/10)`` (torch's
``CosineAnnealingLR``) from what :mod:`acconv.theory_checks.oscillation` proved for every n —
the bounds L(n) ≤ f(n) ≤ U(n), to which the rule-based findings of
:mod:`acconv.theory_checks.step_size_findings` apply (Σ L = ∞ gives Σ f = ∞ when f ≥ L ≥ 0;
Σ U² < ∞ gives Σ f² < ∞; U_b/L_a → 0 gives b/a → 0; L_b/U_a ↛ 0 gives b/a ↛ 0), and the
periodicity (a value f(n0) ≠ 0 recurs every period, so f does not tend to 0; a periodic f with
two different values is not eventually non-increasing). The numeric estimates are never used:
a fit on n = 10^k sees one phase of a periodic factor. Whatever these proofs do not settle is
``undecided``: "oscillating factor cos(...): not decided".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final, Literal

import sympy

from acconv.theory_checks.asymptotics import (
    Asymptotic,
    asymptotic_form_of_expr,
    format_number,
    sign_of,
)
from acconv.theory_checks.oscillation import Oscillation
from acconv.theory_checks.step_size_findings import (
    Finding,
    Side,
    kt_rule_finding,
    ratio_rule_finding,
    series_rule_finding,
    side_of,
)
from acconv.theory_checks.sympy_oracle import SympyCheck
from acconv.theory_checks.verdicts import METHOD_SERIES_RULE, METHOD_SYMBOLIC, Status

__all__ = [
    "oscillating_monotone_finding",
    "oscillating_rate_form_finding",
    "oscillating_ratio_finding",
    "oscillating_series_finding",
]

_ZERO: Final = sympy.Integer(0)


def _bound_sides(side: Side) -> tuple[Side | None, Side | None]:
    """(lower, upper): sides of L ≤ f ≤ U (named ``L_a``, ``U_a``), None where no bound was
    derived; a side without an oscillating factor is its own bounds. The numeric fallbacks are
    never applied to these sides: only the ``*_rule_finding`` functions are."""
    oscillation = side.oscillation
    if oscillation is None:
        return side, side
    lower = upper = None
    if oscillation.lower is not None:
        lower = side_of(f"L_{side.name}", side.schedule, oscillation.lower)
    if oscillation.upper is not None:
        upper = side_of(f"U_{side.name}", side.schedule, oscillation.upper)
    return lower, upper


def _oscillation_intro(*sides: Side) -> str:
    """E.g. ``a(n) has the oscillating factor cos(pi*n/10); with it in [-1, 1], L_a(n) = 0 ≤
    a(n) ≤ U_a(n) = 1/10 for every n ≥ 0; ``."""
    parts = []
    for side in sides:
        oscillation = side.oscillation
        if oscillation is None:
            continue
        text = f"{side.name}(n) has the {oscillation.factor_text}"
        if oscillation.lower is not None and oscillation.upper is not None:
            text += (
                f"; with {'each such factor' if len(oscillation.factors) > 1 else 'it'} in "
                f"[-1, 1], L_{side.name}(n) = {oscillation.lower} ≤ {side.name}(n) ≤ "
                f"U_{side.name}(n) = {oscillation.upper} for every n ≥ 0"
            )
        parts.append(text)
    return "".join(f"{part}; " for part in parts)


def _factor_texts(*sides: Side) -> str:
    """``oscillating factor cos(pi*n/10)``: the factors of all sides, each named once."""
    factors = (f for s in sides if s.oscillation is not None for f in s.oscillation.factors)
    return Oscillation(tuple(dict.fromkeys(factors))).factor_text


def _eventually_nonnegative(lower: Side | None) -> bool:
    """f ≥ L ≥ 0 for all large n (L's form is 0 for large n or eventually positive)."""
    return lower is not None and lower.usable


def _eventually_positive(lower: Side | None) -> bool:
    """f ≥ L > 0 for all large n."""
    return lower is not None and lower.form is not None and lower.form.sign == 1


def _periodicity_text(side: Side, oscillation: Oscillation) -> str:
    assert oscillation.period is not None
    factors = ", ".join(str(factor) for factor in oscillation.factors)
    return (
        f"n enters {side.name}(n) only through {factors}, so {side.name}(n + "
        f"{oscillation.period}) = {side.name}(n) for every n"
    )


def _persistence(side: Side) -> str | None:
    """Why f(n) does not tend to 0 — |f| ≥ c > 0 infinitely often, proved — or None."""
    oscillation = side.oscillation
    if oscillation is None:
        return None
    if oscillation.lower_is_positive_number:
        return f"{side.name}(n) ≥ {oscillation.lower} > 0 for every n"
    if oscillation.period is not None and oscillation.recurring is not None:
        n0, value = oscillation.recurring
        shown = format_number(value)
        return (
            f"{_periodicity_text(side, oscillation)}, and {side.name}({n0}) = {shown} ≠ 0: "
            f"{side.name}({n0} + {oscillation.period}k) = {shown} for every k"
        )
    return None


def _chain(candidates: Sequence[Finding], last: Finding) -> Finding:
    """The first candidate proof, falling back on the next when its SymPy check fails, and on
    ``last`` (undecided) at the end. Two proofs with opposite verdicts would mean a bug in one
    of them: then undecided, never either verdict."""
    if len({candidate.status for candidate in candidates}) > 1:
        claims = "; ".join(f"{c.status}: {c.detail}" for c in candidates)
        detail = f"{last.detail} [the proofs disagree, so neither is used: {claims}]"
        return replace(last, detail=detail)
    finding = last
    for candidate in reversed(candidates):
        finding = replace(candidate, fallback=finding) if candidate.checks else candidate
    return finding


def _via(rule: Finding, status: Status, detail: str) -> Finding:
    """A finding on f proved from a finding on a bound of f (its SymPy checks go along)."""
    return Finding(status, rule.method, detail, rule.evidence, rule.checks)


def oscillating_series_finding(side: Side, oscillation: Oscillation, m: int) -> Finding:
    """Σ f^m for f with an oscillating factor: by the bounds L ≤ f ≤ U, or by periodicity."""
    name, square = side.name, "²" if m == 2 else ""
    lower, upper = _bound_sides(side)
    intro = _oscillation_intro(side)
    nonnegative = _eventually_nonnegative(lower)
    persistent = _persistence(side)
    candidates: list[Finding] = []
    if m == 1:
        rule = series_rule_finding(lower, 1) if lower is not None and nonnegative else None
        if rule is not None and rule.status == "holds":  # Σ L = ∞ and f ≥ L
            detail = f"{intro}{rule.detail}; {name}(n) ≥ L_{name}(n), so Σ {name} = ∞"
            candidates.append(_via(rule, "holds", detail))
        if persistent is not None and nonnegative:
            detail = f"{intro}{persistent}; with {name}(n) ≥ 0 for large n this gives Σ {name} = ∞"
            candidates.append(Finding("holds", METHOD_SYMBOLIC, detail))
        rule = series_rule_finding(upper, 1) if upper is not None and nonnegative else None
        if rule is not None and rule.status == "violated":  # Σ U < ∞ and 0 ≤ f ≤ U
            detail = f"{intro}{rule.detail}; 0 ≤ {name}(n) ≤ U_{name}(n), so Σ {name} < ∞"
            candidates.append(_via(rule, "violated", detail))
    else:
        rule = series_rule_finding(upper, 2) if upper is not None and nonnegative else None
        if rule is not None and rule.status == "holds":  # Σ U² < ∞ and 0 ≤ f ≤ U
            detail = f"{intro}{rule.detail}; 0 ≤ {name}(n) ≤ U_{name}(n), so Σ {name}² < ∞"
            candidates.append(_via(rule, "holds", detail))
        if persistent is not None:
            detail = f"{intro}{persistent}; so {name}(n)² does not tend to 0: Σ {name}² = ∞"
            candidates.append(Finding("violated", METHOD_SYMBOLIC, detail))
        rule = series_rule_finding(lower, 2) if lower is not None and nonnegative else None
        if rule is not None and rule.status == "violated":  # Σ L² = ∞ and f ≥ L ≥ 0
            detail = f"{intro}{rule.detail}; {name}(n) ≥ L_{name}(n) ≥ 0, so Σ {name}² = ∞"
            candidates.append(_via(rule, "violated", detail))
    why = (
        f"its bounds do not settle Σ {name}{square}"
        if lower is not None and upper is not None
        else "no bounds free of it were derived"
    )
    undecided = Finding(
        "undecided", METHOD_SYMBOLIC, f"{intro}{oscillation.factor_text}: not decided ({why})"
    )
    return _chain(candidates, undecided)


def _bounded_above_check(upper: Side) -> SympyCheck | None:
    """limit(U) = its form's limit: confirms that U (0 or a constant class) stays bounded."""
    form = upper.form
    if form is None or not form.exact or form.limit_class not in ("zero", "constant"):
        return None
    expected = form.coefficient if form.limit_class == "constant" else _ZERO
    return SympyCheck(f"limit({upper.text}, n, oo)", "limit", (upper.target,), expected)


def oscillating_ratio_finding(a: Side, b: Side, condition: Literal["S4", "S6"]) -> Finding:
    """S4 (b/a → 0) or S6 (Σ (b/a)^d < ∞) when a or b has an oscillating factor, from
    0 ≤ b/a ≤ U_b/L_a and b/a ≥ L_b/U_a (for large n, where a ≥ L_a > 0), or from a value of b
    that recurs every period while a stays bounded."""
    lower_a, upper_a = _bound_sides(a)
    lower_b, upper_b = _bound_sides(b)
    intro = _oscillation_intro(a, b)
    a_positive = _eventually_positive(lower_a)
    candidates: list[Finding] = []
    if a_positive and _eventually_nonnegative(lower_b) and upper_b is not None:
        assert lower_a is not None
        bound = f"0 ≤ b(n)/a(n) ≤ {upper_b.name}(n)/{lower_a.name}(n) for large n"
        if condition == "S4":
            rule = ratio_rule_finding(lower_a, upper_b)
            if rule is not None and rule.status == "holds":
                detail = f"{intro}{bound}, and {rule.detail}: so b(n)/a(n) → 0"
                candidates.append(_via(rule, "holds", detail))
        else:
            rule = kt_rule_finding(lower_a, upper_b)
            if rule is not None and rule.status == "holds":
                detail = f"{intro}{bound}, and {rule.detail}: so Σ (b/a)^d < ∞ for the same d"
                candidates.append(_via(rule, "holds", detail))
    consequence = (
        "b(n)/a(n) does not tend to 0"
        if condition == "S4"
        else "neither b/a nor (b/a)^d tends to 0: Σ (b/a)^d = ∞ for every d > 0"
    )
    if a_positive and _eventually_positive(lower_b) and _eventually_positive(upper_a):
        assert lower_b is not None and upper_a is not None
        rule = ratio_rule_finding(upper_a, lower_b)
        if rule is not None and rule.status == "violated":
            bound = f"b(n)/a(n) ≥ {lower_b.name}(n)/{upper_a.name}(n) > 0 for large n"
            detail = f"{intro}{bound}, and {rule.detail}; so {consequence}"
            candidates.append(_via(rule, "violated", detail))
    persistent = _persistence(b)
    check = _bounded_above_check(upper_a) if upper_a is not None else None
    if persistent is not None and a_positive and check is not None:
        assert upper_a is not None and upper_a.form is not None
        bounded = upper_a.form.describe(f"{upper_a.name}(n)")
        if upper_a is not a:
            bounded = f"0 < a(n) ≤ {upper_a.name}(n) for large n and {bounded}"
        else:
            bounded = f"a(n) > 0 for large n and {bounded}"
        detail = (
            f"{intro}{persistent}, while {bounded} stays bounded: |b(n)/a(n)| ≥ c > 0 "
            f"infinitely often, so {consequence}"
        )
        checks = () if upper_a.target.is_number else (check,)
        candidates.append(Finding("violated", METHOD_SYMBOLIC, detail, {}, checks))
    if not a_positive:
        why = "a(n) is not bounded away from 0 by a proved lower bound"
    else:
        why = "its bounds do not settle " + ("b(n)/a(n) → 0" if condition == "S4" else "it")
    method = METHOD_SYMBOLIC if condition == "S4" else METHOD_SERIES_RULE
    undecided = Finding("undecided", method, f"{intro}{_factor_texts(a, b)}: not decided ({why})")
    return _chain(candidates, undecided)


def _slowly_varying(g: Any) -> Asymptotic | None:
    """g's exact form c·n^(-p)·log(n)^(-q)··· with c > 0 and no geometric part, so that
    g(n+1)/g(n) → 1 (None otherwise)."""
    form = asymptotic_form_of_expr(g)
    if form is None or not form.exact or form.sign != 1 or sign_of(form.rate) != 0:
        return None
    return form


def _product_text(side: Side, oscillation: Oscillation, form: Asymptotic) -> str:
    values = ", ".join(format_number(v) for v in oscillation.periodic_values)
    return (
        f"{side.name}(n) = g(n)·h(n) with g(n) = {oscillation.envelope_factor}, "
        f"{form.describe('g(n)')} (so g(n+1)/g(n) → 1), and h(n) = "
        f"{oscillation.periodic_factor} periodic with period {len(oscillation.periodic_values)}, "
        f"h(0..{len(oscillation.periodic_values) - 1}) = {values}"
    )


def _rises_infinitely_often(side: Side, oscillation: Oscillation) -> str | None:
    """Why f = g·h (h periodic, g slowly varying and positive) increases infinitely often."""
    values = oscillation.periodic_values
    form = _slowly_varying(oscillation.envelope_factor) if values else None
    if form is None:
        return None
    for k, value in enumerate(values):
        after = values[(k + 1) % len(values)]
        if sign_of(value) in (0, 1) and sign_of(after - value) == 1:
            return (
                f"{_product_text(side, oscillation, form)}: h({(k + 1) % len(values)}) = "
                f"{format_number(after)} > h({k}) = {format_number(value)} ≥ 0, so "
                f"{side.name}(n+1) > {side.name}(n) for every large n ≡ {k} (mod "
                f"{len(values)}): {side.name}(n) is not non-increasing for all n ≥ any n0"
            )
    return None


def _no_single_coefficient(side: Side, oscillation: Oscillation) -> str | None:
    """Why f = g·h (h periodic with two different values) is not ~ c/n^p for any c, p."""
    values = oscillation.periodic_values
    form = _slowly_varying(oscillation.envelope_factor) if values else None
    if form is None or len({str(v) for v in values}) < 2 or all(v == 0 for v in values):
        return None
    return (
        f"{_product_text(side, oscillation, form)}: along the residues mod {len(values)}, "
        f"{side.name}(n)/g(n) tends to different values, so {side.name}(n) is not ~ "
        f"{side.name}0/n^p for any {side.name}0 and p"
    )


def oscillating_monotone_finding(side: Side, oscillation: Oscillation) -> Finding:
    """S5 for f with an oscillating factor: a periodic f with two different values is not
    non-increasing from any n0 on (it would be constant); nor is f = g·h with h periodic and
    rising somewhere, g > 0 slowly varying; nothing else is decided."""
    name = side.name
    rising = _rises_infinitely_often(side, oscillation)
    if rising is not None:
        return Finding("violated", METHOD_SYMBOLIC, rising)
    if oscillation.period is not None and oscillation.distinct is not None:
        (i, value_i), (j, value_j) = oscillation.distinct
        detail = (
            f"{_periodicity_text(side, oscillation)}; {name}({i}) = {format_number(value_i)} ≠ "
            f"{name}({j}) = {format_number(value_j)}: a periodic sequence that is "
            f"non-increasing from some n0 on is constant, so {name}(n) is not non-increasing "
            "for all n ≥ any n0"
        )
        return Finding("violated", METHOD_SYMBOLIC, detail)
    detail = (
        f"{_oscillation_intro(side)}{oscillation.factor_text}: not decided (neither the "
        "building blocks nor a grid scan prove monotonicity of an oscillating schedule)"
    )
    return Finding("undecided", METHOD_SYMBOLIC, detail)


def oscillating_rate_form_finding(a: Side, b: Side) -> Finding:
    """S7 when a or b has an oscillating factor: violated if one of them provably does not tend
    to 0 (the form c/n^p with p > 1/2 does), or is g·h with h periodic and not constant;
    undecided otherwise."""
    for side in (a, b):
        if side.oscillation is not None:
            reason = _no_single_coefficient(side, side.oscillation)
            if reason is not None:
                return Finding("violated", METHOD_SYMBOLIC, reason)
        persistent = _persistence(side)
        if persistent is not None:
            detail = (
                f"{persistent}: {side.name}(n) does not tend to 0, so it is not of the form "
                f"{side.name}0/n^p_{side.name} with p_{side.name} > 1/2"
            )
            return Finding("violated", METHOD_SYMBOLIC, detail)
    detail = (
        f"{_oscillation_intro(a, b)}{_factor_texts(a, b)}: not decided (the rate theorems need "
        "a ~ a0/n^p_a and b ~ b0/n^p_b; an oscillating factor has no such form)"
    )
    return Finding("undecided", METHOD_SYMBOLIC, detail)
