"""The plan of docs/architecture.md, held by the import graph of acconv/ (read with ast).

Every ``import`` of an ``acconv`` module anywhere in a file counts, at module level or inside a
function: a lazy import is still an arrow. The layers, from the ground up:

    ground        _validate, _version, mdp, exact, schedules, policies, estimators, sampling,
                  updates, facts, events, envs, loop, results, run_claims
    learners      tabular, neural
    checks        theory_checks
    instruments   instrument
    bridges       adapters, testing, pytest_plugin
    experiments   spec, spec_input, runner, pools, report, reproduce, learner_variants,
                  watched_example, stats, claim_metrics, claims, claim_figures, report_claims
    entry         cli, acconv (the package's __init__), examples (user loops: ``import acconv``)

An arrow may point down or stay in its layer, never up, with two rules on top: theory_checks
imports no learner and no bridge (checks decide from facts, never from a learner's class), and
the learners import neither instrument nor theory_checks (they publish facts and events through
the one emitter; they decide nothing). The graph has no cycle between modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "acconv"

LAYERS: dict[str, int] = {
    "_validate": 0,
    "_version": 0,
    "mdp": 0,
    "exact": 0,
    "schedules": 0,
    "policies": 0,
    "estimators": 0,
    "sampling": 0,
    "updates": 0,
    "facts": 0,
    "events": 0,
    "envs": 0,
    "loop": 0,
    "results": 0,  # the run-folder contract on disk (imports only _version and run_claims)
    "run_claims": 0,  # owner records and per-run claim files (imports nothing of acconv)
    "experiments": 0,  # data only (the canonical specs)
    "tabular": 1,
    "neural": 1,
    "theory_checks": 2,
    "instrument": 3,
    "adapters": 4,
    "testing": 4,
    "pytest_plugin": 4,
    "spec": 5,
    "spec_input": 5,  # a spec's text, limits and messages (split from spec, which imports it)
    "runner": 5,
    "pools": 5,
    "report": 5,
    "reproduce": 5,
    "learner_variants": 5,  # [learners] tables of a spec
    "watched_example": 5,  # the watched_loop learner kind of specs
    "stats": 5,  # IQM and the stratified bootstrap (report and claim metrics)
    "claim_metrics": 5,
    "claims": 5,
    "claim_figures": 5,
    "report_claims": 5,
    "cli": 6,
    "__init__": 6,
    # Example loops: user code that imports the package as a user does (``acconv.watch``), so
    # they sit with the entry points; nothing in acconv imports them.
    "examples": 6,
}

# Deprecated shims kept for one release (CHANGELOG.md, "Deprecated"): each delegates to the
# verdict engine and warns; removed in 0.3.0. Nothing else may cross a forbidden arrow.
DEPRECATED_SHIMS: set[tuple[str, str]] = {
    ("acconv.mdp", "acconv.envs"),  # acconv.mdp.model_of, moved to acconv.envs
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imports(path: Path, module: str) -> Iterator[str]:
    """Every acconv module that ``path`` imports (absolute or relative, at any depth)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "acconv":
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "acconv":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in _modules() else base


def _top(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for target in _imports(path, module):
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target in modules and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def _forbidden(source: str, target: str) -> str | None:
    """Why ``source -> target`` breaks the plan, or None."""
    a, b = _top(source), _top(target)
    if a == b:
        return None
    if a not in LAYERS or b not in LAYERS:
        return f"{a if a not in LAYERS else b} has no layer in docs/architecture.md"
    if a == "theory_checks" and b in ("tabular", "neural", "adapters"):
        return "checks import no learner"
    if a in ("tabular", "neural") and b in ("instrument", "theory_checks"):
        return "learners publish facts and events; they decide nothing"
    if LAYERS[b] > LAYERS[a]:
        return f"an upward arrow ({a} is layer {LAYERS[a]}, {b} layer {LAYERS[b]})"
    return None


def test_every_package_module_has_a_layer() -> None:
    missing = sorted({_top(m) for m in _modules()} - set(LAYERS))
    assert not missing, f"modules without a layer in the plan: {missing}"


def test_no_import_breaks_the_layers() -> None:
    broken = []
    for source, targets in _graph().items():
        for target in sorted(targets):
            why = _forbidden(source, target)
            shim = any(source == s and target.startswith(t) for s, t in DEPRECATED_SHIMS)
            if why is not None and not shim:
                broken.append(f"{source} -> {target}: {why}")
    assert not broken, "\n".join(broken)


def _find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path that ends where it starts, or ``[]``."""
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycle.extend([*path[path.index(target) :], target])
                return True
            if state.get(target) is None and visit(target, [*path, target]):
                return True
        state[node] = 2
        return False

    for module in sorted(graph):
        if state.get(module) is None and visit(module, [module]):
            break
    return cycle


def _without_shims(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    return {
        source: {
            t
            for t in targets
            if not any(source == s and t.startswith(x) for s, x in DEPRECATED_SHIMS)
        }
        for source, targets in graph.items()
    }


def test_the_module_graph_has_no_cycle() -> None:
    # A package's __init__ importing its modules is an arrow like any other (running it runs
    # them); only the deprecated shims' lazy arrows are left out.
    cycle = _find_cycle(_without_shims(_graph()))
    assert not cycle, " -> ".join(cycle)


def test_the_cycle_finder_sees_the_cycle_a_deprecated_shim_would_make() -> None:
    # acconv.mdp.model_of's lazy import of acconv.envs closes mdp -> envs -> ... -> mdp: the
    # very cycle the shim's removal breaks, so the finder must report it.
    cycle = _find_cycle(_graph())
    assert "acconv.mdp" in cycle and any(m.startswith("acconv.envs") for m in cycle)


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        ("acconv.theory_checks.assumptions", "acconv.tabular.ppo", "checks import no learner"),
        ("acconv.neural.ppo", "acconv.instrument.monitor", "decide nothing"),
        ("acconv.mdp", "acconv.runner", "upward"),
    ],
)
def test_the_rules_catch_the_arrows_the_plan_forbids(source: str, target: str, reason: str) -> None:
    why = _forbidden(source, target)
    assert why is not None and reason in why


def test_no_module_is_over_about_700_lines() -> None:
    long = {
        m: n
        for m, p in _modules().items()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 750
    }
    assert not long, f"modules over 750 lines (split them by concern): {long}"
