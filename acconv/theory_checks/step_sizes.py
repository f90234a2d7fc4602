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
      b0 > 1/(2 e_min), e_min = |eigenvalue of the slow Jacobian closest to 0|   (rate theorems)
====  ==========================================================================================

S1–S5 together are the two-timescale step-size hypotheses of Borkar (1997) and Karmakar &
Bhatnagar (2018).

How a verdict is reached (SymPy alone is not a decision procedure, THEORY.md §7):

1. **Asymptotic form.** Each schedule is reduced to its leading behaviour as n → ∞,
   ``f(n) ~ c · r^n / (n^p · log(n)^q)`` (r = e^(-λ)), by rules for sums, products, powers,
   exp, log, floor and min/max (:func:`asymptotic_form`). ``~`` means the ratio tends to 1; ``≍``
   (after floor inside an exponent, or tied min/max branches) means the ratio stays between two
   positive constants, which is all the comparison test needs.
2. **Rule.** Σ n^(-p) log(n)^(-q) converges iff p > 1, or p = 1 and q > 1 (p-series/Bertrand);
   geometric terms (λ > 0) are summable; limits of b/a follow from the exponent pairs.
3. **SymPy cross-check.** Every rule-based holds/violated is checked by SymPy
   (``Sum(...).is_convergent()``, ``limit(...)``, ``is_decreasing``) in worker processes that are
   killed at a deadline. If SymPy raises, times out, cannot decide or disagrees, the verdict is
   ``undecided`` with the reason: never ``violated`` without SymPy's agreement. SymPy sees the
   schedule itself, its eventual min/max branch, or - when floor is involved, where SymPy is
   wrong (it calls Σ 0.5^floor(n/1000) divergent) - the comparison sequence of step 1.
4. **Numeric estimate.** Without an asymptotic form, the local exponent p̂ = -Δlog f/Δlog n is
   fitted on n = 10^2..10^12 and compared with the borderline exponent using a tolerance band;
   such verdicts carry ``method="numeric estimate"``.
"""

from __future__ import annotations

import functools
import itertools
import math
import multiprocessing
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import sympy

from acconv.schedules import N_SYMBOL, Schedule, as_schedule
from acconv.theory_checks.verdicts import (
    METHOD_NUMERIC,
    METHOD_SERIES_RULE,
    METHOD_SYMBOLIC,
    Status,
    Verdict,
    combine_statuses,
)

__all__ = [
    "CONDITION_IDS",
    "NUMERIC_TOLERANCE",
    "Asymptotic",
    "StepSizeReport",
    "TailExponent",
    "asymptotic_form",
    "check_step_sizes",
    "clocks",
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
_DECADES: Final = tuple(range(2, 13))  # numeric fits use n = 10^2, ..., 10^12
_DENSE_GRID: Final = np.unique(
    np.concatenate([np.arange(10_001), np.geomspace(1e4, 1e12, 4_001).round()])
).astype(np.int64)
_NUMERIC_MONOTONE_LIMIT: Final = 10**6  # increases after this grid point leave S5 undecided
_SYMPY_TIMEOUT: Final = 10.0
_SYMPY_WORKERS: Final = min(4, max(2, os.cpu_count() or 1))

_ZERO: Final = sympy.Integer(0)
_ONE: Final = sympy.Integer(1)
_K: Final = sympy.Symbol("n", integer=True, positive=True)  # SymPy's index: sums start at n = 1
_X: Final = sympy.Symbol("x", positive=True)  # a real variable for monotonicity
_D: Final = sympy.Symbol("d", positive=True)  # the exponent of S6
_NOT_FOR_SYMPY: Final = (sympy.floor, sympy.Min, sympy.Max)


# ---------------------------------------------------------------------------------------------
# 1. Asymptotic forms
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asymptotic:
    """f(n) ~ coefficient · exp(-rate·n) / (n^power · log(n)^log_power) as n → ∞.

    ``exact=True``: the ratio of f to the form tends to 1 (``~``). ``exact=False``: it stays
    between two positive constants (``≍``); then only the sign of ``coefficient`` is meaningful.
    ``coefficient == 0`` means f(n) = 0 for all large n. ``notes`` record the reduction steps
    (eventual min/max branches, floor) for the reader.
    """

    coefficient: sympy.Expr
    rate: sympy.Expr = _ZERO
    power: sympy.Expr = _ZERO
    log_power: sympy.Expr = _ZERO
    exact: bool = True
    notes: tuple[str, ...] = ()

    @property
    def is_zero(self) -> bool:
        """Whether f(n) = 0 for all large n."""
        return bool(self.coefficient == 0)

    @property
    def sign(self) -> int | None:
        """The sign of f(n) for large n (None if SymPy cannot tell)."""
        return _sign(self.coefficient)

    @property
    def limit_class(self) -> Literal["zero", "constant", "infinite"] | None:
        """Whether |f(n)| tends to 0, to a positive constant (or stays ≍ 1), or to ∞."""
        if self.is_zero:
            return "zero"
        for exponent in (self.rate, self.power, self.log_power):
            sign = _sign(exponent)
            if sign is None:
                return None
            if sign != 0:
                return "zero" if sign > 0 else "infinite"
        return "constant"

    def comparison(self) -> sympy.Expr:
        """exp(-rate·n)/((n+1)^power · log(n+2)^log_power): the form without its coefficient,
        shifted so that it is finite and positive for every n ≥ 0."""
        if self.is_zero:
            return _ZERO
        return (
            sympy.exp(-self.rate * N_SYMBOL)
            * (N_SYMBOL + 1) ** (-self.power)
            * sympy.log(N_SYMBOL + 2) ** (-self.log_power)
        )

    def formula(self) -> str:
        """The form as text, e.g. ``0.5/n^(3/5)``, ``1/(n·log(n))``, ``0.1·0.99^n``."""
        if self.is_zero:
            return "0"
        numerator: list[str] = []
        denominator: list[str] = []
        if self.coefficient != 1:
            numerator.append(_fmt_number(self.coefficient))
        if _nonzero(self.rate):
            ratio = _fmt_number(sympy.exp(-self.rate))
            numerator.append(f"({ratio})^n" if "/" in ratio else f"{ratio}^n")
        for base, exponent in (("n", self.power), ("log(n)", self.log_power)):
            if _sign(exponent) == 1:
                denominator.append(_fmt_power(base, exponent))
            elif _sign(exponent) == -1:
                numerator.append(_fmt_power(base, -exponent))
        top = "·".join(numerator) or "1"
        if not denominator:
            return top
        bottom = "·".join(denominator)
        return f"{top}/({bottom})" if len(denominator) > 1 else f"{top}/{bottom}"

    def describe(self, label: str) -> str:
        """E.g. ``a(n) ~ 0.5/n^(3/5)`` for ``label="a(n)"``."""
        if self.is_zero:
            return f"{label} = 0 for all large n"
        return f"{label} {'~' if self.exact else '≍'} {self.formula()}"


def asymptotic_form(schedule: Schedule | str) -> Asymptotic | None:
    """The asymptotic form of a schedule as n → ∞, or None if the rules cannot derive one."""
    return _form_of(as_schedule(schedule).expr)


def _form_of(expr: Any) -> Asymptotic | None:
    """_analyse, retried on one (cancelled) fraction when leading terms cancel, as in
    1/(n+2) - 1/(n+3) = 1/((n+2)(n+3))."""
    form = _analyse(expr)
    if form is None and expr.has(sympy.Add):
        form = _analyse(sympy.together(expr))
        if form is None:
            form = _analyse(sympy.cancel(sympy.together(expr)))
    return form


def _sign(x: Any) -> int | None:
    value = sympy.sympify(x)
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    return None


def _nonzero(x: Any) -> bool:
    """Whether x ≠ 0 (also when SymPy cannot tell: never take a "= 0" shortcut unproved)."""
    return _sign(x) != 0


def _fmt_number(x: Any) -> str:
    value = sympy.sympify(x)
    if value.is_Integer:
        return str(int(value))
    if value.is_Rational:
        q = int(value.q)
        for prime in (2, 5):
            while q % prime == 0:
                q //= prime
        return f"{float(value):g}" if q == 1 else str(value)
    return f"{float(value):.6g}"


def _fmt_exponent(x: Any) -> str:
    value = sympy.sympify(x)
    return str(value) if value.is_Rational else f"{float(value):.6g}"


def _fmt_power(base: str, exponent: Any) -> str:
    if exponent == 1:
        return base
    text = _fmt_exponent(exponent)
    return f"{base}^{text}" if sympy.sympify(exponent).is_Integer else f"{base}^({text})"


def _unique(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def _group(text: str) -> str:
    """``a(n)`` and ``(n + 1)`` stay as they are; other texts get parentheses."""
    return text if re.fullmatch(r"\w+\(n\)|[\w.]+", text) else f"({text})"


def _pow_text(text: str, exponent: object) -> str:
    """``a(n)**2``, ``(1/(n + 1))**2``; the text itself for exponent 1."""
    return text if exponent == 1 else f"{_group(text)}**{exponent}"


def _class_order(f: Asymptotic, g: Asymptotic) -> int | None:
    """+1 if |f| ≫ |g| (f decays more slowly), -1 if |f| ≪ |g|, 0 if the same class."""
    for key in ("rate", "power", "log_power"):
        sign = _sign(getattr(g, key) - getattr(f, key))
        if sign is None:
            return None
        if sign != 0:
            return sign
    return 0


def _order(f: Asymptotic, g: Asymptotic) -> int | None:
    """The eventual sign of f(n) - g(n); 0 when the forms cannot separate them (a tie)."""
    sf, sg = f.sign, g.sign
    if sf is None or sg is None:
        return None
    if sf != sg:
        return 1 if sf > sg else -1
    if sf == 0:
        return 0
    order = _class_order(f, g)
    if order is None or order != 0:
        return None if order is None else sf * order
    if f.exact and g.exact:
        difference = _sign(abs(f.coefficient) - abs(g.coefficient))
        return None if difference is None else sf * difference
    return 0


def _product(forms: Sequence[Asymptotic | None]) -> Asymptotic | None:
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    notes = _unique(note for form in known for note in form.notes)
    if any(form.is_zero for form in known):
        return Asymptotic(_ZERO, notes=notes)
    return Asymptotic(
        sympy.Mul(*(form.coefficient for form in known)),
        sympy.Add(*(form.rate for form in known)),
        sympy.Add(*(form.power for form in known)),
        sympy.Add(*(form.log_power for form in known)),
        all(form.exact for form in known),
        notes,
    )


def _power(form: Asymptotic | None, exponent: Any) -> Asymptotic | None:
    if form is None:
        return None
    exponent = sympy.sympify(exponent)
    if exponent == 0:
        return Asymptotic(_ONE, notes=form.notes)
    if form.is_zero:
        return form if _sign(exponent) == 1 else None
    sign = form.sign
    if sign is None or (sign < 0 and not exponent.is_integer):
        return None
    return Asymptotic(
        form.coefficient**exponent,
        form.rate * exponent,
        form.power * exponent,
        form.log_power * exponent,
        form.exact,
        form.notes,
    )


def _sum(forms: Sequence[Asymptotic | None]) -> Asymptotic | None:
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    notes = _unique(note for form in known for note in form.notes)
    terms = [form for form in known if not form.is_zero]
    if not terms:
        return Asymptotic(_ZERO, notes=notes)
    top = [terms[0]]
    for form in terms[1:]:
        order = _class_order(form, top[0])
        if order is None:
            return None
        if order > 0:
            top = [form]
        elif order == 0:
            top.append(form)
    lead = top[0]
    if len(top) == 1:
        return replace(lead, notes=notes)
    total = sympy.Add(*(form.coefficient for form in top))
    if all(form.exact for form in top):
        if _sign(total) in (0, None):  # the leading terms cancel: the next order would decide
            return None
        return replace(lead, coefficient=total, notes=notes)
    signs = {form.sign for form in top}
    if len(signs) != 1 or None in signs:
        return None
    return replace(lead, coefficient=total, exact=False, notes=notes)


def _linear(u: Any) -> tuple[Any, Any] | None:
    """(A, B) with u = A·n + B, or None."""
    slope, intercept = _ZERO, _ZERO
    for term in sympy.Add.make_args(sympy.expand_mul(u)):
        coefficient, rest = term.as_independent(N_SYMBOL, as_Add=False)
        if rest == 1:
            intercept += coefficient
        elif rest == N_SYMBOL:
            slope += coefficient
        else:
            return None
    return slope, intercept


def _exp_of(argument: Any) -> Asymptotic | None:
    """exp(argument) for argument = α·n + β + Σ c·floor(A·n + B) + Σ c·log(h) + o(1)."""
    slope, constant, exact = _ZERO, _ZERO, True
    factors: list[Asymptotic | None] = []
    notes: list[str] = []
    for term in sympy.Add.make_args(sympy.expand_mul(argument)):
        coefficient, rest = term.as_independent(N_SYMBOL, as_Add=False)
        if rest == 1:
            constant += coefficient
        elif rest == N_SYMBOL:
            slope += coefficient
        elif isinstance(rest, sympy.floor) and (line := _linear(rest.args[0])) is not None:
            slope += coefficient * line[0]
            constant += coefficient * line[1]
            exact = False
            notes.append(f"{rest} = {rest.args[0]} - frac, 0 ≤ frac < 1: bounded factor (≍)")
        elif isinstance(rest, sympy.log):
            factors.append(_power(_analyse(rest.args[0]), coefficient))
        else:
            form = _analyse(term)
            if form is None:
                return None
            if form.limit_class == "zero":
                continue  # exp(o(1)) → 1
            if form.limit_class == "constant" and form.exact:
                constant += form.coefficient
                continue
            return None
    base = Asymptotic(sympy.exp(constant), -slope, _ZERO, _ZERO, exact, tuple(notes))
    return _product([base, *factors])


def _log_of(form: Asymptotic | None) -> Asymptotic | None:
    """log f: log(c·e^(-λn)·n^(-p)·...) = -λn + O(log n), or -p·log n + O(log log n)."""
    if form is None or form.sign != 1:
        return None
    if _nonzero(form.rate):
        return Asymptotic(-form.rate, _ZERO, -_ONE, _ZERO, True, form.notes)
    if _nonzero(form.power):
        return Asymptotic(-form.power, _ZERO, _ZERO, -_ONE, True, form.notes)
    if _nonzero(form.log_power) or not form.exact:
        return None  # log log n, or a bounded factor without a limit
    value = sympy.log(form.coefficient)
    return None if _sign(value) in (0, None) else Asymptotic(value, notes=form.notes)


def _floor_of(form: Asymptotic | None, argument: Any) -> Asymptotic | None:
    if form is None:
        return None
    kind, sign = form.limit_class, form.sign
    if kind == "infinite":
        return replace(form, notes=(*form.notes, f"floor({argument}) ~ {argument}"))
    if kind == "zero":
        if form.is_zero or sign == 1:
            return Asymptotic(_ZERO, notes=form.notes)
        return Asymptotic(-_ONE, notes=form.notes) if sign == -1 else None
    if kind == "constant" and form.exact and not form.coefficient.is_integer:
        value = sympy.floor(form.coefficient)
        return Asymptotic(value if value != 0 else _ZERO, notes=form.notes)
    return None


def _strict_winner(forms: Sequence[Asymptotic | None], largest: bool) -> int | None:
    """Index of the argument that is eventually strictly the largest (smallest), if any."""
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    wanted = 1 if largest else -1
    for i, form in enumerate(known):
        if all(_order(form, other) == wanted for j, other in enumerate(known) if j != i):
            return i
    return None


def _extremum(expr: Any) -> Asymptotic | None:
    largest = isinstance(expr, sympy.Max)
    forms = [_analyse(arg) for arg in expr.args]
    winner = _strict_winner(forms, largest)
    if winner is not None:
        form = forms[winner]
        assert form is not None
        note = f"{expr} = {expr.args[winner]} for large n"
        return replace(form, notes=(*form.notes, note))
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    best = known[0]
    for other in known[1:]:
        order = _order(other, best)
        if order is None:
            return None
        if order == (1 if largest else -1):
            best = other
        elif order == 0:
            best = replace(best, exact=best.exact and other.exact)
    note = f"{expr}: branches tie up to bounded factors (≍)"
    return replace(best, notes=(*best.notes, note))


@functools.lru_cache(maxsize=2048)
def _analyse(expr: Any) -> Asymptotic | None:
    """The asymptotic form of a SymPy expression in N_SYMBOL (None if no rule applies)."""
    if expr.is_number:
        if expr.is_zero:
            return Asymptotic(_ZERO)
        return Asymptotic(expr) if expr.is_extended_real else None
    if expr == N_SYMBOL:
        return Asymptotic(_ONE, power=-_ONE)
    if isinstance(expr, sympy.Add):
        return _sum([_analyse(arg) for arg in expr.args])
    if isinstance(expr, sympy.Mul):
        return _product([_analyse(arg) for arg in expr.args])
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent.is_number:
            return _power(_analyse(base), exponent)
        if base.is_number and base.is_extended_positive:
            return _exp_of(exponent * sympy.log(base))
        return None
    if isinstance(expr, sympy.exp):
        return _exp_of(expr.args[0])
    if isinstance(expr, sympy.log):
        return _log_of(_analyse(expr.args[0]))
    if isinstance(expr, sympy.floor):
        return _floor_of(_analyse(expr.args[0]), expr.args[0])
    if isinstance(expr, sympy.Min | sympy.Max):
        return _extremum(expr)
    return None


def _eventual_branch(expr: Any) -> Any:
    """expr with every min/max replaced by the argument that eventually wins (where one does)."""
    if expr.is_Atom:
        return expr
    args = [_eventual_branch(arg) for arg in expr.args]
    if isinstance(expr, sympy.Min | sympy.Max):
        winner = _strict_winner([_analyse(arg) for arg in args], isinstance(expr, sympy.Max))
        if winner is not None:
            return args[winner]
    return expr.func(*args)


def _series_rule(form: Asymptotic) -> tuple[bool, str] | None:
    """(converges, reason) for Σ f(n) by comparison with the form (terms eventually ≥ 0)."""
    if form.is_zero:
        return True, "the terms are 0 for all large n (a finite sum)"
    if form.sign != 1:
        return None
    rate = _sign(form.rate)
    if rate is None:
        return None
    if rate != 0:
        ratio = _fmt_number(sympy.exp(-form.rate))
        if rate > 0:
            return True, f"the terms decay geometrically (ratio {ratio} < 1)"
        return False, f"the terms grow geometrically (ratio {ratio} > 1)"
    p, q = form.power, form.log_power
    if form.limit_class != "zero":
        return False, "the terms do not tend to 0"
    above_one = _sign(p - 1)
    if above_one is None:
        return None
    log_note = "; the log factor does not matter" if _nonzero(q) else ""
    if above_one > 0:
        return True, f"p = {_fmt_exponent(p)} > 1 (p-series{log_note})"
    if above_one < 0:
        return False, f"p = {_fmt_exponent(p)} < 1 (p-series{log_note})"
    if not _nonzero(q):
        return False, "p = 1 (harmonic series)"
    above = _sign(q - 1)
    if above is None:
        return None
    relation = "> 1" if above > 0 else "≤ 1"
    return above > 0, f"p = 1 and q = {_fmt_exponent(q)} {relation} (Bertrand series)"


# ---------------------------------------------------------------------------------------------
# 2. Monotone building blocks (S5)
# ---------------------------------------------------------------------------------------------


def _same_direction(directions: Sequence[int | None]) -> int | None:
    if None in directions:
        return None
    moving = {d for d in directions if d != 0}
    if len(moving) > 1:
        return None
    return moving.pop() if moving else 0


def _direction(expr: Any) -> int | None:
    """-1 if expr is non-increasing in n ≥ 0, +1 if non-decreasing, 0 if constant, else None,
    proved by composing monotone pieces: x ↦ c·x, x^e and e^x, log x, floor x, min, max."""
    if expr.is_number:
        return 0
    if expr == N_SYMBOL:
        return 1
    if isinstance(expr, sympy.Add | sympy.Min | sympy.Max):
        return _same_direction([_direction(arg) for arg in expr.args])
    if isinstance(expr, sympy.Mul):
        coefficient, rest = expr.as_coeff_Mul()
        factors = sympy.Mul.make_args(rest)
        if len(factors) > 1 and not all(factor.is_positive for factor in factors):
            return None  # products keep monotonicity only for positive factors
        direction = _same_direction([_direction(factor) for factor in factors])
        sign = _sign(coefficient)
        return None if direction is None or sign is None else direction * sign
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent.is_number:
            if not (base.is_positive or (base.is_nonnegative and exponent.is_positive)):
                return None
            inner, sign = _direction(base), _sign(exponent)
            return None if inner is None or sign is None else inner * sign
        if base.is_number and base.is_positive:
            inner, sign = _direction(exponent), _sign(sympy.log(base))
            return None if inner is None or sign is None else inner * sign
        return None
    if isinstance(expr, sympy.exp | sympy.floor):
        return _direction(expr.args[0])
    if isinstance(expr, sympy.log):
        return _direction(expr.args[0]) if expr.args[0].is_positive else None
    return None


def _monotone_start(values: npt.NDArray[np.float64], increasing: bool = False) -> int:
    """The first grid point of the final non-increasing (non-decreasing) run of values."""
    step = np.diff(values) if not increasing else -np.diff(values)
    scale = 1e-12 * np.maximum(np.abs(values[:-1]), np.abs(values[1:]))
    against = np.flatnonzero(~(step <= scale))  # also catches nan
    return 0 if against.size == 0 else int(_DENSE_GRID[against[-1] + 1])


# ---------------------------------------------------------------------------------------------
# 3. Numeric estimates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TailExponent:
    """Local decay exponents p̂_k = -(log f(10^(k+1)) - log f(10^k)) / log 10 of f.

    ``p_hat`` is the exponent over the last decade (``inf`` if f underflows to 0 there, ``nan``
    if no decade has two positive finite values).
    """

    n: tuple[int, ...]
    values: tuple[float, ...]
    exponents: tuple[float, ...]
    p_hat: float


def tail_exponent(
    f: Schedule | str | Callable[[npt.NDArray[np.int64]], npt.NDArray[np.float64]],
) -> TailExponent:
    """Fit the local exponent of f on n = 10^2, ..., 10^12 (a numeric estimate, not a proof)."""
    function = as_schedule(f) if isinstance(f, Schedule | str) else f
    n = np.array([10**k for k in _DECADES], dtype=np.int64)
    with np.errstate(all="ignore"):
        values = np.asarray(function(n), dtype=np.float64)
        exponents = []
        for low, high in itertools.pairwise(values):
            if not (np.isfinite(low) and np.isfinite(high) and low > 0 and high >= 0):
                exponents.append(math.nan)
            elif high == 0:
                exponents.append(math.inf)  # underflow: faster than any power
            else:
                exponents.append(float(-np.log10(high / low)))
    finite = [p for p in exponents if not math.isnan(p)]
    return TailExponent(
        tuple(int(k) for k in n),
        tuple(float(v) for v in values),
        tuple(exponents),
        finite[-1] if finite else math.nan,
    )


def _fmt_p_hat(p: float) -> str:
    return "∞ (underflows to 0)" if math.isinf(p) else f"{p:.3f}"


# ---------------------------------------------------------------------------------------------
# 4. SymPy cross-checks in worker processes
# ---------------------------------------------------------------------------------------------


def _sympy_converges(expr: Any) -> Any:
    return sympy.Sum(expr.subs(N_SYMBOL, _K), (_K, 1, sympy.oo)).is_convergent()


def _sympy_limit(expr: Any) -> Any:
    return sympy.limit(expr.subs(N_SYMBOL, _K), _K, sympy.oo)


def _sympy_decreasing(expr: Any, start: int) -> Any:
    return sympy.is_decreasing(expr.subs(N_SYMBOL, _X), sympy.Interval(start, sympy.oo), _X)


def _sympy_increasing(expr: Any, start: int) -> Any:
    interval = sympy.Interval(start, sympy.oo)
    return sympy.is_strictly_increasing(expr.subs(N_SYMBOL, _X), interval, _X)


_SYMPY_TASKS: Final[dict[str, Callable[..., Any]]] = {
    "converges": _sympy_converges,
    "limit": _sympy_limit,
    "decreasing": _sympy_decreasing,
    "increasing": _sympy_increasing,
}

_Outcome = tuple[Literal["ok", "error", "timeout"], Any]


def _short(error: BaseException) -> str:
    text = re.sub(r"\s+", " ", f"{type(error).__name__}: {error}").strip()
    return text if len(text) <= 160 else text[:157] + "..."


def _sympy_worker(task: str, args: tuple[Any, ...]) -> _Outcome:
    try:
        return "ok", _SYMPY_TASKS[task](*args)
    except Exception as error:  # SymPy raises many kinds (NotImplementedError, ValueError, ...)
        return "error", _short(error)


def _run_sympy(
    calls: Sequence[tuple[str, tuple[Any, ...]]], timeout: float | None
) -> list[_Outcome]:
    """Run SymPy calls in 2-4 worker processes, all killed ``timeout`` seconds after the start
    (a hung SymPy call cannot outlive it); ``timeout=None`` runs them in this process."""
    if not calls:
        return []
    if timeout is None:
        return [_sympy_worker(task, args) for task, args in calls]
    # fork: workers start instantly and inherit the loaded modules.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    try:
        with warnings.catch_warnings():  # Python >= 3.12 warns about fork in threaded processes
            warnings.simplefilter("ignore", DeprecationWarning)
            pool = multiprocessing.get_context(method).Pool(min(len(calls), _SYMPY_WORKERS))
    except Exception as error:  # e.g. inside a daemonic process
        return [("error", f"no SymPy worker process could start ({_short(error)})")] * len(calls)
    try:
        pending = [pool.apply_async(_sympy_worker, call) for call in calls]
        deadline = time.monotonic() + timeout
        outcomes: list[_Outcome] = []
        for result in pending:
            try:
                outcomes.append(result.get(max(0.0, deadline - time.monotonic())))
            except multiprocessing.TimeoutError:
                outcomes.append(("timeout", f"no answer within the {timeout:g} s SymPy budget"))
            except Exception as error:  # e.g. a result that cannot be unpickled
                outcomes.append(("error", _short(error)))
        return outcomes
    finally:
        pool.terminate()
        pool.join()


@dataclass(frozen=True)
class _Check:
    """One SymPy computation and the answer the rule predicts for it."""

    label: str
    task: str
    args: tuple[Any, ...]
    expected: Any

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.task, tuple(sympy.srepr(arg) for arg in self.args)


@dataclass(frozen=True)
class _Finding:
    """A claim about one condition (or half of one), before and after its SymPy checks."""

    status: Status
    method: str
    detail: str
    evidence: Mapping[str, float] = field(default_factory=dict)
    checks: tuple[_Check, ...] = ()
    fallback: _Finding | None = None  # used instead of "undecided" when a check fails


def _agrees(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool):
        if isinstance(value, bool | sympy.logic.boolalg.BooleanAtom):
            return bool(value) == expected
        return False
    try:
        value = sympy.sympify(value)
    except (sympy.SympifyError, TypeError):
        return False
    if value.has(sympy.Limit, sympy.AccumBounds, sympy.nan) or value.free_symbols:
        return False
    if expected in (sympy.oo, -sympy.oo) or value in (sympy.oo, -sympy.oo, sympy.zoo):
        return bool(value == expected)
    try:
        difference = complex(sympy.N(value - expected, 30))
        scale = max(1.0, abs(complex(sympy.N(expected))))
    except (TypeError, ValueError):
        return False
    return abs(difference) <= 1e-12 * scale


def _all_checks(finding: _Finding | None) -> list[_Check]:
    if finding is None:
        return []
    return [*finding.checks, *_all_checks(finding.fallback)]


def _resolve(
    finding: _Finding, outcomes: Mapping[tuple[str, tuple[str, ...]], _Outcome]
) -> _Finding:
    """Keep the claim if every SymPy check agrees; otherwise the fallback, or undecided."""
    confirmations = []
    for check in finding.checks:
        kind, value = outcomes[check.key]
        if kind == "ok" and _agrees(value, check.expected):
            confirmations.append(f"{check.label} = {value}")
            continue
        if kind == "ok":
            reason = f"{check.label} gave {value}, the rule predicts {check.expected}"
        elif kind == "timeout":
            reason = f"{check.label}: {value}"
        else:
            reason = f"{check.label} raised {value}"
        if finding.fallback is not None:
            fallback = _resolve(finding.fallback, outcomes)
            return replace(fallback, detail=f"{fallback.detail} [symbolic route failed: {reason}]")
        detail = f"{finding.detail} — not confirmed: {reason}"
        return _Finding("undecided", finding.method, detail, finding.evidence)
    if not confirmations:
        return finding
    return replace(finding, detail=f"{finding.detail}; SymPy agrees: {'; '.join(confirmations)}")


def _combine(findings: Sequence[_Finding]) -> _Finding:
    """The conjunction of findings (e.g. S3 = Σ a² < ∞ and Σ b² < ∞)."""
    if len(findings) == 1:
        return findings[0]
    status = combine_statuses([finding.status for finding in findings])
    deciding = [finding for finding in findings if finding.status == status] or list(findings)
    rank = {METHOD_SYMBOLIC: 0, METHOD_SERIES_RULE: 1, METHOD_NUMERIC: 2}
    method = max((finding.method for finding in deciding), key=lambda m: rank.get(m, 3))
    evidence = {key: value for finding in findings for key, value in finding.evidence.items()}
    return _Finding(status, method, "; ".join(f.detail for f in findings), evidence)


# ---------------------------------------------------------------------------------------------
# 5. The conditions
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """One schedule as the checks see it: its name, form and the SymPy target."""

    name: str  # "a" or "b"
    schedule: Schedule
    form: Asymptotic | None
    target: Any  # the expression SymPy analyses (schedule, eventual branch or comparison)
    text: str  # how details name the target
    itself: bool  # whether target equals the schedule for large n (not just a comparison)

    @property
    def usable(self) -> bool:
        return self.form is not None and (self.form.is_zero or self.form.sign == 1)

    def notes(self) -> tuple[str, ...]:
        """The reduction steps, e.g. 'Min(1/10, 10/(n + 1)) = 10/(n + 1) for large n'."""
        return self.form.notes if self.form is not None else ()


def _intro(*sides: _Side) -> str:
    return "".join(f"{note}; " for note in _unique(n for side in sides for n in side.notes()))


def _side(name: str, schedule: Schedule) -> _Side:
    form = _form_of(schedule.expr)
    branch = _eventual_branch(schedule.expr)
    if not branch.has(*_NOT_FOR_SYMPY):
        text = f"{name}(n)" if branch == schedule.expr else str(branch)
        return _Side(name, schedule, form, branch, text, True)
    target = form.comparison() if form is not None else _ZERO
    return _Side(name, schedule, form, target, str(target), False)


def _exponent_evidence(name: str, form: Asymptotic) -> dict[str, float]:
    if form.is_zero:
        return {}
    evidence = {f"p_{name}": float(form.power), f"q_{name}": float(form.log_power)}
    if _nonzero(form.rate):
        evidence[f"rate_{name}"] = float(form.rate)
    return evidence


def _series_finding(side: _Side, m: int) -> _Finding:
    """Σ f(n)^m: S1/S2 (m = 1, holds if it diverges) and S3 (m = 2, holds if it converges)."""
    want_divergence = m == 1
    square = "²" if m == 2 else ""
    form = _power(side.form, m) if side.usable else None
    rule = _series_rule(form) if form is not None else None
    if form is None or rule is None:
        return _numeric_series_finding(side.name, side.schedule, m)
    converges, reason = rule
    statement = f"Σ {side.name}{square} {'<' if converges else '='} ∞"
    described = form.describe(f"{side.name}(n){square}")
    detail = f"{_intro(side)}{described}: {statement} because {reason}"
    check = _Check(
        f"Sum({_pow_text(side.text, m)}, (n, 1, oo)).is_convergent()",
        "converges",
        (side.target**m,),
        converges,
    )
    status: Status = "holds" if converges != want_divergence else "violated"
    assert side.form is not None
    evidence = _exponent_evidence(side.name, side.form)
    return _Finding(status, METHOD_SERIES_RULE, detail, evidence, (check,))


def _numeric_series_finding(name: str, function: Callable[..., Any], m: int) -> _Finding:
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
        return _Finding("undecided", METHOD_NUMERIC, f"{head}, {band}", evidence)
    converges = p > borderline
    relation = ">" if converges else "<"
    detail = (
        f"{head} {relation} {borderline:g}, so Σ {name}{square} {'<' if converges else '='} ∞ "
        f"if the trend continues"
    )
    status: Status = "holds" if converges == (m == 2) else "violated"
    return _Finding(status, METHOD_NUMERIC, detail, evidence)


def _ratio_form(a: _Side, b: _Side) -> Asymptotic | None:
    return _product([b.form, _power(a.form, -1)])


def _ratio_target(a: _Side, b: _Side) -> tuple[Any, str]:
    if a.itself and b.itself:
        return b.target / a.target, f"{_group(b.text)}/{_group(a.text)}"
    assert a.form is not None and b.form is not None
    ratio = b.form.comparison() / a.form.comparison()
    return ratio, str(ratio)


def _ratio_function(a: _Side, b: _Side) -> Callable[[npt.NDArray[np.int64]], Any]:
    def ratio(n: npt.NDArray[np.int64]) -> Any:
        with np.errstate(all="ignore"):
            return b.schedule(n) / a.schedule(n)

    return ratio


def _numeric_ratio_finding(a: _Side, b: _Side, condition: Literal["S4", "S6"]) -> _Finding:
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
        return _Finding("undecided", METHOD_NUMERIC, detail, evidence)
    if p < 0:
        detail = f"{head} < 0: b/a grows, so it does not tend to 0"
        return _Finding("violated", METHOD_NUMERIC, detail, evidence)
    if condition == "S4":
        return _Finding("holds", METHOD_NUMERIC, f"{head} > 0: b/a → 0", evidence)
    d_min = 1 / p
    evidence["d_min"] = d_min
    detail = f"{head} > 0: Σ (b/a)^d < ∞ for d > 1/p̂ = {d_min:.3g} if the trend continues"
    return _Finding("holds", METHOD_NUMERIC, detail, evidence)


def _ratio_finding(a: _Side, b: _Side) -> _Finding:
    """S4: b(n)/a(n) → 0, from the exponent pair, checked with sympy.limit."""
    if a.usable and a.form is not None and a.form.is_zero:
        detail = f"{_intro(a)}a(n) = 0 for all large n, so b(n)/a(n) is undefined"
        return _Finding("undecided", METHOD_SYMBOLIC, detail)
    ratio = _ratio_form(a, b) if a.usable and b.usable else None
    kind = ratio.limit_class if ratio is not None else None
    if ratio is None or kind is None:
        return _numeric_ratio_finding(a, b, "S4")
    assert a.form is not None and b.form is not None
    pair = (
        f"{a.form.describe('a(n)')} and {b.form.describe('b(n)')}, "
        f"so b(n)/a(n) {'~' if ratio.exact else '≍'} {ratio.formula()}"
    )
    target, text = _ratio_target(a, b)
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
            verdict = f"→ {_fmt_number(ratio.coefficient)} ≠ 0"
            evidence["ratio_limit"] = float(ratio.coefficient)
        else:
            verdict = "stays between two positive constants: it does not tend to 0"
    status: Status = "holds" if kind == "zero" else "violated"
    check = _Check(f"limit({text}, n, oo)", "limit", (target,), expected)
    detail = f"{_intro(a, b)}{pair} {verdict}"
    return _Finding(status, METHOD_SYMBOLIC, detail, evidence, (check,))


def _kt_finding(a: _Side, b: _Side) -> _Finding:
    """S6: Σ (b/a)^d < ∞ for some d > 0, by the p-series/Bertrand rule on b/a."""
    if a.usable and a.form is not None and a.form.is_zero:
        detail = f"{_intro(a)}a(n) = 0 for all large n, so b(n)/a(n) is undefined"
        return _Finding("undecided", METHOD_SERIES_RULE, detail)
    ratio = _ratio_form(a, b) if a.usable and b.usable else None
    kind = ratio.limit_class if ratio is not None else None
    if ratio is None or kind is None:
        return _numeric_ratio_finding(a, b, "S6")
    assert a.form is not None and b.form is not None
    if b.form.is_zero:
        detail = "b(n) = 0 for all large n: Σ (b/a)^d is a finite sum for every d > 0"
        return _Finding("holds", METHOD_SERIES_RULE, detail, {"d_min": 0.0})
    target, text = _ratio_target(a, b)
    head = f"{_intro(a, b)}b(n)/a(n) {'~' if ratio.exact else '≍'} {ratio.formula()}"
    diverges = _Check(
        f"limit(n*{_pow_text(text, 'd')}, n, oo) for d > 0",
        "limit",
        (N_SYMBOL * target**_D,),
        sympy.oo,
    )
    if kind != "zero":
        detail = (
            f"{head} does not tend to 0, so neither does (b/a)^d: Σ (b/a)^d = ∞ for every d > 0"
        )
        return _Finding("violated", METHOD_SERIES_RULE, detail, {}, (diverges,))
    if _sign(ratio.rate) == 1:
        detail = f"{head} decays geometrically: Σ (b/a)^d < ∞ for every d > 0 (e.g. d = 1)"
        evidence: dict[str, float] = {"d_min": 0.0, "d": 1.0}
        d = _ONE
    elif _sign(ratio.power) == 1:
        d_min = 1 / ratio.power
        d = sympy.floor(d_min) + 1
        detail = (
            f"{head}: Σ (b/a)^d < ∞ when d·{_fmt_exponent(ratio.power)} > 1 (p-series), "
            f"i.e. for every d > 1/(p_b - p_a) = {_fmt_exponent(d_min)}; e.g. d = {d}"
        )
        evidence = {"d_min": float(d_min), "d": float(d)}
    else:  # b/a ≍ log(n)^(-q): (b/a)^d ≍ log(n)^(-q·d), never summable
        q = _fmt_exponent(ratio.log_power)
        detail = (
            f"{head} → 0 only logarithmically: (b/a)^d ≍ 1/log(n)^({q}·d) and "
            f"Σ 1/log(n)^({q}·d) = ∞ for every d > 0 (p = 0 ≤ 1, Bertrand)"
        )
        return _Finding("violated", METHOD_SERIES_RULE, detail, {}, (diverges,))
    label = f"Sum({_pow_text(text, d)}, (n, 1, oo)).is_convergent()"
    converges = _Check(label, "converges", (target**d,), True)
    return _Finding("holds", METHOD_SERIES_RULE, detail, evidence, (converges,))


def _form_check(side: _Side) -> _Check | None:
    """limit(f(n)/comparison(n)) = coefficient: confirms f ~ coefficient · comparison."""
    form = side.form
    if form is None or not form.exact:
        return None
    branch = _eventual_branch(side.schedule.expr)
    if form.is_zero:
        return _Check(f"limit({side.name}(n), n, oo)", "limit", (branch,), _ZERO)
    comparison = form.comparison()
    quotient = f"{side.name}(n)" if comparison == 1 else f"{side.name}(n)/({comparison})"
    return _Check(f"limit({quotient}, n, oo)", "limit", (branch / comparison,), form.coefficient)


def _rate_form_finding(a: _Side, b: _Side, e_min: float | None) -> _Finding:
    """S7: the Mokkadem–Pelletier form a ~ a0 n^(-p_a), b ~ b0 n^(-p_b), 1/2 < p_a < p_b ≤ 1."""
    if not (a.usable and b.usable):
        detail = "needs exact asymptotic forms a ~ a0/n^p_a and b ~ b0/n^p_b; none was derived"
        return _Finding("undecided", METHOD_SYMBOLIC, detail)
    assert a.form is not None and b.form is not None
    forms = f"{a.form.describe('a(n)')}, {b.form.describe('b(n)')}"
    checks = tuple(check for check in (_form_check(a), _form_check(b)) if check is not None)
    problems = [
        f"{side.form.describe(f'{side.name}(n)')} is not of the form c/n^p"
        for side in (a, b)
        if side.form is not None
        and (side.form.is_zero or _nonzero(side.form.rate) or _nonzero(side.form.log_power))
    ]
    if not (a.form.exact and b.form.exact):
        detail = f"{forms}: only known up to bounded factors; the rate theorems need a ~ a0/n^p_a"
        return _Finding("undecided", METHOD_SYMBOLIC, detail)
    if problems:
        return _Finding("violated", METHOD_SYMBOLIC, "; ".join(problems), {}, checks)
    p_a, p_b = a.form.power, b.form.power
    a0, b0 = a.form.coefficient, b.form.coefficient
    evidence = {"p_a": float(p_a), "p_b": float(p_b), "a0": float(a0), "b0": float(b0)}
    failed = [
        text
        for text, ok in (
            (f"p_a = {_fmt_exponent(p_a)} ≤ 1/2", p_a > sympy.Rational(1, 2)),
            (f"p_a = {_fmt_exponent(p_a)} ≥ p_b = {_fmt_exponent(p_b)}", p_a < p_b),
            (f"p_b = {_fmt_exponent(p_b)} > 1", p_b <= 1),
        )
        if not ok
    ]
    if failed:
        detail = f"{forms}: {', '.join(failed)}, outside 1/2 < p_a < p_b ≤ 1"
        return _Finding("violated", METHOD_SYMBOLIC, detail, evidence, checks)
    head = f"{forms}: 1/2 < p_a = {_fmt_exponent(p_a)} < p_b = {_fmt_exponent(p_b)} ≤ 1"
    if p_b != 1:
        return _Finding("holds", METHOD_SYMBOLIC, head, evidence, checks)
    threshold = 1 / (2 * b0)
    evidence["e_min_threshold"] = float(threshold)
    condition = f"b0 = {_fmt_number(b0)} > 1/(2 e_min), i.e. e_min > {_fmt_number(threshold)}"
    if e_min is None:
        detail = (
            f"{head}; since p_b = 1 the rate theorems also need {condition}, where e_min is the "
            "modulus of the slow Jacobian's eigenvalue closest to 0: a property of the problem "
            "(pass e_min to decide)"
        )
        return _Finding("undecided", METHOD_SYMBOLIC, detail, evidence)
    evidence["e_min"] = e_min
    ok = bool(b0 * 2 * sympy.nsimplify(e_min) > 1)
    verb = "satisfies" if ok else "fails"
    detail = f"{head}; p_b = 1 needs {condition}: e_min = {e_min:g} {verb} it"
    return _Finding("holds" if ok else "violated", METHOD_SYMBOLIC, detail, evidence, checks)


def _numeric_monotone_finding(side: _Side, values: npt.NDArray[np.float64]) -> _Finding:
    start = _monotone_start(values)
    where = f"{len(_DENSE_GRID)} grid points up to n = 10^12"
    if start > _NUMERIC_MONOTONE_LIMIT:
        detail = (
            f"{side.name}(n) still increases near n = {start} on {where}; "
            "cannot tell whether it stops"
        )
        return _Finding("undecided", METHOD_NUMERIC, detail)
    detail = (
        f"{side.name}(n) is non-increasing for all n ≥ n0 = {start} on {where} "
        "(n0 estimated on the grid)"
    )
    return _Finding("holds", METHOD_NUMERIC, detail, {f"n0_{side.name}": float(start)})


def _monotone_finding(side: _Side) -> _Finding:
    """S5 for one schedule: monotone building blocks, else the derivative's sign, else a grid."""
    name, expr = side.name, side.schedule.expr
    if _direction(expr) in (-1, 0):
        detail = (
            f"{name}(n) is non-increasing for all n ≥ 0 (composed of monotone pieces: "
            "x^p, c^x, exp, log, floor, min, max)"
        )
        return _Finding("holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": 0.0})
    with np.errstate(all="ignore"):
        values = side.schedule(_DENSE_GRID)
    numeric = _numeric_monotone_finding(side, values)
    branch = _eventual_branch(expr)
    start = _monotone_start(values)
    if branch != expr and _direction(branch) in (-1, 0):
        detail = (
            f"{name}(n) = {branch} for large n, which is non-increasing; so {name}(n) is "
            f"non-increasing for all n ≥ some n0 (n0 = {start} on a grid)"
        )
        return _Finding("holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": float(start)})
    if branch.has(*_NOT_FOR_SYMPY):
        return numeric
    derivative = _form_of(sympy.diff(branch, N_SYMBOL))
    if derivative is None or derivative.sign is None:
        return numeric
    slope = f"d{name}/dn {'~' if derivative.exact else '≍'} {derivative.formula()}"
    if derivative.is_zero or derivative.sign < 0:
        detail = f"{slope} ≤ 0 for large n, so {name}(n) is non-increasing for all n ≥ n0 = {start}"
        check = _Check(f"is_decreasing({name}, [{start}, oo))", "decreasing", (branch, start), True)
        return _Finding(
            "holds", METHOD_SYMBOLIC, detail, {f"n0_{name}": float(start)}, (check,), numeric
        )
    rising = _monotone_start(values, increasing=True)
    detail = f"{slope} > 0 for large n: {name}(n) increases for all n ≥ {rising}"
    check = _Check(
        f"is_strictly_increasing({name}, [{rising}, oo))", "increasing", (branch, rising), True
    )
    return _Finding("violated", METHOD_SYMBOLIC, detail, {}, (check,), numeric)


# ---------------------------------------------------------------------------------------------
# 6. The report
# ---------------------------------------------------------------------------------------------


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
    violated, ``undecided`` otherwise.
    """

    critic: Schedule
    actor: Schedule
    critic_form: Asymptotic | None
    actor_form: Asymptotic | None
    conditions: tuple[Verdict, ...]
    two_timescale: Status

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
        }


def check_step_sizes(
    critic: Schedule | str,
    actor: Schedule | str,
    *,
    e_min: float | None = None,
    sympy_timeout: float | None = _SYMPY_TIMEOUT,
) -> StepSizeReport:
    """Decide S1–S7 for the critic (fast) step size a(n) and the actor (slow) step size b(n).

    ``e_min`` > 0 is the modulus of the slow Jacobian's eigenvalue closest to 0; only S7 with
    p_b = 1 needs it (b0 > 1/(2 e_min)). ``sympy_timeout`` bounds the wall time of all SymPy
    cross-checks (worker processes are killed then); ``None`` runs SymPy in this process without
    a bound. Raises ScheduleError for invalid schedule texts.
    """
    if e_min is not None and not (math.isfinite(e_min) and e_min > 0):
        raise ValueError(f"e_min must be a finite number > 0, got {e_min!r}")
    if sympy_timeout is not None and not sympy_timeout > 0:
        raise ValueError(f"sympy_timeout must be > 0 seconds or None, got {sympy_timeout!r}")
    a, b = _side("a", as_schedule(critic)), _side("b", as_schedule(actor))
    plan: dict[str, list[_Finding]] = {
        "S1": [_series_finding(a, 1)],
        "S2": [_series_finding(b, 1)],
        "S3": [_series_finding(a, 2), _series_finding(b, 2)],
        "S4": [_ratio_finding(a, b)],
        "S5": [_monotone_finding(a), _monotone_finding(b)],
        "S6": [_kt_finding(a, b)],
        "S7": [_rate_form_finding(a, b, e_min)],
    }
    checks = {
        check.key: check
        for findings in plan.values()
        for finding in findings
        for check in _all_checks(finding)
    }
    outcomes = _run_sympy([(check.task, check.args) for check in checks.values()], sympy_timeout)
    by_key = dict(zip(checks, outcomes, strict=True))
    verdicts = []
    for condition_id, findings in plan.items():
        finding = _combine([_resolve(f, by_key) for f in findings])
        name, theorems = _CONDITIONS[condition_id]
        verdicts.append(
            Verdict(
                condition_id,
                name,
                finding.status,
                finding.method,
                finding.detail,
                finding.evidence,
                theorems,
            )
        )
    two_timescale = combine_statuses([v.status for v in verdicts if v.id in _TWO_TIMESCALE_IDS])
    return StepSizeReport(a.schedule, b.schedule, a.form, b.form, tuple(verdicts), two_timescale)
