"""The ``acconv`` command line.

Every error a user can cause (unknown environment, bad JSON, an invalid value) is reported as one
line on stderr, ``acconv: error: ...``, with exit code 2 and no traceback.
"""

from __future__ import annotations

import json
import math
import os
import stat
import sys
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Verify actor-critic convergence the way the two-timescale theorems state it.",
)


# Typer >= 0.24 vendors click; older releases use click itself. Both expose BadParameter, whose
# base class UsageError is what a malformed command line raises.
_UsageError: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "UsageError"
)


_MAX_PRINTED_STATES = 100


class UserError(Exception):
    """A mistake in what the user asked for; reported in one line with exit code 2."""


@app.callback()
def _root() -> None:
    """Verify actor-critic convergence the way the two-timescale theorems state it."""


@app.command()
def solve(
    env_id: Annotated[str, typer.Argument(help="A registered environment id with a model.")],
    gamma: Annotated[
        float | None,
        typer.Option(help="Discount factor in (0, 1]; default: the model's own, else 0.99."),
    ] = None,
    env_kwargs: Annotated[
        str, typer.Option("--env-kwargs", help="JSON object of keyword arguments for the env.")
    ] = "{}",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Solve an environment exactly: |S|, |A|, γ, V*(ρ) and an optimal policy."""
    from acconv.envs import model_of
    from acconv.exact import optimal_values

    kwargs = _parse_json_object(env_kwargs, "--env-kwargs")
    try:
        mdp = model_of(env_id, kwargs, gamma)
        solution = optimal_values(mdp)
    except ValueError as error:
        raise UserError(str(error)) from error
    v_star_start = float(mdp.rho @ solution.V)
    policy = [int(a) for a in solution.policy.argmax(axis=1)]
    if as_json:
        payload = {
            "env_id": env_id,
            "n_states": mdp.n_states,
            "n_actions": mdp.n_actions,
            "gamma": mdp.gamma,
            "v_star_start": v_star_start,
            "v_star": [float(v) for v in solution.V],
            "policy": policy,
        }
        typer.echo(json.dumps(payload))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{env_id}: exact optimum", show_header=False)
    table.add_row("|S|", str(mdp.n_states))
    table.add_row("|A|", str(mdp.n_actions))
    table.add_row("γ", f"{mdp.gamma:g}")
    table.add_row("horizon", "none" if mdp.horizon is None else str(mdp.horizon))
    table.add_row("V*(ρ)", f"{v_star_start:.6f}")
    shown = " ".join(map(str, policy[:_MAX_PRINTED_STATES]))
    if len(policy) > _MAX_PRINTED_STATES:
        shown += f" … (first {_MAX_PRINTED_STATES} of {len(policy)} states; --json lists all)"
    table.add_row("optimal action per state", shown)
    Console().print(table)


@app.command("check-schedule")
def check_schedule(
    critic: Annotated[
        str, typer.Option("--critic", help="Critic (fast) step size a(n), e.g. '0.5/(n+1)**0.6'.")
    ],
    actor: Annotated[
        str, typer.Option("--actor", help="Actor (slow) step size b(n), e.g. '0.1/(n+1)'.")
    ],
    e_min: Annotated[
        float | None,
        typer.Option(
            "--e-min",
            help=(
                "Smallest real part of the eigenvalues of minus the slow Jacobian (not the "
                "modulus); decides S7 when p_b = 1."
            ),
        ),
    ] = None,
    sympy_timeout: Annotated[
        float,
        typer.Option(
            "--sympy-timeout",
            help=(
                "Budget in seconds for the symbolic work of each condition (and of each "
                "schedule's validity proof); past it the condition is undecided: timed out."
            ),
        ),
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check the step-size conditions S1–S7 (THEORY.md §7) for a critic and an actor schedule."""
    from acconv.schedules import ScheduleError
    from acconv.theory_checks.step_sizes import check_step_sizes

    if e_min is not None and not (math.isfinite(e_min) and e_min > 0):
        raise UserError(f"--e-min is {e_min:g}, expected a finite number > 0")
    if not (math.isfinite(sympy_timeout) and sympy_timeout > 0):
        raise UserError(f"--sympy-timeout is {sympy_timeout:g}, expected seconds > 0")
    try:
        report = check_step_sizes(critic, actor, e_min=e_min, sympy_timeout=sympy_timeout)
    except ScheduleError as error:
        raise UserError(str(error)) from error
    if as_json:
        conditions = [
            {key: value for key, value in v.to_dict().items() if key != "evidence"}
            | {"shown": v.shown}
            for v in report.conditions
        ]
        typer.echo(json.dumps({"conditions": conditions, "two_timescale": report.two_timescale}))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    colours = {"holds": "green", "violated": "red", "undecided": "yellow"}
    title = escape(f"step sizes: a(n) = {critic} (critic), b(n) = {actor} (actor)")
    table = Table(title=title, expand=True)
    table.add_column("id")
    table.add_column("condition", ratio=2)
    table.add_column("status")
    table.add_column("method", overflow="fold")
    table.add_column("detail", ratio=4, overflow="fold")
    for v in report.conditions:
        status = f"[{colours.get(v.status, 'white')}]{escape(v.shown)}[/]"
        table.add_row(v.id, escape(v.name), status, v.method, escape(v.detail))
    console = Console()
    console.print(table)
    overall = report.two_timescale
    console.print(
        f"two-timescale conditions S1–S5: [{colours.get(overall, 'white')}]{overall}[/]",
        highlight=False,
    )


@app.command()
def run(
    spec_path: Annotated[str, typer.Argument(metavar="SPEC", help="An experiment spec (TOML).")],
    seeds: Annotated[
        int | None, typer.Option("--seeds", help="Number of seeds (overrides seeds.count).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="Output folder; default: results/<spec name>.")
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a spec key, e.g. --set budget.n_updates=200 (repeatable)."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Worker processes (default: one per CPU; 1: in-process); for neural specs, "
            "trained as one batch, the batch's torch threads.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    backend: Annotated[
        str,
        typer.Option(
            "--backend",
            metavar="local|ray",
            help="local: a process pool; ray: Ray tasks (needs the ray extra).",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            metavar="ADDR",
            help="With --backend ray: the cluster to connect to (default: a local Ray instance); "
            "--out must be on a filesystem shared by every node.",
        ),
    ] = None,
) -> int:
    """Run an experiment spec: every sweep point × seed, resuming an interrupted sweep."""
    from acconv.runner import BackendUnavailableError, ResultsConflictError, run_spec
    from acconv.spec import LIMITS, SpecError, load_spec

    settings = list(overrides or [])
    if seeds is not None:
        if not 1 <= seeds <= LIMITS["seeds.count"]:
            limit = LIMITS["seeds.count"]
            raise UserError(f"--seeds is {seeds}, expected an integer in [1, {limit}]")
        settings.append(f"seeds.count={seeds}")
    _check_workers(workers)
    if backend not in ("local", "ray"):
        raise UserError(f"--backend is {backend!r}, expected local or ray")
    if address is not None and backend != "ray":
        raise UserError("--address needs --backend ray")
    if out is not None:
        _check_output_folder(out)
    try:
        spec = load_spec(spec_path, settings)
    except SpecError as error:
        raise UserError(str(error)) from None
    out_dir = out if out is not None else f"results/{spec.name}"
    if out is None:
        _check_output_folder(out_dir)
    chosen: Literal["local", "ray"] = "ray" if backend == "ray" else "local"
    try:
        summary = run_spec(
            spec,
            out_dir,
            workers=workers,
            progress=not quiet,
            backend=chosen,
            address=address,
        )
    except (ResultsConflictError, SpecError, BackendUnavailableError) as error:
        raise UserError(" ".join(str(error).split())) from None
    except OSError as error:  # the output folder could not be created or read
        raise UserError(_cannot_write(out_dir, error)) from None
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{spec.name}: {summary.total} runs"), show_header=False)
    table.add_row("done now", str(len(summary.done)))
    table.add_row("already complete (skipped)", str(len(summary.skipped)))
    table.add_row("redone (incomplete or corrupt)", str(len(summary.redone)))
    table.add_row("done by another process (shared sweep)", str(len(summary.by_others)))
    table.add_row("failed", str(len(summary.failed)))
    table.add_row("output folder", escape(str(summary.out_dir)))
    console = Console()
    console.print(table)
    for run_id, reason in summary.redone:
        console.print(escape(f"redone {run_id}: {reason}"), highlight=False)
    for run_id, message in summary.failed:
        typer.echo(f"acconv: run {run_id} failed: {message}", err=True)
    return 1 if summary.failed else 0


@app.command()
def report(
    run_dir: Annotated[
        str, typer.Argument(metavar="RUN_DIR", help="A results folder written by acconv run.")
    ],
    out: Annotated[
        str | None, typer.Option("--out", help="Folder for the report; default: RUN_DIR.")
    ] = None,
) -> None:
    """Write report.html (self-contained) and summary.md for the runs in RUN_DIR."""

    from acconv.report import ReportError, write_report

    def left_out(folder: Path, reason: str) -> None:
        typer.echo(f"acconv: warning: left out {folder}: {' '.join(reason.split())}", err=True)

    try:
        html_path, md_path = write_report(run_dir, out, on_rejected=left_out)
    except (ReportError, OSError) as error:
        raise UserError(" ".join(str(error).split())) from None
    typer.echo(str(html_path))
    typer.echo(str(md_path))


@app.command()
def reproduce(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full",
            help="--quick (default): small budgets, under 3 minutes on 2 cores; --full: the "
            "seeds and budgets behind the claims.",
        ),
    ] = True,
    out: Annotated[
        str | None,
        typer.Option("--out", help="Output folder; default: results/reproduce-<mode>."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Worker processes (default: one per CPU; 1: in-process); for neural specs, "
            "trained as one batch, the batch's torch threads.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
    claim: Annotated[
        list[str] | None,
        typer.Option(
            "--claim",
            help="Run only this claim's specs (a claim id of the suite; repeatable). "
            "claims.json then holds only these claims.",
        ),
    ] = None,
) -> int:
    """Run the canonical suite (every claim's specs) and write one combined report."""
    from acconv.reproduce import reproduce as run_suite
    from acconv.reproduce import select_claims, write_suite_report
    from acconv.runner import ResultsConflictError
    from acconv.spec import SpecError

    mode: Literal["quick", "full"] = "quick" if quick else "full"
    _check_workers(workers)
    try:
        selected = select_claims(claim or None)
    except ValueError as error:
        raise UserError(str(error)) from None
    out_dir = out if out is not None else f"results/reproduce-{mode}"
    _check_output_folder(out_dir)

    def skipped(entry: Any, missing: list[str]) -> None:
        extras = ",".join(missing)
        typer.echo(
            f"acconv: skipped {entry.spec} ({entry.claim}): needs the {extras} extra "
            f'(pip install -c constraints.txt ".[{extras}]")',
            err=True,
        )

    try:
        folder = run_suite(
            mode,
            out_dir,
            workers=workers,
            progress=not quiet,
            report=False,
            on_skip=skipped,
            claims=None if selected is None else sorted(selected),
        )
    except (ResultsConflictError, SpecError) as error:
        raise UserError(" ".join(str(error).split())) from None
    except OSError as error:  # the output folder could not be created or read
        raise UserError(_cannot_write(out_dir, error)) from None
    except RuntimeError as error:
        typer.echo(f"acconv: {' '.join(str(error).split())}", err=True)
        return 1
    from acconv.report import ReportError

    reported = True
    try:
        reports = write_suite_report(folder)
    except ReportError as error:  # e.g. every entry was skipped: nothing to report
        typer.echo(f"results: {folder} (no report: {' '.join(str(error).split())})")
        reports, reported = None, False
    if reports is not None:
        typer.echo(f"report: {reports[0]}")
        typer.echo(f"report (markdown): {reports[1]}")
    elif reported:
        typer.echo(f"results: {folder} (no report: acconv.report is not available)")
    from acconv.claims import read_claims

    record = read_claims(folder) or {"claims": []}
    rows = record["claims"]
    for row in rows:
        typer.echo(f"claim {row['id']}: {row['status']} ({row['mode']}, {row['seeds']} seed(s))")
        for failed in row["failed"]:
            typer.echo(
                f"acconv: mismatch: {row['id']}/{failed['check']}: expected "
                f"{failed['expected']}, got {failed['seen']}",
                err=True,
            )
    typer.echo(f"claims: {Path(folder) / 'claims.json'}")
    if any(row["status"] != "reproduced" for row in rows):
        return 1
    typer.echo(f"every claim was reproduced ({len(rows)} claims)")
    return 0


def _parse_json_object(text: str, option: str) -> dict[str, Any]:
    from acconv._validate import MAX_NESTING, check_nesting

    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        message = f"{option} is not valid JSON ({error.msg} at position {error.pos})"
        raise UserError(message) from None
    except ValueError as error:  # e.g. an integer of more than 4300 digits
        raise UserError(f"{option} is not valid JSON ({' '.join(str(error).split())})") from None
    except RecursionError:
        raise UserError(
            f"{option} is nested too deep, expected at most {MAX_NESTING} levels"
        ) from None
    if not isinstance(value, dict):
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise UserError(f"{option} is {shown!r}, expected a JSON object like '{{\"delay\": 20}}'")
    try:
        check_nesting(value, option)
    except ValueError as error:
        raise UserError(str(error)) from None
    return value


MAX_WORKERS = 1024
"""Most worker processes (or Ray tasks in flight) one command starts."""


def _check_workers(workers: int | None) -> None:
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers is {workers}, expected an integer in [1, {MAX_WORKERS}]")


_NAME_MAX = 255  # bytes in one path component on Linux, macOS and Windows file systems
_PATH_MAX = 4096


def _check_output_folder(out: str) -> None:
    """Check ``--out`` without creating anything: not empty, each name within the file-system
    limits, and either an existing writable folder or a path whose nearest existing ancestor is
    a writable folder. Every refusal is a one-line :class:`UserError`."""
    shown = _shown(out)
    if not out:
        raise UserError("--out is '', expected a folder path (or no --out for the default)")
    try:
        encoded = os.fsencode(out)
    except UnicodeEncodeError:
        raise UserError(f"--out is {shown}, expected a path the file system can encode") from None
    if b"\x00" in encoded:
        raise UserError(f"--out is {shown}, expected a path without NUL characters")
    if len(encoded) >= _PATH_MAX:
        raise UserError(f"--out is {len(encoded)} bytes long, expected fewer than {_PATH_MAX}")
    path = Path(out)
    for part in path.parts:
        if len(os.fsencode(part)) > _NAME_MAX:
            raise UserError(
                f"--out has a name of {len(os.fsencode(part))} bytes ({part[:20]}...), expected "
                f"at most {_NAME_MAX} (the file-system limit)"
            )
    nearest = path
    while True:
        try:
            mode = nearest.stat().st_mode
            break
        except (FileNotFoundError, NotADirectoryError):
            if nearest == nearest.parent:  # e.g. the working directory was removed
                raise UserError(
                    f"--out is {shown}, which has no existing folder above it"
                ) from None
            nearest = nearest.parent
        except OSError as error:
            raise UserError(f"--out is {shown}, which cannot be used ({error.strerror})") from None
    which = "which" if nearest == path else f"below {_shown(str(nearest))}, which"
    if not stat.S_ISDIR(mode):
        raise UserError(f"--out is {shown}, {which} is not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UserError(f"--out is {shown}, {which} is not writable (permission denied)")


def _cannot_write(out: str, error: OSError) -> str:
    """One line for an OSError met while creating or reading the output folder."""
    where = f" ({error.filename})" if error.filename else ""
    return f"--out is {_shown(out)}, which cannot be used: {error.strerror or error}{where}"


def _shown(text: str) -> str:
    """``repr(text)``, cut to 80 characters."""
    shown = repr(text)
    return shown if len(shown) <= 80 else shown[:76] + "...'"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else argv
    try:
        with warnings.catch_warnings():
            # Gymnasium warns about what acconv reports itself (a deprecated id is an error
            # line); its warnings would make that one line three.
            warnings.filterwarnings("ignore", module="gymnasium")
            result = app(args, prog_name="acconv", standalone_mode=False)
    except UserError as error:
        typer.echo(f"acconv: error: {error}", err=True)
        return 2
    except _UsageError as error:
        message = error.format_message()  # type: ignore[attr-defined]
        typer.echo(f"acconv: error: {message} (see acconv --help)", err=True)
        return 2
    except typer.Abort:
        typer.echo("acconv: aborted", err=True)
        return 130
    except typer.Exit as exit_:
        return int(exit_.exit_code)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
