"""Labelled corpora: CSV, TSV or JSONL tables with one text column and one or more label columns (tasks)."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import itertools
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from classify.errors import ClassifyError, ConfigError, CorpusError
from classify.io import Damage, Encoding, detect_encoding, looks_binary, undecodable

log = logging.getLogger("classify")

TABLE_FORMATS = ("csv", "tsv", "jsonl", "xlsx")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
               ".xlsx": "xlsx", ".xlsm": "xlsx"}
# spreadsheets pandas reads only with packages classify does not install: named in the error, not read as text
_OTHER_SPREADSHEETS = {".xls": "an Excel 97-2003 workbook", ".ods": "an OpenDocument spreadsheet",
                       ".numbers": "a Numbers spreadsheet"}
TABLE_SUFFIXES = frozenset(_EXTENSIONS) | frozenset(_OTHER_SPREADSHEETS)  # what `predict` reads as a table

# The delimiters French offices use, in the order that breaks ties: Excel writes ';' where the decimal
# separator is a comma (France), ',' elsewhere; tab and '|' come from databases and exports.
DELIMITERS = {",": "commas ','", ";": "semicolons ';'", "\t": "tabs", "|": "vertical bars '|'"}
_DEFAULT_DELIMITER = {"csv": ",", "tsv": "\t"}
SNIFF_ROWS = 200


@dataclass(frozen=True)
class TableOptions:
    """How to read a table where the file itself does not say (`--delimiter`, `--encoding`, `--sheet`).
    None: the delimiter is detected among , ; tab |, the encoding among UTF-8, cp1252 and latin-1, and a
    workbook's first sheet is read."""

    delimiter: str | None = None
    encoding: str | None = None
    sheet: str | None = None


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
            raise CorpusError(f"format {fmt!r} is not a table format; use one of: "
                              f"{', '.join(TABLE_FORMATS)}.")
        return fmt
    suffix = path.suffix.lower()
    if suffix in _OTHER_SPREADSHEETS:
        raise CorpusError(f"{path} is {_OTHER_SPREADSHEETS[suffix]}, which classify does not read: save it "
                          f"as .xlsx (Excel workbook) or as CSV.")
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise CorpusError(
            f"{path}: cannot tell the table format from the extension {path.suffix or '(none)'!r}; "
            f"use .csv, .tsv, .jsonl or .xlsx, or pass --format {'|'.join(TABLE_FORMATS)} "
            f"(predict: --table-format)."
        ) from None


def check_delimiter(value: str | None) -> str | None:
    """The character of a `--delimiter` value (`tab` or `\\t` for a tab); raises ConfigError otherwise."""
    if value is None:
        return None
    if value.lower() in ("tab", "\\t"):
        return "\t"
    if len(value) != 1 or value in '"\r\n ' or value.isalnum():
        raise ConfigError(f"--delimiter {value!r} is not a delimiter; use one of , ; tab | (or leave "
                          f"--delimiter out: it is detected).")
    return value


@dataclass(frozen=True)
class TableSource:
    """A table file and how to read it, decided once (`open_table`): later passes read it the same way
    without detecting (or saying) anything again."""

    path: Path
    fmt: str
    encoding: Encoding | None = None  # text formats
    delimiter: str | None = None  # csv, tsv
    sheet: str | int = 0  # xlsx: a sheet name or position
    name: str = ""  # how messages name the file (a pipe's temporary copy is named as the pipe)

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", str(self.path))


def open_table(path, fmt: str | None = None, options: TableOptions | None = None, *,
               data: bytes | None = None, quiet: bool = False, name: str | None = None) -> TableSource:
    """Check that `path` is a readable table and decide how to read it; notes on stderr say what was detected
    (an encoding other than UTF-8, the delimiter, the sheet) unless `quiet`. `data`: the whole file when the
    caller has read it (the encoding is then detected on all of it, else on its first megabyte). `name`:
    how messages call the file (default: its path)."""
    path = Path(path)
    options = options or TableOptions()
    shown = name or str(path)
    if not path.exists():
        raise CorpusError(f"{shown}: no such file.")
    if path.is_dir():
        raise CorpusError(f"{shown} is a folder; a CSV, TSV, JSONL or XLSX file was expected.")
    fmt = table_format(Path(shown) if name else path, fmt)
    if fmt == "xlsx":
        return TableSource(path, fmt, sheet=_choose_sheet(path, options.sheet, quiet, shown), name=shown)
    truncated = False
    if data is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read(HEAD_BYTES)
                truncated = bool(handle.read(1))
        except OSError as exc:
            raise CorpusError(f"{shown} cannot be read ({exc.strerror}).") from exc
    if looks_binary(data):
        raise CorpusError(f"{shown} is a binary file, not a {fmt.upper()} table.")
    try:
        encoding = detect_encoding(data, shown, forced=options.encoding, truncated=truncated, quiet=quiet)
    except ClassifyError as exc:
        raise CorpusError(str(exc)) from None
    head = data[encoding.skip: encoding.skip + HEAD_BYTES].decode(encoding.codec, errors="replace")
    if not truncated and len(data) <= encoding.skip + HEAD_BYTES and not head.strip():
        raise CorpusError(f"{shown} is empty.")
    truncated = truncated or len(data) > encoding.skip + HEAD_BYTES
    delimiter = None
    if fmt in _DEFAULT_DELIMITER:
        delimiter = check_delimiter(options.delimiter)
        if delimiter is None:
            delimiter = sniff_delimiter(head, _DEFAULT_DELIMITER[fmt], complete=not truncated)
            if delimiter is None:  # one column: nothing to separate
                delimiter = _DEFAULT_DELIMITER[fmt]
            elif not quiet:
                log.info("%s: columns separated by %s, detected; --delimiter to choose another.", shown,
                         DELIMITERS[delimiter])
    return TableSource(path, fmt, encoding, delimiter, name=shown)


def sniff_delimiter(sample: str, preferred: str, complete: bool = True) -> str | None:
    """The delimiter among , ; tab | that cuts the header into the most rows of the same number of fields
    (two or more); ties go to `preferred`, then to the order of DELIMITERS. None when every candidate leaves
    the header whole (a one-column table). `complete`: `sample` is the whole file, else its last row may
    be cut short and is not counted."""
    best, best_key = None, None
    for rank, delimiter in enumerate(DELIMITERS):
        if delimiter not in sample:
            continue
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            rows = [row for row in itertools.islice(reader, SNIFF_ROWS + 1) if row]
        except csv.Error:
            continue
        if not complete and len(rows) > SNIFF_ROWS // 2:
            rows = rows[:-1]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        agree = sum(len(row) == width for row in rows[1:]) / (len(rows) - 1) if len(rows) > 1 else 1.0
        key = (agree, delimiter == preferred, -rank)
        if best_key is None or key > best_key:
            best, best_key = delimiter, key
    return best


def _choose_sheet(path: Path, sheet: str | None, quiet: bool, name: str) -> str:
    """The name of the sheet to read: `sheet` (a name, or a position from 1), else the first."""
    import zipfile

    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        names = book.sheetnames
        book.close()
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise CorpusError(f"{name} is not a readable .xlsx workbook ({exc}); open it in Excel or LibreOffice "
                          f"and save it again as .xlsx or as CSV.") from None
    if not names:
        raise CorpusError(f"{name} has no sheet.")
    if sheet is None:
        if len(names) > 1 and not quiet:
            log.info("%s: reading sheet %r, the first of %d (--sheet to choose another: %s).", name, names[0],
                     len(names), ", ".join(names[1:]))
        return names[0]
    if sheet in names:
        return sheet
    if sheet.isdigit() and 1 <= int(sheet) <= len(names):
        return names[int(sheet) - 1]
    close = difflib.get_close_matches(sheet, names, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CorpusError(f"{name} has no sheet {sheet!r} (sheets: {', '.join(names)}).{hint} Choose one with "
                      f"--sheet NAME or --sheet NUMBER (from 1).")


def read_table(path: Path, fmt: str | None = None, skip_bad_lines: bool = False,
               options: TableOptions | None = None):
    """Read a table of strings (pandas DataFrame, every cell a str, never NaN) and the file's SHA-256."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file.")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder; a CSV, TSV, JSONL or XLSX file was expected.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path} cannot be read ({exc.strerror}).") from exc
    digest = hashlib.sha256(data).hexdigest()
    source = open_table(path, fmt, options, data=data)
    damage = Damage()
    if source.fmt == "xlsx":
        frame = _read_xlsx(source, damage)
    else:
        text = _decode_whole(data, source)
        damage.check_text(text)
        if source.fmt == "jsonl":
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
            frame = _read_delimited(text, source, skip_bad_lines)
    damage.report(str(path), source.encoding)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, digest


def _decode_whole(data: bytes, source: TableSource) -> str:
    try:
        return data[source.encoding.skip:].decode(source.encoding.codec)
    except UnicodeDecodeError as exc:
        message = undecodable(source.name, source.encoding, data[source.encoding.skip:], exc)
        raise CorpusError(message) from None


def _read_xlsx(source: TableSource, damage: Damage | None = None):
    """A sheet as strings: numbers as Excel shows them without a format (12, 3.5), empty cells empty."""
    import pandas as pd

    try:
        frame = pd.read_excel(source.path, sheet_name=source.sheet, dtype=str, keep_default_na=False,
                              engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise CorpusError(f"{source.name}: sheet {source.sheet!r} cannot be read ({exc}).") from None
    if frame.columns.empty:
        raise CorpusError(f"{source.name}: sheet {source.sheet!r} is empty.")
    frame = frame.fillna("")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed: ")]
    if unnamed and frame[unnamed].eq("").all().all():  # formatting beyond the last column, no data
        frame = frame.drop(columns=unnamed)
    frame = frame[~frame.eq("").all(axis=1)]  # rows left empty (formatted cells below the data)
    if damage is not None:
        for number, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            damage.check(int(number) + 2, "\x1f".join(row))
    return frame.reset_index(drop=True)


def _read_delimited(text: str, source: TableSource, skip_bad_lines: bool):
    """CSV/TSV with the csv module (strict quoting), so that a bad row is named by its line number."""
    import pandas as pd

    header, rows = _delimited_rows(io.StringIO(text, newline=""), source, skip_bad_lines)
    rows = list(rows)
    frame = pd.DataFrame([row for _, row in rows], columns=header, dtype=str)
    frame.attrs["lines"] = [number for number, _ in rows]  # where each row ends, for messages
    return frame


def _delimited_rows(lines, source: TableSource, skip_bad_lines: bool, quiet: bool = False):
    """(header, stripped; iterator of (line number, row)) for a CSV/TSV. A row with the wrong number of
    fields stops with its line number, or is skipped with a warning (`skip_bad_lines`; silently if `quiet`)."""
    path, name = source.name, source.fmt.upper()
    delimiter = source.delimiter or _DEFAULT_DELIMITER[source.fmt]
    reader = csv.reader(lines, delimiter=delimiter, strict=True)

    def invalid(exc):
        return CorpusError(f"{path} is not a valid {name} table: {exc} near line {reader.line_num} "
                           f"(an unclosed quote? or{_delimiter_hint(source, '')}).")

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
                    raise CorpusError(f"{message}; check the quoting on that line{_delimiter_hint(source)}, "
                                      f"or pass --skip-bad-lines.")
                yield reader.line_num, row
        except csv.Error as exc:
            raise invalid(exc) from None

    return header, rows()


def _delimiter_hint(source: TableSource, space: str = " ") -> str:
    name = DELIMITERS.get(source.delimiter, repr(source.delimiter))
    return f"{space}(columns separated by {name}: --delimiter to choose another)" if space else \
        f" columns separated by {name}: --delimiter to choose another"


def _cell(value) -> str:
    if type(value) is str:  # nearly always: first
        return value
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def require_column(frame, column: str, path, option: str) -> None:
    """`frame`: a DataFrame or the list of a table's columns. The error suggests the closest column, never
    a column name that holds a delimiter: that is a header the delimiter did not cut, and the error says
    so."""
    columns = [str(c) for c in getattr(frame, "columns", frame)]
    if column in columns:
        return
    for name in columns:
        for delimiter in DELIMITERS:
            if delimiter in name and column in (part.strip() for part in name.split(delimiter)):
                raise CorpusError(
                    f"{path} has no column {column!r}: its header {name!r} was read as one column, but it "
                    f"looks separated by {DELIMITERS[delimiter]}. Pass --delimiter {_shell(delimiter)} (or "
                    f"leave --delimiter out to detect it)."
                )
    plain = [c for c in columns if not any(d in c for d in DELIMITERS)]
    close = difflib.get_close_matches(column, plain, n=1, cutoff=0.4)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise CorpusError(
        f"{path} has no column {column!r} (columns: {', '.join(columns)}).{hint} "
        f"Choose it with {option}."
    )


def _shell(delimiter: str) -> str:
    return "tab" if delimiter == "\t" else f"'{delimiter}'"


def _likely_task(frame, columns: list, tasks: list, labels: dict) -> tuple[str, str]:
    """The (task, column) pair whose values share most with the task's labels, for an example."""
    def shared(pair):
        task, column = pair
        return len(set(labels.get(task, ())) & set(frame[column].head(1000)))

    pairs = [(task, column) for column in columns for task in tasks]
    return max(pairs, key=shared)  # ties: the first


def parse_task_columns(specs) -> dict[str, str]:
    """`["sentiment=label", "topics"]` -> `{"sentiment": "label", "topics": "topics"}` (`--task TASK=COLUMN`:
    the model's task TASK is read from COLUMN; `--task TASK` alone: from the column of the same name)."""
    mapping: dict[str, str] = {}
    for spec in specs or []:
        task, _, column = spec.partition("=")
        task, column = task.strip(), (column.strip() if _ else task.strip())
        if not task or not column or "=" in column:
            raise ConfigError(f"--task {spec!r} is not TASK=COLUMN (e.g. --task sentiment=label).")
        if task in mapping:
            raise ConfigError(f"--task {task!r} is given twice ({task}={mapping[task]}, {task}={column}).")
        mapping[task] = column
    return mapping


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
    task_columns: dict[str, str] | None = None,
    options: TableOptions | None = None,
    task_labels: dict[str, list] | None = None,
) -> Corpus:
    """Read a labelled corpus. `task_types` (name -> multi) forces the tasks and their types (evaluation).
    `task_columns` (task -> column) reads a task from a column of another name (`--task sentiment=label`);
    with `task_types`, only those tasks are read. `options`: delimiter, encoding, sheet (else detected).
    `task_labels` (task -> its labels in the model): only to suggest which column holds which task."""
    path = Path(path)
    frame, digest = read_table(path, fmt, skip_bad_lines, options)
    require_column(frame, text_column, path, "--text-column")
    multi_label = list(multi_label or [])
    task_columns = dict(task_columns or {})
    for task, column in task_columns.items():
        require_column(frame, column, path, f"--task {task}=COLUMN")
        if column == text_column:
            raise CorpusError(f"--task {task}={column}: {column!r} is the text column, not labels.")
    if task_types is not None:
        unknown = [task for task in task_columns if task not in task_types]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(task_types), n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"--task {unknown[0]!r} is not a task of the model (its tasks: "
                              f"{', '.join(task_types)}).{hint}")
        columns = dict(task_columns) or {name: name for name in task_types if name in frame.columns}
        if not columns:
            others = [c for c in frame.columns if c not in (text_column, id_column)]
            example = ""
            if others:
                task, column = _likely_task(frame, others, list(task_types), task_labels or {})
                example = f" (e.g. --task {task}={column})"
            raise CorpusError(
                f"{path} has none of the model's tasks ({', '.join(task_types)}) as a column "
                f"(columns: {', '.join(frame.columns)}); to score a column against a task, pass "
                f"--task TASK=COLUMN{example}."
            )
    else:
        if label_columns:
            for column in label_columns:
                require_column(frame, column, path, "--label-column")
        elif not task_columns:
            label_columns = [c for c in frame.columns if c not in (text_column, id_column)]
            if not label_columns:
                raise CorpusError(
                    f"{path} has no label column besides {text_column!r}; a corpus needs at least one "
                    f"(e.g. a 'label' column)."
                )
        columns = {column: column for column in label_columns or []}
        for task, column in task_columns.items():
            if task in columns and columns[task] != column:
                raise ConfigError(f"task {task!r} is both the column {task!r} and --task {task}={column}.")
            columns[task] = column
    for name in multi_label:
        if name not in columns:
            raise CorpusError(f"--multi-label {name!r} is not one of the tasks ({', '.join(columns)}).")

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
    for name, column in columns.items():
        cells = [c.strip() for c in frame[column].tolist()]
        if task_types is not None:
            multi = task_types[name]
        else:
            multi = name in multi_label or any(label_sep in c for c in cells)
        if multi:
            values = [split_labels(c, label_sep) for c in cells]
        else:
            values = [c if c else None for c in cells]
        tasks[name] = Task(name, multi, values)
        _warn_case_variants(tasks[name], path)
        if not multi and not part:
            where = f"column {column!r}" if column != name else f"task {name!r}"
            _check_annotated(tasks[name], path, where)
    return Corpus(str(path), digest, [str(i) for i in ids], texts, tasks, text_column)


def _check_annotated(task: Task, path, where: str | None = None) -> None:
    skipped = sum(v is None for v in task.values)
    if skipped == len(task.values):
        raise CorpusError(f"{path}: {where or f'task {task.name!r}'} has no label in any row.")
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
    # each file warned of its own repeats: here, only ids that stand in two files
    seen: dict = {}
    for number, part in enumerate(parts):
        for i in set(part.ids):
            seen.setdefault(i, set()).add(number)
    warn_duplicate_ids([i for i, files in seen.items() if len(files) > 1] * 2, " + ".join(map(str, paths)))
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


def iter_rows(path, fmt: str | None = None, skip_bad_lines: bool = False, quiet: bool = False,
              options: TableOptions | None = None):
    """(line number, {column: str}) for every row of a CSV/TSV/JSONL/XLSX file, read lazily: memory does not
    depend on the file's size (a workbook is read whole: Excel's sheets hold at most a million rows). The
    same checks and messages as `read_table` (binary, empty, bad lines, damaged text); `quiet` skips bad
    lines without a warning and says nothing (a second pass over a file already checked). `path` may be a
    `TableSource` from `open_table`: it is then read as decided there, without detecting anything again."""
    source = path if isinstance(path, TableSource) else open_table(path, fmt, options, quiet=quiet)
    path = source.name
    damage = None if quiet else Damage()
    if source.fmt == "xlsx":
        frame = _read_xlsx(source, damage)
        frame.columns = [str(c).strip() for c in frame.columns]
        columns = list(frame.columns)
        for number, row in enumerate(frame.itertuples(index=False), 2):
            yield number, dict(zip(columns, row, strict=True))
        if damage is not None:
            damage.report(str(path))
        return
    encoding = source.encoding
    try:
        with open(source.path, "rb") as raw:
            raw.seek(encoding.skip)
            # cp1252 leaves 5 bytes undefined: where the first megabyte showed none, a later one is shown as
            # a replacement character (and reported) rather than stopping the run
            errors = "replace" if encoding.codec == "cp1252" and encoding.detected else "strict"
            handle = io.TextIOWrapper(raw, encoding=encoding.codec, errors=errors, newline="")
            if source.fmt == "jsonl":
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    row = jsonl_row(path, number, line, skip_bad_lines or quiet, quiet)
                    if row is None:
                        continue
                    row = {str(k).strip(): _cell(v) for k, v in row.items()}
                    if damage is not None:
                        damage.check(number, "\x1f".join(row.values()))
                    yield number, row
            else:
                header, rows = _delimited_rows(handle, source, skip_bad_lines, quiet)
                for number, row in rows:
                    if damage is not None:
                        damage.check(number, "\x1f".join(row))
                    yield number, dict(zip(header, row))
    except UnicodeDecodeError as exc:
        hint = ("leave --encoding out to detect it, or give the file's encoding" if not encoding.detected
                else "pass --encoding with the file's encoding, or convert it to UTF-8")
        raise CorpusError(f"{path} is not valid {encoding.name} past its first megabyte ({exc.reason}); "
                          f"{hint}.") from None
    if damage is not None:
        damage.report(str(path), encoding)
