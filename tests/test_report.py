"""``acconv report``: IQM and bootstrap CIs (rliable's definitions), and the report files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from acconv.cli import main
from acconv.report import _iqm_band, iqm, stratified_bootstrap_ci, write_report
from acconv.runner import run_spec
from acconv.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "example_actor_critic.toml"


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    # trim_mean(x, 0.25) cuts int(0.25 * len(x)) values from each end of the sorted sample.
    # [1, 2, 3, 4]: cut 1 from each end -> mean(2, 3) = 2.5.
    assert iqm([1, 2, 3, 4]) == pytest.approx(2.5)
    # [4, 1, 3, 2] is the same sample unsorted.
    assert iqm([4, 1, 3, 2]) == pytest.approx(2.5)
    # 8 values sorted: [-100, 1, 2, 3, 4, 5, 6, 1000]; cut 2 from each end (-100, 1 and 6, 1000)
    # -> mean(2, 3, 4, 5) = 3.5: the outliers do not move it.
    assert iqm([1000, 1, -100, 3, 4, 5, 6, 2]) == pytest.approx(3.5)
    # 3 values: int(0.75) = 0 cut, so the plain mean (1 + 2 + 6) / 3 = 3.
    assert iqm([1, 2, 6]) == pytest.approx(3.0)
    # 5 values: int(1.25) = 1 cut from each end -> mean(2, 3, 4) = 3.
    assert iqm([5, 4, 3, 2, 1]) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="empty"):
        iqm([])


def test_bootstrap_ci_contains_the_estimate_and_shrinks_with_more_seeds() -> None:
    data = np.random.default_rng(7).normal(loc=1.0, scale=1.0, size=200)
    few, many = data[:8], data
    low_few, high_few = stratified_bootstrap_ci([few], iqm, rng=np.random.default_rng(0))
    low_many, high_many = stratified_bootstrap_ci([many], iqm, rng=np.random.default_rng(0))
    assert low_few <= iqm(few) <= high_few
    assert low_many <= iqm(many) <= high_many
    assert high_many - low_many < 0.5 * (high_few - low_few)


def test_bootstrap_ci_is_deterministic_and_stratified() -> None:
    groups = [np.arange(10.0), 100 + np.arange(6.0)]
    first = stratified_bootstrap_ci(groups, np.mean, rng=np.random.default_rng(0))
    second = stratified_bootstrap_ci(groups, np.mean, rng=np.random.default_rng(0))
    assert first == second
    assert first == stratified_bootstrap_ci(groups, np.mean)  # default: default_rng(0)
    # Stratified: every replicate keeps 10 values from group 0 and 6 from group 1, so the mean
    # stays within the group means' ranges: (10 * 0 + 6 * 100) / 16 <= mean <= (10*9 + 6*105)/16.
    low, high = first
    assert 600 / 16 <= low <= high <= (90 + 630) / 16
    # A constant sample has a zero-width interval.
    assert stratified_bootstrap_ci([np.full(5, 3.0)], iqm) == (3.0, 3.0)
    with pytest.raises(ValueError, match="confidence"):
        stratified_bootstrap_ci(groups, np.mean, confidence=1.5)


def test_vectorised_band_matches_the_public_bootstrap() -> None:
    matrix = np.random.default_rng(3).normal(size=(5, 4))
    matrix[1, 3] = np.nan  # one seed did not log the last column: the fallback path
    point, low, high = _iqm_band(matrix, n_boot=300)
    for j in range(4):
        values = matrix[np.isfinite(matrix[:, j]), j]
        expected = stratified_bootstrap_ci([values], iqm, 300, rng=np.random.default_rng(0))
        assert point[j] == pytest.approx(iqm(values))
        assert (low[j], high[j]) == pytest.approx(expected)


def test_report_of_the_example_experiment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = load_spec(EXAMPLE, ["budget.n_updates=30"])
    summary = run_spec(spec, tmp_path / "runs", workers=1, progress=False)
    assert len(summary.done) == 4 and not summary.failed
    html_path, md_path = write_report(tmp_path / "runs")
    assert html_path == tmp_path / "runs" / "report.html"
    assert md_path == tmp_path / "runs" / "summary.md"
    html = html_path.read_text(encoding="utf-8")
    md = md_path.read_text(encoding="utf-8")
    # Self-contained: plots embedded as PNG, nothing loaded from elsewhere, no JavaScript.
    assert html.count('<img src="data:image/png;base64,') == 4  # gap + ratio per sweep point
    assert "http://" not in html and "https://" not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    # Both sweep points, with the verdict table S1..S5 (and S6, S7) in HTML and Markdown.
    assert html.count("<h2>") == 2
    for verdict_id in ("S1", "S2", "S3", "S4", "S5"):
        assert f"<tr><td>{verdict_id}</td>" in html
        assert re.search(rf"^\| {verdict_id} \|.*holds ×2", md, re.MULTILINE)
    assert "V*(ρ) − J(π_n)" in md and "## Figures" in md
    assert "Timescale ratio" in md
    # Deterministic: the same results give the same files.
    again_html, again_md = write_report(tmp_path / "runs", tmp_path / "again")
    assert again_html.read_text(encoding="utf-8") == html
    assert again_md.read_text(encoding="utf-8") == md
    # The CLI prints the two paths.
    capsys.readouterr()
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "cli")]) == 0
    out, _ = capsys.readouterr()
    expected = [str(tmp_path / "cli" / "report.html"), str(tmp_path / "cli" / "summary.md")]
    assert out.splitlines() == expected


def test_cli_report_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("acconv: error: ")
    assert "no complete run" in err
    assert main(["report", str(tmp_path / "missing")]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "not a folder" in err


def test_step_sizes_a_learner_could_not_state_show_as_undecided(tmp_path: Path) -> None:
    # A watched loop whose declared law did not hold has no schedules to decide: the run folder
    # says why under step_sizes["undecided"], and the report shows an undecided row with it.
    from acconv.report import write_report
    from acconv.results import write_run

    why = "critic: declared 1/(n+1) but the loop applied 0.2 at step 1"
    write_run(
        tmp_path / "runs" / "loop" / "watch" / "seed-0",
        run_id="loop/watch/seed-0",
        seed=0,
        rows=[(0, "schedule/critic_lr", 0.2), (1, "schedule/critic_lr", 0.2)],
        verdicts={"run_id": "loop/watch/seed-0", "step_sizes": {"undecided": why}},
        manifest={"config": {"name": "loop"}},
    )
    html, _ = write_report(tmp_path / "runs")
    text = html.read_text(encoding="utf-8")
    assert "S1–S7" in text and "declared 1/(n+1) but the loop applied 0.2" in text


def test_a_plain_run_folder_keeps_the_per_spec_layout_in_numeric_sweep_order(
    tmp_path: Path,
) -> None:
    from acconv.results import write_run

    for delay in (100, 20, 50):
        run_id = f"demo/delay={delay}/seed-0"
        write_run(
            tmp_path / "demo" / f"delay={delay}" / "seed-0",
            run_id=run_id,
            seed=0,
            rows=[(n, "exact/gap", 1.0 / (n + 1)) for n in (0, 1, 10)],
            verdicts={"run_id": run_id, "observers": []},
            manifest={"config": {"name": "demo", "sweep_point": {"env.kwargs.delay": delay}}},
        )
    _, md = write_report(tmp_path)
    text = Path(md).read_text(encoding="utf-8")
    assert "| # | claim |" not in text  # no claims.json: no claims table
    positions = [
        text.index(f"## {k}. demo: env.kwargs.delay = {d}")
        for k, d in enumerate((20, 50, 100), start=1)
    ]
    assert positions == sorted(positions)
