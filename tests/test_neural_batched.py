"""K seeds of neural PPO as one batched computation: each seed is its single run, to rounding.

Tolerances (measured 2026-12-02, torch 2.13 on CPU, the configurations below, 4 updates): the
batched products (``baddbmm`` over K seeds) may round differently from K = 1, so parameters
drift apart by float32 rounding only. Max |Δ| over 4 seeds, actor and critic: SGD 6.0e-8
(chain), 3.0e-8 (CartPole), 1.5e-8 (Garnet); Adam 4.8e-7, 5.0e-7, 7.2e-7 (Adam divides by
√v, which magnifies rounding in small gradients). The tests use atol 1e-5 on parameters (14x
the largest) and 1e-4 on the reported tables (largest seen 3.8e-6, the centred log-policy of
CartPole's probe states after Adam). Actions, episodes and returns are compared exactly: they
change only if a uniform draw falls within ~1e-7 of a CDF boundary (odds ~1e-4 per test).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

import acconv.envs  # noqa: F401  (registers acconv/Garnet-v0)
from acconv.envs.finite import FiniteMDPEnv
from acconv.estimators import gae_rollout
from acconv.mdp import chain, discount_as_termination

torch = pytest.importorskip("torch")
from acconv.neural import PPO, RUDDER  # noqa: E402
from acconv.neural.networks import (  # noqa: E402
    _fast_tanh,
    clip_grad_norms_,
    parameter_vectors,
    stacked_mlp,
)
from acconv.neural.seed_envs import (  # noqa: E402
    CartPoleEnvs,
    LoopEnvs,
    ModelEnvs,
    seed_envs,
)

SMALL = {"n_steps": 64, "batch_size": 16, "n_epochs": 2, "hidden": (16,)}
PARAM_ATOL, TABLE_ATOL = 1e-5, 1e-4  # see the module docstring
SEEDS = [11, 12, 13]


def _chain() -> FiniteMDPEnv:
    return FiniteMDPEnv(discount_as_termination(chain(5, slip=0.1, gamma=0.95)))


MAKERS = {
    "chain": _chain,
    "CartPole": lambda: gym.make("CartPole-v1"),
    "Garnet": lambda: gym.make("acconv/Garnet-v0"),
}


def _batched(make: Any, seeds: list[int], n: int = 4, **options: Any) -> tuple[PPO, list[Any]]:
    learner = PPO(**{**SMALL, **options})
    runs = learner.learn_seeds(
        [make() for _ in seeds], n, [np.random.default_rng(s) for s in seeds]
    )
    return learner, runs


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("env", list(MAKERS))
def test_seed_k_of_a_batch_is_seed_k_run_alone(env: str, optimizer: str) -> None:
    make = MAKERS[env]
    batch, runs = _batched(make, SEEDS, optimizer=optimizer)
    for k, seed in enumerate(SEEDS):
        alone = PPO(**SMALL, optimizer=optimizer)  # type: ignore[arg-type]
        run = alone.learn(make(), 4, np.random.default_rng(seed))
        assert runs[k].env_steps == run.env_steps
        assert runs[k].episode_returns == run.episode_returns  # the same episodes, exactly
        for stacked, single in ((batch.actor, alone.actor), (batch.critic, alone.critic)):
            np.testing.assert_allclose(
                parameter_vectors(stacked)[k], parameter_vectors(single)[0], atol=PARAM_ATOL
            )
        last, reference = runs[k].last_update, run.last_update
        np.testing.assert_allclose(last.theta, reference.theta, atol=TABLE_ATOL)
        np.testing.assert_allclose(last.omega, reference.omega, atol=TABLE_ATOL)
        probe = np.array([0.01, -0.2, 0.03, 0.1], dtype=np.float32) if env == "CartPole" else 0
        np.testing.assert_allclose(
            batch.action_probabilities(probe, seed=k),
            alone.action_probabilities(probe),
            atol=TABLE_ATOL,
        )


def test_the_seeds_of_a_batch_differ_and_a_batch_is_deterministic() -> None:
    first, _ = _batched(_chain, SEEDS, n=2)
    again, _ = _batched(_chain, SEEDS, n=2)
    for a, b in ((first.actor, again.actor), (first.critic, again.critic)):
        np.testing.assert_array_equal(parameter_vectors(a), parameter_vectors(b))  # bit for bit
    actor = parameter_vectors(first.actor)
    assert np.abs(actor[0] - actor[1]).max() > 1e-3  # own initialisations, own streams


def test_a_batch_on_two_torch_threads_is_deterministic_and_each_seed_its_run_alone() -> None:
    """``n_threads = 2`` (what ``acconv run`` gives a batch on 2 cores) rounds differently from
    one thread, within the tolerance above, and the same way every time. SB3's 64-64 networks,
    minibatches of 64 and learning rate 3e-4, so the batched products are large enough to be
    split between the threads (measured 2026-12-02, 3 updates: max |Δ| 3.3e-7 against the same
    batch on one thread and against each seed alone; with ``hidden = (16,)`` the threads were
    not used at all, and with Adam at the class's default first step 0.05 the two thread counts
    drift 4.2e-5 apart, Adam magnifying the rounding)."""
    sizes = {
        "n_steps": 256,
        "batch_size": 64,
        "n_epochs": 2,
        "hidden": (64, 64),
        "optimizer": "adam",
        "critic_lr": 3e-4,
        "actor_lr": 3e-4,
    }
    make = MAKERS["CartPole"]

    def parameters(learner: PPO) -> np.ndarray:
        return np.concatenate(
            [parameter_vectors(learner.actor), parameter_vectors(learner.critic)], axis=1
        )

    twice = [_batched(make, SEEDS, n=3, n_threads=2, **sizes)[0] for _ in range(2)]
    np.testing.assert_array_equal(parameters(twice[0]), parameters(twice[1]))  # bit for bit
    for k, seed in enumerate(SEEDS):
        alone = PPO(**SMALL | sizes, n_threads=1)  # type: ignore[arg-type]
        alone.learn(make(), 3, np.random.default_rng(seed))
        np.testing.assert_allclose(parameters(twice[0])[k], parameters(alone)[0], atol=PARAM_ATOL)


def test_until_stops_one_seed_and_leaves_the_others_as_they_were() -> None:
    """A seed stopped by ``until`` ends there (its end event, its actor kept); the others go on
    and are what they are without the stop."""
    ends: list[list[int]] = [[] for _ in SEEDS]

    class Ends:
        def __init__(self, k: int) -> None:
            self.k = k

        def on_start(self, event: Any) -> None: ...
        def on_update(self, event: Any) -> None: ...
        def on_end(self, event: Any) -> None:
            ends[self.k].append(event.n_updates)

    asked: list[int] = []

    def stop_seed_0_after_update_1(event: Any) -> bool:
        # asked per update for seeds 0, 1, 2 in turn: the 4th question is seed 0 at n = 1
        asked.append(event.info.n)
        return len(asked) == 4

    learner = PPO(**SMALL)  # type: ignore[arg-type]
    runs = learner.learn_seeds(
        [_chain() for _ in SEEDS],
        3,
        [np.random.default_rng(s) for s in SEEDS],
        [[Ends(k)] for k in range(len(SEEDS))],
        until=stop_seed_0_after_update_1,
    )
    assert [run.last_update.n for run in runs] == [1, 2, 2]
    assert ends == [[2], [3], [3]]
    _, full_runs = _batched(_chain, SEEDS, n=3)
    np.testing.assert_array_equal(runs[1].last_update.omega, full_runs[1].last_update.omega)
    two, _ = _batched(_chain, SEEDS[:1], n=2)
    np.testing.assert_allclose(  # seed 0 acts with its networks as they were after update 1
        learner.action_probabilities(3, seed=0), two.action_probabilities(3), atol=TABLE_ATOL
    )


def test_clipping_is_torchs_rule_per_seed_never_over_the_stack() -> None:
    """Each seed's gradient, clipped alone by ``torch.nn.utils.clip_grad_norm_``."""
    generators = [torch.Generator().manual_seed(s) for s in range(3)]
    net = stacked_mlp([3, 5, 2], "tanh", 1.0, generators)
    scales = torch.tensor([0.01, 1.0, 100.0])  # below, near and far above the threshold
    for p in net.parameters():
        p.grad = torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel()))
        p.grad *= scales.view(-1, *([1] * (p.dim() - 1)))
    expected = []
    for k in range(3):
        alone = [p.grad[k].clone() for p in net.parameters()]
        for g in alone:
            g.requires_grad_(False)
        params = [torch.nn.Parameter(torch.zeros_like(g)) for g in alone]
        for param, g in zip(params, alone, strict=True):
            param.grad = g
        torch.nn.utils.clip_grad_norm_(params, 0.5)
        expected.append([param.grad for param in params])
    norms = clip_grad_norms_(list(net.parameters()), 0.5)
    assert norms[0] < 0.5 < norms[2]  # the test covers both sides
    for k in range(3):
        for p, e in zip(net.parameters(), expected[k], strict=True):
            torch.testing.assert_close(p.grad[k], e, rtol=1e-6, atol=1e-9)


def test_the_fast_tanh_is_tanh_in_value_and_derivative() -> None:
    x = torch.linspace(-12, 12, 20001, dtype=torch.float32, requires_grad=True)
    y = _fast_tanh(x)
    # numpy's and torch's float32 tanh are each within 6e-8 of the exact value (measured
    # against float64): they differ by at most 1 ulp of 1, 1.19e-7.
    torch.testing.assert_close(y, torch.tanh(x), rtol=0, atol=1.2e-7)
    y.sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, 1 - torch.tanh(x.detach()) ** 2, rtol=0, atol=5e-7)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda: gym.make("CartPole-v1"), CartPoleEnvs),
        (lambda: gym.make("acconv/Garnet-v0"), ModelEnvs),  # behind TimeLimit(200)
        (lambda: gym.make("acconv/DelayedChain-v0", delay=3, noise=0.5), ModelEnvs),
        (lambda: gym.make("FrozenLake-v1"), LoopEnvs),  # not a FiniteMDPEnv: the loop itself
    ],
)
def test_the_vectorised_environments_are_the_loop_over_single_environments(
    make: Any, kind: type
) -> None:
    K, seeds = 4, [3, 4, 5, 6]
    fast, loop = seed_envs([make() for _ in range(K)]), LoopEnvs([make() for _ in range(K)])
    assert isinstance(fast, kind)
    np.testing.assert_array_equal(fast.reset(seeds), loop.reset(seeds))
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(600):
        actions = rng.integers(fast.action_space.n, size=K)
        a, b = fast.step(actions), loop.step(actions)
        for field in ("obs", "final", "rewards", "terminated", "truncated"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))  # exactly
        ended += int(a.ended.sum())
    assert ended > K  # episodes ended and restarted from each seed's own stream
    which = np.array([True, False, True, False])
    np.testing.assert_array_equal(fast.restart(which), loop.restart(which))
    # Some seeds stand still (RUDDER's, once they have their episodes): no step, no draw.
    for _ in range(300):
        actions, active = rng.integers(fast.action_space.n, size=K), rng.random(K) < 0.5
        before = fast.restart(np.zeros(K, dtype=bool))
        a, b = fast.step(actions, active), loop.step(actions, active)
        for field in ("obs", "final", "rewards", "terminated", "truncated"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))  # exactly
        np.testing.assert_array_equal(a.obs[~active], before[~active])
        assert not a.ended[~active].any() and not a.rewards[~active].any()
    # ... and their streams go on where they stopped: the same steps as the loop's afterwards
    for _ in range(100):
        actions = rng.integers(fast.action_space.n, size=K)
        np.testing.assert_array_equal(fast.step(actions).obs, loop.step(actions).obs)


def test_gae_over_several_streams_is_gae_of_each() -> None:
    rng = np.random.default_rng(2)
    r, v, v_next = rng.normal(size=(3, 9)), rng.normal(size=(3, 9)), rng.normal(size=(3, 9))
    ended = rng.random((3, 9)) < 0.3
    together = gae_rollout(r, v, v_next, ended, 0.9, 0.8)
    for k in range(3):
        np.testing.assert_array_equal(
            together[k], gae_rollout(r[k], v[k], v_next[k], ended[k], 0.9, 0.8)
        )


def test_learn_seeds_refuses_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="envs has 2 entries and rngs 1, expected one per seed"):
        PPO(**SMALL).learn_seeds([_chain(), _chain()], 1, [np.random.default_rng(0)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="observers has 1 entries, expected 2"):
        PPO(**SMALL).learn_seeds(  # type: ignore[arg-type]
            [_chain(), _chain()], 1, [np.random.default_rng(s) for s in (0, 1)], [[]]
        )
    env = _chain()
    with pytest.raises(ValueError, match="one environment object more than once"):
        PPO(**SMALL).learn_seeds([env, env], 1, [np.random.default_rng(s) for s in (0, 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed is 3, expected an index in"):
        learner, _ = _batched(_chain, SEEDS[:2], n=1)
        learner.action_probabilities(0, seed=3)


def test_seed_adam_is_torchs_adam_per_seed_and_skips_inactive_seeds() -> None:
    """Each seed of a SeedAdam is a torch.optim.Adam that steps only when the seed is active:
    against one torch Adam per seed, stepped on the active steps alone, to float32 rounding
    (the same formula; torch's vectorised kernels round some products differently: measured
    max |Δ| 3.0e-8, 2026-12-02, i.e. 1 ulp of these magnitudes; 1e-7 allowed). An inactive
    seed does not move at all, and each seed counts its own steps."""
    from acconv.neural.networks import SeedAdam

    g = torch.Generator().manual_seed(0)
    K = 3
    stack = torch.nn.Parameter(torch.randn(K, 5, 4, generator=g))
    alone = [torch.nn.Parameter(stack.detach()[k].clone()) for k in range(K)]
    seed_adam = SeedAdam([stack], lr=1e-2)
    adams = [torch.optim.Adam([p], lr=1e-2) for p in alone]
    # seed 1 first steps at the 3rd step, seed 2 skips two in a row, every seed some
    pattern = [[1, 0, 1], [1, 0, 0], [0, 1, 0], [1, 1, 1], [0, 1, 1]] * 3
    for active in pattern:
        grads = torch.randn(K, 5, 4, generator=g)
        before = stack.detach().clone()
        stack.grad = grads.clone()
        seed_adam.step(torch.tensor(active, dtype=torch.bool))
        for k in range(K):
            if active[k]:
                alone[k].grad = grads[k].clone()
                adams[k].step()
            else:  # an inactive seed does not move
                assert torch.equal(stack.detach()[k], before[k])
    for k in range(K):
        torch.testing.assert_close(stack.detach()[k], alone[k].detach(), rtol=0, atol=1e-7)
        assert int(seed_adam.state[stack]["step"][k]) == sum(a[k] for a in pattern)


def test_a_seed_network_is_its_slice_of_the_stack() -> None:
    import torch

    from acconv.neural.networks import StackedMLP, mlp

    generators = [torch.Generator().manual_seed(k) for k in range(3)]
    nets = [mlp((4, 8, 8, 2), "tanh", 1.0, g) for g in generators]
    stacked = StackedMLP(nets, "tanh")
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        together = stacked(x.expand(3, 5, 4))
        for k, net in enumerate(nets):
            alone = stacked.seed_network(k)
            # The copy is the network seed k was built from: the same map (to the rounding of
            # numpy's tanh against torch's, ~6e-8 per unit) and the original's own outputs.
            assert torch.allclose(alone(x), net(x), atol=1e-6)
            assert torch.allclose(alone(x), together[k], atol=1e-6)
    with pytest.raises(ValueError, match="k is 3"):
        stacked.seed_network(3)


def test_the_stacked_linear_layer_has_autograds_gradients() -> None:
    """``_StackedLinear`` writes its own backward (to skip a transpose copy): finite differences
    in float64 (``gradcheck``) and, in float32, each seed's ``nn.Sequential`` differentiated by
    autograd give the same gradients."""
    from acconv.neural.networks import StackedMLP, mlp, stacked_linear

    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 4, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(3, 2, 4, dtype=torch.float64, generator=g, requires_grad=True)
    b = torch.randn(3, 1, 2, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(stacked_linear, (x, w, b))

    nets = [mlp((4, 8, 8, 2), "tanh", 1.0, torch.Generator().manual_seed(k)) for k in range(3)]
    stacked = StackedMLP(nets, "tanh")
    inputs = torch.randn(3, 6, 4, generator=torch.Generator().manual_seed(9))
    (stacked(inputs) ** 2).sum().backward()  # type: ignore[no-untyped-call]
    for k, net in enumerate(nets):
        net.zero_grad()
        (net(inputs[k]) ** 2).sum().backward()  # type: ignore[no-untyped-call]
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        for index, linear in enumerate(linears):
            weight, bias = stacked.layers[2 * index], stacked.layers[2 * index + 1]
            # float32; torch's tanh against numpy's differs by ≤ 1 ulp (see the tanh test)
            torch.testing.assert_close(weight.grad[k], linear.weight.grad, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(bias.grad[k, 0], linear.bias.grad, rtol=1e-5, atol=1e-6)


# -- neural RUDDER: whole episodes of different lengths, padded --------------------------------

RUDDER_SMALL = {
    "episodes_per_update": 4,
    "hidden": (16,),
    "n_cells": 4,
    "batch_size": 16,
    "n_epochs": 2,
    "max_steps": 40,
}
RUDDER_MAKERS: dict[str, tuple[Any, dict[str, Any]]] = {
    "chain": (_chain, {}),  # episodes end at random: lengths differ within and across seeds
    "CartPole": (lambda: gym.make("CartPole-v1"), {}),
    "Garnet": (lambda: gym.make("acconv/Garnet-v0"), {"gamma": 0.9}),  # cut at max_steps
}


def _rudder_batch(
    make: Any, seeds: list[int], n: int = 3, **options: Any
) -> tuple[RUDDER, list[Any]]:
    settings: dict[str, Any] = {**RUDDER_SMALL, **options}
    learner = RUDDER(**settings)
    runs = learner.learn_seeds(
        [make() for _ in seeds], n, [np.random.default_rng(s) for s in seeds]
    )
    return learner, runs


@pytest.mark.parametrize("coupling", ["immediate_pg", "replace_reward", "mix_advantage"])
@pytest.mark.parametrize("env", list(RUDDER_MAKERS))
def test_seed_k_of_a_rudder_batch_is_seed_k_run_alone(env: str, coupling: str) -> None:
    """``learn`` (K = 1) and ``learn_seeds`` on the same seeds: the same algorithm. Measured
    max |Δ| over actor, critic and return model (3 updates, 2026-12-02): 1.7e-7 (Garnet), 1.5e-7
    (chain), 1.2e-7 (CartPole); the module's 1e-5 is kept."""
    _assert_rudder_seeds_are_their_runs_alone(env, coupling, "sgd")


@pytest.mark.parametrize("env", list(RUDDER_MAKERS))
def test_seed_k_of_an_adam_rudder_batch_is_seed_k_run_alone(env: str) -> None:
    """With Adam too (SeedAdam: a seed without steps in a minibatch is skipped). Measured max
    |Δ| (3 updates, 2026-12-02): 4.7e-6 (chain), 1.3e-6 (CartPole), 9.2e-7 (Garnet); Adam's
    division by √v magnifies the batch's rounding, as for PPO above; the module's 1e-5 kept."""
    _assert_rudder_seeds_are_their_runs_alone(env, "mix_advantage", "adam")


def _assert_rudder_seeds_are_their_runs_alone(env: str, coupling: str, optimizer: str) -> None:
    make, options = RUDDER_MAKERS[env]
    options = {**options, "optimizer": optimizer}
    batch, runs = _rudder_batch(make, SEEDS, coupling=coupling, **options)
    if env == "chain":  # the padding is exercised: the seeds' batches have different lengths
        assert len({run.env_steps for run in runs}) > 1
    for k, seed in enumerate(SEEDS):
        settings: dict[str, Any] = {**RUDDER_SMALL, **options, "coupling": coupling}
        alone = RUDDER(**settings)
        run = alone.learn(make(), 3, np.random.default_rng(seed))
        assert runs[k].env_steps == run.env_steps
        assert runs[k].episode_returns == run.episode_returns  # the same episodes, exactly
        pairs: list[tuple[Any, Any]] = [
            (batch.actor, alone.actor),
            (batch.critic, alone.critic),
            (batch.return_model, alone.return_model),
        ]
        for stacked, single in pairs:
            np.testing.assert_allclose(
                parameter_vectors(stacked)[k], parameter_vectors(single)[0], atol=PARAM_ATOL
            )
        last, reference = runs[k].last_update, run.last_update
        assert last.n_steps == reference.n_steps and last.n_episodes == reference.n_episodes
        np.testing.assert_allclose(last.theta, reference.theta, atol=TABLE_ATOL)
        np.testing.assert_allclose(last.omega, reference.omega, atol=TABLE_ATOL)
        for key in ("return_model_loss", "return_model_residual", "explained_variance"):
            # float32 losses of CartPole's returns (~850): relative rounding
            expected = pytest.approx(reference.diagnostics[key], rel=1e-5, abs=1e-4)
            assert last.diagnostics[key] == expected
        assert last.diagnostics["approx_kl"] == pytest.approx(
            reference.diagnostics["approx_kl"], abs=1e-6
        )


def test_a_rudder_batch_is_deterministic_and_its_seeds_differ() -> None:
    first, _ = _rudder_batch(_chain, SEEDS, n=2)
    again, _ = _rudder_batch(_chain, SEEDS, n=2)
    pairs: list[tuple[Any, Any]] = [
        (first.actor, again.actor),
        (first.critic, again.critic),
        (first.return_model, again.return_model),
    ]
    for a, b in pairs:
        np.testing.assert_array_equal(parameter_vectors(a), parameter_vectors(b))  # bit for bit
    model = parameter_vectors(pairs[2][0])
    assert np.abs(model[0] - model[1]).max() > 1e-3  # own initialisations, own streams


def test_a_stacked_return_model_is_its_seeds_models_and_ignores_padding() -> None:
    """Seed k's block of the stack is the ReturnLSTM it was built from; steps appended after
    the end (any inputs, masked) change neither the loss nor its gradient."""
    from acconv.neural import ReturnLSTM
    from acconv.neural.rudder import StackedReturnLSTM, return_decomposition_loss

    models = [ReturnLSTM(5, 4, torch.Generator().manual_seed(k)) for k in range(3)]
    stacked = StackedReturnLSTM(models)
    x = torch.randn(3, 2, 6, 5, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        together = stacked(x)
        for k, model in enumerate(models):
            torch.testing.assert_close(together[k], model(x[k]), rtol=1e-6, atol=1e-6)
            torch.testing.assert_close(stacked.seed_model(k)(x[k]), model(x[k]))
    lengths = torch.tensor([[6, 3], [1, 4], [5, 6]])
    mask = torch.arange(6) < lengths[..., None]
    returns = torch.randn(3, 2, generator=torch.Generator().manual_seed(8))

    def loss_and_grads(inputs: Any, m: Any) -> list[Any]:
        stacked.zero_grad()
        loss = return_decomposition_loss(stacked(inputs), returns, m, 0.5)
        loss.sum().backward()  # type: ignore[no-untyped-call]
        return [loss.detach(), *(torch.clone(p.grad) for p in stacked.parameters())]

    plain = loss_and_grads(x, mask)
    garbage = torch.full((3, 2, 4, 5), 50.0)  # four more padded steps, far from the data
    padded_mask = torch.cat([mask, torch.zeros(3, 2, 4, dtype=torch.bool)], dim=2)
    padded = loss_and_grads(torch.cat([x, garbage], dim=2), padded_mask)
    for a, b in zip(plain, padded, strict=True):
        # Padding enters as + 0 (masked) or not at all (causal): equal but for float32 rounding,
        # since W's gradient is one product over all B·T rows, blocked by its length (largest
        # difference seen: 1.3e-8 absolute, 3.6e-6 relative, 2026-12-02).
        torch.testing.assert_close(a, b, rtol=2e-5, atol=1e-7)
    # per-seed loss: seed 0's alone (hand-checked form: the loss of its own (B, T) batch)
    alone = return_decomposition_loss(models[0](x[0]), returns[0], mask[0], 0.5)
    torch.testing.assert_close(plain[0][0], alone.detach(), rtol=1e-6, atol=1e-7)


def test_masked_ppo_losses_are_the_losses_of_the_real_steps() -> None:
    """A padded minibatch (mask) gives each seed the losses and gradients of its real steps
    alone; a seed with no real step gets zeros."""
    from acconv.neural.rollouts import Rollout

    learner = PPO(**SMALL)  # type: ignore[arg-type]
    learner._build(3, 2, [torch.Generator().manual_seed(k) for k in range(2)])

    def rollout(n: int, mask: Any = None) -> Rollout:
        g = torch.Generator().manual_seed(1)
        return Rollout(
            obs=torch.randn(2, n, 3, generator=g),
            actions=torch.randint(2, (2, n), generator=g),
            log_probs_old=torch.randn(2, n, 2, generator=g).log_softmax(-1),
            advantages=torch.randn(2, n, generator=g),
            targets=torch.randn(2, n, generator=g),
            values_old=torch.zeros(2, n),
            episode_returns=[[], []],
            discounted_returns=[[], []],
            mask=mask,
        )

    real = rollout(5)
    padding = rollout(9)  # other values behind the real ones
    full = torch.cat([real.obs, padding.obs[:, 5:]], dim=1)
    padded = Rollout(
        obs=full,
        actions=torch.cat([real.actions, padding.actions[:, 5:]], dim=1),
        log_probs_old=torch.cat([real.log_probs_old, padding.log_probs_old[:, 5:]], dim=1),
        advantages=torch.cat([real.advantages, padding.advantages[:, 5:]], dim=1),
        targets=torch.cat([real.targets, padding.targets[:, 5:]], dim=1),
        values_old=torch.zeros(2, 9),
        episode_returns=[[], []],
        discounted_returns=[[], []],
        mask=torch.arange(9)[None, :].expand(2, 9) < torch.tensor([[5], [0]]),
    )

    assert learner.actor is not None and learner.critic is not None
    networks = [*learner.actor.parameters(), *learner.critic.parameters()]

    def run(r: Rollout) -> tuple[Any, ...]:
        learner._actor_opt.zero_grad()
        learner._critic_opt.zero_grad()
        actor_loss, critic_loss, stats = learner._losses(r)
        (actor_loss + critic_loss).sum().backward()  # type: ignore[no-untyped-call]
        grads = [torch.clone(p.grad) for p in networks]
        return actor_loss.detach(), critic_loss.detach(), stats, *grads

    unmasked, masked = run(real), run(padded)
    for a, b in zip(unmasked, masked, strict=True):
        torch.testing.assert_close(b[0], a[0], rtol=1e-6, atol=1e-7)  # seed 0: its 5 steps
        assert not b[1].any()  # seed 1: no real step, nothing
