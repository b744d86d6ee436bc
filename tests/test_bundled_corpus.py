"""The bundled corpus (seeds/corpus.csv): valid, balanced, varied, free of templates, and its card in sync."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classify import datacard
from classify.corpus import load_corpus

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
CORPUS = SEEDS / "corpus.csv"


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(CORPUS, dtype=str, keep_default_na=False)


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
    assert set(frame["id"].map(datacard.genre_of)) == set(datacard.GENRES)


def test_size_and_balance(frame):
    s = datacard.stats(frame)
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
