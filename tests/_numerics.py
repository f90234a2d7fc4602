"""Numerical helpers shared by the tests (independent of acconv's own code)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def central_fd(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float) -> np.ndarray:
    """Central finite differences ``(f(θ + h e_i) - f(θ - h e_i)) / 2h`` for every coordinate."""
    grad = np.zeros_like(theta)
    for index in np.ndindex(theta.shape):
        up, down = theta.copy(), theta.copy()
        up[index] += h
        down[index] -= h
        grad[index] = (f(up) - f(down)) / (2 * h)
    return grad
