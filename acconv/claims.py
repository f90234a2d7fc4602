"""Claims as the unit of reproduction: metric checks across runs and the ``claims.json`` record.

A claim (``[claims.<id>]`` in ``acconv/experiments/suite.toml``) has a title, a source (theorem or
paper), the figure it owns, the published numbers it is compared with, and *metric checks*
computed here from the runs of its specs (:mod:`acconv.claim_metrics`):

``solve_growth``
    ``m(x_max) / m(x_min)``: a statistic ``m`` (``median`` or ``iqm``) of one learner's episodes
    to solve at the largest over the smallest value of the sweep key ``over``;
``solve_ratio``
    ``m(learner) / m(versus)`` at the sweep value ``at`` (a number, ``"min"`` or ``"max"``);
``solved_fraction``
    the fraction of one learner's runs (at ``at``, or over the whole sweep) that solved;
``slope``
    the log-log slope of ``metric`` against the update ``n`` (``n ≥ from_n``), all seeds pooled,
    with its 95% interval: the check passes when the whole interval is inside the bounds;
``final``
    the IQM across seeds of ``metric``'s last recorded value (shown with its 95% percentile
    bootstrap interval over seeds, :func:`acconv.stats.stratified_bootstrap_ci`);
``tracking_across_seeds``
    the across-seeds tracking verdict of the spec's runs,
    :func:`acconv.theory_checks.check_tracking_across_seeds` on their ``track/error`` series with
    the spec's critic schedule a(n) (and their S4 status): the check reads the verdict's lean
    (``lean``: the accepted leans, ``"none"`` for no lean) and, with bounds, the bootstrap
    interval of the slope of ln E against ln a(n) (the prediction is ½). The verdict is decided
    in :mod:`acconv.theory_checks`, never here.

Each check states ``at_least`` and/or ``at_most`` (a tracking check may state ``lean``
instead); a ``quick = {...}`` table replaces them in quick mode (a weaker version, stated in the
suite), and ``modes = ["full"]`` runs a check in full mode only. :func:`claims_record` turns
every check of a claim, the suite's verdict expectations included, into one row with a status
(:data:`STATUS_RULE`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from acconv.claim_metrics import censored_summary, loglog_slope, ratio
from acconv.results import RunRecord, load_results

__all__ = [
    "CLAIMS_FILE",
    "STATUS_RULE",
    "CheckResult",
    "ClaimInfo",
    "MetricCheck",
    "claim_status",
    "claims_record",
    "parse_claims",
    "read_claims",
    "run_metric_check",
    "tracking_verdict",
    "write_claims",
]

CLAIMS_FILE = "claims.json"
STATUS_RULE = (
    "reproduced: every check of the claim passed (each expected verdict of each of its specs in "
    "the quorum of runs, and each metric check of the mode); partly: some checks passed and "
    "some failed; not reproduced: no check passed (or no run completed). Measurements marked "
    "'not counted' are shown beside published numbers and do not enter the status."
)
KINDS = (
    "solve_growth",
    "solve_ratio",
    "solved_fraction",
    "slope",
    "final",
    "tracking_across_seeds",
)
LEANS = ("holds", "violated", "none")
"""What a ``tracking_across_seeds`` check's ``lean`` may name (``none``: no lean)."""
STATISTICS = ("median", "iqm")


@dataclass(frozen=True)
class MetricCheck:
    """One metric check of a claim (see the module docstring for the kinds)."""

    id: str
    kind: str
    spec: str
    text: str = ""
    metric: str = "solve/episodes"
    learner: str | None = None
    versus: str | None = None
    over: str = ""
    at: float | str | None = None
    statistic: str = "median"
    from_n: int = 1
    at_least: float | None = None
    at_most: float | None = None
    quick: Mapping[str, float] = field(default_factory=dict)
    modes: tuple[str, ...] = ("quick", "full")
    lean: tuple[str, ...] = ()
    """``tracking_across_seeds``: the accepted leans of the verdict (:data:`LEANS`); empty: any."""
    seed: int = 0
    """``tracking_across_seeds``: the seed of the bootstrap's generator."""
    counted: bool = True
    """``False``: measured and shown beside the published number, but not part of the status
    (the suite says why, e.g. the budget cannot reach the regime the paper's number is about)."""

    def bounds(self, mode: str) -> tuple[float | None, float | None]:
        """``(at_least, at_most)`` of ``mode`` (quick mode: the ``quick`` table's, if any)."""
        if mode == "quick" and self.quick:
            return self.quick.get("at_least"), self.quick.get("at_most")
        return self.at_least, self.at_most


@dataclass(frozen=True)
class ClaimInfo:
    """A claim's metadata from the suite: title, source, figure, metric checks, published."""

    id: str
    title: str
    source: str
    figure: Mapping[str, Any] = field(default_factory=dict)
    checks: tuple[MetricCheck, ...] = ()
    published: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: what was expected, what was seen, and a number when it has one."""

    claim: str
    check: str
    spec: str
    passed: bool
    expected: str
    seen: str
    value: Any = None
    counted: bool = True

    def message(self) -> str:
        return f"{self.claim}/{self.spec}: {self.check} expected {self.expected}, got {self.seen}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "spec": self.spec,
            "passed": self.passed,
            "expected": self.expected,
            "seen": self.seen,
            "value": _json_safe(self.value),
            "counted": self.counted,
        }


def _check(raw: Mapping[str, Any], where: str) -> MetricCheck:
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"{where}.kind is {kind!r}, expected one of {', '.join(KINDS)}")
    statistic = raw.get("statistic", "median")
    if statistic not in STATISTICS:
        raise ValueError(f"{where}.statistic is {statistic!r}, expected median or iqm")
    lean = raw.get("lean", [])
    leans = [lean] if isinstance(lean, str) else lean
    if not isinstance(leans, list) or any(item not in LEANS for item in leans):
        raise ValueError(f"{where}.lean is {lean!r}, expected one or a list of {', '.join(LEANS)}")
    if leans and kind != "tracking_across_seeds":
        raise ValueError(
            f"{where}.lean is set on kind {kind!r}, expected only on tracking_across_seeds"
        )
    if "at_least" not in raw and "at_most" not in raw and not leans:
        raise ValueError(f"{where} states no bound, expected at_least and/or at_most")
    try:
        return MetricCheck(
            id=str(raw["id"]),
            kind=str(kind),
            spec=str(raw["spec"]),
            text=str(raw.get("text", "")),
            metric=str(raw.get("metric", "solve/episodes")),
            learner=raw.get("learner"),
            versus=raw.get("versus"),
            over=str(raw.get("over", "")),
            at=raw.get("at"),
            statistic=str(statistic),
            from_n=int(raw.get("from_n", 1)),
            at_least=None if "at_least" not in raw else float(raw["at_least"]),
            at_most=None if "at_most" not in raw else float(raw["at_most"]),
            quick={str(k): float(v) for k, v in raw.get("quick", {}).items()},
            modes=tuple(str(m) for m in raw.get("modes", ("quick", "full"))),
            lean=tuple(str(item) for item in leans),
            seed=int(raw.get("seed", 0)),
            counted=bool(raw.get("counted", True)),
        )
    except KeyError as error:
        raise ValueError(f"{where}.{error.args[0]} is missing") from None


def parse_claims(raw: Mapping[str, Any]) -> dict[str, ClaimInfo]:
    """The ``[claims.<id>]`` tables of a parsed suite, by id (ValueError names a bad field)."""
    claims: dict[str, ClaimInfo] = {}
    for claim_id, table in raw.get("claims", {}).items():
        where = f"suite.toml: claims.{claim_id}"
        if "title" not in table or "source" not in table:
            raise ValueError(f"{where} needs a title and a source")
        checks = tuple(
            _check(item, f"{where}.check[{k}]") for k, item in enumerate(table.get("check", []))
        )
        claims[claim_id] = ClaimInfo(
            id=claim_id,
            title=str(table["title"]),
            source=str(table["source"]),
            figure=dict(table.get("figure", {})),
            checks=checks,
            published=tuple(dict(p) for p in table.get("published", [])),
        )
    return claims


# ------------------------------------------------------------------------------------------------
# metric checks
# ------------------------------------------------------------------------------------------------


def _series(record: RunRecord, metric: str) -> tuple[list[int], list[float]]:
    """``(n, value)`` of every row of ``metric`` in one run, in order of ``n`` (rows at the same
    ``n`` in the order they were recorded)."""
    table = record.metrics()
    rows = sorted(
        (
            (int(n), float(y))
            for n, name, y in zip(
                table.column("n").to_pylist(),
                table.column("metric").to_pylist(),
                table.column("value").to_pylist(),
                strict=True,
            )
            if name == metric
        ),
        key=lambda row: row[0],
    )
    return [n for n, _ in rows], [y for _, y in rows]


def _final(record: RunRecord, metric: str) -> float | None:
    """The metric's value at the largest ``n`` it was recorded at, or None."""
    _, values = _series(record, metric)
    return values[-1] if values else None


def _point(record: RunRecord) -> dict[str, Any]:
    config = record.manifest.get("config", {})
    point = config.get("sweep_point", {}) if isinstance(config, dict) else {}
    return dict(point) if isinstance(point, dict) else {}


def solve_table(
    records: Sequence[RunRecord], over: str, metric: str = "solve/episodes"
) -> dict[str, dict[float, Any]]:
    """``{learner label: {sweep value: Censored}}`` of episodes (or, with ``metric =
    "solve/env_steps"``, environment steps) to solve; the label is ``""`` for a spec without
    ``[learners]``. Sweep values are sorted numerically."""
    budget_metric = (
        "solve/budget_env_steps" if metric == "solve/env_steps" else ("solve/budget_episodes")
    )
    runs: dict[str, dict[float, tuple[list[float | None], float]]] = {}
    for record in records:
        point = _point(record)
        solved = _final(record, "solve/solved")
        if solved is None:
            continue
        episodes = _final(record, metric)
        budget = _final(record, budget_metric) or 0.0
        label = str(point.get("learner", ""))
        x = float(point.get(over, 0.0))
        values, _ = runs.setdefault(label, {}).setdefault(x, ([], budget))
        values.append(episodes if solved else None)
    return {
        label: {x: censored_summary(v, b) for x, (v, b) in sorted(by_x.items())}
        for label, by_x in runs.items()
    }


def _solve_value(check: MetricCheck, records: Sequence[RunRecord]) -> tuple[float, str]:
    table = solve_table(records, check.over, check.metric)
    if check.learner not in table or (check.versus and check.versus not in table):
        raise LookupError(f"no solve/* metrics for learner {check.learner or check.versus!r}")
    own = table[str(check.learner)]
    xs = list(own)

    def at(values: Mapping[float, Any]) -> Any:
        x = xs[-1] if check.at in (None, "max") else xs[0] if check.at == "min" else check.at
        return values[float(x)]

    def stat(summary: Any) -> float:
        return float(summary.median if check.statistic == "median" else summary.iqm)

    if check.kind == "solve_growth":
        value = ratio(stat(own[xs[-1]]), stat(own[xs[0]]))
        shown = ", ".join(f"{x:g}: {_num(stat(s))}" for x, s in own.items())
        return value, f"{_ratio(value)} ({check.statistic} by {check.over}: {shown})"
    if check.kind == "solve_ratio":
        mine, theirs = at(own), at(table[str(check.versus)])
        value = ratio(stat(mine), stat(theirs))
        return value, (
            f"{_ratio(value)} ({check.learner} {_num(stat(mine))} / {check.versus} "
            f"{_num(stat(theirs))}, {check.statistic})"
        )
    summaries = [at(own)] if check.at is not None else list(own.values())
    runs = sum(s.n_runs for s in summaries)
    solved = runs - sum(s.n_unsolved for s in summaries)
    return solved / runs, f"{solved}/{runs} runs solved"


def _curve_value(check: MetricCheck, records: Sequence[RunRecord]) -> tuple[Any, str]:
    if check.kind == "final":
        finals = [v for r in records if (v := _final(r, check.metric)) is not None]
        if not finals:
            raise LookupError(f"no {check.metric} recorded")
        from acconv.stats import iqm, stratified_bootstrap_ci

        value = iqm(finals)
        low, high = stratified_bootstrap_ci([finals])
        return value, (
            f"{_num(value)} [{_num(low)}, {_num(high)}] (IQM of {len(finals)} final value(s), "
            "95% bootstrap interval over seeds)"
        )
    ns: list[float] = []
    ys: list[float] = []
    for record in records:
        for n, y in zip(*_series(record, check.metric), strict=True):
            if n >= check.from_n:
                ns.append(float(n))
                ys.append(y)
    slope = loglog_slope(ns, ys)
    return slope, f"slope {slope.slope:.3g}, 95% CI [{slope.low:.3g}, {slope.high:.3g}]"


def _one(records: Sequence[RunRecord], field_of: Any, what: str) -> Any:
    """The value ``field_of(record)`` shared by every run (ValueError when the runs differ)."""
    values = {json.dumps(field_of(r), sort_keys=True) for r in records}
    if len(values) != 1:
        raise ValueError(f"the runs differ in {what} ({', '.join(sorted(values))})")
    return field_of(records[0])


def tracking_verdict(records: Sequence[RunRecord], seed: int = 0) -> Any:
    """The across-seeds tracking verdict of one spec's runs (a :class:`~acconv.theory_checks.
    verdicts.Verdict`): :func:`~acconv.theory_checks.check_tracking_across_seeds` on each run's
    ``track/error`` series, with the critic schedule a(n) and ``n_updates`` of the runs' spec
    (``config.learner.critic_lr``, ``config.budget.n_updates``, which must agree across runs),
    their S4 status when every run has the same one, and ``numpy.random.default_rng(seed)`` for
    the bootstrap. LookupError without ``track/error``; ValueError when the runs differ."""
    from acconv.schedules import as_schedule
    from acconv.theory_checks import check_tracking_across_seeds

    series = [_series(r, "track/error") for r in records]
    series = [s for s in series if s[0]]
    if not series:
        raise LookupError("no track/error recorded")

    def config(record: RunRecord) -> dict[str, Any]:
        raw = record.manifest.get("config", {})
        return raw if isinstance(raw, dict) else {}

    critic_lr = _one(records, lambda r: config(r).get("learner", {}).get("critic_lr"), "critic_lr")
    n_updates = _one(records, lambda r: config(r).get("budget", {}).get("n_updates"), "n_updates")
    if critic_lr is None:
        raise LookupError("no learner.critic_lr in the runs' config")

    def s4(record: RunRecord) -> str | None:
        conditions = record.verdicts.get("step_sizes", {}).get("conditions", [])
        return next((str(c["status"]) for c in conditions if c.get("id") == "S4"), None)

    s4_seen = {s4(r) for r in records}
    return check_tracking_across_seeds(
        series,
        as_schedule(critic_lr),
        rng=np.random.default_rng(seed),
        n_updates=None if n_updates is None else int(n_updates),
        s4=s4_seen.pop() if len(s4_seen) == 1 else None,  # type: ignore[arg-type]
    )


def _tracking_value(check: MetricCheck, records: Sequence[RunRecord]) -> tuple[Any, str]:
    verdict = tracking_verdict(records, check.seed)
    evidence = verdict.evidence
    value = {
        "lean": verdict.lean or "none",
        "strength": verdict.strength,
        "seeds": evidence.get("seeds"),
        "slope_a": evidence.get("slope_a"),
        "slope_a_ci": [evidence.get("slope_a_low"), evidence.get("slope_a_high")],
        "slope_n": evidence.get("slope_n"),
        "slope_n_ci": [evidence.get("slope_n_low"), evidence.get("slope_n_high")],
        "level": evidence.get("level"),
        "level_ci": [evidence.get("level_low"), evidence.get("level_high")],
        "detail": verdict.detail,
    }
    return value, f"{verdict.shown}: {verdict.detail}"


def _tracking_passed(check: MetricCheck, value: Mapping[str, Any], mode: str) -> bool:
    """The lean is accepted and the slope interval lies inside the bounds (NaN never does)."""
    if check.lean and value["lean"] not in check.lean:
        return False
    low, high = check.bounds(mode)
    if low is None and high is None:
        return True
    lo_v, hi_v = (float("nan") if v is None else float(v) for v in value["slope_a_ci"])
    if np.isnan(lo_v) or np.isnan(hi_v):
        return False
    return (low is None or lo_v >= low) and (high is None or hi_v <= high)


def _expected(check: MetricCheck, mode: str) -> str:
    low, high = check.bounds(mode)
    parts = ([f">= {low:g}"] if low is not None else []) + (
        [f"<= {high:g}"] if high is not None else []
    )
    what = "95% CI " if check.kind == "slope" else ""
    if check.kind == "tracking_across_seeds":
        leans = " or ".join(f"lean {item}" for item in check.lean)
        slope = f"slope on ln a(n), 90% CI {' and '.join(parts)}" if parts else ""
        return " and ".join(x for x in (leans, slope) if x) + (
            " (quick version)" if mode == "quick" and check.quick else ""
        )
    return f"{what}{' and '.join(parts)}" + (
        " (quick version)" if mode == "quick" and check.quick else ""
    )


def run_metric_check(
    claim: str, check: MetricCheck, records: Sequence[RunRecord], mode: str
) -> CheckResult:
    """Compute ``check`` on the runs of its spec and compare it with the bounds of ``mode``."""
    expected = _expected(check, mode)
    try:
        if check.kind == "tracking_across_seeds":
            value, seen = _tracking_value(check, records)
        elif check.kind in ("slope", "final"):
            value, seen = _curve_value(check, records)
        else:
            value, seen = _solve_value(check, records)
    except (LookupError, ValueError) as error:
        return CheckResult(
            claim,
            check.id,
            check.spec,
            False,
            expected,
            f"not computed: {error}",
            None,
            check.counted,
        )
    if check.kind == "tracking_across_seeds":
        passed = _tracking_passed(check, value, mode)
        return CheckResult(
            claim, check.id, check.spec, passed, expected, seen, value, check.counted
        )
    low, high = check.bounds(mode)
    lo_v, hi_v = (value.low, value.high) if check.kind == "slope" else (value, value)
    defined = not (np.isnan(lo_v) or np.isnan(hi_v))  # an undefined ratio never passes
    passed = defined and (low is None or lo_v >= low) and (high is None or hi_v <= high)
    shown = value.to_dict() if hasattr(value, "to_dict") else value
    return CheckResult(claim, check.id, check.spec, passed, expected, seen, shown, check.counted)


def _num(value: float) -> str:
    return "unsolved" if np.isinf(value) else f"{value:.4g}"


def _ratio(value: float) -> str:
    return "∞" if np.isinf(value) else f"{value:.4g}"


# ------------------------------------------------------------------------------------------------
# the record
# ------------------------------------------------------------------------------------------------


def claim_status(passed: Sequence[bool]) -> str:
    """:data:`STATUS_RULE`: all passed, some passed, none passed (or no checks at all)."""
    if passed and all(passed):
        return "reproduced"
    return "partly" if any(passed) else "not reproduced"


def claims_record(
    out_dir: str | Path,
    mode: str,
    order: Sequence[str],
    infos: Mapping[str, ClaimInfo],
    verdict_checks: Sequence[CheckResult],
    seeds: Mapping[str, int],
    specs: Mapping[str, Sequence[str]],
    skipped: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The claims record: one row per claim in ``order`` with every check's outcome.

    ``verdict_checks``: the suite's verdict expectations, already checked; the metric checks of
    ``infos`` are run here on the folders under ``out_dir``.
    """
    out = Path(out_dir)
    rows = []
    for claim_id in order:
        info = infos.get(claim_id, ClaimInfo(claim_id, claim_id, ""))
        results = [c for c in verdict_checks if c.claim == claim_id]
        for check in info.checks:
            if mode not in check.modes:
                continue
            folder = out / check.spec
            records = load_results(folder) if folder.is_dir() else []
            results.append(run_metric_check(claim_id, check, records, mode))
        rows.append(
            {
                "id": claim_id,
                "title": info.title,
                "source": info.source,
                "mode": mode,
                "seeds": seeds.get(claim_id, 0),
                "specs": list(specs.get(claim_id, ())),
                "status": claim_status([c.passed for c in results if c.counted]),
                "figure": dict(info.figure),
                "published": [_published(p, results, mode) for p in info.published],
                "checks": [c.to_dict() for c in results],
                "failed": [
                    {"check": f"{c.spec}: {c.check}", "expected": c.expected, "seen": c.seen}
                    for c in results
                    if c.counted and not c.passed
                ],
            }
        )
    return {"mode": mode, "rule": STATUS_RULE, "claims": rows, "skipped": list(skipped)}


def _published(
    item: Mapping[str, Any], results: Sequence[CheckResult], mode: str
) -> dict[str, Any]:
    """A published number with ours beside it: the ``seen`` of the check named by ``ours``."""
    seen = {c.check: c.seen for c in results}
    ours = str(item.get("ours", ""))
    missing = f"not measured in {mode} mode" if ours else ""
    return {**item, "ours_seen": seen.get(ours, missing)}


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_claims(out_dir: str | Path, record: Mapping[str, Any]) -> Path:
    """Write ``claims.json`` atomically (a temporary file renamed into place)."""
    path = Path(out_dir) / CLAIMS_FILE
    tmp = path.with_name(f"{CLAIMS_FILE}.tmp-{os.getpid()}")
    text = json.dumps(_json_safe(record), indent=2, sort_keys=False, allow_nan=False) + "\n"
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def read_claims(out_dir: str | Path) -> dict[str, Any] | None:
    """The claims record of a results folder, or None (a plain ``acconv run`` folder)."""
    try:
        record = json.loads((Path(out_dir) / CLAIMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("claims"), list) else None
