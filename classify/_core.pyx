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

from libc.stdint cimport uint64_t, uint32_t, uint16_t, int32_t, int64_t
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


# The second hash of an n-gram, independent of the first (another multiplier, another finaliser): kept per
# vocabulary term, it confirms a term the first found, without reading the term itself (`table_find`).
cdef uint64_t C0 = 0x84222325cbf29ce4ULL
cdef uint64_t CP = 0x9e3779b97f4a7c15ULL


cdef inline uint64_t c_add(uint64_t c, uint32_t x) noexcept nogil:
    return (c ^ x) * CP


cdef inline uint64_t c_fin(uint64_t c) noexcept nogil:
    # MurmurHash3's 64-bit finaliser
    c ^= c >> 33
    c *= 0xff51afd7ed558ccdULL
    c ^= c >> 33
    c *= 0xc4ceb9fe1a85ec53ULL
    c ^= c >> 33
    return c


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
    uint64_t *check   # per column: the term's second hash (`c_fin`)
    bint exact        # two terms share their tag and second hash: compare the terms themselves
    uint32_t *pool    # the terms' code points, one after the other, in column order
    int64_t *offsets  # term j: pool[offsets[j]:offsets[j + 1]]
    int64_t n_terms


cdef inline int32_t table_find(const Table *t, uint64_t key, uint64_t check, const uint32_t *s,
                               int64_t n) noexcept nogil:
    """The column of the n-gram `s[:n]` whose hashes are `key` (`h_fin`) and `check` (`c_fin`), or -1. A
    term is taken when both its tag (32 bits of `key`) and its second hash (64 bits) are the n-gram's:
    reading the term from the pool, a third random memory access per n-gram, took a fifth of the kernel's
    time. An n-gram outside the vocabulary is taken for a term with a probability of 2^-96 per term it
    meets; a vocabulary two of whose terms cannot be told apart so is compared code point by code point."""
    cdef uint64_t i = key & t.mask
    cdef uint32_t tag = <uint32_t>(key >> 32)
    cdef int32_t col
    cdef int64_t start
    while True:
        col = t.slots[i].col
        if col < 0:
            return -1
        if t.slots[i].tag == tag and t.check[col] == check:
            if not t.exact:
                return col
            start = t.offsets[col]
            if t.offsets[col + 1] - start == n and same(t.pool + start, s, n):
                return col
        i = (i + 1) & t.mask


cdef void table_free(Table *t) noexcept nogil:
    free(t.slots)
    free(t.check)
    free(t.pool)
    free(t.offsets)
    t.slots = NULL
    t.check = NULL
    t.pool = NULL
    t.offsets = NULL


cdef int table_build(Table *t, dict vocabulary) except -1:
    """Fill `t` from term -> column (columns 0..n-1, each once). Raises ValueError when that does not hold."""
    cdef int64_t n = len(vocabulary)
    cdef int64_t size = 16, total = 0, j, k, length
    cdef uint64_t key, check, i
    cdef int32_t col
    cdef str term
    cdef uint32_t *s
    while 3 * size < 4 * n:  # at most three quarters full
        size *= 2
    t.mask = size - 1
    t.n_terms = n
    t.exact = False
    t.slots = <Slot *>calloc(size, sizeof(Slot))
    t.offsets = <int64_t *>calloc(n + 1, sizeof(int64_t))
    t.check = <uint64_t *>calloc(n + 1, sizeof(uint64_t))
    if t.slots == NULL or t.offsets == NULL or t.check == NULL:
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
        check = C0
        for k in range(length):
            s[k] = <uint32_t>ord(term[k])
            key = h_add(key, s[k])
            check = c_add(check, s[k])
        key = h_fin(key)
        check = c_fin(check)
        i = key & t.mask
        while t.slots[i].col >= 0:
            if t.slots[i].tag == <uint32_t>(key >> 32) and t.check[t.slots[i].col] == check:
                t.exact = True  # two terms `table_find` could not tell apart by their hashes
            i = (i + 1) & t.mask
        t.slots[i].tag = <uint32_t>(key >> 32)
        t.slots[i].col = col
        t.check[col] = check
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
    void prefetch "__builtin_prefetch"(const void *p) nogil

DEF PREFETCH = 16


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
        if c.n_touched > 96:
            qsort(c.touched, c.n_touched, sizeof(int32_t), cmp_int32)
        else:
            insertion_sort(c.touched, c.n_touched)
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


cdef int copy_text(Buf *text, int kind, const void *data, int64_t length) noexcept nogil:
    """The text's code points into `text`, between two spaces (char_wb pads words with them)."""
    cdef int64_t j
    if buf_reserve(text, length + 2) < 0:
        return -1
    text.data[0] = 32
    if kind == 1:
        for j in range(length):
            text.data[j + 1] = (<const unsigned char *>data)[j]
    elif kind == 2:
        for j in range(length):
            text.data[j + 1] = (<const unsigned short *>data)[j]
    else:
        for j in range(length):
            text.data[j + 1] = (<const uint32_t *>data)[j]
    text.data[length + 1] = 32
    return 0


cdef struct CacheSlot:
    # a padded word met in recent texts: its code points then its char n-gram columns (repeats included) are
    # pool[at:at + n] and pool[at + n:at + n + n_cols] (as int32): 16 bytes, one read of memory finds both
    uint64_t key
    uint32_t at
    uint16_t n      # 0: an empty slot
    uint16_t n_cols


cdef struct WordCache:
    # padded word -> its char n-gram columns, for the words met in recent texts: a word is analysed once,
    # then its columns are read from the pool (texts repeat their words, Zipf's law)
    CacheSlot *slots
    uint64_t mask
    int64_t n_entries
    uint32_t *pool
    int64_t pool_size
    int64_t pool_capacity


DEF CACHE_SLOTS = 1 << 17  # at most half of them used: then the cache starts again empty
DEF CACHE_POOL = 1 << 23   # code points and columns of its words: at most this many
DEF LONG_WORD = 1024  # longer padded words are never cached
DEF WORDS_AHEAD = 4  # a word's cache slot is asked from memory this many words ahead
DEF GRAMS_AHEAD = 256  # a new word of at most this many n-grams has its vocabulary slots asked at once


cdef WordCache *cache_new() noexcept nogil:
    cdef WordCache *c = <WordCache *>calloc(1, sizeof(WordCache))
    if c == NULL:
        return NULL
    c.mask = CACHE_SLOTS - 1
    c.slots = <CacheSlot *>calloc(CACHE_SLOTS, sizeof(CacheSlot))
    c.pool_capacity = 1 << 16
    c.pool = <uint32_t *>malloc(c.pool_capacity * sizeof(uint32_t))
    if c.slots == NULL or c.pool == NULL:
        cache_free(c)
        return NULL
    return c


cdef void cache_clear(WordCache *c) noexcept nogil:
    memset(c.slots, 0, CACHE_SLOTS * sizeof(CacheSlot))
    c.n_entries = 0
    c.pool_size = 0


cdef void cache_free(WordCache *c) noexcept nogil:
    if c == NULL:
        return
    free(c.slots)
    free(c.pool)
    free(c)


cdef inline CacheSlot *cache_find(WordCache *c, uint64_t key, const uint32_t *w, int64_t n) noexcept nogil:
    """The slot of padded word `w`: its own, or the empty one where it goes (n == 0)."""
    cdef uint64_t i = key & c.mask
    cdef CacheSlot *slot
    while True:
        slot = c.slots + i
        if slot.n == 0 or (slot.key == key and slot.n == n and same(c.pool + slot.at, w, n)):
            return slot
        i = (i + 1) & c.mask


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


ctypedef fused Sortable:
    int32_t
    TokenKey


cdef inline uint64_t sort_key(Sortable x) noexcept nogil:
    if Sortable is TokenKey:
        return x.key
    else:
        return <uint64_t><uint32_t>x  # columns are never negative


cdef void insertion_sort(Sortable *a, int64_t n) noexcept nogil:
    """Sort in place, by key: a few dozen items (a text's word columns, its tokens' keys), where insertion
    beats qsort's calls through a function pointer."""
    cdef int64_t i, j
    cdef Sortable x
    for i in range(1, n):
        x = a[i]
        j = i - 1
        while j >= 0 and sort_key(a[j]) > sort_key(x):
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


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
        if k + PREFETCH < end:
            prefetch(w.idf + o.cols[k + PREFETCH])
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


cdef struct WordDict:
    # token -> row of the word vectors (-1: no vector), filled as texts meet new tokens (`Kernel.scores`)
    uint64_t *keys
    int32_t *rows   # -2: empty slot
    int64_t *at     # the token's code points: pool[at[slot]:at[slot] + size[slot]]
    int32_t *size
    uint64_t mask
    int64_t n
    uint32_t *pool
    int64_t pool_size, pool_capacity


DEF WORDS_MAX = 500_000  # the dictionary starts again empty past this many tokens (classify.vectors.CACHE_WORDS)


cdef WordDict *words_new(int64_t slots) noexcept nogil:
    cdef WordDict *d = <WordDict *>calloc(1, sizeof(WordDict))
    cdef int64_t k
    if d == NULL:
        return NULL
    d.mask = slots - 1
    d.keys = <uint64_t *>malloc(slots * sizeof(uint64_t))
    d.rows = <int32_t *>malloc(slots * sizeof(int32_t))
    d.at = <int64_t *>malloc(slots * sizeof(int64_t))
    d.size = <int32_t *>malloc(slots * sizeof(int32_t))
    if d.keys == NULL or d.rows == NULL or d.at == NULL or d.size == NULL:
        words_free(d)
        return NULL
    for k in range(slots):
        d.rows[k] = -2
    return d


cdef void words_free(WordDict *d) noexcept nogil:
    if d == NULL:
        return
    free(d.keys)
    free(d.rows)
    free(d.at)
    free(d.size)
    free(d.pool)
    free(d)


cdef inline int64_t words_slot(const WordDict *d, uint64_t key, const uint32_t *w, int64_t n) noexcept nogil:
    """The slot of token `w`, or of the empty slot where it goes."""
    cdef uint64_t i = key & d.mask
    while d.rows[i] != -2:
        if d.keys[i] == key and d.size[i] == n and same(d.pool + d.at[i], w, n):
            return <int64_t>i
        i = (i + 1) & d.mask
    return <int64_t>i


cdef int words_put(WordDict **dp, const uint32_t *w, int64_t n, int32_t row) noexcept nogil:
    """Add token `w` with `row` (or set its row); doubles the table at half full, empties it past WORDS_MAX."""
    cdef WordDict *d = dp[0]
    cdef WordDict *bigger
    cdef uint64_t key = h_fin(_hash(w, n))
    cdef int64_t slot, k, j
    cdef void *p
    slot = words_slot(d, key, w, n)
    if d.rows[slot] != -2:
        d.rows[slot] = row
        return 0
    if 2 * (d.n + 1) > <int64_t>(d.mask + 1):
        if d.n >= WORDS_MAX:
            bigger = words_new(d.mask + 1)
        else:
            bigger = words_new(2 * (d.mask + 1))
        if bigger == NULL:
            return -1
        if d.n < WORDS_MAX:
            for k in range(<int64_t>(d.mask + 1)):
                if d.rows[k] != -2:
                    j = words_slot(bigger, d.keys[k], d.pool + d.at[k], d.size[k])
                    bigger.keys[j] = d.keys[k]
                    bigger.rows[j] = d.rows[k]
                    bigger.at[j] = d.at[k]
                    bigger.size[j] = d.size[k]
            bigger.n = d.n
            bigger.pool, bigger.pool_size, bigger.pool_capacity = d.pool, d.pool_size, d.pool_capacity
            d.pool = NULL
        words_free(d)
        d = dp[0] = bigger
        slot = words_slot(d, key, w, n)
    if d.pool_size + n > d.pool_capacity:
        p = realloc(d.pool, (2 * d.pool_capacity + n + 4096) * sizeof(uint32_t))
        if p == NULL:
            return -1
        d.pool = <uint32_t *>p
        d.pool_capacity = 2 * d.pool_capacity + n + 4096
    memcpy(d.pool + d.pool_size, w, n * sizeof(uint32_t))
    d.keys[slot] = key
    d.rows[slot] = row
    d.at[slot] = d.pool_size
    d.size[slot] = <int32_t>n
    d.pool_size += n
    d.n += 1
    return 0


cdef struct Vectors:
    # the mean word vectors block (`classify.vectors.MeanVectors`), scored by the kernel
    const float *matrix  # (n_rows, dim), C order
    int64_t n_rows
    int64_t dim
    double scale
    int64_t offset       # where the block's columns start in the union
    WordDict *words
    float *value         # scratch: the current text's vector


cdef int vector_of(Vectors *v, const uint32_t *s, int64_t *starts, int64_t *ends, int64_t n_tokens) noexcept nogil:
    """`MeanVectors.transform` of one text into v.value, with numpy's float32 and float64 steps: the mean of
    its tokens' vectors (a float32 sum row after row, as numpy's `mean(axis=0)` adds, then divided by their
    number), divided by its l2 norm (squares summed in float64 in order) and times the scale. 1: a vector, 0:
    none (no token with a vector, or a zero mean), -1: a token the dictionary does not know (Python's turn)."""
    cdef int64_t t, a, j, k = 0, slot
    cdef int32_t row
    cdef const float *x
    cdef float *y = v.value
    cdef double total = 0.0, norm
    cdef float norm32, scale32, count32
    for j in range(v.dim):
        y[j] = 0
    for t in range(n_tokens):
        a = starts[t] if starts[t] >= 0 else -starts[t] - 1
        slot = words_slot(v.words, h_fin(_hash(s + a, ends[t] - a)), s + a, ends[t] - a)
        row = v.words.rows[slot]
        if row < -1:  # not in the dictionary, or asked for and never answered
            return -1
        if row < 0:
            continue
        x = v.matrix + row * v.dim
        for j in range(v.dim):
            y[j] = y[j] + x[j]
        k += 1
    if k == 0:
        return 0
    count32 = <float>k
    for j in range(v.dim):
        y[j] = y[j] / count32
        total += <double>y[j] * <double>y[j]
    norm = sqrt(total)
    if not norm > 0:
        return 0
    norm32 = <float>norm
    scale32 = <float>v.scale
    for j in range(v.dim):
        y[j] = (y[j] / norm32) * scale32
    return 1


cdef struct Layers:
    # the linear layers of a model's tasks, to score each text as it is counted (`Kernel.scores`)
    int n_tasks
    const float **coef_t  # per task: coef.T, (columns of the whole union, labels), its rows `stride` floats apart
    int *n_labels
    int64_t *stride
    float **y             # per task: (texts, labels) decision values without the intercept, from zero
    int64_t word_offset   # where the word and char blocks' columns start in the union
    int64_t char_offset
    bint char_first       # the char block comes before the word block in the union
    char *left            # per text: True when a block's row was left for numpy to weigh (not scored)
    Vectors *vectors      # the mean word vectors block, or NULL


cdef inline void axpy(const float *values, const int32_t *cols, int64_t n, int64_t offset, const Layers *layers,
                      Py_ssize_t row) noexcept nogil:
    """Each task's `y[row] += value * coef_t[offset + column]` for n entries, one after the other, in float32:
    what scipy's sparse product (`csr_matvecs`) does for this row's entries, in the same order, so the same
    sums to the bit. `cols`: the entries' columns (a sparse block's row), or NULL for a dense block's row
    (columns 0..n-1). A zero adds nothing (a sum from +0.0 is never -0.0): skipped, as the sparse matrix
    drops a dense block's zeros."""
    cdef int64_t k, column, stride
    cdef int t, j, n_labels
    cdef float a
    cdef const float *x
    cdef float *y
    for t in range(layers.n_tasks):
        n_labels = layers.n_labels[t]
        stride = layers.stride[t]
        y = layers.y[t] + row * n_labels
        for k in range(n):
            if cols != NULL and k + PREFETCH < n:  # the layer's rows are read at random: ask ahead
                x = layers.coef_t[t] + (offset + cols[k + PREFETCH]) * stride
                prefetch(x)
                prefetch(x + n_labels - 1)
            a = values[k]
            if a == 0:
                continue
            column = offset + (cols[k] if cols != NULL else k)
            x = layers.coef_t[t] + column * stride
            for j in range(n_labels):
                y[j] = y[j] + a * x[j]


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
    cdef list _words   # WordDict addresses free for the next call

    def __cinit__(self):
        self.neg_pool = NULL
        self.neg_offsets = NULL
        self._caches = []
        self._words = []

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
        for address in self._words:
            words_free(<WordDict *><size_t>address)

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
        return self._run(texts, NULL)

    def scores(self, list texts, list coef_t, int64_t word_offset=0, int64_t char_offset=0,
               bint char_first=False, vectors=None):
        """The word and char blocks' part of each linear layer's decision values, computed as each text is
        counted, without building the matrix: `(y, left, lexicon)`, `y` per layer of `coef_t` (float32, C
        order, (columns of the union, labels); the blocks' columns start at `word_offset` and `char_offset`)
        a (texts, labels) float32 array of `X[:, blocks] @ coef_t[blocks]` as scipy computes it; `left`: the
        texts a block's row of which numpy must weigh (their `y` rows are zero: score them the other way);
        `lexicon` as in `counts`. Every block's weights must be in the kernel (`*_idf`).

        `vectors`: `(matrix, scale, offset, resolve)` of a mean word vectors block after the TF-IDF blocks
        (`classify.vectors.MeanVectors`: float32 (words, dim) C-ordered matrix, its columns from `offset`),
        its part added after theirs; `resolve(tokens)` gives the matrix row of each new token (-1: none)."""
        cdef Layers layers
        cdef Vectors vec
        cdef Py_ssize_t n = len(texts), t, needed = 0
        cdef cnp.ndarray array, matrix, value
        cdef WordDict *words = NULL
        cdef WordDict *popped
        if (self.has_word and self.word_weights.idf == NULL) or (self.has_char and self.char_weights.idf == NULL):
            raise ValueError("scores needs the blocks' idf in the kernel")
        if self.has_word:
            needed = max(needed, word_offset + self.word.n_terms)
        if self.has_char:
            needed = max(needed, char_offset + self.char.n_terms)
        outputs, kept = [], []
        layers.n_tasks = len(coef_t)
        layers.coef_t = <const float **>malloc((layers.n_tasks + 1) * sizeof(float *))
        layers.y = <float **>malloc((layers.n_tasks + 1) * sizeof(float *))
        layers.n_labels = <int *>malloc((layers.n_tasks + 1) * sizeof(int))
        layers.stride = <int64_t *>malloc((layers.n_tasks + 1) * sizeof(int64_t))
        try:
            if layers.coef_t == NULL or layers.y == NULL or layers.n_labels == NULL or layers.stride == NULL:
                raise MemoryError()
            for t in range(layers.n_tasks):
                array = coef_t[t]
                if array.dtype != np.float32 or array.ndim != 2 or array.strides[1] != 4 \
                        or array.strides[0] < 4 * array.shape[1] or array.strides[0] % 4 \
                        or array.shape[0] < needed or word_offset < 0 or char_offset < 0:
                    raise ValueError("each layer must be a float32 (columns, labels) array, its rows in C order "
                                     "(padded or not), covering the blocks' columns")
                kept.append(array)
                layers.coef_t[t] = <const float *>cnp.PyArray_DATA(array)
                layers.n_labels[t] = <int>array.shape[1]
                layers.stride[t] = array.strides[0] // 4
                outputs.append(np.zeros((n, array.shape[1]), dtype=np.float32))
                layers.y[t] = <float *>cnp.PyArray_DATA(outputs[t])
            left = np.zeros(n + 1, dtype=np.bool_)
            layers.left = <char *>cnp.PyArray_DATA(left)
            layers.word_offset = word_offset
            layers.char_offset = char_offset
            layers.char_first = char_first
            layers.vectors = NULL
            if vectors is not None:
                matrix, scale, offset, resolve = vectors
                if not self.has_word or matrix.dtype != np.float32 or matrix.ndim != 2 \
                        or not matrix.flags.c_contiguous or offset < needed:
                    raise ValueError("the vectors need the word block, a C-ordered float32 matrix, and columns "
                                     "after the TF-IDF blocks'")
                for t in range(layers.n_tasks):
                    if coef_t[t].shape[0] < offset + matrix.shape[1]:
                        raise ValueError("a layer does not cover the vectors' columns")
                kept.append(matrix)
                value = np.zeros(matrix.shape[1], dtype=np.float32)
                vec.matrix = <const float *>cnp.PyArray_DATA(matrix)
                vec.n_rows = matrix.shape[0]
                vec.dim = matrix.shape[1]
                vec.scale = scale
                vec.offset = offset
                vec.value = <float *>cnp.PyArray_DATA(value)
                # a dictionary per call at a time (kept for the next call): no thread reads one another fills
                popped = <WordDict *><size_t>self._words.pop() if self._words else words_new(1 << 14)
                if popped == NULL:
                    raise MemoryError()
                words = self._learn(texts, popped, resolve, vec.n_rows)  # which keeps it if it raises
                vec.words = words
                layers.vectors = &vec
            counted = self._run(texts, &layers)
            return outputs, left[:n], counted[2]
        finally:
            if words != NULL:
                self._words.append(<size_t>words)
            free(layers.coef_t)
            free(layers.y)
            free(layers.n_labels)
            free(layers.stride)

    cdef WordDict *_learn(self, list texts, WordDict *words, resolve, int64_t n_rows) except NULL:
        """`words` knowing every token of `texts`: the new ones are found without the GIL, then `resolve`d
        (their rows checked to be in the matrix)."""
        cdef Py_ssize_t n = len(texts), i
        cdef int64_t *spans = NULL  # per new token: text, start, end
        cdef int64_t n_spans = 0, capacity = 0, length, j, a, n_tokens, slot
        cdef int64_t *starts = NULL
        cdef int64_t *ends = NULL
        cdef int64_t starts_capacity = 0, ends_capacity = 0
        cdef Buf text
        cdef int status = 0, kind
        cdef void *data
        cdef void *p
        text.data = NULL; text.capacity = 0
        try:
            for i in range(n):
                item = texts[i]
                if type(item) is not str:
                    raise TypeError(f"texts[{i}] is {type(item).__name__}, not str")
                PyUnicode_READY(item)
                kind = PyUnicode_KIND(item)
                data = PyUnicode_DATA(item)
                length = PyUnicode_GET_LENGTH(item)
                with nogil:
                    if copy_text(&text, kind, data, length) < 0 or buf_i64(&starts, &starts_capacity, length + 1) < 0 \
                            or buf_i64(&ends, &ends_capacity, length + 1) < 0:
                        status = -1
                    else:
                        n_tokens = self._tokenize(text.data + 1, length, starts, ends)
                        for j in range(n_tokens):
                            a = starts[j] if starts[j] >= 0 else -starts[j] - 1
                            slot = words_slot(words, h_fin(_hash(text.data + 1 + a, ends[j] - a)), text.data + 1 + a,
                                              ends[j] - a)
                            if words.rows[slot] >= -1:
                                continue
                            # -3: asked for (a token met again before its answer is asked for once more)
                            if words.rows[slot] == -2 and words_put(&words, text.data + 1 + a, ends[j] - a, -3) < 0:
                                status = -1
                                break
                            if n_spans + 3 > capacity:
                                p = realloc(spans, (2 * capacity + 3 * 64) * sizeof(int64_t))
                                if p == NULL:
                                    status = -1
                                    break
                                spans = <int64_t *>p
                                capacity = 2 * capacity + 3 * 64
                            spans[n_spans] = i
                            spans[n_spans + 1] = a
                            spans[n_spans + 2] = ends[j]
                            n_spans += 3
                if status < 0:
                    raise MemoryError()
            if n_spans:
                tokens = [texts[spans[k]][spans[k + 1]:spans[k + 2]] for k in range(0, n_spans, 3)]
                rows = np.asarray(resolve(tokens), dtype=np.int64)
                if rows.shape != (len(tokens),) or (len(rows) and (rows.min() < -1 or rows.max() >= n_rows)):
                    raise ValueError("resolve gave rows outside the vectors' matrix")
                for k in range(len(tokens)):
                    a = spans[3 * k + 1]
                    item = texts[spans[3 * k]]
                    PyUnicode_READY(item)
                    if copy_text(&text, PyUnicode_KIND(item), PyUnicode_DATA(item), PyUnicode_GET_LENGTH(item)) < 0 \
                            or words_put(&words, text.data + 1 + a, spans[3 * k + 2] - a, <int32_t>rows[k]) < 0:
                        raise MemoryError()
            return words
        except BaseException:
            self._words.append(<size_t>words)  # (it may have grown: a new address) back in the pool
            raise
        finally:
            free(spans)
            free(starts)
            free(ends)
            free(text.data)

    cdef tuple _run(self, list texts, Layers *layers):
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
                                         <char *>cnp.PyArray_DATA(char_weighed), &lex if self.has_lex else NULL,
                                         layers)
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
                        char *word_weighed, char *char_weighed, Lexicon *lex, Layers *layers) noexcept nogil:
        cdef Vectors *vec = layers.vectors if layers != NULL else NULL
        cdef int vec_state = 0
        cdef int64_t n_tokens
        cdef Counter wc, cc
        cdef Buf text, gram
        cdef int64_t *starts = NULL
        cdef int64_t *ends = NULL
        cdef int64_t starts_capacity = 0, ends_capacity = 0
        cdef int64_t *char_words = NULL  # `_char_counts`' scratch
        cdef int64_t char_words_capacity = 0
        cdef int64_t *word_grams = NULL  # `_word_counts`' scratch
        cdef int64_t word_grams_capacity = 0
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
            if copy_text(&text, kind, datas[i], length) < 0:
                status = -1
                break
            if layers != NULL:  # each row is scored, then dropped: its entries start at 0
                word_out.size = 0
                char_out.size = 0
                word_indptr[i] = 0
                char_indptr[i] = 0
            if self.has_word:
                if buf_i64(&starts, &starts_capacity, length + 1) < 0 or \
                        buf_i64(&ends, &ends_capacity, length + 1) < 0:
                    status = -1
                    break
                n_tokens = self._tokenize(text.data + 1, length, starts, ends)
                status = self._word_counts(text.data + 1, starts, ends, n_tokens, &gram, &wc, lex, i, &word_grams,
                                           &word_grams_capacity)
                if status == 0 and vec != NULL:
                    vec_state = vector_of(vec, text.data + 1, starts, ends, n_tokens)
                if status == 0:
                    status = count_flush(&wc, word_out, True)
                word_indptr[i + 1] = word_out.size
                word_weighed[i] = weigh_row(word_out, word_indptr[i], word_indptr[i + 1], &self.word_weights)
            if self.has_char and status == 0:
                status = self._char_counts(text.data, length, &cc, cache, &char_words, &char_words_capacity)
                if status == 0:
                    status = count_flush(&cc, char_out, False)
                char_indptr[i + 1] = char_out.size
                char_weighed[i] = weigh_row(char_out, char_indptr[i], char_indptr[i + 1], &self.char_weights)
            if layers != NULL and status == 0:
                if (self.has_word and not word_weighed[i]) or (self.has_char and not char_weighed[i]):
                    layers.left[i] = True
                else:  # in the union's order of blocks, as the stacked matrix lists the row's entries
                    if self.has_char and layers.char_first:
                        axpy(char_out.counts, char_out.cols, char_out.size, layers.char_offset, layers, i)
                    if self.has_word:
                        axpy(word_out.counts, word_out.cols, word_out.size, layers.word_offset, layers, i)
                    if self.has_char and not layers.char_first:
                        axpy(char_out.counts, char_out.cols, char_out.size, layers.char_offset, layers, i)
                    if vec != NULL and vec_state == 1:
                        axpy(vec.value, NULL, vec.dim, vec.offset, layers, i)
                if vec != NULL and vec_state < 0:
                    layers.left[i] = True
            i += 1
        counter_free(&wc)
        counter_free(&cc)
        free(text.data)
        free(gram.data)
        free(starts)
        free(ends)
        free(char_words)
        free(word_grams)
        return status

    cdef int64_t _tokenize(self, const uint32_t *s, int64_t length, int64_t *starts, int64_t *ends) noexcept nogil:
        """The text's tokens, `starts[t]:ends[t]` (a negative start `-a - 1`: the token at `a`, to be read with
        its `neg_` mark); returns their number."""
        cdef int64_t i = 0, j, n_tokens = 0
        cdef bint in_scope = False, negation_word
        cdef uint32_t ch
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
        return n_tokens

    cdef int _word_counts(self, const uint32_t *s, int64_t *starts, int64_t *ends, int64_t n_tokens, Buf *gram,
                          Counter *c, Lexicon *lex, Py_ssize_t row, int64_t **scratch,
                          int64_t *scratch_capacity) noexcept nogil:
        """The n-grams of the tokens (`_tokenize`), and the lexicon's sums of the text (`lex`, its row `row`)
        when there is a lexicon. Every n-gram's code points and hashes are found first, its vocabulary slot
        asked from memory at once, then they are looked up in the same order (`scratch`: room for them)."""
        cdef int64_t t, k, size, a, b, entry, hits = 0, at, m = 0, r
        cdef double positive = 0.0, negative = 0.0
        cdef void *p
        cdef uint64_t h, h2, key
        cdef int32_t col
        cdef int n
        cdef int64_t *grams
        if lex != NULL and n_tokens > lex.keys_capacity:
            p = realloc(lex.keys, (n_tokens + 64) * sizeof(TokenKey))
            if p == NULL:
                return -1
            lex.keys = <TokenKey *>p
            lex.keys_capacity = n_tokens + 64
        if buf_i64(scratch, scratch_capacity, 6 * n_tokens * self.word_max + 6) < 0:
            return -1
        grams = scratch[0]  # per n-gram: where its code points start in `gram`, its size, n, token, hashes
        size = 0
        for t in range(n_tokens):
            at = size  # the token's n-grams are the prefixes of its longest one
            h = H0
            h2 = C0
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
                    h2 = c_add(h2, 32)
                    size += 1
                if a < 0:  # inside a negation scope: `neg_` + the word
                    a = -a - 1
                    for k in range(4):
                        gram.data[size] = NEG_PREFIX[k]
                        h = h_add(h, NEG_PREFIX[k])
                        h2 = c_add(h2, NEG_PREFIX[k])
                        size += 1
                for k in range(a, b):
                    gram.data[size] = s[k]
                    h = h_add(h, s[k])
                    h2 = c_add(h2, s[k])
                    size += 1
                key = h_fin(h)
                if n >= self.word_min:
                    prefetch(self.word.slots + (key & self.word.mask))
                grams[6 * m] = at
                grams[6 * m + 1] = size - at
                grams[6 * m + 2] = n
                grams[6 * m + 3] = t
                grams[6 * m + 4] = <int64_t>key
                grams[6 * m + 5] = <int64_t>c_fin(h2)
                m += 1
        for r in range(m):
            n = <int>grams[6 * r + 2]
            t = grams[6 * r + 3]
            key = <uint64_t>grams[6 * r + 4]
            if n == 1 and lex != NULL:  # the token itself
                lex.keys[t].key = key
                lex.keys[t].token = t
                entry = table_find(&self.lex, key, <uint64_t>grams[6 * r + 5], gram.data + grams[6 * r],
                                   grams[6 * r + 1])
                if entry >= 0:
                    positive += self.lex_polarity[2 * entry]
                    negative += self.lex_polarity[2 * entry + 1]
                    hits += 1
            if n >= self.word_min:
                col = table_find(&self.word, key, <uint64_t>grams[6 * r + 5], gram.data + grams[6 * r],
                                 grams[6 * r + 1])
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
        if n_tokens > 96:
            qsort(keys, n_tokens, sizeof(TokenKey), cmp_token_key)
        else:
            insertion_sort(keys, n_tokens)
        while k < n_tokens:
            run_start = k
            while k < n_tokens and keys[k].key == keys[run_start].key:
                if not _same_token(s, starts, ends, keys[k].token, keys[run_start].token):
                    return -1
                k += 1
            if k - run_start < smallest:
                smallest = k - run_start
        return smallest

    cdef int _char_counts(self, const uint32_t *padded, int64_t length, Counter *c, WordCache *cache,
                          int64_t **scratch, int64_t *scratch_capacity) noexcept nogil:
        """`padded`: the text between two spaces; each word `w` (a run of non-space characters) is read as
        `padded[start - 1:end + 1]`, the word between spaces even where the text separates words otherwise.
        The words and their keys are found first, so that each word's cache slot is asked from memory a few
        words ahead, and its columns one word ahead (`scratch`: room for them)."""
        cdef const uint32_t *s = padded + 1
        cdef int64_t i = 0, j, w, k, at, n_cols, widest = self.char_max - self.char_min + 1
        cdef int64_t n_words = 0, q
        cdef int64_t *words
        cdef uint64_t key, h
        cdef uint32_t saved_before, saved_after
        cdef uint32_t *mutable = <uint32_t *>padded
        cdef CacheSlot *slot
        cdef const int32_t *cols
        if buf_i64(scratch, scratch_capacity, 3 * (length // 2 + 1)) < 0:
            return -1
        words = scratch[0]
        while i < length:
            if is_space(s[i]):
                i += 1
                continue
            j = i
            h = h_add(H0, 32)
            while j < length and not is_space(s[j]):
                h = h_add(h, s[j])
                j += 1
            words[3 * n_words] = i
            words[3 * n_words + 1] = j
            words[3 * n_words + 2] = <int64_t>h_fin(h_add(h, 32))  # the padded word's key
            n_words += 1
            i = j
        for q in range(n_words):
            if q + WORDS_AHEAD < n_words:
                prefetch(cache.slots + (<uint64_t>words[3 * (q + WORDS_AHEAD) + 2] & cache.mask))
            if q + 1 < n_words:
                slot = cache.slots + (<uint64_t>words[3 * (q + 1) + 2] & cache.mask)
                if slot.n != 0 and slot.key == <uint64_t>words[3 * (q + 1) + 2]:
                    prefetch(cache.pool + slot.at)
            i = words[3 * q]
            j = words[3 * q + 1]
            key = <uint64_t>words[3 * q + 2]
            # the word s[i:j] padded: write spaces around it in place (restored below)
            saved_before, saved_after = mutable[i], mutable[j + 1]
            mutable[i] = 32
            mutable[j + 1] = 32
            w = j - i + 2
            if w > LONG_WORD or w * widest > 65535:  # counted directly: it would fill the cache on its own
                if self._count_long_word(padded + i, w, c) < 0:
                    return -1
                mutable[i] = saved_before
                mutable[j + 1] = saved_after
                continue
            slot = cache_find(cache, key, padded + i, w)
            if slot.n == 0:
                if 2 * (cache.n_entries + 1) > CACHE_SLOTS or cache.pool_size + w + w * widest > CACHE_POOL:
                    cache_clear(cache)
                    slot = cache_find(cache, key, padded + i, w)
                at = cache.pool_size
                if grow_u32(&cache.pool, &cache.pool_capacity, at + w + w * widest + 1) < 0:
                    return -1
                memcpy(cache.pool + at, padded + i, w * sizeof(uint32_t))
                n_cols = self._word_columns(padded + i, w, <int32_t *>(cache.pool + at + w))
                slot.key = key
                slot.at = <uint32_t>at
                slot.n = <uint16_t>w
                slot.n_cols = <uint16_t>n_cols
                cache.pool_size = at + w + n_cols
                cache.n_entries += 1
            cols = <const int32_t *>(cache.pool + slot.at + slot.n)
            n_cols = slot.n_cols
            for k in range(n_cols):
                if k + PREFETCH < n_cols:
                    prefetch(c.count + cols[k + PREFETCH])
                count_add(c, cols[k])
            mutable[i] = saved_before
            mutable[j + 1] = saved_after
        return 0

    cdef int _count_long_word(self, const uint32_t *word, int64_t w, Counter *c) noexcept nogil:
        cdef int64_t p, n
        cdef uint64_t h
        cdef int32_t col
        for n in range(self.char_min, self.char_max + 1):  # scikit-learn's order (see `_word_columns`)
            if n > w:
                break
            for p in range(w - n + 1):
                col = table_find(&self.char, h_fin(_hash(word + p, n)), c_fin(_check(word + p, n)), word + p, n)
                if col >= 0:
                    count_add(c, col)
        return 0

    cdef int64_t _word_columns(self, const uint32_t *word, int64_t w, int32_t *out) noexcept nogil:
        """Write the columns of the char_wb n-grams of padded word `word` to `out` (room for w times the
        number of n-gram lengths); returns how many. scikit-learn's n-grams in its order
        (`classify.features.char_wb_ngrams`): by length from min_n to max_n, each from the first position to
        the last, or the padded word once when it is shorter than min_n. The order matters: a row's columns
        come out in the order of first meeting, reversed, as scipy's product gives the Python path's
        (`count_flush`)."""
        cdef int64_t p, n, at = 0, m = 0
        cdef int32_t col
        cdef uint64_t keys[2 * GRAMS_AHEAD]
        if w < self.char_min:
            col = table_find(&self.char, h_fin(_hash(word, w)), c_fin(_check(word, w)), word, w)
            if col >= 0:
                out[0] = col
                return 1
            return 0
        if w * (self.char_max - self.char_min + 1) <= GRAMS_AHEAD:
            # a word of ordinary length: every n-gram's hashes first, its slot asked from memory, then the
            # lookups in the same order
            for n in range(self.char_min, self.char_max + 1):
                if n > w:
                    break
                for p in range(w - n + 1):
                    keys[2 * m] = h_fin(_hash(word + p, n))
                    keys[2 * m + 1] = c_fin(_check(word + p, n))
                    prefetch(self.char.slots + (keys[2 * m] & self.char.mask))
                    m += 1
            m = 0
            for n in range(self.char_min, self.char_max + 1):
                if n > w:
                    break
                for p in range(w - n + 1):
                    col = table_find(&self.char, keys[2 * m], keys[2 * m + 1], word + p, n)
                    m += 1
                    if col >= 0:
                        out[at] = col
                        at += 1
            return at
        for n in range(self.char_min, self.char_max + 1):
            if n > w:
                break
            for p in range(w - n + 1):
                col = table_find(&self.char, h_fin(_hash(word + p, n)), c_fin(_check(word + p, n)), word + p, n)
                if col >= 0:
                    out[at] = col
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


cdef inline uint64_t _check(const uint32_t *s, int64_t n) noexcept nogil:
    cdef uint64_t c = C0
    cdef int64_t k
    for k in range(n):
        c = c_add(c, s[k])
    return c


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
