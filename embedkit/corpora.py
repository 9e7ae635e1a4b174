"""Corpora: the bundled default corpus and a registry of standard downloadable data.

default_corpus_path() is the small corpus committed in the repository's corpora/ folder (King
James Bible + WordNet 3.0 glosses, 2.27M tokens; corpora/README.md). REGISTRY names the standard
larger corpora and the evaluation sets that cannot ship in the package (MEN, RW: see
embedkit/evaluate/external.py); fetch() downloads one with urllib to a temporary name, checks its
digest, unpacks it (zip or tar.gz) and renames each output into place, so an interrupted or failed
fetch never leaves half a file.

fil9 is enwik9 passed through Matt Mahoney's wikifil.pl (public domain), re-implemented here on
bytes so that the output is the Perl script's, byte for byte: see embedkit/wikifil.py.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.client
import os
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional

from embedkit.errors import EmbedkitError
from embedkit.fsutil import atomic_path
from embedkit.wikifil import wikifil, wikifil_record  # noqa: F401 (wikifil_record: part of this module's API)

DEFAULT_CORPUS_ENV = "EMBEDKIT_DEFAULT_CORPUS"
DEFAULT_CORPUS_NAME = "default-corpus.txt.gz"
_CHUNK = 1 << 20          # bytes per read while downloading, hashing and unpacking
_TIMEOUT_S = 60.0         # socket timeout of a download (per blocking read, not the whole transfer)


def default_corpus_path() -> Path:
    """The bundled corpus: $EMBEDKIT_DEFAULT_CORPUS if set, else <repository>/corpora/default-corpus.txt.gz.

    The file lives in the repository, found relative to this module (the editable install that
    `make` does); a wheel install does not carry it, hence the clear error.
    """
    env = os.environ.get(DEFAULT_CORPUS_ENV)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise EmbedkitError(f"{DEFAULT_CORPUS_ENV}={env} does not name an existing file")
        return path
    path = Path(__file__).resolve().parent.parent / "corpora" / DEFAULT_CORPUS_NAME
    if not path.is_file():
        raise EmbedkitError(
            f"the bundled default corpus {path} is missing (it ships in the repository's corpora/ folder, "
            f"not in a wheel): pass --corpus PATH or set {DEFAULT_CORPUS_ENV}")
    return path


def default_data_dir(folder: str = "corpora") -> Path:
    """Where fetch() puts data unless told: $EMBEDKIT_CACHE_DIR/FOLDER (default ~/.cache/embedkit/FOLDER);
    FOLDER is "corpora", or "eval" for evaluation sets."""
    return Path(os.environ.get("EMBEDKIT_CACHE_DIR") or Path.home() / ".cache" / "embedkit") / folder


# ---------------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class Output:
    path: str                 # file written under the destination folder
    member: str               # archive member it comes from
    transform: str = "copy"   # copy: the member's bytes; wikifil: wikifil.pl normalisation of them;
                              # pairs: 'word1<TAB>word2<TAB>score' lines (the first three columns; a header dropped)
    sha1: Optional[str] = None  # published SHA-1 of the member as released, checked while unpacking


@dataclass(frozen=True)
class RemoteCorpus:
    name: str
    description: str
    url: str
    archive: str                  # file name of the download
    outputs: tuple                # Output, ...
    sha256: Optional[str] = None  # of the archive; None: not verified by us (the first fetch prints it)
    md5: Optional[str] = None     # widely published MD5 of the archive, checked when no SHA-256 is pinned
    size: Optional[int] = None    # archive bytes when published, checked when no SHA-256 is pinned
    licence: str = ""
    sha1: Optional[str] = None    # published SHA-1 of the archive, checked when no SHA-256 is pinned
    folder: str = "corpora"       # default destination under the cache: "corpora" or "eval"

    def checks(self) -> str:
        parts = [f"sha256 {self.sha256[:12]}..." if self.sha256 else "sha256 not recorded"]
        if self.sha1:
            parts.append(f"sha1 {self.sha1}")
        if self.md5:
            parts.append(f"md5 {self.md5}")
        if self.size:
            parts.append(f"{self.size:,} bytes")
        return ", ".join(parts)


# No SHA-256 is recorded: none could be verified here (no network), and none is invented. The MD5s
# are the ones torchtext and others publish; text8.zip's size is the one TensorFlow's word2vec
# tutorial checks. A user pins a SHA-256 with fetch(..., sha256=...) / --sha256.
REGISTRY: dict[str, RemoteCorpus] = {c.name: c for c in (
    RemoteCorpus(
        name="text8", description="first 1e8 bytes of enwik9 after wikifil.pl (17M tokens, one line)",
        url="http://mattmahoney.net/dc/text8.zip", archive="text8.zip",
        outputs=(Output("text8", "text8"),), size=31_344_016,
        licence="Wikipedia text (CC BY-SA / GFDL)"),
    RemoteCorpus(
        name="fil9", description="enwik9 (first 1e9 bytes of a 2006 English Wikipedia dump) after wikifil.pl (one line)",
        url="http://mattmahoney.net/dc/enwik9.zip", archive="enwik9.zip",
        outputs=(Output("fil9", "enwik9", "wikifil"),), md5="3e773f8a1577fda2e27f871ca17f31fd",
        licence="Wikipedia text (CC BY-SA / GFDL)"),
    RemoteCorpus(
        name="wikitext-103", description="WikiText-103 word-level (Merity et al. 2016): train/valid/test, ~103M tokens, <unk> for rare words",
        url="https://wikitext.smerity.com/wikitext-103-v1.zip", archive="wikitext-103-v1.zip",
        outputs=tuple(Output(f"wikitext-103/wiki.{s}.tokens", f"wikitext-103/wiki.{s}.tokens")
                      for s in ("train", "valid", "test")),
        md5="9ddaacaf6af0710eda8c456decff7832",
        licence="Wikipedia text (Creative Commons BY-SA)"),
    # Evaluation sets. The SHA-1s of the archives and of the MEN member are the ones GluonNLP's
    # dataset loaders check; rw/rw.txt's was also checked here against a copy of the release.
    RemoteCorpus(
        name="men", description="MEN relatedness set: 3,000 word pairs, natural form, scores 0-50 (Bruni et al. 2014)",
        url="https://staff.fnwi.uva.nl/e.bruni/resources/MEN.tar.gz", archive="MEN.tar.gz",
        outputs=(Output("men.txt", "MEN/MEN_dataset_natural_form_full", "pairs",
                        sha1="af9c2ca0033e2561676872eed98e223ee6366b82"),
                 Output("men-licence.txt", "MEN/licence.txt", sha1="f57c6d61814a0895236ab99c06b61b2611430f92")),
        sha1="3c4af1b7009c1ad75e03562f7f7bc5f51ff3a31a", folder="eval",
        licence="CC BY 2.0 (men-licence.txt); cite Bruni, Tran and Baroni, JAIR 49, 2014"),
    RemoteCorpus(
        name="rw", description="Stanford Rare Words: 2,034 word pairs, scores 0-10 (Luong et al. 2013)",
        url="http://www-nlp.stanford.edu/~lmthang/morphoNLM/rw.zip", archive="rw.zip",
        outputs=(Output("rw.txt", "rw/rw.txt", "pairs", sha1="bafc59f099f1798b47f5bed7b0ebbb933f6b309a"),
                 Output("rw-README.txt", "rw/README.txt")),
        sha1="bf9c5959a0a2d7ed8e51d91433ac5ebf366d4fb9", folder="eval",
        licence="no licence stated (rw-README.txt); cite Luong, Socher and Manning, CoNLL 2013"),
)}


def get(name: str) -> RemoteCorpus:
    try:
        return REGISTRY[name]
    except KeyError:
        raise EmbedkitError(f"unknown corpus {name!r}: choose one of {', '.join(sorted(REGISTRY))}") from None


# ---------------------------------------------------------------------------------------------
# Download, verify, unpack


def fetch(name, dest_dir=None, url: Optional[str] = None, sha256: Optional[str] = None, *,
          keep_archive: bool = False, report: Optional[Callable[[str], None]] = None) -> list[Path]:
    """Download corpus `name` (a REGISTRY key or a RemoteCorpus) into dest_dir; return its output files.

    Outputs already present are kept (nothing is downloaded). An archive already in dest_dir (for
    example copied there on a machine without network) is verified and used instead of downloading.
    `url` replaces the registry's; `sha256` pins the archive's digest and then replaces the registry's
    MD5 and size checks. A download that fails or does not match is deleted before the error.
    """
    entry = name if isinstance(name, RemoteCorpus) else get(name)
    say = report or (lambda msg: None)
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
        raise EmbedkitError(f"--sha256 {sha256!r} is not 64 hexadecimal digits")
    dest = Path(dest_dir) if dest_dir is not None else default_data_dir(entry.folder)
    outputs = [dest / o.path for o in entry.outputs]
    if all(p.is_file() for p in outputs):
        say(f"{entry.name}: already present in {dest}")
        return outputs

    archive = dest / entry.archive
    downloaded = not archive.is_file()
    source = url or entry.url
    what = f"{entry.archive} downloaded from {'--url ' if url else ''}{source}" if downloaded else str(archive)
    try:
        if downloaded:
            _check_url(url)
            say(f"{entry.name}: downloading {source}")
            with atomic_path(archive) as tmp:
                digests = _download(source, tmp, say)
                _verify(entry, digests, sha256, what, say)
        else:
            say(f"{entry.name}: using {archive} already present")
            _verify(entry, _digest_file(archive), sha256, what, say, fresh=False)
        written = []
        try:
            for out, target in zip(entry.outputs, outputs):
                if not target.is_file():
                    say(f"{entry.name}: unpacking {out.member} -> {target}")
                    _unpack(archive, out, target, what)
                    written.append(target)
        except BaseException:
            for target in written:                     # all of an entry's outputs, or none
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
            raise
    finally:
        if downloaded and not keep_archive:
            with contextlib.suppress(FileNotFoundError):
                archive.unlink()
    return outputs


def _check_url(url: Optional[str]) -> None:
    """EmbedkitError unless `url` (--url; None: the registry's) is a URL urllib can download from,
    before anything is written: urllib's own errors for a plain path or a bad host are tracebacks."""
    if url is None:
        return
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port                             # a port that is not a number raises here
    except ValueError as e:                    # 'http://[::1': a bracket left open
        raise EmbedkitError(f"--url {url} is not a valid URL ({e})") from None
    scheme = parts.scheme.lower()
    if (scheme in ("http", "https", "ftp") and parts.hostname) or (scheme == "file" and parts.path):
        return
    local = f"; for the file {url} give file://{os.path.abspath(url)}" if os.path.exists(url) else ""
    raise EmbedkitError(f"--url {url} is not a URL to download from (http://HOST/..., https://..., ftp://... "
                        f"or file:///PATH){local}")


def _download(url: str, path: Path, say) -> tuple[str, str, int, str]:
    """Stream url into path; return (sha256, md5, bytes, sha1). Every failure is an EmbedkitError."""
    sha, md5, sha1, size = hashlib.sha256(), hashlib.md5(), hashlib.sha1(), 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT_S) as resp, open(path, "wb") as f:
            expected = resp.headers.get("Content-Length")
            expected = int(expected) if expected and expected.isdigit() else None
            next_report = 64 << 20
            for block in iter(lambda: resp.read(_CHUNK), b""):
                f.write(block)
                sha.update(block)
                md5.update(block)
                sha1.update(block)
                size += len(block)
                if size >= next_report:
                    say(f"  {size >> 20:,} MiB" + (f" of {expected >> 20:,} MiB" if expected else ""))
                    next_report += 64 << 20
    except urllib.error.HTTPError as e:
        raise EmbedkitError(f"could not download {url}: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise EmbedkitError(f"could not download {url}: {e.reason}") from None
    except (http.client.HTTPException, OSError) as e:
        raise EmbedkitError(f"download of {url} failed after {size:,} bytes: {e!r}") from None
    if expected is not None and size != expected:
        raise EmbedkitError(f"download of {url} stopped at {size:,} of {expected:,} bytes")
    return sha.hexdigest(), md5.hexdigest(), size, sha1.hexdigest()


def _digest_file(path: Path) -> tuple[str, str, int, str]:
    sha, md5, sha1, size = hashlib.sha256(), hashlib.md5(), hashlib.sha1(), 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            sha.update(block)
            md5.update(block)
            sha1.update(block)
            size += len(block)
    return sha.hexdigest(), md5.hexdigest(), size, sha1.hexdigest()


def _verify(entry: RemoteCorpus, digests, pinned: Optional[str], what: str, say, fresh: bool = True) -> None:
    """Raise an EmbedkitError naming both digests on mismatch; report the SHA-256 when none is on record."""
    sha, md5, size, sha1 = digests
    fate = "the download was discarded" if fresh else "delete it"
    hint = f"{fate} (if the file legitimately changed, accept it with --sha256 {sha})"
    want = (pinned or entry.sha256 or "").lower() or None
    if want is not None:
        if sha != want:
            raise EmbedkitError(f"{what}: SHA-256 is {sha}, expected {want}; {hint}")
        return
    if entry.size is not None and size != entry.size:
        raise EmbedkitError(f"{what}: {size:,} bytes, expected {entry.size:,}; {hint}")
    if entry.md5 is not None and md5 != entry.md5:
        raise EmbedkitError(f"{what}: MD5 is {md5}, expected {entry.md5}; {hint}")
    if entry.sha1 is not None and sha1 != entry.sha1:
        raise EmbedkitError(f"{what}: SHA-1 is {sha1}, expected {entry.sha1}; {hint}")
    # No SHA-256 on record: print the digest so the user can pin it next time.
    say(f"{entry.archive}: sha256 {sha} ({size:,} bytes; no SHA-256 on record, pin it with --sha256)")


@contextlib.contextmanager
def _member(archive: Path, name: str, what: str):
    """A binary file object of one member of a zip or tar(.gz) archive; EmbedkitError (naming the
    archive as `what`) when unreadable."""
    try:
        if archive.name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(archive, "r:*") as tf:
                try:
                    info = tf.getmember(name)
                except KeyError:
                    raise EmbedkitError(f"{what} has no member {name!r} "
                                        f"(members: {', '.join(tf.getnames()[:5])})") from None
                src = tf.extractfile(info) if info.isfile() else None
                if src is None:
                    raise EmbedkitError(f"{what}: member {name!r} is not a regular file")
                with src:
                    yield src
        else:
            with zipfile.ZipFile(archive) as zf:
                try:
                    src = zf.open(name)
                except KeyError:
                    raise EmbedkitError(f"{what} has no member {name!r} "
                                        f"(members: {', '.join(zf.namelist()[:5])})") from None
                with src:
                    yield src
    except zipfile.BadZipFile as e:   # also a CRC mismatch found while reading a member
        raise EmbedkitError(f"{what} is not a valid zip file: {e}") from None
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as e:   # tarfile adds a line per codec tried
        raise EmbedkitError(f"{what} is not a valid tar archive ({str(e).splitlines()[0].rstrip(':')})") from None


def _pairs(chunks: Iterable[bytes], where: str) -> Iterator[bytes]:
    """Word-pair lines 'w1<TAB>w2<TAB>score': the first three columns of each line (RW's individual
    ratings dropped), a first line whose score is not a number (MEN's 'word1 word2 score') dropped."""
    try:
        lines = b"".join(chunks).decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise EmbedkitError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    n = 0
    for k, line in enumerate(lines):
        fields = line.split()
        if not fields:
            continue
        try:
            float(fields[2] if len(fields) >= 3 else "x")
        except ValueError:
            if k == 0 and len(fields) >= 3:
                continue
            raise EmbedkitError(f"{where}, line {k + 1}: expected 'word1 word2 score ...'") from None
        n += 1
        yield "\t".join(fields[:3]).encode("utf-8") + b"\n"
    if not n:
        raise EmbedkitError(f"{where} holds no word pairs")


def _unpack(archive: Path, out: Output, target: Path, what: str) -> None:
    """Extract one member (copy, wikifil or pairs) to target through a temporary name, checking its SHA-1."""
    with _member(archive, out.member, what) as src, atomic_path(target) as tmp, open(tmp, "wb") as dst:
        digest = hashlib.sha1()

        def chunks():
            for block in iter(lambda: src.read(_CHUNK), b""):
                digest.update(block)
                yield block

        if out.transform == "copy":
            for block in chunks():
                dst.write(block)
        elif out.transform == "wikifil":
            for piece in wikifil(chunks()):
                dst.write(piece)
        elif out.transform == "pairs":
            for line in _pairs(chunks(), f"{what}: {out.member}"):
                dst.write(line)
        else:
            raise ValueError(f"unknown transform {out.transform!r}")
        if out.sha1 is not None and digest.hexdigest() != out.sha1:
            raise EmbedkitError(f"{what}: member {out.member} has SHA-1 {digest.hexdigest()}, expected "
                                f"{out.sha1} (the release's); delete the archive and fetch it again")
