"""The plain functions behind each command: they take values, return data, never print and never exit.

From the project folder (`tests/test_examples.py` runs this example):

>>> from classify.api import documents, evaluate, load, predict, train
>>> result = train("seeds/sample.csv", out="models/sample.joblib")
>>> result.provenance["corpus"]["n_documents"]
40
>>> texts = ["Merci, le conseiller a été parfait !", "Toujours pas de réseau, je résilie."]
>>> [p.labels["sentiment"] for p in predict(texts, model="models/sample.joblib")]
['positive', 'negative']
>>> [p.id for p in predict(documents(["seeds/"]), model="models/sample.joblib")][:1]
['seeds/000_e57f8be409785b17.txt']
>>> report = evaluate("seeds/sample.csv", load("models/sample.joblib"))
>>> report.n_documents, sorted(report.tasks)
(40, ['sentiment', 'topics'])
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from classify.batch import CHUNK, _chunks, probabilities  # noqa: F401  (CHUNK: the command line's too)
from classify.errors import ConfigError, CorpusError
from classify.options import check_folds, check_jobs, check_top_k
from classify.paths import corpus_paths, default_model_path


@dataclass
class TrainResult:
    path: Path
    provenance: dict
    seconds: float
    sha256: str = ""


def train(corpus=None, out=None, *, text_column="text", label_columns=None, multi_label=None, label_sep=";",
          fmt=None, config=None, progress=None, skip_bad_lines=False, tune=False, time_budget=300.0, dev=None,
          trials=27, streaming=False, epochs=1, jobs=0, options=None) -> TrainResult:
    """Train on a corpus (a file, several files with the same columns, or None for the bundled corpus) and
    save the model. `tune=True` searches the configuration first (see `classify.tune`), within
    `time_budget` seconds, scoring on the `dev` file when given. `jobs` processes (0: one per core) fit in
    parallel; with `streaming`, they compute the features of the next chunks. `options` (a `TableOptions`):
    the delimiter, encoding and sheet of the corpus (and `dev`), else detected."""
    from classify.config import ModelConfig
    from classify.corpus import load_corpora, load_corpus
    from classify.model import ClassifyModel
    from classify.persist import make_provenance, save_model

    progress = progress or (lambda message: None)
    paths = corpus_paths(corpus)
    out = Path(out) if out else default_model_path()
    config = config or ModelConfig()
    if dev is not None and not tune:
        raise ConfigError("--dev is only used by --tune; to score a model on a file, use `classify evaluate`.")
    if streaming:
        unsupported = [flag for flag, used in (("--tune", tune), ("--vectors", config.vectors),
                                               ("--nbsvm", config.nbsvm), ("--weight", config.weights)) if used]
        if unsupported:
            raise ConfigError(f"{', '.join(unsupported)} cannot be combined with --streaming.")
    elif epochs != 1:
        raise ConfigError("--epochs is only used by --streaming.")
    if epochs < 1:
        raise ConfigError(f"--epochs must be 1 or more, got {epochs}.")
    check_jobs(jobs)
    start = time.perf_counter()
    if streaming:
        from dataclasses import replace

        from classify.streaming import train_streaming

        if len(paths) > 1:
            raise ConfigError("--streaming reads one corpus file; join the files first, or train without it.")
        corpus_path = paths[0]

        model, data = train_streaming(corpus_path, replace(config, classifier="sgd", cv_folds=0, lexicon=False,
                                                                  ensemble=False),
                                      text_column=text_column, label_columns=label_columns,
                                      multi_label=multi_label, label_sep=label_sep, fmt=fmt,
                                      skip_bad_lines=skip_bad_lines, epochs=epochs, jobs=jobs,
                                      progress=progress, options=options)
        seconds = time.perf_counter() - start
        provenance = make_provenance(model, data, seconds)
        progress(f"writing {out}")
        _, digest = save_model(model, provenance, out)
        return TrainResult(out, provenance, seconds, digest)
    progress(f"reading {' + '.join(map(str, paths))}")
    data = load_corpora(paths, text_column=text_column, label_columns=label_columns,
                        multi_label=multi_label, label_sep=label_sep, fmt=fmt, skip_bad_lines=skip_bad_lines,
                        options=options)
    from classify.config import check_weights

    check_weights(config.weights, data)
    if tune:
        from classify.tune import tune as run_tune

        dev_data = None
        if dev is not None:
            progress(f"reading {dev}")
            try:
                dev_data = load_corpus(Path(dev), text_column=text_column, label_columns=list(data.tasks),
                                       multi_label=[t.name for t in data.tasks.values() if t.multi],
                                       label_sep=label_sep, fmt=fmt, skip_bad_lines=skip_bad_lines,
                                       options=options)
            except CorpusError as exc:
                if "has no column" not in str(exc):
                    raise
                columns = ", ".join([text_column, *data.tasks])
                raise CorpusError(f"the --dev file {dev} must have the training file's columns ({columns}); "
                                  f"{str(exc).split(' (columns')[0].split(' has ')[-1]}.") from None
        model, _ = run_tune(data, config, dev=dev_data, budget=time_budget, trials=trials, seed=config.seed,
                            progress=progress, n_jobs=jobs or None)
    else:
        model = ClassifyModel(config, n_jobs=jobs or None).fit(data, progress=progress)
    seconds = time.perf_counter() - start
    provenance = make_provenance(model, data, seconds)
    progress(f"writing {out}")
    _, digest = save_model(model, provenance, out)
    return TrainResult(out, provenance, seconds, digest)


@dataclass
class Prediction:
    id: str
    labels: dict | None  # task -> label (single) or list of labels (multi); None when `error`
    scores: dict | None  # task -> {label: probability}, best first
    error: str | None = None
    explanation: dict | None = None  # task -> {label: [[ngram, contribution], ...]} with --explain
    empty: bool = False  # an empty document: a record marked empty, not a failure
    record: bool = True  # False: an input that gave no document (missing path, unreadable table)
    lang: str | None = None  # "fr", another language's code, or None (too short to tell; not classified)

    def to_record(self, tasks: list[str]) -> dict:
        record = {"id": self.id}
        for task in tasks:
            record[task] = None if self.labels is None else self.labels[task]
        record["scores"] = self.scores
        record["lang"] = self.lang
        if self.explanation is not None:
            record["explanation"] = self.explanation
        if self.empty:
            record["empty"] = True
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

    @property
    def fingerprint(self) -> str:
        """Who wrote a predictions file: a digest of the model's provenance (training time, corpus digest,
        configuration, labels, scores), the same for a `.joblib` model and its `.skops` export, and computed
        without reading the model file again."""
        import hashlib
        import json

        text = json.dumps(self.provenance, sort_keys=True, default=str, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load(model=None, trust: bool = False) -> LoadedModel:
    """Load a model; `.joblib` files must match their SHA-256 record unless `trust`."""
    from classify import core
    from classify.persist import load_model

    path = Path(model) if model else default_model_path()
    m, provenance = load_model(path, trust=trust)
    # here, before any worker is forked: a missing compiled core is noted once per command, not per worker
    core.check(getattr(m, "features_", None))
    return LoadedModel(m, provenance, path)


def check_prediction_options(threshold: float | None, top_k: int | None) -> None:
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--threshold must be between 0 and 1, got {threshold}.")
    check_top_k(top_k)


def documents(inputs, **options) -> Iterator:
    """The `Document`s of files, folders, tables or `-` (stdin), as `classify predict` reads them; `options`:
    text_column, id_column, fmt, skip_bad_lines, options (a `TableOptions`), encoding."""
    from classify.inputs import iter_documents

    return iter_documents(inputs, **options)


def predict(documents: Iterable, loaded: LoadedModel | str | Path | None = None, *, model=None, trust=False,
            threshold=None, top_k=None, explain: int | None = None, raw: bool = False, jobs: int = 1,
            client=None, adapted: Adapted | None = None) -> Iterator[Prediction]:
    """Classify texts lazily, CHUNK at a time, yielding one Prediction per document in order.

    `documents`: plain strings (the texts themselves; their ids are their positions from 1) or `Document`s
    (`documents(["seeds/"])` reads files, folders and tables). The model: `loaded` (a `LoadedModel` from
    `load`, or a path), or `model=` a path; neither: the default model. `explain=N` adds, per document and
    predicted label, the N features that contributed most (readable names unless `raw`). `jobs=N`
    spreads the chunks over N worker processes (0: one per core); the order of the output is kept and at
    most 2 chunks per worker are in flight, so memory stays bounded whatever the input size. `client` (a
    `distributed.Client`, see `classify.cluster`) does the same on a Dask cluster. `adapted` (from `adapt`)
    gives the batch's probabilities adjusted to its own label shares: `documents` must be its documents."""
    if loaded is not None and model is not None:
        raise ConfigError("give the model once: as `loaded` or as `model=`, not both.")
    if not isinstance(loaded, LoadedModel):
        loaded = load(loaded if loaded is not None else model, trust=trust)
    check_prediction_options(threshold, top_k)
    if explain is not None and explain < 1:
        raise ConfigError(f"--explain must be 1 or more, got {explain}.")
    check_jobs(jobs)
    if isinstance(documents, str):
        raise ConfigError("predict takes a list of texts (or Documents), not one string: predict([text]).")
    return _predict(_as_documents(documents), loaded, threshold, top_k, explain, raw, jobs, client, adapted)


def _as_documents(items: Iterable) -> Iterator:
    from classify.inputs import Document

    for number, item in enumerate(items, 1):
        if isinstance(item, str):
            yield Document(str(number), item) if item.strip() else Document(str(number), None, "empty text",
                                                                            empty=True)
        elif isinstance(item, Document):
            yield item
        else:
            raise ConfigError(f"predict takes texts (str) or Documents; item {number} is a "
                              f"{type(item).__name__}.")


def _predict(documents, loaded, threshold, top_k, explain, raw, jobs, client, adapted, render=None
             ) -> Iterator[Prediction]:
    """`predict`'s work, its arguments checked; `render`: see `_predict_chunk`."""
    from classify.parallel import ordered_map, workers

    jobs = workers(jobs)
    explainer = None
    if explain:
        from classify.explain import DocumentExplainer

        explainer = DocumentExplainer(loaded.model, top=explain, raw=raw)
    task = (loaded.model, threshold, top_k, explainer, render)
    if adapted is not None:
        # the probabilities are computed: what is left (decisions, records, explanations) is done here
        start = 0
        for chunk in _chunks(documents):
            rows = [start + i for i, d in enumerate(chunk) if d.error is None]
            start += len(chunk)
            yield from _predict_chunk(chunk, *task, precomputed={name: P[rows] for name, P in adapted.scores.items()})
        return
    # at most two chunks per worker in flight: memory stays bounded whatever the input size; threads rather
    # than processes where the compiled core computes everything without the GIL
    from classify.core import in_threads

    threads = jobs > 1 and client is None and in_threads(loaded.model)
    for predictions in ordered_map(_chunk_task, _chunks(documents), task, jobs=jobs, client=client,
                                   window=None if client else 2 * jobs, threads=threads):
        yield from predictions


def round_scores(P, digits: int = 4):
    """`round(p, digits)` of each probability in the array `P`, as Python's `round` gives it (so the same
    JSON), at numpy's speed: `rint(p * 10**digits) / 10**digits` is Python's result unless `p * 10**digits`
    lands so near a half that the product's rounding error could choose the other side; those few values, and
    any that is not finite, are rounded by Python's `round` itself."""
    import numpy as np

    P = np.asarray(P, dtype=float)
    scale = 10.0 ** digits
    scaled = P * scale
    out = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):
        unsure = ~np.isfinite(scaled) | (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    for index in zip(*np.nonzero(unsure)):
        out[index] = round(float(P[index]), digits)
    return out


def _chunk_task(chunk: list, task: tuple) -> list:
    return _predict_chunk(chunk, *task)


class RenderedPrediction:
    """A classified document whose JSONL or CSV record the compiled writer wrote already (`classify predict
    --format jsonl|csv`): the line, and what the command counts."""

    __slots__ = ("id", "lang", "line")
    error = None
    empty = False
    record = True

    def __init__(self, id: str, lang: str | None, line: str):
        self.id, self.lang, self.line = id, lang, line


def _predict_chunk(chunk: list, model, threshold, top_k, explainer, render=None, precomputed: dict | None = None
                   ) -> list:
    """The chunk's predictions; `precomputed` (task -> probabilities of the chunk's readable documents, in
    order) replaces the model's own, as `--adapt` does. With `render` (`PredictionWriter.compiled_records`),
    a classified document comes as a `RenderedPrediction`, its line written by the compiled writer (the
    line `PredictionWriter` would write of its Prediction), or as a Prediction where that writer leaves it."""
    from classify.lang import languages

    out = []
    good = [d for d in chunk if d.error is None]
    results = []
    lines = None
    explanations = [None] * len(good)
    if good:
        import numpy as np

        texts = [d.text for d in good]
        langs = languages(texts)
        X = model.transform(texts) if explainer else None
        if precomputed is not None:
            scores = precomputed
        elif X is not None:
            scores = {name: task.scores(X) for name, task in model.tasks_.items()}
        else:  # a small chunk needs no scipy: one text on the command line starts faster
            scores = model.predict_scores(texts, jobs=1)  # `--jobs` workers are the parallel part
        values, orders, rounded = {}, {}, {}
        for name, task in model.tasks_.items():
            orders[name] = np.argsort(-scores[name], axis=1, kind="stable")[:, :top_k or None]  # ties: label order
            rounded[name] = round_scores(np.take_along_axis(scores[name], orders[name], axis=1))
            values[name] = task.decide(scores[name], threshold)
            if task.multi and top_k:  # the labels kept in the scores
                names = np.asarray(task.labels, dtype=object)
                values[name] = [[v for v in value if v in kept]
                                for value, kept in zip(values[name], map(set, names[orders[name]].tolist()))]
        if render is not None and explainer is None:
            lines = _render_lines(render, good, langs, values, orders, rounded)
        if lines is None or None in lines:
            ranked = {name: (np.asarray(task.labels, dtype=object)[orders[name]].tolist(), rounded[name].tolist())
                      for name, task in model.tasks_.items()}  # task -> (labels best first, their scores)
            for i in range(len(good)):
                labels, doc_scores = {}, {}
                for name in model.tasks_:
                    doc_scores[name] = dict(zip(ranked[name][0][i], ranked[name][1][i]))
                    labels[name] = values[name][i]
                results.append((labels, doc_scores))
        if explainer:
            predicted = {name: [r[0][name] for r in results] for name in model.tasks_}
            explanations = explainer.explain(X, predicted, texts=[d.text for d in good])
    position = {id(d): i for i, d in enumerate(good)}
    for doc in chunk:
        if doc.error is not None:
            out.append(Prediction(doc.id, None, None, doc.error, empty=doc.empty, record=doc.record))
            continue
        i = position[id(doc)]
        if lines is not None and lines[i] is not None:
            out.append(RenderedPrediction(doc.id, langs[i], lines[i]))
            continue
        labels, doc_scores = results[i]
        out.append(Prediction(doc.id, labels, doc_scores, explanation=explanations[i], lang=langs[i]))
    return out


def _render_lines(render, documents: list, langs: list, values: dict, orders: dict, rounded: dict) -> list | None:
    """The compiled writer's JSONL or CSV line of each document (None where it leaves one to Python), or
    None without the compiled writer."""
    import json

    from classify.core import records

    compiled = records()
    if compiled is None:
        return None
    ids = [d.id for d in documents]
    if render[0] == "csv":
        from classify.render import csv_field

        _, sep, tasks = render
        return compiled.csv_records(ids, langs, [(values[name], labels, cells, orders[name], rounded[name])
                                                 for name, labels, cells in tasks], sep, csv_field)
    _, suffix, tasks = render
    return compiled.records(ids, langs, [(key, values[name], labels, encoded, orders[name], rounded[name])
                                         for name, key, labels, encoded in tasks], suffix,
                            json.encoder.encode_basestring)


@dataclass
class Adapted:
    """A batch whose probabilities were re-estimated for its own label shares (`adapt`)."""

    documents: list
    scores: dict  # task -> adjusted probabilities, one row per document (NaN: could not be read)
    # task -> {"labels", "training", "estimated", "iterations", "multi", and per label of a multi-label task
    # (one value for a single-label task) "p_values" and "adjusted" (`quantify.adapt_batch`)}
    shares: dict
    n_documents: int  # readable documents
    sources: dict | None = None  # the batch's estimated mix of the training sources (a model of several)


def adapt(documents: Iterable, loaded: LoadedModel, *, jobs: int = 1, client=None,
          min_documents: int | None = None) -> Adapted:
    """`predict --adapt`: the batch's label shares re-estimated by EM (Saerens, Latinne and Decaestecker
    2002) from the model's calibrated probabilities, per single-label task and per label of multi-label
    tasks, and every document's probabilities adjusted to them where their likelihood-ratio test finds that
    the shares differ from the training ones (`quantify.adapt_batch`). Holds the batch in memory (EM needs
    every document's probabilities before the first can be adjusted). Raises QuantifyError below
    `min_documents` readable documents."""
    import numpy as np

    from classify import quantify

    minimum = quantify.MIN_DOCUMENTS if min_documents is None else min_documents
    documents = list(documents)
    raw = probabilities(documents, loaded, jobs=jobs, client=client)
    readable = sum(d.error is None for d in documents)
    if readable < minimum:
        raise quantify.QuantifyError(
            f"--adapt needs at least {minimum} readable documents to re-estimate the label shares, got "
            f"{readable}: {quantify.MINIMUM_REASON}. Predict without --adapt, or give a larger batch."
        )
    good = np.array([d.error is None for d in documents], dtype=bool)
    scores, shares = {}, {}
    mix = quantify.composition(getattr(loaded.model, "sources_", None),
                               raw[quantify.SOURCES_KEY][good] if quantify.SOURCES_KEY in raw else None)
    S = raw[quantify.SOURCES_KEY][good] if mix is not None else None
    for name, task in loaded.model.tasks_.items():
        P = raw[name]
        adjusted = np.full_like(P, np.nan)
        priors = quantify.batch_priors(task, loaded.provenance, mix)
        if task.multi:
            estimated, iterations, p_values, changed = [], 0, [], []
            for j in range(len(task.labels)):
                result = quantify.adapt_batch(quantify.binary_probabilities(P[good, j]), priors[j])
                adjusted[good, j] = result["P"][:, 1]
                estimated.append(float(result["shares"][1]))
                iterations = max(iterations, result["iterations"])
                p_values.append(result["p_value"])
                changed.append(result["adjusted"])
            training = [float(p[1]) for p in priors]
        else:
            # the test runs on the probabilities recalibrated per source when the model has them (as the EM
            # of `classify shares`): the likelihood it compares needs them calibrated for the batch's kind
            test = quantify.source_calibrated(P[good], getattr(task, "rates", None), S,
                                              None if S is None else loaded.model.sources_["names"], mix)
            result = quantify.adapt_batch(P[good], priors, test)
            adjusted[good] = result["P"]
            estimated, training = result["shares"].tolist(), [float(p) for p in priors]
            iterations, p_values, changed = result["iterations"], [result["p_value"]], [result["adjusted"]]
        scores[name] = adjusted
        shares[name] = {"labels": list(task.labels), "multi": task.multi, "training": training,
                        "estimated": estimated, "iterations": iterations, "p_values": p_values,
                        "adjusted": changed}
    return Adapted(documents, scores, shares, readable, mix)


def shares(inputs, loaded: LoadedModel, *, by=None, date_column=None, every=None, text_column="text", fmt=None,
           skip_bad_lines=False, jobs=1, client=None, min_documents=None, resamples=None, confidence=None,
           seed=0, progress=None) -> dict:
    """`classify shares`: the label shares of the inputs (as `predict` takes them, or a predictions JSONL
    stamped by this model) per task, by CC, ACC, EM (and PCC, PACC), with bootstrap intervals, per --by value
    or per period of a date column. See `classify.shares.estimate_shares` for the data returned."""
    from classify import quantify
    from classify.shares import estimate_shares, read_batch

    progress = progress or (lambda message: None)
    progress("computing the probabilities")
    P, ids, values = read_batch(inputs, loaded, by=by, date_column=date_column, text_column=text_column,
                                fmt=fmt, skip_bad_lines=skip_bad_lines, jobs=jobs, client=client)
    progress(f"estimating the shares of {len(ids)} documents")
    return estimate_shares(
        P, ids, values, loaded, by=by, date_column=date_column, every=every,
        min_documents=quantify.MIN_DOCUMENTS if min_documents is None else min_documents,
        resamples=quantify.RESAMPLES if resamples is None else resamples,
        confidence=quantify.CONFIDENCE if confidence is None else confidence, seed=seed, progress=progress)


@dataclass
class EvaluationReport:
    n_documents: int
    tasks: dict
    notes: list = field(default_factory=list)
    details: dict = field(default_factory=dict, repr=False)  # per task: ids, texts, truth, predicted, scores

    def to_dict(self) -> dict:
        data = {"n_documents": self.n_documents, "tasks": self.tasks}
        if self.notes:
            data["notes"] = self.notes
        return data


def evaluate(corpus, loaded: LoadedModel, *, text_column="text", label_sep=";", fmt=None, threshold=None,
             progress=None, skip_bad_lines=False, tasks=None, options=None) -> EvaluationReport:
    """Score `loaded` on a labelled file (or an already loaded `Corpus`). `tasks`: {task: column} scores
    only these tasks, each against its column (`--task sentiment=label`); default: every task of the model
    that the file has a column for. `options` (a `TableOptions`): delimiter, encoding, sheet."""
    progress = progress or (lambda message: None)
    data = _labelled(corpus, loaded, text_column=text_column, label_sep=label_sep, fmt=fmt, tasks=tasks,
                     options=options, skip_bad_lines=skip_bad_lines, progress=progress)
    return _score(data, loaded, threshold=threshold, progress=progress, chosen=bool(tasks))


def _labelled(corpus, loaded: LoadedModel, *, text_column, label_sep, fmt, tasks, options, skip_bad_lines,
              progress):
    from classify.corpus import Corpus, load_corpus

    if isinstance(corpus, Corpus):
        return corpus
    types = {name: task.multi for name, task in loaded.model.tasks_.items()}
    progress(f"reading {corpus}")
    return load_corpus(corpus, text_column=text_column, label_sep=label_sep, fmt=fmt, task_types=types,
                       task_columns=tasks, skip_bad_lines=skip_bad_lines, options=options,
                       task_labels={name: task.labels for name, task in loaded.model.tasks_.items()})


def _score(data, loaded: LoadedModel, *, threshold=None, progress=None, name="",
           chosen=False) -> EvaluationReport:
    """`chosen`: the tasks were chosen (`--task`): the others are not said to be missing."""
    import numpy as np

    from classify.crossval import task_metrics
    from classify.metrics import calibration_metrics

    progress = progress or (lambda message: None)
    model = loaded.model
    tasks_of = [name for name in data.tasks if name in model.tasks_]
    if not tasks_of:
        raise CorpusError(f"{data.path} shares no task with the model.")
    notes = [] if chosen else [f"task {name!r} is not a column of {data.path}: not evaluated"
                               for name in model.tasks_ if name not in data.tasks]
    progress(f"predicting {len(data)} documents{name}")
    scores = {}
    for start in range(0, len(data), CHUNK):
        for task_name, P in model.predict_scores(data.texts[start:start + CHUNK]).items():
            scores.setdefault(task_name, []).append(P)
    tasks, details = {}, {}
    for task_name in tasks_of:
        task = data.tasks[task_name]
        fitted = model.tasks_[task_name]
        P = np.vstack(scores[task_name])
        predicted = fitted.decide(P, threshold)
        metrics = task_metrics(task, predicted, fitted.labels)
        rows = task.annotated()
        metrics["calibration"] = calibration_metrics(P[rows], [task.values[i] for i in rows], fitted.labels,
                                                     fitted.multi)
        unseen = sorted(task.label_counts().keys() - set(fitted.labels))
        if unseen:
            metrics["unseen_labels"] = unseen
            notes.append(f"task {task_name!r}: labels the model never saw: {', '.join(unseen)} "
                         f"(counted as errors)")
        rows = task.annotated()
        skipped = len(task.values) - len(rows)
        if skipped:
            metrics["skipped"] = skipped
        if not fitted.multi:  # what a constant answer scores: the floor a model has to beat on this file
            counts = task.label_counts()
            majority = max(sorted(counts), key=counts.__getitem__)
            constant = task_metrics(task, [majority if v is not None else None for v in task.values], fitted.labels)
            metrics["majority_baseline"] = {"label": majority, "accuracy": constant["accuracy"],
                                            "macro_f1": constant["macro_f1"]}
        tasks[task_name] = metrics
        thresholds = None
        if fitted.multi:
            thresholds = [threshold] * len(fitted.labels) if threshold is not None else fitted.thresholds.tolist()
        details[task_name] = {
            "ids": [data.ids[i] for i in rows], "texts": [data.texts[i] for i in rows],
            "truth": [task.values[i] for i in rows], "predicted": [predicted[i] for i in rows],
            "scores": P[rows], "labels": fitted.labels, "multi": fitted.multi, "thresholds": thresholds,
        }
    return EvaluationReport(len(data), tasks, notes, details)


def cross_validate(corpus, *, folds=5, seed=0, text_column="text", label_columns=None, multi_label=None,
                   label_sep=";", fmt=None, config=None, progress=None, skip_bad_lines=False, client=None,
                   tasks=None, options=None) -> dict:
    """`corpus`: a file, several files with the same columns, or None for the bundled corpus. `tasks`:
    {task: column}, tasks read from columns of other names (`--task sentiment=label`), beside
    `label_columns`; neither: every column but the text and the id is a task."""
    from classify.config import ModelConfig
    from classify.corpus import load_corpora
    from classify.crossval import cross_validate as run

    check_folds(folds)
    progress = progress or (lambda message: None)
    paths = corpus_paths(corpus)
    progress(f"reading {' + '.join(map(str, paths))}")
    data = load_corpora(paths, text_column=text_column, label_columns=label_columns,
                        multi_label=multi_label, label_sep=label_sep, fmt=fmt, skip_bad_lines=skip_bad_lines,
                        task_columns=tasks, options=options)
    from classify.config import check_weights

    config = config or ModelConfig()
    check_weights(config.weights, data)
    result = run(data, config, folds=folds, seed=seed, progress=progress, client=client)
    result["corpus"] = data.path
    return result


def compare(model_a: LoadedModel, model_b: LoadedModel, corpus, *, text_column="text", label_sep=";", fmt=None,
            progress=None, tasks=None, options=None, skip_bad_lines=False) -> dict:
    """Both models' metrics on one corpus, the per-label differences (B minus A) and the documents whose
    prediction changed, with which model was right. `tasks` and `options` as in `evaluate`; the corpus is
    read once, with the tasks of both models."""
    from classify.corpus import load_corpus

    progress = progress or (lambda message: None)
    chosen = bool(tasks)
    types = {name: task.multi for name, task in model_b.model.tasks_.items()}
    for name, task in model_a.model.tasks_.items():
        if types.setdefault(name, task.multi) != task.multi:
            raise CorpusError(f"task {name!r} is multi-label in one model and single-label in the other: "
                              f"they cannot be scored on the same labels.")
    progress(f"reading {corpus}")
    data = load_corpus(corpus, text_column=text_column, label_sep=label_sep, fmt=fmt, task_types=types,
                       task_columns=tasks, skip_bad_lines=skip_bad_lines, options=options)
    a = _score(data, model_a, progress=progress, name=f" with model A ({model_a.path})", chosen=chosen) \
        if set(data.tasks) & set(model_a.model.tasks_) else None
    b = _score(data, model_b, progress=progress, name=f" with model B ({model_b.path})", chosen=chosen) \
        if set(data.tasks) & set(model_b.model.tasks_) else None
    common = [name for name in (a.tasks if a else {}) if b and name in b.tasks]
    if not common:
        raise CorpusError(f"the two models share no task that {corpus} annotates.")
    tasks = {}
    for name in common:
        ma, mb, da, db = a.tasks[name], b.tasks[name], a.details[name], b.details[name]
        headline = {key: {"a": ma[key], "b": mb[key], "diff": round(mb[key] - ma[key], 4)}
                    for key in ("accuracy", "macro_f1", "micro_f1", "weighted_f1")}
        per_label = {}
        for label in sorted(set(ma["per_label"]) | set(mb["per_label"])):
            fa = ma["per_label"].get(label, {}).get("f1", 0.0)
            fb = mb["per_label"].get(label, {}).get("f1", 0.0)
            support = max(ma["per_label"].get(label, {}).get("support", 0), mb["per_label"].get(label, {}).get("support", 0))
            per_label[label] = {"f1_a": fa, "f1_b": fb, "diff": round(fb - fa, 4), "support": support}
        changed = []
        for doc_id, truth, pa, pb in zip(da["ids"], da["truth"], da["predicted"], db["predicted"]):
            if pa != pb:
                key = (lambda v: sorted(v)) if isinstance(truth, list) else (lambda v: v)
                right = "a" if key(pa) == key(truth) else "b" if key(pb) == key(truth) else "neither"
                changed.append({"id": doc_id, "truth": truth, "a": pa, "b": pb, "right": right})
        counts = {k: sum(c["right"] == k for c in changed) for k in ("a", "b", "neither")}
        tasks[name] = {"type": ma["type"], "n": ma["n"], "metrics": headline, "per_label": per_label,
                       "changed": {"n": len(changed), "only_a_right": counts["a"], "only_b_right": counts["b"],
                                   "neither_right": counts["neither"], "documents": changed}}
    notes = [f"task {name!r} is evaluated by only one of the models" for name in set(a.tasks) ^ set(b.tasks)]
    if not chosen:
        notes += [f"task {name!r} is not a column of {corpus}: not evaluated" for name in types
                  if name not in data.tasks]
    notes += [note for note in a.notes if "not a column" not in note]
    return {"model_a": str(model_a.path), "model_b": str(model_b.path), "corpus": str(corpus),
            "n_documents": a.n_documents, "tasks": tasks, "notes": notes}


def explain(loaded: LoadedModel, *, task=None, label=None, top=15, raw=False) -> dict:
    """The features that push most towards and against each label; readable names unless `raw`."""
    from classify.explain import top_features

    return top_features(loaded.model, task=task, label=label, top=top, raw=raw)


def export(model, out, *, trust: bool = False) -> Path:
    from classify.persist import export_skops

    return export_skops(Path(model) if model else default_model_path(), out, trust=trust)


def info(loaded: LoadedModel) -> dict:
    provenance = dict(loaded.provenance)
    provenance["path"] = str(loaded.path)
    return provenance
