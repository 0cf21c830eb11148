"""The package layout holds: no import cycles, no import runs upstream, no module too big.

Data flows one way: documents → store → retrieve → answer → check, compare → evaluation → web
→ cli.
Every import counts, also those inside functions and under ``TYPE_CHECKING``: a cycle that
only type checking sees is still two modules that cannot be understood apart.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "assistant"

# The rank of each stage. A module may import its own stage and any lower rank, never a higher
# one. Rank 0 is the shared top: types, settings, text utilities, errors, safety, prompts.
RANKS = {
    "": 0,
    "documents": 1,
    "store": 2,
    "retrieve": 3,
    "answer": 4,
    "check": 5,
    "compare": 5,
    "evaluation": 6,
    "web": 7,
    "cli": 8,
}


MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = ["assistant", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _stage(module: str) -> str:
    """`assistant.store.index` -> "store"; a top-level module -> "" (`assistant.cli` -> "cli")."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in RANKS:
        return parts[1]
    return ""


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The assistant modules ``module`` imports (a package counts as its ``__init__``)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "assistant")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "assistant":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return {m for m in out if m in known and m != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_graph_sees_the_packages() -> None:
    graph = _graph()
    assert "assistant.answer.core" in graph
    assert "assistant.store.index" in graph["assistant.answer.core"]
    assert {_stage(m) for m in graph} == set(RANKS)  # every stage exists, none unranked


def test_no_import_cycles() -> None:
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles (break them by moving code downstream): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_no_import_runs_upstream() -> None:
    upstream = [
        f"{m} ({_stage(m) or 'top'}, rank {RANKS[_stage(m)]}) imports {t} "
        f"({_stage(t) or 'top'}, rank {RANKS[_stage(t)]})"
        for m, targets in sorted(_graph().items()) for t in sorted(targets)
        if RANKS[_stage(t)] > RANKS[_stage(m)]
    ]
    assert upstream == [], "imports that run upstream:\n" + "\n".join(upstream)


def test_the_checks_catch_a_cycle_and_an_upstream_import() -> None:
    """The two checks above can fail: a planted cycle and a planted upstream import."""
    graph = {"assistant.a": {"assistant.b"}, "assistant.b": {"assistant.a"}, "assistant.c": set()}
    assert _cycles(graph) == [["assistant.a", "assistant.b"]]
    assert RANKS[_stage("assistant.store.index")] > RANKS[_stage("assistant.documents.pdf")]
    assert _stage("assistant.cli") == "cli"
    assert _stage("assistant.types") == ""


@pytest.mark.parametrize("package", [p for p in RANKS if p and p != "cli"])
def test_each_package_says_what_it_holds_and_may_import(package: str) -> None:
    init = ROOT / package / "__init__.py"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    assert "May import" in doc, f"{init}: the docstring says what the package may import"


def test_no_module_over_600_lines_and_no_function_over_80() -> None:
    too_big = []
    for module, path in _modules().items():
        source = path.read_text(encoding="utf-8")
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_big.append(f"{module}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    too_big.append(f"{module}.{node.name}: {n} lines")
    assert too_big == [], "split these (one concern per module, one step per function): " + (
        "; ".join(too_big))


def test_a_module_run_with_python_m_defines_everything_before_it_runs() -> None:
    """``python -m assistant.cli`` runs the ``if __name__ == "__main__"`` block where it stands:
    a function defined below it does not exist yet (a trial met ``NameError:
    _readable_lines`` on every `evidence` answer). The guard is each module's last statement."""
    late = []
    for path in sorted(ROOT.rglob("*.py")):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for i, node in enumerate(body):
            if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                    and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"
                    and i != len(body) - 1):
                late.append(str(path.relative_to(ROOT)))
    assert late == []
