"""Neural RUDDER: the LSTM's additive read-out, the proper MSE, redistribution, couplings."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acconv  # noqa: F401  (registers acconv/DelayedChain-v0)
from acconv.instrument import Recorder

torch = pytest.importorskip("torch")
from acconv.estimators import redistribute_rewards  # noqa: E402
from acconv.neural import RUDDER, ReturnLSTM  # noqa: E402
from acconv.neural.networks import observation_encoder  # noqa: E402
from acconv.neural.rudder import return_decomposition_loss  # noqa: E402
from acconv.neural.seed_envs import LoopEnvs  # noqa: E402

# Neural RUDDER's defaults in acconv 0.1.0: the tests written against them keep their runs.
OLD_DEFAULTS = {"coupling": "replace_reward", "residual": "uniform"}


def _delayed_chain(noise: float = 0.0) -> gym.Env:  # type: ignore[type-arg]
    return gym.make("acconv/DelayedChain-v0", delay=4, n_actions=2, noise=noise)


def test_the_loss_is_a_mean_of_squared_errors() -> None:
    # Hand-computed: g = [[1, 2], [3, 0]], G = [2, 1], c_aux = 0.5.
    # Episode 0: main (2-2)² = 0, aux ((1-2)² + (2-2)²)/2 = 0.5 -> 0 + 0.25.
    # Episode 1: main (0-1)² = 1, aux ((3-1)² + (0-1)²)/2 = 2.5 -> 1 + 1.25. Mean: 1.25.
    g = torch.tensor([[1.0, 2.0], [3.0, 0.0]])
    mask = torch.ones(2, 2, dtype=torch.bool)
    loss = return_decomposition_loss(g, torch.tensor([2.0, 1.0]), mask, 0.5)
    assert float(loss) == pytest.approx(1.25)
    # Errors of opposite sign do not cancel (the tutorial's squared mean error would give 0).
    g = torch.tensor([[1.0], [-1.0]])
    assert (
        float(return_decomposition_loss(g, torch.zeros(2), torch.ones(2, 1, dtype=torch.bool), 0.0))
        == 1.0
    )


def test_the_loss_ignores_steps_after_an_episode_ends() -> None:
    g = torch.tensor([[2.0, 99.0]])
    mask = torch.tensor([[True, False]])
    assert float(return_decomposition_loss(g, torch.tensor([2.0]), mask, 0.5)) == 0.0


@pytest.mark.parametrize("residual", ["none", "uniform", "terminal"])
def test_redistribution_telescopes(residual: str) -> None:
    g = np.array([[0.5, 0.7, 1.5], [0.1, -0.4, 0.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    G = np.array([2.0, -1.0])
    r = redistribute_rewards(g, G, mask, residual)
    expected = G if residual != "none" else np.array([1.5, -0.4])  # g at the last real step
    np.testing.assert_allclose(r.sum(axis=1), expected)
    assert r[1, 2] == 0.0  # nothing after the end
    np.testing.assert_allclose(r[0, 1], 0.2 + (0.5 / 3 if residual == "uniform" else 0.0))


def test_prediction_differences_are_the_cell_increments() -> None:
    model = ReturnLSTM(5, 4, torch.Generator().manual_seed(0))
    x = torch.randn(3, 6, 5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        g = model(x)
        cells = model.cells(x)
        previous = torch.cat([torch.zeros(3, 1, 4), cells[:, :-1]], dim=1)
        contribution = model.increment(x, previous) @ model.head.weight[0]
    differences = torch.diff(g, dim=1, prepend=torch.zeros(3, 1))
    differences[:, 0] -= model.head.bias[0]  # g_0 - g_{-1} = wᵀΔc_0 + b_out
    torch.testing.assert_close(differences, contribution, rtol=1e-5, atol=1e-6)


def test_immediate_pg_baseline_under_a_deterministic_policy_is_the_taken_increment() -> None:
    """With π = δ_{a_t}, Σ_a π(a|s_t) wᵀΔc_t(a) (+ b_out at t = 0) is g_t - g_{t-1} itself."""
    env = _delayed_chain()
    learner = RUDDER(**OLD_DEFAULTS, episodes_per_update=4, hidden=(8,), n_cells=4)  # type: ignore[arg-type]
    learner.learn(env, 2, np.random.default_rng(0))
    assert learner.return_model is not None
    _, encode = observation_encoder(env.observation_space)
    envs = LoopEnvs([env])
    (episodes,), _ = learner._episodes(envs, envs.reset([3]), encode, [np.random.default_rng(1)])
    X = np.stack([x for x, _, _, _ in episodes])[None]  # one seed; fixed length: delay + 1
    A = np.stack([a for _, a, _, _ in episodes])[None]
    mask = np.ones(A.shape, dtype=bool)
    inputs = torch.from_numpy(learner._model_inputs(X, A))
    with torch.no_grad():
        cells = learner.return_model.cells(inputs)
        g = learner.return_model(inputs).double().numpy()
    pi = np.eye(2)[A]  # π(·|s_t) = δ_{a_t}
    expected = learner._expected_increment(cells, X, mask, pi)
    np.testing.assert_allclose(expected, np.diff(g, axis=2, prepend=0.0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("coupling", ["replace_reward", "mix_advantage", "immediate_pg"])
def test_every_coupling_runs_and_reports_the_return_model(coupling: str) -> None:
    recorder = Recorder()
    learner = RUDDER(
        coupling=coupling,
        residual="uniform",
        episodes_per_update=4,
        hidden=(8,),
        n_cells=4,  # type: ignore[arg-type]
    )
    run = learner.learn(_delayed_chain(0.5), 3, np.random.default_rng(0), [recorder])
    info = run.last_update
    assert info.n_episodes == 4 and info.n_steps == 4 * 5  # delay 4: 5 decisions per episode
    assert np.isfinite(info.diagnostics["return_model_loss"])
    metrics = {m for _, m, _ in recorder.rows}
    assert {"diag/return_model_loss", "diag/return_model_residual", "exact/J"} <= metrics


def test_the_same_seed_gives_the_same_rudder_run() -> None:
    def theta(seed: int) -> np.ndarray:
        learner = RUDDER(**OLD_DEFAULTS, episodes_per_update=4, hidden=(8,), n_cells=4)  # type: ignore[arg-type]
        return learner.learn(_delayed_chain(0.5), 2, np.random.default_rng(seed)).last_update.theta

    np.testing.assert_array_equal(theta(3), theta(3))


@pytest.mark.slow
def test_neural_rudder_learns_the_delayed_chain() -> None:
    # Measured (seed 0, 2026-11-26, delay 8, noise 0.5): J(π) goes from 0 (uniform policy) to
    # 0.98 in 60 updates of 16 episodes with each coupling.
    recorder = Recorder()
    learner = RUDDER(
        coupling="immediate_pg", critic_lr="0.5/(1+n/10)**0.6", actor_lr="0.2/(1+n/10)**0.9",
        hidden=(32,), residual="uniform",
    )  # fmt: skip
    env = gym.make("acconv/DelayedChain-v0", delay=8, n_actions=2, noise=0.5)
    learner.learn(env, 60, np.random.default_rng(0), [recorder])
    J = [v for _, m, v in recorder.rows if m == "exact/J"]
    assert J[0] < 0.2 and J[-1] > 0.9


def test_tabular_and_neural_rudder_have_the_same_defaults() -> None:
    import inspect

    from acconv.tabular import RUDDER as TabularRUDDER

    tabular = inspect.signature(TabularRUDDER).parameters
    neural = inspect.signature(RUDDER).parameters
    shared = ["aux_weight", "residual", "coupling", "mix_coef"]
    assert {k: neural[k].default for k in shared} == {k: tabular[k].default for k in shared}
    # The docs' and the canonical claims' pair (see both docstrings).
    assert (neural["residual"].default, neural["coupling"].default) == ("none", "immediate_pg")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coupling": "mix"}, "coupling is 'mix', expected one of replace_reward"),
        ({"residual": "all"}, "residual is 'all', expected one of none, uniform, terminal"),
        ({"n_steps": 10}, "n_steps is 10, expected none"),
        ({"episodes_per_update": 0}, "episodes_per_update is 0"),
    ],
)
def test_bad_rudder_arguments_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as error:
        RUDDER(**kwargs)  # type: ignore[arg-type]
    assert message in str(error.value)


def test_an_episode_that_never_ends_is_cut_at_max_steps() -> None:
    # A Garnet has no terminal state: without the cut the first episode would never end.
    env = gym.make("acconv/Garnet-v0", n_states=5, n_actions=2, branching=2)
    learner = RUDDER(
        **OLD_DEFAULTS,
        episodes_per_update=3,
        max_steps=7,
        hidden=(8,),
        n_cells=4,
        gamma=0.9,  # type: ignore[arg-type]
    )
    info = learner.learn(env, 1, np.random.default_rng(0)).last_update
    assert info.n_episodes == 3 and info.n_steps == 3 * 7
