"""Batched episode sampling against its ceiling, a bare numpy simulation, in the same process.

Run: ``python benchmarks/bench_sampling.py [--episodes 1000] [--max-steps 100] [--repeats 31]``.
Prints a Markdown table for ``docs/performance.md``.

Target (issue 1): ``MDPSampler(mdp).sample(pi, 1000, rng, max_steps=100)`` on FrozenLake-v1 stays
within 2x of the ceiling, a bare numpy simulation of the same tables (inverse-CDF sampling, a
tight loop over time steps vectorised over the 1000 episodes; the issue's author measured about
12 million transitions per second for it on this machine), measured in the same run, for the
uniform policy and for a near-optimal softmax policy.

The ceiling is the fastest of several bare references, all inverse-CDF samplers over the same
per-``(s, a)`` tables that :class:`~acconv.sampling.MDPSampler` builds, all returning the content
of an :class:`~acconv.sampling.EpisodeBatch` (states, actions, rewards, episode lengths; padding
left unspecified):

``two-draw, all``   acconv's own scheme (one draw for the action, one for the next state), every
                    episode stepped at every time step; ended episodes sit in their absorbing state.
``joint, all``      the action and the next state drawn together, one uniform per step, from the
                    joint table ``π(a|s) P(s'|s, a)`` by one ``np.searchsorted`` over all states'
                    cumulative tables laid end to end; every episode stepped; the loop records one
                    flat joint index per transition, decoded after the loop by one gather per
                    quantity.
``joint, live``     the same draw, stepping only live episodes (compacting every step, records
                    scattered into padded arrays after the loop, as acconv's sampler does).
``joint, hybrid``   the same draw; every 4th step the stepped set is compacted once fewer than 3/4
                    of it is live; dense records, decoded as in ``joint, all``.

Per-MDP tables are built once, outside the timing (as ``MDPSampler.__init__`` builds its own);
whatever depends on the policy (acconv's action CDF, the joint CDF) is built inside every timed
call, since training changes the policy at every update. The loop of ``joint, hybrid`` without
the decoding is printed too, as a stricter ceiling.
Transitions are decisions in live states (``EpisodeBatch.n_steps``). Times are medians of
``--repeats`` rounds, each calling every sampler once in turn (after one warm-up call each).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from acconv.exact import finite_horizon_evaluation, optimal_values
from acconv.mdp import FiniteMDP, discount_as_termination, from_gymnasium
from acconv.policies import softmax_policy
from acconv.sampling import MDPSampler

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True)
class Trajectories:
    """What a reference returns: the content of an ``EpisodeBatch``, time-major.

    ``states`` is ``(T + 1, B)``, ``actions`` and ``rewards`` ``(T, B)`` (valid where
    ``t < lengths``), ``lengths`` ``(B,)`` the decisions of each episode.
    """

    states: IntArray
    actions: IntArray
    rewards: FloatArray
    lengths: IntArray

    @property
    def n_steps(self) -> int:
        """Transitions made in live states."""
        return int(self.lengths.sum())


class JointTables:
    """Flat tables of the joint outcomes ``(a, s')`` given ``s``, laid end to end for one search.

    Built once per MDP (as ``MDPSampler`` builds its tables): for the ``J = A K`` joint outcomes
    ``j = a K + k`` of each state (``K`` next states per ``(s, a)``, as in ``MDPSampler``) the
    source state, action, next state and reward. :meth:`cdf` builds the policy's cumulative
    table, once per call of a reference (timed, as acconv builds its action CDF per call): row
    ``s`` holds ``2 s + F_s(j)``, its last entry raised to ``2 s + 1.5`` so that a key
    ``2 s + u`` (``0 <= u < 1``) can never round into the next row. One
    ``np.searchsorted(cdf, 2 s + u, side="right")`` is then the inverse-CDF draw for every
    episode at once, and the flat index it returns reads the tables.
    """

    def __init__(self, sampler: MDPSampler) -> None:
        mdp = sampler.mdp
        S, A = mdp.n_states, mdp.n_actions
        K = sampler.next_states.shape[2]
        self.p_next = sampler.probs  # (S, A, K)
        self.offsets = (2.0 * np.arange(S))[:, None]
        self.next_state = sampler.next_states.reshape(-1).astype(np.intp)
        self.next_key = 2.0 * self.next_state  # the key offset of the next state
        self.source = np.repeat(np.arange(S), A * K)
        self.action = np.tile(np.repeat(np.arange(A), K), S)
        self.reward = sampler.step_rewards.reshape(-1).copy()
        self.reward[mdp.terminal[self.source]] = 0.0
        self.live_source = ~mdp.terminal[self.source]
        self.start_cdf = np.cumsum(mdp.rho)
        self.start_cdf[-1] = 1.5
        self.terminal = mdp.terminal
        self.filler = int(np.flatnonzero(~self.live_source)[0]) if mdp.terminal.any() else 0

    def cdf(self, pi: FloatArray) -> FloatArray:
        """The flat cumulative table of ``π(a|s) P(s'|s, a)``, rows offset by ``2 s``."""
        S = len(self.offsets)
        cumulative = np.cumsum((pi[:, :, None] * self.p_next).reshape(S, -1), axis=1)
        cumulative[:, -1] = 1.5
        return np.asarray((self.offsets + cumulative).ravel())


def reference_two_draw_all(
    sampler: MDPSampler, pi: FloatArray, n: int, rng: np.random.Generator, limit: int
) -> Trajectories:
    """acconv's two inverse-CDF draws per step, every episode stepped at every time step."""
    terminal, nxt, rew = sampler.mdp.terminal, sampler.next_states, sampler.step_rewards
    cdf = np.cumsum(sampler.probs, axis=2)
    cdf[:, :, -1] = np.inf
    action_cdf = np.cumsum(pi, axis=1)
    action_cdf[:, -1] = np.inf
    states = np.empty((limit + 1, n), dtype=np.intp)
    actions = np.empty((limit, n), dtype=np.intp)
    rewards = np.empty((limit, n))
    s = np.searchsorted(sampler.start_cdf, rng.random(n), side="right")
    states[0] = s
    t = 0
    while t < limit and not terminal[s].all():
        u = rng.random((2, n))
        a = (u[0][:, None] > action_cdf[s]).sum(axis=1)
        k = (u[1][:, None] > cdf[s, a]).sum(axis=1)
        rewards[t] = rew[s, a, k]
        s = nxt[s, a, k]
        actions[t] = a
        t += 1
        states[t] = s
    lengths = (~terminal[states[:t]]).sum(axis=0)
    return Trajectories(states[: t + 1], actions[:t], rewards[:t], lengths)


def simulate_joint(
    tables: JointTables,
    pi: FloatArray,
    n: int,
    rng: np.random.Generator,
    limit: int,
    compact: bool,
    every: int = 4,
    keep: float = 0.75,
) -> tuple[IntArray, IntArray]:
    """The bare loop: per step one uniform, one search and one gather per stepped episode.

    Returns the start states and the ``(T, n)`` flat joint index of every transition. With
    ``compact``, every ``every`` steps the ended episodes are dropped from the stepped set once
    fewer than ``keep`` of it are live (their later entries keep a dead-row filler whose source
    is terminal); without, every episode is stepped until all have ended (checked every
    ``every`` steps).
    """
    cdf = tables.cdf(pi)
    start = np.searchsorted(tables.start_cdf, rng.random(n), side="right")
    next_key, next_state, terminal = tables.next_key, tables.next_state, tables.terminal
    record = np.full((limit, n), tables.filler, dtype=np.intp)
    episodes = np.arange(n)
    everyone = True
    key = 2.0 * start
    t = 0
    while t < limit:
        x = rng.random(len(key))
        x += key
        j = np.searchsorted(cdf, x, side="right")
        key = next_key[j]
        if everyone:
            record[t] = j
        else:
            record[t, episodes] = j
        t += 1
        if t % every == 0:
            live = ~terminal[next_state[j]]
            n_live = np.count_nonzero(live)
            if n_live == 0:
                break
            if compact and n_live < keep * len(live):
                episodes, key, everyone = episodes[live], key[live], False
    return start, record[:t]


def decode(tables: JointTables, start: IntArray, record: IntArray) -> Trajectories:
    """States, actions, rewards and lengths from flat joint indices: one gather per quantity."""
    states = np.empty((len(record) + 1, len(start)), dtype=np.intp)
    states[0] = start
    states[1:] = tables.next_state[record]
    lengths = tables.live_source[record].sum(axis=0)
    return Trajectories(states, tables.action[record], tables.reward[record], lengths)


def reference_joint_live(
    tables: JointTables, pi: FloatArray, n: int, rng: np.random.Generator, limit: int
) -> Trajectories:
    """One joint draw per step for the live episodes only, compacting every step; scattered
    into padded arrays after the loop (the layout of acconv's own sampler)."""
    cdf = tables.cdf(pi)
    start = np.searchsorted(tables.start_cdf, rng.random(n), side="right")
    next_key, next_state, terminal = tables.next_key, tables.next_state, tables.terminal
    episodes = np.flatnonzero(~terminal[start])
    key = 2.0 * start[episodes]
    columns: list[tuple[IntArray, IntArray]] = []
    while len(episodes) and len(columns) < limit:
        x = rng.random(len(episodes))
        x += key
        j = np.searchsorted(cdf, x, side="right")
        columns.append((episodes, j))
        live = ~terminal[next_state[j]]
        episodes, key = episodes[live], next_key[j[live]]
    T = len(columns)
    sizes = np.array([len(e) for e, _ in columns], dtype=np.intp)
    episode = np.concatenate([e for e, _ in columns]) if T else np.empty(0, dtype=np.intp)
    joint = np.concatenate([j for _, j in columns]) if T else np.empty(0, dtype=np.intp)
    step = np.repeat(np.arange(T), sizes)
    states = np.zeros((T + 1, n), dtype=np.intp)
    actions = np.zeros((T, n), dtype=np.intp)
    rewards = np.zeros((T, n))
    states[0] = start
    states[step + 1, episode] = tables.next_state[joint]
    actions[step, episode] = tables.action[joint]
    rewards[step, episode] = tables.reward[joint]
    return Trajectories(states, actions, rewards, np.bincount(episode, minlength=n))


def interleaved_medians(
    fns: dict[str, Callable[[], Any]], repeats: int
) -> dict[str, tuple[float, Any]]:
    """Median wall time of each function and its last result.

    One warm-up call each, then ``repeats`` rounds that call every function once in turn, so a
    change in machine load hits all of them alike.
    """
    results = {label: fn() for label, fn in fns.items()}
    times: dict[str, list[float]] = {label: [] for label in fns}
    for _ in range(repeats):
        for label, fn in fns.items():
            start = time.perf_counter()
            results[label] = fn()
            times[label].append(time.perf_counter() - start)
    return {label: (statistics.median(times[label]), results[label]) for label in fns}


def near_optimal_policy(mdp: FiniteMDP, logit: float) -> FloatArray:
    """``softmax(θ)`` with ``θ[s, a] = logit`` on an optimal action of ``mdp``, else 0."""
    return softmax_policy(logit * optimal_values(mdp).policy)


def bench_policy(
    name: str,
    mdp: FiniteMDP,
    pi: FloatArray,
    args: argparse.Namespace,
    rng: np.random.Generator,
    checks: list[str],
) -> float:
    """Print one table row per sampler for one MDP and policy; return ceiling / acconv.

    Appends to ``checks`` one line comparing each sampler's mean return with the exact one.
    """
    sampler = MDPSampler(mdp)
    tables = JointTables(sampler)
    n, limit = args.episodes, args.max_steps
    references: dict[str, Callable[[], Any]] = {
        "two-draw, all": lambda: reference_two_draw_all(sampler, pi, n, rng, limit),
        "joint, all": lambda: decode(tables, *simulate_joint(tables, pi, n, rng, limit, False)),
        "joint, live": lambda: reference_joint_live(tables, pi, n, rng, limit),
        "joint, hybrid": lambda: decode(tables, *simulate_joint(tables, pi, n, rng, limit, True)),
        "simulate only": lambda: simulate_joint(tables, pi, n, rng, limit, True),
        "acconv": lambda: sampler.sample(pi, n, rng, max_steps=limit),
    }
    timed = interleaved_medians(references, args.repeats)
    rates: dict[str, float] = {}
    for label, (seconds, out) in timed.items():
        if label == "simulate only":
            steps = int(tables.live_source[out[1]].sum())
        else:
            steps = out.n_steps
        rates[label] = steps / seconds
    # Sanity: every sampler draws the right distribution (mean undiscounted return vs exact).
    exact = mdp.rho @ finite_horizon_evaluation(mdp.with_gamma(1.0), pi, limit)[0][0]
    means = {
        label: float(out.rewards.sum()) / n
        for label, (_, out) in timed.items()
        if label != "simulate only"
    }
    spread = 5.0 * np.sqrt(max(exact * (1.0 - exact), 1e-3) / n)  # 5 standard errors (0/1 returns)
    off = {label: mean for label, mean in means.items() if abs(mean - exact) > spread}
    checks.append(
        f"{name}: exact mean return {exact:.3f}; sampled "
        + ", ".join(f"{label} {mean:.3f}" for label, mean in means.items())
        + (f"; OFF BY MORE THAN 5 SE: {sorted(off)}" if off else "")
    )
    acconv = rates.pop("acconv")
    simulate_only = rates.pop("simulate only")
    ceiling_label = max(rates, key=rates.__getitem__)
    ceiling = rates[ceiling_label]
    for label, rate in rates.items():
        mark = " **(ceiling)**" if label == ceiling_label else ""
        print(f"| {name} | bare: {label}{mark} | {rate / 1e6:.2f} | {rate / acconv:.2f}x | |")
    print(
        f"| {name} | bare: joint, hybrid, loop only (no decoding) | {simulate_only / 1e6:.2f} | "
        f"{simulate_only / acconv:.2f}x | (stricter) |"
    )
    mean_length = timed["acconv"][1].n_steps / n
    ratio = ceiling / acconv
    verdict = "pass" if ratio <= 2.0 else "**fail**"
    print(
        f"| {name} | **acconv `MDPSampler.sample`** ({mean_length:.1f} steps/episode) | "
        f"{acconv / 1e6:.2f} | {ratio:.2f}x | ≤ 2x: {verdict} |"
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--episodes", type=int, default=1000, help="batch size B")
    parser.add_argument("--max-steps", type=int, default=100, help="time limit of an episode")
    parser.add_argument("--repeats", type=int, default=31, help="timed calls per sampler")
    parser.add_argument("--seed", type=int, default=0, help="root seed of the numpy Generator")
    parser.add_argument(
        "--logit",
        type=float,
        default=8.0,
        help="logit of the optimal action in the near-optimal softmax policy (8: success 0.734)",
    )
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    lake = from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.99)
    undiscounted = lake.with_gamma(1.0)
    uniform = np.full((lake.n_states, lake.n_actions), 1.0 / lake.n_actions)
    good = near_optimal_policy(lake, args.logit)
    success = finite_horizon_evaluation(undiscounted, good, args.max_steps)[0][0] @ lake.rho
    print(
        f"near-optimal policy: softmax({args.logit:g}·1[a = a*(s)]), π(a*|s) = "
        f"{good.max(axis=1)[0]:.3f}, success probability within {args.max_steps} steps "
        f"{success:.3f}\n"
    )
    print("| MDP, policy | sampler | M transitions/s | rate / acconv | target |")
    print("|---|---|---|---|---|")
    checks: list[str] = []
    ratios = [
        bench_policy("FrozenLake-v1, uniform", lake, uniform, args, rng, checks),
        bench_policy("FrozenLake-v1, near-optimal", lake, good, args, rng, checks),
    ]
    # What training samples: γ = 0.99 turned into termination (one extra absorbing state).
    survival = discount_as_termination(lake)
    pad = np.vstack([good, np.full((1, lake.n_actions), 1.0 / lake.n_actions)])
    ratios.append(
        bench_policy("FrozenLake-v1 γ→termination, near-optimal", survival, pad, args, rng, checks)
    )
    print("\nSanity (one batch each):")
    for line in checks:
        print(f"- {line}")
    worst = max(ratios[:2])
    verdict = "pass" if worst <= 2.0 else "fail"
    print(f"\nTarget (FrozenLake-v1, both policies): worst ratio {worst:.2f}x ≤ 2x: {verdict}")
    print(
        "SUMMARY | batched sampling, FrozenLake-v1 (3) | within 2x of a bare numpy simulation | "
        f"{ratios[0]:.2f}x (uniform π), {ratios[1]:.2f}x (near-optimal π), {ratios[2]:.2f}x "
        f"(near-optimal π, γ→termination) | {verdict} |"
    )


if __name__ == "__main__":
    main()
