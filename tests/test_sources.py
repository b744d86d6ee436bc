"""Label shares with a model trained on several sources (the bundled corpus: written texts, off-topic texts and
real customer messages): rates per source, mixed by the batch's estimated source mix."""

import csv
import json

import numpy as np
import pytest

from classify import quantify

from .conftest import TINY
from .test_quantify import calibrated_batch

LABELS = np.array(list("abc"))


def _two_sources(seed=0):
    """Out-of-fold probabilities of a model trained on two sources it can tell apart: written texts, balanced
    and hard to classify, and real messages, mostly `a` and easy. Each source's probabilities are its own
    posteriors (a model that recognises the source learns them), so the pooled rates and shares fit neither."""
    written_P, written_y = calibrated_batch([1 / 3] * 3, 3000, seed=seed, separation=1.5)
    real_priors = (0.8, 0.15, 0.05)
    real_P, real_y = calibrated_batch(real_priors, 3000, seed=seed + 1, separation=3.0, train_priors=real_priors)
    P = np.vstack([written_P, real_P])
    truth = LABELS[np.concatenate([written_y, real_y])]
    sources = ["written"] * len(written_P) + ["real"] * len(real_P)
    return quantify.training_rates(list(LABELS), False, P, truth, sources=sources)


def _errors(rates, mix, shares, seed):
    P, y = calibrated_batch(shares, 5000, seed=seed, separation=1.5)
    batch_rates, priors = quantify.for_batch(rates, mix)
    problem = quantify.Problem(P, P.argmax(axis=1), batch_rates,
                               np.asarray(rates["priors"] if priors is None else priors))
    estimate = quantify.estimate(problem)
    truth = np.bincount(y, minlength=3) / len(y)
    return {name: float(np.abs(estimate[name] - truth).mean()) for name in ("cc", "acc", "em")}


@pytest.mark.parametrize("shares", [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8)])
def test_source_rates_remove_the_mixture_bias_on_a_batch_of_one_source(shares):
    rates = _two_sources()
    assert set(rates["sources"]) == {"real", "written"}
    pooled = _errors(rates, None, shares, seed=7)  # what a model without source rates does
    matched = _errors(rates, {"written": 1.0, "real": 0.0}, shares, seed=7)
    # the pooled rates are the real messages' (easy, mostly `a`): ACC under-corrects, EM starts from the wrong shares
    assert max(pooled["acc"], pooled["em"]) > 0.04, pooled
    assert matched["acc"] < 0.025 and matched["em"] < 0.025, matched
    assert matched["acc"] < pooled["cc"] / 2 and matched["em"] < pooled["cc"] / 2


def test_em_leaves_a_batch_with_its_sources_training_shares_alone():
    rates = _two_sources()
    P, _ = calibrated_batch([1 / 3] * 3, 5000, seed=11, separation=1.5)
    _, priors = quantify.for_batch(rates, {"written": 1.0})
    q, _ = quantify.em(P, priors)
    changed = (quantify.adapted_probabilities(P, q, priors).argmax(axis=1) != P.argmax(axis=1)).mean()
    pooled_q, _ = quantify.em(P, rates["priors"])  # the mixture's shares move many of the batch's labels
    pooled = (quantify.adapted_probabilities(P, pooled_q, rates["priors"]).argmax(axis=1) != P.argmax(axis=1)).mean()
    assert changed < 0.03 and pooled > 0.1, (changed, pooled)


def test_without_source_rates_or_mix_the_pooled_rates_are_used():
    rates = _two_sources()
    old = {k: v for k, v in rates.items() if k != "sources"}  # a model saved before sources were stored
    assert quantify.for_batch(old, {"written": 1.0}) == (old, None)
    assert quantify.for_batch(rates, None) == (rates, None)
    assert quantify.for_batch(None, {"written": 1.0}) == (None, None)


def test_sources_of_and_composition():
    ids = [f"real-{i}" for i in range(150)] + [f"news-{i}" for i in range(150)] + ["gsd-1"]
    assert quantify.sources_of(ids)[:1] + quantify.sources_of(ids)[-2:] == ["real", "written", "offtopic"]
    assert quantify.sources_of([f"news-{i}" for i in range(500)]) is None  # one source: nothing per source
    assert quantify.sources_of(ids[:50] + ids[150:]) is None  # 50 real messages: too few for rates of their own
    classifier = {"names": ["real", "written"], "confusion": [[0.9, 0.2], [0.1, 0.8]]}
    S = np.array([[0.7, 0.3]] * 20 + [[0.1, 0.9]] * 80)  # 20 % look real: the classifier's own error rate
    assert quantify.composition(classifier, S) == pytest.approx({"real": 0.0, "written": 1.0})
    assert quantify.composition(None, S) is None


# error rates ([predicted, true]) of documents that look like customer messages (easy) and like written texts
EASY = np.array([[0.94, 0.03, 0.03], [0.03, 0.94, 0.03], [0.03, 0.03, 0.94]])
HARD = np.array([[0.6, 0.25, 0.2], [0.25, 0.55, 0.2], [0.15, 0.2, 0.6]])


def _documents(source: str, y, rng):
    """Decisions (as one-hot probabilities) for documents of a source and labels `y`, and the source each is
    taken for (0: message, 1: written). Written texts of label c look like messages (mostly c) more often than
    the others, so what a document is taken for depends on its label; the error rates depend on the look."""
    p_message = np.where(source == "message", 0.9, np.where(y == 2, 0.6, 0.05))
    taken = (rng.random(len(y)) >= p_message).astype(int)
    columns = np.where(taken[:, None] == 0, EASY[:, y].T, HARD[:, y].T)
    predicted = (rng.random(len(y))[:, None] > np.cumsum(columns, axis=1)).sum(axis=1)
    return np.eye(3)[predicted], taken


def test_acc_per_source_taken_for_when_what_a_document_is_taken_for_depends_on_its_label():
    """A batch of written texts, mostly of the label that makes them look like messages: the source mix
    estimated from it has messages in it, and the messages' rates mixed in bias ACC; each document corrected
    with the rates of the training documents taken for the same source does not."""
    rng = np.random.default_rng(0)
    names = ["message", "written"]
    y_written, y_message = rng.choice(3, 90_000), rng.choice(3, 30_000, p=[0.1, 0.1, 0.8])
    (P_w, taken_w), (P_m, taken_m) = _documents("written", y_written, rng), _documents("message", y_message, rng)
    sources = ["written"] * len(y_written) + ["message"] * len(y_message)
    taken = np.r_[taken_w, taken_m]
    rates = quantify.training_rates(list(LABELS), False, np.vstack([P_w, P_m]), LABELS[np.r_[y_written, y_message]],
                                    sources=sources, guessed=[names[t] for t in taken])
    assert set(rates["guessed"]) == {"message", "written"}
    source_confusion = np.zeros((2, 2))
    np.add.at(source_confusion, (taken, [names.index(name) for name in sources]), 1.0)
    classifier = {"names": names, "confusion": (source_confusion / source_confusion.sum(axis=0)).tolist()}
    for shares in [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8)]:
        y = rng.choice(3, 50_000, p=shares)
        P, taken = _documents("written", y, rng)
        S = np.eye(2)[taken]
        mix = quantify.composition(classifier, S)
        truth = np.bincount(y, minlength=3) / len(y)
        errors = {}
        for name, strata in (("taken for", quantify.strata_for(rates, len(y), S, names, mix)),
                             ("mixed", quantify.strata_for(rates, len(y), mix=mix))):
            problem = quantify.Problem(P, P.argmax(axis=1), rates, np.asarray(rates["priors"]), strata=strata)
            errors[name] = np.abs(quantify.estimate(problem)["acc"] - truth).max()
        assert errors["taken for"] < 0.012, errors
        if shares[2] == 0.8:
            assert mix["message"] > 0.3, mix  # written texts taken for messages, counted as such
            assert errors["mixed"] > 0.02, errors  # the messages' rates mixed in


def _looks(source: str, y, rng):
    """Decisions (one-hot) and source probabilities (columns: offtopic, written) of documents of a source and
    labels `y`. Off-topic texts are hard to classify and clearly off-topic; written texts are easy, and some of
    them (more of label c) look somewhat off-topic: taken for off-topic texts, with less confidence."""
    n = len(y)
    if source == "offtopic":
        s_offtopic = rng.uniform(0.85, 0.99, n)
    else:
        looks = rng.random(n) < np.where(y == 2, 0.5, 0.2)
        s_offtopic = np.where(looks, rng.uniform(0.55, 0.7, n), rng.uniform(0.01, 0.2, n))
    rates = HARD if source == "offtopic" else EASY
    predicted = (rng.random(n)[:, None] > np.cumsum(rates[:, y].T, axis=1)).sum(axis=1)
    return np.eye(3)[predicted], np.column_stack([s_offtopic, 1 - s_offtopic])


def test_acc_per_group_of_like_documents_when_documents_taken_for_one_source_err_differently():
    """Written texts taken for off-topic ones err as written texts do: ACC with the rates of all the training
    documents taken for off-topic texts (mostly off-topic, hard) over-corrects them; the rates of their group
    of like documents (source probabilities alike) do not."""
    rng = np.random.default_rng(0)
    names = ["offtopic", "written"]
    y_offtopic, y_written = rng.choice(3, 20_000), rng.choice(3, 20_000)
    (P_o, S_o), (P_w, S_w) = _looks("offtopic", y_offtopic, rng), _looks("written", y_written, rng)
    S = np.vstack([S_o, S_w])
    classifier = {"names": names, "groups": quantify.fit_source_groups(S)}
    assert len(classifier["groups"]) == quantify.SOURCE_GROUPS  # 40,000 documents: the most groups
    rates = quantify.training_rates(list(LABELS), False, np.vstack([P_o, P_w]), LABELS[np.r_[y_offtopic, y_written]],
                                    sources=["offtopic"] * 20_000 + ["written"] * 20_000,
                                    guessed=[names[i] for i in S.argmax(axis=1)],
                                    like=quantify.source_groups(classifier, S))
    assert len(rates["groups"]) == quantify.SOURCE_GROUPS and {g["source"] for g in rates["groups"]} == set(names)
    for shares in [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8)]:
        y = rng.choice(3, 50_000, p=shares)
        P, S_batch = _looks("written", y, rng)
        truth = np.bincount(y, minlength=3) / len(y)
        errors = {}
        for name, like in (("groups", quantify.source_groups(classifier, S_batch)), ("taken for", None)):
            strata = quantify.strata_for(rates, len(y), S_batch, names, like=like)
            problem = quantify.Problem(P, P.argmax(axis=1), rates, np.asarray(rates["priors"]), strata=strata)
            errors[name] = np.abs(quantify.estimate(problem)["acc"] - truth).max()
        assert errors["groups"] < 0.01 and errors["taken for"] > 0.03, errors


def test_groups_of_like_documents():
    S = np.array([[0.9, 0.1]] * 300 + [[0.2, 0.8]] * 300)
    assert quantify.fit_source_groups(S[:499]) is None  # under two groups' worth of documents: none
    classifier = {"names": ["a", "b"], "groups": quantify.fit_source_groups(S)}
    like = quantify.source_groups(classifier, S)
    assert len(set(like[:300])) == len(set(like[300:])) == 1 and like[0] != like[-1]
    # a document whose source probability is 0 is as far as one of GROUP_FLOOR, not infinitely far
    assert quantify.source_groups(classifier, np.array([[1.0, 0.0], [0.0, 1.0]])).tolist() == [like[0], like[-1]]
    assert quantify.source_groups({"names": ["a", "b"]}, S) is None  # a classifier saved before groups
    assert quantify.source_groups({"names": ["a", "b"], "groups": []}, S) is None  # too few documents for them
    assert quantify.source_groups(None, S) is None and quantify.source_groups(classifier, None) is None
    # a group with no training document of the task: its documents take the rates of the source taken for
    rates = quantify.training_rates(list("xy"), False, np.eye(2)[[0, 1] * 150], list("xy") * 150,
                                    sources=["a"] * 150 + ["b"] * 150, guessed=["a"] * 150 + ["b"] * 150,
                                    like=np.zeros(300, dtype=int))
    assert len(rates["groups"]) == 1
    strata = quantify.strata_for(rates, 4, np.array([[0.9, 0.1]] * 2 + [[0.2, 0.8]] * 2), ["a", "b"],
                                 like=np.array([0, 0, 1, 1]))
    assert strata.of.tolist() == [0, 0, 1, 1]
    assert strata.parts[0][0][1] is rates["groups"][0] and strata.parts[1][0][1] is rates["guessed"]["b"]


def _real_batch(tmp_path):
    """tiny.csv four times as real messages: 144 documents to estimate the shares of."""
    batch = tmp_path / "batch.csv"
    with open(batch, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        for i, row in enumerate(list(csv.DictReader(open(TINY, encoding="utf-8"))) * 4):
            writer.writerow([i, f"@operateur {row['text'].lower()} svp"])
    return batch


def _shares_without(loaded, key: str, path, batch, cli):
    """`classify shares` of `batch` (its one group, and the notes) with the model saved at `path` without its
    rates' `key`, as a model saved before they were stored."""
    from classify.persist import save_model

    for task in loaded.model.tasks_.values():
        for rates in task.rates["per_label"] if task.multi else [task.rates]:
            del rates[key]
    save_model(loaded.model, loaded.provenance, path)
    code, out, err = cli("shares", batch, "--model", path, "--format", "json", "--resamples", "20", "-q")
    assert code == 0, err
    (group,) = json.loads(out)["groups"]
    return group, json.loads(out)["notes"]


def _same_cc_and_em(group, other):
    for task, entry in group["tasks"].items():
        for label, estimates in entry["labels"].items():
            before = other["tasks"][task]["labels"][label]
            assert before["cc"] == estimates["cc"] and before["em"] == estimates["em"], (task, label)
            assert before["acc"] is not None


def _two_source_corpus(path, copies=3):
    """tiny.csv `copies` times as written texts and as many times as real messages (lower case, with a
    mention): 108 documents of each source by default."""
    rows = list(csv.DictReader(open(TINY, encoding="utf-8")))
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for copy in range(copies):
            for row in rows:
                writer.writerow({**row, "id": f"news-{copy}-{row['id']}"})
                writer.writerow({**row, "id": f"real-{copy}-{row['id']}", "text": f"@operateur {row['text'].lower()} svp"})
    return path


def test_a_model_of_two_sources_stores_them_and_one_saved_before_still_works(tmp_path, cli):
    from classify import api
    from classify.model import ModelConfig
    from classify.persist import save_model

    model_path = tmp_path / "two.joblib"
    api.train(_two_source_corpus(tmp_path / "two.csv"), model_path, config=ModelConfig(cv_folds=3))
    loaded = api.load(model_path)
    assert loaded.model.sources_["names"] == ["real", "written"]
    assert set(loaded.model.tasks_["sentiment"].rates["sources"]) == {"real", "written"}
    assert all(set(r["sources"]) == {"real", "written"} for r in loaded.model.tasks_["topics"].rates["per_label"])
    assert set(loaded.model.tasks_["sentiment"].rates["guessed"]) <= {"real", "written"}
    assert all("guessed" in r for r in loaded.model.tasks_["topics"].rates["per_label"])
    batch = _real_batch(tmp_path)
    code, out, err = cli("shares", batch, "--model", model_path, "--format", "json", "--resamples", "20", "-q")
    assert code == 0, err
    (group,) = json.loads(out)["groups"]
    assert any("took for the same source" in note for note in json.loads(out)["notes"])
    assert group["sources"]["real"] > 0.5, group["sources"]
    code, out, err = cli("predict", batch, "--model", model_path, "--adapt", "--format", "jsonl")
    assert code == 0 and "mixed as these documents look: real" in err, err
    from classify.persist import export_skops

    skops = export_skops(model_path, tmp_path / "two.skops")  # the classifier of the source is skops-safe
    np.testing.assert_array_equal(api.load(skops).model.sources_["coef"], loaded.model.sources_["coef"])

    # the same model as saved before the rates per source taken for were stored: the same CC and EM, and ACC
    # with the sources' rates mixed as the batch's estimated source mix
    mixed_group, notes = _shares_without(loaded, "guessed", tmp_path / "mixed.joblib", batch, cli)
    assert any("trained before ACC's error rates were stored per source" in note for note in notes)
    _same_cc_and_em(group, mixed_group)

    # the same model as saved before sources were stored: no classifier of the source, no rates per source
    del loaded.model.sources_
    for task in loaded.model.tasks_.values():
        for rates in task.rates["per_label"] if task.multi else [task.rates]:
            del rates["sources"]
    old_path = tmp_path / "old.joblib"
    save_model(loaded.model, loaded.provenance, old_path)
    code, out, err = cli("shares", batch, "--model", old_path, "--format", "json", "--resamples", "20", "-q")
    assert code == 0, err
    (old_group,) = json.loads(out)["groups"]
    assert "sources" not in old_group and old_group["tasks"]["sentiment"]["labels"]["negative"]["acc"] is not None
    code, out, err = cli("predict", batch, "--model", old_path, "--adapt", "--format", "jsonl", "-q")
    assert code == 0, err


def test_a_model_of_enough_documents_stores_groups_of_like_documents(tmp_path, cli):
    from classify import api
    from classify.model import ModelConfig
    from classify.persist import export_skops

    model_path = tmp_path / "two.joblib"
    api.train(_two_source_corpus(tmp_path / "two.csv", copies=7), model_path, config=ModelConfig(cv_folds=3))
    loaded = api.load(model_path)
    assert len(loaded.model.sources_["groups"]) == 504 // quantify.GROUP_DOCUMENTS  # 504 documents: 2 groups
    sentiment = loaded.model.tasks_["sentiment"].rates
    assert len(sentiment["groups"]) == 2 and sum(g["n"] for g in sentiment["groups"]) == sentiment["n"]
    assert all(len(r["groups"]) == 2 for r in loaded.model.tasks_["topics"].rates["per_label"])
    # the source probabilities as the tasks' are computed (the compiled kernel, one layer with theirs): the
    # matrix way's numbers, and what the groups are found from
    texts = [r["text"] for r in csv.DictReader(open(tmp_path / "two.csv", encoding="utf-8"))]
    scored = loaded.model.predict_scores(texts, sources=True)
    X = loaded.model.transform(texts)
    assert np.array_equal(scored[quantify.SOURCES_KEY], quantify.source_probabilities(loaded.model.sources_, X))
    assert all(np.array_equal(scored[name], task.scores(X)) for name, task in loaded.model.tasks_.items())
    skops = api.load(export_skops(model_path, tmp_path / "two.skops"))
    assert skops.model.sources_["groups"] == loaded.model.sources_["groups"]
    assert skops.model.tasks_["sentiment"].rates["groups"] == sentiment["groups"]
    batch = _real_batch(tmp_path)
    code, out, err = cli("shares", batch, "--model", model_path, "--format", "json", "--resamples", "20", "-q")
    assert code == 0, err
    (group,) = json.loads(out)["groups"]
    assert any("training documents like it" in note for note in json.loads(out)["notes"])
    # the same model as saved before the groups: ACC per source taken for, the same CC and EM, and a note
    del loaded.model.sources_["groups"]
    before, notes = _shares_without(loaded, "groups", tmp_path / "before.joblib", batch, cli)
    assert any("before ACC's error rates were stored per group" in note for note in notes)
    _same_cc_and_em(group, before)


def _skewed(P):
    """Probabilities as a calibrator fitted on a mixture gives them for one of its sources: too confident
    and leaning towards some labels (for that source; calibrated on the mixture as a whole)."""
    return quantify.calibrated(P, [1.8, 0.5, -0.3])


def test_per_source_calibration_removes_em_bias_when_the_pooled_calibrator_is_off_for_a_source():
    written_P, written_y = calibrated_batch([1 / 3] * 3, 3000, seed=0, separation=1.5)
    real_P, real_y = calibrated_batch((0.8, 0.15, 0.05), 3000, seed=1, separation=3.0, train_priors=(0.8, 0.15, 0.05))
    P = np.vstack([_skewed(written_P), real_P])
    truth = LABELS[np.concatenate([written_y, real_y])]
    rates = quantify.training_rates(list(LABELS), False, P, truth, sources=["written"] * 3000 + ["real"] * 3000)
    assert {"calibration", "calibrated_mean"} <= set(rates["sources"]["written"])
    names = sorted(rates["sources"])
    mix = {"written": 1.0, "real": 0.0}
    for shares in [(0.8, 0.1, 0.1), (0.1, 0.1, 0.8)]:
        batch_P, y = calibrated_batch(shares, 5000, seed=9, separation=1.5)
        batch_P = _skewed(batch_P)
        S = np.column_stack([np.zeros(len(y)), np.ones(len(y))])  # every document recognised as written
        batch_rates, priors = quantify.for_batch(rates, mix)
        problem = quantify.Problem(batch_P, batch_P.argmax(axis=1), batch_rates, priors)
        before = quantify.estimate(problem)["em"]
        problem.em_P, problem.em_priors = quantify.source_calibrated(batch_P, rates, S, names, mix)
        after = quantify.estimate(problem)["em"]
        q = np.bincount(y, minlength=3) / len(y)
        assert np.abs(before - q).mean() > 0.03, before  # EM on the skewed probabilities is biased
        assert np.abs(after - q).mean() < min(0.015, np.abs(before - q).mean() / 3), after


def test_source_calibration_needs_a_model_that_stores_it():
    rates = _two_sources()
    for source in rates["sources"].values():
        del source["calibration"]  # as in a model saved before it was stored
    P, _ = calibrated_batch([1 / 3] * 3, 200, seed=3)
    assert quantify.source_calibrated(P, rates, np.full((200, 2), 0.5), ["real", "written"], {"written": 1.0}) is None
    assert quantify.source_calibrated(P, _two_sources(), None, ["real", "written"], {"written": 1.0}) is None
