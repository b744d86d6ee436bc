"""Small pure `str -> str` functions for French text, composed in one place (`normalize`).

Every function here is safe on any Unicode input, never raises and is idempotent, so the composition is
too. The picklable `Normalizer` and `Tokenizer` objects at the bottom are what the saved model stores: do
not rename them, saved models reference them by import path.
"""

from __future__ import annotations

import unicodedata

from classify.text import resources as R


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as cp1252/latin-1 (`FranÃ§ais` -> `Français`), when it can."""
    if ("Ã" not in text and "Â" not in text) or not R.MOJIBAKE_RE.search(text):
        return text
    for encoding in ("cp1252", "latin-1"):
        try:
            return text.encode(encoding).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def normalize_unicode(text: str) -> str:
    """NFKC: composes accents, maps NBSP and narrow NBSP to spaces, ligatures (`ﬁ`) to letters; keeps `œ`."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):  # the quick check is 20× faster
        return text
    return unicodedata.normalize("NFKC", text)


def normalize_apostrophes(text: str) -> str:
    """Map `’ ‘ ʼ ′ ´` and friends to the ASCII apostrophe."""
    if text.isascii():
        return text.replace("`", "'")
    return R.APOSTROPHE_RE.sub("'", text)


def normalize_spaces(text: str) -> str:
    """Remove zero-width characters and turn every kind of space into one plain space (newlines kept)."""
    if not text.isascii():
        text = R.ZERO_WIDTH_RE.sub("", text)
    elif "\t" not in text and "\r" not in text and "\f" not in text and "\v" not in text:
        return text
    return R.SPACES_RE.sub(" ", text)


def repair_lost_nbsp(text: str) -> str:
    """`250?000` -> `250 000` and `«?texte?»` -> `« texte »`: a `?` that stands for a lost NBSP."""
    if "?" not in text:
        return text
    text = R.LOST_NBSP_IN_NUMBER_RE.sub(" ", text)
    return R.LOST_NBSP_QUOTES_RE.sub(lambda m: m.group(0).replace("?", " "), text)


def repair_lost_breaks(text: str) -> str:
    """`merci.nnla box` -> `merci. la box`, `la fibrenmerci` -> `la fibre merci`: line breaks an export
    wrote as a bare `n` (`LOST_BREAK_RE`), one `n` kept when the next word needs it (`.nnous` -> `. nous`)."""
    if "n" not in text or not R.LOST_BREAK_RE.search(text):
        return text
    return R.LOST_BREAK_RE.sub(_lost_break, text)


def _lost_break(match) -> str:
    return " n" if match.group(1) and R.LOST_BREAK_N_WORD_RE.match(match.string, match.end()) else " "


def expand_elisions(text: str) -> str:
    """`l'avion` -> `le avion`, `qu'il` -> `que il`, `n'est` -> `ne est` (case kept on the first letter)."""

    def full(match):
        word = match.group(1)
        expanded = R.ELISIONS[word.lower()]
        return (expanded.capitalize() if word[0].isupper() else expanded) + " "

    # one pass cannot see an elision glued to the previous one (`qu'qu'a`): repeat to the fixed point
    while "'" in text:
        text, n = R.ELISION_RE.subn(full, text)
        if not n:
            break
    return text


def mask_urls(text: str) -> str:
    lowered = text.lower()
    if "http" not in lowered and "www." not in lowered:
        return text
    return R.URL_RE.sub(R.URL_TOKEN, text)


def mask_emails(text: str) -> str:
    if "@" not in text:
        return text
    return R.EMAIL_RE.sub(R.EMAIL_TOKEN, text)


def mask_mentions(text: str) -> str:
    if "@" not in text:
        return text
    return R.MENTION_RE.sub(R.MENTION_TOKEN, text)


def mask_numbers(text: str) -> str:
    if not R.DIGIT_RE.search(text):
        return text
    return R.NUMBER_RE.sub(R.NUMBER_TOKEN, text)


def shorten_elongations(text: str) -> str:
    """`trooop` -> `troop`, `!!!!` -> `!!`: letters and punctuation repeated three times or more."""
    if not R.TRIPLE_RE.search(text):
        return text
    text = R.ELONGATION_FAST_RE.sub(r"\1\1", text)
    if "..." not in text and "!!!" not in text and "???" not in text:
        return text
    return R.REPEATED_PUNCT_RE.sub(r"\1\1", text)


_FOLDED: dict[str, str] = {}  # character -> its unidecode transliteration, filled as characters are met


def fold_accents(text: str) -> str:
    """`élève` -> `eleve`, `œuvre` -> `oeuvre` (unidecode; merges `où`/`ou`, hence a switch).

    Only characters between U+0080 and U+1FFF are folded: unidecode would delete emoji. unidecode maps
    character by character, so a translation table of the characters present gives the same result."""
    if text.isascii():
        return text
    for c, folded in R.COMMON_FOLDS:  # the usual French letters first: a replace is much faster than translate
        if c in text:
            text = text.replace(c, folded)
    if text.isascii() or not R.FOLDABLE_RE.search(text):
        return text
    from unidecode import unidecode

    table = {}
    for c in set(text):
        if "\x80" <= c < "\u2000":
            folded = _FOLDED.get(c)
            if folded is None:
                folded = _FOLDED[c] = unidecode(c)
            table[ord(c)] = folded
    return text.translate(table)


def normalize(
    text: str,
    *,
    lowercase: bool = True,
    accents: bool = True,
    mask: bool = True,
    breaks: bool = False,
) -> str:
    """The one composition used for training and prediction. `accents=False` folds accents; `breaks`
    repairs line breaks exported as a bare `n` (`repair_lost_breaks`)."""
    text = fix_mojibake(text)
    text = normalize_unicode(text)
    if not accents:  # first, so that what unidecode produces (¢ → C/, ½ → 1/2) is normalised like the rest
        text = fold_accents(text)
    text = normalize_apostrophes(text)
    text = normalize_spaces(text)
    text = repair_lost_nbsp(text)
    if mask:
        # to the fixed point: a mask can uncover another (`0@a` → ` xnumx @a`, now a mention)
        while (masked := mask_numbers(mask_mentions(mask_emails(mask_urls(text))))) != text:
            text = masked
    if breaks:  # after the masks: `.net` in an address is no line break
        text = repair_lost_breaks(text)
    text = expand_elisions(text)
    if lowercase:
        text = text.lower()
    return shorten_elongations(text)  # after lower case: `DDd` is an elongation too


def tokenize(text: str, *, mark_negation: bool = False) -> list[str]:
    """Split normalised text into words, `!`, `?` and emoji.

    With `mark_negation`, words that follow a negation word (ne, pas, jamais, rien, sans, ...) up to the
    next punctuation mark get a `neg_` prefix, so `pas bon` and `bon` are different features.
    """
    if mark_negation:
        text = R.NEGATION_SCOPE_RE.sub(_mark_scope, text)
    return R.TOKEN_RE.findall(text)


def _mark_scope(match) -> str:
    """A negation word and what follows it up to the punctuation: prefix the words with `neg_`."""
    return match.group(1) + R.SCOPE_WORD_RE.sub(_mark_word, match.group(2))


def _mark_word(match) -> str:
    word = match.group(0)
    return word if word in R.NEGATION_WORDS or word in R.NEGATION_WORDS_FOLDED else "neg_" + word


class Normalizer:
    """Picklable preprocessor for scikit-learn vectorizers (a lambda could not be saved)."""

    breaks = False  # what a model saved before this setting existed does

    def __init__(self, accents: bool = True, mask: bool = True, breaks: bool = False):
        self.accents = accents
        self.mask = mask
        self.breaks = breaks

    def __call__(self, text: str) -> str:
        return normalize(text, accents=self.accents, mask=self.mask, breaks=self.breaks)

    def __repr__(self) -> str:
        return f"Normalizer(accents={self.accents}, mask={self.mask}, breaks={self.breaks})"


class Tokenizer:
    """Picklable tokenizer for scikit-learn vectorizers."""

    def __init__(self, mark_negation: bool = False):
        self.mark_negation = mark_negation

    def __call__(self, text: str) -> list[str]:
        return tokenize(text, mark_negation=self.mark_negation)

    def __repr__(self) -> str:
        return f"Tokenizer(mark_negation={self.mark_negation})"
