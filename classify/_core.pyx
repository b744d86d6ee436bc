# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled feature kernel: the counts of a batch's word and char_wb n-grams, without the GIL.

`classify.core` is the only module that uses it, and only after checking that the rules compiled here are the
ones `classify.text.resources` states (`RULES`). Everything data-like comes from the caller, read from the
model's feature objects and `classify.text.resources`: vocabularies, n-gram ranges, negation words, the
characters that close a negation scope, the emoji ranges. What is written here is the shape of the rules:

- a word is TOKEN_RE's `\\w+(?:-\\w+)*`, `\\w` as Python's `re` reads it (`Py_UNICODE_ISALNUM` or `_`);
  `!`, `?` and a character of the emoji ranges are tokens of their own;
- a negation word opens a scope that runs to the next scope-closing character; the words inside it, other
  than negation words, get the prefix `neg_` (NEGATION_SCOPE_RE and SCOPE_WORD_RE);
- word n-grams are tokens joined by a space; char_wb n-grams are those of each whitespace-separated word
  (`str.split()`: `Py_UNICODE_ISSPACE`) padded with a space, as scikit-learn's `char_wb`.

An n-gram is found by a 64-bit hash of its code points in an open-addressing table, then compared code point
by code point with the vocabulary's term: a hash collision cannot add a count. Counts come out per text in
the Python path's order (word columns increasing, character columns as scipy's product lists them), then
are weighed with numpy's float32 and float64 steps (`weigh_row`, `classify.features.weigh_counts`).
"""

from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t
from libc.stdlib cimport malloc, calloc, realloc, free, qsort
from libc.string cimport memcmp, memcpy, memset

import numpy as np

cimport numpy as cnp

cnp.import_array()

cdef extern from "Python.h":
    bint Py_UNICODE_ISALNUM(Py_UCS4 ch) nogil
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil
    int PyUnicode_READY(object o) except -1
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)

# The regular expressions of classify/text/resources.py whose shape this kernel implements: `classify.core`
# uses the kernel only when resources.py still has exactly these (their data parts filled in).
RULES = {
    "TOKEN_RE": r"\w+(?:-\w+)*|[!?]|[{emoji}]",
    "NEGATION_SCOPE_RE": r"(?<!\w)(?<!\w-)((?:{negations})(?!\w)(?!-\w))([^{scope_end}]*)",
    "SCOPE_WORD_RE": r"\w+(?:-\w+)*",
}
VERSION = 1

cdef uint32_t NEG_PREFIX[4]
NEG_PREFIX[:] = [110, 101, 103, 95]  # `neg_`, the mark of a word inside a negation scope
cdef uint64_t H0 = 0xcbf29ce484222325ULL
cdef uint64_t HP = 0x100000001b3ULL


cdef inline uint64_t h_add(uint64_t h, uint32_t c) noexcept nogil:
    return (h ^ c) * HP


cdef inline uint64_t h_fin(uint64_t h) noexcept nogil:
    # splitmix64's finaliser: FNV's low bits are poor table indices on their own
    h ^= h >> 30
    h *= 0xbf58476d1ce4e5b9ULL
    h ^= h >> 27
    h *= 0x94d049bb133111ebULL
    h ^= h >> 31
    return h


cdef unsigned char WORD_BMP[65536]  # is_word of the Basic Multilingual Plane, filled at import
cdef Py_UCS4 _c
for _c in range(65536):
    WORD_BMP[_c] = _c == 95 or Py_UNICODE_ISALNUM(_c)


cdef inline bint is_word(uint32_t c) noexcept nogil:
    if c < 65536:
        return WORD_BMP[c]
    return Py_UNICODE_ISALNUM(<Py_UCS4>c)


cdef inline bint is_space(uint32_t c) noexcept nogil:
    return Py_UNICODE_ISSPACE(<Py_UCS4>c)


cdef inline bint same(const uint32_t *a, const uint32_t *b, int64_t n) noexcept nogil:
    # n-grams are short: a loop beats a call to memcmp
    cdef int64_t k
    for k in range(n):
        if a[k] != b[k]:
            return False
    return True


cdef struct Slot:
    uint32_t tag  # the key's high 32 bits (its low bits chose the slot)
    int32_t col   # -1: empty


cdef struct Table:
    Slot *slots  # 8 bytes a slot, tag and column side by side: small enough to stay in the CPU's caches
    uint64_t mask
    uint32_t *pool    # the terms' code points, one after the other, in column order
    int64_t *offsets  # term j: pool[offsets[j]:offsets[j + 1]]
    int64_t n_terms


cdef inline int32_t table_find(const Table *t, uint64_t key, const uint32_t *s, int64_t n) noexcept nogil:
    cdef uint64_t i = key & t.mask
    cdef uint32_t tag = <uint32_t>(key >> 32)
    cdef int32_t col
    cdef int64_t start
    while True:
        col = t.slots[i].col
        if col < 0:
            return -1
        if t.slots[i].tag == tag:  # then the term itself decides: a collision only costs a comparison
            start = t.offsets[col]
            if t.offsets[col + 1] - start == n and same(t.pool + start, s, n):
                return col
        i = (i + 1) & t.mask


cdef void table_free(Table *t) noexcept nogil:
    free(t.slots)
    free(t.pool)
    free(t.offsets)
    t.slots = NULL
    t.pool = NULL
    t.offsets = NULL


cdef int table_build(Table *t, dict vocabulary) except -1:
    """Fill `t` from term -> column (columns 0..n-1, each once). Raises ValueError when that does not hold."""
    cdef int64_t n = len(vocabulary)
    cdef int64_t size = 16, total = 0, j, k, length
    cdef uint64_t key, i
    cdef int32_t col
    cdef str term
    cdef uint32_t *s
    while 3 * size < 4 * n:  # at most three quarters full
        size *= 2
    t.mask = size - 1
    t.n_terms = n
    t.slots = <Slot *>calloc(size, sizeof(Slot))
    t.offsets = <int64_t *>calloc(n + 1, sizeof(int64_t))
    if t.slots == NULL or t.offsets == NULL:
        raise MemoryError()
    for j in range(size):
        t.slots[j].col = -1
    for term, value in vocabulary.items():
        col = value
        if col < 0 or col >= n or t.offsets[col + 1] != 0:
            raise ValueError("the vocabulary's columns are not 0..n-1, each once")
        t.offsets[col + 1] = len(term) + 1  # + 1: tells a column already seen from an empty term
    for j in range(n):
        total += t.offsets[j + 1] - 1
        t.offsets[j + 1] = total
    t.pool = <uint32_t *>malloc((total + 1) * sizeof(uint32_t))
    if t.pool == NULL:
        raise MemoryError()
    for term, value in vocabulary.items():
        col = value
        s = t.pool + t.offsets[col]
        length = len(term)
        key = H0
        for k in range(length):
            s[k] = <uint32_t>ord(term[k])
            key = h_add(key, s[k])
        key = h_fin(key)
        i = key & t.mask
        while t.slots[i].col >= 0:
            i = (i + 1) & t.mask
        t.slots[i].tag = <uint32_t>(key >> 32)
        t.slots[i].col = col
    return 0


cdef struct Out:
    int32_t *cols
    float *counts
    int64_t size
    int64_t capacity


cdef int out_push(Out *o, int32_t col, float count) noexcept nogil:
    cdef int64_t capacity
    cdef void *p
    if o.size == o.capacity:
        capacity = 2 * o.capacity + 1024
        p = realloc(o.cols, capacity * sizeof(int32_t))
        if p == NULL:
            return -1
        o.cols = <int32_t *>p
        p = realloc(o.counts, capacity * sizeof(float))
        if p == NULL:
            return -1
        o.counts = <float *>p
        o.capacity = capacity
    o.cols[o.size] = col
    o.counts[o.size] = count
    o.size += 1
    return 0


cdef struct Counter:
    int32_t *count    # per column: occurrences in the current text
    int32_t *touched  # the columns seen in the current text
    int64_t n_touched
    uint64_t *bits    # the same columns as a bit set: read in order, it sorts them
    int64_t n_words   # 64-bit words of `bits`


cdef extern from *:
    int ctz64 "__builtin_ctzll"(unsigned long long x) nogil


cdef int counter_init(Counter *c, int64_t n_columns) noexcept nogil:
    c.n_words = n_columns // 64 + 1
    c.count = <int32_t *>calloc(n_columns + 1, sizeof(int32_t))
    c.touched = <int32_t *>malloc((n_columns + 1) * sizeof(int32_t))
    c.bits = <uint64_t *>calloc(c.n_words, sizeof(uint64_t))
    c.n_touched = 0
    return -1 if c.count == NULL or c.touched == NULL or c.bits == NULL else 0


cdef void counter_free(Counter *c) noexcept nogil:
    free(c.count)
    free(c.touched)
    free(c.bits)


cdef int cmp_int32(const void *a, const void *b) noexcept nogil:
    cdef int32_t x = (<const int32_t *>a)[0], y = (<const int32_t *>b)[0]
    return (x > y) - (x < y)


cdef inline void count_add(Counter *c, int32_t col) noexcept nogil:
    if c.count[col] == 0:
        c.touched[c.n_touched] = col
        c.n_touched += 1
        c.bits[col >> 6] |= (<uint64_t>1) << (col & 63)
    c.count[col] += 1


cdef int count_flush(Counter *c, Out *o, bint increasing) noexcept nogil:
    """Append the current text's (column, count) pairs to `o`, and reset. `increasing`: columns in
    increasing order (the word block's, as `classify.features.tfidf_matrix` sorts them); else in the order
    they were first met, reversed: the order in which scipy's sparse product (`csr_matmat`) lists a row's
    columns, so the character block's entries are the Python path's, one by one. Many columns are put in
    increasing order by reading the bit set, a few by sorting them."""
    cdef int64_t j, k
    cdef int32_t col
    cdef uint64_t word
    if not increasing:
        for j in range(c.n_touched - 1, -1, -1):
            col = c.touched[j]
            c.bits[col >> 6] = 0
            if out_push(o, col, <float>c.count[col]) < 0:
                return -1
            c.count[col] = 0
    elif c.n_words <= 16 * c.n_touched:
        for k in range(c.n_words):
            word = c.bits[k]
            if word == 0:
                continue
            c.bits[k] = 0
            while word:
                col = <int32_t>(k * 64 + ctz64(word))
                word &= word - 1
                if out_push(o, col, <float>c.count[col]) < 0:
                    return -1
                c.count[col] = 0
    else:
        qsort(c.touched, c.n_touched, sizeof(int32_t), cmp_int32)
        for j in range(c.n_touched):
            col = c.touched[j]
            c.bits[col >> 6] = 0
            if out_push(o, col, <float>c.count[col]) < 0:
                return -1
            c.count[col] = 0
    c.n_touched = 0
    return 0


cdef struct Buf:
    uint32_t *data
    int64_t capacity


cdef int buf_reserve(Buf *b, int64_t n) noexcept nogil:
    cdef void *p
    if n <= b.capacity:
        return 0
    p = realloc(b.data, (n + 64) * sizeof(uint32_t))
    if p == NULL:
        return -1
    b.data = <uint32_t *>p
    b.capacity = n + 64
    return 0


cdef int buf_i64(int64_t **p, int64_t *capacity, int64_t n) noexcept nogil:
    cdef void *q
    if n <= capacity[0]:
        return 0
    q = realloc(p[0], (n + 64) * sizeof(int64_t))
    if q == NULL:
        return -1
    p[0] = <int64_t *>q
    capacity[0] = n + 64
    return 0


cdef struct WordCache:
    # padded word -> its char n-gram columns (repeats included), for the words met in recent texts: a word
    # is analysed once, then its columns are read from `cols` (texts repeat their words, Zipf's law)
    uint64_t *keys
    int32_t *slots     # -> entry, or -1
    uint64_t mask
    int64_t n_entries
    int64_t *word_at   # entry e: its word is words[word_at[e]:word_at[e + 1]]
    int64_t *cols_at   # and its columns cols[cols_at[e]:cols_at[e + 1]]
    int64_t entries_capacity
    uint32_t *words
    int64_t words_capacity
    int32_t *cols
    int64_t cols_capacity


DEF CACHE_SLOTS = 1 << 17  # at most half of them used: then the cache starts again empty
DEF CACHE_POOL = 1 << 22
DEF LONG_WORD = 1024  # longer padded words are never cached   # code points of its words, columns of its words: at most this many each


cdef WordCache *cache_new() noexcept nogil:
    cdef WordCache *c = <WordCache *>calloc(1, sizeof(WordCache))
    if c == NULL:
        return NULL
    c.mask = CACHE_SLOTS - 1
    c.keys = <uint64_t *>malloc(CACHE_SLOTS * sizeof(uint64_t))
    c.slots = <int32_t *>malloc(CACHE_SLOTS * sizeof(int32_t))
    c.entries_capacity = CACHE_SLOTS // 2 + 1
    c.word_at = <int64_t *>malloc((c.entries_capacity + 1) * sizeof(int64_t))
    c.cols_at = <int64_t *>malloc((c.entries_capacity + 1) * sizeof(int64_t))
    c.words_capacity = 1 << 16
    c.words = <uint32_t *>malloc(c.words_capacity * sizeof(uint32_t))
    c.cols_capacity = 1 << 16
    c.cols = <int32_t *>malloc(c.cols_capacity * sizeof(int32_t))
    if c.keys == NULL or c.slots == NULL or c.word_at == NULL or c.cols_at == NULL or c.words == NULL \
            or c.cols == NULL:
        cache_free(c)
        return NULL
    cache_clear(c)
    return c


cdef void cache_clear(WordCache *c) noexcept nogil:
    cdef int64_t i
    for i in range(CACHE_SLOTS):
        c.slots[i] = -1
    c.n_entries = 0
    c.word_at[0] = 0
    c.cols_at[0] = 0


cdef void cache_free(WordCache *c) noexcept nogil:
    if c == NULL:
        return
    free(c.keys)
    free(c.slots)
    free(c.word_at)
    free(c.cols_at)
    free(c.words)
    free(c.cols)
    free(c)


cdef inline int64_t cache_find(WordCache *c, uint64_t key, const uint32_t *w, int64_t n) noexcept nogil:
    """The entry of padded word `w`, or -(slot + 1) for the empty slot where it goes."""
    cdef uint64_t i = key & c.mask
    cdef int32_t e
    cdef int64_t start
    while True:
        e = c.slots[i]
        if e < 0:
            return -<int64_t>i - 1
        if c.keys[i] == key:
            start = c.word_at[e]
            if c.word_at[e + 1] - start == n and same(c.words + start, w, n):
                return e
        i = (i + 1) & c.mask


cdef int grow_i32(int32_t **p, int64_t *capacity, int64_t n) noexcept nogil:
    cdef void *q
    cdef int64_t new
    if n <= capacity[0]:
        return 0
    new = max(2 * capacity[0], n + 1024)
    q = realloc(p[0], new * sizeof(int32_t))
    if q == NULL:
        return -1
    p[0] = <int32_t *>q
    capacity[0] = new
    return 0


cdef int grow_u32(uint32_t **p, int64_t *capacity, int64_t n) noexcept nogil:
    cdef void *q
    cdef int64_t new
    if n <= capacity[0]:
        return 0
    new = max(2 * capacity[0], n + 1024)
    q = realloc(p[0], new * sizeof(uint32_t))
    if q == NULL:
        return -1
    p[0] = <uint32_t *>q
    capacity[0] = new
    return 0


cdef extern from "math.h":
    double sqrt(double x) nogil


cdef struct TokenKey:
    uint64_t key
    int64_t token


cdef int cmp_token_key(const void *a, const void *b) noexcept nogil:
    cdef uint64_t x = (<const TokenKey *>a).key, y = (<const TokenKey *>b).key
    return (x > y) - (x < y)


cdef struct Lexicon:
    # per text: the sums of the polarity of its lexicon tokens, the number of copies of itself it holds (the
    # smallest count of any of its tokens) and a status: 0 no lexicon token, 1 found, 2 left to Python
    double *positive
    double *negative
    int64_t *copies
    char *status
    TokenKey *keys  # scratch: the tokens' keys, sorted to count them
    int64_t keys_capacity


cdef struct Weights:
    const float *idf  # per column, or NULL: the kernel leaves the counts as they are
    const float *tf   # tf[k] = 1 + log(k) as numpy computes it in float32, for k < n_tf; NULL: tf = count
    int64_t n_tf


cdef bint weigh_row(Out *o, int64_t start, int64_t end, const Weights *w) noexcept nogil:
    """`classify.features.weigh_counts` on one row, in place, with the same float32 and float64 steps:
    tf (1 + log count), times idf, divided by the row's l2 norm (summed in float64 in column order). False,
    the counts left as they are, for a row numpy must weigh: one whose counts are all 2 or more (relative
    counts) or beyond the tf table."""
    cdef int64_t k
    cdef float v, smallest = 0, norm32
    cdef double total = 0.0, norm
    if w.idf == NULL:
        return False
    if w.tf != NULL:
        for k in range(start, end):
            v = o.counts[k]
            if k == start or v < smallest:
                smallest = v
            if v >= w.n_tf:
                return False
        if end > start and smallest > 1:
            return False
    for k in range(start, end):
        v = w.tf[<int64_t>o.counts[k]] if w.tf != NULL else o.counts[k]
        v = v * w.idf[o.cols[k]]
        o.counts[k] = v
        total += <double>v * <double>v
    norm = sqrt(total)
    if norm == 0:
        norm = 1.0
    norm32 = <float>norm
    for k in range(start, end):
        o.counts[k] = o.counts[k] / norm32
    return True


cdef int _set_weights(Weights *weights, idf, tf, vocabulary, list kept) except -1:
    cdef cnp.ndarray array
    weights.idf = NULL
    weights.tf = NULL
    weights.n_tf = 0
    if idf is None or vocabulary is None:
        return 0
    array = np.ascontiguousarray(idf, dtype=np.float32)
    if len(array) != len(vocabulary):
        raise ValueError("idf and vocabulary differ in length")
    kept.append(array)
    weights.idf = <const float *>cnp.PyArray_DATA(array)
    if tf is not None:
        array = np.ascontiguousarray(tf, dtype=np.float32)
        kept.append(array)
        weights.tf = <const float *>cnp.PyArray_DATA(array)
        weights.n_tf = len(array)
    return 0


cdef class Kernel:
    """The compiled counts of one model's word and char_wb blocks (either may be absent).

    `word_vocabulary`/`char_vocabulary`: term -> column; `negation_words`: the words that open a scope (and
    are never prefixed), or None without negation marking; `scope_end`: the characters that close a scope;
    `emoji`: (first, last) code point ranges that are tokens of one character."""

    cdef Table word
    cdef Table char
    cdef Weights word_weights, char_weights
    cdef Table lex
    cdef bint has_lex
    cdef const double *lex_polarity  # per lexicon entry: (positive, negative)
    cdef object _arrays_kept  # the numpy arrays the weights point into
    cdef bint has_word, has_char, negation
    cdef int word_min, word_max, char_min, char_max
    cdef uint32_t *neg_pool
    cdef int64_t *neg_offsets
    cdef int64_t n_neg
    cdef uint32_t scope_end[64]
    cdef int n_scope_end
    cdef uint32_t emoji[64][2]
    cdef int n_emoji
    cdef list _caches  # WordCache addresses free for the next call

    def __cinit__(self):
        self.neg_pool = NULL
        self.neg_offsets = NULL
        self._caches = []

    def __init__(self, word_vocabulary=None, word_ngrams=(1, 1), negation_words=None, scope_end="",
                 emoji=(), char_vocabulary=None, char_ngrams=(2, 5), word_idf=None, char_idf=None, word_tf=None,
                 char_tf=None, lexicon=None):
        """`*_idf`: the blocks' idf (float32), to weigh in the kernel (else it gives counts); `*_tf`: a table
        of 1 + log(k) as numpy computes it (float32), for sublinear tf; `lexicon`: token -> (positive,
        negative), the polarity of `classify.lexicon.LexiconFeatures` (its tokens are the word block's)."""
        cdef int64_t total = 0, k, j
        kept = []
        _set_weights(&self.word_weights, word_idf, word_tf, word_vocabulary, kept)
        _set_weights(&self.char_weights, char_idf, char_tf, char_vocabulary, kept)
        self.has_lex = lexicon is not None
        if self.has_lex:
            if word_vocabulary is None or negation_words is None:
                raise ValueError("the lexicon needs the word block's tokens, negation marked")
            polarity = np.ascontiguousarray(list(lexicon.values()), dtype=np.float64).reshape(-1, 2)
            kept.append(polarity)
            self.lex_polarity = <const double *>cnp.PyArray_DATA(polarity)
            table_build(&self.lex, {token: i for i, token in enumerate(lexicon)})
        self._arrays_kept = kept
        self.has_word = word_vocabulary is not None
        self.has_char = char_vocabulary is not None
        self.word_min, self.word_max = int(word_ngrams[0]), int(word_ngrams[1])
        self.char_min, self.char_max = int(char_ngrams[0]), int(char_ngrams[1])
        if (self.has_word and not 1 <= self.word_min <= self.word_max) or \
                (self.has_char and not 1 <= self.char_min <= self.char_max):
            raise ValueError("n-gram ranges must be 1 <= min_n <= max_n")
        if self.has_word:
            table_build(&self.word, word_vocabulary)
        if self.has_char:
            table_build(&self.char, char_vocabulary)
        self.negation = negation_words is not None
        words = sorted(negation_words or ())
        self.n_neg = len(words)
        self.neg_offsets = <int64_t *>calloc(self.n_neg + 1, sizeof(int64_t))
        for word in words:
            total += len(word)
        self.neg_pool = <uint32_t *>malloc((total + 1) * sizeof(uint32_t))
        if self.neg_offsets == NULL or self.neg_pool == NULL:
            raise MemoryError()
        total = 0
        for j, word in enumerate(words):
            for k in range(len(word)):
                self.neg_pool[total + k] = ord(word[k])
            total += len(word)
            self.neg_offsets[j + 1] = total
        if len(scope_end) > 64 or len(emoji) > 64:
            raise ValueError("at most 64 scope-closing characters and 64 emoji ranges")
        self.n_scope_end = len(scope_end)
        for k in range(self.n_scope_end):
            self.scope_end[k] = ord(scope_end[k])
        self.n_emoji = len(emoji)
        for k in range(self.n_emoji):
            self.emoji[k][0], self.emoji[k][1] = emoji[k][0], emoji[k][1]

    def __dealloc__(self):
        table_free(&self.word)
        table_free(&self.char)
        table_free(&self.lex)
        free(self.neg_pool)
        free(self.neg_offsets)
        for address in self._caches:
            cache_free(<WordCache *><size_t>address)

    cdef inline bint is_scope_end(self, uint32_t c) noexcept nogil:
        cdef int k
        for k in range(self.n_scope_end):
            if self.scope_end[k] == c:
                return True
        return False

    cdef inline bint is_emoji(self, uint32_t c) noexcept nogil:
        cdef int k
        for k in range(self.n_emoji):
            if self.emoji[k][0] <= c <= self.emoji[k][1]:
                return True
        return False

    cdef inline bint is_negation(self, const uint32_t *s, int64_t n) noexcept nogil:
        cdef int64_t j, start
        for j in range(self.n_neg):
            start = self.neg_offsets[j]
            if self.neg_offsets[j + 1] - start == n and memcmp(self.neg_pool + start, s, n * sizeof(uint32_t)) == 0:
                return True
        return False

    def counts(self, list texts):
        """For each block (word, then char; None for an absent one): `(indptr, columns, values, weighed)` of
        the texts' n-grams found in the vocabulary, a text's entries in the Python path's order (`count_flush`)
        (int64, int32, float32, bool): a row's values are its TF-IDF weights where `weighed` (the block has
        weights), else its counts; then the lexicon's (positive, negative, copies, status) per text, or None.
        Releases the GIL while it counts. Raises TypeError for an item that is not a str."""
        cdef Py_ssize_t n = len(texts), i
        cdef int *kinds = <int *>malloc((n + 1) * sizeof(int))
        cdef void **datas = <void **>malloc((n + 1) * sizeof(void *))
        cdef int64_t *lengths = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        cdef int64_t *word_indptr = <int64_t *>calloc(n + 1, sizeof(int64_t))
        cdef int64_t *char_indptr = <int64_t *>calloc(n + 1, sizeof(int64_t))
        cdef Out word_out, char_out
        cdef int status = 0
        cdef WordCache *cache = NULL
        cdef cnp.ndarray word_weighed, char_weighed, positive, negative, copies, lex_status
        cdef Lexicon lex
        word_out.cols = NULL; word_out.counts = NULL; word_out.size = 0; word_out.capacity = 0
        char_out.cols = NULL; char_out.counts = NULL; char_out.size = 0; char_out.capacity = 0
        try:
            if kinds == NULL or datas == NULL or lengths == NULL or word_indptr == NULL or char_indptr == NULL:
                raise MemoryError()
            word_weighed = np.zeros(n + 1, dtype=np.bool_)
            char_weighed = np.zeros(n + 1, dtype=np.bool_)
            positive = np.zeros(n + 1, dtype=np.float64)
            negative = np.zeros(n + 1, dtype=np.float64)
            copies = np.ones(n + 1, dtype=np.int64)
            lex_status = np.zeros(n + 1, dtype=np.int8)
            lex.positive = <double *>cnp.PyArray_DATA(positive)
            lex.negative = <double *>cnp.PyArray_DATA(negative)
            lex.copies = <int64_t *>cnp.PyArray_DATA(copies)
            lex.status = <char *>cnp.PyArray_DATA(lex_status)
            lex.keys = NULL
            lex.keys_capacity = 0
            texts = list(texts)  # ours: another thread cannot remove (and free) a string while we read it
            if self.has_char:
                # a cache of words per call at a time, kept for the next call (texts of a stream share words)
                cache = <WordCache *><size_t>self._caches.pop() if self._caches else cache_new()
                if cache == NULL:
                    raise MemoryError()
            for i in range(n):
                text = texts[i]
                if type(text) is not str:
                    raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
                PyUnicode_READY(text)
                kinds[i] = PyUnicode_KIND(text)
                datas[i] = PyUnicode_DATA(text)
                lengths[i] = PyUnicode_GET_LENGTH(text)
            with nogil:  # `texts` holds the strings alive and unchanged (str is immutable)
                status = self._count_all(n, kinds, datas, lengths, word_indptr, &word_out, char_indptr, &char_out,
                                         cache, <char *>cnp.PyArray_DATA(word_weighed),
                                         <char *>cnp.PyArray_DATA(char_weighed), &lex if self.has_lex else NULL)
            if status < 0:
                raise MemoryError()
            return (_arrays(n, word_indptr, &word_out) + (word_weighed,) if self.has_word else None,
                    _arrays(n, char_indptr, &char_out) + (char_weighed,) if self.has_char else None,
                    (positive[:n], negative[:n], copies[:n], lex_status[:n]) if self.has_lex else None)
        finally:
            if cache != NULL:
                self._caches.append(<size_t>cache)
            free(kinds)
            free(datas)
            free(lengths)
            free(word_indptr)
            free(char_indptr)
            free(word_out.cols)
            free(word_out.counts)
            free(char_out.cols)
            free(char_out.counts)
            free(lex.keys)

    cdef int _count_all(self, Py_ssize_t n, int *kinds, void **datas, int64_t *lengths, int64_t *word_indptr,
                        Out *word_out, int64_t *char_indptr, Out *char_out, WordCache *cache,
                        char *word_weighed, char *char_weighed, Lexicon *lex) noexcept nogil:
        cdef Counter wc, cc
        cdef Buf text, gram
        cdef int64_t *starts = NULL
        cdef int64_t *ends = NULL
        cdef int64_t starts_capacity = 0, ends_capacity = 0
        cdef Py_ssize_t i
        cdef int64_t j, length
        cdef int kind
        cdef int status = 0
        memset(&wc, 0, sizeof(Counter))
        memset(&cc, 0, sizeof(Counter))
        text.data = NULL; text.capacity = 0
        gram.data = NULL; gram.capacity = 0
        if self.has_word and counter_init(&wc, self.word.n_terms) < 0:
            status = -1
        if self.has_char and counter_init(&cc, self.char.n_terms) < 0:
            status = -1
        i = 0
        while status == 0 and i < n:
            length = lengths[i]
            kind = kinds[i]
            if buf_reserve(&text, length + 2) < 0:
                status = -1
                break
            # the text's code points, between two spaces (char_wb pads words with them)
            text.data[0] = 32
            if kind == 1:
                for j in range(length):
                    text.data[j + 1] = (<unsigned char *>datas[i])[j]
            elif kind == 2:
                for j in range(length):
                    text.data[j + 1] = (<unsigned short *>datas[i])[j]
            else:
                for j in range(length):
                    text.data[j + 1] = (<uint32_t *>datas[i])[j]
            text.data[length + 1] = 32
            if self.has_word:
                if buf_i64(&starts, &starts_capacity, length + 1) < 0 or \
                        buf_i64(&ends, &ends_capacity, length + 1) < 0:
                    status = -1
                    break
                status = self._word_counts(text.data + 1, length, starts, ends, &gram, &wc, lex, i)
                if status == 0:
                    status = count_flush(&wc, word_out, True)
                word_indptr[i + 1] = word_out.size
                word_weighed[i] = weigh_row(word_out, word_indptr[i], word_indptr[i + 1], &self.word_weights)
            if self.has_char and status == 0:
                status = self._char_counts(text.data, length, &cc, cache)
                if status == 0:
                    status = count_flush(&cc, char_out, False)
                char_indptr[i + 1] = char_out.size
                char_weighed[i] = weigh_row(char_out, char_indptr[i], char_indptr[i + 1], &self.char_weights)
            i += 1
        counter_free(&wc)
        counter_free(&cc)
        free(text.data)
        free(gram.data)
        free(starts)
        free(ends)
        return status

    cdef int _word_counts(self, const uint32_t *s, int64_t length, int64_t *starts, int64_t *ends, Buf *gram,
                          Counter *c, Lexicon *lex, Py_ssize_t row) noexcept nogil:
        """Tokens (with their `neg_` mark: a negative start means "prefixed"), then their n-grams, and the
        lexicon's sums of the text (`lex`, its row `row`) when there is a lexicon."""
        cdef int64_t i = 0, j, n_tokens = 0, t, k, size, a, b, entry, hits = 0
        cdef double positive = 0.0, negative = 0.0
        cdef void *p
        cdef bint in_scope = False, negation_word
        cdef uint32_t ch
        cdef uint64_t h
        cdef int32_t col
        cdef int n
        while i < length:
            ch = s[i]
            if is_word(ch):
                j = i + 1
                while True:
                    while j < length and is_word(s[j]):
                        j += 1
                    if j + 1 < length and s[j] == 45 and is_word(s[j + 1]):
                        j += 2
                        continue
                    break
                if self.negation:
                    negation_word = self.is_negation(s + i, j - i)
                    if in_scope:
                        starts[n_tokens] = i if negation_word else -i - 1
                    else:
                        starts[n_tokens] = i
                        in_scope = negation_word
                else:
                    starts[n_tokens] = i
                ends[n_tokens] = j
                n_tokens += 1
                i = j
                continue
            if self.negation and self.is_scope_end(ch):
                in_scope = False
            if ch == 33 or ch == 63 or self.is_emoji(ch):
                starts[n_tokens] = i
                ends[n_tokens] = i + 1
                n_tokens += 1
            i += 1
        if lex != NULL and n_tokens > lex.keys_capacity:
            p = realloc(lex.keys, (n_tokens + 64) * sizeof(TokenKey))
            if p == NULL:
                return -1
            lex.keys = <TokenKey *>p
            lex.keys_capacity = n_tokens + 64
        for t in range(n_tokens):
            size = 0
            h = H0
            for n in range(1, self.word_max + 1):
                if t + n > n_tokens:
                    break
                a = starts[t + n - 1]
                b = ends[t + n - 1]
                if buf_reserve(gram, size + (b - (a if a >= 0 else -a - 1)) + 5) < 0:
                    return -1
                if n > 1:
                    gram.data[size] = 32
                    h = h_add(h, 32)
                    size += 1
                if a < 0:  # inside a negation scope: `neg_` + the word
                    a = -a - 1
                    for k in range(4):
                        gram.data[size] = NEG_PREFIX[k]
                        h = h_add(h, NEG_PREFIX[k])
                        size += 1
                for k in range(a, b):
                    gram.data[size] = s[k]
                    h = h_add(h, s[k])
                    size += 1
                if n == 1 and lex != NULL:  # the token itself
                    lex.keys[t].key = h_fin(h)
                    lex.keys[t].token = t
                    entry = table_find(&self.lex, lex.keys[t].key, gram.data, size)
                    if entry >= 0:
                        positive += self.lex_polarity[2 * entry]
                        negative += self.lex_polarity[2 * entry + 1]
                        hits += 1
                if n >= self.word_min:
                    col = table_find(&self.word, h_fin(h), gram.data, size)
                    if col >= 0:
                        count_add(c, col)
        if lex != NULL and hits:
            lex.positive[row] = positive
            lex.negative[row] = negative
            lex.status[row] = 1
            lex.copies[row] = self._copies(s, starts, ends, lex.keys, n_tokens)
            if lex.copies[row] < 0:  # two different tokens with one key: Python counts this text's tokens
                lex.status[row] = 2
        return 0

    cdef int64_t _copies(self, const uint32_t *s, int64_t *starts, int64_t *ends, TokenKey *keys,
                         int64_t n_tokens) noexcept nogil:
        """The smallest number of times a token occurs in the text (`min(Counter(tokens).values())`), or -1
        when two different tokens share a key."""
        cdef int64_t k = 0, run_start, smallest = n_tokens
        qsort(keys, n_tokens, sizeof(TokenKey), cmp_token_key)
        while k < n_tokens:
            run_start = k
            while k < n_tokens and keys[k].key == keys[run_start].key:
                if not _same_token(s, starts, ends, keys[k].token, keys[run_start].token):
                    return -1
                k += 1
            if k - run_start < smallest:
                smallest = k - run_start
        return smallest

    cdef int _char_counts(self, const uint32_t *padded, int64_t length, Counter *c, WordCache *cache) noexcept nogil:
        """`padded`: the text between two spaces; each word `w` (a run of non-space characters) is read as
        `padded[start - 1:end + 1]`, the word between spaces even where the text separates words otherwise."""
        cdef const uint32_t *s = padded + 1
        cdef int64_t i = 0, j, w, k, e, slot, start
        cdef uint64_t key
        cdef uint32_t saved_before, saved_after
        cdef uint32_t *mutable = <uint32_t *>padded
        while i < length:
            if is_space(s[i]):
                i += 1
                continue
            j = i
            while j < length and not is_space(s[j]):
                j += 1
            # the word s[i:j] padded: write spaces around it in place (restored below)
            saved_before, saved_after = mutable[i], mutable[j + 1]
            mutable[i] = 32
            mutable[j + 1] = 32
            w = j - i + 2
            if w > LONG_WORD:  # counted directly: it would fill the cache on its own
                if self._count_long_word(padded + i, w, c) < 0:
                    return -1
                mutable[i] = saved_before
                mutable[j + 1] = saved_after
                i = j
                continue
            key = h_fin(_hash(padded + i, w))
            e = cache_find(cache, key, padded + i, w)
            if e < 0:
                if cache.n_entries + 1 >= cache.entries_capacity or \
                        cache.word_at[cache.n_entries] + w > CACHE_POOL or \
                        cache.cols_at[cache.n_entries] + w * (self.char_max - self.char_min + 1) > CACHE_POOL:
                    cache_clear(cache)
                    e = cache_find(cache, key, padded + i, w)
                slot = -e - 1
                e = cache.n_entries
                start = cache.word_at[e]
                if grow_u32(&cache.words, &cache.words_capacity, start + w) < 0:
                    return -1
                memcpy(cache.words + start, padded + i, w * sizeof(uint32_t))
                cache.word_at[e + 1] = start + w
                k = self._word_columns(padded + i, w, cache, cache.cols_at[e])
                if k < 0:
                    return -1
                cache.cols_at[e + 1] = k
                cache.keys[slot] = key
                cache.slots[slot] = <int32_t>e
                cache.n_entries += 1
            for k in range(cache.cols_at[e], cache.cols_at[e + 1]):
                count_add(c, cache.cols[k])
            mutable[i] = saved_before
            mutable[j + 1] = saved_after
            i = j
        return 0

    cdef int _count_long_word(self, const uint32_t *word, int64_t w, Counter *c) noexcept nogil:
        cdef int64_t p, n
        cdef uint64_t h
        cdef int32_t col
        for n in range(self.char_min, self.char_max + 1):  # scikit-learn's order (see `_word_columns`)
            if n > w:
                break
            for p in range(w - n + 1):
                col = table_find(&self.char, h_fin(_hash(word + p, n)), word + p, n)
                if col >= 0:
                    count_add(c, col)
        return 0

    cdef int64_t _word_columns(self, const uint32_t *word, int64_t w, WordCache *cache, int64_t at) noexcept nogil:
        """Append the columns of the char_wb n-grams of padded word `word` to cache.cols from `at`; returns
        the end (-1: out of memory). scikit-learn's n-grams in its order (`classify.features.char_wb_ngrams`):
        by length from min_n to max_n, each from the first position to the last, or the padded word once when
        it is shorter than min_n. The order matters: a row's columns come out in the order of first meeting,
        reversed, as scipy's product gives the Python path's (`count_flush`)."""
        cdef int64_t p, n
        cdef uint64_t h
        cdef int32_t col
        if grow_i32(&cache.cols, &cache.cols_capacity, at + w * (self.char_max - self.char_min + 1) + 1) < 0:
            return -1
        if w < self.char_min:
            col = table_find(&self.char, h_fin(_hash(word, w)), word, w)
            if col >= 0:
                cache.cols[at] = col
                at += 1
            return at
        for n in range(self.char_min, self.char_max + 1):
            if n > w:
                break
            for p in range(w - n + 1):
                col = table_find(&self.char, h_fin(_hash(word + p, n)), word + p, n)
                if col >= 0:
                    cache.cols[at] = col
                    at += 1
        return at


cdef inline bint _same_token(const uint32_t *s, int64_t *starts, int64_t *ends, int64_t a, int64_t b) noexcept nogil:
    if (starts[a] < 0) != (starts[b] < 0):
        return False
    cdef int64_t sa = starts[a] if starts[a] >= 0 else -starts[a] - 1
    cdef int64_t sb = starts[b] if starts[b] >= 0 else -starts[b] - 1
    return ends[a] - sa == ends[b] - sb and same(s + sa, s + sb, ends[a] - sa)


cdef inline uint64_t _hash(const uint32_t *s, int64_t n) noexcept nogil:
    cdef uint64_t h = H0
    cdef int64_t k
    for k in range(n):
        h = h_add(h, s[k])
    return h


cdef tuple _arrays(Py_ssize_t n, int64_t *indptr, Out *out):
    cdef cnp.ndarray indptr_a = np.empty(n + 1, dtype=np.int64)
    cdef cnp.ndarray cols_a = np.empty(out.size, dtype=np.int32)
    cdef cnp.ndarray counts_a = np.empty(out.size, dtype=np.float32)
    indptr[0] = 0
    memcpy(cnp.PyArray_DATA(indptr_a), indptr, (n + 1) * sizeof(int64_t))
    if out.size:
        memcpy(cnp.PyArray_DATA(cols_a), out.cols, out.size * sizeof(int32_t))
        memcpy(cnp.PyArray_DATA(counts_a), out.counts, out.size * sizeof(float))
    return indptr_a, cols_a, counts_a
