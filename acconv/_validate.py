"""Argument checks shared by constructors and entry points (DESIGN.md §4: validate at the boundary).

Every message is one line that names the parameter, the value and what was expected, e.g.
``delay is 1.5, expected an integer >= 1``.
"""

from __future__ import annotations

import math

import numpy as np


def check_int(value: object, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an ``int`` if it is an integer in ``[minimum, maximum]``, else a ValueError.

    Booleans and floats with an integral value (``2.0``) are rejected: a count is an integer.
    """
    expected = (
        f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
    )
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} is {value!r}, expected {expected}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} is {value!r}, expected {expected}")
    return int(value)


def check_float(
    value: object,
    name: str,
    minimum: float,
    maximum: float | None = None,
    *,
    open_minimum: bool = False,
    open_maximum: bool = False,
) -> float:
    """``value`` as a ``float`` if it is a finite real number in the given interval."""
    low = f"({minimum}" if open_minimum else f"[{minimum}"
    high = "inf)" if maximum is None else (f"{maximum})" if open_maximum else f"{maximum}]")
    expected = f"a finite number in {low}, {high}"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} is {value!r}, expected {expected}")
    number = float(value)
    too_low = number <= minimum if open_minimum else number < minimum
    too_high = maximum is not None and (number >= maximum if open_maximum else number > maximum)
    if not math.isfinite(number) or too_low or too_high:
        raise ValueError(f"{name} is {value!r}, expected {expected}")
    return number


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``, else a ValueError naming all of them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} is {value!r}, expected one of {', '.join(choices)}")
    return value


MAX_MODEL_ENTRIES = 2**24
"""Largest ``n_actions · n_states²`` accepted for a dense model built from constructor kwargs.

``FiniteMDP.P`` is dense and :class:`~acconv.envs.finite.FiniteMDPEnv` keeps its cumulative
rows as well, so this is 2 · 128 MiB of float64 at most.
"""


def check_dense_size(n_states: int, n_actions: int, what: str) -> None:
    """Refuse, before allocating, a dense model with more than :data:`MAX_MODEL_ENTRIES` entries.

    ``n_actions · n_states²`` float64 entries take ``8 · n_actions · n_states²`` bytes per array
    (``P``, and ``R_next`` or the sampler's cumulative rows beside it).
    """
    entries = n_actions * n_states**2
    if entries > MAX_MODEL_ENTRIES:
        gib = 8 * entries / 2**30
        raise ValueError(
            f"{what} has {n_states} states and {n_actions} actions: its dense transition array "
            f"would have n_actions·n_states² = {entries} entries ({gib:.3g} GiB), expected at "
            f"most 2**24 = {MAX_MODEL_ENTRIES} (acconv's limit on dense models)"
        )


def check_model_size(
    value: int, name: str, largest: int, n_states: int, n_actions: int, formula: str
) -> None:
    """Reject a size parameter whose dense model would exceed :data:`MAX_MODEL_ENTRIES`.

    ``largest`` is the largest accepted ``value`` (given the other parameters) and ``formula``
    says how the state count follows from the parameters.
    """
    if n_actions * n_states**2 > MAX_MODEL_ENTRIES:
        raise ValueError(
            f"{name} is {value}, expected an integer <= {largest} here: the dense model would "
            f"have {formula} = {n_states} states and n_actions·states² = "
            f"{n_actions * n_states**2} > 2**24 transition entries"
        )


MAX_NESTING = 32
"""Deepest nesting of lists and tables accepted in a spec or a JSON option (a spec needs 3)."""


def check_nesting(value: object, name: str, limit: int = MAX_NESTING) -> None:
    """Refuse lists and dicts nested more than ``limit`` deep (without recursing, so any depth
    is measured safely): deeper data is a mistake and would exhaust Python's recursion limit in
    the code that copies, prints or validates it."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if depth >= limit:
                raise ValueError(
                    f"{name} is nested more than {limit} lists or tables deep, expected at most "
                    f"{limit}"
                )
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
