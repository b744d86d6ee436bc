"""The compiled core (`classify._core`, Cython) and the switch between it and the pure-Python reference.

`compiled_blocks` gives a `CompiledUnion`'s word and char_wb TF-IDF blocks computed by the compiled kernel,
or nothing, in which case the union computes them in Python as before. Both paths read one specification:
the vocabularies, n-gram ranges and tokenizer of the model's `CompiledTfidf` blocks, and the data of
`classify.text.resources` (negation words, scope-closing characters, emoji ranges); the kernel counts, and
`classify.features.weigh_counts`, the same code for both, weighs. The kernel is used only when the
expressions of `resources` still have the shape it implements (`rules_agree`), so they cannot drift apart
unnoticed: `tests/test_core.py` fails when they do. docs/core.md says more.

`CLASSIFY_PURE_PYTHON=1` forces the reference path. Without the compiled module (no compiler or Cython at
install time) classify says once on stderr that it runs slower, and why.
"""

from __future__ import annotations

import os
import sys

import numpy as np

FAST_BATCH = 200  # below this many texts, a model whose kernel is not built yet stays on the Python path
_state: dict = {}  # "module": the compiled module or None, "why": why not, "noted": the note was written


def pure_python() -> bool:
    """True when CLASSIFY_PURE_PYTHON asks for the reference path (any value but empty or 0)."""
    return os.environ.get("CLASSIFY_PURE_PYTHON", "") not in ("", "0")


def module():
    """The compiled module, or None: forced off by CLASSIFY_PURE_PYTHON, not built, or built for other rules
    than `classify.text.resources` states (then a note says so once on stderr)."""
    if pure_python():
        return None
    if "module" not in _state:
        _state["module"], _state["why"] = _load()
    if _state["module"] is None and not _state.get("noted"):
        _state["noted"] = True
        sys.stderr.write(f"Note: the compiled core is not available ({_state['why']}); using the pure-Python "
                         f"path (slower).\n")
    return _state["module"]


def check(union) -> None:
    """Look for the compiled module when it could compute `union`'s features (so a note says once, in the
    process that loads the model, that it is missing)."""
    if union is not None and hasattr(union, "transformer_list") and _kernel_spec(union) is not None:
        module()


def _load():
    try:
        from classify import _core
    except ImportError as exc:
        return None, f"classify._core could not be imported: {exc}; reinstall with a C compiler to build it"
    problem = rules_agree(_core)
    if problem:
        return None, f"{problem}; rebuild it with `pip install -e .`"
    return _core, None


def rules_agree(core) -> str | None:
    """None when the compiled kernel implements the expressions of `classify.text.resources`, else what
    differs. The kernel states the expressions' shape (`RULES`); the data comes from resources."""
    import re

    from classify.text import resources as R

    expected = {
        "TOKEN_RE": core.RULES["TOKEN_RE"].format(emoji=R.EMOJI_CLASS),
        "NEGATION_SCOPE_RE": core.RULES["NEGATION_SCOPE_RE"].format(negations=R._NEGATIONS,
                                                                    scope_end=R.SCOPE_END_CLASS),
        "SCOPE_WORD_RE": core.RULES["SCOPE_WORD_RE"],
    }
    for name, pattern in expected.items():
        compiled = getattr(R, name)
        if compiled.pattern != pattern or compiled.flags != re.UNICODE:
            return f"the compiled core implements another {name} than classify/text/resources.py"
    return None


def _kernel_spec(union):
    """The kernel's arguments for `union`'s word and char_wb blocks, or None when they are of a kind the
    kernel does not compute (then the whole union stays on the Python path)."""
    from classify.text import resources as R
    from classify.text.normalize import Tokenizer

    spec, names = {}, {}
    for name, block in union.transformer_list:
        if type(block).__name__ != "CompiledTfidf":  # classify.features' (which imports this module)
            continue
        if block.analyzer == "word" and "word_vocabulary" not in spec:
            if type(block.tokenizer) is not Tokenizer or block.stop_words:
                return None
            spec.update(word_vocabulary=block.vocabulary_, word_ngrams=block.ngram_range,
                        **_weights("word", block),
                        negation_words=sorted(R.NEGATION_WORDS | R.NEGATION_WORDS_FOLDED)
                        if block.tokenizer.mark_negation else None,
                        scope_end=R.SCOPE_END, emoji=R.EMOJI_RANGES)
            names["word"] = name
        elif block.analyzer == "char_wb" and "char_vocabulary" not in spec:
            spec.update(char_vocabulary=block.vocabulary_, char_ngrams=block.ngram_range,
                        **_weights("char", block))
            names["char"] = name
        else:
            return None
    lexicon = dict(union.transformer_list).get("lexicon")
    if lexicon is not None and "word" in names and union._shared_tokenizer() is not None \
            and type(lexicon).__name__ == "LexiconFeatures":
        # the lexicon's tokens are the word block's (`CompiledUnion._shared_tokenizer`): counted in one pass
        spec["lexicon"] = lexicon._polarity()
        names["lexicon"] = "lexicon"
    return (spec, names) if names else None


def _weights(kind: str, block) -> dict:
    """The idf and tf table the kernel weighs a block with; none (numpy weighs) without a tf table."""
    if not block.sublinear_tf:
        return {f"{kind}_idf": block.idf_}
    table = tf_table()
    return {} if table is None else {f"{kind}_idf": block.idf_, f"{kind}_tf": table}


class FeatureKernel:
    """A built kernel for one union: the names of the blocks it computes, and their TF-IDF matrices."""

    def __init__(self, core, union):
        spec, self.names = _kernel_spec(union)
        self.kernel = core.Kernel(**spec)
        blocks = dict(union.transformer_list)
        self.blocks = {kind: blocks[name] for kind, name in self.names.items()}

    def counts(self, texts: list[str], threads: int = 1):
        """The kernel's (indptr, columns, counts) per block, the texts split over `threads` threads."""
        if threads <= 1 or len(texts) < 2 * threads:
            return self.kernel.counts(texts)
        from concurrent.futures import ThreadPoolExecutor

        size = -(-len(texts) // threads)
        parts = [texts[i:i + size] for i in range(0, len(texts), size)]
        with ThreadPoolExecutor(len(parts)) as pool:  # the kernel releases the GIL while it counts
            results = list(pool.map(self.kernel.counts, parts))
        word, char, lexicon = (None if results[0][b] is None else [r[b] for r in results] for b in range(3))
        return (word and _concatenate(word), char and _concatenate(char),
                lexicon and tuple(np.concatenate(arrays) for arrays in zip(*lexicon, strict=True)))

    def transform(self, texts: list[str], threads: int = 1) -> dict:
        """block name -> what the kernel gives for it (`_core.Kernel.counts`): (indptr, columns, values,
        weighed) of a TF-IDF block, (positive, negative, copies, status) of the lexicon."""
        counted = self.counts(texts, threads)
        return {self.names[kind]: c for kind, c in zip(("word", "char", "lexicon"), counted, strict=True)
                if c is not None}


def tf_table(size: int = 1 << 12) -> np.ndarray | None:
    """`1 + log(k)` for k < size, computed as `classify.features.weigh_counts` computes it (numpy's float32
    log, then + 1.0 in float32), for the kernel to look sublinear tf up; None, so that numpy weighs every
    row, if numpy's log of a value depended on where it sits in an array (checked on a shuffled copy)."""
    table = _state.get("tf")
    if table is None:
        table = np.arange(size, dtype=np.float32)
        table[0] = 1  # never looked up (a count is at least 1)
        order = np.random.default_rng(0).permutation(size)
        shuffled = table[order]
        np.log(table, out=table)
        table += 1.0
        np.log(shuffled, out=shuffled)
        shuffled += 1.0
        _state["tf"] = table = table if np.array_equal(shuffled, table[order]) else False
    return table if table is not False else None
def _concatenate(parts):
    indptr = [parts[0][0]]
    for p in parts[1:]:
        indptr.append(p[0][1:] + indptr[-1][-1])
    weighed = np.concatenate([p[3][:len(p[0]) - 1] for p in parts])
    return (np.concatenate(indptr), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), weighed)


THREADS = {"n": 1}  # threads the kernel splits a batch over (`set_threads`)


def set_threads(n: int) -> None:
    """Split each batch over `n` threads in the compiled kernel (the GIL is released while it counts)."""
    THREADS["n"] = max(1, int(n))


def compiled_blocks(union, texts: list[str]) -> dict:
    """block name -> (indptr, columns, values, weighed) for the blocks of `union` the compiled kernel computes
    (`classify.features.kernel_matrix` makes the block's TF-IDF matrix of it); {} on the Python path
    (forced, no compiled module, a block of another kind, or a small batch while the kernel is not built)."""
    kernel = union.__dict__.get("_fast_kernel")
    if kernel is None:
        if len(texts) < FAST_BATCH or pure_python():
            return {}
        core = module()
        if core is None or _kernel_spec(union) is None:
            return {}
        try:
            kernel = FeatureKernel(core, union)
        except ValueError:  # a vocabulary whose columns are not 0..n-1: the Python path
            kernel = False
        union.__dict__["_fast_kernel"] = kernel
    if kernel is False or pure_python():
        return {}
    return kernel.transform(texts, THREADS["n"])
