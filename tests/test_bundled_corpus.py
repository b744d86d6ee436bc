"""The bundled corpus (seeds/corpus.csv and the other seeds/ tables): valid; its written part balanced, varied and
free of templates; its real part as annotated, kept apart from its test set; its card in sync."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tools import datacard
from classify.corpus import load_corpus

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CORPUS = SEEDS / "corpus.csv"


@pytest.fixture(scope="module")
def whole():
    return pd.read_csv(CORPUS, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def frame(whole):
    """The written part: real messages repeat each other (the operator's replies are templates) and are as
    unbalanced as real traffic, so the variety and balance checks are for the written documents."""
    return whole[~whole["id"].str.startswith("real-")].reset_index(drop=True)


def test_loads_as_two_tasks():
    corpus = load_corpus(CORPUS)
    assert list(corpus.tasks) == ["topics", "sentiment"]
    assert corpus.tasks["topics"].multi and not corpus.tasks["sentiment"].multi


def test_labels_and_texts_valid(frame):
    assert list(frame.columns) == ["id", "text", "topics", "sentiment"]
    assert frame["id"].is_unique
    assert all(t.strip() for t in frame["text"])
    assert set(frame["sentiment"]) == set(datacard.SENTIMENTS)
    for cell in frame["topics"]:
        labels = cell.split(";") if cell else []
        assert set(labels) <= set(datacard.TOPICS) and len(labels) == len(set(labels)), cell
    # the genres of the other parts: real messages and the two treebanks of general French
    assert set(frame["id"].map(datacard.genre_of)) | {"real", "gsd", "sequoia"} == set(datacard.GENRES)


def test_size_and_balance(frame):
    # the written on-topic genres: the off-topic texts and the customer messages are parts of their own
    on_topic_genres = frame[~frame["id"].map(datacard.genre_of).isin(["offtopic", "message"])].reset_index(drop=True)
    s = datacard.stats(on_topic_genres)
    n = s["n"]
    assert n >= 1200 + 4
    for topic in datacard.TOPICS:
        assert s["topics"][topic] / n >= 0.25, topic
    assert 0.20 <= s["two_or_more"] / n <= 0.30
    assert s["no_topic"] / n >= 0.12
    for sentiment in datacard.SENTIMENTS:
        assert 0.25 <= s["sentiment"][sentiment] / n <= 0.40, sentiment
    for genre, count in s["genre"].items():
        assert count / n >= 0.10, genre


def test_off_topic_documents_have_no_topic_and_all_three_sentiments(frame):
    off = frame[frame["id"].map(datacard.genre_of) == "offtopic"]
    assert len(off) >= 500 and (off["topics"] == "").all()
    assert set(off["sentiment"]) == set(datacard.SENTIMENTS)


def test_seed_articles_and_comments_included(frame):
    texts = set(frame["text"])
    for path in sorted(SEEDS.glob("*.txt")):
        head = path.read_text(encoding="utf-8").strip().splitlines()[0]
        assert any(t.startswith(head) for t in texts), path.name
    assert sum("seed" in i and "-c" in i for i in frame["id"]) >= 5  # readers' comments, one per document


def test_no_shared_sentence(frame):
    seen = {}
    for doc_id, text in zip(frame["id"], frame["text"]):
        for sentence in datacard.sentences(text):
            assert sentence not in seen, f"{doc_id} and {seen[sentence]} share: {sentence!r}"
            seen[sentence] = doc_id


def test_no_near_duplicates(frame):
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(sublinear_tf=True).fit_transform(frame["text"])
    S = (X @ X.T).toarray()
    np.fill_diagonal(S, 0)
    i, j = np.unravel_index(np.argmax(S), S.shape)
    assert S[i, j] <= 0.8, (frame["id"][i], frame["id"][j], S[i, j])


def test_data_card_in_sync():
    assert datacard.main(["--check"]) == 0


def _table(name):
    return pd.read_csv(SEEDS / name, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", ["corpus.csv", "real-test.csv", "general-french.csv", "general-french-test.csv"])
def test_every_bundled_table_is_valid(name):
    table = _table(name)
    assert list(table.columns) == ["id", "text", "topics", "sentiment"]
    assert table["id"].is_unique and all(t.strip() for t in table["text"])
    assert set(table["sentiment"]) <= set(datacard.SENTIMENTS) | {""}
    for cell in table["topics"]:
        labels = cell.split(";") if cell else []
        assert set(labels) <= set(datacard.TOPICS) and len(labels) == len(set(labels)), cell


def test_real_messages_keep_their_source_id_and_stay_out_of_the_test_set(whole):
    real, test = whole[whole["id"].str.startswith("real-")], _table("real-test.csv")
    assert len(real) >= 900 and len(test) >= 300
    pattern = r"real-fm-\d{6}"
    assert real["id"].str.fullmatch(pattern).all() and test["id"].str.fullmatch(pattern).all()
    assert not set(real["id"]) & set(test["id"])
    assert not set(real["text"]) & set(test["text"])
    assert (test["sentiment"] != "").all()  # every real message is annotated for both tasks


def test_general_french_parts_are_disjoint_and_licensed():
    train, test = _table("general-french.csv"), _table("general-french-test.csv")
    assert not set(train["id"]) & set(test["id"])
    for table in (train, test):
        assert table["id"].str.fullmatch(r"(gsd|sequoia)-.+").all()  # the id names the source and its licence
        assert (table["topics"] == "").mean() > 0.98  # real French about anything: nearly all off-topic
