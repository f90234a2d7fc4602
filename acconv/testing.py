"""Assertions about convergence for your own pytest suites (DESIGN.md §1, engineers).

Each ``assert_*`` function returns what it checked when the check passes and raises
:class:`AssertionError` otherwise, with a message that says what was expected, what was seen,
at which update n, and which condition or assumption failed (id, status, method, detail and
evidence numbers). Verdicts are three-valued (DESIGN.md §3): ``holds`` and ``violated`` are
proven; what a run or a fit shows is ``undecided`` with a lean (``holds``/``violated``) and a
strength. An undecided verdict fails an assertion unless you accept it: ``accept_evidence=True``
(or a minimum strength, ``"moderate"``/``"strong"``) accepts evidence leaning ``holds``;
``allow_undecided=True`` accepts every undecided verdict. Both are off by default, so a passing
assertion means "proven" unless you said otherwise.

Across seeds, :func:`assert_converges` takes a list of runs and passes when enough seeds pass:
``at_least=k`` seeds, or a binomial rule: the one-sided Clopper–Pearson lower confidence bound
(Clopper & Pearson 1934) of the per-seed success probability, :func:`seed_tolerance`, must reach
``min_success``. That keeps CI from being flaky when one seed in many is unlucky.

Example::

    from acconv.tabular import ActorCritic
    from acconv.testing import assert_converges, assert_two_timescale, run_seeds

    def test_my_schedules_are_two_timescale():
        assert_two_timescale("1/(n+1)**0.6", "1/(n+10)")

    def test_actor_critic_converges_on_most_seeds(chain_mdp):  # a fixture of the plugin
        # one Recorder per seed; max_steps truncates episodes of a policy stuck at the wall
        runs = run_seeds(ActorCritic, chain_mdp, range(8), 300, max_steps=100)
        assert_converges(runs, below=0.3, confidence=0.95)       # min_success=0.5

The pytest plugin (:mod:`acconv.pytest_plugin`, registered under ``pytest11``) provides fixtures
for small MDPs and seeded generators.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from acconv.instrument.recorder import Recorder
from acconv.mdp import FiniteMDP
from acconv.schedules import Schedule
from acconv.theory_checks.assumptions import REQUIREMENTS, AssumptionReport
from acconv.theory_checks.step_sizes import StepSizeReport, check_step_sizes
from acconv.theory_checks.verdicts import STRENGTHS, Strength, Verdict

__all__ = [
    "DEFAULT_MIN_SUCCESS",
    "TWO_TIMESCALE_CONDITIONS",
    "assert_assumptions",
    "assert_converges",
    "assert_two_timescale",
    "assert_within_bound",
    "run_seeds",
    "seed_tolerance",
]

TWO_TIMESCALE_CONDITIONS: tuple[str, ...] = ("S1", "S2", "S3", "S4", "S5")
"""The step-size hypotheses of Borkar (1997) and Karmakar & Bhatnagar (2018)."""
DEFAULT_MIN_SUCCESS = 0.5
"""Default ``min_success`` of the binomial rule: with ``confidence=0.95`` the per-seed success
probability must be shown > 1/2. If every seed passes this needs n ≥ 5 seeds
(0.05^(1/5) = 0.549 ≥ 0.5 but 0.05^(1/4) = 0.473 < 0.5)."""

Series: TypeAlias = Mapping[str, tuple[Any, Any]]


@runtime_checkable
class _HasSeries(Protocol):
    def series(self) -> dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]]: ...


Run: TypeAlias = "Recorder | _HasSeries | Series"
Evidence: TypeAlias = "bool | Strength"


# ---------------------------------------------------------------------------------------------
# formatting
# ---------------------------------------------------------------------------------------------


def _evidence(verdict: Verdict) -> str:
    if not verdict.evidence:
        return "no evidence numbers"
    return ", ".join(f"{key} = {value:.4g}" for key, value in verdict.evidence.items())


def _status_text(verdict: Verdict) -> str:
    if verdict.status == "undecided" and verdict.lean is not None:
        return f"{verdict.shown}: evidence, not a proof"
    if verdict.status == "undecided":
        return "undecided (could not be decided either way; not shown to fail)"
    if verdict.status == "not_applicable":
        return "not applicable to this run"
    return verdict.status


def _evidence_floor(accept_evidence: Evidence) -> Strength | None:
    """The weakest strength of evidence leaning ``holds`` that passes (None: evidence fails)."""
    if accept_evidence is False:
        return None
    if accept_evidence is True:
        return "weak"
    if accept_evidence in STRENGTHS:
        return accept_evidence
    expected = f"True, False or one of {STRENGTHS}"
    raise ValueError(f"accept_evidence is {accept_evidence!r}, expected {expected}")


def _passes(verdict: Verdict, floor: Strength | None) -> bool:
    """Proven to hold, or evidence leaning holds at least as strong as ``floor``."""
    if verdict.status == "holds":
        return True
    if floor is None or verdict.lean != "holds" or verdict.strength is None:
        return False
    return STRENGTHS.index(verdict.strength) >= STRENGTHS.index(floor)


def _describe(verdict: Verdict) -> str:
    """``S4 b(n)/a(n) → 0: ... is violated (method): detail [evidence: ...]``."""
    return (
        f"{verdict.id} {verdict.name} is {_status_text(verdict)} "
        f"(method: {verdict.method}): {verdict.detail} [evidence: {_evidence(verdict)}]"
    )


# ---------------------------------------------------------------------------------------------
# step sizes and assumptions
# ---------------------------------------------------------------------------------------------


def assert_two_timescale(
    critic: Schedule | str,
    actor: Schedule | str,
    *,
    require: Sequence[str] = TWO_TIMESCALE_CONDITIONS,
    e_min: float | None = None,
    sympy_timeout: float | None = 10.0,
    accept_evidence: Evidence = False,
) -> StepSizeReport:
    """Assert that the critic (fast, a(n)) and actor (slow, b(n)) step sizes satisfy ``require``.

    Runs :func:`~acconv.theory_checks.step_sizes.check_step_sizes` and fails listing every
    required condition (S1–S7) that is not proven to hold, violated and undecided said plainly.
    ``accept_evidence`` also passes conditions that are undecided with a numeric estimate
    leaning ``holds`` (``True``: any strength; or the weakest accepted strength). Returns the
    :class:`StepSizeReport`.

    >>> assert_two_timescale("1/(n+1)**0.6", "1/(n+10)").two_timescale
    'holds'
    """
    floor = _evidence_floor(accept_evidence)
    report = check_step_sizes(critic, actor, e_min=e_min, sympy_timeout=sympy_timeout)
    failing = [report[cid] for cid in require if not _passes(report[cid], floor)]
    if failing:
        lines = "\n".join(f"  - {_describe(v)}" for v in failing)
        raise AssertionError(
            f"expected the step sizes critic a(n) = {report.critic.text} (fast) and actor "
            f"b(n) = {report.actor.text} (slow) to satisfy {', '.join(require)}; "
            f"{len(failing)} of {len(require)} do not hold:\n{lines}"
        )
    return report


def assert_assumptions(
    report: AssumptionReport | Iterable[Verdict],
    *,
    require: Sequence[str] | None = None,
    allow_undecided: bool = False,
    accept_evidence: Evidence = False,
) -> AssumptionReport | list[Verdict]:
    """Assert that the required verdicts of an assumption report hold.

    ``report`` is an :class:`~acconv.theory_checks.assumptions.AssumptionReport` (from
    ``assumption_report(monitor)``) or a list of :class:`Verdict`. ``require`` lists verdict
    ids (``"A2"``, ``"A8"``, ``"tracking"``, ...) or theorem names of
    :data:`~acconv.theory_checks.assumptions.REQUIREMENTS` (expanded to their hypotheses);
    ``None`` requires every verdict that applies to the run. Fails on a required verdict that is
    ``violated``, missing or ``not_applicable`` (when named explicitly), and on ``undecided``
    unless accepted: ``accept_evidence`` accepts evidence leaning ``holds`` (``True``: any
    strength; or the weakest accepted strength, e.g. ``"strong"``), ``allow_undecided`` every
    undecided verdict. Returns ``report``.
    """
    floor = _evidence_floor(accept_evidence)
    kept: AssumptionReport | list[Verdict] = (
        report if isinstance(report, AssumptionReport) else list(report)
    )
    verdicts = kept.verdicts if isinstance(kept, AssumptionReport) else tuple(kept)
    by_id = {v.id: v for v in verdicts}
    if require is None:
        ids = [v.id for v in verdicts if v.status != "not_applicable"]
        explicit = False
    else:
        ids = list(
            dict.fromkeys(vid for name in require for vid in REQUIREMENTS.get(name, (name,)))
        )
        explicit = True
    problems: list[str] = []
    for vid in ids:
        verdict = by_id.get(vid)
        if verdict is None:
            problems.append(f"  - {vid} is missing from the report (ids: {', '.join(by_id)})")
            continue
        failed = verdict.status == "violated"
        failed |= verdict.status == "undecided" and not (allow_undecided or _passes(verdict, floor))
        failed |= verdict.status == "not_applicable" and explicit
        if failed:
            problems.append(f"  - {_describe(verdict)}")
    if problems:
        allowed = (
            "holds or undecided"
            if allow_undecided
            else f"holds (or evidence leaning holds, {floor} or stronger)"
            if floor
            else "holds (proven)"
        )
        raise AssertionError(
            f"expected {allowed} for {', '.join(ids)}; {len(problems)} failed:\n"
            + "\n".join(problems)
        )
    return kept


# ---------------------------------------------------------------------------------------------
# convergence across seeds
# ---------------------------------------------------------------------------------------------


def seed_tolerance(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper–Pearson lower confidence bound of a success probability.

    With ``k`` successes in ``n`` independent seeds the bound is the ``1 - confidence``
    quantile of Beta(k, n - k + 1) (0 when k = 0): Clopper & Pearson (1934), "The use of
    confidence or fiducial limits illustrated in the case of the binomial", Biometrika 26.
    For k = n it is ``(1 - confidence) ** (1 / n)``.

    >>> round(seed_tolerance(5, 5, 0.95), 4)   # 0.05 ** (1/5)
    0.5493
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= n:
        raise ValueError(f"k must be an int with 0 <= k <= n = {n}, got {k!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if k == 0:
        return 0.0
    import scipy.stats  # scipy is a core dependency; imported here to keep import time low

    return float(scipy.stats.beta.ppf(1.0 - confidence, int(k), int(n - k + 1)))


def _series_of(run: Any) -> Series:
    if isinstance(run, Mapping):
        return run
    if isinstance(run, _HasSeries):
        return run.series()
    raise TypeError(
        f"expected a Recorder, an object with .series() or a mapping of series, got "
        f"{type(run).__name__}"
    )


def _is_single(run: Any) -> bool:
    return isinstance(run, Mapping) or isinstance(run, _HasSeries)


def _value_at(series: Series, metric: str, by: int | None) -> tuple[int, float]:
    """(n, value): the last recorded value of ``metric`` (at an update ≤ ``by`` if given)."""
    if metric not in series:
        raise AssertionError(
            f"expected metric {metric!r} in the run, seen only {sorted(series)} (exact/* keys "
            "need an exact model: train on a FiniteMDP or an environment with .mdp)"
        )
    n, values = (np.asarray(x) for x in series[metric])
    if n.size == 0:
        raise AssertionError(f"expected recorded values of {metric!r}, seen none")
    if by is not None:
        mask = n <= by
        if not mask.any():
            raise AssertionError(
                f"expected a recorded value of {metric!r} at some update n ≤ by = {by}; the "
                f"first one is at n = {int(n[0])}"
            )
        n, values = n[mask], values[mask]
    return int(n[-1]), float(values[-1])


def assert_converges(
    run: Run | Sequence[Run],
    *,
    below: float,
    metric: str = "exact/gap",
    by: int | None = None,
    at_least: int | None = None,
    confidence: float | None = None,
    min_success: float = DEFAULT_MIN_SUCCESS,
    labels: Sequence[object] | None = None,
) -> list[tuple[int, float]]:
    """Assert that ``metric`` ends below ``below`` (default: the exact gap ``V*(ρ) - J(π_n)``).

    ``run`` is a :class:`~acconv.instrument.recorder.Recorder` (or anything with
    ``.series()``, or a mapping ``{metric: (n, values)}``): it passes when the metric's last
    recorded value, or its last recorded value at an update n ≤ ``by``, is ``< below``.

    A list of runs (one per seed) passes when

    * ``at_least=k``: at least k runs pass;
    * ``confidence=c``: with k of n runs passing, the one-sided Clopper–Pearson lower bound
      :func:`seed_tolerance(k, n, c) <seed_tolerance>` of the per-seed success probability is
      ``≥ min_success`` (default :data:`DEFAULT_MIN_SUCCESS` = 0.5);
    * neither: every run passes.

    ``labels`` name the runs in the message (default ``run 0``, ``run 1``, ...). Returns the
    ``(n, value)`` checked for each run.
    """
    if at_least is not None and confidence is not None:
        raise ValueError("give at_least or confidence, not both")
    runs: list[Any] = [run] if _is_single(run) else list(run)  # type: ignore[arg-type]
    if not runs:
        raise ValueError("expected at least one run")
    names = (
        [str(x) for x in labels] if labels is not None else [f"run {i}" for i in range(len(runs))]
    )
    if len(names) != len(runs):
        raise ValueError(f"{len(names)} labels for {len(runs)} runs")
    where = "at the last recorded update" if by is None else f"at the last recorded n ≤ {by}"
    seen = [_value_at(_series_of(r), metric, by) for r in runs]
    ok = [math.isfinite(value) and value < below for _, value in seen]
    if len(runs) == 1 and at_least is None and confidence is None:
        n, value = seen[0]
        if not ok[0]:
            raise AssertionError(
                f"expected {metric} < {below:g} {where}; seen {value:.6g} at n = {n}"
            )
        return seen
    k, total = sum(ok), len(runs)
    per_run = "; ".join(
        f"{name}: {value:.4g} at n = {n} {'pass' if good else 'FAIL'}"
        for name, (n, value), good in zip(names, seen, ok, strict=True)
    )
    if confidence is not None:
        lower = seed_tolerance(k, total, confidence)
        if lower < min_success:
            raise AssertionError(
                f"expected {metric} < {below:g} {where} on enough seeds that the one-sided "
                f"{confidence:.0%} Clopper–Pearson lower bound of the success probability is "
                f"≥ {min_success:g}; seen {k} of {total} seeds passing, lower bound "
                f"{lower:.4f} < {min_success:g} ({per_run})"
            )
        return seen
    need = total if at_least is None else at_least
    if k < need:
        raise AssertionError(
            f"expected {metric} < {below:g} {where} on at least {need} of {total} seeds; "
            f"seen {k} of {total} passing ({per_run})"
        )
    return seen


def run_seeds(
    make_learner: Callable[[], Any],
    mdp: FiniteMDP | Any,
    seeds: Iterable[int],
    n_updates: int,
    *,
    points_per_decade: int = 10,
    observers: Callable[[], Sequence[Any]] | None = None,
    **train_kwargs: Any,
) -> list[Recorder]:
    """Train a fresh ``make_learner()`` once per seed and return one Recorder per seed.

    Each run gets ``np.random.default_rng(seed)``; ``observers()``, if given, adds extra fresh
    observers per run (e.g. a BoundTracker); ``train_kwargs`` go to :func:`acconv.loop.train`
    (``episodes_per_update``, ``max_steps``, ...).
    """
    from acconv.loop import train

    recorders = []
    for seed in seeds:
        recorder = Recorder(points_per_decade)
        extra = list(observers()) if observers is not None else []
        rng = np.random.default_rng(seed)
        train(make_learner(), mdp, n_updates, rng, [recorder, *extra], **train_kwargs)
        recorders.append(recorder)
    return recorders


# ---------------------------------------------------------------------------------------------
# rate bounds
# ---------------------------------------------------------------------------------------------


def assert_within_bound(
    tracker_or_verdict: Any,
    *,
    allow_undecided: bool = False,
    allow_not_applicable: bool = False,
    accept_evidence: Evidence = False,
) -> Verdict:
    """Assert that a run stayed under a proven rate bound.

    ``tracker_or_verdict`` is a :class:`~acconv.instrument.bound_tracker.BoundTracker` after its
    run (or its :class:`Verdict`). Fails when the verdict is ``violated`` (naming the first
    update n, the exact gap and the bound there); ``undecided`` verdicts (sampled runs
    re-indexed by ODE time, shape-only envelopes: heuristic overlays, since the bounds are for
    exact gradients) fail unless ``allow_undecided`` (or, when they lean ``holds``, unless
    ``accept_evidence`` accepts their strength); ``not_applicable`` fails unless
    ``allow_not_applicable``. Returns the verdict.
    """
    floor = _evidence_floor(accept_evidence)
    verdict: Verdict = (
        tracker_or_verdict
        if isinstance(tracker_or_verdict, Verdict)
        else tracker_or_verdict.verdict()
    )
    status = verdict.status
    if _passes(verdict, floor):
        return verdict
    head = f"expected {verdict.id} ({verdict.name}) to hold at every iterate"
    if status == "violated":
        ev = verdict.evidence
        if "first_n" in ev:
            seen = (
                f"seen the exact gap {ev['gap']:.6g} above the bound {ev['bound']:.6g} first "
                f"at n = {int(ev['first_n'])}"
            )
        else:
            seen = "seen a violation"
        raise AssertionError(f"{head}; {seen}. {_describe(verdict)}")
    if status == "undecided" and not allow_undecided:
        raise AssertionError(
            f"{head}; seen undecided: the bound is for exact gradients, so on this run it is "
            f"only a heuristic overlay (pass allow_undecided=True to accept). {_describe(verdict)}"
        )
    if status == "not_applicable" and not allow_not_applicable:
        raise AssertionError(f"{head}; seen not applicable. {_describe(verdict)}")
    return verdict
