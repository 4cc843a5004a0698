"""The layout's rules, read from the source: imports point one way, and each bucket's keys are
built in one module (ARCHITECTURE.md, "Layout" and "Imports point one way")."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("flightdelay", "services", "training", "cli", "offline", "apiclient")
SERVICES = ("api", "fetcher", "evaluator", "conditions")
FRAMEWORKS = ("typer", "click", "rich", "fastapi", "starlette", "uvicorn", "prometheus_client")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (a lazy import still counts)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def layer(module: str) -> str:
    """flightdelay, cli, offline, training, or services.<stage>."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else parts[0]


# Who may import whom: the command line above the stages and stand-ins, they above the core.
ALLOWED = {
    "flightdelay": {"flightdelay"},
    "offline": {"offline", "flightdelay"},
    "training": {"training", "flightdelay"},
    **{f"services.{s}": {f"services.{s}", "flightdelay"} for s in SERVICES},
    "cli": {"cli", "training", "offline", "flightdelay", "apiclient", *(f"services.{s}" for s in SERVICES)},
    "apiclient": {"apiclient"},  # standard library only: it runs on a bare CI runner (scripts/smoke.py)
}


def test_every_package_has_a_place_in_the_rules() -> None:
    stages = {p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()}
    assert stages == set(SERVICES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package: str) -> None:
    wrong = []
    for module, path in modules(package):
        for imported in imports(path):
            if imported.split(".")[0] not in PACKAGES or imported == "services":
                continue
            if layer(imported) not in ALLOWED[layer(module)]:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_the_core_imports_no_cli_or_web_framework() -> None:
    wrong = [
        f"{module} imports {imported}"
        for module, path in modules("flightdelay")
        for imported in imports(path)
        if imported.split(".")[0] in FRAMEWORKS
    ]
    assert wrong == []


def test_no_import_circle_between_the_project_modules() -> None:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for module, path in modules(package):
            graph[module] = set()
            for imported in imports(path):
                graph[module].add(imported)
    known = set(graph)
    edges = {m: {i for i in targets if i in known and i != m} for m, targets in graph.items()}
    # Packages import their own modules through __init__; only module-to-module edges count.
    packages = {m for m, p in ((m, ROOT / m.replace(".", "/")) for m in known) if p.is_dir()}
    edges = {m: targets - packages for m, targets in edges.items() if m not in packages}

    def cycle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    return [*path, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
        return None

    cycles = [c for m in sorted(edges) if (c := cycle_from(m))]
    assert cycles == []


# Literal beginnings of keys in the buckets; only their owner may build them.
MODELS_KEYS = ("staging/", "prod/", "decisions/", "monitoring/", "latest.txt")
DATA_KEYS = ("training/", "new/", "conditions/", "predictions/")
OWNERS = {"flightdelay/registry.py": MODELS_KEYS, "flightdelay/layout.py": DATA_KEYS}


def key_literals(path: Path) -> Iterator[tuple[int, str]]:
    """String pieces that start a key: f-string heads and plain strings, never docstrings or help text."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            text = str(node.values[0].value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if " " not in text:  # a sentence that names a prefix is not a key
            yield node.lineno, text


@pytest.mark.parametrize("package", PACKAGES)
def test_only_the_owner_of_a_bucket_builds_its_keys(package: str) -> None:
    wrong = []
    for _, path in modules(package):
        relative = path.relative_to(ROOT).as_posix()
        for line, text in key_literals(path):
            for prefix in (*MODELS_KEYS, *DATA_KEYS):
                if text.startswith(prefix) and prefix not in OWNERS.get(relative, ()):
                    wrong.append(f"{relative}:{line}: {text!r}")
    assert wrong == []


def test_the_api_client_needs_nothing_but_the_standard_library() -> None:
    """scripts/smoke.py runs it on a bare CI runner, from the checkout alone."""
    import sys

    outside = {
        name.split(".")[0]
        for _, path in modules("apiclient")
        for name in imports(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] not in ("__future__", "apiclient")
    }
    assert outside == set()
