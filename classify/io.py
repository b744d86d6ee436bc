"""Reading bytes as text: one encoding detector (charset-normalizer) for every file classify reads, and the
check that decoded text is not damaged (replacement characters, mojibake).

French offices write UTF-8 with or without a byte-order mark (Excel's "CSV UTF-8", LibreOffice), cp1252
(Excel's "CSV" on a French Windows), latin-1, and UTF-16 with a mark. The detector chooses among exactly
these: left free, it reads short cp1252 texts as cp1250, mac-latin2 or EBCDIC.
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from classify.errors import InputError
from classify.text.resources import MOJIBAKE_RE

log = logging.getLogger("classify")

# Bytes that a text file never contains but PDF, PNG, ZIP and other binary formats do.
_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"\x7fELF")

# The detector's candidates (charset-normalizer's names). UTF-16 is only ever chosen from its byte-order mark.
CANDIDATES = ["utf_8", "utf_16", "cp1252", "latin_1"]
# The share of "chaos" a candidate may show. charset-normalizer's 0.2 is tuned to pick among a hundred code
# pages; among these four it refuses short French texts for their accents (`Très déçu`: 0.375).
MAX_CHAOS = 0.5
_NAMES = {"utf_8": "utf-8", "utf_16": "utf-16", "cp1252": "cp1252", "latin_1": "latin-1"}


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: a known binary signature or NUL bytes (outside UTF-16)."""
    if data.startswith(_BINARY_SIGNATURES):
        return True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in data[:8192]


@dataclass(frozen=True)
class Encoding:
    """How to decode a file: a Python codec, the bytes to skip first (a byte-order mark) and whether it was
    detected (a note says so when it is not UTF-8) or given with --encoding."""

    codec: str
    skip: int = 0
    detected: bool = True

    @property
    def name(self) -> str:
        return {"utf-8-sig": "utf-8"}.get(self.codec, self.codec)


def check_encoding(name: str | None) -> str | None:
    """The codec of an `--encoding` value; raises InputError for a name Python does not know."""
    if name is None:
        return None
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise InputError(f"--encoding {name!r} is not an encoding Python knows; French files are in utf-8, "
                         f"cp1252 or latin-1 (leave --encoding out to detect it).") from None
    return {"iso8859-1": "latin-1"}.get(codec, codec)


def detect_encoding(data: bytes, name: str, *, forced: str | None = None, truncated: bool = False,
                    quiet: bool = False) -> Encoding:
    """The encoding of `data` (a whole file, or its head when `truncated`): `forced` when given, else the
    detector's choice among UTF-8 (with or without a mark), UTF-16 with a mark, cp1252 and latin-1. A note
    says when a file is not UTF-8. A UTF-8 mark before bytes that are not UTF-8 (a cp1252 file that some
    tool marked) is skipped, and the rest detected."""
    if forced is not None:
        codec = check_encoding(forced)
        if data.startswith(codecs.BOM_UTF8):  # a mark is never text, whatever encoding follows it
            if codec == "utf-8":
                return Encoding("utf-8-sig", detected=False)
            if not codec.startswith("utf"):
                return Encoding(codec, len(codecs.BOM_UTF8), detected=False)
        return Encoding(codec, detected=False)
    from charset_normalizer import from_bytes

    sample = data
    if truncated and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        sample = data[: data.rfind(b"\n") + 1] or data  # a character may be cut at the end of the head
    best = from_bytes(sample, cp_isolation=CANDIDATES, threshold=MAX_CHAOS).best()
    skip = 0
    if data.startswith(codecs.BOM_UTF8) and (best is None or best.encoding != "utf_8"):
        skip = len(codecs.BOM_UTF8)
        best = from_bytes(sample[skip:], cp_isolation=CANDIDATES, threshold=MAX_CHAOS).best()
    if best is None:
        raise InputError(f"{name}: cannot tell its encoding (not UTF-8, cp1252 or latin-1); pass --encoding.")
    codec = _NAMES.get(best.encoding, best.encoding)
    if codec == "utf-8" and best.bom:
        codec = "utf-8-sig"
    if skip and not quiet:
        log.info("%s starts with a UTF-8 byte-order mark but is not UTF-8: read it as %s.", name, codec)
    elif codec not in ("utf-8", "utf-8-sig", "utf-16") and not quiet:
        log.info("%s is not UTF-8: read it as %s.", name, codec)
    return Encoding(codec, skip)


def decode(data: bytes, name: str, encoding: str | None = None, quiet: bool = False) -> tuple[str, str]:
    """Decode file contents; returns (text, codec). `encoding` (from --encoding) is used strictly: bytes it
    cannot decode are an error naming the line. Detected encodings decode every byte of the file."""
    chosen = detect_encoding(data, name, forced=encoding, quiet=quiet)
    try:
        return data[chosen.skip:].decode(chosen.codec), chosen.codec
    except UnicodeDecodeError as exc:
        raise InputError(undecodable(name, chosen, data[chosen.skip:], exc)) from None


def undecodable(name: str, encoding: Encoding, data: bytes, exc: UnicodeDecodeError) -> str:
    """The message for bytes that `encoding` cannot decode: the line, the byte, what to try."""
    line = data[: exc.start].count(b"\n") + 1
    byte = data[exc.start: exc.start + 1].hex()
    hint = ("leave --encoding out to detect it, or give the file's encoding" if not encoding.detected
            else "convert it to UTF-8, or pass --encoding with the file's encoding")
    return f"{name} is not valid {encoding.name} at line {line} (byte 0x{byte}); {hint}."


def read_text_file(path: Path, encoding: str | None = None) -> str:
    """Read one document; raises InputError for missing, unreadable, binary or undecodable files."""
    if not path.exists():
        raise InputError(f"{path}: no such file.")
    if path.is_dir():
        raise InputError(f"{path} is a folder, a file was expected.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror}).") from exc
    if looks_binary(data):
        raise InputError(f"{path} is a binary file, not text.")
    text, _ = decode(data, str(path), encoding)
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- damaged text --------------------------------------------------------------------------------------------
# `â€` starts what UTF-8 punctuation (’ “ … – —) becomes when read as cp1252, `â‚¬` is the euro sign
DAMAGE_RE = re.compile("\ufffd|" + MOJIBAKE_RE.pattern + "|â€|â‚¬")
_DAMAGE_START_RE = re.compile("[\ufffdÃÂâ]")  # where DAMAGE_RE may match: a scan re runs at C speed
SHOWN_LINES = 5


@dataclass
class Damage:
    """Lines of a table whose text is damaged: replacement characters (`�`: characters lost before the
    file was written) or mojibake (`Ã©` for `é`, `â€™` for `’`: UTF-8 read as cp1252 somewhere upstream).
    Collected while a table is read, reported once at the end as one warning per kind."""

    replacement: list = field(default_factory=list)  # line numbers
    mojibake: list = field(default_factory=list)
    examples: dict = field(default_factory=dict)  # kind -> the first damaged sequence seen

    def check(self, line: int, text: str) -> None:
        if "\ufffd" not in text and "Ã" not in text and "Â" not in text and "â" not in text:
            return  # the common case, without a regex
        kinds = set()
        for match in DAMAGE_RE.finditer(text):
            kind = "replacement" if match.group(0) == "\ufffd" else "mojibake"
            if kind not in kinds:
                kinds.add(kind)
                getattr(self, kind).append(line)
                start = max(0, match.start() - 12)
                self.examples.setdefault(kind, text[start: match.end() + 12].replace("\n", " "))

    def check_text(self, text: str, first_line: int = 1) -> None:
        """Check a whole decoded file (line numbers as an editor shows them): one search over the text,
        the lines counted only up to each match."""
        if "\ufffd" not in text and "Ã" not in text and "Â" not in text and "â" not in text:
            return
        line, counted, checked = first_line, 0, None
        for candidate in _DAMAGE_START_RE.finditer(text):
            at = candidate.start()
            if not DAMAGE_RE.match(text, at):
                continue
            line += text.count("\n", counted, at)
            counted = at
            if line != checked:  # a line once, whatever it holds
                checked = line
                end = text.find("\n", at)
                self.check(line, text[text.rfind("\n", 0, at) + 1: end if end >= 0 else len(text)])

    def report(self, name: str, encoding: Encoding | None = None) -> None:
        retry = (" If classify chose the wrong encoding, pass --encoding."
                 if encoding is not None and encoding.detected else "")
        if self.replacement:
            log.warning("%s %s: replacement characters '\ufffd' (%r): characters were lost before this file "
                        "was written; these texts are used without them.%s", name, _lines(self.replacement),
                        self.examples["replacement"], retry)
        if self.mojibake:
            log.warning("%s %s: mojibake (%r): UTF-8 text that was read as cp1252 before it was written "
                        "here; these texts are used as they are: fix them in the file.%s", name,
                        _lines(self.mojibake), self.examples["mojibake"], retry)


def _lines(numbers: list) -> str:
    shown = ", ".join(map(str, numbers[:SHOWN_LINES]))
    if len(numbers) == 1:
        return f"line {shown}"
    more = f" ... ({len(numbers)} lines)" if len(numbers) > SHOWN_LINES else ""
    return f"lines {shown}{more}"
