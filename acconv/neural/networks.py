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
from typing import Any, Literal, get_args

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


class StackedMLP(nn.Module):
    """``K`` MLPs of the same sizes, one per seed, with their parameters stacked.

    Layer ``l`` of seed ``k`` has the weights ``W_l[k]`` (shape ``(K, out, in)``) and the biases
    ``b_l[k]`` (shape ``(K, 1, out)``). For inputs ``x`` of shape ``(K, N, in)`` (row block ``k``
    for seed ``k``) the forward map is, per layer,

        x_{l+1}[k] = σ(x_l[k] W_l[k]ᵀ + b_l[k])   (no σ after the last layer),

    one batched matrix product (``torch.baddbmm``) for all ``K`` seeds. Built from ``K``
    :func:`mlp` s, so each seed keeps its own initialisation. Seeds never mix: seed ``k``'s
    outputs depend on seed ``k``'s parameters only, so the gradient of a sum of per-seed losses
    is, block by block, each seed's own gradient.

    ``tanh`` is numpy's (``np.tanh`` on a view of the tensor, vectorised; within 6e-8 of the
    exact value, as torch's is within 3e-8), differentiated by torch's ``tanh_backward``: torch's
    CPU ``tanh`` kernel was measured 17x slower here (443 µs against 26 µs for 131,072 float32
    values, torch 2.13, numpy 2.4, AMD EPYC), and it is the largest elementwise operation of a
    batched update.
    """

    def __init__(self, nets: Sequence[nn.Sequential], activation: str) -> None:
        super().__init__()
        check_choice(activation, "activation", ACTIVATIONS)
        if not nets:
            raise ValueError("nets is empty, expected at least one network")
        per_seed = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        params: list[nn.Parameter] = []
        for layers in zip(*per_seed, strict=True):
            params.append(nn.Parameter(torch.stack([m.weight.detach() for m in layers])))
            params.append(nn.Parameter(torch.stack([m.bias.detach()[None, :] for m in layers])))
        self.layers = nn.ParameterList(params)  # W_0, b_0, W_1, b_1, ... (nn.Sequential's order)
        self.activation = activation
        self._act = _fast_tanh if activation == "tanh" else _FUNCTIONS[activation]

    @property
    def n_seeds(self) -> int:
        """``K``, the number of stacked networks."""
        return int(self.layers[0].shape[0])

    def seed_network(self, k: int) -> nn.Sequential:
        """Seed ``k``'s network alone, as the :func:`mlp` it was stacked from (a copy of its
        current parameters, torch's own activation; for per-seed analysis such as the critic's
        equilibrium, which differentiates it with ``torch.func``)."""
        if not 0 <= k < self.n_seeds:
            raise ValueError(f"k is {k}, expected a seed index in [0, {self.n_seeds - 1}]")
        params = list(self.layers)
        layers: list[nn.Module] = []
        for index in range(0, len(params), 2):
            weight, bias = params[index].detach()[k], params[index + 1].detach()[k, 0]
            linear = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)
            layers.append(linear)
            if index + 2 < len(params):
                layers.append(_MODULES[self.activation]())
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The ``K`` networks on ``x`` of shape ``(K, N, in)``; shape ``(K, N, out)``."""
        n_layers = len(self.layers) // 2
        for index in range(n_layers):
            weight, bias = self.layers[2 * index], self.layers[2 * index + 1]
            x = stacked_linear(x, weight, bias)
            if index < n_layers - 1:
                x = self._act(x)
        return x

    def numpy_forward(self) -> Forward:
        """The same map in numpy on ``(K, N, in)`` float32 arrays, reading views of the current
        parameters (the optimisers update them in place).

        For acting, one observation per seed per step, where torch's per-call dispatch costs
        more than the arithmetic (measured for K = 32: 38 µs a step in numpy, 87 µs in torch).
        """
        params = list(self.layers)
        layers = [
            (w.detach().numpy().transpose(0, 2, 1), b.detach().numpy())
            for w, b in zip(params[::2], params[1::2], strict=True)
        ]
        act = _NUMPY[self.activation]

        def forward(x: NDArray[np.float32]) -> NDArray[np.float32]:
            for weight_t, bias in layers[:-1]:
                x = act(np.matmul(x, weight_t) + bias)
            weight_t, bias = layers[-1]
            return np.asarray(np.matmul(x, weight_t) + bias, dtype=np.float32)

        return forward


class _StackedLinear(torch.autograd.Function):
    """``y[k] = x[k] W[k]ᵀ + b[k]`` for every seed ``k`` (one ``baddbmm``), with the gradients

        ∂L/∂x[k] = δ[k] W[k],   ∂L/∂W[k] = δ[k]ᵀ x[k],   ∂L/∂b[k] = Σ_rows δ[k]   (δ = ∂L/∂y),

    each one batched product written in its parameter's own layout. Autograd's derivative of
    ``baddbmm(b, x, W.transpose(1, 2))`` forms ``∂L/∂Wᵀ`` and then copies its transpose into
    ``W.grad``; that copy was 13% of a K = 32 update (torch profiler, 2026-12-02). A test holds
    these gradients to autograd's.
    """

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias, x, weight.transpose(1, 2))

    @staticmethod
    def backward(
        ctx: Any, grad: torch.Tensor
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        grad_x = torch.bmm(grad, weight) if needs_x else None
        grad_weight = torch.bmm(grad.transpose(1, 2), x) if needs_weight else None
        grad_bias = grad.sum(1, keepdim=True) if needs_bias else None
        return grad_x, grad_weight, grad_bias


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``x[k] W[k]ᵀ + b[k]`` per seed for ``x`` of shape ``(K, ..., in)``, ``W`` ``(K, out, in)``,
    ``b`` ``(K, 1, out)``: one batched product over the seeds (:class:`_StackedLinear`); shape
    ``(K, ..., out)``."""
    flat = x.reshape(x.shape[0], -1, x.shape[-1])
    y: torch.Tensor = _StackedLinear.apply(flat, weight, bias)  # type: ignore[no-untyped-call]
    return y.reshape(*x.shape[:-1], -1)


class _Tanh(torch.autograd.Function):
    """``y = tanh x`` (numpy's), ``dy/dx = 1 - y²`` (torch's ``tanh_backward``)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        y = torch.from_numpy(np.tanh(x.detach().numpy()))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(grad, y)  # type: ignore[no-any-return]


def _fast_tanh(x: torch.Tensor) -> torch.Tensor:
    """``tanh x`` by numpy (see :class:`StackedMLP` for why not ``torch.tanh``)."""
    return _Tanh.apply(x)  # type: ignore[no-any-return, no-untyped-call]


_FUNCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "softplus": nn.functional.softplus,
    "silu": nn.functional.silu,
    "gelu": nn.functional.gelu,
    "elu": nn.functional.elu,
    "relu": nn.functional.relu,
}


def stacked_mlp(
    sizes: Sequence[int],
    activation: str,
    out_gain: float,
    generators: Sequence[torch.Generator],
) -> StackedMLP:
    """One :func:`mlp` per generator (seed ``k``'s initialisation from ``generators[k]``),
    stacked."""
    return StackedMLP([mlp(sizes, activation, out_gain, g) for g in generators], activation)


def clip_grad_norms_(parameters: Sequence[torch.Tensor], max_norm: float) -> torch.Tensor:
    """Clip each seed's gradient to the norm ``max_norm``; returns the norms before clipping.

    The parameters are stacked with the seed first (dimension 0). Seed ``k``'s gradient ``g_k``
    (all of its parameters together) becomes ``g_k · min(1, max_norm / (‖g_k‖ + 1e-6))``:
    ``torch.nn.utils.clip_grad_norm_``'s rule applied to every seed alone, never to the stack.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    # ‖g_k‖ = ‖(‖g_k^(1)‖, ‖g_k^(2)‖, …)‖ over the parameter tensors: no copy of the gradients
    per_tensor = [torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads]
    norms: torch.Tensor = torch.linalg.vector_norm(torch.stack(per_tensor, dim=1), dim=1)
    coef = (max_norm / (norms + 1e-6)).clamp_(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return norms


class SeedAdam(torch.optim.Optimizer):
    """Adam over parameters stacked with the seed first, each seed with its own step count.

    ``step(active)`` steps only the seeds ``k`` with ``active[k]`` (all by default); each such
    seed takes ``torch.optim.Adam``'s step (Kingma & Ba 2015, Algorithm 1, no weight decay) on
    its slice, with its own ``t_k``::

        t_k ← t_k + 1
        m_k ← β₁ m_k + (1 − β₁) g_k,        v_k ← β₂ v_k + (1 − β₂) g_k²
        p_k ← p_k − lr/(1 − β₁^t_k) · m_k / (√v_k / √(1 − β₂^t_k) + ε)

    and the other seeds' parameters, moments and counts stay exactly as they are. With every
    seed active at every step this is ``torch.optim.Adam`` on each seed. The neural RUDDER
    needs it: its seeds have different numbers of real steps, so in some minibatches of the
    stack a seed has none, and torch's Adam (one state for the stack) would still decay its
    moments and move its parameters there, which a run of that seed alone never does.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:  # type: ignore[override]
        """One Adam step of the seeds ``active`` (a boolean tensor of shape ``(K,)``)."""
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros(p.shape[0], dtype=torch.float64)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                on = torch.ones(p.shape[0], dtype=torch.bool) if active is None else active
                shape = (-1, *([1] * (p.dim() - 1)))
                here = on.view(shape)
                t = state["step"].add_(on.to(torch.float64))  # t_k, counted per seed
                m, v, g = state["exp_avg"], state["exp_avg_sq"], p.grad
                m.copy_(torch.where(here, m.lerp(g, 1 - beta1), m))
                v.copy_(torch.where(here, v * beta2 + (1 - beta2) * g * g, v))
                t_k = t.clamp(min=1.0)  # a seed that never stepped is not moved below
                step_size = (group["lr"] / (1 - beta1**t_k)).to(p.dtype).view(shape)
                bias2_sqrt = (1 - beta2**t_k).sqrt().to(p.dtype).view(shape)
                denom = v.sqrt() / bias2_sqrt + group["eps"]
                p.sub_(torch.where(here, step_size * m / denom, torch.zeros_like(p)))


def parameter_vectors(module: nn.Module) -> NDArray[np.float64]:
    """Each seed's parameters of a stacked ``module`` as one float64 row: shape ``(K, P)``."""
    with torch.no_grad():
        flat = torch.cat([p.detach().flatten(1) for p in module.parameters()], dim=1)
    return np.array(flat.to(torch.float64).numpy(), dtype=np.float64)
