"""Tabular two-timescale learners: a fast critic (or return model) and a slow softmax actor.

Each learner's module docstring is its pseudocode; ``mode="expected"`` replaces the sampled
batch by exact expectations (the mean field of the ODEs the theory studies). The exact-gradient
methods (softmax PG, NPG, policy mirror descent) are the algorithms the rate bounds certify.
"""

from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.exact_methods import NPG, PolicyMirrorDescent, SoftmaxPG
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER

__all__ = ["NPG", "PPO", "RUDDER", "ActorCritic", "PolicyMirrorDescent", "SoftmaxPG"]
