"""Batches of documents to classify, a chunk at a time: the chunks, and the calibrated probabilities of a
batch (`predict --adapt` and `classify shares` start from them), spread over workers as `predict` is."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from classify.options import check_jobs

CHUNK = 1000  # documents transformed at once by predict: bounds memory, amortises the vectorizer call


def _chunks(documents: Iterable) -> Iterator[list]:
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk


def _scores_chunk(chunk: list, model) -> list[dict]:
    """The calibrated probabilities of a chunk, one row per document (NaN for one that could not be read),
    as a one-item list (the form the chunk mappers yield from)."""
    import numpy as np

    from classify import quantify

    good = [i for i, d in enumerate(chunk) if d.error is None]
    out = {name: np.full((len(chunk), len(task.labels)), np.nan) for name, task in model.tasks_.items()}
    sources = getattr(model, "sources_", None)  # None in a model of one source, or one trained before
    if sources is not None:
        out[quantify.SOURCES_KEY] = np.full((len(chunk), len(sources["names"])), np.nan)
    if good:
        # as predict computes them (the compiled kernel when there is one), the source classifier's layer
        # scored with the tasks': computing the features again would double the time
        scored = model.predict_scores([chunk[i].text for i in good], jobs=1, sources=sources is not None)
        for name, values in scored.items():
            out[name][good] = values
    return [out]


def probabilities(documents: Iterable, loaded, *, jobs: int = 1, client=None) -> dict:
    """task -> the calibrated probabilities of every document, (n_documents, n_labels) in the model's label
    order; a document that could not be read has a row of NaN. The same chunks and workers as `predict`.
    A model trained on several sources adds `quantify.SOURCES_KEY`: each document's source probabilities."""
    import numpy as np

    from classify import quantify
    from classify.core import in_threads
    from classify.parallel import ordered_map, workers

    check_jobs(jobs)
    jobs = workers(jobs)
    threads = jobs > 1 and client is None and in_threads(loaded.model)
    parts = [part for result in ordered_map(_scores_chunk, _chunks(documents), loaded.model, jobs=jobs,
                                            client=client, window=None if client else 2 * jobs, threads=threads)
             for part in result]
    out = {name: (np.vstack([p[name] for p in parts]) if parts else np.zeros((0, len(task.labels))))
           for name, task in loaded.model.tasks_.items()}
    if parts and quantify.SOURCES_KEY in parts[0]:
        out[quantify.SOURCES_KEY] = np.vstack([p[quantify.SOURCES_KEY] for p in parts])
    return out
