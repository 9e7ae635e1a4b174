"""numba's kernel cache is keyed on the source of every kernel module (embedkit/kernels/__init__.py):
an edited helper runs at once, without touching the module of the kernel that inlines it."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import embedkit
from embedkit import kernels

PACKAGE = Path(embedkit.__file__).parent

CALLER = '''from numba import njit
from embedkit.kernels.helper import helper


@njit(cache=True)
def call(x):
    return helper(x)
'''
HELPER = '''from numba import njit


@njit(cache=True, inline="always")
def helper(x):
    return x + {n}
'''
RUN = ("from embedkit.kernels.caller import call; from embedkit import kernels; "
       "print(call(1), call.stats.cache_hits and 'hit' or 'miss', kernels.CACHE_DIR)")


def run(root: Path) -> tuple[str, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(root), EMBEDKIT_CACHE_DIR=str(root / "cache"))
    out = subprocess.run([sys.executable, "-c", RUN], env=env, cwd=root, capture_output=True, text=True, check=True)
    value, hit, folder = out.stdout.split()
    return value, hit, folder


def test_an_edited_helper_runs_without_touching_its_caller(tmp_path):
    pkg = tmp_path / "embedkit"
    (pkg / "kernels").mkdir(parents=True)
    for name in ("__init__.py", "cache.py", "errors.py"):
        shutil.copy(PACKAGE / name, pkg / name)
    shutil.copy(PACKAGE / "kernels" / "__init__.py", pkg / "kernels" / "__init__.py")
    (pkg / "kernels" / "caller.py").write_text(CALLER)
    (pkg / "kernels" / "helper.py").write_text(HELPER.format(n=1))
    caller_stat = os.stat(pkg / "kernels" / "caller.py")

    first = run(tmp_path)
    assert first[:2] == ("2", "miss") and first[2].startswith(str(tmp_path / "cache" / "numba"))
    assert run(tmp_path) == ("2", "hit", first[2])          # unchanged code: served from the cache

    (pkg / "kernels" / "helper.py").write_text(HELPER.format(n=2))
    os.utime(pkg / "kernels" / "caller.py", ns=(caller_stat.st_atime_ns, caller_stat.st_mtime_ns))
    value, hit, folder = run(tmp_path)
    assert (value, hit) == ("3", "miss") and folder != first[2]   # the new helper runs, compiled afresh


def test_the_kernels_cache_in_the_keyed_folder():
    from embedkit.kernels import textscan
    assert kernels.CACHE_DIR.endswith(kernels.SOURCE_HASH)
    assert textscan.count_text._cache._cache_path.startswith(kernels.CACHE_DIR)
