"""Documents to classify: `.txt` files, folders of `.txt`, CSV/TSV/JSONL tables, or stdin (`-`).

`iter_documents` yields one `Document` per input document, in input order, lazily (a folder of 100,000
files or a large table is never held in memory at once). A document that cannot be read is yielded with
its `error` set, so the output keeps one record per input and nothing is dropped silently.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from classify.corpus import _EXTENSIONS, require_column, warn_duplicate_ids
from classify.errors import InputError
from classify.io import read_text_file

log = logging.getLogger("classify")

MAX_TEXT_BYTES = 50 * 1024 * 1024  # a single document larger than this is refused, not loaded


@dataclass
class Document:
    id: str
    text: str | None
    error: str | None = None


def iter_documents(inputs, *, text_column: str = "text", id_column: str = "id", fmt: str | None = None,
                   stdin=None, skip_bad_lines: bool = False) -> Iterator[Document]:
    for item in inputs:
        if item == "-":
            yield from _stdin_documents(stdin if stdin is not None else sys.stdin)
            continue
        path = Path(item)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder.")
        if path.is_dir():
            yield from _folder_documents(path)
        elif fmt or path.suffix.lower() in _EXTENSIONS:
            yield from _table_documents(path, text_column, id_column, fmt, skip_bad_lines)
        else:
            yield _file_document(path)


def check_inputs(inputs) -> None:
    """Fail before any work when an input does not exist (so nothing is written)."""
    for item in inputs:
        if item != "-" and not Path(item).exists():
            raise InputError(f"{item}: no such file or folder.")


def _stdin_documents(stream) -> Iterator[Document]:
    for number, line in enumerate(stream, 1):
        line = line.rstrip("\r\n")
        if line.strip():
            yield Document(f"stdin:{number}", line)
        else:
            yield Document(f"stdin:{number}", None, "empty line")


def _folder_documents(folder: Path) -> Iterator[Document]:
    files, others = [], []
    for p in folder.rglob("*"):
        if p.is_file():
            (files if p.suffix.lower() == ".txt" else others).append(p)
    if others:
        shown = ", ".join(p.name for p in sorted(others)[:5]) + (" ..." if len(others) > 5 else "")
        log.info("%s: %d file(s) without the .txt extension skipped (%s).", folder, len(others), shown)
    for path in sorted(files):
        yield _file_document(path)


def _file_document(path: Path) -> Document:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            return Document(str(path), None, f"larger than {MAX_TEXT_BYTES // 2**20} MiB, split it")
        text = read_text_file(path)
    except (InputError, OSError) as exc:
        reason = str(exc).removeprefix(f"{path}").strip(" :.") or "unreadable"
        return Document(str(path), None, reason)
    if not text.strip():
        return Document(str(path), None, "empty document")
    return Document(str(path), text)


def _table_documents(path, text_column, id_column, fmt, skip_bad_lines) -> Iterator[Document]:
    """The rows of a table, read lazily twice: a first pass checks every row (bad lines, the text column,
    duplicated ids) before anything is classified, the second yields the documents. Memory holds the ids
    (for the duplicate check), never the texts."""
    from classify.corpus import iter_rows, table_format
    from classify.errors import CorpusError

    def ids(source):
        columns = None
        for _, row in iter_rows(source, fmt, skip_bad_lines):
            if columns is None:
                columns = list(row)
                require_column(columns, text_column, path, "--text-column")
            yield row.get(id_column, "")

    try:
        fmt = table_format(path, fmt)
    except CorpusError as exc:
        raise InputError(str(exc)) from None
    with _readable_twice(path) as source:
        try:
            warn_duplicate_ids(ids(source), path)
        except CorpusError as exc:
            raise InputError(str(exc).replace(str(source), str(path))) from None
        rows = iter_rows(source, fmt, quiet=True)  # checked above: bad lines were reported (or stopped us)
        for number, (_, row) in enumerate(rows, 1):
            doc_id = row.get(id_column) or f"{path}:{number}"
            text = row.get(text_column, "")
            if text.strip():
                yield Document(doc_id, text)
            else:
                yield Document(doc_id, None, "empty text")


@contextlib.contextmanager
def _readable_twice(path: Path):
    """`path` itself when it is a regular file; a pipe (`<(zcat big.jsonl.gz)`, /dev/stdin) is first copied
    to a temporary file, so that it can be checked and then read."""
    if path.is_file():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="classify-") as tmp:
        copy = Path(tmp) / "table"
        with open(path, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        yield copy
