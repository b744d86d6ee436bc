"""The sentiment lexicon block (`--lexicon`, on by default): what it counts; a model keeps its own."""

import csv
import json
import tempfile

import numpy as np
import pytest

from classify.api import load, train
from classify.lexicon import COLUMNS, LexiconFeatures
from classify.model import ClassifyModel, ModelConfig
from classify.training import build_normalizer

from .conftest import TINY


@pytest.fixture(scope="module")
def lexicon():
    return LexiconFeatures().fit()


def _features(lexicon, *texts):
    normalize = build_normalizer(ModelConfig())
    return lexicon.transform([normalize(t) for t in texts])


def test_words_of_the_lexicon_push_their_side(lexicon):
    praise, complaint, plain = _features(
        lexicon, "Service génial, conseillère adorable 👍", "Réseau lamentable, une vraie arnaque 😡",
        "Le match commence à 21 h")
    assert praise[0] > 0 and praise[1] > 0
    assert complaint[0] < 0 and complaint[1] < 0
    assert plain.tolist() == [0.0, 0.0]  # no lexicon word: the block says nothing


def test_negation_turns_praise_into_criticism_and_softens_criticism(lexicon):
    (praise, negated_praise, criticism, negated_criticism) = _features(
        lexicon, "C'est génial", "Ce n'est pas génial", "C'est nul", "C’est pas nul du tout")
    assert praise[0] > 0 > negated_praise[0]
    assert negated_praise[0] == pytest.approx(-praise[0])
    assert criticism[0] < 0 < negated_criticism[0]
    assert negated_criticism[0] < praise[0]  # "pas nul" is weaker praise than "génial"


def test_every_stored_entry_can_match_a_token(lexicon):
    from classify.text.normalize import tokenize

    entries = lexicon.positive_ + lexicon.negative_
    assert len(entries) > 1800
    assert [w for w in entries if tokenize(w, mark_negation=True) != [w]] == []
    assert not set(lexicon.positive_) & set(lexicon.negative_)


def test_accents_and_case_do_not_matter(lexicon):
    a, b = _features(lexicon, "Très DÉÇU par ce téléphone", "tres decu par ce telephone")
    assert a.tolist() == b.tolist() and a[0] < 0


def test_the_model_keeps_its_own_lexicon(tmp_path, monkeypatch):
    """A saved model carries its word lists: a later change of the bundled lists changes nothing for it."""
    path = tmp_path / "m.joblib"
    train(TINY, path, config=ModelConfig(cv_folds=3))
    texts = ["Franchement génial, merci", "Service client lamentable", "Rien à signaler"]
    before = load(path).model.predict_scores(texts)
    import classify.text.lexicon_words as words

    monkeypatch.setattr(words, "POSITIVE", ["lamentable"])
    monkeypatch.setattr(words, "NEGATIVE", ["génial", "merci"])
    after = load(path).model.predict_scores(texts)
    for task in before:
        np.testing.assert_array_equal(before[task], after[task])
    refit = LexiconFeatures().fit()  # a new model would take the new lists
    assert refit.positive_ == ["lamentable"]


def test_no_lexicon_switch_and_its_record(cli, tmp_path):
    with_, without = tmp_path / "with.joblib", tmp_path / "without.joblib"
    assert cli("train", TINY, "--out", with_, "--cv", "3", "-q")[0] == 0
    assert cli("train", TINY, "--out", without, "--cv", "3", "--no-lexicon", "-q")[0] == 0
    a, b = load(with_).model, load(without).model
    assert [name for name, _ in a.features_.transformer_list][-1] == "lexicon"
    assert "lexicon" not in [name for name, _ in b.features_.transformer_list]
    assert a.n_features_ == b.n_features_ + len(COLUMNS)
    code, out, _ = cli("info", without, "--format", "json")
    assert json.loads(out)["config"]["lexicon"] is False


def test_a_model_saved_before_the_lexicon_is_read_as_without_it():
    old = {k: v for k, v in ModelConfig().to_dict().items() if k not in ("lexicon", "lexicon_scale")}
    assert ModelConfig.from_dict(old).lexicon is False
    assert ModelConfig.from_dict(ModelConfig().to_dict()).lexicon is True


def test_explain_names_the_lexicon_columns(tiny_model_path):
    from classify.explain import feature_names

    names = feature_names(load(tiny_model_path).model)
    assert list(names[-2:]) == ["<lexicon:polarity>", "<lexicon:balance>"]


def test_lexicon_carries_sentiment_beyond_the_training_vocabulary():
    """Trained on texts whose only sentiment words are a handful of lexicon words, the model reads the tone
    of texts made of other lexicon words it has never seen; without the lexicon it cannot."""
    pos = ["super", "génial", "excellent", "parfait", "formidable", "bravo"]
    neg = ["nul", "horrible", "lamentable", "catastrophique", "honteux", "pitoyable"]
    things = ["le réseau", "la box", "le conseiller", "la facture", "le téléphone", "l'appli"]
    rows = []
    for i, thing in enumerate(things):
        for j in range(len(pos)):
            rows.append((f"{thing} {pos[(i + j) % 6]}", "positive"))
            rows.append((f"{thing} {neg[(i + j) % 6]}", "negative"))
    unseen = [("la livraison impeccable", "positive"), ("un accueil chaleureux", "positive"),
              ("une attente insupportable", "negative"), ("un service déplorable", "negative"),
              ("une installation irréprochable", "positive"), ("une réponse méprisante", "negative")]
    with tempfile.TemporaryDirectory() as folder:
        corpus_path = f"{folder}/c.csv"
        with open(corpus_path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([("text", "sentiment"), *rows])
        from classify.corpus import load_corpus

        corpus = load_corpus(corpus_path)
        right = {}
        for lexicon in (True, False):
            model = ClassifyModel(ModelConfig(lexicon=lexicon, cv_folds=0, char=False)).fit(corpus)
            predicted = model.predict([t for t, _ in unseen])["sentiment"]
            right[lexicon] = sum(p == truth for p, (_, truth) in zip(predicted, unseen, strict=True))
    assert right[True] == len(unseen)
    assert right[False] < len(unseen)


@pytest.mark.parametrize("n_texts", [3, 250])  # both word n-gram paths (per text, and batch lookups)
def test_sharing_the_tokens_changes_nothing(tiny_model_path, n_texts):
    """The word block and the lexicon split each text once between them; the matrix is what each block
    gives on its own."""
    import scipy.sparse as sp

    from classify.features import CompiledUnion

    model = load(tiny_model_path).model
    union = model.features_
    assert union._shared_tokenizer() is not None
    from classify.corpus import load_corpus

    corpus = load_corpus(TINY).texts
    texts = [model.normalizer_(corpus[i % len(corpus)] + f" pas génial {i}") for i in range(n_texts)]
    shared = union.transform(texts)
    alone = sp.hstack([sp.csr_matrix(block.transform(texts)) for _, block in union.transformer_list],
                      format="csr")
    assert (shared != alone).nnz == 0
    unshared = CompiledUnion([(f"{name}-", block) for name, block in union.transformer_list])
    assert unshared._shared_tokenizer() is None
