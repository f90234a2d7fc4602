"""SB3 runs for the orchestrator: one call that trains under a :class:`ConvergenceCallback`, and
an SB3 algorithm as an acconv learner, so specs can run it beside acconv's own."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray
from stable_baselines3 import A2C, PPO

from acconv._validate import check_int
from acconv.adapters.sb3.callback import ConvergenceCallback
from acconv.events import Observer, UpdateEvent
from acconv.mdp import FiniteMDP
from acconv.theory_checks.verdicts import Verdict

__all__ = ["SB3Learner", "SB3Run", "run_sb3"]

FloatArray = NDArray[np.float64]
Until = Callable[[UpdateEvent], bool]
_ALGORITHMS: Final = {"PPO": PPO, "A2C": A2C}


@dataclass(frozen=True)
class SB3Run:
    """A finished SB3 run: the model, the callback (events, verdicts) and the wall time."""

    model: Any
    callback: ConvergenceCallback
    wall_seconds: float

    def verdicts(self) -> list[Verdict]:
        """The callback's verdicts (:meth:`ConvergenceCallback.verdicts`)."""
        return self.callback.verdicts()


def run_sb3(
    algorithm: str,
    env: Any,
    total_timesteps: int,
    *,
    seed: int,
    hyperparameters: Mapping[str, Any] | None = None,
    observers: Sequence[Observer] | None = None,
    until: Until | None = None,
    mdp: FiniteMDP | None = None,
    policy: str = "MlpPolicy",
    device: str = "cpu",
) -> SB3Run:
    """Train SB3's ``algorithm`` (``"PPO"`` or ``"A2C"``) on ``env`` under a ConvergenceCallback.

    ``env`` is a Gymnasium environment or an id for ``gymnasium.make`` (acconv's ids are
    registered by ``import acconv``). ``hyperparameters`` go to the algorithm's constructor
    (``learning_rate``, ``n_steps``, ...); ``seed`` seeds SB3 (torch, numpy and the
    environment through SB3's ``set_random_seed``). Torch threads are left as they are: call
    ``torch.set_num_threads(1)`` for small networks.
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm is {algorithm!r}, expected one of {', '.join(_ALGORITHMS)}")
    total = check_int(total_timesteps, "total_timesteps", 1)
    seed = check_int(seed, "seed", 0)
    if isinstance(env, str):
        import gymnasium

        env = gymnasium.make(env)
    callback = ConvergenceCallback(observers, until, mdp=mdp)
    model = _ALGORITHMS[algorithm](
        policy, env, seed=seed, device=device, **dict(hyperparameters or {})
    )
    start = time.perf_counter()
    model.learn(total, callback=callback)
    return SB3Run(model, callback, time.perf_counter() - start)


class SB3Learner:
    """An SB3 algorithm as an acconv learner, so specs can run it beside acconv's own.

    ``learn(env, n_updates, rng, observers)`` trains ``algorithm`` for ``n_updates`` rollouts
    (``n_updates × n_steps`` environment steps, SB3's ``n_steps`` default unless given) under a
    :class:`ConvergenceCallback`, seeded from ``rng``. ``hyperparameters`` are the SB3
    constructor's keyword arguments (``learning_rate``, ``n_steps``, ``gamma``, ...), checked
    against its signature. SB3 has one optimiser, so there is one ``learning_rate`` and no
    pair of schedules: the step-size verdict comes from :meth:`step_size_report` after the run.
    """

    def __init__(self, algorithm: str = "PPO", **hyperparameters: Any) -> None:
        if algorithm not in _ALGORITHMS:
            raise ValueError(
                f"algorithm is {algorithm!r}, expected one of {', '.join(_ALGORITHMS)}"
            )
        import inspect

        signature = inspect.signature(_ALGORITHMS[algorithm]).parameters
        reserved = {"self", "policy", "env", "seed", "device", "_init_setup_model", "verbose"}
        known = sorted(set(signature) - reserved)
        for key in hyperparameters:
            if key not in known:
                raise ValueError(
                    f"{key} is not a hyperparameter of SB3's {algorithm}; expected one of "
                    f"{', '.join(known)}"
                )
        self.algorithm = algorithm
        self.hyperparameters = dict(hyperparameters)
        self.name = f"stable_baselines3.{algorithm}"
        self.config: dict[str, Any] = {"algorithm": algorithm, **self.hyperparameters}
        self.run: SB3Run | None = None

    def learn(
        self,
        env: Any,
        n_updates: int,
        rng: np.random.Generator,
        observers: Sequence[Observer] = (),
        until: Until | None = None,
    ) -> SB3Run:
        """Train for ``n_updates`` rollouts; the SB3 seed is drawn from ``rng``."""
        n_updates = check_int(n_updates, "n_updates", 1)
        default_steps = _inspect_default(_ALGORITHMS[self.algorithm], "n_steps")
        n_steps = int(self.hyperparameters.get("n_steps", default_steps))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small networks: a second thread costs CPU for no speed-up
        try:
            self.run = run_sb3(
                self.algorithm,
                env,
                n_updates * n_steps,
                seed=int(rng.integers(2**31 - 1)),
                hyperparameters=self.hyperparameters,
                observers=list(observers),
                until=until,
            )
        finally:
            torch.set_num_threads(threads)
        return self.run

    def action_probabilities(self, obs: Any) -> FloatArray:
        """``π(·|obs)`` of the trained SB3 policy for one observation."""
        assert self.run is not None, "call learn() first"
        policy = self.run.model.policy
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(np.asarray(obs))
            probs = policy.get_distribution(tensor).distribution.probs
        return np.asarray(probs[0].double().numpy())

    def step_size_report(self) -> dict[str, Any]:
        """S1–S7 of the learning rate as SB3 used it (JSON-ready), after :meth:`learn`."""
        assert self.run is not None, "call learn() first"
        return self.run.callback.step_size_report().to_dict()

    def verdicts(self) -> list[Verdict]:
        """``A2`` and ``optimizer`` of SB3's single optimiser and the PPO diagnostic verdicts
        (decided in :mod:`acconv.theory_checks` from the run's facts)."""
        assert self.run is not None, "call learn() first"
        callback = self.run.callback
        report = callback.step_size_report()
        return [report.a2, report.optimizer, *callback.diagnostic_verdicts()]


def _inspect_default(cls: type, parameter: str) -> Any:
    """The default value of ``cls.__init__``'s ``parameter``."""
    import inspect

    return inspect.signature(cls).parameters[parameter].default
