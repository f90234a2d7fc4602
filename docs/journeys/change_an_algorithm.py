# Change an algorithm: the example of the "Read and change an algorithm" journey.
#
# We change step 5 of ActorCritic (the critic update) so that each state's critic step is
# clipped to ±a(n)·clip, a common stabilisation trick, and run it under the same loop and
# observers. tests/test_docs.py runs this script, so the example cannot rot.
#
# Run it with `python docs/journeys/change_an_algorithm.py` (a few seconds).
from dataclasses import replace
from typing import Any

import numpy as np

from acconv import ActorCritic, discount_as_termination, garnet, train
from acconv.instrument import TwoTimescaleMonitor


class ClippedCriticActorCritic(ActorCritic):
    """ActorCritic whose critic step (step 5) is clipped to ±a(n)·clip in every state."""

    def __init__(self, clip: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clip = clip
        self.config.update(clip=clip)  # the config is what manifests and checks see

    def update(self, state: Any, batch: Any) -> tuple[Any, Any]:
        new_state, info = super().update(state, batch)  # steps 1-6 as before
        limit = info.a_n * self.clip
        step = np.clip(new_state.omega - state.omega, -limit, limit)  # the changed step 5
        omega = state.omega + step
        critic_grad_norm = float(np.linalg.norm(step)) / info.a_n
        return (
            replace(new_state, omega=omega),
            replace(info, omega=omega, critic_grad_norm=critic_grad_norm),
        )


mdp = discount_as_termination(garnet(8, 3, 3, np.random.default_rng(0), gamma=0.9))
schedules = {"critic_lr": "1/(n+1)**0.6", "actor_lr": "1/(n+10)", "tau": 0.5}
monitors = {}
for learner in (ActorCritic(**schedules), ClippedCriticActorCritic(clip=2.0, **schedules)):
    monitor = TwoTimescaleMonitor()
    train(learner, mdp, 1000, np.random.default_rng(1), [monitor], episodes_per_update=16)
    monitors[type(learner).__name__] = monitor

for name, monitor in monitors.items():
    verdicts = {v.id: v for v in monitor.verdicts()}
    print(f"{name}: final ‖ω - λ(θ)‖ = {monitor.last('track/error'):.3f}")
    for key in ("tracking", "A6", "A4"):
        print(f"  {key}: {verdicts[key].status} ({verdicts[key].method})")

# The tracking error is still measured: it needs only λ(θ), which the subclass inherits.
changed = {v.id: v for v in monitors["ClippedCriticActorCritic"].verdicts()}
assert np.isfinite(monitors["ClippedCriticActorCritic"].last("track/error"))
# But acconv knows the exact mean field only of its own learners. It will not certify your
# change: the checks that need the mean field say "undecided", with the reason.
assert changed["A6"].status == "undecided"
print("\nwhy:", changed["A6"].detail)
original = {v.id: v for v in monitors["ActorCritic"].verdicts()}
assert original["A6"].status == "holds"
