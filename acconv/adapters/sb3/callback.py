"""Stable-Baselines3 PPO and A2C runs as acconv runs: a callback that emits acconv's events.

:class:`ConvergenceCallback` is a ``stable_baselines3.common.callbacks.BaseCallback``. It turns
each of SB3's outer iterations (collect a rollout of ``n_steps · n_envs`` transitions, then
``train()``) into one acconv update ``n`` and tells acconv observers (``Recorder``,
``TwoTimescaleMonitor``, ...) what happened, through the same frozen events as
:func:`acconv.loop.train`, so every check works on SB3 runs unchanged (DESIGN.md §3). It reads
public attributes only (``model.policy``, ``model.lr_schedule``, ``model.rollout_buffer``,
``model.logger.name_to_value``, ``model.num_timesteps``, ``model._n_updates``,
``model._total_timesteps``), never the algorithm's ``locals()``.

When SB3 calls the callback (``OnPolicyAlgorithm.learn``)::

    on_training_start                      plan: N = ceil((T - t_0) / (n_steps · n_envs)) updates
    repeat:  on_rollout_start              update n-1 is trained: read its lr and SB3's logged
                                           diagnostics; with a stopping rule ``until``, emit
                                           UpdateEvent(n-1) now
             on_step  (per env step)       returns False once ``until`` asked to stop
             on_rollout_end                emit UpdateEvent(n-1) (SB3 trains again: n-1 was not
                                           the last); π_n (the policy that sampled batch n),
                                           batch returns
             [dump logs] train()           SB3's K epochs of minibatch steps: update n
    on_training_end                        emit the last UpdateEvent and the EndEvent

The two timescales, in acconv's vocabulary: the critic (fast, ω) is the value network, the actor
(slow, θ) the policy network. SB3 trains both with **one** optimiser (``policy.optimizer``)
and one learning rate, so

    a(n) = b(n) = lr(p_n),   p_n = 1 - (t_0 + (n + 1)·n_steps·n_envs) / T,

where ``lr`` is SB3's ``lr_schedule`` (a function of ``progress_remaining`` p), T the total
timesteps of ``learn`` (``model._total_timesteps``) and t_0 the timesteps before it. Hence
b(n)/a(n) = 1 for all n: condition S4 (b/a → 0) is violated — there is no timescale separation
— and SB3's default constant lr also violates S3 (Σ a(n)² = ∞). :func:`sb3_step_sizes` says so
in its verdicts. SB3's default optimiser is Adam, whose per-coordinate step lr·m̂/(√v̂ + ε) is
data-dependent: the S-conditions are then about the nominal lr only, which the ``optimizer``
verdict states.

Tables. The policy is a softmax over the network's logits, π(a|s) = softmax_a(z(s))_a (β = 1),
and the critic is V_ω(s). With a model of the environment (a :class:`~acconv.mdp.FiniteMDP`
passed as ``mdp=``, or ``env.unwrapped.mdp``) and a ``Discrete`` observation space, both networks
are evaluated on every state (SB3 one-hot encodes the state index) to give

    θ[s, a] = log π(a|s) - mean_b log π(b|s)     (centred logits: softmax(θ) = π),
    ω[s]    = V_ω(s),

and the fast equilibrium is the tabular actor-critic's λ(θ) = V^{softmax(θ)} (exact, on the
states visited with positive probability): the monitor's ``track/error`` = ‖ω - λ(θ)‖ is then
Borkar's tracking error computed exactly, as for tabular runs. Without a model the same tables
are built on all states of a ``Discrete`` space, or on a fixed probe set of observations (the
first rollout's, at most ``probe_size``, evenly spaced) for ``Box`` spaces; the task has no
model, so tracking is ``undecided`` and the other checks are estimates on these states.

Which tables an event carries. The UpdateEvent of update n carries ``policy`` = π_n, the policy
that sampled batch n, and ``info.theta``, ``info.omega`` = θ, ω after update n. The networks do
not change between the end of rollout n+1 and SB3's next train(), so one evaluation there gives
θ, ω of event n and π_{n+1} of event n+1: softmax(θ) of event n is the ``policy`` of event n+1.
Evaluating the networks on the table states at every update took a quarter of A2C's training
time with its 5-step rollouts (``docs/performance.md``), so the callback evaluates them only
where they are read:

* at the end of rollout n when some observer reads the tables of update n-1 or n
  (:func:`acconv.events.tables_read_at`: the Recorder's and the monitor's log-spaced grids, 10
  and 40 points per decade by default);
* after the last update (θ, ω of the last event, and the end event's π);
* at the end of every rollout when a stopping rule ``until`` is given (it may read any event)
  or an observer does not say which updates it reads.

Every other event carries the tables of the most recent evaluation (θ, ω and π from an earlier
update); its scalars (step sizes, losses, diagnostics, returns, environment steps) are its own.
An observer thus records, at the updates it reads, exactly what it would record with the tables
evaluated at every update (``tests/test_sb3_adapter.py`` checks it row for row).

When the last update is known. Without ``until``, the event of update n is sent when rollout
n+1 ends (SB3 then trains again: n is not the last) or when training ends (n is the last, and
its θ, ω are evaluated then), not when rollout n+1 starts: another callback can stop SB3 during
rollout n+1 (``StopTrainingOnMaxEpisodes``, an evaluation callback), and only then is n known
to be the last. For that case, at the end of a rollout whose π it did not evaluate, the callback
keeps a copy of the networks' parameters; if n turns out to be the last, it evaluates π_n from
that copy, on a copy of the policy, and the last event carries this exact π_n. SB3's logged
diagnostics of train() are read when the next rollout starts, before any callback can dump
SB3's logger.

The callback sends its events through acconv's one :class:`~acconv.events.Emitter` and publishes
the run's facts (:func:`sb3_facts`) on the start event; every verdict — the learning rate's
S1–S7, the optimiser, PPO's diagnostics (from SB3's logger, after each ``train()``; each key is
listed in ``docs/metrics.md``) — is decided in :mod:`acconv.theory_checks` from those facts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import torch
from gymnasium import spaces
from numpy.typing import NDArray
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

from acconv._validate import check_float, check_int
from acconv.adapters.sb3.facts import sb3_facts
from acconv.adapters.sb3.learning_rate import (
    SB3LearningRate,
    SB3StepSizes,
    translate_learning_rate,
    unwrap_schedule,
)
from acconv.estimators import discounted_returns
from acconv.events import (
    Emitter,
    Observer,
    StartEvent,
    UpdateEvent,
    check_observers,
    tables_read_at,
)
from acconv.exact import value_equilibrium
from acconv.facts import FastEquilibrium, LearnerFacts
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.instrument.recorder import Recorder
from acconv.mdp import FiniteMDP
from acconv.policies import softmax_policy
from acconv.theory_checks import diagnostic_verdicts
from acconv.theory_checks.diagnostics import series_of
from acconv.theory_checks.learner_steps import SharedStepSizes, step_sizes_of
from acconv.theory_checks.verdicts import Verdict
from acconv.updates import Task, UpdateInfo

__all__ = ["DIAGNOSTIC_KEYS", "ConvergenceCallback", "policy_tables", "sb3_facts"]

FloatArray = NDArray[np.float64]
Until = Callable[[UpdateEvent], bool]

DIAGNOSTIC_KEYS: Final = (
    "approx_kl",
    "clip_fraction",
    "clip_range",
    "explained_variance",
    "entropy_loss",
    "value_loss",
    "policy_gradient_loss",
    "policy_loss",
    "loss",
    "learning_rate",
)
"""SB3 logger keys ``train/<key>`` copied into ``UpdateInfo.diagnostics`` (when logged); the
callback adds ``gradient_steps``. The Recorder writes them as ``diag/<key>``."""

_LOGGED: Final = tuple((key, f"train/{key}") for key in DIAGNOSTIC_KEYS)


def policy_tables(policy: Any, observations: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(pi, theta, values)`` of an SB3 ``ActorCriticPolicy`` on a batch of observations.

    ``pi[i, a] = π(a | o_i)`` from ``policy.get_distribution``, ``theta[i, a] = log π(a|o_i) -
    mean_b log π(b|o_i)`` (the centred logits: softmax(theta) = pi) and ``values[i] =
    policy.predict_values(o_i)``. The network computes in float32; its logits are renormalised
    in float64, so rows of ``pi`` sum to 1 to rounding (they match SB3's float32 probabilities
    to ~1e-7). ``observations`` are as SB3's ``obs_to_tensor`` takes them:
    for a ``Discrete`` space an integer array of states (one-hot encoded by SB3). Evaluated in
    eval mode without gradients; the policy's training mode is restored.
    """
    obs, _ = policy.obs_to_tensor(observations)
    training = policy.training  # SB3 is in eval mode during rollouts: then nothing to switch
    if training:
        policy.set_training_mode(False)
    try:
        with torch.no_grad():
            logits = policy.get_distribution(obs).distribution.logits.double()
            log_pi = torch.log_softmax(logits, dim=-1)  # renormalised in float64
            values = policy.predict_values(obs)
    finally:
        if training:
            policy.set_training_mode(True)
    log_pi_table = log_pi.cpu().numpy()
    theta = log_pi_table - log_pi_table.mean(axis=-1, keepdims=True)
    return np.exp(log_pi_table), theta, values.cpu().numpy().astype(np.float64).reshape(-1)


def _batch_returns(rewards: FloatArray, starts: FloatArray, gamma: float) -> tuple[int, float]:
    """(count, mean) of the discounted returns Σ_k γ^k r_{t0+k} of the episodes that start and
    end inside the rollout (per environment column: from a start to the step before the next).

    All of them in one call of :func:`~acconv.estimators.discounted_returns`, one padded row per
    episode (by column, then time) with a mask: the same floating-point operations as one call
    per episode.
    """
    begins = starts > 0.5
    if np.count_nonzero(begins) < 2:  # no episode ends inside (A2C's 5 steps: mostly)
        return 0, math.nan
    column, step = np.nonzero(begins.T)  # the starts, by column and then time
    complete = column[1:] == column[:-1]  # a start with a next start in its column
    if not complete.any():
        return 0, math.nan
    first = step[:-1][complete]
    length = step[1:][complete] - first
    offset = np.arange(int(length.max()))
    inside = offset < length[:, None]
    rows = np.where(inside, first[:, None] + offset, first[:, None])  # padding: any valid row
    episodes = rewards[rows, column[:-1][complete][:, None]]
    returns = discounted_returns(episodes, gamma, inside)[:, 0]
    return len(returns), float(returns.mean())


@dataclass(frozen=True)
class _Tables:
    """One evaluation of the networks on the table states (:func:`policy_tables`)."""

    pi: FloatArray
    theta: FloatArray
    omega: FloatArray


@dataclass
class _Pending:
    """Update n from the end of its rollout until its event is sent."""

    policy: FloatArray  # π_n, the policy that sampled batch n
    env_steps: int
    n_episodes: int
    mean_return: float
    kept: bool  # π_n was not evaluated: the networks of rollout n's end are kept
    trained: tuple[float, dict[str, float]] | None = None  # (lr, diagnostics) of its train()


class ConvergenceCallback(BaseCallback):
    """Emit acconv's events from an SB3 PPO/A2C run (discrete actions) to acconv observers.

    Args:
        observers: acconv observers (``on_start``/``on_update``/``on_end``). Default: a fresh
            :class:`~acconv.instrument.Recorder` and
            :class:`~acconv.instrument.TwoTimescaleMonitor` (``.recorder``, ``.monitor``).
        until: stopping rule asked after every update, ``until(event) -> bool``, as in
            :func:`acconv.loop.train`; when it returns True the next ``_on_step`` returns False
            and SB3 stops (after one more environment step, which SB3 takes before asking).
        mdp: the exact model of the environment (overrides ``env.unwrapped.mdp``); needs a
            ``Discrete`` observation space with ``mdp.n_states`` states.
        probe_size: number of observations of the probe set for non-discrete observations.
        kl_target: bound on the median of SB3's ``train/approx_kl`` (the mean of the last
            epoch's minibatch KLs, :func:`acconv.estimators.last_epoch_mean`; acconv's neural
            PPO logs the same statistic) for the ``ppo/kl`` verdict; default
            ``1.5·model.target_kl`` when set (SB3's early-stopping threshold), else 0.05.
        clip_fraction_max: bound on the late median of ``train/clip_fraction``
            (``ppo/clip_fraction``).
        window: fraction of the updates forming the early and late windows of the verdicts.
    """

    def __init__(
        self,
        observers: Sequence[Observer] | None = None,
        until: Until | None = None,
        *,
        mdp: FiniteMDP | None = None,
        probe_size: int = 256,
        kl_target: float | None = None,
        clip_fraction_max: float = 0.2,
        window: float = 0.25,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if observers is None:
            observers = [Recorder(), TwoTimescaleMonitor()]
        self.observers: tuple[Observer, ...] = check_observers(observers)
        if until is not None and not callable(until):
            raise ValueError(f"until is {until!r}, expected a callable of an UpdateEvent")
        if mdp is not None and not isinstance(mdp, FiniteMDP):
            raise ValueError(f"mdp is {type(mdp).__name__}, expected an acconv FiniteMDP")
        self.until = until
        self.mdp = mdp
        self.probe_size = check_int(probe_size, "probe_size", 1)
        self.kl_target = (
            None
            if kl_target is None
            else check_float(kl_target, "kl_target", 0.0, open_minimum=True)
        )
        self.clip_fraction_max = check_float(clip_fraction_max, "clip_fraction_max", 0.0, 1.0)
        self.window = check_float(window, "window", 0.0, 1.0, open_minimum=True)
        self.recorder = next((o for o in self.observers if isinstance(o, Recorder)), None)
        self.monitor = next((o for o in self.observers if isinstance(o, TwoTimescaleMonitor)), None)
        self._reset()

    def _reset(self) -> None:
        self._emitter = Emitter(self.observers, self.until)
        self.stopped_early = False
        self.facts: LearnerFacts | None = None
        self.diagnostics: list[tuple[int, dict[str, float]]] = []
        self._stop = False
        self._pending: _Pending | None = None
        self._observations: Any = None
        self._rate: SB3LearningRate | None = None
        self._step_report: SB3StepSizes | None = None
        self._task: Task | None = None
        self._tables_kind: str = ""
        self._tables: _Tables | None = None
        self._tables_current = False  # evaluated since train() last changed the networks
        self._read: frozenset[int] | None = None  # updates whose tables are read; None: all
        self._state: tuple[torch.Tensor, ...] = ()  # the policy's parameters and buffers
        self._kept: tuple[torch.Tensor, ...] = ()  # a copy of them at a rollout's end

    @property
    def n_updates(self) -> int:
        """Updates reported so far (without ``until``, update n is reported when rollout n+1
        ends, or when training ends)."""
        return self._emitter.n_updates

    @property
    def start_event(self) -> StartEvent | None:
        """The run's start event (None before the first rollout ends)."""
        return self._emitter.start_event

    @property
    def last_event(self) -> UpdateEvent | None:
        """The last update event sent."""
        return self._emitter.last_event

    @property
    def algorithm(self) -> OnPolicyAlgorithm:
        """The SB3 model, as the on-policy algorithm ``_init_callback`` checked it is."""
        return cast(OnPolicyAlgorithm, self.model)

    # -- SB3 hooks -----------------------------------------------------------------------------

    def _init_callback(self) -> None:
        model = self.algorithm
        if not isinstance(model, OnPolicyAlgorithm):
            raise ValueError(f"model is {type(model).__name__}, expected an SB3 PPO or A2C")
        if not isinstance(model.action_space, spaces.Discrete):
            raise ValueError(
                f"action_space is {model.action_space}, expected Discrete (softmax policies)"
            )
        if not isinstance(model.observation_space, spaces.Discrete | spaces.Box):
            raise ValueError(
                f"observation_space is {model.observation_space}, expected Discrete or Box"
            )

    def _on_training_start(self) -> None:
        self._reset()
        model = self.algorithm
        self._t0 = int(model.num_timesteps)
        self._total = int(model._total_timesteps)
        self._steps_per_update = int(model.n_steps) * int(model.n_envs)
        self._planned = max(1, math.ceil((self._total - self._t0) / self._steps_per_update))
        self._rate = translate_learning_rate(
            model.lr_schedule,
            steps_per_update=self._steps_per_update,
            total_timesteps=self._total,
            start_timesteps=self._t0,
        )
        self._gradient_steps = int(model._n_updates)

    def _on_rollout_start(self) -> None:
        pending = self._pending
        if pending is None or pending.trained is not None:
            return
        self._read_train(pending)
        if self.until is not None:  # the stopping rule decides on this update's event now
            self._emit(fresh=True)

    def _on_step(self) -> bool:
        return not self._stop

    def _on_rollout_end(self) -> None:
        if self.start_event is None:
            self._start()
        n = self.n_updates + (self._pending is not None)  # the update this batch is for
        fresh = self._reads(n - 1) or self._reads(n)
        if self._pending is not None:  # update n - 1 is not the last: SB3 trains n next
            self._emit(fresh)
        tables = self._current_tables(fresh)
        kept = not self._tables_current
        if kept:  # π_n carried: keep the networks in case n turns out to be the last
            with torch.no_grad():
                for saved, tensor in zip(self._kept, self._state, strict=True):
                    saved.copy_(tensor)
        model = self.algorithm
        buffer = model.rollout_buffer
        count, mean = _batch_returns(buffer.rewards, buffer.episode_starts, model.gamma)
        steps = int(model.num_timesteps) - self._t0
        self._pending = _Pending(tables.pi, steps, count, mean, kept)
        self._tables_current = False  # train() changes the networks next

    def _on_training_end(self) -> None:
        pending = self._pending
        if pending is not None:  # the last update: SB3 trains no more
            if pending.kept:  # π_n was carried, and n is the last
                pending.policy = self._policy_at(self._kept)
            self._emit(fresh=True)
        if self.start_event is None:
            return  # no rollout was completed: no update to report
        self._emitter.end(self._current_tables(fresh=True).pi)

    # -- the start event -----------------------------------------------------------------------

    def _start(self) -> None:
        model = self.algorithm
        observation_space = model.observation_space
        n_actions = int(cast(spaces.Discrete, model.action_space).n)
        mdp = self.mdp
        if mdp is None:
            try:  # VecEnv.get_attr looks through the wrappers (Monitor, TimeLimit, ...)
                vec_env = model.get_env()
                assert vec_env is not None
                candidate = vec_env.get_attr("mdp", indices=[0])[0]
            except AttributeError:
                candidate = None
            mdp = candidate if isinstance(candidate, FiniteMDP) else None
        reason = ""
        if isinstance(observation_space, spaces.Discrete):
            n_states = int(observation_space.n)
            self._observations = np.arange(n_states)
            self._tables_kind = "all states"
            if mdp is not None and (mdp.n_states, mdp.n_actions) != (n_states, n_actions):
                if self.mdp is not None:
                    raise ValueError(
                        f"mdp has {mdp.n_states} states and {mdp.n_actions} actions, the "
                        f"environment {n_states} and {n_actions}"
                    )
                mdp, reason = None, "the environment's .mdp does not match its spaces"
        else:
            if self.mdp is not None:
                raise ValueError(
                    f"mdp given but observation_space is {observation_space}, expected Discrete"
                )
            mdp, reason = None, "observations are not the model's Discrete states"
            shape = tuple(observation_space.shape or ())
            flat = np.asarray(model.rollout_buffer.observations).reshape(-1, *shape)
            keep = np.unique(np.linspace(0, len(flat) - 1, min(self.probe_size, len(flat))))
            self._observations = np.array(flat[keep.round().astype(np.int64)])
            n_states = len(self._observations)
            self._tables_kind = f"probe of {n_states} observations from the first rollout"
        gamma = float(model.gamma)
        model_mdp = mdp.with_gamma(gamma) if mdp is not None else None
        self._task = Task(n_states, n_actions, gamma, model_mdp)
        equilibrium = None
        if model_mdp is not None:  # λ(θ) = V^{softmax(θ)} on the visited states, episodic or not
            equilibrium = _value_equilibrium(model_mdp)
        assert self._rate is not None
        self.facts = sb3_facts(model, self._rate, equilibrium, self._config(reason))
        event = self._emitter.start(self.facts, self._task, self._planned)
        if self.until is None:
            self._read = tables_read_at(self._emitter.observers, event)
        self._state = (*model.policy.parameters(), *model.policy.buffers())
        self._kept = tuple(tensor.detach().clone() for tensor in self._state)

    def _config(self, reason: str) -> dict[str, Any]:
        model = self.algorithm
        rate = self._rate
        assert rate is not None
        config: dict[str, Any] = {
            "algorithm": type(model).__name__,
            "mode": "sampled",
            "beta": 1.0,
            "gamma": float(model.gamma),
            "gae_lambda": float(model.gae_lambda),
            "n_steps": int(model.n_steps),
            "n_envs": int(model.n_envs),
            "ent_coef": float(model.ent_coef),
            "vf_coef": float(model.vf_coef),
            "max_grad_norm": float(model.max_grad_norm),
            "optimizer": type(model.policy.optimizer).__name__,
            "learning_rate": repr(unwrap_schedule(model.lr_schedule)),
            "learning_rate_kind": rate.kind,
            "tables": self._tables_kind,
        }
        if rate.schedule is not None:  # callables: no expression (step_size_report() decides)
            config["critic_lr"] = config["actor_lr"] = rate.schedule.text
        if reason:
            config["no_exact_model"] = reason
        if isinstance(model, PPO):
            config.update(
                batch_size=int(model.batch_size),
                n_epochs=int(model.n_epochs),
                clip_range=repr(unwrap_schedule(model.clip_range)),
                target_kl=model.target_kl,
            )
        return config

    # -- tables --------------------------------------------------------------------------------

    def _reads(self, n: int) -> bool:
        """Whether some observer reads the tables of update n (or of any update)."""
        return self._read is None or n in self._read

    def _current_tables(self, fresh: bool) -> _Tables:
        """With ``fresh``, the tables of the networks as they are now (one evaluation, unless
        made since train() last ran); otherwise the last evaluated ones."""
        if self._tables is None or (fresh and not self._tables_current):
            pi, theta, omega = policy_tables(self.algorithm.policy, self._observations)
            self._tables = _Tables(pi, theta, omega)
            self._tables_current = True
        return self._tables

    def _policy_at(self, parameters: tuple[torch.Tensor, ...]) -> FloatArray:
        """π of the networks with the kept ``parameters`` (and buffers), evaluated on a copy of
        the policy: the learner's own networks are not touched."""
        policy = copy.deepcopy(self.algorithm.policy)
        with torch.no_grad():
            state = (*policy.parameters(), *policy.buffers())
            for tensor, kept in zip(state, parameters, strict=True):
                tensor.copy_(kept)
        pi, _, _ = policy_tables(policy, self._observations)
        return pi

    # -- update events -------------------------------------------------------------------------

    def _read_train(self, pending: _Pending) -> None:
        """The learning rate and SB3's logged diagnostics of the train() that just ran."""
        model = self.algorithm
        logged = model.logger.name_to_value
        diagnostics = {key: float(logged[name]) for key, name in _LOGGED if name in logged}
        steps = int(model._n_updates)
        diagnostics["gradient_steps"] = float(steps - self._gradient_steps)
        self._gradient_steps = steps
        lr = float(model.policy.optimizer.param_groups[0]["lr"])  # the step train() used
        pending.trained = (lr, diagnostics)

    def _emit(self, fresh: bool) -> None:
        """Send the UpdateEvent of the pending update, with the tables of the networks now when
        ``fresh``, else the last evaluated ones."""
        pending = self._pending
        assert pending is not None
        self._pending = None
        if pending.trained is None:
            self._read_train(pending)
        assert pending.trained is not None
        lr, diagnostics = pending.trained
        tables = self._current_tables(fresh)
        actor_loss = diagnostics.get("policy_gradient_loss", diagnostics.get("policy_loss"))
        info = UpdateInfo(
            n=self.n_updates,
            a_n=lr,
            b_n=lr,
            beta_n=1.0,
            theta=tables.theta,
            omega=tables.omega,
            critic_loss=diagnostics.get("value_loss", math.nan),
            actor_loss=math.nan if actor_loss is None else actor_loss,
            critic_grad_norm=math.nan,  # SB3 does not log gradient norms
            actor_grad_norm=math.nan,
            n_episodes=pending.n_episodes,
            n_steps=self._steps_per_update,
            mean_return=pending.mean_return,
            diagnostics=diagnostics,
        )
        self.diagnostics.append((info.n, diagnostics))
        if self._emitter.update(info, pending.policy, env_steps=pending.env_steps):
            self._stop = True
            self.stopped_early = True

    # -- verdicts ------------------------------------------------------------------------------

    def step_size_report(self, sympy_timeout: float | None = 10.0) -> SB3StepSizes:
        """S1–S7 and the optimiser verdict of the learning rate SB3 used on this run, decided
        in :mod:`acconv.theory_checks.learner_steps` from the run's facts."""
        if self._rate is None:
            raise RuntimeError("the callback has not seen a run yet (learn was not called)")
        if self._step_report is None:
            facts = self.facts or sb3_facts(self.algorithm, self._rate)
            shared = step_sizes_of(facts, sympy_timeout)
            assert isinstance(shared, SharedStepSizes)
            self._step_report = SB3StepSizes.of(shared, self._rate)
        return self._step_report

    def diagnostic_series(self, key: str) -> tuple[NDArray[np.int64], FloatArray]:
        """``(n, values)`` of one SB3 diagnostic at every update (finite values only)."""
        return series_of(self.diagnostics)(key)

    def diagnostic_verdicts(self) -> list[Verdict]:
        """PPO's KL and clip fraction, and the critic's explained variance, as verdicts
        (:func:`acconv.theory_checks.diagnostic_verdicts`, from SB3's ``train/approx_kl``,
        ``train/clip_fraction`` and ``train/explained_variance``): evidence, each
        ``undecided`` with a lean from a sign test of the median.

        The KL target is ``kl_target``, else 1.5 × the model's ``target_kl`` (SB3's early
        stopping threshold) when set, else 0.05. A2C logs neither KL nor clip fraction: those
        two are ``not_applicable``.
        """
        if self.facts is None:
            return []
        return diagnostic_verdicts(
            self.facts,
            self.diagnostics,
            kl_target=self.kl_target,
            clip_fraction_max=self.clip_fraction_max,
            window=self.window,
        )

    def verdicts(self, sympy_timeout: float | None = 10.0) -> list[Verdict]:
        """Every verdict of the run: ``A2`` (S1–S5 of SB3's lr, one optimiser), ``optimizer``,
        the three diagnostic verdicts, and — when a TwoTimescaleMonitor observed the run — its
        tracking, A8, A1, A9, A6 and A4 verdicts. All are decided in
        :mod:`acconv.theory_checks`; feed them to :func:`acconv.testing.assert_assumptions`."""
        report = self.step_size_report(sympy_timeout)
        verdicts = [report.a2, report.optimizer, *self.diagnostic_verdicts()]
        if self.monitor is not None and self.start_event is not None:
            verdicts.extend(self.monitor.verdicts())
        return verdicts


def _value_equilibrium(mdp: FiniteMDP) -> FastEquilibrium:
    """The critic's λ(θ) = V^{softmax(θ)} on the visited states (:func:`acconv.exact.
    value_equilibrium`, the one definition of "visited")."""

    def equilibrium(theta: FloatArray, n: int) -> tuple[FloatArray, NDArray[np.bool_]]:
        return value_equilibrium(mdp, softmax_policy(theta, 1.0))

    return equilibrium
