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
from acconv.neural.networks import Encoder
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


def return_decomposition_loss(
    g: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, aux_weight: float
) -> torch.Tensor:
    """``mean_b [(g_{T_b-1} - G_b)² + c_aux mean_{t<T_b} (g_t - G_b)²]``, a proper MSE.

    ``g`` and ``mask`` have shape ``(B, T)`` (``mask`` marks real steps), ``returns`` ``(B,)``.
    The error is squared per step before any averaging (RUDDER.md §1.3(a)'s caveat: the tutorial
    squares the batch-mean error instead).
    """
    lengths = mask.sum(dim=1)
    last = g.gather(1, (lengths - 1).clamp(min=0)[:, None])[:, 0]
    main = (last - returns).pow(2)
    squared = (g - returns[:, None]).pow(2) * mask
    aux = squared.sum(dim=1) / lengths.clamp(min=1)
    return (main + aux_weight * aux).mean()


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
        self.return_model: ReturnLSTM | None = None

    def _build(self, dim: int, n_actions: int, generators: Sequence[torch.Generator]) -> None:
        super()._build(dim, n_actions, generators)
        self._n_actions = n_actions
        n_inputs = dim * n_actions if self._pair_inputs else dim + n_actions
        (generator,) = generators  # one seed (learn_seeds refuses more)
        self.return_model = ReturnLSTM(n_inputs, self.n_cells, generator)
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
        """:meth:`PPO.learn_seeds` with whole episodes, for one seed: seeds collect episodes of
        different lengths, which one batched update does not cover yet (see
        docs/performance.md); run seeds one call each."""
        if len(rngs) != 1:
            raise ValueError(
                f"rngs has {len(rngs)} entries, expected 1: the neural RUDDER trains one seed "
                "per call"
            )
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
        # (2) B whole episodes
        episodes, obs = self._episodes(envs, obs, encode, rngs[0])
        B = len(episodes)
        T = max(len(a) for _, a, _, _ in episodes)
        dim = episodes[0][0].shape[1]
        X = np.zeros((B, T, dim), dtype=np.float32)
        A = np.zeros((B, T), dtype=np.int64)
        R = np.zeros((B, T))
        mask = np.zeros((B, T), dtype=bool)
        bootstrap = np.zeros((B, dim), dtype=np.float32)
        truncated = np.zeros(B, dtype=bool)
        for b, (x, a, r, final) in enumerate(episodes):
            X[b, : len(a)], A[b, : len(a)], R[b, : len(a)], mask[b, : len(a)] = x, a, r, True
            if final is not None:
                bootstrap[b], truncated[b] = final, True
        inputs = torch.from_numpy(self._model_inputs(X, A))
        returns = discounted_returns(R, 1.0, mask)[:, 0]  # RUDDER's G: undiscounted
        mask_t, returns_t = torch.from_numpy(mask), torch.from_numpy(returns.astype(np.float32))
        # (3) the return model's steps on the proper MSE (fast, lr a_n)
        model_loss = math.nan
        for _ in range(self.model_epochs):
            loss = return_decomposition_loss(
                self.return_model(inputs), returns_t, mask_t, self.aux_weight
            )
            self._model_opt.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            if self.max_grad_norm is not None:
                nn.utils.clip_grad_norm_(self.return_model.parameters(), self.max_grad_norm)
            self._model_opt.step()
            model_loss = float(loss.detach())
        with torch.no_grad():  # the stacked networks of the one seed: inputs (1, N, dim)
            cells = self.return_model.cells(inputs)
            g = self.return_model.head(cells)[..., 0].double().numpy()
            flat_x = torch.from_numpy(X[mask])
            log_probs = self.actor(flat_x[None])[0].log_softmax(-1)
            values = self.critic(torch.from_numpy(X.reshape(1, B * T, dim)))[0, :, 0]
            values = values.double().numpy().reshape(B, T)
            tail = self.critic(torch.from_numpy(bootstrap)[None])[0, :, 0].double().numpy()
        # (4) redistribution
        redistributed = redistribute_rewards(g, returns, mask, self.residual)
        # (5) advantages and critic targets by coupling
        padded_values = np.concatenate([np.where(mask, values, 0.0), np.zeros((B, 1))], axis=1)
        lengths = mask.sum(axis=1)
        padded_values[np.arange(B), lengths] = np.where(truncated, tail, 0.0)
        lam = self.gae_lambda
        if self.coupling == "replace_reward":
            advantage = gae(redistributed, padded_values, gamma, lam, mask)
            targets = advantage + values
        elif self.coupling == "mix_advantage":
            env_advantage = gae(R, padded_values, gamma, lam, mask)
            trace = gae(redistributed, np.zeros((B, T + 1)), lam, 1.0, mask)  # Σ_k λ^k r̃_{t+1+k}
            advantage = self.mix_coef * env_advantage + (1.0 - self.mix_coef) * trace
            targets = env_advantage + values
        else:
            advantage = redistributed - self._expected_increment(cells, X, mask, log_probs)
            targets = gae(redistributed, padded_values, gamma, lam, mask) + values
        residual = returns - g[np.arange(B), np.maximum(lengths - 1, 0)]
        rollout = Rollout(  # one seed: the leading axis of length 1
            obs=flat_x[None],
            actions=torch.from_numpy(A[mask])[None],
            log_probs_old=log_probs[None],
            advantages=torch.from_numpy(advantage[mask].astype(np.float32))[None],
            targets=torch.from_numpy(targets[mask].astype(np.float32))[None],
            values_old=torch.from_numpy(values[mask].astype(np.float32))[None],
            episode_returns=[returns.tolist()],
            discounted_returns=[discounted_returns(R, gamma, mask)[:, 0].tolist()],
            diagnostics=[
                {
                    "return_model_loss": model_loss,
                    "return_model_residual": float(np.mean(np.abs(residual))),
                }
            ],
        )
        return rollout, obs

    def _expected_increment(
        self,
        cells: torch.Tensor,
        X: NDArray[np.float32],
        mask: NDArray[np.bool_],
        log_probs: torch.Tensor,
    ) -> FloatArray:
        """``Σ_a π_θ(a|s_t) wᵀ Δc_t(a)`` (plus ``b_out`` at ``t = 0``) on every step."""
        assert self.return_model is not None
        B, T, dim = X.shape
        n_actions = self._n_actions
        previous = torch.cat([cells.new_zeros(B, 1, cells.shape[2]), cells[:, :-1]], dim=1)
        every_action = np.broadcast_to(np.arange(n_actions), (B, T, n_actions))
        x = np.broadcast_to(X[:, :, None, :], (B, T, n_actions, dim))
        x_all = torch.from_numpy(self._model_inputs(x, every_action))
        with torch.no_grad():
            delta = self.return_model.increment(x_all, previous[:, :, None, :])
            per_action = (delta @ self.return_model.head.weight[0]).double().numpy()
        pi = np.zeros((B, T, n_actions))
        pi[mask] = log_probs.exp().double().numpy()
        expected = (pi * per_action).sum(axis=2)
        expected[:, 0] += float(self.return_model.head.bias.detach()[0])
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
        self, envs: SeedEnvs, obs: Any, encode: Encoder, rng: np.random.Generator
    ) -> tuple[list[tuple[Any, NDArray[np.int64], FloatArray, Any]], Any]:
        """``B`` whole episodes ``(x, a, r, final)`` of the one seed, ``final`` the encoded last
        observation when a time limit (or ``max_steps``) truncated the episode (else ``None``);
        starts from ``obs``."""
        episodes = []
        for _ in range(self.episodes_per_update):
            xs: list[NDArray[np.float32]] = []
            actions: list[int] = []
            rewards: list[float] = []
            final = None
            done = False
            while not done:
                x = encode(obs)
                a = self._act(x, np.array([rng.random()]))
                step = envs.step(a)
                xs.append(x[0])
                actions.append(int(a[0]))
                rewards.append(float(step.rewards[0]))
                obs, term = step.obs, bool(step.terminated[0])
                done = term or bool(step.truncated[0])
                if not term and (step.truncated[0] or len(actions) == self.max_steps):
                    final = encode(step.final)[0]  # truncated: bootstrap from V
                    done = True
            episodes.append((np.stack(xs), np.asarray(actions), np.asarray(rewards), final))
            if not step.ended[0]:  # cut at max_steps: the environment starts a new episode
                obs = envs.restart(np.ones(1, dtype=bool))
        return episodes, obs
