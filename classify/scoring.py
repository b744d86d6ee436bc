"""One task's fitted parts, as a model file holds them: the linear layer, the calibration of its scores and
the decisions (labels, per-label thresholds). numpy only: loading a model and predicting never import
scikit-learn; `classify.training` fits them. A saved model names each class by this module's path."""

from __future__ import annotations

import numpy as np


class LinearScorer:
    """A fitted linear layer: `decision = X @ coef.T + intercept`, one column per label.

    Whatever the estimator, the model keeps only these arrays: small, fast, and the same code explains
    and exports every classifier.
    """

    def __init__(self, coef, intercept):
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)

    @classmethod
    def from_estimator(cls, estimator, n_labels: int) -> LinearScorer:
        coef, intercept = np.asarray(estimator.coef_), np.asarray(estimator.intercept_)
        if n_labels == 2 and coef.shape[0] == 1:  # binary: one hyperplane, positive side = labels[1]
            coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
        return cls(coef, intercept)

    def decision(self, X) -> np.ndarray:
        n_labels = self.coef.shape[0]
        return np.asarray(X @ self._padded())[:, :n_labels] + self.intercept

    def coef_t(self) -> np.ndarray:
        """`coef.T`, (columns, labels), made once: a view of `_padded`'s rows."""
        return self._padded()[:, :self.coef.shape[0]]

    def _padded(self) -> np.ndarray:
        """`coef.T` in C order, its rows padded with zeros to a power of two of floats (a multiple of 16
        past 16) and the array aligned to 64 bytes, made once. Scipy's product copied `coef.T` into C order
        on every call otherwise (the whole layer, 10 MB for a model of 170,000 columns and 15 labels, per
        batch); a row that fits in one cache line, not astride two, is one memory read for the compiled
        kernel, which reads the rows at random. The product computes each label's column on its own, so the
        padding changes no bit of the labels' values."""
        padded = self.__dict__.get("_coef_t")
        if padded is None:
            n_labels, n_columns = self.coef.shape
            stride = 1 << max(n_labels - 1, 0).bit_length() if n_labels <= 16 else -(-n_labels // 16) * 16
            line = 64 // self.coef.itemsize
            room = np.zeros(n_columns * stride + line, dtype=self.coef.dtype)
            start = (-room.ctypes.data % 64) // self.coef.itemsize
            padded = room[start:start + n_columns * stride].reshape(n_columns, stride)
            padded[:, :n_labels] = self.coef.T
            self.__dict__["_coef_t"] = padded
        return padded

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_coef_t"}


class Calibrator:
    """Maps decision scores to probabilities; fitted on out-of-fold scores (Platt scaling) by
    `classify.training.fit_calibrator`.

    Single-label: temperature scaling, `softmax(score / T)` (rows sum to 1, the best label stays best).
    Multi-label: one sigmoid per label, `1 / (1 + exp(-(a * score + b)))`.
    """

    def __init__(self, multi: bool):
        self.multi = multi

    def transform(self, scores: np.ndarray) -> np.ndarray:
        if self.multi:
            z = np.clip(scores * self.a_ + self.b_, -30, 30)
            return 1.0 / (1.0 + np.exp(-z))
        return _softmax(scores / self.temperature_)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TaskModel:
    """One task: labels, linear scorer, calibrator and (multi-label) per-label thresholds."""

    def __init__(self, name: str, multi: bool, labels: list[str], scorer: LinearScorer, calibrator: Calibrator,
                 thresholds=None, rates: dict | None = None):
        self.name = name
        self.multi = multi
        self.labels = list(labels)
        self.scorer = scorer
        self.calibrator = calibrator
        self.thresholds = None if thresholds is None else np.asarray(thresholds, dtype=float)
        # `classify.quantify.training_rates` of held-out predictions (None in models trained before them)
        self.rates = rates

    @property
    def type(self) -> str:
        return "multi" if self.multi else "single"

    def scores(self, X) -> np.ndarray:
        """Probabilities, shape (n_documents, n_labels), columns in `self.labels` order."""
        return self.calibrator.transform(self.scorer.decision(X))

    def chosen(self, P: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Multi-label: which labels each document is given, (n_documents, n_labels) booleans: those whose
        probability reaches the label's threshold (or `threshold`, for every label)."""
        cut = self.thresholds if threshold is None else np.full(len(self.labels), threshold)
        return P >= cut

    def decide(self, P: np.ndarray, threshold: float | None = None) -> list:
        labels = np.asarray(self.labels, dtype=object)
        if self.multi:
            return [sorted(labels[row].tolist()) for row in self.chosen(P, threshold)]
        return labels[P.argmax(axis=1)].tolist()

