"""acconv: verify actor-critic convergence the way the two-timescale theorems state it.

Importing acconv registers its Gymnasium environments (ids ``acconv/...``). It never imports
torch or Stable-Baselines3.
"""

from acconv.envs import ENV_IDS, register_envs
from acconv.mdp import FiniteMDP, chain, discount_as_termination, from_gymnasium, garnet, with_time
from acconv.schedules import Schedule, ScheduleError, parse_schedule

register_envs()

__version__ = "0.1.0"

__all__ = [
    "ENV_IDS",
    "FiniteMDP",
    "Schedule",
    "ScheduleError",
    "__version__",
    "chain",
    "discount_as_termination",
    "from_gymnasium",
    "garnet",
    "parse_schedule",
    "register_envs",
    "with_time",
]
