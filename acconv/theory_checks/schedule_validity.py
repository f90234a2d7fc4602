"""Is a schedule a step size for EVERY integer n ≥ 0: finite, real and ≥ 0? A proof, or a witness.

One job: :func:`validity_of` decides, for an expression f(n) in the schedule grammar, whether
f(n) is finite, real and ≥ 0 at every integer n ≥ 0 — not only on a grid (``1/(n-150)**2`` is
infinite at n = 150 only, ``sqrt((n-150)**2-0.25)`` not real there only, and
``1/(n+1)**0.6-10**(-30)*(n+1)**0.1`` negative only from n ≈ 7·10^42 on). Three routes, in order:

1. **Interval arithmetic, branch and bound over the integers.** f is evaluated on n ∈ [l, h]
   (h may be ∞) with mpmath's outward-rounded intervals, every node checked for its domain
   (no 0 in a denominator or under a negative power, no negative number under a fractional
   power, log of positive numbers only). An interval that passes is proved for every n in it.
   One that fails everywhere gives a witness; one that may fail is split at an integer (a pole
   at a non-integer, as in ``1/(2n-1)``, is never hit), the tail [l, ∞) at 2l+64, up to
   n ≈ 2^(:data:`_MAX_TAIL_SPLITS`). A witness n is confirmed by exact SymPy evaluation.
2. **The sign of the asymptotic form.** f ~ c·(form) with c < 0 is negative for all large n.
3. **SymPy's solveset** on the real relaxation x ≥ 0 of f(x) < 0 (for the cancellations interval
   arithmetic cannot see through, like sqrt(n+2) - sqrt(n+1) or 1/(n+1) - 1/(n+2)): an empty set
   proves f ≥ 0 on the tail, a set with an integer in it is a witness.

Otherwise the result is ``unknown`` with the reason; the step-size conditions that depend on the
schedule are then undecided. All of this runs inside the budget of
:func:`~acconv.theory_checks.sympy_oracle.run_budgeted`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import mpmath
import sympy

from acconv.schedules import N_SYMBOL
from acconv.theory_checks.asymptotics import asymptotic_form_of_expr, oscillating_factors
from acconv.theory_checks.interval_bounds import THETA, Fails, Problem, interval
from acconv.theory_checks.oscillation import envelope

__all__ = ["Validity", "validity_of"]

_MAX_EVALUATIONS: Final = 300  # interval evaluations on bounded pieces, per pass
_MAX_TAIL_SPLITS: Final = 64  # the tail [l, ∞) is split up to l ≈ 2^70
_WITNESS_POWERS: Final = range(64, 4096, 4)  # where an eventually negative f is looked at: 2^k
_EXACT_DIGITS: Final = 50
_IV = mpmath.iv
_INF = mpmath.inf
_X: Final = sympy.Symbol("x", nonnegative=True)  # the real relaxation of n for solveset


@dataclass(frozen=True)
class Validity:
    """``valid``: f(n) finite, real, ≥ 0 for every integer n ≥ 0 (proved). ``invalid``: not at
    ``n`` (confirmed exactly; ``n`` None when the proof is "for all large n"), with ``problem``.
    ``unknown``: neither was established; ``reason`` says why."""

    status: Literal["valid", "invalid", "unknown"]
    problem: str = ""
    n: int | None = None
    reason: str = ""

    def message(self, text: str) -> str:
        """The one-line refusal of schedule ``text`` (for ``invalid``)."""
        where = f"at n={self.n}" if self.n is not None else "for all large n"
        return (
            f"schedule {text!r} is {self.problem} {where} ({self.reason}); expected finite "
            "values >= 0 for every integer n >= 0"
        )


def _check(expr: Any, low: int, high: Any) -> tuple[str, Problem | None]:
    """("ok", None) proved on [low, high]; ("surely", problem) fails at every n in it;
    ("maybe", problem) not decided."""
    try:
        value = interval(expr, _IV.mpf([low, high]))
    except Fails as fails:
        return ("surely" if fails.surely else "maybe"), fails.problem
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        return "maybe", "not a real number"
    if mpmath.isnan(value.a) or mpmath.isnan(value.b):
        return "maybe", "not a real number"
    if value.b < 0:
        return "surely", "negative"
    if value.a < 0:
        return "maybe", "negative"
    if high != _INF and value.b == _INF:
        return "maybe", "not finite"
    return "ok", None


def _exact_problem(expr: Any, n: int) -> str | None:
    """What is wrong with expr(n), from SymPy's exact value (None: nothing)."""
    value = sympy.sympify(expr.subs(N_SYMBOL, n))
    if value.has(sympy.zoo, sympy.oo, -sympy.oo) or value.is_finite is False:
        return "not finite"
    if value.has(sympy.nan):
        return "not a real number"
    numeric = sympy.N(value, _EXACT_DIGITS)
    if not numeric.is_extended_real or numeric.has(sympy.I):
        return "not a real number" if numeric.is_finite is not False else "not finite"
    if numeric.is_negative:
        return "negative"
    return None


def _witness(expr: Any, low: int, high: Any) -> Validity | None:  # expr: the schedule itself
    """An exactly confirmed failure among a few integers of [low, high]."""
    candidates = [low] if high == _INF else sorted({low, int(high), (low + int(high)) // 2})
    for n in candidates:
        problem = _exact_problem(expr, n)
        if problem is not None:
            return Validity("invalid", problem, n, f"exact value f({n})")
    return None


def _branch_and_bound(target: Any, expr: Any) -> tuple[Validity | None, int | None, set[Problem]]:
    """(verdict, None, {}), or (None, l, problems) when [0, l) was proved and [l, ∞) not.
    ``target`` (expr, or a relaxation of it) is evaluated; witnesses are confirmed on expr."""
    stack: list[tuple[int, Any]] = [(0, _INF)]
    evaluations = tail_splits = 0
    unresolved: list[tuple[int, Problem]] = []
    while stack:
        low, high = stack.pop()
        outcome, problem = _check(target, low, high)
        if outcome == "ok":
            continue
        if outcome == "surely" or low == high:
            found = _witness(expr, low, high)
            if found is not None:
                return found, None, set()
            if low == high:
                continue  # the exact value is fine: the interval was only too wide
        assert problem is not None
        if high == _INF:
            tail_splits += 1
            if tail_splits > _MAX_TAIL_SPLITS:
                unresolved.append((low, problem))
                continue
            middle = 2 * low + 64
            stack += [(middle + 1, _INF), (low, middle)]
            continue
        evaluations += 1
        if evaluations > _MAX_EVALUATIONS:
            unresolved.append((low, problem))
            continue
        middle = (low + int(high)) // 2
        stack += [(middle + 1, high), (low, middle)]
    if not unresolved:
        return Validity("valid", reason="interval arithmetic on every n >= 0"), None, set()
    return None, min(low for low, _ in unresolved), {problem for _, problem in unresolved}


def _solveset_proof(expr: Any, low: int) -> Validity | None:
    """f(x) ≥ 0 for every real x ≥ low (solveset finds no x with f(x) < 0), or a witness."""
    if expr.has(sympy.floor, sympy.Min, sympy.Max) or oscillating_factors(expr):
        return None
    relaxed = expr.subs(N_SYMBOL, _X)
    bad = sympy.solveset(relaxed < 0, _X, sympy.Interval(low, sympy.oo))
    if bad is sympy.EmptySet:
        poles = sympy.singularities(relaxed, _X, sympy.Interval(low, sympy.oo))
        if poles is sympy.EmptySet:
            return Validity("valid", reason=f"interval arithmetic and solveset from n = {low}")
        return None
    for part in bad.args if isinstance(bad, sympy.Union) else (bad,):
        if isinstance(part, sympy.Interval) and part.inf.is_finite:
            n = int(sympy.ceiling(part.inf))
            for candidate in (n, n + 1):
                problem = _exact_problem(expr, candidate)
                if problem is not None:
                    return Validity("invalid", problem, candidate, "solveset")
    return None


def _relax_floors(expr: Any) -> Any:
    """expr with floor(g_i) replaced by g_i - θ_i, θ_i ∈ [0, 1] (floor(g) ∈ (g - 1, g]), so that
    n cancels where it does in n - 2·floor(n/2) = 2·θ; None without floor or with too many."""
    floors = list(dict.fromkeys(expr.atoms(sympy.floor)))
    if not floors or len(floors) > len(THETA):
        return None
    relaxed = expr.xreplace(
        {floor: floor.args[0] - theta for floor, theta in zip(floors, THETA, strict=False)}
    )
    return None if relaxed.has(sympy.floor) else sympy.factor_terms(relaxed)


def _eventually_negative(expr: Any) -> Validity | None:
    """f ~ c·(form) with c < 0: negative for all large n; a witness n = 2^k where one is found."""
    form = asymptotic_form_of_expr(expr)
    if form is None or form.sign != -1:
        return None
    for k in _WITNESS_POWERS:
        outcome, _ = _check(expr, 2**k, 2**k)
        if outcome == "surely" and _exact_problem(expr, 2**k) == "negative":
            return Validity("invalid", "negative", 2**k, f"f(2^{k}) < 0; {form.describe('f(n)')}")
    detail = f"{form.describe('f(n)')} with a negative coefficient"
    return Validity("invalid", "negative", None, detail)


def validity_of(expr: Any) -> Validity:
    """Whether expr(n) is finite, real and ≥ 0 for every integer n ≥ 0 (module docstring)."""
    found, low, problems = _branch_and_bound(sympy.factor_terms(expr), expr)
    if found is not None:
        return found
    bounds = envelope(expr) if oscillating_factors(expr) else None
    if problems == {"negative"} and bounds is not None:
        # every domain check passed; f ≥ L for every n, and L has no oscillating factor
        lower = validity_of(bounds[0])
        if lower.status == "valid":
            return replace(lower, reason=f"{lower.reason}, for the lower bound {bounds[0]}")
    relaxed = _relax_floors(expr)
    if relaxed is not None:
        again, _, _ = _branch_and_bound(relaxed, expr)
        if again is not None and again.status == "valid":
            return replace(again, reason=f"{again.reason}, with floor(g) in (g - 1, g]")
    assert low is not None
    negative = _eventually_negative(expr)
    if negative is not None:
        return negative
    try:
        proved = _solveset_proof(expr, low)
    except (NotImplementedError, ValueError, TypeError, AttributeError, RecursionError):
        proved = None
    if proved is not None:
        return proved
    return Validity(
        "unknown",
        reason=(
            f"proved finite and >= 0 for n < {low} by interval arithmetic; from n = {low} on "
            f"it may be {' or '.join(sorted(problems))} (neither interval arithmetic nor "
            "solveset decides it)"
        ),
    )
