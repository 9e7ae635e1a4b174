"""Intrinsic evaluation: word analogies and word-pair similarity, with bundled data sets.

    from embedkit.evaluate import evaluate_all, format_table
    print(format_table(evaluate_all(emb)))          # Google analogies, WordSim-353, SimLex-999
"""
_LAZY = {
    "evaluate_analogies": "embedkit.evaluate.analogy",
    "evaluate_similarity": "embedkit.evaluate.similarity",
    "evaluate_all": "embedkit.evaluate.report",
    "format_table": "embedkit.evaluate.report",
    "write_json": "embedkit.evaluate.report",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'embedkit.evaluate' has no attribute {name!r}")


__all__ = list(_LAZY)
