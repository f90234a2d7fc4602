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

from acconv._validate import check_dense_size
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
    kwargs = dict(env_kwargs or {})
    if env_id.startswith("FrozenLake"):
        _check_frozen_lake(kwargs)
    try:
        env = gymnasium.make(env_id, **kwargs)
    except (gymnasium.error.UnregisteredEnv, gymnasium.error.DeprecatedEnv) as error:
        raise ValueError(f"environment {env_id!r} is not registered ({error})") from error
    except TypeError as error:
        raise ValueError(f"bad keyword arguments for {env_id}: {error}") from error
    except ValueError:
        raise  # acconv's environments name the argument and the expected value
    except Exception as error:  # any other failure of a third-party constructor is the input's
        message = " ".join(f"{type(error).__name__}: {error}".split())
        raise ValueError(f"cannot build {env_id} with {_shown(kwargs)} ({message})") from error
    try:
        model = getattr(env.unwrapped, "mdp", None)
        if isinstance(model, FiniteMDP):
            return model if gamma is None else model.with_gamma(gamma)
        return from_gymnasium(env, 0.99 if gamma is None else gamma)
    finally:
        env.close()


_FROZEN_LAKE_TILES = "SFHG"


def _shown(value: object) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _check_frozen_lake(kwargs: dict[str, Any]) -> None:
    """Check FrozenLake's ``map_name`` and ``desc`` before Gymnasium builds its tables.

    ``desc`` must be a rectangle of rows (strings, or lists of one-character strings) over the
    tiles ``S F H G`` with at least one start ``S``, and small enough for a dense model
    (:func:`~acconv._validate.check_dense_size`: at most 2048 tiles, FrozenLake has 4 actions).
    """
    from gymnasium.envs.toy_text.frozen_lake import MAPS

    desc = kwargs.get("desc")
    if desc is None:
        name = kwargs.get("map_name", "4x4")
        if not isinstance(name, str) or name not in MAPS:
            raise ValueError(f"map_name is {_shown(name)}, expected one of {', '.join(MAPS)}")
        return
    expected = "expected a list of equal-length rows of the tiles S, F, H, G"
    if isinstance(desc, (str, bytes)) or not isinstance(desc, (list, tuple)) or not desc:
        raise ValueError(f"desc is {_shown(desc)}, {expected}")
    width = len(desc[0]) if isinstance(desc[0], (str, list, tuple)) else 0
    check_dense_size(len(desc) * width, 4, f"FrozenLake with a {len(desc)}x{width} desc")
    rows: list[str] = []
    for i, row in enumerate(desc):
        cells = list(row) if isinstance(row, (str, list, tuple)) else None
        if not cells or not all(isinstance(c, str) and len(c) == 1 for c in cells):
            raise ValueError(f"desc[{i}] is {_shown(row)}, {expected}")
        rows.append("".join(cells))
        if len(rows[i]) != len(rows[0]):
            raise ValueError(
                f"desc[{i}] has {len(rows[i])} tiles but desc[0] has {len(rows[0])}, {expected}"
            )
        unknown = sorted(set(rows[i]) - set(_FROZEN_LAKE_TILES))
        if unknown:
            raise ValueError(f"desc[{i}] is {rows[i]!r} with tile {unknown[0]!r}, {expected}")
    if not any("S" in row for row in rows):
        raise ValueError(f"desc is {_shown(desc)} without a start tile S, {expected} and an S")
