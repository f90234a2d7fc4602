"""SymPy under a time and memory budget, and as a second opinion on rule-based verdicts.

Two jobs. :func:`run_budgeted` runs any symbolic work (the asymptotic-form derivation, the
validity proof of a schedule, the findings of one condition with their SymPy checks) in forked
worker processes, each with its own deadline (``seconds``, the ``sympy_timeout`` of
:func:`~acconv.theory_checks.step_sizes.check_step_sizes`) and an address-space cap
(:data:`SYMPY_MEMORY` more than the parent's, set with ``resource.setrlimit`` in the child); a
worker past its deadline is killed and its outcome is ``("timeout", "timed out ...")``.
:func:`run_sympy` asks SymPy the questions that confirm a rule-based verdict —
``Sum(...).is_convergent()``, ``limit(...)``, ``is_decreasing`` / ``is_strictly_increasing`` — and
:func:`agrees` compares an answer with the rule's prediction. SymPy is not a decision procedure
(THEORY.md §7): a hung call must not hang the caller (``((n+1)**(-16)-(n+2)**(-16))**16`` once
ran 170 s and 3.4 GB in ``sympy.cancel``), and a failure is reported, never turned into a
verdict here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import re
import resource
import signal
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import sympy

from acconv.schedules import N_SYMBOL

__all__ = [
    "NOT_FOR_SYMPY",
    "SYMPY_MEMORY",
    "SYMPY_TIMEOUT",
    "TIMED_OUT",
    "Outcome",
    "SympyCheck",
    "agrees",
    "run_budgeted",
    "run_sympy",
]

SYMPY_TIMEOUT: Final = 5.0
"""Default budget in seconds of wall time for each piece of symbolic work of a step-size report:
one condition (its derivation and SymPy checks), or the validity proof of one schedule."""
SYMPY_MEMORY: Final = 2 * 2**30
"""Address space in bytes a worker may add to what it inherited from its parent."""
TIMED_OUT: Final = "timed out"
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


def run_sympy(calls: Sequence[tuple[str, tuple[Any, ...]]], timeout: float | None) -> list[Outcome]:
    """Run SymPy checks under :func:`run_budgeted` (``timeout`` seconds each; ``None``: in this
    process, unbounded)."""
    return run_budgeted([(_SYMPY_TASKS[task], args) for task, args in calls], timeout)


def _guarded(function: Callable[..., Any], args: tuple[Any, ...], memory: int | None) -> Outcome:
    """``("ok", function(*args))``, or ``("error", reason)`` if it raises."""
    try:
        return "ok", function(*args)
    except MemoryError:
        budget = f" ({memory / 2**30:g} GiB budget)" if memory else ""
        return "error", f"ran out of memory{budget}"
    except RecursionError:
        return "error", "RecursionError: expression nested too deeply"
    except Exception as error:  # SymPy raises many kinds (NotImplementedError, ValueError, ...)
        return "error", _short(error)


def _cap_memory(memory: int) -> None:
    """Limit this process's address space to what it has now plus ``memory`` bytes."""
    try:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = used + memory if hard == resource.RLIM_INFINITY else min(hard, used + memory)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):  # no /proc (not Linux) or a lower hard limit: no cap
        pass


def _child(send: Any, function: Callable[..., Any], args: tuple[Any, ...], memory: int) -> None:
    _cap_memory(memory)
    outcome = _guarded(function, args, memory)
    try:
        send.send(outcome)
    except Exception as error:  # e.g. a result that cannot be pickled
        send.send(("error", f"the result could not be returned ({_short(error)})"))
    send.close()


def _timeout_outcome(seconds: float) -> Outcome:
    return "timeout", f"{TIMED_OUT}: no answer within the {seconds:g} s budget"


class _Alarm(Exception):
    pass


def _with_alarm(
    function: Callable[..., Any], args: tuple[Any, ...], seconds: float, why: str
) -> Outcome:
    """In this process, cut off by SIGALRM (where no worker process can start, e.g. inside a
    daemonic process); without a main thread to signal, the work is not run at all."""
    if threading.current_thread() is not threading.main_thread():
        return "error", f"no worker process could start ({why}) and no alarm is possible here"

    def ring(signum: int, frame: Any) -> None:
        raise _Alarm

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return _guarded(function, args, None)
    except _Alarm:
        return _timeout_outcome(seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_budgeted(
    calls: Sequence[tuple[Callable[..., Any], tuple[Any, ...]]],
    seconds: float | None,
    memory: int = SYMPY_MEMORY,
) -> list[Outcome]:
    """``function(*args)`` for each call, each in a forked worker process (at most 2-4 at once)
    that is killed ``seconds`` after it started and may use ``memory`` bytes more than its
    parent: outcomes ``("ok", value)``, ``("error", reason)`` or ``("timeout", "timed out:
    ...")``, in the order of ``calls``. ``seconds=None`` runs the calls in this process without
    a bound (tests that share SymPy's cache)."""
    if seconds is None:
        return [_guarded(function, args, None) for function, args in calls]
    # fork: workers start instantly and inherit the loaded modules (and the caller's patches).
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    )
    outcomes: list[Outcome | None] = [None] * len(calls)
    waiting = list(reversed(range(len(calls))))
    running: dict[Any, tuple[int, Any, float]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < _SYMPY_WORKERS:
                index = waiting.pop()
                function, args = calls[index]
                receive, send = context.Pipe(duplex=False)
                try:
                    with warnings.catch_warnings():  # Python >= 3.12 warns about fork+threads
                        warnings.simplefilter("ignore", DeprecationWarning)
                        process = context.Process(
                            target=_child, args=(send, function, args, memory), daemon=True
                        )
                        process.start()
                except Exception as error:  # e.g. inside a daemonic process
                    receive.close()
                    outcomes[index] = _with_alarm(function, args, seconds, _short(error))
                    continue
                finally:
                    send.close()
                running[receive] = (index, process, time.monotonic() + seconds)
            if not running:
                continue
            wait = max(0.0, min(deadline for _, _, deadline in running.values()) - time.monotonic())
            for ready in multiprocessing.connection.wait(list(running), wait):
                index, process, _ = running.pop(ready)
                try:
                    outcomes[index] = cast(Outcome, ready.recv())  # type: ignore[union-attr,call-arg]
                except (EOFError, OSError):
                    process.join(1.0)
                    outcomes[index] = ("error", f"the worker died (exit code {process.exitcode})")
                ready.close()  # type: ignore[union-attr]
                process.join(1.0)
                if process.is_alive():
                    process.kill()
                    process.join()
            now = time.monotonic()
            for receive, (index, process, deadline) in list(running.items()):
                if now >= deadline:
                    process.kill()
                    process.join()
                    receive.close()
                    del running[receive]
                    outcomes[index] = _timeout_outcome(seconds)
    finally:
        for receive, (_, process, _) in running.items():
            process.kill()
            process.join()
            receive.close()
    return [outcome if outcome is not None else ("error", "not run") for outcome in outcomes]


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
