"""Outputs: checked before any work, then written atomically.

check_outputs: before counting or training, every verb checks that each of its outputs can be
written (the nearest existing parent is a folder that takes a new file; missing folders below
it are made when writing; nothing of the wrong kind is in the way), so a long run is never lost
to a typo in --output. atomic_path/atomic_dir: write to a temporary
name beside the target, then rename, so an interrupted run leaves either the previous file or
nothing, never half a file. atomic_rewrite: the same, written over a spare copy the caller keeps
(checkpoints, written again and again).
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
import typing
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
def atomic_rewrite(path: str | os.PathLike, spare: str | os.PathLike):
    """Like atomic_path, but yields the temporary file open for writing ("r+b"), and that file is
    `spare` when it exists: a copy the caller no longer needs, written over in place. The file
    `path` named before becomes the next spare (a hard link to it; without hard links, no spare).

    Why: a new file's pages in the page cache are fresh memory, and on a VM that hands freed memory
    back to its host (virtio free page reporting) the first touch of fresh memory is slow. Here,
    114 MB took 0.6-0.8 s to fill as a new file or a new array, and 0.05 s written over a file's
    own pages (README, "Training lifecycle": checkpoints). PostgreSQL recycles its WAL
    segments for the same kind of reason. Disk use: one more copy at rest; while a write runs
    there are two copies either way (the old file and the temporary one)."""
    path, spare = Path(path), Path(spare)
    with atomic_path(path) as tmp:
        with contextlib.suppress(FileNotFoundError):
            os.replace(spare, tmp)
            if os.stat(tmp).st_nlink > 1:     # a kill between the link and the rename below: spare is `path`
                os.unlink(tmp)                # itself, which must not be written over
                tmp.touch()
        with open(tmp, "r+b") as f:
            yield f
            f.truncate()                      # a spare longer than the new file
        with contextlib.suppress(OSError):
            os.link(path, spare)


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


# ---- fail before working: can the outputs be written? ----

class Output(typing.NamedTuple):
    """An output a verb will write: `path`; `kind` "file", "dir" (a folder it makes or fills, such
    as a model folder) or "into" (an existing folder it writes files into, such as --tmpdir); the
    `option` that named it (for the error). Missing parent folders are fine: the atomic writers
    make them (mkdir -p), so the check is on the nearest folder that exists."""
    path: str
    kind: str
    option: str


def _probe_writable(folder: Path) -> str | None:
    """None when a file can be made in `folder`, else why not. A real file is made and removed:
    os.access says yes to root on a read-only mount's neighbours and knows nothing of quotas."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".embedkit-probe.", dir=folder)
    except OSError as e:
        return e.strerror or str(e)
    os.close(fd)
    os.unlink(tmp)
    return None


def output_problem(out: Output) -> str | None:
    """Why `out` cannot be written (one sentence naming the option, the path and the fix), or None."""
    path = Path(out.path)
    what = "a folder" if out.kind == "dir" else "a file"
    head = f"cannot write {out.option} {out.path}"
    if path.is_symlink() and not path.exists():
        return f"{head}: it is a dangling symbolic link; remove it or choose another path"
    if out.kind == "into" and path.exists() and not path.is_dir():
        return f"{head}: it is a file, not a folder; choose a folder"
    if out.kind == "into" and not path.is_dir():
        return f"{head}: it is not an existing folder; create it first (mkdir -p {path}) or choose another"
    if path.exists():
        if out.kind == "file" and path.is_dir():
            return (f"{head}: {path} is a folder, but {out.option} names a file; give a file name "
                    f"(such as {path / 'NAME'}) or remove the folder")
        if out.kind == "file" and not path.is_file():
            return f"{head}: it is not a regular file (a device or pipe); write to a file and copy it"
        if out.kind == "dir" and not path.is_dir():
            return f"{head}: {path} is a file, but {out.option} names a folder; remove the file or choose another path"
        if out.kind != "file" and (why := _probe_writable(path)):
            return f"{head}: cannot write into this folder ({why}); choose another path"
    parent = path.parent
    while not parent.exists() and not parent.is_symlink() and parent != parent.parent:
        parent = parent.parent            # made when written (mkdir -p)
    if not parent.is_dir():
        return f"{head}: {parent} is a file, not a folder, so {what} cannot go below it; choose another path"
    if why := _probe_writable(parent):
        return f"{head}: cannot write into folder {parent} ({why}); choose another path"
    return None


def cache_output(args) -> list[Output]:
    """The encoded-corpus cache as an output of a verb with --no-cache (none when it is given)."""
    from embedkit.cache import cache_root
    if getattr(args, "no_cache", False):
        return []
    return [Output(str(cache_root()), "dir", "the cache folder ($EMBEDKIT_CACHE_DIR; or give --no-cache)")]


class Input(typing.NamedTuple):
    """A file or folder a verb reads: `path`, the `option` that named it (for the error), and
    `every_file`: a folder whose every non-hidden file below is read (a corpus folder; not a
    model folder, of which a few named files are read)."""
    path: str
    option: str
    every_file: bool = False


def _same_path(a: str, b: str) -> bool:
    """The same file (os.path.samefile: hard and symbolic links too) when both exist, else the same
    resolved path."""
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def _reads(inp: Input, out_path: str) -> str | None:
    """How writing out_path would replace what `inp` reads: "it is" (the file itself), "it is a file
    of" (every_file: an existing non-hidden file below the input folder), or None."""
    if _same_path(inp.path, out_path):
        return "it is"
    if not (inp.every_file and os.path.isdir(inp.path) and os.path.isfile(out_path)):
        return None
    rel = os.path.relpath(os.path.realpath(out_path), os.path.realpath(inp.path))
    inside = not rel.startswith(os.pardir) and not any(part.startswith(".") for part in Path(rel).parts)
    return "it is a file of" if inside else None


def check_outputs(outputs, inputs=()) -> None:
    """Raise EmbedkitError, before any work, for the first of `outputs` (Output tuples; None
    entries and "-", standard output, are skipped) that cannot be written, when two of them
    are the same path, or when one is (or would replace a file of) one of `inputs` (Input
    tuples, "-" skipped): the input would be destroyed. Every verb that writes files calls this
    (embedkit/cli/__init__.py runs it on the outputs and inputs each verb declares)."""
    from embedkit.errors import EmbedkitError
    inputs = [i._replace(path=os.fspath(i.path)) for i in inputs if i is not None and i.path is not None]
    inputs = [i for i in inputs if i.path != "-"]
    seen: dict[str, str] = {}
    for out in outputs:
        if out is None or out.path is None or os.fspath(out.path) == "-":
            continue
        out = out._replace(path=os.fspath(out.path))
        if problem := output_problem(out):
            raise EmbedkitError(problem)
        key = os.path.realpath(out.path)
        if key in seen:
            raise EmbedkitError(f"cannot write {out.option} {out.path}: it is also the path of {seen[key]}; "
                                "give each output its own path")
        seen[key] = out.option
        for inp in inputs:
            what = _reads(inp, out.path)
            if what:
                raise EmbedkitError(f"cannot write {out.option} {out.path}: {what} the input {inp.option} "
                                    f"{inp.path}; give the output its own path (writing it would destroy the input)")
