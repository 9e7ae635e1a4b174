"""embedkit: word-embedding training toolkit (skip-gram, CBOW, GloVe, fastText-style subwords).

    import embedkit
    emb = embedkit.train("skipgram", corpus="text.txt", dim=100)   # -> Embeddings
    emb.most_similar("king")
    emb = embedkit.load("vectors.txt")                             # any supported format or model folder

Heavy modules (numba kernels, torch) are imported only when used.
"""
__version__ = "0.1.0"

_LAZY = {
    "load": ("embedkit.io", "load"),
    "Embeddings": ("embedkit.embeddings", "Embeddings"),
    "train": ("embedkit.trainers.api", "train"),
    "phrases": ("embedkit.phrasing", "phrases"),
    "resume": ("embedkit.trainers.lifecycle", "resume"),
    "Callback": ("embedkit.trainers.callbacks", "Callback"),
    "EmbedkitError": ("embedkit.errors", "EmbedkitError"),
    "plot_curves": ("embedkit.plots.curves", "plot_curves"),
    "plot_map": ("embedkit.plots.wordmap", "plot_map"),
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'embedkit' has no attribute {name!r}")


__all__ = list(_LAZY)
