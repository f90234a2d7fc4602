"""The ``watched_loop`` learner kind: an example loop of :mod:`acconv.examples` run from a spec."""

from __future__ import annotations

from typing import Any

__all__ = ["WatchedExample"]


class WatchedExample:
    """One of the example loops of :mod:`acconv.examples` as a learner for specs: ``learn`` runs
    the loop for ``n_updates`` iterations under ``acconv.watch`` with the run's observers, seeded
    from ``rng``. ``loop`` names the example; ``options`` are its options (checked against its
    ``Options`` fields)."""

    EXAMPLES: tuple[str, ...] = ("cleanrl_ppo", "two_timescale_sgd")

    def __init__(self, loop: str = "", **options: Any) -> None:
        if loop not in self.EXAMPLES:
            raise ValueError(f"loop is {loop!r}, expected one of {', '.join(self.EXAMPLES)}")
        import dataclasses
        import importlib

        self._module = importlib.import_module(f"acconv.examples.{loop}")
        known = [f.name for f in dataclasses.fields(self._module.Options)]
        for key in options:
            if key not in known:
                raise ValueError(
                    f"{key} is not an option of the {loop} example; expected one of "
                    f"{', '.join(known)}"
                )
        self.loop, self.options = loop, dict(options)
        self.config: dict[str, Any] = {"loop": loop, **options}
        self.watch: Any = None

    def learn(
        self, env: Any, n_updates: int, rng: Any, observers: Any = (), until: Any = None
    ) -> Any:
        """Run the example loop for ``n_updates`` iterations; returns the closed watch."""
        seed = int(rng.integers(2**31 - 1))
        self.watch = self._module.run(
            seed=seed, iterations=n_updates, env=env, observers=list(observers), **self.options
        )
        return self.watch
