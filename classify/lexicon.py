"""Sentiment lexicon features: how many words of a French polarity word list a text uses.

Two dense columns beside the TF-IDF blocks, for every task of the model:

- `log(1 + positive) - log(1 + negative)` and `(positive - negative) / (positive + negative + 1)`,

where a word inside a negation scope counts for the other side (`pas génial` is negative; `pas nul`
counts half a positive, since a negated criticism is weaker praise). The word lists are
`classify.text.lexicon_words`, written for this project. They carry knowledge beyond the training corpus:
a model trained on a few hundred messages has never seen most sentiment words of real traffic, but it has
learnt what "uses many negative words" means. The lists are normalised like the texts and stored in the
model when it is trained, so a saved model keeps its own lexicon whatever later versions change.

Both columns are signed and zero for a text without lexicon words. Counts are divided by the number of times
the text repeats itself (the smallest count of any of its tokens), so that a text and the same text pasted
several times get the same columns, as the TF-IDF blocks do (`classify.features.relative_counts`). Raw counts were measured as a third and
fourth column and left out: they grow with the length of a text and acted as a second intercept, which on
a 36-document corpus collapsed the multi-label thresholds (exact match 0.89 -> 0.25).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

COLUMNS = ("lexicon:polarity", "lexicon:balance")


def _columns(positive: float, negative: float, copies: int) -> tuple:
    """The two columns of a text whose lexicon tokens add up to `positive` and `negative`, per copy."""
    pos, neg = positive / copies, negative / copies
    return np.log1p(pos) - np.log1p(neg), (pos - neg) / (pos + neg + 1.0)


class LexiconFeatures:
    """A scikit-learn transformer: normalised texts -> (n, 2) float32 lexicon counts (see the module)."""

    def __init__(self, scale: float = 1.0, accents: bool = False):
        self.scale = scale
        self.accents = accents

    # scikit-learn API -------------------------------------------------------------------------------
    def fit(self, texts=None, y=None):
        from classify.text.lexicon_words import NEGATIVE, POSITIVE
        from classify.text.normalize import Normalizer, tokenize

        normalize = Normalizer(accents=self.accents)

        def entries(words) -> set:
            # only what can match: an entry that normalises to one token (`chef-d'œuvre` gives two: `chef-de
            # œuvre`; `❤️` loses its variation selector) could never equal a token of a text
            folded = (normalize(word).strip() for word in words)
            return {w for w in folded if tokenize(w, mark_negation=True) == [w]}

        positive, negative = entries(POSITIVE), entries(NEGATIVE)
        both = positive & negative  # a word whose folded form is on both sides tells nothing
        self.positive_ = sorted(positive - both)
        self.negative_ = sorted(negative - both)
        return self

    def transform(self, texts, tokens=None):
        """`tokens`: the texts already split by `tokenize(text, mark_negation=True)`, when known."""
        return self._unscaled(texts, tokens) * np.float32(self.scale)

    def _unscaled(self, texts, tokens=None):
        from classify.text.normalize import tokenize

        polarity = self._polarity()
        out = np.zeros((len(texts), 2), dtype=np.float32)
        for i, text in enumerate(texts):
            split = tokenize(text, mark_negation=True) if tokens is None else tokens[i]
            hits = [polarity[token] for token in split if token in polarity]
            if hits:
                # counted per copy of the text: a message pasted k times has every count k times over, and
                # would read k times as sure; nearly every real text has a token seen once (copies = 1)
                copies = min(Counter(split).values())
                out[i] = _columns(sum(h[0] for h in hits), sum(h[1] for h in hits), copies)
        return out

    def transform_sums(self, texts, positive, negative, copies, status):
        """`transform` from what the compiled core counts (`classify.core`): per text, the sums of its
        lexicon tokens' polarity, its copies, and a status (0: no lexicon token, 1: counted, 2: to count
        here). The same columns, computed by the same `_columns`."""
        out = np.zeros((len(texts), 2), dtype=np.float32)
        for i in np.flatnonzero(status == 1).tolist():
            out[i] = _columns(float(positive[i]), float(negative[i]), int(copies[i]))
        again = np.flatnonzero(status == 2).tolist()
        if again:
            out[again] = self._unscaled([texts[i] for i in again])
        return out * np.float32(self.scale)

    def fit_transform(self, texts, y=None):
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features=None):
        return np.asarray(COLUMNS, dtype=object)

    def get_params(self, deep=True):
        return {"scale": self.scale, "accents": self.accents}

    def set_params(self, **params):
        for key, value in params.items():
            setattr(self, key, value)
        return self

    # ------------------------------------------------------------------------------------------------
    def _polarity(self) -> dict:
        polarity = self.__dict__.get("_polarity_cache")
        if polarity is None:
            if not hasattr(self, "positive_"):
                from classify.errors import ModelNotFitted

                raise ModelNotFitted("LexiconFeatures is not fitted")
            # token -> (positive, negative) it adds; `neg_` marks a word inside a negation scope
            polarity = {}
            for w in self.positive_:
                polarity[w], polarity["neg_" + w] = (1.0, 0.0), (0.0, 1.0)
            for w in self.negative_:
                polarity[w], polarity["neg_" + w] = (0.0, 1.0), (0.5, 0.0)
            self.__dict__["_polarity_cache"] = polarity
        return polarity

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_polarity_cache", None)  # rebuilt on first use: the model file keeps only the lists
        return state
