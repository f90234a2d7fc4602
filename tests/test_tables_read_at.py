"""Which updates' tables observers read (``acconv.events.tables_read_at``).

A learner whose tables are costly (the SB3 callback evaluates networks on every state) computes
them only where some observer reads them; these tests hold the observers to what they say.
"""

from __future__ import annotations

import gymnasium
import numpy as np

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.events import EndEvent, StartEvent, UpdateEvent, tables_read_at
from acconv.facts import LearnerFacts
from acconv.instrument import Recorder, TwoTimescaleMonitor, log_spaced
from acconv.loop import train
from acconv.tabular.actor_critic import ActorCritic
from acconv.updates import Task


class Silent:
    """An observer that does not say which tables it reads."""

    def on_start(self, event: StartEvent) -> None: ...

    def on_update(self, event: UpdateEvent) -> None: ...

    def on_end(self, event: EndEvent) -> None: ...


def _network_start(n_updates: int) -> StartEvent:
    """The start event of a run without a model or a mean field (a network learner's)."""
    return StartEvent(LearnerFacts(name="network"), Task(4, 2, 0.9), n_updates)


def test_default_observers_read_the_union_of_their_log_spaced_grids() -> None:
    event = _network_start(1000)
    read = tables_read_at([Recorder(), TwoTimescaleMonitor()], event)
    # Without a mean field: the Recorder's and the monitor's 10 points per decade (the
    # monitor's trajectory feeds only the mean-field checks, so no table is read for it).
    assert read == set(log_spaced(1000, 10).tolist())
    # both ends: the first update and the last; 1000 updates, 3 decades: at most 3·10 + 1
    # points.
    assert {0, 999} <= read and len(read) <= 31


def test_with_a_mean_field_the_monitor_also_reads_its_trajectory_and_noise_windows() -> None:
    import numpy as np

    from acconv.mdp import discount_as_termination, garnet
    from acconv.tabular import ActorCritic

    mdp = discount_as_termination(garnet(4, 2, 2, np.random.default_rng(0), gamma=0.9))
    task = Task.from_mdp(mdp)
    event = StartEvent(ActorCritic().facts(task), task, 1000)
    read = tables_read_at([Recorder(), TwoTimescaleMonitor(noise_samples=8)], event)
    assert read is not None
    assert set(log_spaced(1000, 40).tolist()) <= read  # the trajectory's 40 per decade
    # and each recorded update's noise window: the 8 updates before 999 and 999 itself
    assert set(range(991, 1000)) <= read


def test_an_observer_that_does_not_say_may_read_every_update() -> None:
    assert tables_read_at([Recorder(), Silent()], _network_start(100)) is None
    assert tables_read_at([], _network_start(100)) == frozenset()


def test_with_a_mean_field_the_monitor_also_reads_its_noise_windows() -> None:
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=3).unwrapped.mdp
    facts = ActorCritic().facts(Task.from_mdp(mdp))
    assert facts.mean_field is not None
    event = StartEvent(facts, Task.from_mdp(mdp), 200)
    monitor = TwoTimescaleMonitor(noise_samples=3)
    read = monitor.reads_tables_at(event)
    due = log_spaced(200, 10).tolist()
    # the noise M at update k is measured from the state after update k-1: the window of a
    # recorded point p is k = p-2..p, so it reads p-3..p.
    windows = {k for p in due for k in range(max(p - 3, 0), p + 1)}
    assert read == set(due) | set(log_spaced(200, 40).tolist()) | windows
    assert read != monitor.reads_tables_at(_network_start(200))  # no windows without a field


def test_the_observers_record_only_the_tables_they_say_they_read_and_the_last() -> None:
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=3).unwrapped.mdp
    recorder, monitor = Recorder(), TwoTimescaleMonitor()
    seen: list[StartEvent] = []

    class Start(Silent):
        def on_start(self, event: StartEvent) -> None:
            seen.append(event)

    train(ActorCritic(), mdp, 120, np.random.default_rng(0), [recorder, monitor, Start()])
    read_recorder = set(recorder.reads_tables_at(seen[0])) | {119}
    read_monitor = monitor.reads_tables_at(seen[0]) | {119}
    assert {n for n, _, _ in recorder.rows} <= read_recorder
    assert {n for n, _, _ in monitor.rows} <= read_monitor
    assert set(monitor.trace().trajectory_n.tolist()) <= read_monitor
    assert {s.n for s in monitor.trace().snapshots} <= read_monitor
