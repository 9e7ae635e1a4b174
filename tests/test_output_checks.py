"""Fail before working: every verb checks that its outputs can be written before it reads or
counts anything (fsutil.check_outputs, run by the CLI on the outputs each verb declares).

The corpus or vectors named in these commands do not exist: an error about the output, not the
input, shows that the check came first."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from embedkit.cli import build_parser, main
from embedkit.errors import EmbedkitError
from embedkit.fsutil import Output, check_outputs

# option destinations that name something a verb writes; a new verb's output option belongs here
OUTPUT_DESTS = {"output", "to", "json", "dest", "glove_binary", "tmpdir", "save", "checkpoint", "output_dir",
                "plot", "out", "table", "curves", "map"}


def _run(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    return rc, err


@pytest.fixture
def place(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(tmp_path / "cache"))     # importing kernels makes it
    tmp_path = tmp_path / "work"
    tmp_path.mkdir()
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("x\n")
    Path("adir").mkdir()
    return tmp_path


CASES = [
    # (argv, words the one-line error must contain)
    (["train", "--model", "skipgram", "--corpus", "missing.txt", "-o", "afile"], ["cannot write --output afile: afile is a file"]),
    (["train", "--model", "glove", "--corpus", "missing.txt", "-o", "afile/model"], ["afile is a file"]),
    (["vocab", "--corpus", "missing.txt", "-o", "adir"], ["--output adir: adir is a folder"]),
    (["vocab", "--corpus", "missing.txt", "-o", "afile/nope/v.tsv"], ["afile is a file"]),
    (["cooccur", "--corpus", "missing.txt", "-o", "afile/c.npz"], ["afile is a file"]),
    (["cooccur", "--corpus", "missing.txt", "-o", "c.npz", "--tmpdir", "nope"], ["--tmpdir nope", "mkdir"]),
    (["cooccur", "--corpus", "missing.txt", "-o", "c.npz", "--glove-binary", "adir"], ["--glove-binary adir"]),
    (["cooccur", "--corpus", "missing.txt", "-o", "c.npz", "--glove-binary", "c.npz"], ["give each output its own"]),
    (["cooccur", "--corpus", "missing.txt", "-o", "adir/c.npz"], ["adir/c.vocab.tsv: adir/c.vocab.tsv is a folder"]),
    (["export", "missing.txt", "--to", "adir"], ["--to adir: adir is a folder"]),
    (["export", "missing.txt", "--to", "afile/nope/x.txt"], ["afile is a file"]),
    (["phrases", "--corpus", "missing.txt", "-o", "adir"], ["--output adir: adir is a folder"]),
    (["phrases", "--corpus", "missing.txt", "-o", "p.txt", "--table", "afile/t.tsv"], ["--table afile/t.tsv"]),
    (["plot", "missing", "--curves", "adir", "--map", "m.png", "--top", "5"], ["--curves adir: adir is a folder"]),
    (["evaluate", "missing.txt", "--json", "afile/s.json"], ["--json afile/s.json", "afile is a file"]),
    (["corpora", "fetch", "text8", "--dest", "afile/x"], ["--dest afile/x", "afile is a file"]),
]


@pytest.mark.parametrize("argv,words", CASES, ids=[" ".join(c[0][:1] + c[0][-2:]) for c in CASES])
def test_bad_output_fails_before_work(place, capsys, argv, words):
    Path("adir/c.vocab.tsv").mkdir()          # where cooccur's vocabulary goes beside adir/c.npz
    before = sorted(os.listdir(place))
    rc, err = _run(capsys, argv)
    assert rc == 2
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "missing.txt" not in err, "the output is checked before the input is read"
    for w in words:
        assert w in err
    assert sorted(os.listdir(place)) == before, "nothing is created"


def test_missing_parent_folders_are_made_when_writing(place, capsys):
    rc, err = _run(capsys, ["train", "--model", "fasttext", "--corpus", "missing.txt", "-o", "new/sub/model"])
    assert rc == 2 and "missing.txt does not exist" in err
    assert not Path("new").exists(), "nothing is made before the run writes"


def test_cache_folder_in_the_way(place, capsys, monkeypatch):
    monkeypatch.setenv("EMBEDKIT_CACHE_DIR", str(place / "afile" / "cache"))
    rc, err = _run(capsys, ["train", "--model", "cbow", "--corpus", "missing.txt", "-o", "m"])
    assert rc == 2 and "$EMBEDKIT_CACHE_DIR" in err and "--no-cache" in err
    rc, err = _run(capsys, ["train", "--model", "cbow", "--corpus", "missing.txt", "-o", "m", "--no-cache"])
    assert rc == 2 and "missing.txt" in err        # with --no-cache the cache is not an output


def test_unwritable_folder(tmp_path):
    if os.name != "posix" or not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc")
    with pytest.raises(EmbedkitError, match="cannot write into folder /proc"):
        check_outputs([Output("/proc/x.txt", "file", "--to")])
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):            # root writes anyway: the probe agrees
            check_outputs([Output(str(ro / "x"), "file", "--to")])
        else:
            with pytest.raises(EmbedkitError, match="cannot write into folder"):
                check_outputs([Output(str(ro / "x"), "file", "--to")])
    finally:
        ro.chmod(0o755)
    assert os.listdir(ro) == [], "the probe file is removed"


def test_special_files_and_links(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(EmbedkitError, match="not a regular file"):
        check_outputs([Output(str(fifo), "file", "--output")])
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "gone" / "x")
    with pytest.raises(EmbedkitError, match="dangling"):
        check_outputs([Output(str(link), "file", "--output")])
    check_outputs([Output("-", "file", "--output"), None, Output(None, "file", "--json")])   # stdout, absent


def test_missing_parents_are_fine(tmp_path):
    """Writers make missing folders (mkdir -p); the check looks at the nearest one that exists."""
    check_outputs([Output(str(tmp_path / "a" / "b" / "c"), "dir", "--output")])
    assert not (tmp_path / "a").exists(), "checking creates nothing"


def test_python_train_checks_output_first(tmp_path):
    import embedkit
    (tmp_path / "afile").write_text("x")
    with pytest.raises(EmbedkitError, match="output .*afile is a file"):
        embedkit.train("skipgram", str(tmp_path / "missing.txt"), output=tmp_path / "afile")


def _verbs(parser):
    """(name, subparser) of every verb, nested ones (corpora fetch) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                for inner, subsub in _verbs(sub):
                    yield f"{name} {inner}", subsub


def test_every_output_option_is_declared():
    """A verb with an option that names an output declares its outputs, and each such option,
    when given, is among them (so a verb added later cannot skip the check)."""
    for name, sub in _verbs(build_parser()):
        dests = [a.dest for a in sub._actions if a.dest in OUTPUT_DESTS and a.option_strings]
        if not dests:
            continue
        outputs = sub.get_default("outputs")
        assert outputs is not None, f"`embedkit {name}` has {dests} but declares no outputs"
        args = argparse.Namespace(**{a.dest: a.default for a in sub._actions if a.dest != "help"})
        if "names" in vars(args):
            args.names = ["text8"]
        for d in dests:
            setattr(args, d, f"value-of-{d}")
        declared = {o.path for o in outputs(args) if o is not None}
        for d in dests:
            assert f"value-of-{d}" in declared, f"`embedkit {name}`: --{d} is not among its declared outputs"


SAME_AS_INPUT = [
    # (argv, the option that names the output, the input it would destroy)
    (["vocab", "--corpus", "in.txt", "-o", "in.txt"], "--output in.txt", "--corpus in.txt"),
    (["vocab", "--corpus", "cdir", "-o", "cdir/b.txt"], "--output cdir/b.txt", "a file of the input --corpus cdir"),
    (["cooccur", "--corpus", "in.txt", "-o", "./in.txt"], "--output ./in.txt", "--corpus in.txt"),
    (["cooccur", "--corpus", "in.txt", "-o", "c.npz", "--glove-binary", "link.txt"], "--glove-binary link.txt",
     "--corpus in.txt"),
    (["phrases", "--corpus", "in.txt", "-o", "p.txt", "--table", "in.txt"], "--table in.txt", "--corpus in.txt"),
    (["export", "in.txt", "--to", "in.txt"], "--to in.txt", "VECTORS in.txt"),
    (["evaluate", "in.txt", "--json", "in.txt"], "--json in.txt", "VECTORS in.txt"),
    (["plot", "in.png", "--map", "in.png", "--top", "5"], "--map in.png", "VECTORS in.png"),
]


@pytest.mark.parametrize("argv,output,input_", SAME_AS_INPUT,
                         ids=[" ".join(c[0][:1] + c[0][-2:]) for c in SAME_AS_INPUT])
def test_an_output_that_is_an_input_is_refused(place, capsys, argv, output, input_):
    Path("in.txt").write_text("the corpus , never to be replaced\n")
    Path("in.png").write_text("not a picture\n")
    os.symlink("in.txt", "link.txt")
    Path("cdir").mkdir()
    Path("cdir/a.txt").write_text("a b\n")
    Path("cdir/b.txt").write_text("b c\n")
    rc, err = _run(capsys, argv)
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert f"cannot write {output}: " in err and input_ in err and "destroy the input" in err, err
    assert Path("in.txt").read_text() == "the corpus , never to be replaced\n"
    assert Path("cdir/b.txt").read_text() == "b c\n"


def test_an_output_beside_an_input_or_new_in_a_corpus_folder_is_fine(tmp_path):
    from embedkit.fsutil import Input
    (tmp_path / "in.txt").write_text("x\n")
    (tmp_path / "cdir").mkdir()
    (tmp_path / "cdir" / ".hidden").write_text("not read\n")
    check_outputs([Output(str(tmp_path / "out.txt"), "file", "--output"),
                   Output(str(tmp_path / "cdir" / "new.tsv"), "file", "--table"),
                   Output(str(tmp_path / "cdir" / ".hidden"), "file", "--json")],
                  [Input(str(tmp_path / "in.txt"), "--corpus"), Input(str(tmp_path / "cdir"), "--corpus", True),
                   Input("-", "--corpus")])
    os.link(tmp_path / "in.txt", tmp_path / "hard.txt")
    with pytest.raises(EmbedkitError, match="it is the input VECTORS"):   # hard links are the same file
        check_outputs([Output(str(tmp_path / "hard.txt"), "file", "--to")],
                      [Input(str(tmp_path / "in.txt"), "VECTORS")])


def test_a_file_where_a_folder_goes_is_not_told_to_mkdir(tmp_path):
    """cooccur --tmpdir FILE suggested `mkdir -p FILE`, which fails on a file."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(EmbedkitError, match=r"--tmpdir .*afile: it is a file, not a folder; choose a folder$"):
        check_outputs([Output(str(afile), "into", "--tmpdir")])
    with pytest.raises(EmbedkitError, match=r"create it first \(mkdir -p"):
        check_outputs([Output(str(tmp_path / "missing"), "into", "--tmpdir")])
