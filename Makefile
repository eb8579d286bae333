# Quick start:  make demo  (set up + analyse a bundled sample)   ·   make test  (the test suite)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# CI adds ray (make test EXTRAS=dev,ray): the Ray cluster tests then run instead of skipping.
EXTRAS ?= dev
BIN := $(VENV)/bin
SAMPLE ?= samples/zh_concrete_visit_accepted.mp3

.PHONY: setup demo test test-fast lint eval bench serve screenshots clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	touch $@

TEXT_DATA := $(wildcard models/training/*.jsonl models/training/calls/*.jsonl)

models/whisper-base/model.bin: $(BIN)/.installed
	$(BIN)/callcoach models prepare base

# The text classifiers are trained from files in the repo (seconds); retrained when their data changes.
models/.text-trained: $(BIN)/.installed $(TEXT_DATA)
	$(BIN)/callcoach models prepare text
	touch $@

setup: models/whisper-base/model.bin models/.text-trained

demo: setup
	$(BIN)/callcoach analyze $(SAMPLE) --out out/demo
	@echo "report: out/demo/$(basename $(notdir $(SAMPLE))).html (also .md and .json)"

test: setup
	$(BIN)/python -m pytest -q -rs

# Everything but real Whisper and model refits, on every core (pytest-xdist): the loop while developing.
test-fast: setup
	$(BIN)/python -m pytest -q -rs -m "not whisper and not refit and not corpus" -n auto

lint: $(BIN)/.installed
	$(BIN)/ruff check pipeline tests benchmarks
	$(BIN)/mypy

# The samples through Whisper must keep pushed and distracted F1 >= 0.7 (a floor that catches a broken stage).
eval: setup
	$(BIN)/callcoach eval samples --require-f1 0.7
	$(BIN)/callcoach eval samples --mono
	$(BIN)/callcoach eval samples/scripts --labels samples/labels.json
	$(BIN)/callcoach eval tests/data/dev
	$(BIN)/python -m pytest -q -m corpus

bench: setup
	$(BIN)/python benchmarks/bench_analyze.py

# The web app on http://127.0.0.1:8000/ with a store under out/web (add users: callcoach users add NAME --role rep --db out/web/callcoach.db).
serve: setup
	$(BIN)/callcoach serve --db out/web/callcoach.db

# Refresh docs/screenshots from the browser test (needs chromium).
screenshots: setup
	CALLCOACH_REQUIRE_BROWSER=1 CALLCOACH_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/test_web_e2e.py

clean:
	rm -rf out .pytest_cache
