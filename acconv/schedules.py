"""Step-size schedules as whitelisted expressions in the update index ``n`` (n = 0, 1, 2, ...).

A schedule such as ``"0.5/(n+1)**0.6"`` is parsed once into a SymPy expression (which the
symbolic checks analyse) and compiled once with :func:`sympy.lambdify` (which learners call), so
what runs is exactly what is checked. The text is never executed: it is read with
``ast.parse(text, mode="eval")`` and only this grammar is accepted::

    expr := NUMBER | pi | n | expr (+ | - | * | / | **) expr | (+ | -) expr | ( expr )
          | log(expr) | exp(expr) | sqrt(expr) | floor(expr) | cos(expr)
          | min(expr, expr, ...) | max(expr, expr, ...)

NUMBER is an int or float literal; floats become exact rationals ("0.6" -> 3/5). ``pi`` is the
exact constant π, ``log`` is the natural logarithm and ``cos`` the cosine in radians (so torch's
``CosineAnnealingLR`` reads ``0.1*(1 + cos(pi*n/100))/2``). A cosine of an argument that depends
on n oscillates: no asymptotic form exists for it, and the step-size checks decide a condition on
such a schedule only by a proof that covers the oscillation (bounds with ``|cos| <= 1``,
periodicity); otherwise the condition is ``undecided`` (:mod:`acconv.theory_checks.oscillation`).
Anything else (other names, attributes, keywords, ``//``, ``%``, strings, ...)
raises :class:`ScheduleError`, as do texts over 500 characters, pure-number exponents above 64 in
absolute value, and schedules that are not finite, real and >= 0 on every n = 0..10^4 and
log-spaced n up to 1e9 (a quick check at parse time; the step-size checker proves it for every
n >= 0 or refuses the schedule with the n where it fails).
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
import numpy.typing as npt
import sympy

__all__ = ["N_SYMBOL", "Schedule", "ScheduleError", "as_schedule", "constant", "parse_schedule"]

N_SYMBOL = sympy.Symbol("n", integer=True, nonnegative=True)
"""The update index n; the only symbol a schedule may contain."""

MAX_TEXT_LENGTH = 500
MAX_EXPONENT = 64
_MAX_NUMBER = 1e300  # pure-number subexpressions stay below this (stops 9**64**... style bombs)
_FUNCTIONS: dict[str, tuple[Callable[..., sympy.Expr], int, bool]] = {
    # name: (constructor, number of arguments, whether more are allowed)
    "log": (sympy.log, 1, False),
    "exp": (sympy.exp, 1, False),
    "sqrt": (sympy.sqrt, 1, False),
    "min": (sympy.Min, 2, True),
    "max": (sympy.Max, 2, True),
    "floor": (sympy.floor, 1, False),
    "cos": (sympy.cos, 1, False),
}
_CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi}
_NAMES = "allowed: n, " + ", ".join([*_FUNCTIONS, *_CONSTANTS])
_GRAMMAR = (
    "allowed: n, int/float numbers, + - * / **, unary + -, parentheses, calls to "
    + ", ".join(_FUNCTIONS)
    + ", the constant "
    + ", ".join(_CONSTANTS)
)
_BINOPS: dict[type[ast.operator], Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_NODE_NAMES: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean operator",
    ast.UnaryOp: "operator",
    ast.IfExp: "conditional expression",
    ast.JoinedStr: "f-string",
    ast.Starred: "starred argument",
}
_GRID = np.unique(np.concatenate([np.arange(10_001), np.geomspace(1e4, 1e9, 51).round()])).astype(
    np.int64
)
"""Every n up to 10^4, then log-spaced to 10^9: a quick refusal at parse time. The proof for
every n ≥ 0 is :func:`acconv.theory_checks.schedule_validity.validity_of`, which
:func:`~acconv.theory_checks.step_sizes.check_step_sizes` runs."""


class ScheduleError(ValueError):
    """A schedule text is not in the grammar, or its values are not finite, real and >= 0."""


def _to_expr(text: str) -> sympy.Expr:
    """Build the SymPy expression for ``text`` by walking its Python AST (nothing is evaluated)."""

    def fail(what: str, expected: str = _GRAMMAR) -> ScheduleError:
        return ScheduleError(f"schedule {text!r}: {what}; {expected}")

    def piece(node: ast.AST) -> str:
        return repr(ast.get_source_segment(source, node) or ast.unparse(node))

    def build(node: ast.expr) -> sympy.Expr:
        expr = build_unchecked(node)
        if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise fail(f"{piece(node)} is not finite (division by zero?)", "expected finite values")
        if expr.is_number:  # keep pure numbers small, or floor/Pow of them can hang SymPy
            try:
                value = complex(expr)
            except (OverflowError, TypeError):
                value = complex(math.inf)
            if value.imag != 0:
                raise fail(f"{piece(node)} is not a real number", "expected real numbers")
            if not abs(value.real) <= _MAX_NUMBER:
                raise fail(f"{piece(node)} is too large", f"expected numbers below {_MAX_NUMBER:g}")
        return expr

    def build_unchecked(node: ast.expr) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(f"literal {value!r} is not a number")
            if isinstance(value, float) and not math.isfinite(value):
                raise fail(f"number {piece(node)} overflows", "expected a finite float")
            return sympy.Integer(value) if isinstance(value, int) else sympy.Rational(repr(value))
        if isinstance(node, ast.Name):
            if node.id == "n":
                return N_SYMBOL
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            if node.id in _FUNCTIONS:
                raise fail(f"function {node.id!r} must be called, as in {node.id}(n+1)")
            raise fail(f"unknown name {node.id!r}", _NAMES)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
            operand = build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = build(node.left), build(node.right)
            if isinstance(node.op, ast.Pow) and right.is_number:
                if abs(complex(right)) > MAX_EXPONENT:
                    limit = f"expected numeric exponents with |exponent| <= {MAX_EXPONENT}"
                    raise fail(f"exponent {piece(node.right)} is too large", limit)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.BinOp):
            hint = " (use ** for powers)" if isinstance(node.op, ast.BitXor) else ""
            raise fail(f"operator in {piece(node)} is not allowed{hint}")
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name not in _FUNCTIONS:
                raise fail(f"call of {piece(node.func)} is not allowed", _NAMES)
            function, arity, variadic = _FUNCTIONS[name]
            if node.keywords:
                only = f"{name} takes positional arguments only"
                raise fail(f"keyword argument {piece(node.keywords[0])} is not allowed", only)
            args = [build(arg) for arg in node.args]
            if len(args) < arity or (len(args) > arity and not variadic):
                takes = f"{name} takes {'at least ' if variadic else ''}{arity} argument(s)"
                raise fail(f"{piece(node)} has {len(args)} argument(s)", takes)
            return function(*args)
        kind = _NODE_NAMES.get(type(node), type(node).__name__)
        raise fail(f"{kind} {piece(node)} is not allowed")

    if len(text) > MAX_TEXT_LENGTH:
        raise ScheduleError(
            f"schedule {text[:40]!r}... is {len(text)} characters long; "
            f"expected at most {MAX_TEXT_LENGTH}"
        )
    source = text.strip()
    if not source:
        raise fail("empty text", "expected an expression in n such as '0.5/(n+1)**0.6'")
    expected = "expected an arithmetic expression in n"
    try:
        with warnings.catch_warnings():  # e.g. "1or n" warns "invalid decimal literal"
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError) as error:  # ValueError: null bytes on Python < 3.12
        raise fail(f"syntax error ({getattr(error, 'msg', error)})", expected) from None
    try:
        return build(tree.body)
    except RecursionError:
        raise fail("nested too deeply", expected) from None


@dataclass(frozen=True)
class Schedule:
    """A validated step-size schedule: ``text``, its SymPy ``expr`` in :data:`N_SYMBOL`, and a
    numpy function compiled once from ``expr``. Build one with :meth:`parse`."""

    text: str
    expr: sympy.Expr
    _function: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        extra = self.expr.free_symbols - {N_SYMBOL}
        if extra:
            raise ScheduleError(
                f"schedule {self.text!r}: unknown symbols {sorted(map(str, extra))}"
                f"; expected an expression in N_SYMBOL only"
            )
        if self.expr.is_extended_real is False:
            raise ScheduleError(
                f"schedule {self.text!r} is complex-valued; expected a real expression in n"
            )
        object.__setattr__(self, "_function", sympy.lambdify(N_SYMBOL, self.expr, modules="numpy"))
        try:
            with np.errstate(all="ignore"):
                values = self._evaluate(_GRID)
        except ScheduleError:
            raise
        except (TypeError, ValueError, ArithmeticError) as error:  # e.g. log(10**300): an int
            # too large for a float64 ufunc
            raise ScheduleError(
                f"schedule {self.text!r} cannot be evaluated in float64 "
                f"({type(error).__name__}); expected numbers below 2**63 inside functions"
            ) from None
        for problem, bad in (
            ("not a real number", np.isnan(values)),
            ("not finite", np.isinf(values)),
            ("negative", values < 0),
        ):
            if bad.any():
                at = int(_GRID[np.argmax(bad)])
                hint = f"value {values[np.argmax(bad)]:.3g}; expected finite values >= 0"
                if at == 0 and problem == "not finite":
                    shifted = re.sub(r"\bn\b", "(n+1)", self.text)
                    hint = f"step sizes are indexed from n=0; did you mean {shifted}?"
                raise ScheduleError(f"schedule {self.text!r} is {problem} at n={at} ({hint})")

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Parse ``text`` (see the module docstring for the grammar); raise ScheduleError."""
        return cls(text, _to_expr(text))

    def _evaluate(self, n: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float64]:
        # float input: int64 arithmetic would overflow ((n+1)**3) or fail (2**-floor(n)).
        result = np.asarray(self._function(n.astype(np.float64)))
        if np.iscomplexobj(result):
            raise ScheduleError(f"schedule {self.text!r} is not real; expected a real expression")
        return np.broadcast_to(result, n.shape).astype(np.float64)

    @overload
    def __call__(self, n: int | np.integer[Any]) -> float: ...
    @overload
    def __call__(self, n: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.float64]: ...
    def __call__(
        self, n: int | np.integer[Any] | npt.NDArray[np.integer[Any]]
    ) -> float | npt.NDArray[np.float64]:
        """The step size at index ``n``: a float for an int, a float64 array for an int array."""
        array = np.asarray(n)
        if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"schedule index must be an int or integer array, got {array.dtype}")
        values = self._evaluate(array)
        return float(values) if values.ndim == 0 else values

    @property
    def is_constant(self) -> bool:
        """Whether the schedule does not depend on n."""
        return N_SYMBOL not in self.expr.free_symbols

    def __str__(self) -> str:
        return self.text

    def __reduce__(self) -> tuple[type[Schedule], tuple[str, sympy.Expr]]:
        # The lambdified function cannot be pickled; rebuild it from (text, expr).
        return (type(self), (self.text, self.expr))


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule text; same as :meth:`Schedule.parse`."""
    return Schedule.parse(text)


def constant(value: float) -> Schedule:
    """The schedule that is ``value`` at every n (must be finite and >= 0)."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise TypeError(f"constant schedule needs a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ScheduleError(f"constant schedule {value!r} is not finite; expected a number >= 0")
    return Schedule.parse(
        str(int(value)) if isinstance(value, int | np.integer) else repr(float(value))
    )


def as_schedule(x: str | float | int | Schedule) -> Schedule:
    """Coerce a schedule text, a number (constant schedule) or a Schedule to a Schedule."""
    if isinstance(x, Schedule):
        return x
    if isinstance(x, str):
        return Schedule.parse(x)
    return constant(x)
