"""`classify train --streaming`: out-of-core training for corpora larger than memory.

The file is read twice, lazily, a chunk of rows at a time: a first pass finds the tasks, their labels and
counts (for class weights) and checks every row; a second pass hashes each chunk into features (word 1-2-
grams and character 2-5-grams, `HashingVectorizer`, so no vocabulary has to be held) and feeds it to one
`SGDClassifier.partial_fit` per task (per label for multi-label tasks), with averaged weights. One row in
twenty, up to `HOLDOUT_MAX`, is held out of training: it calibrates the probabilities, tunes the
multi-label thresholds and gives the metrics stored in the model. Memory depends on the chunk size and the
hash width, not on the corpus size. The result is an ordinary classify model file.
"""

from __future__ import annotations

import collections
import logging
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from classify.corpus import iter_rows, require_column
from classify.errors import CorpusError
from classify.persist import file_sha256

log = logging.getLogger("classify")

CHUNK_ROWS = 5_000
HOLDOUT_EVERY = 20
HOLDOUT_MAX = 20_000
HASH_BITS = 20  # 2^20 columns per block (words, characters)


# -- features --------------------------------------------------------------------------------------------------
class HashedBlock:
    """Word or character n-grams hashed into `2^bits` columns, sublinear tf, l2-normalised rows."""

    def __init__(self, kind: str, ngram_range, bits: int, tokenizer=None):
        self.kind = kind
        self.ngram_range = tuple(ngram_range)
        self.bits = bits
        self.tokenizer = tokenizer

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_fast")}

    def transform(self, texts):
        """The same matrix as scikit-learn's `HashingVectorizer` (murmurhash3, no alternate sign) followed by
        1 + log tf and l2 normalisation, computed once per distinct word (characters) or n-gram (words)."""
        from classify.features import CACHE_WORDS, ColumnCache, weigh_csr, word_counts

        texts = list(texts)
        if self.kind == "char":
            cache = getattr(self, "_fast_cache", None)
            if cache is None or len(cache) > CACHE_WORDS:
                cache = self._fast_cache = ColumnCache(self._char_columns)
            return weigh_csr(word_counts(texts, cache, 1 << self.bits), True)
        counts = self._hasher().transform([self._word_ngrams(text) for text in texts])
        counts.sum_duplicates()  # canonical form: sorted indices, each column once per row
        return weigh_csr(counts, True)

    def _hasher(self):
        from sklearn.feature_extraction import FeatureHasher

        return FeatureHasher(1 << self.bits, input_type="string", alternate_sign=False, dtype=np.float32)

    def _char_columns(self, words: list[str]):
        """(number of character n-grams of each word, their hashed columns one after the other)."""
        from classify.features import char_wb_ngrams

        grams = [char_wb_ngrams(w, self.ngram_range) for w in words]
        X = self._hasher().transform(grams)
        sizes = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
        return sizes, np.repeat(X.indices.astype(np.int64), X.data.astype(np.int64))

    def _word_ngrams(self, text: str) -> list[str]:
        tokens = self.tokenizer(text)
        min_n, max_n = self.ngram_range
        out = tokens if min_n == 1 else []
        for n in range(max(min_n, 2), max_n + 1):
            out = out + [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        return out

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{self.kind}#{i}" for i in range(1 << self.bits)], dtype=object)


class HashedFeatures:
    """The blocks side by side; stateless, so nothing grows with the corpus."""

    def __init__(self, blocks: list):
        self.transformer_list = list(blocks)

    def transform(self, texts):
        import scipy.sparse as sp

        return sp.hstack([block.transform(texts) for _, block in self.transformer_list], format="csr")


# -- training --------------------------------------------------------------------------------------------------
def scan(source, text_column: str, label_columns, multi_label, label_sep: str, id_column: str,
         skip_bad_lines: bool, progress):
    """First pass over a `TableSource`: tasks, their types, labels and counts; every text checked. Returns
    (tasks, n_rows)."""
    path = source.name
    columns = None
    cells: dict[str, Counter] = {}
    multi_seen: dict[str, bool] = {}
    n = 0
    for number, row in iter_rows(source, skip_bad_lines=skip_bad_lines):
        if columns is None:
            columns = list(row)
            require_column(columns, text_column, path, "--text-column")
            for column in label_columns or []:
                require_column(columns, column, path, "--label-column")
            label_columns = label_columns or [c for c in columns if c not in (text_column, id_column)]
            if not label_columns:
                raise CorpusError(f"{path} has no label column besides {text_column!r}.")
            for column in multi_label or []:
                if column not in label_columns:
                    raise CorpusError(f"--multi-label {column!r} is not one of the tasks ({', '.join(label_columns)}).")
            cells = {c: Counter() for c in label_columns}
            multi_seen = {c: c in (multi_label or []) for c in label_columns}
        if not str(row.get(text_column, "")).strip():
            raise CorpusError(f"{path} line {number} has an empty {text_column!r}; remove it or fill in the text.")
        for column in label_columns:
            cell = str(row.get(column, "")).strip()
            if label_sep in cell:
                multi_seen[column] = True
            cells[column][cell] += 1
        n += 1
        if n % 100_000 == 0:
            progress(f"scanned {n:,} rows")
    if n == 0:
        raise CorpusError(f"{path} has no rows.")
    tasks = {}
    for column in label_columns:
        multi = multi_seen[column]
        counts: Counter = Counter()
        for cell, k in cells[column].items():
            if multi:
                for label in (x.strip() for x in cell.split(label_sep)):
                    if label:
                        counts[label] += k
            elif cell:
                counts[cell] += k
        labels = sorted(counts)
        if not multi and len(labels) < 2:
            raise CorpusError(f"task {column!r} has {len(labels)} label(s) in the corpus: a classifier needs at least two.")
        if multi and not labels:
            raise CorpusError(f"task {column!r} has no label in any row.")
        tasks[column] = {"multi": multi, "labels": labels, "counts": counts}
    return tasks, n


def _values(row: dict, column: str, task: dict, label_sep: str):
    cell = str(row.get(column, "")).strip()
    if task["multi"]:
        return [x.strip() for x in cell.split(label_sep) if x.strip()]
    return cell or None


def train_streaming(path, config, *, text_column="text", label_columns=None, multi_label=None, label_sep=";",
                    fmt=None, id_column="id", skip_bad_lines=False, epochs: int = 1, jobs: int = 1,
                    progress=None, options=None):
    """Two lazy passes over `path` (plus one per extra epoch); returns (model, StreamedCorpus).

    `jobs=N` (0: one per core) computes the features of the next chunks in N forked processes while this
    one reads the file and fits; chunks are fitted in file order, so the model is the same for any `jobs`."""
    from sklearn.linear_model import SGDClassifier

    from classify.corpus import open_table
    from classify.model import ClassifyModel
    from classify.parallel import ordered_map, workers
    from classify.scoring import LinearScorer
    from classify.text.normalize import Tokenizer
    from classify.training import build_normalizer, finish_task

    progress = progress or (lambda message: None)
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: no such file.")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder; a CSV, TSV or JSONL file was expected.")
    jobs = workers(jobs)
    source = open_table(path, fmt, options)  # how to read it, decided (and said) once for every pass
    progress(f"pass 1: scanning {path}")
    tasks, n_rows = scan(source, text_column, label_columns, multi_label, label_sep, id_column,
                         skip_bad_lines, progress)
    normalize = build_normalizer(config)
    blocks = [("word", HashedBlock("word", config.word_ngrams, HASH_BITS, Tokenizer(mark_negation=config.negation)))]
    if config.char:
        blocks.append(("char", HashedBlock("char", config.char_ngrams, HASH_BITS)))
    features = HashedFeatures(blocks)
    alpha = 1e-7 / config.C  # measured on lemonde-2022 (1e-7 to 1e-6 / C: 0.743 to 0.736; 1/(C n): 0.717)

    def estimator(weights):
        return SGDClassifier(loss="modified_huber", alpha=alpha, average=True, class_weight=weights,
                             random_state=config.seed)

    learners = {}
    for name, task in tasks.items():
        counts = task["counts"]
        if task["multi"]:
            learners[name] = []
            for label in task["labels"]:
                pos = counts[label]
                weights = {1: n_rows / (2 * max(pos, 1)), 0: n_rows / (2 * max(n_rows - pos, 1))} \
                    if config.class_weight == "balanced" else None
                learners[name].append(estimator(weights))
        else:
            total = sum(counts.values())
            weights = {lab: total / (len(counts) * counts[lab]) for lab in task["labels"]} \
                if config.class_weight == "balanced" else None
            learners[name] = estimator(weights)

    def fit_chunk(X, chunk_rows):
        for name, task in tasks.items():
            values = [_values(r, name, task, label_sep) for r in chunk_rows]
            if task["multi"]:
                for j, label in enumerate(task["labels"]):
                    y = np.array([label in v for v in values], dtype=int)
                    learners[name][j].partial_fit(X, y, classes=np.array([0, 1]))
            else:
                keep = [i for i, v in enumerate(values) if v is not None]
                if keep:
                    learners[name].partial_fit(X[keep], np.array([values[i] for i in keep], dtype=object),
                                               classes=np.array(task["labels"], dtype=object))

    holdout_texts, holdout_rows = [], []

    def chunks(epoch):
        """(texts, label cells, rows read so far in the epoch) for each training chunk, in file order."""
        chunk_texts, chunk_rows = [], []
        row_number = 0
        for _, row in iter_rows(source, quiet=True):  # the first pass reported bad lines (or stopped)
            text = row.get(text_column, "")
            if row_number % HOLDOUT_EVERY == 0 and row_number // HOLDOUT_EVERY < HOLDOUT_MAX:
                if epoch == 1:
                    holdout_texts.append(text)
                    holdout_rows.append({c: row.get(c, "") for c in tasks})
            else:
                chunk_texts.append(text)
                chunk_rows.append({c: row.get(c, "") for c in tasks})
            row_number += 1
            if len(chunk_texts) >= CHUNK_ROWS:
                yield chunk_texts, chunk_rows, row_number
                chunk_texts, chunk_rows = [], []
        if chunk_texts:
            yield chunk_texts, chunk_rows, row_number

    waiting: collections.deque = collections.deque()  # (rows, rows read, epoch) of the chunks in flight

    def texts():
        for epoch in range(1, epochs + 1):
            for chunk_texts, chunk_rows, row_number in chunks(epoch):
                waiting.append((chunk_rows, row_number, epoch))
                yield chunk_texts

    seen = 0
    # the features of the next chunks are computed by the workers (at most two chunks each in flight, so
    # memory stays bounded) while this process fits, in file order: the model is the same for any `jobs`
    for X in ordered_map(_features_of, texts(), (normalize, features), jobs=jobs, window=2 * jobs):
        chunk_rows, row_number, epoch = waiting.popleft()
        fit_chunk(X, chunk_rows)
        seen += len(chunk_rows)
        progress(f"pass {epoch + 1}: trained on {seen:,} rows ({row_number / n_rows:.0%} of the epoch)")

    progress(f"calibrating on {len(holdout_rows):,} held-out rows")
    X = features.transform([normalize(t) for t in holdout_texts])
    fitted, metrics = {}, {}
    for name, task in tasks.items():
        labels = task["labels"]
        values = [_values(r, name, task, label_sep) for r in holdout_rows]
        if task["multi"]:
            coef = np.vstack([np.asarray(est.coef_).ravel() for est in learners[name]])
            intercept = np.array([float(np.asarray(est.intercept_).ravel()[0]) for est in learners[name]])
            scorer = LinearScorer(coef, intercept)
            Y = np.array([[label in v for label in labels] for v in values], dtype=int)
            fitted[name], metrics[name] = finish_task(name, True, labels, scorer, scorer.decision(X), values, Y)
        else:
            scorer = LinearScorer.from_estimator(learners[name], len(labels))
            keep = [i for i, v in enumerate(values) if v is not None]
            fitted[name], metrics[name] = finish_task(name, False, labels, scorer, scorer.decision(X[keep]),
                                                      [values[i] for i in keep])
        metrics[name]["folds"] = 0
        metrics[name]["held_out"] = len(values)
    model = ClassifyModel(config)._fitted(
        normalize, features, len(blocks) << HASH_BITS, 0, fitted, metrics,
        [f"trained with --streaming on {n_rows:,} rows ({epochs} epoch(s)); the scores are measured on "
         f"{len(holdout_rows):,} held-out rows (1 in {HOLDOUT_EVERY})"])
    return model, StreamedCorpus(str(path), file_sha256(path), n_rows, text_column, tasks)


def _features_of(texts: list[str], shared):
    normalize, features = shared
    return features.transform([normalize(t) for t in texts])


class StreamedTask:
    """What the provenance records of a task read by `scan` (counts, no per-row values)."""

    def __init__(self, name: str, info: dict, n_rows: int):
        self.name, self.multi, self.counts = name, info["multi"], info["counts"]
        self.n_annotated = n_rows if self.multi else sum(info["counts"].values())

    def label_counts(self) -> Counter:
        return Counter(self.counts)

    def annotated(self) -> range:
        return range(self.n_annotated)


class StreamedCorpus:
    def __init__(self, path: str, sha256: str, n_rows: int, text_column: str, tasks: dict):
        self.path, self.sha256, self.n_rows, self.text_column = path, sha256, n_rows, text_column
        self.tasks = {name: StreamedTask(name, info, n_rows) for name, info in tasks.items()}

    def __len__(self) -> int:
        return self.n_rows


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `classify train --streaming`")
