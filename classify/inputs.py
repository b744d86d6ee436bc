"""Documents to classify: `.txt` files, folders of `.txt`, CSV/TSV/JSONL tables, or stdin (`-`).

`iter_documents` yields one `Document` per input document, in input order, lazily (a folder of 100,000
files or a large table is never held in memory at once). A document that cannot be read is yielded with
its `error` set, so the output keeps one record per input and nothing is dropped silently; an empty one is
marked `empty`. An input that gives no document at all (a missing path, a table that cannot be read) is
yielded as a Document with `record=False`: no output record, but the caller hears of it, in order.
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

from classify.corpus import TABLE_SUFFIXES, TableOptions, require_column, warn_duplicate_ids
from classify.errors import ClassifyError, InputError
from classify.io import read_text_file

log = logging.getLogger("classify")

MAX_TEXT_BYTES = 50 * 1024 * 1024  # a single document larger than this is refused, not loaded
KEPT_TABLE_BYTES = 32 * 1024 * 1024  # a table up to this size is read once; a larger one twice (memory)


@dataclass
class Document:
    id: str
    text: str | None
    error: str | None = None
    empty: bool = False  # read, but nothing to classify: a record marked empty, not a failure
    record: bool = True  # False: an input that gave no document (missing, unreadable table): no record


def iter_documents(inputs, *, text_column: str = "text", id_column: str = "id", fmt: str | None = None,
                   stdin=None, skip_bad_lines: bool = False, options: TableOptions | None = None,
                   encoding: str | None = None) -> Iterator[Document]:
    """`options` (delimiter, encoding, sheet) apply to tables; `encoding` (or `options.encoding`) to .txt
    files too."""
    options = options or TableOptions(encoding=encoding)
    encoding = encoding or options.encoding
    for item in inputs:
        if item == "-":
            yield from _stdin_documents(stdin if stdin is not None else sys.stdin)
            continue
        path = Path(item)
        if not path.exists():
            yield Document(str(item), None, f"{item}: no such file or folder.", record=False)
            continue
        if path.is_dir():
            yield from _folder_documents(path, encoding)
        elif fmt or path.suffix.lower() in TABLE_SUFFIXES:
            try:
                yield from _table_documents(path, text_column, id_column, fmt, skip_bad_lines, options)
            except ClassifyError as exc:  # the documents before it were yielded; the next inputs are read
                yield Document(str(item), None, str(exc), record=False)
        else:
            yield _file_document(path, encoding)


def check_inputs(inputs) -> None:
    """Fail before any work when no input exists (an input among others that is missing is reported at the
    end, after the others, as `cat` does)."""
    missing = [item for item in inputs if item != "-" and not Path(item).exists()]
    if missing and len(missing) == len(inputs):
        raise InputError("; ".join(f"{item}: no such file or folder" for item in missing) + ".")


def _stdin_documents(stream) -> Iterator[Document]:
    for number, line in enumerate(stream, 1):
        line = line.rstrip("\r\n")
        if line.strip():
            yield Document(f"stdin:{number}", line)
        else:
            yield Document(f"stdin:{number}", None, "empty line", empty=True)


def _folder_documents(folder: Path, encoding: str | None = None) -> Iterator[Document]:
    files, others = [], []
    for p in folder.rglob("*"):
        if p.is_file():
            (files if p.suffix.lower() == ".txt" else others).append(p)
    if others:
        shown = ", ".join(p.name for p in sorted(others)[:5]) + (" ..." if len(others) > 5 else "")
        log.info("%s: %d file(s) without the .txt extension skipped (%s).", folder, len(others), shown)
    for path in sorted(files):
        yield _file_document(path, encoding)


def _file_document(path: Path, encoding: str | None = None) -> Document:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            return Document(str(path), None, f"larger than {MAX_TEXT_BYTES // 2**20} MiB, split it")
        text = read_text_file(path, encoding)
    except (InputError, OSError) as exc:
        reason = str(exc).removeprefix(f"{path}").strip(" :.") or "unreadable"
        return Document(str(path), None, reason)
    if not text.strip():
        return Document(str(path), None, "empty document", empty=True)
    return Document(str(path), text)


def _table_documents(path, text_column, id_column, fmt, skip_bad_lines, options) -> Iterator[Document]:
    """The rows of a table: a first pass checks every row (bad lines, the text column, duplicated ids) before
    anything is classified, then the documents come. A table of up to KEPT_TABLE_BYTES is kept in memory by
    the first pass; a larger one is read lazily twice, memory holding the ids (for the duplicate check),
    never the texts."""
    from classify.corpus import iter_rows, open_table

    def ids(source, kept: list | None):
        columns = None
        for number_row in iter_rows(source, skip_bad_lines=skip_bad_lines):
            row = number_row[1]
            if columns is None:
                columns = list(row)
                require_column(columns, text_column, path, "--text-column")
            if kept is not None:
                kept.append(number_row)
            yield row.get(id_column, "")

    with _readable_twice(path) as copy:
        try:
            source = open_table(copy, fmt, options, name=str(path))
            kept = [] if source.path.stat().st_size <= KEPT_TABLE_BYTES else None
            warn_duplicate_ids(ids(source, kept), path)
        except ClassifyError as exc:
            raise InputError(str(exc)) from None
        # checked above: bad lines were reported (or stopped us)
        rows = iter_rows(source, quiet=True) if kept is None else kept
        for number, (_, row) in enumerate(rows, 1):
            doc_id = row.get(id_column) or f"{path}:{number}"
            text = row.get(text_column, "")
            if text.strip():
                yield Document(doc_id, text)
            else:
                yield Document(doc_id, None, "empty text", empty=True)


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
