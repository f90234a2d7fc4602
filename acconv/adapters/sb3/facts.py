"""What an SB3 PPO or A2C model is, as acconv facts (:class:`~acconv.facts.LearnerFacts`), and
the step-size verdicts those facts give before a run."""

from __future__ import annotations

from typing import Any, Final

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from acconv.adapters.sb3.learning_rate import (
    SB3LearningRate,
    SB3StepSizes,
    translate_learning_rate,
)
from acconv.facts import FastEquilibrium, LearnerFacts
from acconv.theory_checks.learner_steps import SharedStepSizes, step_sizes_of

__all__ = ["sb3_facts", "sb3_step_sizes"]

_ACTIVATIONS: Final = {
    "Tanh": "tanh",
    "ReLU": "relu",
    "ELU": "elu",
    "Softplus": "softplus",
    "SiLU": "silu",
    "GELU": "gelu",
}


def sb3_facts(
    model: OnPolicyAlgorithm,
    rate: SB3LearningRate,
    fast_equilibrium: FastEquilibrium | None = None,
    config: dict[str, Any] | None = None,
) -> LearnerFacts:
    """What an SB3 PPO or A2C model is, as acconv facts: one optimiser for actor and critic
    with the one learning rate ``rate`` (a(n) = b(n)), the optimiser's kind, a softmax MLP
    policy with the policy's activation, PPO's clip (and SB3's advantage normalisation) as
    kinks, and rollouts that continue episodes across updates."""
    optimizer = model.policy.optimizer
    groups = getattr(optimizer, "param_groups", [{}])
    plain = isinstance(optimizer, torch.optim.SGD) and all(
        not g.get("momentum", 0) and not g.get("weight_decay", 0) and not g.get("nesterov")
        for g in groups
    )
    activation_fn = getattr(model.policy, "activation_fn", None)
    activation = _ACTIVATIONS.get(getattr(activation_fn, "__name__", ""))
    is_ppo = isinstance(model, PPO)
    kinks: list[str] = []
    steps, text = 1, "one gradient step per rollout"
    if isinstance(model, PPO):
        kinks.append("PPO's clipped surrogate min(ρÂ, clip(ρ, 1±ε)Â)")
        if model.clip_range_vf is not None:
            kinks.append("the value clip")
        minibatches = -(-int(model.n_steps) * int(model.n_envs) // int(model.batch_size))
        steps = int(model.n_epochs) * minibatches
        text = f"K = {model.n_epochs} epochs × M = {minibatches} minibatches"
    if getattr(model, "normalize_advantage", False):
        kinks.append("advantage normalisation (a square root of the batch variance)")
    name = f"stable_baselines3.{type(model).__name__}"
    return LearnerFacts(
        name=name,
        config=config or {},
        critic_lr=rate.schedule,
        actor_lr=rate.schedule,
        step_sizes_note=rate.description,
        sampled_step_sizes=tuple(float(x) for x in rate.sampled),
        shared_optimizer=True,
        optimizer=type(optimizer).__name__,
        plain_sgd=plain,
        policy="network_softmax",
        activation=activation,
        kinks=tuple(kinks),
        mean_field_reason=f"no exact mean field is known for learner {name!r}",
        fast_equilibrium=fast_equilibrium,
        episodes="rollout",
        old_policy=is_ppo,
        gradient_steps=steps,
        gradient_steps_text=text,
        fast_iterate="network",
        target_kl=getattr(model, "target_kl", None),
        logs_ppo_diagnostics=True,
    )


def sb3_step_sizes(
    model: OnPolicyAlgorithm,
    total_timesteps: int,
    *,
    start_timesteps: int = 0,
    sympy_timeout: float | None = 10.0,
) -> SB3StepSizes:
    """S1–S7 of ``model``'s learning rate for ``model.learn(total_timesteps)`` (before a run).

    ``total_timesteps`` is SB3's total (``learn``'s argument, plus ``start_timesteps`` when
    ``reset_num_timesteps=False``). Decided in :mod:`acconv.theory_checks` from the facts of
    the model (:func:`sb3_facts`): a constant or ``LinearSchedule``
    learning rate symbolically; other callables give ``undecided`` for S1–S3 and S5; S4, S6 and
    S7 are violated for every SB3 run (one optimiser, b(n) = a(n)).
    """
    if not isinstance(model, OnPolicyAlgorithm):
        raise ValueError(f"model is {type(model).__name__}, expected an SB3 PPO or A2C")
    steps = int(model.n_steps) * int(model.n_envs)
    rate = translate_learning_rate(
        model.lr_schedule,
        steps_per_update=steps,
        total_timesteps=total_timesteps,
        start_timesteps=start_timesteps,
    )
    shared = step_sizes_of(sb3_facts(model, rate), sympy_timeout)
    assert isinstance(shared, SharedStepSizes)
    return SB3StepSizes.of(shared, rate)
