# Tutorial 2: your first two-timescale actor-critic, and its tracking error.
#
# An actor-critic has two iterates. The critic ω (here a table of state values) moves with a
# step size a(n); the actor θ (softmax logits) moves with a smaller step size b(n). When
# b(n)/a(n) → 0 the critic sees an almost frozen actor and settles near its equilibrium
# λ(θ) = V^{π_θ}; the actor then sees an almost exact critic. This is the two-timescale argument
# of Borkar (1997). acconv measures it on a run: the tracking error ‖ω_n - λ(θ_n)‖, computed
# against the exact λ(θ_n), and the envelope that the theory predicts for it.
#
# Run it with `python tutorials/02_first_actor_critic.py` (about 10 s).

# %% Imports
import numpy as np

from acconv import ActorCritic, check_step_sizes, discount_as_termination, garnet, train
from acconv.exact import policy_evaluation, soft_value_iteration
from acconv.instrument import Recorder, TwoTimescaleMonitor
from acconv.theory_checks import assumption_report

# %% [1] The task: a random Garnet MDP with 8 states and 3 actions, γ = 0.9. As in tutorial 1,
# discount_as_termination turns γ into a survival probability, so sampled episodes end by
# themselves and their returns are unbiased.
mdp = discount_as_termination(garnet(8, 3, 3, np.random.default_rng(0), gamma=0.9))
print(mdp)

# %% [2] The schedules are expressions in n. acconv decides the step-size conditions S1-S7
# symbolically before anything runs (THEORY.md §7): S1/S2 Σa = Σb = ∞, S3 Σa² + Σb² < ∞,
# S4 b(n)/a(n) → 0, S5 eventually non-increasing, ...
critic_lr = "1/(n+1)**0.6"  # a(n), fast
actor_lr = "1/(n+10)"  # b(n), slow: b/a ~ n^-0.4 → 0
steps = check_step_sizes(critic_lr, actor_lr)
for verdict in steps.conditions:
    print(f"{verdict.id}: {verdict.status:<9} ({verdict.method}) {verdict.name}")
print("two timescales:", steps.two_timescale)
assert steps.two_timescale == "holds"
assert all(steps[c].status == "holds" for c in ("S1", "S2", "S3", "S4", "S5"))

# %% [3] The learner. tau = 0.5 adds entropy regularisation: the policy then converges to an
# interior (stochastic) optimum, so the logits stay bounded (tutorial 3 shows what happens
# without it). Two observers watch the run: a Recorder (losses, returns, the exact gap
# V*(ρ) - J(π_n)) and the TwoTimescaleMonitor (the tracking error and its envelopes).
# Observers only watch: they cannot change the learner.
learner = ActorCritic(critic_lr=critic_lr, actor_lr=actor_lr, tau=0.5)
recorder = Recorder()
monitor = TwoTimescaleMonitor()
n_updates = 3000
result = train(
    learner, mdp, n_updates, np.random.default_rng(1), [recorder, monitor], episodes_per_update=16
)
print(f"\n{n_updates} updates, {result.env_steps} environment steps")

# %% [4] The tracking error. Both observers log at log-spaced updates n; series() returns
# (n, values) for each metric key (the keys are explained in docs/metrics.md). The noise
# envelope needs a window of earlier updates, so it starts at n = 1: look values up by n.
series = monitor.series()


def at(metric: str) -> dict[int, float]:
    """The recorded values of one metric, keyed by the update n."""
    steps, values = series[metric]
    return dict(zip(steps.tolist(), values.tolist(), strict=True))


n, error = series["track/error"]
envelope, noise, lag = at("track/envelope"), at("track/noise_envelope"), at("track/lag_envelope")
print("\n     n   ‖ω-λ(θ)‖   envelope = noise + lag + transient")
for i in np.unique(np.searchsorted(n, [1, 10, 30, 100, 300, 1000, n_updates - 1])):
    k = int(n[i])
    print(f"{k:6d}   {error[i]:8.3f}   {envelope[k]:8.3f} = {noise[k]:.3f} + {lag[k]:.4f} + ...")


def median_error(low: int, high: int) -> float:
    """Median tracking error over the recorded updates low ≤ n < high."""
    return float(np.median(error[(n >= low) & (n < high)]))


early, late = median_error(0, 30), median_error(300, n_updates)
print(f"median error: {early:.2f} for n < 30, {late:.2f} for n ≥ 300")
# The critic starts at zero, far from V^π, and catches up: the error falls by more than half.
assert late < 0.5 * early
# What is left is noise: each batch has only 16 episodes. The noise envelope sqrt(a(n)·tr Σ)
# shrinks like n^-0.3, and the lag caused by the moving actor, ~ b(n)/a(n), is far smaller.
last = n_updates - 1
assert lag[last] < 0.1 * noise[last]
assert envelope[last] < 0.5 * envelope[min(k for k in envelope if k >= 300)]

# %% [5] The monitor's verdicts: tracking, bounded iterates (A8), a positive policy (A1),
# bounded greediness (A9), a stable fast equilibrium (A6) and the noise moments (A4). Each names
# its method: exact (from the model), symbolic, or estimated (from this run only: evidence,
# not proof). Only a proof says holds or violated; evidence is "undecided", with the way it
# leans and how strong it is (v.shown prints both).
print()
verdicts = {v.id: v for v in monitor.verdicts()}
for v in verdicts.values():
    print(f"{v.id:<9} {v.shown:<44} {v.method:<10} {v.detail[:60]}")
# The error falls on the run's tail: evidence that the critic tracks λ(θ_n), not a proof.
assert verdicts["tracking"].status == "undecided" and verdicts["tracking"].lean == "holds"
assert verdicts["A6"].status == "holds" and verdicts["A6"].method == "exact"

# %% [6] Did the run get anywhere? With τ = 0.5 the actor's target is the entropy-regularised
# optimum π*_τ (soft value iteration), not the greedy optimum, so we measure progress by the
# soft objective J_τ(π) = ρᵀṼ^π and by the distance to π*_τ. The actor's clock
# t_b(n) = Σ_k b(k) grows only like log n: after 3000 updates the actor has followed its ODE
# for only t_b time units. It is on its way.
soft = soft_value_iteration(mdp, tau=0.5)
_, t_b = steps.clocks(n_updates - 1)
# Σ_{k<N} 1/(k + 10) ≈ ∫ dx/x from 9.5 to N + 9.5 (the midpoint rule)
log_estimate = np.log((n_updates + 9.5) / 9.5)
print(f"\nthe actor's clock after {n_updates} updates: t_b = {t_b[-1]:.3f} ≈ {log_estimate:.3f}")
assert abs(t_b[-1] - log_estimate) < 0.01
uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)


def soft_objective(pi: np.ndarray) -> float:
    """J_τ(π) = ρᵀṼ^π, the entropy-regularised objective."""
    return float(mdp.rho @ policy_evaluation(mdp, pi, tau=0.5))


def distance_to_soft_optimum(pi: np.ndarray) -> float:
    """max |π(a|s) - π*_τ(a|s)| over the non-terminal states."""
    return float(np.abs(pi - soft.policy)[~mdp.terminal].max())


for name, pi in [("π_0 (uniform)", uniform), ("π_final", result.policy), ("π*_τ", soft.policy)]:
    print(
        f"{name:<14} J_τ = {soft_objective(pi):7.3f}   "
        f"max |π - π*_τ| = {distance_to_soft_optimum(pi):.3f}"
    )

assert soft_objective(uniform) < soft_objective(result.policy) < soft_objective(soft.policy)
assert distance_to_soft_optimum(result.policy) < 0.75 * distance_to_soft_optimum(uniform)
# The unregularised gap to V*(ρ) shrinks too, but cannot reach 0 at τ > 0.
_, gap = recorder.series()["exact/gap"]
print(f"V*(ρ) - J(π_n): {gap[0]:.3f} at n = 0, {gap[-1]:.3f} at n = {n_updates - 1}")
assert 0 < gap[-1] < gap[0]

# %% [7] The whole catalogue A0-A12 and what it licenses. assumption_report says how far each
# theorem's hypotheses are established, and never more: "met" when every one is proven,
# "supported" when they are proven where provable and the rest (for Borkar: A4, A7-global, A8, from
# this run) only supported by evidence. Even "met" means the theorem applies to this
# configuration as checked, not that this run converged. The Holzleitner et al. statement is a
# reconstruction (THEORY.md §4.3), and the report says so.
report = assumption_report(monitor)
print()
for theorem, level in report.coverage.items():
    by_evidence = ", ".join(report.supported_by_evidence[theorem])
    print(f"{theorem}: {level} (by evidence only: {by_evidence})")
print(report.statement)
assert report.coverage["Borkar 1997"] == "supported"
assert "reconstruction" in report.statement

print("\nAll claims of tutorial 2 hold.")

# %% Exercises. Change one setting, predict the verdicts, then run the script again.
#
# 1. Use episodes_per_update=64 instead of 16. Predict: does the late tracking error go up or
#    down, and by roughly what factor? (The noise envelope is sqrt(a(n)·tr Σ), and Σ scales
#    like the variance of a batch mean.)
# 2. Use critic_lr = "1/(n+1)**0.9". Which of S1-S5 still hold? Is the critic still
#    faster than the actor (S4)? Predict whether the tracking verdict still holds.
# 3. Set tau=0.0. Predict what happens to the gap V*(ρ) - J and to the A8 (bounded iterates)
#    verdict; tutorial 3 explains it.
# 4. The same two timescales in a PyTorch loop: acconv/examples/two_timescale_sgd.py trains
#    an actor and a critic network with two SGD optimisers under acconv.watch (docs: "Check your
#    own training loop"). Run it with the actor as fast as the critic:
#    watch = run(iterations=300, actor_lr="0.1/(1 + n/100)**0.6"), then print
#    watch.report().step_sizes.conditions and watch.monitor.series()["track/error"]. Predict
#    S4, A2 and the optimizer verdict, and whether the tracking error still falls.
