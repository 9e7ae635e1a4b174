"""Evaluation sets that are not shipped inside the package (MEN, RW), and where embedkit finds them.

The Google analogies, WordSim-353 and SimLex-999 ship in embedkit/evaluate/data, copied from the
gensim wheel with their licences. No maintained PyPI wheel ships MEN and RW with their licence
texts (the one package found with them, mangoes 3.1.0, is a source release with no licence for
the data), so they are not committed. `embedkit corpora fetch men` / `rw` downloads the public
releases and checks them (embedkit/corpora.py), and evaluation looks for them in these folders,
in order:

    1. eval_dir= (the CLI's --eval-dir DIR)
    2. $EMBEDKIT_EVAL_DIR
    3. $EMBEDKIT_CACHE_DIR/eval (default ~/.cache/embedkit/eval): where `corpora fetch` puts them
    4. ../shared/data/eval beside the repository (development checkouts and CI)

In a folder, a set is the first file present among its names (EXTERNAL_SIMILARITY): the name
`corpora fetch` writes, then the name of the widely copied 3-column files (EN-MEN-TR-3k.txt).
"""
from __future__ import annotations

import os
from pathlib import Path

from embedkit.errors import EmbedkitError

EVAL_DIR_ENV = "EMBEDKIT_EVAL_DIR"
# set name -> file names it may have in an evaluation folder
EXTERNAL_SIMILARITY = {
    "men": ("men.txt", "EN-MEN-TR-3k.txt"),       # Bruni et al. 2014, 3,000 pairs, scores 0-50
    "rw": ("rw.txt", "EN-RW-STANFORD.txt"),       # Luong et al. 2013, 2,034 rare-word pairs, 0-10
}


def repository_eval_dir() -> Path:
    """../shared/data/eval beside the repository this module was imported from."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "eval"


def search_dirs(eval_dir=None) -> list[Path]:
    """The folders searched, in order (see the module doc). An eval_dir that is not a folder is an error."""
    from embedkit.corpora import default_data_dir
    dirs = []
    if eval_dir is not None:
        if not Path(eval_dir).is_dir():
            raise EmbedkitError(f"--eval-dir {eval_dir} is not a folder")
        dirs.append(Path(eval_dir))
    env = os.environ.get(EVAL_DIR_ENV)
    if env:
        dirs.append(Path(env).expanduser())
    dirs += [default_data_dir("eval"), repository_eval_dir()]
    return dirs


def find_set(name: str, eval_dir=None) -> Path | None:
    """Path of external set `name` ("men", "rw") in the first folder that has it, else None."""
    for folder in search_dirs(eval_dir):
        for file_name in EXTERNAL_SIMILARITY[name]:
            if (folder / file_name).is_file():
                return folder / file_name
    return None


def external_similarity_sets(eval_dir=None) -> tuple[dict[str, Path], list[str]]:
    """({name: path} of the external sets found, [names not found])."""
    found = {name: find_set(name, eval_dir) for name in EXTERNAL_SIMILARITY}
    return {k: v for k, v in found.items() if v is not None}, [k for k, v in found.items() if v is None]


def not_found_message(names, eval_dir=None) -> str:
    """One sentence: which sets were not found, where embedkit looked and how to get them."""
    where = ", ".join(str(d) for d in search_dirs(eval_dir))
    files = ", ".join(f for n in names for f in EXTERNAL_SIMILARITY[n])
    return (f"{' and '.join(n.upper() for n in names)} not found (looked for {files} in {where}); "
            f"download them with `embedkit corpora fetch {' '.join(names)}`, or point --eval-dir "
            f"(or ${EVAL_DIR_ENV}) at a folder that has them")
