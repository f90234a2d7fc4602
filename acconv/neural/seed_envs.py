"""K environments, one per seed, stepped together: what the batched neural learners act in.

Every implementation has the semantics of a Python loop over ``K`` Gymnasium environments,
seed ``k``'s environment ``envs[k]``:

    reset(seeds):  obs[k] = envs[k].reset(seed=seeds[k])
    step(actions): obs, r, term, trunc = envs[k].step(actions[k]); final[k] = obs
                   if term or trunc: obs = envs[k].reset()        (no seed: the stream goes on)
    step(actions, active): the same for the seeds ``active`` marks; the others stand still
                   (no step, no draw: obs and final are their current observation, r = 0)

so seed ``k``'s episodes are the ones its environment alone would give: the same random stream
(``gymnasium.utils.seeding.np_random(seeds[k])``, as ``Env.reset(seed=…)`` makes it), drawn in
the same order. :func:`seed_envs` picks the fastest implementation that has these semantics:

- :class:`ModelEnvs` for :class:`~acconv.envs.finite.FiniteMDPEnv` s (the model environments)
  of one model, optionally behind ``gymnasium.make``'s ``TimeLimit``: one vectorised
  inverse-CDF draw per step for all seeds, on the environment's own CDF tables.
- :class:`CartPoleEnvs` for ``CartPole-v1`` as ``gymnasium.make`` builds it: Gymnasium's
  numpy-vectorised ``CartPoleVectorEnv`` for the dynamics, with each seed's resets drawn from
  that seed's own generator (the vector environment draws every reset from one shared
  generator, which would tie the seeds together).
- :class:`LoopEnvs` otherwise: the loop above, literally.

Tests check each fast implementation against the loop on the same seeds and actions.
(:class:`acconv.sampling.MDPSampler` samples whole episodes under a fixed policy table; a PPO
rollout is ``T`` steps that continue episodes across updates, with actions chosen step by
step, so the model environments are stepped here instead.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from numpy.typing import NDArray

from acconv.mdp import FiniteMDP

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# Wrappers of gymnasium.make that change neither the episodes nor the random stream.
_TRANSPARENT = ("OrderEnforcing", "PassiveEnvChecker", "EnvChecker")


@dataclass(frozen=True)
class Steps:
    """One step of every seed: ``obs[k]`` is the next observation (a new episode's first when
    seed ``k``'s episode ended), ``final[k]`` the observation the step reached (before any
    reset), ``rewards``, ``terminated``, ``truncated`` of shape ``(K,)``."""

    obs: NDArray[Any]
    final: NDArray[Any]
    rewards: NDArray[np.float64]
    terminated: BoolArray
    truncated: BoolArray

    @property
    def ended(self) -> BoolArray:
        """The seeds whose episode ended at this step (terminated or truncated)."""
        return self.terminated | self.truncated


class LoopEnvs:
    """``K`` Gymnasium environments stepped one after the other (the reference semantics)."""

    def __init__(self, envs: Sequence[Any]) -> None:
        self.envs = list(envs)
        self.mdp: FiniteMDP | None = getattr(self.envs[0].unwrapped, "mdp", None)
        self.observation_space: Any = self.envs[0].observation_space
        self.action_space: Any = self.envs[0].action_space
        self._obs: NDArray[Any] = np.zeros(0)

    def reset(self, seeds: Sequence[int]) -> NDArray[Any]:
        """Every environment's first observation, ``envs[k]`` seeded with ``seeds[k]``."""
        self._obs = np.stack(
            [np.asarray(env.reset(seed=int(s))[0]) for env, s in zip(self.envs, seeds, strict=True)]
        )
        return np.array(self._obs)

    def restart(self, which: BoolArray) -> NDArray[Any]:
        """Start a new episode (``env.reset()``) in the environments ``which`` marks."""
        self._obs = self._obs.copy()  # a new array: the caller may hold the last one
        for k in np.flatnonzero(which):
            self._obs[k] = np.asarray(self.envs[k].reset()[0])
        return self._obs

    def step(self, actions: IntArray, active: BoolArray | None = None) -> Steps:
        """``envs[k].step(actions[k])`` for every ``k`` (that ``active`` marks); ended episodes
        are reset."""
        K = len(self.envs)
        rewards = np.zeros(K)
        terminated, truncated = np.zeros(K, dtype=bool), np.zeros(K, dtype=bool)
        final, following = self._obs.copy(), self._obs.copy()
        for k, env in enumerate(self.envs):
            if active is not None and not active[k]:
                continue
            obs, rewards[k], terminated[k], truncated[k], _ = env.step(int(actions[k]))
            final[k] = obs
            if terminated[k] or truncated[k]:
                obs, _ = env.reset()
            following[k] = obs
        self._obs = following
        return Steps(following, final, rewards, terminated, truncated)


def _unwrap(env: Any) -> tuple[Any, int | None] | None:
    """``(base environment, TimeLimit's max_episode_steps or None)`` when every wrapper of
    ``env`` is transparent or a ``TimeLimit``; else ``None``."""
    limit = None
    while hasattr(env, "env") and env is not env.unwrapped:
        name = type(env).__name__
        if name == "TimeLimit":
            limit = int(env._max_episode_steps)
        elif name not in _TRANSPARENT:
            return None
        env = env.env
    return env, limit


class ModelEnvs:
    """``K`` copies of one :class:`~acconv.envs.finite.FiniteMDPEnv`, stepped as arrays.

    Per seed and step, the draws of :meth:`FiniteMDPEnv.step` in its order: ``u ~ U[0, 1)``,
    ``s' = #{j : cdf[s, a, j] ≤ u}`` (``searchsorted(…, side="right")`` on the same table),
    then one more ``U[0, 1)`` for the sign of the reward noise if the model has noise. A
    ``TimeLimit`` truncates after ``max_episode_steps`` steps, as the wrapper does.
    """

    def __init__(self, base: Any, n_seeds: int, limit: int | None) -> None:
        self.base, self.K, self.limit = base, n_seeds, limit
        self.mdp: FiniteMDP = base.mdp
        self.observation_space: Any = base.observation_space
        self.action_space: Any = base.action_space
        self._cdf, self._rho_cdf = base._cdf, base._rho_cdf
        self._s = np.zeros(n_seeds, dtype=np.int64)
        self._elapsed = np.zeros(n_seeds, dtype=np.int64)
        self._generators: list[np.random.Generator] = []

    def _start(self, k: int) -> int:
        u = self._generators[k].random()
        return int(self._rho_cdf.searchsorted(u, side="right"))

    def reset(self, seeds: Sequence[int]) -> IntArray:
        """Seed ``k``'s generator is ``np_random(seeds[k])``; ``s_0 ~ ρ`` from it."""
        self._generators = [seeding.np_random(int(s))[0] for s in seeds]
        self._s = np.array([self._start(k) for k in range(self.K)], dtype=np.int64)
        self._elapsed[:] = 0
        return np.array(self._s, dtype=np.int64)

    def restart(self, which: BoolArray) -> IntArray:
        """Start a new episode (``s_0 ~ ρ``) for the seeds ``which`` marks."""
        for k in np.flatnonzero(which):
            self._s[k] = self._start(int(k))
            self._elapsed[k] = 0
        return np.array(self._s, dtype=np.int64)

    def step(self, actions: IntArray, active: BoolArray | None = None) -> Steps:
        """One transition of every seed (that ``active`` marks: the others stand still and
        draw nothing); ended episodes restart from ``ρ``."""
        mdp, s = self.mdp, self._s
        moving = np.ones(self.K, dtype=bool) if active is None else np.asarray(active, bool)
        a = np.where(moving, np.asarray(actions, dtype=np.int64), 0)
        if a.min() < 0 or a.max() >= mdp.n_actions:
            raise ValueError(f"actions are {a}, expected integers in [0, {mdp.n_actions - 1}]")
        generators = [g if m else None for g, m in zip(self._generators, moving, strict=True)]
        u = np.array([0.0 if g is None else g.random() for g in generators])
        s_next = np.where(moving, (self._cdf[s, a] <= u[:, None]).sum(axis=1), s)
        rewards = np.asarray(mdp.R[s, a] if mdp.R_next is None else mdp.R_next[s, a, s_next])
        rewards = np.where(moving, rewards, 0.0).astype(np.float64)
        if mdp.R_noise is not None:
            signs = np.array(
                [0.0 if g is None else 1.0 if g.random() < 0.5 else -1.0 for g in generators]
            )
            rewards = rewards + signs * mdp.R_noise[s, a]
        terminated = np.asarray(mdp.terminal[s_next], dtype=bool) & moving
        self._elapsed += moving
        truncated = (
            (self._elapsed >= self.limit) & moving
            if self.limit is not None
            else np.zeros(self.K, bool)
        )
        obs = s_next.copy()
        for k in np.flatnonzero(terminated | truncated):
            obs[k] = self._start(int(k))
            self._elapsed[k] = 0
        self._s = obs.copy()
        return Steps(obs, s_next, rewards, terminated, truncated)


class CartPoleEnvs:
    """``K`` CartPole-v1 environments: Gymnasium's ``CartPoleVectorEnv`` moves them all at once;
    each reset is ``np_random(seed).uniform(-0.05, 0.05, size=4)`` from the seed's own
    generator, as ``CartPoleEnv.reset`` draws it. The vector environment's own resets (one
    shared generator, one step late) never happen: every ended episode is reset here at once.
    """

    def __init__(self, n_seeds: int, limit: int) -> None:
        from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

        self.K = n_seeds
        self.vector = CartPoleVectorEnv(num_envs=n_seeds, max_episode_steps=limit)
        self.observation_space: Any = self.vector.single_observation_space
        self.action_space: Any = self.vector.single_action_space
        self._generators: list[np.random.Generator] = []

    def _start(self, k: int) -> None:
        assert self.vector.state is not None
        self.vector.state[:, k] = self._generators[k].uniform(low=-0.05, high=0.05, size=(4,))
        self.vector.steps[k] = 0

    def reset(self, seeds: Sequence[int]) -> NDArray[np.float32]:
        """Seed ``k``'s first state from ``np_random(seeds[k])``."""
        self.vector.reset(seed=0)  # allocates the arrays; every state is redrawn below
        self._generators = [seeding.np_random(int(s))[0] for s in seeds]
        for k in range(self.K):
            self._start(k)
        return self._observations()

    def restart(self, which: BoolArray) -> NDArray[np.float32]:
        """Start a new episode for the seeds ``which`` marks."""
        for k in np.flatnonzero(which):
            self._start(int(k))
        return self._observations()

    def _observations(self) -> NDArray[np.float32]:
        assert self.vector.state is not None
        return np.asarray(self.vector.state.T, dtype=np.float32)

    def step(self, actions: IntArray, active: BoolArray | None = None) -> Steps:
        """One step of every cart (that ``active`` marks: the others are put back where they
        were); ended episodes restart from their seed's generator."""
        assert self.vector.state is not None
        still = None if active is None else ~np.asarray(active, dtype=bool)
        if still is not None:
            state, steps = self.vector.state[:, still].copy(), self.vector.steps[still].copy()
        final, rewards, terminated, truncated, _ = self.vector.step(
            np.asarray(actions, dtype=np.int64)
        )
        if still is not None:
            self.vector.state[:, still], self.vector.steps[still] = state, steps
            final = final.copy()
            final[still] = state.T
            rewards = np.where(still, 0.0, rewards)
            terminated, truncated = terminated & ~still, truncated & ~still
        for k in np.flatnonzero(terminated | truncated):
            self._start(int(k))
        self.vector.prev_done[:] = False  # no autoreset by the vector environment
        return Steps(self._observations(), final, rewards.astype(np.float64), terminated, truncated)


SeedEnvs = LoopEnvs | ModelEnvs | CartPoleEnvs


def seed_envs(envs: Sequence[Any]) -> SeedEnvs:
    """The fastest implementation of the loop over ``envs`` (see the module docstring)."""
    from acconv.envs.finite import FiniteMDPEnv

    if not envs:
        raise ValueError("envs is empty, expected one environment per seed")
    if len({id(env) for env in envs}) < len(envs):
        raise ValueError(
            "envs holds one environment object more than once, expected a separate "
            "environment per seed"
        )
    if len(envs) == 1:  # nothing to vectorise: the environment itself
        return LoopEnvs(envs)
    unwrapped = [_unwrap(env) for env in envs]
    if any(u is None for u in unwrapped):
        return LoopEnvs(envs)
    bases = [u[0] for u in unwrapped if u is not None]
    limits = {u[1] for u in unwrapped if u is not None}
    if len(limits) > 1:
        return LoopEnvs(envs)
    (limit,) = limits
    base = bases[0]
    if all(
        type(b) is type(base)
        and isinstance(b, FiniteMDPEnv)
        and type(b).step is FiniteMDPEnv.step
        and type(b).reset is FiniteMDPEnv.reset
        and _same_model(b.mdp, base.mdp)
        for b in bases
    ):
        return ModelEnvs(base, len(envs), limit)
    if limit is not None and all(_is_default_cartpole(b) for b in bases):
        return CartPoleEnvs(len(envs), limit)
    return LoopEnvs(envs)


def _same_model(a: FiniteMDP, b: FiniteMDP) -> bool:
    """Whether two models sample the same episodes (the sampled fields are equal)."""
    if a is b:
        return True
    arrays = ("P", "R", "rho", "terminal", "R_next", "R_noise")
    return a.gamma == b.gamma and all(
        np.array_equal(getattr(a, f), getattr(b, f))
        if getattr(a, f) is not None
        else getattr(b, f) is None
        for f in arrays
    )


def _is_default_cartpole(env: Any) -> bool:
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    return (
        type(env) is CartPoleEnv
        and not env._sutton_barto_reward
        and env.kinematics_integrator == "euler"
        and env.render_mode is None
    )
