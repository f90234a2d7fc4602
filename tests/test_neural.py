"""Neural PPO: the rollout GAE, the losses, exact tables on model environments, determinism."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from acconv import estimators
from acconv.envs.finite import FiniteMDPEnv
from acconv.estimators import gae, gae_rollout
from acconv.exact import expected_visits, policy_evaluation
from acconv.instrument import Recorder, TwoTimescaleMonitor
from acconv.mdp import chain, discount_as_termination

torch = pytest.importorskip("torch")
from acconv.neural import PPO  # noqa: E402
from acconv.neural import estimators as neural_estimators  # noqa: E402
from acconv.neural.networks import observation_encoder  # noqa: E402
from acconv.neural.rollouts import Rollout  # noqa: E402
from acconv.neural.seed_envs import LoopEnvs  # noqa: E402
from acconv.theory_checks import learner_verdicts  # noqa: E402


def _chain_env() -> FiniteMDPEnv:
    # γ = 0.95 as a per-step termination probability: episodes end, values are V_γ.
    return FiniteMDPEnv(discount_as_termination(chain(5, slip=0.1, gamma=0.95)))


SMALL = {"n_steps": 64, "batch_size": 16, "n_epochs": 2, "hidden": (16,)}


# -- the rollout GAE ----------------------------------------------------------------------


def test_gae_rollout_within_one_episode_equals_the_episode_gae() -> None:
    rng = np.random.default_rng(0)
    r, v = rng.normal(size=6), rng.normal(size=7)
    v[-1] = 0.0  # the episode terminates after the last step
    ended = np.zeros(6, dtype=bool)
    ended[-1] = True
    expected = gae(r, v, 0.9, 0.8)
    np.testing.assert_allclose(gae_rollout(r, v[:-1], v[1:], ended, 0.9, 0.8), expected)


def test_gae_rollout_does_not_leak_across_an_episode_boundary() -> None:
    rng = np.random.default_rng(1)
    r, v = rng.normal(size=7), rng.normal(size=7)
    # Steps 0-2 are one episode (terminated at step 2), steps 3-6 the next, truncated after 6 with
    # the critic's value 0.7 of its final state.
    next_v = np.append(v[1:], 0.7)
    next_v[2] = 0.0
    ended = np.array([False, False, True, False, False, False, True])
    both = gae_rollout(r, v, next_v, ended, 0.9, 0.5)
    np.testing.assert_allclose(both[:3], gae(r[:3], np.append(v[:3], 0.0), 0.9, 0.5))
    np.testing.assert_allclose(both[3:], gae(r[3:], np.append(v[3:], 0.7), 0.9, 0.5))


def test_gae_rollout_with_lambda_one_is_the_bootstrapped_monte_carlo_advantage() -> None:
    # Hand-computed: r = (1, 2, 3), γ = 0.5, truncated after step 2 with V(final) = 4:
    # G_0 = 1 + 0.5·2 + 0.25·3 + 0.125·4 = 3.25, G_1 = 2 + 1.5 + 1 = 4.5, G_2 = 3 + 2 = 5.
    r, v = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    ended = np.array([False, False, True])
    advantage = gae_rollout(r, v, np.array([-1.0, 2.0, 4.0]), ended, 0.5, 1.0)
    np.testing.assert_allclose(advantage + v, [3.25, 4.5, 5.0])


# -- the losses ---------------------------------------------------------------------------


def _rollout_and_learner(objective: str) -> tuple[PPO, Rollout]:
    """A learner after one update and a fresh rollout of its one seed (leading axis K = 1)."""
    learner = PPO(objective=objective, normalize_advantage=False, **SMALL)  # type: ignore[arg-type]
    learner.learn(_chain_env(), 1, np.random.default_rng(3))
    envs = LoopEnvs([_chain_env()])
    _, encode = observation_encoder(envs.observation_space)
    obs = envs.reset([0])
    rollout, _ = learner._collect(envs, obs, encode, 1.0, [np.random.default_rng(4)])
    return learner, rollout


def _losses(learner: PPO, rollout: Rollout) -> tuple[Any, Any, Any]:
    """The one seed's losses and statistics on its whole rollout as one minibatch."""
    actor_loss, critic_loss, stats = learner._losses(rollout)
    return actor_loss[0], critic_loss[0], stats[0]


def _actor(learner: PPO, obs: Any) -> Any:
    """The one seed's actor logits on rows ``obs``."""
    assert learner.actor is not None
    return learner.actor(obs[None])[0]


def test_at_the_old_policy_clip_and_kl_objectives_have_the_policy_gradient() -> None:
    """At θ = θ_old, ρ = 1: no clipping, ∇KL = 0, and ∇ mean ρÂ = mean Â ∇log π(a|s)."""
    gradients = []
    for objective in ("clip", "kl"):
        learner, rollout = _rollout_and_learner(objective)
        assert learner.actor is not None
        actor_loss, _, _ = _losses(learner, rollout)
        learner.actor.zero_grad()
        actor_loss.backward()
        gradients.append([p.grad.clone() for p in learner.actor.parameters()])
    # The score-function form, computed separately: mean_t Â_t ∇ log π(a_t|s_t).
    learner, rollout = _rollout_and_learner("clip")
    assert learner.actor is not None
    log_pi = _actor(learner, rollout.obs[0]).log_softmax(-1)
    score = log_pi.gather(1, rollout.actions[0, :, None])[:, 0]
    learner.actor.zero_grad()
    (-(score * rollout.advantages[0]).mean()).backward()
    reference = [p.grad for p in learner.actor.parameters()]
    for clip_grad, kl_grad, ref_grad in zip(*gradients, reference, strict=True):
        torch.testing.assert_close(clip_grad, ref_grad, rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(kl_grad, ref_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_torch_clipped_surrogate_gives_the_numpy_numbers(dtype: str) -> None:
    # Identical inputs, both signs of Â, ratios inside, outside and exactly at 1 ± ε. Tolerance
    # 0: ρ·Â and clip(ρ, ·)·Â are single IEEE-754 products (correctly rounded in either library,
    # in the inputs' dtype) and min/clip only select, so the two must agree to the last bit.
    rng = np.random.default_rng(0)
    eps = 0.2
    ratio = np.concatenate([rng.uniform(0.3, 1.7, size=200), [0.8, 1.2, 1.0]]).astype(dtype)
    advantage = np.concatenate([rng.normal(size=200) * 3, [2.0, -2.0, 0.0]]).astype(dtype)
    expected = estimators.clipped_surrogate(ratio, advantage, eps)
    twin = neural_estimators.clipped_surrogate(
        torch.from_numpy(ratio), torch.from_numpy(advantage), eps
    )
    assert expected.dtype == twin.numpy().dtype == np.dtype(dtype)
    np.testing.assert_array_equal(twin.numpy(), expected)


def test_the_clipped_surrogate_is_min_of_ratio_and_clipped_ratio_times_advantage() -> None:
    learner, rollout = _rollout_and_learner("clip")
    assert learner.actor is not None
    # Pretend the even rows were sampled by a policy e^0.5 times likelier: their ratios become
    # e^-0.5 ≈ 0.61 < 0.8 (clipped), the odd rows keep ρ = 1 (unclipped).
    shift = torch.zeros_like(rollout.log_probs_old)
    shift[0, ::2] = 0.5
    rollout = dataclasses.replace(rollout, log_probs_old=rollout.log_probs_old + shift)
    actor_loss, _, stats = _losses(learner, rollout)
    # The surrogate recomputed in numpy from the log-probabilities.
    with torch.no_grad():
        log_pi = _actor(learner, rollout.obs[0]).log_softmax(-1).double().numpy()
    a = rollout.actions[0].numpy()
    rows = np.arange(a.size)
    ratio = np.exp(log_pi[rows, a] - rollout.log_probs_old[0].double().numpy()[rows, a])
    adv = rollout.advantages[0].double().numpy()
    surrogate = np.minimum(ratio * adv, np.clip(ratio, 0.8, 1.2) * adv).mean()
    assert float(actor_loss.detach()) == pytest.approx(-surrogate, rel=1e-5)
    assert float(stats[3]) == pytest.approx(np.mean(np.abs(ratio - 1) > 0.2))
    assert 0.0 < float(stats[3]) < 1.0  # the test exercises both sides of the clip
    assert float(stats[3]) == pytest.approx(0.5)  # 32 of 64 rows, the even ones


# -- runs on a model: exact tables and the monitor ------------------------------------------


def test_on_a_model_theta_and_omega_are_the_networks_on_every_state() -> None:
    env = _chain_env()
    learner = PPO(**SMALL)  # type: ignore[arg-type]
    run = learner.learn(env, 3, np.random.default_rng(0))
    info = run.last_update
    pi = learner.policy_table(env)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(info.theta) / np.exp(info.theta).sum(1, keepdims=True), pi)
    assert learner.critic is not None
    with torch.no_grad():
        values = learner.critic(torch.eye(env.mdp.n_states)[None])[0, :, 0].double().numpy()
    np.testing.assert_allclose(info.omega, values, rtol=1e-6)


def test_the_monitor_measures_the_exact_tracking_error_of_a_neural_run() -> None:
    env = _chain_env()
    monitor = TwoTimescaleMonitor()
    learner = PPO(**SMALL)  # type: ignore[arg-type]
    run = learner.learn(env, 5, np.random.default_rng(0), [monitor])
    errors = [(n, v) for n, metric, v in monitor.rows if metric == "track/error"]
    assert errors and errors[-1][0] == 4
    # Independently: ‖V_ω - V^π‖ on the states the policy visits, π the final policy.
    pi = learner.policy_table(env)
    visited = expected_visits(env.mdp, pi) > 0
    exact = np.linalg.norm((run.last_update.omega - policy_evaluation(env.mdp, pi))[visited])
    assert errors[-1][1] == pytest.approx(exact, rel=1e-6)


def test_with_gamma_below_one_the_terminal_state_is_not_in_the_tracking_support() -> None:
    # γ = 0.95 kept as a discount (not a termination): the goal is terminal and reachable. The
    # critic network's value there is never a target, so λ is not unique there: the support is
    # the visited non-terminal states (acconv.exact.visited_states), as for tabular learners.
    env = FiniteMDPEnv(chain(5, slip=0.1, gamma=0.95))
    monitor = TwoTimescaleMonitor()
    learner = PPO(**SMALL)  # type: ignore[arg-type]
    run = learner.learn(env, 3, np.random.default_rng(0), [monitor])
    pi = learner.policy_table(env)
    visited = expected_visits(env.mdp, pi) > 0  # the episodic definition, terminal excluded
    assert visited.tolist() == [True, True, True, True, False]
    exact = np.linalg.norm((run.last_update.omega - policy_evaluation(env.mdp, pi))[visited])
    assert monitor.last("track/error") == pytest.approx(exact, rel=1e-6)
    assert monitor.last("track/support_size") == 4


@pytest.mark.slow
def test_two_timescale_neural_ppo_tracking_error_decreases_on_a_model() -> None:
    # Measured (seed 0, 2026-11-26): the error falls from 0.59 at n = 0 to about 0.1 by n = 24
    # and stays there, while J(π_n) rises from 0.35 to 0.77 (V*(s0) = 0.79).
    env = FiniteMDPEnv(discount_as_termination(chain(6, slip=0.1, gamma=0.95)))
    learner = PPO(
        n_steps=256, batch_size=64, n_epochs=4, hidden=(32,),
        critic_lr="0.5/(1+n/5)**0.6", actor_lr="0.2/(1+n/5)**0.9",
    )  # fmt: skip
    monitor, recorder = TwoTimescaleMonitor(), Recorder()
    learner.learn(env, 100, np.random.default_rng(0), [monitor, recorder])
    error = dict((n, v) for n, m, v in monitor.rows if m == "track/error")
    late = np.median([v for n, v in error.items() if n >= 24])
    assert late < 0.5 * error[0]
    J = dict((n, v) for n, m, v in recorder.rows if m == "exact/J")
    assert J[99] > J[0] + 0.3


# -- CartPole, determinism, stopping ------------------------------------------------------


def test_the_same_seed_gives_the_same_run() -> None:
    def final_parameters(seed: int) -> np.ndarray:
        learner = PPO(**SMALL)  # type: ignore[arg-type]
        run = learner.learn(gym.make("CartPole-v1"), 2, np.random.default_rng(seed))
        return run.last_update.theta

    np.testing.assert_array_equal(final_parameters(7), final_parameters(7))
    assert not np.array_equal(final_parameters(7), final_parameters(8))


def test_a_model_free_run_reports_tables_on_a_probe_set() -> None:
    recorder = Recorder()
    learner = PPO(probe_size=40, **SMALL)  # type: ignore[arg-type]
    stops: list[int] = []
    run = learner.learn(
        gym.make("CartPole-v1"), 10, np.random.default_rng(0), [recorder],
        until=lambda event: stops.append(event.info.n) or event.info.n == 2,
    )  # fmt: skip
    assert stops == [0, 1, 2] and run.env_steps == 3 * 64
    info = run.last_update
    # The probe set: the first 40 observations of the first rollout, 2 CartPole actions.
    assert info.theta.shape == (40, 2) and info.omega.shape == (40,)
    assert info.actor_grad_norm > 0 and info.critic_grad_norm > 0
    # 4 → 16 → 2 actor: 4·16 + 16 + 16·2 + 2 = 114 parameters; critic 4·16 + 16 + 16 + 1 = 97.
    assert learner.actor is not None and learner.critic is not None
    actor_norm = torch.cat([p.detach().reshape(-1) for p in learner.actor.parameters()]).norm()
    assert sum(p.numel() for p in learner.actor.parameters()) == 114
    assert sum(p.numel() for p in learner.critic.parameters()) == 97
    assert info.diagnostics["actor_param_norm"] == pytest.approx(float(actor_norm), rel=1e-6)
    metrics = {m for _, m, _ in recorder.rows}
    assert {"diag/approx_kl", "diag/clip_fraction", "diag/explained_variance"} <= metrics
    assert "exact/J" not in metrics  # no model, no exact objective


def test_a_model_free_run_works_under_the_monitor() -> None:
    monitor = TwoTimescaleMonitor()
    PPO(**SMALL).learn(gym.make("CartPole-v1"), 3, np.random.default_rng(0), [monitor])  # type: ignore[arg-type]
    verdicts = {v.id: v for v in monitor.verdicts()}
    assert verdicts["tracking"].status == "undecided"
    assert "no exact model" in verdicts["tracking"].detail


def test_the_step_sizes_are_the_schedules() -> None:
    learner = PPO(critic_lr="0.3/(n+1)**0.6", actor_lr="0.1/(n+1)", **SMALL)  # type: ignore[arg-type]
    seen: list[tuple[float, float]] = []

    class Steps:
        def on_start(self, event: object) -> None: ...
        def on_update(self, event: object) -> None:
            seen.append((event.info.a_n, event.info.b_n))  # type: ignore[attr-defined]

        def on_end(self, event: object) -> None: ...

    learner.learn(_chain_env(), 3, np.random.default_rng(0), [Steps()])
    expected = [(0.3 / (n + 1) ** 0.6, 0.1 / (n + 1)) for n in range(3)]
    np.testing.assert_allclose(seen, expected)


# -- what a configuration claims ----------------------------------------------------------


def _facts_verdicts(**kwargs: Any) -> dict[str, Any]:
    """The verdicts the learner's facts alone decide (acconv.theory_checks.learner_verdicts)."""
    return {v.id: v for v in learner_verdicts(PPO(**kwargs).facts())}


def test_relu_violates_lipschitz_and_adam_is_outside_the_hypotheses() -> None:
    by_id = _facts_verdicts(activation="relu", optimizer="adam", objective="clip")
    assert by_id["A3"].status == "violated" and "ReLU" in by_id["A3"].detail
    assert by_id["A10"].status == "violated"
    assert by_id["optimizer"].status == "undecided"
    assert "outside the verified hypotheses" in by_id["optimizer"].detail
    smooth = _facts_verdicts(activation="tanh", optimizer="sgd", objective="kl")
    assert smooth["A10"].status == "holds" and smooth["optimizer"].status == "holds"
    assert smooth["A3"].status == "undecided"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"optimizer": "rmsprop"}, "optimizer is 'rmsprop', expected one of sgd, adam"),
        ({"activation": "sigmoid"}, "activation is 'sigmoid', expected one of"),
        ({"n_steps": 64, "batch_size": 65}, "batch_size is 65"),
        ({"clip_eps": 0.0}, "clip_eps is 0.0"),
        ({"critic_lr": "1/(n"}, "schedule"),
        ({"hidden": "64"}, "hidden is '64', expected a list of layer widths"),
    ],
)
def test_bad_arguments_are_named_in_one_line(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        PPO(**kwargs)  # type: ignore[arg-type]
    assert message in str(error.value) and "\n" not in str(error.value)


def test_learn_restores_the_torch_thread_count() -> None:
    before = torch.get_num_threads()
    PPO(**SMALL).learn(_chain_env(), 1, np.random.default_rng(0))  # type: ignore[arg-type]
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("activation", ["tanh", "softplus", "silu", "gelu", "elu", "relu"])
def test_the_numpy_acting_path_is_the_torch_network(activation: str) -> None:
    from acconv.neural.networks import mlp, stacked_mlp

    generators = [torch.Generator().manual_seed(s) for s in (0, 5)]
    net = stacked_mlp([4, 8, 8, 3], activation, 1.0, generators)
    x = torch.randn(2, 16, 4, generator=torch.Generator().manual_seed(1)) * 3
    forward = net.numpy_forward()
    with torch.no_grad():
        expected = net(x).numpy()
        # Seed k's slice is the single network built from generators[k] (the same draws).
        single = mlp([4, 8, 8, 3], activation, 1.0, torch.Generator().manual_seed(5))
        np.testing.assert_allclose(expected[1], single(x[1]).numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(forward(x.numpy()), expected, rtol=1e-5, atol=1e-6)
        for p in net.parameters():  # the views follow in-place updates, as optimisers make them
            p.mul_(0.5)
        np.testing.assert_allclose(forward(x.numpy()), net(x).numpy(), rtol=1e-5, atol=1e-6)


def test_neural_ppo_and_sb3_runs_share_the_diagnostic_verdicts() -> None:
    learner = PPO(**SMALL)  # type: ignore[arg-type]
    learner.learn(_chain_env(), 4, np.random.default_rng(0))
    by_id = {v.id: v for v in learner_verdicts(learner.facts(), learner._diagnostics[0])}
    assert {"ppo/kl", "ppo/clip_fraction", "critic/explained_variance"} <= set(by_id)
    # Recomputed from the recorded series. Four updates are evidence too thin to lean on
    # (issue 11: the diagnostics need ≥ 10 updates): undecided without a lean, saying why.
    kl = [d["approx_kl"] for _, d in learner._diagnostics[0]]
    assert len(kl) == 4
    for key in ("ppo/kl", "ppo/clip_fraction", "critic/explained_variance"):
        assert by_id[key].status == "undecided" and by_id[key].lean is None, by_id[key].shown
    assert "needs ≥ 10 updates, have 4" in by_id["ppo/kl"].detail
    assert by_id["ppo/kl"].evidence["kl_max"] == pytest.approx(max(kl))


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("tanh", {"holds", "undecided", "violated"}), ("relu", {"violated"})],
)
def test_a1_reads_the_network_s_activation(activation: str, expected: set[str]) -> None:
    from acconv.theory_checks.assumptions import check_a1_policy

    monitor = TwoTimescaleMonitor()
    PPO(activation=activation, **SMALL).learn(_chain_env(), 4, np.random.default_rng(0), [monitor])  # type: ignore[arg-type]
    a1 = check_a1_policy(monitor.trace())
    assert a1.status in expected
    if activation == "relu":
        assert "not C¹" in a1.detail
    else:  # the analytic part is decided; only the p_min estimate remains
        assert "real-analytic" in a1.detail and "unknown" not in a1.detail
