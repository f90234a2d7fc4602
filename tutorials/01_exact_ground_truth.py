# Tutorial 1: an MDP's exact ground truth.
#
# Every convergence check in acconv compares a learner with quantities that are computed exactly
# on a small MDP: the state values V^π, the action values Q^π, the advantages A^π = Q^π - V^π,
# the discounted state visitation d^π, the optimal values V* and the exact policy gradient.
# This tutorial computes them on a 5-state corridor and on FrozenLake, checks the identities that
# connect them, and checks one of them against Monte-Carlo episodes.
#
# Run it with `python tutorials/01_exact_ground_truth.py` (a few seconds). Every claim printed
# below is also asserted, so the script fails if a claim stops being true.

# %% Imports. Randomness is always an explicit generator: np.random.default_rng(seed).
import gymnasium
import numpy as np

import acconv  # noqa: F401  (importing acconv registers its Gymnasium environments)
from acconv.exact import (
    action_values,
    advantages,
    discounted_visitation,
    objective,
    optimal_values,
    policy_evaluation,
    policy_gradient,
    policy_reward,
    policy_transition,
)
from acconv.mdp import chain, discount_as_termination, from_gymnasium
from acconv.policies import softmax_policy
from acconv.sampling import MDPSampler

np.set_printoptions(precision=4, suppress=True)

# %% [1] A corridor 0 - 1 - 2 - 3 - 4. Action 0 moves left, action 1 moves right; entering
# state 4 pays 1 and ends the episode. FiniteMDP stores P[s, a, s'], R[s, a], γ and ρ.
gamma = 0.9
mdp = chain(5, gamma=gamma)
print(mdp)
print("P[0, 1, :] (move right from state 0):", mdp.P[0, 1])

# A policy is a table pi[s, a]. The uniform policy moves left or right with probability 1/2.
pi = np.full((mdp.n_states, mdp.n_actions), 0.5)

# %% [2] V^π solves the Bellman equation V = r_π + γ P_π V, a linear system (solved, not
# inverted). Q^π(s, a) = R(s, a) + γ Σ_s' P(s'|s, a) V^π(s') and A^π = Q^π - V^π.
V = policy_evaluation(mdp, pi)
Q = action_values(mdp, pi)
A = advantages(mdp, pi)
print("\nV^π of the uniform policy:", V)
print("Q^π (rows: states, columns: left, right):\n", Q)

residual = np.abs(policy_reward(mdp, pi) + gamma * policy_transition(mdp, pi) @ V - V).max()
print(f"Bellman residual max |r_π + γ P_π V - V| = {residual:.1e}")
assert residual < 1e-12
# V is the policy's average of Q, so the advantages average to zero under π in every state.
assert np.allclose(np.sum(pi * Q, axis=1), V)
assert np.allclose(np.sum(pi * A, axis=1), 0.0)
# Moving right is better than moving left in every non-terminal state.
assert np.all(A[:-1, 1] > 0) and np.all(A[:-1, 0] < 0)

# %% [3] The optimum. Without slip the best policy walks right: V*(0) = γ^(n-2) = 0.9³ because
# the reward of the 4th step is discounted three times.
best = optimal_values(mdp)
print(f"\nV*(0) = {best.V[0]:.6f}, γ³ = {gamma**3:.6f}; the uniform policy gets {V[0]:.4f}")
assert np.isclose(best.V[0], gamma**3)
assert np.all(best.V >= V - 1e-12)  # no policy beats the optimum in any state
assert np.all(best.policy[:-1, 1] == 1.0)  # always move right

# %% [4] d^π, the discounted state visitation: d^π(s) = (1 - γ) Σ_t γ^t Pr(s_t = s). It is a
# distribution, and the objective J(π) = ρᵀV^π is the visitation-weighted reward / (1 - γ).
d = discounted_visitation(mdp, pi)
J = float(mdp.rho @ V)
print("\nd^π:", d, f"(sums to {d.sum():.6f})")
J_from_d = float(d @ policy_reward(mdp, pi)) / (1 - gamma)
print(f"J(π) = ρᵀV^π = {J:.6f};  Σ_s d^π(s) r_π(s) / (1 - γ) = {J_from_d:.6f}")
assert np.isclose(d.sum(), 1.0)
assert np.isclose(J, J_from_d)

# %% [5] Does V^π mean what it says? Sample episodes and average their returns. To get
# undiscounted returns with the same mean, discount_as_termination turns γ into a survival
# probability: each step ends the episode with probability 1 - γ. V^π is unchanged.
episodic = discount_as_termination(mdp)
pi_episodic = np.vstack([pi, [0.5, 0.5]])  # one more row: the new terminal state "end"
assert np.allclose(policy_evaluation(episodic, pi_episodic)[:-1], V)
batch = MDPSampler(episodic).sample(pi_episodic, 20_000, np.random.default_rng(0))
returns = batch.returns(1.0)
standard_error = returns.std(ddof=1) / np.sqrt(len(returns))
print(
    f"\nMonte Carlo: mean return of {len(returns)} episodes = {returns.mean():.4f} "
    f"± {standard_error:.4f} (exact V^π(0) = {V[0]:.4f})"
)
assert abs(returns.mean() - V[0]) < 4 * standard_error

# %% [6] FrozenLake-v1 (4x4, slippery), converted from Gymnasium's own model env.unwrapped.P.
lake = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.99)
lake_best = optimal_values(lake)
uniform = np.full((lake.n_states, lake.n_actions), 0.25)
V_uniform = policy_evaluation(lake, uniform)
print(f"\nFrozenLake: |S| = {lake.n_states}, |A| = {lake.n_actions}, γ = {lake.gamma}")
print("V* on the 4x4 grid:\n", lake_best.V.reshape(4, 4))
print(f"V*(ρ) = {lake.rho @ lake_best.V:.4f}; the uniform policy gets {lake.rho @ V_uniform:.4f}")
assert lake.n_states == 16 and lake.n_actions == 4
assert lake.rho @ lake_best.V > 10 * (lake.rho @ V_uniform)

# %% [7] The exact policy gradient of a softmax policy π_θ = softmax(θ):
# ∂J/∂θ[s, a] = η(s) π(a|s) A^π(s, a), with η the (unnormalised) discounted visits.
# Check it against central finite differences of J(θ) at a random θ.
theta = np.random.default_rng(1).normal(size=(lake.n_states, lake.n_actions))
grad = policy_gradient(lake, theta)
h = 1e-6
numeric = np.zeros_like(theta)
for s in range(lake.n_states):
    for a in range(lake.n_actions):
        step = np.zeros_like(theta)
        step[s, a] = h
        numeric[s, a] = (objective(lake, theta + step) - objective(lake, theta - step)) / (2 * h)
error = np.abs(grad - numeric).max()
print(f"\n‖∂J/∂θ‖ = {np.linalg.norm(grad):.4f}; max |exact - finite difference| = {error:.1e}")
assert error < 1e-7 * max(1.0, np.abs(grad).max())
# Softmax shift invariance: adding a constant to a row of θ does not change π, so the gradient
# of every row sums to zero.
assert np.allclose(grad.sum(axis=1), 0.0)
assert np.allclose(softmax_policy(theta + 3.0), softmax_policy(theta))

print("\nAll claims of tutorial 1 hold.")

# %% Exercises. Change one setting, predict the outcome, then run the script again.
#
# 1. Make the corridor slippery: chain(5, slip=0.2, gamma=gamma). Does V*(0) = γ³ still hold?
#    Which assertion fails, and is V*(0) now larger or smaller than 0.9³?
# 2. Set gamma = 0.5. Predict V*(0) and whether the uniform policy's advantage of "right" is
#    still positive in every state. Does the Monte-Carlo check still pass (why should it)?
# 3. Use FrozenLake without slipping: gymnasium.make("FrozenLake-v1", is_slippery=False).
#    Predict V*(ρ) exactly (hint: the shortest path has 6 steps and γ = 0.99).
