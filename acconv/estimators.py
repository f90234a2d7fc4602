"""Pure sample estimators on padded batches of episodes (THEORY.md §2).

Shapes: ``rewards[b, t]`` is ``r_{t+1}`` of episode ``b`` (``(B, T)``); ``values[b, t]`` is the
critic's ``V(s_t)`` for ``t = 0..T`` (``(B, T + 1)``) and must already be 0 where no bootstrap is
allowed (after termination); ``mask[b, t]`` marks real decision steps (``(B, T)``). One episode
may be passed as 1-D arrays. Everything past an episode's end is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def td_errors(
    rewards: FloatArray, values: FloatArray, gamma: float, mask: BoolArray | None = None
) -> FloatArray:
    """``δ_t = r_{t+1} + γ V(s_{t+1}) - V(s_t)``, 0 outside the episode."""
    r, v, m = _as_batch(rewards, values, mask)
    delta = np.where(m, r + gamma * v[:, 1:] - v[:, :-1], 0.0)
    return delta.reshape(np.shape(rewards))


def gae(
    rewards: FloatArray,
    values: FloatArray,
    gamma: float,
    lam: float,
    mask: BoolArray | None = None,
) -> FloatArray:
    """Generalised advantage estimation (Schulman et al. 2016, eq. 16).

    ``Â_t = Σ_{k≥0} (γλ)^k δ_{t+k}``, computed backwards as ``Â_t = δ_t + γλ Â_{t+1}``. With
    ``λ = 1`` this is the Monte-Carlo advantage ``G_t - V(s_t)`` (bootstrapped from ``V`` where an
    episode was truncated); with ``λ = 0`` it is the TD error ``δ_t``. ``Â_t + V(s_t)`` is the
    λ-return, the TD(λ) target.
    """
    _, _, m = _as_batch(rewards, values, mask)
    delta = np.atleast_2d(td_errors(rewards, values, gamma, mask))
    advantages = np.zeros_like(delta)
    running = np.zeros(delta.shape[0])
    for t in range(delta.shape[1] - 1, -1, -1):
        running = np.where(m[:, t], delta[:, t] + gamma * lam * running, 0.0)
        advantages[:, t] = running
    return advantages.reshape(np.shape(rewards))


def discounted_returns(
    rewards: FloatArray, gamma: float, mask: BoolArray | None = None
) -> FloatArray:
    """``G_t = Σ_{k≥t} γ^{k-t} r_{k+1}`` within each episode (no bootstrap), 0 outside it.

    Computed backwards as ``G_t = r_{t+1} + γ G_{t+1}`` (``G_T = 0``); ``G_0 = Σ_t γ^t r_{t+1}``
    is the episode's discounted return. These are the numbers of :func:`gae` with zero values
    and ``λ = 1`` (the same floating-point operations), without forming TD errors. acconv's one
    implementation of the discounted return: episode batches, RUDDER's ``G``, the SB3 bridge's
    batch returns and the optimal redistribution all call it.
    """
    r = np.atleast_2d(np.asarray(rewards, dtype=np.float64))
    m = np.ones_like(r, dtype=bool) if mask is None else np.atleast_2d(np.asarray(mask, bool))
    if m.shape != r.shape:
        raise ValueError(f"rewards {r.shape} and mask {m.shape} do not fit, expected both (B, T)")
    returns = np.zeros_like(r)
    running = np.zeros(r.shape[0])
    for t in range(r.shape[1] - 1, -1, -1):
        running = np.where(m[:, t], r[:, t] + gamma * running, 0.0)
        returns[:, t] = running
    return returns.reshape(np.shape(rewards))


def clipped_surrogate(ratio: FloatArray, advantage: FloatArray, clip_eps: float) -> FloatArray:
    """PPO's ``min(ρ Â, clip(ρ, 1 - ε, 1 + ε) Â)`` per sample (Schulman et al. 2017, eq. 7)."""
    return np.minimum(ratio * advantage, np.clip(ratio, 1 - clip_eps, 1 + clip_eps) * advantage)


def surrogate_is_unclipped(ratio: FloatArray, advantage: FloatArray, clip_eps: float) -> BoolArray:
    """Where the clipped surrogate's derivative in ``ρ`` is ``Â`` (else 0).

    The ``min`` picks the unclipped term exactly when ``Â ≥ 0`` and ``ρ ≤ 1 + ε``, or ``Â < 0``
    and ``ρ ≥ 1 - ε``.
    """
    return np.where(advantage >= 0, ratio <= 1 + clip_eps, ratio >= 1 - clip_eps)


def _as_batch(
    rewards: FloatArray, values: FloatArray, mask: BoolArray | None
) -> tuple[FloatArray, FloatArray, BoolArray]:
    r = np.atleast_2d(np.asarray(rewards, dtype=np.float64))
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    m = np.ones_like(r, dtype=bool) if mask is None else np.atleast_2d(np.asarray(mask, bool))
    if v.shape != (r.shape[0], r.shape[1] + 1) or m.shape != r.shape:
        raise ValueError(
            f"rewards {r.shape}, values {v.shape} and mask {m.shape} do not fit, "
            "expected (B, T), (B, T + 1) and (B, T)"
        )
    return r, v, m


def gae_rollout(
    rewards: FloatArray,
    values: FloatArray,
    next_values: FloatArray,
    episode_end: BoolArray,
    gamma: float,
    lam: float,
) -> FloatArray:
    """GAE on one stream of ``T`` consecutive steps that may cross episode boundaries.

    ``δ_t = r_{t+1} + γ V'_t - V(s_t)`` with ``V'_t = V(s_{t+1})`` (0 when step ``t`` terminated
    the episode; the critic's value of the final state when a time limit truncated it) and
    ``Â_t = δ_t + γλ (1 - end_t) Â_{t+1}`` with ``end_t`` true when step ``t`` ended its episode
    (terminated or truncated). Inside one episode this is :func:`gae` (Schulman et al. 2016,
    eq. 16); it is the rollout form of Stable-Baselines3's ``RolloutBuffer``. The arrays may
    have leading axes (several streams, e.g. one per seed): time is the last axis.
    """
    r = np.asarray(rewards, dtype=np.float64)
    delta = r + gamma * np.asarray(next_values, dtype=np.float64) - np.asarray(values)
    carry = gamma * lam * (1.0 - np.asarray(episode_end, dtype=np.float64))
    advantages = np.empty_like(delta)
    running = np.zeros(delta.shape[:-1])
    for t in range(delta.shape[-1] - 1, -1, -1):
        running = delta[..., t] + carry[..., t] * running
        advantages[..., t] = running
    return advantages


def redistribute_rewards(
    g: FloatArray, returns: FloatArray, mask: BoolArray, residual: str
) -> FloatArray:
    """RUDDER's redistributed reward ``r̃_{t+1} = g_t - g_{t-1}`` (``g_{-1} = 0``), 0 after the end.

    ``g[b, t]`` are the return model's predictions of every prefix, ``returns[b]`` the episodes'
    returns ``G``, ``mask[b, t]`` the real steps. The residual ``G - g_{T-1}`` is dropped
    (``"none"``: ``Σ_t r̃_{t+1} = g_{T-1}``), spread evenly over the episode's steps
    (``"uniform"``) or added to its last step (``"terminal"``); with either of the last two,
    ``Σ_t r̃_{t+1} = G`` for every episode (RUDDER.md §1.2, §1.5).
    """
    redistributed = np.where(mask, np.diff(g, axis=1, prepend=0.0), 0.0)
    if residual == "none":
        return redistributed
    lengths = mask.sum(axis=1)
    rows = np.arange(g.shape[0])
    last = np.maximum(lengths - 1, 0)
    error = np.asarray(returns, dtype=np.float64) - g[rows, last]
    if residual == "uniform":
        return redistributed + np.where(mask, (error / np.maximum(lengths, 1))[:, None], 0.0)
    redistributed[rows, last] += np.where(lengths > 0, error, 0.0)
    return redistributed


def approx_kl(log_ratio: FloatArray) -> float:
    """``mean[(r - 1) - log r]`` with ``log r = log π_new(a|s) - log π_old(a|s)`` on a minibatch:
    Schulman's k3 estimator of KL(π_old ‖ π_new) (unbiased, ≥ 0 per sample), SB3's
    ``approx_kl_div``.

    >>> approx_kl(np.log(np.array([2.0, 0.5])))  # ((1 - ln 2) + (-0.5 + ln 2))/2 = 0.25
    0.25
    """
    log_r = np.asarray(log_ratio, dtype=np.float64)
    return float(np.mean(np.expm1(log_r) - log_r))


def last_epoch_mean(per_epoch: Sequence[Sequence[float]]) -> float:
    """The ``approx_kl`` of a PPO update: the mean of the minibatch KLs of the *last* epoch run.

    This is SB3's ``train/approx_kl`` (``PPO.train`` empties ``approx_kl_divs`` at the start of
    every epoch and logs ``np.mean(approx_kl_divs)`` after the loop, so an early stop leaves the
    stopped epoch's minibatches, the one that stopped it included); acconv's neural PPO logs the
    same statistic, so one ``ppo/kl`` threshold serves both. Each minibatch KL is taken before
    that minibatch's step: the last epoch's mean is the drift from π_old late in the update.

    >>> last_epoch_mean([[0.0, 0.01], [0.02, 0.04]])
    0.03
    """
    epochs = [list(epoch) for epoch in per_epoch if len(epoch)]
    if not epochs:
        raise ValueError("per_epoch: no minibatch KL in any epoch; expected at least one")
    return float(np.mean(epochs[-1]))
