"""What a linear model learned: the n-grams whose weights push most towards and against each label, and
which n-grams of one document contributed most to its predicted labels.

A label's decision score is `sum(tfidf(ngram) * weight(label, ngram)) + bias`, so a weight is exactly how
much an n-gram moves that label's score per unit of TF-IDF, and `tfidf * weight` is its contribution in a
document. Word n-grams are shown as they look after normalisation (accents folded, `neg_` marks a word in
a negation scope); character n-grams are shown in quotes, with their spaces.
"""

from __future__ import annotations

import numpy as np

from classify.errors import ConfigError


def feature_names(model) -> np.ndarray:
    """Readable names of the model's features, in column order."""
    names = []
    for kind, vectorizer in model.features_.transformer_list:
        vocab = vectorizer.get_feature_names_out()
        if kind == "char":
            names.extend(f'"{v}"' for v in vocab)
        elif kind in ("vectors", "lexicon"):  # dense dimensions: shown, but they are not n-grams
            names.extend(f"<{v}>" for v in vocab)
        else:
            names.extend(vocab)
    return np.asarray(names, dtype=object)


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


def top_features(model, *, task: str | None = None, label: str | None = None, top: int = 15) -> dict:
    """`{task: {label: {"towards": [[ngram, weight], ...], "against": [...]}}}`, strongest first."""
    if top < 1:
        raise ConfigError(f"--top must be 1 or more, got {top}.")
    names = feature_names(model)
    out = {}
    for t in _select(model, task, label):
        out[t.name] = {}
        for j, lab in enumerate(t.labels):
            if label is not None and lab != label:
                continue
            w = t.scorer.coef[j]
            k = min(top, len(w))
            pos = np.argpartition(-w, k - 1)[:k]
            neg = np.argpartition(w, k - 1)[:k]
            pos = pos[np.lexsort((names[pos].astype(str), -w[pos]))]
            neg = neg[np.lexsort((names[neg].astype(str), w[neg]))]
            out[t.name][lab] = {
                "towards": [[str(names[i]), round(float(w[i]), 4)] for i in pos if w[i] > 0],
                "against": [[str(names[i]), round(float(w[i]), 4)] for i in neg if w[i] < 0],
            }
    return out


class DocumentExplainer:
    """Per-document contributions for `predict --explain`."""

    def __init__(self, model, top: int = 5):
        self.model = model
        self.top = top
        self.names = feature_names(model)

    def explain(self, X, labels: dict) -> list[dict]:
        """For each row of the feature matrix `X` and its predicted `labels` ({task: [labels per row]}),
        `{task: {label: [[ngram, contribution], ...]}}` with the largest positive contributions first."""
        X = X.tocsr()
        out = []
        for i in range(X.shape[0]):
            start, end = X.indptr[i], X.indptr[i + 1]
            cols, values = X.indices[start:end], X.data[start:end]
            doc = {}
            for name, task in self.model.tasks_.items():
                predicted = labels[name][i]
                predicted = predicted if isinstance(predicted, list) else [predicted]
                doc[name] = {}
                for lab in predicted:
                    j = task.labels.index(lab)
                    contrib = values * task.scorer.coef[j, cols]
                    order = np.argsort(-contrib, kind="stable")[: self.top]
                    doc[name][lab] = [[str(self.names[cols[c]]), round(float(contrib[c]), 4)]
                                      for c in order if contrib[c] > 0]
            out.append(doc)
        return out
