"""The shape of the code (DESIGN.md): modules of at most ~400 lines, and no import cycles.

The import graph is read from the source with `ast`: every `import embedkit...` and
`from embedkit... import ...` statement, resolved to the module it names (`from embedkit.corpus
import encoded` names embedkit.corpus.encoded). Module-level imports must have no cycle at all.
With the lazy imports inside functions too (still dependencies), no cycle may touch the corpus
front end (embedkit.corpus, embedkit.kernels, embedkit.cache).
"""
import ast
from pathlib import Path

import embedkit

PACKAGE = Path(embedkit.__file__).parent
MAX_LINES = 420          # "about 400"
FRONT_END = ("embedkit.corpus", "embedkit.kernels", "embedkit.cache")


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, known: dict, lazy: bool) -> set[str]:
    found = set()
    tree = ast.parse(path.read_text())
    for node in (ast.walk(tree) if lazy else _module_level(tree.body)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                found.add(sub if sub in known else node.module)
    return {m for m in found if m in known}


def _module_level(body):
    """Statements run at import: the body, and the bodies of its if/try blocks."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try)):
            for part in (node.body, node.orelse, getattr(node, "finalbody", []),
                         *[h.body for h in getattr(node, "handlers", [])]):
                yield from _module_level(part)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_module_is_over_about_400_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_import_cycles():
    known = modules()
    graph = {name: imports(path, known, lazy=False) - {name} for name, path in known.items()}
    assert cycles(graph) == []
    graph = {name: imports(path, known, lazy=True) - {name} for name, path in known.items()}
    assert [c for c in cycles(graph) if any(m.startswith(FRONT_END) for m in c)] == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
