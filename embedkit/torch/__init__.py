"""Optional torch backends (GPU-ready). Nothing here imports torch at package import time: each
module imports it itself, and only the trainers that the user picks with --backend torch load one.

The PyTorch-native pieces (modules.py: SkipGram, CBOW, Word2VecExamples) are importable from here;
reaching them imports torch.
"""
_MODULES = {"SkipGram", "CBOW", "Word2VecExamples", "Examples"}


def __getattr__(name):
    if name in _MODULES:
        from embedkit.torch import modules
        return getattr(modules, name)
    raise AttributeError(f"module 'embedkit.torch' has no attribute {name!r}")
