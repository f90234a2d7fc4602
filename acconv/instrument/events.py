"""The events and the observer protocol, re-exported from the ground layer
(:mod:`acconv.events`), where learners can reach them without importing the instruments."""

from acconv.events import EndEvent, FastEquilibrium, Observer, StartEvent, UpdateEvent

__all__ = ["EndEvent", "FastEquilibrium", "Observer", "StartEvent", "UpdateEvent"]
