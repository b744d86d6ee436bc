"""Fitted TF-IDF features without scikit-learn at prediction time.

scikit-learn fits the vectorizers at training; the fitted state (vocabulary, idf, n-gram range, tokenizer,
stop words) is then copied into these small classes, which compute the same matrix with numpy and
scipy.sparse alone. Loading a model no longer imports scikit-learn (about a second of every `classify
predict`), and a saved model holds only classify's own types, numpy arrays and dicts.
"""

from __future__ import annotations

import re

import numpy as np

_WHITE_SPACES = re.compile(r"\s\s+")


class CompiledTfidf:
    """The `transform` of a fitted `TfidfVectorizer` (preprocessor identity, no lower-casing, l2 norm).

    `analyzer` is "word" (tokens from `tokenizer`, stop words removed, then n-grams joined by a space) or
    "char_wb" (character n-grams inside words padded with a space), as in scikit-learn.
    """

    def __init__(self, analyzer: str, vocabulary: dict, idf, ngram_range, sublinear_tf: bool, tokenizer=None,
                 stop_words=None):
        self.analyzer = analyzer
        self.vocabulary_ = dict(vocabulary)
        self.idf_ = np.asarray(idf, dtype=np.float32)
        self.ngram_range = tuple(ngram_range)
        self.sublinear_tf = bool(sublinear_tf)
        self.tokenizer = tokenizer
        self.stop_words = sorted(stop_words) if stop_words else None

    @classmethod
    def from_sklearn(cls, vectorizer) -> CompiledTfidf:
        if vectorizer.analyzer not in ("word", "char_wb") or vectorizer.norm != "l2" or not vectorizer.use_idf \
                or vectorizer.lowercase or vectorizer.binary:
            raise ValueError("only the vectorizers classify builds can be compiled")
        stop = vectorizer.get_stop_words() if vectorizer.analyzer == "word" else None
        return cls(vectorizer.analyzer, vectorizer.vocabulary_, vectorizer.idf_, vectorizer.ngram_range,
                   vectorizer.sublinear_tf, vectorizer.tokenizer if vectorizer.analyzer == "word" else None, stop)

    # the analyzers: n-grams of one (already normalised) text ------------------------------------------
    def _word_ngrams(self, text: str, stop=None) -> list[str]:
        tokens = self.tokenizer(text)
        if stop:
            tokens = [w for w in tokens if w not in stop]
        min_n, max_n = self.ngram_range
        if max_n == 1:
            return tokens
        original = tokens
        if min_n == 1:
            tokens = list(original)
            min_n += 1
        else:
            tokens = []
        n_original = len(original)
        for n in range(min_n, min(max_n + 1, n_original + 1)):
            for i in range(n_original - n + 1):
                tokens.append(" ".join(original[i:i + n]))
        return tokens

    def _char_wb_ngrams(self, text: str) -> list[str]:
        min_n, max_n = self.ngram_range
        ngrams = []
        append = ngrams.append
        for w in _WHITE_SPACES.sub(" ", text).split():
            w = " " + w + " "
            w_len = len(w)
            for n in range(min_n, max_n + 1):
                offset = 0
                append(w[offset:offset + n])
                while offset + n < w_len:
                    offset += 1
                    append(w[offset:offset + n])
                if offset == 0:
                    break
        return ngrams

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, index in self.vocabulary_.items():
            names[index] = term
        return names

    def transform(self, texts):
        import scipy.sparse as sp

        if self.analyzer == "word":
            stop = set(self.stop_words or ())

            def analyze(text):
                return self._word_ngrams(text, stop)
        else:
            analyze = self._char_wb_ngrams
        vocabulary = self.vocabulary_
        indices, indptr, values = [], [0], []
        for text in texts:
            counts: dict[int, int] = {}
            for gram in analyze(text):
                index = vocabulary.get(gram)
                if index is not None:
                    counts[index] = counts.get(index, 0) + 1
            keys = sorted(counts)
            indices.extend(keys)
            values.extend(counts[k] for k in keys)
            indptr.append(len(indices))
        data = np.asarray(values, dtype=np.float32)
        cols = np.asarray(indices, dtype=np.int32)
        if self.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf_[cols]
        rows = np.asarray(indptr, dtype=np.int64)
        lengths = np.diff(rows)
        owner = np.repeat(np.arange(len(lengths)), lengths)
        norms = np.sqrt(np.bincount(owner, weights=data.astype(np.float64) ** 2, minlength=len(lengths)))
        norms[norms == 0] = 1.0
        data /= norms[owner].astype(np.float32)
        return sp.csr_matrix((data, cols, rows), shape=(len(indptr) - 1, len(vocabulary)))


class CompiledUnion:
    """The blocks of a fitted `FeatureUnion`, side by side (sparse TF-IDF blocks, dense vectors)."""

    def __init__(self, transformer_list: list):
        self.transformer_list = list(transformer_list)

    @classmethod
    def from_sklearn(cls, union) -> CompiledUnion:
        blocks = []
        for name, block in union.transformer_list:
            if type(block).__name__ == "TfidfVectorizer":
                block = CompiledTfidf.from_sklearn(block)
            blocks.append((name, block))
        return cls(blocks)

    def transform(self, texts):
        import scipy.sparse as sp

        parts = [block.transform(texts) for _, block in self.transformer_list]
        parts = [p if sp.issparse(p) else sp.csr_matrix(p) for p in parts]
        return parts[0].tocsr() if len(parts) == 1 else sp.hstack(parts, format="csr")
