"""Bridges from other reinforcement-learning libraries to acconv's events (DESIGN.md §2).

:mod:`acconv.adapters.sb3` turns a Stable-Baselines3 PPO or A2C run into the ``StartEvent`` /
``UpdateEvent`` / ``EndEvent`` stream that every acconv observer reads. It imports torch and
Stable-Baselines3 (the ``neural`` extra), so this package does not import it: write
``from acconv.adapters.sb3 import ConvergenceCallback``.

:mod:`acconv.adapters.torch_lr` writes the law of a torch learning-rate scheduler (``StepLR``,
``CosineAnnealingLR``, ...) as an acconv schedule in n, for a user's own torch loop; it imports
torch: ``from acconv.adapters.torch_lr import scheduler_law``.
"""

__all__: list[str] = []
