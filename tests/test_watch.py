"""acconv.watch: a user's own torch actor-critic loop under the two-timescale checks.

The loops here are small, seeded A2C-style loops on the Garnet model (8 states, 3 actions,
γ = 0.9): a rollout of 32 steps, TD(0) targets, one critic step and one actor step per rollout.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gymnasium  # noqa: E402
from torch import nn  # noqa: E402

import acconv  # noqa: E402
from acconv.exact import value_equilibrium  # noqa: E402
from acconv.policies import softmax_policy  # noqa: E402

S, A, GAMMA = 8, 3, 0.9


def _onehot(s: Any) -> Any:
    return nn.functional.one_hot(torch.as_tensor(s), S).float()


class _Agent(nn.Module):
    """Actor and critic heads, optionally on a shared torso."""

    def __init__(self, shared: bool, generator: Any) -> None:
        super().__init__()
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
        self.torso = nn.Sequential(nn.Linear(S, 16), nn.Tanh()) if shared else None
        width = 16 if shared else S
        self.actor = nn.Sequential(nn.Linear(width, 16), nn.Tanh(), nn.Linear(16, A))
        self.critic = nn.Sequential(nn.Linear(width, 16), nn.Tanh(), nn.Linear(16, 1))

    def features(self, x: Any) -> Any:
        return self.torso(x) if self.torso is not None else x

    def logits(self, s: Any) -> Any:
        return self.actor(self.features(_onehot(s)))

    def values(self, s: Any) -> Any:
        return self.critic(self.features(_onehot(s)))[:, 0]


def _loop(
    kind: str,
    *,
    watch: bool,
    iterations: int = 40,
    seed: int = 0,
    lr_by_hand: bool = False,
    schedules: tuple[str, str] | None = None,
    **options: Any,
) -> tuple[Any, Any, list[float]]:
    """Train; return (all parameters as one vector, the watch or None, lrs set by hand)."""
    generator = torch.Generator().manual_seed(seed)
    agent = _Agent(shared=kind == "shared", generator=generator)
    env = gymnasium.make("acconv/Garnet-v0", n_states=S, n_actions=A, gamma=GAMMA)
    if kind == "two":
        actor_opt = torch.optim.SGD(agent.actor.parameters(), lr=0.05)
        critic_opt = torch.optim.SGD(agent.critic.parameters(), lr=0.2)
        optimizers = [critic_opt, actor_opt]
    elif kind == "groups":  # one optimiser, the two roles in groups of their own
        opt = torch.optim.SGD(
            [
                {"params": agent.actor.parameters(), "lr": 0.05},
                {"params": agent.critic.parameters(), "lr": 0.2},
            ]
        )
        optimizers = [opt]
    else:
        opt = torch.optim.Adam(agent.parameters(), lr=1e-2)
        optimizers = [opt]
    w = None
    if watch:
        tables = {"policy": agent.logits, "value": agent.values, "env": env}
        if kind == "two":
            w = acconv.watch(actor=actor_opt, critic=critic_opt, **tables, **options)
        else:
            torso = list(agent.torso.parameters()) if agent.torso is not None else []
            actor = [*agent.actor.parameters(), *torso]
            critic = [*agent.critic.parameters(), *torso]
            w = acconv.watch(optimizers[0], actor=actor, critic=critic, **tables, **options)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    lrs: list[float] = []
    laws = None if schedules is None else [acconv.parse_schedule(text) for text in schedules]
    for it in range(iterations):
        if laws is not None:  # a(n) for the critic, b(n) for the actor, set before each step
            critic_opt.param_groups[0]["lr"] = float(laws[0](it))
            actor_opt.param_groups[0]["lr"] = float(laws[1](it))
        if lr_by_hand:  # CleanRL's annealing: the loop writes the rate itself
            lr = 1e-2 * (1.0 - it / iterations)
            optimizers[0].param_groups[0]["lr"] = lr
            lrs.append(lr)
        states, actions, rewards = [], [], []
        for _ in range(32):
            with torch.no_grad():
                p = torch.softmax(agent.logits([obs]), -1)[0].double().numpy()
            a = int(rng.choice(A, p=p / p.sum()))
            next_obs, r, terminated, truncated, _ = env.step(a)
            states.append(obs)
            actions.append(a)
            rewards.append(r)
            obs = next_obs if not (terminated or truncated) else env.reset()[0]
        v = agent.values(states)
        with torch.no_grad():
            target = torch.tensor(rewards, dtype=torch.float32) + GAMMA * torch.cat([v[1:], v[-1:]])
            advantage = target - v
        critic_loss = ((v - target) ** 2).mean()
        log_pi = torch.log_softmax(agent.logits(states), -1)[torch.arange(32), actions]
        actor_loss = -(log_pi * advantage).mean()
        if kind == "two":
            critic_opt.zero_grad()
            critic_loss.backward()
            critic_opt.step()
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
        else:
            optimizers[0].zero_grad()
            (critic_loss + actor_loss).backward()
            optimizers[0].step()
    if w is not None:
        w.close()
    return torch.cat([p.detach().flatten() for p in agent.parameters()]), w, lrs


@pytest.mark.parametrize("kind", ["two", "shared", "groups"])
def test_training_is_bit_identical_with_and_without_the_watch(kind: str) -> None:
    without, _, _ = _loop(kind, watch=False)
    with_watch, w, _ = _loop(kind, watch=True)
    assert torch.equal(without, with_watch)
    assert w is not None and w.monitor is not None
    # One update per critic step: 40 rollouts, one step each.
    assert w.recorder is not None and w.recorder.series()["schedule/critic_lr"][0][-1] == 39


A_N, B_N = "0.2/(1+n/10)**0.6", "0.05/(1+n/10)**0.9"


def test_two_sgd_optimisers_on_declared_schedules_hold_where_provable() -> None:
    _, w, _ = _loop("two", watch=True, schedules=(A_N, B_N), critic_lr=A_N, actor_lr=B_N)
    verdicts = {v.id: v for v in w.verdicts()}
    steps = w.report().step_sizes
    assert steps is not None
    # a ~ n^-0.6, b ~ n^-0.9: Σa = Σb = ∞, Σa² + Σb² < ∞, b/a ~ n^-0.3 → 0 (THEORY.md §7).
    assert [steps[c].status for c in ("S1", "S2", "S3", "S4", "S5")] == ["holds"] * 5
    assert verdicts["optimizer"].status == "holds"
    assert verdicts["A10"].status == "undecided" and "not visible" in verdicts["A10"].detail
    assert verdicts["A11"].status == "undecided" and verdicts["A5"].status == "undecided"


def test_a_declared_law_the_loop_does_not_follow_is_not_used() -> None:
    # The loop keeps constant rates 0.2 and 0.05 while declaring decaying laws: a(1) = 0.2 /
    # 1.1**0.6 ≠ 0.2, so the declaration is refused at step 1 and S1-S3 stay undecided.
    _, w, _ = _loop("two", watch=True, critic_lr=A_N, actor_lr=B_N)
    facts = w.facts()
    assert facts.critic_lr is None and facts.actor_lr is None
    assert "does not hold" in facts.step_sizes_note and "at step 1" in facts.step_sizes_note
    assert w.report()["A2"].status == "undecided"


def test_one_shared_adam_is_outside_the_theorems_and_says_why() -> None:
    _, w, _ = _loop("shared", watch=True)
    verdicts = {v.id: v for v in w.verdicts()}
    steps = w.report().step_sizes
    assert steps is not None
    # One rate moves the torso of both roles: b(n)/a(n) = 1, S4 violated whatever the law.
    assert steps["S4"].status == "violated" and verdicts["A2"].status == "violated"
    # A constant rate with no scheduler: a constant schedule, S3 violated (Σ a² = ∞).
    assert steps["S3"].status == "violated"
    assert verdicts["optimizer"].status == "undecided" and "Adam" in verdicts["optimizer"].detail
    facts = w.facts()
    assert facts.shared_optimizer and facts.config["shared_parameters"] == 2  # weight, bias


def test_roles_in_groups_of_their_own_have_two_rates() -> None:
    _, w, _ = _loop("groups", watch=True)
    facts = w.facts()
    assert not facts.shared_optimizer
    assert facts.critic_lr is not None and facts.critic_lr(5) == pytest.approx(0.2)
    assert facts.actor_lr is not None and facts.actor_lr(5) == pytest.approx(0.05)
    steps = w.report().step_sizes
    # Two constants: S3 violated; b/a = 1/4 does not tend to 0, S4 violated.
    assert steps is not None and steps["S4"].status == "violated"


def test_learning_rates_set_by_hand_are_recorded_exactly_and_left_undecided() -> None:
    _, w, lrs = _loop("shared", watch=True, lr_by_hand=True)
    facts = w.facts()
    assert list(facts.sampled_step_sizes) == lrs  # bit for bit
    assert facts.critic_lr is None and "sets the learning rate itself" in facts.step_sizes_note
    n, recorded = w.recorder.series()["schedule/critic_lr"]
    np.testing.assert_array_equal(recorded, np.asarray(lrs)[n])
    steps = w.report().step_sizes
    assert [steps[c].status for c in ("S1", "S2", "S3")] == ["undecided"] * 3
    assert steps["S4"].status == "violated"  # one rate for both roles, whatever its values


def test_the_tracking_error_on_a_model_is_the_exact_one() -> None:
    _, w, _ = _loop("two", watch=True)
    trace = w.monitor.trace()
    last = trace.snapshots[-1]
    # Recomputed independently: V^π of the final policy (θ = centred log π), on the visited
    # states, against the critic table ω.
    lam, visited = value_equilibrium(trace.task.mdp, softmax_policy(last.theta, 1.0))
    expected = float(np.linalg.norm((last.omega - lam)[visited]))
    assert last.metrics["track/error"] == pytest.approx(expected, rel=1e-12)
    assert "exact/gap" in w.recorder.series()


def test_save_writes_a_run_folder_that_acconv_report_reads(tmp_path: Path) -> None:
    from acconv.report import write_report

    _, w, _ = _loop("two", watch=True, iterations=12)
    folder = w.save(tmp_path / "run")
    html, _ = write_report(folder)
    assert html.exists() and "watched_loop" in html.read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=r"exists .*an acconv run folder.* or overwrite=True"):
        w.save(folder)
    w.save(folder, overwrite=True)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="not an acconv run folder"):
        w.save(mine)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_the_watch_as_a_context_manager_removes_its_hooks() -> None:
    model = nn.Linear(2, 2)
    critic = nn.Linear(2, 1)
    opt = torch.optim.SGD([*model.parameters(), *critic.parameters()], lr=0.1)
    with acconv.watch(opt, actor=model, critic=critic, observers=[]) as w:
        for _ in range(3):
            opt.zero_grad()
            (model(torch.ones(1, 2)).sum() + critic(torch.ones(1, 2)).sum()).backward()
            opt.step()
    steps = w._emitter.n_updates
    opt.step()  # after the block: no longer watched
    assert steps == 3 and w._emitter.n_updates == 3


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m, c, o: acconv.watch(actor=m, critic=c), "no optimiser"),
        (lambda m, c, o: acconv.watch(o, actor=m), "critic is missing"),
        (
            lambda m, c, o: acconv.watch(
                torch.optim.SGD(m.parameters(), lr=0.1), actor=m, critic=c
            ),
            "critic has 2 parameter",
        ),
        (
            lambda m, c, o: acconv.watch(o, actor=m, critic=[c.weight]),
            "param_groups.0. has a parameter of shape .1,. in neither actor nor critic",
        ),
        (lambda m, c, o: acconv.watch(o, actor=m, critic="critic"), "critic is str"),
        (lambda m, c, o: acconv.watch(o, actor=m, critic=c, critic_lr="1/(n"), "critic_lr"),
        (lambda m, c, o: acconv.watch(o, actor=m, critic=c, n_updates=0), "n_updates is 0"),
    ],
)
def test_bad_arguments_get_one_line_that_names_them(call: Any, message: str) -> None:
    model, critic = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = torch.optim.SGD([*model.parameters(), *critic.parameters()], lr=0.1)
    with pytest.raises(ValueError, match=message) as error:
        call(model, critic, opt)
    assert "\n" not in str(error.value)


def test_a_probe_of_the_actors_first_inputs_gives_tables_without_a_model() -> None:
    actor, critic = nn.Sequential(nn.Linear(4, 3)), nn.Sequential(nn.Linear(4, 1))
    opt = torch.optim.SGD([*actor.parameters(), *critic.parameters()], lr=0.1)
    g = torch.Generator().manual_seed(0)
    with acconv.watch(opt, actor=actor, critic=critic, probe_size=8) as w:
        with torch.no_grad():  # a rollout: the actor sees 3 × 4 observations before any step
            for _ in range(3):
                actor(torch.randn(4, 4, generator=g))
        for _ in range(5):
            x = torch.randn(4, 4, generator=g)
            opt.zero_grad()
            (actor(x).logsumexp(-1).sum() + critic(x).sum()).backward()
            opt.step()
    assert w.facts().config["tables"] == "probe"
    # The probe: the first probe_size = 8 of the 12 rows seen before the first step, fixed.
    trace = w.monitor.trace()
    assert {s.theta.shape for s in trace.snapshots} == {(8, 3)}
    assert math.isclose(float(trace.snapshots[-1].theta.sum()), 0.0, abs_tol=1e-9)


def test_the_probe_is_fixed_at_the_first_step_even_when_it_is_short() -> None:
    # One observation per rollout step, then the loss's batch of the same 2: the actor sees
    # 2 + 2 rows before the first step, a 4-row probe for good (it used to keep growing and
    # break the tables' shape, seen on CartPole with one environment).
    actor, critic = nn.Sequential(nn.Linear(4, 3)), nn.Sequential(nn.Linear(4, 1))
    opt = torch.optim.SGD([*actor.parameters(), *critic.parameters()], lr=0.1)
    g = torch.Generator().manual_seed(0)
    with acconv.watch(opt, actor=actor, critic=critic, probe_size=256) as w:
        for _ in range(6):
            x = torch.randn(2, 4, generator=g)
            for row in x:
                actor(row[None])
            opt.zero_grad()
            (actor(x).logsumexp(-1).sum() + critic(x).sum()).backward()
            opt.step()
    assert {s.theta.shape for s in w.monitor.trace().snapshots} == {(4, 3)}


def test_every_key_a_watched_loop_records_is_in_the_glossary() -> None:
    import re

    glossary = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+/[A-Za-z_]+)` \|", glossary, re.MULTILINE))
    _, w, _ = _loop("two", watch=True, iterations=12)
    recorded = set(w.recorder.series()) | set(w.monitor.series())
    assert recorded - documented == set()


@pytest.mark.parametrize("steps_per_scheduler_step", [1, 3])
def test_a_torch_scheduler_becomes_the_schedule_of_the_update_index(
    steps_per_scheduler_step: int,
) -> None:
    # ExponentialLR(γ = 0.9) stepped every K optimiser steps: a(n) = 0.1·0.9^floor(n/K), whose
    # sum is finite (K·0.1/(1 - 0.9) = K), so S1 (Σ a = ∞) is violated, proven.
    actor, critic = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = torch.optim.SGD([*actor.parameters(), *critic.parameters()], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    applied = []
    with acconv.watch(opt, actor=actor, critic=critic, scheduler=scheduler, observers=[]) as w:
        for step in range(30):
            opt.zero_grad()
            (actor(torch.ones(1, 2)).sum() + critic(torch.ones(1, 2)).sum()).backward()
            applied.append(opt.param_groups[0]["lr"])
            opt.step()
            if (step + 1) % steps_per_scheduler_step == 0:
                scheduler.step()
    facts = w.facts()
    assert facts.critic_lr is not None and facts.actor_lr is not None
    assert facts.critic_lr.text == facts.actor_lr.text
    np.testing.assert_allclose(facts.critic_lr(np.arange(30)), applied, rtol=1e-12)
    from acconv.theory_checks.learner_steps import step_sizes_of

    steps = step_sizes_of(facts)
    assert steps is not None and steps["S1"].status == "violated"
    assert steps["S4"].status == "violated"  # one rate for both roles


def test_a_loop_without_tables_still_gets_its_step_size_verdicts() -> None:
    # Parameters given as lists, no policy=/value= functions and no probe: no tables, so no
    # iterate or policy metrics, and no exact checks even on a model; the rates and the
    # step-size verdicts are still there.
    actor, critic = nn.Linear(2, 2), nn.Linear(2, 1)
    opt = torch.optim.SGD([*actor.parameters(), *critic.parameters()], lr=0.1)
    env = gymnasium.make("acconv/Garnet-v0", n_states=S, n_actions=A, gamma=GAMMA)
    with acconv.watch(
        opt, actor=list(actor.parameters()), critic=list(critic.parameters()), env=env
    ) as w:
        for _ in range(12):
            opt.zero_grad()
            (actor(torch.ones(1, 2)).sum() + critic(torch.ones(1, 2)).sum()).backward()
            opt.step()
    assert w.facts().config["tables"] == "none"
    recorded = set(w.recorder.series())
    assert "schedule/critic_lr" in recorded and "policy/min_prob" not in recorded
    assert "exact/gap" not in recorded
    steps = w.report().step_sizes
    assert steps is not None and steps["S4"].status == "violated"
