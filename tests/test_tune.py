"""`train --tune`: successive halving within a time budget, stored in the model; NB-SVM weighting."""

import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from classify import tune as tune_module
from classify.corpus import load_corpus
from classify.model import ClassifyModel, ModelConfig
from classify.training import nb_ratio
from classify.persist import load_model

from .conftest import TINY
from .test_cli import error_line


def _variants(tmp_path, copies=3):
    """tiny.csv three times over, each copy with its own extra words: 108 documents."""
    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    path = tmp_path / "bigger.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "topics", "sentiment"])
        for k in range(copies):
            for i, r in enumerate(rows):
                w.writerow([f"{r['text']} copie{k} mot{(i + k) % 7}", r["topics"], r["sentiment"]])
    return load_corpus(path)


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    corpus = _variants(tmp_path_factory.mktemp("tune"))
    model, record = tune_module.tune(corpus, ModelConfig(cv_folds=3), trials=9, budget=600, seed=3,
                                     vectors_available=False, min_documents=0, n_jobs=1)
    return corpus, model, record


def test_successive_halving_keeps_the_best_third_on_more_documents(search):
    corpus, model, record = search
    assert record["stopped"] == "completed" and record["trials_planned"] == 9
    by_size: dict = {}
    for t in record["trials"]:
        by_size.setdefault(t["documents"], []).append(t)
    sizes = sorted(by_size)
    assert sizes[-1] == len(corpus) == 108 and len(sizes) >= 2
    for small, large in zip(sizes, sizes[1:]):
        scored = sorted((t for t in by_size[small] if t["score"] is not None), key=lambda t: (-t["score"], t["trial"]))
        if scored:  # the best third of a rung and the given configuration (trial 0), and only they, go on
            promoted = {t["trial"] for t in scored[:max(1, len(scored) // 3)]} | {0}
            assert sorted(t["trial"] for t in by_size[large]) == sorted(promoted)
            assert by_size[large][0]["trial"] == 0  # it runs first
    final = [t for t in by_size[len(corpus)] if t["score"] is not None]
    assert record["best"]["score"] == max(t["score"] for t in final)
    assert record["best"]["documents"] == len(corpus)
    assert model.config.to_dict() == record["best"]["config"]


def test_the_first_candidate_is_the_given_configuration(search):
    _, _, record = search
    first = [t for t in record["trials"] if t["trial"] == 0]
    assert first and all(t["changes"] == {} for t in first)
    assert len({json.dumps(t["changes"], sort_keys=True) for t in record["trials"] if t["documents"] == min(
        x["documents"] for x in record["trials"])}) == 9  # nine different configurations


def test_the_given_configuration_goes_on_whatever_its_score(search, monkeypatch):
    """Scored worst on the first rung, the configuration of the command line still reaches every rung."""
    corpus = search[0]
    real = tune_module.run_trial
    base = ModelConfig(cv_folds=3)

    def base_scores_lowest(config, train, dev, n_jobs=None):
        score, metrics, model = real(config, train, dev, n_jobs)
        small = len(train) < len(corpus)
        return (-1.0 if small and tune_module.changes_from(config, base) == {} else score), metrics, model

    monkeypatch.setattr(tune_module, "run_trial", base_scores_lowest)
    _, record = tune_module.tune(corpus, base, trials=9, budget=600, seed=3, vectors_available=False,
                                 min_documents=0, n_jobs=1)
    sizes = sorted({t["documents"] for t in record["trials"]})
    assert len(sizes) >= 2
    first_rung = [t for t in record["trials"] if t["documents"] == sizes[0]]
    assert min(first_rung, key=lambda t: t["score"])["trial"] == 0  # last of its rung...
    for size in sizes[1:]:  # ...and yet scored, first, on every later rung
        assert [t for t in record["trials"] if t["documents"] == size][0]["trial"] == 0
    assert record["best"]["score"] == max(t["score"] for t in record["trials"] if t["documents"] == sizes[-1])


def test_same_seed_same_search(search):
    corpus = search[0]

    def run(seed):
        _, record = tune_module.tune(corpus, ModelConfig(cv_folds=3), trials=3, budget=600, seed=seed,
                                     vectors_available=False, min_documents=0, n_jobs=1)
        return [(t["trial"], t["documents"], t["score"], t["changes"]) for t in record["trials"]], record["best"]

    first = run(3)
    assert run(3) == first
    assert run(4)[0] != first[0]


def test_ctrl_c_keeps_the_best_so_far(search, monkeypatch):
    corpus = search[0]
    real = tune_module.run_trial
    calls = []

    def interrupted_on_the_fourth(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(tune_module, "run_trial", interrupted_on_the_fourth)
    model, record = tune_module.tune(corpus, ModelConfig(cv_folds=3), trials=9, budget=600, seed=3,
                                     vectors_available=False, min_documents=0, n_jobs=1)
    assert record["stopped"] == "interrupted (Ctrl-C)"
    assert len(record["trials"]) == 3
    assert record["best"]["score"] == max(t["score"] for t in record["trials"] if t["score"] is not None)
    # the winner was scored on part of the corpus only: it is retrained on every document
    assert model.tasks_ and model.n_features_ > 0 and record["best"]["documents"] < len(corpus)
    from classify.render import tuning_lines

    assert record["final_fit_seconds"] <= record["total_seconds"] and "final_fit_estimate_seconds" in record
    assert any(line.startswith("final fit      on every document:") for line in tuning_lines(record))
    assert model.predict(["la box ne marche plus"])["sentiment"][0] in {"negative", "neutral", "positive"}


def test_the_budget_stops_the_search(search):
    corpus = search[0]
    _, record = tune_module.tune(corpus, ModelConfig(cv_folds=3), trials=27, budget=0.5, seed=0,
                                 vectors_available=False, min_documents=0, n_jobs=1)
    assert record["stopped"] == "time budget"
    assert 1 <= len(record["trials"]) < 27


def test_cli_tune_stores_the_search_and_info_shows_it(cli, tmp_path):
    out = tmp_path / "tuned.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--tune", "--trials", "3", "--time-budget", "120", "--seed", "1")
    assert code == 0, err
    assert "best so far" in err and "tuning" in err
    _, provenance = load_model(out)
    tuning = provenance["tuning"]
    assert tuning["trials_planned"] == 3 and len(tuning["trials"]) == 3
    assert tuning["selection"].startswith("3-fold cross-validation")
    code, table, _ = cli("info", out)
    assert code == 0 and "tuning         3 trials over 3 configurations" in table and "best trials on 36 documents" in table
    code, as_json, _ = cli("info", out, "--format", "json")
    assert json.loads(as_json)["tuning"]["best"] == tuning["best"]


def test_cli_tune_on_a_dev_file(cli, tmp_path):
    out = tmp_path / "tuned.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--tune", "--trials", "2", "--dev", TINY, "-q")
    assert code == 0, err
    assert load_model(out)[1]["tuning"]["selection"] == "dev file"


@pytest.mark.parametrize("args, message", [
    (["--dev", str(TINY)], "--dev is only used by --tune"),
    (["--tune", "--time-budget", "0"], "--time-budget must be positive"),
    (["--tune", "--trials", "0"], "--trials must be 1 or more"),
])
def test_cli_tune_bad_options(cli, tmp_path, args, message):
    code, _, err = cli("train", TINY, "--out", tmp_path / "m.joblib", *args, "-q")
    assert code == 1 and message in error_line(err)
    assert not (tmp_path / "m.joblib").exists()


def test_cli_tune_dev_file_without_the_task(cli, tmp_path):
    dev = tmp_path / "dev.csv"
    dev.write_text("text,sentiment\nsuper box,positive\nnulle,negative\n", encoding="utf-8")
    code, _, err = cli("train", TINY, "--out", tmp_path / "m.joblib", "--tune", "--dev", dev, "-q")
    assert code == 1
    assert error_line(err) == (f"Error: the --dev file {dev} must have the training file's columns "
                               f"(text, topics, sentiment); no column 'topics'.")


# -- NB-SVM ---------------------------------------------------------------------------------------------------
def test_nb_ratio_points_to_the_class_that_uses_a_feature():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1, 0, 1, 0.3], [1, 0, 0, -0.2], [0, 1, 1, 0.5], [0, 1, 0, -0.4]], dtype=np.float32))
    r = nb_ratio(X, np.array([1, 1, 0, 0]), dense_tail=1)
    assert r[0] > 0 > r[1]  # only in positives / only in negatives
    assert r[2] == pytest.approx(0.0)  # in both equally
    assert r[3] == 1.0  # the dense (word vector) column is left as it is


def test_nbsvm_model_folds_the_ratio_into_its_weights(tmp_path):
    corpus = load_corpus(TINY)
    model = ClassifyModel(ModelConfig(nbsvm=True, cv_folds=3)).fit(corpus)
    X = model.transform(corpus.texts)
    task = model.tasks_["sentiment"]
    assert task.scorer.coef.shape == (3, X.shape[1])  # one-vs-rest: a ratio (and a row) per label
    assert np.allclose(task.scorer.decision(X), X @ task.scorer.coef.T + task.scorer.intercept, atol=1e-5)
    plain = ClassifyModel(ModelConfig(cv_folds=3)).fit(corpus)
    assert not np.allclose(plain.tasks_["sentiment"].scorer.decision(X)[:, :3], task.scorer.decision(X))


def test_cli_nbsvm_switch_is_recorded(cli, tmp_path):
    out = tmp_path / "nb.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--nbsvm", "--no-social", "--no-ensemble", "--cv", "3", "-q")
    assert code == 0, err
    config = load_model(out)[1]["config"]
    assert config["nbsvm"] is True and config["social"] is False and config["ensemble"] is False


def test_the_search_draws_the_ensemble_both_ways_and_not_without_characters():
    configs = tune_module.sample_configs(ModelConfig(), 27, seed=0, vectors_available=False)
    assert {c.ensemble for c in configs if c.char} == {True, False}
    assert all(c.ensemble == ModelConfig().ensemble for c in configs if not c.char)  # nothing to split


class _Clock:
    """A fake `time` for the search: trials and the final fit advance it by what they would cost."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


@pytest.mark.parametrize("dear, which, budget", [(2.0, 1, 400.0), (0.1, 1, 100.0), (1.0, 5, 250.0)],
                         ids=["dear-and-best-early", "all-alike", "dear-and-best-later"])
def test_the_budget_covers_the_trials_and_the_final_fit(search, monkeypatch, dear, which, budget):
    """Costs proportional to the documents (0.1 s per document and fit), one configuration of the search
    `dear` s: the search skips what would not fit, keeps room for the fit on every document, and the whole
    `--tune` ends within its budget."""
    corpus = search[0]
    clock = _Clock()
    configs = tune_module.sample_configs(ModelConfig(cv_folds=5), 9, 3, False)
    dear_C = configs[which].C

    def cost(config, documents, fits):  # 4 fits in a trial (3 folds), 6 in the final fit (5 folds)
        return documents * (dear if config.C == dear_C else 0.1) * fits

    def fake_trial(config, train, dev, n_jobs=None):
        clock.now += cost(config, len(train), 4)
        score = 1.0 if config.C == dear_C else config.C % 1  # the dear one scores best
        return score, {}, ClassifyModel(replace(config, cv_folds=3))

    def fake_final(config, corpus, n_jobs, progress):
        assert config.cv_folds == 5
        clock.now += cost(config, len(corpus), 6)
        return ClassifyModel(config)

    monkeypatch.setattr(tune_module, "time", clock)
    monkeypatch.setattr(tune_module, "run_trial", fake_trial)
    monkeypatch.setattr(tune_module, "fit_final", fake_final)
    _, record = tune_module.tune(corpus, ModelConfig(cv_folds=5), trials=9, budget=budget, seed=3,
                                 vectors_available=False, min_documents=0, n_jobs=1)
    assert record["stopped"] == "time budget"
    assert record["total_seconds"] <= budget
    assert 1 < len(record["trials"]) < 9 + 3 + 1
    if record["best"]["documents"] < len(corpus):  # retrained on every document, at the cost foreseen
        assert record["final_fit_seconds"] == pytest.approx(record["final_fit_estimate_seconds"], rel=0.01)
