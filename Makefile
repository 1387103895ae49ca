# The two commands of the README: `make demo` (the main job on the built-in simulator) and
# `make test` (every test level). Both create .venv and install the project into it first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/partycard demo

test: $(STAMP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check host tests protocol/tools hardware/tools firmware
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info
