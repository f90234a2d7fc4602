"""Gymnasium environments over a :class:`~acconv.mdp.FiniteMDP`; each exposes its model as ``.mdp``.

``import acconv`` registers the ids in :data:`ENV_IDS`, after which::

    import gymnasium as gym
    import acconv

    env = gym.make("acconv/DelayedChain-v0", delay=20, noise=1.0)
    mdp = env.unwrapped.mdp  # observations are state indices of this model

This module does not import torch.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from acconv.envs.charge_discharge import ChargeDischargeEnv, charge_discharge_mdp
from acconv.envs.delayed_chain import DelayedChainEnv, delayed_chain_mdp
from acconv.envs.finite import FiniteMDPEnv
from acconv.envs.garnet import GarnetEnv
from acconv.envs.pocket_watch import PocketWatchEnv, pocket_watch_mdp
from acconv.mdp import FiniteMDP, from_gymnasium

__all__ = [
    "ENV_IDS",
    "ChargeDischargeEnv",
    "DelayedChainEnv",
    "FiniteMDPEnv",
    "GarnetEnv",
    "PocketWatchEnv",
    "charge_discharge_mdp",
    "delayed_chain_mdp",
    "model_of",
    "pocket_watch_mdp",
    "register_envs",
]

# id -> (entry point, max_episode_steps). The delayed tasks end by themselves after a number of
# decisions that depends on their kwargs, so they get no TimeLimit; Garnet is continuing.
_REGISTRY: dict[str, tuple[str, int | None]] = {
    "acconv/DelayedChain-v0": ("acconv.envs.delayed_chain:DelayedChainEnv", None),
    "acconv/ChargeDischarge-v0": ("acconv.envs.charge_discharge:ChargeDischargeEnv", None),
    "acconv/PocketWatch-v0": ("acconv.envs.pocket_watch:PocketWatchEnv", None),
    "acconv/Garnet-v0": ("acconv.envs.garnet:GarnetEnv", 200),
}

ENV_IDS: tuple[str, ...] = tuple(_REGISTRY)
"""The Gymnasium ids registered by :func:`register_envs`."""


def register_envs() -> None:
    """Register the ids of :data:`ENV_IDS` with Gymnasium; ids already registered are skipped."""
    for env_id, (entry_point, max_episode_steps) in _REGISTRY.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id, entry_point=entry_point, max_episode_steps=max_episode_steps
            )


def model_of(
    env_id: str, env_kwargs: dict[str, Any] | None = None, gamma: float | None = None
) -> FiniteMDP:
    """The exact model of a registered environment: its ``.mdp``, else its toy-text table.

    ``gamma`` overrides the model's discount (default: the environment's own model, else 0.99
    for Gymnasium's toy-text tables). Unknown ids, bad keyword arguments and environments without
    a model raise ``ValueError`` with a one-line message.
    """
    register_envs()
    try:
        env = gymnasium.make(env_id, **(env_kwargs or {}))
    except gymnasium.error.Error as error:
        raise ValueError(f"environment {env_id!r} is not registered ({error})") from error
    except TypeError as error:
        raise ValueError(f"bad keyword arguments for {env_id}: {error}") from error
    try:
        model = getattr(env.unwrapped, "mdp", None)
        if isinstance(model, FiniteMDP):
            return model if gamma is None else model.with_gamma(gamma)
        return from_gymnasium(env, 0.99 if gamma is None else gamma)
    finally:
        env.close()
