"""Stable-Baselines3 PPO and A2C runs as acconv runs (the ``neural`` extra).

* :mod:`~acconv.adapters.sb3.learning_rate` — SB3's learning rate as a schedule a(n) = b(n);
* :mod:`~acconv.adapters.sb3.facts` — an SB3 model as :class:`~acconv.facts.LearnerFacts`;
* :mod:`~acconv.adapters.sb3.callback` — :class:`ConvergenceCallback`, which publishes the run's
  facts and sends acconv's events through the one emitter;
* :mod:`~acconv.adapters.sb3.learner` — :func:`run_sb3` and :class:`SB3Learner` for specs.

Every verdict on an SB3 run is decided in :mod:`acconv.theory_checks` from the facts.
"""

try:
    import stable_baselines3  # noqa: F401
    import torch  # noqa: F401
except ImportError as _error:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "acconv.adapters.sb3 needs the 'neural' extra (torch and stable-baselines3): "
        f"pip install -c constraints.txt 'acconv[neural]' ({_error})"
    ) from None

from acconv.adapters.sb3.callback import (
    DIAGNOSTIC_KEYS,
    ConvergenceCallback,
    policy_tables,
)
from acconv.adapters.sb3.facts import sb3_facts, sb3_step_sizes
from acconv.adapters.sb3.learner import SB3Learner, SB3Run, run_sb3
from acconv.adapters.sb3.learning_rate import (
    SB3LearningRate,
    SB3StepSizes,
    translate_learning_rate,
)
from acconv.theory_checks.learner_steps import METHOD_CONFIGURATION, METHOD_SAMPLED

__all__ = [
    "DIAGNOSTIC_KEYS",
    "METHOD_CONFIGURATION",
    "METHOD_SAMPLED",
    "ConvergenceCallback",
    "SB3Learner",
    "SB3LearningRate",
    "SB3Run",
    "SB3StepSizes",
    "policy_tables",
    "run_sb3",
    "sb3_facts",
    "sb3_step_sizes",
    "translate_learning_rate",
]
