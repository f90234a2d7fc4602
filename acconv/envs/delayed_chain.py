"""One early decision whose reward arrives ``delay`` steps later (bsuite umbrella_length)."""

from __future__ import annotations

from math import isqrt

import numpy as np

from acconv._validate import MAX_MODEL_ENTRIES, check_float, check_int, check_model_size
from acconv.envs.finite import FiniteMDPEnv
from acconv.mdp import FiniteMDP

MAX_ACTIONS = 100


class DelayedChainEnv(FiniteMDPEnv):
    """The first action decides; the reward for it arrives ``delay`` steps later.

    ## Description
    A credit-assignment task modelled on bsuite's ``umbrella_length`` (RUDDER.md §2.5). At reset
    a context ``c`` is drawn uniformly from ``{0, ..., n_actions - 1}`` and shown in the start
    state. The action ``a0`` taken at ``t = 0`` is the only decision that matters; the actions at
    ``t = 1, ..., delay`` have no effect. The transition out of ``t = delay`` pays ``+1`` if
    ``a0 == c`` and ``-1`` otherwise. With ``noise > 0`` every intermediate transition pays
    unrelated zero-mean noise, which is what makes Monte-Carlo credit assignment hard.

    ## Action Space
    ``Discrete(n_actions)``. At ``t = 0`` action ``a`` is the guess of the context; later
    actions are ignored.

    ## Observation Space
    ``Discrete(n_actions + 2 * delay + 1)``, the state index of :attr:`mdp`, a time-augmented
    Markov model (labels in ``mdp.state_labels``):

    - ``c`` for ``c < n_actions``: ``t = 0`` with context ``c`` (``"t=0,context=c"``);
    - ``n_actions + 2 * (t - 1) + m`` for ``t = 1, ..., delay``: time ``t``, where ``m = 1`` if
      ``a0`` matched the context (``"t=3,match"``) and ``m = 0`` if not (``"t=3,miss"``);
    - ``n_actions + 2 * delay``: the absorbing terminal state ``"end"``.

    The context itself is forgotten after the decision: only whether it was matched matters.

    ## Starting State
    ``t = 0`` with a context ``c ~ uniform{0, ..., n_actions - 1}``.

    ## Rewards
    - Transition out of ``t = delay``: ``+1`` if ``a0 == c``, else ``-1``.
    - Transitions out of ``t = 1, ..., delay - 1`` (all but the first and the last): ``0``, plus
      ``±noise`` with a fair sign when ``noise > 0``. The model records this as
      ``mdp.R_noise``, so every expectation computed on :attr:`mdp` ignores it.
    - Transition out of ``t = 0``: ``0``.

    The optimal return is ``1`` (always match the context). A uniformly random policy matches
    with probability ``1 / n_actions`` and is worth ``(2 - n_actions) / n_actions``, so ``0``
    for two actions.

    ## Episode End
    - Termination: after ``delay + 1`` decisions (``t = 0, ..., delay``) the episode enters the
      terminal state. ``mdp.horizon = delay + 1`` and ``mdp.gamma = 1``.
    - Truncation: none (registered without a time limit).

    ## Information
    ``{"prob": p}``, the probability of the sampled start state or transition.

    ## Arguments
    ```python
    import gymnasium as gym
    import acconv

    gym.make("acconv/DelayedChain-v0", delay=10, n_actions=2, noise=0.0)
    ```
    * ``delay=10``: number of steps between the decision and its reward, an integer ``>= 1``
      such that the dense model stays below ``n_actions · states² = 2**24`` entries
      (``delay <= 1446`` for two actions).
    * ``n_actions=2``: number of actions and of contexts, an integer in ``[2, 100]``.
    * ``noise=0.0``: scale of the Rademacher noise on intermediate rewards, a number ``>= 0``.

    ## Version History
    * v0: Initial version.
    """

    def __init__(
        self,
        delay: int = 10,
        n_actions: int = 2,
        noise: float = 0.0,
        render_mode: str | None = None,
    ) -> None:
        self.delay = check_int(delay, "delay", 1)
        self.n_actions = check_int(n_actions, "n_actions", 2, MAX_ACTIONS)
        self.noise = check_float(noise, "noise", 0.0)
        A = self.n_actions
        check_model_size(
            self.delay, "delay", largest=(isqrt(MAX_MODEL_ENTRIES // A) - A - 1) // 2,
            n_states=A + 2 * self.delay + 1, n_actions=A, formula="n_actions + 2·delay + 1",
        )
        super().__init__(delayed_chain_mdp(self.delay, self.n_actions, self.noise), render_mode)


def delayed_chain_mdp(delay: int, n_actions: int, noise: float = 0.0) -> FiniteMDP:
    """The time-augmented model of :class:`DelayedChainEnv` (state layout in its docstring)."""
    A, L = n_actions, delay
    n = A + 2 * L + 1
    end = n - 1
    actions = np.arange(A)
    match = np.arange(2)  # m = 0: a0 missed the context, m = 1: it matched
    P = np.zeros((n, A, n))
    R = np.zeros((n, A))

    # t = 0: state c, action a -> (t = 1, m = [a == c]) at index A + m.
    context = actions[:, None]
    P[context, actions[None, :], A + (actions[None, :] == context)] = 1.0
    # t = 1..L-1: (t, m) -> (t + 1, m) whatever the action; indices A + 2 (t - 1) + m.
    middle = (A + 2 * np.arange(L - 1)[:, None] + match[None, :]).ravel()
    P[middle[:, None], actions[None, :], middle[:, None] + 2] = 1.0
    # t = L: (L, m) -> end, paying +1 for a match and -1 for a miss.
    last = A + 2 * (L - 1) + match
    P[last, :, end] = 1.0
    R[last, :] = (2.0 * match - 1.0)[:, None]
    P[end, :, end] = 1.0

    R_noise = None
    if noise > 0:
        R_noise = np.zeros((n, A))
        R_noise[middle] = noise
    rho = np.zeros(n)
    rho[:A] = 1.0 / A
    terminal = np.zeros(n, dtype=bool)
    terminal[end] = True
    labels = (
        *(f"t=0,context={c}" for c in range(A)),
        *(f"t={t},{'match' if m else 'miss'}" for t in range(1, L + 1) for m in (0, 1)),
        "end",
    )
    return FiniteMDP(
        P=P, R=R, gamma=1.0, rho=rho, terminal=terminal, horizon=L + 1,
        R_noise=R_noise, state_labels=labels,
    )
