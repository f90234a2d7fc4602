"""The theorems whose hypotheses acconv checks, and which verdicts each one needs.

Borkar 1997 (martingale noise, global attractors), Karmakar & Bhatnagar 2018 (controlled Markov
noise, local attractors) and the *reconstructed* Holzleitner et al. 2021 statement (THEORY.md
§4.3, marked [R]: its assumption list is our reconstruction, not the paper's text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "ALL_THEOREMS",
    "BORKAR",
    "HOLZLEITNER",
    "KARMAKAR_BHATNAGAR",
    "KB_AND_HOLZLEITNER",
    "REQUIREMENTS",
]

BORKAR: Final = "Borkar 1997"
KARMAKAR_BHATNAGAR: Final = "Karmakar & Bhatnagar 2018"
HOLZLEITNER: Final = "Holzleitner et al. 2021 [R, reconstructed]"
ALL_THEOREMS: Final = (BORKAR, KARMAKAR_BHATNAGAR, HOLZLEITNER)
KB_AND_HOLZLEITNER: Final = (KARMAKAR_BHATNAGAR, HOLZLEITNER)

REQUIREMENTS: Final[Mapping[str, tuple[str, ...]]] = {
    # Borkar 1997 (THEORY.md §4.1): Lipschitz fields, S1-S4, martingale noise with bounded
    # second moments (i.i.d. episodes), a unique *globally* asymptotically stable λ(θ) and θ*,
    # bounded iterates.
    BORKAR: ("A2", "A3", "A4", "A5", "A6", "A6'", "A7-global", "A8"),
    # Karmakar & Bhatnagar 2018 (§4.2): S1-S5, K(1+‖θ‖²+‖ω‖²) noise, controlled Markov noise,
    # local λ(θ) with a Lyapunov function and ω_n eventually in its basin, an attractor of the
    # slow ODE, bounded iterates.
    KARMAKAR_BHATNAGAR: ("A2", "A3", "A4", "A5", "A6", "A6'", "A7", "A8"),
    # The reconstructed Holzleitner et al. statement (§4.3) adds the episodic MDP, the smooth
    # greedy-becoming policy, analyticity, PPO's old policy and RUDDER's identifiability.
    HOLZLEITNER: (
        "A0",
        "A1",
        "A2",
        "A3",
        "A4",
        "A5",
        "A6",
        "A6'",
        "A7",
        "A8",
        "A9",
        "A10",
        "A11",
        "A12",
    ),
}
"""The verdict ids whose ``holds`` (or ``not_applicable``) each theorem needs. For Borkar the
step-size verdict is read as S1-S4 only (S5 is Karmakar & Bhatnagar's)."""
