"""Observers on runs: typed events in, metrics and verdicts out (DESIGN.md §3)."""

from acconv.instrument.bound_tracker import BoundTracker
from acconv.instrument.events import EndEvent, Observer, StartEvent, UpdateEvent
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.instrument.recorder import Recorder, log_spaced
from acconv.instrument.solve import EpisodesToSolve, episodes_to_solve

__all__ = [
    "BoundTracker",
    "EndEvent",
    "EpisodesToSolve",
    "Observer",
    "Recorder",
    "StartEvent",
    "TwoTimescaleMonitor",
    "UpdateEvent",
    "episodes_to_solve",
    "log_spaced",
]
