"""One figure per claim, drawn the way its source draws it (the ``figure`` of ``[claims.<id>]``).

Kinds:

``solve_vs_sweep``
    episodes to solve against a swept value (the reward delay), one colour per learner: the
    median (solid, markers, 95% bootstrap interval as error bars) and the IQM (dashed, band);
    unsolved runs are censored at the budget and drawn as ``x`` on the dotted budget line, with
    a median that is itself unsolved drawn as an open triangle there (RUDDER's Fig. of
    Arjona-Medina et al. 2019 plots episodes against the delay);
``curves``
    one metric against the update ``n`` on log-log axes, one line per spec (IQM across seeds,
    95% band); ``reference = "sqrt_a"`` adds ``sqrt(a(n))`` of the first spec, the envelope the
    two-timescale theory predicts for the tracking error (THEORY.md §8);
``bounds``
    each spec's certified gap (solid, band) against its proven bound (dashed), log-log;
``gap_and_norm``
    ``J* − J(π_n)`` (left axis, log) with ``‖θ_n‖`` (right axis) of one spec.

Figures are PNG bytes from matplotlib's Agg canvas (no pyplot), embedded by the report.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from acconv.claims import solve_table
from acconv.stats import iqm_band

__all__ = ["ClaimFigure", "claim_figure"]

_X_LABEL = "update n (log scale) [updates]"
_COLOURS = ("C0", "C3", "C2", "C1", "C4", "C5")


@dataclass(frozen=True)
class ClaimFigure:
    """A drawn figure: title, caption (what is drawn and how), axes text, PNG bytes."""

    title: str
    caption: str
    axes: str
    png: bytes


def _canvas(twin: bool = False) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.8, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(1, 1, 1)


def _png(figure: Any) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _band(ax: Any, group: Any, metric: str, colour: str, label: str, dashed: bool) -> bool:
    """Draw the IQM (and, unless dashed, its 95% band) of ``metric`` for ``n ≥ 1``."""
    ns, matrix = group.matrix(metric)
    keep = ns >= 1
    ns, matrix = ns[keep], matrix[:, keep]
    if ns.size == 0 or not np.isfinite(matrix).any():
        return False
    point, low, high = iqm_band(matrix)
    if dashed:
        ax.plot(ns, point, color=colour, linestyle="--", linewidth=1.4, label=label)
    else:
        ax.fill_between(ns, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(ns, point, color=colour, linewidth=1.8, label=label)
    return True


def _label(base: str, group: Any, several: bool) -> str:
    if not several or not group.point:
        return base
    return (
        base + " (" + ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in group.point.items()) + ")"
    )


def _finish(ax: Any, title: str, y_label: str, log_y: bool) -> None:
    ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(_X_LABEL)
    ax.set_ylabel(y_label + (" (log scale)" if log_y else ""))
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)


def _curves(spec: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]) -> ClaimFigure | None:
    metric = str(spec.get("metric", "exact/gap"))
    names = [str(n) for n in spec.get("specs", [])]
    labels = [str(x) for x in spec.get("labels", names)]
    log_y = bool(spec.get("log_y", True))
    figure, ax = _canvas()
    drawn = 0
    for k, (name, label) in enumerate(zip(names, labels, strict=False)):
        for group in groups.get(name, []):
            colour = _COLOURS[drawn % len(_COLOURS)]
            several = len(groups.get(name, [])) > 1
            drawn += _band(ax, group, metric, colour, _label(label, group, several), False)
            if k == 0 and spec.get("reference") == "sqrt_a" and metric in group.curves:
                ns, a = group.matrix("schedule/critic_lr")
                if ns.size and np.isfinite(a).any():
                    keep = ns >= 1
                    root = np.sqrt(np.nanmedian(a[:, keep], axis=0))
                    ax.plot(ns[keep], root, "k:", linewidth=1.4, label=f"sqrt(a(n)) ({label})")
    if not drawn:
        return None
    title = str(spec.get("title", metric))
    _finish(ax, title, metric, log_y)
    caption = (
        f"{metric} against the update n, one line per spec: IQM across seeds with a 95% "
        "stratified-bootstrap band."
        + (" Dotted: sqrt(a(n)), the predicted envelope." if spec.get("reference") else "")
    )
    return ClaimFigure(title, caption, f"x: {_X_LABEL}; y: {metric}", _png(figure))


def _bounds(spec: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]) -> ClaimFigure | None:
    names = [str(n) for n in spec.get("specs", [])]
    labels = [str(x) for x in spec.get("labels", names)]
    figure, ax = _canvas()
    drawn = 0
    for k, (name, label) in enumerate(zip(names, labels, strict=False)):
        colour = _COLOURS[k % len(_COLOURS)]
        for group in groups.get(name, []):
            gaps = sorted(m for m in group.curves if m.startswith("bound/") and m.endswith("/gap"))
            for gap in gaps:
                bound_id = gap.split("/")[1]
                drawn += _band(ax, group, gap, colour, f"{label}: gap ({bound_id})", False)
                _band(ax, group, f"bound/{bound_id}/value", colour, f"{label}: bound", True)
    if not drawn:
        return None
    title = str(spec.get("title", "Gap against the proven bounds"))
    _finish(ax, title, "gap and bound [return units]", True)
    caption = (
        "Each method's certified gap (solid) under its proven bound (dashed, same colour), "
        "log-log axes; IQM across seeds (exact methods: one deterministic run)."
    )
    return ClaimFigure(title, caption, f"x: {_X_LABEL}; y: gap [return units]", _png(figure))


def _gap_and_norm(
    spec: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]
) -> ClaimFigure | None:
    found = groups.get(str(spec.get("spec")), [])
    if not found:
        return None
    group = found[0]
    figure, ax = _canvas()
    if not _band(ax, group, "exact/gap", "C0", "J* − J(π_n) (left)", False):
        return None
    title = str(spec.get("title", "J* − J and ‖θ_n‖"))
    _finish(ax, title, "J* − J(π_n) [return units]", True)
    right = ax.twinx()
    if _band(right, group, "iterate/theta_norm", "C3", "‖θ_n‖ (right)", False):
        right.set_ylabel("‖θ_n‖ (centred) [parameter units]")
        lines = ax.get_legend_handles_labels()
        more = right.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="center left")
    caption = (
        "The exact gap falls towards 0 (J → J*) while the norm of the centred actor "
        "parameters keeps growing: the bounded-iterates hypothesis A8 fails in the greedy limit."
    )
    axes = f"x: {_X_LABEL}; y (left): J* − J [return units]; y (right): ‖θ_n‖"
    return ClaimFigure(title, caption, axes, _png(figure))


def _solve_vs_sweep(
    spec: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]
) -> ClaimFigure | None:
    over = str(spec.get("over", ""))
    records = [r for group in groups.get(str(spec.get("spec")), []) for r in group.records]
    table = solve_table(records, over)
    if not table:
        return None
    figure, ax = _canvas()
    budget = max(s.budget for by_x in table.values() for s in by_x.values())
    for k, (label, by_x) in enumerate(table.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        xs = np.array(list(by_x))
        median = np.array([s.median for s in by_x.values()])
        m_low = np.array([s.median_ci[0] for s in by_x.values()])
        m_high = np.array([s.median_ci[1] for s in by_x.values()])
        shown = np.minimum(median, budget)
        err = np.vstack([np.clip(shown - m_low, 0, None), np.clip(m_high - shown, 0, None)])
        ax.errorbar(
            xs,
            shown,
            yerr=err,
            color=colour,
            marker="o",
            linewidth=1.8,
            capsize=3,
            label=f"{label or 'runs'}: median, 95% CI",
        )
        unsolved_median = np.isinf(median)
        if unsolved_median.any():
            ax.plot(
                xs[unsolved_median],
                shown[unsolved_median],
                "^",
                color=colour,
                markerfacecolor="white",
                markersize=10,
            )
        point = np.array([s.iqm for s in by_x.values()])
        low = np.array([s.iqm_ci[0] for s in by_x.values()])
        high = np.array([s.iqm_ci[1] for s in by_x.values()])
        ax.fill_between(xs, low, high, color=colour, alpha=0.12, linewidth=0)
        ax.plot(xs, point, color=colour, linestyle="--", linewidth=1.2, label=f"{label}: IQM")
        censored = [(x, s.n_unsolved) for x, s in by_x.items() if s.n_unsolved]
        for x, count in censored:
            ax.plot([x], [budget], "x", color=colour, markersize=8)
            ax.annotate(
                f"{count} unsolved",
                (x, budget),
                textcoords="offset points",
                xytext=(4, -10 - 9 * k),
                fontsize=7,
                color=colour,
            )
    ax.axhline(budget, color="grey", linestyle=":", linewidth=1, label="budget (censoring)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sorted({x for by_x in table.values() for x in by_x}))
    ax.get_xaxis().set_major_formatter("{x:g}")
    title = str(spec.get("title", "Episodes to solve"))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{over} (log scale)")
    ax.set_ylabel("episodes to solve (log scale) [episodes]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    caption = (
        "Episodes until J(π_n) reaches the threshold and stays there, per learner: median "
        "(solid, 95% bootstrap CI) and IQM (dashed, band) across seeds. Unsolved runs are "
        "censored at the budget (x on the dotted line), not dropped: the IQM and the intervals "
        "then count them at the budget (lower bounds); an open triangle marks an unsolved median."
    )
    axes = f"x: {over} (log scale); y: episodes to solve (log scale) [episodes]"
    return ClaimFigure(title, caption, axes, _png(figure))


_KINDS = {
    "curves": _curves,
    "bounds": _bounds,
    "gap_and_norm": _gap_and_norm,
    "solve_vs_sweep": _solve_vs_sweep,
}


def claim_figure(
    spec: Mapping[str, Any], groups: Mapping[str, Sequence[Any]]
) -> ClaimFigure | None:
    """The claim's figure from the report's run groups by spec name (``None``: nothing to draw,
    e.g. its specs were skipped). ``spec`` is the claim's ``figure`` table."""
    draw = _KINDS.get(str(spec.get("kind", "")))
    return None if draw is None else draw(spec, groups)
