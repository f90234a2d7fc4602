"""The one statement of verdict semantics (issue 11): holds/violated are proven; evidence is
undecided with a lean and a strength; theorem coverage, acconv.testing, the report and
`acconv reproduce` all read it the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from acconv.theory_checks.coverage import theorem_coverage
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
    METHOD_NUMERIC,
    METHOD_SYMBOLIC,
    Verdict,
    combine_verdicts,
    leaning,
    status_text,
    strength_of,
)


def _proven(vid: str, status: str = "holds") -> Verdict:
    return Verdict(vid, vid, status, METHOD_EXACT, "computed")  # type: ignore[arg-type]


def _seen(vid: str, lean: str | None, strength: str | None = "strong") -> Verdict:
    return leaning(vid, vid, lean, strength, METHOD_ESTIMATED, "a fit")  # type: ignore[arg-type]


# ---- strength ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    # The stated rule: strong below 1%, moderate below 5%, weak otherwise; the boundaries
    # themselves belong to the weaker class (p < level, not ≤).
    [
        (0.0, "strong"),
        (0.0099, "strong"),
        (0.01, "moderate"),
        (0.0499, "moderate"),
        (0.05, "weak"),
        (0.9, "weak"),
        (float("nan"), "weak"),
    ],
)
def test_strength_of_a_p_value(p: float, expected: str) -> None:
    assert strength_of(p) == expected


# ---- the constructor keeps the semantics ---------------------------------------------------


def test_evidence_methods_cannot_decide() -> None:
    for method in (METHOD_ESTIMATED, METHOD_NUMERIC):
        for status in ("holds", "violated"):
            with pytest.raises(ValueError, match="evidence is 'undecided'"):
                Verdict("A8", "bounded", status, method, "fit")  # type: ignore[arg-type]
    # Any method that is not a proof cannot decide either, and a conjunction of proofs can.
    with pytest.raises(ValueError, match="holds/violated need one of"):
        Verdict("bound/x", "x", "holds", "heuristic overlay", "")
    with pytest.raises(ValueError, match="holds/violated need one of"):
        Verdict("A2", "x", "holds", "symbolic + numeric estimate", "")
    assert (
        Verdict("A2", "x", "violated", "p-series/Bertrand rule + symbolic", "").status == "violated"
    )
    # Proof methods decide; evidence is undecided with a lean.
    assert Verdict("S1", "Σa=∞", "holds", METHOD_SYMBOLIC, "limit").status == "holds"
    assert _seen("A8", "holds").status == "undecided"


def test_lean_and_strength_come_together_and_only_on_undecided() -> None:
    with pytest.raises(ValueError, match="lean 'holds' with status 'holds'"):
        Verdict("A0", "x", "holds", METHOD_EXACT, "", {}, (), "holds", "strong")
    with pytest.raises(ValueError, match="expected both or neither"):
        Verdict("A8", "x", "undecided", METHOD_ESTIMATED, "", {}, (), "holds", None)
    with pytest.raises(ValueError, match="strength 'huge'"):
        Verdict("A8", "x", "undecided", METHOD_ESTIMATED, "", {}, (), "holds", "huge")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lean 'maybe'"):
        Verdict("A8", "x", "undecided", METHOD_ESTIMATED, "", {}, (), "maybe", "weak")  # type: ignore[arg-type]


def test_a_lean_survives_json_and_pickle() -> None:
    import pickle

    verdict = _seen("tracking", "violated", "moderate")
    assert pickle.loads(pickle.dumps(verdict)) == verdict
    data = verdict.to_dict()
    assert (data["status"], data["lean"], data["strength"]) == ("undecided", "violated", "moderate")
    assert verdict.shown == "undecided (leans violated, moderate evidence)"
    assert status_text("holds") == "holds"
    assert status_text("undecided") == "undecided"


# ---- combining -----------------------------------------------------------------------------


def test_combining_leans() -> None:
    # All proven: the proven status.
    assert combine_verdicts([_proven("a"), _proven("b")]) == ("holds", None, None)
    # A proof of failure beats any evidence.
    assert combine_verdicts([_proven("a", "violated"), _seen("b", "holds")])[0] == "violated"
    # Proven + evidence for: leans holds, as strong as the weakest link.
    mixed = [_proven("a"), _seen("b", "holds", "strong"), _seen("c", "holds", "weak")]
    assert combine_verdicts(mixed) == ("undecided", "holds", "weak")
    # Any evidence against makes the conjunction lean violated, with the strongest such part.
    against = [_seen("b", "holds"), _seen("c", "violated", "weak"), _seen("d", "violated")]
    assert combine_verdicts(against) == ("undecided", "violated", "strong")
    # An undecided part with no lean leaves the conjunction without a lean.
    assert combine_verdicts([_seen("b", "holds"), _seen("c", None, None)]) == (
        "undecided",
        None,
        None,
    )


def test_theorem_coverage_levels() -> None:
    na = Verdict("A12", "x", "not_applicable", METHOD_EXACT, "")
    assert theorem_coverage([_proven("A0"), na]) == "met"
    assert theorem_coverage([_proven("A0"), _seen("A8", "holds", "weak")]) == "supported"
    assert theorem_coverage([_proven("A0"), _seen("A8", None, None)]) == "open"
    assert theorem_coverage([_proven("A0"), _seen("A8", "violated")]) == "open"
    assert theorem_coverage([_proven("A0", "violated"), _seen("A8", "holds")]) == "violated"


# ---- acconv.testing ------------------------------------------------------------------------


def test_assertions_accept_evidence_only_when_asked() -> None:
    from acconv.testing import assert_assumptions, assert_within_bound

    report = [_proven("A0"), _seen("A8", "holds", "moderate")]
    with pytest.raises(AssertionError, match=r"leans holds, moderate evidence\): evidence"):
        assert_assumptions(report)
    assert_assumptions(report, accept_evidence=True)
    assert_assumptions(report, accept_evidence="moderate")
    with pytest.raises(AssertionError, match="strong or stronger"):
        assert_assumptions(report, accept_evidence="strong")
    with pytest.raises(ValueError, match="accept_evidence is 'yes'"):
        assert_assumptions(report, accept_evidence="yes")  # type: ignore[arg-type]
    # Evidence leaning violated is never accepted as evidence for.
    with pytest.raises(AssertionError):
        assert_assumptions([_seen("A8", "violated")], accept_evidence=True)
    bound = _seen("bound/x", "holds", "strong")
    with pytest.raises(AssertionError):
        assert_within_bound(bound)
    assert assert_within_bound(bound, accept_evidence=True) is bound


# ---- reproduce and the report --------------------------------------------------------------


def test_reproduce_expectations_name_leans() -> None:
    from acconv.reproduce import _statuses, _verdict_statuses
    from acconv.reproduce import status_matches as _matches

    with pytest.raises(ValueError, match="'hold', expected one of"):
        _statuses("hold", "suite: entry 0 expect.A8")
    assert _statuses(["leans holds", "holds"], "x") == ("leans holds", "holds")
    run = {
        "observers": [
            {"id": "A8", "status": "undecided", "lean": "holds", "strength": "weak"},
            {"id": "A4", "status": "undecided", "lean": None, "strength": None},
            {"id": "A0", "status": "holds"},  # a folder written before leans existed
        ]
    }
    shown = _verdict_statuses(run)
    assert shown == {"A8": "leans holds", "A4": "undecided", "A0": "holds"}
    assert _matches("leans holds", ("leans holds",))
    assert _matches("leans holds", ("undecided",))  # undecided accepts any undecided
    assert not _matches("leans holds", ("holds",))  # evidence is not a proof
    assert not _matches("undecided", ("leans holds",))


def test_report_shows_leans_and_coverage(tmp_path: Path) -> None:
    from acconv.report import write_report
    from acconv.results import write_run

    for seed, strength in ((0, "strong"), (1, "weak")):
        verdict = _seen("A8", "holds", strength).to_dict()
        write_run(
            tmp_path / "runs" / "x" / "ac" / f"seed-{seed}",
            run_id=f"x/ac/seed-{seed}",
            seed=seed,
            rows=[(0, "critic/tracking_error", 1.0), (1, "critic/tracking_error", 0.5)],
            verdicts={
                "run_id": f"x/ac/seed-{seed}",
                "observers": [verdict],
                "coverage": {"Borkar 1997": "supported"},
            },
            manifest={"config": {"name": "x"}},
        )
    html, md = write_report(tmp_path / "runs")
    summary = md.read_text(encoding="utf-8")
    assert "undecided (leans holds, strong evidence) ×1" in summary
    assert "undecided (leans holds, weak evidence) ×1" in summary
    assert "| Borkar 1997 | supported ×2 |" in summary
    assert "leans holds, strong evidence" in html.read_text(encoding="utf-8")
