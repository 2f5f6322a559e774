# The checks .ci/run runs after the tests (docs/contributing.md). Use the project's virtual environment.
PY ?= python

.PHONY: check lint types layers test test-fast

check: lint types layers

lint:
	$(PY) -m ruff check engine llmrec_gui tests benchmarks

types:
	$(PY) -m mypy

layers:
	lint-imports

test-fast:
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

test:
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
