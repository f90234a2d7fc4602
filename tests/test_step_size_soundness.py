"""Issue 11, the step-size checker: each reproducer of the issue as a test.

1. a numeric tail fit never decides a condition (it is evidence: undecided with a weak lean);
2. a schedule is a step size for EVERY integer n ≥ 0, or it is refused with the n where not;
3. all symbolic work runs under one time and memory budget, ending as "timed out";
7. S7's e_min is the smallest real part of the eigenvalues of -J, not the modulus.
"""

from __future__ import annotations

import multiprocessing
import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acconv.cli import main
from acconv.schedules import ScheduleError
from acconv.theory_checks import check_step_sizes
from acconv.theory_checks.schedule_validity import validity_of
from acconv.theory_checks.setting_checks import check_a2_step_sizes
from acconv.theory_checks.step_sizes import e_min_of
from acconv.theory_checks.sympy_oracle import run_budgeted
from acconv.theory_checks.verdicts import EVIDENCE_METHODS

GROWING = "exp(sqrt(n)/10**7)/(n+1)**0.8"  # issue 11: grows without bound after n ≈ 2.6e14
ITERATED = "1/((n+1)*log(n+2)*log(log(n+3))*log(log(log(n+20))))"


# --- 1. evidence is never a proof --------------------------------------------------------------


def test_a_growing_schedule_is_decided_by_its_stretched_exponential_form() -> None:
    # issue 11: b(n) = e^(sqrt(n)/10^7)/(n+1)^0.8 grows without bound (log b = sqrt(n)/10^7 -
    # 0.8 log(n+1) → ∞), though on n ≤ 10^12 a fit sees n^(-0.8) and said S3-S6 "hold".
    # Σ b = ∞ (terms do not → 0), b² does not → 0, b/a → ∞: S3, S4, S6 violated; S7 violated.
    report = check_step_sizes("1/(n+1)**0.6", GROWING, sympy_timeout=None)
    statuses = {v.id: v.status for v in report.conditions}
    assert statuses["S2"] == "holds"
    assert statuses["S3"] == statuses["S4"] == statuses["S6"] == statuses["S7"] == "violated"
    assert statuses["S5"] in ("violated", "undecided")  # b rises only after n ≈ 2.6e14
    assert report["S5"].lean is None  # not the grid's "non-increasing"
    assert report.two_timescale == "violated"


def test_a_fit_only_leans_and_two_timescale_and_a2_are_undecided() -> None:
    # exp(sqrt(n)/10^7 - (n+1)^0.3): two stretched exponents, no form. It grows without bound
    # after n ≈ 10^35 (n^(1/2)/10^7 > n^0.3), but underflows on the grid: the fit leans
    # "Σ b < ∞", the wrong way — which is why such evidence is weak and never a verdict.
    actor = "exp(sqrt(n)/10**7-(n+1)**0.3)"
    report = check_step_sizes("1/(n+1)**0.6", actor, sympy_timeout=None)
    for condition in ("S2", "S3", "S4", "S6"):
        verdict = report[condition]
        assert verdict.status == "undecided", verdict
        assert verdict.method in EVIDENCE_METHODS and verdict.strength == "weak"
    assert report["S2"].lean == "violated"
    assert report.two_timescale == "undecided"
    assert (report.two_timescale_lean, report.two_timescale_strength) == ("violated", "weak")
    a2 = check_a2_step_sizes("1/(n+1)**0.6", actor, report=report)
    assert (a2.status, a2.lean, a2.strength) == ("undecided", "violated", "weak")
    assert a2.method in EVIDENCE_METHODS


def test_iterated_logarithms_are_decided_by_the_bertrand_scale_not_by_a_fit() -> None:
    # Σ 1/(n log n loglog n logloglog n) = ∞: Cauchy condensation three times leaves Σ 1/k.
    report = check_step_sizes("1/(n+1)**0.6", ITERATED, sympy_timeout=None)
    assert report["S2"].status == "holds"
    assert report["S2"].method == "p-series/Bertrand rule"
    assert "q_3 = 1" in report["S2"].detail
    # one more power of log log log n converges: p = q = q_2 = 1, q_3 = 2 > 1
    converging = ITERATED.replace("log(log(log(n+20))))", "log(log(log(n+20)))**2)")
    assert check_step_sizes("1/(n+1)**0.6", converging, sympy_timeout=None)["S2"].status == (
        "violated"
    )


@pytest.mark.slow  # three reports in process: about 3 s
def test_no_verdict_from_a_numeric_method_is_holds_or_violated() -> None:
    for actor in ("exp(sqrt(n)/10**7-(n+1)**0.3)", "exp(-sqrt(n)-(n+1)**0.3)"):
        report = check_step_sizes("1/(n+1)**0.6", actor, sympy_timeout=None)
        for verdict in report.conditions:
            if verdict.method in EVIDENCE_METHODS:
                assert verdict.status == "undecided", verdict


# --- 2. validity for every n ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        ("1/(n-150)**2+1/(n+1)", "not finite at n=150"),  # a pole at 150 only
        ("1/(n+1)**0.6-max(0,1-(n-150)**2)", "negative at n=150"),  # 1/151^0.6 - 1 < 0
        ("sqrt((n-150)**2-0.25)/(n+1)", "not a real number at n=150"),  # sqrt(-1/4)
    ],
)
def test_a_schedule_bad_at_one_n_is_refused_with_that_n(schedule: str, problem: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(problem)):
        check_step_sizes(schedule, "1/(n+1)", sympy_timeout=None)


def test_a_pole_beyond_every_grid_is_found_by_the_proof() -> None:
    # n = 123457 is on no parse-time grid (dense to 10^4, then 51 log-spaced points)
    with pytest.raises(ScheduleError, match=r"^actor schedule .* is not finite at n=123457 "):
        check_step_sizes("1/(n+1)**0.6", "1/(n-123457)**2+1/(n+1)", sympy_timeout=None)


def test_an_eventually_negative_schedule_is_refused() -> None:
    # 1/(n+1)^0.6 < 10^-30 (n+1)^0.1 ⇔ (n+1)^0.7 > 10^30 ⇔ n + 1 > 10^(300/7) ≈ 7.2e42, and
    # 2^144 ≈ 2.2e43 is past it: the witness is n = 2^144.
    with pytest.raises(ScheduleError, match=r"critic .* is negative at n=2230074519853062314"):
        check_step_sizes("1/(n+1)**0.6-10**(-30)*(n+1)**0.1", "1/(n+1)", sympy_timeout=None)


@pytest.mark.parametrize(
    "schedule",
    [
        "sqrt(n+2)-sqrt(n+1)",  # = 1/(sqrt(n+2)+sqrt(n+1)) > 0: solveset on the tail
        "1/(n+1)-1/(n+2)",  # = 1/((n+1)(n+2)) > 0
        "(1+n-2*floor(n/2))/(n+1)",  # floor(n/2) ∈ (n/2 - 1, n/2]: the numerator is in [1, 3)
        "0.1*(1+cos(pi*n/100))/2",  # in [0, 0.1]
        "1/(2*n-1)**2",  # the pole at n = 1/2 is no integer
    ],
)
def test_valid_schedules_are_proved_valid(schedule: str) -> None:
    from acconv.schedules import as_schedule

    assert validity_of(as_schedule(schedule).expr).status == "valid"


@pytest.mark.slow  # interval branch and bound, then solveset: about 3 s
def test_an_unproved_schedule_leaves_its_conditions_undecided() -> None:
    # (n+1)^-0.6 - (n+2)^-0.6 > 0 (x^-0.6 decreases), but neither interval arithmetic (the
    # two terms cancel) nor solveset proves it on the tail: no condition on a(n) is decided.
    report = check_step_sizes("1/(n+1)**0.6-1/(n+2)**0.6", "1/(n+1)", sympy_timeout=None)
    assert report["S1"].status == "undecided"
    assert "is not proved finite and >= 0 for every integer n >= 0" in report["S1"].detail
    assert report["S2"].status == "holds"  # b alone


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check-schedule", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_refuses_a_bad_schedule_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "--critic", "1/(n-150)**2+1/(n+1)", "--actor", "1/(n+1)")
    assert code == 2
    assert err.count("\n") == 1 and "n=150" in err and "Traceback" not in err


# --- 3. one budget -------------------------------------------------------------------------


def test_the_schedule_that_hung_sympy_cancel_ends_within_the_budget() -> None:
    # issue 11: this ran past 170 s and 3.4 GB in sympy.cancel in the main process.
    start = time.monotonic()
    report = check_step_sizes("((n+1)**(-16)-(n+2)**(-16))**16", "1/(n+1)", sympy_timeout=1.0)
    # 10 tasks, at most 4 at once, each killed after 1 s: three waves plus process start-up
    assert time.monotonic() - start < 15
    assert multiprocessing.active_children() == []
    for verdict in report.conditions:
        if verdict.status == "undecided" and "timed out" in verdict.detail:
            assert verdict.detail.startswith("timed out: no answer within the 1 s budget")


def _allocate() -> int:
    return len(bytearray(8 * 2**30))


def test_a_worker_that_exceeds_the_memory_budget_fails_alone() -> None:
    [(kind, value)] = run_budgeted([(_allocate, ())], 10.0, memory=256 * 2**20)
    assert kind == "error"
    assert "ran out of memory (0.25 GiB budget)" in value


def test_the_cli_takes_the_budget_as_an_option(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("--critic", "1/(n+1)**0.6", "--actor", "1/(n+1)", "--sympy-timeout", "3", "--json")
    code, out, _ = _cli(capsys, *args)
    assert code == 0
    assert '"two_timescale": "holds"' in out


# --- 7. S7 needs the real part -------------------------------------------------------------


def test_e_min_is_the_smallest_real_part_of_the_eigenvalues_of_minus_the_jacobian() -> None:
    # J = [[-1, -10], [10, -1]]: -J = [[1, 10], [-10, 1]] has eigenvalues 1 ± 10i (trace 2,
    # determinant 101): real part 1, modulus sqrt(101) ≈ 10.05.
    jacobian = np.array([[-1.0, -10.0], [10.0, -1.0]])
    assert e_min_of(jacobian) == pytest.approx(1.0, abs=1e-12)
    # b0 = 0.1: the rate condition 0.1 > 1/(2 e_min) fails for e_min = 1 (needs e_min > 5);
    # the modulus 10.05 would have certified it.
    verdict = check_step_sizes(
        "1/(n+1)**0.6", "0.1/(n+1)", e_min=e_min_of(jacobian), sympy_timeout=None
    )["S7"]
    assert verdict.status == "violated"
    assert "smallest real part" in verdict.detail
    with pytest.raises(ValueError, match="expected a finite square matrix"):
        e_min_of(np.ones((2, 3)))


# --- 4. property: random well-formed schedules never crash or hang --------------------------------

_LEAVES = st.sampled_from(["(n+1)", "(n+2)", "0.5", "2", "(n+1)**0.6", "log(n+2)", "(-1)**n"])


def _grow(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
        lambda t: f"({t[0]}{t[1]}{t[2]})"
    )
    power = st.tuples(inner, st.sampled_from(["-1", "0.5", "2", "-0.7", "3"])).map(
        lambda t: f"({t[0]})**{t[1]}"
    )
    call = st.tuples(st.sampled_from(["log", "exp", "sqrt", "floor", "cos"]), inner).map(
        lambda t: f"{t[0]}({t[1]})"
    )
    pair = st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
        lambda t: f"{t[0]}({t[1]},{t[2]})"
    )
    return st.one_of(binary, power, call, pair)


SCHEDULES = st.recursive(_LEAVES, _grow, max_leaves=6)


@pytest.mark.slow  # about 1-3 s per example; 12 examples
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(critic=SCHEDULES, actor=SCHEDULES)
def test_random_schedules_never_crash_or_hang(critic: str, actor: str) -> None:
    start = time.monotonic()
    try:
        report = check_step_sizes(critic, actor, sympy_timeout=0.5)
    except ScheduleError as error:  # refused: one line naming the schedule
        assert "\n" not in str(error) and "schedule" in str(error)
        return
    # 10 tasks, 4 at once, 0.5 s each: three waves, plus start-up on a loaded machine
    assert time.monotonic() - start < 20
    assert {v.id for v in report.conditions} == {f"S{k}" for k in range(1, 8)}
    for verdict in report.conditions:
        if verdict.method in EVIDENCE_METHODS:
            assert verdict.status == "undecided"


# --- bounded oscillating factors -----------------------------------------------------------------


@pytest.mark.parametrize(
    "actor",
    [
        "(2+(-1)**n)/(n+1)",  # (n+1)·b alternates 3, 1
        "(1+n-2*floor(n/2))/(n+1)",  # n - 2 floor(n/2) = n mod 2: (n+1)·b alternates 1, 2
    ],
)
def test_a_bounded_oscillating_factor_is_decided_by_its_bounds_and_its_period(actor: str) -> None:
    # 1/(n+1) ≤ b(n) ≤ 3/(n+1): Σ b = ∞ (S2), Σ b² < ∞ (S3), b/a ≤ 3 n^-0.4 → 0 (S4, S6 with
    # d = 3). b(n+1)/b(n) → h(k+1)/h(k) = 3 (or 2) along one residue class: b rises infinitely
    # often (S5 violated); (n+1)·b(n) has two limit points: no b0 (S7 violated).
    report = check_step_sizes("1/(n+1)**0.6", actor, sympy_timeout=None)
    statuses = {v.id: v.status for v in report.conditions}
    assert statuses == {
        "S1": "holds",
        "S2": "holds",
        "S3": "holds",
        "S4": "holds",
        "S5": "violated",
        "S6": "holds",
        "S7": "violated",
    }
