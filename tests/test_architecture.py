"""The layout's rules, checked: no import circles (type-only imports and the benchmarks included), no
oversized modules, no function over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import ROOT

PACKAGES = ("indexer", "search_app", "benchmarks")
MAX_FUNCTION_LINES = 60
# Functions allowed over MAX_FUNCTION_LINES (module path → function names): none now. An entry is
# for a function that could not be cut in the change that found it, and leaves with that function.
LONG_FUNCTIONS_ALLOWED: dict[str, set[str]] = {}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for f in (ROOT / pkg).rglob("*.py"):
            parts = list(f.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = f
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules `name` imports anywhere in its body: function-level imports and `if TYPE_CHECKING:`
    blocks count too (a circle broken only by a late or a type-only import is still a circle)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name and not name.startswith(t + "."):  # a package's own __init__ is not an edge
                found.add(t)
    return found


def test_no_import_circles():
    mods = _modules()
    graph = {m: _imports(m, p, set(mods)) for m, p in mods.items()}
    # a package __init__ that only re-exports its submodules is a facade: importing it is importing them
    circles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                circles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not circles, "import circles: " + "; ".join(" → ".join(c) for c in circles)


def test_no_module_much_over_500_lines():
    # "about 500": a module doing one job may run a little over; past 550 it is doing two
    big = {m: n for m, p in _modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 550}
    assert not big, f"modules over 550 lines: {big}"


def test_no_function_over_60_lines():
    long = {}
    for path in _modules().values():
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and node.name not in LONG_FUNCTIONS_ALLOWED.get(rel, set()):
                    long[f"{rel}:{node.name}"] = lines
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_the_allowed_long_functions_are_still_long():
    """An allowance ends with the function it excused: one cut below the limit leaves the list."""
    mods = {p.relative_to(ROOT).as_posix(): p for p in _modules().values()}
    for rel, names in LONG_FUNCTIONS_ALLOWED.items():
        tree = ast.parse(mods[rel].read_text(encoding="utf-8"))
        sizes = {n.name: (n.end_lineno or n.lineno) - n.lineno + 1 for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
        assert all(sizes.get(name, 0) > MAX_FUNCTION_LINES for name in names), (rel, names, sizes)


def test_milvus_code_never_imports_faiss():
    """The Milvus backend runs where FAISS is not installed: nothing it imports (transitively) does."""
    mods = _modules()
    graph = {m: _imports(m, p, set(mods)) for m, p in mods.items()}
    seen: set[str] = set()
    todo = [m for m in mods if m.startswith("indexer.store.milvus")]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += graph[m]
    with_faiss = sorted(m for m in seen if "import faiss" in mods[m].read_text(encoding="utf-8"))
    assert not with_faiss, f"the Milvus backend imports FAISS through {with_faiss}"


# Only the settings module reads the environment (indexer/settings.py: one typed object, read at each
# door's start or through `current()` at use time). What stays elsewhere writes the environment of a
# child process, each named here with how many times it touches `os.environ`.
SETTINGS_MODULE = "indexer/settings.py"
ENVIRONMENT_WRITERS: dict[str, dict[str, int]] = {
    "indexer/pipeline/ray_executor.py": {"<module>": 2},  # Ray's defaults, before ray is imported
    "indexer/store/milvus/server.py": {"_start_lite_server": 2},  # LD_LIBRARY_PATH for the Milvus binary
    "indexer/load/ocr.py": {"recognise": 1},  # OMP_THREAD_LIMIT for Tesseract's own environment
    "search_app/api/__init__.py": {"quiet_openmp": 1, "serve": 1},  # inherited by uvicorn's workers
}


def _environment_uses(path: Path) -> dict[str, int]:
    """Where `path` touches os.environ / os.getenv (or imports them from os): function name → count."""
    uses: dict[str, int] = {}

    def walk(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
            hit = (isinstance(child, ast.Attribute) and child.attr in ("environ", "getenv", "environb")
                   and isinstance(child.value, ast.Name) and child.value.id == "os")
            hit = hit or (isinstance(child, ast.ImportFrom) and child.module == "os"
                          and any(a.name in ("environ", "getenv", "environb") for a in child.names))
            if hit:
                uses[where] = uses.get(where, 0) + 1
            walk(child, inner)

    walk(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return uses


def test_only_the_settings_module_reads_the_environment():
    found = {}
    for pkg in ("indexer", "search_app"):
        for f in sorted((ROOT / pkg).rglob("*.py")):
            rel = f.relative_to(ROOT).as_posix()
            uses = _environment_uses(f)
            if rel != SETTINGS_MODULE and uses and uses != ENVIRONMENT_WRITERS.get(rel):
                found[rel] = uses
    assert not found, f"read settings through indexer/settings.py (Settings.from_env / current()): {found}"
    assert _environment_uses(ROOT / SETTINGS_MODULE)  # the rule's own check: it sees the one reader
