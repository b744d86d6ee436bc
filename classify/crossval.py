"""K-fold cross-validation of the whole pipeline (features included), stratified on every task's labels.

Multi-label corpora use iterative stratification (Sechidis, Tsoumakas & Vlahavas, ECML-PKDD 2011): the
rarest labels are dealt to folds first, each document going to the fold that most lacks its labels, so
every label lands in every fold whenever it has at least as many examples as there are folds.
"""

from __future__ import annotations

import numpy as np

from classify.errors import CorpusError
from classify.options import check_folds
from classify.training import iterative_stratification

SCALARS = ("accuracy", "macro_f1", "micro_f1", "weighted_f1")


def label_matrix(corpus) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """One binary column per (task, label): the strata that every fold should contain."""
    columns, names = [], []
    for task in corpus.tasks.values():
        for label in task.labels:
            if task.multi:
                columns.append([label in labels for labels in task.values])
            else:
                columns.append([value == label for value in task.values])
            names.append((task.name, label))
    Y = np.array(columns, dtype=bool).T if columns else np.zeros((len(corpus), 0), dtype=bool)
    return Y, names


def make_folds(corpus, k: int, seed: int = 0) -> np.ndarray:
    """Fold number of each document; a clear error when a label is too rare for `k` folds."""
    check_folds(k)
    if len(corpus) < k:
        raise CorpusError(f"{len(corpus)} documents cannot be split into {k} folds.")
    Y, names = label_matrix(corpus)
    support = Y.sum(axis=0)
    for (task, label), count in zip(names, support):
        if count < k:
            raise CorpusError(
                f"task {task!r}: label {label!r} has {count} example{'s' if count != 1 else ''}, fewer than the "
                f"{k} folds; add examples, drop the label, or use --folds {max(int(count), 2)}."
            )
    single = [t for t in corpus.tasks.values() if not t.multi]
    if len(corpus.tasks) == 1 and single and all(v is not None for v in single[0].values):
        from sklearn.model_selection import StratifiedKFold

        fold = np.zeros(len(corpus), dtype=int)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        for f, (_, test) in enumerate(splitter.split(np.zeros(len(corpus)), single[0].values)):
            fold[test] = f
        return fold
    return iterative_stratification(Y, k, seed)


def subset(corpus, rows):
    """The documents at `rows`, as a new Corpus with the same tasks."""
    from classify.corpus import Corpus, Task

    rows = list(rows)
    tasks = {name: Task(name, t.multi, [t.values[i] for i in rows]) for name, t in corpus.tasks.items()}
    return Corpus(corpus.path, corpus.sha256, [corpus.ids[i] for i in rows], [corpus.texts[i] for i in rows],
                  tasks, corpus.text_column)


def task_metrics(task, predicted: list, known_labels: list[str]) -> dict:
    """Metrics of one task on its annotated documents (`predicted` aligned with `task.values`)."""
    from classify.metrics import multi_label_metrics, single_label_metrics

    rows = task.annotated()
    truth = [task.values[i] for i in rows]
    guess = [predicted[i] for i in rows]
    if task.multi:
        return multi_label_metrics(truth, guess, sorted(known_labels))
    return single_label_metrics(truth, guess, sorted(known_labels))


def summarise(per_fold: list[dict]) -> dict:
    """Mean and standard deviation over folds of every metric `evaluate` reports."""
    first = per_fold[0]
    out = {"type": first["type"], "folds": len(per_fold), "n": int(sum(m["n"] for m in per_fold))}
    for key in SCALARS:
        values = np.array([m[key] for m in per_fold], dtype=float)
        out[key] = {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}
    labels = sorted({label for m in per_fold for label in m["per_label"]})
    out["per_label"] = {}
    for label in labels:
        entry = {}
        for key in ("precision", "recall", "f1"):
            values = np.array([m["per_label"].get(label, {}).get(key, 0.0) for m in per_fold], dtype=float)
            entry[key] = {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}
        entry["support"] = int(sum(m["per_label"].get(label, {}).get("support", 0) for m in per_fold))
        out["per_label"][label] = entry
    return out


def _run_fold(f: int, shared: tuple) -> dict:
    """Train on every fold but `f`, score fold `f`: {task: metrics}. Runs where it is sent (Dask)."""
    from classify.model import ClassifyModel

    corpus, fold, inner, n_jobs = shared
    train, test = subset(corpus, np.flatnonzero(fold != f)), subset(corpus, np.flatnonzero(fold == f))
    model = ClassifyModel(inner, n_jobs=n_jobs).fit(train)
    predicted = model.predict(test.texts)
    return {name: task_metrics(task, predicted[name], model.tasks_[name].labels) for name, task in test.tasks.items()}


def cross_validate(corpus, config, folds: int = 5, seed: int = 0, progress=None, client=None) -> dict:
    """Train on k-1 folds and score on the held-out one, k times; returns
    `{"n_documents", "folds", "seed", "tasks": {task: summary}, "per_fold": {task: [metrics, ...]}}`.
    With a Dask `client`, the folds run on the cluster's workers (same figures)."""
    from dataclasses import replace

    progress = progress or (lambda message: None)
    fold = make_folds(corpus, folds, seed)
    # inner cross-validation only calibrates; no need to store its scores
    inner = replace(config, cv_folds=0, seed=seed)
    per_fold: dict[str, list] = {name: [] for name in corpus.tasks}
    if client is not None:
        from classify.parallel import ordered_map

        progress(f"{folds} folds sent to the Dask cluster")
        # one process per fold on the workers: no nested process pools
        results = ordered_map(_run_fold, range(folds), (corpus, fold, inner, 1), client=client, window=folds)
    else:
        results = (_run_fold(f, (corpus, fold, inner, None)) for f in range(folds))
    for f, metrics in enumerate(results):
        progress(f"fold {f + 1}/{folds}: trained on {int((fold != f).sum())} documents, tested on {int((fold == f).sum())}")
        for name, m in metrics.items():
            per_fold[name].append(m)
    return {
        "n_documents": len(corpus),
        "folds": folds,
        "seed": seed,
        "tasks": {name: summarise(metrics) for name, metrics in per_fold.items()},
        "per_fold": {name: [{k: m[k] for k in SCALARS} for m in metrics] for name, metrics in per_fold.items()},
    }
