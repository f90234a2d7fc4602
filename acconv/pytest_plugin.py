"""pytest plugin of acconv: seeded generators and small MDPs as fixtures.

Registered under the ``pytest11`` entry point, so it loads whenever acconv is installed. It
adds the option ``--acconv-seed`` (default 0; shown in the pytest header) and the fixtures

* ``acconv_seed``: the root seed (int);
* ``acconv_rng``: ``numpy.random.default_rng(acconv_seed)``, fresh for each test;
* ``acconv_seed_sequence``: ``numpy.random.SeedSequence(acconv_seed)``, to ``spawn`` child seeds;
* ``small_garnet``: ``garnet(6, 3, 2, default_rng(0), gamma=0.9)`` (a fixed MDP, whatever the
  seed) and ``small_episodic_garnet``: its episodic twin ``discount_as_termination(...)``;
* ``chain_mdp``: ``chain(5, gamma=0.9)`` (optimal start value 0.9³ = 0.729);
* ``frozenlake_mdp``: ``from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)``;
* ``delayed_chain_mdp``: ``gymnasium.make("acconv/DelayedChain-v0", delay=5).unwrapped.mdp``.

Example::

    def test_my_learner(small_garnet, acconv_rng):
        train(MyLearner(), small_garnet, 100, acconv_rng)

Only numpy and pytest are imported when the plugin loads; acconv and gymnasium are imported
inside the fixtures, so a pytest session that uses none of them pays nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

if TYPE_CHECKING:
    from acconv.mdp import FiniteMDP

__all__ = [
    "acconv_rng",
    "acconv_seed",
    "acconv_seed_sequence",
    "chain_mdp",
    "delayed_chain_mdp",
    "frozenlake_mdp",
    "small_episodic_garnet",
    "small_garnet",
]

_OPTION = "--acconv-seed"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("acconv")
    group.addoption(
        _OPTION,
        action="store",
        type=int,
        default=0,
        dest="acconv_seed",
        help="root seed of the acconv_rng / acconv_seed_sequence fixtures (default 0)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("acconv_seed")
    return f"acconv: {_OPTION}={seed} (acconv_rng = numpy.random.default_rng({seed}))"


@pytest.fixture
def acconv_seed(request: pytest.FixtureRequest) -> int:
    """The root seed given by ``--acconv-seed`` (default 0)."""
    return int(request.config.getoption("acconv_seed"))


@pytest.fixture
def acconv_rng(acconv_seed: int) -> np.random.Generator:
    """A fresh ``numpy.random.default_rng(--acconv-seed)`` for each test."""
    return np.random.default_rng(acconv_seed)


@pytest.fixture
def acconv_seed_sequence(acconv_seed: int) -> np.random.SeedSequence:
    """``numpy.random.SeedSequence(--acconv-seed)``; ``.spawn(k)`` gives k independent seeds."""
    return np.random.SeedSequence(acconv_seed)


@pytest.fixture
def small_garnet() -> FiniteMDP:
    """A fixed Garnet MDP: 6 states, 3 actions, branching 2, γ = 0.9 (structure seed 0)."""
    from acconv.mdp import garnet

    return garnet(6, 3, 2, np.random.default_rng(0), gamma=0.9)


@pytest.fixture
def small_episodic_garnet(small_garnet: FiniteMDP) -> FiniteMDP:
    """``small_garnet`` with γ = 0.9 turned into a stopping probability (7 states, γ = 1)."""
    from acconv.mdp import discount_as_termination

    return discount_as_termination(small_garnet)


@pytest.fixture
def chain_mdp() -> FiniteMDP:
    """A 5-state corridor, goal at the right end pays 1, γ = 0.9 (V*(start) = 0.9³)."""
    from acconv.mdp import chain

    return chain(5, gamma=0.9)


@pytest.fixture
def frozenlake_mdp() -> FiniteMDP:
    """Gymnasium's FrozenLake-v1 (4x4, slippery) as a FiniteMDP with γ = 0.9."""
    import gymnasium

    from acconv.mdp import from_gymnasium

    return from_gymnasium(gymnasium.make("FrozenLake-v1"), gamma=0.9)


@pytest.fixture
def delayed_chain_mdp() -> FiniteMDP:
    """The model of ``acconv/DelayedChain-v0`` with ``delay=5`` (reward only at the end)."""
    import gymnasium

    from acconv.envs import register_envs

    register_envs()
    env = gymnasium.make("acconv/DelayedChain-v0", delay=5)
    mdp: FiniteMDP = getattr(env.unwrapped, "mdp")  # noqa: B009  (the acconv env contract)
    return mdp
