#!/usr/bin/env python3
"""Build corpora/default-corpus.txt.gz, embedkit's bundled default corpus, from Debian packages.

Sources (one sentence per line, in this order; see corpora/README.md for licences):
  1. King James Bible, 31,102 verses in canonical order (Debian bible-kjv-text 4.38, decoded by the
     `bible` program of Debian bible-kjv 4.38: its data file is in a private compressed format).
  2. WordNet 3.0 glosses and example sentences (Debian wordnet-base 1:3.0-37), synsets in the order
     of data.noun, data.verb, data.adj, data.adv (file order = byte offset order); per synset the
     definition, then each quoted example, each on its own line.

Reproduce (needs apt-get and dpkg-deb; no root, nothing is installed system-wide):

    python3 corpora/build_default_corpus.py --download            # apt-get download + dpkg-deb -x in a temp dir
    python3 corpora/build_default_corpus.py --extracted ROOT      # ROOT holds the three packages' usr/ trees

The text is plain UTF-8 (in fact ASCII), '\\n' line ends, no empty lines. The gzip file is written
with mtime 0, no file name and level 9, so it is byte-identical for the same zlib (1.2.13 here);
the SHA-256 of the uncompressed text (TEXT_SHA256 below) is the zlib-independent invariant.
Only the standard library is used, so the script runs with any Python >= 3.8.
"""
from __future__ import annotations

import argparse
import collections
import gzip
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# Exact package versions (Debian 12 "bookworm") this corpus was built from.
PACKAGES = {"bible-kjv-text": "4.38", "bible-kjv": "4.38", "wordnet-base": "1:3.0-37"}

# SHA-256 of the input files inside those packages: a different version is detected, not silently used.
INPUT_SHA256 = {
    "usr/lib/bible.data": "6c746c2acc8a34bfded980883ff1701a5d68934a1c853ebf88a07b978fe0ae0e",
    "usr/share/wordnet/data.noun": "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
    "usr/share/wordnet/data.verb": "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
    "usr/share/wordnet/data.adj": "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
    "usr/share/wordnet/data.adv": "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
}

# SHA-256 of the uncompressed corpus text this script produces from the inputs above.
TEXT_SHA256 = "b2606e9d3d3686801ee31cf42ea5078e6c22cea3fa29e65942105cd4bda7ac79"

KJV_VERSES = 31102                      # verses in the Authorized Version (Gen 1:1 .. Rev 22:21)
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")   # WordNet's POS order n, v, a, r
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "default-corpus.txt.gz"

# The statistics use embedkit's default `regex` tokenizer: lowercased runs of letters/digits.
TOKEN_RE = re.compile(r"[^\W_]+")
_VERSE_RE = re.compile(r"^([1-3]?[A-Za-z]+)(\d+):(\d+) (.+)$")
_EXAMPLE_SPLIT_RE = re.compile(r';\s*(?=")')   # an example starts with a quote after a semicolon


def clean(text: str) -> str:
    """Collapse runs of whitespace to one space and strip the ends."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# King James Bible


def kjv_sentences(root: Path) -> list[str]:
    """The 31,102 verses, reference prefix removed, decoded by the package's own `bible` program."""
    bible = root / "usr/bin/bible"
    data_dir = root / "usr/lib"
    if not bible.is_file() or not (data_dir / "bible.data").is_file():
        sys.exit(f"error: {root} lacks usr/bin/bible (bible-kjv) or usr/lib/bible.data (bible-kjv-text)")
    # -f turns pretty-printing off: one verse per line, "Ge1:1 In the beginning ...".
    # -p restricts the data search path to the extracted package (never /usr/lib of this machine).
    out = subprocess.run([str(bible), "-f", "-p", str(data_dir), "Gen1:1-Rev22:21"],
                         stdin=subprocess.DEVNULL, capture_output=True, cwd=root, check=True,
                         env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"}).stdout.decode("ascii")
    verses = []
    for n, line in enumerate(out.splitlines(), 1):
        m = _VERSE_RE.match(line)
        if not m:
            sys.exit(f"error: `bible` output line {n} is not 'RefC:V text': {line[:80]!r}")
        verses.append(clean(m.group(4)))
    if len(verses) != KJV_VERSES:
        sys.exit(f"error: `bible` printed {len(verses)} verses, expected {KJV_VERSES}")
    return verses


# ---------------------------------------------------------------------------------------------
# WordNet


def gloss_sentences(gloss: str) -> list[str]:
    """Split a WordNet gloss into its definition and its quoted examples.

    A gloss reads `definition; "example one"; "example two" - Author`. The definition keeps its
    internal semicolons (several senses of one definition); an example is the text inside its
    quotes, so attributions after the closing quote are dropped. About 20 glosses in WordNet 3.0
    have an unbalanced quote: the text after the lone quote is taken as the example.
    """
    parts = _EXAMPLE_SPLIT_RE.split(gloss.strip())
    out = []
    first = parts[0].strip().rstrip(";").strip()
    if first.startswith('"'):            # no definition, the gloss starts with an example
        parts.insert(1, first)
    elif first:
        out.append(clean(first))
    for part in parts[1:]:
        m = re.match(r'\s*"([^"]*)', part)
        example = clean(m.group(1)) if m else ""
        if example:
            out.append(example)
    return out


def wordnet_sentences(root: Path) -> list[str]:
    """Definitions and examples of every synset, in data file order."""
    out = []
    for name in WORDNET_FILES:
        path = root / "usr/share/wordnet" / name
        if not path.is_file():
            sys.exit(f"error: {path} is missing (wordnet-base)")
        with open(path, encoding="ascii", newline="\n") as f:
            for n, line in enumerate(f, 1):
                if line.startswith("  "):      # the licence header at the top of each data file
                    continue
                _, sep, gloss = line.partition(" | ")
                if not sep:
                    sys.exit(f"error: {path} line {n} has no ' | ' gloss separator")
                out.extend(gloss_sentences(gloss))
    return out


# ---------------------------------------------------------------------------------------------
# Packages


def download_packages(workdir: Path, any_version: bool) -> Path:
    """apt-get download the pinned packages into workdir and extract them under workdir/root."""
    root = workdir / "root"
    root.mkdir(parents=True, exist_ok=True)
    specs = list(PACKAGES) if any_version else [f"{p}={v}" for p, v in PACKAGES.items()]
    r = subprocess.run(["apt-get", "download", *specs], cwd=workdir)
    if r.returncode != 0:
        sys.exit("error: apt-get download failed (run `apt-get update` first; if the pinned versions "
                 "are gone from your release, --any-version uses the candidates, output may differ)")
    for deb in sorted(workdir.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        print(f"extracted {deb.name}", file=sys.stderr)
    return root


def check_inputs(root: Path) -> bool:
    """Compare the input files with the recorded digests; print differences; True when all match."""
    ok = True
    for rel, want in INPUT_SHA256.items():
        got = sha256_file(root / rel)
        if want is not None and got != want:
            print(f"warning: {rel} has SHA-256 {got}, recorded {want} (another package version?)",
                  file=sys.stderr)
            ok = False
    return ok


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Output


def corpus_text(root: Path) -> bytes:
    lines = kjv_sentences(root) + wordnet_sentences(root)
    assert all(lines), "no empty lines"
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_gzip(data: bytes, path: Path) -> None:
    """gzip -9n equivalent: level 9, mtime 0, no stored name; written to a temp name, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as gz:
                gz.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def statistics(data: bytes) -> dict:
    """Lines, tokens, types and types with count >= 5 under the default tokenizer."""
    text = data.decode("utf-8")
    counts = collections.Counter(TOKEN_RE.findall(text.lower()))   # a token never spans a '\n'
    return {"lines": text.count("\n"), "tokens": sum(counts.values()), "types": len(counts),
            "types_min5": sum(1 for c in counts.values() if c >= 5), "bytes": len(data)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--download", action="store_true",
                     help="apt-get download the pinned packages into a temp dir and extract them there")
    src.add_argument("--extracted", type=Path, metavar="ROOT",
                     help="folder into which the three .deb packages were extracted (dpkg-deb -x PKG.deb ROOT)")
    ap.add_argument("--any-version", action="store_true",
                    help="with --download: take the candidate versions instead of the pinned ones")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless inputs and output match the recorded SHA-256 digests")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="embedkit-corpus-") as tmp:
        root = download_packages(Path(tmp), args.any_version) if args.download else args.extracted
        inputs_ok = check_inputs(root)
        data = corpus_text(root)
    write_gzip(data, args.output)

    stats = statistics(data)
    text_sha = hashlib.sha256(data).hexdigest()
    print(f"wrote {args.output}: {os.path.getsize(args.output):,} bytes gzip, "
          + ", ".join(f"{k} {v:,}" for k, v in stats.items()))
    print(f"sha256 text {text_sha}")
    print(f"sha256 gzip {sha256_file(args.output)}")
    text_ok = TEXT_SHA256 is None or text_sha == TEXT_SHA256
    if not text_ok:
        print(f"warning: text SHA-256 differs from the recorded {TEXT_SHA256}", file=sys.stderr)
    return 0 if (inputs_ok and text_ok) or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
