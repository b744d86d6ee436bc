import numpy as np
import pytest

from classify.api import load, train
from classify.corpus import load_corpus
from classify.errors import ConfigError, CorpusError
from classify.model import ClassifyModel, ModelConfig
from classify.persist import FORMAT_VERSION

from .conftest import TINY


def test_save_load_round_trip_predicts_the_same(tiny_model_path):
    corpus = load_corpus(TINY)
    texts = corpus.texts + ["Ma box internet ne marche plus, le support ne répond pas", "Match nul ce soir"]
    loaded = load(tiny_model_path)
    again = load(tiny_model_path)
    a, b = loaded.model.predict_scores(texts), again.model.predict_scores(texts)
    for task in a:
        np.testing.assert_array_equal(a[task], b[task])


def test_model_learns_the_tiny_corpus(tiny_model_path):
    corpus = load_corpus(TINY)
    predicted = load(tiny_model_path).model.predict(corpus.texts)
    right = sum(p == t for p, t in zip(predicted["sentiment"], corpus.tasks["sentiment"].values))
    assert right / len(corpus) > 0.9
    truth = corpus.tasks["topics"].values
    exact = sum(p == t for p, t in zip(predicted["topics"], truth))
    assert exact / len(corpus) > 0.8


def test_probabilities_are_probabilities(tiny_model_path):
    scores = load(tiny_model_path).model.predict_scores(["Orange a coupé ma ligne sans prévenir"])
    np.testing.assert_allclose(scores["sentiment"].sum(axis=1), 1.0, rtol=1e-6)
    assert ((scores["topics"] >= 0) & (scores["topics"] <= 1)).all()


def test_provenance(tiny_model_path):
    p = load(tiny_model_path).provenance
    assert p["corpus"]["n_documents"] == 36 and len(p["corpus"]["sha256"]) == 64
    assert p["tasks"]["topics"]["type"] == "multi"
    assert set(p["tasks"]["topics"]["thresholds"]) == {"devices", "operators", "customer_relations"}
    assert p["tasks"]["sentiment"]["labels"] == ["negative", "neutral", "positive"]
    assert {"classify", "scikit-learn", "python"} <= set(p["versions"])
    assert set(p["cv_metrics"]) == {"topics", "sentiment"}
    assert p["config"]["classifier"] == "svm"


def test_same_seed_same_model(tmp_path):
    a = train(TINY, tmp_path / "a.joblib", config=ModelConfig(cv_folds=3, seed=1))
    b = train(TINY, tmp_path / "b.joblib", config=ModelConfig(cv_folds=3, seed=1))
    assert a.provenance["cv_metrics"] == b.provenance["cv_metrics"]
    texts = ["Le réseau SFR est en panne"]
    for task, P in load(a.path).model.predict_scores(texts).items():
        np.testing.assert_array_equal(P, load(b.path).model.predict_scores(texts)[task])


@pytest.mark.parametrize("classifier", ["logreg", "sgd", "svm"])
def test_every_classifier_trains(classifier):
    corpus = load_corpus(TINY)
    model = ClassifyModel(ModelConfig(classifier=classifier, cv_folds=3)).fit(corpus)
    assert set(model.predict(["super téléphone"])) == {"topics", "sentiment"}


def test_single_class_task_is_refused(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("text,label\nbon,positive\ntrès bon,positive\nsuper,positive\n")
    with pytest.raises(CorpusError, match="single label"):
        ClassifyModel().fit(load_corpus(path))


def test_label_with_one_example_is_named(tmp_path):
    rows = [f"texte numéro {i} positif,positive" for i in range(6)] + ["un seul,negative"]
    path = tmp_path / "rare.csv"
    path.write_text("text,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(CorpusError, match="'negative' has a single example"):
        ClassifyModel().fit(load_corpus(path))


def test_bad_config_is_refused():
    with pytest.raises(ConfigError, match="unknown"):
        ModelConfig(classifier="bert")
    with pytest.raises(ConfigError, match="--cv 1"):
        ModelConfig(cv_folds=1)
    with pytest.raises(ConfigError, match="svm_tol must be positive"):
        ModelConfig(svm_tol=0)


def test_the_svm_stops_at_liblinears_tolerance_and_the_model_records_it(tiny_model_path):
    """LinearSVC is fitted with `svm_tol` (0.1, liblinear's default, not scikit-learn's 1e-4), the provenance
    records it (`classify info` shows it), and a model saved before the setting existed reads as fitted at 1e-4."""
    from classify.training import build_estimator
    from classify.persist import read_payload

    assert build_estimator(ModelConfig()).tol == 0.1
    assert build_estimator(ModelConfig(svm_tol=1e-3)).tol == 1e-3
    assert read_payload(tiny_model_path)["provenance"]["config"]["svm_tol"] == 0.1
    old = {k: v for k, v in ModelConfig().to_dict().items() if k != "svm_tol"}
    assert ModelConfig.from_dict(old).svm_tol == 1e-4


def test_format_version_is_recorded(tiny_model_path):
    from classify.persist import read_payload

    assert read_payload(tiny_model_path)["format_version"] == FORMAT_VERSION


def test_a_large_task_is_scored_on_one_held_out_fold():
    """Above --cv-limit documents a task is calibrated and scored on the first of its K folds only: the same
    final weights as with full cross-validation, the same labels for single-label tasks (the temperature does
    not move the argmax), metrics that say how many rows they were measured on, every label held out."""
    corpus = load_corpus(TINY)
    full = ClassifyModel(ModelConfig(cv_folds=3, cv_limit=0)).fit(corpus)
    held = ClassifyModel(ModelConfig(cv_folds=3, cv_limit=35)).fit(corpus)
    for name in ("topics", "sentiment"):
        np.testing.assert_array_equal(held.tasks_[name].scorer.coef, full.tasks_[name].scorer.coef)
        assert full.cv_metrics_[name]["folds"] == 3 and "held_out" not in full.cv_metrics_[name]
        assert held.cv_metrics_[name]["held_out"] == held.cv_metrics_[name]["n"] == 12
        assert "folds" not in held.cv_metrics_[name]
    assert all(m["support"] > 0 for m in held.cv_metrics_["topics"]["per_label"].values())
    texts = corpus.texts + ["Le réseau SFR est en panne depuis hier", "Superbe écran"]
    assert held.predict(texts)["sentiment"] == full.predict(texts)["sentiment"]
    # a task at the limit is still cross-validated
    assert ClassifyModel(ModelConfig(cv_folds=3, cv_limit=36)).fit(corpus).cv_metrics_["topics"]["folds"] == 3


def test_a_label_missing_from_the_held_out_fold_means_full_cross_validation(monkeypatch):
    from classify import training as crossval

    def unlucky(Y, k, seed=0):  # every document with the first label in the training folds
        return np.where(Y[:, 0], 1, np.arange(len(Y)) % k)

    monkeypatch.setattr(crossval, "iterative_stratification", unlucky)
    messages = []
    model = ClassifyModel(ModelConfig(cv_folds=3, cv_limit=10)).fit(load_corpus(TINY), progress=messages.append)
    assert model.cv_metrics_["topics"]["folds"] == 3 and "held_out" not in model.cv_metrics_["topics"]
    assert "task topics: a label is too rare for one held-out fold: 3-fold cross-validation" in messages
    assert model.cv_metrics_["sentiment"]["held_out"] == 12


def test_a_negative_cv_limit_is_refused():
    with pytest.raises(ConfigError, match="--cv-limit must be 0"):
        ModelConfig(cv_limit=-1)


def test_training_reports_the_fits_of_a_large_task(monkeypatch):
    """On a problem large enough for worker processes, training says how many of a task's fits are done
    (every tenth, the last one included); a small problem stays quiet."""
    from classify import training as model

    corpus = load_corpus(TINY)
    quiet = []
    ClassifyModel(ModelConfig(cv_folds=3)).fit(corpus, progress=quiet.append)
    assert not any("fits done" in m for m in quiet)
    monkeypatch.setattr(model, "PARALLEL_MIN_CELLS", 0)
    heard = []
    ClassifyModel(ModelConfig(cv_folds=3), n_jobs=2).fit(corpus, progress=heard.append)
    topics = [m for m in heard if m.startswith("task topics: ") and "fits done" in m]
    # 3 folds + the final fit, 3 labels each, two models each (the word and the character n-grams)
    assert topics[-1] == "task topics: 24/24 fits done"
    assert [m for m in heard if m.startswith("task sentiment: ") and "fits done" in m][-1] == \
        "task sentiment: 8/8 fits done"


def _part_models(config, X, y, parts, tails):
    """Each part's model, fitted alone on its columns, as a full-width coef (zeros elsewhere) + intercept; a
    binary one (`_fit_binary`, with NB-SVM when configured) for a 0/1 target."""
    from classify.training import _fit_binary, build_estimator

    fitted = []
    for cols, tail in zip(parts, tails):
        part = X[:, cols].astype(np.float64)
        if set(np.unique(y)) <= {0, 1}:
            w, b = _fit_binary(config, part, y, tail)
            w, b = w[None, :], np.array([b])
        else:
            est = build_estimator(config).fit(part, y)
            w, b = est.coef_, est.intercept_
        coef = np.zeros((w.shape[0], X.shape[1]))
        coef[:, cols] = w
        fitted.append((coef, b))
    return fitted


@pytest.mark.parametrize("multi, nbsvm", [(False, False), (True, False), (True, True)])
def test_the_ensemble_is_the_mean_of_a_word_model_and_a_character_model(multi, nbsvm):
    """With `ensemble` (the default), the word block (with the lexicon after it) and the character block are
    fitted as two models, and the task's linear layer is the mean of their decisions: one weight vector over
    all the columns, so prediction is one product as before. With NB-SVM, the lexicon's columns (the end of
    the word part) keep a ratio of 1."""
    from classify.training import build_normalizer, ensemble_parts, fit_features, fit_scorers

    corpus = load_corpus(TINY)
    config = ModelConfig(nbsvm=nbsvm)
    assert config.ensemble
    texts = [build_normalizer(config)(t) for t in corpus.texts]
    union, X = fit_features(config, texts)
    parts = ensemble_parts(config, union, X.shape[1])
    n_word, n_char = (len(block.vocabulary_) for _, block in union.transformer_list[:2])
    assert [name for name, _ in union.transformer_list] == ["word", "char", "lexicon"]
    np.testing.assert_array_equal(parts[0], np.r_[np.arange(n_word), np.arange(n_word + n_char, X.shape[1])])
    np.testing.assert_array_equal(parts[1], np.arange(n_word, n_word + n_char))
    if multi:
        task = corpus.tasks["topics"]
        labels = task.labels
        Y = np.array([[label in row for label in labels] for row in task.values], dtype=int)
        columns = [_part_models(config, X, Y[:, j], parts, [2, 0]) for j in range(len(labels))]
        coef = np.vstack([(a[0] + b[0]) / 2 for a, b in columns])
        intercept = np.hstack([(a[1] + b[1]) / 2 for a, b in columns])
    else:
        Y = np.asarray(corpus.tasks["sentiment"].values, dtype=object)
        labels = sorted(set(Y))
        (ca, ia), (cb, ib) = _part_models(config, X, Y, parts, [2, 0])
        coef, intercept = (ca + cb) / 2, (ia + ib) / 2
    [scorer] = fit_scorers(config, X, Y, multi, labels, [None], dense_tail=2, parts=parts)
    np.testing.assert_allclose(scorer.coef, coef, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scorer.intercept, intercept, rtol=1e-5, atol=1e-6)
    # and it is not the single model over every column
    [single] = fit_scorers(config, X, Y, multi, labels, [None], dense_tail=2, parts=None)
    assert np.abs(single.coef - scorer.coef).max() > 1e-3


def test_no_ensemble_is_one_model_over_every_column_and_old_models_read_so(tmp_path):
    """`--no-ensemble` (and a model saved before the setting existed) is one linear model over all blocks."""
    from classify.training import ensemble_parts, fit_features

    corpus = load_corpus(TINY)
    union, X = fit_features(ModelConfig(), corpus.texts)
    assert ensemble_parts(ModelConfig(ensemble=False), union, X.shape[1]) is None
    no_char, Xw = fit_features(ModelConfig(char=False), corpus.texts)
    assert ensemble_parts(ModelConfig(char=False), no_char, Xw.shape[1]) is None  # nothing to split off
    old = {k: v for k, v in ModelConfig().to_dict().items() if k != "ensemble"}
    assert ModelConfig.from_dict(old).ensemble is False
    out = tmp_path / "single.joblib"
    result = train(TINY, out, config=ModelConfig(ensemble=False))
    assert result.provenance["config"]["ensemble"] is False
