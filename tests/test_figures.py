"""The figures users decide by: metrics against scikit-learn's and against hand-counted answers,
cross-validation that cannot see its test fold, a saved model that predicts as it did in memory, per-label
thresholds at, above and below their value."""

import csv
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classify.corpus import load_corpus
from classify.metrics import multi_label_metrics, single_label_metrics
from classify.model import ClassifyModel, ModelConfig
from classify.scoring import Calibrator, LinearScorer, TaskModel

from .conftest import TINY

# the metrics are rounded to 4 decimals in what `evaluate` and `cv` print
ROUNDED = 5e-5 + 1e-12
LABELS = ["a", "b", "c", "d"]


def close(value, expected) -> bool:
    return abs(value - expected) <= ROUNDED


# -- metrics against scikit-learn ------------------------------------------------------------------------
@st.composite
def single_label_runs(draw):
    n = draw(st.integers(1, 60))
    truth = draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    guess = draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n))
    known = draw(st.lists(st.sampled_from(LABELS + ["never"]), max_size=5, unique=True))
    return truth, guess, known


@st.composite
def multi_label_runs(draw):
    n = draw(st.integers(1, 60))
    subsets = st.lists(st.sampled_from(LABELS), max_size=4, unique=True)
    truth = draw(st.lists(subsets, min_size=n, max_size=n))
    guess = draw(st.lists(subsets, min_size=n, max_size=n))
    # a model knows one label at least, and evaluation always passes them (with no label at all, there is
    # nothing to score)
    known = draw(st.lists(st.sampled_from(LABELS + ["never"]), min_size=1, max_size=5, unique=True))
    return truth, guess, known


@pytest.mark.filterwarnings("ignore:A single label was found")  # scikit-learn's, on one-label draws
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(single_label_runs())
def test_single_label_metrics_are_scikit_learns(run):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

    truth, guess, known = run
    m = single_label_metrics(truth, guess, known)
    labels = sorted(set(known) | set(truth) | set(guess))
    present = sorted(set(truth))  # macro and weighted F1 average over the labels of the reference
    assert m["type"] == "single" and m["n"] == len(truth)
    assert close(m["accuracy"], accuracy_score(truth, guess))
    assert close(m["macro_f1"], f1_score(truth, guess, labels=present, average="macro", zero_division=0))
    assert close(m["micro_f1"], f1_score(truth, guess, labels=labels, average="micro", zero_division=0))
    weighted = f1_score(truth, guess, labels=present, average="weighted", zero_division=0)
    assert close(m["weighted_f1"], weighted)
    p, r, f, s = precision_recall_fscore_support(truth, guess, labels=labels, zero_division=0)
    assert list(m["per_label"]) == labels
    for i, label in enumerate(labels):
        got = m["per_label"][label]
        assert close(got["precision"], p[i]) and close(got["recall"], r[i]) and close(got["f1"], f[i]), label
        assert got["support"] == s[i]
    assert m["confusion_matrix"] == {"labels": labels,
                                     "matrix": confusion_matrix(truth, guess, labels=labels).tolist()}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(multi_label_runs())
@example(run=([[], [], ["a"]], [[], [], []], ["a"]))  # one label: scikit-learn would take it as binary
def test_multi_label_metrics_are_scikit_learns(run):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score
    from sklearn.preprocessing import MultiLabelBinarizer

    truth, guess, known = run
    m = multi_label_metrics(truth, guess, known)
    labels = sorted(set(known) | {x for row in truth + guess for x in row})
    binarizer = MultiLabelBinarizer(classes=labels)
    T, P = binarizer.fit_transform(truth), binarizer.transform(guess)
    assert m["type"] == "multi" and m["n"] == len(truth)
    assert close(m["accuracy"], accuracy_score(T, P))  # exact match: every label of a document right
    # each label is a binary task of its own, its positive class the label
    scores = (precision_score, recall_score, f1_score)
    per_label = [tuple(score(T[:, j], P[:, j], zero_division=0) for score in scores) + (int(T[:, j].sum()),)
                 for j in range(len(labels))]
    assert list(m["per_label"]) == labels
    for (p, r, f, s), label in zip(per_label, labels, strict=True):
        got = m["per_label"][label]
        assert close(got["precision"], p) and close(got["recall"], r) and close(got["f1"], f), label
        assert got["support"] == s
    present = [f for p, r, f, s in per_label if s]
    assert close(m["macro_f1"], np.mean(present) if present else 0.0)
    # micro: every (document, label) pair counted as one binary decision
    assert close(m["micro_f1"], f1_score(T.ravel(), P.ravel(), zero_division=0))
    support = sum(s for *_, s in per_label)
    assert close(m["weighted_f1"], sum(f * s for _, _, f, s in per_label) / support if support else 0.0)
    if len(labels) > 1:  # scikit-learn's own multi-label averages (one column would be read as binary)
        assert close(m["micro_f1"], f1_score(T, P, average="micro", zero_division=0))
        assert close(m["weighted_f1"], f1_score(T, P, average="weighted", zero_division=0))
    assert m["confusion_matrix"]["matrix"] == [confusion_matrix(T[:, j], P[:, j], labels=[0, 1]).tolist()
                                               for j in range(len(labels))]


# -- metrics against answers counted by hand ---------------------------------------------------------------
def test_single_label_metrics_on_a_hand_counted_example():
    truth = ["a", "a", "a", "b", "b", "c"]
    guess = ["a", "a", "b", "b", "c", "c"]
    m = single_label_metrics(truth, guess, ["a", "b", "c"])
    # a: 2 right of 2 predicted, 2 found of 3; b: 1 of 2, 1 of 2; c: 1 of 2, 1 of 1
    assert m["per_label"]["a"] == {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3}
    assert m["per_label"]["b"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_label"]["c"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1}
    assert m["accuracy"] == 0.6667 and m["micro_f1"] == 0.6667
    assert m["macro_f1"] == round((0.8 + 0.5 + 2 / 3) / 3, 4)
    assert m["weighted_f1"] == round((3 * 0.8 + 2 * 0.5 + 2 / 3) / 6, 4)
    assert m["confusion_matrix"]["matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]  # rows: truth


def test_multi_label_metrics_on_a_hand_counted_example():
    truth = [["a"], ["a", "b"], [], ["b"]]
    guess = [["a"], ["a"], ["b"], ["a", "b"]]
    m = multi_label_metrics(truth, guess, ["a", "b"])
    # a: 3 predicted, 2 right, 2 to find; b: 2 predicted, 1 right, 2 to find
    assert m["per_label"]["a"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert m["per_label"]["b"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["accuracy"] == 0.25  # only the first document has exactly its labels
    assert m["micro_f1"] == round(2 * 3 / (2 * 3 + 2 + 1), 4)  # tp 3, fp 2, fn 1
    assert m["macro_f1"] == 0.65 and m["weighted_f1"] == 0.65
    assert m["confusion_matrix"]["matrix"] == [[[1, 1], [0, 2]], [[1, 1], [1, 1]]]  # [[tn, fp], [fn, tp]]


def test_multi_label_metrics_of_a_task_with_one_label():
    """A multi-label task with a single label ("urgent" or nothing): the figures are that label's, not those
    of its absence."""
    m = multi_label_metrics([[], [], ["urgent"]], [[], [], []], ["urgent"])
    assert m["per_label"]["urgent"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert m["macro_f1"] == m["micro_f1"] == m["weighted_f1"] == 0.0
    assert m["accuracy"] == 0.6667
    m = multi_label_metrics([["urgent"], [], ["urgent"]], [["urgent"], ["urgent"], []], ["urgent"])
    assert m["per_label"]["urgent"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["confusion_matrix"]["matrix"] == [[[0, 1], [1, 1]]]


# -- cross-validation cannot see its test fold ------------------------------------------------------------
def _random_corpus(path, n=150, seed=0):
    """Texts of made-up words with labels drawn independently of them: nothing generalises, but a linear
    model can learn every training document by heart (each word is in a few documents only)."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = sorted({"".join(rng.choice(letters, 7)) for _ in range(300)})
    sentiment = np.array(["negative", "neutral", "positive"] * (n // 3))
    rng.shuffle(sentiment)
    topics = [";".join(t for t in ("devices", "operators") if rng.random() < 0.5) for _ in range(n)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "topics", "sentiment"])
        for i in range(n):
            writer.writerow([f"r{i}", " ".join(rng.choice(words, 10)), topics[i], sentiment[i]])
    return path


@pytest.fixture(scope="module")
def random_corpus(tmp_path_factory):
    return _random_corpus(tmp_path_factory.mktemp("random") / "random.csv")


def test_a_model_learns_the_random_corpus_by_heart(random_corpus):
    """What a leak of the test fold into training would report: about 1.0 (the test below tells it apart)."""
    corpus = load_corpus(random_corpus, multi_label=["topics"])
    model = ClassifyModel(ModelConfig(cv_folds=3)).fit(corpus)
    predicted = model.predict(corpus.texts)
    sentiment = single_label_metrics(corpus.tasks["sentiment"].values, predicted["sentiment"], [])
    assert sentiment["macro_f1"] >= 0.95
    # multi-label: the training documents are ranked as known, though thresholds chosen on out-of-fold
    # (chance) scores give away part of it in F1
    from sklearn.metrics import roc_auc_score

    task = model.tasks_["topics"]
    P = model.predict_scores(corpus.texts)["topics"]
    for j, label in enumerate(task.labels):
        assert roc_auc_score([label in v for v in corpus.tasks["topics"].values], P[:, j]) >= 0.99


def test_cv_on_random_labels_reports_chance(cli, random_corpus):
    code, out, _ = cli("cv", random_corpus, "--folds", "3", "--multi-label", "topics", "--format", "json",
                       "-q")
    assert code == 0
    tasks = json.loads(out)["tasks"]
    sentiment, topics = tasks["sentiment"], tasks["topics"]
    # three balanced labels: chance is 1/3 (its standard error on 150 documents is about 0.04)
    assert 0.1 < sentiment["accuracy"]["mean"] < 0.5
    assert 0.1 < sentiment["macro_f1"]["mean"] < 0.5
    # two labels, each on half of the documents: predicting them always scores F1 2/3, never seeing them 0
    assert topics["macro_f1"]["mean"] < 0.75
    assert topics["accuracy"]["mean"] < 0.4  # both labels right by chance: 1/4


# -- a saved model is the model that was trained ----------------------------------------------------------
def test_a_model_reloaded_from_disk_predicts_exactly_as_the_one_saved(tmp_path):
    from classify.persist import load_model, make_provenance, save_model

    corpus = load_corpus(TINY)
    model = ClassifyModel(ModelConfig(cv_folds=3)).fit(corpus)
    save_model(model, make_provenance(model, corpus, 0.0), tmp_path / "m.joblib")
    loaded, provenance = load_model(tmp_path / "m.joblib")
    texts = corpus.texts + ["Ma box ne marche plus, le support ne répond pas", "Match nul ce soir", ""]
    before, after = model.predict_scores(texts), loaded.predict_scores(texts)
    assert list(before) == list(after) == ["topics", "sentiment"]
    for task in before:
        np.testing.assert_array_equal(after[task], before[task])
    assert loaded.predict(texts) == model.predict(texts)
    assert provenance["cv_metrics"] == model.cv_metrics_


# -- per-label thresholds --------------------------------------------------------------------------------
def _multi_label_task(thresholds):
    labels = ["x", "y", "z"]
    scorer = LinearScorer(np.zeros((3, 1)), np.zeros(3))
    return TaskModel("t", True, labels, scorer, Calibrator(True), thresholds)


def test_a_label_is_given_at_its_threshold_and_above_it_not_below():
    task = _multi_label_task([0.25, 0.5, 0.75])
    P = np.array([
        [0.25, 0.5, 0.75],  # each exactly at its threshold: given
        [np.nextafter(0.25, 0), np.nextafter(0.5, 0), np.nextafter(0.75, 0)],  # just below: not given
        [np.nextafter(0.25, 1), np.nextafter(0.5, 1), np.nextafter(0.75, 1)],  # just above: given
        [0.5, 0.5, 0.5],  # above x's, at y's, below z's
        [0.0, 1.0, 0.74],
    ])
    assert task.decide(P) == [["x", "y", "z"], [], ["x", "y", "z"], ["x", "y"], ["y"]]


def test_one_threshold_for_every_label_also_counts_at_its_value():
    task = _multi_label_task([0.9, 0.9, 0.9])
    P = np.array([[0.3, np.nextafter(0.3, 0), np.nextafter(0.3, 1)]])
    assert task.decide(P, threshold=0.3) == [["x", "z"]]
    assert task.decide(P) == [[]]


def test_thresholds_apply_to_what_the_model_predicts(tiny_model_path):
    """The documents' own scores as the thresholds: every label a document scored at least that is given."""
    from classify.api import load

    loaded = load(tiny_model_path)
    task = loaded.model.tasks_["topics"]
    texts = load_corpus(TINY).texts
    P = loaded.model.predict_scores(texts)["topics"]
    for i in range(3):
        task.thresholds = P[i].copy()
        decided = loaded.model.predict(texts)["topics"]
        assert decided[i] == sorted(task.labels)
        cut = P[i]
        assert decided == [sorted(np.asarray(task.labels)[row >= cut].tolist()) for row in P]
