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
    repeat:  on_rollout_start              update n-1 is complete: emit UpdateEvent(n-1)
             on_step  (per env step)       returns False once ``until`` asked to stop
             on_rollout_end                π_n (the policy that sampled batch n), batch returns
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

PPO diagnostics (from SB3's logger, after each ``train()``) become three verdicts
(:meth:`ConvergenceCallback.diagnostic_verdicts`); each key is listed in ``docs/metrics.md``.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

import numpy as np
from numpy.typing import NDArray

try:
    import torch
    from gymnasium import spaces
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule
except ImportError as _error:  # pragma: no cover - exercised without the extra only
    raise ImportError(
        "acconv.adapters.sb3 needs the 'neural' extra (torch and stable-baselines3): "
        f"pip install -c constraints.txt 'acconv[neural]' ({_error})"
    ) from None

from acconv._validate import check_float, check_int
from acconv.estimators import discounted_returns
from acconv.instrument.events import EndEvent, Observer, StartEvent, UpdateEvent
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.instrument.recorder import Recorder
from acconv.loop import _fast_equilibrium
from acconv.mdp import FiniteMDP
from acconv.schedules import Schedule, ScheduleError
from acconv.tabular.actor_critic import ActorCritic
from acconv.theory_checks.diagnostics import ppo_diagnostic_verdicts, series_of
from acconv.theory_checks.step_sizes import StepSizeReport, check_step_sizes
from acconv.theory_checks.verdicts import METHOD_SYMBOLIC, Status, Verdict, combine_statuses
from acconv.updates import Task, UpdateInfo

__all__ = [
    "DIAGNOSTIC_KEYS",
    "ConvergenceCallback",
    "SB3LearningRate",
    "SB3Run",
    "SB3StepSizes",
    "policy_tables",
    "run_sb3",
    "sb3_step_sizes",
    "translate_learning_rate",
]

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

METHOD_SAMPLED: Final = "sampled on the run's horizon"
METHOD_CONFIGURATION: Final = "configuration"
_BORKAR_KB: Final = ("Borkar 1997", "Karmakar & Bhatnagar 2018")
_ONE_OPTIMISER: Final = (
    "SB3 trains actor and critic with one optimiser (policy.optimizer) and one learning rate, "
    "so the critic's a(n) and the actor's b(n) are the same schedule"
)
_ALGORITHMS: Final = {"PPO": PPO, "A2C": A2C}


# ---------------------------------------------------------------------------------------------
# 1. Step sizes: SB3's lr_schedule as a schedule in the update index n
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SB3LearningRate:
    """SB3's learning rate as used on a run, translated to the update index n.

    ``kind``: ``"constant"`` (``ConstantSchedule``), ``"linear"`` (``LinearSchedule``) — both
    map to an expression ``schedule`` in n — or ``"callable"`` (any other function of
    ``progress_remaining``: no expression, only the values SB3 evaluates on this run).
    ``sampled[n]`` is ``lr(p_n)`` computed by SB3's own schedule object for n = 0..N-1.
    """

    kind: Literal["constant", "linear", "callable"]
    schedule: Schedule | None
    sampled: FloatArray
    description: str


def _unwrap(lr_schedule: Any) -> Any:
    inner = lr_schedule
    while isinstance(inner, FloatSchedule):
        inner = inner.value_schedule
    return inner


def _number(x: float) -> str:
    return repr(float(x))


def translate_learning_rate(
    lr_schedule: Callable[[float], float],
    *,
    steps_per_update: int,
    total_timesteps: int,
    start_timesteps: int = 0,
) -> SB3LearningRate:
    """SB3's ``lr_schedule(progress_remaining)`` as a schedule a(n) in the update index n.

    SB3 sets the learning rate of update n (0-based) to ``lr(p_n)`` with
    ``p_n = 1 - (t_0 + (n + 1)·steps_per_update)/T`` (``_update_current_progress_remaining``
    runs after rollout n, before ``train()``), T = ``total_timesteps`` (SB3's adjusted total,
    ``model._total_timesteps``), t_0 = ``start_timesteps``. Then

    * ``ConstantSchedule(c)``: a(n) = c for all n;
    * ``LinearSchedule(s, e, f)``: a(n) = s + u_n (e - s)/f with u_n = 1 - p_n while u_n ≤ f,
      and e afterwards (SB3's own rule, which also extends the schedule past the run), i.e.
      ``max(e, ·)`` for e < s and ``min(e, ·)`` for e > s;
    * anything else: no expression (``kind="callable"``).

    An expression is kept only if it reproduces SB3's values on the run (relative error
    ≤ 1e-9); otherwise the schedule is reported as a callable.
    """
    N = check_int(steps_per_update, "steps_per_update", 1)
    T = check_int(total_timesteps, "total_timesteps", 1)
    t0 = check_int(start_timesteps, "start_timesteps", 0)
    if not callable(lr_schedule):
        raise ValueError(f"lr_schedule is {lr_schedule!r}, expected a callable of progress")
    n_updates = max(1, math.ceil((T - t0) / N))
    n = np.arange(n_updates, dtype=np.int64)
    progress = 1.0 - (t0 + (n + 1) * N) / T
    sampled = np.array([float(lr_schedule(float(p))) for p in progress], dtype=np.float64)
    inner = _unwrap(lr_schedule)
    text: str | None = None
    kind: Literal["constant", "linear", "callable"] = "callable"
    description = (
        f"{inner!r} is a Python callable of progress_remaining; SB3 evaluates it at "
        f"p_n = 1 - ({t0} + (n+1)·{N})/{T} on the {n_updates} updates of the run only"
    )
    if isinstance(inner, ConstantSchedule):
        kind, text = "constant", _number(inner.val)
        description = f"ConstantSchedule: a(n) = b(n) = {text} for every n"
    elif isinstance(inner, LinearSchedule) and float(inner.end_fraction) > 0:
        s, e, f = (float(inner.start), float(inner.end), float(inner.end_fraction))
        u = f"({t0} + (n+1)*{N})/{T}"
        linear = f"{_number(s)} + {u}*({_number(e)} - {_number(s)})/{_number(f)}"
        kind = "linear"
        if e < s:
            text = f"max({_number(e)}, {linear})"
        elif e > s:
            text = f"min({_number(e)}, {linear})"
        else:
            kind, text = "constant", _number(s)
        description = (
            f"{inner!r}: a(n) = b(n) = {text}; past the end fraction SB3's LinearSchedule "
            f"returns end = {e!r}, which is how the schedule continues as n → ∞"
        )
    schedule: Schedule | None = None
    if text is not None:
        try:
            schedule = Schedule.parse(text)
        except ScheduleError as error:
            description += f" (no expression: {error})"
            kind = "callable"
        else:
            values = schedule(n)
            scale = np.maximum(np.abs(sampled), np.finfo(np.float64).tiny)
            if not np.all(np.abs(values - sampled) <= 1e-9 * scale):
                worst = int(np.argmax(np.abs(values - sampled) / scale))
                description = (
                    f"{inner!r}: the expression {text} does not reproduce SB3's value at n = "
                    f"{worst} ({values[worst]!r} vs {sampled[worst]!r}); treated as a callable"
                )
                kind, schedule = "callable", None
    sampled.setflags(write=False)
    return SB3LearningRate(kind, schedule, sampled, description)


@dataclass(frozen=True)
class SB3StepSizes:
    """S1–S7 for an SB3 run (critic a(n) = actor b(n) = SB3's lr), plus the optimiser verdict.

    ``conditions`` are :class:`Verdict` s with ids S1–S7; ``two_timescale`` combines S1–S5
    (``violated`` for every SB3 run: S4). ``report`` is the library's
    :class:`~acconv.theory_checks.step_sizes.StepSizeReport` of the expression (None for a
    callable schedule). ``a2`` summarises S1–S5 as the ``A2`` verdict of
    :mod:`acconv.theory_checks.assumptions`.
    """

    learning_rate: SB3LearningRate
    conditions: tuple[Verdict, ...]
    two_timescale: Status
    optimizer: Verdict
    report: StepSizeReport | None = None
    a2: Verdict = field(init=False)

    def __post_init__(self) -> None:
        failing = [v for v in self.conditions[:5] if v.status != "holds"]
        detail = "; ".join(f"{v.id} {v.status}: {v.detail}" for v in failing) or "S1–S5 hold"
        methods = {v.method for v in self.conditions[:5]}
        evidence = {}
        if len(self.learning_rate.sampled):
            evidence = {
                "lr_first": float(self.learning_rate.sampled[0]),
                "lr_last": float(self.learning_rate.sampled[-1]),
            }
        a2 = Verdict(
            "A2",
            "step-size conditions S1–S5 (SB3 learning rate, one optimiser)",
            self.two_timescale,
            " + ".join(sorted(methods)),
            detail,
            evidence,
            _BORKAR_KB,
        )
        object.__setattr__(self, "a2", a2)

    @property
    def critic(self) -> Schedule | None:
        """a(n) as an expression (None for a callable schedule): SB3's lr."""
        return self.learning_rate.schedule

    @property
    def actor(self) -> Schedule | None:
        """b(n) as an expression: the same schedule as :attr:`critic` (one optimiser)."""
        return self.learning_rate.schedule

    def __getitem__(self, condition_id: str) -> Verdict:
        for verdict in self.conditions:
            if verdict.id == condition_id:
                return verdict
        raise KeyError(f"no condition {condition_id!r}; expected one of S1..S7")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        schedule = self.learning_rate.schedule
        return {
            "kind": self.learning_rate.kind,
            "schedule": schedule.text if schedule is not None else None,
            "description": self.learning_rate.description,
            "conditions": [v.to_dict() for v in self.conditions],
            "two_timescale": self.two_timescale,
            "optimizer": self.optimizer.to_dict(),
        }


def _optimizer_verdict(optimizer: Any) -> Verdict:
    name = type(optimizer).__name__
    groups = getattr(optimizer, "param_groups", [{}])
    plain = isinstance(optimizer, torch.optim.SGD) and all(
        not g.get("momentum", 0) and not g.get("weight_decay", 0) and not g.get("nesterov")
        for g in groups
    )
    title = "plain SGD steps θ ← θ - a(n)·g (the recursion the theorems study)"
    if plain:
        return Verdict(
            "optimizer", title, "holds", METHOD_CONFIGURATION, f"{name} without momentum", {}
        )
    how = {
        "Adam": "Adam's step is lr·m̂/(√v̂ + ε) per coordinate",
        "RMSprop": "RMSprop's step is lr·g/(√v + ε) per coordinate",
    }.get(name, f"{name}'s step is not lr·gradient")
    detail = (
        f"{how}, a data-dependent step size (momentum and weight decay also change the "
        "recursion): outside the verified hypotheses; S1–S7 speak about the nominal lr only"
    )
    return Verdict("optimizer", title, "undecided", METHOD_CONFIGURATION, detail, {}, _BORKAR_KB)


def _shared_s4(original: Verdict | None) -> Verdict:
    detail = (
        f"{_ONE_OPTIMISER}: b(n)/a(n) = 1 wherever a(n) > 0, so it does not tend to 0 — no "
        "timescale separation (the critic is not faster than the actor)"
    )
    if original is not None and original.status != "violated":
        detail += f"; the ratio of the expressions alone: {original.detail}"
    name = original.name if original is not None else "b(n)/a(n) → 0"
    theorems = original.theorems if original is not None else _BORKAR_KB
    return Verdict("S4", name, "violated", METHOD_SYMBOLIC, detail, {"ratio": 1.0}, theorems)


def _expression_conditions(
    rate: SB3LearningRate, sympy_timeout: float | None
) -> tuple[list[Verdict], StepSizeReport]:
    assert rate.schedule is not None
    report = check_step_sizes(rate.schedule, rate.schedule, sympy_timeout=sympy_timeout)
    verdicts = []
    for v in report.conditions:
        if v.id == "S4":
            verdicts.append(_shared_s4(v))
            continue
        detail = v.detail
        if v.id == "S3" and v.status == "violated" and rate.kind == "constant":
            detail = (
                f"SB3's constant learning rate {rate.schedule.text} violates S3: Σ a(n)² = ∞, "
                "the noise does not average out (only convergence to a neighbourhood can be "
                f"expected); {detail}"
            )
        verdicts.append(Verdict(v.id, v.name, v.status, v.method, detail, v.evidence, v.theorems))
    return verdicts, report


def _callable_conditions(rate: SB3LearningRate) -> list[Verdict]:
    s = rate.sampled
    evidence = {"lr_first": float(s[0]), "lr_last": float(s[-1]), "lr_min": float(s.min())}
    why = (
        f"{rate.description} (sampled a(0) = {s[0]:.3g}, a({len(s) - 1}) = {s[-1]:.3g}); an "
        "asymptotic condition cannot be decided from finitely many values (give SB3 a float "
        "or a LinearSchedule for a symbolic verdict)"
    )
    names = {
        "S1": "Σ a(n) = ∞: the critic's clock runs forever",
        "S2": "Σ b(n) = ∞: the actor's clock runs forever",
        "S3": "Σ a(n)² < ∞ and Σ b(n)² < ∞: the noise averages out",
        "S5": "a(n), b(n) non-increasing for all n ≥ some n0",
    }
    verdicts = [
        Verdict(cid, names[cid], "undecided", METHOD_SAMPLED, why, evidence, _BORKAR_KB)
        for cid in ("S1", "S2", "S3")
    ]
    verdicts.append(_shared_s4(None))
    verdicts.append(
        Verdict("S5", names["S5"], "undecided", METHOD_SAMPLED, why, evidence, _BORKAR_KB)
    )
    same = f"{_ONE_OPTIMISER}: b(n)/a(n) = 1 wherever a(n) > 0"
    verdicts.append(
        Verdict(
            "S6",
            "Σ (b(n)/a(n))^d < ∞ for some d > 0",
            "violated",
            METHOD_SYMBOLIC,
            f"{same}, so Σ (b/a)^d = Σ 1 = ∞ for every d > 0 (if a(n) > 0 infinitely often)",
            {"ratio": 1.0},
            ("Konda & Tsitsiklis 2003",),
        )
    )
    verdicts.append(
        Verdict(
            "S7",
            "a ~ a0/n^p_a, b ~ b0/n^p_b, 1/2 < p_a < p_b ≤ 1",
            "violated",
            METHOD_SYMBOLIC,
            f"{same}, so p_a = p_b whatever the form: p_a < p_b is impossible",
            {"ratio": 1.0},
            ("Konda & Tsitsiklis 2004", "Mokkadem & Pelletier 2006"),
        )
    )
    return verdicts


def _step_sizes(rate: SB3LearningRate, optimizer: Any, sympy_timeout: float | None) -> SB3StepSizes:
    report = None
    if rate.schedule is not None:
        conditions, report = _expression_conditions(rate, sympy_timeout)
    else:
        conditions = _callable_conditions(rate)
    two = combine_statuses([v.status for v in conditions[:5]])
    return SB3StepSizes(rate, tuple(conditions), two, _optimizer_verdict(optimizer), report)


def sb3_step_sizes(
    model: OnPolicyAlgorithm,
    total_timesteps: int,
    *,
    start_timesteps: int = 0,
    sympy_timeout: float | None = 10.0,
) -> SB3StepSizes:
    """S1–S7 of ``model``'s learning rate for ``model.learn(total_timesteps)`` (before a run).

    ``total_timesteps`` is SB3's total (``learn``'s argument, plus ``start_timesteps`` when
    ``reset_num_timesteps=False``). A constant or ``LinearSchedule`` learning rate is decided
    symbolically (:func:`~acconv.theory_checks.step_sizes.check_step_sizes` on a(n) = b(n));
    other callables give ``undecided`` for S1–S3 and S5. S4, S6 and S7 are violated for every
    SB3 run: one optimiser, b(n) = a(n).
    """
    if not isinstance(model, OnPolicyAlgorithm):
        raise ValueError(f"model is {type(model).__name__}, expected an SB3 PPO or A2C")
    steps = int(model.n_steps) * int(model.n_envs)
    rate = translate_learning_rate(
        model.lr_schedule,
        steps_per_update=steps,
        total_timesteps=total_timesteps,
        start_timesteps=start_timesteps,
    )
    return _step_sizes(rate, model.policy.optimizer, sympy_timeout)


# ---------------------------------------------------------------------------------------------
# 2. Tables of the policy and value networks
# ---------------------------------------------------------------------------------------------


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
    training = policy.training
    policy.set_training_mode(False)
    try:
        with torch.no_grad():
            logits = policy.get_distribution(obs).distribution.logits.double()
            log_pi = torch.log_softmax(logits, dim=-1)  # renormalised in float64
            values = policy.predict_values(obs)
    finally:
        policy.set_training_mode(training)
    log_pi_table = log_pi.cpu().numpy()
    theta = log_pi_table - log_pi_table.mean(axis=-1, keepdims=True)
    return np.exp(log_pi_table), theta, values.cpu().numpy().astype(np.float64).reshape(-1)


def _batch_returns(rewards: FloatArray, starts: FloatArray, gamma: float) -> tuple[int, float]:
    """(count, mean) of the discounted returns Σ_k γ^k r_{t0+k} of the episodes that start and
    end inside the rollout (per environment column: from a start to the step before the next)."""
    returns = []
    for e in range(rewards.shape[1]):
        begin = np.flatnonzero(starts[:, e] > 0.5)
        for t0, t1 in itertools.pairwise(begin):
            r = rewards[t0:t1, e].astype(np.float64)
            returns.append(float(discounted_returns(r, gamma)[0]))
    if not returns:
        return 0, math.nan
    return len(returns), float(np.mean(returns))


# ---------------------------------------------------------------------------------------------
# 3. The callback
# ---------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """What the callback learned at the end of rollout n, waiting for train() to finish."""

    policy: FloatArray
    env_steps: int
    n_episodes: int
    mean_return: float


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
        kl_target: bound on SB3's ``train/approx_kl`` for the ``ppo/kl`` verdict; default
            ``1.5·model.target_kl`` when set (SB3's early-stopping threshold), else 0.05.
        clip_fraction_max: bound on the late mean of ``train/clip_fraction`` (``ppo/clip``).
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
        elif isinstance(observers, str | bytes) or not isinstance(observers, Sequence):
            raise ValueError(f"observers is {observers!r}, expected a sequence of observers")
        for i, observer in enumerate(observers):
            if not all(callable(getattr(observer, h, None)) for h in _HOOKS):
                raise ValueError(
                    f"observers[{i}] is {observer!r}, expected on_start, on_update and on_end"
                )
        if until is not None and not callable(until):
            raise ValueError(f"until is {until!r}, expected a callable of an UpdateEvent")
        if mdp is not None and not isinstance(mdp, FiniteMDP):
            raise ValueError(f"mdp is {type(mdp).__name__}, expected an acconv FiniteMDP")
        self.observers: tuple[Observer, ...] = tuple(observers)
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
        self.n_updates = 0
        self.stopped_early = False
        self.start_event: StartEvent | None = None
        self.last_event: UpdateEvent | None = None
        self.diagnostics: list[tuple[int, dict[str, float]]] = []
        self._stop = False
        self._pending: _Pending | None = None
        self._observations: Any = None
        self._rate: SB3LearningRate | None = None
        self._step_report: SB3StepSizes | None = None
        self._task: Task | None = None
        self._tables_kind = ""

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
        self._wall_start = time.perf_counter()
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
        self._flush()

    def _on_step(self) -> bool:
        return not self._stop

    def _on_rollout_end(self) -> None:
        if self.start_event is None:
            self._start()
        model = self.algorithm
        buffer = model.rollout_buffer
        count, mean = _batch_returns(buffer.rewards, buffer.episode_starts, model.gamma)
        pi, _, _ = policy_tables(model.policy, self._observations)
        self._pending = _Pending(pi, int(model.num_timesteps) - self._t0, count, mean)

    def _on_training_end(self) -> None:
        self._flush()
        if self.start_event is None:
            return  # no rollout was completed: no update to report
        pi, _, _ = policy_tables(self.model.policy, self._observations)
        env_steps = self.last_event.env_steps if self.last_event is not None else 0
        end = EndEvent(self.n_updates, env_steps, pi, time.perf_counter() - self._wall_start)
        for observer in self.observers:
            observer.on_end(end)

    # -- events --------------------------------------------------------------------------------

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
            equilibrium = _fast_equilibrium(ActorCritic(beta=1.0, tau=0.0), self._task)
        self.start_event = StartEvent(
            f"stable_baselines3.{type(model).__name__}",
            self._task,
            self._planned,
            self._config(reason),
            equilibrium,
        )
        for observer in self.observers:
            observer.on_start(self.start_event)

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
            "learning_rate": repr(_unwrap(model.lr_schedule)),
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
                clip_range=repr(_unwrap(model.clip_range)),
                target_kl=model.target_kl,
            )
        return config

    def _flush(self) -> None:
        """Emit the UpdateEvent of the rollout whose train() just finished."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        model = self.algorithm
        logged = model.logger.name_to_value
        diagnostics = {
            key: float(logged[f"train/{key}"])
            for key in DIAGNOSTIC_KEYS
            if f"train/{key}" in logged
        }
        steps = int(model._n_updates)
        diagnostics["gradient_steps"] = float(steps - self._gradient_steps)
        self._gradient_steps = steps
        lr = float(model.policy.optimizer.param_groups[0]["lr"])  # the step train() used
        _, theta, omega = policy_tables(model.policy, self._observations)
        actor_loss = diagnostics.get("policy_gradient_loss", diagnostics.get("policy_loss"))
        info = UpdateInfo(
            n=self.n_updates,
            a_n=lr,
            b_n=lr,
            beta_n=1.0,
            theta=theta,
            omega=omega,
            critic_loss=diagnostics.get("value_loss", math.nan),
            actor_loss=math.nan if actor_loss is None else actor_loss,
            critic_grad_norm=math.nan,  # SB3 does not log gradient norms
            actor_grad_norm=math.nan,
            n_episodes=pending.n_episodes,
            n_steps=self._steps_per_update,
            mean_return=pending.mean_return,
            diagnostics=diagnostics,
        )
        event = UpdateEvent(info=info, policy=pending.policy, env_steps=pending.env_steps)
        for observer in self.observers:
            observer.on_update(event)
        self.diagnostics.append((info.n, diagnostics))
        self.last_event = event
        self.n_updates += 1
        if self.until is not None and self.until(event):
            self._stop = True
            self.stopped_early = True

    # -- verdicts ------------------------------------------------------------------------------

    def step_size_report(self, sympy_timeout: float | None = 10.0) -> SB3StepSizes:
        """S1–S7 and the optimiser verdict of the learning rate SB3 used on this run."""
        if self._rate is None:
            raise RuntimeError("the callback has not seen a run yet (learn was not called)")
        if self._step_report is None:
            self._step_report = _step_sizes(self._rate, self.model.policy.optimizer, sympy_timeout)
        return self._step_report

    def diagnostic_series(self, key: str) -> tuple[NDArray[np.int64], FloatArray]:
        """``(n, values)`` of one SB3 diagnostic at every update (finite values only)."""
        return series_of(self.diagnostics)(key)

    def diagnostic_verdicts(self) -> list[Verdict]:
        """PPO's KL and clip fraction, and the critic's explained variance, as verdicts
        (:func:`acconv.theory_checks.diagnostics.ppo_diagnostic_verdicts`, from SB3's
        ``train/approx_kl``, ``train/clip_fraction`` and ``train/explained_variance``).

        The KL target is ``kl_target``, else 1.5 × the model's ``target_kl`` (SB3's early
        stopping threshold) when set, else 0.05. A2C logs neither KL nor clip fraction: those
        two are ``not_applicable``.
        """
        target_kl = getattr(self.model, "target_kl", None)
        target = self.kl_target
        if target is None:
            target = 1.5 * float(target_kl) if target_kl else 0.05
        return ppo_diagnostic_verdicts(
            series_of(self.diagnostics),
            kl_target=target,
            clip_fraction_max=self.clip_fraction_max,
            window=self.window,
            source="SB3",
        )

    def verdicts(self, sympy_timeout: float | None = 10.0) -> list[Verdict]:
        """Every verdict of the run: ``A2`` (S1–S5 of SB3's lr, one optimiser), ``optimizer``,
        the three diagnostic verdicts, and — when a TwoTimescaleMonitor observed the run — its
        tracking, A8, A1, A9, A6 and A4 verdicts. Feed them to
        :func:`acconv.testing.assert_assumptions`."""
        report = self.step_size_report(sympy_timeout)
        verdicts = [report.a2, report.optimizer, *self.diagnostic_verdicts()]
        if self.monitor is not None and self.start_event is not None:
            verdicts.extend(self.monitor.verdicts())
        return verdicts


_HOOKS: Final = ("on_start", "on_update", "on_end")


# ---------------------------------------------------------------------------------------------
# 4. One call for the orchestrator
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SB3Run:
    """A finished SB3 run: the model, the callback (events, verdicts) and the wall time."""

    model: Any
    callback: ConvergenceCallback
    wall_seconds: float

    def verdicts(self) -> list[Verdict]:
        """The callback's verdicts (:meth:`ConvergenceCallback.verdicts`)."""
        return self.callback.verdicts()


def run_sb3(
    algorithm: str,
    env: Any,
    total_timesteps: int,
    *,
    seed: int,
    hyperparameters: Mapping[str, Any] | None = None,
    observers: Sequence[Observer] | None = None,
    until: Until | None = None,
    mdp: FiniteMDP | None = None,
    policy: str = "MlpPolicy",
    device: str = "cpu",
) -> SB3Run:
    """Train SB3's ``algorithm`` (``"PPO"`` or ``"A2C"``) on ``env`` under a ConvergenceCallback.

    ``env`` is a Gymnasium environment or an id for ``gymnasium.make`` (acconv's ids are
    registered by ``import acconv``). ``hyperparameters`` go to the algorithm's constructor
    (``learning_rate``, ``n_steps``, ...); ``seed`` seeds SB3 (torch, numpy and the
    environment through SB3's ``set_random_seed``). Torch threads are left as they are: call
    ``torch.set_num_threads(1)`` for small networks.
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm is {algorithm!r}, expected one of {', '.join(_ALGORITHMS)}")
    total = check_int(total_timesteps, "total_timesteps", 1)
    seed = check_int(seed, "seed", 0)
    if isinstance(env, str):
        import gymnasium

        env = gymnasium.make(env)
    callback = ConvergenceCallback(observers, until, mdp=mdp)
    model = _ALGORITHMS[algorithm](
        policy, env, seed=seed, device=device, **dict(hyperparameters or {})
    )
    start = time.perf_counter()
    model.learn(total, callback=callback)
    return SB3Run(model, callback, time.perf_counter() - start)


class SB3Learner:
    """An SB3 algorithm as an acconv learner, so specs can run it beside acconv's own.

    ``learn(env, n_updates, rng, observers)`` trains ``algorithm`` for ``n_updates`` rollouts
    (``n_updates × n_steps`` environment steps, SB3's ``n_steps`` default unless given) under a
    :class:`ConvergenceCallback`, seeded from ``rng``. ``hyperparameters`` are the SB3
    constructor's keyword arguments (``learning_rate``, ``n_steps``, ``gamma``, ...), checked
    against its signature. SB3 has one optimiser, so there is one ``learning_rate`` and no
    pair of schedules: the step-size verdict comes from :meth:`step_size_report` after the run.
    """

    def __init__(self, algorithm: str = "PPO", **hyperparameters: Any) -> None:
        if algorithm not in _ALGORITHMS:
            raise ValueError(
                f"algorithm is {algorithm!r}, expected one of {', '.join(_ALGORITHMS)}"
            )
        import inspect

        signature = inspect.signature(_ALGORITHMS[algorithm]).parameters
        reserved = {"self", "policy", "env", "seed", "device", "_init_setup_model", "verbose"}
        known = sorted(set(signature) - reserved)
        for key in hyperparameters:
            if key not in known:
                raise ValueError(
                    f"{key} is not a hyperparameter of SB3's {algorithm}; expected one of "
                    f"{', '.join(known)}"
                )
        self.algorithm = algorithm
        self.hyperparameters = dict(hyperparameters)
        self.name = f"stable_baselines3.{algorithm}"
        self.config: dict[str, Any] = {"algorithm": algorithm, **self.hyperparameters}
        self.run: SB3Run | None = None

    def learn(
        self,
        env: Any,
        n_updates: int,
        rng: np.random.Generator,
        observers: Sequence[Observer] = (),
        until: Until | None = None,
    ) -> SB3Run:
        """Train for ``n_updates`` rollouts; the SB3 seed is drawn from ``rng``."""
        n_updates = check_int(n_updates, "n_updates", 1)
        default_steps = _inspect_default(_ALGORITHMS[self.algorithm], "n_steps")
        n_steps = int(self.hyperparameters.get("n_steps", default_steps))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small networks: a second thread costs CPU for no speed-up
        try:
            self.run = run_sb3(
                self.algorithm,
                env,
                n_updates * n_steps,
                seed=int(rng.integers(2**31 - 1)),
                hyperparameters=self.hyperparameters,
                observers=list(observers),
                until=until,
            )
        finally:
            torch.set_num_threads(threads)
        return self.run

    def action_probabilities(self, obs: Any) -> FloatArray:
        """``π(·|obs)`` of the trained SB3 policy for one observation."""
        assert self.run is not None, "call learn() first"
        policy = self.run.model.policy
        with torch.no_grad():
            tensor, _ = policy.obs_to_tensor(np.asarray(obs))
            probs = policy.get_distribution(tensor).distribution.probs
        return np.asarray(probs[0].double().numpy())

    def step_size_report(self) -> dict[str, Any]:
        """S1–S7 of the learning rate as SB3 used it (JSON-ready), after :meth:`learn`."""
        assert self.run is not None, "call learn() first"
        return self.run.callback.step_size_report().to_dict()

    def verdicts(self) -> list[Verdict]:
        """``A2`` and ``optimizer`` of SB3's single optimiser and the PPO diagnostic verdicts."""
        assert self.run is not None, "call learn() first"
        callback = self.run.callback
        report = callback.step_size_report()
        return [report.a2, report.optimizer, *callback.diagnostic_verdicts()]


def _inspect_default(cls: type, parameter: str) -> Any:
    """The default value of ``cls.__init__``'s ``parameter``."""
    import inspect

    return inspect.signature(cls).parameters[parameter].default
