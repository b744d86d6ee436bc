"""Evaluation metrics in the shape `classify evaluate --format json` prints (fractions in [0, 1])."""

from __future__ import annotations

import numpy as np


def _r(x) -> float:
    return round(float(x), 4)


def single_label_metrics(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    labels = sorted(set(labels) | set(y_true) | set(y_pred))
    present = sorted(set(y_true))  # macro averages over the labels that occur in the reference
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "type": "single",
        "n": len(y_true),
        "accuracy": _r(accuracy_score(y_true, y_pred)),
        "macro_f1": _r(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "micro_f1": _r(f1_score(y_true, y_pred, labels=labels, average="micro", zero_division=0)),
        "weighted_f1": _r(f1_score(y_true, y_pred, labels=present, average="weighted", zero_division=0)),
        "per_label": {
            label: {"precision": _r(p[i]), "recall": _r(r[i]), "f1": _r(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def multi_label_metrics(y_true: list[list[str]], y_pred: list[list[str]], labels: list[str]) -> dict:
    from sklearn.preprocessing import MultiLabelBinarizer

    labels = sorted(set(labels) | {x for row in y_true for x in row} | {x for row in y_pred for x in row})
    binarizer = MultiLabelBinarizer(classes=labels)
    T = binarizer.fit_transform(y_true).astype(bool)
    P = binarizer.transform(y_pred).astype(bool)
    # counted here, per label: scikit-learn takes an indicator matrix of one column for a binary target and
    # would score its negative class too (a task with a single label got that label's figures wrong)
    tp, fp, fn = (T & P).sum(axis=0), (~T & P).sum(axis=0), (T & ~P).sum(axis=0)
    tn = len(T) - tp - fp - fn
    p, r, f = _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)
    s = tp + fn
    present = np.flatnonzero(s > 0)
    return {
        "type": "multi",
        "n": len(y_true),
        "accuracy": _r(np.mean(np.all(T == P, axis=1))) if len(y_true) else 0.0,
        "macro_f1": _r(np.mean(f[present])) if len(present) else 0.0,
        "micro_f1": _r(_ratio(2 * tp.sum(), 2 * tp.sum() + fp.sum() + fn.sum())),
        "weighted_f1": _r(np.average(f, weights=s)) if s.sum() else 0.0,
        "per_label": {
            label: {"precision": _r(p[i]), "recall": _r(r[i]), "f1": _r(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {
            "labels": labels,
            "layout": "per label: [[tn, fp], [fn, tp]]",
            "matrix": [[[int(tn[i]), int(fp[i])], [int(fn[i]), int(tp[i])]] for i in range(len(labels))],
        },
    }


def _ratio(num, den):
    """num / den, 0 where den is 0 (scikit-learn's zero_division=0)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def best_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The probability threshold that maximises F1 for one label on out-of-fold scores."""
    if y.sum() == 0:
        return 0.5
    order = np.argsort(-scores)
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    f1 = 2 * tp / (tp + fp + t.sum())
    # only where the score changes can a threshold separate documents
    last = np.r_[s[1:] != s[:-1], True]
    i = int(np.argmax(np.where(last, f1, -1)))
    nxt = s[i + 1] if i + 1 < len(s) else 0.0
    return float(np.clip((s[i] + nxt) / 2, 0.05, 0.95))


CALIBRATION_BINS = 10  # equal-width probability bins of the expected calibration error and the reliability plot


def calibration_metrics(P: np.ndarray, truth: list, labels: list[str], multi: bool) -> dict:
    """How far probabilities are from frequencies, per label and for the task: the expected calibration
    error (ECE: over 10 equal-width bins of a label's probability, the gap between the mean probability and
    the share of documents with that label, weighted by the bin's size) and the Brier score (mean squared
    gap between probability and outcome, 0 is perfect). The task's ECE is the mean of its labels' (class-
    wise); for a single-label task, `top_label_ece` is the usual one on the best label's probability, and
    `brier` sums over labels. `predict --adapt` and `classify shares` (EM) assume these are small."""
    P = np.asarray(P, dtype=float)
    Y = np.array([[(label in t) if multi else (t == label) for label in labels] for t in truth], dtype=float)
    Y = Y.reshape(len(truth), len(labels))
    per_label = {}
    for j, label in enumerate(labels):
        per_label[label] = {"ece": _r(_ece(P[:, j], Y[:, j])), "brier": _r(np.mean((P[:, j] - Y[:, j]) ** 2))}
    out = {"bins": CALIBRATION_BINS,
           "ece": _r(np.mean([v["ece"] for v in per_label.values()])) if per_label else 0.0,
           "brier": _r(np.mean(((P - Y) ** 2).sum(axis=1)) if not multi else np.mean((P - Y) ** 2)),
           "per_label": per_label}
    if not multi and len(P):
        best = P.argmax(axis=1)
        out["top_label_ece"] = _r(_ece(P[np.arange(len(P)), best], Y[np.arange(len(P)), best]))
    return out


def reliability_bins(p: np.ndarray, y: np.ndarray, bins: int = CALIBRATION_BINS) -> list[tuple[float, float, int]]:
    """(mean probability, observed frequency, documents) of each non-empty equal-width bin."""
    index = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        members = index == b
        if members.any():
            out.append((float(p[members].mean()), float(y[members].mean()), int(members.sum())))
    return out


def _ece(p: np.ndarray, y: np.ndarray) -> float:
    if not len(p):
        return 0.0
    return sum(n * abs(mean_p - freq) for mean_p, freq, n in reliability_bins(p, y)) / len(p)
