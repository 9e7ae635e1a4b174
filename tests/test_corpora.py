"""Bundled default corpus, its build script, the corpus registry's fetch() and the wikifil normalisation.

fetch() is tested against a local http.server on 127.0.0.1 (no network needed): good downloads,
checksum/size mismatches, a truncated transfer, HTTP errors, offline use of an archive already in
place, and that none of the failures leaves a file behind.
"""
from __future__ import annotations

import gzip
import hashlib
import http.server
import importlib.util
import io
import re
import shutil
import threading
import zipfile
from pathlib import Path

import pytest

from embedkit import corpora
from embedkit.cli import main as cli_main
from embedkit.corpora import Output, RemoteCorpus, fetch, wikifil
from embedkit.errors import EmbedkitError

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO / "corpora"


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_default_corpus", CORPORA / "build_default_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------------------------
# default corpus


def test_default_corpus_path_is_the_committed_file(monkeypatch):
    monkeypatch.delenv(corpora.DEFAULT_CORPUS_ENV, raising=False)
    assert corpora.default_corpus_path() == CORPORA / "default-corpus.txt.gz"


def test_default_corpus_env_override_and_errors(monkeypatch, tmp_path):
    other = tmp_path / "mine.txt"
    other.write_text("hello world\n")
    monkeypatch.setenv(corpora.DEFAULT_CORPUS_ENV, str(other))
    assert corpora.default_corpus_path() == other
    monkeypatch.setenv(corpora.DEFAULT_CORPUS_ENV, str(tmp_path / "absent.txt"))
    with pytest.raises(EmbedkitError, match="EMBEDKIT_DEFAULT_CORPUS"):
        corpora.default_corpus_path()
    # Installed somewhere without the repository's corpora/ folder (a wheel): a clear error.
    monkeypatch.delenv(corpora.DEFAULT_CORPUS_ENV)
    monkeypatch.setattr(corpora, "__file__", str(tmp_path / "site-packages" / "embedkit" / "corpora.py"))
    with pytest.raises(EmbedkitError, match="--corpus"):
        corpora.default_corpus_path()


def test_default_corpus_file_matches_its_checksums_and_header():
    path = CORPORA / "default-corpus.txt.gz"
    raw = path.read_bytes()
    assert len(raw) <= 15_000_000
    listed = dict(reversed(line.split()) for line in (CORPORA / "SHA256SUMS").read_text().splitlines())
    assert hashlib.sha256(raw).hexdigest() == listed["default-corpus.txt.gz"]
    # gzip -9n style: magic, deflate, no flags (no stored name), mtime 0.
    assert raw[:4] == b"\x1f\x8b\x08\x00" and raw[4:8] == b"\x00\x00\x00\x00"
    text = gzip.decompress(raw)
    assert hashlib.sha256(text).hexdigest() == load_build_script().TEXT_SHA256


def test_default_corpus_content_and_size():
    build = load_build_script()
    text = gzip.decompress((CORPORA / "default-corpus.txt.gz").read_bytes())
    lines = text.decode("utf-8").split("\n")
    assert lines.pop() == ""                         # ends with a newline, nothing after it
    assert all(line and line == line.strip() for line in lines)
    assert lines[0] == "In the beginning God created the heaven and the earth."
    assert lines[build.KJV_VERSES - 1] == "The grace of our Lord Jesus Christ be with you all. Amen."
    assert lines[build.KJV_VERSES].startswith("that which is perceived or known or inferred")  # WordNet's first noun
    stats = build.statistics(text)
    assert stats["tokens"] >= 2_000_000
    assert (stats["lines"], stats["tokens"], stats["types"], stats["types_min5"]) == (197_006, 2_269_226, 60_779, 21_541)


def test_gloss_sentences_split_definition_and_examples():
    g = load_build_script().gloss_sentences
    assert g('the destruction of an enemy plane; "the pilot reported two kills"  ') == [
        "the destruction of an enemy plane", "the pilot reported two kills"]
    assert g("a tangible and visible entity; an entity that can cast a shadow") == [
        "a tangible and visible entity; an entity that can cast a shadow"]
    assert g('to be; "to be or not to be" - Shakespeare; "be good"') == ["to be", "to be or not to be", "be good"]
    assert g('utter casually; "drop a hint"; drop names"') == ["utter casually", "drop a hint"]
    assert g('an obituary; "a notice of sale') == ["an obituary", "a notice of sale"]
    assert g('"only an example"') == ["only an example"]


@pytest.mark.slow
def test_build_script_reproduces_the_committed_file_byte_for_byte(tmp_path):
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        pytest.skip("needs apt-get and dpkg-deb (Debian)")
    build = load_build_script()
    out = tmp_path / "rebuilt.txt.gz"
    assert build.main(["--download", "--check", "--output", str(out)]) == 0
    assert out.read_bytes() == (CORPORA / "default-corpus.txt.gz").read_bytes()


# ---------------------------------------------------------------------------------------------
# wikifil

SNIPPET = (b'<mediawiki>\n  <page>\n    <title>Foo Bar</title>\n    <revision>\n'
           b'      <text xml:space="preserve">\'\'\'Foo\'\'\' is a [[Bar (x)|bar of 42]] caf\xc3\xa9'
           b' &lt;ref&gt;Smith 2001&lt;/ref&gt;{{Infobox|a=b}} see [http://x.org Link Text] &amp;amp; '
           b'&amp;nbsp;A&amp;B.\n[[Image:Pic.jpg|thumb|left|250px|A Caption]]\n[[de:Foo]]\n'
           b'[[Category:Things|Foo]]</text>\n    </revision>\n  </page>\n'
           b'  <page>\n    <title>R</title>\n    <revision>\n'
           b'      <text xml:space="preserve">#REDIRECT [[Foo]]</text>\n    </revision>\n  </page>\n'
           b'  <page><title>T</title><revision><text xml:space="preserve">Two 0.5</text></revision></page>\n'
           b'</mediawiki>\n')
# Worked by hand from wikifil.pl's rules: title/metadata dropped (outside <text>), link target and
# image options dropped, caption and category name kept, the <ref> and the template removed,
# "&amp;amp;" -> "&amp;" -> entity -> space, the accented byte a separator, digits spelled out,
# the redirect page dropped. One line, leading space, no newline.
SNIPPET_FIL = (b" foo is a bar of four two caf see link text a b a caption things"
               b" two zero five")


def test_wikifil_snippet_by_hand():
    assert b"".join(wikifil([SNIPPET])) == SNIPPET_FIL


def test_wikifil_is_independent_of_chunking():
    for size in (1, 2, 3, 7, 64):
        chunks = [SNIPPET[i:i + size] for i in range(0, len(SNIPPET), size)]
        assert b"".join(wikifil(chunks)) == SNIPPET_FIL


def test_wikifil_record_rules():
    r = corpora.wikifil_record
    assert r(b"Hello, World 2>") == b" hello world two"   # the trailing '>' ends the record, not text
    assert r(b"x [[fr:Bonjour]] y [[Category:Cats|z]] q") == b" x y cats q"
    assert r(b"a&lt;b&gt;c") == b" ac"                        # decoded into a tag, then the tag removed
    assert r(b"...") == b""


# ---------------------------------------------------------------------------------------------
# fetch over a local HTTP server


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict = {}          # path -> (body, declared Content-Length)
    requests: list = []

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path not in self.files:
            self.send_error(404, "Not Found")
            return
        body, declared = self.files[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)          # a declared length above len(body) simulates a dropped connection

    def log_message(self, *args):
        pass


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(corpora, "_TIMEOUT_S", 5.0)     # a stuck test fails in seconds, not minutes
    _Handler.files, _Handler.requests = {}, []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", _Handler
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def make_zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


TEXT = b" anarchism originated as a term of abuse" * 500
ZIP = make_zip({"tiny8": TEXT})
ZIP_SHA = hashlib.sha256(ZIP).hexdigest()


def entry(base, **kw):
    fields = dict(name="tiny8", description="test", url=f"{base}/tiny8.zip", archive="tiny8.zip",
                  outputs=(Output("tiny8", "tiny8"),), sha256=ZIP_SHA)
    fields.update(kw)
    return RemoteCorpus(**fields)


def test_fetch_downloads_verifies_and_unpacks(server, tmp_path):
    base, handler = server
    handler.files["/tiny8.zip"] = (ZIP, len(ZIP))
    messages = []
    out = fetch(entry(base), tmp_path, report=messages.append)
    assert out == [tmp_path / "tiny8"] and out[0].read_bytes() == TEXT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny8"]       # archive removed, no temp left
    assert handler.requests == ["/tiny8.zip"]
    # Second call: outputs present, nothing downloaded.
    assert fetch(entry(base), tmp_path) == out and handler.requests == ["/tiny8.zip"]


def test_fetch_without_recorded_digest_reports_it_and_checks_size_and_md5(server, tmp_path):
    base, handler = server
    handler.files["/tiny8.zip"] = (ZIP, len(ZIP))
    messages = []
    fetch(entry(base, sha256=None, size=len(ZIP), md5=hashlib.md5(ZIP).hexdigest()), tmp_path / "a",
          report=messages.append)
    assert any(ZIP_SHA in m for m in messages)
    with pytest.raises(EmbedkitError, match=f"bytes, expected {len(ZIP) + 1:,}.*--sha256 {ZIP_SHA}"):
        fetch(entry(base, sha256=None, size=len(ZIP) + 1), tmp_path / "b")
    with pytest.raises(EmbedkitError, match="MD5 is"):
        fetch(entry(base, sha256=None, md5="0" * 32), tmp_path / "c")
    # A pinned SHA-256 replaces the registry's size and MD5 checks.
    fetch(entry(base, sha256=None, md5="0" * 32), tmp_path / "d", sha256=ZIP_SHA)
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
    assert (tmp_path / "d" / "tiny8").read_bytes() == TEXT


def test_fetch_checksum_mismatch_leaves_no_file(server, tmp_path):
    base, handler = server
    handler.files["/tiny8.zip"] = (ZIP, len(ZIP))
    with pytest.raises(EmbedkitError, match=f"SHA-256 is {ZIP_SHA}, expected {'ab' * 32}"):
        fetch(entry(base), tmp_path, sha256="ab" * 32)
    with pytest.raises(EmbedkitError, match="expected"):
        fetch(entry(base, sha256="cd" * 32), tmp_path)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(EmbedkitError, match="64 hexadecimal"):
        fetch(entry(base), tmp_path, sha256="xyz")


def test_fetch_truncated_download_and_http_error_leave_no_file(server, tmp_path):
    base, handler = server
    handler.files["/tiny8.zip"] = (ZIP[:len(ZIP) // 2], len(ZIP))           # the connection drops early
    with pytest.raises(EmbedkitError, match="tiny8.zip"):
        fetch(entry(base), tmp_path)
    with pytest.raises(EmbedkitError, match="HTTP 404"):
        fetch(entry(base), tmp_path, url=f"{base}/missing.zip")
    assert list(tmp_path.iterdir()) == []


def test_fetch_uses_an_archive_already_in_place_offline(server, tmp_path):
    base, handler = server
    (tmp_path / "tiny8.zip").write_bytes(ZIP)
    assert fetch(entry(base), tmp_path)[0].read_bytes() == TEXT
    assert handler.requests == [] and (tmp_path / "tiny8.zip").exists()    # a user's archive is kept
    (tmp_path / "tiny8").unlink()
    (tmp_path / "tiny8.zip").write_bytes(ZIP[:-1])
    with pytest.raises(EmbedkitError, match="delete it"):
        fetch(entry(base), tmp_path)
    assert not (tmp_path / "tiny8").exists()


def test_fetch_missing_member_or_bad_zip_leaves_no_output(server, tmp_path):
    base, handler = server
    handler.files["/tiny8.zip"] = (ZIP, len(ZIP))
    with pytest.raises(EmbedkitError, match="no member 'other'"):
        fetch(entry(base, outputs=(Output("other", "other"),)), tmp_path)
    handler.files["/junk.zip"] = (b"not a zip" * 10, 90)
    with pytest.raises(EmbedkitError, match="not a valid zip"):
        fetch(entry(base, sha256=None), tmp_path, url=f"{base}/junk.zip")
    assert list(tmp_path.iterdir()) == []


def test_fetch_wikifil_transform_and_keep_archive(server, tmp_path):
    base, handler = server
    data = make_zip({"enwik": SNIPPET})
    handler.files["/enwik.zip"] = (data, len(data))
    e = entry(base, name="fil", url=f"{base}/enwik.zip", archive="enwik.zip",
              outputs=(Output("fil", "enwik", "wikifil"),), sha256=hashlib.sha256(data).hexdigest())
    out = fetch(e, tmp_path, keep_archive=True)
    assert out[0].read_bytes() == SNIPPET_FIL
    assert (tmp_path / "enwik.zip").read_bytes() == data


def test_registry_entries_are_well_formed():
    for name, c in corpora.REGISTRY.items():
        assert name == c.name and c.url.startswith(("http://", "https://")) and c.outputs
        assert c.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", c.sha256)
        assert c.md5 is None or re.fullmatch(r"[0-9a-f]{32}", c.md5)
        assert all(o.transform in ("copy", "wikifil", "pairs") for o in c.outputs)
    assert set(corpora.REGISTRY) == {"text8", "fil9", "wikitext-103", "men", "rw"}
    with pytest.raises(EmbedkitError, match="unknown corpus"):
        corpora.get("text9")


# ---------------------------------------------------------------------------------------------
# CLI


def test_cli_list(capsys):
    assert cli_main(["corpora", "list"]) == 0
    out = capsys.readouterr().out
    assert "default-corpus.txt.gz" in out and "text8" in out and "fil9" in out and "wikitext-103" in out


def test_cli_fetch_and_errors(server, tmp_path, monkeypatch, capsys):
    base, handler = server
    body = make_zip({"text8": TEXT})
    handler.files["/text8.zip"] = (body, len(body))
    sha = hashlib.sha256(body).hexdigest()
    assert cli_main(["corpora", "fetch", "text8", "--dest", str(tmp_path), "--url", f"{base}/text8.zip",
                     "--sha256", sha]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "text8")
    assert (tmp_path / "text8").read_bytes() == TEXT
    # Without --sha256 the registry's published size (31,344,016 bytes) rejects this small file.
    assert cli_main(["corpora", "fetch", "text8", "--dest", str(tmp_path / "x"), "--url", f"{base}/text8.zip"]) == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]              # progress lines, then one error line
    assert last.startswith("embedkit corpora: error:") and "expected 31,344,016" in last
    assert not (tmp_path / "x").exists() or list((tmp_path / "x").iterdir()) == []
    assert cli_main(["corpora", "fetch", "nope"]) == 2


# ---------------------------------------------------------------------------------------------
# evaluation sets (MEN, RW): tar.gz and zip archives, member SHA-1s, the word-pair transform


def make_tar_gz(members: dict) -> bytes:
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_fetch_rw_checks_the_released_member_and_feeds_evaluate(server, tmp_path, shared_data):
    """The real rw/rw.txt (a copy of the release, whose SHA-1 the registry pins) in a local zip."""
    from embedkit.evaluate.report import evaluate_all
    from embedkit.embeddings import Embeddings
    import numpy as np
    released = shared_data / "eval" / "original" / "rw" / "rw.txt"
    if not released.is_file():
        pytest.skip("no ../shared/data/eval/original")
    base, handler = server
    body = make_zip({"rw/rw.txt": released.read_bytes(), "rw/README.txt": b"Stanford Rare Word (RW) Similarity Dataset\n"})
    handler.files["/rw.zip"] = (body, len(body))
    out = fetch("rw", tmp_path, url=f"{base}/rw.zip", sha256=hashlib.sha256(body).hexdigest())
    assert out == [tmp_path / "rw.txt", tmp_path / "rw-README.txt"]
    lines = out[0].read_text().splitlines()
    assert len(lines) == 2034 and lines[0] == "squishing\tsquirt\t5.88"
    emb = Embeddings(["squishing", "squirt", "undated"], np.eye(3, dtype=np.float32))
    rw = evaluate_all(emb, similarity=["rw"], eval_dir=tmp_path).similarity[0]
    assert rw.name == "rw" and rw.pairs == 2034 and rw.pairs - rw.oov == 1
    # a member that is not the release's is refused, and nothing is left behind
    bad = make_zip({"rw/rw.txt": released.read_bytes()[:-10], "rw/README.txt": b"x"})
    handler.files["/bad.zip"] = (bad, len(bad))
    with pytest.raises(EmbedkitError, match="member rw/rw.txt has SHA-1 .*expected bafc59f0"):
        fetch("rw", tmp_path / "b", url=f"{base}/bad.zip", sha256=hashlib.sha256(bad).hexdigest())
    assert not (tmp_path / "b" / "rw.txt").exists()
    # without --sha256 the registry's published archive SHA-1 rejects this zip
    with pytest.raises(EmbedkitError, match="SHA-1 is .*expected bf9c5959"):
        fetch("rw", tmp_path / "c", url=f"{base}/rw.zip")


def test_fetch_men_from_tar_gz_drops_the_header(server, tmp_path):
    import dataclasses
    base, handler = server
    natural = b"word1 word2 score\nsun sunlight 50.000000\nautomobile car 50.000000\n\nriver water 49.000000\n"
    body = make_tar_gz({"MEN/MEN_dataset_natural_form_full": natural, "MEN/licence.txt": b"CC BY 2.0\n"})
    handler.files["/MEN.tar.gz"] = (body, len(body))
    men = corpora.get("men")
    assert men.folder == "eval" and men.outputs[0].transform == "pairs"
    unpinned = dataclasses.replace(men, outputs=tuple(dataclasses.replace(o, sha1=None) for o in men.outputs),
                                   url=f"{base}/MEN.tar.gz")
    out = fetch(unpinned, tmp_path, sha256=hashlib.sha256(body).hexdigest())
    assert out[0].read_text() == "sun\tsunlight\t50.000000\nautomobile\tcar\t50.000000\nriver\twater\t49.000000\n"
    assert out[1].read_text() == "CC BY 2.0\n"
    with pytest.raises(EmbedkitError, match="member MEN/licence.txt has SHA-1"):   # the registry pins the licence
        fetch(dataclasses.replace(men, url=f"{base}/MEN.tar.gz",
                                  outputs=(dataclasses.replace(men.outputs[0], sha1=None), men.outputs[1])),
              tmp_path / "b", sha256=hashlib.sha256(body).hexdigest())
    broken = make_tar_gz({"MEN/MEN_dataset_natural_form_full": b"sun sunlight\n", "MEN/licence.txt": b""})
    handler.files["/broken.tar.gz"] = (broken, len(broken))
    with pytest.raises(EmbedkitError, match=r"MEN_dataset_natural_form_full, line 1: expected 'word1 word2 score"):
        fetch(unpinned, tmp_path / "c", url=f"{base}/broken.tar.gz", sha256=hashlib.sha256(broken).hexdigest())
    handler.files["/junk.tar.gz"] = (b"not gzip" * 20, 160)
    with pytest.raises(EmbedkitError, match="not a valid tar archive"):
        fetch(unpinned, tmp_path / "d", url=f"{base}/junk.tar.gz", sha256=hashlib.sha256(b"not gzip" * 20).hexdigest())
    assert not any((tmp_path / d).exists() and any((tmp_path / d).iterdir()) for d in "bcd")


def test_cli_fetch_several_names(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path))
    assert cli_main(["corpora", "fetch", "men", "rw", "--url", "http://127.0.0.1:9/x.zip"]) == 2
    assert "one NAME at a time" in capsys.readouterr().err
    assert cli_main(["corpora", "fetch", "rw", "nope"]) == 2              # checked before any download
    assert "unknown corpus 'nope'" in capsys.readouterr().err and not (tmp_path / "eval").exists()
    assert cli_main(["corpora", "list"]) == 0
    out = capsys.readouterr().out
    assert "men " in out and "rw " in out and str(tmp_path / "eval") in out


def test_cli_fetch_bad_url_or_not_the_archive_is_one_line_naming_url(tmp_path, capsys):
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 not an archive" * 10)
    sha = hashlib.sha256(garbage.read_bytes()).hexdigest()
    for url, says in [("notaurl", "--url notaurl is not a URL"),
                      (str(garbage), f"give file://{garbage}"),
                      ("http://[::1", "--url http://[::1 is not a valid URL"),
                      ("http://", "--url http:// is not a URL")]:
        assert cli_main(["corpora", "fetch", "men", "--url", url, "--dest", str(tmp_path / "d")]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert cli_main(["corpora", "fetch", "men", "--url", garbage.as_uri(), "--sha256", sha,
                     "--dest", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err                       # the progress lines, then the error's one line
    assert "Traceback" not in err and err.splitlines()[-1].startswith(
        f"embedkit corpora: error: MEN.tar.gz downloaded from --url {garbage.as_uri()} is not a valid tar archive (")
    assert not (tmp_path / "d").exists() or list((tmp_path / "d").iterdir()) == []
