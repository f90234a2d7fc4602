"""What a person sees: the docs site and a report rendered in a real headless browser (Chromium).

Skipped, with the reason, when Chromium is not installed (`apt-get install chromium`; CI installs
it). The machine has no route to a CDN, so a page that renders its maths here renders offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)"
)


def render(page: Path) -> tuple[str, list[str]]:
    """The DOM of ``page`` after its scripts ran, and the console messages it logged."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


@needs_chromium
@pytest.mark.slow
def test_docs_render_their_maths_offline(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    subprocess.run(
        ["mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    dom, console = render(site / "theory" / "index.html")
    assert console == []
    # Every display and inline formula became a MathJax container: the page shows maths, not TeX.
    # The theory index had 59 formulas typeset on 2026-12-02 (all of them); 20 is a floor that
    # survives edits of the page, while a MathJax that failed to load typesets 0.
    typeset = dom.count("<mjx-container")
    assert typeset >= 20, f"only {typeset} formulas typeset"
    assert "cdn.jsdelivr" not in (site / "theory" / "index.html").read_text(encoding="utf-8")


@needs_chromium
def test_a_report_renders_without_console_errors(tmp_path: Path) -> None:
    from acconv.report import write_report
    from acconv.results import write_run

    for seed in (0, 1):
        write_run(
            tmp_path / "runs" / "demo" / "ac" / f"seed-{seed}",
            run_id=f"demo/ac/seed-{seed}",
            seed=seed,
            rows=[(n, "exact/gap", 1.0 / (n + 1)) for n in (0, 1, 10, 100)],
            verdicts={"run_id": f"demo/ac/seed-{seed}", "observers": []},
            manifest={"config": {"name": "demo"}},
        )
    html, _ = write_report(tmp_path / "runs")
    dom, console = render(html)
    assert console == []
    assert "demo" in dom and "<img" in dom  # the figure is embedded, so it opens offline


@needs_chromium
def test_a_claims_report_renders_and_opens_with_the_claims_table(tmp_path: Path) -> None:
    from acconv.claims import STATUS_RULE, write_claims
    from acconv.report import write_report
    from acconv.results import write_run

    runs = tmp_path / "runs"
    for delay in (100, 20):
        for seed in (0, 1):
            run_id = f"sweep/learner=rudder_delay={delay}/seed-{seed}"
            write_run(
                runs / "sweep" / run_id.split("/", 1)[1],
                run_id=run_id,
                seed=seed,
                rows=[(n, "exact/gap", 1.0 / (n + 1)) for n in (0, 1, 10)]
                + [(10, "solve/episodes", 40.0 * delay), (10, "solve/solved", 1.0)]
                + [(10, "solve/budget_episodes", 8000.0)],
                verdicts={"run_id": run_id, "observers": []},
                manifest={
                    "config": {
                        "name": "sweep",
                        "sweep_point": {"learner": "rudder", "env.kwargs.delay": delay},
                    }
                },
            )
    row = {
        "id": "demo_claim",
        "title": "Demo claim stays flat",
        "source": "a paper",
        "mode": "quick",
        "seeds": 2,
        "specs": ["sweep"],
        "status": "partly",
        "checks": [],
        "failed": [{"check": "sweep: flat", "expected": "<= 2", "seen": "5"}],
        "figure": {"kind": "solve_vs_sweep", "spec": "sweep", "over": "env.kwargs.delay"},
        "published": [],
    }
    write_claims(runs, {"mode": "quick", "rule": STATUS_RULE, "claims": [row]})
    html, md = write_report(runs)
    dom, console = render(html)
    assert console == []
    # The claims table comes before any run section; the claim's figure is embedded.
    assert dom.index('class="claims"') < dom.index("1.1 ")
    assert "Demo claim stays flat" in dom and "partly" in dom
    assert dom.count("<img") >= 2
    text = md.read_text(encoding="utf-8")
    assert text.index("| # | claim |") < text.index("## 1. Demo claim")
    # Sweep values in numeric order: delay 20 before delay 100.
    assert text.index("env.kwargs.delay = 20") < text.index("env.kwargs.delay = 100")
