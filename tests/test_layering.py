"""Who may import whom (docs/architecture.md): producers only produce histories, so
nothing under engine/ or db/ imports the checker, the lab, the reports or the
commands; the console script and the CLI do not import each other. Every import
of every module is walked with ast, those inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mvcc_check"

PRODUCERS = ("mvcc_check.engine", "mvcc_check.db")
ABOVE_PRODUCERS = (
    "mvcc_check.analysis",
    "mvcc_check.lab",
    "mvcc_check.report",
    "mvcc_check.commands",
    "mvcc_check.cli",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((node.lineno, module))
            # `from mvcc_check import analysis` imports the subpackage too
            out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return out


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_walk_sees_the_imports_it_must_judge():
    """The walk itself: it finds an import inside a function and a relative one."""
    lab = PACKAGE / "lab" / "engine_runs.py"
    assert any(m == "mvcc_check.analysis.checker" for _, m in imports_of(lab))
    cli = imports_of(PACKAGE / "commands" / "run.py")
    assert any(m.startswith("mvcc_check.engine") for _, m in cli)


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _within(_module_name(p), PRODUCERS)],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_producers_do_not_import_the_checker_or_anything_above_it(path):
    bad = [f"line {ln}: {m}" for ln, m in imports_of(path) if _within(m, ABOVE_PRODUCERS)]
    assert not bad, f"{path.relative_to(PACKAGE)} imports above the producers: {bad}"


def test_the_core_does_not_import_producers_lab_reports_or_commands():
    above = PRODUCERS + ABOVE_PRODUCERS[1:]
    bad = [
        f"{p.relative_to(PACKAGE)} line {ln}: {m}"
        for p in _modules()
        if _within(_module_name(p), ("mvcc_check.analysis",))
        for ln, m in imports_of(p)
        if _within(m, above)
    ]
    assert not bad


def test_the_console_script_and_the_cli_do_not_import_each_other():
    cli = {m for _, m in imports_of(PACKAGE / "cli.py")}
    console = {m for _, m in imports_of(PACKAGE / "console.py")}
    assert not ("mvcc_check.console" in cli and "mvcc_check.cli" in console)
    assert "mvcc_check.console" not in cli


def _exits(path: Path) -> list[int]:
    """Lines that end the process with a code (sys.exit, raise SystemExit)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr == "exit" and isinstance(f.value, ast.Name) and f.value.id == "sys":
                out.append(node.lineno)
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(exc, ast.Name) and exc.id == "SystemExit":
                out.append(node.lineno)
    return out


def test_exit_codes_are_decided_in_one_place():
    """Commands return their code and raise domain errors; the CLI group (cli.py) turns
    both into the exit code. Only the benchmark scripts, run by hand, exit themselves."""
    scripts = {PACKAGE / "bench.py", PACKAGE / "bench_scan.py"}
    assert all(_exits(p) for p in scripts)  # the walk sees an exit where there is one
    bad = [
        f"{p.relative_to(PACKAGE)} line {ln}"
        for p in _modules()
        if p not in scripts
        for ln in _exits(p)
    ]
    assert not bad
