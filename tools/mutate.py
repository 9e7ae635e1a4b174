"""Mutation testing: does the test suite notice a small wrong change in the code?

    cpu python tools/mutate.py                          # sampled run over tables/ kernels/ evaluate/ formats/
    cpu python tools/mutate.py --budget-cpu-s 600 embedkit/tables
    python tools/mutate.py --list embedkit/kernels/walker.py      # the mutants, without running them
    cpu python tools/mutate.py --planted tools/planted_bugs.json  # hand-written bugs instead of generated ones

Each mutant is one small edit of one source file (operators swapped, a comparison made strict or
loose, a constant moved by one, `and`/`or`, `min`/`max`, `break`/`continue`, True/False, a unary
minus or `not` dropped; numba's `cache=`/`nogil=` flags are left alone: they change speed, not
results). It runs on a private copy of the tracked files (with ../shared beside it, as in CI),
against only the test files that exercise its module (TESTS below), with a time limit.
A mutant is *killed* when a test fails, *survived* when all pass, *timeout* when the time limit
hits (an infinite loop is a detected bug too).

numba: compiled kernels are cached by source file timestamp, and a kernel inlined from another
file, or a module constant read by a kernel, is not part of that check. So every mutant of a file
that uses numba, and every mutant of module-level code, runs with a fresh, empty NUMBA_CACHE_DIR
(a cold compile). Mutants inside plain Python functions of numba-free files cannot change compiled
code; they share one warm cache to save CPU (--cold-always turns that off).

Sampling: all mutants are listed, shuffled with --seed, and taken round-robin across modules while
the estimated CPU cost (each module's measured baseline run, cold or warm) fits --budget-cpu-s.
Results: one JSON line per mutant in --out, and the survival table on stdout. Mark a line that
must not be mutated (a tolerance, a message) with `# pragma: no mutate`.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TARGETS = ["embedkit/tables", "embedkit/kernels", "embedkit/evaluate", "embedkit/formats"]

# source path prefix -> the test files that exercise it (longest matching prefix wins)
TESTS = {
    "embedkit/tables/subwords.py": ["test_subwords.py", "test_subword_train.py"],
    "embedkit/tables/subsample.py": ["test_tables.py", "test_training_dynamics.py"],
    "embedkit/tables": ["test_tables.py", "test_word2vec_kernels.py"],
    "embedkit/kernels/__init__.py": ["test_kernel_cache.py"],
    "embedkit/kernels/random.py": ["test_random.py", "test_tables.py", "test_training_dynamics.py"],
    "embedkit/kernels/sampling.py": ["test_tables.py", "test_word2vec_kernels.py"],
    "embedkit/kernels/cooccur.py": ["test_cooccur.py"],
    "embedkit/kernels/glove.py": ["test_glove.py"],
    "embedkit/kernels/bytehash.py": ["test_scan.py", "test_vocab_encode.py"],
    "embedkit/kernels/textscan.py": ["test_scan.py", "test_vocab_encode.py"],
    "embedkit/kernels/pieces.py": ["test_scan.py", "test_stream.py", "test_tokenlists.py"],
    "embedkit/kernels/phrases.py": ["test_phrases.py"],
    "embedkit/kernels/examples.py": ["test_classifier.py"],
    "embedkit/kernels/supervised.py": ["test_classifier.py"],
    "embedkit/kernels/softmax.py": ["test_classifier.py"],
    "embedkit/kernels/label_rows.py": ["test_classifier.py"],
    "embedkit/kernels/records.py": ["test_fasttext_bin.py"],
    "embedkit/kernels": ["test_word2vec_kernels.py", "test_training_dynamics.py", "test_subword_train.py"],
    "embedkit/evaluate/external.py": ["test_evaluate_external.py", "test_evaluate.py"],
    "embedkit/evaluate": ["test_evaluate.py", "test_gensim_interop.py"],
    "embedkit/formats/fasttext_bin.py": ["test_fasttext_bin.py", "test_fuzz_readers.py"],
    "embedkit/formats": ["test_io.py", "test_fuzz_readers.py", "test_gensim_interop.py"],
    "embedkit/trainers": ["test_word2vec_kernels.py", "test_training_dynamics.py", "test_runner.py",
                          "test_word2vec_train.py", "test_subword_train.py"],
}

OVERRIDE_TESTS: list[str] = []
NO_MUTATE_KEYWORDS = {"cache", "nogil"}
SWAP_OPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
            ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
            ast.BitXor: ast.BitOr, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
            ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
            ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.And: ast.Or, ast.Or: ast.And}


@dataclass
class Mutant:
    path: str            # relative to the repository root
    line: int
    kind: str            # which operator made it
    start: tuple         # (line, col) of the replaced span, 1-based line, 0-based col (ast convention)
    end: tuple
    old: str
    new: str
    module_level: bool

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        offs = [0]
        for ln in lines:
            offs.append(offs[-1] + len(ln))
        a = offs[self.start[0] - 1] + _col(lines[self.start[0] - 1], self.start[1])
        b = offs[self.end[0] - 1] + _col(lines[self.end[0] - 1], self.end[1])
        assert source[a:b] == self.old, (self.path, self.line, source[a:b], self.old)
        return source[:a] + self.new + source[b:]


def _col(line: str, utf8_col: int) -> int:
    """ast columns count UTF-8 bytes; str indices count code points."""
    return len(line.encode("utf-8")[:utf8_col].decode("utf-8"))


def _docstring_nodes(tree) -> set:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _alternatives(node):
    """(kind, mutated copy of node) pairs for one AST node."""
    def with_(field, value, kind):
        m = copy.deepcopy(node)
        setattr(m, field, value)
        return kind, m

    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAP_OPS:
        yield with_("op", SWAP_OPS[type(node.op)](), f"{type(node.op).__name__}->{SWAP_OPS[type(node.op)].__name__}")
    elif isinstance(node, ast.BoolOp):
        yield with_("op", SWAP_OPS[type(node.op)](), f"{type(node.op).__name__}->{SWAP_OPS[type(node.op)].__name__}")
    elif isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in SWAP_OPS:
                ops = list(node.ops)
                ops[i] = SWAP_OPS[type(op)]()
                yield with_("ops", ops, f"{type(op).__name__}->{type(ops[i]).__name__}")
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        yield f"drop {type(node.op).__name__}", node.operand
    elif isinstance(node, ast.Constant) and type(node.value) is bool:
        yield with_("value", not node.value, "bool")
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        v = node.value
        new = (1 if v == 0 else v + 1) if type(v) is int else (1.0 if v == 0 else v * 2)
        yield with_("value", new, "number")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("min", "max"):
        m = copy.deepcopy(node)
        m.func.id = "max" if node.func.id == "min" else "min"
        yield f"{node.func.id}->{m.func.id}", m
    elif isinstance(node, ast.Break):
        yield "break->continue", ast.Continue()
    elif isinstance(node, ast.Continue):
        yield "continue->break", ast.Break()


def mutants_of(path: Path) -> list[Mutant]:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    skip = _docstring_nodes(tree)
    rel = str(path.relative_to(ROOT))
    out = []

    def visit(node, in_def: bool, in_raise: bool):
        if isinstance(node, ast.keyword) and node.arg in NO_MUTATE_KEYWORDS:
            return                                     # numba's cache/nogil: speed, not results
        if isinstance(node, (ast.Raise, ast.JoinedStr)) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                                                            and node.func.attr == "warn"):
            in_raise = True                            # messages are text, not behaviour
        in_def = in_def or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if (not in_raise and hasattr(node, "lineno") and id(node) not in skip
                and "pragma: no mutate" not in lines[node.lineno - 1]):
            for kind, m in _alternatives(node):
                old = ast.get_source_segment(source, node)
                new = ast.unparse(m)
                if isinstance(node, ast.expr) and not isinstance(node, ast.Constant):
                    new = f"({new})"                   # keep the precedence of the replaced span
                elif isinstance(node, ast.Constant) and isinstance(m.value, (int, float)) and m.value < 0:
                    new = f"({new})"
                if old is not None and new != old:
                    out.append(Mutant(rel, node.lineno, kind, (node.lineno, node.col_offset),
                                      (node.end_lineno, node.end_col_offset), old, new, not in_def))
        for child in ast.iter_child_nodes(node):
            visit(child, in_def, in_raise)

    visit(tree, False, False)
    return out


def planted_mutants(spec: Path) -> list[Mutant]:
    """[{"name", "file", "old", "new"}]: exact, unique text replacements."""
    out = []
    for item in json.loads(spec.read_text()):
        source = (ROOT / item["file"]).read_text(encoding="utf-8")
        assert source.count(item["old"]) == 1, f"{item['name']}: 'old' must occur exactly once in {item['file']}"
        a = source.index(item["old"])
        line = source.count("\n", 0, a) + 1
        col = len(source[:a].rsplit("\n", 1)[-1].encode("utf-8"))
        end_text = source[:a + len(item["old"])]
        end = (end_text.count("\n") + 1, len(end_text.rsplit("\n", 1)[-1].encode("utf-8")))
        out.append(Mutant(item["file"], line, item["name"], (line, col), end, item["old"], item["new"], True))
    return out


def tests_for(rel: str) -> list[str]:
    if OVERRIDE_TESTS:
        return OVERRIDE_TESTS
    best = max((p for p in TESTS if rel.startswith(p)), key=len, default=None)
    return [f"tests/{t}" for t in TESTS[best]] if best else []


def uses_numba(rel: str) -> bool:
    return "numba" in (ROOT / rel).read_text(encoding="utf-8")


class Sandbox:
    """A private copy of the tracked files, ../shared beside it, and a warm numba cache."""

    def __init__(self, keep: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="embedkit-mutate-"))
        self.repo = self.dir / "repo"
        self.keep = keep
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout.split("\n")
        for f in filter(None, files):
            if (ROOT / f).is_file():
                (self.repo / f).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / f, self.repo / f)
        shared = (ROOT.parent / "shared").resolve()
        if shared.exists():
            (self.dir / "shared").symlink_to(shared)
        self.warm_cache = self.dir / "numba-warm"
        self.warm_cache.mkdir()

    def run_tests(self, tests: list[str], timeout: float, cold: bool) -> tuple[str, float, float]:
        """(outcome, wall s, CPU s) of pytest on `tests` in the sandbox."""
        cache = Path(tempfile.mkdtemp(dir=self.dir, prefix="numba-")) if cold else self.warm_cache
        corpus_cache = Path(tempfile.mkdtemp(dir=self.dir, prefix="corpus-"))
        env = {**os.environ, "PYTHONPATH": str(self.repo), "NUMBA_CACHE_DIR": str(cache),
               "EMBEDKIT_CACHE_DIR": str(corpus_cache), "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=self.repo, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
            outcome = "survived" if rc == 0 else ("killed" if rc in (1, 2, 3, 4) or rc < 0 else "error")
            if rc == 5:
                outcome = "error"                      # no tests collected: a mapping mistake
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            outcome = "timeout"
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        shutil.rmtree(corpus_cache, ignore_errors=True)
        return outcome, wall, cpu

    def close(self):
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="*", default=DEFAULT_TARGETS, help="files or folders to mutate")
    ap.add_argument("--budget-cpu-s", type=float, default=5400, help="stop sampling when the estimated CPU seconds reach this")
    ap.add_argument("--timeout-factor", type=float, default=3.0, help="time limit = factor x the baseline wall time + 30 s")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--planted", type=Path, help="JSON list of hand-written bugs to run instead of generated mutants")
    ap.add_argument("--cold-always", action="store_true", help="a fresh numba cache for every mutant")
    ap.add_argument("--tests", nargs="+", help="run these test files for every mutant instead of TESTS's")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--out", type=Path, default=Path("mutants.jsonl"))
    ap.add_argument("--keep", action="store_true", help="keep the sandbox folder")
    args = ap.parse_args(argv)
    OVERRIDE_TESTS[:] = args.tests or []

    if args.planted:
        mutants = planted_mutants(args.planted)
    else:
        files = []
        for t in args.targets:
            p = (ROOT / t)
            files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
        mutants = [m for f in files for m in mutants_of(f)]
    if args.list:
        for m in mutants:
            print(f"{m.path}:{m.line}: {m.kind}: {m.old!r} -> {m.new!r}")
        print(f"{len(mutants)} mutants")
        return 0

    box = Sandbox(args.keep)
    try:
        # baselines: every test group must pass unmutated; its cold and warm costs set the estimates
        groups = sorted({tuple(tests_for(m.path)) for m in mutants})
        base = {}
        for g in groups:
            if not g:
                continue
            cold = box.run_tests(list(g), timeout=1800, cold=True)
            warm = box.run_tests(list(g), timeout=1800, cold=False)       # fills the shared warm cache
            if cold[0] != "survived" or warm[0] != "survived":
                print(f"baseline fails for {g}: {cold[0]}/{warm[0]}", file=sys.stderr)
                return 1
            base[g] = {"cold": cold, "warm": warm}
            print(f"baseline {' '.join(g)}: cold {cold[1]:.0f} s wall / {cold[2]:.0f} s CPU, "
                  f"warm {warm[1]:.0f} s / {warm[2]:.0f} s", flush=True)

        rng = random.Random(args.seed)
        by_module: dict[str, list[Mutant]] = {}
        for m in mutants:
            by_module.setdefault(m.path, []).append(m)
        for ms in by_module.values():
            rng.shuffle(ms)
        chosen, estimate = [], 0.0
        queues = {k: list(v) for k, v in sorted(by_module.items())}
        while any(queues.values()):
            for path, q in queues.items():
                if not q:
                    continue
                m = q.pop()
                g = tuple(tests_for(m.path))
                if not g:
                    continue
                cold = args.cold_always or args.planted or m.module_level or uses_numba(m.path)
                cost = base[g]["cold" if cold else "warm"][2]
                if estimate + cost > args.budget_cpu_s:
                    continue
                estimate += cost
                chosen.append((m, bool(cold)))
        print(f"{len(mutants)} mutants, {len(chosen)} sampled (estimated {estimate:.0f} CPU s)", flush=True)

        results = []
        with open(args.out, "w") as out:
            for k, (m, cold) in enumerate(chosen, 1):
                target = box.repo / m.path
                original = target.read_text(encoding="utf-8")
                stat = target.stat()
                target.write_text(m.apply(original), encoding="utf-8")
                g = tuple(tests_for(m.path))
                limit = args.timeout_factor * base[g]["cold" if cold else "warm"][1] + 30
                try:
                    outcome, wall, cpu = box.run_tests(list(g), limit, cold)
                finally:
                    target.write_text(original, encoding="utf-8")
                    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))   # the warm cache stays valid
                rec = {"path": m.path, "line": m.line, "kind": m.kind, "old": m.old, "new": m.new,
                       "outcome": outcome, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "cold_cache": cold}
                results.append(rec)
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
                out.flush()
                print(f"[{k}/{len(chosen)}] {outcome:8s} {m.path}:{m.line} {m.kind}: {m.old!r} -> {m.new!r}", flush=True)
        print_table(results, by_module)
    finally:
        box.close()
    return 0


def print_table(results: list[dict], by_module: dict) -> None:
    print("\n| module | mutants | run | killed | survived | timeouts | errors |")
    print("|---|---|---|---|---|---|---|")
    total = [0] * 6
    for path in sorted(by_module):
        rs = [r for r in results if r["path"] == path]
        row = [len(by_module[path]), len(rs)] + [sum(r["outcome"] == o for r in rs)
                                                 for o in ("killed", "survived", "timeout", "error")]
        total = [a + b for a, b in zip(total, row)]
        print(f"| {path} | " + " | ".join(map(str, row)) + " |")
    print("| total | " + " | ".join(map(str, total)) + " |")
    for r in results:
        if r["outcome"] == "survived":
            print(f"survived: {r['path']}:{r['line']} {r['kind']}: {r['old']!r} -> {r['new']!r}")


if __name__ == "__main__":
    sys.exit(main())
