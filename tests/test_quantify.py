"""The share estimators on synthetic probabilities whose true shares are known (classify.quantify)."""

import numpy as np
import pytest

from classify import quantify


def calibrated_batch(shares, n, seed=0, separation=1.5, train_priors=(1 / 3, 1 / 3, 1 / 3)):
    """Documents drawn with label shares `shares`, and their exact posteriors under `train_priors`: each label
    emits a score vector from a Gaussian centred on its own corner, so p(y | x) is known in closed form."""
    rng = np.random.default_rng(seed)
    k = len(shares)
    y = rng.choice(k, size=n, p=shares)
    X = rng.normal(size=(n, k)) + separation * np.eye(k)[y]
    log_lik = -0.5 * ((X[:, None, :] - separation * np.eye(k)[None, :, :]) ** 2).sum(axis=2)
    post = np.exp(log_lik - log_lik.max(axis=1, keepdims=True)) * np.asarray(train_priors)
    return post / post.sum(axis=1, keepdims=True), y


def test_em_recovers_shifted_priors_from_calibrated_posteriors():
    truth = np.array([0.7, 0.2, 0.1])
    P, y = calibrated_batch(truth, 20_000)
    q, iterations = quantify.em(P, [1 / 3] * 3)
    assert np.abs(q - np.bincount(y) / len(y)).max() < 0.01
    assert iterations > 1
    cc = np.bincount(P.argmax(axis=1), minlength=3) / len(P)
    assert np.abs(cc - truth).max() > 0.05  # counting is visibly biased towards the training shares


def test_em_leaves_unshifted_priors_alone():
    P, y = calibrated_batch([1 / 3] * 3, 20_000, seed=1)
    q, _ = quantify.em(P, [1 / 3] * 3)
    assert np.abs(q - 1 / 3).max() < 0.01
    adjusted = quantify.adapted_probabilities(P, q, [1 / 3] * 3)
    assert (adjusted.argmax(axis=1) != P.argmax(axis=1)).mean() < 0.02


def test_em_vectorised_over_resamples_equals_one_at_a_time():
    P, _ = calibrated_batch([0.5, 0.3, 0.2], 300, seed=2)
    rng = np.random.default_rng(0)
    W = rng.multinomial(300, np.full(300, 1 / 300), size=4).astype(float)
    together, _ = quantify.em(P, [1 / 3] * 3, W)
    for w, q in zip(W, together):
        alone, _ = quantify.em(np.repeat(P, w.astype(int), axis=0), [1 / 3] * 3)
        np.testing.assert_allclose(q, alone, atol=1e-5)


def test_acc_inverts_a_known_confusion_matrix():
    confusion = np.array([[0.8, 0.1, 0.2], [0.15, 0.7, 0.1], [0.05, 0.2, 0.7]])  # [predicted, true]
    truth = np.array([0.6, 0.3, 0.1])
    observed = confusion @ truth
    np.testing.assert_allclose(quantify.adjust(observed, confusion)[0], truth, atol=1e-9)


def test_acc_projects_impossible_counts_onto_the_simplex():
    confusion = np.array([[0.9, 0.2], [0.1, 0.8]])
    q = quantify.adjust([0.05, 0.95], confusion)[0]  # fewer predicted 0 than its false-positive rate gives
    np.testing.assert_allclose(q, [0.0, 1.0])
    assert quantify.project_simplex(np.array([[0.5, 0.5]])).tolist() == [[0.5, 0.5]]
    assert np.allclose(quantify.project_simplex(np.array([[2.0, 0.0, -1.0]])), [[1.0, 0.0, 0.0]])


def test_training_rates_single_and_multi():
    P = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])
    rates = quantify.training_rates(["a", "b"], False, P, ["a", "b", "b", "b"])
    assert rates["priors"] == [0.25, 0.75]
    assert rates["confusion"] == [[1.0, 1 / 3], [0.0, 2 / 3]]  # [predicted, true]: columns sum to 1
    np.testing.assert_allclose(rates["soft_confusion"], [[0.9, 1.1 / 3], [0.1, 1.9 / 3]])
    multi = quantify.training_rates(["x", "y"], True, np.array([[0.9, 0.2], [0.4, 0.6]]),
                                    np.array([[1, 0], [0, 0]]), thresholds=[0.5, 0.5])
    x, y = multi["per_label"]
    assert x["priors"] == [0.5, 0.5] and x["confusion"] == [[1.0, 0.0], [0.0, 1.0]]
    assert y["priors"] == [1.0, 0.0] and y["confusion"] == [[0.5, 0.0], [0.5, 0.0]]


def _problem(P, rates):
    return quantify.Problem(P, P.argmax(axis=1), rates, np.asarray(rates["priors"]))


def test_acc_and_em_beat_counting_on_a_skewed_batch():
    train_P, train_y = calibrated_batch([1 / 3] * 3, 5000, seed=3)
    rates = quantify.training_rates(["a", "b", "c"], False, train_P, np.array(list("abc"))[train_y])
    truth = np.array([0.8, 0.1, 0.1])
    P, y = calibrated_batch(truth, 3000, seed=4)
    est = quantify.estimate(_problem(P, rates))
    errors = {name: np.abs(est[name] - np.bincount(y) / len(y)).mean() for name in quantify.ESTIMATORS}
    assert errors["acc"] < errors["cc"] / 2 and errors["em"] < errors["cc"] / 2, errors
    assert errors["pacc"] < errors["pcc"] / 2, errors


def test_bootstrap_interval_covers_the_truth():
    train_P, train_y = calibrated_batch([1 / 3] * 3, 5000, seed=5)
    rates = quantify.training_rates(["a", "b", "c"], False, train_P, np.array(list("abc"))[train_y])
    truth = np.array([0.6, 0.3, 0.1])
    covered = {name: 0 for name in ("cc", "acc", "em")}
    trials = 30
    for seed in range(trials):
        P, _ = calibrated_batch(truth, 300, seed=100 + seed)
        problem = _problem(P, rates)
        point = quantify.estimate(problem)
        intervals = quantify.bootstrap(problem, point, resamples=200, seed=seed)
        for name in covered:
            low, high = intervals[name]
            assert np.all(low <= point[name] + 1e-9) and np.all(point[name] <= high + 1e-9)
            covered[name] += bool(low[0] <= truth[0] <= high[0])
    assert covered["em"] >= 0.8 * trials and covered["acc"] >= 0.8 * trials, covered
    assert covered["cc"] < 0.5 * trials, covered  # counting's interval is narrow around a biased value


def test_bootstrap_is_reproducible_and_large_batches_are_compressed():
    P, _ = calibrated_batch([0.5, 0.3, 0.2], 8000, seed=6)
    rates = quantify.training_rates(["a", "b", "c"], False, P, np.array(list("abc"))[P.argmax(axis=1)])
    problem = _problem(P, rates)
    point = quantify.estimate(problem)
    one = quantify.bootstrap(problem, point, resamples=100, seed=1)
    two = quantify.bootstrap(problem, point, resamples=100, seed=1)
    for name in ("cc", "acc", "em"):
        np.testing.assert_array_equal(one[name][0], two[name][0])
        low, high = one[name]
        assert np.all(high - low < 0.05) and np.all(low <= point[name]) and np.all(point[name] <= high)


def test_model_priors_without_stored_rates():
    class Task:
        name, multi, labels, rates = "s", False, ["a", "b"], None

    provenance = {"tasks": {"s": {"label_counts": {"a": 30, "b": 10}, "n_documents": 40}}}
    np.testing.assert_allclose(quantify.model_priors(Task, provenance), [0.75, 0.25])
    Task.multi = True
    pairs = quantify.model_priors(Task, provenance)
    np.testing.assert_allclose(pairs[0], [0.25, 0.75])


@pytest.mark.parametrize("n", [1, 2])
def test_binary_probabilities(n):
    p = np.linspace(0, 1, n)
    P2 = quantify.binary_probabilities(p)
    np.testing.assert_allclose(P2.sum(axis=1), 1.0)
    np.testing.assert_allclose(P2[:, 1], p)


# -- calibration measures (evaluate --report) -------------------------------------------------------------
def test_calibration_metrics_known_values():
    from classify.metrics import calibration_metrics

    # every document gets 0.8 for `a`; `a` is right 60 % of the time: ECE 0.2 for both labels
    P = np.array([[0.8, 0.2]] * 10)
    truth = ["a"] * 6 + ["b"] * 4
    c = calibration_metrics(P, truth, ["a", "b"], multi=False)
    assert c["per_label"]["a"]["ece"] == pytest.approx(0.2) and c["ece"] == pytest.approx(0.2)
    assert c["top_label_ece"] == pytest.approx(0.2)
    assert c["brier"] == pytest.approx(np.mean([2 * 0.2**2] * 6 + [2 * 0.8**2] * 4))
    multi = calibration_metrics(np.array([[1.0, 0.0], [1.0, 0.0]]), [["x"], ["x"]], ["x", "y"], multi=True)
    assert multi["ece"] == 0 and multi["brier"] == 0


def test_calibrated_synthetic_posteriors_have_a_small_ece():
    from classify.metrics import calibration_metrics

    P, y = calibrated_batch([1 / 3] * 3, 20_000, seed=7)
    c = calibration_metrics(P, np.array(list("abc"))[y].tolist(), ["a", "b", "c"], multi=False)
    assert c["ece"] < 0.02 and c["top_label_ece"] < 0.02


def test_grouped_bootstrap_of_a_large_batch_matches_the_exact_one(monkeypatch):
    P, _ = calibrated_batch([0.5, 0.3, 0.2], 6000, seed=8)
    rates = quantify.training_rates(["a", "b", "c"], False, P, np.array(list("abc"))[P.argmax(axis=1)])
    problem = _problem(P, rates)
    point = quantify.estimate(problem)
    grouped = quantify.bootstrap(problem, point, resamples=300, seed=2)
    monkeypatch.setattr(quantify, "MAX_ROWS", 10**9)
    exact = quantify.bootstrap(problem, point, resamples=300, seed=2)
    for name in ("cc", "acc", "em", "pcc"):
        for side in (0, 1):
            np.testing.assert_allclose(grouped[name][side], exact[name][side], atol=0.006)


def _rates_from(confusion, priors, n):
    """Rates as `training_rates` stores them, measured on `n` documents with these label shares."""
    confusion = np.asarray(confusion, dtype=float)
    return {"n": n, "priors": list(priors), "confusion": confusion.tolist(), "soft_confusion": confusion.tolist()}


def test_acc_interval_widens_when_the_rates_come_from_fewer_documents():
    confusion = [[0.8, 0.1, 0.1], [0.15, 0.75, 0.15], [0.05, 0.15, 0.75]]
    P, _ = calibrated_batch([0.6, 0.3, 0.1], 2000, seed=20)
    intervals = {}
    for n in (300, 30_000):
        problem = _problem(P, _rates_from(confusion, [1 / 3] * 3, n))
        point = quantify.estimate(problem)
        intervals[n] = quantify.bootstrap(problem, point, resamples=300, seed=4)
    width = {n: float(np.mean(i["acc"][1] - i["acc"][0])) for n, i in intervals.items()}
    assert width[300] > 1.5 * width[30_000], width  # 100 documents per label leave the rates uncertain
    for name in ("cc", "em", "pcc"):  # their intervals do not depend on the rates
        np.testing.assert_array_equal(intervals[300][name][0], intervals[30_000][name][0])


def test_acc_interval_covers_the_truth_when_the_rates_are_measured_on_few_documents():
    """On a large batch, what ACC's error comes from is the rates measured at training: its interval has to
    include their uncertainty to cover the true shares."""
    truth = np.array([0.7, 0.2, 0.1])
    covered, trials = 0, 30
    for seed in range(trials):
        train_P, train_y = calibrated_batch([1 / 3] * 3, 240, seed=300 + seed)  # 80 documents per label
        rates = quantify.training_rates(["a", "b", "c"], False, train_P, np.array(list("abc"))[train_y])
        P, y = calibrated_batch(truth, 1000, seed=400 + seed)
        problem = _problem(P, rates)
        low, high = quantify.bootstrap(problem, quantify.estimate(problem), resamples=100, seed=seed)["acc"]
        shares = np.bincount(y, minlength=3) / len(y)
        covered += int(((low <= shares) & (shares <= high)).sum())
    # (resampling the documents alone covered 47 % of these shares)
    assert covered >= 0.85 * 3 * trials, covered


def test_posterior_of_the_rates():
    pooled = _rates_from([[0.8, 0.2], [0.2, 0.8]], [0.5, 0.5], 1000)
    # the pooled rates drawn towards themselves are themselves
    np.testing.assert_allclose(quantify._columns(quantify.posterior(pooled, pooled)), pooled["confusion"])
    few = _rates_from([[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5], 4)  # 2 documents per label, all right
    many = _rates_from([[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5], 4000)
    none = _rates_from([[0.0, 0.5], [0.0, 0.5]], [0.0, 1.0], 10)  # no document of the first label
    assert quantify._columns(quantify.posterior(few, pooled))[0, 0] == pytest.approx((2 + 2 * 0.8) / (2 + 2))
    assert quantify._columns(quantify.posterior(many, pooled))[0, 0] > 0.999
    np.testing.assert_allclose(quantify._columns(quantify.posterior(none, pooled))[:, 0], [0.8, 0.2])


def test_strata_are_corrected_each_with_their_own_rates():
    """Two kinds of documents with different error rates in one batch: each corrected with its own rates
    gives the true shares; one set of rates for both does not."""
    easy = np.array([[0.95, 0.05], [0.05, 0.95]])
    hard = np.array([[0.6, 0.3], [0.4, 0.7]])
    rng = np.random.default_rng(0)
    kinds = np.repeat([0, 1], [3000, 3000])
    y = (rng.random(6000) < np.where(kinds == 0, 0.2, 0.7)).astype(int)  # the kinds' shares differ too
    confusion = np.where(kinds[:, None] == 0, easy[:, y].T, hard[:, y].T)
    predicted = (rng.random(6000) < confusion[:, 1]).astype(int)
    P = np.eye(2)[predicted]
    rates = {name: _rates_from(M, [0.5, 0.5], 10**6) for name, M in (("easy", easy), ("hard", hard))}
    pooled = _rates_from((easy + hard) / 2, [0.5, 0.5], 2 * 10**6)
    strata = quantify.Strata(kinds, [[(1.0, rates["easy"])], [(1.0, rates["hard"])]], pooled)
    truth = np.bincount(y, minlength=2) / len(y)
    stratified = quantify.estimate(quantify.Problem(P, predicted, pooled, np.array([0.5, 0.5]), strata=strata))
    assert np.abs(stratified["acc"] - truth).max() < 0.02, (stratified["acc"], truth)
    one = quantify.estimate(_problem(P, pooled))["acc"]
    assert np.abs(one - truth).max() > 0.04, (one, truth)
    # a large batch is grouped for the bootstrap by stratum too: its interval still holds the estimate
    low, high = quantify.bootstrap(quantify.Problem(P, predicted, pooled, np.array([0.5, 0.5]), strata=strata),
                                   stratified, resamples=100, seed=0)["acc"]
    assert np.all(low <= stratified["acc"] + 1e-9) and np.all(stratified["acc"] <= high + 1e-9)


def test_the_shift_test_rejects_at_its_level_when_the_shares_are_the_training_ones():
    """Saerens et al.'s likelihood-ratio test on calibrated batches drawn with the training shares rejects
    about 5 % of them (its level), and every batch whose shares moved."""
    priors = np.array([0.5, 0.3, 0.2])
    rejected = []
    for seed in range(300):
        P, _ = calibrated_batch(priors, 300, seed=seed, train_priors=priors)
        rejected.append(quantify.shift_test(P, priors, quantify.em(P, priors)[0]) < quantify.SHIFT_LEVEL)
    assert 0.02 <= np.mean(rejected) <= 0.09, np.mean(rejected)
    for seed in range(20):
        P, _ = calibrated_batch([0.3, 0.3, 0.4], 300, seed=seed, train_priors=priors)
        assert quantify.shift_test(P, priors, quantify.em(P, priors)[0]) < 0.001


def test_adapt_batch_keeps_the_probabilities_of_a_batch_like_the_training_data():
    priors = [1 / 3] * 3
    P, _ = calibrated_batch(priors, 2000, seed=5)
    kept = quantify.adapt_batch(P, priors)
    assert not kept["adjusted"] and kept["p_value"] >= quantify.SHIFT_LEVEL
    assert np.array_equal(kept["P"], P) and abs(kept["shares"] - 1 / 3).max() < 0.03  # EM's estimate, reported
    P, y = calibrated_batch([0.8, 0.1, 0.1], 2000, seed=5)
    moved = quantify.adapt_batch(P, priors)
    assert moved["adjusted"] and moved["p_value"] < 0.001
    assert np.array_equal(moved["P"], quantify.adapted_probabilities(P, moved["shares"], priors))
    assert (moved["P"].argmax(axis=1) == y).mean() > (P.argmax(axis=1) == y).mean() + 0.05
    # the test may run on other probabilities (recalibrated per source) than those adjusted
    assert not quantify.adapt_batch(P, priors, test=calibrated_batch(priors, 2000, seed=6)[0:1] + (priors,))["adjusted"]
