"""Schedules with an oscillating factor: the bounds and the periodicity that can be proved.

One job: for a schedule f(n) with an oscillating factor (:func:`oscillating_factors`: a cosine of
an argument in n, as in torch's ``CosineAnnealingLR``, or ``(-1)^n``), which has no asymptotic
form, derive facts that hold for **every** n ≥ 0 and that the step-size checks may use as proofs
(:func:`oscillation_of`):

* an envelope L(n) ≤ f(n) ≤ U(n) whose bounds have no oscillating factor (:func:`envelope`), by
  interval arithmetic on the expression tree: cos, sin and (-1)^k lie in [-1, 1]; sums add the
  bounds; monotone pieces (exp, log, floor, min, max, c^x, x^p on x ≥ 0) map them; a product uses
  the sign SymPy proves for a factor, else the min and max of the four corner products;
* a period P with f(n + P) = f(n) for every n (:func:`period`), when n enters f only through
  cos(π·(p/q)·n + φ) (period 2q), sin(π·(p/q)·n + φ) (period 2q) and (-1)^(k·n + j) (period 2);
* exact values of a periodic f at n = 0, 1, ...: a value f(n0) ≠ 0 recurs at n0 + kP for every k,
  so f does not tend to 0; two different values make f non-constant, and a periodic sequence that
  is non-increasing from some n0 on is constant, so f is not.

Nothing here is numeric: bounds, periods and values are exact SymPy expressions whose signs SymPy
proves, or the function gives up (None). The conditions are decided in
:mod:`acconv.theory_checks.step_sizes`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import sympy
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from acconv.schedules import N_SYMBOL
from acconv.theory_checks.asymptotics import _linear, oscillating_factors

__all__ = [
    "Oscillation",
    "envelope",
    "oscillating_factors",
    "oscillation_of",
    "parity_form",
    "period",
    "periodic_split",
]

_VALUES_TRIED: Final = 24  # exact values f(0), f(1), ... looked at for a recurring value ≠ 0
_ZERO: Final = sympy.Integer(0)
_ONE: Final = sympy.Integer(1)

Bounds = tuple[Any, Any]


@dataclass(frozen=True)
class Oscillation:
    """What is proved about a schedule f(n) with oscillating factors, for every n ≥ 0.

    ``lower``/``upper``: L(n) ≤ f(n) ≤ U(n) without oscillating factors (None if not derived).
    ``period``: f(n + period) = f(n) (None if not derived). ``recurring``: (n0, f(n0)) with
    f(n0) ≠ 0 proved, so f(n0 + k·period) = f(n0) for every k. ``distinct``: ((i, f(i)),
    (j, f(j))) with f(i) ≠ f(j) proved (only for a periodic f: then f is not eventually
    monotone).
    """

    factors: tuple[Any, ...]
    lower: Any | None = None
    upper: Any | None = None
    period: int | None = None
    recurring: tuple[int, Any] | None = None
    distinct: tuple[tuple[int, Any], tuple[int, Any]] | None = None
    envelope_factor: Any | None = None  # g in f = g·h, h periodic: see :func:`periodic_split`
    periodic_factor: Any | None = None  # h
    periodic_values: tuple[Any, ...] = ()  # h(0), ..., h(P - 1), exact

    @property
    def factor_text(self) -> str:
        """``oscillating factor cos(pi*n/10)`` (or ``factors ...`` for several)."""
        names = ", ".join(str(factor) for factor in self.factors)
        return f"oscillating factor{'s' if len(self.factors) > 1 else ''} {names}"

    @property
    def lower_is_positive_number(self) -> bool:
        """Whether L(n) is one number c > 0 (then f(n) ≥ c for every n)."""
        return self.lower is not None and self.lower.is_number and bool(self.lower.is_positive)


def oscillation_of(expr: Any) -> Oscillation | None:
    """The proved facts about ``expr`` (see :class:`Oscillation`), or None if it has no
    oscillating factor."""
    factors = oscillating_factors(expr)
    if not factors:
        return None
    bounds = envelope(expr)
    lower, upper = bounds if bounds is not None else (None, None)
    p = period(expr)
    recurring = distinct = None
    if p is not None:
        recurring, distinct = _periodic_values(expr, p)
    split = periodic_split(expr)
    g, h, values = split if split is not None else (None, None, ())
    return Oscillation(factors, lower, upper, p, recurring, distinct, g, h, values)


def parity_form(expr: Any) -> Any | None:
    """expr with every floor((n + j)/2), j an integer, written as (n + j)/2 - (1 - (-1)^(n+j))/4
    (equal at every integer n: n + j even gives (n+j)/2, odd (n+j-1)/2), so that a parity such
    as n - 2·floor(n/2) = (1 - (-1)^n)/2 becomes an oscillating factor; None if there is none."""
    replacements = {}
    for floor in expr.atoms(sympy.floor):
        line = _linear(floor.args[0])
        if line is None or line[0] != sympy.Rational(1, 2) or not (2 * line[1]).is_Integer:
            continue
        twice = N_SYMBOL + 2 * line[1]
        replacements[floor] = twice / 2 - (1 - sympy.Integer(-1) ** twice) / 4
    return expr.xreplace(replacements) if replacements else None


def periodic_split(expr: Any) -> tuple[Any, Any, tuple[Any, ...]] | None:
    """(g, h, (h(0), ..., h(P-1))) with expr = g·h, g free of oscillating factors and h periodic
    with period P ≤ 24 (n enters h only through periodic factors), every h(k) an exact real
    number; None otherwise. E.g. (2 + (-1)^n)/(n+1): g = 1/(n+1), h = 2 + (-1)^n, values (3, 1)."""
    periodic = [f for f in sympy.Mul.make_args(expr) if oscillating_factors(f)]
    if not periodic:
        return None
    h = sympy.Mul(*periodic)
    g = sympy.Mul(*(f for f in sympy.Mul.make_args(expr) if not oscillating_factors(f)))
    p = period(h)
    if p is None or p > _VALUES_TRIED:
        return None
    try:
        values = tuple(sympy.nsimplify(h.subs(N_SYMBOL, k)) for k in range(p))
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    if not all(value.is_extended_real and value.is_number for value in values):
        return None
    return g, h, values


# ---------------------------------------------------------------------------------------------
# 1. Envelopes
# ---------------------------------------------------------------------------------------------


def envelope(expr: Any) -> Bounds | None:
    """(L, U) with L(n) ≤ expr(n) ≤ U(n) for every n ≥ 0 and no oscillating factor in L or U,
    by interval arithmetic (module docstring); None if a piece has no rule. Exact bounds may be
    loose (the correlation of two occurrences of one factor is lost), never wrong."""
    try:
        bounds = _bounds(sympy.sympify(expr))
    except (TypeError, ValueError, ArithmeticError, RecursionError):
        return None
    if bounds is None:
        return None
    low, up = (sympy.sympify(bound) for bound in bounds)
    for bound in (low, up):
        if oscillating_factors(bound) or bound.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            return None
        if bound.is_extended_real is False:
            return None
    return low, up


def _sure(value: Any) -> bool:
    return value is True


def _nonnegative(x: Any) -> bool:
    """x ≥ 0 for every n ≥ 0 (SymPy proves it)."""
    return _sure(sympy.sympify(x).is_nonnegative)


def _nonpositive(x: Any) -> bool:
    return _sure(sympy.sympify(x).is_nonpositive)


def _positive(x: Any) -> bool:
    return _sure(sympy.sympify(x).is_positive)


def _bounds(e: Any) -> Bounds | None:
    """Interval bounds of one node; exact (e, e) for a subexpression without oscillation."""
    if not oscillating_factors(e):
        return e, e
    if isinstance(e, TrigonometricFunction):
        return (-_ONE, _ONE) if isinstance(e, sympy.cos | sympy.sin) else None
    if isinstance(e, sympy.Add):
        parts = [_bounds(arg) for arg in e.args]
        if any(part is None for part in parts):
            return None
        lows, ups = zip(*(part for part in parts if part is not None), strict=True)
        return sympy.Add(*lows), sympy.Add(*ups)
    if isinstance(e, sympy.Mul):
        result: Bounds | None = (_ONE, _ONE)
        for arg in e.args:
            part = _bounds(arg)
            if result is None or part is None:
                return None
            result = _product(result, part)
        return result
    if isinstance(e, sympy.Pow):
        return _power(e)
    if isinstance(e, sympy.exp | sympy.floor | sympy.Min | sympy.Max):
        # non-decreasing in every argument
        parts = [_bounds(arg) for arg in e.args]
        if any(part is None for part in parts):
            return None
        lows, ups = zip(*(part for part in parts if part is not None), strict=True)
        return e.func(*lows), e.func(*ups)
    if isinstance(e, sympy.log):
        inner = _bounds(e.args[0])
        if inner is None or not _positive(inner[0]):
            return None
        return sympy.log(inner[0]), sympy.log(inner[1])
    return None


def _product(a: Bounds, b: Bounds) -> Bounds:
    (l1, u1), (l2, u2) = a, b
    for (low, up), (other_low, other_up) in ((a, b), (b, a)):
        if low == up:  # an exact factor g: its proved sign orders g·[l, u]
            if _nonnegative(low):
                return low * other_low, low * other_up
            if _nonpositive(low):
                return low * other_up, low * other_low
    if _nonnegative(l1) and _nonnegative(l2):
        return l1 * l2, u1 * u2
    corners = (l1 * l2, l1 * u2, u1 * l2, u1 * u2)
    return sympy.Min(*corners), sympy.Max(*corners)


def _power(e: Any) -> Bounds | None:
    base, exponent = e.args
    if base.is_number and not base.is_nonnegative:
        # an oscillating factor (-1)^k: in [-1, 1] when k is an integer for every n
        return (-_ONE, _ONE) if base == -1 and exponent.is_integer else None
    if exponent.is_number:
        inner = _bounds(base)
        if inner is None:
            return None
        low, up = inner
        if exponent.is_positive:
            if _nonnegative(low) or (exponent.is_integer and exponent.is_odd):
                return low**exponent, up**exponent  # x^p increasing there
            if exponent.is_integer and exponent.is_even:  # |x| ≤ max(|l|, |u|)
                return _ZERO, sympy.Max(low**exponent, up**exponent)
            return None
        if exponent.is_negative and _positive(low):
            return up**exponent, low**exponent  # x^p decreasing on x > 0
        return None
    if base.is_number and base.is_positive:
        inner = _bounds(exponent)
        if inner is None:
            return None
        low, up = inner
        if (base - 1).is_positive:
            return base**low, base**up
        if (base - 1).is_negative:
            return base**up, base**low
    return None


# ---------------------------------------------------------------------------------------------
# 2. Periodicity
# ---------------------------------------------------------------------------------------------


def _factor_period(factor: Any) -> int | None:
    if isinstance(factor, sympy.cos | sympy.sin):
        line = _linear(factor.args[0])
        if line is None:
            return None
        turns = sympy.sympify(line[0] / sympy.pi)
        if not (turns.is_Rational and turns != 0):
            return None  # slope not a rational multiple of π: not periodic on the integers
        return 2 * int(turns.q)  # cos(π(p/q)(n + 2q) + φ) = cos(π(p/q)n + φ + 2πp)
    if isinstance(factor, sympy.Pow) and factor.base == -1 and factor.exp.is_integer:
        line = _linear(factor.exp)
        if line is not None and line[0].is_Integer:
            return 2
    return None


def period(expr: Any) -> int | None:
    """A P ≥ 1 with expr(n + P) = expr(n) for every n ≥ 0, when n enters ``expr`` only through
    the periodic factors of the module docstring; None otherwise (also when ``expr`` has no
    oscillating factor)."""
    factors = oscillating_factors(expr)
    if not factors:
        return None
    periods = [_factor_period(factor) for factor in factors]
    if any(p is None for p in periods):
        return None
    rest = expr.xreplace({factor: sympy.Dummy() for factor in factors})
    if N_SYMBOL in rest.free_symbols:
        return None
    return math.lcm(*(p for p in periods if p is not None))


def _periodic_values(
    expr: Any, p: int
) -> tuple[tuple[int, Any] | None, tuple[tuple[int, Any], tuple[int, Any]] | None]:
    """A recurring value ≠ 0 and two different values among expr(0), expr(1), ... (exact)."""
    recurring: tuple[int, Any] | None = None
    distinct: tuple[tuple[int, Any], tuple[int, Any]] | None = None
    first: Any = None
    for k in range(min(p, _VALUES_TRIED)):
        try:
            value = sympy.sympify(expr.subs(N_SYMBOL, k))
            if recurring is None and value.is_zero is False and value.is_extended_real:
                recurring = (k, value)
            if k == 0:
                first = value
            elif distinct is None and (value - first).is_zero is False:
                distinct = ((0, first), (k, value))
        except (TypeError, ValueError, ArithmeticError, RecursionError):
            continue
        if recurring is not None and distinct is not None:
            break
    return recurring, distinct
