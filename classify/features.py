"""TF-IDF features fitted and computed without scikit-learn's vectorizers.

`fit_tfidf` learns what a scikit-learn `TfidfVectorizer` would (vocabulary, idf: tested equal, bit for bit)
several times faster, and `CompiledTfidf` holds that fitted state (vocabulary, idf, n-gram range,
tokenizer, stop words) and computes the same matrix with numpy and scipy.sparse alone. Loading a model
does not import scikit-learn (about a second of every `classify predict`), and a saved model holds only
classify's own types, numpy arrays and dicts. `CompiledTfidf.from_sklearn` copies a fitted scikit-learn
vectorizer: the reference the tests compare with.
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

        Large batches go through vectorised lookups (`_char_counts`, `_word_entries`): per distinct word
        or token once, then numpy over the whole batch. Small ones, such as a single document from the
        command line, use the plain per-text analyzers above, which need no tables to be built first.
        `tokens`: the texts already split by this block's tokenizer (`CompiledUnion` shares them)."""
        texts = texts if isinstance(texts, list) else list(texts)
        if self.analyzer == "char_wb":
            return weigh_csr(self._char_counts(texts), self.sublinear_tf, self.idf_)
        if len(texts) >= _FAST_BATCH:
            rows, cols = self._word_entries(texts, tokens)
        else:
            rows, cols = self._reference_entries(texts, tokens)
        return self._weigh(rows, cols, len(texts))

    def rows(self, texts, tokens=None):
        """`transform`'s matrix for a small batch as `classify.rows.Rows`, computed without scipy: the same
        entries in the same order, the same numbers."""
        from classify.rows import Rows

        texts = texts if isinstance(texts, list) else list(texts)
        if self.analyzer == "char_wb":
            rows, cols, counts = product_entries(texts, self._word_cache(), len(self.vocabulary_))
        else:
            found = self._reference_entries(texts, tokens)
            rows, cols, counts = distinct_entries(*found, len(self.vocabulary_))
        return Rows(*weigh_arrays(rows, cols, counts, len(texts), self.sublinear_tf, self.idf_),
                    (len(texts), len(self.vocabulary_)))

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

    def _char_counts(self, texts):
        """Character n-grams are counted per word: each distinct word is analysed once and its columns kept."""
        return word_counts(texts, self._word_cache(), len(self.vocabulary_))

    def _word_cache(self) -> ColumnCache:
        cache = getattr(self, "_fast_words", None)
        if cache is None or len(cache) > CACHE_WORDS:
            cache = self._fast_words = ColumnCache(self._char_columns)
        return cache

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
    w = " " + word + " "
    key = (len(w), ngram_range[0], ngram_range[1])
    slices = _SLICES.get(key)
    if slices is None:
        slices = _SLICES[key] = _wb_slices(*key)
    return list(map(w.__getitem__, slices))


_SLICES: dict = {}  # (padded word length, min_n, max_n) -> the slices of its n-grams, in scikit-learn's order


def _wb_slices(w_len: int, min_n: int, max_n: int) -> tuple:
    out = []
    for n in range(min_n, max_n + 1):
        out.extend(slice(i, i + n) for i in range(max(w_len - n + 1, 1)))
        if w_len <= n:
            break
    return tuple(out)


def word_counts(texts, cache: ColumnCache, n_columns: int):
    """Counts (CSR, float32, each column once per row, in no set order) of the features of `texts` whose
    features are those of their whitespace-separated words, added up: each distinct word is analysed once
    (`cache`), then one sparse product, (texts × words) @ (words × columns), adds them up without listing
    or sorting every occurrence."""
    import scipy.sparse as sp

    indptr, ids = _word_ids(texts, cache)
    per_word = cache.matrix(n_columns)
    occurrences = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr),
                                shape=(len(texts), per_word.shape[0]))
    return (occurrences @ per_word).tocsr()


def _word_ids(texts, cache: ColumnCache):
    """(indptr, ids): the cache's ids of the texts' whitespace-separated words, text after text; the words
    not in the cache are added first."""
    words = [text.split() for text in texts]
    indptr = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, words), dtype=np.int64, count=len(words)), out=indptr[1:])
    flat = list(chain.from_iterable(words))
    cache.add(list(set(flat).difference(cache.keys())))
    return indptr, np.fromiter(map(cache.__getitem__, flat), dtype=np.int64, count=len(flat))


def product_entries(texts, cache: ColumnCache, n_columns: int):
    """`word_counts` without scipy: (rows, columns, counts) of the distinct entries, each row's in the order
    scipy's product gives them (`csr_matmat` lists a row's columns from the last one first met back to the
    first), which is the order its sums then run in."""
    indptr, ids = _word_ids(texts, cache)
    starts, sizes, pool = cache.spans()
    lengths = sizes[ids]  # each occurrence of a word: its columns, one after the other
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    gather = np.arange(total, dtype=np.int64) + np.repeat(starts[ids] - (ends - lengths), lengths)
    cols = pool[gather]
    owner = np.repeat(np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(indptr)), lengths)
    keys, first, counts = np.unique(owner * n_columns + cols, return_index=True, return_counts=True)
    order = np.lexsort((-first, keys // n_columns))  # by row; in a row, the last column first met first
    keys = keys[order]
    return keys // n_columns, keys % n_columns, counts[order].astype(np.float32)


def kernel_matrix(block: CompiledTfidf, counted, n_texts: int):
    """`block`'s CSR TF-IDF matrix from what the compiled kernel gives (`classify.core.compiled_blocks`):
    `(indptr, columns, values, weighed)`, each row weighed by the kernel or, where `weighed` is False, its
    counts, weighed here (`weigh_counts` on those rows alone; weights are per row)."""
    import scipy.sparse as sp

    indptr, cols, data, weighed = counted
    raw = np.flatnonzero(~weighed[:n_texts])
    if len(raw):
        sizes = indptr[raw + 1] - indptr[raw]
        at = np.repeat(indptr[raw] - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
        rows = np.repeat(np.arange(len(raw), dtype=np.int64), sizes)
        data[at] = weigh_counts(rows, cols[at], data[at], len(raw), len(block.vocabulary_), block.sublinear_tf,
                                block.idf_).data
    return sp.csr_matrix((data, cols, indptr), shape=(n_texts, len(block.vocabulary_)))


def weigh_csr(counts, sublinear_tf: bool, idf=None):
    """`weigh_counts` of a CSR count matrix with each column at most once per row."""
    n_texts, n_columns = counts.shape
    rows = np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(counts.indptr))
    return weigh_counts(rows, counts.indices, counts.data, n_texts, n_columns, sublinear_tf, idf)


def tfidf_matrix(rows, cols, n_texts: int, n_columns: int, sublinear_tf: bool, idf=None):
    """CSR matrix from (row, column) occurrences: counts, tf (or 1 + log tf) × idf, l2-normalised rows."""
    rows, cols, counts = distinct_entries(rows, cols, n_columns)
    return weigh_counts(rows, cols, counts, n_texts, n_columns, sublinear_tf, idf)


def distinct_entries(rows, cols, n_columns: int):
    """(rows, columns, counts) of the distinct entries among (row, column) occurrences, sorted."""
    keys = np.sort(rows * n_columns + cols)
    if len(keys):
        first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
        counts = np.diff(np.append(first, len(keys))).astype(np.float32)
        keys = keys[first]
    else:
        counts = np.zeros(0, np.float32)
    rows, cols = np.divmod(keys, n_columns)
    return rows, cols, counts


def weigh_counts(rows, cols, counts, n_texts: int, n_columns: int, sublinear_tf: bool, idf=None):
    """CSR TF-IDF matrix from distinct (row, column) entries sorted by row, and their counts."""
    import scipy.sparse as sp

    arrays = weigh_arrays(rows, cols, counts, n_texts, sublinear_tf, idf)
    return sp.csr_matrix(arrays, shape=(n_texts, n_columns))


def weigh_arrays(rows, cols, counts, n_texts: int, sublinear_tf: bool, idf=None):
    """`weigh_counts`' CSR arrays (data, indices, indptr), without scipy."""
    data = np.array(counts, dtype=np.float32)  # a copy: weighed in place
    if sublinear_tf:
        relative_counts(rows, data, n_texts)
        np.log(data, out=data)
        data += 1.0
    if idf is not None:
        data *= idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=n_texts))
    norms[norms == 0] = 1.0
    data /= norms[rows].astype(np.float32)
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_texts), out=indptr[1:])
    return data, cols.astype(np.int32), indptr


def relative_counts(rows, data, n_texts: int) -> None:
    """Divide each row's counts by the row's smallest count, in place (`rows` sorted).

    Sublinear tf, `1 + log(count)`, is not invariant to repeating a text: twice the same message gives
    `1 + log 2` to every word, and after l2 normalisation its rare words weigh less against its frequent ones
    than in the message once. Counted in units of the row's rarest term, a text repeated k times has the
    counts of the text once. Nearly every real text has a term seen once, so for them this changes nothing:
    the weights are `1 + log(count)` as in scikit-learn's `sublinear_tf`."""
    if not len(data):
        return
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    smallest = np.minimum.reduceat(data, starts)
    if (smallest > 1).any():
        data /= np.repeat(smallest, np.diff(np.append(starts, len(data))))


# -- fitting: the vocabulary and matrix scikit-learn's TfidfVectorizer.fit_transform would give, faster --------

def fit_tfidf(texts, analyzer: str, ngram_range, min_df, sublinear_tf: bool, max_features: int | None = None,
              tokenizer=None, stop_words=None, tokens=None):
    """Fit a `CompiledTfidf` on already normalised texts and return it with their TF-IDF matrix.

    The vocabulary (n-grams in `min_df` or more texts, at most the `max_features` most frequent, sorted by
    name), the idf and the matrix are those of a `TfidfVectorizer` (`lowercase=False`, smooth idf, l2 norm)
    with the same settings; the matrix is the one `CompiledTfidf.transform` gives. scikit-learn counts
    every n-gram of every text in Python; here each distinct word (character n-grams) or token sequence
    (word n-grams) is analysed once and scipy counts. `tokens`: the texts already split by `tokenizer`.
    Raises ValueError, as scikit-learn does, when no n-gram is left."""
    import scipy.sparse as sp

    texts = texts if isinstance(texts, list) else list(texts)
    ngram_range = tuple(ngram_range)
    stop = sorted(stop_words) if stop_words else None
    if analyzer == "char_wb":
        counts, names = _char_counts(texts, ngram_range)
    elif analyzer == "word":
        if tokens is None:
            tokens = [tokenizer(text) for text in texts]
        if stop:
            stopped = set(stop)
            tokens = [[w for w in t if w not in stopped] for t in tokens]
        counts, names = _word_counts(tokens, ngram_range)
    else:
        raise ValueError(f"analyzer {analyzer!r} cannot be fitted here")
    if not counts.nnz:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    n_texts, n_grams = counts.shape
    df = np.bincount(counts.indices, minlength=n_grams)
    low = min_df if isinstance(min_df, (int, np.integer)) else min_df * n_texts
    kept = np.flatnonzero(df >= low)
    kept_names = names(kept)
    order = sorted(range(len(kept)), key=kept_names.__getitem__)
    kept, kept_names = kept[order], [kept_names[i] for i in order]
    if max_features is not None and len(kept) > max_features:
        # scikit-learn's choice, ties included: the same argsort of the same float32 totals in name order
        totals = np.bincount(counts.indices, weights=counts.data, minlength=n_grams)[kept].astype(np.float32)
        chosen = np.sort((-totals).argsort()[:max_features])
        kept, kept_names = kept[chosen], [kept_names[i] for i in chosen]
    if not len(kept):
        raise ValueError("After pruning, no terms remain. Try a lower min_df or a higher max_df.")
    column = np.full(n_grams, -1, dtype=np.int32)
    column[kept] = np.arange(len(kept), dtype=np.int32)
    cols = column[counts.indices]
    keep = cols >= 0
    rows = np.repeat(np.arange(n_texts, dtype=np.int64), np.diff(counts.indptr))[keep]
    indptr = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_texts), out=indptr[1:])
    counts = sp.csr_matrix((counts.data[keep], cols[keep], indptr), shape=(n_texts, len(kept)))
    counts.has_sorted_indices = False
    counts.sort_indices()  # by column within each row, as `transform` gives them
    df = df[kept].astype(np.float32) + np.float32(1.0)  # scikit-learn's smooth idf, in its float32 steps
    idf = np.full_like(df, fill_value=n_texts + 1)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    compiled = CompiledTfidf(analyzer, dict(zip(kept_names, range(len(kept)))), idf, ngram_range, sublinear_tf,
                             tokenizer if analyzer == "word" else None, stop)
    return compiled, weigh_counts(rows, counts.indices, counts.data, n_texts, len(kept), sublinear_tf, compiled.idf_)


def _distinct(flat: list):
    """(ids of `flat`'s items in order of first appearance, the distinct items in that order)."""
    import pandas as pd  # its hash table: twice as fast as a dict for millions of n-grams

    array = np.empty(len(flat), dtype=object)
    array[:] = flat
    ids, distinct = pd.factorize(array)
    return ids.astype(np.int64, copy=False), distinct.tolist()


def _count_matrix(rows, grams, counts, shape):
    """CSR matrix of `counts` at (rows, grams), duplicates added up."""
    import scipy.sparse as sp

    return sp.coo_matrix((np.asarray(counts, dtype=np.float32), (rows, grams)), shape=shape).tocsr()


def _char_counts(texts: list[str], ngram_range):
    """The count matrix (texts x grams) of the texts' character n-grams, and the names of gram ids. A
    text's n-grams are those of its whitespace-separated words: each distinct word is analysed once, and the
    counts are (texts x words) @ (words x grams), a sparse product that never lists every occurrence."""
    import scipy.sparse as sp

    words = [text.split() for text in texts]
    per_text = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    word_ids, distinct = _distinct(list(chain.from_iterable(words)))
    grams_of = [char_wb_ngrams(w, ngram_range) for w in distinct]
    size = np.fromiter(map(len, grams_of), dtype=np.int64, count=len(grams_of))
    pool, names = _distinct(list(chain.from_iterable(grams_of)))
    n_words, n_grams = max(len(distinct), 1), max(len(names), 1)
    # each (text, word) pair once, with the number of times the word occurs in the text
    pairs = _count_matrix(np.repeat(np.arange(len(texts), dtype=np.int64), per_text), word_ids,
                          np.ones(len(word_ids)), (len(texts), n_words))
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(size, out=indptr[1:len(size) + 1])
    # a word's n-grams, one entry per occurrence: the product adds repeated ones up
    grams = sp.csr_matrix((np.ones(len(pool), dtype=np.float32), pool, indptr), shape=(n_words, n_grams))
    return (pairs @ grams).tocsr(), lambda ids: [names[i] for i in ids]


def _word_counts(tokens: list[list[str]], ngram_range):
    """The count matrix (texts x grams) of the word n-grams (tokens joined by a space) and the names of gram
    ids; an n-gram's id comes from its (n-1)-token prefix's id and its last token, level by level."""
    min_n, max_n = ngram_range
    per_text = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    flat = list(chain.from_iterable(tokens))
    ids, distinct = _distinct(flat)
    owner = np.repeat(np.arange(len(tokens), dtype=np.int64), per_text)
    rows, grams, levels = [], [], []  # levels: (first gram id, n, where each of its grams first occurs)
    offset = 0
    starts = np.arange(len(ids), dtype=np.int64)  # where the n-grams of this level start
    level = ids  # and their ids at this level
    first = np.unique(ids, return_index=True)[1]  # ids are 0..len(distinct)-1, numbered as first met
    for n in range(1, max_n + 1):
        if n > 1:
            end = starts + n - 1
            ok = end < len(ids)
            ok[ok] = owner[starts[ok]] == owner[end[ok]]  # inside one text
            keys = level[ok] * len(distinct) + ids[end[ok]]
            starts = starts[ok]
            if not len(starts):
                break
            _, first, level = np.unique(keys, return_index=True, return_inverse=True)
            level = level.ravel()
        if n >= min_n:
            rows.append(owner[starts])
            grams.append(level + offset)
            levels.append((offset, n, starts[first]))
            offset += len(first)
    rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    grams = np.concatenate(grams) if grams else np.zeros(0, np.int64)
    counts = _count_matrix(rows, grams, np.ones(len(rows)), (len(tokens), max(offset, 1)))

    def names(gram_ids) -> list[str]:
        out = []
        for g in gram_ids:
            for first_id, n, positions in reversed(levels):
                if g >= first_id:
                    p = positions[g - first_id]
                    out.append(" ".join(flat[p:p + n]))
                    break
        return out

    return counts, names


class ColumnCache(dict):
    """word -> integer id, and `matrix`: row i holds the column counts of word i.

    `columns_of(words)` gives the (sizes, pool) of a list of new words, their columns one word after the
    other: it is called once per batch."""

    def __init__(self, columns_of):
        super().__init__()
        self.columns_of = columns_of
        self.chunks: list = []
        self.built = self.flat = None

    def add(self, words: list[str]) -> None:
        if words:
            self.update(zip(words, range(len(self), len(self) + len(words))))
            self.chunks.append(self.columns_of(words))
            self.built = self.flat = None

    def spans(self):
        """(starts, sizes, pool): word i's columns are `pool[starts[i]:starts[i] + sizes[i]]`."""
        if self.flat is None:
            size = np.concatenate([c[0] for c in self.chunks]) if self.chunks else np.zeros(0, np.int64)
            pool = np.concatenate([c[1] for c in self.chunks]) if self.chunks else np.zeros(0, np.int64)
            self.flat = (np.cumsum(size) - size, size, pool)
        return self.flat

    def matrix(self, n_columns: int):
        """(words × columns) CSR matrix of the words' column counts, in id order (rebuilt after `add`)."""
        if self.built is None or self.built.shape[1] != n_columns:
            import scipy.sparse as sp

            starts, size, pool = self.spans()
            indptr = np.zeros(len(size) + 1, dtype=np.int64)
            np.cumsum(size, out=indptr[1:])
            # a word's columns may repeat (`aaa`: `aa` twice); the product adds the repeats up
            self.built = sp.csr_matrix((np.ones(len(pool), dtype=np.float32), pool, indptr),
                                       shape=(len(size), n_columns))
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

    def __getstate__(self) -> dict:
        # the compiled kernel (`classify.core`) is rebuilt on demand: not saved with the model
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_fast")}

    def transform(self, texts):
        import scipy.sparse as sp

        from classify.core import compiled_blocks

        texts = texts if isinstance(texts, list) else list(texts)
        blocks = dict(self.transformer_list)
        # the word and char_wb blocks, when the compiled core is there
        done = {name: blocks[name].transform_sums(texts, *counted) if name == "lexicon" else
                kernel_matrix(blocks[name], counted, len(texts))
                for name, counted in compiled_blocks(self, texts).items()}
        shared = self._shared_tokenizer()
        if shared is None or "lexicon" in done:
            parts = [done[name] if name in done else block.transform(texts)
                     for name, block in self.transformer_list]
        else:  # the word block and the lexicon split the texts the same way: once for both
            tokens = [shared(text) for text in texts]
            parts = [done[name] if name in done else
                     block.transform(texts, tokens=tokens) if name in ("word", "lexicon") else block.transform(texts)
                     for name, block in self.transformer_list]
        parts = [p if sp.issparse(p) else sp.csr_matrix(p) for p in parts]
        return parts[0].tocsr() if len(parts) == 1 else sp.hstack(parts, format="csr")

    def rows(self, texts):
        """`transform`'s matrix for a small batch as `classify.rows.Rows`, without scipy; None when a block
        cannot give its rows that way (then `transform` it is)."""
        from classify.rows import Rows

        texts = texts if isinstance(texts, list) else list(texts)
        shared = self._shared_tokenizer()
        tokens = None if shared is None else [shared(text) for text in texts]
        parts = []
        for name, block in self.transformer_list:
            if isinstance(block, CompiledTfidf):
                parts.append(block.rows(texts, tokens=tokens) if tokens is not None and name == "word" else
                             block.rows(texts))
                continue
            if type(block).__name__ not in ("MeanVectors", "LexiconFeatures"):  # dense blocks
                return None
            dense = (block.transform(texts, tokens=tokens) if tokens is not None and name == "lexicon" else
                     block.transform(texts))
            if not isinstance(dense, np.ndarray):
                return None
            parts.append(Rows.from_dense(dense))
        return Rows.hstack(parts)

    def _shared_tokenizer(self):
        """The word block's tokenizer when the lexicon block would split texts exactly as it does, else None."""
        blocks = dict(self.transformer_list)
        word, lexicon = blocks.get("word"), blocks.get("lexicon")
        if lexicon is None or not isinstance(word, CompiledTfidf):
            return None
        tokenizer = word.tokenizer
        return tokenizer if getattr(tokenizer, "mark_negation", False) is True and type(tokenizer).__name__ == \
            "Tokenizer" else None
