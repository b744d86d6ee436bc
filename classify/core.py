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

import contextlib
import os
import sys
import threading

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


def records():
    """The compiled writer of prediction records and quick language test (`classify._records`), or None:
    forced off by CLASSIFY_PURE_PYTHON, or not built (the Python code it mirrors runs then; `module()` says
    why the compiled core is missing)."""
    if pure_python():
        return None
    if "records" not in _state:
        try:
            from classify import _records
        except ImportError:
            _records = None
        _state["records"] = _records
    return _state["records"]


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


def in_threads(model) -> bool:
    """Whether `model`'s prediction is best spread over threads rather than forked processes: the compiled
    core computes every one of its feature blocks without the GIL (the mean word vectors too, through
    `decisions`), so threads overlap where it matters and share the model and the memory-mapped vectors.
    A block computed in Python holds the GIL: forked workers are faster then."""
    union = getattr(model, "features_", None)
    if union is None or not hasattr(union, "transformer_list") or pure_python() or module() is None:
        return False
    found = _kernel_spec(union)
    if found is None:
        return False
    computed = set(found[1].values())
    # mean word vectors of normalised texts are scored by the kernel too (`decisions`)
    return all(name in computed or (type(block).__name__ == "MeanVectors" and block.normalized is True)
               for name, block in union.transformer_list)


def _built_kernel(union, n_texts: int):
    """The union's built `FeatureKernel`, built now for a batch of `FAST_BATCH` texts or more; None on the
    Python path (forced, no compiled module, a block of another kind, or a small batch while not built)."""
    kernel = union.__dict__.get("_fast_kernel")
    if kernel is None:
        if n_texts < FAST_BATCH or pure_python():
            return None
        core = module()
        if core is None or _kernel_spec(union) is None:
            return None
        try:
            kernel = FeatureKernel(core, union)
        except ValueError:  # a vocabulary whose columns are not 0..n-1: the Python path
            kernel = False
        union.__dict__["_fast_kernel"] = kernel
    return None if kernel is False or pure_python() else kernel


DENSE_BLOCKS = ("LexiconFeatures", "MeanVectors")  # blocks whose float32 columns `decisions` adds in numpy


def decisions(union, scorers: list, texts: list[str]) -> list[np.ndarray] | None:
    """`scorer.decision(union.transform(texts))` for each scorer (`classify.scoring.LinearScorer`), the same
    numbers to the bit, without building the matrix: the kernel adds each text's word and char entries into
    the layers as it weighs them (`_core.Kernel.scores`), then the dense blocks' columns are added here one
    after the other, as scipy's product adds a row's entries. None where that does not apply (the Python
    path, blocks of other kinds, or dense blocks before the kernel's in the union); the caller builds the
    matrix then. Texts one of whose rows the kernel leaves to numpy to weigh are scored the matrix way."""
    kernel = _built_kernel(union, len(texts))
    if kernel is None:
        return None
    blocks = union.transformer_list
    tfidf = [name for kind, name in kernel.names.items() if kind != "lexicon"]
    if {name for name, _ in blocks[:len(tfidf)]} != set(tfidf) or \
            any(type(block).__name__ not in DENSE_BLOCKS for _, block in blocks[len(tfidf):]):
        return None
    offsets, at = {}, 0
    for name, block in blocks[:len(tfidf)]:
        offsets[name] = at
        at += len(block.vocabulary_)
    word, char = kernel.names.get("word"), kernel.names.get("char")
    layers = [scorer.coef_t() for scorer in scorers]
    rest = blocks[len(tfidf):]
    vectors = None
    if rest and type(rest[0][1]).__name__ == "MeanVectors" and rest[0][1].normalized is True and word:
        # the mean word vectors of the word block's tokens, right after the TF-IDF blocks: in the kernel too
        matrix, resolve = rest[0][1].kernel_inputs()
        vectors = (matrix, float(rest[0][1].scale), at, resolve)
        at += matrix.shape[1]
        rest = rest[1:]
    try:
        y, left, lexicon = kernel.kernel.scores(texts, layers, offsets.get(word, 0), offsets.get(char, 0),
                                                char is not None and word is not None and offsets[char] < offsets[word],
                                                vectors)
    except ValueError:  # weights numpy must apply (no tf table), or a layer of another shape
        return None
    for name, block in rest:
        dense = (block.transform_sums(texts, *lexicon) if name == kernel.names.get("lexicon") else
                 block.transform(texts))
        if not isinstance(dense, np.ndarray) or dense.dtype != np.float32:
            return None
        for j in range(dense.shape[1]):
            column = dense[:, j:j + 1]
            if column.any():  # a zero adds nothing (a sum from +0.0 is never -0.0)
                for t, coef_t in enumerate(layers):
                    y[t] += column * coef_t[at + j]
        at += dense.shape[1]
    out = [values + scorer.intercept for values, scorer in zip(y, scorers, strict=True)]
    rows = np.flatnonzero(left)
    if len(rows):
        from classify.rows import SMALL_BATCH

        chosen = [texts[i] for i in rows.tolist()]
        # a few texts: their rows without scipy, whose import would cost a large batch 0.15-0.2 s
        X = union.rows(chosen) if len(chosen) < SMALL_BATCH and hasattr(union, "rows") else None
        X = union.transform(chosen).tocsr() if X is None else X
        for values, scorer in zip(out, scorers, strict=True):
            values[rows] = scorer.decision(X)
    return out


def compiled_blocks(union, texts: list[str]) -> dict:
    """block name -> (indptr, columns, values, weighed) for the blocks of `union` the compiled kernel computes
    (`classify.features.kernel_matrix` makes the block's TF-IDF matrix of it); {} on the Python path
    (forced, no compiled module, a block of another kind, or a small batch while the kernel is not built)."""
    kernel = _built_kernel(union, len(texts))
    return {} if kernel is None else kernel.transform(texts, THREADS["n"])


# -- the compiled normaliser (classify/_norm.pyx) ------------------------------------------------------------

# "module": classify._norm or None; "low": the lower-case table; (accents, mask, breaks): a _CompiledNormalizer
_NORM: dict = {}
_NORM_LOCK = threading.RLock()  # making a _CompiledNormalizer


class _TableLock:
    """The compiled normaliser's tables: read by any number of passes at once (threads: the pass releases the
    GIL), filled only while none reads them."""

    def __init__(self):
        self._state = threading.Condition(threading.RLock())
        self._readers = 0

    @contextlib.contextmanager
    def reading(self):
        with self._state:  # waits while a thread fills the tables
            self._readers += 1
        try:
            yield
        finally:
            with self._state:
                self._readers -= 1
                self._state.notify_all()

    @contextlib.contextmanager
    def filling(self):
        with self._state:  # held throughout: no pass starts until the tables are filled
            self._state.wait_for(lambda: self._readers == 0)
            yield


_TABLES = _TableLock()


def normalize_texts(normalizer, texts, in_python=None) -> list[str]:
    """`normalizer(text)` for each text, the same strings on both paths. A batch of `FAST_BATCH` texts or more
    goes through the compiled normaliser when it applies (a `Normalizer`, the module built, the expressions of
    `classify.text.resources` those it implements); the texts it leaves aside are normalised in Python, by
    `in_python(texts)` when given (training spreads them over its worker processes)."""
    texts = texts if isinstance(texts, list) else list(texts)
    if normalizer is None:
        return texts
    compiled = None
    if len(texts) >= FAST_BATCH and not pure_python():
        compiled = _normaliser(normalizer)
    if compiled is None:
        return in_python(texts) if in_python else [normalizer(t) for t in texts]
    results = compiled(texts)
    left = [i for i, r in enumerate(results) if r.__class__ is not str]
    if left:
        done = in_python([texts[i] for i in left]) if in_python else [normalizer(texts[i]) for i in left]
        for i, text in zip(left, done, strict=True):
            results[i] = text
    return results


def _normaliser(normalizer):
    from classify.text.normalize import Normalizer

    if type(normalizer) is not Normalizer:
        return None
    key = (bool(normalizer.accents), bool(normalizer.mask), bool(normalizer.breaks))
    compiled = _NORM.get(key)
    if compiled is None:
        with _NORM_LOCK:  # one compiled normaliser per setting (its tables are filled under `_TABLES`)
            if "module" not in _NORM:
                _NORM["module"] = _load_norm()
            compiled = _NORM.get(key)
            if compiled is None:
                norm = _NORM["module"]
                compiled = _NORM[key] = norm and _CompiledNormalizer(norm, *key) or False
    return compiled or None


def _load_norm():
    if module() is None:  # the note about the missing compiled core, once
        return None
    try:
        from classify import _norm
    except ImportError:
        return None
    return _norm if norm_rules_agree(_norm) is None else None


def norm_rules_agree(norm) -> str | None:
    """None when the compiled normaliser implements the expressions of `classify.text.resources`, else what
    differs. The per-character rules are not compared: the tables are computed from the functions
    themselves."""
    import re

    from classify.text import resources as R

    for name, pattern in norm.RULES.items():
        if name == "SPACES_RE":
            ok = R.SPACES_RE.pattern.startswith("[") and R.SPACES_RE.pattern.endswith("]+")
        else:
            ok = getattr(R, name).pattern == pattern
        if not ok or getattr(R, name).flags != re.UNICODE:
            return f"the compiled normaliser implements another {name} than classify/text/resources.py"
    elision = r"(?<![\w'])(" + "|".join("".join(f"[{c}{c.upper()}]" for c in word) for word in
                                        sorted(R.ELISIONS, key=len, reverse=True)) + r")'(?=\w)"
    if R.ELISION_RE.pattern != elision or R.TRIPLE_RE.pattern != r"(.)\1\1" \
            or not all(w.isascii() and w.islower() and f.isascii() and f.islower()
                       for w, f in R.ELISIONS.items()):
        return "the compiled normaliser implements other elisions or TRIPLE_RE than classify/text/resources"
    return None


class _CompiledNormalizer:
    """The compiled pass for one `Normalizer` setting, and the tables it reads, filled as texts meet new
    characters by running `classify.text.normalize`'s own functions on each (`character_entry`)."""

    def __init__(self, norm, accents: bool, mask: bool, breaks: bool = False):
        from classify.text import resources as R

        self.norm, self.accents = norm, accents
        low = _NORM.get("low")
        if low is None:
            low = _NORM["low"] = norm.Table()
            for cp in range(128):
                low.set(cp, [ord(c) for c in chr(cp).lower()])
        self.pre, self.low = norm.Table(), low
        elisions = [(w, R.ELISIONS[w]) for w in sorted(R.ELISIONS, key=len, reverse=True)]
        self.kernel = norm.Normaliser(self.pre, low, mask, R.NUMBER_TOKEN, elisions, breaks)
        with _TABLES.filling():  # `low` is shared with the other settings' normalisers
            self._fill(chr(c) for c in range(0x250))  # Latin, most texts need nothing more

    def __call__(self, texts: list[str]) -> list:
        with _TABLES.reading():
            results = self.kernel.normalize(texts)
        missing = [i for i, r in enumerate(results) if r is False]
        if missing:
            with _TABLES.filling():
                self._fill({c for i in missing for c in texts[i]})
                for i, r in zip(missing, self.kernel.normalize([texts[i] for i in missing]), strict=True):
                    results[i] = r
        return results

    def _fill(self, chars) -> None:
        space_run = self.norm.SPACE_RUN
        for c in chars:
            if self.pre.known(ord(c)):
                continue
            entry = character_entry(c, self.accents, space_run)
            for x in entry or ():
                if x != space_run and not self.low.known(x):
                    self.low.set(x, [ord(y) for y in chr(x).lower()])
            self.pre.set(ord(c), entry)


def character_entry(c: str, accents: bool, space_run: int) -> list[int] | None:
    """What `normalize` makes of the character `c` before lower case, by its own functions (NFKC, folding,
    apostrophes, zero-width characters; `space_run` for a character SPACES_RE turns into a space with its
    neighbours), or None when `c` is not safe to map alone: a mojibake marker, a surrogate, a character NFKC
    could combine with a neighbour, one whose lower case depends on its neighbours (`Σ`) or is ASCII while it
    is not (which the `http` check would miss)."""
    import unicodedata

    from classify.text import normalize as N
    from classify.text import resources as R

    if c in "ÃÂ" or "\ud800" <= c <= "\udfff":
        return None
    decomposed = unicodedata.normalize("NFKD", c)
    if unicodedata.combining(decomposed[0]):
        return None
    s = N.normalize_unicode(c)
    composers = _composers()
    if any(x in composers or "\u1100" <= x <= "\u11ff" or "\uac00" <= x <= "\ud7a3"
           or "\ua960" <= x <= "\ua97f" or "\ud7b0" <= x <= "\ud7ff" for x in decomposed + s):  # Hangul
        return None
    if not accents:
        s = N.fold_accents(s)
    s = R.ZERO_WIDTH_RE.sub("", N.normalize_apostrophes(s))
    entry = []
    for x in s:
        lowered = x.lower()
        if x == "\u03a3" or (not x.isascii() and any(y.isascii() for y in lowered)):
            return None
        entry.append(space_run if R.SPACES_RE.fullmatch(x) else ord(x))
    return entry


# Canonical decompositions exist in planes 0-2 only (Unicode 14: 1,493, 26 and 542 of them): scanning those
# takes a sixth of the time of every code point, paid once per process by the first compiled batch.
# tests/test_core_normalize.py checks that the whole range gives the same set with this Python's database.
COMPOSITION_PLANES = range(0x30000)


def _composers(code_points=COMPOSITION_PLANES) -> frozenset:
    """The characters of a canonical composition whose second character is a starter (`ೊ`, Hangul aside):
    NFKC of two such neighbours is not the two characters' NFKC."""
    composers = _NORM.get("composers") if code_points is COMPOSITION_PLANES else None
    if composers is None:
        import unicodedata

        found = set()
        for p in code_points:
            d = unicodedata.decomposition(chr(p))
            if d and d[0] != "<" and d.count(" ") == 1:
                a, b = (chr(int(x, 16)) for x in d.split())
                if unicodedata.combining(b) == 0 and unicodedata.normalize("NFC", a + b) == chr(p):
                    found.update((a, b))
        composers = frozenset(found)
        if code_points is COMPOSITION_PLANES:
            _NORM["composers"] = composers
    return composers
