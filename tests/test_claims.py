"""Claims as the unit of reproduction (issue 13): the claims record, its status rule and the exit
code, learners compared in one spec, sweep order, and the metrics the runner and claims compute.

Every number below is computed by hand in the comment beside it."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from acconv.claim_metrics import censored_summary, loglog_slope, ratio
from acconv.claims import (
    STATUS_RULE,
    ClaimInfo,
    MetricCheck,
    claim_status,
    claims_record,
    parse_claims,
    read_claims,
    run_metric_check,
    solve_table,
    write_claims,
)
from acconv.instrument.solve import EpisodesToSolve
from acconv.report_claims import sweep_order
from acconv.results import load_results, write_run
from acconv.runner import expand
from acconv.spec import SpecError, parse_spec

# ------------------------------------------------------------------------------------------------
# the status rule
# ------------------------------------------------------------------------------------------------


def test_status_is_reproduced_only_when_every_check_passed() -> None:
    assert claim_status([True, True, True]) == "reproduced"
    assert claim_status([True, False]) == "partly"  # some but not all
    assert claim_status([False, False]) == "not reproduced"  # none
    assert claim_status([]) == "not reproduced"  # no check at all proves nothing
    assert "partly: some checks passed and some failed" in STATUS_RULE


# ------------------------------------------------------------------------------------------------
# episodes to solve, censoring, ratios, slopes
# ------------------------------------------------------------------------------------------------


def _tracker(J: list[float], episodes_per_update: int = 16, steps: int = 10) -> EpisodesToSolve:
    tracker = EpisodesToSolve(0.9)
    tracker.J = J
    tracker.episodes_before = [k * episodes_per_update for k in range(len(J))]
    tracker.steps_before = [k * episodes_per_update * steps for k in range(len(J))]
    tracker._episodes = len(J) * episodes_per_update
    tracker._steps = len(J) * episodes_per_update * steps
    return tracker


def test_episodes_to_solve_on_a_hand_made_curve_counts_staying_solved() -> None:
    # J crosses 0.9 at update 1, falls back at update 2, and stays above from update 3 on: the run
    # settles at update 3, after 3 × 16 = 48 episodes and 48 × 10 = 480 env steps.
    tracker = _tracker([0.1, 0.95, 0.5, 0.92, 0.97])
    assert tracker.episodes == 48
    assert tracker.env_steps == 480
    rows = {metric: value for _, metric, value in tracker.rows}
    assert rows["solve/solved"] == 1.0 and rows["solve/episodes"] == 48.0
    assert rows["solve/budget_episodes"] == 80.0  # 5 updates × 16 episodes


def test_an_unsolved_run_is_censored_at_the_budget_not_dropped() -> None:
    tracker = _tracker([0.1, 0.95, 0.5])  # ends below the threshold
    assert tracker.episodes is None and tracker.env_steps is None
    rows = {metric: value for _, metric, value in tracker.rows}
    assert rows["solve/solved"] == 0.0 and math.isnan(rows["solve/episodes"])
    assert rows["solve/budget_episodes"] == 48.0  # the censoring point: 3 updates × 16


def test_censored_median_and_iqm_by_hand() -> None:
    # [100, 200, unsolved, 400], budget 1000. Median with unsolved = inf: sorted
    # [100, 200, 400, inf], middle pair (200, 400) -> 300. IQM with unsolved = 1000: trim one
    # from each end of [100, 200, 400, 1000] -> mean(200, 400) = 300.
    summary = censored_summary([100, 200, None, 400], budget=1000)
    assert summary.median == 300.0 and summary.iqm == 300.0
    assert summary.n_unsolved == 1 and summary.lower_bound
    low, high = summary.median_ci
    assert 100 <= low <= 300 <= high <= 1000
    # Two of three unsolved: the middle value is unsolved, so the median is too.
    assert censored_summary([100, None, None], budget=1000).median == math.inf


def test_ratio_of_unsolved_medians() -> None:
    assert ratio(math.inf, 100.0) == math.inf  # unsolved over solved: infinitely slower
    assert ratio(100.0, math.inf) == 0.0
    assert math.isnan(ratio(math.inf, math.inf))  # undefined: a check cannot pass on it
    assert ratio(300.0, 100.0) == 3.0


def test_loglog_slope_of_an_exact_power_law() -> None:
    ns = np.array([1, 2, 5, 10, 100, 1000], dtype=float)
    fit = loglog_slope(ns, 5.0 / ns)  # y = 5 n^-1: slope -1 exactly, zero residuals
    assert fit.slope == pytest.approx(-1.0, abs=1e-12)
    assert fit.high - fit.low == pytest.approx(0.0, abs=1e-9)
    noisy = 5.0 / ns * np.exp(np.random.default_rng(0).normal(0, 0.1, ns.size))
    wide = loglog_slope(ns, noisy)
    assert wide.low < wide.slope < wide.high  # a real interval around the estimate
    with pytest.raises(ValueError, match="3 points"):
        loglog_slope([1, 2], [1.0, 0.5])


# ------------------------------------------------------------------------------------------------
# learners compared in one spec
# ------------------------------------------------------------------------------------------------

_RAW: dict[str, Any] = {
    "name": "compare",
    "env": {"id": "acconv/DelayedChain-v0", "kwargs": {"noise": 1.0}},
    "learner": {"mode": "sampled", "critic_lr": "1/(n+1)**0.6", "actor_lr": "1/(n+1)**0.9"},
    "learners": {
        "rudder": {"kind": "rudder"},
        "mc": {"kind": "actor_critic", "params": {"critic_target": "mc"}},
    },
    "budget": {"n_updates": 2},
    "seeds": {"count": 2},
    "checks": {"solve": 0.9},
    "sweep": {"env.kwargs.delay": [3, 5]},
}


def test_a_spec_sweeps_over_its_learners_with_one_seed_stream() -> None:
    runs = expand(parse_spec(_RAW))
    assert len(runs) == 2 * 2 * 2  # learners × delays × seeds
    assert [r.point for r in runs[::2]][:2] == [
        {"learner": "rudder", "env.kwargs.delay": 3},
        {"learner": "rudder", "env.kwargs.delay": 5},
    ]
    assert runs[0].folder.startswith("learner=rudder_delay=3-")
    kinds = {r.point["learner"]: r.spec.learner for r in runs}
    assert kinds["mc"].kind == "actor_critic" and kinds["mc"].params == {"critic_target": "mc"}
    assert kinds["rudder"].kind == "rudder" and kinds["rudder"].actor_lr == "1/(n+1)**0.9"
    # Seed k is the same for every learner and delay (common random numbers).
    seeds = {(r.seed, r.seed_sequence().generate_state(2).tobytes()) for r in runs}
    assert len(seeds) == 2
    # The recorded config names one learner, not the list.
    assert "learners" not in runs[0].config()


def test_learners_count_towards_the_runs_limit() -> None:
    from acconv.spec import LIMITS

    # 6 delays × 10**4 seeds = 6·10**4 runs pass the limit of 10**5 with one learner; two
    # learners make 1.2·10**5.
    raw = {**_RAW, "seeds": {"count": LIMITS["seeds.count"]}}
    raw["sweep"] = {"env.kwargs.delay": [3, 4, 5, 6, 7, 8]}
    parse_spec({**raw, "learners": {"mc": _RAW["learners"]["mc"]}})
    with pytest.raises(SpecError, match=r"12 sweep points × 10000 seeds = 120000 runs"):
        parse_spec(raw)


def test_a_bad_learner_in_the_list_is_named() -> None:
    raw = {**_RAW, "learners": {**_RAW["learners"], "td": {"kind": "foo"}}}
    with pytest.raises(SpecError, match=r"learners\.td\.kind is 'foo', expected one of"):
        parse_spec(raw)
    with pytest.raises(SpecError, match=r"learners\.a b is not a usable label"):
        parse_spec({**_RAW, "learners": {"a b": {"kind": "rudder"}}})


# ------------------------------------------------------------------------------------------------
# sweep order and claims on hand-made run folders
# ------------------------------------------------------------------------------------------------


def test_sweep_values_sort_by_value_not_as_text() -> None:
    points = [{"delay": v} for v in (10, 100, 20, 50)]
    ordered = sorted(points, key=lambda p: sweep_order("x", p))
    assert [p["delay"] for p in ordered] == [10, 20, 50, 100]  # text order: 10, 100, 20, 50
    labels = sorted([{"learner": "td"}, {"learner": "mc"}], key=lambda p: sweep_order("x", p))
    assert [p["learner"] for p in labels] == ["mc", "td"]
    # Learners first (a manifest stores keys alphabetically: env... before learner).
    mixed = [{"env.kwargs.delay": d, "learner": k} for d in (100, 10) for k in ("td", "mc")]
    ordered = sorted(mixed, key=lambda p: sweep_order("x", p))
    assert [(p["learner"], p["env.kwargs.delay"]) for p in ordered] == [
        ("mc", 10),
        ("mc", 100),
        ("td", 10),
        ("td", 100),
    ]


def _solve_run(root: Path, learner: str, delay: int, seed: int, episodes: float | None) -> None:
    run_id = f"sweep/learner={learner}_delay={delay}/seed-{seed}"
    solved = episodes is not None
    rows = [
        (0, "exact/gap", 1.0),
        (9, "solve/episodes", float(episodes) if solved else float("nan")),
        (9, "solve/solved", 1.0 if solved else 0.0),
        (9, "solve/budget_episodes", 1000.0),
        (9, "solve/env_steps", 10.0 * episodes if solved else float("nan")),  # 10 steps each
        (9, "solve/budget_env_steps", 10000.0),
    ]
    config = {"name": "sweep", "sweep_point": {"learner": learner, "env.kwargs.delay": delay}}
    write_run(
        root / "sweep" / run_id.split("/", 1)[1],
        run_id=run_id,
        seed=seed,
        rows=rows,
        verdicts={"run_id": run_id, "observers": []},
        manifest={"config": config},
    )


def _solve_results(root: Path) -> None:
    # fast: 100 at delay 10 and 150 at delay 100 (both seeds); slow: 100, then unsolved at 100.
    for seed in (0, 1):
        _solve_run(root, "fast", 10, seed, 100)
        _solve_run(root, "fast", 100, seed, 150)
        _solve_run(root, "slow", 10, seed, 100)
        _solve_run(root, "slow", 100, seed, None)


def test_solve_checks_on_hand_made_runs(tmp_path: Path) -> None:
    _solve_results(tmp_path)
    records = load_results(tmp_path / "sweep")
    table = solve_table(records, "env.kwargs.delay")
    assert list(table["fast"]) == [10.0, 100.0]  # numeric order
    steps = solve_table(records, "env.kwargs.delay", "solve/env_steps")
    assert steps["fast"][100.0].median == 1500.0  # 150 episodes × 10 steps
    assert steps["slow"][100.0].budget == 10000.0 and steps["slow"][100.0].n_unsolved == 2
    flat = MetricCheck(
        "flat", "solve_growth", "sweep", learner="fast", over="env.kwargs.delay", at_most=2.0
    )
    result = run_metric_check("c", flat, records, "full")
    assert result.passed and result.value == 1.5  # 150 / 100
    grows = MetricCheck(
        "grows", "solve_growth", "sweep", learner="slow", over="env.kwargs.delay", at_least=5.0
    )
    assert run_metric_check("c", grows, records, "full").value == math.inf  # unsolved / 100
    versus = MetricCheck(
        "vs",
        "solve_ratio",
        "sweep",
        learner="fast",
        versus="slow",
        over="env.kwargs.delay",
        at="min",
        at_most=0.5,
    )
    outcome = run_metric_check("c", versus, records, "full")
    assert not outcome.passed and outcome.value == 1.0  # 100 / 100 at delay 10
    solved = MetricCheck(
        "all",
        "solved_fraction",
        "sweep",
        learner="slow",
        over="env.kwargs.delay",
        at_least=1.0,
        quick={"at_least": 0.5},
    )
    assert not run_metric_check("c", solved, records, "full").passed  # 2 of 4 solved
    assert run_metric_check("c", solved, records, "quick").passed  # the stated weaker version


def test_claims_record_is_written_atomically_and_read_back(tmp_path: Path) -> None:
    _solve_results(tmp_path)
    info = ClaimInfo(
        "sweep_claim",
        "fast stays flat",
        "a paper",
        checks=(
            MetricCheck(
                "flat",
                "solve_growth",
                "sweep",
                learner="fast",
                over="env.kwargs.delay",
                at_most=2.0,
            ),
            MetricCheck(
                "only_full",
                "solve_growth",
                "sweep",
                learner="slow",
                over="env.kwargs.delay",
                at_most=2.0,
                modes=("full",),
            ),
        ),
        published=({"quantity": "growth", "value": "1", "source": "x", "ours": "flat"},),
    )
    record = claims_record(
        tmp_path,
        "quick",
        ["sweep_claim"],
        {"sweep_claim": info},
        [],
        {"sweep_claim": 2},
        {"sweep_claim": ["sweep"]},
    )
    path = write_claims(tmp_path, record)
    assert not list(tmp_path.glob("claims.json.tmp-*"))
    row = json.loads(path.read_text())["claims"][0]
    assert row["status"] == "reproduced" and row["seeds"] == 2
    assert [c["check"] for c in row["checks"]] == ["flat"]  # the full-only check is left out
    assert row["published"][0]["ours_seen"].startswith("1.5")
    assert read_claims(tmp_path) == json.loads(path.read_text())
    assert read_claims(tmp_path / "nowhere") is None


def test_suite_claims_parse_and_name_bad_fields() -> None:
    from acconv.reproduce import load_claim_infos, load_suite

    infos = load_claim_infos()
    assert {e.claim for e in load_suite()} <= set(infos)
    rudder = infos["rudder_delay_sweep"]
    assert {c.id for c in rudder.checks} >= {"rudder_flat", "td_grows"}
    assert all(info.figure.get("kind") for info in infos.values())  # one figure per claim
    with pytest.raises(ValueError, match=r"claims.x.check\[0\].kind is 'foo'"):
        parse_claims(
            {
                "claims": {
                    "x": {
                        "title": "t",
                        "source": "s",
                        "check": [{"kind": "foo", "id": "a", "spec": "b"}],
                    }
                }
            }
        )


# ------------------------------------------------------------------------------------------------
# the exit code
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "code"),
    [(["reproduced"], 0), (["reproduced", "partly"], 1), (["not reproduced"], 1)],
)
def test_reproduce_exits_1_exactly_when_a_row_is_not_reproduced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, statuses: list[str], code: int
) -> None:
    import acconv.reproduce as reproduce_module
    from acconv.cli import main

    rows = [
        {
            "id": f"c{k}",
            "title": "t",
            "source": "s",
            "mode": "quick",
            "seeds": 1,
            "status": status,
            "failed": []
            if status == "reproduced"
            else [{"check": "spec: x", "expected": "y", "seen": "z"}],
            "checks": [],
        }
        for k, status in enumerate(statuses)
    ]

    def fake_reproduce(mode: str, out: str, **kwargs: Any) -> Path:
        write_claims(Path(out), {"mode": mode, "rule": STATUS_RULE, "claims": rows})
        return Path(out)

    monkeypatch.setattr(reproduce_module, "reproduce", fake_reproduce)
    monkeypatch.setattr(reproduce_module, "write_suite_report", lambda folder: None)
    tmp_path.mkdir(exist_ok=True)
    assert main(["reproduce", "--out", str(tmp_path), "--quiet"]) == code


def test_censored_intervals_are_the_bootstrap_of_the_report() -> None:
    from acconv.stats import iqm, stratified_bootstrap_ci

    # The vectorised intervals draw exactly the resamples of stratified_bootstrap_ci (one group,
    # default_rng(0)), with unsolved runs at the budget.
    summary = censored_summary([30, 50, None, 80, 120], budget=500)
    capped = [30, 50, 500, 80, 120]
    assert summary.iqm_ci == pytest.approx(stratified_bootstrap_ci([capped], iqm))
    median_ci = stratified_bootstrap_ci([capped], lambda x: float(np.median(x)))
    assert summary.median_ci == pytest.approx(median_ci)


def test_a_learner_sweep_resumes_and_records_episodes_to_solve(tmp_path: Path) -> None:
    from acconv.runner import run_spec

    raw = {**_RAW, "seeds": {"count": 1}, "sweep": {"env.kwargs.delay": [3]}}
    spec = parse_spec(raw)
    first = run_spec(spec, tmp_path, workers=1, progress=False)
    assert len(first.done) == 2 and not first.failed  # two learners × one delay × one seed
    again = run_spec(spec, tmp_path, workers=1, progress=False)
    assert again.done == [] and len(again.skipped) == 2  # resumable: nothing is redone
    for record in load_results(tmp_path):
        metrics = set(record.metrics().column("metric").to_pylist())
        assert {"solve/solved", "solve/episodes", "solve/budget_episodes"} <= metrics


# ------------------------------------------------------------------------------------------------
# the across-seeds tracking check (issue 15 item 4)
# ------------------------------------------------------------------------------------------------

CRITIC = "0.5/(1+n/5)**0.6"


def _tracking_runs(root: Path, power: float, *, critic_lr: str = CRITIC, s4: str = "holds") -> None:
    """Eight seeds whose track/error is exactly c_k · a(n)^power on a log grid of 1000 updates.

    ln E_k(n) = ln c_k + power · ln a(n), so the seeds' mean ln E against ln a(n) has slope
    ``power`` exactly, in every bootstrap resample of the seeds (its interval is [power, power]);
    c_k = 1 + k/8 only makes the seeds differ.
    """
    from acconv.schedules import as_schedule

    a = as_schedule(CRITIC)  # the series always follow CRITIC; critic_lr is what the run says
    grid = np.unique(np.round(np.logspace(0, 3, 31)).astype(int)) - 1  # 0 … 999
    for seed in range(8):
        c = 1.0 + seed / 8
        rows = [(int(n), "track/error", c * float(a(int(n))) ** power) for n in grid]
        run_id = f"tracked/base/seed-{seed}"
        config = {
            "name": "tracked",
            "learner": {"critic_lr": critic_lr if seed == 0 else CRITIC},
            "budget": {"n_updates": 1000},
        }
        write_run(
            root / "tracked" / "base" / f"seed-{seed}",
            run_id=run_id,
            seed=seed,
            rows=rows,
            verdicts={
                "run_id": run_id,
                "observers": [],
                "step_sizes": {"conditions": [{"id": "S4", "status": s4}]},
            },
            manifest={"config": config},
        )


@pytest.mark.parametrize(("power", "lean"), [(0.5, "holds"), (0.25, "violated")])
def test_tracking_check_reads_the_verdict_on_series_of_known_slope(
    tmp_path: Path, power: float, lean: str
) -> None:
    # E = c_k a(n)^½ is the sqrt(a(n)) law (slope ½, the error falls): leans holds; E = c_k
    # a(n)^¼ falls more slowly than sqrt(a) (slope ¼, the interval [¼, ¼] lies below ½): leans
    # violated. The verdict is check_tracking_across_seeds's; the check only reads it.
    _tracking_runs(tmp_path, power)
    records = load_results(tmp_path / "tracked")
    check = MetricCheck(
        "t", "tracking_across_seeds", "tracked", lean=(lean,), at_least=power - 0.01,
        at_most=power + 0.01,
    )  # fmt: skip
    result = run_metric_check("c", check, records, "full")
    assert result.passed, result.seen
    assert result.value["lean"] == lean and result.value["seeds"] == 8
    assert result.value["slope_a"] == pytest.approx(power, abs=1e-9)
    low, high = result.value["slope_a_ci"]
    assert low == pytest.approx(power, abs=1e-9) and high == pytest.approx(power, abs=1e-9)
    assert "lean" in result.expected and "slope" in result.expected
    other = "violated" if lean == "holds" else "holds"
    wrong_lean = MetricCheck("t", "tracking_across_seeds", "tracked", lean=(other,))
    assert not run_metric_check("c", wrong_lean, records, "full").passed
    wrong_slope = MetricCheck("t", "tracking_across_seeds", "tracked", at_least=power + 0.1)
    assert not run_metric_check("c", wrong_slope, records, "full").passed


def test_tracking_check_is_deterministic_and_refuses_runs_that_differ(tmp_path: Path) -> None:
    _tracking_runs(tmp_path / "same", 0.5)
    records = load_results(tmp_path / "same" / "tracked")
    check = MetricCheck("t", "tracking_across_seeds", "tracked", lean=("holds",), seed=3)
    first = run_metric_check("c", check, records, "full")
    assert first == run_metric_check("c", check, records, "full")  # the same seed, the same result
    _tracking_runs(tmp_path / "mixed", 0.5, critic_lr="0.1")
    mixed = load_results(tmp_path / "mixed" / "tracked")
    outcome = run_metric_check("c", check, mixed, "full")
    assert not outcome.passed and "differ in critic_lr" in outcome.seen
    nothing = run_metric_check("c", check, [], "full")
    assert not nothing.passed and "no track/error" in nothing.seen


def test_tracking_check_fields_are_validated() -> None:
    def parse(check: dict[str, Any]) -> Any:
        table = {"title": "t", "source": "s", "check": [{"id": "a", "spec": "b", **check}]}
        return parse_claims({"claims": {"x": table}})

    parsed = parse({"kind": "tracking_across_seeds", "lean": "none"})["x"].checks[0]
    assert parsed.lean == ("none",) and parsed.at_least is None
    with pytest.raises(ValueError, match=r"check\[0\]\.lean is 'maybe', expected one or a list"):
        parse({"kind": "tracking_across_seeds", "lean": "maybe"})
    with pytest.raises(ValueError, match=r"lean is set on kind 'final'"):
        parse({"kind": "final", "lean": "holds", "at_least": 1.0})
    with pytest.raises(ValueError, match="states no bound"):
        parse({"kind": "tracking_across_seeds"})


def test_final_check_is_the_iqm_of_last_values_with_its_interval(tmp_path: Path) -> None:
    # Last values 1, 2, 3, 4 (an earlier row at n = 0 is ignored): the IQM trims one value at
    # each end (25% of 4), so it is (2 + 3)/2 = 2.5; the bootstrap interval lies in [1, 4].
    for seed, last in enumerate((3.0, 1.0, 4.0, 2.0)):
        write_run(
            tmp_path / "finals" / "base" / f"seed-{seed}",
            run_id=f"finals/base/seed-{seed}",
            seed=seed,
            rows=[(0, "exact/gap", 100.0), (9, "exact/gap", last)],
            verdicts={"run_id": f"finals/base/seed-{seed}", "observers": []},
            manifest={"config": {"name": "finals"}},
        )
    records = load_results(tmp_path / "finals")
    check = MetricCheck("gap", "final", "finals", metric="exact/gap", at_most=2.5)
    result = run_metric_check("c", check, records, "full")
    assert result.passed and result.value == pytest.approx(2.5)
    low, high = (float(x) for x in result.seen.split("[")[1].split("]")[0].split(", "))
    assert 1.0 <= low <= 2.5 <= high <= 4.0
    assert not run_metric_check(
        "c", MetricCheck("g", "final", "finals", metric="exact/gap", at_most=2.4), records, "full"
    ).passed
