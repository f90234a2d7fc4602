"""The canonical suite: run every claim's specs and check their verdicts (issue 5, items 5-6).

The suite is data shipped inside the package (``acconv/experiments``): one spec per learner and
claim, a README per claim, and ``suite.toml`` listing each spec with its ``--quick`` and
``--full`` overrides and the verdicts it is expected to produce. :func:`reproduce` runs the whole
suite into one folder (``<out>/<spec name>/...``) and writes one combined report;
:func:`expected_verdicts_match` compares the verdicts on disk with the expected ones.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from acconv.claims import CheckResult, ClaimInfo, claims_record, parse_claims, write_claims
from acconv.theory_checks.verdicts import STATUSES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "SuiteEntry",
    "expected_verdicts_match",
    "load_claim_infos",
    "load_suite",
    "reproduce",
    "select_claims",
    "suite_spec",
    "verdict_checks",
    "write_claims_record",
    "write_suite_report",
]

Mode = Literal["quick", "full"]
MODES: tuple[str, ...] = ("quick", "full")
_PACKAGE = "acconv.experiments"
_SUITE = "suite.toml"


@dataclass(frozen=True)
class SuiteEntry:
    """One spec of the suite, the claim it belongs to, its per-mode overrides and expectations.

    ``expect`` holds verdicts expected in every mode (decided symbolically or exactly, so they do
    not depend on the budget); ``expect_full`` verdicts need the full budget; ``final_below_full``
    maps a metric to a threshold its last recorded value must be under (full mode). Each
    expectation must hold in at least ``quorum`` of the spec's runs.
    """

    claim: str
    spec: str
    quick: tuple[str, ...]
    full: tuple[str, ...]
    expect: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    expect_full: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    final_below_full: Mapping[str, float] = field(default_factory=dict)
    quorum: float = 0.5
    needs: tuple[str, ...] = ()  # extras the spec needs, e.g. ("neural",)

    def missing_extras(self) -> list[str]:
        """The extras in :attr:`needs` that are not installed (their entries are skipped)."""
        modules = {"neural": ("torch", "stable_baselines3")}
        missing = []
        for extra in self.needs:
            try:
                for module in modules.get(extra, ()):
                    __import__(module)
            except ImportError:
                missing.append(extra)
        return missing

    def overrides(self, mode: Mode) -> tuple[str, ...]:
        """The ``--set`` overrides of ``mode``."""
        return self.quick if mode == "quick" else self.full

    def expectations(self, mode: Mode) -> dict[str, tuple[str, ...]]:
        """The verdicts expected in ``mode``: ``{verdict id: accepted statuses}``."""
        expected = dict(self.expect)
        if mode == "full":
            expected.update(self.expect_full)
        return expected


EXPECTATIONS: tuple[str, ...] = (*STATUSES, "leans holds", "leans violated")
"""What an expectation may name: a status (``undecided`` matches any undecided verdict, with or
without a lean) or ``leans holds``/``leans violated`` (undecided, with evidence leaning that
way, of any strength)."""


def _statuses(value: object, where: str) -> tuple[str, ...]:
    tokens = [value] if isinstance(value, str) else value
    if not isinstance(tokens, list) or not tokens or not all(isinstance(v, str) for v in tokens):
        raise ValueError(f"{where} is {value!r}, expected a status or a list of statuses")
    for token in tokens:
        if token not in EXPECTATIONS:
            raise ValueError(f"{where} is {token!r}, expected one of {', '.join(EXPECTATIONS)}")
    return tuple(tokens)


def _entry(raw: Mapping[str, Any], index: int) -> SuiteEntry:
    where = f"{_SUITE}: entry {index}"
    try:
        return SuiteEntry(
            claim=str(raw["claim"]),
            spec=str(raw["spec"]),
            quick=tuple(str(item) for item in raw.get("quick", [])),
            full=tuple(str(item) for item in raw.get("full", [])),
            expect={
                key: _statuses(value, f"{where} expect.{key}")
                for key, value in raw.get("expect", {}).items()
            },
            expect_full={
                key: _statuses(value, f"{where} expect_full.{key}")
                for key, value in raw.get("expect_full", {}).items()
            },
            final_below_full={
                str(key): float(value) for key, value in raw.get("final_below_full", {}).items()
            },
            quorum=float(raw.get("quorum", 0.5)),
            needs=tuple(str(extra) for extra in raw.get("needs", [])),
        )
    except KeyError as error:
        raise ValueError(f"{where}: {error.args[0]} is missing") from None


def load_suite() -> list[SuiteEntry]:
    """The suite's entries, in file order, from the package data."""
    text = resources.files(_PACKAGE).joinpath(_SUITE).read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return [_entry(item, k) for k, item in enumerate(raw.get("entry", []))]


@contextmanager
def suite_spec(entry: SuiteEntry) -> Iterator[Path]:
    """A file-system path to the entry's spec (works from a checkout and from a wheel)."""
    with resources.as_file(resources.files(_PACKAGE).joinpath(entry.spec)) as path:
        yield path


def _spec_name(entry: SuiteEntry) -> str:
    raw = tomllib.loads(resources.files(_PACKAGE).joinpath(entry.spec).read_text(encoding="utf-8"))
    return str(raw["name"])


def reproduce(
    mode: Mode = "quick",
    out_dir: str | Path | None = None,
    *,
    extra_overrides: Sequence[str] = (),
    workers: int | None = None,
    progress: bool = True,
    report: bool = True,
    on_entry: Callable[[SuiteEntry], None] | None = None,
    on_skip: Callable[[SuiteEntry, list[str]], None] | None = None,
    claims: Sequence[str] | None = None,
) -> Path:
    """Run every suite entry into ``out_dir`` and write one combined report; return ``out_dir``.

    ``claims``: run only the entries of these claims (ids of the suite, :func:`select_claims`);
    ``claims.json`` then holds their rows only.

    Entries whose extras are not installed (``needs = ["neural"]``) are skipped and reported to
    ``on_skip(entry, missing extras)``.

    ``extra_overrides`` are applied after the mode's own (tests use them for a tiny budget).
    Entries run one after the other, each on a local process pool of ``workers`` processes
    (default: one per CPU). Completed runs are skipped, so an interrupted reproduce resumes.
    The report is written by :func:`acconv.report.write_report` when that module exists.
    """
    from acconv.runner import run_spec
    from acconv.spec import load_spec

    if mode not in MODES:
        raise ValueError(f"mode is {mode!r}, expected one of {', '.join(MODES)}")
    selected = select_claims(claims)
    out = Path(out_dir) if out_dir is not None else Path(f"results/reproduce-{mode}")
    out.mkdir(parents=True, exist_ok=True)
    failed: list[str] = []
    for entry in load_suite():
        if selected is not None and entry.claim not in selected:
            continue
        missing = entry.missing_extras()
        if missing:
            if on_skip is not None:
                on_skip(entry, missing)
            continue
        if on_entry is not None:
            on_entry(entry)
        with suite_spec(entry) as path:
            spec = load_spec(path, [*entry.overrides(mode), *extra_overrides])
        summary = run_spec(spec, out / spec.name, workers=workers, progress=progress)
        failed += [f"{run_id}: {message}" for run_id, message in summary.failed]
    if failed:
        raise RuntimeError("runs failed: " + "; ".join(failed))
    write_claims_record(out, mode, claims=selected)
    if report:
        write_suite_report(out)
    return out


def select_claims(claims: Sequence[str] | None) -> frozenset[str] | None:
    """The claim ids to run (None: all), each checked against the suite's claims.

    ValueError names the first unknown id and the known ones.
    """
    if claims is None:
        return None
    known = list(dict.fromkeys(entry.claim for entry in load_suite()))
    for claim in claims:
        if claim not in known:
            raise ValueError(f"--claim is {claim!r}, expected one of {', '.join(known)}")
    return frozenset(claims)


def write_suite_report(out_dir: str | Path) -> tuple[Path, Path] | None:
    """The combined report of ``out_dir`` (``(html, md)``), or None if acconv.report is absent."""
    try:
        from acconv.report import write_report  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    html, md = write_report(Path(out_dir))
    return Path(html), Path(md)


# ------------------------------------------------------------------------------------------------
# expected verdicts
# ------------------------------------------------------------------------------------------------


def _status_seen(verdict: Mapping[str, Any]) -> str:
    """``status``, or ``leans holds``/``leans violated`` for evidence (undecided with a lean)."""
    status, lean = str(verdict["status"]), verdict.get("lean")
    return f"leans {lean}" if status == "undecided" and lean else status


def status_matches(seen: str, accepted: tuple[str, ...]) -> bool:
    """Whether a verdict seen as ``seen`` meets an expectation ``accepted``: equal, or a lean
    (``leans holds``) where ``undecided`` is accepted (a lean is an undecided verdict).

    >>> status_matches("leans holds", ("undecided",)), status_matches("leans holds", ("holds",))
    (True, False)
    """
    return seen in accepted or (seen.startswith("leans ") and "undecided" in accepted)


def _verdict_statuses(verdicts: Mapping[str, Any]) -> dict[str, str]:
    """``{verdict id: status}`` of one run: S1..S7, two_timescale, and the observers' verdicts
    (evidence as ``leans holds``/``leans violated``, :func:`status_matches`)."""
    statuses: dict[str, str] = {}
    steps = verdicts.get("step_sizes")
    if isinstance(steps, Mapping) and "conditions" in steps:
        for condition in steps["conditions"]:
            statuses[str(condition["id"])] = _status_seen(condition)
        statuses["two_timescale"] = str(steps.get("two_timescale"))
    for observer in verdicts.get("observers", []):
        statuses[str(observer["id"])] = _status_seen(observer)
    return statuses


def _final_value(record: Any, metric: str) -> float | None:
    table = record.metrics()
    metrics = table.column("metric").to_pylist()
    ns = table.column("n").to_pylist()
    values = table.column("value").to_pylist()
    last: tuple[int, float] | None = None
    for n, name, value in zip(ns, metrics, values, strict=True):
        if name == metric and (last is None or n >= last[0]):
            last = (int(n), float(value))
    return None if last is None else last[1]


def _tally(seen: Sequence[str]) -> str:
    """``"holds ×11, undecided ×1 over 12 runs"``: each status seen, in order of first sight."""
    counts: dict[str, int] = {}
    for status in seen:
        counts[status] = counts.get(status, 0) + 1
    shown = ", ".join(f"{status} ×{count}" for status, count in counts.items())
    return f"{shown} over {len(seen)} runs"


def verdict_checks(
    out_dir: str | Path,
    mode: Mode | None = None,
    *,
    verdicts_only: Sequence[str] | None = None,
    claims: Collection[str] | None = None,
) -> list[CheckResult]:
    """Every verdict expectation of the suite checked on the results in ``out_dir``.

    One :class:`~acconv.claims.CheckResult` per (spec, expected verdict), per ``final_below_full``
    metric (full mode), and one ``runs`` check for a spec without completed runs. ``mode`` and
    ``verdicts_only``: as in :func:`expected_verdicts_match`; ``claims``: only the entries of
    these claims (None: all).
    """
    from acconv.results import load_results

    out = Path(out_dir)
    if mode is None:
        mode = "full" if out.name.endswith("full") else "quick"
    checks: list[CheckResult] = []
    for entry in load_suite():
        if claims is not None and entry.claim not in claims:
            continue
        name = _spec_name(entry)
        if entry.missing_extras() and not (out / name).is_dir():
            continue  # skipped by reproduce, which said so; not a mismatch
        records = load_results(out / name) if (out / name).is_dir() else []
        if not records:
            checks.append(
                CheckResult(
                    entry.claim,
                    "runs",
                    name,
                    False,
                    "completed runs",
                    f"no completed runs in {out / name}",
                )
            )
            continue
        needed = entry.quorum * len(records)
        for verdict_id, accepted in entry.expectations(mode).items():
            if verdicts_only is not None and verdict_id not in verdicts_only:
                continue
            seen = [_verdict_statuses(r.verdicts).get(verdict_id, "missing") for r in records]
            passed = sum(status_matches(status, accepted) for status in seen) >= needed
            checks.append(
                CheckResult(
                    entry.claim,
                    verdict_id,
                    name,
                    passed,
                    " or ".join(accepted),
                    _tally(seen),
                )
            )
        if mode == "full" and verdicts_only is None:
            for metric, threshold in entry.final_below_full.items():
                finals = [_final_value(r, metric) for r in records]
                below = sum(v is not None and v < threshold for v in finals)
                shown = ", ".join("missing" if v is None else f"{v:.4g}" for v in finals)
                checks.append(
                    CheckResult(
                        entry.claim,
                        f"final {metric}",
                        name,
                        below >= needed,
                        f"< {threshold:g} in {entry.quorum:.0%} of runs",
                        shown,
                    )
                )
    return checks


def expected_verdicts_match(
    out_dir: str | Path, mode: Mode | None = None, *, verdicts_only: Sequence[str] | None = None
) -> list[str]:
    """The mismatches between the results in ``out_dir`` and the suite's expectations.

    ``mode``: which expectations to check (``quick``: ``expect`` only; ``full``: also
    ``expect_full`` and ``final_below_full``); default: read from the folder name
    (``...-full`` is full, anything else quick). ``verdicts_only`` restricts the check to those
    verdict ids (e.g. the step-size ids S1-S7, which do not depend on the budget). An empty
    list means every checked expectation held in at least ``quorum`` of its spec's runs.
    Metric checks are in :func:`write_claims_record`.
    """
    checks = verdict_checks(out_dir, mode, verdicts_only=verdicts_only)
    return [check.message() for check in checks if not check.passed]


def load_claim_infos() -> dict[str, ClaimInfo]:
    """The suite's ``[claims.<id>]`` metadata: titles, sources, figures, metric checks."""
    text = resources.files(_PACKAGE).joinpath(_SUITE).read_text(encoding="utf-8")
    return parse_claims(tomllib.loads(text))


def write_claims_record(
    out_dir: str | Path, mode: Mode, *, claims: Collection[str] | None = None
) -> dict[str, Any]:
    """Check every claim (or only ``claims``) on the results in ``out_dir``, write
    ``claims.json`` there (atomically) and return the record. Claims whose specs were all
    skipped (a missing extra) are listed under ``skipped``, not as rows."""
    out = Path(out_dir)
    order: list[str] = []
    seeds: dict[str, int] = {}
    specs: dict[str, list[str]] = {}
    skipped: list[dict[str, Any]] = []
    for entry in load_suite():
        if claims is not None and entry.claim not in claims:
            continue
        name = _spec_name(entry)
        missing = entry.missing_extras()
        if missing and not (out / name).is_dir():
            skipped.append({"claim": entry.claim, "spec": name, "needs": missing})
            continue
        if entry.claim not in order:
            order.append(entry.claim)
        specs.setdefault(entry.claim, []).append(name)
        with suite_spec(entry) as path:
            from acconv.spec import load_spec

            count = load_spec(path, list(entry.overrides(mode))).seeds.count
        seeds[entry.claim] = max(seeds.get(entry.claim, 0), count)
    record = claims_record(
        out,
        mode,
        order,
        load_claim_infos(),
        verdict_checks(out, mode, claims=claims),
        seeds,
        specs,
        skipped,
    )
    write_claims(out, record)
    return record
