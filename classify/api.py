"""The plain functions behind each command: they take values, return data, never print and never exit.

    from classify.api import train, predict, evaluate, info
    result = train("seeds/corpus.csv", out="models/my.joblib")
    for record in predict(["seeds/"], model="models/my.joblib"): ...
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from classify.errors import ConfigError, CorpusError
from classify.paths import bundled_corpus, default_model_path

CHUNK = 1000  # documents transformed at once by predict: bounds memory, amortises the vectorizer call


@dataclass
class TrainResult:
    path: Path
    provenance: dict
    seconds: float


def train(corpus=None, out=None, *, text_column="text", label_columns=None, multi_label=None, label_sep=";",
          fmt=None, config=None, progress=None) -> TrainResult:
    from classify.corpus import load_corpus
    from classify.model import ClassifyModel, ModelConfig
    from classify.persist import make_provenance, save_model

    progress = progress or (lambda message: None)
    corpus_path = Path(corpus) if corpus else bundled_corpus()
    out = Path(out) if out else default_model_path()
    config = config or ModelConfig()
    start = time.perf_counter()
    progress(f"reading {corpus_path}")
    data = load_corpus(corpus_path, text_column=text_column, label_columns=label_columns,
                       multi_label=multi_label, label_sep=label_sep, fmt=fmt)
    model = ClassifyModel(config).fit(data, progress=progress)
    seconds = time.perf_counter() - start
    provenance = make_provenance(model, data, seconds)
    progress(f"writing {out}")
    save_model(model, provenance, out)
    return TrainResult(out, provenance, seconds)


@dataclass
class Prediction:
    id: str
    labels: dict | None  # task -> label (single) or list of labels (multi); None when `error`
    scores: dict | None  # task -> {label: probability}, best first
    error: str | None = None

    def to_record(self, tasks: list[str]) -> dict:
        record = {"id": self.id}
        for task in tasks:
            record[task] = None if self.labels is None else self.labels[task]
        record["scores"] = self.scores
        if self.error:
            record["error"] = self.error
        return record


@dataclass
class LoadedModel:
    model: object
    provenance: dict
    path: Path

    @property
    def tasks(self) -> list[str]:
        return list(self.model.tasks_)


def load(model=None) -> LoadedModel:
    from classify.persist import load_model

    path = Path(model) if model else default_model_path()
    m, provenance = load_model(path)
    return LoadedModel(m, provenance, path)


def check_prediction_options(threshold: float | None, top_k: int | None) -> None:
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold must be between 0 and 1, got {threshold}.")
    if top_k is not None and top_k < 1:
        raise ConfigError(f"--top-k must be 1 or more, got {top_k}.")


def predict(documents: Iterable, loaded: LoadedModel, *, threshold=None, top_k=None) -> Iterator[Prediction]:
    """Classify `Document`s lazily, CHUNK at a time, yielding one Prediction per document in order."""
    check_prediction_options(threshold, top_k)
    model = loaded.model
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        good = [d for d in chunk if d.error is None]
        decided, scores = {}, {}
        if good:
            texts = [d.text for d in good]
            all_scores = model.predict_scores(texts)
            for name, P in all_scores.items():
                task = model.tasks_[name]
                decided[name] = task.decide(P, threshold)
                scores[name] = P
        position = {id(d): i for i, d in enumerate(good)}
        for doc in chunk:
            if doc.error is not None:
                yield Prediction(doc.id, None, None, doc.error)
                continue
            i = position[id(doc)]
            labels, doc_scores = {}, {}
            for name, task in model.tasks_.items():
                ranked = sorted(zip(task.labels, scores[name][i]), key=lambda pair: -pair[1])
                if top_k:
                    ranked = ranked[:top_k]
                doc_scores[name] = {label: round(float(p), 4) for label, p in ranked}
                value = decided[name][i]
                if task.multi and top_k:
                    keep = set(doc_scores[name])
                    value = [v for v in value if v in keep]
                labels[name] = value
            yield Prediction(doc.id, labels, doc_scores)


@dataclass
class EvaluationReport:
    n_documents: int
    tasks: dict
    notes: list = field(default_factory=list)

    def to_dict(self) -> dict:
        data = {"n_documents": self.n_documents, "tasks": self.tasks}
        if self.notes:
            data["notes"] = self.notes
        return data


def evaluate(corpus, loaded: LoadedModel, *, text_column="text", label_sep=";", fmt=None,
             threshold=None, progress=None) -> EvaluationReport:
    from classify.corpus import load_corpus
    from classify.metrics import multi_label_metrics, single_label_metrics

    progress = progress or (lambda message: None)
    model = loaded.model
    types = {name: task.multi for name, task in model.tasks_.items()}
    data = load_corpus(corpus, text_column=text_column, label_sep=label_sep, fmt=fmt, task_types=types)
    notes = [f"task {name!r} is not a column of {corpus}: not evaluated" for name in types if name not in data.tasks]
    progress(f"predicting {len(data)} documents")
    predicted = model.predict(data.texts, threshold=threshold)
    tasks = {}
    for name, task in data.tasks.items():
        known = set(model.tasks_[name].labels)
        rows = task.annotated()
        truth = [task.values[i] for i in rows]
        guess = [predicted[name][i] for i in rows]
        unseen = sorted(task.label_counts().keys() - known)
        if task.multi:
            metrics = multi_label_metrics(truth, guess, sorted(known))
        else:
            metrics = single_label_metrics(truth, guess, sorted(known))
        if unseen:
            metrics["unseen_labels"] = unseen
            notes.append(f"task {name!r}: labels the model never saw: {', '.join(unseen)} (counted as errors)")
        skipped = len(task.values) - len(rows)
        if skipped:
            metrics["skipped"] = skipped
        tasks[name] = metrics
    if not data.tasks:
        raise CorpusError(f"{corpus} shares no task with the model.")
    return EvaluationReport(len(data), tasks, notes)


def info(loaded: LoadedModel) -> dict:
    provenance = dict(loaded.provenance)
    provenance["path"] = str(loaded.path)
    return provenance
