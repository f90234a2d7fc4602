"""RUDDER's pocket-watch repair task (``rudder-demonstration-code/Environment.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from acconv.envs.finite import ActType, FiniteMDPEnv
from acconv.mdp import FiniteMDP

N_BRANDS = 4
N_STEPS = 50  # transport_time: decisions per episode
REPAIR = 0
NOT_REPAIR = 1
REPAIR_COST_MEAN = (1.0, 4.0, 5.0, 24.5)
REPAIR_COST_SD = (2.0, 2.0, 2.0, 1.0)
PRICE = (18.0, 28.0, 31.0, 59.0)
BRAND_COST_MEAN = (0.5, 2.5, 4.5, 18.0)
BRAND_COST_SD = 1.5
JAM_PROB, JAM_COST = 0.1, 0.1
TYRE_PROB, TYRE_COST = 0.05, 7.0
EXPECTED_EVENT_COST = N_STEPS * (JAM_PROB * JAM_COST + TYRE_PROB * TYRE_COST)
"""Expected delivery cost of an episode: 50 · (0.1 · 0.1 + 0.05 · 7) = 18."""


class PocketWatchEnv(FiniteMDPEnv):
    """Repair a pocket watch now, learn 50 steps later whether it was worth it.

    ## Description
    The demonstration task of RUDDER (``rudder-demonstration-code``), as specified in
    RUDDER.md §2.2. A watch of a random brand arrives; at ``t = 0`` the agent decides whether to
    repair it (paying the repair cost at once). The watch is then delivered over 50 steps, with
    traffic jams and flat tyres along the way, and a repaired watch is sold at the end for its
    brand's price minus the delivery costs and a brand-specific cost. Only the first decision
    matters, and its consequence arrives 50 steps later, buried in noise.

    ## Action Space
    ``Discrete(2)``: at ``t = 0``, ``0`` repairs and ``1`` does not. Later actions are ignored.

    ## Observation Space
    ``Discrete(397)``, the state index of :attr:`mdp`, a time-augmented model with states
    ``(t, brand, repaired)``:

    - ``b`` for ``b < 4``: ``t = 0``, brand ``b``, not yet decided (``"t=0,brand=b"``);
    - ``4 + 8 (t - 1) + 2 b + r`` for ``t = 1, ..., 49``: brand ``b``, repaired ``r ∈ {0, 1}``
      (``"t=7,brand=2,repaired"``);
    - ``396``: the absorbing terminal state ``"end"``.

    The counts of jams and flat tyres are not observed: they only shift the final payment, so
    the expected model is exact for values and policies.

    ## Starting State
    ``t = 0`` with a brand ``b ~ uniform{0, 1, 2, 3}``.

    ## Rewards
    Sampled (with ``self.np_random``) by the environment:

    - repairing at ``t = 0`` pays ``-Normal(mean (1, 4, 5, 24.5)_b, sd (2, 2, 2, 1)_b)``;
    - at each of the 50 steps (``t = 0`` included, after the decision) a traffic jam occurs with
      probability 0.1 (cost 0.1) and, independently, a flat tyre with probability 0.05 (cost 7);
    - the last transition pays, if the watch was repaired, the price ``(18, 28, 31, 59)_b``
      minus the summed event costs minus ``Normal(mean (0.5, 2.5, 4.5, 18)_b, sd 1.5)``, and
      ``0`` otherwise.

    :attr:`mdp` carries the expected rewards: ``-(1, 4, 5, 24.5)_b`` for repairing at ``t = 0``
    and ``price_b - 18 - (0.5, 2.5, 4.5, 18)_b`` on the last transition of a repaired watch
    (the expected event cost is ``50 · (0.1 · 0.1 + 0.05 · 7) = 18``). The expected value of
    repairing is ``-1.5, 3.5, 3.5, -1.5`` by brand and not repairing is worth ``0``, so the
    optimal first actions are ``[1, 0, 0, 1]`` (not, repair, repair, not; RUDDER.md §1.2 item 5).

    ## Episode End
    - Termination: after 50 decisions. ``mdp.horizon = 50`` and ``mdp.gamma = 1``.
    - Truncation: none (registered without a time limit).

    ## Information
    ``{"prob": p, "jam": bool, "flat_tyre": bool}`` from ``step``: the transition probability
    and the events of the step; ``{"prob": 0.25}`` from ``reset``.

    ## Arguments
    ```python
    import gymnasium as gym
    import acconv

    gym.make("acconv/PocketWatch-v0")
    ```
    The task has no parameters.

    ## Version History
    * v0: Initial version.
    """

    def __init__(self, render_mode: str | None = None) -> None:
        super().__init__(pocket_watch_mdp(), render_mode)
        n = self.mdp.n_states
        live = np.arange(n - 1)
        after = np.maximum(live - N_BRANDS, 0)
        self._time = np.where(live < N_BRANDS, 0, 1 + after // (2 * N_BRANDS)).tolist()
        self._brand = np.where(live < N_BRANDS, live, (after // 2) % N_BRANDS).tolist()
        self._repaired = ((live >= N_BRANDS) & (after % 2 == 1)).tolist()
        self._event_cost = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Draw the brand; the delivery-cost account starts at 0."""
        self._event_cost = 0.0
        return super().reset(seed=seed, options=options)

    def step(self, action: ActType) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Move to the next ``(t, brand, repaired)`` and pay the realised (noisy) reward."""
        s = self.s
        s_next, _expected, terminated, truncated, info = super().step(action)
        assert s is not None  # super().step raises ResetNeeded otherwise
        if self.mdp.terminal[s]:  # stepping in the absorbing terminal state: nothing happens
            return s_next, 0.0, terminated, truncated, info
        rng = self.np_random
        brand = self._brand[s]
        jam = bool(rng.random() < JAM_PROB)
        flat_tyre = bool(rng.random() < TYRE_PROB)
        self._event_cost += JAM_COST * jam + TYRE_COST * flat_tyre
        reward = 0.0
        if self._time[s] == 0 and int(action) == REPAIR:
            reward -= rng.normal(REPAIR_COST_MEAN[brand], REPAIR_COST_SD[brand])
        if terminated and self._repaired[s]:
            brand_cost = rng.normal(BRAND_COST_MEAN[brand], BRAND_COST_SD)
            reward += PRICE[brand] - self._event_cost - brand_cost
        info.update(jam=jam, flat_tyre=flat_tyre)
        return s_next, float(reward), terminated, truncated, info


def pocket_watch_mdp() -> FiniteMDP:
    """The expected-reward model of :class:`PocketWatchEnv` (layout in its docstring)."""
    B = N_BRANDS
    n = B + 2 * B * (N_STEPS - 1) + 1
    end = n - 1
    brands = np.arange(B)
    P = np.zeros((n, 2, n))
    R = np.zeros((n, 2))

    # t = 0: brand b -> (t = 1, b, repaired = [a = REPAIR]) at index B + 2 b + r.
    P[brands, REPAIR, B + 2 * brands + 1] = 1.0
    P[brands, NOT_REPAIR, B + 2 * brands] = 1.0
    R[brands, REPAIR] = -np.asarray(REPAIR_COST_MEAN)
    # t = 1..48: (t, b, r) -> (t + 1, b, r) whatever the action.
    middle = np.arange(B, B + 2 * B * (N_STEPS - 2))
    P[middle, :, middle + 2 * B] = 1.0
    # t = 49: (49, b, r) -> end, paying the expected sale of a repaired watch.
    last = np.arange(B + 2 * B * (N_STEPS - 2), end)
    P[last, :, end] = 1.0
    sale = np.asarray(PRICE) - EXPECTED_EVENT_COST - np.asarray(BRAND_COST_MEAN)
    R[last[1::2], :] = sale[:, None]  # odd offsets are the repaired states
    P[end, :, end] = 1.0

    rho = np.zeros(n)
    rho[:B] = 1.0 / B
    terminal = np.zeros(n, dtype=bool)
    terminal[end] = True
    labels = (
        *(f"t=0,brand={b}" for b in range(B)),
        *(
            f"t={t},brand={b},{'repaired' if r else 'not repaired'}"
            for t in range(1, N_STEPS)
            for b in range(B)
            for r in (0, 1)
        ),
        "end",
    )
    return FiniteMDP(
        P=P, R=R, gamma=1.0, rho=rho, terminal=terminal, horizon=N_STEPS, state_labels=labels,
    )
