"""acconv: verify actor-critic convergence the way the two-timescale theorems state it.

Importing acconv registers its Gymnasium environments (ids ``acconv/...``). It never imports
torch or Stable-Baselines3.
"""

from typing import Any

from acconv._version import __version__
from acconv.envs import ENV_IDS, register_envs
from acconv.instrument import Recorder
from acconv.loop import train
from acconv.mdp import FiniteMDP, chain, discount_as_termination, from_gymnasium, garnet, with_time
from acconv.schedules import Schedule, ScheduleError, parse_schedule
from acconv.tabular import PPO, RUDDER, ActorCritic
from acconv.theory_checks import Verdict, check_step_sizes

register_envs()


def watch(*args: object, **kwargs: object) -> Any:
    """Put a PyTorch actor-critic training loop under the two-timescale checks:
    ``acconv.watch(optimizer, actor=..., critic=...)`` or ``acconv.watch(actor=actor_optimizer,
    critic=critic_optimizer)``; see :class:`acconv.adapters.watch.Watch`. Needs the ``neural``
    extra (torch); ``import acconv`` alone never imports torch."""
    from acconv.adapters.watch import Watch

    return Watch(*args, **kwargs)  # type: ignore[arg-type]


__all__ = [
    "ENV_IDS",
    "PPO",
    "RUDDER",
    "ActorCritic",
    "FiniteMDP",
    "Recorder",
    "Schedule",
    "ScheduleError",
    "Verdict",
    "__version__",
    "chain",
    "check_step_sizes",
    "discount_as_termination",
    "from_gymnasium",
    "garnet",
    "parse_schedule",
    "register_envs",
    "train",
    "watch",
    "with_time",
]
