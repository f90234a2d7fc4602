"""Interval arithmetic on schedule expressions: bounds of f(n) for every integer n in [l, h].

One job: :func:`interval` evaluates a SymPy expression of the schedule grammar on an interval of
n (h may be ∞) with mpmath's outward-rounded intervals, checking every node's domain (no 0 in a
denominator or under a negative power, no negative number under a fractional power, log of
positive numbers only) and raising :class:`Fails` where a check fails — ``surely`` when it fails
at every n of the interval. Used by the validity proof of a schedule
(:mod:`acconv.theory_checks.schedule_validity`) and by the monotone building blocks of S5
(:func:`positive_for_every_n`).
"""

from __future__ import annotations

import functools
from typing import Any, Final, Literal

import mpmath
import sympy

from acconv.schedules import N_SYMBOL

__all__ = ["THETA", "Fails", "Problem", "interval", "positive_for_every_n"]

_IV = mpmath.iv
_INF = mpmath.inf
THETA: Final = tuple(sympy.Dummy(f"theta{i}") for i in range(8))
"""Symbols for floor(g) = g - θ, θ ∈ [0, 1]; :func:`interval` gives each the range [0, 1]."""
_RELAXED: Final = {theta: _IV.mpf([0, 1]) for theta in THETA}

Problem = Literal["not finite", "not a real number", "negative"]


class Fails(Exception):
    """A domain or sign problem on the interval: ``surely`` at every n in it, or maybe."""

    def __init__(self, problem: Problem, surely: bool) -> None:
        super().__init__(problem)
        self.problem: Problem = problem
        self.surely = surely


@functools.lru_cache(maxsize=512)
def _number(value: Any) -> Any:
    """An mpmath interval that contains the real number ``value``."""
    value = sympy.nsimplify(value) if value.is_Float else value
    if value.is_Rational:
        return _IV.mpf(int(value.p)) / _IV.mpf(int(value.q))
    approx = mpmath.mpf(str(sympy.N(value, 40)))
    pad = abs(approx) * mpmath.mpf(10) ** -30 + mpmath.mpf(10) ** -300
    return _IV.mpf([approx - pad, approx + pad])


def _contains_zero(x: Any) -> bool:
    return bool(x.a <= 0 <= x.b)


def interval(expr: Any, n: Any) -> Any:
    """An interval containing expr(m) for every integer m in the interval ``n``; raises Fails."""
    if expr == N_SYMBOL:
        return n
    if expr.is_number:
        return _number(expr)
    if isinstance(expr, sympy.Add):
        total = _IV.mpf(0)
        for arg in expr.args:
            total = total + interval(arg, n)
        return total
    if isinstance(expr, sympy.Mul):
        product = _IV.mpf(1)
        for arg in expr.args:
            product = product * interval(arg, n)
        return product
    if isinstance(expr, sympy.Pow):
        return _power(expr, n)
    if isinstance(expr, sympy.exp):
        return _IV.exp(interval(expr.args[0], n))
    if isinstance(expr, sympy.log):
        inner = interval(expr.args[0], n)
        if inner.b <= 0:
            raise Fails("not finite" if inner.b == 0 else "not a real number", True)
        if inner.a <= 0:
            raise Fails("not a real number", False)
        return _IV.log(inner)
    if isinstance(expr, sympy.floor):
        inner = interval(expr.args[0], n)
        return _IV.mpf([mpmath.floor(inner.a), mpmath.floor(inner.b)])
    if isinstance(expr, sympy.Min | sympy.Max):
        parts = [interval(arg, n) for arg in expr.args]
        pick = min if isinstance(expr, sympy.Min) else max
        return _IV.mpf([pick(p.a for p in parts), pick(p.b for p in parts)])
    if isinstance(expr, sympy.cos | sympy.sin):
        return _IV.mpf([-1, 1])
    if expr in _RELAXED:
        return _RELAXED[expr]
    raise Fails("not a real number", False)  # a function without an interval rule


def _power(expr: Any, n: Any) -> Any:
    base, exponent = expr.args
    if not exponent.is_number:
        if base == -1 and exponent.is_integer:
            return _IV.mpf([-1, 1])
        if base.is_number and base.is_positive:
            return _IV.exp(interval(exponent, n) * _number(sympy.log(base)))
        raise Fails("not a real number", False)
    x = interval(base, n)
    if exponent.is_Integer:
        if exponent < 0 and _contains_zero(x):
            raise Fails("not finite", x.a == 0 == x.b)
        return x ** int(exponent)
    if x.b < 0:
        raise Fails("not a real number", True)
    if x.a < 0:
        raise Fails("not a real number", False)
    if exponent < 0 and x.a == 0:
        raise Fails("not finite", x.b == 0)
    if x.b == _INF:
        low = x.a ** _number(exponent) if x.a > 0 else _IV.mpf(0)
        return _IV.mpf([low.a, _INF]) if exponent > 0 else _IV.mpf([0, low.b])
    return x ** _number(exponent)


def positive_for_every_n(expr: Any) -> bool:
    """Whether expr(n) > 0 for every n ≥ 0 is proved by one interval evaluation on [0, ∞)."""
    try:
        value = interval(expr, _IV.mpf([0, _INF]))
    except (Fails, ValueError, ZeroDivisionError, OverflowError, TypeError):
        return False
    return bool(value.a > 0)
