"""Small torch networks for the neural learners: observation encoding, MLPs, parameter vectors.

Smooth activations (``tanh``, ``softplus``, ``silu``, ``gelu``, ``elu`` with α = 1 is C¹ only)
keep the mean fields Lipschitz (THEORY.md A1, A3); ``relu`` is allowed but its networks are not
C¹, and the checks say so (:mod:`acconv.theory_checks.setting_checks` decides from the
activation the learner states in its facts).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Literal, get_args

import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray
from torch import nn

from acconv._validate import check_choice

Activation = Literal["tanh", "softplus", "silu", "gelu", "elu", "relu"]
ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)
_MODULES: dict[str, Callable[[], nn.Module]] = {
    "tanh": nn.Tanh,
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "relu": nn.ReLU,
}

Encoder = Callable[[NDArray[np.generic]], NDArray[np.float32]]
Forward = Callable[[NDArray[np.float32]], NDArray[np.float32]]


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    from scipy.special import erf

    return np.asarray(0.5 * x * (1.0 + erf(x / np.sqrt(2.0))), dtype=x.dtype)


# The activations of _MODULES in numpy (torch's definitions: Softplus with β = 1, ELU with α = 1,
# exact GELU); a test checks each against torch.
_NUMPY: dict[str, Callable[[NDArray[np.float32]], NDArray[np.float32]]] = {
    "tanh": np.tanh,
    "softplus": lambda x: np.logaddexp(np.float32(0.0), x),
    "silu": lambda x: x / (np.float32(1.0) + np.exp(-x)),
    "gelu": _gelu,
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "relu": lambda x: np.maximum(x, np.float32(0.0)),
}


def observation_encoder(space: spaces.Space[object]) -> tuple[int, Encoder]:
    """``(dim, encode)`` for an observation space: one-hot for ``Discrete(n)``, flatten for ``Box``.

    ``encode`` maps a batch of observations (shape ``(N,)`` or ``(N, *shape)``) to float32 rows of
    width ``dim``, as Stable-Baselines3's ``preprocess_obs`` does.
    """
    if isinstance(space, spaces.Discrete):
        n, start = int(space.n), int(space.start)
        eye = np.eye(n, dtype=np.float32)

        def one_hot(obs: NDArray[np.generic]) -> NDArray[np.float32]:
            return eye[np.asarray(obs, dtype=np.int64).reshape(-1) - start]

        return n, one_hot
    if isinstance(space, spaces.Box):
        dim = int(np.prod(space.shape))

        def flatten(obs: NDArray[np.generic]) -> NDArray[np.float32]:
            return np.asarray(obs, dtype=np.float32).reshape(-1, dim)

        return dim, flatten
    raise ValueError(f"observation space is {space}, expected Discrete or Box")


def mlp(
    sizes: Sequence[int],
    activation: str,
    out_gain: float,
    generator: torch.Generator,
) -> nn.Sequential:
    """An MLP ``sizes[0] → … → sizes[-1]`` with orthogonal initialisation.

    Hidden layers get gain √2 and the output layer ``out_gain``, biases 0 (the initialisation of
    Stable-Baselines3 and OpenAI baselines: 0.01 for the policy head, 1 for the value head).
    """
    check_choice(activation, "activation", ACTIVATIONS)
    layers: list[nn.Module] = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        linear = nn.Linear(n_in, n_out)
        last = k == len(sizes) - 2
        with torch.no_grad():
            nn.init.orthogonal_(
                linear.weight, gain=out_gain if last else math.sqrt(2), generator=generator
            )
            linear.bias.zero_()
        layers.append(linear)
        if not last:
            layers.append(_MODULES[activation]())
    return nn.Sequential(*layers)


def numpy_forward(net: nn.Sequential, activation: str) -> Forward:
    """The map of an :func:`mlp` in numpy, reading views of the network's current parameters.

    For acting on one observation at a time, where torch's per-call dispatch (about 40 µs for a
    64x64 MLP here) costs more than the arithmetic (about 8 µs in numpy). The views follow the
    optimisers' in-place updates; rebuild after replacing parameters.
    """
    layers = [
        (m.weight.detach().numpy(), m.bias.detach().numpy())
        for m in net
        if isinstance(m, nn.Linear)
    ]
    act = _NUMPY[activation]

    def forward(x: NDArray[np.float32]) -> NDArray[np.float32]:
        for weight, bias in layers[:-1]:
            x = act(x @ weight.T + bias)
        weight, bias = layers[-1]
        return np.asarray(x @ weight.T + bias, dtype=np.float32)

    return forward


def parameter_vector(module: nn.Module) -> NDArray[np.float64]:
    """All parameters of ``module`` as one float64 vector (a copy, in ``parameters()`` order)."""
    with torch.no_grad():
        flat = torch.cat([p.detach().reshape(-1) for p in module.parameters()])
    return np.array(flat.to(torch.float64).numpy(), dtype=np.float64)
