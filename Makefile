# Quick start: `make demo` (train on the bundled corpus, show results) and `make test`.
# Both create .venv and install what is missing. torch's CPU build is installed first, by
# pinned version, so that the `torch` extra does not pull a multi-GB CUDA build.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-all bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,torch]'
	touch $(STAMP)

# The main job: train skip-gram on the bundled corpus, then show neighbours and the evaluation table,
# and draw the training curve and a map of the same words (README's docs/curves.png and docs/map.png).
demo: $(STAMP)
	$(BIN)/embedkit train --model skipgram --output out/demo
	$(BIN)/embedkit neighbors out/demo god king water love night --topn 8
	$(BIN)/embedkit evaluate out/demo
	$(BIN)/embedkit plot out/demo --curves out/demo-curves.png --words god king water love night --map out/demo-map.png

test: $(STAMP)
	$(BIN)/python -m pytest

test-all: $(STAMP)
	$(BIN)/python -m pytest -m ''

clean:
	rm -rf $(VENV) .embedkit-cache build *.egg-info
