"""The compiled normaliser (classify/_norm.pyx) gives `normalize`'s strings exactly, on any input and for
every `Normalizer` setting, or leaves the text to Python; classify uses Python when forced or when missing."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classify import core
from classify.text import resources as R
from classify.text.normalize import Normalizer, normalize

_norm = pytest.importorskip("classify._norm", reason="the compiled normaliser is not built (no C compiler?)")

SETTINGS = [Normalizer(accents=a, mask=m, breaks=b)
            for a in (True, False) for m in (True, False) for b in (False, True)]


def _compiled(normalizer, texts, monkeypatch):
    """(what the compiled pass gives for each text: a string, or None when it leaves it to Python; what
    `normalize_texts` gives)."""
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    compiled = core._normaliser(normalizer)
    assert compiled is not None, "the compiled normaliser is off"
    return compiled(texts), core.normalize_texts(normalizer, texts)


def _check(texts, monkeypatch):
    for normalizer in SETTINGS:
        _, got = _compiled(normalizer, texts, monkeypatch)
        assert got == [normalizer(t) for t in texts], normalizer


FRENCH = [
    "Le réseau SFR est en panne depuis ce matin !!", "Je n'ai jamais eu de problème : service au top 👍👍",
    "ça marche trés bien... ou pas?", "« Pas terrible » dit-il. L’avion d’Air France part à 14h30.",
    "Il coûte 250?000 €, soit 1 234,56 euros ; «?texte?» et qu'qu'a", "Trooop bieeen !!!! ???? ....",
    "L'État, l'été, S'il, JUSQU'À, Lorsqu'il, aujourd'hui, prud'hommes", "n°3, 5g, 4k, iphone15, 3.14, 1.2.3",
    "Ligne\tavec\r\ndes\u00a0espaces\u202fet\u2009des\u200bzéro\u00adlargeur", "ﬁnance ½ Ⅻ ① ㉑ ² x²",
    "", "  ", "'", "l'", "l'a", "qu''a", "d’’un", "a1 2", "1 2345", "1,2345", "1 234x", "1.234.567,89€",
]
PIECES = ["l'", "L'", "qu'", "Qu’", "jusqu'", "d`", "n´", "s\u2032", "t\u02bc", "m\u2018", "c\uff07", "'",
          "’", "a", "e", "é", "É", "œ", "Œ", "ß", "İ", "ſ", "Σ", "σ", "K", "Ω", "日本語", "العربية", "한국어",
          "ᄀ", "ᅡ", "ಕೊ", "\u0cbf", "\u0cd5", "русский", "١٢٣", "٣", "½", "Ⅻ", "①", "㉑", "²", "0", "1", "12",
          "123", "1234", "?", "? ", "«", "»", "«?", "?»", ",", ".", " ", "  ", "\t", "\r", "\n", "\f", "\v",
          "\u00a0", "\u202f", "\u2009", "\u3000", "\u1680", "\u200b", "\u00ad", "\ufeff", "\x00", "\u0301",
          "\u0327", "\u0308", "😀", "👍🏻", "❤", "\ufe0f", "\u200d", "!", "!!!", "???", "....", "ooo", "OOO",
          "___", "n", "nn", "nous", "merci", "bravo", "salut", "nmerci", ".n", "!nn", "?n'", "@", "@user", "a@b.fr", "http", "HTTP", "https://x.fr/a", "www.", "WWW.x", "Ã©", "Â", "Ã",
          "\ud800", "\udcff", "ﬁ", "ǅ", "ẛ", "\u0344", "Å", "\u212b", "_", "-", "x" * 5, "1" * 5, "é" * 4]
TEXT = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),  # surrogates included
    st.binary(max_size=120).map(lambda b: b.decode("utf-8", errors="surrogateescape")),
    st.lists(st.sampled_from(PIECES), max_size=40).map("".join),
    st.lists(st.sampled_from(PIECES), max_size=40).map(" ".join),
    st.lists(st.sampled_from(["😀", "👍", "🏻", "\u200d", "❤", "\ufe0f", "🇫", "🇷"]), max_size=30)
    .map("".join),
    st.lists(st.sampled_from("0123456789 ,.?'’«»x-"), max_size=40).map("".join),
    st.just(""),
)


def test_the_normaliser_implements_the_rules_of_resources():
    assert core.norm_rules_agree(_norm) is None


def test_a_changed_rule_turns_the_normaliser_off(monkeypatch):
    import re

    monkeypatch.setattr(R, "NUMBER_RE", re.compile(r"\d+"))
    assert "NUMBER_RE" in core.norm_rules_agree(_norm)


def test_french_texts_are_normalised_by_the_compiled_pass_alike(monkeypatch):
    for normalizer in SETTINGS:
        raw, got = _compiled(normalizer, FRENCH, monkeypatch)
        assert got == [normalizer(t) for t in FRENCH]
        assert all(r.__class__ is str for r in raw), "French text without @ or URL was left to Python"


def test_texts_with_a_line_break_exported_as_n_are_left_to_python_when_the_normalizer_repairs_them(monkeypatch):
    texts = ["bonjour,nnla messagerie est en panne.nmerci", "j'ai la fibrenmerci", "ok ?nnous verrons !nn",
             "merci.nn'hésitez pas", "voir free.net ou http://free.net.nmerci", "nbravo free", ":)nsalut"]
    for breaks in (True, False):
        raw, got = _compiled(Normalizer(breaks=breaks), texts, monkeypatch)
        assert got == [normalize(t, breaks=breaks) for t in texts]
        assert all(r is None for r in raw) if breaks else all(r.__class__ is str for r in raw[:4])
    raw, _ = _compiled(Normalizer(breaks=True), ["il est né.", "remerciements, bonjour", "enfin, une"], monkeypatch)
    assert all(r.__class__ is str for r in raw)


def test_texts_the_pass_does_not_handle_are_left_to_python(monkeypatch):
    texts = ["écrire à a@b.fr", "@user merci", "voir http://x.fr", "www.lemonde.fr", "FranÃ§ais", "e\u0301",
             "Σ", "\ud800", "한국어"]
    raw, got = _compiled(Normalizer(), texts, monkeypatch)
    assert raw == [None] * len(texts)
    assert got == [normalize(t) for t in texts]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=10))
@example(texts=["", "\x00", "\u0301", "a\u0301", "\ud800", "l'l'l'a", "1?234?567", "«?»", "\t\u200b\t \t"])
def test_compiled_normalisation_is_python_s_on_any_text(texts, monkeypatch):
    _check(texts, monkeypatch)


def test_a_ten_megabyte_text(monkeypatch):
    import random

    served, _ = _compiled(Normalizer(), PIECES, monkeypatch)
    # a text the pass itself handles; elisions apart (Python repeats its pass per elision glued to another)
    pieces = [p for p, r in zip(PIECES, served, strict=True) if r is not None and not any(
        c in p for c in R.APOSTROPHES + "'")] + [" l'avion ", " Qu’il ", " jusqu'à "]
    rng = random.Random(0)
    big = "".join(rng.choice(pieces) for _ in range(6_000_000))[:10_000_000]
    assert len(big) >= 10_000_000
    texts = [big, "qu'" * 2_000 + "a", "1 234" * 200_000, big[:1_000_000] + "\u0301"]
    raw, _ = _compiled(Normalizer(), texts, monkeypatch)
    assert [r is None for r in raw] == [False, False, False, True]
    _check(texts, monkeypatch)


def test_classify_pure_python_forces_python(monkeypatch):
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "1")
    assert core._normaliser(Normalizer()) is None or core.pure_python()
    assert core.normalize_texts(Normalizer(), FRENCH) == [normalize(t) for t in FRENCH]


def test_other_normalisers_and_none_are_applied_as_they_are(monkeypatch):
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    assert core.normalize_texts(None, ("a", "B")) == ["a", "B"]
    assert core.normalize_texts(str.upper, ["a", "b"]) == ["A", "B"]


def test_the_characters_that_compose_are_all_in_the_planes_scanned():
    """`_composers` scans planes 0-2 only, where Unicode puts every canonical decomposition: the same set as
    a scan of every code point, with this Python's Unicode database."""
    from classify import core

    assert core._composers() == core._composers(range(0x110000))
    assert "\u0cca" in core._composers()  # ೊ: its second part is a starter


def test_threads_normalise_at_once_while_new_characters_fill_the_tables(monkeypatch):
    """Passes run in several threads at once; a thread whose texts bring new characters fills the tables
    while no pass reads them: every text comes out as Python normalises it."""
    import threading

    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    normalizer = Normalizer(accents=False, mask=True, breaks=True)
    scripts = [range(0x0400, 0x0450), range(0x0600, 0x0650), range(0x3040, 0x3090), range(0x0900, 0x0950),
               range(0x10A0, 0x10F0), range(0x1E00, 0x1E50)]  # Cyrillic, Arabic, Hiragana, Devanagari, ...
    batches = [[f"{t} {''.join(chr(c) for c in script)[k:k + 9]}" for t in FRENCH for k in range(0, 40, 8)]
               for script in scripts]
    results, errors = {}, []

    def work(k):
        try:
            results[k] = core.normalize_texts(normalizer, batches[k])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, batch in enumerate(batches):
        assert results[k] == [normalizer(t) for t in batch]


def test_training_normalises_through_the_compiled_pass_to_the_same_matrix(monkeypatch):
    """`fit_shared_features` normalises with the compiled pass (its leftovers, texts with links or
    mentions, in Python): the matrix is the pure-Python path's, bit for bit."""
    from classify.config import ModelConfig
    from classify.corpus import load_corpus
    from classify.training import fit_shared_features

    from .conftest import TINY

    texts = load_corpus(TINY).texts + FRENCH + ["@orange_fr la fibre http://x.fr merci", "un mail a@b.fr"]
    monkeypatch.setattr(core, "FAST_BATCH", 0)
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "1")
    reference = fit_shared_features(ModelConfig(), texts)[2]
    monkeypatch.setenv("CLASSIFY_PURE_PYTHON", "0")
    passes = []
    original = core._CompiledNormalizer.__call__
    monkeypatch.setattr(core._CompiledNormalizer, "__call__", lambda self, t: passes.append(len(t)) or original(self, t))
    compiled = fit_shared_features(ModelConfig(), texts)[2]
    assert passes and passes[0] == len(texts)
    assert (reference != compiled).nnz == 0 and reference.data.tobytes() == compiled.data.tobytes()
