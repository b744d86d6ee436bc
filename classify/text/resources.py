"""Word lists and compiled regular expressions used by `classify.text.normalize` (data, not logic)."""

import re

# Apostrophe look-alikes seen in real French input (typographic, modifier letter, prime, backtick, acute).
APOSTROPHES = "\u2019\u2018\u02bc\u2032\u00b4\u0060\u201b\uff07"
APOSTROPHE_RE = re.compile("[" + APOSTROPHES + "]")

# What unidecode gives for the accented letters of French (a test checks each against unidecode), and the
# characters `fold_accents` folds (U+0080 to U+1FFF).
COMMON_FOLDS = tuple((c, f) for c, f in zip("éèêàçôîûùëïâÉÈÀÇÊÔ", "eeeacoiuueiaEEACEO")) + (
    ("œ", "oe"), ("Œ", "OE"), ("æ", "ae"), ("«", "<<"), ("»", ">>"), ("\u00a0", " "))
FOLDABLE_RE = re.compile("[\u0080-\u1fff]")

# Every Unicode space that NFKC may leave behind, plus zero-width characters, mapped to a plain space.
SPACES_RE = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\r\f\v]+")
ZERO_WIDTH_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

# A `?` standing for a lost non-breaking space: inside numbers (`250?000`) or before `: ; ! ?` and `»`
# and after `«`. A real question mark is followed by a space or the end, so it is left alone.
LOST_NBSP_IN_NUMBER_RE = re.compile(r"(?<=\d)\?(?=\d{3}\b)")
LOST_NBSP_QUOTES_RE = re.compile(r"«\?|\?»")

# A line break that an export wrote as a bare `n` (the backslash of `\n` lost, as in real exports of
# support-account messages: `désolé.nnla box`, `j'ai la fibrenmerci`): a run of `n` right after a
# punctuation mark, before a letter, an apostrophe, a space or the end; or glued before a word that opens
# a line of a message. One `n` stays where the next letters need it to be a word (`.nnous` -> `. nous`).
# Lower case only, as such exports are.
LOST_BREAK_RE = re.compile(r"(?<=[.!?…,;:)])(n+)(?=[^\W\d_]|'|\s|$)"
                           r"|n+(?=(?:merci|bravo|bonjour|bonsoir|cordialement|salut)\b)")
LOST_BREAK_N_WORD_RE = re.compile(
    r"(?:ous|otre|os|e|i|ombre\w*|um[ée]ro\w*|ouve\w*|orma\w*|uit\w*)\b|'")

# Text decoded as latin-1/cp1252 while it was UTF-8 (`Ã©` for `é`): these sequences are the fingerprint.
MOJIBAKE_RE = re.compile(r"[ÃÂ][\u0080-\u00bf\u2018-\u203a\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u02c6\u02dc\u20ac]")

# French elisions: the elided word before an apostrophe, expanded to its full form so that `n'est`
# and `ne est` (and `n` after a lost apostrophe) give the same tokens. `aujourd'hui` and `prud'hommes`
# do not match because the elided word must start at a word boundary.
ELISIONS = {
    "l": "le", "d": "de", "j": "je", "n": "ne", "s": "se", "c": "ce", "m": "me", "t": "te",
    "qu": "que", "jusqu": "jusque", "lorsqu": "lorsque", "puisqu": "puisque", "quoiqu": "quoique",
}
# Upper or lower case, ASCII letters only: re.IGNORECASE would also match `ſ` (long s) or `İ`, which have no
# entry in ELISIONS.
ELISION_RE = re.compile(r"(?<![\w'])(" + "|".join("".join(f"[{c}{c.upper()}]" for c in word) for word in
                                                 sorted(ELISIONS, key=len, reverse=True)) + r")'(?=\w)")

URL_RE = re.compile(r"(?:https?://|www\.)\S+|\bhttp\b", re.IGNORECASE)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
MENTION_RE = re.compile(r"(?<!\w)@\w+")
# Standalone numbers (prices, dates, counts); `5g`, `4k`, `iphone15` keep their digits.
NUMBER_RE = re.compile(r"(?<![\w])\d+(?:[ .,]\d{3})*(?:[.,]\d+)?(?![\w])")
ELONGATION_RE = re.compile(r"(\w)\1{2,}")
# the same matches, found faster (about 14 µs against 20 on a 290-character text)
ELONGATION_FAST_RE = re.compile(r"(\w)\1\1+")
TRIPLE_RE = re.compile(r"(.)\1\1")  # any character three times in a row: 5 µs; no match, no elongation
DIGIT_RE = re.compile(r"\d")  # every Unicode digit, as NUMBER_RE's \d
REPEATED_PUNCT_RE = re.compile(r"([!?.])\1{2,}")

# Placeholders chosen so that the tokenizer keeps them whole and no French word collides with them.
URL_TOKEN = " xurlx "
EMAIL_TOKEN = " xemailx "
MENTION_TOKEN = " xuserx "
NUMBER_TOKEN = " xnumx "

# Tokens: words (letters, digits, inner hyphens kept as one token: `t-mobile`, `peut-être`), plus `!`,
# `?` and emoji, which carry sentiment. One-letter words are kept (sklearn's default drops them).
# (The compiled core, classify/_core.pyx, implements these expressions' shape with this module's data:
# `classify.core` checks the patterns below against its `RULES` and uses it only when they agree.)
EMOJI_RANGES = ((0x1F300, 0x1FAFF), (0x2600, 0x27BF), (0x2B50, 0x2B50), (0x2764, 0x2764))
EMOJI_CLASS = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in EMOJI_RANGES)
TOKEN_RE = re.compile(
    r"\w+(?:-\w+)*"
    r"|[!?]"
    r"|[" + EMOJI_CLASS + "]"
)

# A French stop-word list of our own: function words only. Negations (ne, pas, plus, jamais, rien,
# sans, aucun, aucune, ni, personne, guere) and intensifiers (tres, trop, peu) are deliberately absent
# because sentiment depends on them.
STOP_WORDS = frozenset(
    """
    a à au aux avec ce ces cet cette ceci cela ça dans de des du elle elles en et eux il ils
    je la le les leur leurs lui ma mais me même mes moi mon nos notre nous on ou où par pour qu que
    qui sa se ses son sur ta te tes toi ton tu un une vos votre vous y c d j l m n s t
    été étée étées étés étant suis es est sommes êtes sont serai seras sera serons serez seront
    serais serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes
    furent sois soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant eu eue eues
    eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait aurions auriez
    auraient avais avait avions aviez avaient eut eûmes eûtes eurent aie aies ait ayons ayez aient
    eusse eusses eût eussions eussiez eussent
    """.split()
)

# Words that open a negation scope for sentiment (used by negation marking). `plus` and `personne` are
# left out: alone they mostly mean "more" and "person"; `ne ... plus` is caught by `ne`.
NEGATION_WORDS = frozenset("ne pas jamais rien sans aucun aucune ni guère".split())

NEGATION_WORDS_FOLDED = frozenset("guere".split())
# For negation marking: a negation word standing as a whole token (not inside `t-pas` or `pas-de-calais`,
# which TOKEN_RE reads as one word), then everything up to the punctuation that closes its scope. Words in
# the scope are TOKEN_RE's words (SCOPE_WORD_RE): the scope starts at a token boundary, so they match alike.
_NEGATIONS = "|".join(sorted(NEGATION_WORDS | NEGATION_WORDS_FOLDED, key=len, reverse=True))
SCOPE_END = '.,;:!?()[]«»"\n'  # the characters that close a negation scope
SCOPE_END_CLASS = re.escape(SCOPE_END)
NEGATION_SCOPE_RE = re.compile(
    r"(?<!\w)(?<!\w-)((?:" + _NEGATIONS + r")(?!\w)(?!-\w))([^" + SCOPE_END_CLASS + r"]*)"
)
SCOPE_WORD_RE = re.compile(r"\w+(?:-\w+)*")
