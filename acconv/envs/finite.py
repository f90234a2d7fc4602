"""A Gymnasium environment that samples episodes from a :class:`~acconv.mdp.FiniteMDP`.

The environment carries its model as data (like Gymnasium's toy-text ``P`` tables): the
observation is the state index of ``env.mdp``, so every exact quantity computed on ``env.mdp``
(values, occupancies, policy gradients) refers to the same states an agent sees.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.error import ResetNeeded

from acconv.mdp import FiniteMDP, FloatArray

ObsType: TypeAlias = "int | np.int64"
"""Observations are returned as Python ``int`` (the space's samples are ``np.int64``)."""
ActType: TypeAlias = "int | np.integer[Any]"
"""Actions may be Python or NumPy integers (SB3 passes ``np.int64``)."""


class FiniteMDPEnv(gym.Env[ObsType, ActType]):
    """Episodes of a finite MDP: ``s0 ~ rho``, ``s' ~ P[s, a, :]``, reward from the model.

    ## Description
    A generic environment over any :class:`~acconv.mdp.FiniteMDP`. The model is the property
    :attr:`mdp`; the environment only samples from it.

    ## Action Space
    ``Discrete(mdp.n_actions)``. Anything else raises a ValueError naming the action and the range.

    ## Observation Space
    ``Discrete(mdp.n_states)``: the observation is the state index of :attr:`mdp`.

    ## Starting State
    ``s0 ~ mdp.rho``, sampled with ``self.np_random``.

    ## Rewards
    ``R_next[s, a, s']`` when the model has per-transition rewards, else the expected reward
    ``R[s, a]``; plus ``R_noise[s, a] · ε`` with a Rademacher ``ε = ±1`` when the model has
    ``R_noise``. Either way the mean reward of ``(s, a)`` is ``R[s, a]``.

    ## Episode End
    - Termination: the episode enters a terminal state of the model (``mdp.terminal[s']``).
    - Truncation: never by the environment itself; time limits are ``TimeLimit`` wrappers
      (``max_episode_steps`` at registration or in ``gymnasium.make``).

    ## Information
    ``reset`` and ``step`` return ``{"prob": p}``, the probability of the sampled start state
    (``rho[s0]``) or transition (``P[s, a, s']``), as in Gymnasium's toy-text environments.

    ## Arguments
    * ``mdp``: the :class:`~acconv.mdp.FiniteMDP` to sample from.
    * ``render_mode=None``: no render modes are available.

    ## Randomness
    Each step draws one uniform number for the next state (inverse-CDF sampling on precomputed
    cumulative rows of ``P``) and, when the model has ``R_noise``, one more for the sign of the
    noise. All draws use ``self.np_random``, so ``reset(seed=...)`` fixes the episode.

    ## Version History
    * v0: Initial version.
    """

    # gymnasium.Env declares metadata as a plain (non-ClassVar) dict attribute.
    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, mdp: FiniteMDP, render_mode: str | None = None) -> None:
        if not isinstance(mdp, FiniteMDP):
            raise TypeError(f"mdp is a {type(mdp).__name__}, expected a FiniteMDP")
        if render_mode is not None:
            raise ValueError(
                f"render_mode is {render_mode!r}, expected None (this environment cannot render)"
            )
        self.render_mode = render_mode
        self._mdp = mdp
        self.observation_space = spaces.Discrete(mdp.n_states)
        self.action_space = spaces.Discrete(mdp.n_actions)
        # Inverse-CDF sampling: the first s' with cdf[s, a, s'] > u for u ~ U[0, 1). Dividing by
        # the last entry makes each row end at exactly 1, so rounding in the sums can never
        # select a state of probability 0 (their cdf entries equal their predecessor's).
        cdf = np.cumsum(mdp.P, axis=2)
        self._cdf: FloatArray = cdf / cdf[:, :, -1:]
        rho_cdf = np.cumsum(mdp.rho)
        self._rho_cdf: FloatArray = rho_cdf / rho_cdf[-1]
        self._terminal: list[bool] = mdp.terminal.tolist()
        self._s: int | None = None

    @property
    def mdp(self) -> FiniteMDP:
        """The model this environment samples from; observations are its state indices."""
        return self._mdp

    @property
    def s(self) -> int | None:
        """The current state index (``None`` before the first ``reset``)."""
        return self._s

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Start an episode at ``s0 ~ rho``; returns ``(s0, {"prob": rho[s0]})``."""
        super().reset(seed=seed)
        s = int(self._rho_cdf.searchsorted(self.np_random.random(), side="right"))
        self._s = s
        return s, {"prob": float(self._mdp.rho[s])}

    def step(self, action: ActType) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Sample ``s' ~ P[s, a, :]`` and the reward; ``terminated = mdp.terminal[s']``."""
        s = self._s
        if s is None:
            raise ResetNeeded("cannot call step() before reset()")
        a = self._check_action(action)
        mdp = self._mdp
        s_next = int(self._cdf[s, a].searchsorted(self.np_random.random(), side="right"))
        reward = float(mdp.R[s, a] if mdp.R_next is None else mdp.R_next[s, a, s_next])
        if mdp.R_noise is not None:
            sign = 1.0 if self.np_random.random() < 0.5 else -1.0
            reward += sign * float(mdp.R_noise[s, a])
        self._s = s_next
        terminated = self._terminal[s_next]
        return s_next, reward, terminated, False, {"prob": float(mdp.P[s, a, s_next])}

    def _check_action(self, action: ActType) -> int:
        # Fast path for Python and NumPy integers; Discrete.contains also admits 0-d arrays.
        if not isinstance(action, bool):
            if isinstance(action, (int, np.integer)):
                if 0 <= action < self._mdp.n_actions:
                    return int(action)
            elif self.action_space.contains(action):
                return int(action)
        raise ValueError(
            f"action is {action!r}, expected an integer in [0, {self._mdp.n_actions - 1}]"
        )
