"""Who wrote a file, and claims on runs, so that processes on one or many machines share a sweep.

An :class:`Owner` names one process: host, boot id, pid, the process's start time and a random
token. acconv writes an owner record into every temporary folder and every claim it creates;
:func:`owner_is_gone` decides from the record alone whether the process is gone:

* on this host and boot: the pid is not running, or runs a process started at another time (pid
  reuse);
* on another host (which cannot be asked): the record was not refreshed for ``stale_after_s``.

A claim on a run is the file ``<run folder>.claim``, created with ``O_CREAT | O_EXCL`` (atomic on
a local filesystem and on NFSv3 or later) and holding the claimant's owner record; its holder
refreshes its modification time every :data:`HEARTBEAT_S` seconds (:class:`ClaimKeeper`) and
removes it once the run folder is published. A claim whose owner is gone is stale: it is broken
under a short-lived ``.claim.break`` lock, so that of two processes that find the same stale claim
only one removes it, and never a fresh claim created in between. :class:`SharedQueue` hands out
the runs of a sweep that no live process holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CLAIM_STALE_AFTER_S",
    "HEARTBEAT_S",
    "Claim",
    "ClaimKeeper",
    "Owner",
    "SharedQueue",
    "claim_run",
    "owner_is_gone",
    "process_alive",
    "read_owner",
]

CLAIM_SUFFIX = ".claim"
HEARTBEAT_S = 30.0
# A claim not refreshed for 20 heartbeats: its holder (on another host) is taken to be gone.
CLAIM_STALE_AFTER_S = 20 * HEARTBEAT_S
# A break lock is held for a few file operations; one older than this was left by a dead breaker.
_BREAK_STALE_AFTER_S = 60.0


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux), else ``None``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of proc(5), after pid and comm


def process_alive(pid: int) -> bool:
    """``True`` if a process ``pid`` runs on this host (``kill(pid, 0)``; no permission: alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Owner:
    """The process that created a file, and the token that proves the file is its own."""

    host: str
    boot: str | None
    pid: int
    started: str | None
    token: str

    @classmethod
    def of_this_process(cls) -> Owner:
        """This process, with a fresh random token (128 bits)."""
        pid = os.getpid()
        return cls(socket.gethostname(), _boot_id(), pid, _start_time(pid), secrets.token_hex(16))

    def to_bytes(self) -> bytes:
        """The JSON record written into a marker or claim file."""
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode()

    @classmethod
    def from_json(cls, payload: Any) -> Owner | None:
        """The owner in a parsed record, or ``None`` if it is not one acconv wrote."""
        keys = ("host", "boot", "pid", "started", "token")
        if not isinstance(payload, dict) or set(payload) != set(keys):
            return None
        host, boot, pid, started, token = (payload[key] for key in keys)
        if not (
            isinstance(host, str)
            and isinstance(token, str)
            and isinstance(pid, int)
            and not isinstance(pid, bool)
            and all(v is None or isinstance(v, str) for v in (boot, started))
        ):
            return None
        return cls(host=host, boot=boot, pid=pid, started=started, token=token)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def read_owner(path: Path) -> tuple[Owner | None, float | None]:
    """The owner record in ``path`` and the file's age in seconds; ``(None, None)`` if it is
    gone, ``(None, age)`` if it holds no owner record (e.g. still being written)."""
    try:
        with path.open("rb") as handle:
            age = time.time() - os.fstat(handle.fileno()).st_mtime
            data = handle.read(4096)
    except OSError:
        return None, None
    try:
        return Owner.from_json(json.loads(data)), age
    except ValueError:
        return None, age


def owner_is_gone(owner: Owner | None, age_s: float | None, stale_after_s: float) -> bool:
    """Whether the process behind a record is gone (see the module docstring); a file without a
    record is gone only when older than ``stale_after_s``, a missing file always."""
    if age_s is None:
        return True
    if owner is None or owner.host != socket.gethostname():
        return age_s > stale_after_s
    if owner.boot is not None and owner.boot != _boot_id():
        return True
    if not process_alive(owner.pid):
        return True
    started = _start_time(owner.pid)
    return owner.started is not None and started is not None and started != owner.started


def _claim_path(folder: Path) -> Path:
    return folder.with_name(folder.name + CLAIM_SUFFIX)


@dataclass(frozen=True)
class Claim:
    """A claim this process holds on the run folder ``folder``."""

    folder: Path
    owner: Owner

    @property
    def path(self) -> Path:
        return _claim_path(self.folder)

    def is_ours(self) -> bool:
        owner, _ = read_owner(self.path)
        return owner is not None and owner.token == self.owner.token

    def refresh(self) -> None:
        """Touch the claim file (the heartbeat), if it is still ours."""
        if self.is_ours():
            with contextlib.suppress(OSError):
                os.utime(self.path)

    def release(self) -> None:
        """Remove the claim file, if it is still ours."""
        if self.is_ours():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _create_exclusive(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _break_if_stale(path: Path, stale_after_s: float) -> bool:
    """Remove the claim at ``path`` if its owner is gone; ``True`` if it is gone now."""
    owner, age = read_owner(path)
    if not owner_is_gone(owner, age, stale_after_s):
        return False
    lock = path.with_name(path.name + ".break")
    if not _create_exclusive(lock, Owner.of_this_process().to_bytes()):
        _, lock_age = read_owner(lock)
        if lock_age is not None and lock_age > _BREAK_STALE_AFTER_S:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
        return False  # another process is breaking it; look again later
    try:
        # Under the lock, the claim is still the stale one we read, or it is gone.
        again, again_age = read_owner(path)
        same = again == owner and owner_is_gone(again, again_age, stale_after_s)
        if again_age is not None and same:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return True
        return again_age is None
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def claim_run(
    folder: Path, owner: Owner, stale_after_s: float = CLAIM_STALE_AFTER_S
) -> Claim | None:
    """Claim the run folder ``folder`` for ``owner``; ``None`` if a live process holds it.

    A stale claim (its owner gone, :func:`owner_is_gone`) is broken and taken over.
    """
    folder = Path(folder)
    path = _claim_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(3):
        if _create_exclusive(path, owner.to_bytes()):
            return Claim(folder, owner)
        if not _break_if_stale(path, stale_after_s):
            return None
    return None


class ClaimKeeper:
    """Refreshes the claims it holds every ``heartbeat_s`` seconds on a daemon thread."""

    def __init__(self, heartbeat_s: float = HEARTBEAT_S) -> None:
        self.heartbeat_s = heartbeat_s
        self._claims: dict[Path, Claim] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="acconv-claims", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            with self._lock:
                claims = list(self._claims.values())
            for claim in claims:
                claim.refresh()

    def hold(self, claim: Claim) -> None:
        with self._lock:
            self._claims[claim.folder] = claim

    def release(self, folder: Path) -> None:
        with self._lock:
            claim = self._claims.pop(folder, None)
        if claim is not None:
            claim.release()

    def __enter__(self) -> ClaimKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for folder in list(self._claims):
            self.release(folder)


class SharedQueue:
    """The runs of a sweep still to do, shared through claims with other processes.

    ``folders`` maps each run id (in the order to run them) to its run folder; ``is_done``
    says whether a run folder is complete. :meth:`take` claims the next run that no live
    process holds; runs held by others stay queued until their folder is complete (then they
    are in :attr:`by_others`) or their claim is released or stale (then they can be taken).
    """

    def __init__(
        self,
        folders: Mapping[str, Path],
        is_done: Callable[[Path], bool],
        keeper: ClaimKeeper,
        stale_after_s: float = CLAIM_STALE_AFTER_S,
    ) -> None:
        self.folders = dict(folders)
        self.is_done = is_done
        self.keeper = keeper
        self.stale_after_s = stale_after_s
        self.owner = Owner.of_this_process()
        self.queued = list(self.folders)
        self.taken: set[str] = set()
        self.by_others: list[str] = []

    def take(self) -> str | None:
        """Claim and return the next run to do now, or ``None`` (all done, or held by others)."""
        for run_id in list(self.queued):
            folder = self.folders[run_id]
            claim = claim_run(folder, self.owner, self.stale_after_s)
            if claim is None:
                if self.is_done(folder):  # finished by its holder, who has not yet let go
                    self.queued.remove(run_id)
                    self.by_others.append(run_id)
                continue
            self.queued.remove(run_id)
            if self.is_done(folder):  # another process published it before we claimed it
                claim.release()
                self.by_others.append(run_id)
                continue
            self.keeper.hold(claim)
            self.taken.add(run_id)
            return run_id
        return None

    def finish(self, run_id: str) -> None:
        """Let go of the claim of a run this process took (done or failed)."""
        if run_id in self.taken:
            self.taken.discard(run_id)
            self.keeper.release(self.folders[run_id])

    def waiting(self) -> bool:
        """Runs remain that other processes hold: wait for them (and :meth:`take` again)."""
        return bool(self.queued)
