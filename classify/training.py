"""How a model is trained: the feature blocks fitted on normalised texts, the linear layer of each task
(one-vs-rest or multi-class, ensembles of column sets, NB-SVM), the calibration of its scores, the folds
that score it, and one task's whole fit (`fit_task`). It imports scikit-learn (inside the functions that
need it); what it produces is made of `classify.scoring`'s and `classify.features`' plain classes.
`classify.TextClassifier` (one task) and `ClassifyModel.fit` (every task of a corpus) run it.
"""

from __future__ import annotations

import contextlib
import logging

import numpy as np

from classify.config import ModelConfig
from classify.core import normalize_texts
from classify.errors import CorpusError
from classify.parallel import beside, can_fork, ordered_map
from classify.scoring import Calibrator, LinearScorer, TaskModel, _softmax
from classify.text.normalize import Normalizer, Tokenizer
from classify.text.resources import STOP_WORDS

log = logging.getLogger("classify")


def build_normalizer(config: ModelConfig) -> Normalizer:
    return Normalizer(accents=config.accents, mask=config.social, breaks=config.social)


def build_features(config: ModelConfig):
    """Word n-grams (+ character n-grams) TF-IDF (+ word vectors, + lexicon counts) over French text that
    `ClassifyModel` has normalised once (`build_normalizer`) before it reaches them, as scikit-learn
    transformers: the reference that `fit_features` (what training runs) is tested against."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    stop = _stop_words(config)
    word = TfidfVectorizer(
        preprocessor=_identity,
        tokenizer=Tokenizer(mark_negation=config.negation),
        token_pattern=None,
        lowercase=False,
        stop_words=stop,
        ngram_range=config.word_ngrams,
        min_df=config.min_df,
        max_features=config.max_features,
        sublinear_tf=config.sublinear_tf,
        dtype=np.float32,
    )
    parts = [("word", word)]
    if config.char:
        char = TfidfVectorizer(
            preprocessor=_identity,
            analyzer="char_wb",
            lowercase=False,
            ngram_range=config.char_ngrams,
            min_df=config.min_df,
            max_features=config.max_features,
            sublinear_tf=config.sublinear_tf,
            dtype=np.float32,
        )
        parts.append(("char", char))
    if config.vectors:
        from classify.vectors import MeanVectors

        parts.append(("vectors", MeanVectors(scale=config.vectors_scale, accents=config.accents, normalized=True)))
    if config.lexicon:  # dense blocks last: NB-SVM leaves the `dense_tail_` columns unweighted
        from classify.lexicon import LexiconFeatures

        parts.append(("lexicon", LexiconFeatures(scale=config.lexicon_scale, accents=config.accents)))
    return FeatureUnion(parts)


def _stop_words(config: ModelConfig) -> list[str] | None:
    if not config.stop_words:
        return None
    normalizer = build_normalizer(config)  # the stop list is normalised as the texts are: they always agree
    return sorted({normalizer(w).strip() for w in STOP_WORDS})


PARALLEL_MIN_TEXTS = 5_000  # texts below which training prepares features in one process


def _map_span(span, shared):
    function, items = shared
    return [function(item) for item in items[span[0]:span[1]]]


def map_texts(function, texts: list, jobs: int = 1) -> list:
    """`[function(t) for t in texts]`, in `jobs` worker processes when it is worth it (same result)."""
    if not can_fork(jobs, len(texts), PARALLEL_MIN_TEXTS):
        return [function(text) for text in texts]
    step = -(-len(texts) // (jobs * 4))
    spans = [(i, i + step) for i in range(0, len(texts), step)]
    return [text for part in ordered_map(_map_span, spans, (function, texts), jobs=jobs) for text in part]


def _fit_char(config: ModelConfig, texts: list[str]):
    from classify.features import fit_tfidf

    return fit_tfidf(texts, "char_wb", config.char_ngrams, config.min_df, config.sublinear_tf, config.max_features)


def _import_fit_modules() -> None:
    """Import what the fits after the features need. scikit-learn takes 2.4 s to import here (1.7 s of it
    scipy.stats, which parses docstrings as it loads); `fit_features` does it while the other process fits
    the character block and this one would wait."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.svm  # noqa: F401


def fit_features(config: ModelConfig, texts: list[str], jobs: int = 1):
    """Fit the blocks `build_features` describes on normalised texts, without scikit-learn's vectorizers
    (`classify.features.fit_tfidf`: the same vocabulary and idf, several times faster): returns the fitted
    `CompiledUnion` and the training matrix, which is the one its `transform` gives for these texts. With
    `jobs` > 1 and enough texts, the character n-grams are fitted in another process while this one fits
    the rest (`classify.parallel.beside`: the same result)."""
    import scipy.sparse as sp

    from classify.features import CompiledUnion, fit_tfidf

    with contextlib.ExitStack() as stack:
        pending = None
        if config.char and can_fork(jobs, len(texts), PARALLEL_MIN_TEXTS):
            pending = stack.enter_context(beside(_fit_char, config, texts))  # the texts are inherited
        tokenizer = Tokenizer(mark_negation=config.negation)
        tokens = [tokenizer(text) for text in texts]
        blocks = {"word": fit_tfidf(texts, "word", config.word_ngrams, config.min_df, config.sublinear_tf,
                                    config.max_features, tokenizer, _stop_words(config), tokens=tokens)}
        if config.char and pending is None:
            blocks["char"] = _fit_char(config, texts)
        if config.vectors:
            from classify.vectors import MeanVectors

            vectors = MeanVectors(scale=config.vectors_scale, accents=config.accents, normalized=True).fit(texts)
            blocks["vectors"] = vectors, vectors.transform(texts)
        if config.lexicon:  # dense blocks last: NB-SVM leaves the `dense_tail_` columns unweighted
            from classify.lexicon import LexiconFeatures

            lexicon = LexiconFeatures(scale=config.lexicon_scale, accents=config.accents).fit(texts)
            # its tokens are the word block's when both tokenize alike (`CompiledUnion._shared_tokenizer`)
            shared = CompiledUnion([("word", blocks["word"][0]), ("lexicon", lexicon)])._shared_tokenizer()
            blocks["lexicon"] = lexicon, lexicon.transform(texts, tokens=tokens if shared else None)
        if pending is not None:
            _import_fit_modules()  # while the character block is fitted in the other process
            blocks["char"] = pending()
    order = [name for name in ("word", "char", "vectors", "lexicon") if name in blocks]
    X = sp.hstack([p if sp.issparse(p) else sp.csr_matrix(p) for p in (blocks[n][1] for n in order)], format="csr")
    return CompiledUnion([(name, blocks[name][0]) for name in order]), X


def fit_shared_features(config: ModelConfig, texts: list[str], n_jobs: int = 1):
    """Normalise raw texts and fit the feature blocks on them, once for every task that will share them:
    returns `(normalizer, features, X, dense_tail)`, X the training matrix and `dense_tail` the width of the
    dense blocks (word vectors, lexicon) at its end, which NB-SVM leaves unweighted."""
    normalizer = build_normalizer(config)
    try:
        # the compiled normaliser where it applies, the texts it leaves aside in `n_jobs` processes
        normalised = normalize_texts(normalizer, texts, lambda rest: map_texts(normalizer, rest, n_jobs))
        features, X = fit_features(config, normalised, n_jobs)
    except ValueError as exc:  # "After pruning, no terms remain" / "empty vocabulary", as scikit-learn says
        raise CorpusError(
            f"no n-gram occurs in {config.min_df} or more documents of this {len(texts)}-document "
            f"corpus, so there are no features to learn from; add documents."
        ) from exc
    if X.shape[1] == 0:
        raise CorpusError("the corpus has no usable words (every text is empty after normalisation).")
    dense_tail = X.shape[1] - sum(len(t.vocabulary_) for _, t in features.transformer_list
                                  if hasattr(t, "vocabulary_"))
    return normalizer, features, X, dense_tail


def _identity(text: str) -> str:
    """The vectorizers' preprocessor: the text arrives normalised (once for all feature blocks)."""
    return text


def build_estimator(config: ModelConfig):
    """A fresh binary or multi-class linear estimator (it only needs `decision_function`)."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.svm import LinearSVC

    if config.classifier == "logreg":
        return LogisticRegression(C=config.C * 20, class_weight=config.class_weight, max_iter=2000,
                                  random_state=config.seed)
    if config.classifier == "sgd":
        return SGDClassifier(loss="modified_huber", alpha=1e-4 / config.C, class_weight=config.class_weight,
                             max_iter=1000, tol=1e-4, random_state=config.seed)
    return LinearSVC(C=config.C, class_weight=config.class_weight, tol=config.svm_tol, random_state=config.seed)



def nb_ratio(X, y, dense_tail: int = 0, alpha: float = 1.0) -> np.ndarray:
    """NB-SVM log-count ratio of each feature for the binary target `y` (Wang & Manning 2012):
    `log((p / |p|) / (q / |q|))` with `p`, `q` the smoothed counts of documents containing the feature
    among positives and negatives. The last `dense_tail` columns (word vectors, signed) keep a weight of 1."""
    present = (X > 0).astype(np.float32)
    y = np.asarray(y, dtype=bool)
    p = alpha + np.asarray(present[y].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[~y].sum(axis=0)).ravel()
    r = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    if dense_tail:
        r[-dense_tail:] = 1.0
    return r


def _fit_binary(config, X, y, dense_tail: int = 0, sample_weight=None):
    """Fit one label against the rest; a constant label gets a constant scorer. With `config.nbsvm` the
    features are scaled by their log-count ratio first, and the ratio folded into the weights, so that
    prediction stays `X @ coef`."""
    if y.min() == y.max():
        return np.zeros(X.shape[1], dtype=np.float32), (1.0 if y[0] else -1.0)
    if getattr(config, "nbsvm", False):
        import scipy.sparse as sp

        r = nb_ratio(X, y, dense_tail)
        est = build_estimator(config).fit(X @ sp.diags(r), y, sample_weight=sample_weight)
        return np.asarray(est.coef_).ravel() * r, float(np.asarray(est.intercept_).ravel()[0])
    est = build_estimator(config).fit(X, y, sample_weight=sample_weight)
    return np.asarray(est.coef_).ravel(), float(np.asarray(est.intercept_).ravel()[0])


PARALLEL_MIN_CELLS = 200_000  # documents x labels below which the fits do not start worker processes
def _fit_label(job, shared):
    config, matrices, targets, tails, weights = shared
    s, j, p = job
    return _fit_binary(config, matrices[s][p], targets[s][:, j], tails[p], weights[s])


def _fit_multiclass(job, shared):
    config, matrices, targets, labels, weights = shared
    s, p = job
    est = build_estimator(config).fit(matrices[s][p], targets[s], sample_weight=weights[s])
    if list(est.classes_) != list(labels):
        raise AssertionError("classes out of order")
    scorer = LinearScorer.from_estimator(est, len(labels))
    return scorer.coef, scorer.intercept


def _counted(results, done):
    """The results, `done(n)` called as the n-th arrives."""
    out = []
    for result in results:
        out.append(result)
        done(len(out))
    return out


def _take_columns(X, cols: np.ndarray):
    """`X[:, cols]` for sorted `cols`, by slices of their contiguous runs (several times faster than fancy
    indexing on a large CSR matrix)."""
    import scipy.sparse as sp

    breaks = np.flatnonzero(np.diff(cols) != 1) + 1
    runs = [(int(run[0]), int(run[-1]) + 1) for run in np.split(cols, breaks) if len(run)]
    pieces = [X[:, a:b] for a, b in runs]
    return pieces[0].tocsr() if len(pieces) == 1 else sp.hstack(pieces, format="csr")


def ensemble_parts(config: ModelConfig, features, n_features: int) -> list | None:
    """With `config.ensemble`, the column sets fitted as separate models: the word block with the dense blocks
    after it (word vectors, lexicon), and the character block. None (one model over every column) otherwise,
    or when there is no character block to split off."""
    names = [name for name, _ in features.transformer_list]
    if not getattr(config, "ensemble", False) or names[:2] != ["word", "char"]:
        return None
    blocks = dict(features.transformer_list)
    start = len(blocks["word"].vocabulary_)
    end = start + len(blocks["char"].vocabulary_)
    if start == 0 or end == start:
        return None
    columns = np.arange(n_features)
    return [np.r_[columns[:start], columns[end:]], columns[start:end]]


def fit_scorers(config: ModelConfig, X, Y, multi: bool, labels: list[str], row_sets: list, n_jobs: int = 1,
                dense_tail: int = 0, progress=None, parts: list | None = None,
                sample_weight=None) -> list[LinearScorer]:
    """Fit the linear layer on each set of rows of X (None: all of them), e.g. cross-validation folds and the
    final fit: one-vs-rest per label for multi-label tasks, one multi-class estimator for single-label ones
    (one-vs-rest too with NB-SVM: a ratio per label). With `parts` (column sets, `ensemble_parts`), each part
    is fitted as its own model and their decisions averaged: the weights of each part over its columns,
    divided by the number of parts, make one linear layer again, so prediction costs the same.
    Every binary fit of every set and part (or every set's and part's multi-class fit) is a job for one pool
    of `n_jobs` processes, the largest first; each job is the fit it would be in sequence, so the result does
    not depend on `n_jobs`. Processes, not threads: liblinear seeds a global random generator. On large
    problems, `progress(message)` hears of every tenth of the fits done."""
    columns = parts or [None]
    # liblinear fits on float64 and would convert a float32 matrix at every fit (0.5 s per fit on
    # allocine-genres, timed alone): convert once
    dtype = np.float64 if config.classifier == "svm" else X.dtype
    whole = [(X if cols is None else _take_columns(X, cols)).astype(dtype, copy=False) for cols in columns]
    tails = [dense_tail if cols is None else int((cols >= X.shape[1] - dense_tail).sum()) for cols in columns]
    matrices = [[m if rows is None else m[rows] for m in whole] for rows in row_sets]
    del whole
    targets = [Y if rows is None else Y[rows] for rows in row_sets]
    weights = [sample_weight if rows is None or sample_weight is None else sample_weight[rows] for rows in row_sets]
    size = X.shape[0] * len(labels)
    binary = multi or getattr(config, "nbsvm", False)
    n_labels = len(labels) if binary else 1
    pairs = sorted(((s, p) for s in range(len(row_sets)) for p in range(len(columns))),
                   key=lambda sp_: -matrices[sp_[0]][sp_[1]].nnz)
    total = len(pairs) * n_labels

    workers = n_jobs if size >= PARALLEL_MIN_CELLS else 1

    def done(n):
        if progress and size >= PARALLEL_MIN_CELLS and n * 10 // total > (n - 1) * 10 // total:
            progress(f"{n}/{total} fits done")

    if binary:
        if not multi:
            targets = [np.column_stack([np.asarray(t) == label for label in labels]).astype(int) for t in targets]
        jobs = [(s, j, p) for s, p in pairs for j in range(len(labels))]
        fitted = dict(zip(jobs, _counted(ordered_map(_fit_label, jobs, (config, matrices, targets, tails, weights),
                                                     jobs=workers), done)))
        fitted = {(s, p): (np.vstack([fitted[s, j, p][0] for j in range(len(labels))]),
                           np.array([fitted[s, j, p][1] for j in range(len(labels))])) for s, p in pairs}
    else:
        fitted = dict(zip(pairs, _counted(ordered_map(_fit_multiclass, pairs, (config, matrices, targets, labels, weights),
                                                      jobs=workers), done)))
    scorers = []
    for s in range(len(row_sets)):
        if parts is None:
            scorers.append(LinearScorer(*fitted[s, 0]))
            continue
        coef = np.zeros((len(labels), X.shape[1]), dtype=np.float32)
        intercept = np.zeros(len(labels))
        for p, cols in enumerate(parts):
            coef[:, cols] += fitted[s, p][0] / len(parts)
            intercept += fitted[s, p][1] / len(parts)
        scorers.append(LinearScorer(coef, intercept))
    return scorers


def _held_out_fold(multi: bool, Y, k: int, seed: int) -> list | None:
    """The first of `k` stratified folds as `[(train_rows, held_out_rows)]`: for a single-label task the first
    fold of the full cross-validation; for a multi-label one, iterative stratification, so that every label
    with `k` or more examples has some in it. None when a label would have no example, or only examples, in
    the held-out fold (too rare to be calibrated on it)."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import LabelEncoder

    if multi:
        fold = iterative_stratification(np.asarray(Y, dtype=bool), k, seed)
        train, test = np.flatnonzero(fold != 0), np.flatnonzero(fold == 0)
        for part in (train, test):
            positives = Y[part].sum(axis=0)
            if ((positives == 0) | (positives == len(part)))[(Y.sum(axis=0) > 0) & (Y.sum(axis=0) < len(Y))].any():
                return None
        return [(train, test)]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [next(splitter.split(np.zeros(len(Y)), LabelEncoder().fit_transform(Y)))]


def fit_task(config: ModelConfig, features, X, values: list, multi: bool, *, name: str = "y",
             labels: list | None = None, n_jobs: int = 1, dense_tail: int = 0, progress=None,
             subject: str | None = None, sources: list | None = None, guessed: list | None = None,
             like=None, sample_weight=None) -> tuple[TaskModel, dict]:
    """Fit one task on the rows of X (`features` fitted, the rows of the documents annotated for it) and their
    `values`: one label each, or for a multi-label task a list of labels each (`labels`: every label, in
    order, when some may have no example). Returns the task and the metrics of its out-of-fold predictions.

    The task is cross-validated (`config.cv_folds`, at least 3 folds for calibration): the out-of-fold
    scores give the metrics, fit the probability calibration and, for multi-label tasks, choose each label's
    threshold. A task with more than `config.cv_limit` documents is scored on the first of those folds only
    (one extra fit instead of K: at that size one fold measures well enough, and the K fits were most of the
    training time). `subject` names the task in errors (default: `task NAME`).
    """
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import LabelEncoder, MultiLabelBinarizer

    progress = progress or (lambda message: None)
    subject = subject or f"task {name!r}"
    if multi:
        binarizer = MultiLabelBinarizer(classes=labels)
        Y = binarizer.fit_transform(values)
        labels = binarizer.classes_.tolist()
        if not labels:
            raise CorpusError(f"{subject} has no label in any row.")
        positives = Y.sum(axis=0)
        counts = [int(min(p, len(Y) - p)) for p in positives if 0 < p < len(Y)] or [0]
    else:
        labels = sorted(set(values))
        if len(labels) < 2:
            raise CorpusError(
                f"{subject} has a single label ({labels[0]!r}) in the corpus: a classifier needs at "
                f"least two. Add examples of other labels, or choose the tasks with --label-column."
            )
        Y = np.asarray(values, dtype=object)
        counts = [int((Y == label).sum()) for label in labels]
    k = min(max(config.cv_folds, 3), min(counts))
    if k < 2:
        rare = labels[int(np.argmin(counts))] if not multi else "a label"
        raise CorpusError(
            f"{subject}: label {rare!r} has a single example; every label needs at least 2 "
            f"(3 or more recommended) to be learned and calibrated. Add examples or drop that label."
        )
    folds = None
    if config.cv_limit and len(values) > config.cv_limit:
        folds = _held_out_fold(multi, Y, k, config.seed)
        if folds is None:
            progress(f"task {name}: a label is too rare for one held-out fold: {k}-fold cross-validation")
    if folds is None:
        splitter = (KFold if multi else StratifiedKFold)(n_splits=k, shuffle=True, random_state=config.seed)
        strata = np.zeros(len(values)) if multi else LabelEncoder().fit_transform(Y)
        folds = list(splitter.split(X, strata))
    held_out = len(folds) == 1
    scored = folds[0][1] if held_out else slice(None)
    if not multi and any(len(set(Y[train])) < len(labels) for train, _ in folds):
        raise CorpusError(f"{subject}: too few examples per label to cross-validate.")
    oof = np.zeros((len(values), len(labels)))
    progress(f"task {name}: " + (f"the fit without {len(scored)} held-out rows" if held_out else
                                  f"cross-validation ({k} folds)") + " and the final fit")
    # the out-of-fold scores are computed on X (float32), as at prediction
    scorers = fit_scorers(config, X, Y, multi, labels, [train for train, _ in folds] + [None],
                          n_jobs, dense_tail, lambda message: progress(f"task {name}: {message}"),
                          ensemble_parts(config, features, X.shape[1]), sample_weight)
    for (_, test), scorer in zip(folds, scorers):
        oof[test] = scorer.decision(X[test])
    oof, Y_scored = oof[scored], Y[scored]
    values_scored = [values[i] for i in folds[0][1]] if held_out else list(values)

    def scored_part(per_document):  # the rates are measured on the scored documents only
        return per_document if per_document is None or not held_out else [per_document[i] for i in folds[0][1]]

    task, metrics = finish_task(name, multi, labels, scorers[-1], oof, values_scored, Y_scored,
                                scored_part(sources), scored_part(guessed), scored_part(like))
    if held_out:
        metrics["held_out"] = len(values_scored)
    else:
        metrics["folds"] = k
    return task, metrics



def finish_task(name: str, multi: bool, labels: list, scorer: LinearScorer, scores: np.ndarray, values: list,
                Y=None, sources: list | None = None, guessed: list | None = None,
                like=None) -> tuple[TaskModel, dict]:
    """How every training ends, in memory or streamed: the calibration fitted on decision `scores` of
    documents the scorer did not learn from (out-of-fold or held out) and their `values` (for a multi-label
    task, also `Y`, their indicator matrix), each label's threshold (multi-label), the misclassification
    rates, and the metrics of those documents decided as predictions will be, by the task itself. Returns
    the task and the metrics."""
    from classify.metrics import best_threshold, multi_label_metrics, single_label_metrics
    from classify.quantify import training_rates

    truth = Y if multi else np.asarray(values, dtype=object)
    if multi or len(set(values)) > 1:
        calibrator = fit_calibrator(multi, scores, truth)
    else:  # a single label among them (a small held-out set): scores as they are
        calibrator = Calibrator(False)
        calibrator.temperature_ = 1.0
    P = calibrator.transform(scores)
    thresholds = None
    if multi:
        thresholds = np.array([best_threshold(Y[:, j], P[:, j]) for j in range(len(labels))])
    # the misclassification rates of these predictions are what `classify shares` corrects counts with
    # (ACC): measured on documents the scoring model did not see
    rates = (training_rates(labels, multi, P, Y if multi else values, thresholds, sources, guessed, like)
             if len(values) else None)
    task = TaskModel(name, multi, labels, scorer, calibrator, thresholds, rates)
    pred = task.decide(P)
    if multi:
        metrics = multi_label_metrics(values, pred, labels)
    else:
        metrics = single_label_metrics(values, pred, labels)
    return task, metrics


def fit_calibrator(multi: bool, scores: np.ndarray, Y) -> Calibrator:
    """A `Calibrator` fitted on out-of-fold `scores` and their truth `Y` (multi-label: an indicator matrix)."""
    from sklearn.linear_model import LogisticRegression

    calibrator = Calibrator(multi)
    if calibrator.multi:
        calibrator.a_ = np.ones(scores.shape[1])
        calibrator.b_ = np.zeros(scores.shape[1])
        for j in range(scores.shape[1]):
            y = Y[:, j]
            if 0 < y.sum() < len(y):
                lr = LogisticRegression(C=100.0).fit(scores[:, [j]], y)
                calibrator.a_[j], calibrator.b_[j] = lr.coef_[0, 0], lr.intercept_[0]
                if calibrator.a_[j] <= 0:
                    # out-of-fold scores too poor to fit a slope (tiny data): a calibration must keep
                    # the classifier's order, so fall back to a unit-variance slope at the base rate
                    prior = y.mean()
                    calibrator.a_[j] = 1.0 / (scores[:, j].std() + 1e-9)
                    calibrator.b_[j] = np.log(prior / (1 - prior)) - calibrator.a_[j] * scores[:, j].mean()
            else:
                calibrator.a_[j], calibrator.b_[j] = 0.0, (8.0 if y.sum() else -8.0)
    else:
        # temperature scaling: one parameter, keeps the classifier's ranking and its argmax
        from scipy.optimize import minimize_scalar

        truth = np.searchsorted(np.asarray(sorted(set(Y))), Y)

        def loss(log_t):
            P = _softmax(scores / np.exp(log_t))
            return -np.mean(np.log(P[np.arange(len(truth)), truth] + 1e-12))

        calibrator.temperature_ = float(np.exp(minimize_scalar(loss, bounds=(-5, 5), method="bounded").x))
    return calibrator


def iterative_stratification(Y: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Fold number (0..k-1) of each row of the binary matrix `Y` (rows: documents, columns: labels)."""
    rng = np.random.default_rng(seed)
    n, m = Y.shape
    fold = np.full(n, -1)
    desired = np.full(k, n / k)
    desired_label = np.tile(Y.sum(axis=0) / k, (k, 1)).astype(float)  # (k, m)
    remaining = Y.copy()
    unassigned = np.ones(n, dtype=bool)
    while unassigned.any():
        counts = remaining[unassigned].sum(axis=0)
        if counts.sum() == 0:  # documents with no label left: spread them by fold size only
            for i in rng.permutation(np.flatnonzero(unassigned)):
                best = np.flatnonzero(desired == desired.max())
                f = rng.choice(best)
                fold[i] = f
                desired[f] -= 1
            break
        label = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
        rows = np.flatnonzero(unassigned & remaining[:, label])
        for i in rng.permutation(rows):
            need = desired_label[:, label]
            candidates = np.flatnonzero(need == need.max())
            if len(candidates) > 1:
                by_size = desired[candidates]
                candidates = candidates[by_size == by_size.max()]
            f = int(rng.choice(candidates))
            fold[i] = f
            unassigned[i] = False
            desired[f] -= 1
            desired_label[f] -= Y[i]
        remaining[rows] = False
    return fold
