"""`TextClassifier`: one classification task over French texts, as a scikit-learn estimator.

It is the model the command line trains for each label column, on its own: the same normalisation, feature
blocks, linear fits, calibration and per-label thresholds (`classify.training`), with every `ModelConfig`
setting as a parameter, so that `clone`, `Pipeline`, `GridSearchCV` and `cross_val_score` work with it.
X is an iterable of texts (a list of strings, a pandas Series); y one label per text, or, for a multi-label
task, a list of labels per text (a list of lists) or an indicator matrix (an array of 0 and 1, one column
per label). Its fitted state is made of this package's plain classes, as a saved model's is.

A search over the regularisation and the character n-grams on the sentiment of 200 documents of the bundled
corpus (run from the project's folder):

>>> import pandas as pd
>>> from sklearn.model_selection import GridSearchCV
>>> from classify import TextClassifier
>>> corpus = pd.read_csv("seeds/corpus.csv", dtype=str, keep_default_na=False).sample(200, random_state=0)
>>> grid = {"C": [0.1, 1.0], "char_ngrams": [(2, 4), (3, 5)]}
>>> search = GridSearchCV(TextClassifier(), grid, cv=3).fit(corpus["text"], corpus["sentiment"])
>>> sorted(search.best_params_)
['C', 'char_ngrams']
>>> search.best_estimator_.classes_.tolist()
['negative', 'neutral', 'positive']
>>> search.predict(["Trois jours sans réseau et le service client ne répond pas : inadmissible."]).tolist()
['negative']
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from classify.config import ModelConfig
from classify.errors import ConfigError, CorpusError
from classify.parallel import workers
from classify.training import fit_shared_features, fit_task


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Word and character n-gram TF-IDF (+ a French sentiment lexicon, + word vectors) and a calibrated
    linear model, for one task. The parameters are `classify.config.ModelConfig`'s settings, under their
    names and with their defaults, and `n_jobs` (processes for large corpora; None: 1, -1: every core).

    Fitted attributes: `classes_` (the labels; for an indicator y, its column numbers), `multilabel_`,
    `cv_metrics_` (the metrics of the out-of-fold predictions made during fit, None with `cv_folds=0`),
    and the fitted parts: `normalizer_`, `features_` and `task_` (the linear scorer, its calibration and,
    multi-label, the per-label thresholds).
    """

    def __init__(self, classifier="svm", C=0.5, word_ngrams=(1, 2), char_ngrams=(2, 5), char=True, min_df=2,
                 max_features=None, sublinear_tf=True, accents=False, stop_words=False, negation=True,
                 social=True, nbsvm=False, ensemble=True, vectors=False, vectors_scale=2.0, lexicon=True,
                 lexicon_scale=1.0, class_weight="balanced", svm_tol=0.1, cv_folds=5, cv_limit=10_000, seed=0,
                 weights=(), n_jobs=None):
        self.classifier = classifier
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char = char
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.accents = accents
        self.stop_words = stop_words
        self.negation = negation
        self.social = social
        self.nbsvm = nbsvm
        self.ensemble = ensemble
        self.vectors = vectors
        self.vectors_scale = vectors_scale
        self.lexicon = lexicon
        self.lexicon_scale = lexicon_scale
        self.class_weight = class_weight
        self.svm_tol = svm_tol
        self.cv_folds = cv_folds
        self.cv_limit = cv_limit
        self.seed = seed
        self.weights = weights
        self.n_jobs = n_jobs

    @classmethod
    def from_config(cls, config: ModelConfig, n_jobs=None) -> TextClassifier:
        return cls(**{f.name: getattr(config, f.name) for f in fields(ModelConfig)}, n_jobs=n_jobs)

    def model_config(self) -> ModelConfig:
        """The parameters as the `ModelConfig` that training uses (checked: ValueError names a bad one)."""
        try:
            return ModelConfig(**{f.name: getattr(self, f.name) for f in fields(ModelConfig)})
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        # True only so that scikit-learn runs its checks at all (it skips every one otherwise); the numeric
        # arrays they feed are refused, and those checks are expected failures in tests/test_estimator.py
        tags.input_tags.two_d_array = True
        tags.classifier_tags.multi_label = True
        return tags

    # -- training ----------------------------------------------------------------------------------------
    def fit(self, X, y) -> TextClassifier:
        """Learn the features from the texts X and the task from y (see the module's help for their forms)."""
        config = self.model_config()
        if config.weights:
            raise ValueError("weights (TASK:PREFIX=WEIGHT rules) weigh a corpus's documents by their id, for the "
                             "multi-task model of `classify train --weight`; TextClassifier.fit takes texts "
                             "without ids: leave weights empty.")
        values, multi, labels, indicator = _targets(y)
        if not multi and len(set(values)) < 2:
            raise ValueError(f"y has a single class ({values[0]!r}); a classifier needs at least 2 classes.")
        texts = _texts(X)
        if len(values) != len(texts):
            raise ValueError(f"X has {len(texts)} texts and y {len(values)} labels: give one label (or list "
                             f"of labels) per text.")
        n_jobs = _jobs(self.n_jobs)
        try:
            normalizer, features, matrix, dense_tail = fit_shared_features(config, texts, n_jobs)
            return self._fit_on_features(normalizer, features, matrix, dense_tail, values, multi,
                                         labels=labels, indicator=indicator, subject="y", n_jobs=n_jobs)
        except CorpusError as exc:
            raise ValueError(str(exc)) from None

    def _fit_on_features(self, normalizer, features, X, dense_tail: int, values: list, multi: bool, *,
                         labels=None, indicator=False, name="y", subject=None, progress=None,
                         n_jobs=None, sources=None, guessed=None, like=None, sample_weight=None) -> TextClassifier:
        """Fit the task on features already fitted (shared with other tasks), X their matrix on its rows."""
        config = self.model_config()
        n_jobs = _jobs(self.n_jobs) if n_jobs is None else n_jobs
        task, metrics = fit_task(config, features, X, values, multi, name=name, labels=labels, n_jobs=n_jobs,
                                 dense_tail=dense_tail, progress=progress, subject=subject, sources=sources,
                                 guessed=guessed, like=like, sample_weight=sample_weight)
        return self._set_fitted(normalizer, features, task, metrics if config.cv_folds else None, indicator)

    def _set_fitted(self, normalizer, features, task, cv_metrics, indicator=False) -> TextClassifier:
        self.normalizer_ = normalizer
        self.features_ = features
        self.task_ = task
        self.cv_metrics_ = cv_metrics
        self.multilabel_ = bool(task.multi)
        self._indicator = indicator
        self.classes_ = np.asarray(task.labels)
        return self

    # -- prediction --------------------------------------------------------------------------------------
    def _features(self, X):
        check_is_fitted(self)
        texts = _texts(X)
        if self.normalizer_ is not None:  # models saved before normalisation came first normalise inside
            from classify.core import normalize_texts

            texts = normalize_texts(self.normalizer_, texts)
        return self.features_.transform(texts).tocsr()

    def decision_function(self, X) -> np.ndarray:
        """The linear scores, one column per label; for two classes, one score: positive means classes_[1]."""
        X = self._features(X)  # first: it checks the estimator was fitted
        D = self.task_.scorer.decision(X)
        if not self.multilabel_ and D.shape[1] == 2:
            return D[:, 1] - D[:, 0]
        return D

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probabilities, a column per label in `classes_` order (multi-label: each its own)."""
        X = self._features(X)  # first: it checks the estimator was fitted
        return self.task_.scores(X)

    def predict(self, X):
        """One label per text; multi-label: the labels whose probability reaches their threshold, as an
        indicator matrix if y was one at fit, else a list of labels per text."""
        P = self.predict_proba(X)
        if not self.multilabel_:
            return self.classes_[P.argmax(axis=1)]
        if self._indicator:
            return self.task_.chosen(P).astype(int)
        return self.task_.decide(P)

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy; multi-label: the share of texts given exactly their labels."""
        if not self.multilabel_ or self._indicator:  # scikit-learn's accuracy reads both
            return super().score(X, y, sample_weight=sample_weight)
        from sklearn.metrics import accuracy_score
        from sklearn.preprocessing import MultiLabelBinarizer

        truth = _targets(y)[0]
        known = sorted(set(self.classes_.tolist()) | {label for labels in truth for label in labels}, key=str)
        binarizer = MultiLabelBinarizer(classes=known).fit([])
        return float(accuracy_score(binarizer.transform(truth), binarizer.transform(self.predict(X)),
                                    sample_weight=sample_weight))


def _jobs(n_jobs) -> int:
    if n_jobs is None:
        return 1
    if n_jobs == 0:
        raise ValueError("n_jobs=0 is not allowed: use None or a positive number, or -1 for every core.")
    return workers(n_jobs)


def _texts(X) -> list[str]:
    """X as a list of texts, or a ValueError that says what was received and what is accepted."""
    if isinstance(X, (str, bytes)):
        raise ValueError("X must be an iterable of texts (a list of strings or a pandas Series), got a "
                         "single string; wrap it in a list.")
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) != 1:
        raise ValueError(f"X must be one-dimensional: one text per document (a list of strings or a pandas "
                         f"Series), got an array of shape {tuple(shape)}.")
    try:
        texts = list(X)
    except TypeError:
        raise ValueError(f"X must be an iterable of texts (a list of strings or a pandas Series), got "
                         f"{type(X).__name__}.") from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            missing = text is None or (isinstance(text, float) and text != text)
            hint = " (a missing text? read tables with keep_default_na=False)" if missing else ""
            raise ValueError(f"X must hold texts (strings): X[{i}] is {type(text).__name__} "
                             f"{text!r:.40}{hint}.")
    return texts


def _targets(y) -> tuple[list, bool, list | None, bool]:
    """`(values, multi, labels, indicator)`: y as one label per document, or a list of labels each; `labels`
    are an indicator's column numbers (every one, whether or not it has an example)."""
    if y is None:
        raise ValueError("TextClassifier requires y to be passed, but the target y is None.")
    if hasattr(y, "toarray"):  # a sparse indicator matrix
        y = y.toarray()
    shape = getattr(y, "shape", None)
    if shape is not None and len(shape) == 2:
        Y = np.asarray(y)
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("an indicator y must hold 0 and 1 only (a column per label); for one label per "
                             "document give a one-dimensional y.")
        values = [np.flatnonzero(row).tolist() for row in Y]
        multi, labels, indicator = True, list(range(Y.shape[1])), True
    else:
        try:
            items = y.tolist() if hasattr(y, "tolist") else list(y)
        except TypeError:
            raise ValueError(f"y must be labels (a list, an array or a pandas Series), got "
                             f"{type(y).__name__}.") from None
        lists = [isinstance(v, (list, tuple, set, frozenset)) for v in items]
        if any(lists):
            if not all(lists):
                raise ValueError("y mixes lists of labels with single labels: give a list of labels for "
                                 "every document (multi-label) or one label for each (single-label).")
            values = [list(v) for v in items]
            multi, labels, indicator = True, None, False
        else:
            from sklearn.utils.multiclass import check_classification_targets

            for i, v in enumerate(items):
                if v is None or (isinstance(v, float) and v != v):
                    raise ValueError(f"y[{i}] is missing ({v!r}): every document needs a label.")
            check_classification_targets(np.asarray(items))
            values, multi, labels, indicator = items, False, None, False
    if not values:
        raise ValueError("y is empty: fitting needs documents and their labels.")
    return values, multi, labels, indicator
