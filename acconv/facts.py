"""What a learner says about itself: the facts every check decides from (DESIGN.md §3).

A learner — tabular, neural, an SB3 run through its callback, later a user's watched torch loop —
describes itself once, on the start event, as data: a :class:`LearnerFacts`. The checks in
:mod:`acconv.theory_checks` read these facts and the event stream; they never import a learner,
rebuild one from its name, or branch on its class. A learner states only what it knows about
itself (its schedules, its optimiser, its policy's form, its exact mean field when it has one);
whether a hypothesis holds is the checks' business.

Two timescales, one vocabulary: the critic (or return model) is the fast iterate ω with step
size a(n) (``critic_lr``), the actor the slow iterate θ with b(n) (``actor_lr``); β(n) is the
policy's inverse temperature; λ(θ) the fast equilibrium; ḡ(θ, ω), h̄(θ, ω) the mean fields
(expected Δω/a(n) and Δθ/b(n)).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from acconv.schedules import Schedule

__all__ = [
    "DescribedByFacts",
    "EpisodeSource",
    "EquilibriumReport",
    "FastEquilibrium",
    "LearnerFacts",
    "MeanField",
    "PolicyForm",
    "ReturnModel",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

FastEquilibrium = Callable[[FloatArray, int], tuple[FloatArray, BoolArray]]
"""``λ(θ)`` at update ``n`` and the mask of entries where it is unique: ``(θ, n) -> (λ, mask)``.
A pure function: calling it cannot change the learner."""

EquilibriumReport = Callable[[FloatArray, FloatArray, int], Mapping[str, float]]
"""``(θ, ω, n) -> {metric key: value}``: what a learner whose λ(θ) is found numerically (a critic
network's, :mod:`acconv.neural.equilibrium`) reports about it at update ``n`` for the fast
iterate ``ω`` (weighted and sup tracking errors, the approximation error ‖λ - V^π‖, the solve's
residual and iterations; keys ``track/*`` of docs/metrics.md). The monitor records them beside
``track/error``. Calling it cannot change the learner."""

MeanField = Callable[
    [FloatArray, FloatArray, int, FloatArray | None], tuple[FloatArray, FloatArray]
]
"""``(θ, ω, n, value) -> (ḡ(θ, ω), h̄(θ, ω))``: the exact mean directions ``(Δω/a(n), Δθ/b(n))``
of update ``n`` at the pre-update iterates (``value`` is a second fast iterate where the learner
has one, RUDDER's value critic). A pure function."""

EpisodeSource = Literal["MDPSampler", "environment", "rollout", "replay", "unknown"]
"""How experience is drawn: i.i.d. whole episodes from the model (``MDPSampler``) or from a
Gymnasium environment (``environment``); a rollout of fixed length that continues episodes
across updates (``rollout``, Markov noise); a replay buffer (``replay``); or a loop whose
sampling acconv does not see (``unknown``)."""

PolicyForm = Literal["tabular_softmax", "network_softmax", "unknown"]
"""The policy's parametrisation: ``softmax(β θ[s, ·])`` of a table, the softmax of a network's
logits, or a form the learner does not state."""

ReturnModel = Literal["none", "tabular", "lstm"]
"""RUDDER's return-decomposition model, if any."""


@dataclass(frozen=True)
class LearnerFacts:
    """A learner's description of itself, published on the start event.

    Attributes:
        name: the learner's name as reports show it (``"ActorCritic"``, ``"neural.PPO"``,
            ``"stable_baselines3.PPO"``).
        config: the resolved configuration, for manifests and for reading back (read-only).
        mode: ``"sampled"``, or ``"expected"`` when every update is its own mean field.
        critic_lr, actor_lr: the schedules a(n), b(n) the run actually uses, as expressions;
            ``None`` when the learner has none it can state (a Python callable learning rate).
        beta: the inverse-temperature schedule β(n) of the policy (``None``: β = 1).
        step_sizes_note: why a schedule is ``None`` (shown in the step-size verdicts).
        sampled_step_sizes: the step sizes used on the run, when there is no expression.
        shared_optimizer: whether critic and actor are updated by one optimiser with one
            learning rate (then b(n) = a(n) and there is no timescale separation).
        optimizer: the optimiser's class name (``"SGD"``, ``"Adam"``...), or ``None`` when the
            update is the stochastic-approximation recursion itself (tabular learners).
        plain_sgd: whether every step is ``lr × gradient`` (SGD without momentum or weight
            decay); only read when ``optimizer`` is set.
        policy: the policy's parametrisation; ``activation`` the network's units, if any.
        kinks: non-smooth pieces of the losses (PPO's clip, a value clip, advantage
            normalisation), in words.
        analytic_parts: for a smooth tabular learner, what its losses are made of, in words.
        mean_field: the exact mean field, when the learner has one (tabular learners with a
            model); ``mean_field_reason`` says why not otherwise.
        fast_equilibrium: the exact λ(θ), when the learner and the model provide it (for a
            critic network: its values V_{λ(θ)} on every state, found numerically).
        fast_equilibrium_report: what the learner reports about a numerically found λ(θ) at
            each recorded update (:data:`EquilibriumReport`), if anything.
        episodes: how experience is drawn (A5).
        old_policy: whether the update holds a previous policy θ_old (PPO's ratio); ``None``
            when the learner cannot tell (a watched loop).
        gradient_steps: optimiser steps per batch (PPO's K·M; 1 for one-step learners);
            ``gradient_steps_text`` describes them (``"K = 4 epochs × M = 2 minibatches"``).
        return_model: RUDDER's return model, if any (A12).
        actor_field: ``"policy_gradient"`` when the learner's slow field is known analytically to
            be a positive multiple of ∇J for every θ (THEORY.md §2.2), else ``"unknown"``. The
            checks confirm it numerically before they rely on it.
        soft_critic_tau: the entropy temperature τ of a soft (entropy-regularised) critic,
            whose slow ODE has the closed-form equilibrium θ*_τ = Q*_τ/(β τ); 0 otherwise.
        target_kl: the learner's own KL threshold for PPO's update, when it has one.
        logs_ppo_diagnostics: whether every update logs PPO's batch diagnostics (approx KL,
            clip fraction, explained variance) in ``UpdateInfo.diagnostics``.
        losses_visible: whether the losses are known (False for a watched loop, whose loss
            code acconv does not see: A10 cannot be decided).
        fast_iterate: what ω is: a table of state values (whose equilibrium V^π is bounded by
            R_max times the longest expected episode), RUDDER's return model, a network's
            values on a probe or on every state, or unknown.
        beta_scaled_mean_field: ``c -> mean field`` of the same learner with β(n) replaced by
            c·β(n) (how the fields' Lipschitz constants scale with β, A3), when it has one.
    """

    name: str
    config: Mapping[str, Any] = field(default_factory=dict)
    mode: Literal["sampled", "expected"] = "sampled"
    critic_lr: Schedule | None = None
    actor_lr: Schedule | None = None
    beta: Schedule | None = None
    step_sizes_note: str = ""
    sampled_step_sizes: tuple[float, ...] = ()
    shared_optimizer: bool = False
    optimizer: str | None = None
    plain_sgd: bool = False
    policy: PolicyForm = "unknown"
    activation: str | None = None
    kinks: tuple[str, ...] = ()
    analytic_parts: str = ""
    mean_field: MeanField | None = None
    mean_field_reason: str = ""
    fast_equilibrium: FastEquilibrium | None = None
    fast_equilibrium_report: EquilibriumReport | None = None
    episodes: EpisodeSource = "MDPSampler"
    old_policy: bool | None = False
    gradient_steps: int = 1
    gradient_steps_text: str = ""
    return_model: ReturnModel = "none"
    actor_field: Literal["policy_gradient", "unknown"] = "unknown"
    soft_critic_tau: float = 0.0
    target_kl: float | None = None
    logs_ppo_diagnostics: bool = False
    losses_visible: bool = True
    fast_iterate: Literal["value_table", "return_model", "network", "unknown"] = "unknown"
    beta_scaled_mean_field: Callable[[float], MeanField | None] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "kinks", tuple(self.kinks))
        object.__setattr__(self, "sampled_step_sizes", tuple(self.sampled_step_sizes))
        if self.mean_field is None and not self.mean_field_reason:
            reason = f"no exact mean field is known for learner {self.name!r}"
            object.__setattr__(self, "mean_field_reason", reason)


class DescribedByFacts:
    """Read-only views of the learner's facts for a record that holds them as ``facts`` (the
    start event, a run's trace)."""

    facts: LearnerFacts

    @property
    def learner(self) -> str:
        """The learner's name (``facts.name``)."""
        return self.facts.name

    @property
    def config(self) -> Mapping[str, Any]:
        """The learner's resolved configuration (``facts.config``, read-only)."""
        return self.facts.config

    @property
    def fast_equilibrium(self) -> FastEquilibrium | None:
        """The exact ``λ(θ)`` of the fast iterate, when the learner and the model give it."""
        return self.facts.fast_equilibrium
