# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled normaliser: `classify.text.normalize.normalize` of a batch of texts, without the GIL.

`classify.core` is the only module that uses it (`normalize_texts`), and only after checking that the
expressions of `classify.text.resources` are the ones whose shape is written here (`RULES`). It holds no
rule of its own about single characters: two per-code-point tables (`Table`), filled by `classify.core`
running the project's own functions on each character as texts meet it, say what each character becomes
before lower-casing (NFKC, accent folding, apostrophes, zero-width characters, `SPACE_RUN` for a character
that `SPACES_RE` turns into a space) and what each becomes lower-cased, or that the character is not safe
here (the text is then left to Python). What is written here is the context-dependent part, in the order of
`normalize`:

- a run of `SPACE_RUN` characters is one space (`SPACES_RE`'s `[...]+`);
- a `?` between a digit and three digits then a word boundary, after `«` or before `»`, is a space
  (`repair_lost_nbsp`);
- `NUMBER_RE`'s numbers are `NUMBER_TOKEN` (with `mask`), matched as the regular expression's backtracking
  would;
- `ELISION_RE`'s elisions are expanded, to the fixed point `expand_elisions` reaches by repeating;
- lower case through the table;
- a run of three or more of the same word character or `!?.` is two (`shorten_elongations`).

A text with `@`, `http` or `www.` (with `mask`) is left to Python, as is a text with a character the table
marks unsafe, and (with `breaks`) a text where `LOST_BREAK_RE` may find a line break exported as `n`: an `n`
after one of its punctuation marks, or before one of its words.
"""

from libc.stdint cimport uint8_t, uint16_t, uint32_t, int64_t
from libc.stdlib cimport malloc, calloc, realloc, free

cdef extern from "Python.h":
    bint Py_UNICODE_ISALNUM(Py_UCS4 ch) nogil
    bint Py_UNICODE_ISDECIMAL(Py_UCS4 ch) nogil
    int PyUnicode_READY(object o) except -1
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)

# The shape of the expressions implemented here; `classify.core` compares them with classify/text/resources.py.
RULES = {
    "SPACES_RE": "[...]+ (the class is the table's SPACE_RUN)",
    "LOST_NBSP_IN_NUMBER_RE": r"(?<=\d)\?(?=\d{3}\b)",
    "LOST_NBSP_QUOTES_RE": r"«\?|\?»",
    "NUMBER_RE": r"(?<![\w])\d+(?:[ .,]\d{3})*(?:[.,]\d+)?(?![\w])",
    "ELONGATION_FAST_RE": r"(\w)\1\1+",
    "REPEATED_PUNCT_RE": r"([!?.])\1{2,}",
    "LOST_BREAK_RE": r"(?<=[.!?…,;:)])(n+)(?=[^\W\d_]|'|\s|$)"
                     r"|n+(?=(?:merci|bravo|bonjour|bonsoir|cordialement|salut)\b)",
}

DEF N_CODE_POINTS = 0x110000
SPACE_RUN = 0x110001  # in a table entry: a character SPACES_RE turns into a space, with its neighbours
cdef uint32_t C_SPACE_RUN = 0x110001

# states of a code point in a Table
cdef enum:
    UNKNOWN = 0
    IDENTITY = 1
    MAPPED = 2
    UNSAFE = 3


cdef struct Vec:
    uint32_t *p
    int64_t n
    int64_t cap


cdef int vec_reserve(Vec *v, int64_t extra) noexcept nogil:
    cdef int64_t cap
    cdef uint32_t *q
    if v.n + extra <= v.cap:
        return 0
    cap = v.cap * 2 if v.cap else 256
    while cap < v.n + extra:
        cap *= 2
    q = <uint32_t *>realloc(v.p, cap * sizeof(uint32_t))
    if q == NULL:
        return -1
    v.p = q
    v.cap = cap
    return 0


cdef inline int vec_push(Vec *v, uint32_t c) noexcept nogil:
    if v.n == v.cap and vec_reserve(v, 1) < 0:
        return -1
    v.p[v.n] = c
    v.n += 1
    return 0


cdef class Table:
    """What each code point becomes: itself, a sequence of code points, or unsafe (the text goes to Python)."""
    cdef uint8_t *state
    cdef uint32_t *start
    cdef uint16_t *length
    cdef Vec pool

    def __cinit__(self):
        self.state = <uint8_t *>calloc(N_CODE_POINTS, 1)
        self.start = <uint32_t *>calloc(N_CODE_POINTS, sizeof(uint32_t))
        self.length = <uint16_t *>calloc(N_CODE_POINTS, sizeof(uint16_t))
        if self.state == NULL or self.start == NULL or self.length == NULL:
            raise MemoryError()

    def __dealloc__(self):
        free(self.state)
        free(self.start)
        free(self.length)
        free(self.pool.p)

    def known(self, uint32_t cp) -> bool:
        return self.state[cp] != UNKNOWN

    def set(self, uint32_t cp, sequence):
        """`cp` becomes `sequence` (code points, SPACE_RUN included), or is unsafe when `sequence` is None."""
        cdef Py_ssize_t k, n
        if cp >= N_CODE_POINTS:
            raise ValueError(cp)
        if sequence is None or len(sequence) > 0xffff:
            self.state[cp] = UNSAFE
            return
        n = len(sequence)
        if n == 1 and sequence[0] == cp:
            self.state[cp] = IDENTITY
            return
        if vec_reserve(&self.pool, n) < 0:
            raise MemoryError()
        self.start[cp] = <uint32_t>self.pool.n
        self.length[cp] = <uint16_t>n
        for k in range(n):
            self.pool.p[self.pool.n + k] = <uint32_t>sequence[k]
        self.pool.n += n
        self.state[cp] = MAPPED


cdef unsigned char CLASS_BMP[65536]  # per code point of the Basic Multilingual Plane: 1 \w, 2 \d (filled at import)
cdef Py_UCS4 _c
for _c in range(65536):
    CLASS_BMP[_c] = (1 if _c == 95 or Py_UNICODE_ISALNUM(_c) else 0) | (2 if Py_UNICODE_ISDECIMAL(_c) else 0)


cdef inline bint is_word(uint32_t c) noexcept nogil:  # re's \w on str
    if c < 65536:
        return CLASS_BMP[c] & 1
    return Py_UNICODE_ISALNUM(<Py_UCS4>c)


cdef inline bint is_digit(uint32_t c) noexcept nogil:  # re's \d on str
    if c < 65536:
        return CLASS_BMP[c] & 2
    return Py_UNICODE_ISDECIMAL(<Py_UCS4>c)


cdef inline uint32_t read(int kind, void *data, int64_t i) noexcept nogil:
    if kind == 1:
        return (<uint8_t *>data)[i]
    if kind == 2:
        return (<uint16_t *>data)[i]
    return (<uint32_t *>data)[i]


cdef inline uint32_t ascii_lower(uint32_t c) noexcept nogil:
    return c + 32 if 65 <= c <= 90 else c


# statuses of a text
DEF DONE = 0
DEF PYTHON = 1   # left to Python (a character or a pattern this pass does not handle)
DEF MISSING = 2  # a character the table does not know yet: filled, then tried again
DEF NOMEM = 3


cdef struct Spec:
    uint8_t *pre_state
    uint32_t *pre_start
    uint16_t *pre_length
    uint32_t *pre_pool
    uint8_t *low_state
    uint32_t *low_start
    uint16_t *low_length
    uint32_t *low_pool
    bint mask
    bint breaks            # texts LOST_BREAK_RE may change are left to Python
    uint32_t *token        # NUMBER_TOKEN
    int64_t token_n
    uint32_t *elided       # the elided words, lower case, one after the other
    int64_t *elided_end    # their ends in `elided`
    uint32_t *expanded     # their expansions, lower case, then a space
    int64_t *expanded_end
    int64_t n_elisions


cdef int map_text(const Spec *s, int kind, void *data, int64_t n, Vec *a) noexcept nogil:
    """NFKC, folding, apostrophes, zero-width characters and space runs, through the table; `?` repaired."""
    cdef int64_t i, k
    cdef uint32_t c, d
    cdef uint8_t st
    cdef bint in_run = False
    a.n = 0
    if vec_reserve(a, n) < 0:
        return NOMEM
    for i in range(n):
        c = read(kind, data, i)
        st = s.pre_state[c]
        if st == IDENTITY:
            if vec_push(a, c) < 0:
                return NOMEM
            in_run = False
        elif st == MAPPED:
            for k in range(s.pre_start[c], s.pre_start[c] + s.pre_length[c]):
                d = s.pre_pool[k]
                if d == C_SPACE_RUN:
                    if in_run:
                        continue
                    in_run = True
                    d = 32
                else:
                    in_run = False
                if vec_push(a, d) < 0:
                    return NOMEM
        elif st == UNKNOWN:
            return MISSING
        else:
            return PYTHON
    if s.mask:
        for i in range(a.n):
            c = a.p[i]
            if c == 64:  # @: emails and mentions
                return PYTHON
            if i + 3 < a.n and ascii_lower(c) == 104 and ascii_lower(a.p[i + 1]) == 116 \
                    and ascii_lower(a.p[i + 2]) == 116 and ascii_lower(a.p[i + 3]) == 112:  # http
                return PYTHON
            if i + 3 < a.n and ascii_lower(c) == 119 and ascii_lower(a.p[i + 1]) == 119 \
                    and ascii_lower(a.p[i + 2]) == 119 and a.p[i + 3] == 46:  # www.
                return PYTHON
    if s.breaks:
        for i in range(a.n):
            if a.p[i] == 110 and (break_after(a, i) or break_before(a, i + 1)):  # n
                return PYTHON
    # a `?` for a lost NBSP: in a number (`250?000`), after `«`, before `»`; the neighbours it looks at are
    # never a `?` that this loop changes, so changing in place reads what the expressions read
    for i in range(a.n):
        if a.p[i] != 63:
            continue
        if (i > 0 and a.p[i - 1] == 0xab) or (i + 1 < a.n and a.p[i + 1] == 0xbb):
            a.p[i] = 32
        elif i > 0 and i + 3 < a.n and is_digit(a.p[i - 1]) and is_digit(a.p[i + 1]) and is_digit(a.p[i + 2]) \
                and is_digit(a.p[i + 3]) and (i + 4 == a.n or not is_word(a.p[i + 4])):
            a.p[i] = 32
    return DONE


cdef inline bint break_after(const Vec *a, int64_t i) noexcept nogil:
    """Whether the character before `i` is one of LOST_BREAK_RE's punctuation marks."""
    if i == 0:
        return False
    cdef uint32_t p = a.p[i - 1]
    return p == 46 or p == 33 or p == 63 or p == 0x2026 or p == 44 or p == 59 or p == 58 or p == 41


cdef inline bint word_at(const Vec *a, int64_t i, const char *word) noexcept nogil:
    cdef int64_t k = 0
    while word[k] != 0:
        if i + k >= a.n or a.p[i + k] != <uint32_t>word[k]:
            return False
        k += 1
    return True


cdef inline bint break_before(const Vec *a, int64_t i) noexcept nogil:
    """Whether one of LOST_BREAK_RE's words starts at `i` (the boundary after it is not checked: more texts
    go to Python, never fewer)."""
    return word_at(a, i, "merci") or word_at(a, i, "bravo") or word_at(a, i, "bonjour") \
        or word_at(a, i, "bonsoir") or word_at(a, i, "cordialement") or word_at(a, i, "salut")


cdef int64_t number_end(const uint32_t *a, int64_t n, int64_t i) noexcept nogil:
    """The end of NUMBER_RE's match at `i` (a digit after a non-word character), or -1: `\\d+` greedy,
    `(?:[ .,]\\d{3})*` from most repeats to none, `(?:[.,]\\d+)?` tried before its absence, `(?![\\w])`."""
    cdef int64_t j = i, m = 0, t, p, e
    while j < n and is_digit(a[j]):
        j += 1
    p = j
    while p + 3 < n and (a[p] == 32 or a[p] == 46 or a[p] == 44) and is_digit(a[p + 1]) \
            and is_digit(a[p + 2]) and is_digit(a[p + 3]):
        p += 4
        m += 1
    t = m
    while t >= 0:
        p = j + 4 * t
        if p + 1 < n and (a[p] == 46 or a[p] == 44) and is_digit(a[p + 1]):
            e = p + 1
            while e < n and is_digit(a[e]):
                e += 1
            if e == n or not is_word(a[e]):
                return e
        if p == n or not is_word(a[p]):
            return p
        t -= 1
    return -1


cdef int mask_numbers(const Spec *s, const Vec *a, Vec *m) noexcept nogil:
    cdef int64_t i = 0, end, k
    cdef uint32_t c
    m.n = 0
    if vec_reserve(m, a.n) < 0:
        return NOMEM
    while i < a.n:
        c = a.p[i]
        if is_digit(c) and (i == 0 or not is_word(a.p[i - 1])):
            end = number_end(a.p, a.n, i)
            if end >= 0:
                if vec_reserve(m, s.token_n) < 0:
                    return NOMEM
                for k in range(s.token_n):
                    m.p[m.n + k] = s.token[k]
                m.n += s.token_n
                i = end
                continue
        if vec_push(m, c) < 0:
            return NOMEM
        i += 1
    return DONE


cdef int64_t elision_at(const Spec *s, const uint32_t *a, int64_t n, int64_t i) noexcept nogil:
    """The elision (its index) that ELISION_RE matches at `i`, lookbehind aside, or -1."""
    cdef int64_t e, k, start, length
    cdef uint32_t c, w
    for e in range(s.n_elisions):
        start = s.elided_end[e - 1] if e else 0
        length = s.elided_end[e] - start
        if i + length + 1 >= n or a[i + length] != 39 or not is_word(a[i + length + 1]):
            continue
        for k in range(length):
            c = a[i + k]
            w = s.elided[start + k]
            if c != w and c != w - 32:
                break
        else:
            return e
    return -1


cdef int elide_and_lower(const Spec *s, const Vec *m, Vec *b) noexcept nogil:
    """Elisions expanded (one pass that reaches `expand_elisions`' fixed point: a match is blocked only by the
    character before it, which becomes a space when it is the apostrophe of an expanded elision), then lower
    case through the table."""
    cdef int64_t i = 0, e, k, start, after = -1
    cdef uint32_t c, p
    cdef uint8_t st
    b.n = 0
    if vec_reserve(b, m.n) < 0:
        return NOMEM
    while i < m.n:
        c = m.p[i]
        if c < 128 and s.n_elisions and (i == 0 or i == after or (not is_word(m.p[i - 1]) and m.p[i - 1] != 39)):
            e = elision_at(s, m.p, m.n, i)
            if e >= 0:
                start = s.expanded_end[e - 1] if e else 0
                if vec_reserve(b, s.expanded_end[e] - start) < 0:
                    return NOMEM
                for k in range(start, s.expanded_end[e]):
                    b.p[b.n] = s.expanded[k]
                    b.n += 1
                i += (s.elided_end[e] - (s.elided_end[e - 1] if e else 0)) + 1
                after = i
                continue
        st = s.low_state[c]
        if st == IDENTITY:
            if vec_push(b, c) < 0:
                return NOMEM
        elif st == MAPPED:
            for k in range(s.low_start[c], s.low_start[c] + s.low_length[c]):
                if vec_push(b, s.low_pool[k]) < 0:
                    return NOMEM
        elif st == UNKNOWN:
            return MISSING
        else:
            return PYTHON
        i += 1
    return DONE


cdef int shorten(const Vec *b, Vec *out) noexcept nogil:
    """Runs of three or more of one word character or of `!`, `?`, `.` shortened to two."""
    cdef int64_t i = 0, j, k, keep
    cdef uint32_t c
    if vec_reserve(out, b.n) < 0:
        return NOMEM
    while i < b.n:
        c = b.p[i]
        j = i + 1
        while j < b.n and b.p[j] == c:
            j += 1
        keep = j - i
        if keep >= 3 and (c == 33 or c == 63 or c == 46 or is_word(c)):
            keep = 2
        for k in range(keep):
            out.p[out.n + k] = c
        out.n += keep
        i = j
    return DONE


cdef int normalize_one(const Spec *s, int kind, void *data, int64_t n, Vec *a, Vec *m, Vec *b,
                       Vec *out) noexcept nogil:
    cdef int status = map_text(s, kind, data, n, a)
    cdef const Vec *masked = a
    if status != DONE:
        return status
    if s.mask:
        status = mask_numbers(s, a, m)
        if status != DONE:
            return status
        masked = m
    status = elide_and_lower(s, masked, b)
    if status != DONE:
        return status
    return shorten(b, out)


cdef class Normaliser:
    """The compiled pass for one setting of `Normalizer` (`mask`, `breaks`), over its two tables."""
    cdef Table pre, low
    cdef Spec spec
    cdef object _keep

    def __init__(self, Table pre, Table low, bint mask, str number_token, elisions, bint breaks=False):
        cdef Py_ssize_t k
        self.pre = pre
        self.low = low
        self.spec.mask = mask
        self.spec.breaks = breaks
        token = [ord(c) for c in number_token]
        elided, elided_end, expanded, expanded_end = [], [], [], []
        for word, full in elisions:  # (elided word, its expansion), ASCII lower case
            elided.extend(ord(c) for c in word)
            elided_end.append(len(elided))
            expanded.extend(ord(c) for c in full + " ")
            expanded_end.append(len(expanded))
        self.spec.n_elisions = len(elided_end)
        self.spec.token_n = len(token)
        self.spec.token = <uint32_t *>malloc((len(token) + 1) * sizeof(uint32_t))
        self.spec.elided = <uint32_t *>malloc((len(elided) + 1) * sizeof(uint32_t))
        self.spec.elided_end = <int64_t *>malloc((len(elided_end) + 1) * sizeof(int64_t))
        self.spec.expanded = <uint32_t *>malloc((len(expanded) + 1) * sizeof(uint32_t))
        self.spec.expanded_end = <int64_t *>malloc((len(expanded_end) + 1) * sizeof(int64_t))
        if self.spec.token == NULL or self.spec.elided == NULL or self.spec.elided_end == NULL \
                or self.spec.expanded == NULL or self.spec.expanded_end == NULL:
            raise MemoryError()
        for k in range(len(token)):
            self.spec.token[k] = token[k]
        for k in range(len(elided)):
            self.spec.elided[k] = elided[k]
        for k in range(len(elided_end)):
            self.spec.elided_end[k] = elided_end[k]
            self.spec.expanded_end[k] = expanded_end[k]
        for k in range(len(expanded)):
            self.spec.expanded[k] = expanded[k]

    def __cinit__(self):
        self.spec.token = NULL
        self.spec.elided = NULL
        self.spec.elided_end = NULL
        self.spec.expanded = NULL
        self.spec.expanded_end = NULL

    def __dealloc__(self):
        free(self.spec.token)
        free(self.spec.elided)
        free(self.spec.elided_end)
        free(self.spec.expanded)
        free(self.spec.expanded_end)

    def normalize(self, list texts):
        """[normalised text, or None (Python must do it), or False (a character the table does not know)].
        Calls may run at once in several threads; the caller must not fill the tables during any of them."""
        cdef Py_ssize_t n = len(texts), i
        cdef int *kinds = <int *>malloc((n + 1) * sizeof(int))
        cdef void **datas = <void **>malloc((n + 1) * sizeof(void *))
        cdef int64_t *lengths = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        cdef int64_t *ends = <int64_t *>malloc((n + 1) * sizeof(int64_t))
        cdef int *statuses = <int *>malloc((n + 1) * sizeof(int))
        cdef Vec a, m, b, out
        cdef int64_t start
        cdef bint nomem = False
        cdef Spec spec = self.spec  # this call's copy: calls in other threads read the tables at once
        a.p = m.p = b.p = out.p = NULL
        a.n = m.n = b.n = out.n = 0
        a.cap = m.cap = b.cap = out.cap = 0
        spec.pre_state = self.pre.state
        spec.pre_start = self.pre.start
        spec.pre_length = self.pre.length
        spec.pre_pool = self.pre.pool.p
        spec.low_state = self.low.state
        spec.low_start = self.low.start
        spec.low_length = self.low.length
        spec.low_pool = self.low.pool.p
        try:
            if kinds == NULL or datas == NULL or lengths == NULL or ends == NULL or statuses == NULL:
                raise MemoryError()
            texts = list(texts)  # ours: the strings stay alive while the GIL is released
            for i in range(n):
                text = texts[i]
                if type(text) is not str:
                    raise TypeError(f"texts[{i}] is {type(text).__name__}, not str")
                PyUnicode_READY(text)
                kinds[i] = PyUnicode_KIND(text)
                datas[i] = PyUnicode_DATA(text)
                lengths[i] = PyUnicode_GET_LENGTH(text)
            with nogil:
                for i in range(n):
                    start = out.n
                    statuses[i] = normalize_one(&spec, kinds[i], datas[i], lengths[i], &a, &m, &b, &out)
                    if statuses[i] == NOMEM:
                        nomem = True
                        break
                    if statuses[i] != DONE:
                        out.n = start
                    ends[i] = out.n
            if nomem:
                raise MemoryError()
            results = [None] * n
            start = 0
            for i in range(n):
                if statuses[i] == DONE:
                    results[i] = PyUnicode_FromKindAndData(4, out.p + start, ends[i] - start)
                elif statuses[i] == MISSING:
                    results[i] = False
                start = ends[i]
            return results
        finally:
            free(kinds)
            free(datas)
            free(lengths)
            free(ends)
            free(statuses)
            free(a.p)
            free(m.p)
            free(b.p)
            free(out.p)
