"""Labelled corpora: CSV, TSV or JSONL tables with one text column and one or more label columns (tasks)."""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from classify.errors import CorpusError
from classify.io import decode, looks_binary

log = logging.getLogger("classify")

TABLE_FORMATS = ("csv", "tsv", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass
class Task:
    """A label column. Single-label: one label per document, `None` where not annotated.
    Multi-label: a (possibly empty) list of labels per document."""

    name: str
    multi: bool
    values: list = field(repr=False)

    @property
    def type(self) -> str:
        return "multi" if self.multi else "single"

    def annotated(self) -> list[int]:
        """Indices of the documents that carry an annotation for this task."""
        if self.multi:
            return list(range(len(self.values)))
        return [i for i, v in enumerate(self.values) if v is not None]

    def label_counts(self) -> Counter:
        if self.multi:
            return Counter(label for labels in self.values for label in labels)
        return Counter(v for v in self.values if v is not None)

    @property
    def labels(self) -> list[str]:
        return sorted(self.label_counts())


@dataclass
class Corpus:
    path: str
    sha256: str
    ids: list[str]
    texts: list[str]
    tasks: dict[str, Task]
    text_column: str = "text"

    def __len__(self) -> int:
        return len(self.texts)


def table_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        fmt = fmt.lower()
        if fmt not in TABLE_FORMATS:
            raise CorpusError(f"--format {fmt!r} is not a table format; use one of: {', '.join(TABLE_FORMATS)}.")
        return fmt
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise CorpusError(
            f"{path}: cannot tell the table format from the extension {path.suffix or '(none)'!r}; "
            f"use .csv, .tsv or .jsonl, or pass --format csv|tsv|jsonl."
        ) from None


def read_table(path: Path, fmt: str | None = None, skip_bad_lines: bool = False):
    """Read a table of strings (pandas DataFrame, every cell a str, never NaN) and the file's SHA-256."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file.")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder; a CSV, TSV or JSONL file was expected.")
    fmt = table_format(path, fmt)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path} cannot be read ({exc.strerror}).") from exc
    digest = hashlib.sha256(data).hexdigest()
    if looks_binary(data):
        raise CorpusError(f"{path} is a binary file, not a {fmt.upper()} table.")
    text, _ = decode(data, str(path))
    if not text.strip():
        raise CorpusError(f"{path} is empty.")
    if fmt == "jsonl":
        rows, lines = [], []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            row = jsonl_row(path, number, line, skip_bad_lines)
            if row is None:
                continue
            rows.append({k: _cell(v) for k, v in row.items()})
            lines.append(number)
        if not rows:
            raise CorpusError(f"{path} has no JSON lines.")
        frame = pd.DataFrame(rows).fillna("")
        frame.attrs["lines"] = lines
    else:
        frame = _read_delimited(text, path, fmt, skip_bad_lines)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, digest


def _read_delimited(text: str, path, fmt: str, skip_bad_lines: bool):
    """CSV/TSV with the csv module (strict quoting), so that a bad row is named by its line number."""
    import pandas as pd

    header, rows = _delimited_rows(io.StringIO(text, newline=""), path, fmt, skip_bad_lines)
    rows = list(rows)
    frame = pd.DataFrame([row for _, row in rows], columns=header, dtype=str)
    frame.attrs["lines"] = [number for number, _ in rows]  # where each row ends, for messages
    return frame


def _delimited_rows(lines, path, fmt: str, skip_bad_lines: bool, quiet: bool = False):
    """(header, stripped; iterator of (line number, row)) for a CSV/TSV. A row with the wrong number of
    fields stops with its line number, or is skipped with a warning (`skip_bad_lines`; silently if `quiet`)."""
    reader = csv.reader(lines, delimiter="\t" if fmt == "tsv" else ",", strict=True)

    def invalid(exc):
        return CorpusError(f"{path} is not a valid {fmt.upper()} table: {exc} near line {reader.line_num} "
                           f"(an unclosed quote?).")

    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise CorpusError(f"{path} has no header row.") from None
    except csv.Error as exc:
        raise invalid(exc) from None

    def rows():
        try:
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    message = (f"{path} line {reader.line_num} has {len(row)} fields where the header has "
                               f"{len(header)}")
                    if skip_bad_lines or quiet:
                        if not quiet:
                            log.warning("%s: skipped.", message)
                        continue
                    raise CorpusError(f"{message}; check the quoting on that line, or pass --skip-bad-lines.")
                yield reader.line_num, row
        except csv.Error as exc:
            raise invalid(exc) from None

    return header, rows()


def _cell(value) -> str:
    if type(value) is str:  # nearly always: first
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def require_column(frame, column: str, path, option: str) -> None:
    """`frame`: a DataFrame or the list of a table's columns."""
    columns = list(getattr(frame, "columns", frame))
    if column in columns:
        return
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CorpusError(
        f"{path} has no column {column!r} (columns: {', '.join(map(str, columns))}).{hint} "
        f"Choose it with {option}."
    )


def split_labels(cell: str, sep: str) -> list[str]:
    return sorted({part.strip() for part in cell.split(sep) if part.strip()})


def warn_duplicate_ids(ids, path) -> None:
    """Duplicated ids make outputs ambiguous: say so (once, with the first examples), keep every row.
    `ids` may be lazy: only the ids are held, in a set."""
    seen: set = set()
    duplicated: dict = {}
    for i in ids:
        if i:
            if i in seen:
                duplicated[i] = None
            else:
                seen.add(i)
    duplicated = list(duplicated)
    if duplicated:
        shown = ", ".join(repr(i) for i in duplicated[:5]) + (" ..." if len(duplicated) > 5 else "")
        log.warning("%s: %d id(s) appear more than once (%s): every row is kept; outputs will repeat them.",
                    path, len(duplicated), shown)


def _warn_case_variants(task: Task, path) -> None:
    """Labels are case-sensitive; `Positive` beside `positive` is almost always a typo: report it."""
    by_folded: dict[str, list[str]] = {}
    for label in task.label_counts():
        by_folded.setdefault(label.casefold(), []).append(label)
    for variants in by_folded.values():
        if len(variants) > 1:
            log.warning("%s: task %r has labels differing only in case (%s): they are kept apart; "
                        "fix the corpus if they mean the same.", path, task.name, ", ".join(sorted(variants)))


def load_corpus(
    path,
    *,
    text_column: str = "text",
    label_columns: list[str] | None = None,
    multi_label: list[str] | None = None,
    label_sep: str = ";",
    fmt: str | None = None,
    id_column: str = "id",
    skip_bad_lines: bool = False,
    task_types: dict[str, bool] | None = None,
    part: bool = False,
) -> Corpus:
    """Read a labelled corpus. `task_types` (name -> multi) forces the tasks and their types (evaluation)."""
    path = Path(path)
    frame, digest = read_table(path, fmt, skip_bad_lines)
    require_column(frame, text_column, path, "--text-column")
    multi_label = list(multi_label or [])
    if task_types is not None:
        label_columns = [name for name in task_types if name in frame.columns]
        if not label_columns:
            raise CorpusError(
                f"{path} has none of the model's tasks ({', '.join(task_types)}) as a column "
                f"(columns: {', '.join(frame.columns)})."
            )
    elif label_columns:
        for column in label_columns:
            require_column(frame, column, path, "--label-column")
    else:
        label_columns = [c for c in frame.columns if c not in (text_column, id_column)]
        if not label_columns:
            raise CorpusError(
                f"{path} has no label column besides {text_column!r}; a corpus needs at least one "
                f"(e.g. a 'label' column)."
            )
    for column in multi_label:
        if column not in label_columns:
            raise CorpusError(f"--multi-label {column!r} is not one of the tasks ({', '.join(label_columns)}).")

    texts = frame[text_column].tolist()
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        if len(empty) == len(texts):
            raise CorpusError(f"{path}: every row has an empty {text_column!r}; there is nothing to learn from.")
        lines = frame.attrs.get("lines") or [i + 2 for i in range(len(texts))]
        where = ", ".join(str(lines[i]) for i in empty[:10]) + (", ..." if len(empty) > 10 else "")
        log.warning("%s: %d row%s with an empty or blank %r skipped (line %s).", path, len(empty),
                    "s" if len(empty) > 1 else "", text_column, where)
        frame = frame.drop(index=frame.index[empty]).reset_index(drop=True)
        texts = frame[text_column].tolist()
    if id_column in frame.columns:
        ids = frame[id_column].tolist()
        warn_duplicate_ids(ids, path)
    else:
        ids = [f"{path}:{i + 1}" for i in range(len(texts))]

    tasks: dict[str, Task] = {}
    for column in label_columns:
        cells = [c.strip() for c in frame[column].tolist()]
        if task_types is not None:
            multi = task_types[column]
        else:
            multi = column in multi_label or any(label_sep in c for c in cells)
        if multi:
            values = [split_labels(c, label_sep) for c in cells]
        else:
            values = [c if c else None for c in cells]
        tasks[column] = Task(column, multi, values)
        _warn_case_variants(tasks[column], path)
        if not multi and not part:
            _check_annotated(tasks[column], path)
    return Corpus(str(path), digest, [str(i) for i in ids], texts, tasks, text_column)


def _check_annotated(task: Task, path) -> None:
    skipped = sum(v is None for v in task.values)
    if skipped == len(task.values):
        raise CorpusError(f"{path}: task {task.name!r} has no label in any row.")
    if skipped:
        log.info("task %r: %d of %d rows have no label and are skipped for it.", task.name, skipped, len(task.values))


def load_corpora(paths, **options) -> Corpus:
    """One corpus from one or several files with the same tasks (`load_corpus`'s options apply to each).

    A task is multi-label when it is in any file: a file whose cells happen to hold one label each (or none)
    has its values read as lists there."""
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if len(paths) == 1:
        return load_corpus(paths[0], **options)
    parts = [load_corpus(p, **options, part=True) for p in paths]  # a file may annotate only some tasks
    names = list(parts[0].tasks)
    for path, part in zip(paths[1:], parts[1:]):
        if sorted(part.tasks) != sorted(names):
            raise CorpusError(f"{path} has the tasks {', '.join(part.tasks)} but {paths[0]} has "
                              f"{', '.join(names)}: every file of a corpus needs the same label columns.")
    tasks = {}
    for name in names:
        multi = any(part.tasks[name].multi for part in parts)
        values = []
        for part in parts:
            task = part.tasks[name]
            values += task.values if task.multi or not multi else [[v] if v else [] for v in task.values]
        tasks[name] = Task(name, multi, values)
        if not multi:
            _check_annotated(tasks[name], " + ".join(map(str, paths)))
    ids = [i for part in parts for i in part.ids]
    warn_duplicate_ids(ids, " + ".join(map(str, paths)))
    digest = hashlib.sha256("".join(part.sha256 for part in parts).encode()).hexdigest()
    return Corpus(" + ".join(part.path for part in parts), digest, ids, [t for part in parts for t in part.texts],
                  tasks, parts[0].text_column)


def jsonl_row(path, number: int, line: str, skip_bad_lines: bool, quiet: bool = False) -> dict | None:
    """One JSONL line as a dict; None for a bad line skipped with a warning (`--skip-bad-lines`)."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        if skip_bad_lines:
            if not quiet:
                log.warning("%s line %d is not valid JSON (%s): skipped.", path, number, exc.msg)
            return None
        raise CorpusError(
            f"{path} line {number} is not valid JSON ({exc.msg}); fix it or pass --skip-bad-lines."
        ) from None
    if not isinstance(row, dict):
        raise CorpusError(f"{path} line {number} is not a JSON object.")
    return row


# -- lazy reading (tables larger than memory: predict, train --streaming) -------------------------------------
HEAD_BYTES = 1 << 20


def _encoding(head: bytes) -> str:
    """The encoding of a file from its first megabyte: UTF-8 (with or without BOM), UTF-16 with a BOM, else
    cp1252 (which reads latin-1 French too)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut by the 1 MB window
            return "utf-8"
        return "cp1252"


def iter_rows(path: Path, fmt: str, skip_bad_lines: bool = False, quiet: bool = False):
    """(line number, {column: str}) for every row of a CSV/TSV/JSONL file, read lazily: memory does not
    depend on the file's size. The same checks and messages as `read_table` (binary, empty, bad lines);
    `quiet` skips bad lines without a warning (a second pass over a file already checked)."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            tail = handle.read(1)
    except OSError as exc:
        raise CorpusError(f"{path} cannot be read ({exc.strerror}).") from exc
    if looks_binary(head):
        raise CorpusError(f"{path} is a binary file, not a {fmt.upper()} table.")
    encoding = _encoding(head)
    if not tail and not head.decode(encoding, errors="replace").strip():
        raise CorpusError(f"{path} is empty.")
    if encoding == "cp1252" and not quiet:
        log.info("%s is not UTF-8: read it as cp1252.", path)
    errors = "replace" if encoding == "cp1252" else "strict"
    try:
        with open(path, encoding=encoding, errors=errors, newline="") as handle:
            if fmt == "jsonl":
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    row = jsonl_row(path, number, line, skip_bad_lines or quiet, quiet)
                    if row is None:
                        continue
                    yield number, {str(k).strip(): _cell(v) for k, v in row.items()}
                return
            header, rows = _delimited_rows(handle, path, fmt, skip_bad_lines, quiet)
            for number, row in rows:
                yield number, dict(zip(header, row))
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path} is not valid {encoding.upper()} past its first megabyte ({exc.reason}); "
                          f"convert it to UTF-8.") from None
