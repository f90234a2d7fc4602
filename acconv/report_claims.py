"""The claims layout of a report: the claims table first, then one section per claim.

Used by :func:`acconv.report.write_report` when the results folder holds a ``claims.json``
(written by ``acconv reproduce``, :mod:`acconv.claims`): a reader of the first screen sees which
claims were reproduced; each claim's section then shows its checks, the published numbers beside
ours, its figure (:mod:`acconv.claim_figures`), and its specs' runs in sweep order.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from acconv.claim_figures import claim_figure

__all__ = ["claim_section", "claims_table", "sweep_order"]

_STATUS_CLASS = {"reproduced": "holds", "partly": "undecided", "not reproduced": "violated"}


def _sort_value(value: Any) -> tuple[int, float, str]:
    """Numbers (and numeric text) before text, numbers by value: 10 < 20 < 100."""
    if isinstance(value, bool):
        return (1, 0.0, str(value))
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def sweep_order(name: str, point: Mapping[str, Any]) -> tuple[Any, ...]:
    """The sort key of a group: its experiment, its learner (``[learners]``), then its other sweep
    values in key order, each by value (numbers numerically, not as text)."""
    keys = sorted(point, key=lambda key: (key != "learner", key))
    return (name, tuple((key, _sort_value(point[key])) for key in keys))


def _md(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _status(status: str) -> str:
    return f'<span class="{_STATUS_CLASS.get(status, "")}">{html.escape(status)}</span>'


def _failed_text(row: Mapping[str, Any]) -> str:
    failed = row.get("failed") or []
    return "; ".join(f"{f['check']}: expected {f['expected']}, got {f['seen']}" for f in failed)


def claims_table(record: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The opening table: one row per claim with its status and the checks that failed."""
    rows = record.get("claims", [])
    done = sum(row.get("status") == "reproduced" for row in rows)
    mode = html.escape(str(record.get("mode", "?")))
    summary = f"{done} of {len(rows)} claims reproduced ({mode} mode)."
    body = [
        f'<p class="summary"><strong>{html.escape(summary)}</strong></p>',
        '<table class="claims"><tr><th>#</th><th>claim</th><th>source</th><th>mode</th>'
        "<th>seeds</th><th>status</th><th>failed checks</th></tr>",
    ]
    md = [f"**{summary}**", ""]
    md += ["| # | claim | source | mode | seeds | status | failed checks |"]
    md += ["|---|---|---|---|---|---|---|"]
    for c, row in enumerate(rows, start=1):
        failed = _failed_text(row)
        body.append(
            f'<tr><td><a href="#claim-{c}">{c}</a></td><td>{html.escape(str(row["title"]))}</td>'
            f"<td>{html.escape(str(row.get('source', '')))}</td><td>{html.escape(row['mode'])}"
            f"</td><td>{row.get('seeds', '')}</td><td>{_status(str(row['status']))}</td>"
            f"<td>{html.escape(failed) or '—'}</td></tr>"
        )
        md.append(
            f"| {c} | {_md(row['title'])} | {_md(row.get('source', ''))} | {row['mode']} | "
            f"{row.get('seeds', '')} | {row['status']} | {_md(failed) or '—'} |"
        )
    body.append("</table>")
    body.append(f"<p><small>{html.escape(str(record.get('rule', '')))}</small></p>")
    md += ["", str(record.get("rule", "")), ""]
    skipped = record.get("skipped") or []
    if skipped:
        text = "Not run (missing extras): " + ", ".join(
            f"{s['spec']} ({s['claim']}; needs {', '.join(s['needs'])})" for s in skipped
        )
        body.append(f"<p>{html.escape(text)}</p>")
        md += [text, ""]
    return body, md


def _checks_table(row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    body = [
        "<table><tr><th>check</th><th>spec</th><th>expected</th><th>seen</th><th>result</th></tr>"
    ]
    md = ["| check | spec | expected | seen | result |", "|---|---|---|---|---|"]
    for check in row.get("checks", []):
        result = "pass" if check["passed"] else "FAIL"
        css = "holds" if check["passed"] else "violated"
        if not check.get("counted", True):
            result, css = "measured (not counted)", ""
        body.append(
            f"<tr><td>{html.escape(check['check'])}</td><td>{html.escape(check['spec'])}</td>"
            f"<td>{html.escape(check['expected'])}</td><td>{html.escape(check['seen'])}</td>"
            f'<td class="{css}">{result}</td></tr>'
        )
        md.append(
            f"| {_md(check['check'])} | {_md(check['spec'])} | {_md(check['expected'])} | "
            f"{_md(check['seen'])} | {result} |"
        )
    body.append("</table>")
    md.append("")
    return body, md


def _published_table(row: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    published = row.get("published") or []
    if not published:
        return [], []
    body = [
        "<h3>Published numbers beside ours</h3><table><tr><th>quantity</th><th>published</th>"
        "<th>source</th><th>ours</th></tr>"
    ]
    md = ["### Published numbers beside ours", "", "| quantity | published | source | ours |"]
    md.append("|---|---|---|---|")
    for item in published:
        ours = str(item.get("ours_seen") or "not measured by this suite")
        cells = [str(item.get(k, "")) for k in ("quantity", "value", "source")] + [ours]
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        md.append("| " + " | ".join(_md(c) for c in cells) + " |")
        if item.get("note"):
            md.append(f"| | {_md(item['note'])} | | |")
    body.append("</table>")
    md.append("")
    return body, md


def claim_section(
    row: Mapping[str, Any],
    groups: Sequence[Any],
    number: int,
    embed: Callable[[str, str, str, bytes, str], str],
) -> tuple[list[str], list[str], list[Any]]:
    """A claim's heading, status, checks, published numbers and figure, and its specs' groups
    (in the claim's spec order, each spec's groups in sweep order) for the report to render."""
    specs = [str(name) for name in row.get("specs", [])]
    members = sorted(
        (g for g in groups if g.name in specs),
        key=lambda g: (specs.index(g.name), sweep_order(g.name, g.point)),
    )
    heading = f"{number}. {row['title']}"
    body = [
        f'<h2 id="claim-{number}">{html.escape(heading)} — {_status(str(row["status"]))}</h2>',
        f"<p>Source: {html.escape(str(row.get('source', '')))}. Claim <code>"
        f"{html.escape(str(row['id']))}</code> (README: <code>acconv/experiments/"
        f"{html.escape(str(row['id']))}.md</code>); specs: {html.escape(', '.join(specs))}; "
        f"{html.escape(str(row['mode']))} mode, {row.get('seeds', '?')} seed(s).</p>",
    ]
    md = [
        f"## {heading} — {row['status']}",
        "",
        f"Source: {row.get('source', '')}. Claim `{row['id']}`; specs: {', '.join(specs)}; "
        f"{row['mode']} mode, {row.get('seeds', '?')} seed(s).",
        "",
    ]
    part_html, part_md = _checks_table(row)
    body += part_html
    md += part_md
    part_html, part_md = _published_table(row)
    body += part_html
    md += part_md
    by_spec: dict[str, list[Any]] = {}
    for group in groups:
        by_spec.setdefault(group.name, []).append(group)
    figure = claim_figure(row.get("figure") or {}, by_spec)
    if figure is not None:
        body.append(embed(figure.title, figure.caption, figure.axes, figure.png, str(row["id"])))
        md += [f"Figure: {figure.title} ({figure.axes}), embedded in `report.html`.", ""]
    return body, md, members
