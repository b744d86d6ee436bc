"""The compiled TF-IDF features compute scikit-learn's matrix, and prediction never imports scikit-learn."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classify.corpus import load_corpus
from classify.features import CompiledTfidf, CompiledUnion
from classify.config import ModelConfig
from classify.training import build_features, build_normalizer

from .conftest import TINY

CONFIGS = [
    ModelConfig(),
    ModelConfig(stop_words=True, word_ngrams=(1, 3), char_ngrams=(1, 6), sublinear_tf=False, min_df=1),
    ModelConfig(char=False, word_ngrams=(2, 2), negation=False, accents=True),
]


def _fitted(config):
    normalize = build_normalizer(config)
    texts = [normalize(t) for t in load_corpus(TINY).texts]
    return normalize, build_features(config).fit(texts), texts


@pytest.fixture(params=["per-text", "vectorised"])
def word_path(request, monkeypatch):
    """Run a test through both ways of finding word n-grams (small batches, large batches)."""
    from classify import features

    monkeypatch.setattr(features, "_FAST_BATCH", 10**9 if request.param == "per-text" else 0)


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "wide", "words-only"])
def test_compiled_features_equal_scikit_learns(config, word_path):
    normalize, union, texts = _fitted(config)
    compiled = CompiledUnion.from_sklearn(union)
    others = [normalize(t) for t in ["", "   ", "Le réseau SFR est en panne !!", "pas du tout content 😡 de la box",
                                     "mot_inconnu xyz"]]
    for batch in (texts, others):
        A, B = union.transform(batch).tocsr(), compiled.transform(batch)
        assert A.shape == B.shape
        assert abs(A - B).max() < 1e-6
        assert ((A != 0) != (B != 0)).nnz == 0
    assert [n for _, b in compiled.transformer_list for n in b.get_feature_names_out()] == \
        [n for _, b in union.transformer_list for n in b.get_feature_names_out()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_compiled_features_equal_scikit_learns_on_any_text(batch):
    from classify import features

    normalize, union, _ = FITTED
    batch = [normalize(t) for t in batch]
    A = union.transform(batch).tocsr()
    original = features._FAST_BATCH
    for fast_from in (10**9, 0):  # per text, then vectorised
        features._FAST_BATCH = fast_from
        try:
            B = CompiledUnion.from_sklearn(union).transform(batch)
        finally:
            features._FAST_BATCH = original
        assert A.shape == B.shape and (abs(A - B).max() if A.nnz or B.nnz else 0) < 1e-6


FITTED = _fitted(CONFIGS[1])


MAX_FEATURES = ModelConfig(word_ngrams=(1, 2), char_ngrams=(2, 3), min_df=1, max_features=40)  # many ties


@pytest.mark.parametrize("config", CONFIGS + [MAX_FEATURES], ids=["default", "wide", "words-only", "max-features"])
def test_training_features_are_scikit_learns(config):
    """`fit_features` (what training runs) learns scikit-learn's vocabulary and idf, bit for bit, and its
    matrix; that matrix is exactly the one the fitted features give at prediction."""
    from classify.training import fit_features

    normalize = build_normalizer(config)
    texts = [normalize(t) for t in load_corpus(TINY).texts]
    union = build_features(config)
    A = union.fit_transform(texts).tocsr()
    compiled, X = fit_features(config, texts)
    assert [name for name, _ in compiled.transformer_list] == [name for name, _ in union.transformer_list]
    for (_, ours), (_, theirs) in zip(compiled.transformer_list, union.transformer_list):
        if hasattr(theirs, "vocabulary_"):
            assert ours.vocabulary_ == theirs.vocabulary_
            assert ours.idf_.tobytes() == theirs.idf_.astype(np.float32).tobytes()
            assert ours.stop_words == (sorted(theirs.get_stop_words()) if theirs.get_stop_words() else None)
    assert X.shape == A.shape and abs(X - A).max() < 1e-6 and ((X != 0) != (A != 0)).nnz == 0
    assert (compiled.transform(texts) != X).nnz == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(alphabet="ab éè'-!😡 \n", max_size=30), min_size=1, max_size=6), st.integers(1, 3))
def test_fitting_any_texts_finds_scikit_learns_vocabulary(texts, min_df):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from classify.features import fit_tfidf
    from classify.text.normalize import Tokenizer

    tokenizer = Tokenizer(mark_negation=True)
    for analyzer, ngram_range, extra in (("word", (1, 3), {"tokenizer": tokenizer, "token_pattern": None}),
                                         ("char_wb", (1, 4), {})):
        theirs = TfidfVectorizer(analyzer=analyzer, ngram_range=ngram_range, min_df=min_df, lowercase=False,
                                 preprocessor=str, sublinear_tf=True, dtype=np.float32, **extra)
        try:
            theirs.fit(texts)
        except ValueError:  # nothing left to learn: fitting here refuses too
            with pytest.raises(ValueError):
                fit_tfidf(texts, analyzer, ngram_range, min_df, True, tokenizer=tokenizer)
            continue
        ours, B = fit_tfidf(texts, analyzer, ngram_range, min_df, True, tokenizer=tokenizer)
        assert ours.vocabulary_ == theirs.vocabulary_
        assert abs(_relative_sublinear_tfidf(theirs, texts) - B).max() < 1e-6


def _relative_sublinear_tfidf(vectorizer, texts):
    """scikit-learn's sublinear TF-IDF of the counts divided by each row's smallest count (what classify
    weighs: the same as scikit-learn's whenever a row has a term seen once)."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

    params = {k: v for k, v in vectorizer.get_params().items() if k in CountVectorizer().get_params()}
    counts = CountVectorizer(**{**params, "dtype": np.float64}).fit_transform(texts).tocsr()
    for i in range(counts.shape[0]):
        row = counts.data[counts.indptr[i]:counts.indptr[i + 1]]
        if len(row):
            row /= row.min()
    weighted = TfidfTransformer(sublinear_tf=True).fit(counts)
    weighted.idf_ = vectorizer.idf_  # the idf of the raw counts (dividing a row changes no document frequency)
    return weighted.transform(counts)


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "wide", "words-only"])
def test_small_batches_give_scipys_matrix_and_scores_to_the_bit(config):
    """A small batch is computed without scipy (`classify.rows`): the same entries in the same order, and
    the same decision scores and probabilities, bit for bit, as through scipy's matrices."""
    from classify.model import ClassifyModel

    model = ClassifyModel(ModelConfig(**{**config.to_dict(), "cv_folds": 3}), n_jobs=1).fit(load_corpus(TINY))
    texts = load_corpus(TINY).texts
    others = ["Le réseau SFR est en panne !!", "pas du tout content 😡 de la box", "mot_inconnu xyz", "!!!",
              "aaa aaa aaa bonjour bonjour", "Ce n'est pas génial, la 4G ne marche plus. " * 5]
    for batch in (texts, others, others[:1]):
        R, X = model._rows(batch), model.transform(batch)
        assert R.shape == X.shape
        assert R.indptr.tolist() == X.indptr.tolist() and R.indices.tolist() == X.indices.tolist()
        assert R.data.tobytes() == X.data.tobytes()
        for task in model.tasks_.values():
            assert task.scorer.decision(R).tobytes() == task.scorer.decision(X).tobytes()
        assert {k: v.tobytes() for k, v in model.predict_scores(batch).items()} == \
            {name: task.scores(X).tobytes() for name, task in model.tasks_.items()}


def test_large_batches_go_through_scipy(tiny_model_path):
    from classify.api import load
    from classify.rows import SMALL_BATCH

    model = load(tiny_model_path).model
    assert model._rows(["un texte"] * (SMALL_BATCH - 1)) is not None
    assert model._rows(["un texte"] * SMALL_BATCH) is None


def test_only_classify_vectorizers_compile():
    from sklearn.feature_extraction.text import TfidfVectorizer

    with pytest.raises(ValueError):
        CompiledTfidf.from_sklearn(TfidfVectorizer(analyzer="char").fit(["abc abd"]))


def test_predicting_imports_neither_scikit_learn_nor_joblib(tiny_model_path):
    code = (
        "import sys\n"
        "from classify import api\n"
        "from classify.inputs import Document\n"
        f"loaded = api.load({str(tiny_model_path)!r})\n"
        "out = list(api.predict([Document('a', 'La box ne marche plus')], loaded))\n"
        "assert out[0].labels['sentiment'], out\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'joblib')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "wide", "words-only"])
def test_training_features_in_two_processes_are_the_same(config, monkeypatch, tmp_path):
    """With several jobs, training normalises the texts and fits the character n-grams in forked processes
    (`model.map_texts`, `fit_features(jobs=2)`): the same texts, vocabulary, idf and matrix as in one."""
    from classify import training as model
    from classify.training import fit_features, map_texts

    texts = load_corpus(TINY).texts
    normalize = build_normalizer(config)
    one = map_texts(normalize, texts, 1)
    one_union, one_X = fit_features(config, one, 1)
    monkeypatch.setattr(model, "PARALLEL_MIN_TEXTS", 2)  # the tiny corpus goes through the processes
    fit_char, where = model._fit_char, tmp_path / "char-pid"

    def spied(*args):
        where.write_text(str(os.getpid()))
        return fit_char(*args)

    monkeypatch.setattr(model, "_fit_char", spied)
    two = map_texts(lambda t: (os.getpid(), normalize(t)), texts, 2)
    assert [t for _, t in two] == one and os.getpid() not in {pid for pid, _ in two}
    two_union, two_X = fit_features(config, one, 2)
    if config.char:
        assert int(where.read_text()) != os.getpid()
    assert [name for name, _ in two_union.transformer_list] == [name for name, _ in one_union.transformer_list]
    for (_, a), (_, b) in zip(two_union.transformer_list, one_union.transformer_list):
        if hasattr(b, "vocabulary_"):
            assert a.vocabulary_ == b.vocabulary_ and a.idf_.tobytes() == b.idf_.tobytes()
    assert two_X.shape == one_X.shape and (two_X != one_X).nnz == 0


@pytest.mark.parametrize("writable", ["yes", "file", "folder"], ids=["through-a-file", "file-not-writable",
                                                                   "no-temporary-folder"])
def test_the_character_block_comes_back_from_its_process_through_a_file_that_is_then_removed(
        writable, monkeypatch, tmp_path):
    """The forked process hands the character block back through a temporary file (a pickled block of
    tens of MB took seconds through the pool's pipe), removed afterwards; if that file or its folder
    cannot be made, the block comes back through the pipe: the same features either way."""
    import tempfile

    from classify import parallel, training
    from classify.training import fit_features

    config = ModelConfig()
    normalize = build_normalizer(config)
    texts = [normalize(t) for t in load_corpus(TINY).texts]
    _, one_X = fit_features(config, texts, 1)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(training, "PARALLEL_MIN_TEXTS", 2)

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if writable == "file":
        monkeypatch.setattr(tempfile, "mkstemp", refuse)  # inherited by the forked process
    elif writable == "folder":
        monkeypatch.setattr(tempfile, "TemporaryDirectory", refuse)
    received, receive = [], parallel._received
    monkeypatch.setattr(parallel, "_received", lambda result: received.append(result) or receive(result))
    _, two_X = fit_features(config, texts, 2)
    assert two_X.shape == one_X.shape and (two_X != one_X).nnz == 0
    assert len(received) == 1 and isinstance(received[0], str) == (writable == "yes")
    if writable == "yes":
        assert received[0].startswith(str(scratch)) and received[0].endswith(".pickle")
    assert list(scratch.iterdir()) == []  # the file and its folder are gone


@pytest.mark.parametrize("config", CONFIGS, ids=["default", "wide", "words-only"])
def test_a_texts_features_do_not_depend_on_the_texts_around_it(config):
    """The same text gets the same row, to the bit, alone or in any batch, whatever the word cache already
    holds: predictions do not change with the input's order, the chunking or the number of jobs."""
    normalize, union, texts = _fitted(config)
    texts = texts[:300]  # past `_FAST_BATCH`: the vectorised word n-grams
    warm = CompiledUnion.from_sklearn(union)
    together = warm.transform(texts[::-1])[::-1]  # the cache numbers the words in another order
    for i in range(0, len(texts), 37):
        alone = CompiledUnion.from_sklearn(union).transform([texts[i]])
        for row in (alone, warm.transform([texts[i]])):
            assert row.shape == (1, together.shape[1])
            assert np.array_equal(row.toarray(), together[i].toarray())
