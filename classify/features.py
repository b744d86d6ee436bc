"""Fitted TF-IDF features without scikit-learn at prediction time.

scikit-learn fits the vectorizers at training; the fitted state (vocabulary, idf, n-gram range, tokenizer,
stop words) is then copied into these small classes, which compute the same matrix with numpy and
scipy.sparse alone. Loading a model no longer imports scikit-learn (about a second of every `classify
predict`), and a saved model holds only classify's own types, numpy arrays and dicts.
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np

class CompiledTfidf:
    """The `transform` of a fitted `TfidfVectorizer` (preprocessor identity, no lower-casing, l2 norm).

    `analyzer` is "word" (tokens from `tokenizer`, stop words removed, then n-grams joined by a space) or
    "char_wb" (character n-grams inside words padded with a space), as in scikit-learn.
    """

    def __init__(self, analyzer: str, vocabulary: dict, idf, ngram_range, sublinear_tf: bool, tokenizer=None,
                 stop_words=None):
        self.analyzer = analyzer
        self.vocabulary_ = dict(vocabulary)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = bool(sublinear_tf)
        self.tokenizer = tokenizer
        self.stop_words = sorted(stop_words) if stop_words else None

    @classmethod
    def from_sklearn(cls, vectorizer) -> CompiledTfidf:
        if vectorizer.analyzer not in ("word", "char_wb") or vectorizer.norm != "l2" or not vectorizer.use_idf \
                or vectorizer.lowercase or vectorizer.binary:
            raise ValueError("only the vectorizers classify builds can be compiled")
        stop = vectorizer.get_stop_words() if vectorizer.analyzer == "word" else None
        return cls(vectorizer.analyzer, vectorizer.vocabulary_, vectorizer.idf_, vectorizer.ngram_range,
                   vectorizer.sublinear_tf, vectorizer.tokenizer if vectorizer.analyzer == "word" else None, stop)

    # the analyzers: n-grams of one (already normalised) text ------------------------------------------
    def _word_ngrams(self, text: str, stop=None, tokens=None) -> list[str]:
        tokens = self.tokenizer(text) if tokens is None else tokens
        if stop:
            tokens = [w for w in tokens if w not in stop]
        min_n, max_n = self.ngram_range
        if max_n == 1:
            return tokens
        original = tokens
        if min_n == 1:
            tokens = list(original)
            min_n += 1
        else:
            tokens = []
        n_original = len(original)
        for n in range(min_n, min(max_n + 1, n_original + 1)):
            for i in range(n_original - n + 1):
                tokens.append(" ".join(original[i:i + n]))
        return tokens

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, index in self.vocabulary_.items():
            names[index] = term
        return names

    def __getstate__(self) -> dict:
        # the lookup tables below are rebuilt on demand: not saved with the model
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_fast")}

    def transform(self, texts, tokens=None):
        """The TF-IDF matrix of already normalised texts (CSR, float32, one row per text).

        Large batches go through vectorised lookups (`_char_entries`, `_word_entries`): per distinct word
        or token once, then numpy over the whole batch. Small ones, such as a single document from the
        command line, use the plain per-text analyzers above, which need no tables to be built first.
        `tokens`: the texts already split by this block's tokenizer (`CompiledUnion` shares them)."""
        texts = texts if isinstance(texts, list) else list(texts)
        if self.analyzer == "char_wb":
            rows, cols = self._char_entries(texts)
        elif len(texts) >= _FAST_BATCH:
            rows, cols = self._word_entries(texts, tokens)
        else:
            rows, cols = self._reference_entries(texts, tokens)
        return self._weigh(rows, cols, len(texts))

    def _reference_entries(self, texts, tokens=None):
        stop = set(self.stop_words or ())
        vocabulary = self.vocabulary_
        rows, cols = [], []
        for i, text in enumerate(texts):
            grams = self._word_ngrams(text, stop, None if tokens is None else tokens[i])
            found = [c for c in map(vocabulary.get, grams) if c is not None]
            cols.extend(found)
            rows.extend([i] * len(found))
        return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)

    def _char_entries(self, texts):
        """Character n-grams are counted per word: each distinct word is analysed once and its columns kept."""
        cache = getattr(self, "_fast_words", None)
        if cache is None or len(cache) > CACHE_WORDS:
            cache = self._fast_words = ColumnCache(self._char_columns)
        return word_entries(texts, cache)

    def _char_columns(self, words: list[str]):
        grams = [char_wb_ngrams(w, self.ngram_range) for w in words]
        per_word = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        columns = np.fromiter(map(self.vocabulary_.get, chain.from_iterable(grams), repeat(-1)), dtype=np.int64,
                              count=int(per_word.sum()))
        known = columns >= 0
        owner = np.repeat(np.arange(len(words), dtype=np.int64), per_word)
        return np.bincount(owner[known], minlength=len(words)), columns[known]

    def _word_entries(self, texts, tokens=None):
        """Word n-grams by integer keys: tokens to ids, then an n-gram's id from its (n-1)-gram prefix's id
        and its last token, level by level, with sorted lookups over the whole batch."""
        tables = getattr(self, "_fast_tables", None)
        if tables is None:
            tables = self._fast_tables = _NgramTables(self.vocabulary_)
        stop = set(self.stop_words or ())
        if tokens is None:
            tokenizer = self.tokenizer
            tokens = [tokenizer(text) for text in texts]
        if stop:
            tokens = [[w for w in t if w not in stop] for t in tokens]
        per_text = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        flat = list(chain.from_iterable(tokens))
        ids = np.fromiter(map(tables.token_ids.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        min_n, max_n = self.ngram_range
        rows, cols = [], []
        prefix = ids  # the id of the n-gram starting at each position in this level's table, or -1
        for n in range(1, max_n + 1):
            if n > 1:
                prefix = tables.extend(n, prefix[:-1], ids[n - 1:])
            if n >= min_n:
                found = np.flatnonzero(prefix >= 0)
                if n > 1:  # the n-gram must lie inside one text
                    found = found[owner[found] == owner[found + n - 1]]
                col = tables.columns[n - 1][prefix[found]]
                keep = col >= 0
                rows.append(owner[found[keep]])
                cols.append(col[keep])
            if not (prefix >= 0).any():
                break
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(cols)

    def _weigh(self, rows, cols, n_texts: int):
        return tfidf_matrix(rows, cols, n_texts, len(self.vocabulary_), self.sublinear_tf, self.idf_)


_FAST_BATCH = 200  # from this many texts, word n-grams go through `_NgramTables` (built once, ~0.1-0.5 s)
CACHE_WORDS = 500_000  # a word cache is emptied when it grows past this


def char_wb_ngrams(word: str, ngram_range) -> list[str]:
    """scikit-learn's `char_wb` n-grams of one word: inside the word padded with a space, a word shorter
    than n giving itself once."""
    min_n, max_n = ngram_range
    w = " " + word + " "
    w_len = len(w)
    out = []
    for n in range(min_n, max_n + 1):
        out.extend(w[i:i + n] for i in range(max(w_len - n + 1, 1)))
        if w_len <= n:
            break
    return out


def word_entries(texts, cache: ColumnCache):
    """(row, column) of every feature of `texts` whose features are those of their whitespace-separated
    words, added up: each distinct word is analysed once (`cache`), then gathered with numpy."""
    words = [text.split() for text in texts]
    per_text = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    flat = list(chain.from_iterable(words))
    cache.add(list(set(flat).difference(cache.keys())))
    ids = np.fromiter(map(cache.__getitem__, flat), dtype=np.int64, count=len(flat))
    start, size, pool = cache.arrays()
    sizes = size[ids]
    offsets = np.cumsum(sizes) - sizes
    index = np.repeat(start[ids] - offsets, sizes) + np.arange(int(sizes.sum()), dtype=np.int64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
    return np.repeat(owner, sizes), pool[index]


def tfidf_matrix(rows, cols, n_texts: int, n_columns: int, sublinear_tf: bool, idf=None):
    """CSR matrix from (row, column) occurrences: counts, tf (or 1 + log tf) × idf, l2-normalised rows."""
    import scipy.sparse as sp

    keys = np.sort(rows * n_columns + cols)
    if len(keys):
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        counts = np.diff(np.append(first, len(keys))).astype(np.float32)
        keys = keys[first]
    else:
        counts = np.zeros(0, np.float32)
    rows, cols = np.divmod(keys, n_columns)
    data = counts
    if sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    if idf is not None:
        data *= idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=n_texts))
    norms[norms == 0] = 1.0
    data /= norms[rows].astype(np.float32)
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_texts), out=indptr[1:])
    return sp.csr_matrix((data, cols.astype(np.int32), indptr), shape=(n_texts, n_columns))


class ColumnCache(dict):
    """word -> integer id; the columns of word i are pool[start[i]:start[i] + size[i]].

    `columns_of(words)` gives the (sizes, pool) of a list of new words: it is called once per batch."""

    def __init__(self, columns_of):
        super().__init__()
        self.columns_of = columns_of
        self.chunks: list = []
        self.built = None

    def add(self, words: list[str]) -> None:
        if words:
            self.update(zip(words, range(len(self), len(self) + len(words))))
            self.chunks.append(self.columns_of(words))
            self.built = None

    def arrays(self):
        if self.built is None:
            size = np.concatenate([c[0] for c in self.chunks]) if self.chunks else np.zeros(0, np.int64)
            pool = np.concatenate([c[1] for c in self.chunks]) if self.chunks else np.zeros(0, np.int64)
            start = np.zeros(len(size), dtype=np.int64)
            np.cumsum(size[:-1], out=start[1:])
            self.built = (start, size.astype(np.int64), pool.astype(np.int64))
        return self.built


class _NgramTables:
    """Integer lookups for a word vocabulary: token -> id; for n >= 2, (id of the (n-1)-token prefix, id of
    the n-th token) -> id of the n-token prefix, as sorted keys; `columns[n-1][id]`: its column or -1."""

    def __init__(self, vocabulary: dict):
        parts = [term.split(" ") for term in vocabulary]
        terms = np.fromiter(vocabulary.values(), dtype=np.int64, count=len(vocabulary))
        lengths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        flat = list(chain.from_iterable(parts))
        self.token_ids = {t: i for i, t in enumerate(dict.fromkeys(flat))}
        self.n_tokens = n_tokens = len(self.token_ids)
        flat_ids = np.fromiter(map(self.token_ids.__getitem__, flat), dtype=np.int64, count=len(flat))
        offsets = np.cumsum(lengths) - lengths
        self.max_n = max_n = int(lengths.max()) if len(lengths) else 1
        self.keys, self.columns = [None], []
        prefix = flat_ids[offsets] if len(flat) else np.zeros(0, np.int64)  # level-1 id of every term: its first token
        unigram = np.full(n_tokens, -1, dtype=np.int64)
        unigram[prefix[lengths == 1]] = terms[lengths == 1]
        self.columns.append(unigram)
        for n in range(2, max_n + 1):
            longer = np.flatnonzero(lengths >= n)
            keys = prefix[longer] * n_tokens + flat_ids[offsets[longer] + n - 1]
            unique, inverse = np.unique(keys, return_inverse=True)
            column = np.full(len(unique), -1, dtype=np.int64)
            ends = lengths[longer] == n
            column[inverse[ends]] = terms[longer[ends]]
            self.keys.append(unique)
            self.columns.append(column)
            prefix = np.full(len(parts), -1, dtype=np.int64)
            prefix[longer] = inverse

    def extend(self, n: int, prefix, last):
        """Ids at level n of the n-grams made of `prefix` (ids at level n-1) followed by token `last`."""
        out = np.full(len(prefix), -1, dtype=np.int64)
        if n > self.max_n:
            return out
        ok = np.flatnonzero((prefix >= 0) & (last >= 0))
        keys = prefix[ok] * self.n_tokens + last[ok]
        table = self.keys[n - 1]
        at = np.searchsorted(table, keys)
        at[at == len(table)] = 0
        hit = table[at] == keys if len(table) else np.zeros(len(keys), bool)
        out[ok[hit]] = at[hit]
        return out


class CompiledUnion:
    """The blocks of a fitted `FeatureUnion`, side by side (sparse TF-IDF blocks, dense vectors)."""

    def __init__(self, transformer_list: list):
        self.transformer_list = list(transformer_list)

    @classmethod
    def from_sklearn(cls, union) -> CompiledUnion:
        blocks = []
        for name, block in union.transformer_list:
            if type(block).__name__ == "TfidfVectorizer":
                block = CompiledTfidf.from_sklearn(block)
            blocks.append((name, block))
        return cls(blocks)

    def transform(self, texts):
        import scipy.sparse as sp

        texts = texts if isinstance(texts, list) else list(texts)
        shared = self._shared_tokenizer()
        if shared is None:
            parts = [block.transform(texts) for _, block in self.transformer_list]
        else:  # the word block and the lexicon split the texts the same way: once for both
            tokens = [shared(text) for text in texts]
            parts = [block.transform(texts, tokens=tokens) if name in ("word", "lexicon") else block.transform(texts)
                     for name, block in self.transformer_list]
        parts = [p if sp.issparse(p) else sp.csr_matrix(p) for p in parts]
        return parts[0].tocsr() if len(parts) == 1 else sp.hstack(parts, format="csr")

    def _shared_tokenizer(self):
        """The word block's tokenizer when the lexicon block would split texts exactly as it does, else None."""
        blocks = dict(self.transformer_list)
        word, lexicon = blocks.get("word"), blocks.get("lexicon")
        if lexicon is None or not isinstance(word, CompiledTfidf):
            return None
        tokenizer = word.tokenizer
        return tokenizer if getattr(tokenizer, "mark_negation", False) is True and type(tokenizer).__name__ == \
            "Tokenizer" else None
