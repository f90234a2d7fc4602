"""Step-size conditions S1–S7 (THEORY.md §3, A2 STEP), decided as described in THEORY.md §7.

With a(n) the critic's (fast) and b(n) the actor's (slow) step size, n = 0, 1, 2, ...:

====  ==========================================================================================
S1    Σ_n a(n) = ∞
S2    Σ_n b(n) = ∞
S3    Σ_n a(n)² < ∞  and  Σ_n b(n)² < ∞
S4    b(n)/a(n) → 0
S5    a(n) and b(n) are non-increasing for all n ≥ some n0
S6    Σ_n (b(n)/a(n))^d < ∞ for some d > 0                     (Konda–Tsitsiklis type, optional)
S7    a(n) ~ a0 n^(-p_a), b(n) ~ b0 n^(-p_b) with 1/2 < p_a < p_b ≤ 1, and if p_b = 1 also
      b0 > 1/(2 e_min), e_min = min Re λ over the eigenvalues λ of -J_slow      (rate theorems)
====  ==========================================================================================

S1–S5 together are the two-timescale step-size hypotheses of Borkar (1997) and Karmakar &
Bhatnagar (2018).

How a verdict is reached (SymPy alone is not a decision procedure, THEORY.md §7):

0. **Validity.** Each schedule is proved finite and ≥ 0 at every integer n ≥ 0
   (:mod:`acconv.theory_checks.schedule_validity`), or refused (ScheduleError naming the n where
   it fails); when neither can be established, every condition on it is ``undecided``.
1. **Asymptotic form.** Each schedule is reduced to its leading behaviour as n → ∞,
   ``f(n) ~ c · r^n · exp(-s·n^σ) / (n^p · log(n)^q · log(log(n))^q_2 ···)`` (r = e^(-λ),
   0 < σ < 1), by rules for sums, products, powers, exp, log, floor and min/max, and SymPy's
   series expansion at n = ∞ where leading terms cancel (:func:`asymptotic_form`). ``~``
   means the ratio tends to 1; ``≍`` (after floor inside an exponent, or tied min/max branches)
   means the ratio stays between two positive constants, which is all the comparison test
   needs.
2. **Rule.** Σ n^(-p) log(n)^(-q) log(log(n))^(-q_2)··· converges iff the first exponent ≠ 1 is
   > 1 (p-series, Bertrand, Cauchy condensation); geometric and stretched-exponential terms
   (λ > 0, s > 0) are summable; limits of b/a follow from the exponent pairs.
3. **SymPy cross-check.** Every rule-based holds/violated is checked by SymPy
   (``Sum(...).is_convergent()``, ``limit(...)``, ``is_decreasing``) in worker processes that are
   killed at a deadline. If SymPy raises, times out, cannot decide or disagrees, the verdict is
   ``undecided`` with the reason: never ``violated`` without SymPy's agreement. SymPy sees the
   schedule itself, its eventual min/max branch, or - when floor is involved, where SymPy is
   wrong (it calls Σ 0.5^floor(n/1000) divergent) - the comparison sequence of step 1.
4. **Numeric estimate.** Without an asymptotic form, the local exponent p̂ = -Δlog f/Δlog n is
   fitted on n = 10^2..10^12 and compared with the borderline exponent using a tolerance band.
   That is evidence, never a proof: the verdict is ``undecided`` with ``lean`` the way the fit
   points and ``strength="weak"`` (``method="numeric estimate"``).

All of it runs under one budget: each condition, and each schedule's validity proof, is one task
of :func:`~acconv.theory_checks.sympy_oracle.run_budgeted`, killed after ``sympy_timeout``
seconds (and capped in memory); a condition that runs out is ``undecided``: "timed out".

**Oscillating schedules.** A schedule with an oscillating factor (``cos(pi*n/10)``, as torch's
``CosineAnnealingLR`` has, or ``(-1)**n``) has no asymptotic form, and neither a numeric fit nor
a monotonicity scan on a grid says anything about it: no condition on it is ever decided by
step 4. A condition is decided only by a proof that covers the oscillation
(:mod:`acconv.theory_checks.oscillation`): bounds L(n) ≤ f(n) ≤ U(n) free of the factor (|cos| ≤ 1)
to which steps 1–3 apply (Σ L = ∞ gives Σ f = ∞; Σ U² < ∞ gives Σ f² < ∞; U_b/L_a → 0 gives
b/a → 0, ...), or periodicity (a value f(n0) ≠ 0 that recurs every period: f does not tend to 0;
a periodic, non-constant f is not eventually non-increasing). Every other condition on it is
``undecided`` with the reason "oscillating factor cos(...): not decided".

This module states the conditions and decides them; the machinery of the steps has modules of
its own: steps 1 and 2 ``acconv.theory_checks.asymptotics``, step 3
``acconv.theory_checks.sympy_oracle``, step 4 ``acconv.theory_checks.numeric_estimates``, the
proofs for oscillating schedules ``acconv.theory_checks.oscillation`` (the facts) and
``acconv.theory_checks.oscillating_conditions`` (the conditions); the findings both build on
``acconv.theory_checks.step_size_findings``.
``Asymptotic``, ``asymptotic_form``, ``TailExponent`` and ``tail_exponent`` are re-exported here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import sympy

from acconv.schedules import N_SYMBOL, Schedule, ScheduleError, as_schedule
from acconv.theory_checks.asymptotics import (
    Asymptotic,
    asymptotic_form,
    asymptotic_form_of_expr,
    eventual_branch,
    format_exponent,
    format_number,
    monotone_direction,
    not_provably_zero,
)
from acconv.theory_checks.numeric_estimates import (
    DENSE_GRID,
    TailExponent,
    monotone_start,
    tail_exponent,
)
from acconv.theory_checks.oscillating_conditions import (
    oscillating_monotone_finding,
    oscillating_rate_form_finding,
    oscillating_ratio_finding,
    oscillating_series_finding,
)
from acconv.theory_checks.oscillation import oscillation_of, parity_form
from acconv.theory_checks.schedule_validity import Validity, validity_of
from acconv.theory_checks.step_size_findings import (
    Finding,
    Side,
    all_checks,
    combine,
    kt_rule_finding,
    ratio_rule_finding,
    resolve,
    series_rule_finding,
    side_of,
)
from acconv.theory_checks.sympy_oracle import (
    NOT_FOR_SYMPY,
    SYMPY_MEMORY,
    SYMPY_TIMEOUT,
    Outcome,
    SympyCheck,
    run_budgeted,
    run_sympy,
)
from acconv.theory_checks.verdicts import (
    METHOD_NUMERIC,
    METHOD_SYMBOLIC,
    Lean,
    Status,
    Strength,
    Verdict,
    combine_verdicts,
)

__all__ = [
    "CONDITION_IDS",
    "NUMERIC_TOLERANCE",
    "SYMPY_MEMORY",
    "SYMPY_TIMEOUT",
    "Asymptotic",
    "StepSizeReport",
    "TailExponent",
    "asymptotic_form",
    "check_step_sizes",
    "clocks",
    "e_min_of",
    "tail_exponent",
]

CONDITION_IDS: Final = ("S1", "S2", "S3", "S4", "S5", "S6", "S7")
_TWO_TIMESCALE_IDS: Final = ("S1", "S2", "S3", "S4", "S5")
_BORKAR_KB: Final = ("Borkar 1997", "Karmakar & Bhatnagar 2018")
_CONDITIONS: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "S1": ("Σ a(n) = ∞: the critic's clock runs forever", _BORKAR_KB),
    "S2": ("Σ b(n) = ∞: the actor's clock runs forever", _BORKAR_KB),
    "S3": ("Σ a(n)² < ∞ and Σ b(n)² < ∞: the noise averages out", _BORKAR_KB),
    "S4": ("b(n)/a(n) → 0: the actor is slower than the critic", _BORKAR_KB),
    "S5": ("a(n), b(n) non-increasing for all n ≥ some n0", ("Karmakar & Bhatnagar 2018",)),
    "S6": ("Σ (b(n)/a(n))^d < ∞ for some d > 0", ("Konda & Tsitsiklis 2003",)),
    "S7": (
        "a ~ a0/n^p_a, b ~ b0/n^p_b, 1/2 < p_a < p_b ≤ 1 (and b0 > 1/(2 e_min) if p_b = 1)",
        ("Konda & Tsitsiklis 2004", "Mokkadem & Pelletier 2006"),
    ),
}

NUMERIC_TOLERANCE: Final = 0.05
"""Half-width of the band around a borderline exponent inside which a numeric estimate stays
undecided. Wider than 0.02 because one log factor shifts the fitted exponent on the last decade
before 10^12 by log10(12/11) ≈ 0.038 (1/(n log n) looks like n^(-1.038))."""
_NUMERIC_MONOTONE_LIMIT: Final = 10**6  # increases after this grid point leave S5 undecided

_ZERO: Final = sympy.Integer(0)


# ---------------------------------------------------------------------------------------------
# 1. The conditions
# ---------------------------------------------------------------------------------------------


def _evidence(detail: str, evidence: dict[str, float], lean: Lean) -> Finding:
    """A numeric estimate: ``undecided`` leaning ``lean``, never holds/violated. Its strength
    is ``weak``: values of a deterministic sequence on a finite grid (n ≤ 10^12) carry no
    statistical test and bound nothing beyond the grid — exp(sqrt(n)/10^7)/(n+1)^0.8 looks
    like n^(-0.8) there and grows without bound after it."""
    text = f"{detail} (numeric estimate on a finite grid: evidence, not a proof)"
    return Finding("undecided", METHOD_NUMERIC, text, evidence, lean=lean, strength="weak")


def _fmt_p_hat(p: float) -> str:
    return "∞ (underflows to 0)" if math.isinf(p) else f"{p:.3f}"


def _side(name: str, schedule: Schedule) -> Side:
    side = side_of(name, schedule, schedule.expr)
    oscillation = oscillation_of(schedule.expr)
    if oscillation is None and side.form is None:
        parity = parity_form(schedule.expr)
        oscillation = oscillation_of(parity) if parity is not None else None
    return side if oscillation is None else replace(side, oscillation=oscillation)


def _series_finding(side: Side, m: int) -> Finding:
    """Σ f(n)^m: S1/S2 (m = 1, holds if it diverges) and S3 (m = 2, holds if it converges)."""
    if side.oscillation is not None:
        return oscillating_series_finding(side, side.oscillation, m)
    rule = series_rule_finding(side, m)
    return rule if rule is not None else _numeric_series_finding(side.name, side.schedule, m)


def _numeric_series_finding(name: str, function: Callable[..., Any], m: int) -> Finding:
    # never for a schedule with an oscillating factor: tail_exponent gives it p̂ = nan
    estimate = tail_exponent(function)
    p, borderline = estimate.p_hat, 1 / m
    square = "²" if m == 2 else ""
    head = (
        f"no asymptotic form for {name}(n); fitted tail exponent on n = 10^2..10^12: "
        f"{name}(n) ≈ C/n^p̂ with p̂ = {_fmt_p_hat(p)}"
    )
    evidence = {f"p_hat_{name}": p} if math.isfinite(p) else {}
    if math.isnan(p) or abs(p - borderline) < NUMERIC_TOLERANCE:
        band = f"within ±{NUMERIC_TOLERANCE} of the borderline {borderline:g}"
        return Finding("undecided", METHOD_NUMERIC, f"{head}, {band}", evidence)
    converges = p > borderline
    relation = ">" if converges else "<"
    detail = (
        f"{head} {relation} {borderline:g}, so Σ {name}{square} {'<' if converges else '='} ∞ "
        f"if the trend continues"
    )
    lean: Lean = "holds" if converges == (m == 2) else "violated"
    return _evidence(detail, evidence, lean)


def _ratio_function(a: Side, b: Side) -> Callable[[npt.NDArray[np.int64]], Any]:
    def ratio(n: npt.NDArray[np.int64]) -> Any:
        with np.errstate(all="ignore"):
            return b.schedule(n) / a.schedule(n)

    return ratio


def _numeric_ratio_finding(a: Side, b: Side, condition: Literal["S4", "S6"]) -> Finding:
    assert a.oscillation is None and b.oscillation is None  # a fit proves nothing about those
    p = tail_exponent(_ratio_function(a, b)).p_hat
    missing = " and ".join(f"{side.name}(n)" for side in (a, b) if not side.usable)
    missing = missing or "b(n)/a(n)"
    head = (
        f"no asymptotic form for {missing}; fitted tail exponent of b(n)/a(n) on "
        f"n = 10^2..10^12: p̂ = {_fmt_p_hat(p)}"
    )
    evidence = {"p_hat_ratio": p} if math.isfinite(p) else {}
    if math.isnan(p) or abs(p) < NUMERIC_TOLERANCE:
        detail = f"{head}, within ±{NUMERIC_TOLERANCE} of 0 (a log factor cannot be told apart)"
        return Finding("undecided", METHOD_NUMERIC, detail, evidence)
    if p < 0:
        detail = f"{head} < 0: b/a grows, so it does not tend to 0 if the trend continues"
        return _evidence(detail, evidence, "violated")
    if condition == "S4":
        return _evidence(f"{head} > 0: b/a → 0 if the trend continues", evidence, "holds")
    d_min = 1 / p
    evidence["d_min"] = d_min
    detail = f"{head} > 0: Σ (b/a)^d < ∞ for d > 1/p̂ = {d_min:.3g} if the trend continues"
    return _evidence(detail, evidence, "holds")


def _ratio_finding(a: Side, b: Side) -> Finding:
    """S4: b(n)/a(n) → 0, from the exponent pair, checked with sympy.limit."""
    if a.oscillation is not None or b.oscillation is not None:
        return oscillating_ratio_finding(a, b, "S4")
    rule = ratio_rule_finding(a, b)
    return rule if rule is not None else _numeric_ratio_finding(a, b, "S4")


def _kt_finding(a: Side, b: Side) -> Finding:
    """S6: Σ (b/a)^d < ∞ for some d > 0, by the p-series/Bertrand rule on b/a."""
    if a.oscillation is not None or b.oscillation is not None:
        return oscillating_ratio_finding(a, b, "S6")
    rule = kt_rule_finding(a, b)
    return rule if rule is not None else _numeric_ratio_finding(a, b, "S6")


def _form_check(side: Side) -> SympyCheck | None:
    """limit(f(n)/comparison(n)) = coefficient: confirms f ~ coefficient · comparison."""
    form = side.form
    if form is None or not form.exact:
        return None
    branch = eventual_branch(side.schedule.expr)
    if form.is_zero:
        return SympyCheck(f"limit({side.name}(n), n, oo)", "limit", (branch,), _ZERO)
    comparison = form.comparison()
    quotient = f"{side.name}(n)" if comparison == 1 else f"{side.name}(n)/({comparison})"
    return SympyCheck(
        f"limit({quotient}, n, oo)", "limit", (branch / comparison,), form.coefficient
    )


def _rate_form_finding(a: Side, b: Side, e_min: float | None) -> Finding:
    """S7: the Mokkadem–Pelletier form a ~ a0 n^(-p_a), b ~ b0 n^(-p_b), 1/2 < p_a < p_b ≤ 1."""
    if a.oscillation is not None or b.oscillation is not None:
        return oscillating_rate_form_finding(a, b)
    if not (a.usable and b.usable):
        detail = "needs exact asymptotic forms a ~ a0/n^p_a and b ~ b0/n^p_b; none was derived"
        return Finding("undecided", METHOD_SYMBOLIC, detail)
    assert a.form is not None and b.form is not None
    forms = f"{a.form.describe('a(n)')}, {b.form.describe('b(n)')}"
    checks = tuple(check for check in (_form_check(a), _form_check(b)) if check is not None)
    problems = [
        f"{side.form.describe(f'{side.name}(n)')} is not of the form c/n^p"
        for side in (a, b)
        if side.form is not None
        and (
            side.form.is_zero
            or not_provably_zero(side.form.rate)
            or not_provably_zero(side.form.stretch[0])
            or not_provably_zero(side.form.log_power)
            or any(not_provably_zero(q) for q in side.form.iterated)
        )
    ]
    if problems:
        return Finding("violated", METHOD_SYMBOLIC, "; ".join(problems), {}, checks)
    p_a, p_b = a.form.power, b.form.power
    a0, b0 = a.form.coefficient, b.form.coefficient
    evidence = {"p_a": float(p_a), "p_b": float(p_b), "a0": float(a0), "b0": float(b0)}
    failed = [
        text
        for text, ok in (
            (f"p_a = {format_exponent(p_a)} ≤ 1/2", p_a > sympy.Rational(1, 2)),
            (f"p_a = {format_exponent(p_a)} ≥ p_b = {format_exponent(p_b)}", p_a < p_b),
            (f"p_b = {format_exponent(p_b)} > 1", p_b <= 1),
        )
        if not ok
    ]
    if failed:
        # a ≍ n^(-p) fixes p (two exponents cannot both bound one sequence), so the
        # inequalities fail even where the forms are known only up to bounded factors
        detail = f"{forms}: {', '.join(failed)}, outside 1/2 < p_a < p_b ≤ 1"
        return Finding("violated", METHOD_SYMBOLIC, detail, evidence, checks)
    if not (a.form.exact and b.form.exact):
        detail = f"{forms}: only known up to bounded factors; the rate theorems need a ~ a0/n^p_a"
        return Finding("undecided", METHOD_SYMBOLIC, detail, evidence)
    head = f"{forms}: 1/2 < p_a = {format_exponent(p_a)} < p_b = {format_exponent(p_b)} ≤ 1"
    if p_b != 1:
        return Finding("holds", METHOD_SYMBOLIC, head, evidence, checks)
    threshold = 1 / (2 * b0)
    evidence["e_min_threshold"] = float(threshold)
    condition = f"b0 = {format_number(b0)} > 1/(2 e_min), i.e. e_min > {format_number(threshold)}"
    if e_min is None:
        detail = (
            f"{head}; since p_b = 1 the rate theorems also need {condition}, where e_min is the "
            "smallest real part of the eigenvalues of minus the slow Jacobian: a property of "
            "the problem (pass e_min to decide)"
        )
        return Finding("undecided", METHOD_SYMBOLIC, detail, evidence)
    evidence["e_min"] = e_min
    ok = bool(b0 * 2 * sympy.nsimplify(e_min) > 1)
    verb = "satisfies" if ok else "fails"
    detail = (
        f"{head}; p_b = 1 needs {condition}: e_min = {e_min:g} (the smallest real part of the "
        f"eigenvalues of minus the slow Jacobian) {verb} it"
    )
    return Finding("holds" if ok else "violated", METHOD_SYMBOLIC, detail, evidence, checks)


def _numeric_monotone_finding(side: Side, values: npt.NDArray[np.float64]) -> Finding:
    assert side.oscillation is None  # a grid scan proves nothing about an oscillating factor
    start = monotone_start(values)
    where = f"{len(DENSE_GRID)} grid points up to n = 10^12"
    if start > _NUMERIC_MONOTONE_LIMIT:
        detail = (
            f"{side.name}(n) still increases near n = {start} on {where}; "
            "cannot tell whether it stops"
        )
        return Finding("undecided", METHOD_NUMERIC, detail)
    detail = (
        f"{side.name}(n) is non-increasing for all n ≥ n0 = {start} on {where} "
        "(n0 estimated on the grid)"
    )
    return _evidence(detail, {f"n0_{side.name}": float(start)}, "holds")


def _monotone_finding(side: Side) -> Finding:
    """S5 for one schedule: monotone building blocks, else the derivative's sign, else a grid."""
    name, expr = side.name, side.schedule.expr
    if side.oscillation is not None:
        return oscillating_monotone_finding(side, side.oscillation)
    if monotone_direction(expr) in (-1, 0):
        detail = (
            f"{name}(n) is non-increasing for all n ≥ 0 (composed of monotone pieces: "
            "x^p, c^x, exp, log, floor, min, max)"
        )
        return Finding("holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": 0.0})
    with np.errstate(all="ignore"):
        values = side.schedule(DENSE_GRID)
    numeric = _numeric_monotone_finding(side, values)
    branch = eventual_branch(expr)
    start = monotone_start(values)
    if branch != expr and monotone_direction(branch) in (-1, 0):
        detail = (
            f"{name}(n) = {branch} for large n, which is non-increasing; so {name}(n) is "
            f"non-increasing for all n ≥ some n0 (n0 = {start} on a grid)"
        )
        return Finding("holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": float(start)})
    if branch.has(*NOT_FOR_SYMPY):
        return numeric
    derivative = asymptotic_form_of_expr(sympy.diff(branch, N_SYMBOL))
    if derivative is None or derivative.sign is None:
        return numeric
    slope = f"d{name}/dn {'~' if derivative.exact else '≍'} {derivative.formula()}"
    if derivative.is_zero or derivative.sign < 0:
        detail = f"{slope} ≤ 0 for large n, so {name}(n) is non-increasing for all n ≥ n0 = {start}"
        check = SympyCheck(
            f"is_decreasing({name}, [{start}, oo))", "decreasing", (branch, start), True
        )
        return Finding(
            "holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": float(start)}, (check,), numeric
        )
    rising = monotone_start(values, increasing=True)
    detail = f"{slope} > 0 for large n: {name}(n) increases for all n ≥ {rising}"
    check = SympyCheck(
        f"is_strictly_increasing({name}, [{rising}, oo))", "increasing", (branch, rising), True
    )
    # without SymPy's confirmation: undecided, and not the grid's lean, which the derivative's
    # sign contradicts (exp(sqrt(n)/10^7)/(n+1)^0.8 rises only after n ≈ 2.6e14)
    unconfirmed = Finding("undecided", METHOD_SYMBOLIC, f"{detail}, not confirmed")
    return Finding("violated", METHOD_SYMBOLIC, detail, {}, (check,), unconfirmed)


# ---------------------------------------------------------------------------------------------
# 2. The report
# ---------------------------------------------------------------------------------------------


def e_min_of(slow_jacobian: npt.ArrayLike) -> float:
    """e_min = min Re λ over the eigenvalues λ of -J, J the slow ODE's Jacobian at its stable
    point (THEORY.md §3 A2): the rate condition of S7 is b0 > 1/(2 e_min). The real part, not
    the modulus: J = [[-1, -10], [10, -1]] has -J's eigenvalues 1 ± 10i, so e_min = 1 (not
    √101 ≈ 10.05, which would certify b0 = 0.1 wrongly). Raises ValueError unless J is square
    and finite."""
    matrix = np.asarray(slow_jacobian, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.isfinite(matrix).all():
        raise ValueError(f"slow_jacobian has shape {matrix.shape}; expected a finite square matrix")
    return float(np.linalg.eigvals(-matrix).real.min())


def clocks(schedule: Schedule | str, n_max: int) -> npt.NDArray[np.float64]:
    """The effective ODE clock t(n) = Σ_{k<n} step(k) for n = 0, 1, ..., n_max (t(0) = 0).

    t_a(n) (critic) and t_b(n) (actor) are the ODE times each iterate has travelled after n
    updates (THEORY.md §7); S1/S2 say they grow without bound. Returns n_max + 1 floats.
    """
    if isinstance(n_max, bool) or not isinstance(n_max, int | np.integer) or n_max < 0:
        raise ValueError(f"n_max must be an int >= 0, got {n_max!r}")
    steps = as_schedule(schedule)(np.arange(int(n_max), dtype=np.int64))
    return np.concatenate([np.zeros(1), np.cumsum(steps)])


@dataclass(frozen=True)
class StepSizeReport:
    """Verdicts S1–S7 for a critic step size a(n) (fast) and an actor step size b(n) (slow).

    ``two_timescale`` is ``holds`` when S1–S5 all hold, ``violated`` when one of them is
    violated, ``undecided`` otherwise; then ``two_timescale_lean`` and
    ``two_timescale_strength`` say which way the evidence among S1–S5 points
    (:func:`~acconv.theory_checks.verdicts.combine_verdicts`).
    """

    critic: Schedule
    actor: Schedule
    critic_form: Asymptotic | None
    actor_form: Asymptotic | None
    conditions: tuple[Verdict, ...]
    two_timescale: Status
    two_timescale_lean: Lean | None = None
    two_timescale_strength: Strength | None = None

    def __getitem__(self, condition_id: str) -> Verdict:
        for verdict in self.conditions:
            if verdict.id == condition_id:
                return verdict
        raise KeyError(f"no condition {condition_id!r}; expected one of {CONDITION_IDS}")

    def clocks(self, n_max: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(t_a, t_b): the critic's and the actor's effective clocks for n = 0..n_max."""
        return clocks(self.critic, n_max), clocks(self.actor, n_max)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the schedules, their asymptotic forms and all verdicts."""
        return {
            "critic": self.critic.text,
            "actor": self.actor.text,
            "critic_asymptotics": self.critic_form.describe("a(n)") if self.critic_form else None,
            "actor_asymptotics": self.actor_form.describe("b(n)") if self.actor_form else None,
            "conditions": [verdict.to_dict() for verdict in self.conditions],
            "two_timescale": self.two_timescale,
            "two_timescale_lean": self.two_timescale_lean,
            "two_timescale_strength": self.two_timescale_strength,
        }


_DEPENDS_ON: Final[dict[str, tuple[str, ...]]] = {
    "S1": ("a",),
    "S2": ("b",),
    "S3": ("a", "b"),
    "S4": ("a", "b"),
    "S5": ("a", "b"),
    "S6": ("a", "b"),
    "S7": ("a", "b"),
}
_ROLES: Final = {"a": "critic", "b": "actor"}


@functools.lru_cache(maxsize=32)
def _sides(critic: Schedule, actor: Schedule) -> tuple[Side, Side]:
    return _side("a", critic), _side("b", actor)


def _plan(condition_id: str, a: Side, b: Side, e_min: float | None) -> list[Finding]:
    if condition_id == "S1":
        return [_series_finding(a, 1)]
    if condition_id == "S2":
        return [_series_finding(b, 1)]
    if condition_id == "S3":
        return [_series_finding(a, 2), _series_finding(b, 2)]
    if condition_id == "S4":
        return [_ratio_finding(a, b)]
    if condition_id == "S5":
        return [_monotone_finding(a), _monotone_finding(b)]
    if condition_id == "S6":
        return [_kt_finding(a, b)]
    return [_rate_form_finding(a, b, e_min)]


def _decide(condition_id: str, critic: Schedule, actor: Schedule, e_min: float | None) -> Finding:
    """One condition: the forms, the rule-based findings and their SymPy checks, in this process
    (one budgeted task of :func:`check_step_sizes`)."""
    findings = _plan(condition_id, *_sides(critic, actor), e_min)
    checks = {check.key: check for finding in findings for check in all_checks(finding)}
    outcomes = run_sympy([(check.task, check.args) for check in checks.values()], None)
    by_key = dict(zip(checks, outcomes, strict=True))
    return combine([resolve(finding, by_key) for finding in findings])


def _forms(critic: Schedule, actor: Schedule) -> tuple[Asymptotic | None, Asymptotic | None]:
    a, b = _sides(critic, actor)
    return a.form, b.form


def _validity(schedule: Schedule) -> Validity:
    return validity_of(schedule.expr)


def _unproved_validity(outcome: Outcome, role: str, schedule: Schedule) -> str | None:
    """Why the schedule was not proved finite and ≥ 0 for every n ≥ 0 (None: it was); raises
    ScheduleError with the n where it fails."""
    kind, value = outcome
    if kind == "ok" and value.status == "valid":
        return None
    if kind == "ok" and value.status == "invalid":
        raise ScheduleError(f"{role} {value.message(schedule.text)}")
    reason = value.reason if kind == "ok" else value
    return (
        f"{role} schedule {schedule.text!r} is not proved finite and >= 0 for every integer "
        f"n >= 0 ({reason}), so no condition on it is decided"
    )


def _verdict(condition_id: str, outcome: Outcome, unproved: list[str]) -> Verdict:
    name, theorems = _CONDITIONS[condition_id]
    kind, value = outcome
    if kind != "ok":
        what = "timed out" if kind == "timeout" else "the symbolic work failed"
        detail = f"{what}: {value}" if kind == "error" else str(value)
        return Verdict(condition_id, name, "undecided", METHOD_SYMBOLIC, detail, {}, theorems)
    finding: Finding = value
    if (unproved and finding.status in ("holds", "violated")) or (unproved and finding.lean):
        detail = f"{'; '.join(unproved)} [the rules alone: {finding.status}: {finding.detail}]"
        return Verdict(condition_id, name, "undecided", finding.method, detail, {}, theorems)
    return Verdict(
        condition_id,
        name,
        finding.status,
        finding.method,
        finding.detail,
        finding.evidence,
        theorems,
        finding.lean,
        finding.strength,
    )


def check_step_sizes(
    critic: Schedule | str,
    actor: Schedule | str,
    *,
    e_min: float | None = None,
    sympy_timeout: float | None = SYMPY_TIMEOUT,
) -> StepSizeReport:
    """Decide S1–S7 for the critic (fast) step size a(n) and the actor (slow) step size b(n).

    ``e_min`` > 0 is the smallest real part of the eigenvalues of minus the slow Jacobian
    (THEORY.md §3 A2; not the modulus); only S7 with p_b = 1 needs it (b0 > 1/(2 e_min)).
    ``sympy_timeout`` is the budget of the symbolic work in seconds: each condition (its
    asymptotic forms, rules and SymPy checks) and each schedule's validity proof runs in a
    worker process killed after that long (and capped at :data:`SYMPY_MEMORY` extra bytes); a
    condition that runs out is ``undecided`` with the reason "timed out". ``None`` runs all of
    it in this process without a bound. Raises ScheduleError for invalid schedule texts and for
    schedules that are not finite and ≥ 0 at some integer n ≥ 0 (naming that n).
    """
    if e_min is not None and not (math.isfinite(e_min) and e_min > 0):
        raise ValueError(f"e_min must be a finite number > 0, got {e_min!r}")
    if sympy_timeout is not None and not sympy_timeout > 0:
        raise ValueError(f"sympy_timeout must be > 0 seconds or None, got {sympy_timeout!r}")
    a, b = as_schedule(critic), as_schedule(actor)
    tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (_validity, (a,)),
        (_validity, (b,)),
        (_forms, (a, b)),
        *((_decide, (condition_id, a, b, e_min)) for condition_id in CONDITION_IDS),
    ]
    outcomes = run_budgeted(tasks, sympy_timeout)
    unproved = {
        name: _unproved_validity(outcome, _ROLES[name], schedule)
        for name, outcome, schedule in (("a", outcomes[0], a), ("b", outcomes[1], b))
    }
    kind, forms = outcomes[2]
    a_form, b_form = forms if kind == "ok" else (None, None)
    verdicts = tuple(
        _verdict(
            condition_id,
            outcome,
            [why for name in _DEPENDS_ON[condition_id] if (why := unproved[name]) is not None],
        )
        for condition_id, outcome in zip(CONDITION_IDS, outcomes[3:], strict=True)
    )
    status, lean, strength = combine_verdicts([v for v in verdicts if v.id in _TWO_TIMESCALE_IDS])
    return StepSizeReport(a, b, a_form, b_form, verdicts, status, lean, strength)
