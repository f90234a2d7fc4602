"""Observers on runs: typed events in, metrics and verdicts out (DESIGN.md §3)."""

from acconv.instrument.events import EndEvent, Observer, StartEvent, UpdateEvent
from acconv.instrument.recorder import Recorder, log_spaced

__all__ = ["EndEvent", "Observer", "Recorder", "StartEvent", "UpdateEvent", "log_spaced"]
