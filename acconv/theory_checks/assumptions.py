"""The assumption catalogue A0–A12 (THEORY.md §3), checked on a configuration and on a run.

Every check returns a :class:`~acconv.theory_checks.verdicts.Verdict` whose ``method`` says how
it was reached:

* ``exact`` — computed from the exact model (linear solves, exact fields; central differences
  of fields affine in the differentiated variable, exact up to rounding, or of smooth fields,
  O(h²) ≈ 1e-10, only where the sign of an eigenvalue is read);
* ``symbolic`` — decided from the form of the algorithm or of a SymPy expression (softmax of
  tabular logits is real-analytic; ``lim β(n)``);
* ``estimated`` — a fit or a maximum over the finite set of points a run visited: evidence, not
  a proof.

Every verdict names the theorems whose hypothesis it is (DESIGN.md §3): Borkar 1997 (martingale
noise, global attractors), Karmakar & Bhatnagar 2018 (controlled Markov noise, local attractors)
and the *reconstructed* Holzleitner et al. 2021 statement (THEORY.md §4.3, marked [R]: its
assumption list is our reconstruction, not the paper's text). :func:`assumption_report` gathers
all verdicts and says how far each theorem's hypotheses are established (met, supported by
evidence, open, violated), and never more.

Index and notation (THEORY.md §1.3): ω is the fast iterate (critic or return model, step a(n)),
θ the slow iterate (actor, step b(n)), λ(θ) the fast equilibrium, ḡ(θ, ω) and h̄(θ, ω) the mean
fields (expected update directions Δω/a(n), Δθ/b(n)), F(θ) = h̄(θ, λ(θ)) the slow field and
M = (sampled direction) − (mean direction) the noise.

The catalogue lives in modules by concern — :mod:`~acconv.theory_checks.setting_checks` (what
the facts alone decide), :mod:`~acconv.theory_checks.field_checks` (the mean fields),
:mod:`~acconv.theory_checks.run_checks` (the iterates), :mod:`~acconv.theory_checks.coverage`
(the report), over :mod:`~acconv.theory_checks.trace`, :mod:`~acconv.theory_checks.trends` and
:mod:`~acconv.theory_checks.mean_fields`; this module gathers their public names.

The checks decide from the learner's facts (:class:`~acconv.facts.LearnerFacts`, published on
the start event) and what the run left behind; they never import or rebuild a learner. The mean
fields are the learner's own ``facts.mean_field`` (the tabular learners give the exact mean of
their sampled update, from their expected twin); learners without one leave the checks that
need it ``undecided``, with the learner's reason.
"""

from acconv.facts import EpisodeSource
from acconv.theory_checks.coverage import (
    AssumptionReport,
    assumption_report,
)
from acconv.theory_checks.field_checks import (
    check_a3_lipschitz,
    check_a4_noise,
    check_a6_fast,
    check_a6_prime_domain,
    check_a7_slow,
)
from acconv.theory_checks.mean_fields import (
    contraction_rate,
    expected_twin,
    fast_jacobian,
    mean_field,
    slow_field,
)
from acconv.theory_checks.run_checks import (
    check_a1_policy,
    check_a8_bounded,
    check_a12_rudder,
    check_tracking,
)
from acconv.theory_checks.setting_checks import (
    check_a0_finite_mdp,
    check_a2_step_sizes,
    check_a5_episodes,
    check_a9_greediness,
    check_a10_analytic,
    check_a11_ppo_old,
    diagnostic_verdicts,
    learner_verdicts,
)
from acconv.theory_checks.theorems import (
    BORKAR,
    HOLZLEITNER,
    KARMAKAR_BHATNAGAR,
    REQUIREMENTS,
)
from acconv.theory_checks.trace import (
    RunTrace,
    Snapshot,
)
from acconv.theory_checks.trends import (
    Trend,
    trend,
)
from acconv.theory_checks.verdicts import (
    METHOD_ESTIMATED,
    METHOD_EXACT,
)

__all__ = [
    "BORKAR",
    "HOLZLEITNER",
    "KARMAKAR_BHATNAGAR",
    "METHOD_ESTIMATED",
    "METHOD_EXACT",
    "REQUIREMENTS",
    "AssumptionReport",
    "EpisodeSource",
    "RunTrace",
    "Snapshot",
    "Trend",
    "assumption_report",
    "check_a0_finite_mdp",
    "check_a1_policy",
    "check_a2_step_sizes",
    "check_a3_lipschitz",
    "check_a4_noise",
    "check_a5_episodes",
    "check_a6_fast",
    "check_a6_prime_domain",
    "check_a7_slow",
    "check_a8_bounded",
    "check_a9_greediness",
    "check_a10_analytic",
    "check_a11_ppo_old",
    "check_a12_rudder",
    "check_tracking",
    "contraction_rate",
    "diagnostic_verdicts",
    "expected_twin",
    "fast_jacobian",
    "learner_verdicts",
    "mean_field",
    "slow_field",
    "trend",
]
