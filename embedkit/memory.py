"""Refusing settings whose arrays cannot fit, before they are allocated.

The rule: a run's weight matrices (rows x columns x 4 bytes each, float32; bucket rows included)
must fit in the memory available now: MemAvailable of /proc/meminfo (what the kernel says can be
allocated without swapping), or the room left under the cgroup's memory.max when that is smaller.
Where neither can be read the check is skipped. The matrices are only a lower bound on what a run
needs (the corpus, tables and copies come on top), so a setting this check passes may still fail;
then the MemoryError is turned into the same one-line error (`allocating`).

Also here: trim_heap, which hands the C heap's free memory back to the system between passes, and
map_large_blocks, which keeps large C blocks out of the heap in the first place (the CLI calls it).
"""
from __future__ import annotations

import contextlib
import ctypes
import os

from embedkit.errors import EmbedkitError

FLOAT32 = 4


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_room() -> int | None:
    """memory.max - memory.current of this process's cgroup (v2), None when unlimited or unknown."""
    try:
        with open("/proc/self/cgroup", encoding="ascii") as f:
            rel = next((line.strip().split(":", 2)[2] for line in f if line.startswith("0::")), None)
        if rel is None:
            return None
        folder = os.path.join("/sys/fs/cgroup", rel.lstrip("/"))
        with open(os.path.join(folder, "memory.max"), encoding="ascii") as f:
            limit = f.read().strip()
        if limit == "max":
            return None
        with open(os.path.join(folder, "memory.current"), encoding="ascii") as f:
            return max(int(limit) - int(f.read().strip()), 0)
    except (OSError, ValueError, StopIteration):
        return None


def available_memory() -> tuple[int, str] | None:
    """(bytes, where the figure comes from), or None when the machine does not say."""
    found = [(n, src) for n, src in ((_meminfo_available(), "MemAvailable in /proc/meminfo"),
                                     (_cgroup_room(), "left under this cgroup's memory.max")) if n is not None]
    return min(found) if found else None


def format_bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def describe_arrays(arrays: dict[str, tuple[int, int]]) -> str:
    return " and ".join(f"{name} {rows:,} x {cols:,}" for name, (rows, cols) in arrays.items() if rows)


def arrays_bytes(arrays: dict[str, tuple[int, int]], itemsize: int = FLOAT32) -> int:
    return sum(int(rows) * int(cols) * itemsize for rows, cols in arrays.values())


def check_fits(arrays: dict[str, tuple[int, int]], settings: str, fix: str, itemsize: int = FLOAT32) -> None:
    """EmbedkitError naming `settings` (the options and sizes that make the arrays, e.g. "--dim 300
    and 71,290 words"), the size needed and the memory available, when `arrays` ({name: (rows,
    cols)}) cannot fit. `fix` says which options to lower."""
    need = arrays_bytes(arrays, itemsize)
    avail = available_memory()
    if avail is not None and need > avail[0]:
        raise EmbedkitError(f"{settings} need {format_bytes(need)} for the weights ({describe_arrays(arrays)}, "
                            f"{itemsize * 8}-bit floats), but {format_bytes(avail[0])} of memory is available "
                            f"({avail[1]}): {fix}")


def out_of_memory(settings: str, fix: str, error: BaseException | None = None) -> EmbedkitError:
    """The one-line error for a MemoryError that happened anyway."""
    avail = available_memory()
    detail = f" ({str(error).strip().rstrip('.')})" if error is not None and str(error).strip() else ""
    where = f"; {format_bytes(avail[0])} is available ({avail[1]})" if avail else ""
    return EmbedkitError(f"out of memory allocating the arrays for {settings}{detail}{where}: {fix}")


@contextlib.contextmanager
def allocating(settings: str, fix: str):
    """Turn a MemoryError inside the block (numpy's _ArrayMemoryError among them) into the one-line error."""
    try:
        yield
    except MemoryError as e:
        raise out_of_memory(settings, fix, e) from None


_malloc_trim = None          # glibc's malloc_trim, False where the C library has none (musl, macOS)
_mallopt = None              # glibc's mallopt, likewise

M_MMAP_THRESHOLD = -3        # glibc's mallopt parameter number (malloc.h)
LARGE_BLOCK = 2 << 20        # bytes; above the 1 MiB text blocks of the reader (corpus/reader.py BLOCK_SIZE)


def _glibc(name: str, argtypes: list):
    try:
        fn = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return False
    fn.argtypes, fn.restype = argtypes, ctypes.c_int
    return fn


def map_large_blocks(threshold: int = LARGE_BLOCK) -> bool:
    """Serve every C allocation of `threshold` bytes or more from its own memory map (glibc
    mallopt(M_MMAP_THRESHOLD)), so that freeing it gives its pages back to the system at once.

    By default glibc raises that threshold to the size of each mapped block freed, up to 32 MiB.
    Counting a corpus frees blocks of growing size (the hash table doubling, read buffers), so
    the blocks allocated after it, the training's tables among them, land in the heap, around
    holes the counting left: the peak grew with the corpus (4-25 MB more on the 65M-token raw
    dump than on text8 at the same vocabulary size; 3 MB with the threshold fixed at 2 MiB, and
    27 MB less on text8 itself; README, "Memory", Growth). 2 MiB keeps the reader's 1 MiB text
    blocks in the heap, where they are reused. The CLI (cli.main) calls this at its start. Library
    users may call it too; it changes malloc for the whole process, which is why train() does not.
    Does nothing where MALLOC_MMAP_THRESHOLD_ is set in the environment (the user's own setting)
    or the C library has no mallopt (musl, macOS); returns whether the threshold was set."""
    global _mallopt
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    if _mallopt is None:
        _mallopt = _glibc("mallopt", [ctypes.c_int, ctypes.c_int])
    return bool(_mallopt) and _mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1


def trim_heap() -> None:
    """Give the free memory of the C heap back to the system (glibc malloc_trim(0); elsewhere nothing).

    Counting a corpus grows its hash table by doubling and, on text with non-ASCII lines, makes and
    drops many Python strings: freed, that memory stays in glibc's heap (57 MB after counting the
    65M-token raw Wikipedia dump), resident under everything allocated later, the weights
    included, and it grows with the number of word types seen. The passes call this when they end."""
    global _malloc_trim
    if _malloc_trim is None:
        _malloc_trim = _glibc("malloc_trim", [ctypes.c_size_t])
    if _malloc_trim:
        _malloc_trim(0)
