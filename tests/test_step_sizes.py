"""Step-size conditions S1–S7: every family of THEORY.md §7 gets the verdicts of its table row.

The expected verdicts in TABLE_ROWS are copied from the table in THEORY.md §7 ("Step-size
schedules: families, verdicts, and how SymPy decides"); each row's comment names the table row.
"""

from __future__ import annotations

import functools
import json
import math
import multiprocessing
import pickle
import time
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from acconv.cli import main
from acconv.schedules import N_SYMBOL as N
from acconv.schedules import Schedule, ScheduleError
from acconv.theory_checks import (
    StepSizeReport,
    Verdict,
    asymptotic_form,
    check_step_sizes,
    clocks,
    tail_exponent,
)
from acconv.theory_checks.oscillation import oscillation_of
from acconv.theory_checks.step_sizes import CONDITION_IDS

H, V, U = "holds", "violated", "undecided"

# (id, critic a(n), actor b(n), expected statuses, expected two-timescale verdict)
TABLE_ROWS: list[tuple[str, str, str, dict[str, str], str]] = [
    # row "a = a0/(n+1)^{p_a}, b = b0/(n+1)^{p_b}, 1/2 < p_a < p_b ≤ 1": ✓ ✓ ✓ ✓ ✓, valid
    # (canonical p_a = 0.6, p_b = 1). S7 needs b0 > 1/(2 e_min) at p_b = 1: undecided.
    (
        "canonical",
        "0.5/(n+1)**0.6",
        "0.1/(n+1)",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H, "S6": H, "S7": U},
        H,
    ),
    # same row with p_b = 0.9 < 1: no extra condition, so S7 holds too.
    (
        "canonical-p_b-below-1",
        "1/(n+1)**0.6",
        "1/(n+1)**0.9",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H, "S6": H, "S7": H},
        H,
    ),
    # row "same with p_a = p_b": ✓ ✓ ✓ ✗ ✗, single timescale
    (
        "equal-exponents",
        "1/(n+1)**0.7",
        "0.1/(n+1)**0.7",
        {"S1": H, "S2": H, "S3": H, "S4": V, "S6": V},
        V,
    ),
    # row "p_a > p_b (critic slower)": ✓ ✓ ✓ ✗ (ratio → ∞) ✗, reversed timescales
    ("reversed", "1/(n+1)", "1/(n+1)**0.6", {"S1": H, "S2": H, "S3": H, "S4": V, "S6": V}, V),
    # row "p_a ≤ 1/2": ✓ ✓ ✗ (Σ a² = ∞), too large fast steps (boundary p_a = 1/2 and below)
    ("p_a-one-half", "1/(n+1)**0.5", "1/(n+1)", {"S1": H, "S2": H, "S3": V}, V),
    ("p_a-below-one-half", "1/(n+1)**0.4", "1/(n+1)", {"S1": H, "S2": H, "S3": V}, V),
    # row "p_b > 1": ✓ ✗ (Σ b < ∞) ✓ ✓, actor stops at finite "time"
    ("p_b-above-one", "1/(n+1)**0.6", "1/(n+1)**1.2", {"S1": H, "S2": V, "S3": H, "S4": H}, V),
    # row "a = a0/(n+1), b = b0/((n+1) log(n+2))": ✓ ✓ ✓ ✓ ✗, valid for Borkar/K&B, not K–T
    (
        "log-ratio",
        "1/(n+1)",
        "1/((n+1)*log(n+2))",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H, "S6": V},
        H,
    ),
    # row "a = a0/(n+1)^p, b = a/log(n+2), 1/2 < p ≤ 1": ✓ ✓ ✓ ✓ ✗, as above
    (
        "power-over-log",
        "1/(n+1)**0.7",
        "1/(n+1)**0.7/log(n+2)",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H, "S6": V},
        H,
    ),
    # row "b = b0/((n+1) log²(n+2))": ✗ (Σ b < ∞) ✓ ✓, too fast decay
    ("log-squared", "1/(n+1)**0.6", "1/((n+1)*log(n+2)**2)", {"S2": V, "S3": H, "S4": H}, V),
    # row "constants a ≡ a0, b ≡ b0 (b0 < a0)": ✓ ✓ ✗ ✗ (ratio const) ✗
    ("constants", "0.1", "0.01", {"S1": H, "S2": H, "S3": V, "S4": V, "S6": V}, V),
    # row "geometric a = a0 c^n": ✗ (freezes), ✓ for S3
    ("geometric", "0.1*0.99**n", "1/(n+1)", {"S1": V, "S3": H}, V),
    # row "staircase: a = a0/(k+1) on epoch k of fixed length L": ✓ ✓ ✓, S4 depends on b
    # (here b is a staircase that decays faster by a log factor, so S4 holds)
    (
        "staircase",
        "0.5/(floor(n/100)+1)",
        "0.1/((floor(n/100)+1)*log(floor(n/100)+2))",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H},
        H,
    ),
    # geometric staircase 0.1*0.5**floor(n/1000) (brief: "geometric decay: summable") -> ✗ S1
    ("geometric-staircase", "0.1*0.5**floor(n/1000)", "0.01/(n+1)", {"S1": V, "S3": H, "S5": H}, V),
    # row "two-phase: constant then 1/n": the tail decides S1–S4
    (
        "two-phase",
        "min(0.1, 10/(n+1))",
        "min(0.01, 1/((n+1)*log(n+2)))",
        {"S1": H, "S2": H, "S3": H, "S4": H, "S5": H},
        H,
    ),
]
ROW_IDS = [row[0] for row in TABLE_ROWS]


@functools.cache
def report_for(critic: str, actor: str) -> StepSizeReport:
    # In-process SymPy (no worker processes, shared SymPy cache) keeps the table fast; the
    # worker-process path is exercised by the failure, timeout and CLI tests below.
    return check_step_sizes(critic, actor, sympy_timeout=None)


def statuses(report: StepSizeReport) -> dict[str, str]:
    return {verdict.id: verdict.status for verdict in report.conditions}


@pytest.fixture
def sympy_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SymPy entry point the checks use raises (the workers are forked, so they see it)."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("forced")

    for name in ("Sum", "limit", "is_decreasing", "is_strictly_increasing"):
        monkeypatch.setattr(sympy, name, fail)


# --- the table of THEORY.md §7 ------------------------------------------------------------


@pytest.mark.parametrize(("row", "critic", "actor", "expected", "overall"), TABLE_ROWS, ids=ROW_IDS)
def test_each_family_of_the_theory_table_gets_its_verdicts(
    row: str, critic: str, actor: str, expected: dict[str, str], overall: str
) -> None:
    report = report_for(critic, actor)
    got = statuses(report)
    assert {key: got[key] for key in expected} == expected, report.to_dict()
    assert report.two_timescale == overall


@pytest.mark.parametrize(("row", "critic", "actor", "expected", "overall"), TABLE_ROWS, ids=ROW_IDS)
def test_every_rule_based_verdict_is_confirmed_by_sympy(
    row: str, critic: str, actor: str, expected: dict[str, str], overall: str
) -> None:
    for verdict in report_for(critic, actor).conditions:
        if verdict.status in (H, V) and verdict.method == "p-series/Bertrand rule":
            assert "SymPy agrees" in verdict.detail, verdict


def test_canonical_schedule_details_show_the_working() -> None:
    report = report_for("0.5/(n+1)**0.6", "0.1/(n+1)")
    assert report.conditions[0].detail.startswith("a(n) ~ 0.5/n^(3/5): Σ a = ∞ because p = 3/5")
    assert report["S1"].method == "p-series/Bertrand rule"
    assert "b(n)/a(n) ~ 0.2/n^(2/5) → 0" in report["S4"].detail
    assert "limit(b(n)/a(n), n, oo) = 0" in report["S4"].detail
    assert report["S4"].method == "symbolic"
    # Hand computed: b/a ~ 0.2 n^(-2/5), and Σ n^(-2d/5) < ∞ iff d > 5/2 = 1/(p_b - p_a).
    assert report["S6"].evidence["d_min"] == pytest.approx(2.5)
    assert "d > 1/(p_b - p_a) = 5/2" in report["S6"].detail
    assert "for all n ≥ 0" in report["S5"].detail
    # Hand computed: b0 > 1/(2 e_min) with b0 = 0.1 means e_min > 5.
    assert report["S7"].evidence["e_min_threshold"] == pytest.approx(5.0)
    assert "e_min" in report["S7"].detail


def test_reversed_timescales_report_the_ratio_tending_to_infinity() -> None:
    # THEORY.md §7 row "p_a > p_b": S4 ✗ (ratio → ∞).
    report = report_for("1/(n+1)", "1/(n+1)**0.6")
    assert "→ ∞" in report["S4"].detail and "= oo" in report["S4"].detail


def test_log_ratio_fails_s6_for_every_d() -> None:
    # THEORY.md §7 row "a = a0/(n+1), b = b0/((n+1) log(n+2))": S6 ✗ (Σ log^{-d} = ∞).
    detail = report_for("1/(n+1)", "1/((n+1)*log(n+2))")["S6"].detail
    assert "for every d > 0" in detail and "Bertrand" in detail


def test_two_phase_schedule_is_decided_by_its_tail() -> None:
    # THEORY.md §7 row "two-phase: constant then 1/n": "only the tail matters for S1-S4".
    report = report_for("min(0.1, 10/(n+1))", "min(0.01, 1/((n+1)*log(n+2)))")
    assert "Min(1/10, 10/(n + 1)) = 10/(n + 1) for large n" in report["S1"].detail
    assert "a(n) ~ 10/n" in report["S1"].detail


@pytest.mark.parametrize(
    ("e_min", "status"),
    # Hand computed: with b0 = 0.1 the condition b0 > 1/(2 e_min) is e_min > 5.
    [(10.0, H), (1.0, V)],
)
def test_s7_at_p_b_one_is_decided_by_e_min_when_given(e_min: float, status: str) -> None:
    report = check_step_sizes("0.5/(n+1)**0.6", "0.1/(n+1)", e_min=e_min)
    assert report["S7"].status == status
    assert report["S7"].evidence["e_min"] == e_min


def test_increasing_step_size_violates_s5() -> None:
    # n/(n+1) increases for every n: derivative 1/(n+1)² > 0, confirmed by SymPy.
    report = check_step_sizes("1/(n+1)**0.6", "n/(n+1)")
    assert report["S5"].status == V
    assert "is_strictly_increasing" in report["S5"].detail


# --- honesty: SymPy failures never produce "violated" -------------------------------------


@pytest.mark.usefixtures("sympy_fails")
@pytest.mark.parametrize(("row", "critic", "actor", "expected", "overall"), TABLE_ROWS, ids=ROW_IDS)
def test_no_verdict_is_violated_when_sympy_fails(
    row: str, critic: str, actor: str, expected: dict[str, str], overall: str
) -> None:
    report = check_step_sizes(critic, actor)
    assert V not in statuses(report).values(), report.to_dict()
    for condition in ("S1", "S2", "S3", "S4", "S6"):
        verdict = report[condition]
        assert verdict.status == U
        assert "raised RuntimeError: forced" in verdict.detail
    assert report.two_timescale == U


@pytest.mark.usefixtures("sympy_fails")
def test_sympy_failure_in_process_is_undecided_too() -> None:
    report = check_step_sizes("1/(n+1)**0.6", "1/(n+1)**1.2", sympy_timeout=None)
    assert report["S2"].status == U
    assert "not confirmed" in report["S2"].detail


@pytest.mark.usefixtures("sympy_fails")
def test_s5_is_undecided_without_a_lean_when_sympy_fails() -> None:
    # n/(n+1) is increasing; without SymPy's confirmation S5 must not be "violated", nor lean
    # on a grid scan the derivative's sign contradicts.
    verdict = check_step_sizes("1/(n+1)**0.6", "n/(n+1)")["S5"]
    assert verdict.status == U and verdict.lean is None
    assert "not confirmed" in verdict.detail


def test_a_hanging_sympy_call_is_cut_off_and_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: Any, **kwargs: Any) -> Any:
        time.sleep(60)

    monkeypatch.setattr(sympy, "limit", hang)
    start = time.monotonic()
    report = check_step_sizes("1/(n+1)**0.7", "0.1/(n+1)**0.7", sympy_timeout=1.0)
    assert time.monotonic() - start < 10
    assert multiprocessing.active_children() == []  # the hung worker was killed
    assert report["S4"].status == U
    assert report["S4"].detail == "timed out: no answer within the 1 s budget"
    assert V not in statuses(report).values()


# --- numeric estimates --------------------------------------------------------------------


def test_schedule_without_asymptotic_form_is_labelled_numeric_estimate() -> None:
    # exp(sqrt(n)/10^7 - (n+1)^0.3) grows without bound after n ≈ 10^35 but underflows on the
    # grid: two stretched exponents have no form, and the fit is evidence, never a verdict.
    actor = "exp(sqrt(n)/10**7-(n+1)**0.3)"
    assert asymptotic_form(actor) is None
    report = check_step_sizes("1/(n+1)**0.6", actor)
    for condition in ("S2", "S3", "S4", "S6"):
        assert report[condition].status == U, report[condition]
        assert report[condition].method == "numeric estimate"
    assert report["S2"].strength == "weak"
    assert report.two_timescale == U


def test_numeric_estimate_classifies_super_polynomial_decay() -> None:
    # exp(-sqrt n)·exp(-(n+1)^0.3) has two stretched exponents: no form; it underflows on the
    # grid (faster than any power), and the fit is evidence, never "violated"
    report = check_step_sizes("exp(-sqrt(n)-(n+1)**0.3)", "1/(n+1)")
    assert report["S1"].method == "numeric estimate"
    assert (report["S1"].status, report["S1"].lean, report["S1"].strength) == (U, V, "weak")
    assert "underflows" in report["S1"].detail


def test_tail_exponent_recovers_a_power_law() -> None:
    # Hand computed: -Δlog((n+1)^-0.6)/Δlog n between 10^11 and 10^12 is 0.6 up to 1e-12.
    estimate = tail_exponent("1/(n+1)**0.6")
    assert estimate.p_hat == pytest.approx(0.6, abs=1e-9)
    assert estimate.n[0] == 100 and estimate.n[-1] == 10**12


# --- asymptotic forms, clocks, verdicts ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "formula", "exact"),
    [
        ("0.5/(n+1)**0.6", "0.5/n^(3/5)", True),
        ("1/((n+1)*log(n+2)**2)", "1/(n·log(n)^2)", True),
        ("min(0.1, 10/(n+1))", "10/n", True),  # the eventual branch of min
        ("1/(floor(n/100)+1)", "100/n", True),  # floor(n/L) + 1 ~ n/L
        ("0.1*0.99**n", "0.1·0.99^n", True),
        ("0.1*0.5**floor(n/1000)", "0.1·0.999307^n", False),  # ≍ 2^(-n/1000) up to factor 2
        ("1/(n+2) - 1/(n+3)", "1/n^2", True),  # leading terms cancel; one fraction decides
        ("sqrt(n+1)*exp(-n/100)", "0.99005^n·n^(1/2)", True),
    ],
)
def test_asymptotic_forms_of_the_schedule_families(text: str, formula: str, exact: bool) -> None:
    form = asymptotic_form(text)
    assert form is not None
    assert (form.formula(), form.exact) == (formula, exact)


def test_clocks_are_partial_sums_of_the_steps() -> None:
    # Hand computed: 0, 1, 1 + 1/2, 1 + 1/2 + 1/3, 1 + 1/2 + 1/3 + 1/4.
    expected = [0.0, 1.0, 1.5, 11 / 6, 25 / 12]
    np.testing.assert_allclose(clocks("1/(n+1)", 4), expected, rtol=1e-15)
    t_a, t_b = report_for("0.5/(n+1)**0.6", "0.1/(n+1)").clocks(4)
    np.testing.assert_allclose(t_b, 0.1 * np.array(expected), rtol=1e-15)
    assert t_a.shape == (5,)
    with pytest.raises(ValueError, match="n_max"):
        clocks("1/(n+1)", -1)


def test_verdict_is_frozen_read_only_and_serialisable() -> None:
    verdict = Verdict("S1", "Σ a(n) = ∞", "holds", "symbolic", "because", {"p_a": 0.6}, ("X",))
    with pytest.raises(TypeError):
        verdict.evidence["p_a"] = 1.0  # type: ignore[index]
    assert pickle.loads(pickle.dumps(verdict)) == verdict
    assert json.loads(json.dumps(verdict.to_dict()))["evidence"] == {"p_a": 0.6}
    with pytest.raises(ValueError, match="status"):
        Verdict("S1", "x", "maybe", "symbolic", "")  # type: ignore[arg-type]


def test_report_to_dict_lists_all_seven_conditions() -> None:
    data = report_for("0.5/(n+1)**0.6", "0.1/(n+1)").to_dict()
    assert [c["id"] for c in data["conditions"]] == list(CONDITION_IDS)
    assert data["critic_asymptotics"] == "a(n) ~ 0.5/n^(3/5)"
    json.dumps(data)


# --- the CLI ------------------------------------------------------------------------------


def test_cli_check_schedule_json_has_the_documented_shape(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["check-schedule", "--critic", "0.5/(n+1)**0.6", "--actor", "0.1/(n+1)", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    result = json.loads(out)
    assert set(result) == {"conditions", "two_timescale"}
    assert [c["id"] for c in result["conditions"]] == list(CONDITION_IDS)
    for condition in result["conditions"]:
        # the verdict's fields (without evidence); leans and strengths say what evidence shows
        assert {"id", "status", "method", "detail", "lean", "strength"} <= set(condition)
        assert "evidence" not in condition
    # THEORY.md §7, canonical row: valid.
    assert result["two_timescale"] == "holds"


def test_cli_check_schedule_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check-schedule", "--critic", "0.1", "--actor", "0.01"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "S7" in out and "two-timescale conditions S1–S5: violated" in out


@pytest.mark.parametrize("bad", ["__import__('os')", "1/n"])
def test_cli_check_schedule_rejects_bad_expressions_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    code = main(["check-schedule", "--critic", bad, "--actor", "0.1/(n+1)"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("acconv: error: schedule") and err.count("\n") == 1


# --- oscillating schedules (cos): only proofs that cover the oscillation -------------------

OSCILLATING_ROWS: list[tuple[str, str, str, dict[str, str]]] = [
    # a = 0.05 + 0.05 cos(πn/10) (torch's CosineAnnealingLR, T_max = 10): periodic (period 20),
    # a(20k) = 0.1 and a ≥ 0: Σ a = ∞ (S1 ✓), a ↛ 0 so Σ a² = ∞ (S3 ✗); periodic and not
    # constant: not eventually non-increasing (S5 ✗); a ↛ 0: no a0/n^p form (S7 ✗). a(10 + 20k)
    # = 0, so b/a is undefined infinitely often: S4 and S6 are not decided.
    (
        "cosine-annealing",
        "0.05 + 0.05*cos(pi*n/10)",
        "0.1/(n+1)",
        {"S1": H, "S3": V, "S4": U, "S5": V, "S6": U, "S7": V},
    ),
    # a = 0.01 + 0.045 (1 + cos(πn/300)) ∈ [0.01, 0.1]: a ≥ 0.01 gives S1 ✓ and S3 ✗;
    # b/a ≤ 100 b = 10/(n+1) → 0 (S4 ✓) and Σ (b/a)² ≤ Σ 100/(n+1)² < ∞ (S6 ✓).
    (
        "cosine-with-floor",
        "0.01 + 0.045*(1 + cos(pi*n/300))",
        "0.1/(n+1)",
        {"S1": H, "S3": V, "S4": H, "S6": H},
    ),
    # a = (1 + cos(n)/2)/(n+1)^0.6 ∈ [0.5, 1.5]/(n+1)^0.6: Σ a ≥ Σ 0.5/(n+1)^0.6 = ∞ (S1 ✓),
    # Σ a² ≤ Σ 2.25/(n+1)^1.2 < ∞ (S3 ✓ with b's), b/a ≤ 2·0.1/(n+1)^0.4 → 0 (S4 ✓); cos(n) is
    # not periodic on the integers: S5 is not decided.
    (
        "modulated-power",
        "(1 + 0.5*cos(n))/(n+1)**0.6",
        "0.1/(n+1)",
        {"S1": H, "S3": H, "S4": H, "S5": U},
    ),
    # a = 2^cos(n)·e^(-n/100) ≤ 2 e^(-n/100): Σ a < ∞ (S1 ✗); b/a ≥ b/(2 e^(-n/100)) → ∞ (S4 ✗).
    ("modulated-geometric", "2**cos(n)*exp(-n/100)", "1/(n+1)", {"S1": V, "S3": H, "S4": V}),
    # b = 0.1 (1 + (-1)^n)/2 (SymPy's form of cos(πn)): b(2k) = 0.1, so Σ b = ∞ (S2 ✓), Σ b² = ∞
    # (S3 ✗), b/a ≥ 0.1/a(2k) with a → 0: b/a ↛ 0 (S4 ✗, S6 ✗).
    (
        "alternating-actor",
        "0.5/(n+1)**0.6",
        "0.05 + 0.05*cos(pi*n)",
        {"S2": H, "S3": V, "S4": V, "S5": V, "S6": V},
    ),
    # a = (1 - cos(πn/10))/2 + (1 + cos(πn/10))/(2 (n+1)²): at n = 10^k (k ≥ 2) cos(πn/10) = 1,
    # so a fit on n = 10^2..10^12 sees 1/(n+1)² and would call Σ a finite, yet a(10 + 20k) = 1
    # and Σ a = ∞. The bounds 0 ≤ a ≤ 1 + 1/(n+1)² settle nothing: undecided, never violated.
    (
        "fit-would-mislead",
        "(1 - cos(pi*n/10))/2 + (1 + cos(pi*n/10))/2/(n+1)**2",
        "0.1/(n+1)",
        {"S1": U, "S3": U, "S4": U, "S5": U, "S6": U, "S7": U},
    ),
]


@pytest.mark.parametrize(
    ("row", "critic", "actor", "expected"),
    OSCILLATING_ROWS,
    ids=[row[0] for row in OSCILLATING_ROWS],
)
def test_oscillating_schedules_are_decided_only_by_proofs(
    row: str, critic: str, actor: str, expected: dict[str, str]
) -> None:
    report = report_for(critic, actor)
    got = statuses(report)
    assert {key: got[key] for key in expected} == expected, report.to_dict()
    for verdict in report.conditions:
        assert verdict.method != "numeric estimate", verdict
        if verdict.status == U and verdict.id in expected:
            assert "oscillating factor" in verdict.detail and "not decided" in verdict.detail


def test_an_undecided_oscillating_condition_names_the_factor() -> None:
    detail = report_for("0.05 + 0.05*cos(pi*n/10)", "0.1/(n+1)")["S4"].detail
    assert "oscillating factor cos(pi*n/10): not decided" in detail


def test_tail_exponent_refuses_an_oscillating_schedule() -> None:
    # cos(πn/10) = 1 at every n = 10^k (k ≥ 2): a fit would see one phase only
    estimate = tail_exponent("(1 + cos(pi*n/10))/(n+1)")
    assert math.isnan(estimate.p_hat)
    assert estimate.oscillating == ("cos(pi*n/10)",)
    assert asymptotic_form("(1 + cos(pi*n/10))/(n+1)") is None


@pytest.mark.usefixtures("sympy_fails")
def test_a_bound_argument_needs_sympy_too() -> None:
    # Σ a ≤ Σ 2e^(-n/100) < ∞ is a rule on the bound U; without SymPy's confirmation: undecided.
    report = check_step_sizes("2**cos(n)*exp(-n/100)", "1/(n+1)")
    assert report["S1"].status == U
    assert "raised RuntimeError: forced" in report["S1"].detail


OSCILLATING_TEMPLATES = [
    "{c}*(1 + cos(pi*n/{t}))/2",
    "{c} + {c}*cos(pi*n/{t} + {p})",
    "({c} + cos(n*{p}))**2/(n+1)**{q}",
    "2**cos(pi*n/{t})*exp(-n/{t})",
    "floor({t} + {t}*cos(pi*n/{t}))/(n+1)",
    "min({c}, ({c} + cos(pi*n/{t}))/(n+1)**{q})",
    "sqrt(1 + cos(pi*n/{t}))*(n+1)**{q}",
    "1/(2 + cos(pi*n/{t}) + {c}*cos(n))",
    "(1 + cos(pi*n))*{c} + max(0, {t} - n)",
    "log(2 + cos(pi*n/{t}) + n)",
]


@settings(max_examples=60, deadline=None)
@given(
    template=st.sampled_from(OSCILLATING_TEMPLATES),
    c=st.sampled_from(["0.5", "1", "3", "0.01"]),
    t=st.integers(1, 40),
    p=st.sampled_from(["0.3", "1", "2.5"]),
    q=st.sampled_from(["0", "0.5", "1", "1.5"]),
)
def test_the_proved_facts_about_an_oscillating_schedule_hold_numerically(
    template: str, c: str, t: int, p: str, q: str
) -> None:
    """The premises of every oscillation proof, checked on n = 0..2000 and large n: the bounds
    L(n) ≤ a(n) ≤ U(n), the period a(n + P) = a(n), the recurring value a(n0 + kP) = a(n0) and
    the two different values."""
    try:
        schedule = Schedule.parse(template.format(c=c, t=t, p=p, q=q))
    except ScheduleError:
        return  # e.g. a negative value: not a step size
    facts = oscillation_of(schedule.expr)
    assert facts is not None
    n_grid = np.concatenate([np.arange(2001), [10**6 + 7, 10**9 + 3]]).astype(np.int64)
    values = schedule(n_grid)
    slack = 1e-9 * (1 + np.abs(values))
    for bound, sign in ((facts.lower, 1), (facts.upper, -1)):
        if bound is not None:
            edge = np.broadcast_to(
                sympy.lambdify(sympy.Symbol("n"), bound.subs(N, sympy.Symbol("n")), "numpy")(
                    n_grid.astype(np.float64)
                ),
                n_grid.shape,
            )
            assert np.all(sign * (values - edge) >= -slack), (schedule.text, bound)
    if facts.period is not None:
        shift = np.arange(1000, dtype=np.int64)
        np.testing.assert_allclose(
            schedule(shift + facts.period), schedule(shift), rtol=1e-9, atol=1e-12
        )
        if facts.recurring is not None:
            n0, value = facts.recurring
            k = np.arange(0, 50, dtype=np.int64)
            np.testing.assert_allclose(schedule(n0 + k * facts.period), float(value), rtol=1e-9)
            assert float(value) != 0
        if facts.distinct is not None:
            (i, vi), (j, vj) = facts.distinct
            assert abs(schedule(i) - schedule(j)) > 1e-12 and float(vi) != float(vj)
