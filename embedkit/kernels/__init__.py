"""All numba code: pure functions of arrays, scalars and tuples (no classes, I/O or logging).

The on-disk cache of compiled kernels. numba caches a function's machine code keyed on the
timestamp of the file that defines it, so a helper inlined from another module (a walker
inlines logistic.py, word2vec.py, window_batch.py, ...) could change while the cached kernel
kept running its old code. Importing this package therefore hashes the source of every module
in it (and numba's version) and points numba's cache at a folder named by that hash,
$NUMBA_CACHE_DIR/embedkit-<hash> when the user set NUMBA_CACHE_DIR, else
<embedkit cache>/numba/<hash> (embedkit/cache.py). Any edit to any kernel gives a new folder
and a fresh compile of the kernels used; unchanged code finds its folder again. This happens
before any submodule defines its @njit(cache=True) functions, since numba fixes a function's
cache location when the decorator runs. A test edits a helper in a copy of this package and
checks that the new code runs (tests/test_kernel_cache.py).
"""
from __future__ import annotations

import os
from pathlib import Path

import numba
from numba.core import config as _numba_config

from embedkit.cache import cache_root, source_fingerprint

SOURCE_HASH = source_fingerprint(Path(__file__).parent.glob("*.py"), numba.__version__)[:16]


def _cache_dir() -> str:
    user = os.environ.get("NUMBA_CACHE_DIR")
    return os.path.join(user, f"embedkit-{SOURCE_HASH}") if user else str(cache_root() / "numba" / SOURCE_HASH)


CACHE_DIR = _cache_dir()
_numba_config.CACHE_DIR = CACHE_DIR
