"""The boundary of an experiment spec: its text, its limits and its one-line messages.

:func:`read_spec_text` reads a spec file (UTF-8, at most :data:`MAX_SPEC_BYTES`),
:func:`parse_toml` parses it (nesting at most ``MAX_NESTING`` deep), :func:`parse_override`
reads a ``--set key=value``, :data:`LIMITS` bounds budgets, seeds and sweeps, and
:func:`describe` turns a pydantic error into the line a user sees. :mod:`acconv.spec` builds the
spec from what these return; every failure here is a :class:`SpecError`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from acconv._validate import MAX_NESTING, check_nesting

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "LIMITS",
    "MAX_SPEC_BYTES",
    "SpecError",
    "at_most",
    "describe",
    "one_line",
    "parse_override",
    "parse_toml",
    "read_spec_text",
    "short_repr",
]


class SpecError(ValueError):
    """A mistake in an experiment spec; the message is one line."""


def one_line(text: str) -> str:
    return " ".join(str(text).split())


LIMITS: dict[str, int] = {
    "budget.n_updates": 10**6,
    "budget.episodes_per_update": 10**5,
    "budget.max_steps": 10**6,
    "budget.eval_episodes": 10**6,
    "steps per update": 10**8,
    "seeds.count": 10**4,
    "sweep points": 10**4,
    "runs": 10**5,
}
"""acconv's limits on one spec (README, "Limits"), checked by :func:`load_spec` before anything
is created. Memory sets them: a run keeps about 1 kB per update in memory (PPO and RUDDER
diagnostics, bound observations), so 10**6 updates need about 1 GB; a batch of
``episodes_per_update · max_steps`` steps (``steps per update``) takes 24 bytes a step;
every sweep point is built and checked before the first run, and every run is listed in memory.
Larger models are limited by :data:`acconv._validate.MAX_MODEL_ENTRIES`."""


def at_most(value: int | None, key: str) -> int | None:
    limit = LIMITS[key]
    if value is not None and value > limit:
        raise ValueError(
            f"expected an integer <= {limit} (acconv's limit on {key}; see the README's Limits)"
        )
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value read as a TOML scalar (bare text if it is not TOML)."""
    key, sep, value_text = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SpecError(f"--set {text!r} is not key=value; expected e.g. budget.n_updates=200")
    try:
        value = parse_toml(f"v = {value_text.strip()}", f"--set {key}")["v"]
    except SpecError as error:
        if "nested" in str(error):
            raise
        value = value_text.strip()  # e.g. --set learner.actor_lr=0.1/(n+1)
    return key, value


def describe(error: ValidationError, source: str) -> str:
    """The first error of a pydantic ValidationError as one line naming key, value, expectation."""
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    message = first["msg"]
    value = first.get("input")
    where = f"{source}: " if source else ""
    if kind == "missing":
        return f"{where}{loc} is missing"
    if kind == "extra_forbidden":
        parent = loc.rpartition(".")[0]
        return f"{where}{loc} is not a known key (in [{parent or 'top level'}]); check its spelling"
    if kind == "literal_error":
        expected = str(first.get("ctx", {}).get("expected", ""))
        expected = "one of " + expected.replace("'", "").replace(" or ", ", ")
    elif kind == "value_error":
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, SpecError):
            return f"{where}{one_line(str(cause))}"
        expected = message.removeprefix("Value error, ")
        if not expected.startswith("expected"):
            return f"{where}{loc}: {one_line(expected)}" if loc else f"{where}{expected}"
        expected = expected.removeprefix("expected ")
    elif message.startswith("Input should be "):
        expected = message.removeprefix("Input should be ")
        if expected.startswith(("greater", "less")):
            expected = "a number " + expected
    else:
        expected = message
    shown = short_repr(value)
    return one_line(f"{where}{loc} is {shown}, expected {expected}" if loc else message)


def short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


MAX_SPEC_BYTES = 1_000_000
"""Largest spec file read (1 MB; the shipped specs are under 2 kB). Reading stops there, so a
device like ``/dev/zero`` is refused instead of filling the memory."""

_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def read_spec_text(path: Path) -> str:
    """The spec file's text: UTF-8 (a UTF-8 byte-order mark is allowed), at most
    :data:`MAX_SPEC_BYTES`; anything else is a one-line :class:`SpecError`."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_SPEC_BYTES + 1)
    except OSError as error:
        raise SpecError(f"{path}: cannot read the spec ({error.strerror or error})") from None
    except ValueError as error:  # e.g. an embedded NUL character in the path
        raise SpecError(f"{short_repr(str(path))}: not a file path ({error})") from None
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(
            f"{path.name}: larger than {MAX_SPEC_BYTES} bytes, expected a TOML spec (a few kB)"
        )
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise SpecError(f"{path.name}: the file is {encoding} text, expected UTF-8 (TOML)")
    if b"\x00" in data:
        raise SpecError(
            f"{path.name}: has NUL bytes (binary, or UTF-16 text), expected a TOML file saved as "
            "UTF-8"
        )
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        raise SpecError(
            f"{path.name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}), expected a TOML file saved as UTF-8"
        ) from None


def parse_toml(text: str, where: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, with every failure (syntax, an integer of more than 4300 digits,
    nesting too deep for the parser) a one-line :class:`SpecError` starting with ``where``."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError, or int() refusing a huge literal
        raise SpecError(f"{where}: not valid TOML ({one_line(str(error))})") from None
    except RecursionError:
        raise SpecError(
            f"{where}: arrays or tables nested too deep to parse, expected at most "
            f"{MAX_NESTING} levels"
        ) from None
    try:
        check_nesting(raw, "the spec")
    except ValueError as error:
        raise SpecError(f"{where}: {error}") from None
    return raw
