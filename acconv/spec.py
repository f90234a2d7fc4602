"""Experiment specs: one TOML file per experiment, validated once at the boundary (DESIGN.md §4).

A spec names an environment, a learner with its step-size schedules, the budget, the seeds, the
checks to run and an optional sweep grid::

    name = "example"

    [env]
    id = "acconv/Garnet-v0"
    episodic = true              # γ < 1 becomes a per-step termination probability

    [learner]
    kind = "actor_critic"        # actor_critic, ppo, rudder, softmax_pg, npg, pmd; with the
                                 # neural extra: neural_ppo, neural_rudder, sb3_ppo, sb3_a2c
    critic_lr = "0.5/(n+1)**0.6" # schedules are acconv.schedules expressions, never code
    actor_lr = "0.1/(n+1)"
    params = { critic_target = "td0" }

    [budget]
    n_updates = 100

    [seeds]
    count = 2

    [sweep]
    "learner.actor_lr" = ["0.1/(n+1)", "0.3/(n+1)"]

Every mistake is a :class:`SpecError` whose message is one line naming the file, the key, the bad
value and what was expected, e.g. ``spec.toml: learner.kind is 'foo', expected one of
actor_critic, ppo, rudder, ...``. Everything that can be checked without running
(the environment id and its keyword arguments, the schedules, the learner's parameters, every
sweep point) is checked by :func:`load_spec`, so errors come before the first run.
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import json
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from acconv.spec_input import (
    LIMITS,
    SpecError,
    at_most,
    describe,
    one_line,
    parse_override,
    parse_toml,
    read_spec_text,
    short_repr,
)

__all__ = [
    "LEARNER_KINDS",
    "LIMITS",
    "BudgetSpec",
    "ChecksSpec",
    "EnvSpec",
    "ExperimentSpec",
    "LearnerSpec",
    "SeedSpec",
    "SpecError",
    "apply_point",
    "build_learner",
    "load_spec",
    "parse_spec",
    "sweep_points",
]

LearnerKind = Literal[
    "actor_critic",
    "ppo",
    "rudder",
    "softmax_pg",
    "npg",
    "pmd",
    "neural_ppo",
    "neural_rudder",
    "sb3_ppo",
    "sb3_a2c",
    "watched_loop",
]
LEARNER_KINDS: tuple[str, ...] = get_args(LearnerKind)
TWO_TIMESCALE_KINDS: tuple[str, ...] = (
    "actor_critic",
    "ppo",
    "rudder",
    "neural_ppo",
    "neural_rudder",
)
"""Learners with a fast critic ``a(n)`` and a slow actor ``b(n)``; the others are exact methods
whose step is a constant in ``learner.params`` (``eta``, ``eta0``), or SB3's algorithms."""
SB3_KINDS: tuple[str, ...] = ("sb3_ppo", "sb3_a2c")
NEURAL_KINDS: tuple[str, ...] = ("neural_ppo", "neural_rudder", *SB3_KINDS, "watched_loop")
"""Torch learners (the ``neural`` extra): they run on a Gymnasium environment, with or without a
model, through their own ``learn`` loop. The SB3 kinds take SB3's hyperparameters as
``learner.params`` (one ``learning_rate``: SB3 has one optimiser). ``watched_loop`` runs one of
the example loops shipped in :mod:`acconv.examples` (``learner.params.loop``) under
``acconv.watch``; its other params are the example's options."""
EVALUATING_KINDS: tuple[str, ...] = ("neural_ppo", "neural_rudder", *SB3_KINDS)
"""Learners whose final policy ``budget.eval_episodes`` evaluates (they have
``action_probabilities``)."""

Scalar = str | int | float | bool

_RENAMED_PARAMS: dict[str, dict[str, str]] = {"actor_critic": {"lam": "gae_lambda"}}
"""Deprecated ``learner.params`` names per learner kind and their new names: a spec that uses
one is read with the new name and a ``DeprecationWarning`` (the old names go in 0.3.0)."""


def _schedule_text(value: object, key: str) -> str | float:
    """A schedule as given (text or number), after checking that acconv.schedules accepts it."""
    from acconv.schedules import ScheduleError, as_schedule

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(
            "expected a schedule expression in n (a string like '0.5/(n+1)**0.6') or a number"
        )
    try:
        as_schedule(value)
    except ScheduleError as error:
        raise ValueError(one_line(str(error))) from None
    return value if isinstance(value, str) else float(value)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EnvSpec(_Model):
    """The environment: a registered id, its keyword arguments and the discount.

    ``gamma`` overrides the model's own discount. ``episodic = true`` turns a discount ``γ < 1``
    into a per-step termination probability (:func:`acconv.mdp.discount_as_termination`), so
    sampled episodes end and undiscounted returns estimate ``V_γ`` without truncation.
    """

    id: str
    kwargs: dict[str, Any] = {}
    gamma: float | None = None
    episodic: bool = True

    @field_validator("gamma")
    @classmethod
    def _gamma_in_range(cls, value: float | None) -> float | None:
        if value is not None and not 0.0 < value <= 1.0:
            raise ValueError("expected a discount in (0, 1]")
        return value


class LearnerSpec(_Model):
    """The learner: its kind, mode, step-size schedules and constructor parameters.

    ``critic_lr`` (fast, ``a(n)``), ``actor_lr`` (slow, ``b(n)``) and ``beta`` (inverse
    temperature) are :mod:`acconv.schedules` expressions or numbers; they are required by the
    two-timescale learners and not accepted by the exact methods (``softmax_pg``, ``npg``,
    ``pmd``), whose step sizes are ``params`` (``eta``, ``eta0``). ``params`` go to the learner's
    constructor unchanged.
    """

    kind: LearnerKind
    mode: Literal["sampled", "expected"] | None = None
    critic_lr: str | float | None = None
    actor_lr: str | float | None = None
    beta: str | float | None = None
    params: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _renamed_params(cls, data: Any) -> Any:
        renamed = _RENAMED_PARAMS.get(str(data.get("kind")), {}) if isinstance(data, dict) else {}
        params = data.get("params") if renamed else None
        if not isinstance(params, dict) or not renamed.keys() & params.keys():
            return data
        for old, new in renamed.items():
            if old not in params:
                continue
            if new in params:
                raise SpecError(
                    f"learner.params.{old} and learner.params.{new} are both given, expected "
                    f"{new} only ({old} is deprecated)"
                )
            warnings.warn(
                f"learner.params.{old} is deprecated, use learner.params.{new}; removed in 0.3.0",
                DeprecationWarning,
                stacklevel=2,
            )
            params = {new if key == old else key: value for key, value in params.items()}
        return {**data, "params": params}

    @field_validator("critic_lr", "actor_lr", "beta", mode="before")
    @classmethod
    def _parse_schedule(cls, value: object) -> str | float | None:
        if value is None:
            return None
        return _schedule_text(value, "")

    @model_validator(mode="after")
    def _schedules_fit_kind(self) -> LearnerSpec:
        if self.kind in NEURAL_KINDS and self.mode == "expected":
            raise SpecError(
                f"learner.mode is 'expected', expected 'sampled' (or no mode) for {self.kind}: "
                "a network has no exact mean-field twin"
            )
        if self.kind in TWO_TIMESCALE_KINDS:
            for key in ("critic_lr", "actor_lr"):
                if getattr(self, key) is None:
                    raise SpecError(
                        f"learner.{key} is missing, expected a schedule for {self.kind} "
                        "(e.g. '0.5/(n+1)**0.6')"
                    )
        elif self.kind in SB3_KINDS:
            for key in ("critic_lr", "actor_lr", "beta"):
                if getattr(self, key) is not None:
                    raise SpecError(
                        f"learner.{key} is {getattr(self, key)!r}, expected no schedule for "
                        f"{self.kind} (SB3 has one optimiser: set learner.params.learning_rate)"
                    )
        elif self.kind == "watched_loop":
            for key in ("critic_lr", "actor_lr", "beta"):
                if getattr(self, key) is not None:
                    raise SpecError(
                        f"learner.{key} is {getattr(self, key)!r}, expected no schedule for "
                        "watched_loop (the loop sets its own rates: see its options in params)"
                    )
        else:
            for key in ("critic_lr", "actor_lr", "beta"):
                if getattr(self, key) is not None:
                    raise SpecError(
                        f"learner.{key} is {getattr(self, key)!r}, expected no schedule for "
                        f"{self.kind} (an exact method: its step is learner.params.eta/eta0)"
                    )
            if self.mode == "sampled":
                raise SpecError(
                    f"learner.mode is 'sampled', expected 'expected' (or no mode) for "
                    f"{self.kind}, an exact-gradient method"
                )
        return self


class BudgetSpec(_Model):
    """How long each run is: updates, episodes per update, an optional episode step cap, and
    evaluation episodes after training (neural and SB3 kinds); each at most its :data:`LIMITS`."""

    n_updates: PositiveInt
    episodes_per_update: PositiveInt = 16
    max_steps: PositiveInt | None = None
    eval_episodes: NonNegativeInt = 0
    """Neural and SB3 kinds: episodes of the final policy after training, recorded as
    ``eval/return`` (the same procedure for every learner, so final returns compare)."""

    @field_validator("n_updates", "episodes_per_update", "max_steps", "eval_episodes")
    @classmethod
    def _within_limits(cls, value: int | None, info: ValidationInfo) -> int | None:
        return at_most(value, f"budget.{info.field_name}")

    @model_validator(mode="after")
    def _batch_fits(self) -> BudgetSpec:
        if self.max_steps is not None:
            steps = self.episodes_per_update * self.max_steps
            limit = LIMITS["steps per update"]
            if steps > limit:
                raise SpecError(
                    f"budget.episodes_per_update × budget.max_steps is {steps}, expected at most "
                    f"{limit} steps per update (acconv's limit: 24 bytes a step; see the README's "
                    "Limits)"
                )
        return self


class SeedSpec(_Model):
    """``count`` seeds spawned from ``SeedSequence(root)``: seed ``k`` has spawn key ``(k,)``."""

    count: PositiveInt = 3
    root: NonNegativeInt = 0

    @field_validator("count")
    @classmethod
    def _within_limits(cls, value: int) -> int:
        return at_most(value, "seeds.count") or value


class ChecksSpec(_Model):
    """What to check: S1–S7 before the first update, the two-timescale monitor, rate bounds."""

    step_sizes: bool = True
    monitor: bool = False
    bounds: list[str] = []
    solve: float | None = None
    """A threshold on the exact ``J(π_n)``: record the episodes and environment steps until ``J``
    reaches it and stays there (``solve/*`` metrics, :mod:`acconv.instrument.solve`)."""

    @field_validator("bounds")
    @classmethod
    def _known_bounds(cls, value: list[str]) -> list[str]:
        from acconv.theory_checks.bounds import BOUNDS

        known = [bound.id for bound in BOUNDS]
        for bound_id in value:
            if bound_id not in known:
                known_text = ", ".join(known)
                raise ValueError(f"bound {bound_id!r} is unknown; expected one of {known_text}")
        return value


class ExperimentSpec(_Model):
    """One experiment: what to run, how long, with which seeds and checks, over which grid.

    ``sweep`` maps dotted keys (``"learner.actor_lr"``, ``"learner.params.tau"``,
    ``"env.kwargs.n_states"``) to lists of values; the runs are the product of all lists, times
    the seeds.
    """

    name: str
    description: str = ""
    env: EnvSpec
    learner: LearnerSpec
    budget: BudgetSpec
    seeds: SeedSpec = SeedSpec()
    checks: ChecksSpec = ChecksSpec()
    sweep: dict[str, list[Any]] = {}
    learners: dict[str, LearnerSpec] = {}
    """Learners compared in one spec, by label: each ``[learners.<label>]`` table is laid over the
    shared ``[learner]`` table (its keys replace the shared ones; ``params`` merge key by key).
    The runs sweep over them as the outermost sweep key ``learner`` with the same seeds, so a
    comparison is one spec with one seed stream (:func:`acconv.learner_variants.merge_learners`)."""

    @model_validator(mode="before")
    @classmethod
    def _merge_learners(cls, data: Any) -> Any:
        from acconv.learner_variants import merge_learners

        return merge_learners(data)

    @field_validator("name")
    @classmethod
    def _name_is_a_folder_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", value):
            raise ValueError(
                "expected 1 to 100 letters, digits, '.', '_' or '-' (it names folders)"
            )
        return value

    @model_validator(mode="after")
    def _evaluation_fits_kind(self) -> ExperimentSpec:
        if self.budget.eval_episodes and self.learner.kind not in EVALUATING_KINDS:
            raise SpecError(
                f"budget.eval_episodes is {self.budget.eval_episodes}, expected 0 for "
                f"{self.learner.kind} (only {', '.join(EVALUATING_KINDS)} evaluate a final policy)"
            )
        if self.checks.solve is not None and self.learner.kind in NEURAL_KINDS:
            raise SpecError(
                f"checks.solve is {self.checks.solve}, expected none for {self.learner.kind} "
                "(episodes to solve need an exact model and a tabular learner)"
            )
        return self

    @field_validator("sweep")
    @classmethod
    def _sweep_is_a_grid(cls, value: dict[str, list[Any]]) -> dict[str, list[Any]]:
        points = 1
        for key, values in value.items():
            _check_key(key, sweepable=True)
            if not values:
                raise ValueError(f"sweep key {key!r} has no values; expected a non-empty list")
            seen: set[str] = set()
            for item in values:
                if not isinstance(item, (str, int, float, bool)):
                    raise ValueError(
                        f"sweep key {key!r} has value {short_repr(item)}; expected strings, "
                        "numbers or booleans"
                    )
                # The value's JSON names its run folders: equal JSON would be one folder.
                exact = json.dumps(item)
                if exact in seen:
                    raise ValueError(
                        f"key {key!r} lists {short_repr(item)} twice; expected distinct "
                        "values (each names its own run folders)"
                    )
                seen.add(exact)
            points *= len(values)
        if points > LIMITS["sweep points"]:
            raise ValueError(
                f"{points} points, expected at most {LIMITS['sweep points']} (acconv's "
                "limit: every point is checked before the first run; see the README's Limits)"
            )
        return value

    @model_validator(mode="after")
    def _runs_within_limits(self) -> ExperimentSpec:
        points = max(len(self.learners), 1)  # [learners] multiply the sweep
        for values in self.sweep.values():
            points *= len(values)
        runs = points * self.seeds.count
        if runs > LIMITS["runs"]:
            raise SpecError(
                f"the spec has {points} sweep points × {self.seeds.count} seeds = {runs} runs, "
                f"expected at most {LIMITS['runs']} (acconv's limit; see the README's Limits)"
            )
        return self


# ------------------------------------------------------------------------------------------------
# dotted keys
# ------------------------------------------------------------------------------------------------

_SECTIONS: dict[str, type[BaseModel]] = {
    "env": EnvSpec,
    "learner": LearnerSpec,
    "budget": BudgetSpec,
    "seeds": SeedSpec,
    "checks": ChecksSpec,
}
_FREE_DICTS = {("env", "kwargs"), ("learner", "params")}


def _check_key(key: str, *, sweepable: bool = False) -> list[str]:
    """The parts of a dotted key if it names a spec field, else a ValueError (one line)."""
    parts = key.split(".")
    top = [name for name in ExperimentSpec.model_fields if name != "sweep"]
    if parts[0] in ("name", "description") and len(parts) == 1 and not sweepable:
        return parts
    if parts[0] not in _SECTIONS or len(parts) < 2 or any(not part for part in parts):
        expected = "a dotted key like learner.actor_lr or learner.params.tau"
        sections = ", ".join(top)
        raise ValueError(f"key {key!r} is unknown; expected {expected} (sections: {sections})")
    if sweepable and parts[0] == "seeds":
        raise ValueError(f"key {key!r} cannot be swept; expected a key outside [seeds]")
    section = _SECTIONS[parts[0]]
    if parts[1] not in section.model_fields:
        known = ", ".join(section.model_fields)
        raise ValueError(f"key {key!r} is unknown; expected {parts[0]}.<one of {known}>")
    if (parts[0], parts[1]) in _FREE_DICTS:
        if len(parts) != 3:
            raise ValueError(f"key {key!r} is unknown; expected {parts[0]}.{parts[1]}.<name>")
    elif len(parts) != 2:
        raise ValueError(f"key {key!r} is unknown; {parts[0]}.{parts[1]} has no sub-keys")
    return parts


def _set_key(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


# ------------------------------------------------------------------------------------------------
# loading
# ------------------------------------------------------------------------------------------------


def parse_spec(raw: Mapping[str, Any], source: str = "spec") -> ExperimentSpec:
    """Validate a spec given as a dict (a parsed TOML file), including every sweep point."""
    try:
        spec = ExperimentSpec.model_validate(dict(raw))
    except ValidationError as error:
        raise SpecError(describe(error, source)) from None
    except SpecError as error:
        raise SpecError(f"{source}: {error}") from None
    for point in sweep_points(spec):
        try:
            resolved = apply_point(spec, point)
        except ValidationError as error:
            where = ", ".join(f"{key} = {value!r}" for key, value in point.items())
            raise SpecError(f"{describe(error, source)} (sweep point {where})") from None
        try:
            _check_runnable(resolved)
        except SpecError as error:
            # Name the sweep values only when they are in the section the error is about.
            section = str(error).split(" ", 1)[0].split(".", 1)[0]
            related = {k: v for k, v in point.items() if k.split(".", 1)[0] == section}
            suffix = ""
            if related:
                suffix = " (sweep point " + ", ".join(f"{k} = {v!r}" for k, v in related.items())
                suffix += ")"
            raise SpecError(f"{source}: {error}{suffix}") from None
    return spec


def load_spec(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentSpec:
    """Read, override (``key=value`` strings, values as TOML scalars) and validate a spec file."""
    path = Path(path)
    source = path.name
    raw = parse_toml(read_spec_text(path), source)
    for override in overrides:
        key, value = parse_override(override)
        try:
            parts = _check_key(key)
        except ValueError as error:
            raise SpecError(f"--set {one_line(str(error))}") from None
        _set_key(raw, parts, value)
    return parse_spec(raw, source)


# ------------------------------------------------------------------------------------------------
# sweep points and learners
# ------------------------------------------------------------------------------------------------


def sweep_points(spec: ExperimentSpec) -> Iterator[dict[str, Scalar]]:
    """The sweep grid in file order (the last key varies fastest); one empty point if no sweep.

    With ``[learners]``, the first key is ``learner`` (the labels, in file order)."""
    grid: dict[str, list[Any]] = {"learner": list(spec.learners)} if spec.learners else {}
    grid.update(spec.sweep)
    for values in itertools.product(*grid.values()):
        yield dict(zip(grid, values, strict=True))


def apply_point(spec: ExperimentSpec, point: Mapping[str, Scalar]) -> ExperimentSpec:
    """The spec with the sweep point's values set, no sweep and one learner (raises
    ValidationError)."""
    raw = spec.model_dump(mode="python")
    raw["sweep"], raw["learners"] = {}, {}
    for key, value in point.items():
        if key == "learner":
            raw["learner"] = spec.learners[str(value)].model_dump(mode="python")
            continue
        _set_key(raw, key.split("."), copy.deepcopy(value))
    return ExperimentSpec.model_validate(raw)


_SHELL_ARGS = ("critic_lr", "actor_lr", "beta", "mode")
"""Constructor arguments set by ``learner.*`` keys, not by ``learner.params``."""

_LEARNER_CLASSES = {
    "actor_critic": "ActorCritic",
    "ppo": "PPO",
    "rudder": "RUDDER",
    "softmax_pg": "SoftmaxPG",
    "npg": "NPG",
    "pmd": "PolicyMirrorDescent",
    "neural_ppo": "PPO",
    "neural_rudder": "RUDDER",
    "sb3_ppo": "PPO",
    "sb3_a2c": "A2C",
}


def _learner_class(kind: str) -> Any:
    if kind == "watched_loop":
        from acconv.watched_example import WatchedExample

        return WatchedExample
    if kind not in NEURAL_KINDS:
        import acconv.tabular as tabular

        return getattr(tabular, _LEARNER_CLASSES[kind])
    try:
        import acconv.neural as neural

        if kind in SB3_KINDS:
            from acconv.adapters.sb3 import SB3Learner

            return functools.partial(SB3Learner, _LEARNER_CLASSES[kind])
    except ImportError:
        raise SpecError(
            f"learner.kind is {kind!r}, which needs the neural extra: "
            'pip install -c constraints.txt ".[neural]"'
        ) from None
    return getattr(neural, _LEARNER_CLASSES[kind])


def build_learner(learner: LearnerSpec) -> Any:
    """The learner object a spec describes; ``SpecError`` names the bad ``learner.*`` key."""
    cls = _learner_class(learner.kind)
    signature = inspect.signature(cls).parameters
    accepted = [name for name, p in signature.items() if p.kind is not p.VAR_KEYWORD]
    if learner.kind == "neural_rudder":  # RUDDER passes its PPO settings through **ppo
        accepted += [p for p in inspect.signature(cls.__mro__[1]).parameters if p != "n_steps"]
    if learner.kind in (*SB3_KINDS, "watched_loop"):  # checked by the learner itself
        accepted += list(learner.params)
    kwargs: dict[str, Any] = {}
    for key in _SHELL_ARGS:
        value = getattr(learner, key)
        if value is not None and key in accepted:
            kwargs[key] = value
        elif key == "beta" and value is not None and learner.kind in NEURAL_KINDS:
            raise SpecError(
                f"learner.beta is {value!r}, expected no beta for {learner.kind} "
                "(its policy is a network with a fixed temperature)"
            )
    deprecated = _RENAMED_PARAMS.get(learner.kind, {})
    for key, value in learner.params.items():
        if key not in accepted or key in _SHELL_ARGS:
            own = [name for name in accepted if name not in (*_SHELL_ARGS, *deprecated)]
            raise SpecError(
                f"learner.params.{key} is not a parameter of {cls.__name__}; expected one of "
                f"{', '.join(own) or '(none)'}"
            )
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as error:
        message = one_line(str(error))
        for key in learner.params:
            if message.startswith(f"{key} "):
                raise SpecError(f"learner.params.{message}") from None
        for key in ("critic_lr", "actor_lr", "beta"):
            if message.startswith(f"{key} "):
                raise SpecError(f"learner.{message}") from None
        raise SpecError(f"learner ({learner.kind}): {message}") from None


@lru_cache(maxsize=64)
def _model(env_id: str, kwargs_json: str, gamma: float | None, episodic: bool) -> Any:
    from acconv.envs import model_of
    from acconv.mdp import discount_as_termination

    mdp = model_of(env_id, json.loads(kwargs_json), gamma)
    if episodic and mdp.gamma < 1.0:
        mdp = discount_as_termination(mdp)
    return mdp


def build_mdp(env: EnvSpec) -> Any:
    """The exact model (a :class:`~acconv.mdp.FiniteMDP`) of the spec's environment."""
    try:
        return _model(env.id, json.dumps(env.kwargs, sort_keys=True), env.gamma, env.episodic)
    except ValueError as error:
        message = one_line(str(error))
        if "not registered" in message:
            raise SpecError(
                f"env.id is {env.id!r}, expected a registered environment id with a model "
                "(e.g. acconv/Garnet-v0, FrozenLake-v1)"
            ) from None
        raise SpecError(f"env ({env.id}): {message}") from None


def build_env(env: EnvSpec) -> Any:
    """A Gymnasium environment for a neural learner.

    An id with a model gives a :class:`~acconv.envs.finite.FiniteMDPEnv` of
    :func:`build_mdp`'s model (the same episodes the tabular learners see, and exact checks);
    any other registered id is ``gymnasium.make(id, **kwargs)``, whose discount is the learner's
    ``gamma`` (``env.gamma`` is then refused).
    """
    from acconv.envs.finite import FiniteMDPEnv

    try:
        return FiniteMDPEnv(build_mdp(env))
    except SpecError as error:
        if "no transition table" not in str(error):
            raise
    if env.gamma is not None:
        raise SpecError(
            f"env.gamma is {env.gamma}, expected none for {env.id}, which has no model: "
            "set learner.params.gamma"
        )
    import gymnasium

    try:
        return gymnasium.make(env.id, **env.kwargs)
    except Exception as error:  # any failure of a third-party constructor is the spec's
        raise SpecError(f"env ({env.id}): {one_line(str(error))}") from None


@dataclass(frozen=True)
class RunPlan:
    """What one run of a spec needs: the learner, the source it learns from (the exact model
    for tabular learners, a Gymnasium environment for neural and SB3 ones), and the keyword
    arguments its ``learn`` takes from the budget. The runner calls
    ``learner.learn(source, n_updates, rng, observers, **learn_kwargs)`` for every kind."""

    learner: Any
    source: Any
    learn_kwargs: Mapping[str, Any]


def build_run(spec: ExperimentSpec) -> RunPlan:
    """The learner, its source and its ``learn`` settings for one run of ``spec``."""
    learner = build_learner(spec.learner)
    budget = {"episodes_per_update": spec.budget.episodes_per_update}
    if spec.budget.max_steps is not None:
        budget["max_steps"] = spec.budget.max_steps
    if spec.learner.kind not in NEURAL_KINDS:
        return RunPlan(learner, build_mdp(spec.env), budget)
    if spec.learner.kind == "neural_rudder":
        # RUDDER collects whole episodes: the budget's episode settings apply unless the
        # learner's own params set them.
        for key, value in budget.items():
            if key not in spec.learner.params:
                setattr(learner, key, value)
                learner.config[key] = value
    return RunPlan(learner, build_env(spec.env), {})


def _check_runnable(spec: ExperimentSpec) -> None:
    """Build the model and the learner, and let the learner accept the task (no update runs)."""
    import numpy as np

    from acconv.updates import Task

    if spec.learner.kind in NEURAL_KINDS:
        build_learner(spec.learner)
        build_env(spec.env)
        return
    mdp = build_mdp(spec.env)
    learner = build_learner(spec.learner)
    try:
        learner.init(Task.from_mdp(mdp), np.random.default_rng(0))
    except ValueError as error:
        message = one_line(str(error))
        raise SpecError(f"learner ({spec.learner.kind}) on {spec.env.id}: {message}") from None
