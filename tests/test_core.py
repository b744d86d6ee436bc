"""The compiled core (classify/_core.pyx) computes the Python path's TF-IDF matrix bit for bit, on any input,
and classify falls back to the Python path, saying so once, when it is missing."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classify import core
from classify.corpus import load_corpus
from classify.features import CompiledUnion, fit_tfidf
from classify.text.normalize import Normalizer, Tokenizer

from .conftest import TINY

_core = pytest.importorskip("classify._core", reason="the compiled core is not built (no C compiler?)")


def _same(A, B) -> bool:
    """The same CSR matrix: shape, index arrays, dtypes and float32 data bit for bit."""
    return (A.shape == B.shape and A.data.dtype == B.data.dtype and A.indices.dtype == B.indices.dtype
            and np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)
            and A.data.tobytes() == B.data.tobytes())


def _both(union, texts, monkeypatch, threads=1):
    """(Python path, compiled path) matrices of `texts`."""
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "1")
    union.__dict__.pop("_fast_kernel", None)
    reference = union.transform(texts)
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    core.set_threads(threads)
    try:
        compiled = union.transform(texts)
    finally:
        core.set_threads(1)
    assert union.__dict__.get("_fast_kernel"), "the compiled kernel was not used"
    return reference, compiled


def _union(texts, negation=True, word=(1, 2), char=(2, 5), sublinear=True, lexicon=True):
    from classify.lexicon import LexiconFeatures

    tokenizer = Tokenizer(mark_negation=negation)
    blocks = [("word", fit_tfidf(texts, "word", word, 1, sublinear, tokenizer=tokenizer)[0])]
    if char:
        blocks.append(("char", fit_tfidf(texts, "char_wb", char, 1, sublinear)[0]))
    if lexicon:  # counted by the kernel with the word block's tokens when they are the lexicon's (negation)
        blocks.append(("lexicon", LexiconFeatures(scale=1.5).fit()))
    return CompiledUnion(blocks)


FRENCH = ["Le réseau SFR est en panne depuis ce matin !!", "pas du tout content 😡 de la box, vraiment",
          "service absurde, pas abouti ; abus abus abus", "acclamation ❤ et ne pas abime",
          "Je n'ai jamais eu de problème : service au top 👍👍",
          "ne pas-de-calais; sans-fil ni rien (aucune)",
          "ça marche trés bien... ou pas?", "guère mieux « pas terrible » non"]


def test_the_kernel_implements_the_rules_of_resources():
    assert core.rules_agree(_core) is None


def test_a_changed_rule_turns_the_kernel_off(monkeypatch):
    import re

    from classify.text import resources as R

    monkeypatch.setattr(R, "SCOPE_WORD_RE", re.compile(r"\w+"))
    assert "SCOPE_WORD_RE" in core.rules_agree(_core)


@pytest.mark.parametrize("settings_", [dict(), dict(negation=False), dict(word=(1, 3), char=(1, 6)),
                                       dict(word=(2, 2), char=None, sublinear=False), dict(char=(3, 3)),
                                       dict(lexicon=False)],
                         ids=["default", "no-negation", "wide", "bigrams-only", "char-3", "no-lexicon"])
def test_compiled_matrix_is_the_python_one_on_the_corpus(settings_, monkeypatch):
    normalize = Normalizer(accents=False)
    texts = [normalize(t) for t in load_corpus(TINY).texts + FRENCH]
    union = _union(texts, **settings_)
    others = [normalize(t) for t in FRENCH + ["", "  ", "mot_inconnu xyz", "a" * 5000]]
    for batch in (texts, others, texts * 3):
        A, B = _both(union, batch, monkeypatch)
        assert _same(A, B)


def test_two_threads_give_the_same_matrix(monkeypatch):
    normalize = Normalizer(accents=False)
    texts = [normalize(t) for t in load_corpus(TINY).texts]
    union = _union(texts)
    A, B = _both(union, texts * 5, monkeypatch, threads=2)
    assert _same(A, B)


def test_repeated_texts_are_weighed_by_numpy_alike(monkeypatch):
    """A text pasted twice has every count >= 2: the kernel leaves that row to numpy (relative counts)."""
    union = _union(FRENCH)
    A, B = _both(union, [t + " " + t for t in FRENCH] + FRENCH, monkeypatch)
    assert _same(A, B)


# -- any input: random Unicode, straight into the features (unnormalised) and through the normaliser ------
def _surrogate_escaped(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


PIECES = ["abouti", "absurde", "❤", "pas", "ne", "jamais", "guère", "sans", "ni", "neg_", "-", "--", "_", " ",
          "\n", "\t", "\x00",
          "\u0301", "\u0327", "😀", "👍🏻", "❤", "⭐", "☀", "\u27bf", "\U0001faff", "!", "?", ".", "«", "»",
          "'", "’", "l'", "é", "œ", "ß", "İ", "ſ", "Ω", "日本語", "العربية", "русский", "١٢٣", "½", "Ⅻ",
          "\u00a0", "\u2028", "\x1c", "\x85", "\ud800", "\udcff", "a" * 30]
TEXT = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),  # surrogates included
    st.binary(max_size=120).map(_surrogate_escaped),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
    st.lists(st.sampled_from(["😀", "👍", "🏻", "\u200d", "❤", "\ufe0f"]), max_size=30).map("".join),
    st.just(""),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(train=st.lists(TEXT, min_size=1, max_size=8), batch=st.lists(TEXT, min_size=1, max_size=8),
       normalised=st.booleans())
@example(train=["pas bon"], batch=["", "\x00", "\u0301", "pas\u0301 bon", "\ud800pas bon"], normalised=False)
def test_compiled_matrix_is_the_python_one_on_any_text(train, batch, normalised, monkeypatch):
    if normalised:
        normalize = Normalizer(accents=False)
        train, batch = [normalize(t) for t in train], [normalize(t) for t in batch]
    try:  # a vocabulary from the random texts themselves: a token or n-gram read differently shows
        union = _union(batch + train + FRENCH)
    except ValueError:
        return
    A, B = _both(union, batch + train, monkeypatch)
    assert _same(A, B)


def test_a_ten_megabyte_text(monkeypatch):
    words = ["pas", "très", "bon", "😀😀", "réseau", "x" * 3000, "ne-pas", "\x00", "\u0301é"]
    rng = np.random.default_rng(0)
    big = " ".join(words[i] for i in rng.integers(0, len(words), size=40_000))[:10_000_000]
    assert len(big) >= 10_000_000
    union = _union(FRENCH + ["très bon réseau " + "x" * 3000])
    A, B = _both(union, [big, "", "a" * 1_000_000], monkeypatch)
    assert _same(A, B)


def test_lexicon_rows_left_to_python_are_counted_there():
    """A text with two different tokens of one 64-bit key (status 2) has its lexicon columns from Python."""
    from classify.lexicon import LexiconFeatures

    lexicon = LexiconFeatures(scale=2.0).fit()
    texts = ["pas absurde du tout, abouti abouti", "rien", "absurde"]
    n = len(texts)
    got = lexicon.transform_sums(texts, np.zeros(n), np.zeros(n), np.ones(n, dtype=np.int64), np.full(n, 2))
    assert got.tobytes() == lexicon.transform(texts).tobytes()


def test_items_that_are_not_text_raise_as_on_the_python_path():
    kernel = _core.Kernel(char_vocabulary={"ab": 0})
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        kernel.counts(["ab", 3])


def test_a_vocabulary_the_kernel_cannot_hold_is_refused():
    with pytest.raises(ValueError):
        _core.Kernel(char_vocabulary={"ab": 0, "cd": 2})


# -- the switch -----------------------------------------------------------------------------------------
def test_classify_pure_python_forces_the_reference_path(monkeypatch):
    union = _union(FRENCH)
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "1")
    assert core.compiled_blocks(union, FRENCH) == {}
    assert core.module() is None
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    assert set(core.compiled_blocks(union, FRENCH)) == {"word", "char", "lexicon"}


def test_without_the_compiled_module_a_note_says_so_once(monkeypatch, capsys):
    import sys

    import classify

    monkeypatch.setitem(sys.modules, "classify._core", None)  # `import` raises ImportError
    monkeypatch.delattr(classify, "_core", raising=False)
    monkeypatch.setattr(core, "_state", {})
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    union = _union(FRENCH)
    for _ in range(3):
        X = union.transform(FRENCH)
    assert X.shape[0] == len(FRENCH)
    err = capsys.readouterr().err
    assert err.count("Note: the compiled core is not available") == 1
    assert "pure-Python path (slower)" in err and "classify._core could not be imported" in err


def test_predict_output_is_byte_identical_on_both_paths(cli, tiny_model, tmp_path, monkeypatch):
    texts = load_corpus(TINY).texts + FRENCH
    table = tmp_path / "in.jsonl"
    table.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                             for i, t in enumerate(texts * 20)), encoding="utf-8")
    outputs = []
    for pure in ("1", "0"):
        monkeypatch.setenv("CLASSIFY_PURE_PYTHON", pure)
        code, out, err = cli("predict", table, "--model", tiny_model, "--format", "jsonl")
        assert code == 0, err
        outputs.append(out)
    assert outputs[0] == outputs[1]


# -- decision values scored as each text is counted (`core.decisions`): the matrix way's, bit for bit -------
def _layers(union, texts, n_layers=2, seed=0):
    """Linear layers over the union's columns (sizes from a transform), as a model's tasks hold them."""
    from classify.scoring import LinearScorer

    rng = np.random.default_rng(seed)
    n_columns = union.transform(texts[:1]).shape[1]
    return [LinearScorer(rng.standard_normal((k, n_columns)).astype(np.float32) * 3,
                         rng.standard_normal(k).astype(np.float32)) for k in (3, 15)[:n_layers]]


def _decisions_both(union, scorers, texts, monkeypatch):
    """(matrix way, kernel way) decision values of each scorer."""
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    X = union.transform(texts).tocsr()
    found = core.decisions(union, scorers, texts)
    assert found is not None, "the kernel did not score the texts"
    return [s.decision(X) for s in scorers], found


@pytest.mark.parametrize("settings_", [dict(), dict(negation=False), dict(word=(1, 3), char=(1, 6)),
                                       dict(char=None), dict(lexicon=False), "char-first"],
                         ids=["default", "no-negation", "wide", "word-only", "no-lexicon", "char-first"])
def test_kernel_decisions_are_the_matrix_ones(settings_, monkeypatch):
    normalize = Normalizer(accents=False)
    texts = [normalize(t) for t in load_corpus(TINY).texts + FRENCH]
    union = _union(texts, **(settings_ if isinstance(settings_, dict) else {}))
    if settings_ == "char-first":
        blocks = dict(union.transformer_list)
        union = CompiledUnion([("char", blocks["char"]), ("word", blocks["word"]), ("lexicon", blocks["lexicon"])])
    scorers = _layers(union, texts)
    # texts pasted twice (every count 2: rows numpy weighs, scored the matrix way), empty ones, unknown words
    batch = texts + [t + " " + t for t in texts[:5]] + ["", " ", "mot_inconnu xyz", "a" * 3000]
    expected, found = _decisions_both(union, scorers, batch, monkeypatch)
    for a, b in zip(expected, found, strict=True):
        assert a.dtype == b.dtype == np.float32 and a.tobytes() == b.tobytes()


def test_a_model_scores_its_layers_side_by_side_as_each_alone(tiny_model_path, monkeypatch):
    """`ClassifyModel` gives the kernel its tasks' layers (and the source classifier's) as one layer, one
    cache line per n-gram: each label's column is the same to the bit as its layer's alone, and as the
    matrix way's."""
    from classify import api
    from classify.scoring import LinearScorer

    monkeypatch.setattr(core, "FAST_BATCH", 0)
    model = api.load(tiny_model_path).model
    texts = model._normalized(load_corpus(TINY).texts * 7)  # 252 texts: past the small batches
    scorers = [task.scorer for task in model.tasks_.values()]
    scorers.append(LinearScorer(np.ones((4, scorers[0].coef.shape[1]), np.float32), np.zeros(4, np.float32)))
    merged = model._merged_layer(scorers)
    assert merged is model._merged_layer(scorers) and merged.coef.shape[0] == sum(s.coef.shape[0] for s in scorers)
    (together,) = core.decisions(model.features_, [merged], texts)
    alone = core.decisions(model.features_, scorers, texts)
    X = model.features_.transform(texts).tocsr()
    at = 0
    for scorer, values in zip(scorers, alone, strict=True):
        part = together[:, at:at + scorer.coef.shape[0]]
        at += scorer.coef.shape[0]
        assert part.tobytes() == np.ascontiguousarray(values).tobytes() == scorer.decision(X).tobytes()
    scores = model.predict_scores(load_corpus(TINY).texts * 7)
    assert all(np.array_equal(scores[name], task.scores(X)) for name, task in model.tasks_.items())
    assert "_merged" not in model.__getstate__()  # kept while the model lives, never saved


def test_kernel_decisions_are_none_where_the_kernel_cannot_score(monkeypatch):
    from classify.lexicon import LexiconFeatures

    normalize = Normalizer(accents=False)
    texts = [normalize(t) for t in FRENCH]
    union = _union(texts)
    blocks = dict(union.transformer_list)
    scorers = _layers(union, texts)
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    # a dense block before a TF-IDF block: its columns would come first in a row's sums
    before = CompiledUnion([("word", blocks["word"]), ("lexicon", LexiconFeatures().fit()), ("char", blocks["char"])])
    assert core.decisions(before, scorers, texts) is None
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "1")
    assert core.decisions(union, scorers, texts) is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(train=st.lists(TEXT, min_size=1, max_size=8), batch=st.lists(TEXT, min_size=1, max_size=8))
def test_kernel_decisions_are_the_matrix_ones_on_any_text(train, batch, monkeypatch):
    try:
        union = _union(batch + train + FRENCH)
    except ValueError:
        return
    scorers = _layers(union, FRENCH, n_layers=1)
    expected, found = _decisions_both(union, scorers, batch + [t + t for t in batch], monkeypatch)
    assert expected[0].tobytes() == found[0].tobytes()
