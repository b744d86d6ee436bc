"""Reading bytes as text: encoding detection for French files (UTF-8, BOM, UTF-16, cp1252, latin-1)."""

from __future__ import annotations

import codecs
import logging
from pathlib import Path

from classify.errors import InputError

log = logging.getLogger("classify")

# Bytes that a text file never contains but PDF, PNG, ZIP and other binary formats do.
_BINARY_SIGNATURES = (b"%PDF", b"\x89PNG", b"PK\x03\x04", b"\x1f\x8b", b"GIF8", b"\xff\xd8\xff", b"\x7fELF")


def looks_binary(data: bytes) -> bool:
    """True for data that is not text: a known binary signature or NUL bytes (outside UTF-16)."""
    if data.startswith(_BINARY_SIGNATURES):
        return True
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in data[:8192]


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Decode file contents; returns (text, encoding). Non-UTF-8 French files are read as cp1252/latin-1."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InputError(f"{name} starts with a UTF-16 mark but is not valid UTF-16 ({exc.reason}).") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        log.info("%s is not UTF-8: read it as %s.", name, encoding)
        return text, encoding
    raise InputError(f"{name} could not be decoded.")  # latin-1 decodes any bytes: not reached


def read_text_file(path: Path) -> str:
    """Read one document; raises InputError for missing, unreadable or binary files."""
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
    text, _ = decode(data, str(path))
    return text.replace("\r\n", "\n").replace("\r", "\n")
