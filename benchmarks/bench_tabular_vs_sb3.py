"""Whole tabular training runs against SB3's PPO on FrozenLake-v1: throughput and sample efficiency.

Run: ``python benchmarks/bench_tabular_vs_sb3.py`` (about 4.5 minutes on 2 cores; needs the
``neural`` extra: ``pip install -c constraints.txt ".[neural]"``). Prints Markdown tables for
``docs/performance.md``. Flags set seeds and budgets; ``--profile`` adds a cProfile summary of
one tabular PPO run.

Targets (issue "performance", items 2 and 3):

1. Throughput. A whole tabular PPO or actor-critic training run on FrozenLake-v1 (sampling plus
   updates, ``acconv.loop.train``) processes at least 1000x the environment steps per second
   that SB3's PPO does on the same environment, measured in the same benchmark run (SB3 is only
   the reference; the issue's author measured about 1,300 steps/s for it on this machine).
   SB3: ``PPO("MlpPolicy", FrozenLake-v1 (is_slippery=True), device="cpu")``, SB3's defaults
   otherwise, one environment, ``torch.set_num_threads(1)``; steps/s = ``num_timesteps`` / wall
   time of ``learn``. acconv: ``ActorCritic`` and ``PPO`` (defaults except the schedules) trained
   by ``train`` on ``discount_as_termination(from_gymnasium(FrozenLake-v1, gamma=0.99))`` (the
   discount becomes a per-step survival probability, so episodes need no truncation); steps/s =
   ``TrainResult.env_steps`` / wall time of ``train``. Both sides: median over seeds.
2. Sample efficiency. Report the environment steps tabular PPO needs to get within 0.01 of the
   optimal success probability, beside SB3's PPO (which had not got there after 100k steps in
   the issue). Optima of FrozenLake-v1's success probability: 0.744 under the environment's
   100-step limit (needs a time-dependent policy), 0.740 for the best stationary policy under
   the limit, 0.824 with no limit; the discounted ``V*(ρ)`` at γ = 0.99 is 0.542. **This
   benchmark compares with 0.740**, the best a stationary policy (what both learners learn) can
   do under the limit: the threshold is ``0.7402 - 0.01``.
   Success is computed exactly, never estimated from episodes: for the learner's current
   stochastic stationary policy ``π``, ``finite_horizon_evaluation(lake.with_gamma(1), π,
   100)`` (and ``policy_evaluation`` on the same MDP for the no-limit value). For acconv after
   every update; for SB3 after every rollout's training phase (and at the end), from the action
   probabilities ``model.policy.get_distribution(obs).distribution.probs`` of all 16 states.
   "Reached" is the first evaluation at or above the threshold; "stays from" the first after
   which every later evaluation of the run is at or above it.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from acconv.exact import (
    finite_horizon_evaluation,
    finite_horizon_optimal,
    optimal_values,
    policy_evaluation,
)
from acconv.instrument.events import EndEvent, StartEvent, UpdateEvent
from acconv.loop import train
from acconv.mdp import FiniteMDP, discount_as_termination, from_gymnasium
from acconv.policies import greedy_policy, softmax_policy
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.ppo import PPO

FloatArray = NDArray[np.float64]
LIMIT = 100  # FrozenLake-v1's TimeLimit
ENV_ID = "FrozenLake-v1"


# --------------------------------------------------------------------------------------------
# Exact success probabilities
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Optima:
    """The four optima of FrozenLake-v1 that the issue names, computed exactly."""

    time_dependent: float  # under the 100-step limit, time-dependent policy
    stationary: float  # the γ = 0.99 optimal policy (also optimal with no limit), under the limit
    no_limit: float
    discounted: float  # V*(ρ) at γ = 0.99


def optima(lake: FiniteMDP) -> Optima:
    """Backward induction, value iteration (γ = 1) and policy iteration (γ = 0.99).

    The stationary reference is the γ = 0.99 optimal policy evaluated under the limit; it is
    also optimal with no limit and gives the issue's 0.740. (The undiscounted problem has
    ties, e.g. dawdling in state 0 is free without a limit, so its argmax is not used.)
    """
    undiscounted = lake.with_gamma(1.0)
    discounted = optimal_values(lake)
    return Optima(
        time_dependent=float(lake.rho @ finite_horizon_optimal(undiscounted, LIMIT).V[0]),
        stationary=success_within_limit(undiscounted, discounted.policy),
        no_limit=float(lake.rho @ optimal_values(undiscounted).V),
        discounted=float(lake.rho @ discounted.V),
    )


def success_within_limit(undiscounted: FiniteMDP, pi: FloatArray) -> float:
    """``Pr(reach the goal within 100 steps)`` under the stationary policy ``pi``, exactly."""
    return float(undiscounted.rho @ finite_horizon_evaluation(undiscounted, pi, LIMIT)[0][0])


def success_no_limit(undiscounted: FiniteMDP, pi: FloatArray) -> float:
    """``Pr(ever reach the goal)`` under ``pi`` (NaN for an improper policy)."""
    try:
        return float(undiscounted.rho @ policy_evaluation(undiscounted, pi))
    except ValueError:
        return float("nan")


@dataclass
class Curve:
    """Exact success probabilities of one run's policies, by environment steps consumed."""

    steps: list[int] = field(default_factory=list)
    within_limit: list[float] = field(default_factory=list)
    no_limit: float = float("nan")  # of the final policy
    greedy_within_limit: float = float("nan")  # of the final policy's greedy policy
    wall_seconds: float = float("nan")
    final_policy: FloatArray | None = None

    def add(self, steps: int, value: float) -> None:
        self.steps.append(steps)
        self.within_limit.append(value)

    def first_at_least(self, threshold: float) -> int | None:
        """Environment steps of the first evaluation at or above ``threshold``."""
        pairs = zip(self.steps, self.within_limit, strict=True)
        return next((steps for steps, value in pairs if value >= threshold), None)

    def stays_from(self, threshold: float) -> int | None:
        """Steps of the first evaluation after which the run never drops below ``threshold``."""
        below = [i for i, v in enumerate(self.within_limit) if v < threshold]
        if not below:
            return self.steps[0] if self.steps else None
        return self.steps[below[-1] + 1] if below[-1] + 1 < len(self.steps) else None


class SuccessObserver:
    """An acconv observer that evaluates the policy after every update exactly."""

    def __init__(self, undiscounted: FiniteMDP) -> None:
        self.undiscounted = undiscounted
        self.curve = Curve()
        self.n_states = undiscounted.n_states

    def on_start(self, event: StartEvent) -> None:
        pass

    def on_update(self, event: UpdateEvent) -> None:
        # The policy after this update (the event's .policy is the one that sampled the batch);
        # rows past the lake's 16 states are discount_as_termination's absorbing "end" state.
        pi = softmax_policy(event.info.theta, event.info.beta_n)[: self.n_states]
        self.curve.add(event.env_steps, success_within_limit(self.undiscounted, pi))

    def on_end(self, event: EndEvent) -> None:
        pi = np.asarray(event.policy)[: self.n_states]
        self.curve.final_policy = pi
        self.curve.no_limit = success_no_limit(self.undiscounted, pi)
        self.curve.greedy_within_limit = success_within_limit(self.undiscounted, greedy_policy(pi))
        self.curve.wall_seconds = event.wall_seconds


# --------------------------------------------------------------------------------------------
# acconv runs
# --------------------------------------------------------------------------------------------


def make_learner(name: str, args: argparse.Namespace) -> ActorCritic | PPO:
    """The tabular learner ``name`` with the benchmark's schedules, defaults otherwise."""
    if name == "ActorCritic":
        return ActorCritic(critic_lr=args.critic_lr, actor_lr=args.actor_lr)
    return PPO(critic_lr=args.critic_lr, actor_lr=args.actor_lr)


def acconv_throughput(
    name: str, mdp: FiniteMDP, args: argparse.Namespace
) -> tuple[float, list[float]]:
    """Median env steps/s of ``train`` over ``--acconv-seeds`` (no observers), and all of them."""
    rates = []
    for seed in args.acconv_seeds:
        learner = make_learner(name, args)
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        result = train(
            learner, mdp, args.updates, rng, episodes_per_update=args.episodes_per_update
        )
        rates.append(result.env_steps / (time.perf_counter() - start))
    return statistics.median(rates), rates


def acconv_convergence(
    mdp: FiniteMDP, undiscounted: FiniteMDP, seed: int, args: argparse.Namespace
) -> Curve:
    """One tabular PPO run of ``--convergence-updates`` updates, evaluated after every update."""
    observer = SuccessObserver(undiscounted)
    train(
        make_learner("PPO", args),
        mdp,
        args.convergence_updates,
        np.random.default_rng(seed),
        observers=[observer],
        episodes_per_update=args.episodes_per_update,
    )
    return observer.curve


def profile_ppo(mdp: FiniteMDP, args: argparse.Namespace, top: int = 15) -> None:
    """Print where one tabular PPO training run spends its time (acconv functions only)."""
    profiler = cProfile.Profile()
    learner = make_learner("PPO", args)
    rng = np.random.default_rng(args.acconv_seeds[0])
    profiler.enable()
    train(learner, mdp, args.updates, rng, episodes_per_update=args.episodes_per_update)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values())  # total own time, profiler included
    rows = [
        (f"{path.split('/acconv/')[-1]}:{line} {func}", entry[2], entry[3])
        for (path, line, func), entry in raw.items()
        if "/acconv/" in path
    ]
    print(f"\ncProfile of one tabular PPO run ({args.updates} updates; total {total:.2f} s):\n")
    print("| acconv function | own time (s) | share | cumulative (s) | share |")
    print("|---|---|---|---|---|")
    for label, own, cumulative in sorted(rows, key=lambda r: -r[2])[:top]:
        print(
            f"| `{label}` | {own:.3f} | {100 * own / total:.0f}% | {cumulative:.3f} | "
            f"{100 * cumulative / total:.0f}% |"
        )


# --------------------------------------------------------------------------------------------
# SB3 runs (torch and SB3 are imported here only: acconv itself never imports them)
# --------------------------------------------------------------------------------------------


def sb3_policy_table(model: Any, n_states: int) -> FloatArray:
    """``π[s, a]`` of an SB3 policy on a Discrete observation space (it one-hot encodes ``s``)."""
    import torch

    obs, _ = model.policy.obs_to_tensor(np.arange(n_states))
    with torch.no_grad():
        probs = model.policy.get_distribution(obs).distribution.probs
    pi = probs.double().cpu().numpy()
    return np.asarray(pi / pi.sum(axis=1, keepdims=True))


def sb3_model(seed: int) -> Any:
    """SB3's PPO with its defaults on one FrozenLake-v1 (slippery) environment, on the CPU."""
    from stable_baselines3 import PPO as SB3PPO

    env = gymnasium.make(ENV_ID, is_slippery=True)
    return SB3PPO("MlpPolicy", env, seed=seed, device="cpu", verbose=0)


def sb3_throughput(seed: int, steps: int) -> float:
    """Env steps/s of ``learn(steps)`` without callbacks."""
    model = sb3_model(seed)
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return float(model.num_timesteps / (time.perf_counter() - start))


def sb3_convergence(seed: int, steps: int, undiscounted: FiniteMDP, every: int) -> Curve:
    """One SB3 PPO run, its policy evaluated exactly after every ``every``-th training phase."""
    from stable_baselines3.common.callbacks import BaseCallback

    curve = Curve()
    n_states = undiscounted.n_states

    class Evaluate(BaseCallback):
        """At the start of a rollout the previous rollout's training phase is done."""

        def __init__(self) -> None:
            super().__init__()
            self.rollouts = 0

        def _on_rollout_start(self) -> None:
            if self.rollouts % every == 0:
                pi = sb3_policy_table(self.model, n_states)
                curve.add(self.num_timesteps, success_within_limit(undiscounted, pi))
            self.rollouts += 1

        def _on_step(self) -> bool:
            return True

    model = sb3_model(seed)
    start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Evaluate())
    curve.wall_seconds = time.perf_counter() - start
    pi = sb3_policy_table(model, n_states)
    curve.add(int(model.num_timesteps), success_within_limit(undiscounted, pi))
    curve.final_policy = pi
    curve.no_limit = success_no_limit(undiscounted, pi)
    curve.greedy_within_limit = success_within_limit(undiscounted, greedy_policy(pi))
    return curve


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def steps_text(steps: int | None, budget: int) -> str:
    """``steps`` with thousands separators, or that the run never got there."""
    return f"{steps:,}" if steps is not None else f"not in {budget:,}"


def print_curves(
    label: str,
    curves: Sequence[tuple[int, Curve]],
    threshold: float,
    milestones: Sequence[float],
) -> None:
    """One Markdown row per run: steps to the milestones and the threshold, final values."""
    for seed, curve in curves:
        budget = curve.steps[-1]
        reached = [steps_text(curve.first_at_least(m), budget) for m in milestones]
        print(
            f"| {label} | {seed} | {budget:,} | "
            + " | ".join(reached)
            + f" | {steps_text(curve.first_at_least(threshold), budget)} | "
            f"{steps_text(curve.stays_from(threshold), budget)} | "
            f"{max(curve.within_limit):.4f} | {curve.within_limit[-1]:.4f} | "
            f"{curve.no_limit:.4f} | {curve.greedy_within_limit:.4f} | "
            f"{curve.wall_seconds:.1f} |"
        )


def costly_states(lake: FiniteMDP, pi: FloatArray, top: int = 3) -> list[tuple[int, float, float]]:
    """The states where ``pi`` loses most: ``(s, loss, π(optimal actions|s))``, largest first.

    The loss of ``s`` is the drop in success within the limit when the reference stationary
    policy (optimal at γ = 0.99) takes ``pi``'s row at ``s`` and keeps its own elsewhere.
    Optimal actions are those within 1e-9 of ``max_a Q*(s, a)`` at γ = 0.99 (state 6 has two).
    """
    undiscounted = lake.with_gamma(1.0)
    solution = optimal_values(lake)
    best = success_within_limit(undiscounted, solution.policy)
    optimal_actions = solution.Q >= solution.Q.max(axis=1, keepdims=True) - 1e-9
    losses = []
    for s in np.flatnonzero(~undiscounted.terminal):
        mixed = solution.policy.copy()
        mixed[s] = pi[s]
        loss = best - success_within_limit(undiscounted, mixed)
        losses.append((int(s), loss, float(pi[s] @ optimal_actions[s])))
    return sorted(losses, key=lambda row: -row[1])[:top]


def print_costly_states(label: str, curves: Sequence[tuple[int, Curve]], lake: FiniteMDP) -> None:
    """Where each run's final policy loses success against the best stationary policy."""
    for seed, curve in curves:
        if curve.final_policy is None:
            continue
        rows = costly_states(lake, curve.final_policy)
        text = "; ".join(f"state {s}: −{loss:.4f} (π(a*|s) = {p:.4f})" for s, loss, p in rows)
        print(f"- {label}, seed {seed}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--critic-lr", default="0.1/(n+1)**0.51", help="a(n) of both learners")
    parser.add_argument("--actor-lr", default="100/(n+10)**0.6", help="b(n) of both learners")
    parser.add_argument("--episodes-per-update", type=int, default=256)
    parser.add_argument("--updates", type=int, default=300, help="updates of a throughput run")
    parser.add_argument(
        "--convergence-updates", type=int, default=1500, help="updates of a PPO convergence run"
    )
    parser.add_argument("--acconv-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sb3-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--sb3-timing-steps", type=int, default=20_000, help="steps of the SB3 throughput run"
    )
    parser.add_argument(
        "--sb3-timing-runs", type=int, default=3, help="SB3 throughput runs (median is used)"
    )
    parser.add_argument(
        "--sb3-steps", type=int, default=100_000, help="steps of each SB3 convergence run"
    )
    parser.add_argument(
        "--sb3-eval-every", type=int, default=1, help="evaluate SB3 every k rollouts (2048 steps)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--skip-convergence", action="store_true", help="throughput only")
    parser.add_argument("--skip-throughput", action="store_true", help="convergence only")
    parser.add_argument("--profile", action="store_true", help="cProfile one tabular PPO run")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    lake = from_gymnasium(gymnasium.make(ENV_ID), gamma=0.99)
    undiscounted = lake.with_gamma(1.0)
    mdp = discount_as_termination(lake)

    # 1. Throughput, same run.
    if not args.skip_throughput:
        sb3_rates = [
            sb3_throughput(args.sb3_seeds[i % len(args.sb3_seeds)], args.sb3_timing_steps)
            for i in range(args.sb3_timing_runs)
        ]
        sb3_rate = statistics.median(sb3_rates)
        print(
            f"Throughput (FrozenLake-v1; acconv: {args.updates} updates of "
            f"{args.episodes_per_update} episodes, critic_lr={args.critic_lr!r}, "
            f"actor_lr={args.actor_lr!r}; median over seeds {args.acconv_seeds})\n"
        )
        print("| learner | env steps/s | runs (steps/s) | vs SB3 PPO | target |")
        print("|---|---|---|---|---|")
        runs = ", ".join(f"{r:,.0f}" for r in sb3_rates)
        summary: list[str] = []
        print(
            f"| SB3 PPO (MlpPolicy, {args.sb3_timing_steps:,} steps per run) | {sb3_rate:,.0f} | "
            f"{runs} | 1x | |"
        )
        for name in ("ActorCritic", "PPO"):
            rate, rates = acconv_throughput(name, mdp, args)
            verdict = "pass" if rate >= 1000 * sb3_rate else "**fail**"
            runs = ", ".join(f"{r / 1e6:.2f}M" for r in rates)
            print(
                f"| acconv tabular {name} | {rate:,.0f} | {runs} | {rate / sb3_rate:,.0f}x "
                f"({rate / max(sb3_rates):,.0f}x vs the fastest SB3 run) | ≥ 1000x: {verdict} |"
            )
            summary.append(
                f"SUMMARY | training throughput, tabular {name} (3) | ≥ 1000x SB3 PPO's env "
                f"steps/s | {rate / sb3_rate:,.0f}x ({rate:,.0f} vs {sb3_rate:,.0f} steps/s) | "
                f"{verdict.strip('*')} |"
            )
        for row in summary:
            print(row)
    if args.profile:
        profile_ppo(mdp, args)
    if args.skip_convergence:
        return

    # 2. Sample efficiency, exact success probabilities.
    best = optima(lake)
    threshold = best.stationary - 0.01
    milestones = (0.5, 0.7)
    print(
        f"\nSteps to within 0.01 of the best stationary success probability.\n\n"
        f"Optima (exact): {best.time_dependent:.4f} under the {LIMIT}-step limit "
        f"(time-dependent policy), **{best.stationary:.4f} best stationary under the limit "
        f"(the reference here; threshold {threshold:.4f})**, {best.no_limit:.4f} with no limit, "
        f"V*(ρ) = {best.discounted:.4f} discounted at γ = 0.99.\n"
    )
    header = " | ".join(f"first ≥ {m}" for m in milestones)
    print(
        f"| learner | seed | env steps run | {header} | first ≥ {threshold:.4f} | stays from | "
        "best | final | final, no limit | final greedy | wall (s) |"
    )
    print("|---|---|---|" + "---|" * len(milestones) + "---|---|---|---|---|---|---|")
    acconv_curves = [
        (seed, acconv_convergence(mdp, undiscounted, seed, args)) for seed in args.acconv_seeds
    ]
    print_curves("acconv tabular PPO", acconv_curves, threshold, milestones)
    sb3_curves = [
        (seed, sb3_convergence(seed, args.sb3_steps, undiscounted, args.sb3_eval_every))
        for seed in args.sb3_seeds
    ]
    print_curves("SB3 PPO", sb3_curves, threshold, milestones)
    shown = []
    for label, curves in (("tabular PPO", acconv_curves), ("SB3 PPO", sb3_curves)):
        reached = [c.first_at_least(threshold) for _, c in curves]
        steps = ", ".join("not reached" if r is None else f"{r:,}" for r in reached)
        finals = [c.within_limit[-1] for _, c in curves]
        shown.append(
            f"{label}: {steps} in {max(c.steps[-1] for _, c in curves):,} steps "
            f"(final {min(finals):.3f}–{max(finals):.3f})"
        )
    print(
        f"SUMMARY | env steps to within 0.01 of the best stationary success probability "
        f"{best.stationary:.3f} (3) | report | {'; '.join(shown)} | reported |"
    )
    print(
        "\nWhere the final policies lose most (success lost when the best stationary policy "
        "takes the learned row at one state; π(a*|s) the probability of its optimal actions):\n"
    )
    print_costly_states("acconv tabular PPO", acconv_curves, lake)
    print_costly_states("SB3 PPO", sb3_curves, lake)
    print(
        "\nValues are success probabilities of the learner's stochastic policy under the "
        f"{LIMIT}-step limit, except 'final, no limit' (same policy, no limit) and 'final "
        "greedy' (its argmax policy, under the limit)."
    )


if __name__ == "__main__":
    main()
