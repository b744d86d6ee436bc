"""The classify model: shared French TF-IDF features and one linear classifier per task.

`ClassifyModel` is what a model file holds and what the command line trains and saves: the features,
fitted once on every document, and one `classify.scoring.TaskModel` per label column, each fitted by a
`classify.TextClassifier` (the scikit-learn estimator for one task) on those shared features. Every object
stored in a saved model is a module-level class of this package, referenced by its import path (renaming one
breaks saved models: `classify.persist` maps the names older files use), and none is scikit-learn's:
loading a model and predicting never import it. How it is trained is `classify.training`.
"""

from __future__ import annotations

import numpy as np

from classify.config import ModelConfig
from classify.errors import CorpusError, ModelNotFitted
from classify.scoring import TaskModel


THREAD_PART = 250  # the fewest texts a prediction thread takes: a smaller part pays more than it saves


class ClassifyModel:
    """Shared features + one linear classifier per task. Fit with a `Corpus`, predict with texts."""

    def __init__(self, config: ModelConfig | None = None, n_jobs: int | None = None):
        self.config = config or ModelConfig()
        self.n_jobs = n_jobs

    # -- training -----------------------------------------------------------------------------------
    def fit(self, corpus, progress=None) -> ClassifyModel:
        """Fit features on every text, then each task on its annotated documents, as a `TextClassifier`
        on those features (see `fit_task`). Returns self; `cv_metrics_` holds each task's cross-validated
        metrics (unless `config.cv_folds` is 0)."""
        from classify import quantify
        from classify.config import sample_weights
        from classify.estimator import TextClassifier
        from classify.parallel import workers
        from classify.training import fit_shared_features

        progress = progress or (lambda message: None)
        self.n_jobs_ = workers(self.n_jobs, most=8)
        for task in corpus.tasks.values():  # the cheap checks first: fail before any real work
            labels = task.labels
            if not task.multi and len(labels) < 2:
                raise CorpusError(
                    f"task {task.name!r} has a single label ({labels[0]!r}) in the corpus: a classifier needs at "
                    f"least two. Add examples of other labels, or choose the tasks with --label-column."
                )
        progress(f"extracting features from {len(corpus)} documents")
        # the fitted state in classify's own types: predicting never imports scikit-learn
        normalizer, features, X, dense_tail = fit_shared_features(self.config, corpus.texts, self.n_jobs_)
        # a corpus of several sources gets rates per source and a classifier of the source (`classify shares`)
        sources = quantify.sources_of(corpus.ids)
        source_model, guessed, like = (None, None, None) if sources is None else \
            quantify.fit_source_classifier(X, sources, self.config.seed)
        tasks, cv_metrics = {}, {}
        for task in corpus.tasks.values():
            rows = task.annotated()
            values = [task.values[i] for i in rows]
            # every task's estimator holds the same feature blocks, fitted once above
            estimator = TextClassifier.from_config(self.config, n_jobs=self.n_jobs_)._fit_on_features(
                normalizer, features, X[rows], dense_tail, values, task.multi, name=task.name, progress=progress,
                sources=None if sources is None else [sources[i] for i in rows],
                guessed=None if guessed is None else [guessed[i] for i in rows],
                like=None if like is None else like[rows],
                sample_weight=sample_weights(self.config.weights, task.name, [corpus.ids[i] for i in rows]))
            tasks[task.name] = estimator.task_
            if estimator.cv_metrics_ is not None:
                cv_metrics[task.name] = estimator.cv_metrics_
        self._fitted(normalizer, features, int(X.shape[1]), dense_tail, tasks, cv_metrics, [], self.n_jobs_)
        self.sources_ = source_model
        return self

    def _fitted(self, normalizer, features, n_features: int, dense_tail: int, tasks: dict, cv_metrics: dict,
                notes: list[str], n_jobs: int = 1) -> ClassifyModel:
        """Set what a fitted model holds, however it was trained (here, or `classify.streaming`)."""
        self.normalizer_ = normalizer
        self.features_ = features
        self.n_features_ = n_features
        self.dense_tail_ = dense_tail  # the dense blocks' width at the end of the features (NB-SVM)
        self.tasks_: dict[str, TaskModel] = tasks
        self.cv_metrics_: dict[str, dict] = cv_metrics
        self.notes_: list[str] = notes
        self.n_jobs_ = n_jobs
        return self

    def estimator(self, task: str):
        """The task `task` as a fitted `classify.TextClassifier` (it imports scikit-learn): its features are
        this model's, shared with the other tasks."""
        from classify.estimator import TextClassifier

        self._check_fitted()
        return TextClassifier.from_config(self.config, n_jobs=self.n_jobs)._set_fitted(
            getattr(self, "normalizer_", None), self.features_, self.tasks_[task], self.cv_metrics_.get(task))

    # -- prediction ---------------------------------------------------------------------------------
    def _check_fitted(self):
        if not hasattr(self, "tasks_"):
            raise ModelNotFitted("this model is not fitted: call fit() or load a trained model")

    def transform(self, texts):
        return self.features_.transform(self._normalized(texts)).tocsr()

    def _normalized(self, texts) -> list:
        self._check_fitted()
        from classify.core import normalize_texts

        # models before 0.1.0's last change normalise inside; a large batch: the compiled normaliser
        return normalize_texts(getattr(self, "normalizer_", None), texts)

    def predict_scores(self, texts, jobs: int | None = None, sources: bool = False) -> dict[str, np.ndarray]:
        """Each task's probabilities of `texts`; with `sources`, in a model trained on several sources, also
        each text's source probabilities (under `quantify.SOURCES_KEY`: what `classify shares` needs). A
        small batch (`classify.rows.SMALL_BATCH`) is computed without scipy, whose import would be most of a
        one-text command's time: the same numbers, to the bit. A large one, when the compiled core computes
        every feature block without the GIL, is split over `jobs` threads (default: the model's `n_jobs`; at
        most one per core; `_thread_parts`): each row's numbers are the same whichever part it is in."""
        texts = texts if isinstance(texts, list) else list(texts)
        parts = self._thread_parts(texts, jobs)
        if parts is None:
            return self._scores(texts, sources)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(parts), thread_name_prefix="classify") as pool:
            scored = list(pool.map(lambda part: self._scores(part, sources), parts))
        return {name: np.vstack([s[name] for s in scored]) for name in scored[0]}

    def _scores(self, texts: list, sources: bool = False) -> dict[str, np.ndarray]:
        from classify import quantify

        source = quantify.source_scorer(getattr(self, "sources_", None)) if sources else None
        X = self._rows(texts)
        if X is None:
            texts = self._normalized(texts)
            tasks = list(self.tasks_.items())
            # the source classifier is one more linear layer of the same features
            scorers = [task.scorer for _, task in tasks] + ([source] if source is not None else [])
            found = self._kernel_decisions(texts, scorers)
            if found is not None:
                out = {name: task.calibrator.transform(D)
                       for (name, task), D in zip(tasks, found[:len(tasks)], strict=True)}
                if source is not None:
                    out[quantify.SOURCES_KEY] = quantify.source_softmax(found[-1])
                return out
            X = self.features_.transform(texts).tocsr()
        out = {name: task.scores(X) for name, task in self.tasks_.items()}
        if source is not None:
            out[quantify.SOURCES_KEY] = quantify.source_softmax(source.decision(X))
        return out

    def _kernel_decisions(self, normalized: list, scorers: list) -> list | None:
        """Each scorer's decision values of the `normalized` texts as the compiled kernel computes them while
        it counts each text (`classify.core.decisions`: no matrix, the same numbers), every layer read as one
        (`_merged_layer`); None where the kernel does not apply."""
        from classify.core import decisions

        found = decisions(self.features_, [self._merged_layer(scorers)], normalized)
        if found is None:
            return None
        return np.split(found[0], np.cumsum([s.coef.shape[0] for s in scorers])[:-1], axis=1)

    def _merged_layer(self, scorers: list):
        """The scorers' layers side by side as one `LinearScorer`, kept while the model lives (not saved):
        the compiled kernel reads a text's n-gram's weights for every label in one cache line instead of one
        per layer. Each label's column is summed on its own, as in its layer: the same numbers to the bit."""
        from classify.scoring import LinearScorer

        cache = self.__dict__.setdefault("_merged", {})  # with and without the source classifier's layer
        key = tuple((id(s.coef), s.coef.shape) for s in scorers)
        merged = cache.get(key)
        if merged is None:
            if len(cache) >= 4:  # layers changed since (a model's tasks replaced): keep the newest only
                cache.clear()
            merged = LinearScorer(np.vstack([s.coef for s in scorers]), np.concatenate([s.intercept for s in scorers]))
            cache[key] = merged
        return merged

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_merged"}

    def _thread_parts(self, texts: list, jobs: int | None = None) -> list[list] | None:
        """`texts` in one part per thread, or None: one thread asked for (`jobs`, else `n_jobs`, 1 in a model
        saved before it was kept), fewer than `THREAD_PART` texts a part, features computed with the GIL
        held (`classify.core.in_threads`), or already in one of classify's workers."""
        import os

        from classify.core import in_threads
        from classify.parallel import in_worker, workers

        # `jobs` as `--jobs` counts (0: one per core, -1: every core)
        asked = workers(jobs) if jobs is not None else getattr(self, "n_jobs_", 1) or 1
        threads = min(asked, len(texts) // THREAD_PART, os.cpu_count() or 1)
        if threads < 2 or in_worker() or not in_threads(self):
            return None
        size = -(-len(texts) // threads)
        return [texts[i:i + size] for i in range(0, len(texts), size)]

    def _rows(self, texts):
        """The features of a small batch as `classify.rows.Rows`, or None (a large batch, or blocks that
        need scipy)."""
        from classify.rows import SMALL_BATCH

        texts = texts if isinstance(texts, list) else list(texts)
        rows = getattr(self.features_, "rows", None)
        if len(texts) >= SMALL_BATCH or rows is None:
            return None
        self._check_fitted()
        normalize = getattr(self, "normalizer_", None)
        return rows([normalize(t) for t in texts] if normalize else texts)

    def predict(self, texts, threshold: float | None = None, jobs: int | None = None) -> dict[str, list]:
        scores = self.predict_scores(texts, jobs)
        return {name: self.tasks_[name].decide(P, threshold) for name, P in scores.items()}


def __getattr__(name: str):
    """The classes that model files of format 1 (and `.skops` exports of them) name in this module: they
    live in `classify.config` and `classify.scoring` now (`classify.persist.FORMAT_1_NAMES`)."""
    from classify.persist import FORMAT_1_NAMES

    moved = FORMAT_1_NAMES.get(f"{__name__}.{name}")
    if moved is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, _, attribute = moved.rpartition(".")
    return getattr(importlib.import_module(module), attribute)
