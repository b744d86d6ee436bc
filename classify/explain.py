"""What a linear model learned: the features whose weights push most towards and against each label, and
which features of one document contributed most to its predicted labels.

A label's decision score is `sum(x(feature) * weight(label, feature)) + bias`, so a weight is exactly how
much a feature moves that label's score per unit of its value (TF-IDF for n-grams), and `x * weight` is
its contribution in a document.

Features are shown the way a reader understands them: words as they look after normalisation (accents
folded, lower case), a word in a negation scope as `ne … pas` + the word, masked numbers, URLs, e-mails and
@mentions as `(number)`, `(URL)`, `(e-mail)`, `(@mention)` (in character n-grams too), character n-grams
in quotes. A dense block
(word vectors, the sentiment lexicon) is one row with its total contribution: its dimensions mean nothing
one by one. `raw=True` keeps the model's internal names (`neg_bon`, `xnumx`, `<vector[193]>`).
"""

from __future__ import annotations

import math

import numpy as np

from classify.errors import ConfigError
from classify.options import check_top
from classify.text import resources as R

BLOCK_NAMES = {"vectors": "word vectors", "lexicon": "sentiment lexicon"}
_PLACEHOLDERS = {R.URL_TOKEN.strip(): "(URL)", R.EMAIL_TOKEN.strip(): "(e-mail)",
                 R.MENTION_TOKEN.strip(): "(@mention)", R.NUMBER_TOKEN.strip(): "(number)"}
_NEGATIONS = R.NEGATION_WORDS | R.NEGATION_WORDS_FOLDED
NEGATION_MARK = "neg_"


def readable_ngram(ngram: str) -> str:
    """`neg_bon` -> `ne … pas bon`, `xnumx euros` -> `(number) euros`, `pas neg_bon` -> `pas bon` (the
    negation is there already); other n-grams unchanged."""
    tokens = ngram.split(" ")
    negated = False
    shown = []
    for token in tokens:
        if token.startswith(NEGATION_MARK) and len(token) > len(NEGATION_MARK):
            token = token[len(NEGATION_MARK):]
            negated = True
        shown.append(_PLACEHOLDERS.get(token, token))
    text = " ".join(shown)
    if negated and not any(token in _NEGATIONS for token in tokens):
        text = "ne … pas " + text
    return text


def readable_chars(gram: str) -> str:
    """A character n-gram of a masked token (`xnumx`, `" xnum"`, `"umx "`) -> its placeholder, `(number)`;
    other n-grams unchanged. Four characters or more, one of them the placeholder's `x` at either end:
    shorter pieces (`num`, `x `) occur in ordinary words (`numéro`, `prix`)."""
    for token, shown in _PLACEHOLDERS.items():
        padded = f" {token} "
        if len(gram) >= 4 and gram in padded and (token[:2] in gram or token[-2:] in gram):
            return shown
    return gram


def _blocks(model):
    """(kind, block, first column, number of columns) for each block of the model's features."""
    start = 0
    for kind, block in model.features_.transformer_list:
        n = len(block.get_feature_names_out())
        yield kind, block, start, n
        start += n


def feature_names(model, raw: bool = False) -> np.ndarray:
    """Names of the model's features, in column order (readable unless `raw`)."""
    names = []
    for kind, block, _, _ in _blocks(model):
        vocab = block.get_feature_names_out()
        if kind == "char":
            names.extend(f'"{v if raw else readable_chars(v)}"' for v in vocab)
        elif kind in BLOCK_NAMES:  # dense dimensions: not n-grams
            names.extend(f"<{v}>" for v in vocab)
        elif raw:
            names.extend(vocab)
        else:
            names.extend(readable_ngram(v) for v in vocab)
    return np.asarray(names, dtype=object)


def dense_blocks(model) -> list[tuple[str, object, int, int]]:
    """(readable name, block, first column, number of columns) of the dense blocks."""
    return [(BLOCK_NAMES[kind], block, start, n) for kind, block, start, n in _blocks(model)
            if kind in BLOCK_NAMES]


def _select(model, task: str | None, label: str | None):
    tasks = model.tasks_
    if task is not None and task not in tasks:
        raise ConfigError(f"--task {task!r} is not a task of this model; its tasks: {', '.join(tasks)}.")
    chosen = [tasks[task]] if task else list(tasks.values())
    if label is not None:
        chosen = [t for t in chosen if label in t.labels]
        if not chosen:
            pool = [tasks[task]] if task else list(tasks.values())
            known = sorted({lab for t in pool for lab in t.labels})
            raise ConfigError(f"--label {label!r} is not a label of {'task ' + repr(task) if task else 'this model'}; "
                              f"its labels: {', '.join(known)}.")
    return chosen


def _block_rows(dense, coef, cache: dict) -> list[dict]:
    """One row per dense block for one label (`coef`: its weights over every column), in words: the word
    vectors by what one word's vector adds to the score (a text of that word alone), at the two extremes
    over the vectors; the lexicon by what one positive word adds (a negative word: the opposite, both
    columns being odd in positive - negative). `cache`: the vectors' words, read once per explanation."""
    rows = []
    for name, block, start, n in dense:
        w = np.asarray(coef[start:start + n], dtype=np.float64)
        scale = float(getattr(block, "scale", 1.0))
        if name == "sentiment lexicon" and n == 2:
            one_word = scale * (math.log(2) * w[0] + 0.5 * w[1])
            rows.append({"name": name, "one_positive_word": round(one_word, 4)})
        else:
            if name not in cache:
                cache[name] = _vector_words(block)
            words, matrix = cache[name]
            norms = np.linalg.norm(matrix, axis=1)
            norms[norms == 0] = 1.0
            alone = scale * (matrix @ w) / norms
            high, low = int(alone.argmax()), int(alone.argmin())
            rows.append({"name": name,
                         "most_towards": [words.get(high, f"row {high}"), round(float(alone[high]), 4)],
                         "most_against": [words.get(low, f"row {low}"), round(float(alone[low]), 4)],
                         "vectors": int(matrix.shape[0]), "dimensions": int(matrix.shape[1])})
    return rows


def _vector_words(block):
    """(row -> a word with that vector, the vectors) of a word-vectors block."""
    index, matrix = block._load(many=True)
    first: dict = {}
    for word, row in index.items():
        first.setdefault(int(row), word)
    return first, np.asarray(matrix, dtype=np.float64)


def top_features(model, *, task: str | None = None, label: str | None = None, top: int = 15,
                 raw: bool = False) -> dict:
    """`{task: {label: {"towards": [[feature, weight], ...], "against": [...], "blocks": [...]}}}`,
    strongest first. `blocks`: one row per dense block (`_block_rows`); with `raw`, the dense
    dimensions are ranked with the n-grams instead, under their internal names."""
    check_top(top)
    names = feature_names(model, raw=raw)
    dense = [] if raw else dense_blocks(model)
    ranked = np.ones(len(names), dtype=bool)
    for _, _, start, n in dense:
        ranked[start:start + n] = False
    columns = np.flatnonzero(ranked)
    shown = names[columns]
    cache: dict = {}
    out = {}
    for t in _select(model, task, label):
        out[t.name] = {}
        for j, lab in enumerate(t.labels):
            if label is not None and lab != label:
                continue
            coef = t.scorer.coef[j]
            w = coef[columns]
            k = min(top, len(w))
            pos = np.argpartition(-w, k - 1)[:k]
            neg = np.argpartition(w, k - 1)[:k]
            pos = pos[np.lexsort((shown[pos].astype(str), -w[pos]))]
            neg = neg[np.lexsort((shown[neg].astype(str), w[neg]))]
            entry = {
                "towards": [[str(shown[i]), round(float(w[i]), 4)] for i in pos if w[i] > 0],
                "against": [[str(shown[i]), round(float(w[i]), 4)] for i in neg if w[i] < 0],
            }
            if dense:
                entry["blocks"] = _block_rows(dense, coef, cache)
            out[t.name][lab] = entry
    return out


class DocumentExplainer:
    """Per-document contributions for `predict --explain`: n-grams one by one, each dense block as one row
    with the sum of its columns' contributions (unless `raw`)."""

    def __init__(self, model, top: int = 5, raw: bool = False):
        self.model = model
        self.top = top
        self.raw = raw
        self.names = feature_names(model, raw=raw)
        self.dense = [] if raw else [(name, start, n) for name, _, start, n in dense_blocks(model)]
        char = [(start, n) for kind, _, start, n in _blocks(model) if kind == "char"]
        self.char = char[0] if char and not raw else None
        self.raw_names = feature_names(model, raw=True) if self.char else None

    def explain(self, X, labels: dict, texts=None) -> list[dict]:
        """For each row of the feature matrix `X` and its predicted `labels` ({task: [labels per row]}),
        `{task: {label: [[feature, contribution], ...]}}` with the largest positive contributions first.
        `texts`: the documents of the rows; with them, a short character n-gram that the document has only
        inside a masked token (`"xu"` of `xuserx`) is shown as that token, `"(@mention)"`."""
        X = X.tocsr()
        normalize = getattr(self.model, "normalizer_", None)
        out = []
        for i in range(X.shape[0]):
            text = None if texts is None else texts[i]
            self._words = None if text is None else (normalize(text) if normalize else text).split()
            start, end = X.indptr[i], X.indptr[i + 1]
            cols, values = X.indices[start:end], X.data[start:end]
            in_block = np.zeros(len(cols), dtype=bool)
            blocks = []
            for name, first, n in self.dense:
                inside = (cols >= first) & (cols < first + n)
                in_block |= inside
                blocks.append((name, inside))
            plain = np.flatnonzero(~in_block)
            present = [(block, inside) for block, inside in blocks if inside.any()]
            doc = {}
            for name, task in self.model.tasks_.items():
                predicted = labels[name][i]
                predicted = predicted if isinstance(predicted, list) else [predicted]
                doc[name] = {}
                for lab in predicted:
                    j = task.labels.index(lab)
                    contrib = values * task.scorer.coef[j, cols]
                    # n-grams one by one, then one total per dense block; a stable sort keeps ties in order
                    totals = np.concatenate([contrib[plain],
                                             [contrib[inside].sum() for _, inside in present]])
                    order = np.argsort(-totals, kind="stable")[: self.top]
                    doc[name][lab] = [[self._name(cols, plain, present, o), round(float(totals[o]), 4)]
                                      for o in order if totals[o] > 0]
            out.append(doc)
        return out

    def _name(self, cols, plain, present, o) -> str:
        """The name of entry `o` of a row's totals: its n-gram, or past them, its dense block."""
        if o >= len(plain):
            return present[o - len(plain)][0]
        column = cols[plain[o]]
        if self.char and self._words is not None and self.char[0] <= column < self.char[0] + self.char[1]:
            return f'"{self._placeholder_of(str(self.raw_names[column])[1:-1])}"'
        return str(self.names[column])

    def _placeholder_of(self, gram: str) -> str:
        """`gram`'s readable form: a placeholder when the document has it only inside masked tokens."""
        shown = readable_chars(gram)
        if shown != gram:
            return shown
        inside = [token for token in _PLACEHOLDERS if token in self._words and gram in f" {token} "]
        if inside and not any(gram in f" {word} " for word in self._words if word not in _PLACEHOLDERS):
            return " or ".join(_PLACEHOLDERS[token] for token in inside)  # `xu`: of a URL or of a mention
        return gram
