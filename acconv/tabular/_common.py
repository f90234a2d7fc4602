"""What the tabular learners share: schedules, state, validation, batch statistics."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from acconv._validate import check_choice
from acconv.exact import value_equilibrium
from acconv.facts import LearnerFacts, MeanField
from acconv.loop import RunsUnderTheLoop
from acconv.mdp import FiniteMDP
from acconv.policies import softmax_policy
from acconv.sampling import EpisodeBatch
from acconv.schedules import Schedule, ScheduleError, as_schedule
from acconv.updates import Mode, Task, UpdateInfo

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class TabularState:
    """``n`` updates done; actor logits ``theta[s, a]``; fast iterate ``omega``.

    ``value`` is a second fast iterate where a learner has one (RUDDER's value critic), and
    ``seed`` derives per-update generators for minibatch shuffling (PPO), so updates stay pure.
    """

    n: int
    theta: FloatArray
    omega: FloatArray
    task: Task
    value: FloatArray | None = None
    seed: int = 0


def _named_schedule(value: Any, name: str) -> Schedule:
    try:
        return as_schedule(value)
    except (ScheduleError, TypeError) as error:
        raise ScheduleError(f"{name}: {error}") from None


class Schedules:
    """The three schedules of a two-timescale learner, evaluated at update ``n``."""

    def __init__(self, critic_lr: Any, actor_lr: Any, beta: Any) -> None:
        self.critic_lr = _named_schedule(critic_lr, "critic_lr")
        self.actor_lr = _named_schedule(actor_lr, "actor_lr")
        self.beta = _named_schedule(beta, "beta")
        if float(self.beta(0)) <= 0.0:
            raise ValueError(f"beta is {beta!r}, expected a positive inverse temperature")

    def at(self, n: int) -> tuple[float, float, float]:
        """``(a_n, b_n, β_n)``."""
        return float(self.critic_lr(n)), float(self.actor_lr(n)), float(self.beta(n))

    def config(self) -> dict[str, str]:
        """The schedule texts, for manifests and events."""
        return {
            "critic_lr": self.critic_lr.text,
            "actor_lr": self.actor_lr.text,
            "beta": self.beta.text,
        }


def initial_state(task: Task, rng: np.random.Generator) -> TabularState:
    """Zero logits (the uniform policy), zero fast iterates, and a seed for inner randomness."""
    return TabularState(
        n=0,
        theta=np.zeros((task.n_states, task.n_actions)),
        omega=np.zeros(task.n_states),
        task=task,
        seed=int(rng.integers(2**63)),
    )


def require_model(task: Task, learner: str) -> Any:
    """The exact model, which expected (mean-field) mode needs."""
    if task.mdp is None:
        raise ValueError(f"{learner} in mode 'expected' needs an exact model (task.mdp)")
    return task.mdp


def state_sums(batch: EpisodeBatch, values: FloatArray, n_states: int) -> FloatArray:
    """``(1/B) Σ_episodes Σ_t values[b, t] 1{s_t = s}`` over the decision steps."""
    s = batch.states[:, :-1][batch.mask]
    return np.bincount(s, weights=values[batch.mask], minlength=n_states) / batch.n_episodes


def pair_sums(batch: EpisodeBatch, values: FloatArray, n_states: int, n_actions: int) -> FloatArray:
    """``(1/B) Σ_episodes Σ_t values[b, t] 1{(s_t, a_t) = (s, a)}`` as an ``(S, A)`` table."""
    s = batch.states[:, :-1][batch.mask]
    a = batch.actions[batch.mask]
    flat = np.bincount(
        s * n_actions + a, weights=values[batch.mask], minlength=n_states * n_actions
    )
    return flat.reshape(n_states, n_actions) / batch.n_episodes


def taken(table: FloatArray, batch: EpisodeBatch) -> FloatArray:
    """``table[s_t, a_t]`` for every step of the batch, ``(B, T)``."""
    return np.asarray(table[batch.states[:, :-1], batch.actions])


def step_discounts(batch: EpisodeBatch, gamma: float) -> FloatArray:
    """``γ^t`` for every step, ``(1, T)``."""
    return np.asarray(gamma ** np.arange(batch.actions.shape[1]))[None, :]


class TabularLearner(RunsUnderTheLoop):
    """The shell the tabular learners share: schedules, mode, initial state, the policy, and the
    facts the checks read (:meth:`facts`)."""

    analytic_parts: ClassVar[str] = ""
    """What the learner's losses are made of, when they are all analytic (for A10)."""

    def __init__(self, critic_lr: Any, actor_lr: Any, beta: Any, mode: Mode) -> None:
        self.schedules = Schedules(critic_lr, actor_lr, beta)
        check_choice(mode, "mode", ("sampled", "expected"))
        self.mode: Mode = mode
        self.config: dict[str, Any] = {**self.schedules.config(), "mode": mode}

    def init(self, task: Task, rng: np.random.Generator) -> TabularState:
        """Uniform policy (zero logits) and a zero fast iterate."""
        if self.mode == "expected":
            require_model(task, type(self).__name__)
        return initial_state(task, rng)

    def policy(self, state: TabularState) -> FloatArray:
        """``π_n = softmax(β_n θ_n)``, the policy that samples update ``n``'s batch."""
        return self.policy_at(state.theta, state.n)

    def policy_at(self, theta: FloatArray, n: int) -> FloatArray:
        """``softmax(β_n θ)``: the policy of logits ``θ`` at update ``n`` (the one formula of
        :meth:`policy` and of the fast equilibrium ``λ(θ)``)."""
        return softmax_policy(theta, float(self.schedules.beta(n)))

    def fast_equilibrium(
        self, mdp: FiniteMDP, theta: FloatArray, n: int
    ) -> tuple[FloatArray, BoolArray]:
        """``λ(θ)``, the fast iterate's equilibrium for the policy ``softmax(β_n θ)``, and the
        mask of entries where it is unique (visited with positive probability).

        The default is a state-value critic: ``λ(θ) = V^π`` on the visited states
        (:func:`acconv.exact.value_equilibrium`; THEORY.md §6.3: MC, TD(0) and TD(λ) tabular
        critics share this fixed point).
        """
        return value_equilibrium(mdp, self.policy_at(theta, n))

    # -- what the learner says about itself (acconv.facts) ---------------------------------

    def facts(self, task: Task) -> LearnerFacts:
        """This learner on ``task``, as data for the checks: its three schedules, a tabular
        softmax policy, its kinks, and — with a model — its exact fast equilibrium λ(θ) and
        mean field (from its expected twin, :meth:`expected_twin`)."""
        mdp = task.mdp
        mean_field, reason = (None, "no exact model (task.mdp is None)")
        fast_equilibrium = None
        if mdp is not None:
            mean_field, reason = self.mean_field(task)
            equilibrium = self.fast_equilibrium

            def fast_equilibrium(theta: FloatArray, n: int) -> tuple[FloatArray, BoolArray]:
                return equilibrium(mdp, theta, n)

        def beta_scaled(factor: float) -> MeanField | None:
            beta = f"{factor:g}*({self.config.get('beta', 1)})"
            field, _ = self.mean_field(task, beta=beta)
            return field

        facts: dict[str, Any] = {
            "name": type(self).__name__,
            "config": self.config,
            "mode": self.mode,
            "critic_lr": self.schedules.critic_lr,
            "actor_lr": self.schedules.actor_lr,
            "beta": self.schedules.beta,
            "policy": "tabular_softmax",
            "kinks": self.kinks(),
            "analytic_parts": self.analytic_parts,
            "mean_field": mean_field,
            "mean_field_reason": reason,
            "beta_scaled_mean_field": beta_scaled if mean_field is not None else None,
            "fast_equilibrium": fast_equilibrium,
            "fast_iterate": "value_table",
            "actor_field": self.actor_field(mdp),
        }
        return LearnerFacts(**{**facts, **self.extra_facts()})

    def kinks(self) -> tuple[str, ...]:
        """Non-smooth pieces of the update, in words (none by default)."""
        return ()

    def actor_field(self, mdp: FiniteMDP | None) -> Literal["policy_gradient", "unknown"]:
        """``"policy_gradient"`` when the slow field F(θ) = h̄(θ, λ(θ)) is a positive multiple
        of ∇J(θ) for every θ on ``mdp`` (THEORY.md §2.2), as this learner's maths shows."""
        return "unknown"

    def extra_facts(self) -> dict[str, Any]:
        """Further :class:`~acconv.facts.LearnerFacts` fields a learner states (PPO's old
        policy, RUDDER's return model...)."""
        return {}

    def expected_twin(self, **overrides: Any) -> tuple[TabularLearner | None, str]:
        """``(twin, "")``: this learner rebuilt with ``mode="expected"``, whose update on a
        state is the exact mean field of the sampled update; or ``(None, reason)``.
        ``overrides`` replace configuration entries (e.g. ``beta``).

        Only acconv's own tabular classes have a known twin: a subclass that changes
        ``update`` (``docs/journeys/change_an_algorithm.py``) is not certified by its
        parent's mean field.
        """
        cls = type(self)
        if not cls.__module__.startswith("acconv.tabular."):
            return None, f"no exact mean field is known for learner {cls.__name__!r}"
        parameters = inspect.signature(cls.__init__).parameters
        settings = {**self.config, **overrides}
        kwargs = {k: v for k, v in settings.items() if k in parameters and k != "mode"}
        try:
            return cls(**kwargs, mode="expected"), ""
        except (ValueError, TypeError, ScheduleError) as error:
            return None, f"{cls.__name__} has no expected mode for this configuration ({error})"

    def mean_field(self, task: Task, **overrides: Any) -> tuple[MeanField | None, str]:
        """``((θ, ω, n, value) -> (ḡ, h̄), "")``: the twin's ``(Δω/a(n), Δθ/b(n))`` at update
        ``n``, or ``(None, reason)``.

        For one-step learners (ActorCritic, RUDDER) these are the exact mean directions; for
        PPO with K epochs they are the directions of the deterministic K·M-step composite map
        on the population surrogate (THEORY.md A11 mode (ii)), which depend on the step sizes.
        """
        twin, reason = self.expected_twin(**overrides)
        if twin is None:
            return None, reason

        def mean_field(
            theta: FloatArray, omega: FloatArray, n: int, value: FloatArray | None = None
        ) -> tuple[FloatArray, FloatArray]:
            state = TabularState(n=n, theta=theta, omega=omega, task=task, value=value)
            _, info = twin.update(state, None)
            critic = (info.omega - omega) / info.a_n if info.a_n else np.full(omega.shape, np.nan)
            actor = (info.theta - theta) / info.b_n if info.b_n else np.full(theta.shape, np.nan)
            return np.asarray(critic, dtype=np.float64), np.asarray(actor, dtype=np.float64)

        return mean_field, ""

    def update(
        self, state: TabularState, batch: EpisodeBatch | None
    ) -> tuple[TabularState, UpdateInfo]:
        """One two-timescale step (each learner defines it)."""
        raise NotImplementedError


def finish_update(
    state: TabularState,
    batch: EpisodeBatch | None,
    *,
    theta: FloatArray,
    omega: FloatArray,
    steps: tuple[float, float, float],
    losses: tuple[float, float],
    directions: tuple[FloatArray, FloatArray],
    mean_return: float,
    diagnostics: dict[str, float] | None = None,
    value: FloatArray | None = None,
) -> tuple[TabularState, UpdateInfo]:
    """The next state and the :class:`UpdateInfo` of update ``state.n``.

    ``steps`` is ``(a_n, b_n, β_n)``, ``losses`` ``(critic, actor)`` and ``directions`` the fast
    and slow update directions (``Δω / a_n``, ``Δθ / b_n``).
    """
    a_n, b_n, beta_n = steps
    new_state = TabularState(
        n=state.n + 1, theta=theta, omega=omega, task=state.task, value=value, seed=state.seed
    )
    info = UpdateInfo(
        n=state.n,
        a_n=a_n,
        b_n=b_n,
        beta_n=beta_n,
        theta=theta,
        omega=omega,
        critic_loss=losses[0],
        actor_loss=losses[1],
        critic_grad_norm=float(np.linalg.norm(directions[0])),
        actor_grad_norm=float(np.linalg.norm(directions[1])),
        n_episodes=0 if batch is None else batch.n_episodes,
        n_steps=0 if batch is None else batch.n_steps,
        mean_return=mean_return,
        diagnostics=diagnostics or {},
        extra_params={} if value is None else {"value": value},
    )
    return new_state, info


def policy_gradient_loss(actor_table: FloatArray, pi: FloatArray) -> float:
    """``-Σ_{s,a} C[s, a] log π(a|s)``, the loss whose gradient is the policy-gradient step."""
    return -float(np.sum(actor_table * np.log(np.maximum(pi, 1e-300))))
