# The project's verbs. `make run` and `make test` are all a new user needs (see README.md).
PYTHON ?= python3
VENV   ?= .venv
PY       := $(VENV)/bin/python
CLASSIFY := $(VENV)/bin/classify
MODEL    := models/default.joblib
CORPUS   := seeds/corpus.csv
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: run install test lint model clean

## run: set up, train the default model if missing or older than the corpus, classify the seed articles
run: $(MODEL)
	$(CLASSIFY) predict seeds/

## install: create .venv and install classify with its test dependencies
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -e '.[test]'
	touch $@

model: $(MODEL)

$(MODEL): $(CORPUS) | $(VENV)/.installed
	$(CLASSIFY) train $(CORPUS) --out $(MODEL)

## test: run the whole test suite
test: $(VENV)/.installed
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(PY) -m pip install $(PIP_FLAGS) ruff
	$(VENV)/bin/ruff check classify tests

clean:
	rm -rf $(VENV) build *.egg-info reports
