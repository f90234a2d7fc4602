"""Numerical helpers shared by the tests (independent of acconv's own code)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


def enumerate_episodes(
    P: np.ndarray,
    reward: np.ndarray,
    rho: np.ndarray,
    terminal: np.ndarray,
    pi: np.ndarray,
    horizon: int | None = None,
) -> Iterator[tuple[float, list[int], list[int], list[float]]]:
    """Every episode ``(probability, s_0..s_T, a_0..a_{T-1}, r_1..r_T)`` of policy ``pi`` on the
    model ``P[s, a, s']`` with transition rewards ``reward[s, a, s']``, depth-first, ending on a
    terminal state or after ``horizon`` decisions. Exact enumeration: only for models whose
    episodes end within a few steps."""

    def walk(
        path: list[int], actions: list[int], rewards: list[float], p: float
    ) -> Iterator[tuple[float, list[int], list[int], list[float]]]:
        s = path[-1]
        if terminal[s] or len(actions) == horizon:
            yield p, path, actions, rewards
            return
        for a in range(P.shape[1]):
            for s_next in np.flatnonzero(P[s, a] > 0):
                q = p * pi[s, a] * P[s, a, s_next]
                if q > 0:
                    yield from walk(
                        [*path, int(s_next)], [*actions, a], [*rewards, reward[s, a, s_next]], q
                    )

    for s0 in np.flatnonzero(rho > 0):
        yield from walk([int(s0)], [], [], float(rho[s0]))
