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
        "repair_lost_breaks": lambda t: R.LOST_BREAK_RE.sub(
            lambda m: " n" if m.group(1) and R.LOST_BREAK_N_WORD_RE.match(t, m.end()) else " ", t),
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
                          "n", "nn", ".n", ",nn", "nous", "merci", "fibrenmerci", "aaa", "AAAA", "éééé", "_1_", "\n\n\n", "!!!", "...", "??", "1 000", "3", "3,5", "a1", "٣", "²", "ſ", "K", "x", " ", "ß", "ﬁ", "😡"])


@pytest.mark.parametrize("step", sorted(STEPS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=60), FRENCH, st.lists(STEP_PIECES | st.text(max_size=2), max_size=20).map("".join)))
@example(text="page ٣ sur ٤")  # digits beyond ASCII are numbers too
@example(text="Trooop bien__ !!!!")
def test_each_normalisation_step_does_what_its_definition_says(step, text):
    from classify.text import normalize as N

    assert getattr(N, step)(text) == STEPS[step](text)


# -- repeating a text does not change what the model says about it ------------------------------------------

@pytest.fixture(scope="module")
def repeat_models(tmp_path_factory):
    """Two models trained on 300 rows of the bundled corpus: the default configuration, and with word vectors
    (a stand-in table: a seeded random vector for every word of those rows, whatever its case or accents)."""
    import csv
    import hashlib
    import json
    import os
    import re
    from pathlib import Path

    import numpy as np

    from classify.corpus import load_corpus
    from classify.model import ClassifyModel, ModelConfig

    root = Path(__file__).resolve().parent.parent
    with open(root / "seeds" / "corpus.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    train_rows, other = rows[::7][:300], [r["text"] for r in rows[3::7][:60]]
    folder = tmp_path_factory.mktemp("repeat")
    path = folder / "train.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["id", "text", "topics", "sentiment"])
        w.writeheader()
        w.writerows(train_rows)
    words = sorted({w for r in rows for w in re.findall(r"\w+", r["text"].lower())})
    vectors = folder / "vectors"
    vectors.mkdir()
    np.save(vectors / "vectors.npy", np.random.default_rng(0).normal(size=(len(words), 8)).astype(np.float32))
    index = "".join(f"{w}\t{i}\n" for i, w in enumerate(words))
    (vectors / "words.tsv").write_text(index, encoding="utf-8")
    (vectors / "folded.tsv").write_text(index, encoding="utf-8")
    meta = {"dim": 8, "rows": len(words), "sha256": hashlib.sha256((vectors / "vectors.npy").read_bytes()).hexdigest()}
    (vectors / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    before = os.environ.get("CLASSIFY_VECTORS")
    os.environ["CLASSIFY_VECTORS"] = str(vectors)
    corpus = load_corpus(path)
    models = {"default": ClassifyModel(ModelConfig(cv_folds=3), n_jobs=1).fit(corpus),
              "vectors": ClassifyModel(ModelConfig(cv_folds=3, vectors=True, ensemble=False), n_jobs=1).fit(corpus)}
    yield models, other
    if before is None:
        os.environ.pop("CLASSIFY_VECTORS", None)
    else:
        os.environ["CLASSIFY_VECTORS"] = before


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.sampled_from(["default", "vectors"]), pick=st.integers(0, 59), k=st.integers(2, 20),
       joiner=st.sampled_from([" ", "\n", "\n\n"]))
@example(which="default", pick=0, k=20, joiner=" ")
@example(which="vectors", pick=1, k=10, joiner="\n")
def test_a_text_repeated_k_times_gets_the_same_labels_and_scores(repeat_models, which, pick, k, joiner):
    import numpy as np

    models, texts = repeat_models
    model, text = models[which], texts[pick]
    once, repeated = model.predict_scores([text]), model.predict_scores([joiner.join([text] * k)])
    assert model.predict([text]) == model.predict([joiner.join([text] * k)])
    for task in once:
        assert np.abs(once[task] - repeated[task]).max() <= 0.02, (task, once[task], repeated[task])


def _near_halves():
    """Probabilities whose `p * 10**4` is a half or within a few ulps of one: where a product's rounding could
    choose the other side."""
    import numpy as np

    out = []
    for k in range(0, 10000, 7):
        x = (k + 0.5) / 1e4
        for _ in range(3):
            out.append(x)
            x = float(np.nextafter(x, 1.0))
        x = (k + 0.5) / 1e4
        for _ in range(3):
            x = float(np.nextafter(x, 0.0))
            out.append(x)
    return out + [k / 32 for k in range(33)] + [0.0, 1.0, 5e-324, 1e-300, 0.99995, 0.00005]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.floats(min_value=0.0, max_value=1.0), st.sampled_from(_near_halves())),
                min_size=1, max_size=40))
def test_scores_are_rounded_as_python_rounds_them(values):
    """The JSON of a prediction holds `round(p, 4)`: numbers computed per array must be the same floats."""
    import numpy as np

    from classify.api import round_scores

    got = round_scores(np.asarray(values).reshape(1, -1)).ravel().tolist()
    assert [repr(g) for g in got] == [repr(round(v, 4)) for v in values]


def test_scores_are_rounded_as_python_rounds_them_at_every_half():
    import numpy as np

    from classify.api import round_scores

    values = _near_halves()
    got = round_scores(np.asarray(values)).tolist()
    assert [repr(g) for g in got] == [repr(round(v, 4)) for v in values]
