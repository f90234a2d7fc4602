"""Three-valued, honest verdicts shared by every theory check (DESIGN.md §3).

A :class:`Verdict` says whether one hypothesis of a convergence theorem ``holds``, is
``violated`` or is ``undecided`` (``not_applicable`` when the hypothesis does not concern the
setting), *how* that was established (``method``), the working a reader can follow (``detail``),
the numbers behind it (``evidence``) and the theorems whose hypothesis it is (``theorems``).

Rules every check follows:

* ``violated`` needs a proof (or, for ``method="numeric estimate"``, an estimate that is labelled
  as such); a failure of the tool (SymPy raising, timing out, giving up) is ``undecided`` with the
  reason in ``detail``, never ``violated``.
* ``evidence`` maps names to floats (exponents, limits, thresholds); it is read-only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

__all__ = [
    "METHOD_ESTIMATED",
    "METHOD_EXACT",
    "METHOD_NUMERIC",
    "METHOD_SERIES_RULE",
    "METHOD_SYMBOLIC",
    "STATUSES",
    "Status",
    "Verdict",
    "combine_statuses",
]

Status = Literal["holds", "violated", "undecided", "not_applicable"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)

METHOD_SYMBOLIC: Final = "symbolic"
"""Decided by exact symbolic reasoning (limits, derivatives, monotone building blocks)."""
METHOD_SERIES_RULE: Final = "p-series/Bertrand rule"
"""Decided from an asymptotic form c·n^(-p)·log(n)^(-q) by the p-series/Bertrand test."""
METHOD_NUMERIC: Final = "numeric estimate"
"""Estimated from values on a finite grid; not a proof."""
METHOD_EXACT: Final = "exact"
"""Computed from the exact model (THEORY.md §6)."""
METHOD_ESTIMATED: Final = "estimated"
"""A fit or a maximum over the points a run visited; evidence, not a proof."""


@dataclass(frozen=True)
class Verdict:
    """The verdict on one hypothesis, e.g. ``Verdict("S1", "Σ a(n) = ∞", "holds", ...)``.

    ``evidence`` is copied into a read-only mapping of floats; ``theorems`` names the results
    whose hypothesis this is (e.g. ``("Borkar 1997",)``).
    """

    id: str
    name: str
    status: Status
    method: str
    detail: str
    evidence: Mapping[str, float] = field(default_factory=dict, hash=False)
    theorems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            expected = f"expected one of {STATUSES}"
            raise ValueError(f"verdict {self.id!r}: status {self.status!r}, {expected}")
        if not self.id:
            raise ValueError("verdict id must be a non-empty string")
        evidence = {str(key): float(value) for key, value in self.evidence.items()}
        object.__setattr__(self, "evidence", MappingProxyType(evidence))
        object.__setattr__(self, "theorems", tuple(self.theorems))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; non-finite evidence values become strings ("inf", "nan")."""
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "method": self.method,
            "detail": self.detail,
            "evidence": {
                key: value if math.isfinite(value) else str(value)
                for key, value in self.evidence.items()
            },
            "theorems": list(self.theorems),
        }

    def __reduce__(self) -> tuple[type[Verdict], tuple[Any, ...]]:
        # MappingProxyType cannot be pickled; rebuild from a plain dict.
        fields = (self.id, self.name, self.status, self.method, self.detail)
        return (type(self), (*fields, dict(self.evidence), self.theorems))


def combine_statuses(statuses: tuple[Status, ...] | list[Status]) -> Status:
    """The status of "all of these hold": violated if any is violated, holds if all hold (or
    are not applicable, with at least one holding), otherwise undecided."""
    if "violated" in statuses:
        return "violated"
    relevant = [status for status in statuses if status != "not_applicable"]
    if not relevant:
        return "not_applicable"
    return "holds" if all(status == "holds" for status in relevant) else "undecided"
