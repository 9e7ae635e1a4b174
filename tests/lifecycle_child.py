"""`python tests/lifecycle_child.py embedkit-args...`: the embedkit CLI with small chunks, so that a
small test corpus has many chunk ends (checkpoint points) per epoch. Used by test_lifecycle.py's
kill and resume tests, which run it in subprocesses."""
import sys

import embedkit.trainers.glove_numba as glove_numba
import embedkit.trainers.word2vec_numba as word2vec_numba

word2vec_numba.CHUNK_WORDS = 5000
glove_numba.CHUNK_PAIRS = 20000

if __name__ == "__main__":
    from embedkit.cli import main
    sys.exit(main(sys.argv[1:]))
