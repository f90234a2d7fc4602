"""Neural RUDDER: an LSTM return decomposition (fast) feeding the neural PPO actor (slow).

RUDDER.md §1.2-1.6 (Arjona-Medina et al. 2019); THEORY.md §2.1 (C-RUDDER), A12. The return
model is the minimal LSTM of the RUDDER tutorial (RUDDER.md §1.3(a)): the cell input sees the
forward inputs only, the input gate sees the recurrent state only, there is no forget and no
output gate, and the read-out is linear:

    c_t = c_{t-1} + tanh(W x_t + b) ⊙ σ(R c_{t-1} + b_ig),   g_t = wᵀ c_t + b_out,

with ``x_t = (s_t, a_t)`` encoded. So ``g_t - g_{t-1} = wᵀ Δc_t`` is exactly step ``t``'s
contribution to the predicted return.

Pseudocode (the numbered steps are marked in :meth:`RUDDER._experience`; steps 6-7 are
:class:`~acconv.neural.PPO`'s):

    for n = 0, 1, 2, ...
        1. a_n, b_n: the return model's and the value critic's optimisers step with a_n, the
           actor's with b_n
        2. collect B whole episodes with π_θ
        3. return model (fast): ``model_epochs`` optimiser steps on the proper mean squared error
              L(ψ) = mean_b [ (g_{T_b-1} - G_b)² + c_aux mean_{t<T_b} (g_t - G_b)² ]
        4. redistribute: r̃_{t+1} = g_t - g_{t-1} (g_{-1} = 0); the residual G - g_{T-1} is dropped
           ("none"), spread evenly ("uniform") or added to the last step ("terminal")
        5. advantages by coupling:
              replace_reward: Â = GAE_λ(r̃, V_ω), critic targets Â + V_ω (critic learns r̃)
              mix_advantage:  Â = c GAE_λ(r, V_ω) + (1 - c) Σ_k λ^k r̃_{t+1+k} (2018 PPO code)
              immediate_pg:   Â_t = r̃_{t+1} - Σ_a π_θ(a|s_t) wᵀ Δc_t(a)  (Theorem 3: the
                              model's increment for every action at the same prefix)
        6. actor (slow) and value critic (fast): PPO's K epochs on (s_t, a_t, Â_t, targets)

RUDDER's theory is undiscounted (γ = 1) with a finite horizon: the return ``G_b`` is the plain
sum of rewards, whatever ``gamma`` the PPO part uses for GAE.

Many seeds, one computation (:meth:`RUDDER.learn_seeds`, as :meth:`PPO.learn_seeds`): every
seed has its own initialisation (return LSTM, actor, critic), optimiser state, random streams
and environment. Seeds collect the same number ``B`` of episodes but of different lengths, so
step 2 steps all environments together and a seed that has its ``B`` episodes stands still
(its environment neither steps nor draws) until the others have theirs; the episodes are
stacked as ``(K, B, T_max)`` with a step mask, padding after each episode's last step. Steps
3-5 then run on the stack: the return models are one :class:`StackedReturnLSTM` (batched
products over the seeds, as :class:`~acconv.neural.networks.StackedMLP`), whose loss per
seed averages over real steps, and padding follows every real step, so the recurrence never
carries it into a real prediction; the numpy estimators work episode by episode on the
``(K·B, T_max)`` rows. Step 6 gets each seed's ``N_k`` real steps, padded to ``max_k N_k``
(``Rollout.mask``), and the PPO epochs take means over real steps only: seed ``k`` draws its
own permutation of its ``N_k`` steps and takes its own ``ceil(N_k / batch_size)`` minibatch
steps; in the stack's further minibatches it has no step and is not stepped: its gradient
is zero, which leaves plain SGD's parameters exactly as they are, and Adam is
:class:`~acconv.neural.networks.SeedAdam`, whose moments and step counts are per seed, so it
skips the seed there (torch's Adam, one state for the stack, would decay the seed's moments
and move it). Padding rather than a ragged layout because every product is
then one batched call; the cost is the padded steps' arithmetic, which the masks discard.
A single run (:meth:`RUDDER.learn`) is the same code with ``K = 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from acconv._validate import check_choice, check_float, check_int
from acconv.estimators import discounted_returns, gae, redistribute_rewards
from acconv.facts import EpisodeSource
from acconv.mdp import FiniteMDP
from acconv.neural.equilibrium import NetworkEquilibrium
from acconv.neural.networks import Encoder, clip_grad_norms_, stacked_linear
from acconv.neural.ppo import PPO
from acconv.neural.rollouts import NeuralRun, Rollout
from acconv.neural.seed_envs import SeedEnvs

Residual = Literal["none", "uniform", "terminal"]
Coupling = Literal["replace_reward", "mix_advantage", "immediate_pg"]
RESIDUALS: tuple[Residual, ...] = get_args(Residual)
COUPLINGS: tuple[Coupling, ...] = get_args(Coupling)
FloatArray = NDArray[np.float64]


class ReturnLSTM(nn.Module):
    """The minimal return-decomposition LSTM (RUDDER.md §1.3(a)); ``h_t = c_t``."""

    def __init__(self, n_inputs: int, n_cells: int, generator: torch.Generator) -> None:
        super().__init__()
        self.cell_input = nn.Linear(n_inputs, n_cells)  # W, b: forward inputs only
        self.input_gate = nn.Linear(n_cells, n_cells)  # R, b_ig: recurrent inputs only
        self.head = nn.Linear(n_cells, 1)  # w, b_out
        with torch.no_grad():
            for layer in (self.cell_input, self.input_gate, self.head):
                nn.init.xavier_normal_(layer.weight, generator=generator)
                layer.bias.zero_()

    def cells(self, x: torch.Tensor) -> torch.Tensor:
        """``c_t`` for inputs ``x`` of shape ``(B, T, n_inputs)``; shape ``(B, T, n_cells)``."""
        c = x.new_zeros(x.shape[0], self.input_gate.in_features)
        out = []
        for t in range(x.shape[1]):
            c = c + self.increment(x[:, t], c)
            out.append(c)
        return torch.stack(out, dim=1)

    def increment(self, x_t: torch.Tensor, c_prev: torch.Tensor) -> torch.Tensor:
        """``Δc_t = tanh(W x_t + b) ⊙ σ(R c_{t-1} + b_ig)``; broadcasts over leading axes."""
        return torch.tanh(self.cell_input(x_t)) * torch.sigmoid(self.input_gate(c_prev))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The return predictions ``g_t`` of every prefix, shape ``(B, T)``."""
        return self.head(self.cells(x))[..., 0]  # type: ignore[no-any-return]


class StackedReturnLSTM(nn.Module):
    """``K`` :class:`ReturnLSTM` s, one per seed, with their parameters stacked (seed first).

    For inputs ``x`` of shape ``(K, B, T, n_inputs)`` (seed ``k``'s episodes in block ``k``),
    per seed and step, the map of :class:`ReturnLSTM`:

        c_t[k] = c_{t-1}[k] + tanh(W[k] x_t[k] + b[k]) ⊙ σ(R[k] c_{t-1}[k] + b_ig[k]),
        g_t[k] = w[k]ᵀ c_t[k] + b_out[k],

    each linear map one batched product over the seeds (``networks.stacked_linear``, as
    :class:`~acconv.neural.networks.StackedMLP`). Seeds never mix, so the gradient of a sum of
    per-seed losses is, block by block, each seed's own; steps after an episode's end (padding)
    come after every real step, so they change no real prediction.
    """

    def __init__(self, models: Sequence[ReturnLSTM]) -> None:
        super().__init__()
        if not models:
            raise ValueError("models is empty, expected at least one return model")

        def stack(get: Any) -> nn.Parameter:
            return nn.Parameter(torch.stack([get(m).detach() for m in models]))

        self.W = stack(lambda m: m.cell_input.weight)  # (K, cells, inputs)
        self.b = stack(lambda m: m.cell_input.bias[None, :])  # (K, 1, cells)
        self.R = stack(lambda m: m.input_gate.weight)  # (K, cells, cells)
        self.b_ig = stack(lambda m: m.input_gate.bias[None, :])  # (K, 1, cells)
        self.w = stack(lambda m: m.head.weight)  # (K, 1, cells)
        self.b_out = stack(lambda m: m.head.bias[None, :])  # (K, 1, 1)

    @property
    def n_seeds(self) -> int:
        """``K``, the number of stacked models."""
        return int(self.W.shape[0])

    def seed_model(self, k: int) -> ReturnLSTM:
        """Seed ``k``'s model alone, a :class:`ReturnLSTM` holding a copy of its parameters."""
        if not 0 <= k < self.n_seeds:
            raise ValueError(f"k is {k}, expected a seed index in [0, {self.n_seeds - 1}]")
        model = ReturnLSTM(self.W.shape[2], self.W.shape[1], torch.Generator())
        with torch.no_grad():
            model.cell_input.weight.copy_(self.W[k])
            model.cell_input.bias.copy_(self.b[k, 0])
            model.input_gate.weight.copy_(self.R[k])
            model.input_gate.bias.copy_(self.b_ig[k, 0])
            model.head.weight.copy_(self.w[k])
            model.head.bias.copy_(self.b_out[k, 0])
        return model

    def cells(self, x: torch.Tensor) -> torch.Tensor:
        """``c_t`` for inputs ``x`` of shape ``(K, B, T, n_inputs)``; shape ``(K, B, T, cells)``."""
        K, B, T = x.shape[:3]
        drive = torch.tanh(stacked_linear(x, self.W, self.b))  # tanh(W x_t + b): every step at once
        c = x.new_zeros(K, B, self.R.shape[1])
        out = []
        for t in range(T):
            c = c + drive[:, :, t] * torch.sigmoid(stacked_linear(c, self.R, self.b_ig))
            out.append(c)
        return torch.stack(out, dim=2)

    def increment(self, x_t: torch.Tensor, c_prev: torch.Tensor) -> torch.Tensor:
        """``Δc_t = tanh(W x_t + b) ⊙ σ(R c_{t-1} + b_ig)`` per seed (leading axis ``K``; the
        other leading axes broadcast)."""
        return torch.tanh(stacked_linear(x_t, self.W, self.b)) * torch.sigmoid(
            stacked_linear(c_prev, self.R, self.b_ig)
        )

    def head(self, cells: torch.Tensor) -> torch.Tensor:
        """``g_t = wᵀ c_t + b_out`` per seed; the cells' shape without its last axis."""
        return stacked_linear(cells, self.w, self.b_out)[..., 0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The return predictions ``g_t`` of every prefix, shape ``(K, B, T)``."""
        return self.head(self.cells(x))


def return_decomposition_loss(
    g: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, aux_weight: float
) -> torch.Tensor:
    """``mean_b [(g_{T_b-1} - G_b)² + c_aux mean_{t<T_b} (g_t - G_b)²]``, a proper MSE.

    ``g`` and ``mask`` have shape ``(..., B, T)`` (``mask`` marks real steps), ``returns``
    ``(..., B)``; the loss has the leading shape ``(...)`` (one loss per seed for ``(K, B, T)``).
    The error is squared per step before any averaging (RUDDER.md §1.3(a)'s caveat: the tutorial
    squares the batch-mean error instead).
    """
    lengths = mask.sum(dim=-1)
    last = g.gather(-1, (lengths - 1).clamp(min=0)[..., None])[..., 0]
    main = (last - returns).pow(2)
    squared = (g - returns[..., None]).pow(2) * mask
    aux = squared.sum(dim=-1) / lengths.clamp(min=1)
    return (main + aux_weight * aux).mean(dim=-1)


class RUDDER(PPO):
    """Neural RUDDER: the LSTM return model and the value critic fast, the PPO actor slow.

    Args (besides :class:`~acconv.neural.PPO`'s; ``n_steps`` is not used):
        episodes_per_update: ``B`` whole episodes per update.
        n_cells: LSTM cells (16 in the RUDDER tutorial).
        aux_weight: ``c_aux`` of the every-step loss (0.5 in the tutorial).
        model_epochs: optimiser steps of the return model per update.
        residual: ``"none"``, ``"uniform"`` or ``"terminal"`` (RUDDER.md §1.5).
        coupling: ``"replace_reward"``, ``"mix_advantage"`` or ``"immediate_pg"`` (§1.6).
        mix_coef: ``c``, the environment advantage's share in ``mix_advantage`` (0.5).
        max_steps: an episode still running after this many steps is cut there and treated as
            truncated (its last value bootstrapped from the critic), so a task that never
            terminates cannot stall an update.

    Defaults ``residual="none"``, ``coupling="immediate_pg"``: the tabular RUDDER's, for the
    reasons its docstring gives (:class:`acconv.tabular.RUDDER`). (In acconv 0.1.0 the neural
    RUDDER defaulted to ``"uniform"`` and ``"replace_reward"``.)
    """

    name = "neural.RUDDER"
    episodes: EpisodeSource = "environment"
    return_model_kind: Literal["none", "lstm"] = "lstm"

    def __init__(
        self,
        critic_lr: Any = "0.05/(1+n/10)**0.6",
        actor_lr: Any = "0.02/(1+n/10)**0.9",
        episodes_per_update: int = 16,
        n_cells: int = 16,
        aux_weight: float = 0.5,
        model_epochs: int = 8,
        residual: Residual = "none",
        coupling: Coupling = "immediate_pg",
        mix_coef: float = 0.5,
        max_steps: int = 10_000,
        **ppo: Any,
    ) -> None:
        if "n_steps" in ppo:
            raise ValueError(
                f"n_steps is {ppo['n_steps']!r}, expected none: RUDDER collects "
                "episodes_per_update whole episodes"
            )
        ppo.setdefault("gamma", 1.0)
        ppo.setdefault("batch_size", 32)
        ppo.setdefault("n_epochs", 4)
        super().__init__(critic_lr, actor_lr, n_steps=max(2, ppo["batch_size"]), **ppo)
        self.episodes_per_update = check_int(episodes_per_update, "episodes_per_update", 1)
        self.n_cells = check_int(n_cells, "n_cells", 1)
        self.aux_weight = check_float(aux_weight, "aux_weight", 0.0)
        self.model_epochs = check_int(model_epochs, "model_epochs", 1)
        self.residual = check_choice(residual, "residual", RESIDUALS)
        self.coupling = check_choice(coupling, "coupling", COUPLINGS)
        self.mix_coef = check_float(mix_coef, "mix_coef", 0.0, 1.0)
        self.max_steps = check_int(max_steps, "max_steps", 1)
        del self.config["n_steps"]
        self.config.update(
            episodes_per_update=self.episodes_per_update,
            n_cells=self.n_cells,
            aux_weight=self.aux_weight,
            model_epochs=self.model_epochs,
            residual=self.residual,
            coupling=self.coupling,
            mix_coef=self.mix_coef,
            max_steps=self.max_steps,
        )
        self.return_model: StackedReturnLSTM | None = None

    _uneven_seeds = True  # seeds have different numbers of steps (whole episodes)

    def _build(self, dim: int, n_actions: int, generators: Sequence[torch.Generator]) -> None:
        super()._build(dim, n_actions, generators)
        self._n_actions = n_actions
        n_inputs = dim * n_actions if self._pair_inputs else dim + n_actions
        # seed k's return model from its generator, after its actor and critic (as K = 1)
        self.return_model = StackedReturnLSTM(
            [ReturnLSTM(n_inputs, self.n_cells, generator) for generator in generators]
        )
        self._model_opt = self._optimiser(self.return_model.parameters())

    def _set_steps(self, a_n: float, b_n: float) -> None:
        # (1) PPO's critic and actor steps, and the return model's: fast, a_n
        super()._set_steps(a_n, b_n)
        for group in self._model_opt.param_groups:
            group["lr"] = a_n

    def _fast_equilibrium(
        self, mdp: FiniteMDP, time_limit: int | None = None, seed: int = 0
    ) -> NetworkEquilibrium | None:
        # Only mix_advantage trains the critic on the environment's reward (equilibrium V^π);
        # with r̃ the critic's fixed point depends on the return model, which has no exact form.
        if self.coupling != "mix_advantage":
            return None
        return super()._fast_equilibrium(mdp, time_limit, seed)

    def _gradient_steps(self) -> tuple[int, str]:
        """K epochs of minibatches of ``batch_size`` steps over a batch whose length varies
        (counted as two minibatches: more than one step per batch)."""
        text = f"K = {self.n_epochs} epochs × minibatches of {self.batch_size} steps"
        return self.n_epochs * 2, text

    def learn_seeds(
        self, envs: Sequence[Any], n_updates: int, rngs: Sequence[Any], *args: Any, **kwargs: Any
    ) -> list[NeuralRun]:
        """:meth:`PPO.learn_seeds` with whole episodes: ``K`` seeds as one batched computation.

        Every seed collects its own ``B`` episodes (its environment stands still once it has
        them, so its random streams are drawn as in a run alone); the seeds' episodes are
        stacked as ``(K, B, T_max)`` with a step mask, ``T_max`` the longest episode of any
        seed. Padding comes after every real step of an episode, and every loss averages over
        real steps only, so it changes no seed's loss or gradient: the return models (one
        :class:`StackedReturnLSTM`), the redistribution and the advantages are computed for
        all seeds at once, and the PPO epochs run on each seed's ``N_k`` real steps, padded to
        ``max_k N_k`` (``Rollout.mask``). A seed with fewer steps has fewer minibatches and is
        not stepped in the others (plain SGD, or Adam with per-seed state,
        :class:`~acconv.neural.networks.SeedAdam`).
        """
        self._pair_inputs = hasattr(envs[0].observation_space, "n")
        return super().learn_seeds(envs, n_updates, rngs, *args, **kwargs)

    def _experience(
        self,
        envs: SeedEnvs,
        obs: Any,
        encode: Encoder,
        gamma: float,
        rngs: Sequence[np.random.Generator],
    ) -> tuple[Rollout, Any]:
        assert self.actor is not None and self.critic is not None
        assert self.return_model is not None
        # (2) B whole episodes of every seed, stacked (K, B, T) with the real steps in mask
        episodes, obs = self._episodes(envs, obs, encode, rngs)
        K, B = len(episodes), self.episodes_per_update
        T = max(len(a) for seed in episodes for _, a, _, _ in seed)
        dim = episodes[0][0][0].shape[1]
        X = np.zeros((K, B, T, dim), dtype=np.float32)
        A = np.zeros((K, B, T), dtype=np.int64)
        R = np.zeros((K, B, T))
        mask = np.zeros((K, B, T), dtype=bool)
        bootstrap = np.zeros((K, B, dim), dtype=np.float32)
        truncated = np.zeros((K, B), dtype=bool)
        for k, seed in enumerate(episodes):
            for b, (x, a, r, final) in enumerate(seed):
                X[k, b, : len(a)], A[k, b, : len(a)], R[k, b, : len(a)] = x, a, r
                mask[k, b, : len(a)] = True
                if final is not None:
                    bootstrap[k, b], truncated[k, b] = final, True
        inputs = torch.from_numpy(self._model_inputs(X, A))
        # the numpy estimators work episode by episode: rows (K·B, T)
        rows, row_mask = (K * B, T), mask.reshape(K * B, T)
        returns = discounted_returns(R.reshape(rows), 1.0, row_mask)[:, 0]  # RUDDER's G: γ = 1
        mask_t = torch.from_numpy(mask)
        returns_t = torch.from_numpy(returns.astype(np.float32).reshape(K, B))
        # (3) the return model's steps on the proper MSE (fast, lr a_n), every seed its own
        model_loss = np.full(K, math.nan)
        for _ in range(self.model_epochs):
            loss = return_decomposition_loss(
                self.return_model(inputs), returns_t, mask_t, self.aux_weight
            )
            self._model_opt.zero_grad(set_to_none=True)
            loss.sum().backward()  # type: ignore[no-untyped-call]
            if self.max_grad_norm is not None:
                clip_grad_norms_(list(self.return_model.parameters()), self.max_grad_norm)
            self._model_opt.step()
            model_loss = loss.detach().double().numpy()
        with torch.no_grad():
            cells = self.return_model.cells(inputs)
            g = self.return_model.head(cells).double().numpy().reshape(rows)
            flat = torch.from_numpy(X.reshape(K, B * T, dim))
            log_probs = self.actor(flat).log_softmax(-1)  # (K, B·T, actions), padding included
            values = self.critic(flat)[..., 0].double().numpy().reshape(rows)
            tail = self.critic(torch.from_numpy(bootstrap))[..., 0].double().numpy().reshape(-1)
        # (4) redistribution
        R_rows, ends_truncated = R.reshape(rows), truncated.reshape(-1)
        redistributed = redistribute_rewards(g, returns, row_mask, self.residual)
        # (5) advantages and critic targets by coupling
        padded_values = np.concatenate(
            [np.where(row_mask, values, 0.0), np.zeros((K * B, 1))], axis=1
        )
        lengths = row_mask.sum(axis=1)
        padded_values[np.arange(K * B), lengths] = np.where(ends_truncated, tail, 0.0)
        lam = self.gae_lambda
        if self.coupling == "replace_reward":
            advantage = gae(redistributed, padded_values, gamma, lam, row_mask)
            targets = advantage + values
        elif self.coupling == "mix_advantage":
            env_advantage = gae(R_rows, padded_values, gamma, lam, row_mask)
            # Σ_k λ^k r̃_{t+1+k}
            trace = gae(redistributed, np.zeros((K * B, T + 1)), lam, 1.0, row_mask)
            advantage = self.mix_coef * env_advantage + (1.0 - self.mix_coef) * trace
            targets = env_advantage + values
        else:
            pi = log_probs.exp().double().numpy().reshape(K, B, T, -1)
            expected = self._expected_increment(cells, X, mask, pi).reshape(rows)
            advantage = redistributed - expected
            targets = gae(redistributed, padded_values, gamma, lam, row_mask) + values
        residual = np.abs(returns - g[np.arange(K * B), np.maximum(lengths - 1, 0)])
        # the input of PPO's epochs (step 6): seed k's real steps (episode by episode) first,
        # padded to max_k N_k with copies of its first step, which the step mask hides
        counts = mask.reshape(K, B * T).sum(axis=1)
        index = np.zeros((K, int(counts.max())), dtype=np.int64)
        for k in range(K):
            index[k, : counts[k]] = np.flatnonzero(mask[k].reshape(-1))
        steps = torch.from_numpy(index)

        def real(values: Any, dtype: Any = np.float32) -> torch.Tensor:
            """``values`` of shape (K·B, T) or (K, B·T, ...) at seed k's real steps."""
            flat = torch.as_tensor(np.asarray(values, dtype=dtype)).reshape(K, B * T, -1)
            picked = flat.gather(1, steps[..., None].expand(-1, -1, flat.shape[2]))
            return picked if picked.shape[2] > 1 else picked[..., 0]

        plain = discounted_returns(R_rows, gamma, row_mask)[:, 0].reshape(K, B)
        rollout = Rollout(
            obs=real(X),
            actions=real(A, np.int64),
            log_probs_old=real(log_probs.numpy()),
            advantages=real(advantage),
            targets=real(targets),
            values_old=real(values),
            episode_returns=returns.reshape(K, B).tolist(),
            discounted_returns=plain.tolist(),
            diagnostics=[
                {
                    "return_model_loss": float(model_loss[k]),
                    "return_model_residual": float(residual.reshape(K, B)[k].mean()),
                }
                for k in range(K)
            ],
            mask=torch.arange(index.shape[1])[None, :] < torch.from_numpy(counts)[:, None],
        )
        return rollout, obs

    def _expected_increment(
        self,
        cells: torch.Tensor,
        X: NDArray[np.float32],
        mask: NDArray[np.bool_],
        pi: FloatArray,
    ) -> FloatArray:
        """``Σ_a π_θ(a|s_t) wᵀ Δc_t(a)`` (plus ``b_out`` at ``t = 0``) on every real step, 0 on
        padding; ``cells`` ``(K, B, T, cells)``, ``X`` ``(K, B, T, dim)``, ``mask`` ``(K, B, T)``,
        ``pi`` the policy table ``(K, B, T, actions)``."""
        assert self.return_model is not None
        K, B, T, dim = X.shape
        n_actions = self._n_actions
        previous = torch.cat([cells.new_zeros(K, B, 1, cells.shape[3]), cells[:, :, :-1]], dim=2)
        every_action = np.broadcast_to(np.arange(n_actions), (K, B, T, n_actions))
        x = np.broadcast_to(X[..., None, :], (K, B, T, n_actions, dim))
        x_all = torch.from_numpy(self._model_inputs(x, every_action))
        with torch.no_grad():
            delta = self.return_model.increment(x_all, previous[..., None, :])
            w: torch.Tensor = self.return_model.w.detach()  # (K, 1, cells)
            per_action = (delta * w[:, None, None]).sum(-1).double().numpy()
            b_out: torch.Tensor = self.return_model.b_out.detach()
        expected = (pi * per_action).sum(axis=3)
        expected[:, :, 0] += b_out.double().numpy().reshape(K, 1)
        return np.where(mask, expected, 0.0)

    def _model_inputs(self, X: NDArray[np.float32], A: NDArray[np.int64]) -> NDArray[np.float32]:
        """``x_t`` of the return model for observations ``X[..., dim]`` and actions ``A[...]``.

        Discrete observations give the one-hot of the pair ``(s_t, a_t)`` (the tabular model's
        features: a pair's effect on the return needs no interaction to be learned); vector
        observations are concatenated with the one-hot action.
        """
        eye = np.eye(self._n_actions, dtype=np.float32)
        if self._pair_inputs:
            return (X[..., :, None] * eye[A][..., None, :]).reshape(*A.shape, -1)
        return np.concatenate([X, eye[A]], axis=-1)

    def _episodes(
        self,
        envs: SeedEnvs,
        obs: Any,
        encode: Encoder,
        rngs: Sequence[np.random.Generator],
    ) -> tuple[list[list[tuple[Any, NDArray[np.int64], FloatArray, Any]]], Any]:
        """``B`` whole episodes ``(x, a, r, final)`` of every seed, ``final`` the encoded last
        observation when a time limit (or ``max_steps``) truncated the episode (else ``None``);
        starts from ``obs``. All seeds step together; a seed that has its ``B`` episodes stands
        still (no step, no draw) until the others have theirs."""
        K, B = len(rngs), self.episodes_per_update
        xs: list[NDArray[np.float32]] = []  # step j of every seed: x (K, dim), a (K,), r (K,)
        acts: list[NDArray[np.int64]] = []
        rews: list[FloatArray] = []
        spans: list[list[tuple[int, int, Any]]] = [[] for _ in rngs]  # (start, end, final)
        start = np.zeros(K, dtype=np.int64)
        active = np.ones(K, dtype=bool)
        while active.any():
            x = encode(obs)
            u = np.array(
                [rng.random() if on else 0.0 for rng, on in zip(rngs, active, strict=True)]
            )
            a = self._act(x, u)
            step = envs.step(a, active)
            xs.append(np.array(x))  # a copy: an environment may reuse its observation array
            acts.append(a)
            rews.append(np.array(step.rewards))
            j = len(xs)
            ended = (step.ended | (j - start == self.max_steps)) & active
            for k in np.flatnonzero(ended):  # truncated (or cut): bootstrap from V(final)
                final = None if step.terminated[k] else encode(step.final[k : k + 1])[0]
                spans[k].append((int(start[k]), j, final))
                start[k] = j
                active[k] = len(spans[k]) < B
            cut = ended & ~step.ended  # cut at max_steps: the environment starts a new episode
            obs = envs.restart(cut) if cut.any() else step.obs
        X, A, R = np.stack(xs), np.stack(acts), np.stack(rews)
        episodes = [
            [(X[s:e, k], A[s:e, k], R[s:e, k], final) for s, e, final in spans[k]] for k in range(K)
        ]
        return episodes, obs
