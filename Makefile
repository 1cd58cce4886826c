# Two commands: `make run` (the bot) and `make test` (everything CI checks).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck layers pytest bench clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m bot run

test: lint typecheck layers pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check bot tests migrations bench
	$(VENV)/bin/ruff format --check bot tests migrations bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy bot

layers: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache

pytest: $(STAMP)
	$(PY) -m pytest -n $${PYTEST_WORKERS:-auto} --durations=15

bench: $(STAMP)
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
