"""Property tests (hypothesis): the normaliser, the readers and predict hold for any input."""

import io
import string

import pytest

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from classify.errors import ClassifyError
from classify.text.normalize import Normalizer, Tokenizer

PIECES = (list(string.ascii_letters + " '’!?.,;:-\u00a0\u202f\t\n0123456789@#/") + list("éèêëàâäîïôöùûüçœæÉÈÀÇ«»…😀👍🏻")
          + ["qu'", "l'", "n'", "pas", "ne", "http://x.fr", "Ã©", "?000", "trooop"])
FRENCH = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), FRENCH))
def test_normaliser_never_raises_and_is_idempotent(text):
    for normalize in (Normalizer(accents=False), Normalizer(accents=True)):
        once = normalize(text)
        assert isinstance(once, str)
        assert normalize(once) == once


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), FRENCH))
def test_tokenizer_never_raises(text):
    tokens = Tokenizer(mark_negation=True)(Normalizer()(text))
    assert all(isinstance(t, str) and t and " " not in t for t in tokens)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=400), ext=st.sampled_from([".csv", ".tsv", ".jsonl"]))
def test_corpus_reader_raises_only_our_errors_on_arbitrary_bytes(tmp_path, data, ext):
    from classify.corpus import load_corpus

    path = tmp_path / f"corpus{ext}"
    path.write_bytes(data)
    try:
        corpus = load_corpus(path)
    except ClassifyError:
        return
    assert len(corpus.texts) == len(corpus.ids)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.binary(max_size=400))
@example(data=b"Bonjour tout le monde,positif\n\"deux\nlignes\",\n")  # the branch that loads, at least once
def test_corpus_reader_on_near_valid_csv(tmp_path, data):
    from classify.corpus import load_corpus

    path = tmp_path / "c.csv"
    path.write_bytes(b"text,label\n" + data)
    try:
        corpus = load_corpus(path)
    except ClassifyError:
        return
    # whatever the bytes, a corpus that loads is aligned: one id and one label cell per text
    assert len(corpus.texts) == len(corpus.ids) > 0
    assert all(isinstance(text, str) for text in corpus.texts)
    assert set(corpus.tasks) <= {"label"}
    assert all(len(task.values) == len(corpus.texts) for task in corpus.tasks.values())


ITEM = st.one_of(
    st.tuples(st.just("txt"), st.text(max_size=40)),
    st.tuples(st.just("bin"), st.binary(min_size=1, max_size=60)),
    st.tuples(st.just("csv"), st.lists(st.text(alphabet=string.ascii_letters + " ,\"\n'é", max_size=20), max_size=4)),
    st.tuples(st.just("stdin"), st.lists(st.text(alphabet=string.ascii_letters + " é", max_size=20), max_size=4)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(items=st.lists(ITEM, min_size=1, max_size=6))
def test_predict_gives_one_record_per_input_document(tmp_path_factory, tiny_model_path, items, monkeypatch):
    import csv
    import sys

    from classify import api
    from classify.inputs import iter_documents

    folder = tmp_path_factory.mktemp("inputs")
    inputs, expected, stdin_lines = [], 0, None
    for n, (kind, value) in enumerate(items):
        if kind == "txt":
            path = folder / f"{n}.txt"
            path.write_text(value, encoding="utf-8")
            inputs.append(str(path))
            expected += 1
        elif kind == "bin":
            path = folder / f"{n}.txt"
            path.write_bytes(value)
            inputs.append(str(path))
            expected += 1
        elif kind == "csv":
            path = folder / f"{n}.csv"
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["text"])
                w.writerows([[v] for v in value])
            inputs.append(str(path))
            expected += len(value)
        elif stdin_lines is None:
            stdin_lines = value
            inputs.append("-")
            expected += len(value)
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(line.replace("\n", " ") + "\n" for line in stdin_lines or [])))
    loaded = api.load(tiny_model_path)
    try:
        records = list(api.predict(iter_documents(inputs), loaded))
    except ClassifyError:
        # a table that cannot be parsed as a whole is an error for the whole run, never a silent gap
        assert any(kind == "csv" for kind, _ in items)
        return
    assert len(records) == expected
    for record in records:
        assert (record.labels is None) == (record.error is not None)


def _by_definition():
    """Each normalisation step as its definition: the regex or table applied with no shortcut. The
    functions in `normalize.py` skip work when a cheap test shows it would change nothing."""
    import re
    import unicodedata

    from unidecode import unidecode

    from classify.text import resources as R

    def elisions(text):
        def full(m):
            e = R.ELISIONS[m.group(1).lower()]
            return (e.capitalize() if m.group(1)[0].isupper() else e) + " "
        while (expanded := R.ELISION_RE.sub(full, text)) != text:
            text = expanded
        return text

    return {
        "fix_mojibake": lambda t: next((t.encode(e).decode("utf-8") for e in ("cp1252", "latin-1")
                                        if _decodes(t, e)), t) if R.MOJIBAKE_RE.search(t) else t,
        "normalize_unicode": lambda t: unicodedata.normalize("NFKC", t),
        "fold_accents": lambda t: "".join(unidecode(c) if "\x80" <= c < "\u2000" else c for c in t),
        "normalize_apostrophes": lambda t: re.sub("[" + R.APOSTROPHES + "]", "'", t),
        "normalize_spaces": lambda t: R.SPACES_RE.sub(" ", R.ZERO_WIDTH_RE.sub("", t)),
        "repair_lost_nbsp": lambda t: R.LOST_NBSP_QUOTES_RE.sub(
            lambda m: m.group(0).replace("?", " "), R.LOST_NBSP_IN_NUMBER_RE.sub(" ", t)),
        "expand_elisions": elisions,
        "mask_urls": lambda t: R.URL_RE.sub(R.URL_TOKEN, t),
        "mask_emails": lambda t: R.EMAIL_RE.sub(R.EMAIL_TOKEN, t),
        "mask_mentions": lambda t: R.MENTION_RE.sub(R.MENTION_TOKEN, t),
        "mask_numbers": lambda t: R.NUMBER_RE.sub(R.NUMBER_TOKEN, t),
        "shorten_elongations": lambda t: R.REPEATED_PUNCT_RE.sub(r"\1\1", R.ELONGATION_RE.sub(r"\1\1", t)),
    }


def _decodes(text, encoding):
    try:
        text.encode(encoding).decode("utf-8")
        return True
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


STEPS = _by_definition()
STEP_PIECES = st.sampled_from(["é", "É", "œ", "«", "»", "’", "`", "\u00a0", "\u202f", "\u200b", "\t", "\r", "?", "250?000",
                          "«?", "?»", "Ã©", "Â", "l'", "L'", "qu'", "http", "HTTP://x", "www.a", "@a", "a@b.fr",
                          "aaa", "AAAA", "éééé", "_1_", "\n\n\n", "!!!", "...", "??", "1 000", "3", "3,5", "a1", "٣", "²", "ſ", "K", "x", " ", "ß", "ﬁ", "😡"])


@pytest.mark.parametrize("step", sorted(STEPS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=60), FRENCH, st.lists(STEP_PIECES | st.text(max_size=2), max_size=20).map("".join)))
@example(text="page ٣ sur ٤")  # digits beyond ASCII are numbers too
@example(text="Trooop bien__ !!!!")
def test_each_normalisation_step_does_what_its_definition_says(step, text):
    from classify.text import normalize as N

    assert getattr(N, step)(text) == STEPS[step](text)
