"""acconv: verify actor-critic convergence the way the two-timescale theorems state it.

Importing acconv registers its Gymnasium environments (ids ``acconv/...``). It never imports
torch or Stable-Baselines3.
"""

from acconv._version import __version__
from acconv.envs import ENV_IDS, register_envs
from acconv.instrument import Recorder
from acconv.loop import train
from acconv.mdp import FiniteMDP, chain, discount_as_termination, from_gymnasium, garnet, with_time
from acconv.schedules import Schedule, ScheduleError, parse_schedule
from acconv.tabular import PPO, RUDDER, ActorCritic
from acconv.theory_checks import Verdict, check_step_sizes

register_envs()


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
    "with_time",
]
