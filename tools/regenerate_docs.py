"""Regenerate the measured numbers of the docs from the commands that produce them.

Run from the repository root::

    python tools/regenerate_docs.py --list                 # ids, commands, approximate times
    python tools/regenerate_docs.py --check                # structure only; runs nothing
    python tools/regenerate_docs.py --only exact sampling  # run two commands, rewrite their blocks
    python tools/regenerate_docs.py                        # run every command (over an hour)

A *generated block* in a Markdown file is delimited by two HTML comments::

    <!-- generated: ID -->
    _Produced by `python benchmarks/bench_exact.py` on 2026-12-02 12:10 UTC at load 0.83 ..._

    ...the command's standard output...
    <!-- end generated: ID -->

The registry ``benchmarks/generated.toml`` (data, never code) maps each ID to an ``argv`` list,
run as ``[sys.executable, *argv]`` from the repository root without a shell, optional ``env``
variables, the ``files`` holding the block and an approximate run time in ``minutes``. A block
is rewritten only when its command exits 0, and each file is replaced atomically
(``os.replace`` of a temporary file), so a failing or interrupted command leaves the file as it
was. Text outside the blocks is never touched.

Summary rows: a command's output lines that start with ``SUMMARY |`` are taken out of its block
and kept in it inside an HTML comment (``<!-- summary rows ... -->``); the block of a registry
entry with ``collect = "summary"`` is then rebuilt from every block's rows, in registry order,
with the id of the block each row came from. So a number in the summary table always comes from
a block, and the block says which command produced it.

A block that has not yet been produced by its command says so on its first line
(``_Stale: not yet regenerated ..._``); ``--check`` lists such blocks and ``--check --strict``
fails on them.

Exit codes: 0 done, 1 a command failed or ``--check`` found a problem, 2 bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = Path("benchmarks/generated.toml")
ID_PATTERN = r"[a-z0-9][a-z0-9_-]*"
START = re.compile(rf"^<!-- generated: ({ID_PATTERN}) -->$", re.MULTILINE)
END = re.compile(rf"^<!-- end generated: ({ID_PATTERN}) -->$", re.MULTILINE)
PRODUCED = "_Produced by "
STALE = "_Stale: not yet regenerated"
SUMMARY_PREFIX = "SUMMARY |"
SUMMARY_OPEN = "<!-- summary rows"
SUMMARY_HEADER = (
    "| benchmark (issue) | target | measured | verdict | block |\n|---|---|---|---|---|"
)


class RegistryError(ValueError):
    """A registry or a Markdown file that does not follow the format (one-line message)."""


@dataclass(frozen=True)
class Entry:
    """One registry entry: the command behind a generated block."""

    id: str
    files: tuple[str, ...]
    argv: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    minutes: float = 0.0
    collect: str | None = None  # "summary": built from the other blocks' rows, no command

    def shown(self) -> str:
        """The command as a person would type it: ``VAR=1 python script.py --flag``."""
        if self.collect:
            return "python tools/regenerate_docs.py"
        prefix = [f"{key}={shlex.quote(value)}" for key, value in self.env.items()]
        return " ".join([*prefix, shlex.join(["python", *self.argv])])


@dataclass(frozen=True)
class Registry:
    entries: dict[str, Entry]
    scan: tuple[str, ...]  # the files whose blocks must all be registered


def _fail(where: str, key: str, value: object, expected: str) -> RegistryError:
    return RegistryError(f"{where}: {key} is {value!r}, expected {expected}")


def _strings(raw: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _fail(where, key, raw, "a list of strings")
    return tuple(raw)


def parse_registry(text: str, source: str) -> Registry:
    """Validate the registry TOML; one-line :class:`RegistryError` naming field and value."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RegistryError(f"{source}: not valid TOML ({error})") from None
    unknown = set(raw) - {"scan", "block"}
    if unknown:
        raise _fail(source, "a top-level key", sorted(unknown)[0], "'scan' or 'block'")
    scan = _strings(raw.get("scan", []), source, "scan")
    blocks = raw.get("block", {})
    if not isinstance(blocks, dict) or not blocks:
        raise _fail(source, "block", blocks, "a table of [block.ID] tables")
    entries: dict[str, Entry] = {}
    for block_id, item in blocks.items():
        where = f"{source}: block.{block_id}"
        if not re.fullmatch(ID_PATTERN, block_id):
            raise _fail(source, "a block id", block_id, "lower case letters, digits, - or _")
        if not isinstance(item, dict):
            raise _fail(where, "the entry", item, "a table")
        extra = set(item) - {"argv", "env", "files", "minutes", "collect"}
        if extra:
            raise _fail(where, "a key", sorted(extra)[0], "argv, env, files, minutes or collect")
        files = _strings(item.get("files"), where, "files")
        if not files:
            raise _fail(where, "files", [], "at least one file")
        collect = item.get("collect")
        if collect not in (None, "summary"):
            raise _fail(where, "collect", collect, '"summary" or no collect key')
        argv = _strings(item.get("argv", []), where, "argv")
        if bool(argv) == bool(collect):
            raise _fail(where, "argv", list(argv), "a non-empty list, unless collect is set")
        env = item.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise _fail(where, "env", env, "a table of strings")
        minutes = item.get("minutes", 0.0)
        if not isinstance(minutes, (int, float)) or isinstance(minutes, bool) or minutes < 0:
            raise _fail(where, "minutes", minutes, "a number >= 0")
        entries[block_id] = Entry(block_id, files, argv, dict(env), float(minutes), collect)
    return Registry(entries, scan)


def load_registry(root: Path, registry: Path) -> Registry:
    path = registry if registry.is_absolute() else root / registry
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RegistryError(f"--registry is {str(registry)!r}: {error.strerror}") from None
    return parse_registry(text, str(registry))


# ------------------------------------------------------------------------------------------------
# blocks in Markdown
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    id: str
    start: int  # offset just after the start marker's line
    end: int  # offset of the end marker
    body: str


def find_blocks(text: str, source: str) -> list[Block]:
    """The generated blocks of a Markdown text, in order; unmatched or nested markers raise."""
    starts = [(m.start(), m.end(), m.group(1), "start") for m in START.finditer(text)]
    ends = [(m.start(), m.end(), m.group(1), "end") for m in END.finditer(text)]
    blocks: list[Block] = []
    open_: tuple[str, int] | None = None
    for begin, stop, block_id, kind in sorted(starts + ends):
        line = text.count("\n", 0, begin) + 1
        if kind == "start":
            if open_ is not None:
                raise RegistryError(
                    f"{source}:{line}: block {block_id!r} starts inside block {open_[0]!r}"
                )
            open_ = (block_id, min(stop + 1, len(text)))
        else:
            if open_ is None or open_[0] != block_id:
                raise RegistryError(f"{source}:{line}: end of block {block_id!r} without its start")
            blocks.append(Block(block_id, open_[1], begin, text[open_[1] : begin]))
            open_ = None
    if open_ is not None:
        raise RegistryError(f"{source}: block {open_[0]!r} has no end marker")
    return blocks


def replace_block(text: str, source: str, block_id: str, body: str) -> str:
    """``text`` with the body of every block ``block_id`` replaced; everything else kept."""
    out, last = [], 0
    for block in find_blocks(text, source):
        if block.id == block_id:
            out += [text[last : block.start], body]
            last = block.end
    return "".join(out) + text[last:]


def split_summary(stdout: str) -> tuple[str, list[str]]:
    """(the output without its ``SUMMARY |`` lines, those lines as Markdown table rows)."""
    kept, rows = [], []
    for line in stdout.splitlines():
        if line.startswith(SUMMARY_PREFIX):
            rows.append("|" + line[len(SUMMARY_PREFIX) :].rstrip())
        else:
            kept.append(line)
    return "\n".join(kept).strip("\n"), rows


def block_body(provenance: str, output: str, rows: Sequence[str]) -> str:
    """A block's body: the provenance line, the output, and the summary rows (hidden)."""
    parts = [provenance, output] if output else [provenance]
    if rows:
        parts.append("\n".join([SUMMARY_OPEN, *rows, "-->"]))
    return "\n" + "\n\n".join(parts) + "\n\n"


def summary_rows(body: str) -> list[str]:
    """The summary rows kept in a block's body."""
    start = body.find(SUMMARY_OPEN)
    if start < 0:
        return []
    stop = body.find("-->", start)
    return [line for line in body[start:stop].splitlines()[1:] if line.startswith("|")]


def provenance_line(entry: Entry, load_before: float, load_after: float, when: dt.datetime) -> str:
    return (
        f"{PRODUCED}`{entry.shown()}` on {when:%Y-%m-%d} at {when:%H:%M} UTC, 1-minute load "
        f"{load_before:.2f} before and {load_after:.2f} after._"
    )


def collect_summary(registry: Registry, bodies: Mapping[str, str]) -> list[str]:
    """The summary table's rows: each block's rows in registry order, tagged with its id (and
    ``stale`` when that block was not regenerated)."""
    rows = []
    for block_id in registry.entries:
        body = bodies.get(block_id, "")
        tag = f"`{block_id}`" + (" (stale)" if body.lstrip().startswith(STALE) else "")
        rows += [f"{row} {tag} |" for row in summary_rows(body)]
    return rows


def summary_body(rows: Sequence[str]) -> str:
    provenance = (
        f"{PRODUCED}`python tools/regenerate_docs.py` from the summary rows of the blocks "
        "below; the last column names the block, whose first line gives the command._"
    )
    return "\n" + provenance + "\n\n" + SUMMARY_HEADER + "\n" + "\n".join(rows) + "\n\n"


# ------------------------------------------------------------------------------------------------
# reading and writing the files
# ------------------------------------------------------------------------------------------------


def _read(root: Path, name: str) -> str:
    """The file's text with its line endings as they are (no newline translation)."""
    try:
        with open(root / name, encoding="utf-8", newline="") as handle:
            return handle.read()
    except OSError as error:
        raise RegistryError(f"{name}: {error.strerror}") from None


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` in one ``os.replace``: a reader sees the old or the new file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_bodies(root: Path, registry: Registry) -> dict[str, str]:
    """Each block's body as found in the first of its files."""
    bodies: dict[str, str] = {}
    for entry in registry.entries.values():
        for block in find_blocks(_read(root, entry.files[0]), entry.files[0]):
            if block.id == entry.id:
                bodies[entry.id] = block.body
                break
    return bodies


def store(root: Path, registry: Registry, new: Mapping[str, str]) -> None:
    """Write the new bodies into their files and rebuild every ``collect`` block."""
    bodies = {**current_bodies(root, registry), **new}
    rows = collect_summary(registry, bodies)
    for entry in registry.entries.values():
        if entry.collect == "summary":
            bodies[entry.id] = summary_body(rows)
    changed = {entry.id for entry in registry.entries.values() if entry.collect} | set(new)
    files = sorted({name for i in changed for name in registry.entries[i].files})
    for name in files:
        text = original = _read(root, name)
        for block_id in changed:
            if name in registry.entries[block_id].files:
                text = replace_block(text, name, block_id, bodies[block_id])
        if text != original:
            write_atomically(root / name, text)


def run_entry(root: Path, entry: Entry) -> tuple[str | None, str]:
    """Run the entry's command once; (new body, or None on failure, and a one-line status)."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    env = {**os.environ, **entry.env}
    try:
        done = subprocess.run(
            [sys.executable, *entry.argv],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        return None, f"{entry.id}: could not start `{entry.shown()}`: {error.strerror}"
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output on stderr"])[-1]
        return None, f"{entry.id}: `{entry.shown()}` exited {done.returncode}: {last}"
    when = dt.datetime.now(dt.timezone.utc)
    output, rows = split_summary(done.stdout)
    body = block_body(provenance_line(entry, load_before, os.getloadavg()[0], when), output, rows)
    return body, f"{entry.id}: done in {seconds:.0f} s"


def regenerate(root: Path, registry: Registry, only: Sequence[str]) -> list[str]:
    """Run the selected commands in registry order; return the failures (one line each)."""
    failures = []
    for entry in registry.entries.values():
        if entry.collect or (only and entry.id not in only):
            continue
        print(f"{entry.id}: running `{entry.shown()}` (about {entry.minutes:g} min)", flush=True)
        body, status = run_entry(root, entry)
        print(status, flush=True)
        if body is None:
            failures.append(status)
        else:
            store(root, registry, {entry.id: body})
    return failures


def check(root: Path, registry: Registry) -> tuple[list[str], list[str]]:
    """(problems, stale block ids): every block registered and in the files the registry names,
    every registered block present, a provenance line in each, the summary up to date."""
    problems: list[str] = []
    seen: dict[str, dict[str, str]] = {}
    names = sorted({*registry.scan, *(f for e in registry.entries.values() for f in e.files)})
    for name in names:
        try:
            blocks = find_blocks(_read(root, name), name)
        except RegistryError as error:
            problems.append(str(error))
            continue
        for block in blocks:
            entry = registry.entries.get(block.id)
            if entry is None:
                problems.append(f"{name}: block {block.id!r} has no entry in the registry")
                continue
            if name not in entry.files:
                problems.append(f"{name}: block {block.id!r} is not listed in its files")
            if block.id in seen.get(name, {}):
                problems.append(f"{name}: block {block.id!r} appears twice")
            seen.setdefault(name, {})[block.id] = block.body
            first = block.body.strip().splitlines()[0] if block.body.strip() else ""
            if not first.startswith((PRODUCED, STALE)):
                problems.append(
                    f"{name}: block {block.id!r} starts with {first[:40]!r}, expected a line "
                    f"starting {PRODUCED!r} or {STALE!r}"
                )
    stale: list[str] = []
    for entry in registry.entries.values():
        bodies = [seen.get(name, {}).get(entry.id) for name in entry.files]
        for name, body in zip(entry.files, bodies, strict=True):
            if body is None:
                problems.append(f"{name}: registered block {entry.id!r} is missing")
        found = [b for b in bodies if b is not None]
        if len(set(found)) > 1:
            problems.append(f"block {entry.id!r} differs between {', '.join(entry.files)}")
        if found and found[0].lstrip().startswith(STALE):
            stale.append(entry.id)
    found_bodies = {i: by_id[i] for by_id in seen.values() for i in by_id}
    rows = collect_summary(registry, found_bodies)
    for entry in registry.entries.values():
        if entry.collect == "summary" and entry.id in found_bodies:
            if found_bodies[entry.id] != summary_body(rows):
                problems.append(
                    f"block {entry.id!r} is not the collection of the summary rows below it; "
                    "run `python tools/regenerate_docs.py --collect` to rebuild it"
                )
    return problems, stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=[], metavar="ID", help="blocks to run")
    parser.add_argument("--list", action="store_true", help="list ids, commands and times")
    parser.add_argument("--check", action="store_true", help="check the blocks; run nothing")
    parser.add_argument("--strict", action="store_true", help="with --check: fail on stale")
    parser.add_argument(
        "--collect", action="store_true", help="rebuild the summary from the blocks; run nothing"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root")
    parser.add_argument("--registry", type=Path, default=REGISTRY, help="relative to --root")
    args = parser.parse_args(argv)
    root: Path = args.root
    try:
        registry = load_registry(root, args.registry)
        unknown = [i for i in args.only or [] if i not in registry.entries]
        if unknown:
            known = ", ".join(registry.entries)
            raise RegistryError(f"--only: {unknown[0]!r} is not a block id (known: {known})")
        if args.list:
            total = 0.0
            for entry in registry.entries.values():
                total += entry.minutes
                files = ", ".join(entry.files)
                print(f"{entry.id}\t~{entry.minutes:g} min\t{entry.shown()}\t[{files}]")
            print(f"total\t~{total:g} min")
            return 0
        if args.check:
            problems, stale = check(root, registry)
            for problem in problems:
                print(problem, file=sys.stderr)
            if stale:
                print(f"stale (not yet regenerated): {', '.join(stale)}")
            if problems or (args.strict and stale):
                return 1
            print(f"{len(registry.entries)} blocks registered, all present with provenance")
            return 0
        if args.collect:
            store(root, registry, {})
            return 0
        failures = regenerate(root, registry, args.only or [])
    except RegistryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for failure in failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
