"""Neural (torch) two-timescale learners: PPO and RUDDER (the ``neural`` extra).

``import acconv`` never imports this package; importing it needs torch
(``pip install -c constraints.txt ".[neural]"``).
"""

try:
    import torch  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installation
    raise ImportError(
        'acconv.neural needs the neural extra: pip install -c constraints.txt ".[neural]"'
    ) from None

from acconv.neural.ppo import PPO
from acconv.neural.rollouts import NeuralRun
from acconv.neural.rudder import RUDDER, ReturnLSTM

__all__ = ["PPO", "RUDDER", "NeuralRun", "ReturnLSTM"]
