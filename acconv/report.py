"""Reports of a results folder: ``report.html`` (self-contained) and ``summary.md``.

Runs are grouped by experiment and sweep point (read from the manifests); within a group the
seeds are the samples. Each curve is summarised at every logged update ``n`` by the
interquartile mean (IQM) across seeds with a 95% stratified-bootstrap percentile confidence
interval, the definitions of rliable (Agarwal et al. 2021, "Deep RL at the edge of the
statistical precipice"), implemented here with numpy and scipy:

* IQM: the mean of the middle 50% of the values, ``scipy.stats.trim_mean(x, 0.25)`` (25% cut
  from each end, rounding the number cut down);
* stratified bootstrap: resample the runs of each task (here: each group) with replacement,
  independently per task, recompute the statistic, and take the percentile interval of the
  bootstrap distribution.

The bootstrap generator is ``np.random.default_rng(0)``, fresh for every curve, so the same
results give byte-identical reports. Plots are drawn with matplotlib's Agg canvas (no pyplot, no
global backend switch), encoded as PNG in memory and embedded as base64 ``<img>``: the HTML opens
offline and loads nothing (no external assets, no JavaScript).
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from acconv.claims import read_claims
from acconv.report_claims import claim_section, claims_table, sweep_order
from acconv.results import RunRecord, scan_results
from acconv.stats import N_BOOT as _N_BOOT
from acconv.stats import iqm, stratified_bootstrap_ci
from acconv.stats import iqm_band as _iqm_band
from acconv.theory_checks.verdicts import status_text

__all__ = ["ReportError", "iqm", "stratified_bootstrap_ci", "write_report"]

_STATUS_ORDER = ("violated", "undecided", "holds", "not_applicable")
_MAX_DETAIL = 400
_X_LABEL = "update n (log scale) [updates]"


logger = logging.getLogger(__name__)


class ReportError(ValueError):
    """The results folder is missing or holds no complete run."""


# ------------------------------------------------------------------------------------------------
# Statistics (rliable's definitions)
# ------------------------------------------------------------------------------------------------


# ------------------------------------------------------------------------------------------------
# Grouping runs
# ------------------------------------------------------------------------------------------------


@dataclass
class _Group:
    name: str
    point: dict[str, Any]
    config: dict[str, Any]
    records: list[RunRecord] = field(default_factory=list)
    curves: dict[str, dict[int, dict[int, float]]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        if not self.point:
            return self.name
        return self.name + ": " + ", ".join(f"{k} = {v}" for k, v in self.point.items())

    def seeds(self) -> list[int]:
        return [int(record.manifest.get("seed", i)) for i, record in enumerate(self.records)]

    def matrix(self, metric: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """``(ns, seeds × ns values)`` of a metric, NaN where a seed did not log it."""
        per_seed = self.curves.get(metric, {})
        ns = np.array(sorted({n for curve in per_seed.values() for n in curve}), dtype=np.int64)
        values = np.full((len(self.records), ns.size), np.nan)
        for i, seed in enumerate(self.seeds()):
            curve = per_seed.get(seed, {})
            for j, n in enumerate(ns):
                values[i, j] = curve.get(int(n), np.nan)
        return ns, values


def _group_runs(records: list[RunRecord]) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for record in records:
        config = record.manifest.get("config", {})
        config = config if isinstance(config, dict) else {}
        point = config.get("sweep_point", {})
        point = point if isinstance(point, dict) else {}
        name = str(config.get("name", record.run_id.split("/", 1)[0]))
        key = json.dumps([name, point], sort_keys=True)
        group = groups.setdefault(key, _Group(name, dict(point), config))
        group.records.append(record)
    for group in groups.values():
        for i, record in enumerate(group.records):
            seed = group.seeds()[i]
            table = record.metrics()
            ns = table.column("n").to_pylist()
            metrics = table.column("metric").to_pylist()
            values = table.column("value").to_pylist()
            for n, metric, value in zip(ns, metrics, values, strict=True):
                group.curves.setdefault(str(metric), {}).setdefault(seed, {})[int(n)] = float(value)
    return list(groups.values())


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


@dataclass
class _VerdictRow:
    id: str
    name: str
    statuses: dict[str, int] = field(default_factory=dict)
    methods: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)  # first detail per status

    def add(self, status: str, method: str, detail: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if method and method not in self.methods:
            self.methods.append(method)
        self.details.setdefault(status, detail)

    def counts(self) -> str:
        order = [s for s in _STATUS_ORDER if s in self.statuses]
        order += sorted(s for s in self.statuses if s not in _STATUS_ORDER)
        return "; ".join(f"{status} ×{self.statuses[status]}" for status in order)

    def example(self) -> str:
        """The detail of the least favourable status seen (violated before undecided ...)."""
        for status in (*_STATUS_ORDER, *sorted(self.details)):
            if status in self.details:
                detail = " ".join(self.details[status].split())
                return detail if len(detail) <= _MAX_DETAIL else detail[: _MAX_DETAIL - 1] + "…"
        return ""


def _verdict_rows(group: _Group) -> list[_VerdictRow]:
    rows: dict[str, _VerdictRow] = {}

    def add(entry: Mapping[str, Any]) -> None:
        verdict_id = str(entry.get("id", "?"))
        row = rows.setdefault(verdict_id, _VerdictRow(verdict_id, str(entry.get("name", ""))))
        status = status_text(
            str(entry.get("status", "?")), entry.get("lean"), entry.get("strength")
        )
        row.add(status, str(entry.get("method", "")), str(entry.get("detail", "")))

    for record in group.records:
        step_sizes = record.verdicts.get("step_sizes")
        if isinstance(step_sizes, dict) and isinstance(step_sizes.get("conditions"), list):
            for entry in step_sizes["conditions"]:
                if isinstance(entry, dict):
                    add(entry)
        elif isinstance(step_sizes, dict) and step_sizes.keys() & {"not_applicable", "undecided"}:
            status = "not_applicable" if "not_applicable" in step_sizes else "undecided"
            add(
                {
                    "id": "step sizes",
                    "name": "S1–S7",
                    "status": status,
                    "detail": str(step_sizes[status]),
                }
            )
        for entry in record.verdicts.get("observers") or []:
            if isinstance(entry, dict):
                add(entry)
    return list(rows.values())


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Figure:
    title: str
    caption: str
    axes: str
    png: bytes


@dataclass(frozen=True)
class _Line:
    metric: str
    label: str
    band: bool  # IQM line with CI band and faint seeds; else a dashed IQM line


def _positive_log(ax: Any, values: list[NDArray[np.float64]]) -> bool:
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    # log scale only for positive values that actually vary (a flat line has no log range)
    if finite.size and (finite > 0).all() and finite.max() > finite.min():
        ax.set_yscale("log")
        return True
    return False


def _plot(
    group: _Group,
    lines: Sequence[_Line],
    title: str,
    y_label: str,
    caption: str,
    log_y: bool,
    derived: Mapping[str, tuple[NDArray[np.int64], NDArray[np.float64]]] | None = None,
) -> _Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    plotted: list[NDArray[np.float64]] = []
    colours = ["C0", "C3", "C2", "C1"]
    for k, line in enumerate(lines):
        if derived is not None and line.metric in derived:
            ns, matrix = derived[line.metric]
        else:
            ns, matrix = group.matrix(line.metric)
        keep = ns >= 1  # log x axis: n = 0 cannot be drawn
        ns, matrix = ns[keep], matrix[:, keep]
        if ns.size == 0:
            continue
        point, low, high = _iqm_band(matrix)
        colour = colours[k % len(colours)]
        if line.band:
            for row in matrix:
                ax.plot(ns, row, color=colour, alpha=0.25, linewidth=0.7)
            ax.fill_between(ns, low, high, color=colour, alpha=0.25, linewidth=0)
            ax.plot(ns, point, color=colour, linewidth=2, label=f"{line.label}: IQM, 95% CI")
            plotted += [point, low, high, *matrix]
        else:
            ax.plot(ns, point, color=colour, linestyle="--", linewidth=1.5, label=line.label)
            plotted.append(point)
    ax.set_xscale("log")
    if log_y:
        log_y = _positive_log(ax, plotted)
    ax.set_xlabel(_X_LABEL)
    ax.set_ylabel(y_label + (" (log scale)" if log_y else ""))
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    seeds = len(group.records)
    full_caption = f"{caption} IQM across {seeds} seed(s); band: 95% stratified-bootstrap CI."
    axes = f"x: {_X_LABEL}; y: {y_label}" + (" (log scale)" if log_y else "")
    return _Figure(title, full_caption, axes, buffer.getvalue())


def _figures(group: _Group) -> list[_Figure]:
    figures: list[_Figure] = []

    def has(metric: str) -> bool:
        # A quantity a learner cannot see is logged as NaN (a watched loop's returns): a curve
        # with no finite value has nothing to draw, and on log axes matplotlib refuses it.
        return metric in group.curves and bool(np.isfinite(group.matrix(metric)[1]).any())

    if has("exact/gap"):
        figures.append(
            _plot(
                group,
                [_Line("exact/gap", "V*(ρ) − J(π_n)", True)],
                "Sub-optimality gap",
                "V*(ρ) − J(π_n) [return units]",
                "Exact gap of the policy that sampled update n, log-log axes.",
                log_y=True,
            )
        )
    elif has("return/batch_mean"):
        figures.append(
            _plot(
                group,
                [_Line("return/batch_mean", "batch mean return", True)],
                "Return",
                "mean discounted return G_0 [return units]",
                "Mean discounted return of each update's batch (no model: no exact gap).",
                log_y=False,
            )
        )
    bound_ids = sorted(
        {m.split("/")[1] for m in group.curves if m.startswith("bound/") and m.endswith("/gap")}
    )
    for bound_id in bound_ids:
        lines = [_Line(f"bound/{bound_id}/gap", "certified quantity", True)]
        if has(f"bound/{bound_id}/value"):
            lines.append(_Line(f"bound/{bound_id}/value", "proven bound", False))
        figures.append(
            _plot(
                group,
                lines,
                f"Error against the bound {bound_id}",
                f"bound/{bound_id}/gap and bound [return units]",
                f"Error certified by {bound_id} against the proven bound, log-log axes.",
                log_y=True,
            )
        )
    if has("track/error"):
        lines = [_Line("track/error", "‖ω − λ(θ)‖", True)]
        derived: dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        if has("track/envelope"):
            lines.append(_Line("track/envelope", "envelope (track/envelope)", False))
        elif has("schedule/critic_lr"):
            ns, matrix = group.matrix("schedule/critic_lr")
            derived["sqrt_a"] = (ns, np.sqrt(matrix))
            lines.append(_Line("sqrt_a", "sqrt(a(n))", False))
        figures.append(
            _plot(
                group,
                lines,
                "Two-timescale tracking error",
                "‖ω − λ(θ)‖ [return units]",
                "Tracking error of the fast iterate against its envelope, log-log axes.",
                log_y=True,
                derived=derived,
            )
        )
    if has("schedule/ratio"):
        figures.append(
            _plot(
                group,
                [_Line("schedule/ratio", "b(n)/a(n)", True)],
                "Timescale ratio",
                "b(n)/a(n) [ratio, dimensionless]",
                "Actor over critic step size; condition S4 needs it to go to 0.",
                log_y=True,
            )
        )
    return figures


# ------------------------------------------------------------------------------------------------
# Final values
# ------------------------------------------------------------------------------------------------

_FINAL_METRICS = (
    ("exact/gap", "V*(ρ) − J(π_n)", "return units"),
    ("return/batch_mean", "batch mean return", "return units"),
    ("eval/return", "final policy's mean return over evaluation episodes", "return units"),
    ("track/error", "tracking error", "return units"),
    ("schedule/ratio", "b(n)/a(n)", "ratio"),
)


def _final_rows(group: _Group) -> list[tuple[str, str, int, float, float, float]]:
    """``(metric, unit, n, IQM, low, high)`` at the last update every seed logged."""
    rows: list[tuple[str, str, int, float, float, float]] = []
    metrics = [(m, label, unit) for m, label, unit in _FINAL_METRICS]
    metrics += [
        (m, m, "ratio")
        for m in sorted(group.curves)
        if m.startswith("bound/") and m.endswith("/ratio")
    ]
    for metric, _label, unit in metrics:
        if metric not in group.curves:
            continue
        ns, matrix = group.matrix(metric)
        complete = np.flatnonzero(np.isfinite(matrix).all(axis=0))
        if complete.size == 0:
            continue
        j = int(complete[-1])
        point, low, high = _iqm_band(matrix[:, [j]])
        rows.append((metric, unit, int(ns[j]), float(point[0]), float(low[0]), float(high[0])))
    return rows


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #444; }
img { max-width: 100%; }
.holds { color: #176117; } .violated { color: #a01010; font-weight: bold; }
.undecided { color: #8a6a00; } code { font-size: 0.95em; }
"""


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _config_lines(group: _Group) -> list[tuple[str, str]]:
    config = group.config
    learner = config.get("learner", {}) if isinstance(config.get("learner"), dict) else {}
    env = config.get("env", {}) if isinstance(config.get("env"), dict) else {}
    budget = config.get("budget", {}) if isinstance(config.get("budget"), dict) else {}
    lines = [
        ("environment", str(env.get("id", "?"))),
        ("learner", f"{learner.get('kind', '?')} ({learner.get('mode', '?')})"),
        ("critic step a(n)", str(learner.get("critic_lr"))),
        ("actor step b(n)", str(learner.get("actor_lr"))),
        ("updates", str(budget.get("n_updates", "?"))),
        ("seeds", ", ".join(map(str, group.seeds()))),
    ]
    return lines


_COVERAGE_LEGEND = (
    "met: every hypothesis proven (exactly or symbolically); supported: proven where provable, "
    "the rest only supported by evidence from the run (undecided, leaning holds); open: some "
    "hypothesis undecided without such evidence; violated: one proven violated. The "
    "Holzleitner et al. statement is a reconstruction (THEORY.md §4.3)."
)


def _coverage_rows(group: _Group) -> list[tuple[str, str]]:
    """``[(theorem, "met ×3; supported ×2")]`` over the group's runs that recorded coverage."""
    counts: dict[str, dict[str, int]] = {}
    for record in group.records:
        coverage = record.verdicts.get("coverage")
        if not isinstance(coverage, dict):
            continue
        for theorem, level in coverage.items():
            seen = counts.setdefault(str(theorem), {})
            seen[str(level)] = seen.get(str(level), 0) + 1
    order = ("met", "supported", "open", "violated")
    return [
        (theorem, "; ".join(f"{level} ×{seen[level]}" for level in order if level in seen))
        for theorem, seen in counts.items()
    ]


def _md_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _status_html(counts: str) -> str:
    parts = []
    for part in counts.split("; "):
        status = part.split(" ")[0]
        parts.append(f'<span class="{html.escape(status)}">{html.escape(part)}</span>')
    return ", ".join(parts)


@dataclass
class _FigureIndex:
    """Figure numbers and the markdown index of every embedded figure."""

    number: int = 0
    entries: list[str] = field(default_factory=list)

    def embed(self, title: str, caption: str, axes: str, png: bytes, where: str) -> str:
        """The ``<figure>`` of a PNG, numbered, and its index entry."""
        self.number += 1
        data = base64.b64encode(png).decode("ascii")
        alt = html.escape(f"Figure {self.number}: {title}")
        self.entries.append(f"{self.number}. {where}: {title} ({axes}). {caption}")
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>Figure {self.number}: {html.escape(title)}. "
            f"{html.escape(caption)}</figcaption></figure>"
        )


def _group_section(
    group: _Group, heading: str, level: int, index: _FigureIndex
) -> tuple[list[str], list[str]]:
    """The HTML and markdown of one group (experiment × sweep point) under a heading of
    ``level``: settings, figures, final values, theorem hypotheses, verdicts."""
    sub, hashes = level + 1, "#" * (level + 1)
    body: list[str] = []
    md: list[str] = []
    body.append(f"<h{level}>{html.escape(heading)}</h{level}>")
    md += [f"{'#' * level} {heading}", ""]
    body.append("<table>")
    md += ["| setting | value |", "|---|---|"]
    for key, value in _config_lines(group):
        body.append(
            f"<tr><th>{html.escape(key)}</th><td><code>{html.escape(value)}</code></td></tr>"
        )
        md.append(f"| {_md_cell(key)} | `{_md_cell(value)}` |")
    body.append("</table>")
    md.append("")

    for figure in _figures(group):
        body.append(index.embed(figure.title, figure.caption, figure.axes, figure.png, group.label))

    finals = _final_rows(group)
    if finals:
        body.append(f"<h{sub}>Final values</h{sub}><table>")
        body.append("<tr><th>metric</th><th>unit</th><th>n</th><th>IQM</th><th>95% CI</th></tr>")
        md += [
            f"{hashes} Final values",
            "",
            "| metric | unit | n | IQM | 95% CI |",
            "|---|---|---|---|---|",
        ]
        for metric, unit, n, point, low, high in finals:
            ci = f"[{_fmt(low)}, {_fmt(high)}]"
            body.append(
                f"<tr><td><code>{html.escape(metric)}</code></td><td>{html.escape(unit)}</td>"
                f"<td>{n}</td><td>{_fmt(point)}</td><td>{ci}</td></tr>"
            )
            md.append(f"| `{metric}` | {unit} | {n} | {_fmt(point)} | {ci} |")
        body.append("</table>")
        md.append("")

    coverage = _coverage_rows(group)
    if coverage:
        body.append(f"<h{sub}>Theorem hypotheses</h{sub}><table>")
        body.append("<tr><th>theorem</th><th>hypotheses across seeds</th></tr>")
        md += [f"{hashes} Theorem hypotheses", "", "| theorem | hypotheses across seeds |"]
        md.append("|---|---|")
        for theorem, counts in coverage:
            body.append(f"<tr><td>{html.escape(theorem)}</td><td>{html.escape(counts)}</td></tr>")
            md.append(f"| {_md_cell(theorem)} | {_md_cell(counts)} |")
        body.append(f"</table><p>{html.escape(_COVERAGE_LEGEND)}</p>")
        md += ["", _COVERAGE_LEGEND, ""]

    verdicts = _verdict_rows(group)
    body.append(f"<h{sub}>Assumption verdicts</h{sub}>")
    md += [f"{hashes} Assumption verdicts", ""]
    if not verdicts:
        body.append("<p>No verdicts were recorded (checks off).</p>")
        md += ["No verdicts were recorded (checks off).", ""]
        return body, md
    body.append(
        "<table><tr><th>id</th><th>hypothesis</th><th>status across seeds</th>"
        "<th>method</th><th>example evidence</th></tr>"
    )
    md += [
        "| id | hypothesis | status across seeds | method | example evidence |",
        "|---|---|---|---|---|",
    ]
    for row in verdicts:
        methods = ", ".join(row.methods)
        body.append(
            f"<tr><td>{html.escape(row.id)}</td><td>{html.escape(row.name)}</td>"
            f"<td>{_status_html(row.counts())}</td><td>{html.escape(methods)}</td>"
            f"<td>{html.escape(row.example())}</td></tr>"
        )
        md.append(
            f"| {_md_cell(row.id)} | {_md_cell(row.name)} | {_md_cell(row.counts())} | "
            f"{_md_cell(methods)} | {_md_cell(row.example())} |"
        )
    body.append("</table>")
    md.append("")

    return body, md


def write_report(
    results_dir: str | Path,
    out: str | Path | None = None,
    on_rejected: Callable[[Path, str], None] | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``summary.md`` for the runs under ``results_dir``.

    ``out`` is the folder to write to (default: ``results_dir``). Returns ``(html, md)``. Every
    file of every run folder is checked first (:func:`acconv.results.scan_results`); a run
    folder that fails is left out, named with the reason in both reports and passed to
    ``on_rejected(folder, reason)`` (default: a logged warning). Raises :class:`ReportError` if
    the folder is missing or holds no complete run.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ReportError(f"{results_dir} is not a folder; expected a results folder of acconv run")
    scan = scan_results(results_dir)
    records = scan.records
    for folder, reason in scan.rejected:
        if on_rejected is not None:
            on_rejected(folder, reason)
        else:
            logger.warning("left out %s: %s", folder, reason)
    if not records:
        left_out = f"; {len(scan.rejected)} run folder(s) left out" if scan.rejected else ""
        raise ReportError(
            f"{results_dir} holds no complete run (no folder with valid files{left_out})"
        )
    out_dir = results_dir if out is None else Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    groups = sorted(_group_runs(records), key=lambda g: sweep_order(g.name, g.point))

    title = f"acconv report: {results_dir.name}"
    body: list[str] = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(records)} complete run(s) in {len(groups)} group(s) (experiment × sweep "
        "point). Curves: interquartile mean (IQM) across seeds at each logged update with a 95% "
        "stratified-bootstrap percentile confidence interval (rliable's definitions; "
        f"{_N_BOOT} resamples, generator seed 0). Log-scale axes omit n = 0.</p>",
    ]
    md: list[str] = [
        f"# {title}",
        "",
        f"{len(records)} complete run(s) in {len(groups)} group(s). Curves: IQM across seeds "
        f"with a 95% stratified-bootstrap CI ({_N_BOOT} resamples, seed 0). Figures are "
        "embedded in `report.html`.",
        "",
    ]
    index = _FigureIndex()
    claims = read_claims(results_dir)
    placed: set[int] = set()
    if claims is not None:  # written by acconv reproduce: claims first, then one section each
        head_html, head_md = claims_table(claims)
        body[1:1] = head_html
        md[2:2] = head_md
        for c, row in enumerate(claims["claims"], start=1):
            intro_html, intro_md, members = claim_section(row, groups, c, index.embed)
            body += intro_html
            md += intro_md
            for k, group in enumerate(members, start=1):
                placed.add(id(group))
                part_html, part_md = _group_section(group, f"{c}.{k} {group.label}", 3, index)
                body += part_html
                md += part_md
    for g, group in enumerate(g for g in groups if id(g) not in placed):
        part_html, part_md = _group_section(group, f"{g + 1}. {group.label}", 2, index)
        body += part_html
        md += part_md
    figure_index = index.entries
    if scan.rejected:
        intro = (
            f"{len(scan.rejected)} run folder(s) left out: their files are missing, damaged or "
            "not in acconv's format."
        )
        body.append(f"<h2>Runs left out</h2><p>{html.escape(intro)}</p><ul>")
        md += ["## Runs left out", "", intro, ""]
        for folder, reason in scan.rejected:
            where = str(folder.relative_to(results_dir))
            body.append(f"<li><code>{html.escape(where)}</code>: {html.escape(reason)}</li>")
            md.append(f"- `{where}`: {reason}")
        body.append("</ul>")
        md.append("")
    md += ["## Figures", ""]
    md += figure_index if figure_index else ["(none)"]
    md.append("")
    document = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    html_path = out_dir / "report.html"
    md_path = out_dir / "summary.md"
    html_path.write_text(document, encoding="utf-8")
    md_path.write_text("\n".join(md), encoding="utf-8")
    return html_path, md_path
