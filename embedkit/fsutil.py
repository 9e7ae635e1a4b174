"""Atomic output: write to a temporary name beside the target, then rename.

An interrupted run therefore leaves either the previous file or nothing, never half a file.
Temporary names carry the writer's process id (`.NAME.PID.XXXX.tmp`); a write into a place
first removes the temporaries of writers that no longer run (a killed run's leftovers), so a
SIGKILL leaves nothing behind for longer than the next run into the same place.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: str | os.PathLike, name: str) -> list[Path]:
    """Remove `.NAME.PID.*.tmp` files and folders in `folder` whose writer (PID) no longer runs;
    returns what was removed."""
    folder = Path(folder)
    pattern = re.compile(re.escape(f".{name}.") + r"(\d+)\..*\.tmp")
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
            removed.append(entry)
    return removed


def temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path in the target's folder; rename it onto `path` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; a finished file follows the umask like any other
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, commit: str | None = None):
    """Yield a temporary folder beside `path`; on success it replaces `path` (files inside it are kept
    only if the whole block succeeds).

    When `path` is already a folder, the new files are moved into it one by one, so a user's other
    files in it survive. `commit` names the file whose presence makes the folder complete (a model
    folder's model.json): the old one is removed first and the new one moved in last, so a kill
    in between leaves a folder without it, which readers take as no output, never a mix that
    looks complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path.parent, path.name)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())   # mkdtemp makes 0700
        if path.is_dir():
            items = sorted(tmp.iterdir(), key=lambda item: item.name == commit)   # the commit file last
            if commit is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path / commit)
            for item in items:
                os.replace(item, path / item.name)
            tmp.rmdir()
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
