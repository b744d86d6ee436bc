"""Label shares of a batch, corrected for the model's errors (quantification).

Counting predicted labels (classify-and-count, CC) is biased whenever the batch's label shares differ from
the training corpus': a classifier errs towards the shares it was trained on. Three corrections:

- ACC, adjusted classify-and-count (Forman 2005/2008): the share of documents predicted `i` is
  `sum_j P(predicted i | true j) * q_j`; the rates `P(predicted i | true j)` are measured at training by
  cross-validation (`training_rates`, stored in the model), so `q` is found by solving that linear system.
  Assumes those rates hold on the batch (the documents of a label look like the training ones of that label).
- EM, Saerens, Latinne and Decaestecker (2002): re-estimates the priors from the model's calibrated
  probabilities by expectation-maximisation, each document's probabilities reweighted by
  `q_new / q_training`. Assumes calibrated probabilities and, like ACC, a prior shift only.
- PCC and PACC: the same as CC and ACC with probabilities in place of counts (Bella et al. 2010).

Multi-label tasks are quantified label by label, each as a binary problem (the label or not).

A corpus of several sources (the bundled one: written texts and real customer messages, whose ids start
with `real-`) breaks the prior-shift assumption of ACC and EM for a batch of one source: the documents of a
label do not look like the mixture's. So training stores the rates per source, and a small classifier of
the source on the model's features; a batch's source mix is estimated by that classifier (its count
adjusted by its own cross-validated confusion, as ACC adjusts labels) and the training shares EM starts from
are the sources' mixed in that proportion (`for_batch`): each source's mean out-of-fold probability, not its
label frequency, since the calibrator was fitted on the mixture, so within a source it is biased, and that
mean is what it outputs on a batch with the source's own shares (EM then leaves such a batch unchanged).

ACC and PACC do not use that mix: which source a document looks like depends on its label too (the
bundled `message-` texts are mostly positive, so positive written texts look like them more often), and
a mix estimated from the batch then lends one source's rates to another's documents. Training also stores
the rates of the documents the source classifier *took* for each source, out of fold (`guessed`); a batch's
documents are split the same way, each part is corrected with its own rates, and the shares are the parts'
weighted by their size (`strata`; stratified ACC). That assumes the error rates of the documents that look
like a source hold on the batch, which does not depend on the batch's mix of sources or labels. A model of
one source, a batch read from a predictions file, and a model saved before the guessed rates were stored
(the batch's source mix as before) use one set of rates for the whole batch.

Each estimate gets a bootstrap interval (`bootstrap`): the batch's documents are resampled with
replacement, which measures the uncertainty due to the batch's size. For ACC and PACC each resample also
draws the rates themselves from their posterior given the counts they were measured on (`posterior`): a
Dirichlet per true label, centred on the measured rates, with `PRIOR_PER_LABEL` pseudo-documents per label
spread as the pooled rates, so that rates measured on few documents give a wider interval.

Everything here takes and returns numpy arrays and plain data: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classify.errors import ClassifyError

# Below this many documents a share is not estimated: its sampling error alone, 1 / (2 sqrt(n)) for a
# share near one half, would pass 5 points, and re-estimated priors that uncertain move more labels than
# they correct.
MIN_DOCUMENTS = 100
MINIMUM_REASON = ("below that, a share's sampling error alone, 1/(2\u221an), passes 5 points, and priors that "
                  "uncertain move more labels than they correct")
# Percentile intervals need their tails well sampled: at 95 %, 1,000 resamples put 25 on each side
# (Efron & Tibshirani 1993 recommend 1,000 or more for percentile intervals; 200 for standard errors).
RESAMPLES = 1000
CONFIDENCE = 0.95
ESTIMATORS = ("cc", "acc", "em", "pcc", "pacc")
EM_TOLERANCE = 1e-6
# `predict --adapt` adjusts a batch's probabilities when their shares differ from the training ones at this
# level (`shift_test`): the usual 5 %
SHIFT_LEVEL = 0.05
EM_MAX_ITERATIONS = 1000
# the prior of measured rates, in pseudo-documents per label, spread as the pooled rates: as much as
# Laplace's rule of succession adds (one per label), centred on what is known instead of on uniform rates
PRIOR_PER_LABEL = 1.0


class QuantifyError(ClassifyError):
    """Shares cannot be estimated (too few documents, no rates in the model...)."""


# -- what training stores --------------------------------------------------------------------------------------
def training_rates(labels: list[str], multi: bool, P: np.ndarray, truth, thresholds=None,
                   sources: list[str] | None = None, guessed: list[str] | None = None,
                   like: np.ndarray | None = None) -> dict:
    """What ACC, PACC and EM need from the training data, measured on out-of-fold (or held-out) calibrated
    probabilities `P` and their true labels (`truth`: a label per document, or for multi-label tasks a 0/1
    matrix). With `sources` (each document's, see `sources_of`), the same per source too, under "sources";
    with `guessed` (the source the source classifier took each document for, out of fold), the rates of
    the documents taken for each source, under "guessed" (every source taken at least once: `posterior`
    draws a source's few documents towards the pooled rates); with `like` (each document's group of like
    documents, `source_groups`), the rates of each group and the source its documents are mostly taken for,
    under "groups". Plain lists and floats, so that the model file stays loadable by skops."""
    P = np.asarray(P, dtype=float)
    groups = _source_rows(sources, len(P))
    taken = _guessed_rows(guessed) if groups else {}
    alike = _like_rows(like, guessed) if taken else []
    if multi:
        Y = np.asarray(truth, dtype=bool)
        per_label = []
        for j in range(len(labels)):
            P2 = binary_probabilities(P[:, j])
            predicted = (P[:, j] >= thresholds[j]).astype(int)
            y = Y[:, j].astype(int)
            per_label.append(_rates(P2, predicted, y, 2))
            if groups:
                per_label[-1]["sources"] = {name: _rates(P2[r], predicted[r], y[r], 2) for name, r in groups.items()}
            if taken:
                per_label[-1]["guessed"] = {name: _rates(P2[r], predicted[r], y[r], 2) for name, r in taken.items()}
            if alike:
                per_label[-1]["groups"] = [{**_rates(P2[r], predicted[r], y[r], 2), "source": name}
                                           for name, r in alike]
        return {"multi": True, "labels": list(labels), "per_label": per_label}
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index[t] for t in truth])
    predicted = P.argmax(axis=1)
    k = len(labels)
    out = {"multi": False, "labels": list(labels), **_rates(P, predicted, y, k)}
    if groups:
        out["sources"] = {name: {**_rates(P[r], predicted[r], y[r], k), **_source_calibration(P[r], y[r])}
                          for name, r in groups.items()}
    if taken:
        out["guessed"] = {name: _rates(P[r], predicted[r], y[r], k) for name, r in taken.items()}
    if alike:
        out["groups"] = [{**_rates(P[r], predicted[r], y[r], k), "source": name} for name, r in alike]
    return out


def _guessed_rows(guessed) -> dict:
    """source -> the rows the source classifier took for it; {} without guesses."""
    if guessed is None:
        return {}
    guessed = np.asarray(guessed, dtype=object)
    return {name: np.flatnonzero(guessed == name) for name in sorted(set(guessed.tolist()))}


def _like_rows(like, guessed) -> list:
    """(the source most of the group's documents are taken for, its rows) for every group in `like`, in
    group order (a group no document of the task falls in: no rows, and its source's rates serve it);
    [] without groups."""
    if like is None:
        return []
    like = np.asarray(like, dtype=int)
    guessed = np.asarray(guessed, dtype=object)
    out = []
    for g in range(int(like.max()) + 1 if len(like) else 0):
        rows = np.flatnonzero(like == g)
        names, counts = np.unique(guessed[rows], return_counts=True) if len(rows) else ([None], [0])
        out.append((names[int(np.argmax(counts))], rows))
    return out


def _source_calibration(P: np.ndarray, y: np.ndarray) -> dict:
    """Bias-corrected temperature scaling (BCTS, Alexandari, Kundaje and Shrikumar 2020) of one source's
    out-of-fold probabilities: `softmax(scale * log p + bias)`, fitted by log-loss on that source alone. The
    pooled calibrator was fitted on the whole mixture (weighted as the model's sample weights make it lean),
    so within a source its probabilities are off; EM needs them calibrated for the batch's own documents.
    With a bias per label, the fitted probabilities' mean is the source's label frequency (the optimum's
    condition), which is what EM then starts from. Stored as plain floats: [scale, bias of labels 2..k]."""
    from scipy.optimize import minimize

    L = np.log(np.clip(P, 1e-12, 1.0))
    rows = np.arange(len(y))

    def loss(t):
        Q = _softmax(L * np.exp(t[0]) + np.r_[0.0, t[1:]])
        return -np.mean(np.log(Q[rows, y] + 1e-12))

    t = minimize(loss, np.zeros(P.shape[1]), method="L-BFGS-B").x
    calibration = [float(np.exp(t[0])), *map(float, t[1:])]
    return {"calibration": calibration, "calibrated_mean": calibrated(P, calibration).mean(axis=0).tolist()}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def calibrated(P: np.ndarray, calibration) -> np.ndarray:
    """Probabilities `P` recalibrated by one source's `_source_calibration`."""
    scale, *bias = calibration
    return _softmax(np.log(np.clip(np.asarray(P, dtype=float), 1e-12, 1.0)) * scale + np.r_[0.0, bias])


def source_calibrated(P: np.ndarray, rates: dict | None, S: np.ndarray | None, names, mix: dict | None):
    """For EM on a batch of a multi-source model: each document's probabilities recalibrated by each
    training source's calibration, weighted by its source probabilities `S` (columns in `names` order), and
    the training shares they are calibrated under (the batch's `mix` of the sources' calibrated mean
    probabilities, which are their label frequencies). None when the model stores no source calibration
    (one source, or trained before it was stored) or the batch's sources are unknown."""
    if rates is None or S is None or not mix or "sources" not in rates:
        return None
    sources = rates["sources"]
    if not all("calibration" in sources.get(name, {}) for name in names):
        return None
    S = np.asarray(S, dtype=float)
    Q = sum(S[:, [i]] * calibrated(P, sources[name]["calibration"]) for i, name in enumerate(names))
    weights = {name: w for name, w in mix.items() if name in sources and w > 0}
    total = sum(weights.values())
    if not total:
        return None
    priors = sum(w / total * np.asarray(sources[name]["calibrated_mean"]) for name, w in weights.items())
    return Q / Q.sum(axis=1, keepdims=True), priors


def _source_rows(sources, n: int) -> dict:
    """source -> its rows, when there are two sources or more with `MIN_SOURCE_DOCUMENTS` each; else {}."""
    if sources is None:
        return {}
    sources = np.asarray(sources, dtype=object)
    groups = {name: np.flatnonzero(sources == name) for name in sorted(set(sources.tolist()))}
    groups = {name: rows for name, rows in groups.items() if len(rows) >= MIN_SOURCE_DOCUMENTS}
    return groups if len(groups) >= 2 else {}


def _rates(P: np.ndarray, predicted: np.ndarray, y: np.ndarray, k: int) -> dict:
    n_true = np.bincount(y, minlength=k).astype(float)
    confusion = np.zeros((k, k))  # [predicted i, true j], each column sums to 1 (a label with no document: 0)
    soft = np.zeros((k, k))  # [i, j]: mean probability of i over the documents of true label j
    np.add.at(confusion, (predicted, y), 1.0)
    for j in range(k):
        soft[:, j] = P[y == j].sum(axis=0)
    seen = n_true > 0
    confusion[:, seen] /= n_true[seen]
    soft[:, seen] /= n_true[seen]
    return {"n": int(len(y)), "priors": (n_true / max(len(y), 1)).tolist(), "confusion": confusion.tolist(),
            "soft_confusion": soft.tolist(), "mean_probabilities": P.mean(axis=0).tolist()}


def binary_probabilities(p: np.ndarray) -> np.ndarray:
    """A multi-label label's probability as a two-class problem: columns (not the label, the label)."""
    p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    return np.column_stack([1.0 - p, p])


def model_priors(task, provenance: dict) -> list:
    """The label shares a task's probabilities were calibrated under: those of the documents its calibration
    was fitted on (stored with the rates), or for an older model the training corpus' label counts. For a
    multi-label task, one (not the label, the label) pair per label."""
    rates = getattr(task, "rates", None)
    if rates is not None:
        if task.multi:
            return [np.asarray(r["priors"], dtype=float) for r in rates["per_label"]]
        return np.asarray(rates["priors"], dtype=float)
    info = provenance.get("tasks", {}).get(task.name, {})
    counts = info.get("label_counts", {})
    if task.multi:
        n = max(int(info.get("n_documents", 0)), 1)
        return [np.array([1 - counts.get(label, 0) / n, counts.get(label, 0) / n]) for label in task.labels]
    total = sum(counts.get(label, 0) for label in task.labels)
    if not total:
        return np.full(len(task.labels), 1 / len(task.labels))
    return np.array([counts.get(label, 0) / total for label in task.labels])


# -- sources -------------------------------------------------------------------------------------------------
# The bundled corpus' sources, by their ids: real customer messages; texts collected for having no topic
# (its off-topic texts and seeds/general-french.csv's treebank sentences); every other document is written
# text on the topics.
SOURCE_PREFIXES = (("real-", "real"), ("message-", "message"), ("offtopic-", "offtopic"), ("gsd-", "offtopic"),
                   ("sequoia-", "offtopic"))
SOURCES_KEY = "_sources"  # beside the tasks in `api.probabilities`: each document's source probabilities
DEFAULT_SOURCE = "written"
# a source's rates below this many documents would be noisier than the pooled ones' bias
MIN_SOURCE_DOCUMENTS = 100
SOURCE_FOLDS = 3
# the source classifier's errors are corrected by its own confusion (`composition`), so a cheap fit is enough:
# stochastic gradient descent took 3 s on the bundled corpus (3 folds and the final fit), scikit-learn's
# LogisticRegression 17 to 32 s, and told the sources apart no better (81-94 % against 69-92 % per source)
SOURCE_ALPHA = 1e-4
# ACC's strata: the training documents' out-of-fold source probabilities in groups of like documents
# (k-means on their logarithms), at most SOURCE_GROUPS and GROUP_DOCUMENTS documents per group on average; a
# group's rates are drawn towards those of the source its documents are mostly taken for by
# GROUP_PRIOR_PER_LABEL pseudo-documents per label (few of a label in a group say little about it)
SOURCE_GROUPS = 16
GROUP_DOCUMENTS = 250
GROUP_PRIOR_PER_LABEL = 30.0
# source probabilities below this are equally far from a group: the logarithm stays bounded
GROUP_FLOOR = 1e-6


def sources_of(ids) -> list[str] | None:
    """Each training document's source by the rule of `SOURCE_PREFIXES`; None when there is only one with
    `MIN_SOURCE_DOCUMENTS` documents (nothing is stored per source then)."""
    out = [next((name for prefix, name in SOURCE_PREFIXES if str(i).startswith(prefix)), DEFAULT_SOURCE)
           for i in ids]
    return out if _source_rows(out, len(out)) else None


def fit_source_classifier(X, sources: list[str], seed: int = 0) -> tuple[dict, list[str], np.ndarray | None]:
    """A linear classifier of the source on the model's features `X` (logistic loss, one against the rest),
    and its cross-validated confusion ([predicted, true], columns sum to 1), as plain arrays and lists; the
    source it took each document for out of fold (what `training_rates` measures ACC's rates per); and each
    document's group of like documents (`source_groups`: None when too few documents for two groups), the
    groups fitted on the out-of-fold source probabilities and stored in the classifier ("groups")."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    names = sorted(set(sources))
    y = np.array([names.index(s) for s in sources])
    classifier = SGDClassifier(loss="log_loss", alpha=SOURCE_ALPHA, random_state=seed)
    folds = StratifiedKFold(SOURCE_FOLDS, shuffle=True, random_state=seed)
    # the decision values, not only the decision: their argmax is `predict`'s, and the groups need them
    S = source_softmax(cross_val_predict(classifier, X, y, cv=folds, method="decision_function"))
    predicted = S.argmax(axis=1)
    confusion = np.zeros((len(names), len(names)))
    np.add.at(confusion, (predicted, y), 1.0)
    confusion /= confusion.sum(axis=0, keepdims=True)
    classifier.fit(X, y)
    out = {"names": names, "coef": classifier.coef_.astype(np.float32), "intercept": classifier.intercept_.tolist(),
           "confusion": confusion.tolist()}
    out["groups"] = fit_source_groups(S, seed) or []  # [] : too few documents (None: saved before groups)
    return out, [names[i] for i in predicted], source_groups(out, S)


def fit_source_groups(S: np.ndarray, seed: int = 0) -> list | None:
    """Centres of groups of like documents: k-means on the logarithm of the training documents' (out of
    fold) source probabilities `S`, `GROUP_DOCUMENTS` documents per group on average and at most
    `SOURCE_GROUPS`. None below two groups' worth of documents."""
    k = min(SOURCE_GROUPS, len(S) // GROUP_DOCUMENTS)
    if k < 2:
        return None
    from sklearn.cluster import KMeans

    return KMeans(k, n_init=4, random_state=seed).fit(_group_space(S)).cluster_centers_.tolist()


def _group_space(S: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(S, dtype=float), GROUP_FLOOR, 1.0))


def source_groups(classifier: dict | None, S: np.ndarray | None) -> np.ndarray | None:
    """Each document's group of like documents: the nearest of the classifier's group centres to the
    logarithm of its source probabilities `S`. None for a classifier without groups (too few training
    documents, or saved before them)."""
    if classifier is None or S is None or not classifier.get("groups"):
        return None
    Z = _group_space(S)
    centres = np.asarray(classifier["groups"], dtype=float)
    # the squared distance to each centre, less |Z|^2, the same for every centre of a row
    return ((centres ** 2).sum(axis=1)[None, :] - 2.0 * Z @ centres.T).argmin(axis=1)


def source_probabilities(classifier: dict, X) -> np.ndarray:
    """(n, sources) scores of each document's source, summing to 1 (a softmax of the decision values for
    three sources or more): their argmax is the classifier's decision, which is all `composition` uses."""
    return source_softmax(source_scorer(classifier).decision(X))


def source_scorer(classifier: dict | None):
    """The source classifier as a `LinearScorer` (the compiled kernel scores it with the tasks' layers), or
    None for a model of one source."""
    if classifier is None:
        return None
    from classify.scoring import LinearScorer

    return LinearScorer(classifier["coef"], classifier["intercept"])


def source_softmax(z: np.ndarray) -> np.ndarray:
    """Source probabilities from the source classifier's decision values (one column for two sources)."""
    z = np.asarray(z)
    if z.ndim == 1:  # cross_val_predict's binary form
        z = z[:, None]
    if z.shape[1] == 1:  # scikit-learn's binary form: one column, the second source's log-odds
        p = 1.0 / (1.0 + np.exp(-np.clip(z[:, 0], -30, 30)))
        return np.column_stack([1.0 - p, p])
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def composition(classifier: dict | None, S: np.ndarray | None) -> dict | None:
    """A batch's share of each source, from its documents' source probabilities `S`: the classifier's count
    adjusted by its cross-validated confusion (ACC), so that its errors do not leak a source into the mix."""
    if classifier is None or S is None or not len(S):
        return None
    k = len(classifier["names"])
    counted = np.bincount(np.asarray(S).argmax(axis=1), minlength=k) / len(S)
    return dict(zip(classifier["names"], adjust(counted, classifier["confusion"])[0].tolist()))


def for_batch(rates: dict | None, mix: dict | None) -> tuple[dict | None, np.ndarray | None]:
    """The rates (one single-label task, or one label of a multi-label task) and training shares for a batch
    whose sources are mixed as `mix` (source -> share): each source's weighted by its share. A label with no
    document of a source takes the pooled column. (rates unchanged, None) when the model stores no source
    rates or the mix is unknown."""
    if rates is None or not mix or "sources" not in rates:
        return rates, None
    weights = {name: w for name, w in mix.items() if name in rates["sources"] and w > 0}
    total = sum(weights.values())
    if not total:
        return rates, None
    mixed = {key: np.zeros_like(np.asarray(rates[key], dtype=float))
             for key in ("confusion", "soft_confusion", "mean_probabilities")}
    for name, w in weights.items():
        source = rates["sources"][name]
        seen = np.asarray(source["priors"]) > 0
        for key in ("confusion", "soft_confusion"):
            mixed[key] += w / total * np.where(seen[None, :], source[key], rates[key])
        mixed["mean_probabilities"] += w / total * np.asarray(source["mean_probabilities"])
    out = {**rates, "confusion": mixed["confusion"].tolist(), "soft_confusion": mixed["soft_confusion"].tolist()}
    return out, mixed["mean_probabilities"]


def batch_priors(task, provenance: dict, mix: dict | None):
    """`model_priors` for a batch whose sources are mixed as `mix`: the mixed sources' mean out-of-fold
    probabilities when the model stores them (see `for_batch`), else the model's."""
    priors = model_priors(task, provenance)
    rates = getattr(task, "rates", None)
    if rates is None or not mix:
        return priors
    if task.multi:
        mixed = [for_batch(r, mix)[1] for r in rates["per_label"]]
        return [p if m is None else m for p, m in zip(priors, mixed)]
    mixed = for_batch(rates, mix)[1]
    return priors if mixed is None else mixed


# -- ACC's rates for a batch -----------------------------------------------------------------------------------
def posterior(measured: dict, pooled: dict, key: str = "confusion", base: dict | None = None) -> np.ndarray:
    """Dirichlet parameters of each column (true label) of measured rates (`_rates`' `key`: "confusion" or
    "soft_confusion"): the documents counted in it, plus `PRIOR_PER_LABEL` pseudo-documents per label spread
    as the `pooled` rates' column. Its mean is the measured column drawn towards the pooled one by as many
    documents, which matters only for a column of few documents; a label with no document anywhere keeps an
    empty column, as measured. With `base` (a group's source's rates), `GROUP_PRIOR_PER_LABEL` pseudo-documents
    spread as that source's posterior mean instead."""
    M = np.asarray(measured[key], dtype=float)
    counted = M * (np.asarray(measured["priors"], dtype=float) * measured["n"])
    if base is None:
        return counted + PRIOR_PER_LABEL * M.shape[1] * np.asarray(pooled[key], dtype=float)
    return counted + GROUP_PRIOR_PER_LABEL * M.shape[1] * _columns(posterior(base, pooled, key))


def _columns(A: np.ndarray) -> np.ndarray:
    """Rates from (draws of) Dirichlet parameters or gamma variates: each column divided by its sum."""
    sums = A.sum(axis=-2, keepdims=True)
    return A / np.where(sums > 0, sums, 1.0)


@dataclass
class Strata:
    """What ACC and PACC correct a batch's counts with: the batch's documents in strata (`of`, each
    document's; one stratum for the whole batch, one per group of like documents, or one per source its
    documents are taken for), and each stratum's rates, a weighted mix of measured rates (`(weight, _rates)`
    pairs: one, or the sources' of an older model mixed as the batch; `(weight, _rates, base)` for a group,
    whose rates are drawn towards its source's `base` rates), uncertain as `posterior` says."""

    of: np.ndarray
    parts: list
    pooled: dict

    def matrices(self, key: str, rng: np.random.Generator | None = None, size: int = 1) -> list:
        """Each stratum's `key` rates: the posterior mean (k, k), or with `rng` `size` draws (size, k, k)."""
        out = []
        for part in self.parts:
            mixed = 0.0
            for weight, measured, *base in part:
                A = posterior(measured, self.pooled, key, *base)
                drawn = A if rng is None else rng.gamma(np.broadcast_to(A, (size, *A.shape)))
                mixed = mixed + weight * _columns(drawn)
            out.append(mixed)
        return out


def strata_for(rates: dict | None, n: int, S: np.ndarray | None = None, names=None,
               mix: dict | None = None, like: np.ndarray | None = None) -> Strata | None:
    """ACC's rates for a batch of `n` documents (one single-label task, or one label of a multi-label task).
    With each document's group of like documents (`like`, `source_groups`) and rates measured per group, a
    stratum per group, with its rates drawn towards those of the source its training documents were mostly
    taken for (a group without training documents of the task: the rates of the source each document is
    taken for). Else, with the documents' source probabilities `S` (columns in `names` order) and rates
    measured per source the training documents were taken for (`guessed`), a stratum per source the batch's
    documents are taken for, with those rates (the pooled ones for a source no training document was taken
    for). Else, for a model saved before those were stored, the sources' rates mixed as the batch's `mix`;
    else the pooled rates. None for a model without rates."""
    if rates is None:
        return None
    if S is not None and names is not None and "guessed" in rates:
        guessed = rates["guessed"]
        taken = np.asarray(S).argmax(axis=1)
        groups = rates.get("groups") if like is not None and len(like) else None
        if groups:
            # strata keys: a group with the task's training documents, else the source taken for (after them)
            known = np.asarray([g < len(groups) and groups[g]["n"] > 0 for g in range(int(np.max(like)) + 1)])
            key = np.where(known[like], like, len(groups) + taken)
            present, of = np.unique(key, return_inverse=True)
            parts = [[(1.0, groups[g], guessed.get(groups[g]["source"], rates))] if g < len(groups)
                     else [(1.0, guessed.get(names[g - len(groups)], rates))] for g in present]
            return Strata(of.ravel(), parts, rates)
        present, of = np.unique(taken, return_inverse=True)
        return Strata(of.ravel(), [[(1.0, guessed.get(names[i], rates))] for i in present], rates)
    one = np.zeros(n, dtype=int)
    weights = {name: w for name, w in (mix or {}).items() if name in rates.get("sources", {}) and w > 0}
    total = sum(weights.values())
    if total:
        return Strata(one, [[(w / total, rates["sources"][name]) for name, w in weights.items()]], rates)
    return Strata(one, [[(1.0, rates)]], rates)


# -- estimators ------------------------------------------------------------------------------------------------
def project_simplex(V: np.ndarray) -> np.ndarray:
    """Each row's Euclidean projection on the probability simplex (Duchi et al. 2008): the closest vector
    of non-negative shares summing to 1. ACC's linear solution can leave the simplex on a small batch;
    clipping and renormalising would not be the closest point."""
    V = np.atleast_2d(np.asarray(V, dtype=float))
    U = -np.sort(-V, axis=1)
    css = np.cumsum(U, axis=1) - 1.0
    ranks = np.arange(1, V.shape[1] + 1)
    rho = (U - css / ranks > 0).sum(axis=1)
    theta = css[np.arange(len(V)), rho - 1] / rho
    return np.maximum(V - theta[:, None], 0.0)


def adjust(observed: np.ndarray, confusion) -> np.ndarray:
    """ACC/PACC: the shares `q` with `confusion @ q` closest to the `observed` (predicted) shares, on the
    simplex. `observed`: one row per batch (or resample); `confusion`: one matrix, or one per row."""
    M = np.asarray(confusion, dtype=float)
    if M.ndim == 3:  # rates drawn per resample: the same least-squares solution, one matrix each
        solution = np.einsum("rij,rj->ri", np.linalg.pinv(M), np.atleast_2d(observed))
    else:
        solution = np.linalg.lstsq(M, np.atleast_2d(observed).T, rcond=None)[0].T
    return project_simplex(solution)


def _adjusted(X: np.ndarray, W: np.ndarray, total: np.ndarray, of: np.ndarray, matrices: list) -> np.ndarray:
    """ACC (`X`: the decisions, one-hot) or PACC (`X`: the probabilities) of each stratum, on the simplex,
    weighted by the stratum's share of each resample (`W`: r x n counts; `total`: their sums)."""
    sizes, observed = [], []
    for s in range(len(matrices)):
        rows = of == s
        sizes.append(W[:, rows].sum(axis=1, keepdims=True))
        observed.append((W[:, rows] @ X[rows]) / np.clip(sizes[-1], 1e-300, None))
    if np.ndim(matrices[0]) == 2:  # the rates' posterior means: one system per stratum
        q = np.stack([adjust(o, M) for o, M in zip(observed, matrices, strict=True)])
    else:  # rates drawn per resample: every stratum's resamples in one call
        M = np.concatenate(matrices)
        q = adjust(np.concatenate(observed), M).reshape(len(matrices), len(W), -1)
    return (np.stack(sizes) / total * q).sum(axis=0)


def em(P: np.ndarray, priors, weights: np.ndarray | None = None, start: np.ndarray | None = None,
       tol: float = EM_TOLERANCE, max_iterations: int = EM_MAX_ITERATIONS) -> tuple[np.ndarray, int]:
    """Saerens-Latinne-Decaestecker EM: the label shares `q` of a batch whose calibrated probabilities are
    `P` (n x k), given the shares `priors` the probabilities were calibrated under. Vectorised over
    resamples: `weights` (r x n: how many times each document is drawn) gives r estimates at once.
    Returns (shares, iterations); shares is (k,) without weights, (r, k) with them."""
    P = np.asarray(P, dtype=float)
    pi = np.clip(np.asarray(priors, dtype=float), 1e-12, None)
    single = weights is None
    W = np.ones((1, len(P))) if single else np.asarray(weights, dtype=float)
    total = W.sum(axis=1, keepdims=True)
    q = (W @ P) / total if start is None else np.broadcast_to(np.asarray(start, dtype=float), (len(W), P.shape[1])).copy()
    iterations = 0
    active = np.arange(len(W))
    while iterations < max_iterations and len(active):
        iterations += 1
        ratio = q[active] / pi  # (a, k)
        # the mean over documents of each one's posterior under the current shares, p_ik r_k / sum_l p_il r_l,
        # as two matrix products (no resamples x documents x labels array)
        denominators = np.clip(P @ ratio.T, 1e-300, None)  # (n, a)
        new = ratio * ((W[active] / denominators.T) @ P) / total[active]
        done = np.abs(new - q[active]).max(axis=1) < tol
        q[active] = new
        active = active[~done]
    return (q[0] if single else q), iterations


def shift_test(P: np.ndarray, priors, shares) -> float:
    """The p-value of Saerens, Latinne and Decaestecker's (2002, section 3.3) likelihood-ratio test of a
    batch's label shares: do EM's `shares` explain the batch's calibrated probabilities `P` better than the
    training `priors` do, beyond chance? `2 * sum_i log(sum_j p_ij q_j / pi_j)`, chi-squared with (labels - 1)
    degrees of freedom when the shares did not change."""
    from scipy.stats import chi2

    ratio = np.asarray(shares, dtype=float) / np.clip(np.asarray(priors, dtype=float), 1e-12, None)
    statistic = 2.0 * np.log(np.clip(np.asarray(P, dtype=float) @ ratio, 1e-300, None)).sum()
    return float(chi2.sf(max(statistic, 0.0), np.shape(P)[1] - 1))


def adapt_batch(P: np.ndarray, priors, test: tuple | None = None) -> dict:
    """`predict --adapt` for one problem (a single-label task, or one label of a multi-label task): EM's
    shares of the batch whose calibrated probabilities are `P` under the training `priors`, and each
    document's probabilities adjusted to them, when the likelihood-ratio test (`shift_test`) finds that the
    shares differ from the training ones at `SHIFT_LEVEL`; else the probabilities as they are (calibrated
    for shares the batch does not differ from: adjusting them to EM's noise moves labels at random). `test`:
    the (probabilities, training shares) the test is run on when better calibrated than `P` for the batch
    (`source_calibrated`). Returns {"shares", "iterations", "p_value", "adjusted", "P"}."""
    q, iterations = em(P, priors)
    if test is None:
        p_value = shift_test(P, priors, q)
    else:
        test_P, test_priors = test
        p_value = shift_test(test_P, test_priors, em(test_P, test_priors)[0])
    adjusted = p_value < SHIFT_LEVEL
    return {"shares": q, "iterations": iterations, "p_value": p_value, "adjusted": bool(adjusted),
            "P": adapted_probabilities(P, q, priors) if adjusted else np.asarray(P, dtype=float)}


def adapted_probabilities(P: np.ndarray, shares, priors) -> np.ndarray:
    """Each document's probabilities under the batch's label shares instead of the training ones (Bayes'
    rule with new priors: `p_i * q_i / pi_i`, renormalised), as EM's last step computes them."""
    post = np.asarray(P, dtype=float) * (np.asarray(shares, dtype=float) / np.clip(np.asarray(priors, dtype=float), 1e-12, None))
    return post / np.clip(post.sum(axis=1, keepdims=True), 1e-300, None)


@dataclass
class Problem:
    """One quantification problem: a single-label task, or one label of a multi-label task (two classes)."""

    P: np.ndarray  # (n, k) calibrated probabilities
    predicted: np.ndarray  # (n,) the model's decision, as a class index
    rates: dict | None  # `_rates` of the training data; None for a model trained before they were stored
    priors: np.ndarray  # the shares the probabilities were calibrated under
    # EM's input when it differs from P: the probabilities recalibrated per source and their training shares
    # (`source_calibrated`); CC, ACC, PCC and PACC keep P, on which the stored rates were measured
    em_P: np.ndarray | None = None
    em_priors: np.ndarray | None = None
    # ACC's and PACC's rates (`strata_for`); without them, `rates` for the whole batch
    strata: Strata | None = None

    def __post_init__(self):
        if self.strata is None and self.rates is not None:
            self.strata = Strata(np.zeros(len(self.P), dtype=int), [[(1.0, self.rates)]], self.rates)


def estimate(problem: Problem, weights: np.ndarray | None = None, start: dict | None = None,
             matrices: tuple | None = None) -> dict:
    """Every estimator's shares: name -> (k,) array, or (r, k) with `weights` (r x n resample counts).
    ACC and PACC are None when the model stores no training rates. They correct with the posterior mean of
    the strata's rates, or with `matrices` (each stratum's confusion and soft confusion matrices, one per
    resample: `bootstrap` draws them)."""
    P, k = problem.P, problem.P.shape[1]
    W = np.ones((1, len(P))) if weights is None else weights
    total = W.sum(axis=1, keepdims=True)
    onehot = np.zeros((len(P), k))
    onehot[np.arange(len(P)), problem.predicted] = 1.0
    out = {"cc": (W @ onehot) / total, "pcc": (W @ P) / total}
    strata = problem.strata
    if strata is not None:
        if matrices is None:
            matrices = strata.matrices("confusion"), strata.matrices("soft_confusion")
        confusion, soft = matrices
        out["acc"] = _adjusted(onehot, W, total, strata.of, confusion)
        out["pacc"] = _adjusted(P, W, total, strata.of, soft)
    else:
        out["acc"] = out["pacc"] = None
    em_P, em_priors = (P, problem.priors) if problem.em_P is None else (problem.em_P, problem.em_priors)
    out["em"] = em(em_P, em_priors, W, start=None if start is None else start["em"])[0]
    if weights is None:
        out = {name: None if v is None else v[0] for name, v in out.items()}
    return out


def bootstrap(problem: Problem, point: dict, *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
              seed: int = 0, batch: int = 100) -> dict:
    """Percentile bootstrap intervals, name -> (low (k,), high (k,)), documents resampled with replacement.

    A resample is drawn as multinomial counts over groups of documents: the same distribution as drawing
    documents, without materialising r copies of the batch. Up to `MAX_ROWS` documents, each is its own
    group (the exact bootstrap). A larger batch is grouped by its probabilities on a grid (0.01, coarser
    until at most `MAX_ROWS` groups remain) and by decision, each group standing for its documents by its
    mean probabilities (exact for the counts and PCC, a second-order approximation for EM); the interval is
    centred on the exact estimate: it is the grouped resamples' spread around the grouped batch's own
    estimate. At that size the spread is a fraction of a point and the grouping moves it far less.
    EM starts each resample from the batch's estimate: fewer iterations, the same fixed point. ACC and PACC
    also draw their rates for each resample from their posterior (`Strata.matrices`), from a random stream
    of their own: the documents drawn, and so CC's and EM's intervals, do not depend on them."""
    rng = np.random.default_rng(seed)
    rates_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    n = len(problem.P)
    if n <= MAX_ROWS:
        compact, counts = problem, np.ones(n)
    else:
        compact, counts = _grouped(problem)
    shift = {}
    if compact is not problem:
        base = estimate(compact, counts[None, :], start=point)
        shift = {name: None if point[name] is None else point[name] - base[name][0] for name in point}
    draws: dict[str, list] = {name: [] for name in point}
    # EM holds (resamples x groups) floats at once: at most about 16 MB a batch
    batch = max(1, min(batch, 2_000_000 // max(1, len(counts))))
    for start in range(0, resamples, batch):
        size = min(batch, resamples - start)
        W = rng.multinomial(n, counts / n, size=size).astype(float)
        drawn = None if compact.strata is None else \
            tuple(compact.strata.matrices(key, rates_rng, size) for key in ("confusion", "soft_confusion"))
        for name, value in estimate(compact, W, start=point, matrices=drawn).items():
            if value is not None:
                draws[name].append(value + shift.get(name, 0.0))
    alpha = (1.0 - confidence) / 2
    out = {}
    for name, values in draws.items():
        if not values:
            out[name] = None
            continue
        values = np.vstack(values)
        out[name] = (np.quantile(values, alpha, axis=0), np.quantile(values, 1 - alpha, axis=0))
    return out


MAX_ROWS = 3000  # documents (or groups of them) a bootstrap resamples one by one


def _row_keys(columns: np.ndarray) -> np.ndarray:
    """Rows of non-negative integers as one integer each (mixed radix), equal where the rows are: sorting
    integers is some ten times faster than sorting rows (`np.unique(axis=0)`). The rows themselves when the
    key would not fit in 63 bits (many labels)."""
    key = np.zeros(len(columns), dtype=np.int64)
    room = 1
    for column in columns.T:
        radix = int(column.max(initial=0)) + 1
        room *= radix
        if room >= 1 << 62:
            return columns
        key = key * radix + column
    return key


def _grouped(problem: Problem) -> tuple[Problem, np.ndarray]:
    """The documents grouped by probabilities on a grid (and decision and stratum), at most `MAX_ROWS` groups
    unless the grid's coarsest step (0.1) leaves more: (each group's mean probabilities, decision and
    stratum, its size)."""
    P, predicted = problem.P, problem.predicted
    of = np.zeros(len(P), dtype=int) if problem.strata is None else problem.strata.of
    for step in (0.01, 0.02, 0.05, 0.1):
        keys = _row_keys(np.column_stack([np.floor(P / step).astype(np.int64), predicted, of]))
        _, inverse, counts = np.unique(keys, axis=keys.ndim - 1, return_inverse=True, return_counts=True)
        if len(counts) <= MAX_ROWS:
            break
    inverse = inverse.ravel()
    sums = np.zeros((len(counts), P.shape[1]))
    np.add.at(sums, inverse, P)
    decisions = np.zeros(len(counts), dtype=int)
    decisions[inverse] = predicted
    em_P = None
    if problem.em_P is not None:
        em_P = np.zeros((len(counts), P.shape[1]))
        np.add.at(em_P, inverse, problem.em_P)
        em_P /= counts[:, None]
    strata = None
    if problem.strata is not None:
        strata = Strata(np.zeros(len(counts), dtype=int), problem.strata.parts, problem.strata.pooled)
        strata.of[inverse] = of
    grouped = Problem(sums / counts[:, None], decisions, problem.rates, problem.priors, em_P, problem.em_priors,
                      strata)
    return grouped, counts.astype(float)
