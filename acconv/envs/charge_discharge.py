"""RUDDER's Charge-Discharge task: a large delayed reward against a small immediate distractor."""

from __future__ import annotations

import numpy as np

from acconv._validate import check_int
from acconv.envs.finite import FiniteMDPEnv
from acconv.mdp import FiniteMDP

CHARGE = 0
DISCHARGE = 1
MAX_DELAY = 60
"""Largest accepted ``delay``: the dense model has ``delay (delay + 1) / 2 + 1`` states."""


class ChargeDischargeEnv(FiniteMDPEnv):
    """Charge, then discharge: 10 per discharge of a charged battery, paid only at the end.

    ## Description
    The Charge-Discharge task of the RUDDER paper's artificial tasks, reconstructed from
    RUDDER.md §2.3, where it is marked **UNVERIFIED** (the paper's appendix was not read; check
    it against arXiv:1806.07857 before citing numbers). A battery is charged (``C``) or
    discharged (``D``); each action sets the state deterministically. Discharging a discharged
    battery pays 1 at once; discharging a charged one pays 10, but these rewards are accumulated
    and paid only at the end of the episode. The immediate 1 is a distractor: always
    discharging earns ``delay``, while alternating charge and discharge earns about 5 per step.

    ## Action Space
    ``Discrete(2)``: ``0`` charge (``c``, next state ``C``), ``1`` discharge (``d``, next
    state ``D``).

    ## Observation Space
    ``Discrete(delay * (delay + 1) // 2 + 1)``, the state index of :attr:`mdp`. The delayed
    reward depends on history, so the model augments the battery state with the time ``t`` and
    the number ``k`` of 10-rewards earned so far (RUDDER.md §1.2 step 1). At time ``t`` exactly
    ``t + 1`` states ``(x, k)`` are reachable, numbered ``j = 2 k + [x = C]``
    (``j = 0, ..., t``), so ``(t, x, k)`` has index ``t (t + 1) / 2 + 2 k + [x = C]`` for
    ``t = 0, ..., delay - 1``; the last index is the absorbing terminal state ``"end"``. Labels
    such as ``"t=3,C,k=1"`` are in ``mdp.state_labels``. Note that the observation therefore
    reveals the accumulated, not yet paid reward ``10 k``.

    ## Starting State
    ``t = 0``, discharged, ``k = 0`` (index 0).

    ## Rewards
    - ``r(D, d) = 1``, paid immediately;
    - ``r(C, d) = 10``, added to the hidden account (``k += 1``) and paid, as ``10 k`` in total,
      on the last transition;
    - ``r(C, c) = r(D, c) = 0``.

    The optimal return is ``delay + 8 * (delay // 2)`` (``50`` for ``delay = 10``): every
    10-reward needs a preceding charge, so at most ``delay // 2`` discharges of a charged
    battery fit, and the remaining steps are best spent discharging an empty one. Alternating
    ``c, d, c, d, ...`` (ending with ``d`` when ``delay`` is odd) achieves it. Always
    discharging earns ``delay``.

    ## Episode End
    - Termination: after ``delay`` decisions. ``mdp.horizon = delay`` and ``mdp.gamma = 1``.
    - Truncation: none (registered without a time limit).

    ## Information
    ``{"prob": p}``, the probability of the sampled start state or transition (always 1).

    ## Arguments
    ```python
    import gymnasium as gym
    import acconv

    gym.make("acconv/ChargeDischarge-v0", delay=10)
    ```
    * ``delay=10``: number of decisions, an integer in ``[1, 60]`` (the dense model of
      ``delay = 60`` already has 1831 states).

    ## Version History
    * v0: Initial version.
    """

    def __init__(self, delay: int = 10, render_mode: str | None = None) -> None:
        delay = check_int(delay, "delay", 1)
        if delay > MAX_DELAY:
            n = n_states(delay)
            raise ValueError(
                f"delay is {delay}, expected an integer in [1, {MAX_DELAY}]: the time-augmented "
                f"model has delay·(delay+1)/2 + 1 = {n} states and a dense P of 2·{n}² floats"
            )
        self.delay = delay
        super().__init__(charge_discharge_mdp(delay), render_mode)


def n_states(delay: int) -> int:
    """Number of states of :func:`charge_discharge_mdp`: ``delay (delay + 1) / 2 + 1``."""
    return delay * (delay + 1) // 2 + 1


def charge_discharge_mdp(delay: int) -> FiniteMDP:
    """The time-augmented model of :class:`ChargeDischargeEnv` (layout in its docstring)."""
    T = delay
    end = n_states(T) - 1
    # Every live state as (t, j) with j = 2 k + [x = C]: time t has the t + 1 states j = 0..t.
    t = np.repeat(np.arange(T), np.arange(1, T + 1))
    j = np.arange(end) - t * (t + 1) // 2
    charged = j % 2 == 1

    P = np.zeros((end + 1, 2, end + 1))
    R = np.zeros((end + 1, 2))
    # Charge: x' = C, k' = k, so j' = 2 k + 1. Discharge: x' = D, k' = k + [x = C], so
    # j' = 2 k' = j + [x = C]; discharging an empty battery pays 1 at once.
    j_next = np.stack([j | 1, j + charged], axis=1)  # shape (live states, 2)
    immediate = np.stack([np.zeros(end), (~charged).astype(float)], axis=1)
    final = (t == T - 1)[:, None]
    s_next = np.where(final, end, (t + 1)[:, None] * (t + 2)[:, None] // 2 + j_next)
    rows = np.arange(end)[:, None]
    P[rows, np.arange(2)[None, :], s_next] = 1.0
    # The last transition also pays the account: 10 k' with k' = j' // 2.
    R[:end] = immediate + np.where(final, 10.0 * (j_next // 2), 0.0)
    P[end, :, end] = 1.0

    rho = np.zeros(end + 1)
    rho[0] = 1.0
    terminal = np.zeros(end + 1, dtype=bool)
    terminal[end] = True
    labels = (
        *(f"t={ti},{'C' if ji % 2 else 'D'},k={ji // 2}" for ti, ji in zip(t, j, strict=True)),
        "end",
    )
    return FiniteMDP(
        P=P, R=R, gamma=1.0, rho=rho, terminal=terminal, horizon=T, state_labels=labels,
    )
