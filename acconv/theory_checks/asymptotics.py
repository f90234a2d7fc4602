"""Asymptotic forms of step-size schedules: the symbolic algebra behind S1–S7 (THEORY.md §7).

One job: reduce a SymPy expression in n to its leading behaviour as n → ∞,
``f(n) ~ c · r^n / (n^p · log(n)^q)`` (r = e^(-λ)), by rules for sums, products, powers, exp,
log, floor and min/max (:func:`asymptotic_form`). A schedule with an oscillating factor — a
cosine (or sine) of an argument that depends on n, or ``(-1)^n`` — has no such form
(:func:`oscillating_factors`): what can be proved about it is in
:mod:`acconv.theory_checks.oscillation`. ``~`` means the ratio tends to 1; ``≍`` (after
floor inside an exponent, or tied min/max branches) means the ratio stays between two positive
constants, which is all the comparison test needs. From a form follow the p-series/Bertrand rule
for Σ f(n) (:func:`series_rule`), and from the expression's monotone building blocks the
direction in which it moves (:func:`monotone_direction`, for S5).

The conditions themselves are decided in :mod:`acconv.theory_checks.step_sizes`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import sympy
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from acconv.schedules import N_SYMBOL, Schedule, as_schedule
from acconv.theory_checks.interval_bounds import positive_for_every_n

__all__ = [
    "SERIES_NOTE",
    "Asymptotic",
    "asymptotic_form",
    "asymptotic_form_of_expr",
    "eventual_branch",
    "format_exponent",
    "format_number",
    "monotone_direction",
    "not_provably_zero",
    "oscillating_factors",
    "power_form",
    "product_form",
    "series_rule",
    "sign_of",
    "unique_in_order",
]

_ZERO: Final = sympy.Integer(0)
_ONE: Final = sympy.Integer(1)


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
    iterated: tuple[sympy.Expr, ...] = ()
    """Exponents of log(log(n)), log(log(log(n))), ... in the denominator (the Bertrand scale);
    trailing zeros are dropped."""
    stretch: tuple[sympy.Expr, sympy.Expr] = (_ZERO, _ZERO)
    """(s, σ) of a factor exp(-s·n^σ), 0 < σ < 1: faster than every power, slower than every
    geometric factor (decays for s > 0, grows for s < 0); (0, 0) when there is none."""

    def __post_init__(self) -> None:
        levels = [sympy.sympify(q) for q in self.iterated]
        while levels and levels[-1] == 0:
            levels.pop()
        object.__setattr__(self, "iterated", tuple(levels))

    def exponents(self, depth: int = 0) -> tuple[sympy.Expr, ...]:
        """(power, log_power, q_2, q_3, ...): the exponents of n, log n, log log n, ...,
        padded with zeros to at least ``depth`` entries."""
        levels = (self.power, self.log_power, *self.iterated)
        return levels + (_ZERO,) * max(0, depth - len(levels))

    @property
    def is_zero(self) -> bool:
        """Whether f(n) = 0 for all large n."""
        return bool(self.coefficient == 0)

    @property
    def sign(self) -> int | None:
        """The sign of f(n) for large n (None if SymPy cannot tell)."""
        return sign_of(self.coefficient)

    @property
    def limit_class(self) -> Literal["zero", "constant", "infinite"] | None:
        """Whether |f(n)| tends to 0, to a positive constant (or stays ≍ 1), or to ∞."""
        if self.is_zero:
            return "zero"
        for exponent in (self.rate, self.stretch[0], *self.exponents()):
            sign = sign_of(exponent)
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
        factors = [
            sympy.exp(-self.rate * N_SYMBOL),
            sympy.exp(-self.stretch[0] * (N_SYMBOL + 1) ** self.stretch[1]),
            (N_SYMBOL + 1) ** (-self.power),
            sympy.log(N_SYMBOL + 2) ** (-self.log_power),
        ]
        for level, q in enumerate(self.iterated, start=2):
            factors.append(_iterated_log(level, N_SYMBOL + _LEVEL_SHIFTS[level]) ** (-q))
        return sympy.Mul(*factors)

    def formula(self) -> str:
        """The form as text, e.g. ``0.5/n^(3/5)``, ``1/(n·log(n))``, ``0.1·0.99^n``."""
        if self.is_zero:
            return "0"
        numerator: list[str] = []
        denominator: list[str] = []
        if self.coefficient != 1:
            numerator.append(format_number(self.coefficient))
        if not_provably_zero(self.rate):
            ratio = format_number(sympy.exp(-self.rate))
            numerator.append(f"({ratio})^n" if "/" in ratio else f"{ratio}^n")
        if not_provably_zero(self.stretch[0]):
            s, sigma = self.stretch
            scale = "-" if s == 1 else "" if s == -1 else f"{format_number(-s)}·"
            numerator.append(f"exp({scale}n^({format_exponent(sigma)}))")
        bases = ["n", "log(n)", "log(log(n))", "log(log(log(n)))", "log(log(log(log(n))))"]
        for base, exponent in zip(bases, self.exponents(), strict=False):
            if sign_of(exponent) == 1:
                denominator.append(_fmt_power(base, exponent))
            elif sign_of(exponent) == -1:
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
    return asymptotic_form_of_expr(as_schedule(schedule).expr)


def oscillating_factors(expr: Any) -> tuple[Any, ...]:
    """The factors of ``expr`` that oscillate in n, in order: trigonometric functions of an
    argument that depends on n (``cos(pi*n/10)``; SymPy turns ``cos(n + pi/2)`` into
    ``-sin(n)``) and powers of a negative (or not provably non-negative) number with an exponent
    that depends on n (``(-1)**n``, which SymPy makes of ``cos(pi*n)``).

    Such a factor has no limit and no asymptotic form ``c·r^n/(n^p·log(n)^q)``; the rules of
    this module return None for every expression that contains one, and a numeric fit of a tail
    exponent, which samples it at a few n, proves nothing about it.
    """
    found: list[Any] = []
    for sub in sympy.preorder_traversal(expr):
        if N_SYMBOL not in getattr(sub, "free_symbols", ()):
            continue
        if isinstance(sub, TrigonometricFunction) or (
            isinstance(sub, sympy.Pow)
            and sub.base.is_number
            and not sub.base.is_nonnegative
            and N_SYMBOL in sub.exp.free_symbols
        ):
            found.append(sub)
    return tuple(dict.fromkeys(found))


def asymptotic_form_of_expr(expr: Any) -> Asymptotic | None:
    """_analyse, retried on one (cancelled) fraction when leading terms cancel, as in
    1/(n+2) - 1/(n+3) = 1/((n+2)(n+3)). None for an expression with an oscillating factor
    (:func:`oscillating_factors`)."""
    if oscillating_factors(expr):
        return None
    form = _analyse(expr) or _leading_form(expr)
    if form is None and expr.has(sympy.Add):
        form = _analyse(sympy.together(expr))
        if form is None:
            form = _analyse(sympy.cancel(sympy.together(expr)))
    return form


def sign_of(x: Any) -> int | None:
    value = sympy.sympify(x)
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    return None


def not_provably_zero(x: Any) -> bool:
    """Whether x ≠ 0 (also when SymPy cannot tell: never take a "= 0" shortcut unproved)."""
    return sign_of(x) != 0


def format_number(x: Any) -> str:
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


def format_exponent(x: Any) -> str:
    value = sympy.sympify(x)
    return str(value) if value.is_Rational else f"{float(value):.6g}"


def _fmt_power(base: str, exponent: Any) -> str:
    if exponent == 1:
        return base
    text = format_exponent(exponent)
    return f"{base}^{text}" if sympy.sympify(exponent).is_Integer else f"{base}^({text})"


def unique_in_order(notes: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(notes))


def _class_order(f: Asymptotic, g: Asymptotic) -> int | None:
    """+1 if |f| ≫ |g| (f decays more slowly), -1 if |f| ≪ |g|, 0 if the same class."""
    depth = max(len(f.exponents()), len(g.exponents()))
    sign = sign_of(g.rate - f.rate)
    if sign != 0:
        return sign
    stretched = _stretch_order(f, g)
    if stretched != 0:
        return stretched
    for mine, other in zip(f.exponents(depth), g.exponents(depth), strict=True):
        sign = sign_of(other - mine)
        if sign is None:
            return None
        if sign != 0:
            return sign
    return 0


def _stretch_order(f: Asymptotic, g: Asymptotic) -> int | None:
    """+1 if exp(-s_f n^σ_f) ≫ exp(-s_g n^σ_g), -1 if ≪, 0 if neither has one (None: unknown)."""
    (s_f, sigma_f), (s_g, sigma_g) = f.stretch, g.stretch
    if s_f == 0 and s_g == 0:
        return 0
    if s_f == 0:
        return sign_of(s_g)  # 1 ≫ exp(-s n^σ) iff s > 0
    if s_g == 0:
        return sign_of(-s_f)
    larger = sign_of(sigma_f - sigma_g)
    if larger is None:
        return None
    if larger == 0:
        return sign_of(s_g - s_f)
    return sign_of(-s_f) if larger == 1 else sign_of(s_g)  # the larger σ decides


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
        difference = sign_of(abs(f.coefficient) - abs(g.coefficient))
        return None if difference is None else sf * difference
    return 0


def product_form(forms: Sequence[Asymptotic | None]) -> Asymptotic | None:
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    notes = unique_in_order(note for form in known for note in form.notes)
    if any(form.is_zero for form in known):
        return Asymptotic(_ZERO, notes=notes)
    stretches = [form.stretch for form in known if form.stretch[0] != 0]
    sigmas = {str(sigma) for _, sigma in stretches}
    if len(sigmas) > 1:
        return None  # exp(-s n^σ)·exp(-t n^τ), σ ≠ τ: not one factor of the form
    stretch = (
        (sympy.Add(*(s for s, _ in stretches)), stretches[0][1]) if stretches else (_ZERO, _ZERO)
    )
    if stretch[0] == 0:
        stretch = (_ZERO, _ZERO)
    depth = max(len(form.exponents()) for form in known)
    levels = [
        sympy.Add(*column) for column in zip(*(f.exponents(depth) for f in known), strict=True)
    ]
    return Asymptotic(
        sympy.Mul(*(form.coefficient for form in known)),
        sympy.Add(*(form.rate for form in known)),
        levels[0],
        levels[1],
        all(form.exact for form in known),
        notes,
        tuple(levels[2:]),
        stretch,
    )


def power_form(form: Asymptotic | None, exponent: Any) -> Asymptotic | None:
    if form is None:
        return None
    exponent = sympy.sympify(exponent)
    if exponent == 0:
        return Asymptotic(_ONE, notes=form.notes)
    if form.is_zero:
        return form if sign_of(exponent) == 1 else None
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
        tuple(q * exponent for q in form.iterated),
        (form.stretch[0] * exponent, form.stretch[1]) if form.stretch[0] != 0 else form.stretch,
    )


def _sum(forms: Sequence[Asymptotic | None]) -> Asymptotic | None:
    known = [form for form in forms if form is not None]
    if len(known) < len(forms):
        return None
    notes = unique_in_order(note for form in known for note in form.notes)
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
        if sign_of(total) in (0, None):  # the leading terms cancel: the next order would decide
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
            factors.append(power_form(_analyse(rest.args[0]), coefficient))
        elif (stretched := _stretched(coefficient, rest)) is not None:
            factors.append(stretched)
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
    return product_form([base, *factors])


def _stretched(coefficient: Any, rest: Any) -> Asymptotic | None:
    """exp(c·(A·n + B)^σ) for 0 < σ < 1, A > 0: = exp(c·A^σ·n^σ + o(1)) (the binomial series:
    (n + B/A)^σ - n^σ → 0), so exactly ~ exp(-s·n^σ) with s = -c·A^σ."""
    if not isinstance(rest, sympy.Pow) or not rest.exp.is_number:
        return None
    sigma = rest.exp
    line = _linear(rest.base)
    if line is None or not (sign_of(sigma) == 1 and sign_of(sigma - 1) == -1):
        return None
    slope, _ = line
    if sign_of(slope) != 1 or not coefficient.is_number:
        return None
    return Asymptotic(_ONE, stretch=(-coefficient * slope**sigma, sigma))


def _log_of(form: Asymptotic | None) -> Asymptotic | None:
    """log f: log(c·e^(-λn)·n^(-p)·...) = -λn + O(log n), or -p·log n + O(log log n), or
    -q_k·log^(k+1)(n) + O(log^(k+2)(n)) when the first non-zero exponent is q_k of log^(k)(n)
    (log(log(n)) for f ~ c/log(n)^q: the Bertrand scale)."""
    if form is None or form.sign != 1:
        return None
    if not_provably_zero(form.rate):
        return Asymptotic(-form.rate, _ZERO, -_ONE, _ZERO, True, form.notes)
    if not_provably_zero(form.stretch[0]):  # log f = -s·n^σ + O(log n)
        return Asymptotic(-form.stretch[0], _ZERO, -form.stretch[1], _ZERO, True, form.notes)
    for level, exponent in enumerate(form.exponents()):
        sign = sign_of(exponent)
        if sign is None:
            return None
        if sign == 0:
            continue
        if level + 1 >= _MAX_LEVEL:
            return None
        levels = [_ZERO] * (level + 1) + [-_ONE]
        return Asymptotic(
            -exponent, _ZERO, levels[0], levels[1], True, form.notes, tuple(levels[2:])
        )
    if not form.exact:
        return None  # a bounded factor without a limit
    value = sympy.log(form.coefficient)
    return None if sign_of(value) in (0, None) else Asymptotic(value, notes=form.notes)


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


_T: Final = sympy.Symbol("t", positive=True)  # t = 1/n → 0+
SERIES_NOTE: Final = "leading term of the series expansion at n = ∞"


def _leading_form(expr: Any) -> Asymptotic | None:
    """The form from SymPy's leading term of expr(1/t) as t → 0+ (a series expansion, for the
    cancellations the rules cannot see: log(1 + x) ~ x, exp(x) - 1 ~ x, sqrt(n+2) - sqrt(n+1)
    ~ 1/(2·sqrt(n))), read as c·t^p·log(t)^q = c·(-1)^q·n^(-p)·log(n)^q; None unless the term
    has exactly that shape (an integer q, a real c ≠ 0). Only for expressions without floor,
    min/max or oscillating factors, whose expansions SymPy does not handle."""
    if expr.has(sympy.floor, sympy.Min, sympy.Max) or oscillating_factors(expr):
        return None
    try:
        term = expr.subs(N_SYMBOL, 1 / _T).as_leading_term(_T)
    except (sympy.PoleError, NotImplementedError, ValueError, TypeError, ZeroDivisionError):
        return None
    coefficient, power, log_power = _ONE, _ZERO, _ZERO
    for factor in sympy.Mul.make_args(term):
        base, exponent = factor.as_base_exp()
        if factor.is_number:
            coefficient *= factor
        elif base == _T and exponent.is_number:
            power += exponent
        elif base == sympy.log(_T) and exponent.is_Integer:
            log_power += exponent
        else:
            return None
    coefficient = coefficient * (-1) ** log_power
    if not coefficient.is_extended_real or coefficient.is_zero is not False:
        return None
    return Asymptotic(coefficient, _ZERO, power, -log_power, True, (SERIES_NOTE,))


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
        return _sum([_analyse(arg) for arg in expr.args]) or _leading_form(expr)
    if isinstance(expr, sympy.Mul):
        return product_form([_analyse(arg) for arg in expr.args])
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent.is_number:
            return power_form(_analyse(base), exponent)
        if base.is_number and base.is_extended_positive:
            return _exp_of(exponent * sympy.log(base))
        return None
    if isinstance(expr, sympy.exp):
        return _exp_of(expr.args[0])
    if isinstance(expr, sympy.log):
        return _log_of(_analyse(expr.args[0])) or _leading_form(expr)
    if isinstance(expr, sympy.floor):
        return _floor_of(_analyse(expr.args[0]), expr.args[0])
    if isinstance(expr, sympy.Min | sympy.Max):
        return _extremum(expr)
    return None


def eventual_branch(expr: Any) -> Any:
    """expr with every min/max replaced by the argument that eventually wins (where one does)."""
    if expr.is_Atom:
        return expr
    args = [eventual_branch(arg) for arg in expr.args]
    if isinstance(expr, sympy.Min | sympy.Max):
        winner = _strict_winner([_analyse(arg) for arg in args], isinstance(expr, sympy.Max))
        if winner is not None:
            return args[winner]
    return expr.func(*args)


def _iterated_log(level: int, x: Any) -> Any:
    """log^(level)(x) = log(log(...log(x)))."""
    for _ in range(level):
        x = sympy.log(x)
    return x


_MAX_LEVEL: Final = 5  # n, log n, log log n, log log log n, log log log log n
_LEVEL_SHIFTS: Final = {2: 3, 3: 16, 4: 3814280}
"""log^(k)(n + shift) > 0 for every n ≥ 0: log(log(3)) > 0, log(log(log(16))) > 0 (e^e ≈ 15.2),
log^(4)(3814280) > 0 (e^(e^e) ≈ 3814279.1)."""


def _bertrand(levels: Sequence[Any]) -> tuple[bool, str] | None:
    """Σ 1/(n^p·log(n)^q·log(log(n))^q_2···) converges iff the first exponent ≠ 1 is > 1
    (Cauchy condensation, level by level); all equal to 1 up to the last level diverges.

    >>> _bertrand([1, 1])
    (False, 'p = 1 and q = 1 ≤ 1 (Bertrand series)')
    """
    names = ["p", "q", "q_2", "q_3", "q_4"]
    for level, exponent in enumerate(levels):
        above = sign_of(exponent - 1)
        if above is None:
            return None
        if above != 0 or level == len(levels) - 1:
            if level == 0 and above == 0:
                return False, "p = 1 (harmonic series)"
            relation = "> 1" if above > 0 else "< 1" if above < 0 else "≤ 1"
            parts = [f"{names[k]} = 1" for k in range(level)]
            parts.append(f"{names[level]} = {format_exponent(exponent)} {relation}")
            text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
            rule = (
                ("p-series", "Bertrand series")[level]
                if level < 2
                else ("Bertrand series, Cauchy condensation")
            )
            return above > 0, f"{text} ({rule})"
    return None


def series_rule(form: Asymptotic) -> tuple[bool, str] | None:
    """(converges, reason) for Σ f(n) by comparison with the form (terms eventually ≥ 0)."""
    if form.is_zero:
        return True, "the terms are 0 for all large n (a finite sum)"
    if form.sign != 1:
        return None
    rate = sign_of(form.rate)
    if rate is None:
        return None
    if rate != 0:
        ratio = format_number(sympy.exp(-form.rate))
        if rate > 0:
            return True, f"the terms decay geometrically (ratio {ratio} < 1)"
        return False, f"the terms grow geometrically (ratio {ratio} > 1)"
    if form.limit_class != "zero":
        return False, "the terms do not tend to 0"
    if sign_of(form.stretch[0]) == 1:
        sigma = format_exponent(form.stretch[1])
        return True, f"the terms decay like exp(-s·n^({sigma})), s > 0: faster than any power"
    levels = list(form.exponents())
    while len(levels) > 1 and not not_provably_zero(levels[-1]):
        levels.pop()
    rule = _bertrand(levels)
    if rule is not None and len(levels) > 1 and rule[1].endswith("(p-series)"):
        return rule[0], rule[1].replace("(p-series)", "(p-series; the log factor does not matter)")
    return rule


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


def _positive(expr: Any) -> bool:
    """expr(n) > 0 for every n ≥ 0: SymPy's assumptions, else one interval evaluation."""
    if expr.is_positive:
        return True
    if isinstance(expr, sympy.Pow) and expr.exp.is_number and expr.exp.is_extended_real:
        return _positive(expr.base)  # x^e > 0 for x > 0 (finite x: the schedule is valid)
    if isinstance(expr, sympy.Mul):
        return all(_positive(factor) for factor in expr.args)
    return positive_for_every_n(expr)


def monotone_direction(expr: Any) -> int | None:
    """-1 if expr is non-increasing in n ≥ 0, +1 if non-decreasing, 0 if constant, else None,
    proved by composing monotone pieces: x ↦ c·x, x^e and e^x, log x, floor x, min, max."""
    if expr.is_number:
        return 0
    if expr == N_SYMBOL:
        return 1
    if isinstance(expr, sympy.Add | sympy.Min | sympy.Max):
        return _same_direction([monotone_direction(arg) for arg in expr.args])
    if isinstance(expr, sympy.Mul):
        coefficient, rest = expr.as_coeff_Mul()
        factors = sympy.Mul.make_args(rest)
        if len(factors) > 1 and not all(_positive(factor) for factor in factors):
            return None  # products keep monotonicity only for positive factors
        direction = _same_direction([monotone_direction(factor) for factor in factors])
        sign = sign_of(coefficient)
        return None if direction is None or sign is None else direction * sign
    if isinstance(expr, sympy.Pow):
        base, exponent = expr.args
        if exponent.is_number:
            if not (_positive(base) or (base.is_nonnegative and exponent.is_positive)):
                return None
            inner, sign = monotone_direction(base), sign_of(exponent)
            return None if inner is None or sign is None else inner * sign
        if base.is_number and base.is_positive:
            inner, sign = monotone_direction(exponent), sign_of(sympy.log(base))
            return None if inner is None or sign is None else inner * sign
        return None
    if isinstance(expr, sympy.exp | sympy.floor):
        return monotone_direction(expr.args[0])
    if isinstance(expr, sympy.log):
        # log is increasing on (0, ∞), and a log inside a schedule has a positive argument at
        # every n ≥ 0 once the schedule is proved finite there (schedule_validity, which
        # check_step_sizes requires before any condition is decided)
        return monotone_direction(expr.args[0])
    return None
