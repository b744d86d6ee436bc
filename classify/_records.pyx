# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled writing of `classify predict`'s JSONL and CSV records and the language flag's quick test.

They replace Python code that stays the reference (`Prediction.to_record` with `json`, the CSV row of
`classify.render.PredictionWriter` with the csv module, and
`classify.lang.looks_french`), give the same text or answer, and hand back to it whatever they do not
cover: `records` and `csv_records` return None for a document whose line it cannot write (an id with no UTF-8 form: a lone
surrogate), `quick_french` returns -1 for a text with a link or mention, or with a
character whose lower case could be taken for French (the Kelvin sign, `İ`).
`tests/test_records.py` checks both against the reference on random input.
"""

from libc.stdint cimport int64_t, uint64_t, uint8_t, uint16_t, uint32_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from libc.math cimport isfinite, signbit, isnan

cdef extern from "Python.h":
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil
    bint Py_UNICODE_ISALPHA(Py_UCS4 ch) nogil
    Py_UCS4 Py_UNICODE_TOLOWER(Py_UCS4 ch) nogil
    int PyUnicode_KIND(object o)
    void *PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    bint PyUnicode_IS_ASCII(object o)
    const char *PyUnicode_AsUTF8AndSize(object o, Py_ssize_t *size) except NULL
    object PyUnicode_DecodeUTF8(const char *s, Py_ssize_t size, const char *errors)
    char *PyOS_double_to_string(double val, char format_code, int precision, int flags, int *ptype) except NULL
    void PyMem_Free(void *p)
    int Py_DTSF_ADD_DOT_0

cdef extern from *:
    Py_UCS4 PyUnicode_READ(int kind, void *data, Py_ssize_t index) nogil


# -- the language flag's quick test ---------------------------------------------------------------------
cdef enum:
    MAX_MARKER = 16
    MARKER_SLOTS = 512

cdef unsigned char _marker_text[MARKER_SLOTS][MAX_MARKER]
cdef int _marker_length[MARKER_SLOTS]
cdef int _marker_id[MARKER_SLOTS]
cdef int _n_markers = 0
cdef int _min_letters = 0


cdef inline uint64_t _hash(const unsigned char *s, int n) noexcept nogil:
    cdef uint64_t h = 0xcbf29ce484222325ULL
    cdef int i
    for i in range(n):
        h = (h ^ s[i]) * 0x100000001b3ULL
    return h


def set_markers(markers, int min_letters) -> None:
    """The French function words (lower case, Latin-1 characters, at most 16): `classify.lang._MARKERS`,
    and the letters a text needs to be told a language (`classify.lang.MIN_LETTERS`)."""
    global _n_markers, _min_letters
    _min_letters = min_letters
    cdef int slot, n, i
    cdef bytes text
    for slot in range(MARKER_SLOTS):
        _marker_length[slot] = -1
    _n_markers = 0
    for word in sorted(markers):
        text = word.encode("latin-1")
        n = len(text)
        if n == 0 or n > MAX_MARKER or _n_markers >= 128:
            raise ValueError(f"marker {word!r} does not fit the quick test")
        slot = <int>(_hash(text, n) % MARKER_SLOTS)
        while _marker_length[slot] != -1:
            slot = (slot + 1) % MARKER_SLOTS
        for i in range(n):
            _marker_text[slot][i] = text[i]
        _marker_length[slot] = n
        _marker_id[slot] = _n_markers
        _n_markers += 1


cdef inline int _marker(const unsigned char *w, int n) noexcept nogil:
    """The marker's number, or -1."""
    cdef int slot = <int>(_hash(w, n) % MARKER_SLOTS)
    cdef int i
    while _marker_length[slot] != -1:
        if _marker_length[slot] == n:
            i = 0
            while i < n and _marker_text[slot][i] == w[i]:
                i += 1
            if i == n:
                return _marker_id[slot]
        slot = (slot + 1) % MARKER_SLOTS
    return -1


cdef unsigned char _lower[256]  # Latin-1's lower case and white space, as str.lower() and str.split() read them
cdef unsigned char _space[256]
cdef int _c
for _c in range(256):
    _lower[_c] = <unsigned char>Py_UNICODE_TOLOWER(<Py_UCS4>_c)
    _space[_c] = Py_UNICODE_ISSPACE(<Py_UCS4>_c)


ctypedef fused Char:  # a str's code units: PyUnicode_1BYTE_KIND, 2BYTE, 4BYTE
    uint8_t
    uint16_t
    uint32_t


cdef inline bint _has_noise(const Char *s, Py_ssize_t n) noexcept nogil:
    """Whether the text holds `http`, `www.`, `@` or `#`: what `classify.lang.language` removes first."""
    cdef Py_ssize_t i
    cdef Py_UCS4 c
    for i in range(n):
        c = s[i]
        if c == 64 or c == 35:
            return True
        if c == 104 and i + 3 < n and s[i + 1] == 116 and s[i + 2] == 116 and s[i + 3] == 112:
            return True
        if c == 119 and i + 3 < n and s[i + 1] == 119 and s[i + 2] == 119 and s[i + 3] == 46:
            return True
    return False


cdef inline int _count_word(const unsigned char *word, int length, bint foreign, uint64_t *seen) noexcept nogil:
    """1 when the word is a function word not seen before in the text (and marks it seen), else 0."""
    cdef int found
    if foreign or length > MAX_MARKER:
        return 0
    found = _marker(word, length)
    if found < 0 or (seen[found >> 6] >> (found & 63)) & 1:
        return 0
    seen[found >> 6] |= 1ULL << (found & 63)
    return 1


def quick_french(str text) -> int:
    """For a text without `http`, `www.`, `@` or `#`: 1 when `classify.lang.looks_french(text)`, else 2 when
    it has fewer letters than `language` needs among its first 300 characters (`language` gives None), else
    0 (the language model must tell). -1 for a text with one of those (`language` removes links and mentions
    first), or with a character this test leaves to Python: among the first 160, one outside Latin-1 whose
    lower case is in Latin-1 (the Kelvin sign, `İ`).

    The reference lower-cases the first 160 characters, puts a space after each `'` and `’` (itself made a
    `'`), splits on white space (`str.split()`), and counts the distinct function words among the words:
    two or more, and one word in ten at least. Outside Latin-1, a character is white space, the `’`, or part
    of a word that cannot be a function word (they are all in Latin-1)."""
    cdef int kind = PyUnicode_KIND(text)
    cdef void *data = PyUnicode_DATA(text)
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text)
    if kind == 1:
        return _quick(<const uint8_t *>data, n)
    if kind == 2:
        return _quick(<const uint16_t *>data, n)
    return _quick(<const uint32_t *>data, n)


cdef int _quick(const Char *s, Py_ssize_t length_all) noexcept nogil:
    cdef Py_ssize_t n = min(length_all, 160), i
    cdef unsigned char word[MAX_MARKER]
    cdef int length = 0, words = 0, hits = 0
    cdef bint in_word = False, foreign = False, space
    cdef uint64_t seen[2]
    cdef Py_UCS4 c
    if _has_noise(s, length_all):
        return -1
    seen[0] = seen[1] = 0
    for i in range(n + 1):
        c = s[i] if i < n else 32
        if c == 0x2019:
            c = 39
        if c < 0x100:
            space = _space[c]
        else:
            space = Py_UNICODE_ISSPACE(c)
            if not space:
                if Py_UNICODE_TOLOWER(c) < 0x100:
                    return -1
                foreign = in_word = True
                continue
        if space:
            if in_word:
                words += 1
                hits += _count_word(word, length, foreign, seen)
                in_word = foreign = False
                length = 0
            continue
        if length < MAX_MARKER:
            word[length] = _lower[c]
        length += 1
        in_word = True
        if c == 39:  # "l'avion" is the two words "l'" and "avion"
            words += 1
            hits += _count_word(word, length, foreign, seen)
            in_word = foreign = False
            length = 0
    if hits >= 2 and hits * 10 >= words:
        return 1
    words = 0  # now the letters
    for i in range(min(length_all, 300)):
        words += Py_UNICODE_ISALPHA(s[i])
    return 2 if words < _min_letters else 0


# -- JSONL records ---------------------------------------------------------------------------------------
cdef struct Buf:
    char *data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _reserve(Buf *b, Py_ssize_t more) except -1:
    cdef Py_ssize_t want = b.size + more
    cdef char *p
    if want <= b.capacity:
        return 0
    want = max(want, 2 * b.capacity, 4096)
    p = <char *>realloc(b.data, want)
    if p == NULL:
        raise MemoryError()
    b.data, b.capacity = p, want
    return 0


cdef inline int _put(Buf *b, const char *s, Py_ssize_t n) except -1:
    if b.size + n > b.capacity:
        _reserve(b, n)
    memcpy(b.data + b.size, s, n)
    b.size += n
    return 0


cdef int _put_bytes(Buf *b, bytes s) except -1:
    return _put(b, <const char *>s, len(s))


cdef int _put_score(Buf *b, double v, bint json=True) except -1:
    """`repr(v)` as `json` writes a float (`json`), or as `str` does (the csv module): the four decimals of
    a probability rounded to 0.0001 directly, anything else by Python's own repr."""
    cdef char digits[8]
    cdef int64_t k
    cdef int last, i
    cdef char *text
    if json and isnan(v):
        return _put(b, "NaN", 3)
    if json and not isfinite(v):
        return _put(b, "Infinity", 8) if v > 0 else _put(b, "-Infinity", 9)
    k = <int64_t>(v * 10000.0 + 0.5) if v >= 0 else -1
    if 0 <= k <= 10000 and not signbit(v) and <double>k / 10000.0 == v:
        if k == 0:
            return _put(b, "0.0", 3)
        if k == 10000:
            return _put(b, "1.0", 3)
        digits[0], digits[1] = b'0', b'.'
        for i in range(4):
            digits[5 - i] = <char>(48 + k % 10)
            k //= 10
        last = 5
        while digits[last] == b'0':
            last -= 1
        return _put(b, digits, last + 1)
    text = PyOS_double_to_string(v, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
    try:
        i = 0
        while text[i] != 0:
            i += 1
        _put(b, text, i)
    finally:
        PyMem_Free(text)
    return 0


cdef const char *_plain(str s, Py_ssize_t *n, bint json) noexcept:
    """The characters of `s` when it is ASCII and needs no escaping as a JSON string (`json`: no control
    character, `"` or `\\`) or as a CSV field (no `,`, `"` or line break), else NULL."""
    cdef Py_ssize_t i
    cdef const char *p
    cdef unsigned char c
    if not PyUnicode_IS_ASCII(s):
        return NULL
    n[0] = PyUnicode_GET_LENGTH(s)
    p = <const char *>PyUnicode_DATA(s)
    for i in range(n[0]):
        c = <unsigned char>p[i]
        if (json and (c < 0x20 or c == 34 or c == 92)) or (not json and (c == 44 or c == 34 or c == 13 or c == 10)):
            return NULL
    return p


cdef int _put_string(Buf *b, str s, object escape) except -1:
    """`s` as `json` writes it (`ensure_ascii=False`): a plain ASCII string as it is, quoted; any other
    through `escape` (json's own `encode_basestring`). Raises UnicodeEncodeError for a string that has no
    UTF-8 form (a lone surrogate)."""
    cdef Py_ssize_t n
    cdef const char *p = _plain(s, &n, True)
    if p != NULL:
        _put(b, "\"", 1)
        _put(b, p, n)
        return _put(b, "\"", 1)
    escaped = escape(s)  # held while its UTF-8 form is read
    p = PyUnicode_AsUTF8AndSize(escaped, &n)
    return _put(b, p, n)


def records(list ids, list langs, list tasks, bytes suffix, object escape) -> list:
    """The JSONL line of each classified document (`Prediction.to_record` through `json`, a newline at the
    end), or None where Python must write it.

    `ids`, `langs`: each document's id and language flag (str or None). `tasks`, in the record's order: per
    task `(key, values, labels, encoded, order, rounded)`: `key` the task's name as JSON followed by `: `;
    `values` each document's label (str), labels (list of str) or None; `labels` the task's labels and
    `encoded` each as JSON (bytes); `order` (int64, documents x kept labels) the labels' numbers best first; `rounded`
    (float64, the same shape) their probabilities rounded to 4 decimals. `suffix`: the JSON of the fields
    after `lang` (`, "model": "..."`), or empty. Everything given as JSON is json's own writing."""
    cdef Py_ssize_t n = len(ids), i, t, r, k, n_tasks = len(tasks)
    cdef Buf b
    cdef list out = [None] * n, keys = [], values = [], encoded = [], by_number = []
    cdef list orders = [], scores = []
    cdef const int64_t[:, :] order
    cdef const double[:, :] rounded
    cdef Py_ssize_t start
    for key, task_values, task_labels, task_encoded, task_order, task_rounded in tasks:
        if (len(task_values) != n or task_order.shape[0] != n or task_rounded.shape[0] != n
                or len(task_labels) != len(task_encoded) or task_order.shape[1] != task_rounded.shape[1]):
            raise ValueError("a task's values or scores do not match the documents")
        if task_order.size and (task_order.min() < 0 or task_order.max() >= len(task_labels)):
            raise ValueError("a label number is out of range")
        keys.append(key)
        values.append(task_values)
        encoded.append(dict(zip(task_labels, task_encoded)))
        by_number.append(list(task_encoded))
        orders.append(task_order)
        scores.append(task_rounded)
    b.data, b.size, b.capacity = NULL, 0, 0
    try:
        for i in range(n):
            b.size = 0
            try:
                _put(&b, "{\"id\": ", 7)
                _put_string(&b, ids[i], escape)
                for t in range(n_tasks):
                    _put(&b, ", ", 2)
                    _put_bytes(&b, keys[t])
                    value = (<list>values[t])[i]
                    if value is None:
                        _put(&b, "null", 4)
                    elif type(value) is list:
                        _put(&b, "[", 1)
                        for k, label in enumerate(value):
                            if k:
                                _put(&b, ", ", 2)
                            _put_bytes(&b, (<dict>encoded[t])[label])
                        _put(&b, "]", 1)
                    else:
                        _put_bytes(&b, (<dict>encoded[t])[value])
                _put(&b, ", \"scores\": {", 13)
                for t in range(n_tasks):
                    if t:
                        _put(&b, ", ", 2)
                    _put_bytes(&b, keys[t])
                    _put(&b, "{", 1)
                    order = orders[t]
                    rounded = scores[t]
                    for r in range(order.shape[1]):
                        if r:
                            _put(&b, ", ", 2)
                        _put_bytes(&b, (<list>by_number[t])[order[i, r]])
                        _put(&b, ": ", 2)
                        _put_score(&b, rounded[i, r])
                    _put(&b, "}", 1)
                _put(&b, "}, \"lang\": ", 11)
                lang = langs[i]
                if lang is None:
                    _put(&b, "null", 4)
                else:
                    _put_string(&b, lang, escape)
                _put_bytes(&b, suffix)
                _put(&b, "}\n", 2)
            except UnicodeEncodeError:
                continue
            out[i] = PyUnicode_DecodeUTF8(b.data, b.size, NULL)
    finally:
        free(b.data)
    return out


cdef int _put_cell(Buf *b, str s, object quote) except -1:
    """`s` as the csv module writes a field (`QUOTE_MINIMAL`, `,` and `"`): a plain ASCII string as it is,
    any other through `quote` (the csv module's own writing of that field)."""
    cdef Py_ssize_t n
    cdef const char *p = _plain(s, &n, False)
    if p != NULL:
        return _put(b, p, n)
    quoted = quote(s)  # held while its UTF-8 form is read
    p = PyUnicode_AsUTF8AndSize(quoted, &n)
    return _put(b, p, n)


def csv_records(list ids, list langs, list tasks, str sep, object quote) -> list:
    """The CSV line of each classified document (`PredictionWriter`'s row through the csv module, `\n` at
    the end), or None where Python must write it: id, each task's label (or labels joined by `sep`), each
    task's probabilities in label order (empty for a label `--top-k` left out), lang, then the empty
    `empty` and `error` fields of a classified document.

    `tasks`, in the columns' order: per task `(values, labels, cells, order, rounded)` as `records` takes
    them, `cells` each label as a CSV field (bytes). `quote(s)`: the csv module's writing of the field `s`."""
    cdef Py_ssize_t n = len(ids), i, t, r, j, n_tasks = len(tasks), width
    cdef Buf b
    cdef list out = [None] * n, values = [], cells = [], orders = [], scores = [], labels_of = []
    cdef dict cell_of
    cdef const int64_t[:, :] order
    cdef const double[:, :] rounded
    cdef int64_t *position = NULL
    for task_values, task_labels, task_cells, task_order, task_rounded in tasks:
        if (len(task_values) != n or task_order.shape[0] != n or task_rounded.shape[0] != n
                or task_order.shape[1] != task_rounded.shape[1] or task_order.shape[1] > len(task_labels)
                or len(task_cells) != len(task_labels)):
            raise ValueError("a task's values or scores do not match the documents")
        if task_order.size and (task_order.min() < 0 or task_order.max() >= len(task_labels)):
            raise ValueError("a label number is out of range")
        values.append(task_values)
        labels_of.append(list(task_labels))
        cells.append(dict(zip(task_labels, task_cells)))
        orders.append(task_order)
        scores.append(task_rounded)
    width = max([len(labels) for labels in labels_of] + [1])
    position = <int64_t *>malloc(width * sizeof(int64_t))
    if position == NULL:
        raise MemoryError()
    b.data, b.size, b.capacity = NULL, 0, 0
    try:
        for i in range(n):
            b.size = 0
            try:
                _put_cell(&b, ids[i], quote)
                for t in range(n_tasks):
                    _put(&b, ",", 1)
                    value = (<list>values[t])[i]
                    if value is None:
                        continue
                    if type(value) is list:
                        _put_cell(&b, sep.join(value), quote)
                    else:
                        _put_bytes(&b, (<dict>cells[t])[value])
                for t in range(n_tasks):
                    order = orders[t]
                    rounded = scores[t]
                    for j in range(len(<list>labels_of[t])):
                        position[j] = -1
                    for r in range(order.shape[1]):
                        position[order[i, r]] = r
                    for j in range(len(<list>labels_of[t])):
                        _put(&b, ",", 1)
                        if position[j] >= 0:
                            _put_score(&b, rounded[i, position[j]], False)
                _put(&b, ",", 1)
                lang = langs[i]
                if lang is not None:
                    _put_cell(&b, lang, quote)
                _put(&b, ",,\n", 3)
            except UnicodeEncodeError:
                continue
            out[i] = PyUnicode_DecodeUTF8(b.data, b.size, NULL)
    finally:
        free(b.data)
        free(position)
    return out
