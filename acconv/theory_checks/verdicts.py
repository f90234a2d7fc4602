"""Three-valued, honest verdicts shared by every theory check (DESIGN.md §3).

A :class:`Verdict` says whether one hypothesis of a convergence theorem ``holds``, is
``violated`` or is ``undecided`` (``not_applicable`` when the hypothesis does not concern the
setting), *how* that was established (``method``), the working a reader can follow (``detail``),
the numbers behind it (``evidence``) and the theorems whose hypothesis it is (``theorems``).

Semantics, stated once (the README, the theory pages and the metrics glossary use these words):

* ``holds`` and ``violated`` are reserved for what is **proven**: an exact computation on the
  model, a symbolic argument, the p-series/Bertrand rule on a derived asymptotic form, or a
  fact read from the learner's configuration (:data:`PROOF_METHODS`). The constructor refuses
  ``holds``/``violated`` with any other method (:data:`EVIDENCE_METHODS` or any other string).
* What a run, a fit or a finite grid shows is **evidence**: the status is ``undecided`` and the
  verdict carries ``lean`` (``"holds"`` or ``"violated"``: which way the evidence points) and
  ``strength`` (:data:`STRENGTHS`, see :func:`strength_of`), with the numbers behind it (points,
  decades, seeds, a p-value) in ``evidence``. ``undecided`` without a lean means the evidence
  points neither way, or there was too little of it to judge.
* A failure of the tool (SymPy raising, timing out, giving up) is ``undecided`` with the reason
  in ``detail``, never ``violated``.
* ``evidence`` maps names to floats (exponents, limits, thresholds); it is read-only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal, get_args

__all__ = [
    "EVIDENCE_METHODS",
    "METHOD_CONFIGURATION",
    "METHOD_ESTIMATED",
    "METHOD_EXACT",
    "METHOD_NUMERIC",
    "METHOD_SAMPLED",
    "METHOD_SERIES_RULE",
    "METHOD_SYMBOLIC",
    "PROOF_METHODS",
    "STATUSES",
    "STRENGTHS",
    "Lean",
    "Status",
    "Strength",
    "Verdict",
    "combine_statuses",
    "combine_verdicts",
    "is_proof",
    "leaning",
    "status_text",
    "strength_of",
]

Status = Literal["holds", "violated", "undecided", "not_applicable"]
STATUSES: Final[tuple[Status, ...]] = get_args(Status)
Lean = Literal["holds", "violated"]
"""Which way the evidence behind an ``undecided`` verdict points."""
Strength = Literal["weak", "moderate", "strong"]
STRENGTHS: Final[tuple[Strength, ...]] = get_args(Strength)
"""How strong that evidence is, weakest first; :func:`strength_of` is the one rule."""

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
METHOD_CONFIGURATION: Final = "configuration"
"""Read from the learner's configuration (e.g. its optimiser class and settings)."""
METHOD_SAMPLED: Final = "sampled on the run's horizon"
"""Values a learner used on the run's finite horizon; evidence, not a proof."""

PROOF_METHODS: Final[frozenset[str]] = frozenset(
    {METHOD_SYMBOLIC, METHOD_SERIES_RULE, METHOD_EXACT, METHOD_CONFIGURATION}
)
"""The methods that may decide ``holds`` or ``violated``."""
EVIDENCE_METHODS: Final[frozenset[str]] = frozenset(
    {METHOD_NUMERIC, METHOD_ESTIMATED, METHOD_SAMPLED}
)
"""The methods whose verdicts are ``undecided`` with a ``lean`` (or no lean)."""



def is_proof(method: str) -> bool:
    """Whether ``method`` may decide ``holds``/``violated``: a proof method, or several joined
    by ``" + "`` (a conjunction decided by proofs only), e.g. ``"p-series/Bertrand rule +
    symbolic"``.

    >>> is_proof("exact"), is_proof("symbolic + exact"), is_proof("symbolic + estimated")
    (True, True, False)
    """
    return all(part in PROOF_METHODS for part in method.split(" + "))


_STRONG_P: Final = 0.01
_MODERATE_P: Final = 0.05


def strength_of(p_value: float) -> Strength:
    """The strength of evidence from the p-value of a one-sided test of the opposite lean.

    ``strong`` when the opposite is rejected at the 1% level (p < 0.01), ``moderate`` at the 5%
    level (p < 0.05), ``weak`` otherwise (including NaN). A rule with no test behind it (a
    deterministic sequence seen on a finite grid, a maximum over the visited points) states
    ``weak`` itself.

    >>> strength_of(0.001), strength_of(0.02), strength_of(0.3)
    ('strong', 'moderate', 'weak')
    """
    if p_value < _STRONG_P:
        return "strong"
    if p_value < _MODERATE_P:
        return "moderate"
    return "weak"


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
    lean: Lean | None = None
    strength: Strength | None = None

    def __post_init__(self) -> None:
        where = f"verdict {self.id!r}"
        if self.status not in STATUSES:
            expected = f"expected one of {STATUSES}"
            raise ValueError(f"{where}: status {self.status!r}, {expected}")
        if not self.id:
            raise ValueError("verdict id must be a non-empty string")
        proof_needed = self.status in ("holds", "violated") and not is_proof(self.method)
        if proof_needed:
            raise ValueError(
                f"{where}: status {self.status!r} with method {self.method!r}; evidence is "
                f"'undecided' with lean={self.status!r} (holds/violated need one of "
                f"{sorted(PROOF_METHODS)})"
            )
        if self.lean is not None and self.status != "undecided":
            raise ValueError(
                f"{where}: lean {self.lean!r} with status {self.status!r}; "
                "expected a lean only on an 'undecided' verdict"
            )
        if self.lean not in (None, "holds", "violated"):
            raise ValueError(f"{where}: lean {self.lean!r}, expected 'holds', 'violated' or None")
        if (self.lean is None) != (self.strength is None):
            raise ValueError(
                f"{where}: lean {self.lean!r} and strength {self.strength!r}; "
                "expected both or neither"
            )
        if self.strength is not None and self.strength not in STRENGTHS:
            raise ValueError(f"{where}: strength {self.strength!r}, expected one of {STRENGTHS}")
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
            "lean": self.lean,
            "strength": self.strength,
        }

    @property
    def shown(self) -> str:
        """The status as the CLI and the report show it: ``undecided (leans holds, strong
        evidence)`` for evidence, the plain status otherwise."""
        return status_text(self.status, self.lean, self.strength)

    def __reduce__(self) -> tuple[type[Verdict], tuple[Any, ...]]:
        # MappingProxyType cannot be pickled; rebuild from a plain dict.
        fields = (self.id, self.name, self.status, self.method, self.detail)
        rest = (dict(self.evidence), self.theorems, self.lean, self.strength)
        return (type(self), (*fields, *rest))


def status_text(status: str, lean: str | None = None, strength: str | None = None) -> str:
    """``undecided (leans holds, strong evidence)``; the plain status when there is no lean.

    >>> status_text("undecided", "violated", "weak")
    'undecided (leans violated, weak evidence)'
    """
    if status == "undecided" and lean is not None:
        return f"undecided (leans {lean}, {strength} evidence)"
    return status


def leaning(
    id: str,
    name: str,
    lean: Lean | None,
    strength: Strength | None,
    method: str,
    detail: str,
    evidence: Mapping[str, float] | None = None,
    theorems: tuple[str, ...] = (),
) -> Verdict:
    """An evidence verdict: ``undecided`` leaning ``lean`` with ``strength`` (no lean: None).

    >>> leaning("A8", "bounded", "holds", "strong", METHOD_ESTIMATED, "...").shown
    'undecided (leans holds, strong evidence)'
    """
    return Verdict(
        id,
        name,
        "undecided",
        method,
        detail,
        dict(evidence or {}),
        theorems,
        lean,
        strength if lean is not None else None,
    )


def combine_verdicts(
    verdicts: Sequence[Verdict],
) -> tuple[Status, Lean | None, Strength | None]:
    """Status, lean and strength of "all of these hold".

    The status is :func:`combine_statuses`. When it is ``undecided``, the conjunction leans
    ``violated`` if any part leans violated (with that part's strength; the strongest such),
    leans ``holds`` if every undecided part leans holds (with the weakest strength: a chain is
    as strong as its weakest link), and has no lean otherwise.
    """
    status = combine_statuses([v.status for v in verdicts])
    if status != "undecided":
        return status, None, None
    open_parts = [v for v in verdicts if v.status == "undecided"]
    rank = {s: i for i, s in enumerate(STRENGTHS)}
    against = [v.strength for v in open_parts if v.lean == "violated" and v.strength]
    if against:
        return status, "violated", max(against, key=rank.__getitem__)
    if open_parts and all(v.lean == "holds" for v in open_parts):
        weakest = min((v.strength or "weak" for v in open_parts), key=rank.__getitem__)
        return status, "holds", weakest
    return status, None, None


def combine_statuses(statuses: tuple[Status, ...] | list[Status]) -> Status:
    """The status of "all of these hold": violated if any is violated, holds if all hold (or
    are not applicable, with at least one holding), otherwise undecided."""
    if "violated" in statuses:
        return "violated"
    relevant = [status for status in statuses if status != "not_applicable"]
    if not relevant:
        return "not_applicable"
    return "holds" if all(status == "holds" for status in relevant) else "undecided"
