"""Gymnasium environments over a :class:`~acconv.mdp.FiniteMDP`; each exposes its model as ``.mdp``.

``import acconv`` registers the ids in :data:`ENV_IDS`, after which::

    import gymnasium as gym
    import acconv

    env = gym.make("acconv/DelayedChain-v0", delay=20, noise=1.0)
    mdp = env.unwrapped.mdp  # observations are state indices of this model

This module does not import torch.
"""

from __future__ import annotations

import gymnasium

from acconv.envs.charge_discharge import ChargeDischargeEnv, charge_discharge_mdp
from acconv.envs.delayed_chain import DelayedChainEnv, delayed_chain_mdp
from acconv.envs.finite import FiniteMDPEnv
from acconv.envs.garnet import GarnetEnv
from acconv.envs.pocket_watch import PocketWatchEnv, pocket_watch_mdp

__all__ = [
    "ENV_IDS",
    "ChargeDischargeEnv",
    "DelayedChainEnv",
    "FiniteMDPEnv",
    "GarnetEnv",
    "PocketWatchEnv",
    "charge_discharge_mdp",
    "delayed_chain_mdp",
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
