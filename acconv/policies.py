"""Tabular softmax policies with inverse temperature β (THEORY.md §1.2).

``π_{θ,β}(a|s) = exp(β θ[s, a]) / Σ_b exp(β θ[s, b])``. Logits ``theta`` have shape ``(S, A)``;
a policy table ``pi`` has the same shape and each row sums to one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def softmax_policy(theta: FloatArray, beta: float = 1.0) -> FloatArray:
    """``π(a|s) = softmax_a(β θ[s, a])``, computed stably (the row maximum is subtracted)."""
    z = beta * np.asarray(theta, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))


def log_softmax_policy(theta: FloatArray, beta: float = 1.0) -> FloatArray:
    """``log π(a|s) = β θ[s, a] - log Σ_b exp(β θ[s, b])``, stable for large ``β θ``."""
    z = beta * np.asarray(theta, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return np.asarray(z - np.log(np.exp(z).sum(axis=-1, keepdims=True)))


def entropy(pi: FloatArray) -> FloatArray:
    """``H(π(·|s)) = -Σ_a π(a|s) log π(a|s)`` per state (``0 log 0 = 0``)."""
    p = np.asarray(pi, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return np.asarray(-terms.sum(axis=-1))


def centred(theta: FloatArray) -> FloatArray:
    """Logits with zero mean per state, the quotient coordinates of softmax's shift invariance."""
    t = np.asarray(theta, dtype=np.float64)
    return np.asarray(t - t.mean(axis=-1, keepdims=True))


def greedy_policy(values: FloatArray) -> FloatArray:
    """The deterministic policy that picks the first maximising action of each row."""
    v = np.asarray(values, dtype=np.float64)
    pi = np.zeros_like(v)
    pi[np.arange(v.shape[0]), v.argmax(axis=1)] = 1.0
    return pi


def score_gradient(pi: FloatArray, weights: FloatArray, beta: float = 1.0) -> FloatArray:
    """``Σ_i w_i ∇_θ log π(a_i|s_i)`` from the table ``C[s, a] = Σ_i w_i 1{(s_i, a_i) = (s, a)}``.

    For tabular softmax ``∇_{θ[s, ·]} log π(a|s) = β (e_a - π(·|s))``, so the sum is
    ``β (C[s, a] - π(a|s) Σ_b C[s, b])``. A sampled batch (``C`` from counts) and an exact
    expectation (``C = η(s) π(a|s) A(s, a)``) go through the same formula.
    """
    return np.asarray(beta * (weights - pi * weights.sum(axis=-1, keepdims=True)))


def entropy_gradient(pi: FloatArray, beta: float = 1.0) -> FloatArray:
    """``∂H(π(·|s))/∂θ[s, a] = -β π(a|s) (log π(a|s) + H(π(·|s)))`` per state."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pi = np.where(pi > 0, np.log(np.where(pi > 0, pi, 1.0)), 0.0)
    return np.asarray(-beta * pi * (log_pi + entropy(pi)[..., None]))


def kl_gradient(pi_old: FloatArray, pi: FloatArray, beta: float = 1.0) -> FloatArray:
    """``∂ KL(π_old(·|s) ‖ π(·|s)) / ∂θ[s, a] = β (π(a|s) - π_old(a|s))`` per state."""
    return np.asarray(beta * (pi - pi_old))
