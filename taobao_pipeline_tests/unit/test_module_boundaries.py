"""The import graph runs one way, with no cycle: the engine (no Dagster) < ``defs/`` (the
Dagster wing) < ``definitions`` (the code location) < the command line (``cli``,
``runner``, ``progress``), every import counted, at the top of a file or inside a function.
The generator is a separate part: nothing of the pipeline imports it but the generate
command (lazily), and the published record has one home, which the generator reads. A
run that skips every edition loads neither Dagster, nor Pandera, nor Altair."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import taobao_pipeline

PACKAGE = Path(taobao_pipeline.__file__).parent


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at the top level of the file) of every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            name = node.module if node.level == 0 else f".{node.module}"
            found.append((name, id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top) for alias in node.names]
    return found


# the layers, lowest first; a module imports only from its own layer or those below
COMMAND_LINE = {"taobao_pipeline.cli", "taobao_pipeline.runner", "taobao_pipeline.progress"}
CODE_LOCATION = {"taobao_pipeline.definitions"}
WING = "taobao_pipeline.defs"
LAYERS = ["engine", "defs/ (the Dagster wing)", "the code location", "the command line"]

Graph = dict[str, dict[str, list[int]]]  # module -> module it imports -> lines


def _layer(module: str) -> int:
    if module in COMMAND_LINE:
        return 3
    if module in CODE_LOCATION:
        return 2
    if module == WING or module.startswith(f"{WING}."):
        return 1
    return 0


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _graph() -> Graph:
    """Every import of a pipeline module by a pipeline module, top-level or not (inside a
    function, under ``TYPE_CHECKING``): ``from p import n`` is an import of ``p.n`` where
    that is a module, else of ``p``."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: Graph = {}
    for module, path in files.items():
        edges = graph.setdefault(module, {})
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the package, up one per extra dot
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                if target in files and target != module:
                    edges.setdefault(target, []).append(node.lineno)
    return graph


def _upward(graph: Graph) -> list[str]:
    """Each import from a lower layer to a higher one."""
    return [
        f"{module} (line {lines[0]}, {LAYERS[_layer(module)]}) imports {target} "
        f"({LAYERS[_layer(target)]})"
        for module, edges in sorted(graph.items())
        for target, lines in sorted(edges.items())
        if _layer(target) > _layer(module)
    ]


def _cycles(graph: Graph) -> list[list[str]]:
    """The modules that import one another, directly or not, in groups."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for target in graph.get(todo.pop(), {}):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    reached = {module: reach(module) for module in graph}
    groups = {
        tuple(sorted(m for m in reached[module] if module in reached[m]))
        for module in graph
        if module in reached[module]
    }
    return sorted(list(group) for group in groups)


def test_the_layers_name_modules_that_exist() -> None:
    graph = _graph()
    assert COMMAND_LINE | CODE_LOCATION | {WING} <= set(graph)
    assert {_layer(m) for m in graph} == {0, 1, 2, 3}
    # the helpers see what they are meant to: an import running up, a cycle
    wing, location = "taobao_pipeline.defs.runner", "taobao_pipeline.definitions"
    assert _upward({wing: {location: [18]}}) == [
        f"{wing} (line 18, defs/ (the Dagster wing)) imports {location} (the code location)"
    ]
    assert _cycles({"a": {"b": [1]}, "b": {"c": [1]}, "c": {"a": [1]}, "d": {"a": [1]}}) == [
        ["a", "b", "c"]
    ]


def test_no_import_runs_up_the_layers() -> None:
    """The engine imports neither ``defs/`` nor the code location nor the command line;
    ``defs/`` neither of the last two; the code location not the command line."""
    assert _upward(_graph()) == []


def test_the_import_graph_has_no_cycle() -> None:
    assert _cycles(_graph()) == []


def _loaded(modules: list[str], prefixes: list[str]) -> list[str]:
    """The modules starting with one of ``prefixes`` that importing ``modules`` loads, in a
    fresh interpreter."""
    code = (
        f"import sys, {', '.join(modules)}; "
        f"print('\\n'.join(m for m in sorted(sys.modules) if m.startswith({tuple(prefixes)!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_no_pipeline_module_imports_the_generator() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if "generator" in path.relative_to(PACKAGE).parts:
            continue
        for module, at_top in _imports(path):
            if module.startswith("taobao_pipeline.generator") and (at_top or path.name != "cli.py"):
                offenders.append((path.name, module))
    assert offenders == []
    generator = _loaded(
        ["taobao_pipeline.definitions", "taobao_pipeline.runner", "taobao_pipeline.cli"],
        ["taobao_pipeline.generator"],
    )
    assert generator == []


def test_the_generator_reads_the_record_and_the_provinces_of_the_product() -> None:
    used = {m for p in (PACKAGE / "generator").glob("*.py") for m, _ in _imports(p)}
    assert "taobao_pipeline.published_record" in used
    assert "taobao_pipeline.provinces" in used
    assert not (PACKAGE / "generator" / "published.py").exists()


def test_a_run_that_skips_every_edition_loads_no_dagster_pandera_or_altair() -> None:
    """What ``run`` needs to plan, summarise and name the report: about 1 s less of imports
    for the no-change rerun, which the issue wants within 10% of a first run."""
    planning = ["cli", "fingerprints", "summary", "rules", "report"]
    heavy = ["dagster", "pandera", "altair", "vl_convert"]
    assert _loaded([f"taobao_pipeline.{m}" for m in planning], heavy) == []


def test_the_command_plans_with_the_rules_of_the_definitions() -> None:
    """``run`` plans with ``Rules()`` (no Dagster); the definitions' resource must agree."""
    from taobao_pipeline.definitions import defs
    from taobao_pipeline.rules import Rules

    assert defs.resources["rules"].rules() == Rules()


def test_dagster_is_confined_to_the_defs_wing() -> None:
    """Only ``defs/``, the code location that gathers it and the command line's runner
    and progress import Dagster; the engine (ingest, rules, SQL, staging, publish,
    release, report) does not."""
    speaks_dagster = set()
    for path in PACKAGE.rglob("*.py"):
        if any(m == "dagster" or m.startswith("dagster.") for m, _ in _imports(path)):
            speaks_dagster.add(str(path.relative_to(PACKAGE)))
    outside = {p for p in speaks_dagster if not p.startswith("defs/")}
    assert outside == {"definitions.py", "runner.py", "progress.py"}
    engine = ["release", "warehouse", "ingest", "staging", "computations", "report.build"]
    assert _loaded([f"taobao_pipeline.{m}" for m in engine], ["dagster"]) == []
