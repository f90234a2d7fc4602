"""A random Garnet MDP as a Gymnasium environment, fixed by ``mdp_seed``."""

from __future__ import annotations

from math import isqrt

import numpy as np

from acconv._validate import MAX_MODEL_ENTRIES, check_float, check_int, check_model_size
from acconv.envs.finite import FiniteMDPEnv
from acconv.mdp import garnet


class GarnetEnv(FiniteMDPEnv):
    """Episodes of a random Garnet MDP, the test-bed of the actor-critic convergence literature.

    ## Description
    The Garnet MDP of :func:`acconv.mdp.garnet` (Archibald, McKinnon & Thomas 1995; Bhatnagar
    et al. 2009): for every state-action pair, ``branching`` distinct next states with random
    probabilities and a reward ``R[s, a] ~ U[0, 1]``. The model is drawn once from
    ``numpy.random.default_rng(mdp_seed)``, so ``mdp_seed`` fixes the MDP while the seed passed
    to ``reset`` randomises the episodes.

    ## Action Space
    ``Discrete(n_actions)``.

    ## Observation Space
    ``Discrete(n_states)``, the state index of :attr:`mdp`.

    ## Starting State
    Uniform over the states.

    ## Rewards
    The expected reward ``R[s, a] ∈ [0, 1]`` of :attr:`mdp`, deterministic given ``(s, a)``.

    ## Episode End
    - Termination: never; the task is continuing and discounted (``mdp.gamma = gamma``).
    - Truncation: after 200 steps (``max_episode_steps=200`` at registration).

    ## Information
    ``{"prob": p}``, the probability of the sampled start state or transition.

    ## Arguments
    ```python
    import gymnasium as gym
    import acconv

    gym.make(
        "acconv/Garnet-v0", n_states=20, n_actions=4, branching=3, mdp_seed=0, gamma=0.9
    )
    ```
    * ``n_states=20``: number of states, an integer ``>= 1`` with
      ``n_actions · n_states² <= 2**24`` (the dense model's size; ``n_states <= 2048`` for
      four actions).
    * ``n_actions=4``: number of actions, an integer ``>= 1``.
    * ``branching=3``: successors of each state-action pair, an integer in ``[1, n_states]``.
    * ``mdp_seed=0``: seed of the model, an integer ``>= 0``.
    * ``gamma=0.9``: discount factor of :attr:`mdp`, a number in ``(0, 1)``. It does not change
      the episodes, only the model's values.

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        n_states: int = 20,
        n_actions: int = 4,
        branching: int = 3,
        mdp_seed: int = 0,
        gamma: float = 0.9,
        render_mode: str | None = None,
    ) -> None:
        self.n_states = check_int(n_states, "n_states", 1)
        self.n_actions = check_int(n_actions, "n_actions", 1)
        check_model_size(
            self.n_states, "n_states", largest=isqrt(MAX_MODEL_ENTRIES // self.n_actions),
            n_states=self.n_states, n_actions=self.n_actions, formula="n_states",
        )
        self.branching = check_int(branching, "branching", 1, self.n_states)
        self.mdp_seed = check_int(mdp_seed, "mdp_seed", 0)
        self.gamma = check_float(gamma, "gamma", 0.0, 1.0, open_minimum=True, open_maximum=True)
        mdp = garnet(
            self.n_states, self.n_actions, self.branching,
            rng=np.random.default_rng(self.mdp_seed), gamma=self.gamma,
        )
        super().__init__(mdp, render_mode)
