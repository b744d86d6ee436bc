"""`classify train --tune`: a time-boxed search over the whole pipeline, by successive halving.

In the spirit of fastText's autotune, but over our own switches: word and character n-gram ranges, min_df,
max features, sublinear tf, accent folding, stop words, negation marking, social-media masking, NB-SVM
weighting, the word+char ensemble, the sentiment lexicon, word vectors (when built), the classifier, its
regularisation and class weights. Multi-label thresholds are tuned inside every trial (out-of-fold, per
label), as in every training.

Successive halving (Jamieson & Talwalkar 2016; Li et al. 2017): `trials` configurations (the first is the
one given on the command line, the others drawn at random with `seed`) are scored on a ninth of the
training documents; the best third goes on to a third of them, the best third of those to all of them.
The given configuration always goes on too: on a ninth of the documents a configuration that does better
with more data (more n-grams, less regularisation) can score low, and the winner should have been compared
with what the user would have had without `--tune`, on the same documents. It runs first in every rung,
so that a search the budget stops in the middle of a rung has scored it there.
A configuration is scored on `dev` when given, else by 3-fold cross-validation on its training documents
(on the first of the 3 folds only when a task has more than `cv_limit` of them, as in every training).
Score: macro-F1 for single-label tasks, micro-F1 for multi-label ones, averaged over tasks.

The schedule depends only on `seed` and `trials`, so a search that ends within its budget is reproducible.
The budget (seconds) covers the search and the final fit. A trial is skipped when its expected cost (the
configuration's own cost on the previous rung, scaled by documents and fits; on the first rung, the mean
so far) and that of the fit on every document that would follow a stop after it do not fit in what is
left; the search then ends with that rung. Ctrl-C stops it too. Either way the best configuration of the
furthest rung wins and, unless it was already fitted on every training document, is trained on all of
them: the best whose expected fit fits in the time left (a configuration's cost is only known once it has
run, so the best may be too dear), else the quickest.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np

from classify.errors import ClassifyError

ETA = 3
MIN_DOCUMENTS = 300  # the first rung never trains on fewer documents than this (or all of them)

# (name, choices); C is drawn log-uniformly separately
SPACE = (
    ("classifier", ("svm", "svm", "logreg")),
    ("word_ngrams", ((1, 1), (1, 2), (1, 2), (1, 3))),
    ("char", (True, True, False)),
    ("char_ngrams", ((2, 4), (2, 5), (2, 5), (3, 5), (1, 6))),
    ("min_df", (1, 2, 2, 3)),
    ("max_features", (None, None, 300_000, 100_000)),
    ("sublinear_tf", (True, True, False)),
    ("accents", (False, False, True)),
    ("stop_words", (False, False, True)),
    ("negation", (True, True, False)),
    ("social", (True, True, False)),
    ("nbsvm", (False, True)),
    ("ensemble", (True, False)),
    ("lexicon", (True, True, False)),
    ("class_weight", ("balanced", None)),
)
C_RANGE = (0.05, 5.0)


def sample_configs(base, n: int, seed: int, vectors_available: bool) -> list:
    """`n` configurations: `base` first, then random draws (no duplicates)."""
    rng = np.random.default_rng(seed)
    configs, seen = [base], {_key(base)}
    attempts = 0
    while len(configs) < n and attempts < 50 * n:
        attempts += 1
        changes = {name: choices[rng.integers(len(choices))] for name, choices in SPACE}
        changes["C"] = round(float(np.exp(rng.uniform(np.log(C_RANGE[0]), np.log(C_RANGE[1])))), 4)
        if vectors_available:
            changes["vectors"] = bool(rng.integers(2))
            changes["vectors_scale"] = float((1.0, 2.0, 3.0)[rng.integers(3)])
        if not changes["char"]:  # unused without a character block: keep the record of changes readable
            changes["char_ngrams"], changes["ensemble"] = base.char_ngrams, base.ensemble
        if not changes.get("vectors", base.vectors):
            changes["vectors_scale"] = base.vectors_scale
        config = replace(base, **changes)
        if _key(config) not in seen:
            seen.add(_key(config))
            configs.append(config)
    return configs


def _key(config) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in asdict(config).items() if k not in ("seed", "cv_folds", "cv_limit")))


def changes_from(config, base) -> dict:
    """The settings of `config` that differ from `base` (what a trial tried)."""
    a, b = config.to_dict(), base.to_dict()
    return {k: v for k, v in a.items() if b.get(k) != v and k not in ("cv_folds", "cv_limit")}


def corpus_score(metrics: dict) -> float:
    """Mean over tasks of macro-F1 (single-label) or micro-F1 (multi-label)."""
    values = [m["micro_f1"] if m["type"] == "multi" else m["macro_f1"] for m in metrics.values()]
    return float(np.mean(values)) if values else 0.0


def metric_name(corpus) -> str:
    names = [f"{'micro' if t.multi else 'macro'}-F1 {t.name}" for t in corpus.tasks.values()]
    return names[0] if len(names) == 1 else "mean of " + ", ".join(names)


def rung_rows(corpus, seed: int, min_documents: int = MIN_DOCUMENTS) -> list[np.ndarray]:
    """Nested, stratified document subsets for the rungs: a ninth, a third, everything."""
    from classify.crossval import iterative_stratification, label_matrix

    n = len(corpus)
    Y, _ = label_matrix(corpus)
    parts = iterative_stratification(Y, ETA * ETA, seed)
    rungs = []
    for fraction_parts in (1, ETA, ETA * ETA):
        rows = np.flatnonzero(parts < fraction_parts)
        if len(rows) < min(min_documents, n) and fraction_parts < ETA * ETA:
            continue
        rungs.append(rows)
    return rungs


def run_trial(config, train, dev, n_jobs=None):
    """Fit `config` on `train`; returns (score, metrics per task, fitted model)."""
    from classify.crossval import task_metrics
    from classify.model import ClassifyModel

    model = ClassifyModel(replace(config, cv_folds=3), n_jobs=n_jobs).fit(train)
    if dev is None:
        metrics = dict(model.cv_metrics_)
    else:
        predicted = model.predict(dev.texts)
        metrics = {name: task_metrics(task, predicted[name], model.tasks_[name].labels)
                   for name, task in dev.tasks.items() if name in model.tasks_}
    return corpus_score(metrics), metrics, model


def tune(corpus, base, *, dev=None, budget: float = 300.0, trials: int = 27, seed: int = 0, progress=None,
         vectors_available: bool | None = None, n_jobs=None, min_documents: int = MIN_DOCUMENTS):
    """Search; returns (fitted best model, search record). The record is stored in the model file."""
    from classify.crossval import subset

    progress = progress or (lambda message: None)
    if budget <= 0:
        raise ClassifyError(f"--time-budget must be positive, got {budget:g}.")
    if trials < 1:
        raise ClassifyError(f"--trials must be 1 or more, got {trials}.")
    if dev is not None:
        missing = [name for name in corpus.tasks if name not in dev.tasks]
        if missing:
            raise ClassifyError(f"the --dev file has no column for the task(s) {', '.join(missing)}.")
    if vectors_available is None:
        from classify.vectors import available

        vectors_available = available()
    start = time.perf_counter()
    configs = sample_configs(base, trials, seed, vectors_available)
    rungs = rung_rows(corpus, seed, min_documents)
    record = {
        "strategy": f"successive halving, eta {ETA}",
        "budget_seconds": budget, "seed": seed, "trials_planned": len(configs),
        "selection": "dev file" if dev is not None else "3-fold cross-validation on the training documents",
        "metric": metric_name(corpus), "stopped": "completed", "trials": [],
    }
    alive = list(range(len(configs)))
    best_model, best = None, None  # best of the furthest rung: (rung, score, index)
    durations: dict[int, list] = {}
    measured: dict[int, tuple] = {}  # config index -> (documents, seconds) of its latest trial
    final_cost: dict[int, float] = {}  # config index -> expected seconds of its fit on every document
    scored: list[tuple] = []  # (rung, score, config index) of every trial that ended

    def final_estimate(documents: int, seconds: float) -> float:
        return _scaled(seconds, documents, len(corpus), 3, base.cv_folds, base.cv_limit)

    try:
        for r, rows in enumerate(rungs):
            last = r == len(rungs) - 1
            train = corpus if len(rows) == len(corpus) else subset(corpus, rows)
            results = []
            for position, i in enumerate(alive, 1):
                elapsed = time.perf_counter() - start
                # a configuration's cost is its own on the previous rung, scaled; else the rung's mean so far
                estimate = (_scaled(measured[i][1], measured[i][0], len(rows), 3, 3, base.cv_limit)
                            if i in measured else _estimate(durations, r, rungs))
                # room for this configuration's fit on every document, should the search stop after it
                reserve = 0.0 if last else final_estimate(len(rows), estimate)
                if record["trials"] and elapsed + estimate + reserve > budget:  # the first trial always runs
                    record["stopped"] = "time budget"
                    continue  # a cheaper configuration of this rung may still fit; no further rung
                t0 = time.perf_counter()
                try:
                    score, metrics, model = run_trial(configs[i], train, dev, n_jobs)
                except ClassifyError as exc:  # a configuration that cannot fit this subset (no features...)
                    record["trials"].append(_trial(i, configs[i], base, len(rows), None, time.perf_counter() - t0,
                                                   error=str(exc)))
                    continue
                seconds = time.perf_counter() - t0
                durations.setdefault(r, []).append(seconds)
                measured[i] = (len(rows), seconds)
                final_cost[i] = final_estimate(len(rows), seconds)
                record["trials"].append(_trial(i, configs[i], base, len(rows), score, seconds))
                results.append((score, i))
                scored.append((r, score, i))
                if best is None or (r, score) > (best[0], best[1]):
                    best = (r, score, i)
                    best_model = model if len(rows) == len(corpus) else None
                progress(f"rung {r + 1}/{len(rungs)} ({len(rows)} documents): trial {position}/{len(alive)} "
                         f"score {score:.4f} in {seconds:.1f}s; best so far {best[1]:.4f} "
                         f"[{time.perf_counter() - start:.0f}/{budget:.0f}s]")
            if record["stopped"] == "time budget":
                raise _Stop
            if not results:  # every trial failed on this subset (labels too rare in it): try the next one
                continue
            results.sort(key=lambda pair: (-pair[0], pair[1]))
            if not last:
                alive = [i for _, i in results[:max(1, len(results) // ETA)]]
                if any(i == 0 for _, i in results):  # the given configuration goes on, first, whatever its score
                    alive = [0] + [i for i in alive if i != 0]
    except _Stop:
        pass
    except KeyboardInterrupt:
        record["stopped"] = "interrupted (Ctrl-C)"
        progress("interrupted: keeping the best configuration found so far")
    record["search_seconds"] = round(time.perf_counter() - start, 1)
    if best is None:
        raise ClassifyError(
            "the search was interrupted before any trial ended." if record["stopped"].startswith("interrupted")
            else "no configuration could be trained during the search."
        )
    if best_model is None:
        best = _affordable(best, scored, final_cost, budget - (time.perf_counter() - start))
    rung, score, index = best
    winner = best_model.config if best_model is not None else replace(configs[index], cv_folds=base.cv_folds)
    record["best"] = {"score": round(score, 4), "documents": len(rungs[rung]), "changes": changes_from(winner, base),
                      "config": winner.to_dict()}
    if best_model is None:
        record["final_fit_estimate_seconds"] = round(final_cost.get(index, 0.0), 1)
        progress(f"training the best configuration on all {len(corpus)} documents "
                 f"(about {final_cost.get(index, 0.0):.0f}s)")
        t0 = time.perf_counter()
        best_model = fit_final(winner, corpus, n_jobs, progress)
        record["final_fit_seconds"] = round(time.perf_counter() - t0, 1)
    record["total_seconds"] = round(time.perf_counter() - start, 1)
    best_model.tuning_ = record
    return best_model, record


class _Stop(Exception):
    pass


def _affordable(best: tuple, scored: list, final_cost: dict, left: float) -> tuple:
    """The winner when it must be fitted on every document: the best of the furthest rung whose expected
    fit fits in the `left` seconds; if none does, the one expected to be quickest."""
    rung = best[0]
    candidates = sorted((t for t in scored if t[0] == rung), key=lambda t: (-t[1], t[2]))
    for candidate in candidates:
        if final_cost.get(candidate[2], 0.0) <= left:
            return candidate
    return min(candidates, key=lambda t: (final_cost.get(t[2], 0.0), -t[1], t[2]))


def fit_final(config, corpus, n_jobs, progress):
    """The winner's fit on every training document, when it was scored on part of them."""
    from classify.model import ClassifyModel

    return ClassifyModel(config, n_jobs=n_jobs).fit(corpus, progress=progress)


def _fits(documents: int, folds: int, limit: int) -> int:
    """Model fits in a training on `documents`: the cross-validation folds (one held-out fold past
    `limit`; at least 3 folds, for calibration), then the final fit."""
    return (1 if limit and documents > limit else max(folds, 3)) + 1


def _scaled(seconds: float, documents: int, to_documents: int, folds: int, to_folds: int, limit: int) -> float:
    """Expected seconds of a training on `to_documents` with `to_folds`, from one that took `seconds`:
    proportional to the documents and to the number of fits."""
    return seconds * (to_documents / max(documents, 1)) * _fits(to_documents, to_folds, limit) \
        / _fits(documents, folds, limit)


def _estimate(durations: dict, r: int, rungs: list) -> float:
    """Expected seconds of a trial at rung `r`: the mean so far, or the previous rung's scaled by size."""
    if durations.get(r):
        return float(np.mean(durations[r]))
    for previous in range(r - 1, -1, -1):
        if durations.get(previous):
            return float(np.mean(durations[previous])) * len(rungs[r]) / len(rungs[previous])
    return 0.0


def _trial(index, config, base, documents, score, seconds, error=None) -> dict:
    out = {"trial": index, "documents": int(documents), "score": None if score is None else round(score, 4),
           "seconds": round(seconds, 2), "changes": changes_from(config, base)}
    if error:
        out["error"] = error
    return out
