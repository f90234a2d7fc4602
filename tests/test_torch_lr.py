"""torch LR schedulers as acconv schedules: every law against torch's own get_last_lr().

Each supported scheduler is stepped 1,000 times the way torch recommends (``optimizer.step()``
then ``scheduler.step()``) on an optimizer with two param groups (lr 0.1 and 0.7), and the law
from :func:`scheduler_law` must give torch's learning rate at every m = 0..1000, for both groups
— including past ``total_iters``, the last milestone and ``T_max``. The verdicts of the step-size
checker on the laws are compared with verdicts derived by hand.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.optim import SGD  # noqa: E402
from torch.optim import lr_scheduler as lrs  # noqa: E402

from acconv.adapters.torch_lr import SUPPORTED_SCHEDULERS, scheduler_law  # noqa: E402
from acconv.schedules import Schedule  # noqa: E402
from acconv.theory_checks import check_step_sizes  # noqa: E402

STEPS = 1000
GROUP_LRS = (0.1, 0.7)  # param group 0 and param group 1
H, V, U = "holds", "violated", "undecided"

Factory = Callable[[Any], Any]

# rtol 1e-12 for every case: torch runs the chainable (recursive) form lr_m = lr_(m-1)·factor
# and the law is the closed form, so the two differ by float rounding only — at most one
# rounding (≤ 1.1e-16 relative) per step, ≤ ~1e-13 after 1,000 steps. Measured max relative
# error per scheduler over these cases (both groups, m = 0..1000): ConstantLR 0, LinearLR 6.1e-15,
# ExponentialLR 2.6e-15, StepLR 2.1e-15, MultiStepLR 2.2e-16, PolynomialLR 4.8e-15,
# CosineAnnealingLR 4.3e-13 (T_max=10 at m=729: the cosine's argument π·m/T carries an absolute
# rounding error ∝ m, magnified where cos(π·m/(2T))² is small). A wrong law changes a value by a
# whole factor (γ, start_factor, ...), far above 1e-12.
#
# atol is 0 except where the law is 0: at m = T_max + 2k·T_max torch's CosineAnnealingLR gives
# exactly 0.0, while the law's cos(π·m/(2T))² is δ² in floating point, δ ≤ π·m/(2T)·2.2e-16 the
# rounding of the argument: ≤ 1.2e-25 (times the lr) for m ≤ 1000 and T_max ≥ 1, measured
# ≤ 2.9e-26 (T_max = 1). atol = 1e-24·lr, given to the two cases with eta_min = 0 only, covers
# those points only: every other value of those cases is at least sin(π/20)²·lr ≈ 0.024·lr.
CASES: list[tuple[str, Factory, float]] = [
    # ConstantLR: factor until total_iters, then the base lr
    ("ConstantLR-default", lambda o: lrs.ConstantLR(o), 0.0),  # factor 1/3, total_iters 5
    ("ConstantLR-400", lambda o: lrs.ConstantLR(o, factor=0.5, total_iters=400), 0.0),
    # total_iters=0: torch multiplies by factor at m = 0 and never divides again
    ("ConstantLR-0", lambda o: lrs.ConstantLR(o, factor=0.25, total_iters=0), 0.0),
    # LinearLR: warm-up 1/3 -> 1 over 5 steps; decay 1 -> 0.01 over 300; decay to 0 over 700
    ("LinearLR-warmup", lambda o: lrs.LinearLR(o), 0.0),
    ("LinearLR-decay", lambda o: lrs.LinearLR(o, 1.0, 0.01, total_iters=300), 0.0),
    ("LinearLR-to-zero", lambda o: lrs.LinearLR(o, 0.5, 0.0, total_iters=700), 0.0),
    ("LinearLR-0", lambda o: lrs.LinearLR(o, 0.7, 0.2, total_iters=0), 0.0),
    ("ExponentialLR-0.99", lambda o: lrs.ExponentialLR(o, gamma=0.99), 0.0),
    ("ExponentialLR-0.5", lambda o: lrs.ExponentialLR(o, gamma=0.5), 0.0),
    ("ExponentialLR-0", lambda o: lrs.ExponentialLR(o, gamma=0.0), 0.0),
    ("StepLR-30", lambda o: lrs.StepLR(o, step_size=30, gamma=0.1), 0.0),
    ("StepLR-7", lambda o: lrs.StepLR(o, step_size=7, gamma=0.5), 0.0),
    ("StepLR-1", lambda o: lrs.StepLR(o, step_size=1, gamma=0.9), 0.0),
    ("MultiStepLR", lambda o: lrs.MultiStepLR(o, milestones=[30, 80], gamma=0.1), 0.0),
    # milestone 0 applies at construction, 100 twice, 2.5 and -3 are never reached by m
    (
        "MultiStepLR-repeated",
        lambda o: lrs.MultiStepLR(o, milestones=[0, 100, 100, 500, 2.5, -3], gamma=0.5),
        0.0,
    ),
    ("PolynomialLR-default", lambda o: lrs.PolynomialLR(o), 0.0),  # total_iters 5, power 1
    ("PolynomialLR-0.9", lambda o: lrs.PolynomialLR(o, total_iters=500, power=0.9), 0.0),
    ("PolynomialLR-2", lambda o: lrs.PolynomialLR(o, total_iters=1000, power=2.0), 0.0),
    # CosineAnnealingLR: 50 periods of 2·T_max; T_max=1 (the law has (-1)^n in SymPy's hands)
    ("CosineAnnealingLR-10", lambda o: lrs.CosineAnnealingLR(o, T_max=10), 1e-24),
    ("CosineAnnealingLR-300", lambda o: lrs.CosineAnnealingLR(o, 300, eta_min=1e-3), 0.0),
    ("CosineAnnealingLR-1", lambda o: lrs.CosineAnnealingLR(o, T_max=1), 1e-24),
    ("CosineAnnealingLR-7", lambda o: lrs.CosineAnnealingLR(o, T_max=7, eta_min=0.05), 0.0),
]
RTOL = 1e-12


def _optimizer() -> Any:
    groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in GROUP_LRS]
    return SGD(groups)


def stepped(make: Factory, steps: int = STEPS) -> tuple[Any, np.ndarray]:
    """(scheduler after ``steps`` steps, get_last_lr() at m = 0..steps, shape (steps + 1, 2))."""
    optimizer = _optimizer()
    scheduler = make(optimizer)
    lrs_seen = [scheduler.get_last_lr()]
    for _ in range(steps):
        optimizer.step()  # no gradients: a no-op, but the order torch asks for
        scheduler.step()
        lrs_seen.append(scheduler.get_last_lr())
    return scheduler, np.array(lrs_seen, dtype=np.float64)


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[Any, np.ndarray]]:
    return {name: stepped(make) for name, make, _ in CASES}


@pytest.mark.parametrize(("name", "make", "atol"), CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("group", [0, 1])
def test_law_gives_torchs_learning_rate_at_every_step(
    runs: dict[str, tuple[Any, np.ndarray]], name: str, make: Factory, atol: float, group: int
) -> None:
    scheduler, seen = runs[name]
    law = scheduler_law(scheduler, group)
    m = np.arange(STEPS + 1)
    np.testing.assert_allclose(
        law(m), seen[:, group], rtol=RTOL, atol=atol * GROUP_LRS[group], err_msg=law.text
    )
    # the law is a schedule text like any other: it parses back to the same expression
    assert Schedule.parse(law.text).expr == law.expr


def test_every_supported_scheduler_is_covered_with_two_parameterisations() -> None:
    kinds = [name.split("-")[0] for name, _, _ in CASES]
    assert {kind: kinds.count(kind) >= 2 for kind in SUPPORTED_SCHEDULERS} == dict.fromkeys(
        SUPPORTED_SCHEDULERS, True
    )


def test_cosine_law_is_exact_and_the_gap_to_torch_is_torchs_recursion() -> None:
    # T_max = 1000: torch's recursion divides 1 + cos(π·m/T) by 1 + cos(π·(m-1)/T); near the
    # minimum both are ≈ (π/T)²/2 ≈ 4.9e-6, so the rounding of cos (1.1e-16 absolute) becomes a
    # relative error ≈ 1.1e-16/4.9e-6 ≈ 2.3e-11 in torch's value. Measured: torch vs the exact
    # law (mpmath, 40 digits) 9.5e-12 at m = 999, the acconv law vs the exact law 8.5e-14; so
    # the law is held to 1e-12 against the exact values and to 2e-11 (2x the measured 9.5e-12)
    # against torch.
    scheduler, seen = stepped(lambda o: lrs.CosineAnnealingLR(o, T_max=1000))
    law = scheduler_law(scheduler)
    mpmath.mp.dps = 40
    exact = np.array(
        [float(mpmath.mpf("0.1") * (1 + mpmath.cos(mpmath.pi * m / 1000)) / 2) for m in range(1001)]
    )
    values = law(np.arange(STEPS + 1))
    # atol: at m = 1000 the exact value is 0 and the law's is 0.1·cos(π/2)² ≈ 3.7e-34
    np.testing.assert_allclose(values, exact, rtol=1e-12, atol=1e-25)
    np.testing.assert_allclose(values, seen[:, 0], rtol=2e-11, atol=1e-25)
    relative = np.abs(seen[:-1, 0] - exact[:-1]) / exact[:-1]
    assert relative.max() > 1e-12  # torch's own error is the larger one (else tighten the test)


def test_laws_read_like_torchs_source() -> None:
    # One hand-written law per scheduler (base lr 0.1, group 0), as the module docstring states.
    expected = {
        "ConstantLR-400": "0.1*(0.5*min(1, max(0, 400 - n)) + min(1, max(0, n - 399)))",
        "LinearLR-decay": "0.1*(0.01 + (1.0 - 0.01)*max(0, 300 - n)/300)",
        "ExponentialLR-0.99": "0.1*0.99**(n)",
        "StepLR-30": "0.1*0.1**(floor(n/30))",
        "MultiStepLR": "0.1*0.1**(1*min(1, max(0, n - 29)) + 1*min(1, max(0, n - 79)))",
        "PolynomialLR-0.9": "0.1*(max(0, 500 - n)/500)**0.9",
        "CosineAnnealingLR-300": "0.001 + (0.1 - 0.001)*cos(pi*n/600)**2",
    }
    factories = {name: make for name, make, _ in CASES}
    for name, text in expected.items():
        scheduler, _ = stepped(factories[name], steps=0)
        assert scheduler_law(scheduler).text == text


# --- unsupported schedulers and bad input -------------------------------------------------


class _SubclassedStepLR(lrs.StepLR):
    """A subclass may override get_lr: its law is not StepLR's."""


UNSUPPORTED: list[tuple[str, Factory]] = [
    ("LambdaLR", lambda o: lrs.LambdaLR(o, lambda m: 0.9**m)),
    ("MultiplicativeLR", lambda o: lrs.MultiplicativeLR(o, lambda m: 0.9)),
    ("OneCycleLR", lambda o: lrs.OneCycleLR(o, max_lr=1.0, total_steps=100)),
    ("ReduceLROnPlateau", lambda o: lrs.ReduceLROnPlateau(o)),
    (
        "SequentialLR",
        lambda o: lrs.SequentialLR(
            o, [lrs.ConstantLR(o), lrs.ExponentialLR(o, gamma=0.9)], milestones=[5]
        ),
    ),
    ("ChainedScheduler", lambda o: lrs.ChainedScheduler([lrs.ConstantLR(o)])),
    ("CyclicLR", lambda o: lrs.CyclicLR(o, 0.01, 0.1, cycle_momentum=False)),
    ("CosineAnnealingWarmRestarts", lambda o: lrs.CosineAnnealingWarmRestarts(o, T_0=10)),
    ("_SubclassedStepLR", lambda o: _SubclassedStepLR(o, step_size=10)),
]


@pytest.mark.parametrize(("name", "make"), UNSUPPORTED, ids=[case[0] for case in UNSUPPORTED])
def test_unsupported_scheduler_raises_one_line_value_error(name: str, make: Factory) -> None:
    with warnings.catch_warnings():  # e.g. SequentialLR's note on its schedulers' first step
        warnings.simplefilter("ignore")
        scheduler = make(_optimizer())
    with pytest.raises(ValueError) as info:
        scheduler_law(scheduler)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"unsupported learning-rate scheduler {name}; supported: ")
    assert message.endswith(
        "ConstantLR, CosineAnnealingLR, ExponentialLR, LinearLR, MultiStepLR, PolynomialLR, "
        "StepLR (torch.optim.lr_scheduler)"
    )


def test_group_out_of_range_is_a_value_error() -> None:
    scheduler, _ = stepped(lambda o: lrs.StepLR(o, step_size=5), steps=0)
    with pytest.raises(ValueError, match="group 2 out of range: the optimizer has 2 param group"):
        scheduler_law(scheduler, 2)


def test_a_growing_law_is_not_a_step_size() -> None:
    # 0.1·1.5^n overflows float64 long before n = 1e9, where every schedule is validated
    scheduler, _ = stepped(lambda o: lrs.ExponentialLR(o, gamma=1.5), steps=0)
    message = r"ExponentialLR: its law is not an acconv schedule: .* is not finite"
    with pytest.raises(ValueError, match=message):
        scheduler_law(scheduler)


def test_an_lr_changed_by_a_second_scheduler_is_noticed() -> None:
    # Two schedulers stepping one optimizer (not SequentialLR): the cosine's law alone says
    # 0.1 at m = 0, but LinearLR has already multiplied the lr by 1/3.
    optimizer = _optimizer()
    lrs.LinearLR(optimizer)
    cosine = lrs.CosineAnnealingLR(optimizer, T_max=10)
    with pytest.raises(ValueError, match="was the lr changed by something else"):
        scheduler_law(cosine)


def test_import_acconv_does_not_import_the_torch_bridge() -> None:
    code = (
        "import sys, acconv; "
        "print('acconv.adapters.torch_lr' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["False", "False"]


# --- the step-size checker on the laws ----------------------------------------------------


def _law(make: Factory) -> Schedule:
    scheduler, _ = stepped(make, steps=0)
    return scheduler_law(scheduler)


ACTOR = "0.1/(n+1)"  # b(n) ~ 0.1/n: Σ b = ∞, Σ b² < ∞, non-increasing

VERDICT_CASES: list[tuple[str, Factory, dict[str, str]]] = [
    # ExponentialLR γ = 0.99: a(n) = 0.1·0.99^n, Σ a = 0.1/(1 - 0.99) = 10 < ∞ (geometric
    # series): S1 violated; Σ a² = 0.01/(1 - 0.99²) < ∞: S3 holds (Σ b² < ∞ too);
    # b/a = 0.99^(-n)/(n+1) → ∞: S4 violated; a non-increasing: S5 holds.
    ("ExponentialLR", lambda o: lrs.ExponentialLR(o, gamma=0.99), {"S1": V, "S3": H, "S4": V}),
    # StepLR(30, 0.1): a(n) = 0.1·0.1^floor(n/30) ≤ 0.1·0.1^(n/30 - 1), a geometric series with
    # ratio 0.1^(1/30) ≈ 0.926: Σ a < ∞, S1 violated; S3 holds; floor is monotone: S5 holds.
    ("StepLR", lambda o: lrs.StepLR(o, step_size=30, gamma=0.1), {"S1": V, "S3": H, "S5": H}),
    # ConstantLR(0.5, 400): a(n) = 0.1 for n ≥ 400, eventually constant: Σ a = ∞ (S1 holds),
    # a² → 0.01 ≠ 0 so Σ a² = ∞ (S3 violated); b/a ~ 1/n → 0 (S4 holds); constant from 400 on
    # (S5 holds).
    (
        "ConstantLR",
        lambda o: lrs.ConstantLR(o, factor=0.5, total_iters=400),
        {"S1": H, "S3": V, "S4": H, "S5": H},
    ),
    # LinearLR warm-up 1/3 -> 1 over 5 steps: a(n) = 0.1 for n ≥ 5: as ConstantLR.
    ("LinearLR", lambda o: lrs.LinearLR(o), {"S1": H, "S3": V, "S4": H, "S5": H}),
    # MultiStepLR([30, 80], 0.1): a(n) = 0.001 for n ≥ 80: eventually constant, as above.
    (
        "MultiStepLR",
        lambda o: lrs.MultiStepLR(o, milestones=[30, 80], gamma=0.1),
        {"S1": H, "S3": V, "S5": H},
    ),
    # PolynomialLR(500, 0.9): a(n) = 0 for n ≥ 500, a finite sum: S1 violated, S3 holds.
    (
        "PolynomialLR",
        lambda o: lrs.PolynomialLR(o, total_iters=500, power=0.9),
        {"S1": V, "S3": H},
    ),
    # CosineAnnealingLR(T_max=10), eta_min = 0: a(n) = 0.1·cos(π·n/20)², periodic, a(20k) = 0.1
    # for every k: a does not tend to 0 and a ≥ 0, so Σ a = ∞ (S1 holds) and Σ a² = ∞ (S3
    # violated); periodic and not constant, so not eventually non-increasing (S5 violated);
    # a ↛ 0 rules out a ~ a0/n^p_a with p_a > 1/2 (S7 violated). But a(10 + 20k) = 0: b/a is
    # undefined infinitely often and no lower bound keeps a away from 0 — S4 and S6 depend on
    # the cosine and stay undecided.
    (
        "CosineAnnealingLR",
        lambda o: lrs.CosineAnnealingLR(o, T_max=10),
        {"S1": H, "S3": V, "S4": U, "S5": V, "S6": U, "S7": V},
    ),
    # CosineAnnealingLR(T_max=300, eta_min=1e-3): 0.001 ≤ a(n) ≤ 0.1 for every n (|cos| ≤ 1):
    # Σ a ≥ Σ 0.001 = ∞ (S1 holds); a² ≥ 1e-6 (S3 violated); 0 ≤ b/a ≤ b/0.001 = 100/(n+1)
    # → 0 (S4 holds) and Σ (b/a)² ≤ Σ 10^4/(n+1)² < ∞ (S6 holds).
    (
        "CosineAnnealingLR-eta",
        lambda o: lrs.CosineAnnealingLR(o, T_max=300, eta_min=1e-3),
        {"S1": H, "S3": V, "S4": H, "S5": V, "S6": H, "S7": V},
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "expected"), VERDICT_CASES, ids=[case[0] for case in VERDICT_CASES]
)
def test_step_size_verdicts_on_the_laws_are_the_hand_derived_ones(
    name: str, make: Factory, expected: dict[str, str]
) -> None:
    report = check_step_sizes(_law(make), ACTOR, sympy_timeout=None)
    got = {verdict.id: verdict.status for verdict in report.conditions}
    assert {key: got[key] for key in expected} == expected, report.to_dict()
    for verdict in report.conditions:
        assert verdict.method != "numeric estimate", verdict  # every verdict here is a proof


def test_verdicts_that_depend_on_the_cosine_say_so() -> None:
    report = check_step_sizes(_law(lambda o: lrs.CosineAnnealingLR(o, T_max=10)), ACTOR)
    for condition in ("S4", "S6"):
        detail = report[condition].detail
        assert "oscillating factor cos(pi*n/20): not decided" in detail, detail
    # the proved ones name their argument: a value that recurs every period
    assert "a(n + 40) = a(n) for every n" in report["S3"].detail
    assert "a(0) = 0.1 ≠ 0" in report["S3"].detail


def test_one_cosine_scheduler_for_actor_and_critic_is_not_two_timescale() -> None:
    # One optimiser, one CosineAnnealingLR (eta_min 1e-3): a = b, so b/a = 1 does not tend to
    # 0 (S4 violated: b/a ≥ L_b/U_a = 0.001/0.1), and S3 is violated as above.
    law = _law(lambda o: lrs.CosineAnnealingLR(o, T_max=300, eta_min=1e-3))
    report = check_step_sizes(law, law, sympy_timeout=None)
    assert (report["S3"].status, report["S4"].status, report.two_timescale) == (V, V, V)
