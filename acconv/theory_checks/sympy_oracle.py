"""SymPy as a second opinion, run in worker processes that are killed at a deadline.

One job: ask SymPy the questions that confirm a rule-based verdict — ``Sum(...).is_convergent()``,
``limit(...)``, ``is_decreasing`` / ``is_strictly_increasing`` — and report each answer, error or
timeout (:func:`run_sympy`); :func:`agrees` compares an answer with the rule's prediction. SymPy
is not a decision procedure (THEORY.md §7): a hung call must not hang the caller, and a failure
is reported, never turned into a verdict here.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import sympy

from acconv.schedules import N_SYMBOL

__all__ = ["NOT_FOR_SYMPY", "SYMPY_TIMEOUT", "Outcome", "SympyCheck", "agrees", "run_sympy"]

SYMPY_TIMEOUT: Final = 10.0
"""Default wall-time budget in seconds for all SymPy cross-checks of one step-size report."""
_SYMPY_WORKERS: Final = min(4, max(2, os.cpu_count() or 1))

_K: Final = sympy.Symbol("n", integer=True, positive=True)  # SymPy's index: sums start at n = 1
_X: Final = sympy.Symbol("x", positive=True)  # a real variable for monotonicity
NOT_FOR_SYMPY: Final = (sympy.floor, sympy.Min, sympy.Max)
"""Functions SymPy is not given: it sees the eventual min/max branch or a comparison sequence
instead (it calls Σ 0.5^floor(n/1000) divergent)."""


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

Outcome = tuple[Literal["ok", "error", "timeout"], Any]


def _short(error: BaseException) -> str:
    text = re.sub(r"\s+", " ", f"{type(error).__name__}: {error}").strip()
    return text if len(text) <= 160 else text[:157] + "..."


def _sympy_worker(task: str, args: tuple[Any, ...]) -> Outcome:
    try:
        return "ok", _SYMPY_TASKS[task](*args)
    except Exception as error:  # SymPy raises many kinds (NotImplementedError, ValueError, ...)
        return "error", _short(error)


def run_sympy(calls: Sequence[tuple[str, tuple[Any, ...]]], timeout: float | None) -> list[Outcome]:
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
        outcomes: list[Outcome] = []
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
class SympyCheck:
    """One SymPy computation and the answer the rule predicts for it."""

    label: str
    task: str  # "converges", "limit", "decreasing" or "increasing"
    args: tuple[Any, ...]
    expected: Any

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """Identifies the computation: checks with equal keys are run once."""
        return self.task, tuple(sympy.srepr(arg) for arg in self.args)


def agrees(value: Any, expected: Any) -> bool:
    """Whether SymPy's answer ``value`` is the predicted ``expected`` (numbers to a relative 1e-12;
    unevaluated limits, bounds, nan and answers with free symbols never agree)."""
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
