"""Tests of the run loop (``acconv.loop.train``) and the instruments (``acconv.instrument``):
event order and content, read-only events, stopping, argument checks, reproducibility from one
root seed, the Gymnasium slow path, ``log_spaced`` and the ``Recorder``."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest

import acconv  # noqa: F401  (registers the acconv/ environments)
from acconv.exact import optimal_values, policy_evaluation
from acconv.instrument import EndEvent, Recorder, StartEvent, UpdateEvent, log_spaced
from acconv.loop import train
from acconv.mdp import FiniteMDP, discount_as_termination, garnet
from acconv.policies import softmax_policy
from acconv.tabular.actor_critic import ActorCritic
from acconv.tabular.ppo import PPO
from acconv.tabular.rudder import RUDDER


class Log:
    """An observer that keeps every event it receives, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_start(self, event: StartEvent) -> None:
        self.calls.append(("start", event))

    def on_update(self, event: UpdateEvent) -> None:
        self.calls.append(("update", event))

    def on_end(self, event: EndEvent) -> None:
        self.calls.append(("end", event))

    @property
    def updates(self) -> list[UpdateEvent]:
        return [event for kind, event in self.calls if kind == "update"]


def _terminating_garnet() -> FiniteMDP:
    return discount_as_termination(garnet(5, 3, 2, np.random.default_rng(0), gamma=0.8))


def _delayed_chain_mdp() -> FiniteMDP:
    mdp = gymnasium.make("acconv/DelayedChain-v0", delay=3, noise=0.5).unwrapped.mdp
    assert isinstance(mdp, FiniteMDP)
    return mdp


# --------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------


def test_train_emits_start_once_then_one_update_per_step_then_end_once():
    mdp = _terminating_garnet()
    log = Log()
    # β_n = 1 + n/4 changes every update, so the event must carry softmax(β_n θ_n), the policy
    # that sampled update n, not the one after it.
    learner = ActorCritic(actor_lr=0.5, beta="1 + n/4")
    result = train(learner, mdp, 6, np.random.default_rng(0), [log], episodes_per_update=4)
    kinds = [kind for kind, _ in log.calls]
    assert kinds == ["start"] + ["update"] * 6 + ["end"]
    start, end = log.calls[0][1], log.calls[-1][1]
    assert start.learner == "ActorCritic" and start.n_updates == 6
    np.testing.assert_array_equal(start.task.mdp.P, mdp.P)
    assert start.task.gamma == mdp.gamma == 1.0
    assert start.config["beta"] == "1 + n/4"
    theta = np.zeros((mdp.n_states, mdp.n_actions))  # initial logits: the uniform policy
    env_steps = 0
    for n, event in enumerate(log.updates):
        assert event.info.n == n
        assert event.info.beta_n == pytest.approx(1 + n / 4)
        np.testing.assert_array_equal(event.policy, softmax_policy(theta, 1 + n / 4))
        assert event.info.n_episodes == 4
        env_steps += event.info.n_steps
        assert event.env_steps == env_steps  # cumulative, this update included
        theta = np.array(event.info.theta)  # θ after update n samples update n + 1
    assert end.n_updates == 6 and end.env_steps == env_steps == result.env_steps
    # The final policy is the one the next update would sample with: softmax(β_6 θ_6).
    np.testing.assert_array_equal(end.policy, softmax_policy(theta, 1 + 6 / 4))
    np.testing.assert_array_equal(result.policy, end.policy)
    assert result.last_update is log.updates[-1].info


def test_every_observer_sees_the_same_events_in_registration_order():
    order: list[str] = []

    class Named(Log):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def on_update(self, event: UpdateEvent) -> None:
            order.append(self.name)
            super().on_update(event)

    first, second = Named("first"), Named("second")
    train(ActorCritic(), _terminating_garnet(), 3, np.random.default_rng(0), [first, second])
    assert order == ["first", "second"] * 3
    for a, b in zip(first.updates, second.updates, strict=True):
        assert a is b


def test_observers_receive_read_only_arrays():
    log = Log()
    learner = RUDDER(coupling="replace_reward")  # has an extra fast iterate ("value")
    train(learner, _delayed_chain_mdp(), 2, np.random.default_rng(0), [log])
    update = log.updates[0]
    end = log.calls[-1][1]
    start = log.calls[0][1]
    arrays = [
        update.policy,
        update.info.theta,
        update.info.omega,
        update.info.extra_params["value"],
        end.policy,
        start.task.mdp.P,
    ]
    for array in arrays:
        with pytest.raises(ValueError, match="read-only"):
            array[(0,) * array.ndim] = 1.0


def test_until_stops_the_run_after_the_update_it_accepts():
    log = Log()
    result = train(
        ActorCritic(), _terminating_garnet(), 100, np.random.default_rng(0), [log],
        until=lambda event: event.info.n == 4,
    )
    assert [event.info.n for event in log.updates] == [0, 1, 2, 3, 4]
    assert log.calls[-1][0] == "end" and log.calls[-1][1].n_updates == 5
    assert result.last_update.n == 4


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
def test_bad_n_updates_raise_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=r"^n_updates is "):
        train(ActorCritic(), _terminating_garnet(), bad, np.random.default_rng(0))


def test_numpy_integer_n_updates_is_accepted():
    log = Log()
    train(ActorCritic(), _terminating_garnet(), np.int64(3), np.random.default_rng(0), [log])
    assert len(log.updates) == 3


@pytest.mark.parametrize("bad", [0, -1])
def test_bad_episodes_per_update_raise_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=r"^episodes_per_update is "):
        train(
            ActorCritic(), _terminating_garnet(), 3, np.random.default_rng(0),
            episodes_per_update=bad,
        )


@pytest.mark.parametrize("bad", [2.5, True])
def test_non_integer_episodes_per_update_raise_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=r"^episodes_per_update is "):
        train(
            ActorCritic(), _terminating_garnet(), 3, np.random.default_rng(0),
            episodes_per_update=bad,
        )


# --------------------------------------------------------------------------------------------
# Reproducibility (DESIGN.md: "the same seed gives identical results (a test says so)")
# --------------------------------------------------------------------------------------------

LEARNERS = {
    "actor_critic": lambda: ActorCritic(critic_target="td_lambda", tau=0.1),
    "ppo": lambda: PPO(n_epochs=2, n_minibatches=3),  # minibatch shuffling uses the seed too
    "rudder": lambda: RUDDER(coupling="replace_reward", residual="uniform"),
}


def _run(name: str, seed: int) -> list[Any]:
    log = Log()
    train(LEARNERS[name](), _delayed_chain_mdp(), 5, np.random.default_rng(seed), [log])
    return [event.info for event in log.updates]


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_same_root_seed_gives_identical_update_sequences(name):
    first, again = _run(name, 123), _run(name, 123)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.theta, b.theta)
        np.testing.assert_array_equal(a.omega, b.omega)
        assert a.critic_loss == b.critic_loss and a.actor_loss == b.actor_loss
        assert a.mean_return == b.mean_return and a.n_steps == b.n_steps
        assert dict(a.diagnostics) == dict(b.diagnostics)
        assert a.extra_params.keys() == b.extra_params.keys()
        for key in a.extra_params:
            np.testing.assert_array_equal(a.extra_params[key], b.extra_params[key])


@pytest.mark.parametrize("name", sorted(LEARNERS))
def test_different_root_seeds_give_different_update_sequences(name):
    first, other = _run(name, 123), _run(name, 124)
    # 5 batches of 16 noisy episodes: equal logits after all of them would need identical draws.
    assert not np.array_equal(first[-1].theta, other[-1].theta)


# --------------------------------------------------------------------------------------------
# Expected mode and the Gymnasium slow path
# --------------------------------------------------------------------------------------------


def test_expected_mode_on_an_environment_without_a_model_raises():
    env = gymnasium.make("FrozenLake-v1")  # toy-text: a P table, but no .mdp
    with pytest.raises(ValueError, match=r"expected.*exact model"):
        train(ActorCritic(mode="expected"), env, 2, np.random.default_rng(0), gamma=0.9)


def test_environment_without_a_model_needs_gamma():
    env = gymnasium.make("FrozenLake-v1")
    with pytest.raises(ValueError, match="gamma is required"):
        train(ActorCritic(), env, 2, np.random.default_rng(0))


def test_environment_with_non_discrete_spaces_is_rejected():
    env = gymnasium.make("CartPole-v1")
    with pytest.raises(ValueError, match="expected Discrete spaces"):
        train(ActorCritic(), env, 2, np.random.default_rng(0), gamma=0.9)


def test_training_on_a_gymnasium_environment_passes_its_model_on():
    delay = 2
    env = gymnasium.make("acconv/DelayedChain-v0", delay=delay)
    log, recorder = Log(), Recorder()
    result = train(
        ActorCritic(), env, 4, np.random.default_rng(0), [log, recorder], episodes_per_update=5
    )
    task = log.calls[0][1].task
    model = env.unwrapped.mdp
    # The task carries the environment's model (with its own γ = 1, no override).
    assert task.mdp is not None and task.gamma == 1.0
    np.testing.assert_array_equal(task.mdp.P, model.P)
    np.testing.assert_array_equal(task.mdp.R, model.R)
    # Episodes come from the environment: 5 episodes of delay + 1 decisions each.
    assert all(event.info.n_steps == 5 * (delay + 1) for event in log.updates)
    assert result.env_steps == 4 * 5 * (delay + 1)
    # The model makes the exact metrics available.
    assert "exact/J" in recorder.series()


def test_training_on_a_gymnasium_environment_overrides_gamma_of_its_model():
    env = gymnasium.make("acconv/DelayedChain-v0", delay=2)
    log = Log()
    train(ActorCritic(), env, 1, np.random.default_rng(0), [log], gamma=0.5)
    task = log.calls[0][1].task
    assert task.gamma == 0.5 and task.mdp is not None and task.mdp.gamma == 0.5


def test_training_on_an_environment_without_a_model_runs_without_exact_metrics():
    env = gymnasium.make("FrozenLake-v1")
    log, recorder = Log(), Recorder()
    train(
        ActorCritic(), env, 3, np.random.default_rng(0), [log, recorder],
        episodes_per_update=2, gamma=0.95,
    )
    assert log.calls[0][1].task.mdp is None
    assert all(event.info.n_episodes == 2 for event in log.updates)
    assert not any(key.startswith("exact/") for key in recorder.series())


def test_expected_mode_draws_no_episodes():
    log = Log()
    learner = ActorCritic(mode="expected")
    result = train(learner, _terminating_garnet(), 3, np.random.default_rng(0), [log])
    assert result.env_steps == 0
    assert all(event.info.n_steps == 0 and event.info.n_episodes == 0 for event in log.updates)


# --------------------------------------------------------------------------------------------
# log_spaced and the Recorder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_updates", [1, 2, 7, 10, 100, 999, 10_000])
@pytest.mark.parametrize("per_decade", [3, 5, 10])
def test_log_spaced_includes_both_ends_and_is_strictly_increasing(n_updates, per_decade):
    points = log_spaced(n_updates, per_decade)
    assert points[0] == 0 and points[-1] == n_updates - 1
    assert (np.diff(points) > 0).all()
    assert points.dtype.kind == "i"


@pytest.mark.parametrize("per_decade", [3, 5, 10])
def test_log_spaced_has_points_per_decade_points_in_each_full_decade(per_decade):
    points = log_spaced(10_000, per_decade)
    # Spaced evenly in log10(n + 1): the decade [10^d, 10^(d+1)) of n + 1 holds the grid points
    # 10^(d + k/per_decade), k = 0..per_decade-1. For d >= 1 they are at least
    # 10·(10^(1/10) - 1) ≈ 2.6 apart, so rounding to integers keeps all of them.
    for d in (1, 2, 3):
        inside = ((points + 1 >= 10**d) & (points + 1 < 10 ** (d + 1))).sum()
        assert inside == per_decade
    # In the first decade only the integers 1..9 exist, so rounding may merge points.
    assert 1 <= ((points + 1) < 10).sum() <= per_decade


def test_log_spaced_of_no_updates_is_empty():
    assert len(log_spaced(0)) == 0


def test_recorder_records_documented_keys_only_at_log_spaced_updates():
    mdp = _terminating_garnet()
    recorder, log = Recorder(points_per_decade=5), Log()
    learner = ActorCritic(critic_lr="1/(n+1)**0.6", actor_lr="0.5/(n+1)")
    train(learner, mdp, 40, np.random.default_rng(0), [recorder, log], episodes_per_update=4)
    series = recorder.series()
    due = log_spaced(40, 5)
    documented = {
        "schedule/critic_lr", "schedule/actor_lr", "schedule/ratio", "schedule/beta",
        "loss/critic", "loss/actor", "grad_norm/critic", "grad_norm/actor",
        "return/batch_mean", "iterate/theta_norm", "iterate/omega_norm", "policy/min_prob",
        "progress/env_steps", "exact/J", "exact/gap",
    }
    assert documented <= set(series)
    v_star = float(mdp.rho @ optimal_values(mdp).V)
    for key in documented:
        n, _ = series[key]
        np.testing.assert_array_equal(n, due)  # recorded exactly at the log-spaced updates
    events = {event.info.n: event for event in log.updates}
    for key, value_of in {
        "schedule/critic_lr": lambda e: 1 / (e.info.n + 1) ** 0.6,
        "schedule/actor_lr": lambda e: 0.5 / (e.info.n + 1),
        "schedule/ratio": lambda e: 0.5 / (e.info.n + 1) ** 0.4,  # b_n / a_n
        "progress/env_steps": lambda e: e.env_steps,
        "policy/min_prob": lambda e: e.policy.min(),
        # ρᵀ V^π of the policy that sampled update n, and its gap to V*(ρ).
        "exact/J": lambda e: mdp.rho @ policy_evaluation(mdp, e.policy),
        "exact/gap": lambda e: v_star - mdp.rho @ policy_evaluation(mdp, e.policy),
    }.items():
        n, values = series[key]
        expected = [value_of(events[int(i)]) for i in n]
        # Same formulas on the same arrays; schedules go through SymPy's lambdify: rounding only.
        np.testing.assert_allclose(values, expected, rtol=1e-12, atol=1e-14)
    assert (series["exact/gap"][1] >= -1e-9).all()  # V* dominates every policy (value-it. tol)
    assert recorder.last("exact/J") == pytest.approx(series["exact/J"][1][-1])


def test_recorder_records_the_last_update_of_a_run_stopped_early():
    recorder = Recorder()
    result = train(
        ActorCritic(), _terminating_garnet(), 100, np.random.default_rng(0), [recorder],
        until=lambda event: event.info.n == 6,  # 6 is not in log_spaced(100) = [0, ..., 5, 7, ...]
    )
    n, _ = recorder.series()["exact/J"]
    assert n[-1] == result.last_update.n == 6


def test_recorder_forwards_learner_diagnostics_with_a_prefix():
    recorder = Recorder()
    train(PPO(), _terminating_garnet(), 3, np.random.default_rng(0), [recorder])
    series = recorder.series()
    for key in ("diag/clip_fraction", "diag/approx_kl", "diag/entropy", "diag/gradient_steps"):
        assert key in series
    # PPO's default K = 4 epochs of M = 4 minibatches: 16 gradient steps per update.
    np.testing.assert_array_equal(series["diag/gradient_steps"][1], 16.0)


def test_recorder_starts_afresh_for_every_run():
    recorder = Recorder()
    mdp = _terminating_garnet()
    train(ActorCritic(), mdp, 5, np.random.default_rng(0), [recorder])
    train(ActorCritic(), mdp, 3, np.random.default_rng(0), [recorder])
    n, _ = recorder.series()["exact/J"]
    np.testing.assert_array_equal(n, log_spaced(3))  # only the second run's rows


def test_the_loop_says_where_episodes_come_from_in_the_facts() -> None:
    # A5 reads it: whole episodes from the model's sampler, or from environment resets.
    class Starts:
        def __init__(self) -> None:
            self.facts: list[object] = []

        def on_start(self, event: object) -> None:
            self.facts.append(event.facts)  # type: ignore[attr-defined]

        def on_update(self, event: object) -> None: ...

        def on_end(self, event: object) -> None: ...

    mdp = discount_as_termination(garnet(4, 2, 2, np.random.default_rng(0), gamma=0.9))
    starts = Starts()
    train(ActorCritic(), mdp, 2, np.random.default_rng(0), [starts], episodes_per_update=2)
    env = gymnasium.make("FrozenLake-v1")
    train(ActorCritic(), env, 2, np.random.default_rng(0), [starts], 2, gamma=0.99)
    assert [f.episodes for f in starts.facts] == ["MDPSampler", "environment"]  # type: ignore[attr-defined]
