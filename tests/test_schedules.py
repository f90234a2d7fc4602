"""Step-size schedules: whitelisted parsing, exact SymPy expressions, fast numpy evaluation."""

from __future__ import annotations

import builtins
import math
import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.schedules import (
    N_SYMBOL,
    Schedule,
    ScheduleError,
    as_schedule,
    constant,
    parse_schedule,
)

n = N_SYMBOL

HAND_COMPUTED = [
    # hand computed: 0.5/(0+1)**0.6 = 0.5
    ("0.5/(n+1)**0.6", 0, 0.5),
    # hand computed: 32**0.6 = 2**3 = 8, so 0.5/8 = 0.0625
    ("0.5/(n+1)**0.6", 31, 0.0625),
    # hand computed: 243**0.6 = 3**3 = 27, so 0.5/27 = 0.018518518518518517
    ("0.5/(n+1)**0.6", 242, 0.018518518518518517),
    # hand computed: min(0.1, 1/1) = 0.1
    ("min(0.1, 1/(n+1))", 0, 0.1),
    # hand computed: min(0.1, 1/10) = 0.1 (the two branches meet)
    ("min(0.1, 1/(n+1))", 9, 0.1),
    # hand computed: min(0.1, 1/20) = 0.05
    ("min(0.1, 1/(n+1))", 19, 0.05),
    # hand computed: min(0.1, 1/100) = 0.01
    ("min(0.1, 1/(n+1))", 99, 0.01),
    # hand computed: floor(0/1000) = 0, 0.1*0.5**0 = 0.1
    ("0.1*0.5**floor(n/1000)", 0, 0.1),
    # hand computed: floor(999/1000) = 0, so still 0.1
    ("0.1*0.5**floor(n/1000)", 999, 0.1),
    # hand computed: floor(1000/1000) = 1, 0.1*0.5 = 0.05
    ("0.1*0.5**floor(n/1000)", 1000, 0.05),
    # hand computed: floor(2999/1000) = 2, 0.1*0.25 = 0.025
    ("0.1*0.5**floor(n/1000)", 2999, 0.025),
    # hand computed: floor(3000/1000) = 3, 0.1*0.125 = 0.0125
    ("0.1*0.5**floor(n/1000)", 3000, 0.0125),
    # hand computed: 1/(1*ln 2) = log2(e) = 1.4426950408889634
    ("1/((n+1)*log(n+2))", 0, 1.4426950408889634),
    # hand computed: 1/(3*ln 4) = log2(e)/6 = 0.24044917348149392
    ("1/((n+1)*log(n+2))", 2, 0.24044917348149392),
    # hand computed: 1/(7*ln 8) = log2(e)/21 = 0.0686997638518554
    ("1/((n+1)*log(n+2))", 6, 0.0686997638518554),
    # hand computed: the constant 0.01 at any n
    ("0.01", 0, 0.01),
    # hand computed: the constant 0.01 at any n
    ("0.01", 10**9, 0.01),
    # hand computed: (1e9)**3/1e30 = 1e27/1e30 = 0.001 (int64 n**3 would wrap to -6.9e-12)
    ("n**3/10**30", 10**9, 0.001),
]


@pytest.mark.parametrize(("text", "k", "expected"), HAND_COMPUTED)
def test_schedule_value_at_n_matches_hand_computation(text: str, k: int, expected: float) -> None:
    value = Schedule.parse(text)(k)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("text", sorted({text for text, _, _ in HAND_COMPUTED}))
def test_array_evaluation_equals_scalar_evaluation_elementwise(text: str) -> None:
    schedule = Schedule.parse(text)
    ks = np.array([[0, 1, 2, 9, 10, 999], [1000, 2999, 3000, 12345, 10**6, 10**9]], dtype=np.int64)
    values = schedule(ks)
    assert values.dtype == np.float64
    assert values.shape == ks.shape
    expected = np.array([[schedule(int(k)) for k in row] for row in ks])
    np.testing.assert_array_equal(values, expected)


def test_numpy_integer_scalar_gives_float_and_float_index_is_a_type_error() -> None:
    schedule = Schedule.parse("0.5/(n+1)**0.6")
    # hand computed: 32**0.6 = 8, 0.5/8 = 0.0625
    assert schedule(np.int32(31)) == pytest.approx(0.0625, rel=1e-12)
    assert isinstance(schedule(np.int64(31)), float)
    with pytest.raises(TypeError, match="int or integer array"):
        schedule(np.array([0.5]))


def test_constant_schedule_broadcasts_to_the_input_shape() -> None:
    schedule = Schedule.parse("0.01")
    assert schedule.is_constant
    assert not Schedule.parse("1/(n+1)").is_constant
    values = schedule(np.arange(6).reshape(2, 3))
    assert values.shape == (2, 3)
    assert values.dtype == np.float64
    # hand computed: the constant 0.01 everywhere
    np.testing.assert_array_equal(values, np.full((2, 3), 0.01))
    values[0, 0] = 5.0  # the result is a fresh writable array, not a broadcast view


def test_float_literals_become_exact_rationals() -> None:
    expr = Schedule.parse("1/(n+1)**0.6").expr
    assert expr == 1 / (n + 1) ** sympy.Rational(3, 5)
    assert sympy.srepr(expr) == sympy.srepr(1 / (n + 1) ** sympy.Rational(3, 5))
    assert Schedule.parse("0.1").expr == sympy.Rational(1, 10)
    assert Schedule.parse("1e-05*n").expr == sympy.Rational(1, 100000) * n


def test_the_symbol_is_the_nonnegative_integer_n_symbol() -> None:
    expr = Schedule.parse("min(0.1, 1/(n+1))").expr
    assert expr.free_symbols == {N_SYMBOL}
    assert N_SYMBOL.is_integer and N_SYMBOL.is_nonnegative
    assert expr == sympy.Min(sympy.Rational(1, 10), 1 / (n + 1))
    assert Schedule.parse("floor(n/1000)").expr == sympy.floor(n / 1000)


ALLOWED_NAMES = "allowed: n, log, exp, sqrt, min, max, floor"
REJECTED = [
    (
        "__import__('os').system('echo hi')",
        r"call of \"__import__\('os'\)\.system\" is not allowed",
    ),
    ("__import__('os')", "call of '__import__' is not allowed; " + ALLOWED_NAMES),
    ("n.real", "attribute access 'n.real' is not allowed; allowed: n, int/float numbers"),
    ("x+1", "unknown name 'x'; " + ALLOWED_NAMES),
    ("lambda: 1", "Lambda 'lambda: 1' is not allowed"),
    ("'a'", "literal 'a' is not a number"),
    ("True", "literal True is not a number"),
    ("1j", "literal 1j is not a number"),
    ("n if n else 1", "conditional expression 'n if n else 1' is not allowed"),
    ("n < 1", "comparison 'n < 1' is not allowed"),
    ("n[0]", "subscript 'n\\[0\\]' is not allowed"),
    ("n//2", "operator in 'n//2' is not allowed"),
    ("n%2", "operator in 'n%2' is not allowed"),
    ("n^2", r"operator in 'n\^2' is not allowed \(use \*\* for powers\)"),
    ("log", r"function 'log' must be called"),
    ("min(a=1)", "keyword argument 'a=1' is not allowed; min takes positional arguments only"),
    ("min(n)", r"'min\(n\)' has 1 argument\(s\); min takes at least 2 argument\(s\)"),
    ("log(n+1, 2)", r"has 2 argument\(s\); log takes 1 argument\(s\)"),
    ("min(*[n])", "starred argument"),
    ("1/n", r"is not finite at n=0 \(step sizes are indexed from n=0; did you mean 1/\(n\+1\)\?\)"),
    ("0.1-n", r"'0.1-n' is negative at n=1 \(value -0.9"),
    ("2**n", "is not finite at n="),
    ("(n-5)**0.5", "is not a real number at n=0"),
    ("sqrt(-1-n)", "is complex-valued"),
    ("(-8)**(1/3)", r"'\(-8\)\*\*\(1/3\)' is not a real number"),
    ("1/0", r"'1/0' is not finite \(division by zero\?\)"),
    ("log(0)", "is not finite"),
    (
        "10**10**10",
        r"exponent '10\*\*10' is too large; expected numeric exponents with \|exponent\| <= 64",
    ),
    ("n**-100", "exponent '-100' is too large"),
    ("((9**64)**64)**64", r"'\(9\*\*64\)\*\*64' is too large"),
    ("floor(exp(10**20))", r"'exp\(10\*\*20\)' is too large"),  # would hang SymPy's floor
    ("1e400", "number '1e400' overflows"),
    ("1" * 501, "is 501 characters long; expected at most 500"),
    ("", "empty text; expected an expression in n"),
    ("   ", "empty text"),
    ("1/(n+", "syntax error"),
    ("n\0", "syntax error"),
    ("-" * 499 + "n", "nested too deeply"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED)
def test_rejected_text_raises_one_line_schedule_error(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message) as info:
        Schedule.parse(text)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"schedule {repr(text)[:41]}")


def test_parsing_never_executes_the_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    calls: list[Any] = []
    monkeypatch.setattr(builtins, "acconv_side_effect", calls.append, raising=False)
    texts = [
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w')",
        "acconv_side_effect(1)",
        "[acconv_side_effect(1)] and n",
    ]
    for text in texts:
        with pytest.raises(ScheduleError):
            Schedule.parse(text)
    assert not marker.exists()
    assert calls == []


def test_the_expression_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = Schedule.parse("min(0.1, 0.5/(n+1)**0.6)")

    def no_lambdify(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("lambdify called after construction")

    monkeypatch.setattr(sympy, "lambdify", no_lambdify)
    for k in range(1000):
        schedule(k)
    schedule(np.arange(1000))
    with pytest.raises(AssertionError):  # the patch is effective: a new parse would need it
        Schedule.parse("1/(n+1)")


@settings(max_examples=200, deadline=None)
@given(
    c=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10), places=3),
    p=st.decimals(min_value=Decimal(0), max_value=Decimal("1.5"), places=2),
)
def test_power_family_matches_closed_form(c: Decimal, p: Decimal) -> None:
    schedule = Schedule.parse(f"{c}/(n+1)**{p}")
    assert schedule.expr == sympy.Rational(str(c)) / (n + 1) ** sympy.Rational(str(p))
    ks = [0, 1, 7, 1000, 10**6, 10**9]
    for k, from_array in zip(ks, schedule(np.array(ks)), strict=True):
        # closed form c/(k+1)**p in floating point
        expected = float(c) / (k + 1) ** float(p)
        assert schedule(k) == pytest.approx(expected, rel=1e-12)
        assert from_array == pytest.approx(expected, rel=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="n0123456789.+-*/()_, elogxpqrtminaf", max_size=40))
def test_arbitrary_text_either_parses_or_raises_schedule_error(text: str) -> None:
    try:
        schedule = Schedule.parse(text)
    except ScheduleError as error:
        assert "\n" not in str(error)
    else:
        values = schedule(np.arange(101))
        assert np.all(np.isfinite(values)) and np.all(values >= 0)


def test_numbers_and_texts_coerce_to_schedules() -> None:
    schedule = Schedule.parse("0.5/(n+1)**0.6")
    assert as_schedule(schedule) is schedule
    assert as_schedule("0.5/(n+1)**0.6") == schedule
    assert parse_schedule("0.5/(n+1)**0.6") == schedule
    assert str(schedule) == "0.5/(n+1)**0.6"
    assert as_schedule(0.01) == constant(0.01) == Schedule.parse("0.01")
    assert constant(3).expr == sympy.Integer(3)
    assert constant(np.float64(0.25)).expr == sympy.Rational(1, 4)
    assert constant(0.01).is_constant
    with pytest.raises(ScheduleError, match="is negative at n=0"):
        constant(-0.1)
    with pytest.raises(ScheduleError, match="not finite"):
        constant(math.inf)
    with pytest.raises(TypeError, match="needs a number"):
        constant(True)


def test_schedule_pickles_and_hashes_by_text_and_expression() -> None:
    schedule = Schedule.parse("min(0.1, 1/(n+1))")
    clone = pickle.loads(pickle.dumps(schedule))
    assert clone == schedule
    assert hash(clone) == hash(schedule)
    # hand computed: min(0.1, 1/20) = 0.05
    assert clone(19) == pytest.approx(0.05, rel=1e-12)


# --- cos and pi (torch's CosineAnnealingLR) -----------------------------------------------


def test_cos_and_pi_are_in_the_grammar_with_numpy_values() -> None:
    schedule = Schedule.parse("0.1*(1 + cos(pi*n/10))/2")
    # SymPy distributes the rational factor: 1/20 + cos(πn/10)/20, π kept exact
    assert schedule.expr == sympy.Rational(1, 20) + sympy.cos(sympy.pi * n / 10) / 20
    # hand computed: cos(0) = 1 gives 0.1; cos(π) = -1 gives 0; cos(π/2) = 0 gives 0.05;
    # cos(2π) = 1 gives 0.1 again (the law is periodic)
    assert schedule(0) == pytest.approx(0.1, rel=1e-15)
    assert schedule(10) == pytest.approx(0.0, abs=1e-17)
    assert schedule(5) == pytest.approx(0.05, rel=1e-15)
    assert schedule(20) == pytest.approx(0.1, rel=1e-15)
    np.testing.assert_allclose(
        schedule(np.arange(41)), [schedule(k) for k in range(41)], rtol=0, atol=0
    )
    # hand computed: pi/10 = 0.3141592653589793 (a constant schedule)
    assert Schedule.parse("pi/10")(7) == pytest.approx(math.pi / 10, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "pi(1)",
            "call of 'pi' is not allowed; allowed: n, log, exp, sqrt, min, max, floor, cos, pi$",
        ),
        ("cos", "function 'cos' must be called"),
        ("cos(n, 1)", r"has 2 argument\(s\); cos takes 1 argument\(s\)"),
        ("sin(n)", "call of 'sin' is not allowed"),
        ("cos(n)", "is negative at n=2"),
        ("log(1e300)", "cannot be evaluated in float64"),  # an int beyond 2**63 inside log
    ],
)
def test_cos_and_pi_misuse_raises_one_line_schedule_error(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message) as info:
        Schedule.parse(text)
    assert "\n" not in str(info.value)
