"""`classify.TextClassifier` as scikit-learn users meet it, and the command line's model built from it."""

import doctest
import inspect
import os
import pickle
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classify import TextClassifier
from classify.corpus import load_corpus
from classify.model import ClassifyModel, ModelConfig

from .conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny():
    corpus = load_corpus(TINY)
    return corpus.texts, corpus.tasks["sentiment"].values, corpus.tasks["topics"].values


# -- parameters ------------------------------------------------------------------------------------------
def test_the_parameters_are_the_model_settings_with_their_defaults():
    signature = inspect.signature(TextClassifier.__init__).parameters
    config = ModelConfig()
    names = [name for name in signature if name != "self"]
    assert names == [f.name for f in fields(ModelConfig)] + ["n_jobs"]
    for f in fields(ModelConfig):
        assert signature[f.name].default == getattr(config, f.name), f.name
    assert TextClassifier().model_config() == config
    assert TextClassifier.from_config(ModelConfig(C=2.0, char=False)).get_params()["C"] == 2.0


def test_get_set_params_and_clone_keep_values_as_given():
    from sklearn.base import clone

    clf = TextClassifier(char_ngrams=[3, 4], C=0.25)
    assert clf.get_params()["char_ngrams"] == [3, 4]  # stored as given: the list stays a list
    copy = clone(clf.set_params(classifier="logreg"))
    assert copy.get_params() == clf.get_params() and copy is not clf


def test_a_bad_parameter_is_named_when_fitting(tiny):
    texts, sentiment, _ = tiny
    with pytest.raises(ValueError, match="'forest' is unknown; choose one of: logreg, svm, sgd"):
        TextClassifier(classifier="forest").fit(texts, sentiment)
    with pytest.raises(ValueError, match="C must be positive, got -1"):
        TextClassifier(C=-1).fit(texts, sentiment)


# -- fit and predict -------------------------------------------------------------------------------------
def test_single_label(tiny):
    texts, sentiment, _ = tiny
    clf = TextClassifier(cv_folds=3).fit(pd.Series(texts), pd.Series(sentiment))
    assert clf.classes_.tolist() == ["negative", "neutral", "positive"] and not clf.multilabel_
    predicted = clf.predict(texts)
    P = clf.predict_proba(texts)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-6)
    assert predicted.tolist() == clf.classes_[P.argmax(axis=1)].tolist()
    assert (clf.decision_function(texts).argmax(axis=1) == P.argmax(axis=1)).all()
    assert clf.score(texts, sentiment) == np.mean(predicted == np.asarray(sentiment)) > 0.9
    assert clf.cv_metrics_["type"] == "single" and clf.cv_metrics_["folds"] == 3


def test_two_classes_give_one_decision_score_positive_for_the_second(tiny):
    texts, sentiment, _ = tiny
    rows = [i for i, s in enumerate(sentiment) if s != "neutral"]
    clf = TextClassifier().fit([texts[i] for i in rows], [sentiment[i] for i in rows])
    scores = clf.decision_function(texts)
    assert scores.shape == (len(texts),)
    assert clf.predict(texts).tolist() == np.where(scores > 0, "positive", "negative").tolist()


def test_multi_label_from_lists_and_from_an_indicator_matrix_agree(tiny):
    from sklearn.preprocessing import MultiLabelBinarizer

    texts, _, topics = tiny
    lists = TextClassifier(cv_folds=3).fit(texts, topics)
    Y = MultiLabelBinarizer().fit_transform(topics)
    matrix = TextClassifier(cv_folds=3).fit(texts, Y)
    assert lists.multilabel_ and lists.classes_.tolist() == ["customer_relations", "devices", "operators"]
    assert matrix.classes_.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(lists.predict_proba(texts), matrix.predict_proba(texts))
    predicted = lists.predict(texts)
    assert isinstance(predicted, list) and all(isinstance(labels, list) for labels in predicted)
    indicator = matrix.predict(texts)
    assert indicator.shape == Y.shape
    binarizer = MultiLabelBinarizer(classes=lists.classes_.tolist())
    assert binarizer.fit_transform(predicted).tolist() == indicator.tolist()
    assert lists.score(texts, topics) == matrix.score(texts, Y) > 0.8
    assert lists.decision_function(texts).shape == (len(texts), 3)


def test_an_indicator_column_without_any_example_is_kept(tiny):
    texts, _, topics = tiny
    Y = np.array([[int("devices" in t), int("operators" in t), 0] for t in topics])
    clf = TextClassifier(cv_folds=3).fit(texts, Y)
    assert clf.classes_.tolist() == [0, 1, 2]
    assert clf.predict(texts)[:, 2].sum() == 0


def test_cv_folds_zero_keeps_no_metrics(tiny):
    texts, sentiment, _ = tiny
    assert TextClassifier(cv_folds=0).fit(texts, sentiment).cv_metrics_ is None


@pytest.mark.parametrize("X, y, message", [
    ("un seul texte", ["a", "b"], "got a single string; wrap it in a list"),
    (np.array([["a", "b"], ["c", "d"]]), ["x", "y"], r"must be one-dimensional.*shape \(2, 2\)"),
    (["bon", None, "mauvais"], ["p", "n", "n"], r"X\[1\] is NoneType None \(a missing text"),
    (pd.Series(["bon", float("nan")]), ["p", "n"], r"X\[1\] is float nan \(a missing text"),
    (["bon", "mauvais"], ["p", "p"], r"y has a single class \('p'\); a classifier needs at least 2 classes"),
    (["bon", "mauvais", "moyen"], ["p", "n"], "X has 3 texts and y 2 labels"),
    (["bon", "mauvais"], ["p", None], r"y\[1\] is missing"),
    (["bon", "mauvais"], [["p"], "n"], "y mixes lists of labels with single labels"),
    (["bon", "mauvais"], np.array([[0, 2], [1, 0]]), "an indicator y must hold 0 and 1 only"),
    (["bon", "mauvais"], [0.5, 1.5], "Unknown label type"),
    (["bon", "mauvais"], None, "requires y to be passed"),
])
def test_bad_input_says_what_was_received_and_what_is_accepted(X, y, message):
    with pytest.raises(ValueError, match=message):
        TextClassifier().fit(X, y)


def test_a_corpus_too_small_to_learn_from_is_a_value_error():
    with pytest.raises(ValueError, match="no n-gram occurs in 2 or more documents"):
        TextClassifier().fit(["abc", "xyz"], ["a", "b"])
    with pytest.raises(ValueError, match="label 'b' has a single example"):
        TextClassifier().fit(["le réseau", "le réseau tombe", "le réseau marche"], ["a", "a", "b"])


def test_predicting_before_fitting_says_so():
    from sklearn.exceptions import NotFittedError

    for method in ("predict", "predict_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(TextClassifier(), method)(["texte"])


# -- scikit-learn's tools ------------------------------------------------------------------------------
def test_cross_val_score_and_a_pipeline(tiny):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    texts, sentiment, _ = tiny
    scores = cross_val_score(TextClassifier(cv_folds=3), texts, sentiment, cv=3)
    assert scores.shape == (3,) and (scores > 0.3).all()
    upper = FunctionTransformer(lambda X: [x.upper() for x in X])
    pipeline = make_pipeline(upper, TextClassifier(cv_folds=3))
    assert pipeline.fit(texts, sentiment).predict(texts[:2]).shape == (2,)


def test_the_api_example_a_grid_search_on_the_bundled_corpus(monkeypatch):
    """The example of `classify/estimator.py`'s help, run as a doctest: a GridSearchCV over C and the
    character n-grams on the sentiment of 200 documents of seeds/corpus.csv."""
    import classify.estimator

    monkeypatch.chdir(ROOT)
    result = doctest.testmod(classify.estimator, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 7 and result.failed == 0


# -- scikit-learn's own contract checks --------------------------------------------------------------------
NUMBERS = ("feeds numbers as X (numeric arrays); TextClassifier takes texts and refuses anything else with a "
           "ValueError")
ONE_COLUMN = ("indexes X as a two-dimensional array after making it one column of numbers (the one_d_array "
              "tag that texts need); numbers are not texts either")
EXPECTED_FAILURES = {
    "check_fit_score_takes_y": NUMBERS,
    "check_estimators_overwrite_params": NUMBERS,
    "check_estimators_fit_returns_self": NUMBERS,
    "check_readonly_memmap_input": NUMBERS,
    "check_n_features_in_after_fitting": NUMBERS + "; and texts have no columns to count in n_features_in_",
    "check_n_features_in": NUMBERS + "; and texts have no columns to count in n_features_in_",
    "check_positive_only_tag_during_fit": NUMBERS,
    "check_estimators_dtypes": NUMBERS,
    "check_dtype_object": "feeds an object array of numbers; texts are strings",
    "check_estimators_empty_data_messages": "expects the message of a numeric array with 0 columns; texts "
                                            "have no columns (an empty y is refused with its own message)",
    "check_pipeline_consistency": NUMBERS,
    "check_estimators_nan_inf": "NaN and inf are numbers; a missing text (None, NaN) is refused as no string",
    "check_estimator_sparse_tag": "fits a sparse numeric matrix: not texts",
    "check_estimator_sparse_array": "fits a sparse numeric array: not texts (the error says so)",
    "check_estimator_sparse_matrix": "fits a sparse numeric matrix: not texts (the error says so)",
    "check_estimators_pickle": NUMBERS + "; pickling a fitted model is tested on texts",
    "check_classifier_data_not_an_array": "wraps a numeric array in an object that is not iterable",
    "check_classifiers_classes": NUMBERS,
    "check_classifiers_train": NUMBERS,
    "check_classifiers_multilabel_representation_invariance": NUMBERS,
    "check_classifiers_multilabel_output_format_predict": NUMBERS,
    "check_classifiers_multilabel_output_format_predict_proba": NUMBERS,
    "check_classifiers_multilabel_output_format_decision_function": NUMBERS,
    "check_supervised_y_2d": NUMBERS,
    "check_class_weight_classifiers": NUMBERS + " (two columns)",
    "check_decision_proba_consistency": NUMBERS + " (two columns)",
    "check_fit_idempotent": NUMBERS,
    "check_fit_check_is_fitted": NUMBERS,
    "check_dont_overwrite_parameters": ONE_COLUMN,
    "check_f_contiguous_array_estimator": ONE_COLUMN,
    "check_methods_sample_order_invariance": ONE_COLUMN,
    "check_methods_subset_invariance": ONE_COLUMN,
    "check_fit2d_1sample": ONE_COLUMN,
    "check_fit2d_1feature": ONE_COLUMN,
    "check_dict_unchanged": ONE_COLUMN,
    "check_fit2d_predict1d": ONE_COLUMN,
}


def _checks():
    from sklearn.utils.estimator_checks import parametrize_with_checks

    # strict: a check listed here that starts to pass fails the suite, so the list stays the truth
    return parametrize_with_checks([TextClassifier()], expected_failed_checks=lambda _: EXPECTED_FAILURES,
                                   xfail_strict=True)


@_checks()
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


# -- the command line's model -------------------------------------------------------------------------------
def test_each_task_of_the_command_lines_model_is_its_text_classifier(tiny):
    """On a corpus where every document is annotated for every task, a task of the multi-task model is the
    TextClassifier of that task alone: same features, same fit, same probabilities."""
    texts, sentiment, topics = tiny
    config = ModelConfig(cv_folds=3)
    model = ClassifyModel(config).fit(load_corpus(TINY))
    alone = {"sentiment": TextClassifier.from_config(config).fit(texts, sentiment),
             "topics": TextClassifier.from_config(config).fit(texts, topics)}
    new = texts + ["La 5G arrive enfin chez nous", "Le conseiller a raccroché"]
    scores = model.predict_scores(new)
    for task, clf in alone.items():
        np.testing.assert_array_equal(scores[task], clf.predict_proba(new))
        predicted = clf.predict(new)
        assert model.predict(new)[task] == (predicted.tolist() if task == "sentiment" else predicted)
        assert model.cv_metrics_[task] == clf.cv_metrics_
        rebuilt = model.estimator(task)
        np.testing.assert_array_equal(rebuilt.predict_proba(new), scores[task])


def test_the_feature_blocks_are_fitted_once_for_every_task(monkeypatch):
    from classify import training as model_module

    calls = []
    fit_features = model_module.fit_features
    monkeypatch.setattr(model_module, "fit_features", lambda *a: calls.append(a) or fit_features(*a))
    model = ClassifyModel(ModelConfig(cv_folds=3)).fit(load_corpus(TINY))
    assert len(calls) == 1
    assert model.estimator("topics").features_ is model.estimator("sentiment").features_ is model.features_


def test_a_model_file_holds_no_text_classifier_nor_anything_of_scikit_learns(tiny_model_path):
    """What a model file holds stays this package's plain classes (and numpy's, scipy's, Python's)."""
    import io

    from classify.persist import MAGIC, pickled

    modules = set()

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            modules.add(module)
            return super().find_class(module, name)

    data = tiny_model_path.read_bytes()
    assert data.startswith(MAGIC)
    payload = Recorder(io.BytesIO(pickled(data))).load()
    assert type(payload["model"]).__name__ == "ClassifyModel"
    assert {m.split(".")[0] for m in modules} <= {"classify", "numpy", "scipy", "builtins", "copyreg",
                                                  "collections", "_codecs"}, modules
    assert "classify.estimator" not in modules


def test_predict_on_the_command_line_does_not_import_scikit_learn(tiny_model_path, tmp_path):
    document = tmp_path / "doc.txt"
    document.write_text("Ma box ne marche plus depuis trois jours", encoding="utf-8")
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "classify", "predict", str(document),
                             "--model", str(tiny_model_path), "--format", "jsonl"],
                            capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    assert '"sentiment"' in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "classify.model" in imported  # the model was loaded in this process
    assert not [m for m in imported if m.split(".")[0] in ("sklearn", "joblib")]


def test_import_classify_does_not_import_scikit_learn():
    code = ("import sys, classify; print(any(m.split('.')[0] == 'sklearn' for m in sys.modules)); "
            "classify.TextClassifier")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# -- saving an estimator ------------------------------------------------------------------------------------
def test_a_fitted_text_classifier_pickles_and_exports_to_skops(tiny, tmp_path):
    import skops.io as sio

    from classify.persist import SKOPS_TRUSTED

    texts, sentiment, topics = tiny
    new = texts + ["Le conseiller a raccroché"]
    for y in (sentiment, topics):
        clf = TextClassifier(cv_folds=3).fit(texts, y)
        again = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(again.predict_proba(new), clf.predict_proba(new))
        path = tmp_path / "clf.skops"
        sio.dump(clf, path)
        assert set(sio.get_untrusted_types(file=path)) <= set(SKOPS_TRUSTED)
        exported = sio.load(path, trusted=SKOPS_TRUSTED)
        np.testing.assert_array_equal(exported.predict_proba(new), clf.predict_proba(new))
        assert exported.get_params() == clf.get_params()
