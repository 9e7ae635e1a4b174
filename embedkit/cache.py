"""Where embedkit keeps what it can rebuild, and the fingerprints that keep it from going stale.

    $EMBEDKIT_CACHE_DIR (default ~/.cache/embedkit)
        <corpus fingerprint>/      an encoded corpus (corpus/prepare.py), and GloVe's cached
                                   co-occurrence matrices beside it
        numba/<kernels hash>/      numba's compiled kernels (kernels/__init__.py)

A cached thing is named by a fingerprint of everything that produced it, the code included:
`source_fingerprint` hashes the source files of the modules that did the work. After an
upgrade or an edit, the new code finds no entry under the old name and rebuilds; nothing
stale is ever served. Old entries are not deleted automatically: remove the folder to reclaim
the space.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def cache_root() -> Path:
    """$EMBEDKIT_CACHE_DIR, or ~/.cache/embedkit."""
    return Path(os.environ.get("EMBEDKIT_CACHE_DIR") or Path.home() / ".cache" / "embedkit")


def source_fingerprint(files, *extra: str) -> str:
    """sha256 (hex) of the names and bytes of `files` (sorted by name) and of `extra` strings
    (library versions, ...). A file that cannot be read counts by its name alone."""
    h = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        h.update(path.name.encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
        h.update(b"\0")
    for s in extra:
        h.update(s.encode() + b"\0")
    return h.hexdigest()
