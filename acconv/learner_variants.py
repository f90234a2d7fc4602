"""Several learners in one spec: ``[learners.<label>]`` tables laid over the shared ``[learner]``.

A comparison of learners (RUDDER against MC and TD critics over a delay sweep) is one spec, so its
runs share one seed stream and one budget::

    [learner]                       # what every learner shares
    mode = "sampled"
    critic_lr = "min(1, 2/(n+1)**0.51)"
    actor_lr = "4/(n+1)**0.6"

    [learners.rudder]
    kind = "rudder"

    [learners.mc]
    kind = "actor_critic"
    params = { critic_target = "mc" }

The runs sweep over the labels as the outermost sweep key ``learner`` (its folder names read
``learner=mc_delay=10-<hash>``); seed ``k`` is the same for every learner (common random numbers).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["merge_learner", "merge_learners"]

_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def merge_learner(base: Mapping[str, Any], variant: Mapping[str, Any]) -> dict[str, Any]:
    """``variant`` over ``base``: its keys replace the base's, except ``params``, merged key by
    key (the variant's value wins)."""
    merged = {**base, **variant}
    base_params, own_params = base.get("params"), variant.get("params")
    if isinstance(base_params, Mapping) and isinstance(own_params, Mapping):
        merged["params"] = {**base_params, **own_params}
    return merged


def merge_learners(data: Any) -> Any:
    """A raw spec with each ``learners.<label>`` merged over ``learner`` and ``learner`` set to the
    first of them (so the spec validates as one learner); unchanged without ``learners``.

    Raises ValueError (one line) for a label that cannot name a folder or a table that is not
    a table.
    """
    if not isinstance(data, Mapping) or not data.get("learners"):
        return data
    learners = data["learners"]
    if not isinstance(learners, Mapping):
        raise ValueError(f"learners is {learners!r}, expected tables [learners.<label>]")
    base = data.get("learner", {})
    if not isinstance(base, Mapping):
        raise ValueError(f"learner is {base!r}, expected a table")
    merged: dict[str, Any] = {}
    for label, variant in learners.items():
        if not _LABEL.fullmatch(str(label)):
            raise ValueError(
                f"learners.{label} is not a usable label, expected letters, digits, '.', '_' "
                "or '-' (it names folders)"
            )
        if not isinstance(variant, Mapping):
            raise ValueError(f"learners.{label} is {variant!r}, expected a table")
        merged[str(label)] = merge_learner(base, variant)
    if "learner" in data.get("sweep", {}):
        raise ValueError("sweep key 'learner' is taken by [learners]; expected no such sweep key")
    return {**data, "learner": next(iter(merged.values())), "learners": merged}
