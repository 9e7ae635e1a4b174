"""Distributed training on CUDA: the device check, skipped without a GPU. One GPU is enough:
- one rank on `--device cuda` syncs its tensors through NCCL (a world of one: the collectives are
  real NCCL calls on the GPU's tensors, the control vector on the host through gloo);
- two ranks sharing `--device cuda:0` sync through gloo (NCCL refuses two ranks on one GPU), with
  the quality of one process on the same GPU.

On a GPU machine: python -m pytest tests/test_distributed_gpu.py"""
import json

import pytest

import embedkit

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

from test_distributed import COMMON, corpus_file, finish, launch, men  # noqa: E402,F401 (corpus_file: a fixture)

OPTS = ["--backend", "torch", "--workers", "1", "--dim", "32", "--seed", "3"]


def run_ranks(corpus, out, ranks: int, device: str, model: str = "skipgram", epochs: int = 3, extra=()):
    proc = launch(["--standalone", "--nproc-per-node", str(ranks)],
                  ["--model", model, "--corpus", str(corpus), "-o", str(out), "--distributed", "--device", device,
                   "--epochs", str(epochs), "--sync-every", "100000", *OPTS, *extra, *COMMON])
    rc, _, err = finish(proc)
    assert rc == 0, err[-3000:]
    return json.loads((out / "training_log.json").read_text())["distributed"]


def test_one_rank_syncs_through_nccl(corpus_file, tmp_path):
    d = run_ranks(corpus_file, tmp_path / "out", 1, "cuda", epochs=1)
    assert d["process_group"] == "cpu:gloo,cuda:nccl"
    assert d["syncs"] >= 2 and d["hot_syncs"] >= 2 and d["units_all_ranks"] == 788931
    assert embedkit.load(tmp_path / "out").vectors.shape == (12299, 32)


def test_two_ranks_share_one_gpu_through_gloo(corpus_file, tmp_path):
    """Against one process with the torch backend on the same GPU (the thresholds of
    test_distributed's two-rank test)."""
    d = run_ranks(corpus_file, tmp_path / "dist", 2, "cuda:0")
    assert d["process_group"] == "cpu:gloo,cuda:gloo" and d["ranks"] == 2
    assert d["syncs"] + d["warm_syncs"] >= 3 * 4 and d["warm_syncs"] > d["syncs"] > 1
    single = embedkit.train("skipgram", str(corpus_file), tokenizer="whitespace", min_count=5, dim=32, epochs=3,
                            seed=3, backend="torch", device="cuda:0")
    assert d["units_all_ranks"] == 3 * single.training_log["corpus_tokens"]
    rho_d, rho_s = men(embedkit.load(tmp_path / "dist")), men(single)
    assert rho_d > 0.07, f"distributed MEN {rho_d:.3f}"
    assert rho_d > rho_s - 0.05, f"distributed MEN {rho_d:.3f} vs single process {rho_s:.3f}"


@pytest.mark.parametrize("model,extra", [("cbow", []), ("glove", ["--window", "5"])])
def test_other_families_on_a_shared_gpu(corpus_file, tmp_path, model, extra):
    d = run_ranks(corpus_file, tmp_path / "out", 2, "cuda:0", model, epochs=1, extra=extra)
    assert d["process_group"] == "cpu:gloo,cuda:gloo" and d["syncs"] >= 2 and d["hot_syncs"] >= 2
    emb = embedkit.load(tmp_path / "out")
    assert torch.isfinite(torch.from_numpy(emb.vectors)).all() and len(emb) == 12299
