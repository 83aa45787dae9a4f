"""The generator is a separate part: nothing of the pipeline imports it but the generate
command (lazily), and the published record has one home, which the generator reads. A
run that skips every edition loads neither Dagster, nor Pandera, nor Altair."""

from __future__ import annotations

import ast
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
