"""Torch twins of :mod:`acconv.estimators` for the neural learners (the ``neural`` extra).

Each function is its numpy namesake's equation written with the same elementary operations in
the same order, so that on the same inputs both give the same numbers (``tests/test_neural.py``
checks it), and autograd differentiates it. :mod:`acconv.estimators` itself stays free of torch:
``import acconv`` never imports torch.
"""

from __future__ import annotations

import torch

__all__ = ["clipped_surrogate"]


def clipped_surrogate(
    ratio: torch.Tensor, advantage: torch.Tensor, clip_eps: float
) -> torch.Tensor:
    """PPO's ``min(ρ Â, clip(ρ, 1 - ε, 1 + ε) Â)`` per sample (Schulman et al. 2017, eq. 7).

    The torch twin of :func:`acconv.estimators.clipped_surrogate`, whose derivative in ``ρ``
    (:func:`acconv.estimators.surrogate_is_unclipped`) is tabular PPO's actor step.
    """
    return torch.minimum(ratio * advantage, ratio.clamp(1 - clip_eps, 1 + clip_eps) * advantage)
