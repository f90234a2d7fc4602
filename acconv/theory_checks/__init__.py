"""Theory checks: does a configuration or a run satisfy the hypotheses of the convergence
theorems (THEORY.md §3)? Every check returns :class:`Verdict` objects (holds / violated /
undecided / not_applicable, with the method, the working and the evidence)."""

from acconv.theory_checks.assumptions import (
    AssumptionReport,
    assumption_report,
    diagnostic_verdicts,
    learner_verdicts,
)
from acconv.theory_checks.asymptotics import Asymptotic, asymptotic_form
from acconv.theory_checks.bounds import BOUNDS, BoundNotApplicable, RateBound, bound_by_id
from acconv.theory_checks.certificates import (
    gradient_domination_certificate,
    lojasiewicz_certificate,
)
from acconv.theory_checks.numeric_estimates import tail_exponent
from acconv.theory_checks.seed_tracking import check_tracking_across_seeds
from acconv.theory_checks.step_sizes import StepSizeReport, check_step_sizes, clocks
from acconv.theory_checks.verdicts import Status, Verdict, combine_statuses

__all__ = [
    "BOUNDS",
    "AssumptionReport",
    "Asymptotic",
    "BoundNotApplicable",
    "RateBound",
    "Status",
    "StepSizeReport",
    "Verdict",
    "assumption_report",
    "asymptotic_form",
    "bound_by_id",
    "check_step_sizes",
    "check_tracking_across_seeds",
    "clocks",
    "combine_statuses",
    "diagnostic_verdicts",
    "gradient_domination_certificate",
    "learner_verdicts",
    "lojasiewicz_certificate",
    "tail_exponent",
]
