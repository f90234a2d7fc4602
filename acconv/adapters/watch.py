"""``acconv.watch``: put any PyTorch actor-critic training loop under the two-timescale checks.

Two added lines, the loop unchanged::

    watch = acconv.watch(optimizer, actor=agent.actor, critic=agent.critic)  # one optimiser
    ...                                                  # rollouts, GAE, optimizer.step(), ...
    watch.save("results/my-ppo")                         # a standard acconv run folder

or ``acconv.watch(actor=actor_optimizer, critic=critic_optimizer)`` for two optimisers. The watch
hooks the optimisers (``register_step_pre_hook`` / ``register_step_post_hook``); it reads the
parameters, their gradients and ``param_groups`` and never writes them, so training is
bit-identical with and without it.

What one update ``n`` is: one step of the critic's optimiser (the fast iterate ω), together with
every step of the actor's optimiser since the previous one (the slow iterate θ). With one shared
optimiser every step is one update of both. For each update the watch records, per role, the
learning rate actually applied (``a_n`` for the critic, ``b_n`` for the actor: the sum of the
actor's rates within the update), the gradient norm before the step and the norm of the step
‖Δω‖, ‖Δθ‖ (diagnostics ``critic_update_norm``, ``actor_update_norm``; the Recorder writes them
as ``diag/…``, see ``docs/metrics.md``).

The learner's facts (:class:`~acconv.facts.LearnerFacts`) say what the watch can know: one or
two optimisers and their kind, the schedules (declared as ``critic_lr=``/``actor_lr=``
expressions, or following from the configuration: a constant learning rate, or a torch LR
scheduler of a known law, ``scheduler=``), the network's activation, and that the loop's losses
and sampling are not visible (so the checks that need them say ``undecided``). Every verdict is
decided in :mod:`acconv.theory_checks` from these facts and the events, as for every other run.

Tables. With ``policy=`` (observations -> action logits) and ``value=`` (observations -> values)
the watch evaluates the networks on every state of the environment's model (``env=`` with
``env.unwrapped.mdp``), or on ``probe=`` observations otherwise; actor and critic given as
modules are used directly on a probe set captured from the actor's first inputs. θ is the
centred log-policy table, ω the value table, and with a model λ(θ) = V^{softmax(θ)} is exact, so
the tracking error ‖V_ω - V^π‖ is exact. The tables, the gradient norms and the step norms are
computed at the updates whose tables the observers read (:func:`acconv.events.tables_read_at`,
the machinery the SB3 callback shares) and after the last one; in between an event carries the
last tables and NaN norms. The event of
update n carries the policy after it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from acconv.events import Emitter, Observer, check_observers, tables_read_at
from acconv.exact import value_equilibrium
from acconv.facts import FastEquilibrium, LearnerFacts
from acconv.instrument.monitor import TwoTimescaleMonitor
from acconv.instrument.recorder import Recorder
from acconv.mdp import FiniteMDP
from acconv.policies import centred, softmax_policy
from acconv.schedules import Schedule, ScheduleError, as_schedule, constant
from acconv.theory_checks import AssumptionReport, assumption_report
from acconv.theory_checks.verdicts import Verdict
from acconv.updates import Task, UpdateInfo, read_only_copy

__all__ = ["Watch", "watch"]

FloatArray = NDArray[np.float64]
_DEFAULT_UPDATES: Final = 10**6
_ACTIVATIONS: Final = {
    nn.Tanh: "tanh",
    nn.ReLU: "relu",
    nn.ELU: "elu",
    nn.Softplus: "softplus",
    nn.SiLU: "silu",
    nn.GELU: "gelu",
}


def watch(
    optimizer: torch.optim.Optimizer | None = None,
    *,
    actor: Any = None,
    critic: Any = None,
    **options: Any,
) -> Watch:
    """Watch a torch actor-critic training loop: see :class:`Watch` for the options."""
    return Watch(optimizer, actor=actor, critic=critic, **options)


class Watch:
    """Hooks on the loop's optimisers that emit acconv's events and publish the loop's facts.

    Args:
        optimizer: one optimiser shared by actor and critic; then ``actor`` and ``critic`` are
            modules or iterables of parameters (parameters in both, a shared torso, are reported
            as shared). Without it, ``actor`` and ``critic`` are the two optimisers.
        critic_lr, actor_lr: the schedules a(n), b(n) as acconv expressions in the update index
            n, when the loop follows a law that acconv cannot read (e.g. annealing by hand).
        scheduler: a torch LR scheduler of the shared optimiser (or ``{"actor": ..., "critic":
            ...}`` for two), translated into an expression when its law is known.
        env: the Gymnasium environment; its ``unwrapped.mdp``, when it has one, gives exact
            tables and λ(θ). ``gamma`` overrides its discount.
        policy, value: functions of a batch of observations (state indices on a model) giving
            action logits and state values; default: the actor and critic modules.
        probe: observations to evaluate the tables on without a model (default: the actor
            module's inputs before the first optimiser step, at most ``probe_size`` rows).
        observers: acconv observers (default: a :class:`~acconv.instrument.Recorder` and a
            :class:`~acconv.instrument.TwoTimescaleMonitor`, as ``.recorder``, ``.monitor``).
        n_updates: the number of updates the loop will make, if known (it sets the observers'
            log-spaced grids; default 10⁶).
        name: the run's name in reports.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer | None = None,
        *,
        actor: Any = None,
        critic: Any = None,
        critic_lr: Schedule | str | float | None = None,
        actor_lr: Schedule | str | float | None = None,
        scheduler: Any = None,
        env: Any = None,
        gamma: float | None = None,
        policy: Callable[[Any], Any] | None = None,
        value: Callable[[Any], Any] | None = None,
        probe: Any = None,
        probe_size: int = 256,
        observers: Sequence[Observer] | None = None,
        n_updates: int | None = None,
        name: str = "watched_loop",
    ) -> None:
        self._optimizers, self._roles = _roles(optimizer, actor, critic)
        self.one_optimizer = optimizer is not None
        self.shared_optimizer = self.one_optimizer and _one_rate(optimizer, self._roles)
        self._declared = {
            "critic": _declared(critic_lr, "critic_lr"),
            "actor": _declared(actor_lr, "actor_lr"),
        }
        self._schedulers = _schedulers(scheduler, self.one_optimizer)
        if observers is None:
            observers = [Recorder(), TwoTimescaleMonitor()]
        self.observers = check_observers(observers)
        self.recorder = next((o for o in self.observers if isinstance(o, Recorder)), None)
        self.monitor = next((o for o in self.observers if isinstance(o, TwoTimescaleMonitor)), None)
        self.name = str(name)
        self.n_updates = (
            _DEFAULT_UPDATES if n_updates is None else _positive(n_updates, "n_updates")
        )
        self._model, self._gamma = _model(env, gamma)
        self._policy_fn, self._value_fn = _table_functions(policy, value, actor, critic)
        self._modules_as_functions = policy is None or value is None
        self._probe = None if probe is None else probe
        self._probe_size = _positive(probe_size, "probe_size")
        self._capture: Any = None
        actor_module = actor if isinstance(actor, nn.Module) and optimizer is not None else None
        if self._model is None and self._probe is None and actor_module is not None:
            self._capture = actor_module.register_forward_pre_hook(self._capture_probe)
        self._activation = _activation(
            actor, critic, *(getattr(fn, "__self__", None) for fn in (policy, value))
        )
        self._emitter = Emitter(self.observers)
        self._started = False
        self._closed = False
        self._pending: dict[str, Any] | None = None
        self._n = 0
        self._tables: tuple[FloatArray, FloatArray] | None = None
        self._policy: FloatArray | None = None
        self._due: set[int] = set()
        self._every = False
        self._lr_record: dict[str, list[float]] = {"critic": [], "actor": []}
        self._scheduler_steps: dict[str, list[int]] = {"critic": [], "actor": []}
        self._facts: LearnerFacts | None = None
        self._handles = []
        for opt in self._optimizers:
            self._handles.append(opt.register_step_pre_hook(self._before_step))
            self._handles.append(opt.register_step_post_hook(self._after_step))
        params = [p for role in ("actor", "critic") for p in self._roles[role]]
        self._params = list({id(p): p for p in params}.values())
        self._group = {
            role: _group_of(self._optimizers, params) for role, params in self._roles.items()
        }
        self._index = {
            role: [i for i, p in enumerate(self._params) if any(p is q for q in self._roles[role])]
            for role in ("actor", "critic")
        }
        self._before: list[torch.Tensor] | None = None

    # -- the hooks -----------------------------------------------------------------------------

    def _capture_probe(self, module: nn.Module, inputs: tuple[Any, ...]) -> None:
        x = inputs[0] if inputs else None
        if not isinstance(x, torch.Tensor) or x.ndim == 0:
            return
        rows = x.detach().reshape(-1, *x.shape[1:]) if x.ndim > 1 else x.detach()[None]
        self._probe = rows if self._probe is None else torch.cat([self._probe, rows])
        if len(self._probe) >= self._probe_size and self._capture is not None:
            self._probe = self._probe[: self._probe_size].clone()
            self._capture.remove()
            self._capture = None

    def _role_of(self, optimizer: torch.optim.Optimizer) -> tuple[str, ...]:
        if self.one_optimizer:
            return ("critic", "actor")
        return ("actor",) if optimizer is self._optimizers[0] else ("critic",)

    def _before_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        roles = self._role_of(optimizer)
        if not self._started:
            self._start()
        if "critic" in roles and self._pending is not None and self._pending["critic_steps"]:
            self._flush()
        pending = self._pending_update()
        # Norms (a clone of the parameters, foreach norms) only for the updates the observers
        # record; the learning rates at every step.
        measure = self._every or self._n in self._due
        for role in roles:
            lr = float(optimizer.param_groups[self._group[role]]["lr"])
            pending[f"{role}_lr"] += lr
            pending[f"{role}_steps"] += 1
            self._lr_record[role].append(lr)
            sched = self._schedulers.get(role)
            self._scheduler_steps[role].append(int(sched.last_epoch) if sched is not None else -1)
        if measure:
            with torch.no_grad():
                for role in roles:
                    grads = [self._params[i].grad for i in self._index[role]]
                    pending[f"{role}_grad_norm"] = _norm([g for g in grads if g is not None])
                self._before = [p.detach().clone() for p in self._params]

    def _after_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        pending = self._pending_update()
        before = self._before
        if before is None:
            return
        with torch.no_grad():
            for role in self._role_of(optimizer):
                idx = self._index[role]
                diffs = [self._params[i].detach() - before[i] for i in idx]
                norm = _norm(diffs)
                previous = pending[f"{role}_update_norm"]
                total = norm if math.isnan(previous) else math.hypot(previous, norm)
                pending[f"{role}_update_norm"] = total
        self._before = None

    # -- the run -------------------------------------------------------------------------------

    def _pending_update(self) -> dict[str, Any]:
        if self._pending is None:
            self._pending = {"critic_lr": 0.0, "actor_lr": 0.0}
            self._pending.update(
                {
                    f"{role}_{what}": math.nan  # measured at the recorded updates only
                    for role in ("critic", "actor")
                    for what in ("grad_norm", "update_norm")
                }
            )
            self._pending.update(critic_steps=0, actor_steps=0)
        return self._pending

    def _start(self) -> None:
        self._started = True
        if self._capture is not None:  # the probe is what the actor saw before the first step
            self._capture.remove()
            self._capture = None
            if self._probe is not None:
                self._probe = self._probe[: self._probe_size].clone()
        tables = self._evaluate()
        n_states, n_actions = tables[0].shape if tables is not None else (0, 0)
        # Without tables there is nothing to check exactly, even on a model.
        model = self._model if tables is not None else None
        self._task = Task(int(n_states), int(n_actions), self._gamma, model)
        self._refresh(tables)
        self._facts = self._make_facts(final=False)
        event = self._emitter.start(self._facts, self._task, self.n_updates)
        # Tables and norms only where observers read them (every update if one does not say).
        reads = tables_read_at(self.observers, event)
        self._every = reads is None
        self._due = set() if reads is None else set(reads)

    def _flush(self, last: bool = False) -> None:
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        n = self._n
        if last or self._every or n in self._due:
            self._refresh(self._evaluate())
        theta, omega = self._tables if self._tables is not None else (np.zeros((0, 0)), np.zeros(0))
        policy = self._policy if self._policy is not None else theta
        info = UpdateInfo(
            n=n,
            a_n=pending["critic_lr"],
            b_n=pending["actor_lr"],
            beta_n=1.0,
            theta=theta,
            omega=omega,
            critic_loss=math.nan,  # the loop's losses are not visible to the watch
            actor_loss=math.nan,
            critic_grad_norm=pending["critic_grad_norm"],
            actor_grad_norm=pending["actor_grad_norm"],
            n_episodes=0,
            n_steps=0,
            mean_return=math.nan,
            diagnostics={
                "critic_update_norm": pending["critic_update_norm"],
                "actor_update_norm": pending["actor_update_norm"],
                "critic_optimizer_steps": float(pending["critic_steps"]),
                "actor_optimizer_steps": float(pending["actor_steps"]),
            },
        )
        self._n += 1
        self._emitter.update(info, policy, env_steps=0)

    def _refresh(self, tables: tuple[FloatArray, FloatArray] | None) -> None:
        """Keep new tables and their policy, read-only (events hand them on without copying)."""
        if tables is not None:
            self._tables = (read_only_copy(tables[0]), read_only_copy(tables[1]))
            self._policy = read_only_copy(softmax_policy(tables[0], 1.0))

    def close(self) -> None:
        """Send the last update and the end event, and remove the hooks (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for handle in self._handles:
            handle.remove()
        if self._capture is not None:
            self._capture.remove()
            self._capture = None
        if not self._started:
            return
        self._flush(last=True)
        theta = self._tables[0] if self._tables is not None else np.zeros((0, 0))
        policy = softmax_policy(theta, 1.0) if theta.size else theta
        self._emitter.end(policy, self.facts())

    def __enter__(self) -> Watch:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- tables --------------------------------------------------------------------------------

    def _tables_kind(self) -> str:
        if self._tables is None:
            return "none"
        return "model" if self._model is not None else "probe"

    def _observations(self) -> Any:
        if self._model is not None:
            # State indices, which only the user's own policy=/value= functions can encode.
            return None if self._modules_as_functions else np.arange(self._model.n_states)
        return self._probe

    def _evaluate(self) -> tuple[FloatArray, FloatArray] | None:
        """``(θ, ω)``: the centred log-policy and the value table on the states (or probe)."""
        observations = self._observations()
        if observations is None or self._policy_fn is None or self._value_fn is None:
            return None
        with torch.no_grad():
            logits = _numpy(self._policy_fn(observations))
            values = _numpy(self._value_fn(observations)).reshape(-1)
        log_pi = logits - logits.max(axis=1, keepdims=True)
        log_pi = log_pi - np.log(np.exp(log_pi).sum(axis=1, keepdims=True))
        return centred(log_pi), values

    # -- facts and verdicts ----------------------------------------------------------------------

    def _make_facts(self, final: bool) -> LearnerFacts:
        names = sorted({type(o).__name__ for o in self._optimizers})
        plain = all(_plain_sgd(o) for o in self._optimizers)
        schedules: dict[str, Schedule | None] = {}
        notes = []
        for role in ("critic", "actor"):
            schedule, note = self._schedule(role, final)
            schedules[role] = schedule
            if note:
                notes.append(f"{role}: {note}")
        equilibrium = (
            _value_equilibrium(self._model)
            if self._model is not None and self._tables is not None
            else None
        )
        sampled = tuple(self._lr_record["critic"]) if final else ()
        config = {
            "name": self.name,
            "optimizers": names,
            "shared_optimizer": self.shared_optimizer,
            "shared_parameters": len(
                {id(p) for p in self._roles["actor"]} & {id(p) for p in self._roles["critic"]}
            ),
            "critic_lr": schedules["critic"].text if schedules["critic"] else None,
            "actor_lr": schedules["actor"].text if schedules["actor"] else None,
            "activation": self._activation,
            "tables": self._tables_kind(),
        }
        return LearnerFacts(
            name=f"watch.{self.name}",
            config=config,
            critic_lr=schedules["critic"],
            actor_lr=schedules["actor"],
            step_sizes_note="; ".join(notes),
            sampled_step_sizes=sampled,
            shared_optimizer=self.shared_optimizer,
            optimizer="+".join(names),
            plain_sgd=plain,
            policy="network_softmax",
            activation=self._activation,
            losses_visible=False,
            mean_field_reason="a watched loop has no exact mean field",
            fast_equilibrium=equilibrium,
            episodes="unknown",
            old_policy=None,
            fast_iterate="network",
        )

    def _schedule(self, role: str, final: bool) -> tuple[Schedule | None, str]:
        """The role's a(n) or b(n) as an expression, and why not when there is none."""
        declared = self._declared[role]
        record = self._lr_record[role]
        if declared is not None:
            if final and record:
                applied = np.asarray(record)
                lawful = declared(np.arange(len(applied)))
                wrong = np.flatnonzero(~np.isclose(lawful, applied, rtol=1e-9, atol=0.0))
                if len(wrong):
                    k = int(wrong[0])
                    return None, (
                        f"declared {declared.text} but the loop applied {applied[k]!r} at step "
                        f"{k}, where the law gives {lawful[k]!r}: the declaration does not hold"
                    )
            return declared, ""
        scheduler = self._schedulers.get(role)
        if scheduler is not None:
            law, why = _scheduler_schedule(scheduler, self._scheduler_steps[role], record)
            if law is not None or final:
                return law, why
        if not final:
            return None, "not known before the run"
        if record and all(lr == record[0] for lr in record):
            return constant(record[0]), ""
        return None, (
            "the loop sets the learning rate itself (recorded at every optimiser step); its "
            "law is not declared (pass critic_lr=/actor_lr=)"
        )

    def facts(self) -> LearnerFacts:
        """The loop's facts, with the schedules as they followed from the run."""
        return self._make_facts(final=True)

    def report(self) -> AssumptionReport:
        """The assumption report of the run so far (needs a TwoTimescaleMonitor observer)."""
        if self.monitor is None:
            raise ValueError("watch.report() needs a TwoTimescaleMonitor among the observers")
        if not self._started:
            raise ValueError("the watched loop has not stepped its optimiser yet")
        self.close()
        return assumption_report(self.monitor.trace())

    def verdicts(self) -> list[Verdict]:
        """Every verdict of the run, decided in :mod:`acconv.theory_checks`."""
        return list(self.report().verdicts)

    def save(self, path: str | Path, *, seed: int = 0, overwrite: bool = False) -> Path:
        """Write the run as a standard acconv run folder (atomic) that ``acconv report`` reads;
        ``seed`` tells runs of several seeds apart in reports.

        ``path`` must not exist, unless it is an acconv run folder and ``overwrite`` is set."""
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed is {seed!r}, expected an integer >= 0")
        from acconv.results import read_manifest, write_run

        folder = Path(path)
        if folder.exists() and (read_manifest(folder) is None or not overwrite):
            what = "an acconv run folder" if read_manifest(folder) else "not an acconv run folder"
            raise ValueError(
                f"path {str(folder)!r} exists ({what}); expected a new path"
                + (" or overwrite=True" if read_manifest(folder) else "")
            )
        report = self.report()
        rows: dict[tuple[int, str], float] = {}
        for observer in self.observers:
            for n, metric, value in getattr(observer, "rows", []):
                rows.setdefault((int(n), str(metric)), float(value))
        ordered = [(n, metric, value) for (n, metric), value in sorted(rows.items())]
        steps = report.step_sizes
        verdicts = {
            "run_id": f"{self.name}/watch/seed-{seed}",
            "step_sizes": None if steps is None else steps.to_dict(),
            "observers": [v.to_dict() for v in report.verdicts],
            "theorems": dict(report.theorems),
            "coverage": dict(report.coverage),
            "statement": report.statement,
        }
        facts = self.facts()
        manifest = {
            "config": {
                "name": self.name,
                "learner": {
                    "kind": "watch",
                    "critic_lr": facts.config["critic_lr"],
                    "actor_lr": facts.config["actor_lr"],
                },
                "env": {"id": "(the watched loop's)"},
                "budget": {"n_updates": self._n},
                "watch": dict(facts.config),
            },
        }
        from acconv.results import environment_info

        manifest["environment"] = environment_info()
        return write_run(
            folder,
            run_id=f"{self.name}/watch/seed-{seed}",
            seed=seed,
            rows=ordered,
            verdicts=verdicts,
            manifest=manifest,
        )


# -- helpers -----------------------------------------------------------------------------------


def _value_equilibrium(mdp: FiniteMDP) -> FastEquilibrium:
    """λ(θ) = V^{softmax(θ)} on the visited states (:func:`acconv.exact.value_equilibrium`)."""

    def equilibrium(theta: FloatArray, n: int) -> tuple[FloatArray, NDArray[np.bool_]]:
        return value_equilibrium(mdp, softmax_policy(theta, 1.0))

    return equilibrium


def _norm(tensors: list[torch.Tensor]) -> float:
    """The Euclidean norm of a list of tensors taken together."""
    if not tensors:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(list(torch._foreach_norm(tensors)))))


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} is {value!r}, expected a positive integer")
    return value


def _parameters(thing: Any, name: str) -> list[torch.nn.Parameter]:
    if isinstance(thing, nn.Module):
        return list(thing.parameters())
    if isinstance(thing, torch.Tensor):
        return [thing]  # type: ignore[list-item]
    if isinstance(thing, Iterable) and not isinstance(thing, str | bytes | Mapping):
        params = list(thing)
        if all(isinstance(p, torch.Tensor) for p in params) and params:
            return params
    raise ValueError(
        f"{name} is {type(thing).__name__}, expected a torch module or an iterable of parameters"
    )


def _roles(
    optimizer: Any, actor: Any, critic: Any
) -> tuple[list[torch.optim.Optimizer], dict[str, list[torch.nn.Parameter]]]:
    """The optimisers and each role's parameters, checked against each other."""
    if optimizer is None:
        if not isinstance(actor, torch.optim.Optimizer) or not isinstance(
            critic, torch.optim.Optimizer
        ):
            raise ValueError(
                "no optimiser: give watch(optimizer, actor=..., critic=...) for one shared "
                "optimiser, or watch(actor=actor_optimizer, critic=critic_optimizer) for two"
            )
        if actor is critic:
            raise ValueError("actor and critic are the same optimiser; pass it as optimizer=")
        roles = {
            "actor": [p for g in actor.param_groups for p in g["params"]],
            "critic": [p for g in critic.param_groups for p in g["params"]],
        }
        return [actor, critic], roles
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer is {type(optimizer).__name__}, expected a torch optimiser")
    if actor is None or critic is None:
        missing = "actor" if actor is None else "critic"
        raise ValueError(f"{missing} is missing: give the module (or parameters) of each role")
    roles = {"actor": _parameters(actor, "actor"), "critic": _parameters(critic, "critic")}
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
    for role, params in roles.items():
        outside = [p for p in params if id(p) not in in_optimizer and p.requires_grad]
        if outside:
            raise ValueError(
                f"{role} has {len(outside)} parameter(s) (first of shape "
                f"{tuple(outside[0].shape)}) that the optimizer does not update; expected the "
                "optimizer's own parameters"
            )
    assigned = {id(p) for params in roles.values() for p in params}
    for i, group in enumerate(optimizer.param_groups):
        for p in group["params"]:
            if id(p) not in assigned:
                raise ValueError(
                    f"optimizer param_groups[{i}] has a parameter of shape {tuple(p.shape)} in "
                    "neither actor nor critic; expected every optimised parameter in a role"
                )
    return [optimizer], roles


def _declared(value: Any, name: str) -> Schedule | None:
    if value is None:
        return None
    try:
        return as_schedule(value)
    except (ScheduleError, TypeError) as error:
        raise ValueError(f"{name}: {error}") from None


def _schedulers(scheduler: Any, shared: bool) -> dict[str, Any]:
    if scheduler is None:
        return {}
    if isinstance(scheduler, Mapping):
        unknown = set(scheduler) - {"actor", "critic"}
        if unknown or shared:
            raise ValueError(
                f"scheduler is {dict(scheduler)!r}, expected one scheduler for one shared "
                "optimiser, or {'actor': ..., 'critic': ...} for two"
            )
        return dict(scheduler)
    if not shared:
        raise ValueError("scheduler: with two optimisers give {'actor': ..., 'critic': ...}")
    return {"critic": scheduler, "actor": scheduler}


def _scheduler_schedule(
    scheduler: Any, steps: list[int], record: list[float]
) -> tuple[Schedule | None, str]:
    """The scheduler's law in the update index n, when its steps follow the updates."""
    try:
        from acconv.adapters.torch_lr import scheduler_law

        law = scheduler_law(scheduler)
    except (ImportError, ValueError) as error:
        return None, f"the scheduler's law is not known ({error})"
    if not steps:
        return law, ""
    # Scheduler step m(n) at optimiser step n: m = floor(n / K) + m_0 when the loop steps the
    # scheduler every K optimiser steps.
    m = np.asarray(steps)
    m0 = int(m[0])
    changes = np.flatnonzero(np.diff(m))
    K = int(changes[0] + 1) if len(changes) else len(m)
    expected = m0 + np.arange(len(m)) // K
    if not np.array_equal(m, expected):
        return None, "the scheduler is not stepped every K optimiser steps: law not mapped to n"
    text = law.text if K == 1 and m0 == 0 else re.sub(r"\bn\b", f"(floor(n/{K})+{m0})", law.text)
    try:
        schedule = Schedule.parse(text)
    except ScheduleError as error:
        return None, f"the scheduler's law could not be mapped to n ({error})"
    values = schedule(np.arange(len(record)))
    if not np.allclose(values, record, rtol=1e-9, atol=0.0):
        return None, "the recorded learning rates do not follow the scheduler's law"
    return schedule, ""


def _one_rate(optimizer: Any, roles: dict[str, list[Any]]) -> bool:
    """Whether one learning rate moves both roles: some param group holds parameters of both
    (a shared torso counts). Roles in disjoint groups of one optimiser have rates of their own,
    as with two optimisers."""
    actor, critic = ({id(p) for p in roles[r]} for r in ("actor", "critic"))
    for group in optimizer.param_groups:
        ids = {id(p) for p in group["params"]}
        if ids & actor and ids & critic:
            return True
    return False


def _group_of(optimizers: list[torch.optim.Optimizer], params: list[Any]) -> int:
    """The index of the param group that holds a role's first parameter (its learning rate)."""
    ids = {id(p) for p in params}
    for optimizer in optimizers:
        for i, group in enumerate(optimizer.param_groups):
            if any(id(p) in ids for p in group["params"]):
                return i
    return 0


def _plain_sgd(optimizer: torch.optim.Optimizer) -> bool:
    return isinstance(optimizer, torch.optim.SGD) and all(
        not g.get("momentum", 0) and not g.get("weight_decay", 0) and not g.get("nesterov")
        for g in optimizer.param_groups
    )


def _activation(*things: Any) -> str | None:
    kinds = {
        name
        for thing in things
        if isinstance(thing, nn.Module)
        for module in thing.modules()
        for cls, name in _ACTIVATIONS.items()
        if isinstance(module, cls)
    }
    return kinds.pop() if len(kinds) == 1 else None


def _model(env: Any, gamma: float | None) -> tuple[FiniteMDP | None, float]:
    model = getattr(getattr(env, "unwrapped", None), "mdp", None) if env is not None else None
    model = model if isinstance(model, FiniteMDP) else None
    if gamma is None:
        gamma = model.gamma if model is not None else 0.99
    if not (isinstance(gamma, int | float) and 0.0 < float(gamma) <= 1.0):
        raise ValueError(f"gamma is {gamma!r}, expected a number in (0, 1]")
    if model is not None and not math.isclose(model.gamma, float(gamma)):
        model = model.with_gamma(float(gamma))
    return model, float(gamma)


def _table_functions(
    policy: Any, value: Any, actor: Any, critic: Any
) -> tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]:
    for fn, name in ((policy, "policy"), (value, "value")):
        if fn is not None and not callable(fn):
            raise ValueError(f"{name} is {fn!r}, expected a function of a batch of observations")
    policy = policy if policy is not None else (actor if isinstance(actor, nn.Module) else None)
    value = value if value is not None else (critic if isinstance(critic, nn.Module) else None)
    return policy, value


def _numpy(x: Any) -> FloatArray:
    if isinstance(x, torch.Tensor):
        x = x.detach().to(torch.float64).cpu().numpy()
    array = np.asarray(x, dtype=np.float64)
    return array if array.ndim >= 1 else array.reshape(1)
