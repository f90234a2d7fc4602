"""Complete training loops written for acconv: one file each, read top to bottom.

Each module is an ordinary PyTorch actor-critic loop with the two lines that put it under
acconv's checks (``watch = acconv.watch(...)`` before the loop, ``watch.close()`` or
``watch.save(...)`` after it), and a ``run(seed=..., iterations=..., env=..., observers=...)``
function that trains and returns the closed :class:`~acconv.adapters.watch.Watch`:

* :mod:`acconv.examples.cleanrl_ppo`: a CleanRL-style PPO on ``CartPole-v1`` — one Adam
  optimiser over a shared agent, learning rate annealed by hand. The verdicts say why this loop
  is outside the two-timescale theorems.
* :mod:`acconv.examples.two_timescale_sgd`: an actor-critic on ``acconv/Garnet-v0`` with two
  plain SGD optimisers on declared decaying schedules a(n) (critic, fast) and b(n) (actor,
  slow). The step-size verdicts hold, and the exact tracking error falls.

Run one with ``python -m acconv.examples.two_timescale_sgd [folder]``: it prints every verdict
and saves a run folder that ``acconv report`` reads. The modules import torch (the ``neural``
extra); ``import acconv`` does not import them. docs/journeys/own_loop.md includes both files.
"""

__all__: list[str] = []
