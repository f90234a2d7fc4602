"""The canonical suite (acconv/experiments) and ``acconv reproduce`` (issue 5, items 5-6)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from acconv.cli import main
from acconv.reproduce import (
    expected_verdicts_match,
    load_suite,
    reproduce,
    suite_spec,
)
from acconv.spec import load_spec

STEP_SIZE_VERDICTS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "two_timescale")
# Three updates: the verdicts checked below are decided before or independently of the budget, and
# the neural specs (2048 steps per update) stay quick.
TINY = ("budget.n_updates=3", "seeds.count=1", "budget.episodes_per_update=4")


def test_package_data_ships_every_spec_and_claim_readme() -> None:
    data = resources.files("acconv.experiments")
    assert data.joinpath("suite.toml").is_file()
    entries = load_suite()
    assert len(entries) >= 10
    for entry in entries:
        assert data.joinpath(entry.spec).is_file(), entry.spec
        assert data.joinpath(f"{entry.claim}.md").is_file(), entry.claim
    claims = {entry.claim for entry in entries}
    assert claims == {
        "ac_two_timescale",
        "two_timescale_violations",
        "exact_pg_bounds",
        "ppo_frozenlake",
        "rudder_delay_sweep",
        "rudder_two_timescale",
        "greedy_limit",
        "neural_ppo_vs_sb3",
        "neural_two_timescale",
        "neural_two_timescale_violations",
        "neural_rudder",
        "watched_loops",
    }
    # The neural claims say which extra they need, so a core install skips them and says so.
    assert {e.claim for e in entries if e.needs == ("neural",)} == {
        "neural_ppo_vs_sb3",
        "neural_two_timescale",
        "neural_two_timescale_violations",
        "neural_rudder",
        "watched_loops",
    }


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_every_suite_spec_loads_and_validates_with_its_overrides(mode: str) -> None:
    names = set()
    for entry in load_suite():
        with suite_spec(entry) as path:
            spec = load_spec(path, list(entry.overrides(mode)))  # type: ignore[arg-type]
        names.add(spec.name)
        assert entry.expect, f"{entry.spec} expects no verdict"
    assert len(names) == len(load_suite()), "spec names must be unique (they name folders)"


def test_quick_budgets_are_smaller_than_full_ones() -> None:
    for entry in load_suite():
        with suite_spec(entry) as path:
            quick, full = load_spec(path, list(entry.quick)), load_spec(path, list(entry.full))
        assert quick.budget.n_updates <= full.budget.n_updates
        assert quick.seeds.count <= full.seeds.count


def test_tiny_reproduce_runs_end_to_end_and_step_size_verdicts_match(tmp_path: Path) -> None:
    out = reproduce(
        "quick", tmp_path / "suite", extra_overrides=TINY, workers=1, progress=False, report=False
    )
    for entry in load_suite():
        with suite_spec(entry) as path:
            name = load_spec(path).name
        assert any((out / name).rglob("manifest.json")), name
    # The step-size verdicts (and the exact bounds) are decided before or independently of the
    # budget, so even 3 updates must reproduce them.
    assert expected_verdicts_match(out, "quick", verdicts_only=STEP_SIZE_VERDICTS) == []
    bounds = ("bound/mei2020_thm4", "bound/akm2021_npg", "bound/cen2022_thm1")
    assert expected_verdicts_match(out, "quick", verdicts_only=bounds) == []
    # An empty folder is a mismatch for every spec, not a silent pass.
    assert len(expected_verdicts_match(tmp_path / "empty")) == len(load_suite())
    report = pytest.importorskip("acconv.report")
    html, md = report.write_report(out)
    assert Path(html).is_file() and Path(md).is_file()


def test_cli_reproduce_rejects_bad_workers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_reproduce_produces_every_expected_verdict(tmp_path: Path) -> None:
    code = main(["reproduce", "--quick", "--out", str(tmp_path / "quick"), "--quiet"])
    assert code == 0
    assert expected_verdicts_match(tmp_path / "quick", "quick") == []


def test_evidence_verdicts_are_seen_as_their_lean_and_meet_undecided() -> None:
    # Issue 11: a run's tracking verdict is undecided with a lean; the suite expects the lean.
    from acconv.reproduce import _verdict_statuses, status_matches

    verdicts = {
        "observers": [
            {"id": "tracking", "status": "undecided", "lean": "holds"},
            {"id": "A8", "status": "undecided", "lean": None},
            {"id": "A6", "status": "holds"},
        ]
    }
    seen = _verdict_statuses(verdicts)
    assert seen == {"tracking": "leans holds", "A8": "undecided", "A6": "holds"}
    assert status_matches("leans holds", ("leans holds",))
    assert status_matches("leans holds", ("violated", "undecided"))
    assert not status_matches("leans holds", ("holds",))
    assert not status_matches("leans violated", ("leans holds",))
    assert not status_matches("undecided", ("leans holds",))


def test_reproduce_runs_only_the_selected_claims(tmp_path: Path) -> None:
    import json

    from acconv.reproduce import select_claims

    assert select_claims(None) is None
    assert select_claims(["greedy_limit"]) == frozenset({"greedy_limit"})
    with pytest.raises(ValueError, match=r"--claim is 'nope', expected one of ac_two_timescale"):
        select_claims(["greedy_limit", "nope"])
    out = reproduce(
        "quick",
        tmp_path / "one",
        extra_overrides=TINY,
        workers=1,
        progress=False,
        report=False,
        claims=["greedy_limit"],
    )
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["greedy_limit"]
    record = json.loads((out / "claims.json").read_text())
    assert [row["id"] for row in record["claims"]] == ["greedy_limit"]
    assert all(c["check"] != "runs" for c in record["claims"][0]["checks"])  # ran, not missing


def test_cli_reproduce_rejects_an_unknown_claim(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["reproduce", "--claim", "greedy_limit", "--claim", "nope", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "--claim is 'nope'" in err
    assert not any(tmp_path.iterdir())  # nothing ran


def test_neural_violations_differ_from_the_valid_spec_only_in_their_step_sizes() -> None:
    # Issue 15 item 4: the violations are the valid neural spec with other a(n), b(n).
    by_name = {}
    for entry in load_suite():
        with suite_spec(entry) as path:
            spec = load_spec(path, list(entry.full))
        by_name[spec.name] = (entry, spec)
    _, valid = by_name["neural_two_timescale"]
    names = ("neural_constant_steps", "neural_equal_timescales", "neural_reversed_timescales")
    for name in names:
        entry, spec = by_name[name]
        assert entry.claim == "neural_two_timescale_violations"
        assert spec.env == valid.env and spec.budget == valid.budget and spec.seeds == valid.seeds
        assert spec.learner.kind == valid.learner.kind
        assert spec.learner.params == valid.learner.params  # network, rollout, SGD
        assert (spec.learner.critic_lr, spec.learner.actor_lr) != (
            valid.learner.critic_lr,
            valid.learner.actor_lr,
        )
        assert spec.seeds.count == 32 and entry.expect["two_timescale"] == ("violated",)
    from acconv.reproduce import load_claim_infos

    infos = load_claim_infos()
    kinds = {c.spec: c.kind for c in infos["neural_two_timescale_violations"].checks}
    assert set(kinds) == set(names) and set(kinds.values()) == {"tracking_across_seeds"}
    assert infos["neural_two_timescale_violations"].figure["specs"][0] == "neural_two_timescale"
